"""Compliance and consistency rules (shapes/compliance-*.ttl, shapes/consistency.ttl) and the
findings drawn from them (cbmkg/findings.py).

The findings are the SHACL results of the rule shapes: for every rule shape, the focus nodes
``findings.compute`` gives are the ones pySHACL (the reference) and pyshacl-turbo (the
build's engine) give, on a hand-made world with a case for each shape and cases of the wrong
class (tests/data/findings-world.ttl), and on the bundled report. Each case then gives the
strength, ground, edition and kind of evidence it should, with a severity that follows the
strength, and messages a person can read in English and Chinese.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from cbmkg.catalogue import Catalogue
from cbmkg.config import ROOT
from cbmkg.findings import FINDINGS_GRAPH, compute, load_rules, rule_paths
from cbmkg.namespaces import CBM, SH
from cbmkg.ontology import merged
from cbmkg.store import EmbeddedStore
from cbmkg.validation import load_shapes, union_graph, union_store, validate
from loaders.build import build

SHAPES = ROOT / "shapes"
ZH = ROOT / "corpus" / "A_75_95-ZH.txt"
EN = ROOT / "tests" / "data" / "reports" / "A_76_150-EN.txt"
WORLD = ROOT / "tests" / "data" / "findings-world.ttl"
EX = "http://example.org/"
SHP = "https://w3id.org/cbmkg/shapes#"
RULE_SHAPES = sorted(str(rule.shape) for rule in load_rules(SHAPES)[1])


def world_store(extra: str = "") -> EmbeddedStore:
    """The ontology and the hand-made world, optionally changed by a SPARQL update."""
    store = EmbeddedStore.memory()
    with store.begin(replace_all=True) as staging:
        staging.put_graph("https://w3id.org/cbmkg/graph/ontology", merged().serialize(format="nt", encoding="utf-8"),
                          RdfFormat.N_TRIPLES)
        staging.put_graph("https://w3id.org/cbmkg/graph/world", WORLD.read_bytes(), RdfFormat.TURTLE)
    if extra:
        store.update(extra)
    return store


def pairs(graph: Graph) -> set[tuple[str, str]]:
    """(shape, focus node) of every finding."""
    return {(str(graph.value(f, SH.sourceShape)), str(graph.value(f, SH.focusNode)))
            for f in graph.subjects(SH.focusNode, None)}


def engine_pairs(store: EmbeddedStore, engine: str) -> set[tuple[str, str]]:
    """(shape, focus node) of every result a SHACL engine gives for the rule shapes."""
    shapes = load_shapes(SHAPES, rule_paths(SHAPES))
    data = union_store(store.export_bytes()) if engine == "turbo" else union_graph(store.export_bytes())
    return {(r.shape, r.focus) for r in validate(data, shapes, engine=engine).results}


@pytest.fixture(scope="module")
def world() -> EmbeddedStore:
    return world_store()


@pytest.fixture(scope="module")
def found(world: EmbeddedStore) -> Graph:
    return compute(world, SHAPES)


@pytest.fixture(scope="module")
def reference(world: EmbeddedStore) -> dict[str, set[tuple[str, str]]]:
    return {engine: engine_pairs(world, engine) for engine in ("pyshacl", "turbo")}


@pytest.mark.parametrize("shape", RULE_SHAPES)
def test_each_rule_shape_gives_what_shacl_gives(shape: str, found: Graph,
                                                reference: dict[str, set[tuple[str, str]]]) -> None:
    ours = {p for p in pairs(found) if p[0] == shape}
    assert ours, f"the world has no case for {shape}"
    assert ours == {p for p in reference["pyshacl"] if p[0] == shape}, "pySHACL, the reference"
    assert ours == {p for p in reference["turbo"] if p[0] == shape}, "pyshacl-turbo, the build's engine"


def test_targets_decide_the_focus_nodes(world: EmbeddedStore, found: Graph) -> None:
    """The rules' queries alone would take a meeting for a military activity and an untyped
    node for a quantity; the shapes' targets keep them out, as in SHACL."""
    shapes, rules = load_rules(SHAPES)
    rule = next(r for r in rules if r.shape == URIRef(SHP + "VdNotificationEstablishedShape"))
    assert EX + "meeting" in {row["this"].value for row in world.select(rule.body)}
    focus = {f for _, f in pairs(found)}
    assert EX + "meeting" not in focus and EX + "untyped" not in focus
    assert EX + "meeting" not in {f for _, f in engine_pairs(world, "pyshacl")}


