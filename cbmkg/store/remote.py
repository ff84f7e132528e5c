"""Any SPARQL 1.1 server as the store (Fuseki, GraphDB, Virtuoso, Neptune, `oxigraph serve`…).

Only the standard protocols are used: SPARQL 1.1 Protocol for queries, SPARQL 1.1 Update
for writes, and the Graph Store Protocol, when its URL is configured, to read one graph.

**The union default graph.** cbmkg's queries read the union of the named graphs as their
default graph. Setting ``union`` says how a server gives it:

* ``server``: the server's own default graph is the union (``oxigraph serve
  --union-default-graph``; Virtuoso, whose default graph is every graph when a query names
  none; Fuseki with ``tdb2:unionDefaultGraph``): queries are sent as they are.
* ``protocol``: the query is sent with one ``default-graph-uri`` and one ``named-graph-uri``
  per named graph (any SPARQL 1.1 server; the request grows with the number of graphs).
* ``auto`` (the default): asks the server once whether a triple of a named graph is in its
  default graph; ``server`` if it is, else ``protocol``.

**Builds.** A build stages its graphs in a local Oxigraph store (its working set, which
validation and findings read), then uploads each graph under a private *staging* name
(``urn:cbmkg:staging:<build>:<n>``) with ``INSERT DATA`` requests of a bounded number of
triples (several small graphs to a request), and publishes them with one update
request of ``MOVE`` operations (plus ``DROP`` of graphs a full rebuild no longer has): a
server runs one update request as one transaction, so a query naming graphs sees the old
ones or the new ones. A request whose connection drops is sent again (a chunk of ground
triples is idempotent; a graph's blank-node triples travel in one request, and such a
graph is uploaded again from nothing if that request is lost). A build that dies leaves only staging
graphs, which the next build drops. With ``union=protocol`` queries never see staging
graphs; with ``server`` the server's union shows them while a build uploads them. A server
that will not take the whole publication in one request (Virtuoso 7.2: about 500 ``MOVE``
operations at most) gets it in several, and then it is not one transaction: the build
says so (``publish_requests``).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import requests
from pyoxigraph import (
    BlankNode,
    NamedNode,
    Quad,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
    Triple,
    parse,
    parse_query_results,
    serialize,
)

from ..errors import EndpointError, QuerySyntaxError, StoreError
from ..sparql_text import names_dataset
from .base import RELATIVE_IRI, Build, GraphStore, QueryResult, RdfInput, TripleList, serialized
from .embedded import EmbeddedStore, _put_dataset, _put_graph

STAGING = "urn:cbmkg:staging:"
RESULTS_JSON = "application/sparql-results+json"
#: by query form: asking for results only or RDF only keeps a server (Virtuoso) from
#: answering a CONSTRUCT with SPARQL JSON
ACCEPT_RESULTS = f"{RESULTS_JSON}, application/sparql-results+xml;q=0.9"
ACCEPT_RDF = "application/n-triples, text/plain;q=0.5"
#: triples per upload request: Virtuoso turns one INSERT DATA into SQL and refuses past
#: 10,000 lines of it (5,000 triples did)
CHUNK_TRIPLES = 1000
#: graphs one INSERT DATA writes at most (Virtuoso refuses 2,000 GRAPH blocks in one)
GRAPHS_PER_REQUEST = 200
#: update operations per request once a server has refused the publication in one
PUBLISH_BATCH = 400
#: a request whose connection drops is sent this many times in all
ATTEMPTS = 4
UNION_MODES = ("auto", "server", "protocol")
# the first keyword of a query after its prologue (comments, BASE, PREFIX)
_PROLOGUE = re.compile(r"(?:\s+|#[^\n]*|BASE\s*<[^>]*>|PREFIX\s+[^\s:]*:\s*<[^>]*>)*", re.IGNORECASE)
_FORM = re.compile(r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def query_form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE (upper case); SELECT when it cannot tell."""
    start = _PROLOGUE.match(sparql)
    match = _FORM.match(sparql, start.end() if start else 0)
    return match[1].upper() if match else "SELECT"


