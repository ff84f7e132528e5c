"""SHACL validation of the graph with the shapes of ``shapes/`` (pySHACL is the validator).

The shapes are data (Turtle files); this module only loads them, runs pySHACL over the
union of the graphs, and turns its report into results a person or a program can read.
Severity follows the shapes: an ``sh:Violation`` makes the data non-conforming (a build
stops), an ``sh:Warning`` or ``sh:Info`` is reported and the data kept.

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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyoxigraph import DefaultGraph, RdfFormat, Store, parse, serialize
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from .errors import InputError
from .namespaces import GRAPH, PREFIXES, SH

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


@dataclass
class Outcome:
    results: list[Result]
    report: Graph            # the standard SHACL validation report
    quads: int = 0           # quads validated (with the base graphs once per chunk)
    findings: Graph | None = None  # compliance findings computed with it (validate_units)

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
    return Outcome(_results(report, shapes), report)


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
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    ordered = sorted(results, key=lambda r: (order.get(r.severity, 3), r.shape, r.focus))
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
    for result, node in _result_nodes(outcome.report, shapes):
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


def _results(report: Graph, shapes: Graph) -> list[Result]:
    out = [r for r, _node in _result_nodes(report, shapes)]
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    return sorted(out, key=lambda r: (order.get(r.severity, 3), r.shape, r.focus))


def _result_nodes(report: Graph, shapes: Graph) -> list[tuple[Result, Node]]:
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        messages: dict[str | None, str] = {}
        for m in report.objects(result, SH.resultMessage):
            # a message filled in from a template loses its language tag: tell it by script
            lang = m.language if isinstance(m, Literal) and m.language else _script(str(m))
            messages[lang] = str(m)
        severity = report.value(result, SH.resultSeverity)
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        out.append((Result(
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            shape=str(_node_shape(shapes, report.value(result, SH.sourceShape))),
            focus=str(report.value(result, SH.focusNode)),
            path=str(path) if isinstance(path, URIRef) else None,
            value=str(value) if value is not None else None,
            message_en=messages.get("en") or messages.get(None) or next(iter(messages.values()), ""),
            message_zh=messages.get("zh")), result))
    return out


def _script(text: str) -> str:
    """"zh" when Chinese characters outnumber Latin letters (IRIs left out), else "en"."""
    text = re.sub(r"\S+://\S+", "", text)
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
    return "zh" if cjk > len(re.findall(r"[A-Za-z]", text)) else "en"


def short(iri: str | None) -> str:
    if not iri:
        return ""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    if iri.startswith("https://w3id.org/cbmkg/shapes#"):
        return "shp:" + iri.split("#", 1)[1]
    return iri


def as_text(outcome: Outcome) -> str:
    lines = [f"{r.severity:<9} {short(r.shape)}  {short(r.focus)}"
             + (f"  {short(r.path)}" if r.path else "") + f"\n          {r.message_en}"
             + (f"\n          {r.message_zh}" if r.message_zh else "") for r in outcome.results]
    verdict = "conforms" if outcome.conforms else "does not conform"
    lines.append(f"{verdict}: {outcome.count('Violation')} violations, "
                 f"{outcome.count('Warning')} warnings, {outcome.count('Info')} notes")
    return "\n".join(lines) + "\n"


def as_csv(outcome: Outcome) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["severity", "shape", "focus", "path", "value", "message_en", "message_zh"])
    for r in outcome.results:
        writer.writerow([r.severity, r.shape, r.focus, r.path or "", r.value or "", r.message_en,
                         r.message_zh or ""])
    return buf.getvalue()
