"""Each integrity shape against a graph that conforms and one that does not: the exact
focus nodes, paths and messages, on both validators (pyshacl-turbo and the pySHACL
reference), which must agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import DCTERMS, RDFS

from cbmkg.config import ROOT
from cbmkg.ontology import merged
from cbmkg.validation import load_shapes, validate

SHAPES = load_shapes(ROOT / "shapes", sorted((ROOT / "shapes").glob("integrity*.ttl")))
CORE = merged()  # the ontology's modules: the terms the closed vocabulary allows
PREFIXES = """@prefix cbm: <https://w3id.org/cbmkg/ontology#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix odrl: <http://www.w3.org/ns/odrl/2/> .
@prefix : <http://example.org/> .
"""
# a consistent little world the cases build on
WORLD = PREFIXES + """
:ARM a cbm:State ; cbm:code "ARM" ; rdfs:label "Armenia"@en , "亚美尼亚"@zh .
:AZE a cbm:State ; cbm:code "AZE" ; rdfs:label "Azerbaijan"@en , "阿塞拜疆"@zh .
:run a cbm:ExtractionRun .
:reply a cbm:Reply ; cbm:respondent :ARM ; cbm:order 1 ; cbm:replyDate "2020-05-15"^^xsd:date ;
    cbm:originalLanguage "en"^^xsd:language .
:p1 a cbm:Paragraph ; cbm:text "阿塞拜疆举行了演习。"@zh ; cbm:order 1 ; cbm:partOf :reply .
:span a cbm:TextSpan ; oa:hasSource :p1 ; oa:hasSelector :quote , :position .
:quote a oa:TextQuoteSelector ; oa:exact "阿塞拜疆"@zh .
:position a oa:TextPositionSelector ; oa:start 0 ; oa:end 4 .
:event a cbm:MilitaryExercise ; cbm:paragraph :p1 ; cbm:evidence :span ; cbm:reportedBy :ARM ;
    prov:wasGeneratedBy :run ; cbm:startDate "2019-03-11"^^xsd:date ; cbm:endDate "2019-03-13"^^xsd:date ;
    cbm:quantity :troops .
:troops a cbm:Quantity ; cbm:value 10000.0 ; cbm:quantityKind cbm:Personnel ; cbm:qualifier cbm:UpTo ;
    cbm:unit cbm:Troops .
:claim a cbm:Claim ; cbm:claimant :ARM ; cbm:subject :AZE ; cbm:stance cbm:Accusation ;
    cbm:paragraph :p1 ; cbm:evidence :span ; cbm:reportedBy :ARM ; prov:wasGeneratedBy :run .
:mention a cbm:Mention ; cbm:mentions :AZE ; cbm:mentionKind cbm:PartyMention ; cbm:paragraph :p1 ;
    cbm:evidence :span .
:report a cbm:Report ; cbm:documentSymbol "A/75/95" ; cbm:hasEdition :zh .
:zh a cbm:LanguageEdition ; dct:language "zh" .
:cfe a cbm:Treaty ; rdfs:label "CFE Treaty"@en , "欧洲常规武装力量条约"@zh ; cbm:bindingForce cbm:LegallyBinding .
:art4 a cbm:Provision ; cbm:provisionOf :cfe .
:ceilings a cbm:Obligation ; cbm:establishedBy :art4 ; cbm:obligationOf :cfe ; odrl:action cbm:limitHoldings ;
    odrl:assignee :parties .
:ceiling odrl:rightOperand 220 ; dct:source :src ; cbm:verificationStatus cbm:SecondarySource .
:member a cbm:Participation ; cbm:participant :ARM ; cbm:instrument :cfe ;
    cbm:participationStatus cbm:StateParty ; dct:source :src .
:relation a cbm:PartyRelation ; cbm:subject :ARM ; cbm:instrument :cfe ; cbm:relationKind cbm:IsPartyTo ;
    cbm:paragraph :p1 ; cbm:evidence :span ; cbm:reportedBy :ARM ; prov:wasGeneratedBy :run .
