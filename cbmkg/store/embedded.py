"""Oxigraph embedded in this process: on disk (the default) or in memory (tests).

On disk the store is a *home* directory of generations::

    var/store/
      active -> gen-20261125T101500-4242     symlink to the published generation
      previous -> gen-20261124T090000-4100   the one before (kept for readers still on it)
      gen-…/                                 one complete Oxigraph (RocksDB) database each
      .build.lock                            held by the one build that may run at a time

A build writes a *new* generation (starting from a RocksDB checkpoint of the active one
when it only replaces some graphs), then publishes it by atomically replacing the
``active`` symlink. A build killed at any point leaves ``active`` untouched; its half-made
generation is removed by the next build. Readers (queries, the server) open generations
read-only and never see a database that is being written, which is what RocksDB and
Oxigraph require (one writer, and no reading of a directory another process writes).
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from pyoxigraph import BlankNode, DefaultGraph, NamedNode, RdfFormat, Store, parse

from ..errors import QuerySyntaxError, StoreError, StoreNotFound, evaluation_error
from ..sparql_text import names_dataset
from .base import Build, GraphStore, QueryResult, RdfInput, read_input

ACTIVE = "active"
PREVIOUS = "previous"
LOCK = ".build.lock"
GEN_PREFIX = "gen-"
PUBLISHED = "published"  # the generations ever made active, one name a line
PRUNE_GRACE = 120.0  # seconds a replaced generation stays for readers still on it


def _run_query(store: Store, sparql: str, union: bool, default_graphs: Sequence[str] | None,
               named_graphs: Sequence[str] | None, base_iri: str | None = None) -> QueryResult:
    default: list[NamedNode | BlankNode | DefaultGraph] | None = None
    if default_graphs is not None:
        default = [NamedNode(g) for g in default_graphs] or [DefaultGraph()]
    named: list[NamedNode | BlankNode] | None = None
    if named_graphs is not None:
        named = [NamedNode(g) for g in named_graphs]
    try:
        # a query that names its dataset (FROM, FROM NAMED) gets it, not the union
        union = union and default is None and not names_dataset(sparql)
        return store.query(sparql, base_iri=base_iri or None, default_graph=default, named_graphs=named,
                           use_default_graph_as_union=union)
    except SyntaxError as e:
        raise QuerySyntaxError(f"malformed SPARQL query: {e}") from None
    except ValueError as e:
        raise QuerySyntaxError(f"invalid SPARQL query: {e}") from None
    except (OSError, RuntimeError) as e:  # RuntimeError: pyoxigraph's evaluation errors
        raise evaluation_error(e) or StoreError(f"store read failed: {e}") from None



class EmbeddedStore(GraphStore):
    kind = "embedded"

    def __init__(self, home: Path | None, store: Store, generation: str | None, flat: bool = False):
        self.home = home
        #: the data is in the store's default graph (a validation chunk), not in named graphs
        self.flat = flat
        self._active = str(home / ACTIVE) if home is not None else ""
        self._store = store
        self._generation = generation
        self._changes = 0  # in memory: bumped by every write

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def memory(cls) -> EmbeddedStore:
        """A fresh, empty store in memory."""
        return cls(None, Store(), None)

    @classmethod
    def over(cls, store: Store, *, flat: bool = False) -> EmbeddedStore:
        """A view of an open pyoxigraph store (a build's working set), to read it. ``flat``:
        its data is in its default graph (queries read that, whatever they ask for)."""
        return cls(None, store, None, flat)

    @classmethod
    def open(cls, home: str | Path, *, create: bool = False) -> EmbeddedStore:
        """Open the published generation under ``home`` read-only.

        With ``create``, a missing home is made and starts as an empty store (for builds).
        """
        home = Path(home)
        if not (home / ACTIVE).is_symlink():
            if not create:
                cls.check(home)
            home.mkdir(parents=True, exist_ok=True)
            return cls(home, Store(), None)
        generation = os.readlink(home / ACTIVE)
        return cls(home, cls._open_generation(home / generation), generation)

    @staticmethod
    def check(home: str | Path) -> None:
        """Raise StoreNotFound unless ``home`` holds a published store, without opening it
        (a process about to fork workers must not start RocksDB: its threads do not fork)."""
        home = Path(home)
        if (home / ACTIVE).is_symlink() and (home / os.readlink(home / ACTIVE)).is_dir():
            return
        if home.exists() and (home / "CURRENT").exists():
            raise StoreNotFound(
                f"{home} is a plain Oxigraph database, not a cbmkg store home; "
                "run `cbmkg build` with another --store directory")
        raise StoreNotFound(f"no store at {home} (run `cbmkg build` first)")

    @staticmethod
    def _open_generation(path: Path) -> Store:
        try:
            return Store.read_only(str(path))
        except OSError as e:
            raise StoreError(f"cannot open the store at {path}: {e}") from None

    def refresh(self) -> bool:
        """Reopen if a build has published a newer generation; True when it did."""
        if self.home is None:
            return False
        try:
            generation = os.readlink(self._active)  # a str path: no pathlib on every request
        except OSError:
            return False
        if generation == self._generation:
            return False
        self._store = self._open_generation(self.home / generation)
        self._generation = generation
        return True

    @property
    def generation(self) -> str | None:
        return self._generation

    def version(self) -> str | None:
        if self.home is not None:
            return self._generation
        return f"memory-{id(self._store)}-{self._changes}"

    def modified(self) -> datetime | None:
        """The publication time of the active generation (its name holds it, in UTC)."""
        return None if self._generation is None else _published(self._generation)  # cached

    @property
    def raw(self) -> Store:
        """The pyoxigraph Store (read-only on disk), for callers that need its full API."""
        return self._store

    # -- reading ---------------------------------------------------------------------------
    def query(self, sparql: str, *, union_default_graph: bool = True,
              default_graphs: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None, base_iri: str | None = None) -> QueryResult:
        if self.flat:
            return _run_query(self._store, sparql, False, None, None, base_iri)
        return _run_query(self._store, sparql, union_default_graph, default_graphs, named_graphs,
                          base_iri)

    def graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, NamedNode))

    def export(self, output: BinaryIO, format: RdfFormat = RdfFormat.N_QUADS) -> None:
        self._store.dump(output, format)

    def count(self) -> int:
        return len(self._store)

    def graph_ntriples(self, graph: str) -> bytes:
        return self._store.dump(format=RdfFormat.N_TRIPLES, from_graph=NamedNode(graph)) or b""

    # -- writing ---------------------------------------------------------------------------
    def update(self, sparql: str) -> None:
        if self.home is None:
            _run_update(self._store, sparql)
            self._changes += 1
            return
        build = _DiskBuild(self, replace_all=False)
        try:
            assert build.writer is not None
            _run_update(build.writer, sparql)
        except BaseException:
            build.abort()
            raise
        build.commit()

    def begin(self, *, replace_all: bool = False) -> Build:
        if self.home is None:
            return _MemoryBuild(self, replace_all)
        return _DiskBuild(self, replace_all)

    def _publish_memory(self, store: Store) -> None:
        self._store = store
        self._changes += 1


def _run_update(store: Store, sparql: str) -> None:
    try:
        store.update(sparql)
    except SyntaxError as e:
        raise QuerySyntaxError(f"malformed SPARQL update: {e}") from None
    except (OSError, RuntimeError) as e:  # RuntimeError: DROP of a missing graph, …
        raise evaluation_error(e) or StoreError(f"store update failed: {e}") from None


def _load(store: Store, data: RdfInput, format: RdfFormat, graph: str | None) -> None:
    target = NamedNode(graph) if graph else None
    try:
        if isinstance(data, Path):
            store.bulk_load(path=str(data), format=format, to_graph=target)
        else:
            store.bulk_load(read_input(data), format=format, to_graph=target)
    except SyntaxError as e:
        where = f"{data}" if isinstance(data, Path) else (graph or "dataset")
        raise StoreError(f"cannot load {where}: {e}") from None
    except OSError as e:
        raise StoreError(f"cannot load {data if isinstance(data, Path) else graph}: {e}") from None


def _refuse_default_graph(store: Store) -> None:
    """Every triple of cbmkg lives in a named graph (the union default graph relies on it)."""
    if bool(store.query("ASK { ?s ?p ?o }")):
        raise StoreError("a dataset put triples in the default graph; every triple of the "
                         "store must be in a named graph")


def _graphs_in(data: RdfInput, format: RdfFormat) -> set[str]:
    """Graph names a dataset serialisation writes to."""
    try:
        quads = parse(path=str(data), format=format) if isinstance(data, Path) \
            else parse(read_input(data), format=format)
        return {q.graph_name.value for q in quads if isinstance(q.graph_name, NamedNode)}
    except SyntaxError as e:
        raise StoreError(f"cannot load dataset: {e}") from None


def _put_graph(writer: Store, graph: str, data: RdfInput, format: RdfFormat, fresh: bool) -> None:
    """Make ``graph`` hold exactly ``data`` (a fresh store has nothing to remove)."""
    if not fresh and writer.contains_named_graph(NamedNode(graph)):
        writer.remove_graph(NamedNode(graph))
    _load(writer, data, format, graph)


def _put_dataset(writer: Store, data: RdfInput, format: RdfFormat, fresh: bool) -> set[str]:
    """Make every graph the dataset names hold exactly its quads; returns their names."""
    graphs = _graphs_in(data, format)
    if not fresh:
        for g in graphs:
            if writer.contains_named_graph(NamedNode(g)):
                writer.remove_graph(NamedNode(g))
    _load(writer, data, format, None)
    _refuse_default_graph(writer)
    return graphs


class _MemoryBuild(Build):
    """Copy-on-write in memory: stage into a copy, then swap the reference."""

    def __init__(self, owner: EmbeddedStore, replace_all: bool):
        self.owner = owner
        self.writer = Store()
        self.fresh = replace_all
        if not replace_all:
            self.writer.bulk_extend(owner.raw)

    def put_graph(self, graph: str, data: RdfInput, format: RdfFormat) -> None:
        _put_graph(self.writer, graph, data, format, self.fresh)

    def put_dataset(self, data: RdfInput, format: RdfFormat) -> set[str]:
        return _put_dataset(self.writer, data, format, self.fresh)

    def staged(self) -> EmbeddedStore:
        return EmbeddedStore.over(self.writer)

    def commit(self) -> None:
        self.owner._publish_memory(self.writer)

    def abort(self) -> None:
        self.writer = Store()


class _DiskBuild(Build):
    """Write a new generation directory, then swap the ``active`` symlink."""

    def __init__(self, owner: EmbeddedStore, replace_all: bool):
        assert owner.home is not None
        self.owner = owner
        self.home = owner.home
        self._lock = open(self.home / LOCK, "w")  # noqa: SIM115 - held until commit/abort
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise StoreError(f"another build is writing to {self.home}; try again when it ends") from None
        # names sort in time order (seconds, then nanoseconds), which _prune relies on
        now = time.time_ns()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now // 10**9))
        self.name = f"{GEN_PREFIX}{stamp}-{now % 10**9:09d}-{os.getpid()}"
        self.path = self.home / self.name
        # the generation active now, under the lock: another process (a server worker) may
        # have published one since this owner last looked, and its data must not be lost
        base = _active(self.home)
        self.fresh = replace_all or base is None
        if base is not None and not replace_all:
            # A RocksDB checkpoint: hard links, so starting from the current data is cheap.
            Store.read_only(str(self.home / base)).backup(str(self.path))
        self.writer: Store | None = Store(str(self.path))
        self._views: list[EmbeddedStore] = []
        self._done = False

    def put_graph(self, graph: str, data: RdfInput, format: RdfFormat) -> None:
        assert self.writer is not None
        _put_graph(self.writer, graph, data, format, self.fresh)

    def put_dataset(self, data: RdfInput, format: RdfFormat) -> set[str]:
        assert self.writer is not None
        return _put_dataset(self.writer, data, format, self.fresh)

    def staged(self) -> EmbeddedStore:
        assert self.writer is not None
        view = EmbeddedStore.over(self.writer)
        self._views.append(view)
        return view

    def _release(self) -> None:
        """Close RocksDB: no view handed out may keep the writer open (an open writer goes
        on compacting, and removes files a reader of the published generation needs)."""
        for view in self._views:
            view._store = Store()
        self._views.clear()
        self.writer = None

    def commit(self) -> None:
        if self._done:
            return
        assert self.writer is not None
        self.writer.flush()
        # compact before publishing: a bulk-loaded generation read as it is answers queries
        # ~1.6x slower (benchmarks/endpoint_load.py); the generation is read-only from now on.
        # A generation made from a checkpoint of a compacted one with a little written to it
        # is not compacted again (25 s on 10 M quads to add one report: benchmarks/scale.py)
        if self.fresh:
            self.writer.optimize()
        self._release()  # closes RocksDB (releases its lock) before anyone reads it
        _fsync_dir(self.path)
        old = _active(self.home)
        with open(self.home / PUBLISHED, "a", encoding="ascii") as log:  # see _prune
            log.write(self.name + "\n")
        _swap_link(self.home, ACTIVE, self.name)
        if old:
            _swap_link(self.home, PREVIOUS, old)
        self._prune(keep={self.name, old})
        self._finish()
        self.owner.refresh()

    def abort(self) -> None:
        if self._done:
            return
        self._release()
        shutil.rmtree(self.path, ignore_errors=True)
        self._finish()

    def _finish(self) -> None:
        self._done = True
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()

    def _prune(self, keep: set[str | None]) -> None:
        """Remove generations nobody points at. What a killed build left goes at once (no
        reader ever saw it); a generation that was published stays for PRUNE_GRACE seconds
        after its successor began, as a reader in another process (a server worker) may
        still be answering from it until its next request."""
        names = sorted(e.name for e in self.home.iterdir() if e.name.startswith(GEN_PREFIX))
        try:
            published = set((self.home / PUBLISHED).read_text(encoding="ascii").split())
        except OSError:
            published = set()
        now = time.time()
        for name, successor in zip(names, names[1:], strict=False):
            if name in keep:
                continue
            replaced = _published(successor)
            if name not in published or (replaced is not None and now - replaced.timestamp() > PRUNE_GRACE):
                shutil.rmtree(self.home / name, ignore_errors=True)
        live = published & set(names)
        if len(live) < len(published):  # forget what is gone, so the list stays short
            (self.home / PUBLISHED).write_text("".join(f"{n}\n" for n in sorted(live)), encoding="ascii")


def _active(home: Path) -> str | None:
    try:
        return os.readlink(home / ACTIVE)
    except OSError:
        return None


@functools.lru_cache(maxsize=64)
def _published(generation: str) -> datetime | None:
    """The time in a generation's name (when its build began, UTC)."""
    try:
        stamp = generation.removeprefix(GEN_PREFIX).split("-", 1)[0]
        return datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _swap_link(home: Path, name: str, target: str) -> None:
    tmp = home / f".{name}.tmp-{os.getpid()}"
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, home / name)  # rename(2) is atomic: readers see the old link or the new
    _fsync_dir(home)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
