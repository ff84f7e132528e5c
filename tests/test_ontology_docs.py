"""The ontology's documentation page (docs/ontology/index.html, made by pyLODE through
loaders/docs.py): its title and IRI are the ontology's, each term's heading is its English
label with the other languages listed apart, the controlled vocabularies have their section,
and the page is in step with the Turtle."""

from __future__ import annotations

import re

from rdflib import URIRef
from rdflib.namespace import RDFS, SKOS

from cbmkg.config import ROOT
from cbmkg.ontology import IRI, merged
from loaders.docs import for_pylode, other_languages

PAGE = (ROOT / "docs" / "ontology" / "index.html").read_text(encoding="utf-8")
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_title_and_iri_are_the_ontologys() -> None:
    assert re.search(r"<title>cbmkg: ontology of confidence-building measures</title>", PAGE)
    assert re.search(r"<h1>cbmkg: ontology of confidence-building measures</h1>", PAGE)
    metadata = PAGE[PAGE.index('id="metadata"'):PAGE.index("</dl>", PAGE.index('id="metadata"'))]
    assert re.findall(r"<strong>IRI</strong>\s*</dt>\s*<dd>\s*<code>([^<]+)</code>", metadata) == [IRI]
    assert "Other languages: cbmkg：建立信任措施本体 (中文)" in metadata


def test_one_language_per_heading_the_others_listed() -> None:
    headings = re.findall(r"<h3>\s*([^<]*?)\s*<sup", PAGE)
    assert len(headings) > 100
    assert not [h for h in headings if CJK.search(h)], "a heading runs languages together"
    instrument = PAGE[PAGE.index(f"<code>{str(IRI)}#Instrument</code>") - 600:][:3000]
    assert re.search(r"<h3>\s*instrument\s*<sup", instrument)
    assert "Other languages: 文书 (中文) · instrument (français) · instrumento (español) · документ (русский) · " \
           "صك (العربية)" in instrument


def test_the_controlled_vocabularies_have_a_section() -> None:
    section = PAGE[PAGE.index('id="vocabularies"'):]
    for scheme in ("FindingStrengths", "FindingGrounds", "EvidenceKinds", "EditionGrounds", "Qualifiers"):
        assert f'id="{scheme}"' in section and f"<code>{IRI}#{scheme}</code>" in section, scheme
    assert f"<code>{IRI}#UpTo</code>" in section and "gives only a maximum" in section
    assert 'href="#vocabularies"' in PAGE  # in the table of contents


def test_what_pylode_is_given() -> None:
    ontology = merged()
    given = for_pylode(ontology)
    instrument = URIRef(IRI + "#Instrument")
    assert {str(o) for o in given.objects(instrument, RDFS.label)} == {"instrument"}
    assert str(given.value(instrument, SKOS.note)) == other_languages(ontology, instrument)
    assert (None, None, SKOS.ConceptScheme) not in given


def test_the_page_covers_every_term_of_the_ontology() -> None:
    from rdflib.namespace import OWL, RDF

    ontology = merged()
    terms = {t for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                            SKOS.Concept, SKOS.ConceptScheme)
             for t in ontology.subjects(RDF.type, kind) if str(t).startswith(IRI + "#")}
    missing = sorted(str(t) for t in terms if f"<code>{t}</code>" not in PAGE)
    assert missing == [], "docs/ontology is stale: run `python -m loaders.docs`"