# focus → (shape, strength, ground, edition, why that edition, kind of evidence)
CASES = {
    "invoked-up-to": ("VdNotificationUndecidedShape", "Undecided", "UpperBoundOnly", "vd1994", "EditionInvoked",
                      "OtherPartyAllegation"),
    "exact-in-effect": ("VdNotificationEstablishedShape", "Established", "FigureBeyondLimit", "vd2011",
                        "EditionInEffect", "OtherPartyAllegation"),
    "about": ("VdNotificationUndecidedShape", "Undecided", "ApproximateFigure", "vd2011", "EditionInEffect",
              "OtherPartyAllegation"),
    "below": ("VdNotificationRuledOutShape", "RuledOut", "FigureWithinLimit", "vd2011", "EditionInEffect",
              "OtherPartyAllegation"),
    "at-least-below": ("VdNotificationUndecidedShape", "Undecided", "LowerBoundBelowLimit", "vd2011",
                       "EditionInEffect", "OtherPartyAllegation"),
    "cited": ("VdNotificationUndecidedShape", "Undecided", "UnverifiedLimit", "vd1994", "EditionCited",
              "OtherPartyAllegation"),
    "undated": ("VdNotificationUndecidedShape", "Undecided", "UndatedEvent", "vd2011", "LatestEdition",
                "OtherPartyAllegation"),
    "imprecise": ("VdNotificationUndecidedShape", "Undecided", "ImpreciseDate", "vd1999", "EditionInEffect",
                  "OtherPartyAllegation"),
    "self-reported": ("VdNotificationEstablishedShape", "Established", "FigureBeyondLimit", "vd2011",
                      "EditionInEffect", "SelfReport"),
    "verified": ("VdNotificationEstablishedShape", "Established", "FigureBeyondLimit", "vd2011", "EditionInEffect",
                 "ThirdPartyVerification"),
    "not-bound": ("VdNotificationRuledOutShape", "RuledOut", "PartyNotBound", "vd2011", "EditionInEffect",
                  "OtherPartyAllegation"),
    "observable": ("VdObservationEstablishedShape", "Established", "FigureBeyondLimit", "vd2011", "EditionInEffect",
                   "SelfReport"),
    "maybe-observable": ("VdObservationUndecidedShape", "Undecided", "UpperBoundOnly", "vd2011", "EditionInEffect",
                         "SelfReport"),
    "tanks": ("CfeCeilingEstablishedShape", "Established", "FigureBeyondLimit", None, None, "OtherPartyAllegation"),
    "acv": ("CfeCeilingUndecidedShape", "Undecided", "UnverifiedLimit", None, None, "OtherPartyAllegation"),
    "tanks-up-to": ("CfeCeilingUndecidedShape", "Undecided", "UpperBoundOnly", None, None, "OtherPartyAllegation"),
    "late": ("ReportingDeadlineEstablishedShape", "Established", "DatePastDue", None, None, "SelfReport"),
    "late-month": ("ReportingDeadlineEstablishedShape", "Established", "DatePastDue", None, None, "SelfReport"),
    "due-month": ("ReportingDeadlineUndecidedShape", "Undecided", "ImpreciseDate", None, None, "SelfReport"),
    "stated-ceiling": ("StatedCeilingShape", "Established", "FiguresDisagree", None, None, "OtherPartyAllegation"),
    "total": ("TotalOfPartsShape", "Established", "FiguresDisagree", None, None, "SelfReport"),
    "future-workshop": ("EventAfterReplyShape", "Established", "FiguresDisagree", None, None, "SelfReport"),
}
#: facts that must give no finding at all: the wrong class, within the rules, or inexact
NOTHING = ["meeting", "untyped", "on-time", "observed", "armenian-tanks", "rough-total", "invoked-up-to-troops"]


