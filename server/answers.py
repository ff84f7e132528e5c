"""Turning a query into the bytes of an HTTP answer, with no Flask in sight, so that the same
code runs in the server's threads and in its query worker processes (``workers.py``).

A *job* says what to run and what the client accepts; ``answer`` runs it on a store, picks the
format (``format`` parameter first, then ``Accept`` with q-values), and writes at most
``limit`` rows or triples. A capped answer is announced in headers, never cut silently.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    parse,
    parse_query_results,
)

from cbmkg.errors import CbmkgError, evaluation_error
from cbmkg.namespaces import PREFIXES
from cbmkg.store import GraphStore, QueryResult, Triples
from cbmkg.store.base import serialized

from .errors import accepted, status_of

RESULTS = {
    "application/sparql-results+json": QueryResultsFormat.JSON,
    "application/sparql-results+xml": QueryResultsFormat.XML,
    "text/csv": QueryResultsFormat.CSV,
    "text/tab-separated-values": QueryResultsFormat.TSV,
    "application/json": QueryResultsFormat.JSON,
}
GRAPHS = {
    "text/turtle": RdfFormat.TURTLE,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "application/rdf+xml": RdfFormat.RDF_XML,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/n-quads": RdfFormat.N_QUADS,
    "application/trig": RdfFormat.TRIG,
    "text/n3": RdfFormat.TURTLE,  # Turtle is N3 without its extensions
    "text/rdf+n3": RdfFormat.TURTLE,
}
# short names for the ``format`` parameter (the ones SPARQLWrapper and YASGUI send too)
SHORT_RESULTS = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
                 "csv": "text/csv", "tsv": "text/tab-separated-values"}
SHORT_GRAPHS = {"turtle": "text/turtle", "ttl": "text/turtle", "n3": "text/turtle",
                "nt": "application/n-triples", "ntriples": "application/n-triples",
                "xml": "application/rdf+xml", "rdfxml": "application/rdf+xml",
                "json-ld": "application/ld+json", "jsonld": "application/ld+json",
                "json": "application/ld+json", "nquads": "application/n-quads", "trig": "application/trig",
                "rdf+xml": "application/rdf+xml",  # SPARQLWrapper's RDF/XML mode
                "n-triples": "application/n-triples"}


@dataclass(slots=True)  # made once per request: slots, not frozen (cheaper to build)
class Job:
    query: str
    default_graphs: list[str] | None = None
    named_graphs: list[str] | None = None
    base_iri: str | None = None
    format: str | None = None  # the ``format`` parameter, if any
    accept: str | None = None  # the Accept header, if any
    limit: int = 100_000


@dataclass
class Answer:
    status: int
    body: bytes
    media: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, status: int, message: str) -> Answer:
        return cls(status, (message.rstrip() + "\n").encode())


def bad_iri(text: str) -> str | None:
    """Why ``text`` is not an absolute IRI (a message), or None when it is one."""
    try:
        NamedNode(text)
    except ValueError as e:
        return f"not an absolute IRI: {text!r} ({e})"
    return None


def dataset_refusal(default_graphs: list[str] | None, named_graphs: list[str] | None) -> str | None:
    """Why the protocol's dataset parameters cannot be used (a message), or None."""
    for name, iris in (("default-graph-uri", default_graphs), ("named-graph-uri", named_graphs)):
        for iri in iris or ():
            problem = bad_iri(iri)
            if problem:
                return f"{name}: {problem}"
    return None


@functools.lru_cache(maxsize=256)  # clients send the same few Accept headers again and again
def choose_media(is_graph: bool, wanted: str | None, accept: str | None) -> str | Answer:
    """The media type to answer in, or a 406 answer naming what is offered."""
    offered = GRAPHS if is_graph else RESULTS
    if wanted:
        media = (SHORT_GRAPHS if is_graph else SHORT_RESULTS).get(wanted, wanted)
        if media not in offered:
            return Answer.text(406, f"format {wanted!r} is not offered for this answer "
                                    f"({', '.join(offered)})")
        return media
    if not accept:
        return next(iter(offered))
    best = accepted(accept).best_match(list(offered))
    if best is None:
        return Answer.text(406, f"none of the accepted types is offered ({', '.join(offered)})")
    return best


