"""The common case without Flask: a plain ``GET`` or ``HEAD`` of ``/sparql?query=…``.

Flask's request and response objects cost more Python per request than Oxigraph needs to
answer a point lookup: measured in-process on the bundled corpus, a DESCRIBE of one IRI
takes about 120 µs through this path and 330 µs through Flask's (the engine's own share:
about 25 µs), so this path roughly doubles the point lookups a worker answers per second.
It answers through the same function as the Flask view (``sparql.respond``: refusals,
runner, envelope, ETag), and adds what Flask's hooks add to every answer (CORS, gzip,
metrics, the query log) with the same helpers (``manners``). Everything else goes to Flask:
other routes and methods, conditional requests, parameters it does not know.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from flask import Flask

from .manners import EXPOSED, cached_if_short, gzipped, log_query
from .sparql import respond

KNOWN = {"query", "format", "default-graph-uri", "named-graph-uri"}
StartResponse = Callable[..., Any]


class FastSparql:
    def __init__(self, app: Flask):
        self.app = app
        self.flask = app.wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if environ.get("PATH_INFO") != "/sparql" or method not in ("GET", "HEAD") or \
                "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ:
            return self.flask(environ, start_response)
        params = _parameters(environ.get("QUERY_STRING", ""))
        if params is None:
            return self.flask(environ, start_response)
        queries = params.get("query", [])
        if len(queries) != 1 or not params.keys() <= KNOWN or len(params.get("format", [])) > 1:
            return self.flask(environ, start_response)
        started = time.perf_counter()
        reply = respond(self.app, environ, queries[0], params.get("default-graph-uri"),
                        params.get("named-graph-uri"), next(iter(params.get("format", ())), None) or None)
        body = reply.body
        fields = {**reply.headers, "Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSED}
        if reply.status == 200:
            fields["Vary"] = "Accept, Accept-Encoding"
        headers = list(fields.items())
        if reply.status == 200:
            if method == "GET":
                packed = gzipped(body, environ.get("HTTP_ACCEPT_ENCODING"))
                if packed is not body:
                    body = packed
                    headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{reply.status} {_reason(reply.status)}", headers)
        seconds = time.perf_counter() - started
        self.app.extensions["cbmkg.metrics"].count("sparql.sparql", reply.status, seconds)
        log_query("sparql.sparql", method, reply.status, seconds, len(body), queries[0])
        return [] if method == "HEAD" else [body]


@cached_if_short(512)
def _parameters(query_string: str) -> dict[str, list[str]] | None:
    """The parameters of a query string (None if not UTF-8); callers must not change them."""
    try:
        return parse_qs(query_string, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return None


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
