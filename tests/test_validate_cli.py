"""`cbmkg validate`: on the store and on files of every RDF format, two sections (data
integrity, compliance findings) with labels and attribution, the exit code (integrity only,
unless --fail-on findings), every output format, the findings it writes, and bad shapes
named; and the closed vocabulary: a misspelt cbm: term stops the build, named."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph

from cbmkg.cli import _add_contributed_commands, cli
from cbmkg.config import ROOT

EN = ROOT / "tests" / "data" / "reports" / "A_76_150-EN.txt"
ZH = ROOT / "corpus" / "A_75_95-ZH.txt"
CBM = "https://w3id.org/cbmkg/ontology#"
# a reply as Turtle: the report loader's shape of things, small enough to read
REPLY = """@prefix cbm: <https://w3id.org/cbmkg/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.org/reply> a cbm:Reply ; cbm:respondent <https://w3id.org/cbmkg/id/actor/GEO> ;
    cbm:order 1 ; cbm:replyDate "2020-05-28"^^xsd:date ; cbm:originalLanguage "en"^^xsd:language .
"""
BAD_REPLY = REPLY.replace("cbm:respondent <https://w3id.org/cbmkg/id/actor/GEO> ;", "")


_add_contributed_commands()  # build and validate come from loaders (an entry point), as `cbmkg` adds them


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {"CBMKG_STORE": str(tmp_path_factory.mktemp("validate") / "store")}
    result = CliRunner().invoke(cli, ["build", "--no-validate", str(ZH)], env=env)
    assert result.exit_code == 0, result.output
    return env


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(cli, ["validate", *args], env=env)


def test_the_bundled_store_conforms_and_its_findings_are_readable(env: dict[str, str]) -> None:
    result = run(env)
    assert result.exit_code == 0, result.output  # findings about states are no fault of the data
    out = result.stdout
    integrity, findings = out.split("\nCompliance findings", 1)
    assert integrity.startswith("Data integrity\n")
    assert "the data conforms: 0 violations" in integrity
    assert "Armenia alleges that Azerbaijan holds 525 battle tanks" in findings
    assert "亚美尼亚指称，阿塞拜疆持有作战坦克 525" in findings
    assert "evidence: another party's allegation (Armenia)" in findings and "source: A/75/95 ¶3" in findings
    assert "Ukraine states a total of 57" in findings and "add up to 53: 23" in findings
    assert "https://" not in out and "#UpTo" not in out and "{?" not in out
    written = re.search(r"(\d+) compliance findings written", result.stderr)
    assert written and int(written.group(1)) == len(re.findall(r"^  (Violation|Warning|Info) ", findings, re.M))
    rows = list(csv.DictReader(io.StringIO(
        CliRunner().invoke(cli, ["query", "compliance-findings", "--format", "csv"], env=env).stdout)))
    assert {(r["party_code"], r["reported_by"], r["evidence_kind"]) for r in rows if r["party_code"] == "AZE"} == \
        {("AZE", "ARM", "OtherPartyAllegation")}


def test_fail_on_findings(env: dict[str, str]) -> None:
    result = run(env, "--fail-on", "findings")
    violations = re.search(r"(\d+) findings: (\d+) violations", result.stdout)
    assert violations
    assert result.exit_code == (1 if int(violations.group(2)) else 0)
    assert run(env, "--no-findings").exit_code == 0
    assert "Compliance findings" not in run(env, "--no-findings").stdout


def test_an_integrity_violation_exits_1(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(BAD_REPLY, encoding="utf-8")
    result = run(env, str(bad))
    assert result.exit_code == 1
    assert "the data does not conform: 1 violations" in result.stdout
    # labels, not IRIs: the shape's name and the message; the focus is the reply itself
    assert "Violation reply — https://example.org/reply, cbm:respondent" in result.stdout.replace("  ", " ")
    assert "A reply has exactly one respondent" in result.stdout and "答复须有且仅有一个答复方" in result.stdout


@pytest.mark.parametrize("suffix,fmt", [(".ttl", "turtle"), (".nt", "nt"), (".jsonld", "json-ld"),
                                        (".nq", "nquads"), (".trig", "trig"), (".rdf", "xml")])
def test_files_in_every_rdf_format(env: dict[str, str], tmp_path: Path, suffix: str, fmt: str) -> None:
    from rdflib import Dataset

    data = Dataset()
    graph = data.graph("https://example.org/graph") if fmt in ("nquads", "trig") else data.default_context
    graph.parse(data=BAD_REPLY, format="turtle")
    path = tmp_path / f"reply{suffix}"
    path.write_bytes((data if fmt in ("nquads", "trig") else graph).serialize(format=fmt, encoding="utf-8"))
    result = run(env, str(path))
    assert result.exit_code == 1, result.output
    assert "A reply has exactly one respondent" in result.stdout
    good = tmp_path / f"good{suffix}"
    data = Dataset()
    graph = data.graph("https://example.org/graph") if fmt in ("nquads", "trig") else data.default_context
    graph.parse(data=REPLY, format="turtle")
    good.write_bytes((data if fmt in ("nquads", "trig") else graph).serialize(format=fmt, encoding="utf-8"))
    assert run(env, str(good)).exit_code == 0


def test_a_report_file_and_inference(env: dict[str, str]) -> None:
    result = run(env, str(EN), "--inference", "rdfs", "--shapes", str(ROOT / "shapes" / "integrity.ttl"))
    assert result.exit_code == 0, result.output
    assert "Compliance findings" not in result.stdout  # no rule file among the shapes chosen
    with_rules = run(env, str(EN))
    assert with_rules.exit_code == 0 and "Georgia alleges that Russia did not notify" in with_rules.stdout
    assert "compliance findings written" not in with_rules.stderr  # files: nothing written to the store


@pytest.mark.parametrize("fmt", ["turtle", "jsonld", "csv"])
def test_report_formats(env: dict[str, str], fmt: str) -> None:
    result = run(env, "--format", fmt, "--no-findings" if fmt == "csv" else "--findings")
    assert result.exit_code == 0
    if fmt == "csv":
        assert result.stdout.startswith("section,severity,shape,focus")
        both = list(csv.DictReader(io.StringIO(run(env, "--format", "csv").stdout)))
        assert {r["section"] for r in both} == {"compliance"}
        assert all(r["message_en"] and r["message_zh"] and r["strength"] and r["evidence"] for r in both)
        return
    g = Graph().parse(data=result.stdout, format="turtle" if fmt == "turtle" else "json-ld")
    if fmt == "jsonld":
        json.loads(result.stdout)
    sh = "http://www.w3.org/ns/shacl#"
    results = set(g.subjects(predicate=None, object=None)) & set(g.subjects(
        predicate=__import__("rdflib").RDF.type, object=__import__("rdflib").URIRef(sh + "ValidationResult")))
    assert results, "the findings come as SHACL results"
    messages = {str(m) for m in g.objects(None, __import__("rdflib").URIRef(CBM + "message"))}
    assert any("Armenia alleges that Azerbaijan" in m for m in messages)


def test_bad_shapes_file_is_named(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("this is not turtle")
    result = run(env, "--shapes", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {bad}: not valid Turtle")


def test_a_violating_input_is_not_built(env: dict[str, str], tmp_path: Path) -> None:
    before = CliRunner().invoke(cli, ["export"], env=env).stdout
    bad = tmp_path / "bad.nq"
    bad.write_text('<https://w3id.org/cbmkg/id/report/X/p1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
                   '<https://w3id.org/cbmkg/ontology#Paragraph> <https://w3id.org/cbmkg/graph/test> .\n')
    result = CliRunner().invoke(cli, ["build", str(EN), str(bad)], env=env)
    assert result.exit_code == 1
    assert "does not conform to the shapes" in result.stderr
    assert "https://w3id.org/cbmkg/id/report/X/p1: A paragraph has one non-empty text" in result.stderr
    assert CliRunner().invoke(cli, ["export"], env=env).stdout == before


def test_a_misspelt_term_stops_the_build_named(env: dict[str, str], tmp_path: Path) -> None:
    """The closed vocabulary, at the gate: data that uses a cbm: term the ontology does not
    declare (here a class spelt cbm:MilitaryExcercise) is not built, and the message names it."""
    before = CliRunner().invoke(cli, ["export"], env=env).stdout
    bad = tmp_path / "misspelt.nq"
    bad.write_text('<https://w3id.org/cbmkg/id/event/x> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
                   f'<{CBM}MilitaryExcercise> <https://w3id.org/cbmkg/graph/test> .\n')
    result = CliRunner().invoke(cli, ["build", str(EN), str(bad)], env=env)
    assert result.exit_code == 1
    assert "does not conform to the shapes" in result.stderr
    assert "cbm:MilitaryExcercise is not a term of the ontology" in result.stderr
    assert CliRunner().invoke(cli, ["export"], env=env).stdout == before
    checked = run(env, str(bad))
    assert checked.exit_code == 1 and "cbm:MilitaryExcercise is not a term of the ontology" in checked.stdout


def test_the_loader_cannot_write_a_misspelt_term(env: dict[str, str], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The closed vocabulary in the code: a lexicon entry that names an undeclared event
    class makes the build fail, naming the term (and the nearest declared one)."""
    from loaders.report import lexicon

    patterns = lexicon.ZH.events  # the Chinese lexicon's event words, by the class they name
    monkeypatch.setitem(patterns, "MilitaryExcercise", patterns["MilitaryExercise"])
    monkeypatch.delitem(patterns, "MilitaryExercise")
    result = CliRunner().invoke(cli, ["build", str(ZH)], env={"CBMKG_STORE": str(tmp_path / "store")})
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cbm:MilitaryExcercise is not a term of the ontology "
                                    "(did you mean cbm:MilitaryExercise?)")
