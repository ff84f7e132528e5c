"""SPARQL 1.1 Protocol at ``/sparql``: query by GET, by POST (form or
``application/sparql-query``), with ``default-graph-uri``/``named-graph-uri``; answers in
the format the client accepts (q-values) or names with ``format``; errors as text/plain.

The default graph is the union of all named graphs unless the request gives a dataset.
Updates are never executed here.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from pyoxigraph import QueryBoolean, QueryResultsFormat, RdfFormat
from rdflib import Graph

from cbmkg.errors import CbmkgError, QuerySyntaxError
from cbmkg.store import GraphStore, QueryResult

from .safety import refused_services

blueprint = Blueprint("sparql", __name__)

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
                "json": "application/ld+json", "nquads": "application/n-quads", "trig": "application/trig"}


def _text(status: int, message: str) -> Response:
    return Response(message.rstrip() + "\n", status=status, mimetype="text/plain")


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
            return None, _text(400, f"the query must be UTF-8, not {charset}")
        if media == "application/sparql-query":
            try:
                return request.get_data().decode("utf-8"), None
            except UnicodeDecodeError:
                return None, _text(400, "the query is not UTF-8")
        if media == "application/x-www-form-urlencoded":
            if "update" in request.form:
                return None, _text(400, "this endpoint answers queries, not updates")
            queries = request.form.getlist("query")
        else:
            return None, _text(415, f"POST a query as application/sparql-query or as a form, not {media!r}")
    else:
        if "update" in request.args:
            return None, _text(400, "this endpoint answers queries, not updates")
        queries = request.args.getlist("query")
    if len(queries) > 1:
        return None, _text(400, "give one query parameter, not several")
    return (queries[0] if queries else None), None


@blueprint.route("/sparql", methods=["GET", "POST", "HEAD"])
def sparql() -> Response:
    query, error = _read_query()
    if error is not None:
        return error
    if query is None:
        if request.method == "POST":
            return _text(400, "no query: POST query=… or an application/sparql-query body")
        return _description()
    args = request.args if request.method != "POST" or request.mimetype == "application/sparql-query" \
        else request.form
    config = current_app.config["CBMKG"]
    refusal = refused_services(query, tuple(config.service_allowlist.split()))
    if refusal:
        return _text(403, refusal)
    return _execute(query, args.getlist("default-graph-uri") or None,
                    args.getlist("named-graph-uri") or None)


def _execute(query: str, default_graphs: list[str] | None, named_graphs: list[str] | None) -> Response:
    """Run and write the answer in a frame of its own. pyoxigraph's answers must die in the
    thread that made them; the safety check's parser keeps tracebacks (and so the caller's
    frame) alive for a while, so the answer must not be a local of that frame."""
    try:
        answer = _store().query(query, union_default_graph=True, default_graphs=default_graphs,
                                named_graphs=named_graphs, base_iri=request.base_url)
    except QuerySyntaxError as e:
        return _text(400, str(e))
    except CbmkgError as e:
        return _text(500, str(e))
    return respond(answer)


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
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def respond(answer: QueryResult) -> Response:
    """The answer in the format asked for (``format``) or accepted (``Accept``, q-values)."""
    is_graph = not (isinstance(answer, QueryBoolean) or hasattr(answer, "variables"))
    offered = GRAPHS if is_graph else RESULTS
    wanted = request.values.get("format")
    if wanted:
        media = (SHORT_GRAPHS if is_graph else SHORT_RESULTS).get(wanted, wanted)
        if media not in offered:
            return _text(406, f"format {wanted!r} is not offered for this answer "
                              f"({', '.join(offered)})")
    else:
        media = request.accept_mimetypes.best_match(list(offered), default=None) \
            if request.accept_mimetypes else next(iter(offered))
        if media is None:
            return _text(406, f"none of the accepted types is offered ({', '.join(offered)})")
    try:
        body = answer.serialize(format=offered[media])  # type: ignore[union-attr,arg-type]
    except (ValueError, OSError) as e:
        return _text(500, f"cannot write the answer: {e}")
    response = Response(body, status=200, content_type=f"{media}; charset=utf-8")
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
