"""Regression tests of issue 12 on `cbmkg serve` itself (gunicorn, worker processes, the
corpus on disk, an update token): the SERVICE and LOAD guard and the sandbox behind it
(defect 2), parser bombs (3), dataset semantics and request bodies (5), client errors that
were 500s (7), and the smaller protocol faults (8). The worker-process defects (1, 4, 6) and
the standing adversarial suite are in test_adversarial.py."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Graph

from cbmkg.config import ROOT
from cbmkg.store import EmbeddedStore
from loaders.build import build
from server.graph_store import with_dataset
from server.safety import allowed, refusal
from tests.helpers import CbmkgServer

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FINDINGS = "https://w3id.org/cbmkg/graph/report/A-75-95/zh/reply/QAT"  # one named graph


class Listener:
    """A socket on 127.0.0.1 that stands for another machine: it must see nobody."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(20)
        self.port = self.sock.getsockname()[1]
        self.seen: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            client.settimeout(1)
            try:
                self.seen.append(client.recv(300) or b"(connected)")
            except OSError:
                self.seen.append(b"(connected)")
            client.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CbmkgServer]:
    folder = tmp_path_factory.mktemp("security")
    store = EmbeddedStore.open(folder / "store", create=True)
    build(store, ROOT / "ontology", [ROOT / "corpus" / "A_75_95-ZH.txt"])
    store.close()
    server = CbmkgServer({"store": str(folder / "store"), "update_token": TOKEN, "workers": "2",
                          "query_timeout": "10"}, folder / "server.log")
    yield server
    server.stop()


