"""SPARQL 1.1 Protocol at ``/sparql``: query by GET, by POST (form or
``application/sparql-query``), with ``default-graph-uri``/``named-graph-uri``; answers in
the format the client accepts (q-values) or names with ``format``; errors as text/plain.

The default graph is the union of all named graphs unless the request gives a dataset.
Updates are never executed here.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response, current_app, g, request
from rdflib import Graph

from cbmkg.store import GraphStore

from .answers import Answer, Job, dataset_refusal
from .errors import refuse
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
    config = current_app.config["CBMKG"]
    refusal = refused_services(query, tuple(config.service_allowlist.split()), request.base_url)
    if refusal:
        return refuse(403, refusal)
    default_graphs, named_graphs = args.getlist("default-graph-uri") or None, args.getlist("named-graph-uri") or None
    problem = dataset_refusal(default_graphs, named_graphs)
    if problem:
        return refuse(400, problem)
    return _execute(query, default_graphs, named_graphs)


def _execute(query: str, default_graphs: list[str] | None, named_graphs: list[str] | None) -> Response:
    return run_job(Job(query, default_graphs, named_graphs, base_iri=request.base_url))


def run_job(job: Job) -> Response:
    """Run a job where queries run (see workers.py) with the format asked for, the timeout
    and the result cap of the configuration."""
    config = current_app.config["CBMKG"]
    job = replace(job, format=request.values.get("format") or None,
                  accept=request.headers.get("Accept") or None, limit=config.result_limit)
    _store()  # follow a new generation here too (ETags, pages)
    runner = current_app.extensions["cbmkg.runner"]
    return to_response(runner.run(job, config.query_timeout, request.environ.get("gunicorn.socket")))


def to_response(answer: Answer) -> Response:
    if answer.status >= 400:
        return refuse(answer.status, answer.body.decode("utf-8", "replace"), answer.headers)
    response = Response(answer.body, status=answer.status,
                        content_type=f"{answer.media}; charset=utf-8")
    response.headers.update(answer.headers)
    if answer.status == 200:
        response.headers["Vary"] = "Accept"
    return response


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
