"""SPARQL 1.1 Protocol at ``/sparql``: query by GET, by POST (form or
``application/sparql-query``), with ``default-graph-uri``/``named-graph-uri``; answers in
the format the client accepts (q-values) or names with ``format``; errors as text/plain.

The default graph is the union of all named graphs unless the request gives a dataset.
Updates are never executed here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from rdflib import Graph
from werkzeug.http import http_date

from cbmkg.config import Config
from cbmkg.store import GraphStore

from .answers import Job, dataset_refusal
from .errors import envelope, hidden_folders, refuse
from .manners import cached_if_short, etag_of
from .safety import refused_services

blueprint = Blueprint("sparql", __name__)

def _store() -> GraphStore:
    store: GraphStore = current_app.extensions["cbmkg.store"]
    refresh = getattr(store, "refresh", None)
    if refresh is not None:
        refresh()  # a build may have published a new generation
    return store


def _read_query() -> tuple[str | None, Response | None]:
    if request.method == "POST":
        media = (request.mimetype or "").lower()
        charset = (request.mimetype_params.get("charset") or "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            return None, refuse(400, f"the query must be UTF-8, not {charset}")
        if media == "application/sparql-query":
            try:
                return request.get_data().decode("utf-8"), None
            except UnicodeDecodeError:
                return None, refuse(400, "the query is not UTF-8")
        if media == "application/x-www-form-urlencoded":
            if "update" in request.form:
                return None, refuse(400, "this endpoint answers queries, not updates")
            queries = request.form.getlist("query")
        else:
            return None, refuse(415, f"POST a query as application/sparql-query or as a form, not {media!r}")
    else:
        if "update" in request.args:
            return None, refuse(400, "this endpoint answers queries, not updates")
        queries = request.args.getlist("query")
    if len(queries) > 1:
        return None, refuse(400, "give one query parameter, not several")
    return (queries[0] if queries else None), None


@blueprint.route("/sparql", methods=["GET", "POST", "HEAD"])
def sparql() -> Response:
    query, error = _read_query()
    if error is not None:
        return error
    g.query = query  # for the query log
    if query is None:
        if request.method == "POST":
            return refuse(400, "no query: POST query=… or an application/sparql-query body")
        return _description()
    args = request.args if request.method != "POST" or request.mimetype == "application/sparql-query" \
        else request.form
    return as_response(respond(current_app, request.environ, query, args.getlist("default-graph-uri") or None,
                               args.getlist("named-graph-uri") or None, request.values.get("format") or None))


@dataclass(slots=True)
class Reply:
    """An answer to a SPARQL query, before anything common to every route (CORS, gzip, the
    metrics and the log) is added: by Flask's hooks (manners.py) or by the fast path."""
    status: int
    headers: dict[str, str]
    body: bytes


def respond(app: Flask, environ: dict[str, Any], query: str, default_graphs: list[str] | None,
            named_graphs: list[str] | None, format: str | None, *, trusted: bool = False) -> Reply:
    """Answer a query: the one function the SPARQL view, the named queries and the fast path
    all call, so that they cannot answer differently. Refusals (SERVICE, a bad dataset IRI)
    and failures come in the envelope of errors.py; a 200 carries Vary, ETag, Last-Modified.
    ``trusted``: a query of this server's own (a named query), not checked for SERVICE."""
    config: Config = app.config["CBMKG"]
    store: GraphStore = app.extensions["cbmkg.store"]
    refresh = getattr(store, "refresh", None)
    if refresh is not None:
        refresh()  # a build may have published a new generation
    accept = environ.get("HTTP_ACCEPT") or None
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    base_iri = f"{environ.get('wsgi.url_scheme', 'http')}://{host}{environ.get('PATH_INFO', '/sparql')}"
    refusal = None if trusted else refused(query, config.service_allowlist, base_iri)
    status, problem = (403, refusal) if refusal else (400, dataset_refusal(default_graphs, named_graphs))
    if problem:
        return _problem(status, problem, accept, config)
    job = Job(query, default_graphs, named_graphs, base_iri=base_iri, format=format, accept=accept,
              limit=config.result_limit)
    answer = app.extensions["cbmkg.runner"].run(job, config.query_timeout, environ.get("gunicorn.socket"))
    if answer.status != 200:
        reply = _problem(answer.status, answer.body.decode("utf-8", "replace"), accept, config)
        reply.headers = {**answer.headers, **reply.headers}
        return reply
    headers = {"Content-Type": f"{answer.media}; charset=utf-8", **answer.headers, "Vary": "Accept"}
    version = store.version()
    if version:
        headers["ETag"] = f'"{etag_of(version, environ)}"'
        modified = store.modified()
        if modified is not None:
            headers["Last-Modified"] = http_date_of(modified)
    return Reply(200, headers, answer.body)


def _problem(status: int, message: str, accept: str | None, config: Config) -> Reply:
    media, body = envelope(status, message, accept, hidden_folders(config))
    return Reply(status, {"Content-Type": media, "Vary": "Accept"}, body)


def as_response(reply: Reply) -> Response:
    response = Response(reply.body, status=reply.status)
    for name, value in reply.headers.items():
        response.headers[name] = value
    if request.method == "HEAD":
        response.set_data(b"")
        response.headers["Content-Length"] = str(len(reply.body))
    return response


def run_job(job: Job) -> Response:
    """A query of this server's own (a named query, a page's): answered like any other."""
    return as_response(respond(current_app, request.environ, job.query, job.default_graphs, job.named_graphs,
                               request.values.get("format") or None, trusted=True))


@cached_if_short(512)
def refused(query: str, allowlist: str, base_iri: str) -> str | None:
    """Why a query may not run (SERVICE outside the allow-list), cached for repeated queries."""
    return refused_services(query, tuple(allowlist.split()), base_iri)


@functools.lru_cache(maxsize=8)  # one generation, one date
def http_date_of(moment: datetime) -> str:
    return http_date(moment)


def _description() -> Response:
    """The Service Description, in the RDF format the client accepts (Turtle by default)."""
    from .description import service_description

    return rdflib_response(service_description(request.base_url, _store()))


def rdflib_response(graph: Graph) -> Response:
    """An rdflib graph in the RDF format the client accepts (Turtle by default)."""
    media = request.accept_mimetypes.best_match(
        ["text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples"],
        default="text/turtle") if request.accept_mimetypes else "text/turtle"
    rdflib_format = {"text/turtle": "turtle", "application/rdf+xml": "xml",
                     "application/ld+json": "json-ld", "application/n-triples": "nt"}[media]
    response = Response(graph.serialize(format=rdflib_format), content_type=f"{media}; charset=utf-8")
    response.headers["Vary"] = "Accept"
    return response
