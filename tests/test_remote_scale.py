"""Remote stores at scale, on real servers (`oxigraph serve --union-default-graph`, and
Debian's Virtuoso 7.2 where it is installed): the union default graph without a parameter
per graph (10,000 named graphs), uploads in bounded chunks, a build that goes on after a
dropped connection and still publishes in one step."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pyoxigraph import RdfFormat

from cbmkg.store import RemoteStore
from cbmkg.store.remote import STAGING, query_form
from tests.helpers import DroppingProxy, OxigraphServer, VirtuosoServer

pytestmark = pytest.mark.remote

GRAPHS = 10_000
G = "https://w3id.org/cbmkg/graph/scale/"
EX = "http://example.org/"


def dataset(graphs: int, tag: str = "a") -> bytes:
    """Two triples in each of ``graphs`` named graphs, and a blank node in the first."""
    lines = [f'<{EX}s{i}> <{EX}p> "{tag}{i}" <{G}{i}> .\n<{EX}s{i}> <{EX}q> <{EX}o> <{G}{i}> .\n'
             for i in range(graphs)]
    lines.append(f'_:b <{EX}p> "{tag}-blank" <{G}0> .\n<{EX}s0> <{EX}r> _:b <{G}0> .\n')
    return "".join(lines).encode()


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def union_server(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer | VirtuosoServer]:
    """A server whose default graph is the union of its graphs."""
    if request.param == "virtuoso":
        yield request.getfixturevalue("virtuoso_server")
        return
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph-union"), union=True)
    yield server
    server.stop()


def remote(server: OxigraphServer | VirtuosoServer, **settings: object) -> RemoteStore:
    return RemoteStore(server.query_url, server.update_url, graphs_prefix=G, **settings)  # type: ignore[arg-type]  # keyword settings of RemoteStore


def sent_forms(store: RemoteStore) -> list[bytes]:
    """The bodies of the queries ``store`` sends from now on."""
    bodies: list[bytes] = []

    def record(response: requests.Response, *args: object, **kwargs: object) -> None:
        body = response.request.body
        if isinstance(body, str):
            body = body.encode()
        if body is not None and response.request.url == store.query_url:
            bodies.append(body)

    store.session.hooks["response"].append(record)
    return bodies


@pytest.mark.slow
def test_ten_thousand_graphs_on_the_servers_own_union(union_server: OxigraphServer | VirtuosoServer) -> None:
    union_server.clear()
    store = remote(union_server, chunk_triples=1000)
    with store.begin(replace_all=True) as build:
        build.put_dataset(dataset(GRAPHS), RdfFormat.N_QUADS)
    assert store.union == "server", "auto: the server's default graph is found to be the union"
    if isinstance(union_server, OxigraphServer):
        assert store.publish_requests == 1, "published in one transaction"
    else:  # Virtuoso compiles at most about 500 MOVE operations into one request
        assert 1 < store.publish_requests <= 64
    bodies = sent_forms(store)
    rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}p> ?o }}")
    assert int(next(rows)["n"].value) == GRAPHS + 1
    rows = store.select("SELECT (COUNT(DISTINCT ?g) AS ?n) "
                        f'WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{G}")) }}')
    assert int(next(rows)["n"].value) == GRAPHS
    assert len(store.graphs()) == GRAPHS
    assert bodies and all(b"default-graph-uri" not in b and len(b) < 1000 for b in bodies), \
        "no dataset parameter per graph"
    # the blank node kept its two triples together
    rows = store.select(f'SELECT ?o WHERE {{ <{EX}s0> <{EX}r> ?b . ?b <{EX}p> ?o }}')
    assert [r["o"].value for r in rows] == ["a-blank"]
    # a rebuild replaces everything, and no staging graph is left or seen
    with store.begin(replace_all=True) as build:
        build.put_dataset(dataset(10, tag="b"), RdfFormat.N_QUADS)
    assert store.count() == 2 * 10 + 2
    assert not [g for g in store._all_graphs() if g.startswith(STAGING)]


def test_uploads_are_bounded_chunks(union_server: OxigraphServer | VirtuosoServer) -> None:
    union_server.clear()
    store = remote(union_server, chunk_triples=50)
    updates: list[int] = []
    store.session.hooks["response"].append(
        lambda r, *a, **k: updates.append(len(r.request.body or b"")) if r.request.url == store.update_url else None)
    with store.begin(replace_all=True) as build:
        build.put_dataset(dataset(200), RdfFormat.N_QUADS)
    inserts = updates[:-1]  # the last is the publication (MOVE)
    assert len(inserts) >= 400 // 50, "400 ground triples in requests of at most 50"
    assert max(inserts) < 50 * 200, "no request carries much more than a chunk"
    assert store.count() == 402


@pytest.mark.parametrize("drop", [3, 2])
def test_a_dropped_connection_is_sent_again_and_the_build_publishes(
        union_server: OxigraphServer | VirtuosoServer, drop: int) -> None:
    """An upload request is applied but its answer lost. The 3rd is a chunk of ground
    triples (idempotent: sent again); the 2nd is the blank-node request of the first graph
    (sent again as it is, it would make a second blank node: the graph is uploaded again
    from nothing)."""
    union_server.clear()
    proxy = DroppingProxy(union_server.port, marker=b"INSERT", drop=drop)
    try:
        path = union_server.query_url.removeprefix(union_server.base)
        store = RemoteStore(f"{proxy.base}{path}", f"{proxy.base}{path.replace('/query', '/update')}",
                            chunk_triples=50, union="protocol", graphs_prefix=G)
        with store.begin(replace_all=True) as build:
            build.put_dataset(dataset(200), RdfFormat.N_QUADS)
        assert proxy.dropped == 1
        direct = remote(union_server)
        assert direct.count() == 402
        rows = direct.select(f'SELECT ?b WHERE {{ ?b <{EX}p> "a-blank" }}')
        assert len(list(rows)) == 1, "one blank node, not two"
        assert not [g for g in direct._all_graphs() if g.startswith(STAGING)]
    finally:
        proxy.close()


def test_graph_answers_ask_for_rdf_only(tmp_path: Path, union_server: OxigraphServer | VirtuosoServer) -> None:
    """A CONSTRUCT is asked for as RDF (a server that may answer SPARQL JSON to an Accept
    listing it, as Virtuoso does, is not offered it); DESCRIBE too."""
    union_server.clear()
    store = remote(union_server)
    store.update(f'INSERT DATA {{ GRAPH <{G}x> {{ <{EX}a> <{EX}p> "v" }} }}')
    accepts: list[str] = []
    store.session.hooks["response"].append(lambda r, *a, **k: accepts.append(r.request.headers["Accept"]))
    # (the pattern names our property: a server's own union also holds its system graphs)
    triples = list(store.construct(f"CONSTRUCT {{ ?s <{EX}p> ?o }} WHERE {{ ?s <{EX}p> ?o }}"))
    assert len(triples) == 1
    assert "sparql-results" not in accepts[-1]
    assert "n-triples" in accepts[-1]
    assert query_form("PREFIX a: <http://x/>\n# CONSTRUCT\nDESCRIBE <x>") == "DESCRIBE"
    assert query_form("BASE <http://x/> select * {}") == "SELECT"


def test_a_write_is_seen_by_the_next_read(union_server: OxigraphServer | VirtuosoServer) -> None:
    """No graph list kept between requests: a graph written is in the next read."""
    union_server.clear()
    store = remote(union_server, union="protocol")
    other = remote(union_server, union="protocol")
    assert other.graphs() == []
    for i in range(20):
        store.replace_graph(f"{G}{i}", f'<{EX}a> <{EX}p> "{i}" .', RdfFormat.N_TRIPLES)
        assert len(other.graphs()) == i + 1
        assert other.ask(f'ASK {{ <{EX}a> <{EX}p> "{i}" }}')
