"""The closed cbm: vocabulary: the code can only write terms the ontology declares
(cbmkg.namespaces.CBM), the shapes, queries and registers name only declared terms, and the
integrity shape VocabularyShape rejects data that uses any other, naming it (on both
validators). The build-time failure is tested in test_validate_cli.py."""

from __future__ import annotations

import re

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from cbmkg.config import ROOT
from cbmkg.namespaces import CBM, UndeclaredTerm
from cbmkg.ontology import declared_terms, merged
from cbmkg.validation import load_shapes, validate

TERM = re.compile(r"\bcbm:([A-Za-z][A-Za-z0-9_]*)")


def test_the_namespace_holds_exactly_the_declared_terms() -> None:
    declared = declared_terms()
    assert {"MilitaryExercise", "UpTo", "ComplianceFinding", "strength", "evidenceKind"} <= declared
    assert set(dir(CBM)) == declared
    assert CBM["UpTo"] == URIRef("https://w3id.org/cbmkg/ontology#UpTo") == CBM.UpTo


def test_an_undeclared_term_cannot_be_written() -> None:
    with pytest.raises(UndeclaredTerm) as caught:
        CBM["MilitaryExcercise"]
    assert str(caught.value) == ("cbm:MilitaryExcercise is not a term of the ontology (did you mean "
                                 "cbm:MilitaryExercise?): declare it in ontology/cbm-*.ttl or correct it")
    with pytest.raises(AttributeError, match="cbm:quantitty is not a term"):
        CBM.quantitty  # noqa: B018  # the attribute access is the test
    assert URIRef(str(CBM) + "UpTo") in CBM and URIRef(str(CBM) + "Upto") not in CBM


@pytest.mark.parametrize("folder,pattern", [("shapes", "*.ttl"), ("queries", "*.rq"), ("ontology/registers", "*.ttl"),
                                            ("tests/data", "*.ttl")])
def test_shapes_queries_and_registers_name_only_declared_terms(folder: str, pattern: str) -> None:
    """A rule that names a misspelt term matches nothing and says nothing: caught here."""
    declared = declared_terms()
    unknown = sorted({f"{path.name}: cbm:{name}" for path in (ROOT / folder).glob(pattern)
                      for name in TERM.findall(path.read_text(encoding="utf-8")) if name not in declared})
    assert unknown == []


@pytest.mark.parametrize("engine", ["turbo", "pyshacl"])
def test_the_integrity_shape_names_an_undeclared_term(engine: str) -> None:
    shapes = load_shapes(ROOT / "shapes", [ROOT / "shapes" / "integrity.ttl"])
    data = Graph()
    data += merged()
    assert validate(data, shapes, engine=engine).conforms
    event = URIRef("http://example.org/event")
    data.add((event, RDF.type, URIRef(str(CBM) + "MilitaryExcercise")))
    outcome = validate(data, shapes, engine=engine)
    assert not outcome.conforms
    [hit] = [r for r in outcome.results if r.shape.endswith("#VocabularyShape")]
    assert hit.focus == "https://w3id.org/cbmkg/ontology" and hit.value == str(CBM) + "MilitaryExcercise"
    assert hit.message_en == ("cbm:MilitaryExcercise is not a term of the ontology (used by http://example.org/event): "
                              "declare it in ontology/cbm-*.ttl or correct it.")
    assert hit.message_zh and hit.message_zh.startswith("cbm:MilitaryExcercise 不是本体中的术语")
