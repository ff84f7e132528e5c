"""The SPARQL server on a real HTTP socket (127.0.0.1): SPARQL 1.1 Protocol behaviour,
every result format through SPARQLWrapper (compared by value), rdflib's SPARQLStore, the
named queries, and `cbmkg serve` itself under waitress."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from rdflib import Graph, URIRef

from cbmkg.config import ROOT, load_config
from cbmkg.store import EmbeddedStore, GraphStore, RemoteStore
from loaders.build import build
from tests.helpers import CbmkgServer, Connection, OxigraphServer, process_gone, wait_for

SELECT = """PREFIX cbm: <https://w3id.org/cbmkg/ontology#>
SELECT ?code ?date WHERE { ?r a cbm:Reply ; cbm:respondent/cbm:code ?code ; cbm:replyDate ?date }
ORDER BY ?code"""
CONSTRUCT = """PREFIX cbm: <https://w3id.org/cbmkg/ontology#>
CONSTRUCT { ?r cbm:respondent ?p } WHERE { ?r a cbm:Reply ; cbm:respondent ?p }"""
EXPECTED = [("ARM", "2020-05-15"), ("COL", "2020-05-28"), ("ECU", "2020-05-31"), ("ESP", "2020-05-15"),
            ("EU", "2020-05-20"), ("MEX", "2020-05-26"), ("QAT", "2020-04-21"), ("UKR", "2020-05-01")]


def _built(store: GraphStore) -> GraphStore:
    build(store, ROOT / "ontology", [ROOT / "corpus" / "A_75_95-ZH.txt"])
    return store


@pytest.fixture(scope="module", params=["disk", "remote"])
def served(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GraphStore, CbmkgServer]]:
    """`cbmkg serve` over the corpus on disk (queries in its worker processes) and over a real
    `oxigraph serve` reached by --endpoint: every test of the module runs on both."""
    folder = tmp_path_factory.mktemp(f"served-{request.param}")
    if request.param == "disk":
        store: GraphStore = _built(EmbeddedStore.open(folder / "store", create=True))
        settings = {"store": str(folder / "store")}
        oxigraph = None
    else:
        oxigraph = OxigraphServer(folder / "oxigraph")
        store = _built(RemoteStore(oxigraph.query_url, oxigraph.update_url, oxigraph.gsp_url))
        settings = {"endpoint": oxigraph.query_url, "update_endpoint": oxigraph.update_url,
                    "gsp_endpoint": oxigraph.gsp_url}
    server = CbmkgServer(settings, folder / "server.log")
    yield store, server
    server.stop()
    store.close()
    if oxigraph is not None:
        oxigraph.stop()


@pytest.fixture(scope="module")
def store(served: tuple[GraphStore, CbmkgServer]) -> GraphStore:
    return served[0]


@pytest.fixture(scope="module")
def base(served: tuple[GraphStore, CbmkgServer]) -> str:
    return served[1].base


def wrapper(base: str, query: str, fmt: str):
    from SPARQLWrapper import SPARQLWrapper

    w = SPARQLWrapper(base + "/sparql")
    w.setQuery(query)
    w.setReturnFormat(fmt)
    return w.query()


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_select_in_every_results_format(base: str, fmt: str) -> None:
    result = wrapper(base, SELECT, fmt)
    body = result.convert()
    if fmt == "json":
        rows = [(b["code"]["value"], b["date"]["value"]) for b in body["results"]["bindings"]]
    elif fmt == "xml":
        ns = "{http://www.w3.org/2005/sparql-results#}"
        rows = []
        for r in body.getElementsByTagName("result"):
            values = {b.getAttribute("name"): b.getElementsByTagName("literal")[0].firstChild.data
                      for b in r.getElementsByTagName("binding")}
            rows.append((values["code"], values["date"]))
        assert ns
    elif fmt == "csv":
        rows = [(r[0], r[1]) for r in csv.reader(io.StringIO(body.decode()))][1:]
    else:
        lines = body.decode().strip().splitlines()[1:]
        rows = [(a.strip('"'), b.split("^^")[0].strip('"')) for a, b in (line.split("\t") for line in lines)]
    assert rows == EXPECTED
    assert "charset=utf-8" in result.info()["content-type"]


@pytest.mark.parametrize("fmt", ["turtle", "n3", "xml", "json-ld"])
def test_construct_in_every_graph_format(base: str, store: GraphStore, fmt: str) -> None:
    graph = wrapper(base, CONSTRUCT, fmt).convert()
    if not isinstance(graph, Graph):
        graph = Graph().parse(data=graph, format="json-ld" if fmt == "json-ld" else fmt)
    assert len(graph) == 8
    codes = {str(o).rsplit("/", 1)[1] for o in graph.objects()}
    assert codes == {code for code, _ in EXPECTED}


def test_rdflib_sparqlstore(base: str) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    remote = Graph(store=SPARQLStore(base + "/sparql"))
    rows = [(str(r[0]), str(r[1])) for r in remote.query(SELECT)]  # type: ignore[index]  # rdflib types SELECT rows and ASK answers alike
    assert rows == EXPECTED


def test_protocol_requests(base: str) -> None:
    url = base + "/sparql"
    json_type = {"Accept": "application/sparql-results+json"}
    posted = requests.post(url, data={"query": SELECT}, headers=json_type, timeout=10)
    direct = requests.post(url, data=SELECT.encode(), timeout=10,
                           headers={**json_type, "Content-Type": "application/sparql-query"})
    got = requests.get(url, params={"query": SELECT}, headers=json_type, timeout=10)
    assert posted.json() == direct.json() == got.json()
    assert "Accept" in got.headers["Vary"].split(", ")
    bad = requests.get(url, params={"query": "SELECT ?x WHERE { ?x ?y }"}, timeout=10)
    assert bad.status_code == 400 and "error at 1:" in bad.text and bad.headers["Content-Type"].startswith("text/plain")
    assert requests.get(url, params={"update": "CLEAR ALL"}, timeout=10).status_code == 400
    assert requests.post(url, data={"update": "CLEAR ALL"}, timeout=10).status_code == 400
    assert requests.get(url, params=[("query", SELECT), ("query", SELECT)], timeout=10).status_code == 400
    assert requests.post(url, data=SELECT, headers={"Content-Type": "text/plain"}, timeout=10).status_code == 415
    assert requests.get(url, params={"query": SELECT}, headers={"Accept": "image/png"}, timeout=10).status_code == 406
    assert requests.delete(url, timeout=10).status_code == 405
    head = requests.head(url, params={"query": SELECT}, timeout=10)
    assert head.status_code == 200 and head.text == ""
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    one = requests.get(url, params={"query": q, "default-graph-uri":
                                    "https://w3id.org/cbmkg/graph/report/A-75-95/zh/reply/QAT"},
                       headers=json_type, timeout=10).json()
    assert 0 < int(one["results"]["bindings"][0]["n"]["value"]) < 100
    assert requests.get(url, params={"query": SELECT, "format": "csv"}, timeout=10).text.startswith("code,date")


def test_a_long_query_is_sent_by_post(base: str) -> None:
    """A request line is at most 8 KiB (a longer one costs the parser quadratic time): a
    20 KB query by GET gets 414 saying to POST it, and SPARQLWrapper's POST gets the answer."""
    from SPARQLWrapper import POST, SPARQLWrapper

    long_query = SELECT.replace("ORDER BY", "# " + "x" * 20_000 + "\nORDER BY")
    refused = requests.get(base + "/sparql", params={"query": long_query}, timeout=10)
    assert refused.status_code == 414 and "by POST" in refused.text
    w = SPARQLWrapper(base + "/sparql")
    w.setMethod(POST)
    w.setQuery(long_query)
    w.setReturnFormat("json")
    result = w.query().convert()
    assert isinstance(result, dict)
    rows = result["results"]["bindings"]
    assert [(b["code"]["value"], b["date"]["value"]) for b in rows] == EXPECTED


