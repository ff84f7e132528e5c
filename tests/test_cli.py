"""The `cbmkg` command on real stores: build, query (files and named queries), export,
and the one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import RdfFormat, parse

from cbmkg.cli import cli
from loaders.synthetic import write_nquads

ONTOLOGY = """@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:aze rdfs:label "Azerbaijan"@en, "阿塞拜疆"@zh ; ex:code "AZE" .
ex:arm rdfs:label "Armenia"@en, "亚美尼亚"@zh ; ex:code "ARM" .
"""

NAMED = """#+ title: Labels of a party
#+ description: The labels of the party with a code,
#+ description: in every language.
#+ param: code (string): ISO 3166-1 alpha-3 code, e.g. AZE
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?code ?label WHERE { ?p <http://example.org/code> ?code ; rdfs:label ?label }
ORDER BY ?label
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    ontology = tmp_path / "ontology"
    ontology.mkdir()
    (ontology / "parties.ttl").write_text(ONTOLOGY, encoding="utf-8")
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "party-labels.rq").write_text(NAMED, encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    return {"CBMKG_STORE": str(tmp_path / "store"), "CBMKG_ONTOLOGY_DIR": str(ontology),
            "CBMKG_QUERIES_DIR": str(queries), "CBMKG_CORPUS_DIR": str(corpus)}


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def built(env: dict[str, str]) -> dict[str, str]:
    code, out, _ = run(env, "build")
    assert code == 0, out
    assert "graph/ontology/parties" in out and "6" in out
    return env


def test_query_file_in_every_format(built: dict[str, str], tmp_path: Path) -> None:
    rq = tmp_path / "codes.rq"
    rq.write_text("SELECT ?code WHERE { ?p <http://example.org/code> ?code } ORDER BY ?code")
    code, out, _ = run(built, "query", str(rq))
    assert code == 0 and "AZE" in out and "2 rows" in out
    code, out, _ = run(built, "query", str(rq), "--format", "csv")
    assert out.splitlines() == ["code", "ARM", "AZE"]
    code, out, _ = run(built, "query", str(rq), "--format", "tsv")
    assert out.splitlines() == ["?code", '"ARM"', '"AZE"']
    code, out, _ = run(built, "query", str(rq), "--format", "json")
    bindings = json.loads(out)["results"]["bindings"]
    assert [b["code"]["value"] for b in bindings] == ["ARM", "AZE"]


def test_named_query_with_parameter(built: dict[str, str]) -> None:
    code, out, _ = run(built, "query", "party-labels", "--param", "code=AZE", "--format", "csv")
    assert code == 0
    assert out.splitlines() == ["code,label", "AZE,Azerbaijan", "AZE,阿塞拜疆"]
    code, out, _ = run(built, "query", "party-labels", "--format", "csv")
    assert len(out.splitlines()) == 5, "without the parameter, every party"
    code, _, err = run(built, "query", "party-labels", "--param", "party=AZE")
    assert code != 0 and "has no parameter party" in err


def test_queries_lists_titles_and_parameters(built: dict[str, str]) -> None:
    code, out, _ = run(built, "queries")
    assert code == 0 and "party-labels" in out and "code (string)" in out


def test_malformed_query_prints_parser_message(built: dict[str, str], tmp_path: Path) -> None:
    rq = tmp_path / "bad.rq"
    rq.write_text("SELECT ?x WHERE { ?x ?y }")
    code, out, err = run(built, "query", str(rq))
    assert code != 0
    assert err.startswith("Error: malformed SPARQL query: error at 1:")
    assert len(err.strip().splitlines()) == 1


def test_unknown_store_and_unreachable_endpoint_give_one_line(env: dict[str, str],
                                                               tmp_path: Path) -> None:
    rq = tmp_path / "q.rq"
    rq.write_text("ASK {}")
    code, _, err = run(env, "query", str(rq), "--store", str(tmp_path / "nowhere"))
    assert code == 1 and err.strip().splitlines() == [
        f"Error: no store at {tmp_path / 'nowhere'} (run `cbmkg build` first)"]
    from tests.helpers import free_port

    url = f"http://127.0.0.1:{free_port()}/sparql"
    code, _, err = run(env, "query", str(rq), "--endpoint", url)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"Error: cannot reach SPARQL endpoint {url}")


def test_export_writes_every_quad(built: dict[str, str], tmp_path: Path) -> None:
    out_file = tmp_path / "dump.nq"
    code, _, _ = run(built, "export", "-o", str(out_file))
    assert code == 0
    quads = list(parse(path=str(out_file), format=RdfFormat.N_QUADS))
    assert len(quads) == 6
    code, out, _ = run(built, "export", "--format", "trig")
    assert "阿塞拜疆" in out


def test_bad_ontology_file_stops_build_and_keeps_store(built: dict[str, str]) -> None:
    bad = Path(built["CBMKG_ONTOLOGY_DIR"]) / "broken.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n")
    code, _, err = run(built, "build")
    assert code == 1 and "broken.ttl" in err and "line 2" in err
    bad.unlink()
    code, out, _ = run(built, "export", "--format", "nquads")
    assert len(out.splitlines()) == 6


def test_build_accepts_a_dataset_file(built: dict[str, str], tmp_path: Path) -> None:
    nq = tmp_path / "extra.nq"
    nq.write_text('<http://example.org/x> <http://example.org/code> "XXX" '
                  '<https://w3id.org/cbmkg/graph/test/extra> .\n')
    code, out, _ = run(built, "build", str(nq))
    assert code == 0 and "graph/test/extra" in out
    code, _, err = run(built, "build", str(tmp_path / "missing.nq"))
    assert code == 1 and "missing.nq: no such file" in err


@pytest.mark.slow
def test_sigkill_during_build_leaves_previous_store(built: dict[str, str],
                                                    tmp_path: Path) -> None:
    big = tmp_path / "big.nq"
    write_nquads(big, 600_000)
    home = Path(built["CBMKG_STORE"])
    before = os.readlink(home / "active")
    process = subprocess.Popen([sys.executable, "-m", "cbmkg.cli", "build", "--no-validate", str(big)],
                               env={**os.environ, **built}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until it writes its new generation
        if any(p.name.startswith("gen-") and p.name != before for p in home.iterdir()):
            break
        time.sleep(0.02)
    else:
        pytest.fail("the build never started writing")
    time.sleep(0.3)
    assert process.poll() is None, "the build finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert os.readlink(home / "active") == before
    code, out, _ = run(built, "export")
    assert code == 0 and len(out.splitlines()) == 6, "the previous graph is intact"
    code, out, _ = run(built, "build")  # the next build clears what the killed one left
    assert code == 0
    assert [p.name for p in home.iterdir() if p.name.startswith("gen-")].__len__() == 2
