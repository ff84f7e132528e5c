"""One store suite, run on the embedded store (memory and disk) and on a real
`oxigraph serve` process (with and without the Graph Store Protocol)."""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

from cbmkg.errors import QuerySyntaxError, StoreError
from cbmkg.store import GraphStore, RemoteStore

G1 = "https://w3id.org/cbmkg/graph/test/one"
G2 = "https://w3id.org/cbmkg/graph/test/two"
EX = "http://example.org/"

TTL_1 = f"""@prefix ex: <{EX}> .
ex:armenia ex:name "Armenia"@en, "亚美尼亚"@zh ; ex:tanks 109 .
"""
TTL_1B = f"""@prefix ex: <{EX}> .
ex:armenia ex:name "Republic of Armenia"@en .
"""
TTL_2 = f"""@prefix ex: <{EX}> .
ex:azerbaijan ex:tanks 525 ; ex:ceiling 220 .
"""


def names(store: GraphStore, union_default_graph: bool = True) -> set[str]:
    rows = store.select(f"SELECT ?n WHERE {{ ?s <{EX}name> ?n }}", union_default_graph=union_default_graph)
    return {row["n"].value for row in rows}


def test_load_named_graph_and_query_union(any_store: GraphStore) -> None:
    any_store.replace_graph(G1, TTL_1, RdfFormat.TURTLE)
    assert any_store.graphs() == [G1]
    assert names(any_store) == {"Armenia", "亚美尼亚"}
    assert any_store.count() == 3


def test_union_default_graph_keeps_the_named_graphs(any_store: GraphStore) -> None:
    """GRAPH patterns see every graph while the default graph is the union (a remote store
    sends named-graph-uri too: a protocol dataset without it has no named graphs)."""
    any_store.replace_graph(G1, TTL_1, RdfFormat.TURTLE)
    any_store.replace_graph(G2, TTL_2, RdfFormat.TURTLE)
    rows = any_store.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    found = {r["g"].value: int(r["n"].value) for r in rows}
    if isinstance(any_store, RemoteStore) and any_store.union == "server":
        # a server's own union also shows its own graphs (Virtuoso's system graphs: README)
        found = {g: n for g, n in found.items() if g.startswith(any_store.graphs_prefix)}
    assert found == {G1: 3, G2: 2}


def test_default_graph_without_union_is_the_store_default_graph(any_store: GraphStore) -> None:
    any_store.replace_graph(G1, TTL_1, RdfFormat.TURTLE)
    assert names(any_store, union_default_graph=False) == set()
    rows = any_store.select(f"SELECT ?n WHERE {{ GRAPH <{G1}> {{ ?s <{EX}name> ?n }} }}",
                           union_default_graph=False)
    assert {r["n"].value for r in rows} == {"Armenia", "亚美尼亚"}


def test_replace_graph_drops_old_content(any_store: GraphStore) -> None:
    any_store.replace_graph(G1, TTL_1, RdfFormat.TURTLE)
    any_store.replace_graph(G2, TTL_2, RdfFormat.TURTLE)
    any_store.replace_graph(G1, TTL_1B, RdfFormat.TURTLE)
    assert names(any_store) == {"Republic of Armenia"}
    assert any_store.graphs() == [G1, G2]
    assert any_store.count() == 3


def test_drop_graph(any_store: GraphStore) -> None:
    any_store.replace_graph(G1, TTL_1, RdfFormat.TURTLE)
    any_store.replace_graph(G2, TTL_2, RdfFormat.TURTLE)
    any_store.drop_graph(G1)
    assert any_store.graphs() == [G2]
    assert names(any_store) == set()


def test_explicit_dataset(any_store: GraphStore) -> None:
    any_store.replace_graph(G1, TTL_1, RdfFormat.TURTLE)
    any_store.replace_graph(G2, TTL_2, RdfFormat.TURTLE)
    rows = any_store.select(f"SELECT ?s WHERE {{ ?s <{EX}tanks> ?t }}", default_graphs=[G2])
    assert [r["s"].value for r in rows] == [EX + "azerbaijan"]
    rows = any_store.select("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", named_graphs=[G1])
    assert {r["g"].value for r in rows} == {G1}


