"""SHACL validation of the graph with the shapes of ``shapes/`` (pySHACL is the validator).

The shapes are data (Turtle files); this module only loads them, runs pySHACL over the
union of the graphs, and turns its report into results a person or a program can read.
Severity follows the shapes: an ``sh:Violation`` makes the data non-conforming (a build
stops), an ``sh:Warning`` or ``sh:Info`` is reported and the data kept.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import DefaultGraph, RdfFormat, Store, parse, serialize
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from .errors import InputError
from .namespaces import PREFIXES, SH


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


def _node_shape(shapes: Graph, shape: Node | None) -> Node | None:
    """A property shape is reported by the node shape that holds it (a readable name)."""
    if shape is None:
        return None
    parent = shapes.value(None, SH.property, shape)
    return parent if parent is not None else shape


def _results(report: Graph, shapes: Graph) -> list[Result]:
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
        out.append(Result(
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            shape=str(_node_shape(shapes, report.value(result, SH.sourceShape))),
            focus=str(report.value(result, SH.focusNode)),
            path=str(path) if isinstance(path, URIRef) else None,
            value=str(value) if value is not None else None,
            message_en=messages.get("en") or messages.get(None) or next(iter(messages.values()), ""),
            message_zh=messages.get("zh")))
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    return sorted(out, key=lambda r: (order.get(r.severity, 3), r.shape, r.focus))


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