def _local(node: object) -> str | None:
    return None if node is None else re.split(r"[#/]", str(node))[-1]


def test_each_case_gives_its_finding(found: Graph) -> None:
    got = {}
    for f in found.subjects(SH.focusNode, None):
        focus = str(found.value(f, SH.focusNode))
        assert focus.startswith(EX), focus
        assert focus[len(EX):] not in got, f"one finding per case: {focus}"
        got[focus[len(EX):]] = tuple(_local(found.value(f, p)) for p in (
            SH.sourceShape, CBM.strength, CBM.strengthGround, CBM.appliedEdition, CBM.editionGround,
            CBM.evidenceKind))
    assert got == CASES
    assert not set(NOTHING) & set(got)


def test_severity_follows_strength(found: Graph) -> None:
    by_strength: dict[str, set[str]] = {}
    for f in found.subjects(SH.focusNode, None):
        by_strength.setdefault(_local(found.value(f, CBM.strength)) or "", set()).add(
            _local(found.value(f, SH.resultSeverity)) or "")
        assert found.value(f, SH.resultSeverity) == found.value(f, CBM.severity)
    assert by_strength == {"Established": {"Violation", "Warning"}, "Undecided": {"Warning", "Info"},
                           "RuledOut": {"Info"}}


def _messages(found: Graph, focus: str) -> dict[str, str]:
    f = next(found.subjects(SH.focusNode, URIRef(EX + focus)))
    return {m.language or "": str(m) for m in found.objects(f, CBM.message) if isinstance(m, Literal)}


def test_messages_say_who_says_so_and_why_in_both_languages(found: Graph) -> None:
    for f in found.subjects(SH.focusNode, None):
        messages = [m for m in found.objects(f, CBM.message) if isinstance(m, Literal)]
        assert {m.language for m in messages} == {"en", "zh"}
        assert not any("http" in m or "{?" in m for m in messages), messages
    up_to = _messages(found, "invoked-up-to")
    assert up_to["en"].startswith("Armenia alleges that Azerbaijan did not notify a military activity of up to "
                                  "10,000 troops (11 March 2019; notification threshold of the Vienna Document "
                                  "1994: 9,000 troops).")
    assert _messages(found, "undated")["en"].startswith(
        "Armenia alleges that Azerbaijan did not notify a military activity of 12,000 troops (notification threshold")
    assert 'Strength: possible but undecided — "Up to" or "less than" gives only a maximum' in up_to["en"]
    assert "Edition applied: Vienna Document 1994 (the edition the reporter invokes for the event)." in up_to["en"]
    assert up_to["zh"].startswith("亚美尼亚指称，阿塞拜疆未通知一次兵员多达 10,000 名的军事活动")
    assert "所适用版本：1994年维也纳文件（报告方就该事件援引的版本）" in up_to["zh"]
    assert _messages(found, "self-reported")["en"].startswith("By its own report, Russian Federation did not notify")
    assert _messages(found, "verified")["en"].startswith("According to OSCE, Azerbaijan did not notify")
    assert _messages(found, "late")["en"].startswith(
        "By its own report, Georgia's report under the Arms Trade Treaty is dated 15 June 2020; the yearly due "
        "day is 31 May. Strength: established — the date, given to the day or to a month after the due month, "
        "lies after the yearly due day.")
    assert "Limit 9,000: Not checked in any source" in _messages(found, "cited")["en"]


