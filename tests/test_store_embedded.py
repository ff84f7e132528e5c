"""What only the on-disk embedded store does: generations, atomic publication, one builder
at a time, readers that follow new generations."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, Store

from cbmkg.errors import StoreError, StoreNotFound
from cbmkg.store import EmbeddedStore, embedded

G = "https://w3id.org/cbmkg/graph/test/g"
TTL = '<http://example.org/a> <http://example.org/p> "{}" .'


def value(store: EmbeddedStore) -> str:
    rows = list(store.select("SELECT ?o WHERE { ?s ?p ?o }"))
    return ",".join(sorted(r["o"].value for r in rows))


def test_missing_store_is_reported(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFound, match="no store at"):
        EmbeddedStore.open(tmp_path / "nothing")


def test_plain_oxigraph_directory_is_named_as_such(tmp_path: Path) -> None:
    Store(str(tmp_path / "plain"))
    with pytest.raises(StoreNotFound, match="plain Oxigraph database"):
        EmbeddedStore.open(tmp_path / "plain")


def test_each_build_publishes_a_new_generation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "PRUNE_GRACE", -1.0)  # replaced generations go at once
    home = tmp_path / "store"
    store = EmbeddedStore.open(home, create=True)
    store.replace_graph(G, TTL.format(1), RdfFormat.TURTLE)
    first = os.readlink(home / "active")
    store.replace_graph(G, TTL.format(2), RdfFormat.TURTLE)
    second = os.readlink(home / "active")
    assert first != second
    assert os.readlink(home / "previous") == first
    store.replace_graph(G, TTL.format(3), RdfFormat.TURTLE)
    generations = sorted(p.name for p in home.iterdir() if p.name.startswith("gen-"))
    assert len(generations) == 2, "older generations are pruned, the previous one is kept"
    assert value(EmbeddedStore.open(home)) == "3"


def test_replaced_generations_stay_for_readers_in_other_processes(tmp_path: Path) -> None:
    home = tmp_path / "store"
    store = EmbeddedStore.open(home, create=True)
    for n in range(4):
        store.replace_graph(G, TTL.format(n), RdfFormat.TURTLE)
    assert len([p for p in home.iterdir() if p.name.startswith("gen-")]) == 4


def test_a_writer_that_has_not_refreshed_builds_on_the_active_generation(tmp_path: Path) -> None:
    """Two server workers each hold the store; one publishes, then the other writes: the
    first one's data must survive (the build starts from what is active, not what it saw)."""
    home = tmp_path / "store"
    first = EmbeddedStore.open(home, create=True)
    first.replace_graph(G, TTL.format(1), RdfFormat.TURTLE)
    second = EmbeddedStore.open(home)
    first.replace_graph(G + "2", TTL.format(2), RdfFormat.TURTLE)
    second.replace_graph(G + "3", TTL.format(3), RdfFormat.TURTLE)
    assert set(EmbeddedStore.open(home).graphs()) == {G, G + "2", G + "3"}


def test_reader_follows_new_generation(tmp_path: Path) -> None:
    home = tmp_path / "store"
    writer = EmbeddedStore.open(home, create=True)
    writer.replace_graph(G, TTL.format("old"), RdfFormat.TURTLE)
    reader = EmbeddedStore.open(home)
    assert value(reader) == "old"
    writer.replace_graph(G, TTL.format("new"), RdfFormat.TURTLE)
    assert value(reader) == "old", "a reader keeps its generation until it refreshes"
    assert reader.refresh() is True
    assert value(reader) == "new"
    assert reader.refresh() is False


def test_one_build_at_a_time(tmp_path: Path) -> None:
    home = tmp_path / "store"
    a = EmbeddedStore.open(home, create=True)
    b = EmbeddedStore.open(home, create=True)
    build = a.begin()
    with pytest.raises(StoreError, match="another build"):
        b.begin()
    build.abort()
    b.begin().abort()


def test_aborted_build_leaves_no_generation_behind(tmp_path: Path) -> None:
    home = tmp_path / "store"
    store = EmbeddedStore.open(home, create=True)
    store.replace_graph(G, TTL.format(1), RdfFormat.TURTLE)
    build = store.begin()
    build.put_graph(G, TTL.format(2), RdfFormat.TURTLE)
    build.abort()
    assert len([p for p in home.iterdir() if p.name.startswith("gen-")]) == 1
    assert value(store) == "1"


def test_update_on_disk_goes_through_a_build(tmp_path: Path) -> None:
    home = tmp_path / "store"
    store = EmbeddedStore.open(home, create=True)
    store.replace_graph(G, TTL.format(1), RdfFormat.TURTLE)
    before = os.readlink(home / "active")
    store.update(f'INSERT DATA {{ GRAPH <{G}> {{ <http://example.org/b> <http://example.org/p> "2" }} }}')
    assert os.readlink(home / "active") != before
    assert value(EmbeddedStore.open(home)) == "1,2"