def count(base: str, query: str, **params: str) -> int:
    answer = requests.get(base + "/sparql", params={"query": query, **params},
                          headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def update(base: str, text: str, **params: str) -> requests.Response:
    return requests.post(base + "/update", data=text.encode(), params=params, timeout=30,
                         headers={**AUTH, "Content-Type": "application/sparql-update"})


# -- defect 2: SERVICE and LOAD ----------------------------------------------------------------

def bypasses(target: str) -> list[str]:
    """Queries that each make Oxigraph call ``target`` unless something refuses them."""
    t = target
    return [
        # the issue's own: a regular expression took <2||"a> for an IRI
        f'VERSION "1.2" SELECT * {{ FILTER(1<2||"a>"="b") SERVICE <{t}> {{ ?s ?p ?o }} FILTER(?s != "q") }}',
        f'SELECT * {{ FILTER(1<2||"a>"="b") SERVICE <{t}> {{ ?s ?p ?o }} FILTER(?s != "q") }}',
        f'SELECT * {{ LATERAL {{ SERVICE <{t}> {{ ?s ?p ?o }} }} }}',
        f'SELECT * {{ BIND(<<( <a:b> <a:c> "}}" )>> AS ?t) SERVICE <{t}> {{ ?s ?p ?o }} }}',
        f"SELECT * {{ # a comment\r SERVICE <{t}> {{ ?s ?p ?o }} \n }}",  # Oxigraph ends it at \r
        f'SELECT * {{ \\u0053ERVICE <{t}> {{ ?s ?p ?o }} }}',
        f'SELECT * {{ BIND("\\u0022" AS ?x) SERVICE <{t}> {{ ?s ?p ?o }} }}',
        f'PREFIX far: <{t.rsplit("/", 1)[0]}/> SELECT * {{ SERVICE far:sparql {{ ?s ?p ?o }} }}',
        f'BASE <{t.rsplit("/", 1)[0]}/> SELECT * {{ SERVICE <sparql> {{ ?s ?p ?o }} }}',
        f"SELECT * {{ {{ SELECT * {{ SERVICE SILENT <{t}> {{ ?s ?p ?o }} }} }} }}",
        f"SELECT * {{ OPTIONAL {{ service <{t}> {{ ?s ?p ?o }} }} }}",
        f"ASK {{ FILTER EXISTS {{ SERVICE <{t}> {{ ?s ?p ?o }} }} }}",
        f"SELECT * {{ VALUES ?e {{ <{t}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{t}> {{ ?s ?p ?o }} }}",
        f"SELECT * FROM <{t}> {{ ?s ?p ?o }}",  # FROM fetches nothing in Oxigraph: must stay so
    ]


def update_bypasses(target: str) -> list[str]:
    t = target
    return [
        f"LOAD <{t}>",
        f"LOAD SILENT <{t}> INTO GRAPH <urn:g>",
        f"INSERT DATA {{ GRAPH <urn:g> {{ <http://x/a#b> <urn:p> 1 }} }} ; LOAD <{t}>",  # '#' in an IRI
        f"INSERT DATA {{ GRAPH <urn:g> {{ <http://x/it's> <urn:p> 1 }} }} ; LOAD <{t}>",  # "'" in an IRI
        f"INSERT {{ GRAPH <urn:g> {{ ?s ?p ?o }} }} WHERE {{ SERVICE <{t}> {{ ?s ?p ?o }} }}",
        f"DELETE {{ GRAPH <urn:g> {{ ?s ?p ?o }} }} WHERE {{ OPTIONAL {{ SERVICE <{t}> {{ ?s ?p ?o }} }} }}",
        f"\\u004COAD <{t}>",
        f"VERSION \"1.2\" LOAD <{t}>",
        f"CLEAR SILENT GRAPH <urn:g> # \r LOAD <{t}>\n",
    ]


def test_no_request_reaches_another_machine(site: CbmkgServer) -> None:
    """Defect 2 (failed before the fix: the issue's VERSION query and the \\r comment made
    the server POST to the listener, the update bypasses ran their LOAD or SERVICE)."""
    far = Listener()
    target = f"http://127.0.0.1:{far.port}/sparql"
    try:
        for query in bypasses(target):
            for how in ("get", "post"):
                answer = requests.get(site.base + "/sparql", params={"query": query}, timeout=30) \
                    if how == "get" else requests.post(site.base + "/sparql", data=query.encode(), timeout=30,
                                                       headers={"Content-Type": "application/sparql-query"})
                assert answer.status_code in (400, 403) or "FROM" in query, (query, answer.status_code, answer.text)
        for text in update_bypasses(target):
            answer = update(site.base, text)
            assert answer.status_code in (400, 403), (text, answer.status_code, answer.text)
        # a word in a string, an IRI or a variable is not a call
        for harmless in ['ASK { FILTER("SERVICE" = "SERVICE") }', "SELECT ?service { ?service ?p ?o } LIMIT 1",
                         'ASK { ?s <http://example.org/service> "load" }']:
            assert requests.get(site.base + "/sparql", params={"query": harmless}, timeout=30).status_code == 200
        words = update(site.base, 'INSERT DATA { GRAPH <urn:load> { <urn:a> <urn:p> "download service" } }')
        assert words.status_code == 204
    finally:
        far.close()
    assert far.seen == [], f"the server called out: {far.seen}"


def test_workers_cannot_open_internet_sockets(site: CbmkgServer) -> None:
    """The second layer: a serve worker (embedded store, no allow-list) runs in a sandbox."""
    assert requests.get(site.base + "/healthz", timeout=10).json()["network_closed"] is True


def test_the_sandbox_stops_oxigraph_itself(tmp_path: Path) -> None:
    """With the first layer out of the way (pyoxigraph called directly), a process behind
    the sandbox cannot reach the listener: SERVICE and LOAD fail with permission denied."""
    far = Listener()
    script = textwrap.dedent(f"""
        import json, pyoxigraph
        from server.sandbox import close_network
        from cbmkg.store import EmbeddedStore
        from cbmkg.errors import OutboundRefused
        assert close_network()
        store = EmbeddedStore.memory()
        outcomes = []
        for run in (lambda: list(store.query("SELECT * {{ SERVICE <http://127.0.0.1:{far.port}/q> {{ ?s ?p ?o }} }}")),
                    lambda: store.update("LOAD <http://127.0.0.1:{far.port}/d.ttl>")):
            try:
                run()
                outcomes.append("ran")
            except OutboundRefused:
                outcomes.append("refused")
            except PermissionError:
                outcomes.append("permission")
        print(json.dumps(outcomes))
    """)
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT)
    finally:
        far.close()
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) <= {"refused", "permission"}, done.stdout
    assert far.seen == []


def test_the_allow_list_is_matched_by_host_not_by_text() -> None:
    listed = ("http://allowed.example/sparql", "https://query.example")
    assert allowed("http://allowed.example/sparql", listed)
    assert allowed("https://query.example/x", listed)
    assert not allowed("https://query.example.evil.net/x", listed)
    assert not allowed("https://query.example@evil.net/x", listed)
    assert refusal("SELECT * { SERVICE <http://allowed.example/sparql> { ?s ?p ?o } }", listed) is None
    assert refusal("SELECT * { SERVICE <http://allowed.example/sparqlx> { ?s ?p ?o } }", listed) is None  # a prefix
    assert refusal("LOAD <http://elsewhere.example/d>", listed, update=True) is not None


# -- defect 3: parsers that allocate gigabytes -------------------------------------------------

LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY a "lollollollollollollollollollol">'
          + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
          + ']><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">'
          '<rdf:Description rdf:about="http://e/x"><e:p>&i;</e:p></rdf:Description></rdf:RDF>')


def test_billion_laughs_are_refused(site: CbmkgServer) -> None:
    """Defect 3 (failed before: /validate parsed the entities, one worker grew to GBs)."""
    assert len(LAUGHS) < 1000
    for path, headers in (("/validate", {}), ("/store?graph=urn:laughs", AUTH)):
        answer = requests.post(site.base + path, data=LAUGHS, timeout=30,
                               headers={**headers, "Content-Type": "application/rdf+xml"})
        assert answer.status_code == 400 and "DTD" in answer.text, answer.text
    plain = LAUGHS.split("]>", 1)[1].replace("&i;", "lol")
    ok = requests.post(site.base + "/validate", data=plain, timeout=60, headers={"Content-Type": "application/rdf+xml"})
    assert ok.status_code == 200


def test_request_bodies_are_limited_in_triples(site: CbmkgServer) -> None:
    many = "@prefix e: <http://e/> . e:x e:p " + ", ".join(str(i) for i in range(60_000)) + " ."
    answer = requests.post(site.base + "/validate", data=many, headers={"Content-Type": "text/turtle"}, timeout=30)
    assert answer.status_code == 413 and "triples_limit" in answer.text


# -- defect 5: dataset semantics, request bodies -----------------------------------------------

def test_from_and_from_named_are_honoured(site: CbmkgServer) -> None:
    """Defect 5 (failed before: FROM counted the whole store, not the one graph)."""
    whole = count(site.base, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    findings = count(site.base, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{FINDINGS}> {{ ?s ?p ?o }} }}")
    assert 0 < findings < whole
    assert count(site.base, f"SELECT (COUNT(*) AS ?n) FROM <{FINDINGS}> {{ ?s ?p ?o }}") == findings
    assert count(site.base, f"select (count(*) as ?n) from named <{FINDINGS}> {{ ?s ?p ?o }}") == 0
    named = f"SELECT (COUNT(*) AS ?n) FROM NAMED <{FINDINGS}> {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert count(site.base, named) == findings
    # the word elsewhere changes nothing
    assert count(site.base, 'SELECT (COUNT(*) AS ?n) { ?s ?p ?o FILTER(?o != "FROM") } # from') <= whole
    assert count(site.base, "SELECT (COUNT(*) AS ?from) { ?s ?p ?o }".replace("?from", "?n")) == whole


def test_update_dataset_is_written_where_the_grammar_says(site: CbmkgServer) -> None:
    """Defect 5 (failed before: an IRI ending in with-cleanup hid the WHERE, 0 triples)."""
    inserted = []
    for name in ("cleanup", "with-cleanup"):
        graph = f"urn:cbmkg:test:{name}"
        text = (f"PREFIX cbm: <https://w3id.org/cbmkg/ontology#>\n"
                f"DROP SILENT GRAPH <http://example.org/t2/{name}> ;\n"
                f"INSERT {{ GRAPH <{graph}> {{ ?r <urn:p> ?c }} }} WHERE {{ ?r a cbm:Reply ; "
                f"cbm:respondent/cbm:code ?c }}")
        assert update(site.base, text).status_code == 204
        inserted.append(count(site.base, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"))
    assert inserted == [8, 8]
    graphs = ["urn:g"]
    rewritten = with_dataset('INSERT { ?s ?p "WHERE {" } # WHERE\r WHERE { ?s ?p ?o } ; DELETE WHERE { ?s ?p ?o }',
                             [], [], graphs)
    assert rewritten.count("USING <urn:g> USING NAMED <urn:g> WHERE") == 1
    assert "# WHERE\r USING" in rewritten
    own = "WITH <urn:w> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert with_dataset(own, [], [], graphs) == own


def test_chunked_bodies_over_the_limit_are_refused(site: CbmkgServer) -> None:
    """Defect 5 (failed before: the body was cut at 1 MB and ran, CLEAR without its INSERT)."""
    graph = "urn:cbmkg:test:chunked"
    assert update(site.base, f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:b> 1 }} }}").status_code == 204

    def body() -> Iterator[bytes]:
        yield f"CLEAR GRAPH <{graph}> ;".encode()
        for _ in range(11):
            yield b"#" * 100_000 + b"\n"
        yield f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:b> 2 }} }}".encode()

    answer = requests.post(site.base + "/update", data=body(), timeout=30,
                           headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert answer.status_code == 413, answer.text
    assert count(site.base, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ <urn:a> <urn:b> 1 }} }}") == 1

    def small() -> Iterator[bytes]:
        yield f"INSERT DATA {{ GRAPH <{graph}> ".encode()
        yield b"{ <urn:a> <urn:b> 3 } }"

    assert requests.post(site.base + "/update", data=small(), timeout=30,
                         headers={**AUTH, "Content-Type": "application/sparql-update"}).status_code == 204