def answer(store: GraphStore, job: Job) -> Answer:
    try:
        result = store.query(job.query, union_default_graph=True, default_graphs=job.default_graphs,
                             named_graphs=job.named_graphs, base_iri=job.base_iri)
    except CbmkgError as e:
        return Answer.text(status_of(e), str(e))
    return write(result, job)


def write(result: QueryResult, job: Job) -> Answer:
    """The answer in the chosen format, capped at ``job.limit`` rows or triples."""
    is_graph = not isinstance(result, QueryBoolean | QuerySolutions)
    media = choose_media(is_graph, job.format, job.accept)
    if isinstance(media, Answer):
        return media
    headers = {"Cbmkg-Result-Limit": str(job.limit)}
    truncated = False
    try:
        if isinstance(result, QueryBoolean):
            body = result.serialize(format=RESULTS[media]) or b""
        elif isinstance(result, QuerySolutions):
            body, truncated = _solutions(result, RESULTS[media], job.limit)
        else:
            body, truncated = _triples(result, GRAPHS[media], job.limit)
    except (OSError, RuntimeError) as e:  # raised while the answer is evaluated (lazily)
        error = evaluation_error(e)
        if error is None:
            return Answer.text(500, f"cannot write the answer: {e}")
        return Answer.text(status_of(error), str(error))
    except (ValueError, SyntaxError) as e:
        return Answer.text(500, f"cannot write the answer: {e}")
    if truncated:
        headers["Cbmkg-Truncated"] = "true"
        headers["Warning"] = f'199 cbmkg "answer cut at {job.limit} ' \
                             f'{"triples" if is_graph else "rows"} (result_limit)"'
    return Answer(200, body, media, headers)


class _Full(Exception):
    """Raised by _Lines when it has what it needs: pyoxigraph stops writing (and evaluating)."""


class _Lines(io.BytesIO):
    """A file for pyoxigraph's writers that takes at most ``lines`` lines, then stops the
    writer: an answer past result_limit is never written out whole (a cross product of
    the store with itself would be gigabytes of TSV before being cut)."""

    def __init__(self, lines: int):
        super().__init__()
        self.left = lines

    def write(self, data: Any) -> int:
        written = super().write(data)
        self.left -= bytes(data).count(b"\n")
        if self.left <= 0:
            raise _Full()
        return written


def _at_most(write: Callable[[_Lines], object], lines: int) -> bytes:
    """What ``write`` writes, up to about ``lines`` lines (the caller cuts exactly)."""
    out = _Lines(lines)
    try:
        write(out)
    except _Full:
        pass
    except OSError:
        if out.left > 0:
            raise
    return out.getvalue()


def _triples(result: Triples, format: RdfFormat, limit: int) -> tuple[bytes, bool]:
    """Triples in ``format``, at most ``limit``: written as N-Triples first (one triple a
    line), cut there, then read back and written in the format asked for, all by pyoxigraph."""
    nt = _at_most(lambda out: result.serialize(out, format=RdfFormat.N_TRIPLES), limit + 1)
    lines = nt.split(b"\n", limit)
    truncated = len(lines) > limit and lines[limit] != b""
    if truncated:
        nt = b"\n".join(lines[:limit]) + b"\n"
    if format is RdfFormat.N_TRIPLES:
        return nt, truncated
    triples = (q.triple for q in parse(nt, format=RdfFormat.N_TRIPLES))
    return serialized(triples, format, PREFIXES if format is RdfFormat.TURTLE else None), truncated


def _solutions(result: QuerySolutions, format: QueryResultsFormat, limit: int) -> tuple[bytes, bool]:
    """Solutions in ``format``, at most ``limit`` rows. They are written as SPARQL TSV first
    (one row per line: literals escape their line breaks), which counts and cuts them in
    bytes, then read back and written in the format asked for, all by pyoxigraph: as fast
    as writing them directly (benchmarks/endpoint_load.py), and lossless."""
    tsv = _at_most(lambda out: result.serialize(out, format=QueryResultsFormat.TSV), limit + 2)
    lines = tsv.split(b"\n", limit + 1)
    truncated = len(lines) > limit + 1 and lines[limit + 1] != b""
    if truncated:
        tsv = b"\n".join(lines[:limit + 1]) + b"\n"
    if format is QueryResultsFormat.TSV:
        return tsv, truncated
    cut = parse_query_results(tsv, format=QueryResultsFormat.TSV)
    return cut.serialize(format=format) or b"", truncated
