"""What every answer of the server carries or is counted in: ETags tied to the dataset's
version (and 304 for an unchanged answer), gzip for clients that accept it, CORS (any
origin may read; preflights answered), errors as plain text naming the problem, Prometheus
metrics at ``/metrics``, and one structured log line per SPARQL request."""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Request, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from werkzeug.utils import cached_property

from .errors import accepted

log = logging.getLogger("cbmkg.server.queries")
T = TypeVar("T")


class Metrics:
    """Prometheus metrics of one app. Under ``cbmkg serve`` (several gunicorn processes) the
    counters live in ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds up every process,
    including those that ended by stopping a query."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("cbmkg_http_requests", "HTTP requests by endpoint and status.",
                                ["endpoint", "status"], registry=self.registry)
        self.seconds = Histogram("cbmkg_http_request_seconds", "Time spent answering, by endpoint.",
                                 ["endpoint"], registry=self.registry,
                                 buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
        self.timeouts = Counter("cbmkg_query_timeouts", "Queries stopped at query_timeout.",
                                registry=self.registry)

        # the labelled children, kept: looking them up is most of what counting costs
        self._children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}

    def count(self, endpoint: str, status: int, seconds: float) -> None:
        children = self._children.get((endpoint, status))
        if children is None:
            children = self._children[endpoint, status] = (
                self.requests.labels(endpoint, str(status)), self.seconds.labels(endpoint))
        children[0].inc()
        children[1].observe(seconds)

    def timed_out(self) -> None:
        self.timeouts.inc()

    def text(self, triples: int) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = self.registry
        store = ("# HELP cbmkg_store_triples Quads in the store's named graphs.\n"
                 f"# TYPE cbmkg_store_triples gauge\ncbmkg_store_triples {triples}\n")
        return generate_latest(registry) + store.encode()


class CbmkgRequest(Request):
    """Flask's request, with Accept read as every format choice here reads it (errors.accepted)."""

    @cached_property
    def accept_mimetypes(self) -> MIMEAccept:
        return accepted(self.headers.get("Accept", ""))


def install(app: Flask) -> None:
    app.request_class = CbmkgRequest
    # gunicorn's error log writes %(process)d: a record must carry its process, or the
    # line fails to format ("--- Logging error ---"); os.getpid() is cheap
    logging.logProcesses = True
    metrics = Metrics()
    app.extensions["cbmkg.metrics"] = metrics

    @app.before_request
    def _start() -> Response | None:
        g.started = time.perf_counter()
        version = current_app.extensions["cbmkg.store"].version()
        if version and request.method in ("GET", "HEAD") and request.endpoint != "metrics":
            g.etag = etag_of(version, request.environ)
            if g.etag in request.if_none_match:
                return Response(status=304, headers={"ETag": f'"{g.etag}"', "Vary": "Accept"})
            g.modified = current_app.extensions["cbmkg.store"].modified()
            since = request.if_modified_since
            if g.modified and since and not request.if_none_match and g.modified <= since:
                return Response(status=304, headers={"Vary": "Accept"})
        return None

    @app.after_request
    def _finish(response: Response) -> Response:
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        metrics.count(request.endpoint or "unknown", response.status_code, seconds)
        _cors(response)
        _compress(response)
        if g.get("etag") and response.status_code == 200:
            response.set_etag(g.etag)
            if g.get("modified"):
                response.last_modified = g.modified
        if request.endpoint in ("sparql.sparql", "named.run"):
            log_query(request.endpoint, request.method, response.status_code, seconds,
                      response.calculate_content_length(), g.get("query") or request.full_path)
        return response

    @app.get("/metrics")
    def metrics_page() -> Response:
        triples = current_app.extensions["cbmkg.store"].count()
        return Response(metrics.text(triples), content_type=CONTENT_TYPE_LATEST)


CORS_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS"  # PUT, DELETE: Graph Store writes
CORS_HEADERS = "Accept, Content-Type, Authorization"
EXPOSED = "Cbmkg-Truncated, Cbmkg-Result-Limit, Warning, ETag, Content-Disposition"


def _cors(response: Response) -> None:
    """Any web page may query (the data is public); a preflight learns what it may send."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "86400"


MIN_GZIP = 1024  # below this, compressing costs more than it saves


def _compress(response: Response) -> None:
    if response.direct_passthrough or response.status_code != 200 or \
            "Content-Encoding" in response.headers or request.method == "HEAD":
        return
    response.vary.add("Accept-Encoding")
    body = response.get_data()
    packed = gzipped(body, request.headers.get("Accept-Encoding"))
    if packed is not body:
        response.set_data(packed)
        response.headers["Content-Encoding"] = "gzip"


# -- shared with the fast path (fastpath.py), so both answer alike ---------------------------
SHORT = 8192  # characters: longer arguments are not cached (a GET query string has no limit)


def cached_if_short(maxsize: int) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """``functools.lru_cache`` for calls whose string arguments are short together: clients
    send the same queries again and again, but a cache must not keep megabytes per entry."""
    def wrap(function: Callable[..., T]) -> Callable[..., T]:
        cached = functools.lru_cache(maxsize=maxsize)(function)

        @functools.wraps(function)
        def call(*args: str) -> T:
            if sum(len(a) for a in args) <= SHORT:
                return cached(*args)
            return function(*args)
        return call
    return wrap


def etag_of(version: str, environ: dict[str, Any]) -> str:
    """The ETag of a GET: the store's generation, the request's path and query string, and
    what it accepts (the answer varies with Accept and Accept-Encoding)."""
    return _etag(version, environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
                 environ.get("HTTP_ACCEPT", ""), environ.get("HTTP_ACCEPT_ENCODING", ""))


@cached_if_short(1024)
def _etag(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:20]


def gzipped(body: bytes, accept_encoding: str | None) -> bytes:
    """``body`` gzipped when the client accepts gzip and it is worth it, else ``body`` itself."""
    if len(body) < MIN_GZIP or not accept_encoding or \
            "gzip" not in parse_accept_header(accept_encoding):
        return body
    return gzip.compress(body, compresslevel=5)


def log_query(endpoint: str, method: str, status: int, seconds: float, size: int | None,
              query: str) -> None:
    """One JSON line per query. Written by hand, not by json.dumps: every field is a number,
    a hash, a name of this server's own or an HTTP method (a token: no quotes, no
    backslashes), so none needs escaping. The log line was a sixth of a point lookup's Python."""
    if log.isEnabledFor(logging.INFO):
        log.info(_LOG_LINE, endpoint, method, status, seconds * 1000,
                 "null" if size is None else size, _query_hash(query))


_LOG_LINE = ('{"event": "query", "endpoint": "%s", "method": "%s", "status": %d, "ms": %.2f, '
             '"bytes": %s, "query_sha1": "%s"}')


@cached_if_short(1024)
def _query_hash(query: str) -> str:
    return hashlib.sha1(query.encode("utf-8", "surrogateescape")).hexdigest()[:12]