def test_per_request_caches_keep_no_long_queries() -> None:
    """The fast path caches what clients repeat (parsed query strings, ETags), but a cache
    entry must not keep a long GET query: any client could fill a worker's memory."""
    from server.manners import SHORT, cached_if_short

    calls: list[str] = []

    @cached_if_short(4)
    def length(text: str) -> int:
        calls.append(text)
        return len(text)

    short, long_ = "q" * 10, "q" * (SHORT + 1)
    assert [length(short), length(short), length(long_), length(long_)] == [10, 10, SHORT + 1, SHORT + 1]
    assert calls == [short, long_, long_]  # the short one once, the long one every time
    assert length.__wrapped__ is not None and length.__name__ == "length"  # type: ignore[attr-defined]  # set by functools.wraps, unknown to Callable


def test_named_queries_over_http(base: str) -> None:
    listing = requests.get(base + "/queries", timeout=10).json()
    names = {q["name"] for q in listing}
    assert {"events", "obligations", "compliance-findings"} <= names
    events = requests.get(base + "/queries/events", params={"reported_by": "ARM", "format": "csv"}, timeout=10)
    rows = list(csv.DictReader(io.StringIO(events.text)))
    assert {r["type"] for r in rows} >= {"MilitaryExercise", "HoldingsDeclaration"}
    missing = requests.get(base + "/queries/nope", headers={"Accept": "application/json"}, timeout=10)
    assert missing.status_code == 404 and missing.json()["status"] == 404 and "nope" in missing.json()["detail"]
    assert missing.headers["Content-Type"].startswith("application/problem+json")
    wrong = requests.get(base + "/queries/events", params={"nope": "1"}, timeout=10)
    assert wrong.status_code == 400 and "has no parameter nope" in wrong.text
    assert requests.get(base + "/healthz", timeout=10).json()["ok"] is True


