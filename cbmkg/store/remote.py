"""Any SPARQL 1.1 server as the store (Fuseki, GraphDB, Virtuoso, Neptune, `oxigraph serve`…).

Only the standard protocols are used: SPARQL 1.1 Protocol for queries, SPARQL 1.1 Update
for writes, and the Graph Store Protocol for uploads when its URL is configured (otherwise
uploads go through ``INSERT DATA``).

Atomic publication: a build uploads every graph under a private *staging* name
(``urn:cbmkg:staging:<build>:<n>``) and publishes them with one update request made of
``MOVE`` operations (plus ``DROP`` of graphs a full rebuild no longer has). A server runs
one update request as one transaction, so readers see the old graphs or the new ones. A
build that dies leaves only staging graphs behind, which the next build drops and which
queries never see (they are left out of the union default graph).

The union default graph is asked for with the protocol's own means: the query is sent
with one ``default-graph-uri`` per named graph, so it works on servers whose default graph
is not the union.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import BinaryIO

import requests
from pyoxigraph import (
    NamedNode,
    Quad,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Triple,
    parse,
    parse_query_results,
    serialize,
)

from ..errors import EndpointError, QuerySyntaxError, StoreError
from ..sparql_text import names_dataset
from .base import RELATIVE_IRI, Build, GraphStore, QueryResult, RdfInput, TripleList, read_input, serialized

STAGING = "urn:cbmkg:staging:"
RESULTS_JSON = "application/sparql-results+json"
ACCEPT = f"{RESULTS_JSON}, application/n-triples;q=0.9"
INSERT_BATCH = 5000  # triples per INSERT DATA request when no Graph Store Protocol is set


class RemoteStore(GraphStore):
    kind = "remote"

    def __init__(self, query_url: str, update_url: str | None = None, gsp_url: str | None = None,
                 auth: tuple[str, str] | None = None, timeout: float = 60.0):
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.gsp_url = gsp_url
        self.timeout = timeout
        self.session = requests.Session()
        if auth:
            self.session.auth = auth
        self._graph_cache: tuple[float, list[str]] | None = None

    def close(self) -> None:
        self.session.close()

    # -- HTTP ------------------------------------------------------------------------------
    def _post(self, url: str, what: str, **kwargs: object) -> requests.Response:
        try:
            response = self.session.post(url, timeout=self.timeout, **kwargs)  # type: ignore[arg-type]  # requests' keywords
        except requests.RequestException as e:
            raise EndpointError(f"cannot reach SPARQL endpoint {url}: {_short(e)}") from None
        if response.status_code >= 400:
            message = response.text.strip().splitlines()[0:3]
            text = " ".join(message)[:500] or response.reason
            if response.status_code == 400:
                raise QuerySyntaxError(f"{what} rejected by {url}: {text}")
            raise EndpointError(f"{what} failed at {url}: HTTP {response.status_code}: {text}")
        return response

    # -- reading ---------------------------------------------------------------------------
    def query(self, sparql: str, *, union_default_graph: bool = True,
              default_graphs: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None, base_iri: str | None = None) -> QueryResult:
        if base_iri and RELATIVE_IRI.search(sparql):
            # a later BASE in the query itself still wins; only added when needed, as it
            # moves the line numbers of the remote parser's messages by one
            sparql = f"BASE <{NamedNode(base_iri).value}>\n{sparql}"
        form: list[tuple[str, str]] = [("query", sparql)]
        # a query that names its dataset (FROM, FROM NAMED) gets it, not the union
        if default_graphs is None and union_default_graph and not names_dataset(sparql):
            default_graphs = self.graphs()
            if not default_graphs:  # nothing loaded: an empty dataset, not the server default
                default_graphs = [STAGING + "none"]
            if named_graphs is None:
                # a protocol dataset without named-graph-uri has no named graphs: GRAPH
                # patterns must still see every graph, as in the embedded store
                named_graphs = [g for g in default_graphs if not g.startswith(STAGING)] \
                    or [STAGING + "none"]
        form += [("default-graph-uri", g) for g in default_graphs or ()]
        form += [("named-graph-uri", g) for g in named_graphs or ()]
        response = self._post(self.query_url, "query", data=form, headers={"Accept": ACCEPT})
        return _parse_answer(response)

    def _select_plain(self, sparql: str) -> QuerySolutions:
        """A SELECT on the server's own dataset (no union asked for)."""
        response = self._post(self.query_url, "query", data={"query": sparql},
                              headers={"Accept": ACCEPT})
        result = _parse_answer(response)
        if not isinstance(result, QuerySolutions):
            raise EndpointError(f"{self.query_url} answered a SELECT query with something else")
        return result

    def graphs(self) -> list[str]:
        cached = self._graph_cache
        if cached and time.monotonic() - cached[0] < 2.0:
            return cached[1]
        names = sorted(g for g in self._all_graphs() if not g.startswith(STAGING))
        self._graph_cache = (time.monotonic(), names)
        return names

    def _all_graphs(self) -> set[str]:
        result = self._select_plain("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return {row["g"].value for row in result}

    def export(self, output: BinaryIO, format: RdfFormat = RdfFormat.N_QUADS) -> None:
        result = self._select_plain(
            "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g")
        quads = (Quad(r["s"], r["p"], r["o"], r["g"]) for r in result
                 if not r["g"].value.startswith(STAGING))
        serialize(quads, output, format)

    def count(self) -> int:
        result = self._select_plain(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
            f'FILTER(!STRSTARTS(STR(?g), "{STAGING}")) }}')
        return int(next(result)["n"].value)

    # -- writing ---------------------------------------------------------------------------
    def update(self, sparql: str) -> None:
        self._post(self.update_url, "update", data=sparql.encode("utf-8"),
                   headers={"Content-Type": "application/sparql-update; charset=utf-8"})
        self._graph_cache = None

    def begin(self, *, replace_all: bool = False) -> Build:
        return _RemoteBuild(self, replace_all)

    def upload(self, graph: str, data: bytes, format: RdfFormat) -> None:
        """Write ``data`` into ``graph`` (which is empty), by GSP or INSERT DATA."""
        if self.gsp_url:
            self._post_gsp(graph, data, format)
            return
        try:
            triples = list(parse(data, format=format))
        except SyntaxError as e:
            raise StoreError(f"cannot load graph {graph}: {e}") from None
        for start in range(0, len(triples), INSERT_BATCH):
            body = serialized(triples[start:start + INSERT_BATCH], RdfFormat.N_TRIPLES)
            self.update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{body.decode('utf-8')}\n}} }}")

    def _post_gsp(self, graph: str, data: bytes, format: RdfFormat) -> None:
        assert self.gsp_url is not None
        try:
            response = self.session.put(
                self.gsp_url, params={"graph": graph}, data=data,
                headers={"Content-Type": format.media_type}, timeout=self.timeout)
        except requests.RequestException as e:
            raise EndpointError(f"cannot reach graph store {self.gsp_url}: {_short(e)}") from None
        if response.status_code >= 400:
            raise EndpointError(
                f"upload of {graph} to {self.gsp_url} failed: HTTP {response.status_code}: "
                f"{response.text[:300]}")


