"""`cbmkg build` puts the ontology and registers in the store, each in its own named graph,
and SPARQL over it answers the questions a legal researcher asks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cbmkg.catalogue import Catalogue
from cbmkg.config import ROOT
from cbmkg.store import EmbeddedStore
from loaders.build import build

PREFIXES = """PREFIX cbm: <https://w3id.org/cbmkg/ontology#>
PREFIX odrl: <http://www.w3.org/ns/odrl/2/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX i: <https://w3id.org/cbmkg/id/instrument/>
PREFIX a: <https://w3id.org/cbmkg/id/actor/>
"""
G = "https://w3id.org/cbmkg/graph/ontology/"


@pytest.fixture(scope="module")
def store() -> Iterator[EmbeddedStore]:
    s = EmbeddedStore.memory()
    build(s, ROOT / "ontology", [])
    yield s


def rows(store: EmbeddedStore, query: str) -> list[dict[str, str]]:
    result = store.select(PREFIXES + query)
    names = [v.value for v in result.variables]
    return [{n: (row[n].value if row[n] is not None else "") for n in names}
            for row in result]


def named(store: EmbeddedStore, name: str, **params: str) -> list[dict[str, str]]:
    query = Catalogue(ROOT / "queries").get(name)
    result = store.select(query.bind(params))
    names = [v.value for v in result.variables]
    return [{n: (row[n].value if row[n] is not None else "") for n in names}
            for row in result]


def test_each_file_in_its_own_named_graph(store: EmbeddedStore) -> None:
    graphs = store.graphs()
    for name in ("cbm-core", "cbm-vocab", "cbm-odrl-profile", "registers/instruments",
                 "registers/obligations", "registers/parties", "registers/participation",
                 "registers/organizations"):
        assert G + name in graphs


def test_vienna_document_2011_numeric_thresholds(store: EmbeddedStore) -> None:
    found = rows(store, """
        SELECT ?obligation ?operand ?value WHERE {
          ?ob cbm:obligationOf i:vd2011 ; rdfs:label ?obligation .
          FILTER(LANG(?obligation) = "en")
          ?ob (odrl:constraint|odrl:target/odrl:refinement/odrl:or?) ?c .
          ?c odrl:leftOperand ?operand ; odrl:rightOperand ?value .
          FILTER(isNumeric(?value))
        }""")
    figures = {(r["operand"].split("#")[1], int(r["value"])) for r in found}
    assert ("troopCount", 9000) in figures       # notification
    assert ("troopCount", 13000) in figures      # observation
    assert ("battleTankCount", 250) in figures
    assert ("evaluationVisitsPerCalendarYear", 15) in figures
    assert ("unitsPerEvaluationVisit", 60) in figures
    deadline = rows(store, """
        SELECT ?days WHERE { ?ob cbm:obligationOf i:vd2011 ; odrl:action cbm:notify ;
                                 cbm:deadline/cbm:daysBefore ?days }""")
    assert [int(r["days"]) for r in deadline] == [42]


def test_politically_rather_than_legally_binding_instruments(store: EmbeddedStore) -> None:
    found = {r["i"].rsplit("/", 1)[1] for r in rows(store, """
        SELECT ?i WHERE { ?i cbm:bindingForce cbm:PoliticallyBinding .
                          ?i a/rdfs:subClassOf* cbm:Instrument }""")}
    assert {"vd2011", "vd1994", "hcoc", "vienna-document"} <= found
    assert not {"cfe", "att", "s-res-1540", "open-skies"} & found
    legally = {r["i"].rsplit("/", 1)[1] for r in rows(store, """
        SELECT ?i WHERE { ?i cbm:bindingForce cbm:LegallyBinding ; a/rdfs:subClassOf* cbm:Instrument }""")}
    assert {"cfe", "att", "s-res-1540", "cifta"} <= legally


def test_names_of_azerbaijan_and_the_osce(store: EmbeddedStore) -> None:
    for actor, en, zh in (("AZE", "Azerbaijan", "阿塞拜疆"),
                          ("OSCE", "Organization for Security and Co-operation in Europe",
                           "欧洲安全与合作组织")):
        found = rows(store, f"""SELECT ?en ?zh WHERE {{
            a:{actor} rdfs:label ?en , ?zh . FILTER(LANG(?en) = "en" && LANG(?zh) = "zh") }}""")
        assert found == [{"en": en, "zh": zh}]
    abbreviations = {r["x"] for r in rows(store, "SELECT ?x WHERE { a:OSCE cbm:abbreviation ?x }")}
    assert {"OSCE", "欧安组织"} <= abbreviations


def test_named_query_obligations_columns_and_party_filter(store: EmbeddedStore) -> None:
    found = named(store, "obligations", party_code="AZE")
    assert list(found[0]) == ["party_code", "instrument", "provision", "obligation", "action",
                              "binding_force", "constraint", "deadline", "source"]
    assert {r["party_code"] for r in found} == {"AZE"}
    instruments = {r["instrument"].rsplit("/", 1)[1] for r in found}
    assert {"cfe", "vd2011", "unroca"} <= instruments
    assert "att" not in instruments, "the register records no ATT participation for AZE"
    ceilings = {r["constraint"] for r in found if r["provision"] == "Tashkent Agreement Art. 2"}
    assert "Azerbaijan: at most 220 battle tanks" in ceilings
    assert not any("Armenia" in c for c in ceilings), "another party's figures are left out"
    tank = next(r for r in found if r["constraint"] == "Azerbaijan: at most 220 battle tanks")
    assert tank["source"].startswith("secondary source only: ")
    # the Article IV ceilings are the group's, listed once per group and only for its members
    groups = {r["constraint"] for r in found if r["provision"] == "CFE Art. IV(1)"}
    assert groups and all(c.startswith("group ceiling of the Warsaw Treaty group (all its "
                                       "members together, not any one State)") for c in groups)
    france = named(store, "obligations", party_code="FRA")
    assert not any("Warsaw" in (r["constraint"] or "") for r in france)
    assert any("North Atlantic" in (r["constraint"] or "") for r in france)


def test_named_query_obligations_by_instrument(store: EmbeddedStore) -> None:
    found = named(store, "obligations", instrument="att")
    assert {r["instrument"] for r in found} == {"https://w3id.org/cbmkg/id/instrument/att"}
    assert {r["deadline"] for r in found} == {
        "within one year after entry into force for the State Party",
        "by 31 May, for the preceding calendar year"}


def test_named_query_parties_bound(store: EmbeddedStore) -> None:
    found = named(store, "parties-bound", instrument="cfe")
    assert list(found[0]) == ["party_code", "party_label", "status", "since", "source"]
    by_party = {r["party_code"]: (r["status"], r["since"]) for r in found}
    assert len(found) == len(by_party) == 30, "one record per party: its current standing"
    assert by_party["RUS"] == ("withdrawn", "2023-11-07")
    assert by_party["ITA"] == ("suspended", "2023-12-07")
    assert by_party["ARM"] == ("State Party", "1992-11-09")
    assert all(r["source"] for r in found)


def test_every_named_query_parses_and_runs(store: EmbeddedStore) -> None:
    for query in Catalogue(ROOT / "queries").all():
        assert query.title and query.description, query.name
        store.query(query.text)  # raises on a syntax error
