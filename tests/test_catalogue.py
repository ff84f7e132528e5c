"""Named-query headers and parameter binding."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from cbmkg.catalogue import Catalogue, parse_query_file
from cbmkg.errors import NamedQueryError

QUERY = """#+ title: Test
#+ param: name (string): a name
#+ param: thing (iri, base cbmid:instrument/): a thing
#+ param: n (integer): a number
SELECT ?thing ?name ?n WHERE { ?thing <http://example.org/name> ?name ; <http://example.org/n> ?n }
"""


@pytest.fixture
def query(tmp_path: Path):
    path = tmp_path / "test-query.rq"
    path.write_text(QUERY)
    return parse_query_file(path)


def test_header(query) -> None:
    assert query.title == "Test"
    assert [(p.name, p.type) for p in query.parameters] == [
        ("name", "string"), ("thing", "iri"), ("n", "integer")]
    assert query.parameters[1].base == "https://w3id.org/cbmkg/id/instrument/"


def test_values_are_terms_not_text(query) -> None:
    store = Store()
    thing = NamedNode("https://w3id.org/cbmkg/id/instrument/cfe")
    store.add(Quad(thing, NamedNode("http://example.org/name"), Literal('x" } DROP ALL #')))
    store.add(Quad(thing, NamedNode("http://example.org/n"), Literal(3)))
    text = query.bind({"name": 'x" } DROP ALL #', "thing": "cfe", "n": "3"})
    assert [r["thing"] for r in store.query(text)] == [thing]  # type: ignore[union-attr]  # a pyoxigraph Store: its query gives any form
    assert len(store) == 2


def test_bad_values_are_refused(query) -> None:
    with pytest.raises(NamedQueryError, match="expects integer"):
        query.bind({"n": "three"})
    with pytest.raises(NamedQueryError, match="has no parameter"):
        query.bind({"other": "x"})
    with pytest.raises(NamedQueryError, match="expects an IRI"):
        parse_query_file_without_base(query).bind({"thing": "cfe"})


def parse_query_file_without_base(query):
    path = query.path.with_name("no-base.rq")
    path.write_text(QUERY.replace(", base cbmid:instrument/", ""))
    return parse_query_file(path)


def test_malformed_headers(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("#+ param: x\nSELECT * {}")
    with pytest.raises(NamedQueryError, match="bad.rq:1"):
        parse_query_file(bad)
    bad.write_text("SELECT * {}")
    with pytest.raises(NamedQueryError, match="no '#\\+ title:'"):
        parse_query_file(bad)
    with pytest.raises(NamedQueryError, match="no named query 'nope'"):
        Catalogue(tmp_path).get("nope")
    with pytest.raises(NamedQueryError):
        Catalogue(tmp_path).get("../etc/passwd")