class RemoteStore(GraphStore):
    kind = "remote"

    def __init__(self, query_url: str, update_url: str | None = None, gsp_url: str | None = None,
                 auth: tuple[str, str] | None = None, timeout: float = 60.0, union: str = "auto",
                 chunk_triples: int = CHUNK_TRIPLES, graphs_prefix: str = ""):
        if union not in UNION_MODES:
            raise StoreError(f"unknown union setting '{union}' (use {', '.join(UNION_MODES)})")
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.gsp_url = gsp_url
        self.timeout = timeout
        self.chunk_triples = chunk_triples
        #: the graphs cbmkg manages on the server (lists, counts, drops in a rebuild); a
        #: server's own graphs (Virtuoso's system graphs) are left alone
        self.graphs_prefix = graphs_prefix
        #: update requests the last build's publication took (1: one transaction)
        self.publish_requests = 0
        self._publish_batch = 0  # 0: all in one request, until the server refuses that
        self.session = requests.Session()
        if auth:
            self.session.auth = auth
        self._union = union if union != "auto" else None

    def close(self) -> None:
        self.session.close()

    # -- HTTP ------------------------------------------------------------------------------
    def _send(self, method: str, url: str, what: str, attempts: int = ATTEMPTS,
              **kwargs: object) -> requests.Response:
        """One request, sent again when its connection drops (not when the server answers)."""
        for attempt in range(1, attempts + 1):
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)  # type: ignore[arg-type]  # requests' keywords
                break
            except requests.ConnectionError as e:
                if attempt == attempts:
                    raise EndpointError(f"cannot reach SPARQL endpoint {url}: {_short(e)}") from None
                time.sleep(0.2 * 2 ** attempt)
            except requests.RequestException as e:
                raise EndpointError(f"cannot reach SPARQL endpoint {url}: {_short(e)}") from None
        if response.status_code >= 400:
            message = response.text.strip().splitlines()[0:3]
            text = " ".join(message)[:500] or response.reason
            if response.status_code == 400:
                raise QuerySyntaxError(f"{what} rejected by {url}: {text}")
            raise EndpointError(f"{what} failed at {url}: HTTP {response.status_code}: {text}")
        return response

    def _post(self, url: str, what: str, **kwargs: object) -> requests.Response:
        return self._send("POST", url, what, ATTEMPTS, **kwargs)

    # -- the union default graph -------------------------------------------------------------
    @property
    def union(self) -> str:
        """``server`` or ``protocol`` (what ``auto`` found, asked once there is data)."""
        if self._union is None:
            found = self._detect_union()
            if found is None:
                return "protocol"  # nothing to tell by yet: the protocol is right anywhere
            self._union = found
        return self._union

    def _detect_union(self) -> str | None:
        rows = list(self._select_plain(
            "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
            f'FILTER(!isBlank(?s) && !isBlank(?o) && !STRSTARTS(STR(?g), "{STAGING}")) }} LIMIT 1'))
        if not rows:
            return None
        s, p, o = rows[0]["s"], rows[0]["p"], rows[0]["o"]
        answer = self._post(self.query_url, "query", data={"query": f"ASK {{ {s} {p} {o} }}"},
                            headers={"Accept": ACCEPT_RESULTS})
        result = _parse_answer(answer)
        return "server" if bool(result) else "protocol"

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
        if default_graphs is None and named_graphs is None and union_default_graph \
                and self.union == "protocol" and not names_dataset(sparql):
            default_graphs = self.graphs() or [STAGING + "none"]  # nothing loaded: an empty dataset
            # a protocol dataset without named-graph-uri has no named graphs: GRAPH
            # patterns must still see every graph, as in the embedded store
            named_graphs = default_graphs
        elif default_graphs is None and named_graphs is None and not union_default_graph:
            # the store's own default graph, which cbmkg keeps empty: ask for nothing in it
            default_graphs = [STAGING + "none"]
            named_graphs = [g for g in self.graphs()] or [STAGING + "none"]
        form += [("default-graph-uri", g) for g in default_graphs or ()]
        form += [("named-graph-uri", g) for g in named_graphs or ()]
        accept = ACCEPT_RDF if query_form(sparql) in ("CONSTRUCT", "DESCRIBE") else ACCEPT_RESULTS
        response = self._post(self.query_url, "query", data=form, headers={"Accept": accept})
        return _parse_answer(response)

    def _select_plain(self, sparql: str) -> QuerySolutions:
        """A SELECT on the server's own dataset (no dataset asked for)."""
        response = self._post(self.query_url, "query", data={"query": sparql},
                              headers={"Accept": ACCEPT_RESULTS})
        result = _parse_answer(response)
        if not isinstance(result, QuerySolutions):
            raise EndpointError(f"{self.query_url} answered a SELECT query with something else")
        return result

    def graphs(self) -> list[str]:
        """The named graphs, asked each time (a graph list kept for a while misses the graphs
        another process has just written)."""
        return sorted(g for g in self._all_graphs() if self._ours(g))

    def _ours(self, graph: str) -> bool:
        return graph.startswith(self.graphs_prefix) and not graph.startswith(STAGING)

    def _all_graphs(self) -> set[str]:
        # GROUP BY, not DISTINCT: Virtuoso 7.2 times out on SELECT DISTINCT ?g over 10,000
        # graphs and answers the GROUP BY at once
        result = self._select_plain("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return {row["g"].value for row in result if isinstance(row["g"], NamedNode)}

    def graph_sizes(self, graphs: Iterable[str] | None = None) -> dict[str, int]:
        if graphs is not None:
            return {g: int(next(self._select_plain(
                f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"))["n"].value) for g in graphs}
        result = self._select_plain(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return {row["g"].value: int(row["n"].value) for row in result if self._ours(row["g"].value)}

    def graph_ntriples(self, graph: str) -> bytes:
        if self.gsp_url:
            response = self._send("GET", self.gsp_url, "graph download", params={"graph": graph},
                                  headers={"Accept": ACCEPT_RDF})
            answer = _parse_answer(response)
            if not isinstance(answer, TripleList):
                raise EndpointError(f"{self.gsp_url} answered a graph request with query results")
            return serialized(answer, RdfFormat.N_TRIPLES)
        # on the server's own dataset: GRAPH <g> names its graph g whatever its default graph
        response = self._post(self.query_url, "query", headers={"Accept": ACCEPT_RDF}, data={
            "query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"})
        answer = _parse_answer(response)
        if not isinstance(answer, TripleList):
            raise EndpointError(f"{self.query_url} answered a CONSTRUCT query with query results")
        return serialized(answer, RdfFormat.N_TRIPLES)

    def export(self, output: BinaryIO, format: RdfFormat = RdfFormat.N_QUADS) -> None:
        for graph in self.graphs():  # graph by graph: one answer per graph, blank nodes kept apart
            data = self.graph_ntriples(graph)
            quads = (Quad(t.subject, t.predicate, t.object, NamedNode(graph))
                     for t in parse(data, format=RdfFormat.N_TRIPLES))
            serialize(quads, output, format)

    def count(self) -> int:
        ours = f' && STRSTARTS(STR(?g), "{self.graphs_prefix}")' if self.graphs_prefix else ""
        result = self._select_plain(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
            f'FILTER(!STRSTARTS(STR(?g), "{STAGING}"){ours}) }}')
        return int(next(result)["n"].value)

    # -- writing ---------------------------------------------------------------------------
    def update(self, sparql: str, *, resend: bool = True) -> None:
        """Run an update; ``resend=False`` when applying it twice would differ from once
        (blank nodes): a dropped connection then raises EndpointError at once."""
        self._send("POST", self.update_url, "update", attempts=ATTEMPTS if resend else 1,
                   data=sparql.encode("utf-8"),
                   headers={"Content-Type": "application/sparql-update; charset=utf-8"})

    def begin(self, *, replace_all: bool = False) -> Build:
        return _RemoteBuild(self, replace_all)

    def upload(self, graph: str, data: bytes, format: RdfFormat) -> None:
        """Write ``data`` into ``graph`` (which is empty)."""
        try:
            triples = list(parse(data, format=format))
        except SyntaxError as e:
            raise StoreError(f"cannot load graph {graph}: {e}") from None
        self.upload_graphs([(graph, triples)])

    def upload_graphs(self, graphs: Iterable[tuple[str, list[Triple]]]) -> None:
        """Write graphs (each empty on the server) with requests of at most ``chunk_triples``
        ground triples, several small graphs to a request; the triples with blank nodes of
        a graph go in one request of their own (a blank node is one node within one request
        only), sent again from a clean graph if that request is lost."""
        batch: list[tuple[str, list[Triple]]] = []
        filled = 0
        for graph, triples in graphs:
            ground = [t for t in triples if not _has_blank(t)]
            blank = [t for t in triples if _has_blank(t)]
            if blank:
                self._send_blank(graph, ground, blank)
                continue
            for start in range(0, len(ground), self.chunk_triples):
                piece = ground[start:start + self.chunk_triples]
                if batch and (filled + len(piece) > self.chunk_triples or len(batch) >= GRAPHS_PER_REQUEST):
                    self._insert(batch)
                    batch, filled = [], 0
                batch.append((graph, piece))
                filled += len(piece)
        if batch:
            self._insert(batch)

    def _send_blank(self, graph: str, ground: list[Triple], blank: list[Triple]) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            for start in range(0, len(ground), self.chunk_triples):
                self._insert([(graph, ground[start:start + self.chunk_triples])])
            try:
                # INSERT … WHERE {}, not INSERT DATA: Virtuoso refuses blank nodes in DATA
                body = serialized(blank, RdfFormat.N_TRIPLES).decode("utf-8")
                self.update(f"INSERT {{ GRAPH <{graph}> {{\n{body}}} }} WHERE {{}}", resend=False)
                return
            except EndpointError:
                if attempt == ATTEMPTS:
                    raise
                # lost on the way, it may have been applied: this graph once more from nothing
                self.update(f"DROP SILENT GRAPH <{graph}>")

    def _insert(self, graphs: list[tuple[str, list[Triple]]], resend: bool = True) -> None:
        body = "\n".join(f"GRAPH <{g}> {{\n{serialized(t, RdfFormat.N_TRIPLES).decode('utf-8')}}}"
                         for g, t in graphs)
        self.update(f"INSERT DATA {{\n{body}\n}}", resend=resend)


def _has_blank(triple: Triple) -> bool:
    return isinstance(triple.subject, BlankNode) or isinstance(triple.object, BlankNode)


class _RemoteBuild(Build):
    """Staged in a local Oxigraph store, uploaded at commit, published with one update."""

    def __init__(self, owner: RemoteStore, replace_all: bool):
        self.owner = owner
        self.replace_all = replace_all
        self.prefix = f"{STAGING}{uuid.uuid4().hex}:"
        self.folder = Path(tempfile.mkdtemp(prefix="cbmkg-build-"))
        self.writer: Store | None = Store(str(self.folder / "staging"))
        self.written: set[str] = set()
        self._views: list[EmbeddedStore] = []
        self.uploaded: dict[str, str] = {}  # target graph -> staging graph on the server
        self._drop_leftovers()

    def _drop_leftovers(self) -> None:
        stale = [g for g in self.owner._all_graphs() if g.startswith(STAGING)]
        for start in range(0, len(stale), 100):
            self.owner.update(";\n".join(f"DROP SILENT GRAPH <{g}>" for g in stale[start:start + 100]))

    def put_graph(self, graph: str, data: RdfInput, format: RdfFormat) -> None:
        assert self.writer is not None
        _put_graph(self.writer, graph, data, format, fresh=False)
        self.written.add(graph)

    def put_dataset(self, data: RdfInput, format: RdfFormat) -> set[str]:
        assert self.writer is not None
        graphs = _put_dataset(self.writer, data, format, fresh=False)
        self.written |= graphs
        return graphs

    def staged(self) -> EmbeddedStore:
        assert self.writer is not None
        view = EmbeddedStore.over(self.writer)
        self._views.append(view)
        return view

    def _graph_triples(self, graph: str) -> Iterator[Triple]:
        assert self.writer is not None
        for quad in self.writer.quads_for_pattern(None, None, None, NamedNode(graph)):
            yield quad.triple

    def commit(self) -> None:
        if self.writer is None:
            return
        todo = sorted(self.written)
        names = {graph: f"{self.prefix}{n}" for n, graph in enumerate(todo)}
        self.owner.upload_graphs((names[g], list(self._graph_triples(g))) for g in todo)
        self.uploaded = names
        ops = [f"MOVE SILENT GRAPH <{staging}> TO GRAPH <{target}>"
               for target, staging in self.uploaded.items()]
        if self.replace_all:
            ops += [f"DROP SILENT GRAPH <{g}>" for g in self.owner.graphs() if g not in self.uploaded]
        self.owner.publish_requests = self._publish(ops)
        self._close()

    def _publish(self, ops: list[str]) -> int:
        """Run the publication in one update request (one transaction). A server that
        refuses a request that large (Virtuoso 7.2 compiles at most about 500 MOVE
        operations into one) gets it in requests of PUBLISH_BATCH operations from then on:
        no longer one transaction, which the build reports. Returns the number of requests."""
        if not ops:
            return 0
        batch = self.owner._publish_batch or len(ops)
        if batch >= len(ops):
            try:
                self.owner.update(";\n".join(ops))
                return 1
            except (EndpointError, QuerySyntaxError):
                if len(ops) <= PUBLISH_BATCH:
                    raise
                self.owner._publish_batch = batch = PUBLISH_BATCH
        for start in range(0, len(ops), batch):
            self.owner.update(";\n".join(ops[start:start + batch]))
        return -(-len(ops) // batch)

    def abort(self) -> None:
        if self.writer is None:
            return
        if self.uploaded:
            try:
                self.owner.update(";\n".join(f"DROP SILENT GRAPH <{g}>" for g in self.uploaded.values()))
            except StoreError:
                pass  # leftovers are dropped by the next build, and never queried
        self._close()

    def _close(self) -> None:
        for view in self._views:  # nothing keeps the local store open once its folder goes
            view._store = Store()
        self._views.clear()
        self.writer = None
        self.uploaded.clear()
        shutil.rmtree(self.folder, ignore_errors=True)


def _parse_answer(response: requests.Response) -> QueryResult:
    media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media == "text/plain":  # N-Triples under its old media type (Virtuoso)
        media = "application/n-triples"
    results_format = QueryResultsFormat.from_media_type(media) if media else None
    content = response.content
    if b"nodeID://" in content:
        # Virtuoso names blank nodes nodeID://b123 in its answers, not a blank node label
        content = content.replace(b"nodeID://", b"")
    try:
        if results_format is not None:
            return parse_query_results(content, format=results_format)
        rdf_format = RdfFormat.from_media_type(media) if media else None
        if rdf_format is None:
            raise EndpointError(f"the endpoint answered with unknown media type {media!r}")
        return TripleList(q.triple for q in parse(content, format=rdf_format))
    except SyntaxError as e:
        raise EndpointError(f"the endpoint's answer does not parse: {e}") from None


def _short(error: Exception) -> str:
    if isinstance(error, requests.Timeout):
        return "no answer in time"
    if isinstance(error, requests.ConnectionError):
        return "connection failed (is the server running and the URL right?)"
    text = str(error)
    return text if len(text) < 200 else text[:200] + "…"