def test_the_reporters_stated_source_is_kept(found: Graph) -> None:
    tanks = next(found.subjects(SH.focusNode, URIRef(EX + "tanks")))
    source = found.value(tanks, CBM.statedSource)
    assert source is not None
    assert found.value(source, CBM.sourceActor) == URIRef("https://w3id.org/cbmkg/id/actor/AZE")
    assert str(found.value(source, RDFS.label)) == "根据阿塞拜疆提供的官方资料"
    assert found.value(source, CBM.evidence) == URIRef(EX + "span")
    messages = _messages(found, "tanks")
    assert messages["en"].startswith("Armenia alleges that Azerbaijan holds 525 battle tanks, above its maximum level "
                                     "of 220.")
    assert messages["en"].endswith("Stated source: Azerbaijan, “根据阿塞拜疆提供的官方资料”.")
    assert messages["zh"].endswith("所述来源：阿塞拜疆，“根据阿塞拜疆提供的官方资料”。")


def test_the_total_and_its_parts_name_the_party_the_instruments_and_the_parts(found: Graph) -> None:
    total = _messages(found, "total")
    assert total["en"].startswith("Ukraine states a total of 57 (verification activity; instruments: CFE Treaty, "
                                  "Vienna Document), but the parts it lists add up to 53: 23 (CFE Treaty) + "
                                  "9 (Vienna Document) + 10 + 11.")
    assert total["zh"].startswith("乌克兰所述总数为 57")


def test_thresholds_come_from_the_register() -> None:
    """Raise the 2011 edition's threshold in the register: the same report of 12,000 troops
    no longer reaches it, and the finding says so."""
    raised = world_store("""PREFIX odrl: <http://www.w3.org/ns/odrl/2/>
        DELETE { GRAPH ?g { ?c odrl:rightOperand 9000 } } INSERT { GRAPH ?g { ?c odrl:rightOperand 13000 } }
        WHERE { GRAPH ?g { ?c odrl:rightOperand 9000 }
                FILTER(?c = <https://w3id.org/cbmkg/id/constraint/vd2011-notify-troops>) }""")
    graph = compute(raised, SHAPES)
    assert (SHP + "VdNotificationRuledOutShape", EX + "exact-in-effect") in pairs(graph)
    message = _messages(graph, "exact-in-effect")["en"]
    assert "notification threshold of the Vienna Document 2011: 13,000 troops" in message


def test_an_invoked_edition_wins_over_the_one_in_effect() -> None:
    """The same exercise judged under the edition its reporter invokes, else the one its
    paragraph cites, else the one in effect on its date."""
    update = """PREFIX cbm: <https://w3id.org/cbmkg/ontology#>
        DELETE { GRAPH ?g { <http://example.org/cited> cbm:paragraph ?p } }
        INSERT { GRAPH ?g { <http://example.org/cited> cbm:paragraph <http://example.org/p-arm-1> } }
        WHERE { GRAPH ?g { <http://example.org/cited> cbm:paragraph ?p } }"""
    graph = compute(world_store(update), SHAPES)
    cited = next(graph.subjects(SH.focusNode, URIRef(EX + "cited")))
    assert _local(graph.value(cited, CBM.appliedEdition)) == "vd2011"
    assert _local(graph.value(cited, CBM.strength)) == "Established"


def test_findings_are_typed_as_shacl_results_in_their_graph() -> None:
    store = EmbeddedStore.memory()
    build(store, ROOT / "ontology", [EN], shapes_dir=SHAPES)
    assert FINDINGS_GRAPH in store.graphs()
    rows = list(store.select(f"""PREFIX sh: <http://www.w3.org/ns/shacl#>
        PREFIX cbm: <https://w3id.org/cbmkg/ontology#>
        SELECT ?f WHERE {{ GRAPH <{FINDINGS_GRAPH}> {{ ?f a sh:ValidationResult , cbm:ComplianceFinding ;
            sh:focusNode ?x ; sh:sourceShape ?s ; sh:resultSeverity ?v ; sh:sourceConstraintComponent ?c ;
            cbm:strength ?strength ; cbm:evidenceKind ?kind }} }}""", union_default_graph=False))
    total = list(store.select(f"SELECT ?f WHERE {{ GRAPH <{FINDINGS_GRAPH}> {{ ?f a <{CBM.ComplianceFinding}> }} }}",
                              union_default_graph=False))
    assert rows and len(rows) == len(total)


#### The bundled report ######################################################


