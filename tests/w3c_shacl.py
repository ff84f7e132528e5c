"""The W3C SHACL test suite against cbmkg's validation entry point (used by
tests/test_w3c_shacl.py and, for its pass rate, by benchmarks/w3c_shacl.py).

Reads the suite's manifests (mf:include, mf:entries), runs every sht:Validate entry through
``cbmkg.validation.validate`` and compares with the expected report: the conforms flag and
the results, each compared on focus node, path, severity, constraint component, source shape
and value (blank nodes only as "a blank node"). An expected sht:Failure passes when the
validator refuses the shapes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF
from rdflib.term import Node

from cbmkg.config import ROOT
from cbmkg.namespaces import SH
from cbmkg.validation import validate

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
SHT = "http://www.w3.org/ns/shacl-test#"
DEFAULT_SUITE = ROOT.parent / "shared" / "w3c" / "shacl" / "tests"


@dataclass(frozen=True)
class Case:
    name: str
    data: Path
    shapes: Path
    expected: Graph
    result: Node  # the expected report node, or sht:Failure


def _load(path: Path) -> Graph:
    return Graph().parse(path, format="turtle", publicID=path.as_uri())


def cases(manifest: Path) -> list[Case]:
    g = _load(manifest)
    found: list[Case] = []
    for include in g.objects(None, URIRef(MF + "include")):
        found += cases(Path(str(include).removeprefix("file://")))
    for entries in g.objects(None, URIRef(MF + "entries")):
        for entry in Collection(g, entries):
            if (entry, RDF.type, URIRef(SHT + "Validate")) not in g:
                continue
            action = g.value(entry, URIRef(MF + "action"))
            data = Path(str(g.value(action, URIRef(SHT + "dataGraph"))).removeprefix("file://"))
            shapes = Path(str(g.value(action, URIRef(SHT + "shapesGraph"))).removeprefix("file://"))
            result = g.value(entry, URIRef(MF + "result"))
            assert result is not None, f"{entry}: no mf:result"
            found.append(Case(f"{manifest.parent.name}/{str(entry).rsplit('/', 1)[-1]}", data,
                              shapes, g, result))
    return found


def _boolean(node: Node | None) -> bool | None:
    """An xsd:boolean literal's value (None when there is none)."""
    return node.toPython() if isinstance(node, Literal) else None


def _term(g: Graph, node: Node | None) -> str:
    return "_:b" if isinstance(node, BNode) or node is None and False else str(node)


def _keys(g: Graph, report: Node | None) -> Counter[tuple[str, ...]]:
    keys: Counter[tuple[str, ...]] = Counter()
    for result in g.objects(report, SH.result):
        key = tuple(_term(g, g.value(result, p)) for p in (
            SH.focusNode, SH.resultPath, SH.resultSeverity, SH.sourceConstraintComponent,
            SH.sourceShape, SH.value))
        keys[key] += 1
    return keys


def run_case(case: Case, engine: str) -> bool:
    expected_failure = case.result == URIRef(SHT + "Failure")
    try:
        data, shapes = _load(case.data), _load(case.shapes)
        outcome = validate(data, shapes, engine=engine)
    except Exception:  # the validator refused the input
        return expected_failure
    if expected_failure:
        return False
    report = outcome.report
    actual = next(report.subjects(RDF.type, SH.ValidationReport), None)
    expected_conforms = _boolean(case.expected.value(case.result, SH.conforms))
    actual_conforms = _boolean(report.value(actual, SH.conforms))
    if expected_conforms != actual_conforms and not (expected_conforms is False and outcome.results):
        return False
    return _keys(case.expected, case.result) == _keys(report, actual)