class _RemoteBuild(Build):
    def __init__(self, owner: RemoteStore, replace_all: bool):
        self.owner = owner
        self.replace_all = replace_all
        self.prefix = f"{STAGING}{uuid.uuid4().hex}:"
        self.staged: dict[str, str] = {}  # target graph -> staging graph
        self._drop_leftovers()

    def _drop_leftovers(self) -> None:
        stale = [g for g in self.owner._all_graphs() if g.startswith(STAGING)]
        if stale:
            self.owner.update(";\n".join(f"DROP SILENT GRAPH <{g}>" for g in stale))

    def _stage(self, graph: str) -> str:
        if graph not in self.staged:
            self.staged[graph] = f"{self.prefix}{len(self.staged)}"
        return self.staged[graph]

    def put_graph(self, graph: str, data: RdfInput, format: RdfFormat) -> None:
        self.owner.upload(self._stage(graph), read_input(data), format)

    def put_dataset(self, data: RdfInput, format: RdfFormat) -> None:
        by_graph: dict[str, list[Triple]] = {}
        try:
            for quad in parse(read_input(data), format=format):
                if not isinstance(quad.graph_name, NamedNode):
                    raise StoreError("a dataset put triples in the default graph; every triple "
                                     "of the store must be in a named graph")
                by_graph.setdefault(quad.graph_name.value, []).append(quad.triple)
        except SyntaxError as e:
            raise StoreError(f"cannot load dataset: {e}") from None
        for graph, triples in by_graph.items():
            body = serialized(triples, RdfFormat.N_TRIPLES)
            self.owner.upload(self._stage(graph), body, RdfFormat.N_TRIPLES)

    def commit(self) -> None:
        ops = [f"MOVE SILENT GRAPH <{staging}> TO GRAPH <{target}>"
               for target, staging in self.staged.items()]
        if self.replace_all:
            ops += [f"DROP SILENT GRAPH <{g}>" for g in self.owner.graphs() if g not in self.staged]
        if ops:
            self.owner.update(";\n".join(ops))
        self.staged.clear()

    def abort(self) -> None:
        if self.staged:
            try:
                self.owner.update(";\n".join(f"DROP SILENT GRAPH <{g}>"
                                             for g in self.staged.values()))
            except StoreError:
                pass  # leftovers are dropped by the next build, and never queried
        self.staged.clear()


def _parse_answer(response: requests.Response) -> QueryResult:
    media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    results_format = QueryResultsFormat.from_media_type(media) if media else None
    try:
        if results_format is not None:
            return parse_query_results(response.content, format=results_format)
        rdf_format = RdfFormat.from_media_type(media) if media else None
        if rdf_format is None:
            raise EndpointError(f"the endpoint answered with unknown media type {media!r}")
        return TripleList(q.triple for q in parse(response.content, format=rdf_format))
    except SyntaxError as e:
        raise EndpointError(f"the endpoint's answer does not parse: {e}") from None


def _short(error: Exception) -> str:
    if isinstance(error, requests.Timeout):
        return "no answer in time"
    if isinstance(error, requests.ConnectionError):
        return "connection failed (is the server running and the URL right?)"
    text = str(error)
    return text if len(text) < 200 else text[:200] + "…"