"""

# shape -> (what is changed, focus node, path or None, start of the English message)
CASES = {
    "ReplyShape": ("""DELETE { :reply cbm:respondent :ARM } WHERE {}""",
                   ":reply", "respondent", "A reply has exactly one respondent"),
    "ReplyRecommendedShape": ("""DELETE { :reply cbm:replyDate ?d }
                                 WHERE { :reply cbm:replyDate ?d }""",
                              ":reply", "replyDate", "The reply has no date"),
    "ParagraphShape": ("""DELETE { :p1 cbm:text ?t } INSERT { :p1 cbm:text "阿塞拜疆举行了演习。"@de }
                          WHERE { :p1 cbm:text ?t }""",
                       ":p1", "text", "A paragraph has one non-empty text"),
    "TextSpanShape": ("""DELETE { :position oa:end 4 } INSERT { :position oa:end 6 } WHERE {}""",
                      ":span", None, "The quoted words 阿塞拜疆 are not in the paragraph"),
    "ExtractedFactShape": ("""DELETE { :event cbm:reportedBy :ARM } WHERE {}""",
                           ":event", "reportedBy", "An extracted fact says who reported it"),
    "ReportedEventShape": ("""DELETE { :event cbm:endDate ?e } INSERT { :event cbm:endDate "2019-03-01"^^xsd:date }
                              WHERE { :event cbm:endDate ?e }""",
                           ":event", None, "The event ends (2019-03-01) before it starts"),
    "QuantityShape": ("""DELETE { :troops cbm:value ?v } INSERT { :troops cbm:value "-5.0"^^xsd:decimal }
                         WHERE { :troops cbm:value ?v }""",
                      ":troops", "value", "A quantity has one non-negative decimal value"),
    "ClaimShape": ("""DELETE { :claim cbm:stance cbm:Accusation } INSERT { :claim cbm:stance cbm:UpTo } WHERE {}""",
                   ":claim", "stance", "A claim has one stance"),
    "MentionShape": ("""DELETE { :mention cbm:mentions :AZE } WHERE {}""",
                     ":mention", None, "A mention that is not marked unresolved"),
    "ReportShape": ("""DELETE { :report cbm:documentSymbol ?s } INSERT { :report cbm:documentSymbol "report 95" }
                       WHERE { :report cbm:documentSymbol ?s }""",
                    ":report", "documentSymbol", "A report has exactly one UN document symbol"),
    "LanguageEditionShape": ("""DELETE { :zh dct:language "zh" } INSERT { :zh dct:language "de" } WHERE {}""",
                             ":zh", str(DCTERMS.language),
                             "A language edition is in exactly one of the six UN languages"),
    "InstrumentShape": ("""DELETE { :cfe rdfs:label "欧洲常规武装力量条约"@zh } WHERE {}""",
                        ":cfe", str(RDFS.label), "An instrument has a Chinese name"),
    "ObligationShape": ("""DELETE { :ceilings cbm:establishedBy :art4 } WHERE {}""",
                        ":ceilings", "establishedBy", "An obligation cites the provision that creates it"),
    "FigureShape": ("""DELETE { :ceiling dct:source :src } WHERE {}""",
                    ":ceiling", str(DCTERMS.source),
                    "A figure of the register cites its source"),
    "ParticipationShape": ("""DELETE { :member cbm:participant :ARM } INSERT { :member cbm:participant :nobody }
                              WHERE {}""",
                           ":member", "participant", "A participation names one actor of the registers"),
    "PartyRelationShape": ("""DELETE { :relation cbm:instrument :cfe } WHERE {}""",
                           ":relation", "instrument", "A statement of standing names one instrument"),
    "StateShape": ("""DELETE { :AZE cbm:code "AZE" } INSERT { :AZE cbm:code "AZ" } WHERE {}""",
                   ":AZE", "code", "A state's code is its ISO 3166-1 alpha-3 code"),
}
EX = "http://example.org/"
CBM = "https://w3id.org/cbmkg/ontology#"


def world() -> Graph:
    g = Graph()
    g += CORE
    g.parse(data=WORLD, format="turtle")
    return g


@pytest.mark.parametrize("engine", ["turbo", "pyshacl"])
def test_the_world_conforms(engine: str) -> None:
    outcome = validate(world(), SHAPES, engine=engine)
    assert outcome.results == []


@pytest.mark.parametrize("engine", ["turbo", "pyshacl"])
@pytest.mark.parametrize("shape", sorted(CASES))
def test_each_shape_catches_its_case(shape: str, engine: str) -> None:
    change, focus, path, message = CASES[shape]
    g = world()
    g.update(PREFIXES.replace("@prefix", "PREFIX").replace(" .\n", "\n") + change)
    outcome = validate(g, SHAPES, engine=engine)
    found = [(r.shape, r.focus, r.path) for r in outcome.results]
    expected_path = CBM + path if path and not path.startswith("http") else path
    assert (f"https://w3id.org/cbmkg/shapes#{shape}", EX + focus[1:], expected_path) in found, found
    assert all(r.focus == EX + focus[1:] for r in outcome.results), found
    hit = next(r for r in outcome.results if r.shape.endswith("#" + shape))
    assert hit.message_en.startswith(message), hit.message_en
    assert hit.message_zh, "every finding is explained in Chinese too"


@pytest.mark.slow
def test_the_validators_agree_on_the_bundled_report(tmp_path: Path) -> None:
    from loaders.build import input_parts, ontology_parts, parts_graph

    ontology = ROOT / "ontology"
    report = ROOT / "corpus" / "A_75_95-ZH.txt"
    data = parts_graph([*ontology_parts(ontology), *input_parts([report], ontology)])
    broken = Graph()
    broken += data
    broken.update("""PREFIX cbm: <https://w3id.org/cbmkg/ontology#>
        DELETE { ?e cbm:reportedBy ?who } WHERE { ?e a cbm:MilitaryExercise ; cbm:reportedBy ?who }""")
    exercises = len(list(broken.query(
        "SELECT ?e WHERE { ?e a <https://w3id.org/cbmkg/ontology#MilitaryExercise> }")))
    from pyoxigraph import RdfFormat, Store

    flat = Store()  # the way `cbmkg validate` hands the store to pyshacl-turbo
    flat.bulk_load(broken.serialize(format="nt", encoding="utf-8"), RdfFormat.N_TRIPLES)
    turbo = validate(flat, SHAPES, engine="turbo").results
    turbo_on_graph = validate(broken, SHAPES, engine="turbo").results
    reference = validate(broken, SHAPES, engine="pyshacl").results
    assert exercises > 0 and len(turbo) == exercises
    assert turbo == reference == turbo_on_graph
