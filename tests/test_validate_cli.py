"""`cbmkg validate`: on the store and on files, every output format, the exit code, the
findings it writes, and bad shapes named."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph

from cbmkg.cli import cli
from cbmkg.config import ROOT

EN = ROOT / "tests" / "data" / "reports" / "A_76_150-EN.txt"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {"CBMKG_STORE": str(tmp_path_factory.mktemp("validate") / "store")}
    result = CliRunner().invoke(cli, ["build", "--no-validate", str(EN)], env=env)
    assert result.exit_code == 0, result.output
    return env


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(cli, ["validate", *args], env=env)


def test_store_with_a_compliance_violation_exits_1_and_explains(env: dict[str, str]) -> None:
    result = run(env)
    assert result.exit_code == 1
    assert "shp:Vd2011NotificationShape" in result.stdout
    assert "未经通知" in result.stdout
    assert result.stdout.strip().endswith("1 violations, 0 warnings, 0 notes")
    assert "1 compliance findings written" in result.stderr
    findings = CliRunner().invoke(cli, ["query", "compliance-findings", "--format", "csv"], env=env)
    rows = list(csv.DictReader(io.StringIO(findings.stdout)))
    assert [(r["party_code"], r["reported_by"]) for r in rows] == [("RUS", "GEO")]


def test_integrity_shapes_alone_conform(env: dict[str, str]) -> None:
    result = run(env, "--shapes", str(ROOT / "shapes" / "integrity.ttl"), "--no-findings")
    assert result.exit_code == 0 and "conforms: 0 violations" in result.stdout


@pytest.mark.parametrize("fmt", ["turtle", "jsonld", "csv"])
def test_report_formats(env: dict[str, str], fmt: str) -> None:
    result = run(env, "--format", fmt, "--no-findings")
    assert result.exit_code == 1
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert rows[0]["shape"].endswith("#Vd2011NotificationShape") and rows[0]["message_zh"]
        return
    g = Graph().parse(data=result.stdout, format="turtle" if fmt == "turtle" else "json-ld")
    messages = {str(m) for m in g.objects(None, None) if "notification threshold" in str(m)}
    assert messages
    if fmt == "jsonld":
        json.loads(result.stdout)


def test_files_and_inference(env: dict[str, str]) -> None:
    result = run(env, str(EN), "--inference", "rdfs", "--shapes", str(ROOT / "shapes" / "integrity.ttl"))
    assert result.exit_code == 0, result.output


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
