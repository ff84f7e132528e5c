"""The register of parties: the named query instrument-status lists every party of an
instrument with the dates its depositary records, the group, the verification status and the
sources; unverified records are flagged; spot checks of dates read in depositary records."""

from __future__ import annotations

import pytest

from cbmkg.catalogue import Catalogue
from cbmkg.config import ROOT
from cbmkg.store import EmbeddedStore
from loaders.build import build

COLUMNS = ["instrument", "record_of", "party", "party_label", "party_code", "status", "signature",
           "consent_kind", "consent", "entry_into_force", "suspension", "withdrawal", "group",
           "verification", "unverified", "source_url", "source_title", "note"]


@pytest.fixture(scope="module")
def store() -> EmbeddedStore:
    store = EmbeddedStore.memory()
    build(store, ROOT / "ontology", [])
    return store


def status(store: EmbeddedStore, instrument: str) -> dict[str, dict[str, str]]:
    """One row per party, "" for an empty column."""
    result = store.select(Catalogue(ROOT / "queries").get("instrument-status")
                          .bind({"instrument": instrument}))
    names = [v.value for v in result.variables]
    assert names == COLUMNS
    rows = [{n: (row[n].value if row[n] is not None else "") for n in names} for row in result]
    by_party = {r["party_code"]: r for r in rows}
    assert len(by_party) == len(rows), f"{instrument}: one row per party"
    return by_party


def assert_sourced_and_flagged(rows: dict[str, dict[str, str]]) -> None:
    for code, r in rows.items():
        assert r["party"] and r["party_label"], code
        assert r["verification"] in {"verified", "secondary source only", "not verified"}, code
        assert r["source_title"], f"{code} has no source"
        assert r["unverified"] == ("false" if r["verification"] == "verified" else "true"), code
        if r["verification"] == "verified":
            assert r["source_url"].startswith("http"), f"{code}: a verified record cites a URL"
            assert r["signature"] or r["consent"], f"{code}: a verified record has its dates"
        if r["verification"] == "not verified":
            assert r["note"], f"{code}: an unverified record says why"


def test_cfe_parties_dates_groups_and_sources(store: EmbeddedStore) -> None:
    cfe = status(store, "cfe")
    assert len(cfe) == 30
    assert_sourced_and_flagged(cfe)
    assert all(r["entry_into_force"] for r in cfe.values())
    groups = {r["group"] for r in cfe.values()}
    assert len(groups) == 2 and all(g.startswith("CFE group of States Parties") for g in groups)
    warsaw = {c for c, r in cfe.items() if "Warsaw" in (r["group"] or "")}
    assert warsaw == {"ARM", "AZE", "BLR", "BGR", "CZE", "GEO", "HUN", "KAZ", "MDA", "POL",
                      "ROU", "RUS", "SVK", "UKR"}
    # read in the depositary's record (the Netherlands)
    arm = cfe["ARM"]
    assert (arm["signature"], arm["consent_kind"], arm["consent"], arm["entry_into_force"]) == \
        ("1990-11-19", "ratification", "1992-10-12", "1992-11-09")
    assert arm["verification"] == "verified" and "verdragen.nl" in arm["source_url"]
    assert (cfe["CZE"]["consent_kind"], cfe["CZE"]["consent"]) == ("succession", "1996-12-11")
    rus = cfe["RUS"]
    assert (rus["status"], rus["suspension"], rus["withdrawal"]) == \
        ("withdrawn", "2007-12-12", "2023-11-07")
    assert rus["verification"] == "secondary source only", "the 2007 suspension is secondary"
    assert (cfe["ITA"]["status"], cfe["ITA"]["suspension"]) == ("suspended", "2023-12-07")
    assert cfe["GBR"]["unverified"] == "true" and cfe["GBR"]["consent"] == ""


def test_open_skies_all_34_parties_and_the_two_withdrawals(store: EmbeddedStore) -> None:
    os_ = status(store, "open-skies")
    parties = {c for c, r in os_.items() if r["status"] in {"State Party", "withdrawn"}}
    assert len(parties) == 34
    assert os_["KGZ"]["status"] == "signatory"
    assert_sourced_and_flagged(os_)
    assert (os_["USA"]["status"], os_["USA"]["withdrawal"]) == ("withdrawn", "2020-11-22")
    assert (os_["RUS"]["status"], os_["RUS"]["withdrawal"]) == ("withdrawn", "2021-12-18")
    assert (os_["BIH"]["consent_kind"], os_["BIH"]["consent"], os_["BIH"]["entry_into_force"]) == \
        ("accession", "2003-08-21", "2003-10-20")
    # the Netherlands treaty database is not the depositary: secondary, and it says so
    assert os_["HUN"]["verification"] == "secondary source only"
    assert os_["SWE"]["verification"] == "not verified"


def test_arms_trade_treaty_parties(store: EmbeddedStore) -> None:
    att = status(store, "att")
    parties = {c for c, r in att.items() if r["status"] == "State Party"}
    assert len(parties) >= 100
    assert_sourced_and_flagged(att)
    alb = att["ALB"]
    assert (alb["signature"], alb["consent_kind"], alb["consent"], alb["entry_into_force"]) == \
        ("2013-06-03", "ratification", "2014-03-19", "2014-12-24")
    assert "treaties.un.org" in alb["source_url"] and alb["verification"] == "verified"
    assert (att["AFG"]["consent_kind"], att["AFG"]["entry_into_force"]) == \
        ("accession", "2020-10-27")
    assert att["AGO"]["status"] == "signatory" and att["AGO"]["consent"] == ""
    unverified = [r for r in att.values() if r["unverified"] == "true"]
    assert unverified and all(r["note"] for r in unverified)


def test_vienna_document_participating_states(store: EmbeddedStore) -> None:
    vd = status(store, "vienna-document")
    assert len(vd) == 57
    assert {r["record_of"].rsplit("/", 1)[1] for r in vd.values()} == {"vd2011"}
    assert {r["consent_kind"] for r in vd.values()} == {"admission as participating State"}
    assert_sourced_and_flagged(vd)
    assert (vd["ARM"]["consent"], vd["ARM"]["verification"]) == ("1992-01-30", "verified")
    assert "osce.org" in vd["ARM"]["source_url"]
    assert vd["SRB"]["consent"] == "2000-11-10"
    assert vd["FRA"]["consent"] == "1973-06-25"
    assert vd["FRA"]["verification"] == "secondary source only"
    assert status(store, "vd2011").keys() == vd.keys()


def test_no_record_cites_a_project_file(store: EmbeddedStore) -> None:
    rows = list(store.select("""PREFIX dct: <http://purl.org/dc/terms/>
        SELECT ?s ?src WHERE { ?s dct:source ?src
          FILTER(CONTAINS(STR(?src), "domain-facts")) }"""))
    assert rows == []
    for path in (ROOT / "ontology").rglob("*"):
        if path.is_file() and path.suffix in {".ttl", ".csv"}:
            assert "domain-facts" not in path.read_text(encoding="utf-8"), path