def test_cbmkg_serve_runs_gunicorn_worker_processes(tmp_path: Path) -> None:
    env = {**os.environ, "CBMKG_STORE": str(tmp_path / "store")}
    subprocess.run([sys.executable, "-m", "cbmkg.cli", "build", "--no-validate",
                    str(ROOT / "tests" / "data" / "reports" / "A_76_150-EN.txt")], env=env, check=True,
                   capture_output=True)
    server = CbmkgServer({"store": str(tmp_path / "store"), "workers": "2"}, tmp_path / "server.log")
    try:
        answer = requests.get(server.base + "/sparql", params={"query": SELECT},
                              headers={"Accept": "application/sparql-results+json"}, timeout=10)
        assert [b["code"]["value"] for b in answer.json()["results"]["bindings"]] == ["GEO", "NLD", "OSCE"]
        assert "gunicorn" in answer.headers.get("Server", "")
        pids = {requests.get(server.base + "/healthz", timeout=10).json()["pid"] for _ in range(20)}
        assert server.process.pid not in pids and len(pids) >= 1
    finally:
        server.stop()
    missing = subprocess.run([sys.executable, "-m", "cbmkg.cli", "serve", "--endpoint", "http://127.0.0.1:1/q"],
                             capture_output=True, text=True, env=os.environ, timeout=60)
    assert missing.returncode != 0 and "Error:" in missing.stderr


def test_service_is_refused_without_any_outbound_connection(base: str) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    queries = [
        f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <http://127.0.0.1:{port}/x> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE { BIND(<http://127.0.0.1:1/> AS ?e) SERVICE ?e { ?s ?p ?o } }",
        f"select * where {{ service <http://127.0.0.1:{port}/y> {{ ?s ?p ?o }} }}",
    ]
    try:
        for query in queries:
            answer = requests.get(base + "/sparql", params={"query": query}, timeout=10)
            assert answer.status_code == 403, (query, answer.text)
            assert "not allowed" in answer.text
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody called
    finally:
        listener.close()
    # a string that merely contains the word is a normal query
    ok = requests.get(base + "/sparql", params={"query": 'ASK { FILTER("SERVICE" = "SERVICE") }'},
                      headers={"Accept": "application/sparql-results+json"}, timeout=10)
    assert ok.status_code == 200 and ok.json()["boolean"] is True


def test_load_and_updates_change_nothing(base: str, store: GraphStore) -> None:
    before = store.count()
    for method, fields in (("get", {"params": {"query": "LOAD <http://127.0.0.1:1/data.ttl>"}}),
                           ("get", {"params": {"update": "CLEAR ALL"}}),
                           ("post", {"data": {"update": "DROP ALL"}}),
                           ("get", {"params": {"query": "CLEAR ALL"}})):
        answer = requests.request(method, base + "/sparql", timeout=10, **fields)  # type: ignore[arg-type]  # params= or data=
        assert answer.status_code == 400, answer.text
    assert store.count() == before


