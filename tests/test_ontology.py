"""The knowledge model: it parses, it is OWL 2 DL-consistent (HermiT), every term is
labelled and defined in English and Chinese, and every register figure cites its source."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from cbmkg.config import ROOT
from cbmkg.namespaces import CBM

ONTOLOGY = ROOT / "ontology"
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
ACTOR = Namespace("https://w3id.org/cbmkg/id/actor/")
MAIN_CLASSES = [CBM.Instrument, CBM.Treaty, CBM.Provision, CBM.Obligation, CBM.Actor, CBM.State,
                CBM.InternationalOrganization, CBM.Participation, CBM.Report, CBM.Reply,
                CBM.Paragraph, CBM.ReportedEvent, CBM.Quantity, CBM.Claim, CBM.ComplianceFinding]
UN_LANGUAGES = {"en", "zh", "fr", "es", "ru", "ar"}


def load(paths: Iterable[Path]) -> Graph:
    g = Graph()
    for path in paths:
        g.parse(path, format="turtle")
    return g


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load(sorted(ONTOLOGY.rglob("*.ttl")))


def languages(g: Graph, subject: Node, *predicates: URIRef) -> set[str]:
    return {o.language for p in predicates for o in g.objects(subject, p)
            if isinstance(o, Literal) and o.language}


def term_problems(g: Graph) -> list[str]:
    """Terms of the cbm namespace that lack an en/zh label or an en/zh definition."""
    problems = []
    kinds = [OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
             SKOS.Concept, SKOS.ConceptScheme, ODRL.Action, ODRL.LeftOperand]
    for kind in kinds:
        for term in set(g.subjects(RDF.type, kind)):
            if not str(term).startswith(str(CBM)):
                continue
            labels = languages(g, term, RDFS.label, SKOS.prefLabel)
            definitions = languages(g, term, SKOS.definition)
            for lang in ("en", "zh"):
                if lang not in labels:
                    problems.append(f"{term} has no @{lang} label")
                if lang not in definitions:
                    problems.append(f"{term} has no @{lang} definition")
            if kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty) and \
                    (term, RDFS.isDefinedBy, None) not in g:
                problems.append(f"{term} has no rdfs:isDefinedBy")
    return problems


def figure_problems(g: Graph) -> list[str]:
    """Register figures and records without a source or a verification status."""
    problems = []
    figures = [c for c in g.subjects(ODRL.rightOperand, None)]
    figures += list(g.subjects(RDF.type, CBM.Deadline))
    figures += list(g.subjects(RDF.type, CBM.Participation))
    for node in set(figures):
        sources = list(g.objects(node, DCTERMS.source))
        if not sources:
            problems.append(f"{node} has no dct:source")
        if (node, CBM.verificationStatus, None) not in g:
            problems.append(f"{node} has no cbm:verificationStatus")
        for source in sources:
            if (source, RDFS.label, None) not in g:
                problems.append(f"{node} cites {source}, which the register does not describe")
    return problems


def test_every_file_parses_and_has_a_versioned_header() -> None:
    for path in sorted(ONTOLOGY.glob("*.ttl")):
        g = load([path])
        headers = list(g.subjects(RDF.type, OWL.Ontology))
        assert len(headers) == 1, path.name
        for p in (OWL.versionIRI, OWL.versionInfo, DCTERMS.license, DCTERMS.title):
            assert (headers[0], p, None) in g, f"{path.name} header lacks {p}"
    core = load([ONTOLOGY / "cbm-core.ttl"])
    header = next(core.subjects(RDF.type, OWL.Ontology))
    for p in (DCTERMS.creator, DCTERMS.description, DCTERMS.modified):
        assert (header, p, None) in core


def test_every_term_has_english_and_chinese_label_and_definition(ontology: Graph) -> None:
    assert term_problems(ontology) == []


def test_label_check_catches_a_missing_chinese_definition(ontology: Graph) -> None:
    broken = Graph()
    broken += ontology
    broken.remove((CBM.Treaty, SKOS.definition, None))
    broken.add((CBM.Treaty, SKOS.definition, Literal("only English", lang="en")))
    assert f"{CBM.Treaty} has no @zh definition" in term_problems(broken)


def test_main_classes_are_labelled_in_the_six_un_languages(ontology: Graph) -> None:
    for cls in MAIN_CLASSES:
        assert languages(ontology, cls, RDFS.label) >= UN_LANGUAGES, cls


def test_every_register_figure_cites_its_source(ontology: Graph) -> None:
    assert figure_problems(ontology) == []
    broken = Graph()
    broken += ontology
    figure = URIRef("https://w3id.org/cbmkg/id/constraint/aze-tanks")
    broken.remove((figure, DCTERMS.source, None))
    assert f"{figure} has no dct:source" in figure_problems(broken)


def test_instruments_have_names_and_binding_force(ontology: Graph) -> None:
    instruments = {s for cls in ontology.transitive_subjects(RDFS.subClassOf, CBM.Instrument)
                   for s in ontology.subjects(RDF.type, cls)}
    assert len(instruments) >= 50
    for instrument in instruments:
        assert {"en", "zh"} <= languages(ontology, instrument, RDFS.label), instrument
        assert (instrument, CBM.bindingForce, None) in ontology, instrument


def test_vienna_document_editions_are_distinct_and_linked(ontology: Graph) -> None:
    i = Namespace("https://w3id.org/cbmkg/id/instrument/")
    for edition in (i.vd1994, i.vd1999, i.vd2011):
        assert (edition, CBM.editionOf, i["vienna-document"]) in ontology
    assert (i.vd2011, CBM.supersedes, i.vd1999) in ontology
    assert (i.vd1999, CBM.supersedes, i.vd1994) in ontology


def test_parties_register(ontology: Graph) -> None:
    states = set(ontology.subjects(RDF.type, CBM.State))
    members = set(ontology.subjects(CBM.unStatus, CBM.UNMemberState))
    assert len(members) == 193 and len(states) == 195
    for state in states:
        assert languages(ontology, state, RDFS.label) == UN_LANGUAGES, state
    codes = [str(c) for c in ontology.objects(None, CBM.code)]
    assert len(codes) == len(set(codes)), "every actor code is unique"
    assert (ACTOR.AZE, RDFS.label, Literal("阿塞拜疆", lang="zh")) in ontology
    assert (ACTOR.USA, SKOS.altLabel, Literal("美利坚合众国", lang="zh")) in ontology


def test_generated_registers_match_their_sources() -> None:
    from loaders import registers

    for name, fresh in (("parties", registers.parties_graph()),
                        ("participation", registers.participation_graph()),
                        ("sources", registers.sources_graph()),
                        ("vienna-document", registers.vienna_document_graph())):
        committed = load([ONTOLOGY / "registers" / f"{name}.ttl"])
        assert isomorphic(committed, fresh), \
            f"{name}.ttl drifted from its sources: run `python -m loaders.registers`"


# ---- OWL 2 DL reasoning ---------------------------------------------------------------
# OWL 2's datatype map has no xsd:date, xsd:gYear, xsd:gYearMonth or xsd:gMonthDay, and
# HermiT refuses literals of them. The ontology declares no range with those datatypes, so
# the reasoner is given those literals as plain strings: satisfiability is unaffected.
NOT_OWL2 = {XSD.date, XSD.gYear, XSD.gYearMonth, XSD.gMonthDay}


def reason(g: Graph) -> tuple[bool, list[str]]:
    from owlready2 import OwlReadyInconsistentOntologyError, World, sync_reasoner

    clean = Graph()
    for s, p, o in g:
        if isinstance(o, Literal) and o.datatype in NOT_OWL2:
            o = Literal(str(o))
        clean.add((s, p, o))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cbmkg.nt"
        # owlready2 reads N-Triples reliably (Turtle loads silently empty)
        path.write_bytes(clean.serialize(format="nt", encoding="utf-8"))
        world = World()
        onto = world.get_ontology(path.as_uri()).load(format="ntriples")
        assert len(list(world.classes())) > 80, "the ontology did not load into owlready2"
        try:
            with onto:
                sync_reasoner(world, infer_property_values=False, debug=0)
        except OwlReadyInconsistentOntologyError:
            return False, []
        return True, [str(c) for c in world.inconsistent_classes()]


@pytest.mark.slow
def test_hermit_finds_the_ontology_and_registers_consistent(ontology: Graph) -> None:
    consistent, unsatisfiable = reason(ontology)
    assert consistent
    assert unsatisfiable == []


@pytest.mark.slow
def test_hermit_detects_an_inconsistency(ontology: Graph) -> None:
    broken = Graph()
    broken += ontology
    broken.add((ACTOR.AZE, RDF.type, CBM.InternationalOrganization))  # State ⊓ IO = ∅
    consistent, _ = reason(broken)
    assert not consistent


def test_generated_documentation_covers_every_term(ontology: Graph) -> None:
    page = (ROOT / "docs" / "ontology" / "index.html").read_text(encoding="utf-8")
    terms = {t for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
             for t in ontology.subjects(RDF.type, kind) if str(t).startswith(str(CBM))}
    missing = sorted(str(t) for t in terms if str(t) not in page)
    assert missing == [], "docs/ontology is stale: run `python -m loaders.docs`"
