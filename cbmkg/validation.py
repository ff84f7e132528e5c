"""SHACL validation of the graph with the shapes of ``shapes/`` (pyshacl-turbo, or the
pySHACL reference).

The shapes are data (Turtle files); this module only loads them, runs the validator over the
union of the graphs, and turns its report into results a person or a program can read: every
message in English and Chinese, each told apart by the template it was filled from, with
labels for the IRIs it names (in the results and in the standard report alike). Severity
follows the shapes: an ``sh:Violation`` makes the data non-conforming (a build stops), an
``sh:Warning`` or ``sh:Info`` is reported and the data kept. The compliance findings
(``findings.py``) are reported next to the results, in a section of their own.

A store is validated by *units* (:func:`validate_units`): the graphs of one report (or one
input file) together with the *base* graphs, the ontology and the registers. Units are
taken a bounded number of quads at a time into an in-memory store, so memory follows the
chunk, not the store (the engine reads its data whole, and its time grows faster than the
data: one chunk of 100,000 quads is validated several times faster per quad than one of a
million, benchmarks/scale.py), and a build that adds a report validates that report only.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyoxigraph import BlankNode, DefaultGraph, NamedNode, QuerySolutions, RdfFormat, Store, parse, serialize
from pyoxigraph import Literal as OxLiteral
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from .errors import InputError
from .findings import Summary
from .labels import Words, words_query
from .labels import short as short
from .namespaces import GRAPH, SH

if TYPE_CHECKING:
    from .store import GraphStore

#: graphs every unit is validated with: the ontology and the registers
BASE_GRAPHS = f"{GRAPH}ontology/"
#: graphs of one report edition and its replies: ``…/graph/report/<slug>/<lang>[/…]``
REPORT_GRAPHS = re.compile(re.escape(f"{GRAPH}report/") + r"[^/]+/[^/]+")
#: quads of units validated at once (with the base graphs on top)
CHUNK_QUADS = 100_000


@dataclass(frozen=True)
class Result:
    severity: str            # Violation | Warning | Info
    shape: str
    focus: str
    path: str | None
    value: str | None
    message_en: str
    message_zh: str | None
    shape_label: str = ""    # the shape's English name
    focus_label: str = ""    # the focus node's English label, or a prefixed name


@dataclass
class Outcome:
    results: list[Result]
    report: Graph            # the standard SHACL validation report
    quads: int = 0           # quads validated (with the base graphs once per chunk)
    findings: Graph | None = None  # compliance findings computed with it (validate_units)
    words: Words | None = None     # the labels the messages were written with

    @property
    def conforms(self) -> bool:
        return not any(r.severity == "Violation" for r in self.results)

    def count(self, severity: str) -> int:
        return sum(1 for r in self.results if r.severity == severity)


def load_shapes(folder: Path, files: Iterable[Path] = ()) -> Graph:
    """Every ``*.ttl`` of ``folder`` (or the given files), parsed; a bad file is named."""
    paths = list(files) or sorted(folder.glob("*.ttl"))
    if not paths:
        raise InputError(f"no shapes in {folder}")
    shapes = Graph()
    for path in paths:
        try:
            shapes.parse(path, format="turtle")
        except FileNotFoundError:
            raise InputError(f"{path}: no such shapes file") from None
        except Exception as e:  # rdflib raises many kinds; the message names the place
            raise InputError(f"{path}: not valid Turtle: {e}") from None
    return shapes


def union_graph(nquads: bytes) -> Graph:
    """The union of every named graph of an N-Quads dump, as one rdflib graph."""
    triples = (quad.triple for quad in parse(nquads, format=RdfFormat.N_QUADS))
    graph = Graph()
    graph.parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")
    return graph


def union_store(nquads: bytes) -> Store:
    """The union of every named graph of an N-Quads dump, as the default graph of an
    in-memory Oxigraph store: what pyshacl-turbo reads fastest (no rdflib graph to build)."""
    triples = (quad.triple for quad in parse(nquads, format=RdfFormat.N_QUADS))
    flat = Store()
    flat.bulk_load(serialize(triples, format=RdfFormat.N_TRIPLES), RdfFormat.N_TRIPLES)
    return flat


#: The validators: "turbo" (pyshacl-turbo, a Rust engine with pySHACL's interface; the
#: default, some 50 times faster here) and "pyshacl" (the reference; tests check they agree).
ENGINES = ("turbo", "pyshacl")


def validate(data: Graph | Store, shapes: Graph, *, inference: str | None = None,
             engine: str = "turbo") -> Outcome:
    """Validate ``data`` (which should hold the ontology too, for class checks): an rdflib
    graph, or an Oxigraph store whose default graph holds the data (see ``union_store``).

    ``inference="rdfs"`` first adds what RDFS entails from the ontology in ``data``.
    """
    if isinstance(data, Store) and (engine != "turbo" or inference):
        graph = Graph()  # pySHACL, and inference, work on rdflib graphs
        graph.parse(data=data.dump(format=RdfFormat.N_TRIPLES, from_graph=DefaultGraph()), format="nt")
        data = graph
    if engine == "turbo":
        from pyshacl_turbo import validate as run
    elif engine == "pyshacl":
        from pyshacl import validate as run
    else:
        raise InputError(f"unknown validation engine '{engine}' (use {' or '.join(ENGINES)})")
    _conforms, report, _text = run(
        data, shacl_graph=shapes, inference=inference, advanced=True, allow_warnings=True,
        allow_infos=True)
    if not isinstance(report, Graph):  # an engine may hand back the report serialised
        report = Graph().parse(data=report, format="turtle")
    vocabulary = _readable(report, shapes, data)
    return Outcome(_results(report, shapes, vocabulary), report, words=vocabulary)


def _templates(shapes: Graph, report: Graph, result: Node) -> list[tuple[str, re.Pattern[str]]]:
    """The message templates a result may have been filled from, with their languages."""
    owners = [report.value(result, SH.sourceShape), report.value(result, SH.sourceConstraint)]
    component = report.value(result, SH.sourceConstraintComponent)
    owners += [shapes.value(component, p) for p in (SH.nodeValidator, SH.validator, SH.propertyValidator)]
    found = []
    for owner in owners:
        if owner is None:
            continue
        for m in shapes.objects(owner, SH.message):
            if isinstance(m, Literal):
                parts = re.split(r"\{[?$]\w+\}", str(m))
                pattern = ".*?".join(re.escape(part) for part in parts)
                found.append((m.language or "en", re.compile(pattern, re.DOTALL)))
    return found


def _readable(report: Graph, shapes: Graph, data: Graph | Store) -> Words:
    """Each message of ``report`` tagged with its language and its IRIs replaced by labels;
    the labels read (of the IRIs the messages name and of the focus nodes)."""
    messages = list(report.subject_objects(SH.resultMessage))
    iris = {i for _, m in messages for i in Words().iris_in(str(m))}
    iris |= {str(f) for f in report.objects(None, SH.focusNode) if isinstance(f, URIRef)}
    vocabulary = Words.from_rows(_select(data, words_query(iris))) if iris else Words()
    for result, message in messages:
        lang = message.language if isinstance(message, Literal) else None
        if not lang:  # a message filled in from a template loses its language tag
            lang = next((lang for lang, p in _templates(shapes, report, result) if p.fullmatch(str(message))),
                        None) or _script(str(message))
        report.remove((result, SH.resultMessage, message))
        report.add((result, SH.resultMessage, Literal(vocabulary.render(str(message), lang), lang=lang)))
    return vocabulary


def _select(data: Graph | Store, query: str) -> list[dict[str, Node | None]]:
    """Rows of a SELECT on an rdflib graph or an Oxigraph store, as rdflib terms."""
    if isinstance(data, Graph):
        return [dict(row.asdict()) for row in data.query(query)]  # type: ignore[union-attr]  # a SELECT gives rows
    result = data.query(query, default_graph=DefaultGraph())
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    rows: list[dict[str, Node | None]] = []
    for row in result:
        rows.append({n: _term(row[n]) for n in names})
    return rows


def _term(term: NamedNode | BlankNode | OxLiteral | None) -> Node | None:
    if term is None:
        return None
    if isinstance(term, NamedNode):
        return URIRef(term.value)
    if isinstance(term, BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def units_of(graphs: Iterable[str]) -> list[list[str]]:
    """The units of a store's graphs: one per report edition (its document and reply
    graphs), and one of the other graphs that are not base graphs (findings, datasets)."""
    by_report: dict[str, list[str]] = {}
    rest: list[str] = []
    for g in sorted(graphs):
        if g.startswith(BASE_GRAPHS):
            continue
        match = REPORT_GRAPHS.match(g)
        if match:
            by_report.setdefault(match[0], []).append(g)
        else:
            rest.append(g)
    return list(by_report.values()) + ([rest] if rest else [])


def validate_units(store: GraphStore, units: Iterable[list[str]], shapes: Graph, *,
                   sizes: dict[str, int] | None = None, chunk_quads: int = CHUNK_QUADS,
                   engine: str = "turbo", inference: str | None = None,
                   findings_dir: Path | None = None, jobs: int = 1) -> Outcome:
    """Validate each unit (a list of graph names; [] for the base alone) of ``store``
    together with its base graphs, up to ``chunk_quads`` quads of units at a time, in
    ``jobs`` processes.

    Results are gathered (one result found in two chunks, on a base node, counts once)
    into one report graph. With ``findings_dir``, the compliance findings of its rules are
    computed over the same chunks while they are in memory (``Outcome.findings``).
    """
    sizes = sizes if sizes is not None else store.graph_sizes()
    base = [g for g in sorted(sizes) if g.startswith(BASE_GRAPHS)]
    base_data = b"".join(store.graph_ntriples(g) for g in base)
    base_quads = sum(sizes[g] for g in base)
    chunks: list[list[str]] = []
    current: list[str] = []
    filled = 0
    for unit in units:
        graphs = [g for g in unit if g not in base]
        if current and filled + sum(sizes.get(g, 0) for g in graphs) > chunk_quads:
            chunks.append(current)
            current, filled = [], 0
        current += graphs
        filled += sum(sizes.get(g, 0) for g in graphs)
    chunks.append(current)
    shapes_ttl = shapes.serialize(format="turtle", encoding="utf-8")
    where = str(findings_dir) if findings_dir is not None else None

    def data(chunk: list[str]) -> bytes:
        return base_data + b"".join(store.graph_ntriples(g) for g in chunk)

    results: dict[Result, Node] = {}
    report = Graph()
    findings = Graph()
    total = base_quads * len(chunks) + sum(sizes.get(g, 0) for c in chunks for g in c)

    def gather(answer: tuple[list[tuple[Result, bytes]], bytes]) -> None:
        found, found_findings = answer
        for result, snippet in found:
            if result not in results:
                part = Graph().parse(data=snippet, format="nt")
                node = next(part.subjects(RDF.type, SH.ValidationResult))
                report.__iadd__(part)
                results[result] = node
        if found_findings:
            findings.parse(data=found_findings, format="nt")

    if jobs > 1 and len(chunks) > 1:
        from concurrent.futures import Future, ProcessPoolExecutor
        from multiprocessing import get_context

        # "spawn": the caller may hold an open RocksDB, whose threads do not survive a fork
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            pending: list[Future[tuple[list[tuple[Result, bytes]], bytes]]] = []
            for chunk in chunks:
                pending.append(pool.submit(_validate_chunk, data(chunk), shapes_ttl, engine, inference, where))
                while len(pending) > jobs:  # a bounded number of chunks in memory at once
                    gather(pending.pop(0).result())
            for future in pending:
                gather(future.result())
    else:
        for chunk in chunks:
            gather(_validate_chunk(data(chunk), shapes_ttl, engine, inference, where, shapes))
    root = BNode()
    report.add((root, RDF.type, SH.ValidationReport))
    ordered = sorted(results, key=_rank)
    report.add((root, SH.conforms, Literal(not any(r.severity == "Violation" for r in ordered))))
    for node in results.values():
        report.add((root, SH.result, node))
    return Outcome(ordered, report, total, findings)


def _validate_chunk(data: bytes, shapes_ttl: bytes, engine: str, inference: str | None,
                    findings_dir: str | None,
                    shapes: Graph | None = None) -> tuple[list[tuple[Result, bytes]], bytes]:
    """One chunk (N-Triples) validated, and its findings: each result with its part of the
    report as N-Triples, and the findings as N-Triples (plain values: this may run in a
    worker process)."""
    if shapes is None:
        shapes = Graph().parse(data=shapes_ttl, format="turtle")
    flat = Store()
    flat.bulk_load(data, RdfFormat.N_TRIPLES)
    outcome = validate(flat, shapes, engine=engine, inference=inference)
    found = []
    for result, node in _result_nodes(outcome.report, shapes, outcome.words or Words()):
        part = Graph()
        _copy_result(outcome.report, node, part)
        found.append((result, part.serialize(format="nt", encoding="utf-8")))
    findings = b""
    if findings_dir is not None:
        from .findings import compute
        from .store.embedded import EmbeddedStore

        findings = compute(EmbeddedStore.over(flat, flat=True), Path(findings_dir)).serialize(
            format="nt", encoding="utf-8")
    return found, findings


def _copy_result(source: Graph, node: Node, target: Graph) -> None:
    """A result and what hangs from it through blank nodes (paths, details)."""
    todo, seen = [node], set()
    while todo:
        subject = todo.pop()
        if subject in seen:
            continue
        seen.add(subject)
        for p, o in source.predicate_objects(subject):
            target.add((subject, p, o))
            if isinstance(o, BNode):
                todo.append(o)


def _node_shape(shapes: Graph, shape: Node | None) -> Node | None:
    """A property shape is reported by the node shape that holds it (a readable name)."""
    if shape is None:
        return None
    parent = shapes.value(None, SH.property, shape)
    return parent if parent is not None else shape


def _results(report: Graph, shapes: Graph, vocabulary: Words) -> list[Result]:
    out = [r for r, _node in _result_nodes(report, shapes, vocabulary)]
    return sorted(out, key=_rank)


def _rank(r: Result) -> tuple[int, str, str, str, str, str]:
    """Results in a stable order: severity, shape, focus, then what tells results apart."""
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    return order.get(r.severity, 3), r.shape, r.focus, r.path or "", r.value or "", r.message_en


def _result_nodes(report: Graph, shapes: Graph, vocabulary: Words) -> list[tuple[Result, Node]]:
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        messages: dict[str | None, str] = {}
        for m in report.objects(result, SH.resultMessage):
            messages[m.language if isinstance(m, Literal) else None] = str(m)
        severity = report.value(result, SH.resultSeverity)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        shape = _node_shape(shapes, report.value(result, SH.sourceShape))
        focus = str(report.value(result, SH.focusNode))
        name = shapes.value(shape, RDFS.label) if shape is not None else None
        out.append((Result(
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            shape=str(shape),
            focus=focus,
            path=str(path) if isinstance(path, URIRef) else None,
            value=str(value) if value is not None else None,
            message_en=messages.get("en") or messages.get(None) or next(iter(messages.values()), ""),
            message_zh=messages.get("zh"),
            shape_label=str(name) if name is not None else short(str(shape)),
            focus_label=vocabulary.label(focus, "en")), result))
    return out


def _script(text: str) -> str:
    """"zh" when Chinese characters outnumber Latin letters (IRIs left out), else "en"."""
    text = re.sub(r"\S+://\S+", "", text)
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
    return "zh" if cjk > len(re.findall(r"[A-Za-z]", text)) else "en"


def _severities(items: Iterable[Result] | Iterable[Summary]) -> str:
    counts = {k: sum(1 for x in items if x.severity == k) for k in ("Violation", "Warning", "Info")}
    return f"{counts['Violation']} violations, {counts['Warning']} warnings, {counts['Info']} notes"


def as_text(outcome: Outcome, findings: Sequence[Summary] | None = None) -> str:
    """The results for people: the data's integrity, then (when given) the compliance
    findings, each section on its own; labels, not IRIs, and both languages."""
    lines = ["Data integrity"]
    for r in outcome.results:
        where = r.focus_label + (f", {short(r.path)}" if r.path else "")
        lines.append(f"  {r.severity:<9} {r.shape_label} — {where}")
        lines += [f"            {m}" for m in (r.message_en, r.message_zh) if m]
    verdict = "the data conforms" if outcome.conforms else "the data does not conform"
    lines.append(f"  {verdict}: {_severities(outcome.results)}")
    if findings is not None:
        lines += ["", "Compliance findings (what the reports say of states, weighed against the register)"]
        for f in findings:
            lines.append(f"  {f.severity:<9} {f.rule_label}" + (f" — {f.party}" if f.party else ""))
            lines += [f"            {m}" for m in (f.message_en, f.message_zh) if m]
            said = "; ".join(x for x in (f"strength: {f.strength}" if f.strength else "",
                                         f"evidence: {f.evidence}" if f.evidence else "",
                                         f"source: {f.source}" if f.source else "") if x)
            if said:
                lines.append(f"            [{said}]")
        lines.append(f"  {len(findings)} findings: {_severities(findings)}")
    return "\n".join(lines) + "\n"


def as_csv(outcome: Outcome, findings: Sequence[Summary] = ()) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["section", "severity", "shape", "focus", "path", "value", "message_en", "message_zh",
                     "strength", "evidence", "source"])
    for r in outcome.results:
        writer.writerow(["integrity", r.severity, r.shape, r.focus, r.path or "", r.value or "", r.message_en,
                         r.message_zh or "", "", "", ""])
    for f in findings:
        writer.writerow(["compliance", f.severity, f.rule, f.focus, "", "", f.message_en, f.message_zh,
                         f.strength, f.evidence, f.source])
    return buf.getvalue()