def test_etag_metrics_and_query_log(base: str, served: tuple[GraphStore, CbmkgServer]) -> None:
    store, server = served
    url = base + "/sparql"
    params = {"query": SELECT, "format": "json"}
    first = requests.get(url, params=params, timeout=10)
    if store.kind == "remote":
        # the server cannot know when another server's data changes: no ETag, never a stale 304
        assert "ETag" not in first.headers
        again = requests.get(url, params=params, headers={"If-None-Match": '"x"'}, timeout=10)
        assert again.status_code == 200
    else:
        etag = first.headers["ETag"]
        again = requests.get(url, params=params, headers={"If-None-Match": etag}, timeout=10)
        assert again.status_code == 304 and again.text == ""
        other = requests.get(url, params={**params, "format": "csv"}, headers={"If-None-Match": etag}, timeout=10)
        assert other.status_code == 200 and other.headers["ETag"] != etag
        since = requests.get(url, params=params, headers={"If-Modified-Since": first.headers["Last-Modified"]},
                             timeout=10)
        assert since.status_code == 304
        earlier = requests.get(url, params=params, timeout=10,
                               headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
        assert earlier.status_code == 200
    metrics = requests.get(base + "/metrics", timeout=10).text
    assert 'cbmkg_http_requests_total{endpoint="sparql.sparql",status="200"}' in metrics
    assert "cbmkg_store_triples " in metrics
    logged = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith('{"event"')]
    assert any(e["status"] == 200 and e["event"] == "query" and e["endpoint"] == "sparql.sparql" for e in logged)


def test_iris_dereference_for_browsers_and_linked_data_clients(base: str) -> None:
    from rdflib import Literal, URIRef
    from rdflib.namespace import RDFS

    thing = base + "/id/actor/UKR"
    seen = requests.get(thing, allow_redirects=False, timeout=10)
    assert seen.status_code == 303 and seen.headers["Location"].endswith("/doc/id/actor/UKR")
    graph = Graph().parse(thing)  # rdflib asks for RDF and follows the 303
    ukraine = URIRef("https://w3id.org/cbmkg/id/actor/UKR")
    assert (ukraine, RDFS.label, Literal("Ukraine", lang="en")) in graph
    assert any(graph.subjects(None, ukraine)), "statements pointing at Ukraine (its reply) are included"
    page = requests.get(thing, headers={"Accept": "text/html,*/*;q=0.8"}, timeout=10)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Ukraine@en" in page.text and 'href="/doc/graph/' in page.text
    chinese = requests.get(thing, headers={"Accept": "text/html", "Accept-Language": "zh-CN,zh;q=0.9"}, timeout=10)
    assert "<h1>乌克兰</h1>" in chinese.text and chinese.headers["Content-Language"] == "zh"
    assert "<h1>Ukraine</h1>" in requests.get(thing + "?lang=en", headers={"Accept": "text/html"}, timeout=10).text
    missing = requests.get(base + "/doc/id/actor/NOWHERE", timeout=10)
    assert missing.status_code == 404 and "NOWHERE" in missing.text
    bad = requests.get(base + "/doc/id/a%3Eb", timeout=10)
    assert bad.status_code == 400


def test_void_counts_every_named_graph(base: str, store: GraphStore) -> None:
    from rdflib.namespace import VOID

    void = Graph().parse(data=requests.get(base + "/.well-known/void", timeout=10).text, format="turtle")
    subsets = {str(s): int(str(n)) for s in void.objects(None, VOID.subset) for n in void.objects(s, VOID.triples)}
    assert set(subsets) == set(store.graphs())
    assert sum(subsets.values()) == store.count()
    assert (None, VOID.sparqlEndpoint, URIRef(base + "/sparql")) in void
    classes = {str(c): int(str(n)) for p in void.objects(None, VOID.classPartition)
               for c in void.objects(p, VOID["class"]) for n in void.objects(p, VOID.entities)}
    assert classes["https://w3id.org/cbmkg/ontology#Reply"] == len(EXPECTED)
    properties = {str(c): int(str(n)) for p in void.objects(None, VOID.propertyPartition)
                  for c in void.objects(p, VOID.property) for n in void.objects(p, VOID.triples)}
    assert properties["https://w3id.org/cbmkg/ontology#respondent"] == len(EXPECTED)
    (dump,) = void.objects(None, VOID.dataDump)
    dumped = requests.get(str(dump), timeout=30)
    assert dumped.headers["Content-Type"].startswith("application/n-quads")
    assert len(dumped.content.strip().splitlines()) == store.count()


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, CbmkgServer]]:
    """The corpus served with a 1.5 s timeout, a 5-row cap, one worker process and
    connections kept 3 s."""
    folder = tmp_path_factory.mktemp("strict")
    _built(EmbeddedStore.open(folder / "store", create=True)).close()
    server = CbmkgServer({"store": str(folder / "store"), "query_timeout": "1.5", "result_limit": "5",
                          "workers": "1", "keepalive": "3"}, folder / "server.log")
    yield server.base, server
    server.stop()


RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def test_runaway_query_is_stopped_and_the_next_is_answered(strict: tuple[str, CbmkgServer]) -> None:
    base, server = strict
    worker = requests.get(base + "/healthz", timeout=10).json()["pid"]
    started = time.monotonic()
    late = requests.get(base + "/sparql", params={"query": RUNAWAY}, timeout=30)
    assert late.status_code == 503 and "stopped after 1.5 s" in late.text
    # at the timeout, not when gunicorn's own watchdog would act (31 s): a margin for a loaded machine
    assert time.monotonic() - started < 1.5 + 8
    # the process that ran it is gone, so no CPU keeps working for a client that left
    wait_for(lambda: process_gone(worker), 30, "the worker that ran it ends")
    quick = requests.get(base + "/sparql", params={"query": SELECT, "format": "csv"}, timeout=30)
    assert quick.status_code == 200 and quick.text.startswith("code,date")  # a new worker answers
    assert requests.get(base + "/healthz", timeout=10).json()["pid"] != worker
    metrics = requests.get(base + "/metrics", timeout=10).text
    assert "cbmkg_query_timeouts_total 1.0" in metrics, "the stopped worker's count survives it"


def test_validation_past_the_timeout_is_stopped_too(strict: tuple[str, CbmkgServer], tmp_path: Path) -> None:
    """/validate reads the whole store, so it runs under query_timeout like a query: a
    server whose timeout is shorter than one validation answers 503 and ends that worker."""
    _, roomy = strict
    hasty = CbmkgServer({**roomy.settings, "query_timeout": "0.05"}, tmp_path / "hasty.log")
    try:
        note = "<https://example.org/r> a <https://w3id.org/cbmkg/ontology#Reply> ."
        worker = requests.get(hasty.base + "/healthz", timeout=10).json()["pid"]
        late = requests.post(hasty.base + "/validate", data=note, timeout=30,
                             headers={"Content-Type": "text/turtle"})
        # the watchdog's own words: only its timeout path writes them
        assert late.status_code == 503 and "validation stopped after 0.05 s" in late.text, late.text
        wait_for(lambda: process_gone(worker), 30, "the worker that ran it ends")
        # the same request on the roomier server is answered in full
        full = requests.post(roomy.base + "/validate", data=note, timeout=30,
                             headers={"Content-Type": "text/turtle"})
        assert full.status_code == 200 and full.headers["Cbmkg-Conforms"] == "false"
    finally:
        hasty.stop()