def test_export_nquads_round_trips(any_store: GraphStore) -> None:
    any_store.replace_graph(G1, TTL_1, RdfFormat.TURTLE)
    any_store.replace_graph(G2, TTL_2, RdfFormat.TURTLE)
    quads = set(parse(any_store.export_bytes(RdfFormat.N_QUADS), format=RdfFormat.N_QUADS))
    assert len(quads) == 5
    assert Quad(NamedNode(EX + "azerbaijan"), NamedNode(EX + "tanks"), Literal(525),
                NamedNode(G2)) in quads
    assert Quad(NamedNode(EX + "armenia"), NamedNode(EX + "name"), Literal("亚美尼亚", language="zh"),
                NamedNode(G1)) in quads


def test_build_replace_all_keeps_only_what_it_staged(any_store: GraphStore) -> None:
    any_store.replace_graph(G1, TTL_1, RdfFormat.TURTLE)
    with any_store.begin(replace_all=True) as build:
        build.put_graph(G2, TTL_2, RdfFormat.TURTLE)
    assert any_store.graphs() == [G2]


def test_dataset_input_goes_to_its_graphs(any_store: GraphStore) -> None:
    any_store.replace_graph(G1, TTL_1, RdfFormat.TURTLE)
    nq = f'<{EX}x> <{EX}name> "X" <{G2}> .\n<{EX}y> <{EX}name> "Y" <{G1}> .\n'
    with any_store.begin() as build:
        build.put_dataset(nq, RdfFormat.N_QUADS)
    assert any_store.graphs() == [G1, G2]
    assert names(any_store) == {"X", "Y"}  # G1 was replaced by the dataset's G1


def test_failed_build_leaves_previous_data(any_store: GraphStore) -> None:
    any_store.replace_graph(G1, TTL_1, RdfFormat.TURTLE)
    with pytest.raises(StoreError):
        with any_store.begin(replace_all=True) as build:
            build.put_graph(G2, TTL_2, RdfFormat.TURTLE)
            build.put_graph(G1, "this is not turtle", RdfFormat.TURTLE)
    assert any_store.graphs() == [G1]
    assert names(any_store) == {"Armenia", "亚美尼亚"}


def test_malformed_query_names_the_problem(any_store: GraphStore) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        any_store.select("SELECT ?x WHERE { ?x ?y }")
    assert "SPARQL" in str(info.value) or "rejected" in str(info.value)


def test_update(any_store: GraphStore) -> None:
    any_store.update(f'INSERT DATA {{ GRAPH <{G1}> {{ <{EX}a> <{EX}name> "A" }} }}')
    assert names(any_store) == {"A"}
    with pytest.raises(QuerySyntaxError):
        any_store.update("INSERT NOTHING")


def test_construct_answers_are_graphs(any_store: GraphStore) -> None:
    any_store.replace_graph(G2, TTL_2, RdfFormat.TURTLE)
    triples = list(any_store.construct(f"CONSTRUCT {{ ?s <{EX}over> true }} WHERE {{ ?s <{EX}tanks> ?t ;"
                                   f" <{EX}ceiling> ?c FILTER(?t > ?c) }}"))
    assert [t.subject.value for t in triples] == [EX + "azerbaijan"]
    assert any_store.ask(f"ASK {{ ?s <{EX}tanks> 525 }}")


def test_default_graph_triples_are_refused(any_store: GraphStore) -> None:
    any_store.replace_graph(G1, TTL_1, RdfFormat.TURTLE)
    with pytest.raises(StoreError, match="default graph"):
        with any_store.begin() as build:
            build.put_dataset(f'<{EX}x> <{EX}name> "X" .\n', RdfFormat.N_QUADS)
    assert names(any_store) == {"Armenia", "亚美尼亚"}
