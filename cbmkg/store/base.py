"""The one interface to the graph store, whatever holds the data.

Two backends implement it: :class:`~cbmkg.store.embedded.EmbeddedStore` (Oxigraph in
this process, on disk or in memory) and :class:`~cbmkg.store.remote.RemoteStore` (any
SPARQL 1.1 Query + Update server). Query answers are pyoxigraph result objects on both,
so callers serialise them the same way: :meth:`GraphStore.query` gives whatever the query's
form gives (the endpoint serialises it as it comes); :meth:`GraphStore.select`,
:meth:`GraphStore.ask` and :meth:`GraphStore.construct` give one form each, typed, for
code that knows which form it asked for.

Writes go through a :class:`Build`: graphs are staged out of sight and published in one
step by :meth:`Build.commit`, so readers see either the old dataset or the new one, never a
half-written mix (see each backend for how).
"""

from __future__ import annotations

import io
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from pyoxigraph import (
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Triple,
    serialize,
)

from ..errors import QuerySyntaxError

RdfInput = bytes | str | Path


# an IRI reference without a scheme (a relative IRI), e.g. <doc> or <#x>: a request needs a
# BASE only then (a BASE line moves the line numbers of a parser's messages by one)
RELATIVE_IRI = re.compile(r"<(?![A-Za-z][A-Za-z0-9+.-]*:)[^<>\"{}|^`\\\s]*>")


class TripleList:
    """The triples of a CONSTRUCT/DESCRIBE answer held in memory (remote backend).

    Offers what :class:`pyoxigraph.QueryTriples` offers: iteration and ``serialize``.
    """

    def __init__(self, triples: Iterable[Triple]):
        self._triples = list(triples)

    def __iter__(self) -> Iterator[Triple]:
        return iter(self._triples)

    def __len__(self) -> int:
        return len(self._triples)

    def serialize(self, output: BinaryIO | None = None, format: RdfFormat = RdfFormat.N_TRIPLES,
                  prefixes: dict[str, str] | None = None) -> bytes | None:
        return serialize(self._triples, output, format, prefixes=prefixes)


#: the triples of a CONSTRUCT or DESCRIBE answer: streamed (embedded) or held (remote)
Triples = QueryTriples | TripleList
#: what a query of any form gives
QueryResult = QuerySolutions | QueryBoolean | Triples


class Build(ABC):
    """A set of named graphs being written; invisible to readers until :meth:`commit`."""

    @abstractmethod
    def put_graph(self, graph: str, data: RdfInput, format: RdfFormat) -> None:
        """Stage ``data`` (a graph serialisation) as the full content of named graph ``graph``."""

    @abstractmethod
    def put_dataset(self, data: RdfInput, format: RdfFormat) -> set[str]:
        """Stage a dataset serialisation (N-Quads, TriG): each quad into its own graph.
        Returns the graphs it wrote."""

    @abstractmethod
    def staged(self) -> GraphStore:
        """What this build has staged so far, with what it keeps of the store, as a store
        to read (validation and findings read the build's working set through it)."""

    @abstractmethod
    def commit(self) -> None:
        """Publish every staged graph at once."""

    @abstractmethod
    def abort(self) -> None:
        """Forget what was staged; the published data stays as it was."""

    def __enter__(self) -> Build:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


