"""The common case without Flask: a plain ``GET`` or ``HEAD`` of ``/sparql?query=…``.

Flask's request and response objects cost about a millisecond of Python per request, more
than Oxigraph needs to answer a point lookup (benchmarks/endpoint_load.py). This WSGI
middleware answers such requests itself, with the same pieces the Flask views use (the
SERVICE check, the runner, the answer writer, ETag, gzip, CORS, metrics, the query log,
all shared), and hands everything else to Flask: other routes and methods, conditional
requests, parameters it does not know, refusals.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from flask import Flask
from werkzeug.http import http_date

from .answers import Job, dataset_refusal
from .errors import envelope, hidden_folders
from .manners import EXPOSED, cached_if_short, etag_of, gzipped, log_query
from .safety import refused_services

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
        config = self.app.config["CBMKG"]
        if _refused(queries[0], config.service_allowlist, _base(environ)) or \
                dataset_refusal(params.get("default-graph-uri"), params.get("named-graph-uri")):
            return self.flask(environ, start_response)  # Flask writes the refusal
        return self._answer(environ, start_response, params, method)

    def _answer(self, environ: dict[str, Any], start_response: StartResponse,
                params: dict[str, list[str]], method: str) -> Iterable[bytes]:
        started = time.perf_counter()
        config = self.app.config["CBMKG"]
        store = self.app.extensions["cbmkg.store"]
        refresh = getattr(store, "refresh", None)
        if refresh is not None:
            refresh()  # a build may have published a new generation
        query = params["query"][0]
        job = Job(query, list(params.get("default-graph-uri", ())) or None,
                  list(params.get("named-graph-uri", ())) or None,
                  base_iri=_base(environ),
                  format=next(iter(params.get("format", ())), None) or None,
                  accept=environ.get("HTTP_ACCEPT") or None, limit=config.result_limit)
        answer = self.app.extensions["cbmkg.runner"].run(job, config.query_timeout,
                                                          environ.get("gunicorn.socket"))
        body = answer.body
        media = f"{answer.media}; charset=utf-8"
        if answer.status != 200:  # a refusal or failure: the envelope the client accepts
            media, body = envelope(answer.status, body.decode("utf-8", "replace"), environ.get("HTTP_ACCEPT"),
                                   hidden_folders(config))
            answer.headers["Vary"] = "Accept"
        headers = [("Content-Type", media), *answer.headers.items(),
                   ("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", EXPOSED)]
        if answer.status == 200:
            headers.append(("Vary", "Accept, Accept-Encoding"))
            version = store.version()
            if version:
                headers.append(("ETag", f'"{etag_of(version, environ)}"'))
                modified = store.modified()
                if modified is not None:
                    headers.append(("Last-Modified", _http_date(modified)))
            if method == "GET":
                packed = gzipped(body, environ.get("HTTP_ACCEPT_ENCODING"))
                if packed is not body:
                    body = packed
                    headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{answer.status} {_REASONS.get(answer.status, 'Error')}", headers)
        seconds = time.perf_counter() - started
        self.app.extensions["cbmkg.metrics"].count("sparql.sparql", answer.status, seconds)
        log_query("sparql.sparql", method, answer.status, seconds, len(body), query)
        return [] if method == "HEAD" else [body]


@cached_if_short(512)
def _parameters(query_string: str) -> dict[str, list[str]] | None:
    """The parameters of a query string (None if not UTF-8); callers must not change them."""
    try:
        return parse_qs(query_string, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return None


def _base(environ: dict[str, Any]) -> str:
    """The request's IRI without its query string: the base of relative IRIs in the query."""
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}/sparql"


@cached_if_short(512)
def _refused(query: str, allowlist: str, base: str) -> bool:
    return refused_services(query, tuple(allowlist.split()), base) is not None


@functools.lru_cache(maxsize=8)  # one generation, one date
def _http_date(moment: datetime) -> str:
    return http_date(moment)


_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 406: "Not Acceptable",
            500: "Internal Server Error", 503: "Service Unavailable"}