# -- defect 7: no 500 for a client's input -----------------------------------------------------

def test_client_errors_are_not_server_errors(site: CbmkgServer) -> None:
    """Defect 7 (failed before: each of these was a 500)."""
    far = Listener()
    far.close()  # nobody listens there any more: a call would fail at the far end
    checks = [
        requests.get(site.base + "/sparql", params={"query": "SELECT (<http://ex/f>(1) AS ?x) {}"}, timeout=30),
        requests.get(site.base + "/sparql", params={"query": "ASK {}", "default-graph-uri": "not an iri"}, timeout=30),
        requests.get(site.base + "/sparql", params={"query": "ASK {}", "named-graph-uri": "not an iri"}, timeout=30),
        requests.get(site.base + "/doc/id/a%22b", timeout=30),
        requests.get(site.base + "/queries/obligations", params={"instrument": '"'}, timeout=30),
        update(site.base, "DROP GRAPH <urn:cbmkg:test:never-made>"),
        update(site.base, f"LOAD <http://127.0.0.1:{far.port}/gone.ttl>"),
        requests.get(site.base + "/sparql", timeout=30,
                     params={"query": f"SELECT * {{ SERVICE <http://127.0.0.1:{far.port}/q> {{ ?s ?p ?o }} }}"}),
    ]
    for answer in checks:
        assert 400 <= answer.status_code < 500, (answer.request.url, answer.status_code, answer.text)


# -- defect 8: the smaller things ---------------------------------------------------------------

def test_protocol_details(site: CbmkgServer) -> None:
    """Defect 8 (failed before: 406, 406, no PUT/DELETE, 400, 401, logging errors)."""
    base = site.base
    construct = "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2"
    turtle = requests.get(base + "/sparql", params={"query": construct}, timeout=30,
                          headers={"Accept": "text/turtle; charset=utf-8"})
    assert turtle.status_code == 200 and turtle.headers["Content-Type"].startswith("text/turtle")
    results = requests.get(base + "/sparql", params={"query": "ASK {}"}, timeout=30,
                           headers={"Accept": "application/sparql-results+json;charset=utf-8"})
    assert results.status_code == 200 and results.json()["boolean"] is True
    from SPARQLWrapper import RDFXML, SPARQLWrapper

    wrapper = SPARQLWrapper(base + "/sparql")
    wrapper.setQuery(construct)
    wrapper.setReturnFormat(RDFXML)
    graph = wrapper.query().convert()
    assert isinstance(graph, Graph) and len(graph) == 2
    preflight = requests.options(base + "/store", timeout=10, headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "PUT"})
    methods = {m.strip() for m in preflight.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"PUT", "DELETE", "POST", "GET"} <= methods
    created = requests.post(base + "/store", data='<urn:a> <urn:b> "1" .', timeout=30,
                            headers={**AUTH, "Content-Type": "application/n-triples"})
    assert created.status_code == 201 and "graph=" in created.headers["Location"]
    back = requests.get(created.headers["Location"], headers={"Accept": "application/n-triples"}, timeout=30)
    assert back.status_code == 200 and "<urn:a> <urn:b>" in back.text
    lower = requests.post(base + "/update", data={"update": "CLEAR SILENT GRAPH <urn:x>"}, timeout=30,
                          headers={"Authorization": f"bearer {TOKEN}"})
    assert lower.status_code == 204
    requests.get(base + "/sparql", params={"query": "SELECT (<http://ex/f>(1) AS ?x) {}"}, timeout=30)
    assert "Logging error" not in site.log.read_text(errors="replace")


def test_an_answer_past_the_result_limit_is_never_written_whole(site: CbmkgServer) -> None:
    """A cross product of the store with itself (hundreds of millions of rows) is cut at
    result_limit while it is written (it was written whole, then cut: gigabytes, then the
    timeout)."""
    answer = requests.get(site.base + "/sparql", params={"query": "SELECT * { ?a ?b ?c . ?d ?e ?f }"},
                          headers={"Accept": "text/tab-separated-values"}, timeout=60)
    assert answer.status_code == 200 and answer.headers["Cbmkg-Truncated"] == "true"
    assert answer.text.count("\n") == 100_000 + 1