class GraphStore(ABC):
    """A dataset of named graphs that answers SPARQL 1.1."""

    #: ``embedded`` or ``remote``
    kind: str = ""

    @abstractmethod
    def query(
        self,
        sparql: str,
        *,
        union_default_graph: bool = True,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        base_iri: str | None = None,
    ) -> QueryResult:
        """Run a SPARQL query (relative IRIs resolve against ``base_iri``).

        With ``union_default_graph`` (the default) the default graph is the union of every
        named graph; ``default_graphs``/``named_graphs`` give an explicit dataset instead,
        as the SPARQL protocol's ``default-graph-uri``/``named-graph-uri`` do.
        Raises :class:`~cbmkg.errors.QuerySyntaxError` with the parser's message.
        """

    def select(self, sparql: str, *, union_default_graph: bool = True,
               default_graphs: Sequence[str] | None = None, named_graphs: Sequence[str] | None = None,
               base_iri: str | None = None) -> QuerySolutions:
        """The solutions of a SELECT query (the keywords are those of :meth:`query`)."""
        result = self.query(sparql, union_default_graph=union_default_graph, default_graphs=default_graphs,
                            named_graphs=named_graphs, base_iri=base_iri)
        if not isinstance(result, QuerySolutions):
            raise QuerySyntaxError(f"expected a SELECT query, got {_form(result)}")
        return result

    def ask(self, sparql: str, *, union_default_graph: bool = True,
            default_graphs: Sequence[str] | None = None, named_graphs: Sequence[str] | None = None,
            base_iri: str | None = None) -> bool:
        """The answer of an ASK query."""
        result = self.query(sparql, union_default_graph=union_default_graph, default_graphs=default_graphs,
                            named_graphs=named_graphs, base_iri=base_iri)
        if not isinstance(result, QueryBoolean):
            raise QuerySyntaxError(f"expected an ASK query, got {_form(result)}")
        return bool(result)

    def construct(self, sparql: str, *, union_default_graph: bool = True,
                  default_graphs: Sequence[str] | None = None, named_graphs: Sequence[str] | None = None,
                  base_iri: str | None = None) -> Triples:
        """The triples of a CONSTRUCT or DESCRIBE query."""
        result = self.query(sparql, union_default_graph=union_default_graph, default_graphs=default_graphs,
                            named_graphs=named_graphs, base_iri=base_iri)
        if isinstance(result, QuerySolutions | QueryBoolean):
            raise QuerySyntaxError(f"expected a CONSTRUCT or DESCRIBE query, got {_form(result)}")
        return result

    @abstractmethod
    def update(self, sparql: str) -> None:
        """Run a SPARQL 1.1 Update (one transaction)."""

    @abstractmethod
    def graphs(self) -> list[str]:
        """IRIs of the named graphs, sorted."""

    @abstractmethod
    def begin(self, *, replace_all: bool = False) -> Build:
        """Start staging graphs. With ``replace_all`` the commit also drops every graph that
        was not staged, so the store holds exactly what this build wrote."""

    @abstractmethod
    def export(self, output: BinaryIO, format: RdfFormat = RdfFormat.N_QUADS) -> None:
        """Write every quad of the store (N-Quads or TriG)."""

    def version(self) -> str | None:
        """An identifier that changes whenever the data changes (for ETags), if known."""
        return None

    def modified(self) -> datetime | None:
        """When the data last changed (for Last-Modified), if known."""
        return None

    def drop_graph(self, graph: str) -> None:
        self.update(f"DROP SILENT GRAPH <{graph}>")

    def replace_graph(self, graph: str, data: RdfInput, format: RdfFormat) -> None:
        """Replace one named graph at once (a one-graph build)."""
        with self.begin() as build:
            build.put_graph(graph, data, format)

    def graph_ntriples(self, graph: str) -> bytes:
        """One named graph as N-Triples."""
        return self.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
                              union_default_graph=False).serialize(format=RdfFormat.N_TRIPLES) or b""

    def graph_sizes(self, graphs: Iterable[str] | None = None) -> dict[str, int]:
        """Quads of each named graph (or of ``graphs`` only)."""
        if graphs is not None:
            out = {}
            for g in graphs:
                rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}",
                                   union_default_graph=False)
                out[g] = int(next(rows)["n"].value)
            return out
        rows = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                           union_default_graph=False)
        return {row["g"].value: int(row["n"].value) for row in rows}

    def count(self) -> int:
        """Number of quads in the named graphs."""
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
                           union_default_graph=False)
        return int(next(rows)["n"].value)

    def export_bytes(self, format: RdfFormat = RdfFormat.N_QUADS) -> bytes:
        buf = io.BytesIO()
        self.export(buf, format)
        return buf.getvalue()

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files or connections."""

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _form(result: QueryResult) -> str:
    if isinstance(result, QuerySolutions):
        return "solutions (a SELECT query)"
    if isinstance(result, QueryBoolean):
        return "a boolean (an ASK query)"
    return "triples (a CONSTRUCT or DESCRIBE query)"


def serialized(items: Iterable[Triple] | Iterable[Quad], format: RdfFormat,
               prefixes: dict[str, str] | None = None) -> bytes:
    """Triples or quads written by pyoxigraph into bytes (its ``serialize`` without an
    output gives them, typed as optional)."""
    buffer = io.BytesIO()
    serialize(items, buffer, format, prefixes=prefixes)
    return buffer.getvalue()


def read_input(data: RdfInput) -> bytes:
    if isinstance(data, Path):
        return data.read_bytes()
    if isinstance(data, str):
        return data.encode("utf-8")
    return data