def test_result_cap_is_announced(strict: tuple[str, CbmkgServer]) -> None:
    base, _ = strict
    capped = requests.get(base + "/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o }"},
                          headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert capped.status_code == 200 and len(capped.json()["results"]["bindings"]) == 5
    assert capped.headers["Cbmkg-Truncated"] == "true" and "cut at 5 rows" in capped.headers["Warning"]
    graph = requests.get(base + "/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                         headers={"Accept": "application/n-triples"}, timeout=30)
    assert len(graph.text.strip().splitlines()) == 5 and graph.headers["Cbmkg-Truncated"] == "true"
    whole = requests.get(base + "/sparql", params={"query": "SELECT * WHERE { VALUES ?x { 1 2 3 } }"},
                         headers={"Accept": "text/csv"}, timeout=30)
    assert whole.text.split() == ["x", "1", "2", "3"] and "Cbmkg-Truncated" not in whole.headers


def _open(sock: socket.socket) -> bool:
    """Whether the server still holds the connection open (no end of stream waiting)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except ConnectionError:
        return False


def test_connections_are_kept_and_an_idle_one_holds_no_worker(strict: tuple[str, CbmkgServer]) -> None:
    """Keep-alive on a server with one worker: requests (pipelined ones too) share a
    connection; an unread request body does not confuse the next request; while a client
    keeps an idle connection, others are answered at once, and the idle one still works;
    a connection idle past `keepalive` (3 s here) is closed."""
    base, _ = strict
    port = int(base.rsplit(":", 1)[1])
    path = "/sparql?" + urlencode({"query": "ASK { ?s ?p ?o }", "format": "json"})
    with Connection(port) as one:
        one.send(one.request(path))
        first = one.answer()
        one.send(one.request("/healthz"), one.request(path))  # two at once (pipelined)
        second, third = one.answer(), one.answer()
        assert [first[0], second[0], third[0]] == [200, 200, 200]
        assert json.loads(third[2])["boolean"] is True and json.loads(second[2])["ok"] is True
        assert "close" not in first[1].get("connection", "")
        # a refused write whose body the answer never read, then a query on the same connection
        one.send(one.request("/store?graph=urn:g", b"<a:b> <a:c> 1 .\n" * 400, "PUT"), one.request(path))
        refused, after = one.answer(), one.answer()
        assert refused[0] == 403 and after[0] == 200 and json.loads(after[2])["boolean"] is True
        # `one` and 30 more are idle: another client is answered by the only worker, on a
        # new connection, while they stay open (each answer, not a keepalive expiry, ends it)
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(30)]
        try:
            for _ in range(3):
                with Connection(port) as other:
                    other.send(other.request("/healthz"))
                    assert other.answer()[0] == 200
            assert all(_open(sock) for sock in idle), "answered before any idle connection expired"
        finally:
            for sock in idle:
                sock.close()
        one.send(one.request(path))  # and `one` is still served
        assert one.answer()[0] == 200
        started = time.monotonic()
        assert one.closed_by_server()  # after keepalive seconds idle
        assert time.monotonic() - started > 2.0  # not before (3 s); when exactly is the kernel's


def test_pipelined_requests_survive_a_replaced_worker(strict: tuple[str, CbmkgServer]) -> None:
    """After a worker stopped a runaway query and was replaced, the new one answers every
    request of a pipelined batch, in order."""
    base, _ = strict
    port = int(base.rsplit(":", 1)[1])
    assert requests.get(base + "/sparql", params={"query": RUNAWAY}, timeout=30).status_code == 503
    paths = ["/sparql?" + urlencode({"query": f"SELECT ({n} AS ?n) {{}}", "format": "csv"}) for n in range(8)]
    with Connection(port) as conn:
        conn.send(*(conn.request(p) for p in paths))
        bodies = [conn.answer() for _ in paths]
    assert [status for status, _, _ in bodies] == [200] * len(paths)
    assert [body.split()[-1] for _, _, body in bodies] == [str(n).encode() for n in range(len(paths))]


def test_graph_store_reads_and_refuses_writes(base: str, store: GraphStore) -> None:
    reply = "https://w3id.org/cbmkg/graph/report/A-75-95/zh/reply/QAT"
    got = requests.get(base + "/store", params={"graph": reply}, headers={"Accept": "text/turtle"}, timeout=10)
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("text/turtle")
    expected = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{reply}> {{ ?s ?p ?o }} }}")
    assert len(Graph().parse(data=got.text, format="turtle")) == int(next(iter(expected))["n"].value)
    assert requests.get(base + "/store", params={"graph": "https://w3id.org/cbmkg/graph/nope"},
                        timeout=10).status_code == 404
    assert requests.get(base + "/store", params={"graph": "not an iri"}, timeout=10).status_code == 400
    before = store.count()
    for method in ("put", "post", "delete"):
        answer = requests.request(method, base + "/store", params={"graph": reply}, data="<a:b> <a:c> <a:d> .",
                                  headers={"Content-Type": "application/n-triples"}, timeout=10)
        assert answer.status_code == 403 and "read-only" in answer.text
    refused = requests.post(base + "/update", data={"update": "CLEAR ALL"}, timeout=10)
    assert refused.status_code == 403
    assert store.count() == before


@pytest.fixture()
def writable(tmp_path: Path) -> Iterator[tuple[str, EmbeddedStore]]:
    s = EmbeddedStore.open(tmp_path / "store", create=True)
    build(s, ROOT / "ontology", [])
    server = CbmkgServer({"store": str(tmp_path / "store"), "update_token": "s3cret", "workers": "2"},
                         tmp_path / "server.log")
    yield server.base, s
    server.stop()


def test_writes_need_the_token_and_are_all_or_nothing(writable: tuple[str, EmbeddedStore]) -> None:
    base, store = writable
    graph, auth = "https://example.org/g", {"Authorization": "Bearer s3cret"}
    turtle = {"Content-Type": "text/turtle"}
    url = base + "/store"
    no_token = requests.put(url, params={"graph": graph}, data="<a:b> <a:c> 1 .", headers=turtle, timeout=10)
    assert no_token.status_code == 401 and no_token.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = requests.put(url, params={"graph": graph}, data="<a:b> <a:c> 1 .", timeout=10,
                         headers={**turtle, "Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert requests.put(url, params={"graph": graph}, data="<a:b> <a:c> 1 .", headers={**turtle, **auth},
                        timeout=10).status_code == 201
    assert requests.post(url, params={"graph": graph}, data="<a:b> <a:c> 2 .", headers={**turtle, **auth},
                         timeout=10).status_code == 204
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"

    def triples() -> int:
        answer = requests.get(base + "/sparql", params={"query": count, "format": "json"}, timeout=10)
        return int(answer.json()["results"]["bindings"][0]["n"]["value"])

    assert triples() == 2  # the worker process follows the new generation
    bad = requests.put(url, params={"graph": graph}, data="<a:b> <a:c> .", headers={**turtle, **auth}, timeout=10)
    assert bad.status_code == 400 and "does not parse" in bad.text and "line 1 column 13" in bad.text
    assert triples() == 2
    # a JSON-LD payload with a remote context fetches nothing
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        context = json.dumps({"@context": f"http://127.0.0.1:{port}/context.jsonld", "@id": "a:b", "x": 1})
        remote = requests.put(url, params={"graph": graph}, data=context, timeout=10,
                              headers={"Content-Type": "application/ld+json", **auth})
        assert remote.status_code == 400
        with pytest.raises(TimeoutError):
            listener.accept()
        load = requests.post(base + "/update", data={"update": f"LOAD <http://127.0.0.1:{port}/x.ttl>"},
                             headers=auth, timeout=10)
        assert load.status_code == 403 and "LOAD of" in load.text
        with pytest.raises(TimeoutError):
            listener.accept()
    update = requests.post(base + "/update", data=f"DROP GRAPH <{graph}>", timeout=10,
                           headers={**auth, "Content-Type": "application/sparql-update"})
    assert update.status_code == 204 and triples() == 0
    assert requests.post(base + "/update", data={"update": "DROP GRAF"}, headers=auth,
                         timeout=10).status_code == 400
    assert requests.delete(url, params={"graph": graph}, headers=auth, timeout=10).status_code == 404


def test_gzip_cors_and_size_limits(base: str) -> None:
    url = base + "/sparql"
    plain = requests.get(url, params={"query": CONSTRUCT}, timeout=10,
                         headers={"Accept": "application/n-triples", "Accept-Encoding": "identity"})
    zipped = requests.get(url, params={"query": CONSTRUCT}, timeout=10,
                          headers={"Accept": "application/n-triples", "Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers and zipped.headers["Content-Encoding"] == "gzip"
    assert int(zipped.headers["Content-Length"]) < len(plain.content)
    assert zipped.text == plain.text  # requests decodes it
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert zipped.headers.get("ETag") != plain.headers.get("ETag") or "ETag" not in plain.headers
    preflight = requests.options(url, timeout=10, headers={
        "Origin": "https://yasgui.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Cbmkg-Truncated" in plain.headers["Access-Control-Expose-Headers"]
    huge = requests.post(url, data=b"#" * 2_000_000, timeout=10, headers={"Content-Type": "application/sparql-query"})
    assert huge.status_code == 413 and huge.headers["Content-Type"].startswith("text/plain")
    wrong = requests.put(url, timeout=10)
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"] and "Method Not Allowed" in wrong.text


def test_fact_page_quotes_its_paragraph_with_the_span_marked(base: str, store: GraphStore) -> None:
    """A legal researcher opening a fact sees the words it was read from, marked in their
    paragraph, and who reported them."""
    rows = list(store.select("""PREFIX cbm: <https://w3id.org/cbmkg/ontology#>
        PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?fact ?exact ?para WHERE { ?fact cbm:evidence ?span ; cbm:reportedBy ?who .
          ?span oa:hasSource ?para ; oa:hasSelector/oa:exact ?exact . FILTER(CONTAINS(?exact, "525")) }
        LIMIT 1"""))
    assert rows, "the bundled report holds Armenia's figure of 525 tanks"
    fact, exact = rows[0]["fact"].value, rows[0]["exact"].value
    page = requests.get(base + "/doc/" + fact.removeprefix("https://w3id.org/cbmkg/"), timeout=10,
                        headers={"Accept": "text/html", "Accept-Language": "en"})
    assert page.status_code == 200
    assert f"<mark>{exact}</mark>" in page.text
    assert "reported by" in page.text and "Armenia" in page.text.split("reported by", 1)[1][:300]


def test_openapi_describes_every_other_route(base: str) -> None:
    from openapi_spec_validator import validate

    from server import create_app as factory

    document = requests.get(base + "/openapi.json", timeout=10).json()
    validate(document)
    app = factory(load_config({"workers": 0}), store=EmbeddedStore.memory())
    described = set(document["paths"])
    for rule in app.url_map.iter_rules():
        path = rule.rule.replace("<any(id, graph):root>/<path:rest>", "{root}/{path}")
        if path in ("/sparql", "/update", "/", "/static/<path:filename>", "/vendor/yasgui/<name>"):
            continue  # SPARQL (W3C-described), a redirect, static files
        if "{root}" in path:
            assert {path.replace("{root}", r) for r in ("id", "graph")} <= described, path
            continue
        assert path.replace("<name>", "{name}") in described, path
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path.replace("<name>", "{name}")], (path, method)


def test_timeout_answers_on_time_on_every_store(served: tuple[GraphStore, CbmkgServer], tmp_path: Path) -> None:
    """A query of about 6 s against a 0.5 s timeout: on disk its worker is ended, on a remote
    store the client is answered on time while the remote finishes; both answer the next."""
    qat = "https://w3id.org/cbmkg/graph/report/A-75-95/zh/reply/QAT"
    patterns = " ".join(f"GRAPH <{qat}> {{ ?a{i} ?b{i} ?c{i} }}" for i in range(4))
    slow = f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?x {{ 1 2 3 4 5 6 7 8 }} {patterns} }}"
    server = CbmkgServer({**served[1].settings, "query_timeout": "0.5", "workers": "1"}, tmp_path / "log")
    url = server.base + "/sparql"
    try:
        started = time.monotonic()
        late = requests.get(url, params={"query": slow}, timeout=30)
        assert late.status_code == 503 and "stopped after 0.5 s" in late.text
        assert time.monotonic() - started < 0.5 + 3.5, "on time, long before the query's own end"
        quick = requests.get(url, params={"query": SELECT, "format": "csv"}, timeout=30)
        assert quick.status_code == 200 and quick.text.startswith("code,date")
    finally:
        server.stop()


def test_validate_checks_posted_data_in_the_context_of_the_store(base: str, store: GraphStore) -> None:
    before = store.count()
    bad = requests.post(base + "/validate", data="<https://example.org/r> a <https://w3id.org/cbmkg/ontology#Reply> .",
                        headers={"Content-Type": "text/turtle", "Accept": "text/turtle"}, timeout=60)
    assert bad.status_code == 200 and bad.headers["Cbmkg-Conforms"] == "false"
    report = Graph().parse(data=bad.text, format="turtle")
    sh = "http://www.w3.org/ns/shacl#"
    focus = {str(o) for o in report.objects(None, URIRef(sh + "focusNode"))}
    assert focus == {"https://example.org/r"}, "only results about the posted subjects"
    note = '<https://example.org/n> <http://www.w3.org/2000/01/rdf-schema#label> "a note"@en .'
    good = requests.post(base + "/validate", timeout=60, data=note,
                         headers={"Content-Type": "application/n-triples", "Accept": "text/plain"})
    assert good.status_code == 200 and good.headers["Cbmkg-Conforms"] == "true"
    broken = requests.post(base + "/validate", data="<a:b> <a:c> .", timeout=10,
                           headers={"Content-Type": "text/turtle"})
    assert broken.status_code == 400 and "line 1" in broken.text
    assert store.count() == before