def findings(store: EmbeddedStore, **params: str) -> list[dict[str, str]]:
    result = store.select(Catalogue(ROOT / "queries").get("compliance-findings").bind(params))
    names = [v.value for v in result.variables]
    return [{n: row[n].value for n in names} for row in result]


@pytest.fixture(scope="module")
def bundled() -> EmbeddedStore:
    store = EmbeddedStore.memory()
    build(store, ROOT / "ontology", [ZH], shapes_dir=SHAPES)
    return store


@pytest.mark.slow
def test_the_bundled_report_gives_what_shacl_gives(bundled: EmbeddedStore) -> None:
    ours = pairs(compute(bundled, SHAPES))
    assert ours and len(ours) == len(findings(bundled))
    assert ours == engine_pairs(bundled, "pyshacl") == engine_pairs(bundled, "turbo")


def test_on_the_bundled_report_no_violation_rests_on_an_upper_bound(bundled: EmbeddedStore) -> None:
    rows = findings(bundled)
    assert rows
    for row in rows:
        if row["severity"] == "Violation":
            assert row["qualifier"] in ("", "Exactly", "AtLeast", "MoreThan"), row
            assert row["strength"] == "Established", row
    up_to = [r for r in rows if r["qualifier"] == "UpTo"]
    assert up_to and all(r["severity"] != "Violation" and r["strength"] == "Undecided" for r in up_to)


def test_the_armenian_exercises_are_judged_under_the_edition_armenia_cites(bundled: EmbeddedStore) -> None:
    rows = [r for r in findings(bundled, party_code="AZE", reported_by="ARM") if r["rule"].startswith("VdNotification")]
    assert len(rows) == 3, rows  # three exercises of "up to 10,000" troops
    for row in rows:
        assert row["edition"].endswith("/instrument/vd1994"), row
        assert row["edition_ground"] in ("EditionInvoked", "EditionCited"), row
        assert "Vienna Document 1994" in row["message"] and row["severity"] == "Warning"


def test_every_bundled_finding_names_its_evidence_and_source(bundled: EmbeddedStore) -> None:
    rows = findings(bundled)
    for row in rows:
        assert row["evidence_kind"] in ("SelfReport", "OtherPartyAllegation", "ThirdPartyVerification"), row
        assert row["paragraph"] and row["reported_by"], row
    allegations = [r for r in rows if r["party_code"] == "AZE"]
    assert allegations and all(r["evidence_kind"] == "OtherPartyAllegation" and
                               r["message"].startswith("Armenia alleges that Azerbaijan") for r in allegations)
    ukraine = next(r for r in rows if r["rule"] == "TotalOfPartsShape")
    assert ukraine["party_code"] == "UKR" and ukraine["evidence_kind"] == "SelfReport"
    assert re.search(r"Ukraine states a total of 57 \(.*Treaty on Conventional Armed Forces in Europe.*\), but the "
                     r"parts it lists add up to 53: 23 \(Treaty on Conventional Armed Forces in Europe\) \+ 9 \(.*\) "
                     r"\+ 10 \+ 11 \(Treaty on Open Skies\)\.", ukraine["message"]), ukraine["message"]


def test_a_corrected_register_figure_changes_the_findings(tmp_path: Path) -> None:
    ontology = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    obligations = ontology / "registers" / "obligations.ttl"
    text = obligations.read_text(encoding="utf-8")
    before = "c:aze-tanks a odrl:Constraint ; cbm:appliesTo a:AZE ; odrl:leftOperand cbm:holdingCount ; " \
             "odrl:operator odrl:lteq ; odrl:rightOperand 220 ;"
    assert before in text
    obligations.write_text(text.replace(before, before.replace("220", "600")), encoding="utf-8")
    store = EmbeddedStore.memory()
    build(store, ontology, [ZH], shapes_dir=SHAPES)
    observed = {f["observed"] for f in findings(store, party_code="AZE")}
    assert "525" not in observed and "428" in observed
    # and the ceiling of 220 Armenia states now disagrees with the register's 600
    assert any(f["rule"] == "StatedCeilingShape" and f["limit"] == "600" for f in findings(store))
