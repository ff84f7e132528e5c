"""The W3C SPARQL 1.1 Protocol tests (../shared/w3c/sparql11-protocol/protocol/, read in
place, never copied) against the live server on 127.0.0.1.

Each mf:ProtocolTest sends its ht:Requests in order (path, method, headers, body in its
character encoding) and checks the status class and, for success, the kind of answer
(boolean with its value, tabular results, or RDF). The server here has updates switched
on (a token): the suite's update requests, which it sends to one path for both, go to the
update endpoint `/update` with the token, its queries to `/sparql` (a query endpoint never
runs an update: that is tested in test_server.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node
from werkzeug.serving import make_server

from cbmkg.config import load_config
from cbmkg.store import EmbeddedStore
from server import create_app
from tests.helpers import SHARED

SUITE = SHARED / "w3c" / "sparql11-protocol" / "protocol"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
HT = "http://www.w3.org/2011/http#"
CNT = "http://www.w3.org/2011/content#"
UT = "http://www.w3.org/2009/sparql/tests/test-update#"
HTS = "http://www.w3.org/2011/http-statusCodes#"

pytestmark = pytest.mark.skipif(not (SUITE / "manifest.ttl").exists(),
                                reason="the W3C protocol tests are not beside the project")


def manifest() -> Graph:
    return Graph().parse(SUITE / "manifest.ttl", format="turtle", publicID=(SUITE / "manifest.ttl").as_uri())


def entries() -> list[str]:
    if not (SUITE / "manifest.ttl").exists():
        return []
    g = manifest()
    listed = next(g.objects(None, URIRef(MF + "entries")))
    return [str(e).rsplit("#", 1)[1] for e in Collection(g, listed)]


TOKEN = "w3c-protocol-tests"


def is_update(path: str, headers: dict[str, str], body: bytes | None) -> bool:
    media = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    return media.startswith("application/sparql-update") or "update=" in path or \
        (body is not None and body.startswith(b"update="))


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    g = manifest()
    store = EmbeddedStore.memory()
    seen = set()
    for data in g.objects(None, URIRef(UT + "graphData")):
        source, name = g.value(data, URIRef(UT + "graph")), str(g.value(data, RDFS.label))
        if name in seen:
            continue
        seen.add(name)
        path = Path(str(source).removeprefix("file://"))
        from pyoxigraph import RdfFormat

        store.replace_graph(name, path.read_bytes(), RdfFormat.N_TRIPLES)
    app = create_app(load_config({"update_token": TOKEN}), store=store)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _check(g: Graph, response: requests.Response, expect: Node) -> None:
    statuses = {str(s).removeprefix(HTS) for s in g.objects(expect, URIRef(MF + "expectedStatus"))}
    klass = f"StatusCode{response.status_code // 100}xx"
    assert klass in statuses, (response.status_code, response.text[:200])
    kind = g.value(expect, URIRef(MF + "expectedFormat"))
    media = response.headers.get("Content-Type", "").split(";")[0]
    if kind == Literal("boolean"):
        assert media == "application/sparql-results+json", media
        expected = g.value(expect, URIRef(MF + "expectedBoolean"))
        if isinstance(expected, Literal):
            assert json.loads(response.text)["boolean"] == expected.toPython()
    elif kind == Literal("tabular"):
        assert media in ("application/sparql-results+json", "application/sparql-results+xml",
                         "text/csv", "text/tab-separated-values"), media
    elif kind == Literal("RDF"):
        assert media in ("text/turtle", "application/n-triples", "application/rdf+xml",
                         "application/ld+json"), media


@pytest.mark.parametrize("name", entries())
def test_protocol(base: str, name: str) -> None:
    g = manifest()
    test = next(s for s in g.subjects(RDF.type, None) if str(s).endswith("#" + name))
    action = g.value(test, URIRef(MF + "action"))
    requests_list = g.value(action, URIRef(HT + "requests"))
    assert requests_list is not None, f"{name}: no ht:requests"
    for request in Collection(g, requests_list):
        path = str(g.value(request, URIRef(HT + "absolutePath"))).replace("/sparql/", "/sparql", 1)
        method = str(g.value(request, URIRef(HT + "methodName")))
        headers = {}
        header_list = g.value(request, URIRef(HT + "headers"))
        if header_list is not None:
            for h in Collection(g, header_list):
                headers[str(g.value(h, URIRef(HT + "fieldName")))] = str(g.value(h, URIRef(HT + "fieldValue")))
        headers.setdefault("Accept", "application/sparql-results+json, text/turtle;q=0.9")
        body = None
        content = g.value(request, URIRef(HT + "body"))
        if content is not None:
            encoding = str(g.value(content, URIRef(CNT + "characterEncoding")) or "UTF-8")
            body = str(g.value(content, URIRef(CNT + "chars"))).encode(encoding.lower())
        if is_update(path, headers, body):
            path = path.replace("/sparql", "/update", 1)
            headers["Authorization"] = f"Bearer {TOKEN}"
        response = requests.request(method, base + path, headers=headers, data=body, timeout=20)
        expect = g.value(request, URIRef(HT + "resp"))
        assert expect is not None, f"{name}: a request without ht:resp"
        _check(g, response, expect)


# ---- Service Description (the three tests of ../shared/w3c/sparql11-protocol/service-description)
SD = "http://www.w3.org/ns/sparql-service-description#"


@pytest.mark.parametrize("accept,fmt", [("text/turtle", "turtle"), ("application/rdf+xml", "xml"),
                                        ("application/ld+json", "json-ld")])
def test_service_description_returns_rdf_with_its_endpoint(base: str, accept: str, fmt: str) -> None:
    response = requests.get(base + "/sparql", headers={"Accept": accept}, timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith(accept)
    g = Graph().parse(data=response.text, format=fmt)  # returns-rdf
    service = URIRef(base + "/sparql")
    assert (service, URIRef(SD + "endpoint"), service) in g  # has-endpoint-triple
    # conforms-to-schema: the sd: terms used as the vocabulary defines them
    assert (service, RDF.type, URIRef(SD + "Service")) in g
    assert (service, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Query")) in g
    dataset = g.value(service, URIRef(SD + "defaultDataset"))
    assert (dataset, RDF.type, URIRef(SD + "Dataset")) in g
    names = {g.value(n, URIRef(SD + "name")) for n in g.objects(dataset, URIRef(SD + "namedGraph"))}
    listed = requests.get(base + "/sparql", params={"query": "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"},
                          headers={"Accept": "application/sparql-results+json"}, timeout=10).json()
    # every graph that holds triples (the store may also keep graphs an update emptied)
    assert {str(n) for n in names} >= {b["g"]["value"] for b in listed["results"]["bindings"]} != set()
