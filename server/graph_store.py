"""SPARQL 1.1 Graph Store HTTP Protocol at ``/store`` and SPARQL Update at ``/update``.

Reading is open: ``GET /store?graph=IRI`` (one named graph), ``?default`` (the default graph,
which here is the union of all graphs, as for queries), and ``GET /store`` with neither (the
whole dataset as N-Quads or TriG: the dump VoID points to). Writing (``PUT``, ``POST``,
``DELETE``, and ``/update``) is off unless ``update_token`` is set, and then needs
``Authorization: Bearer <token>``. Every write is one transaction of the store (for the
embedded store, a new generation published at once), so a bad payload changes nothing.
"""

from __future__ import annotations

import hmac
import uuid
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request
from pyoxigraph import RdfFormat, Triple, parse, serialize

from cbmkg.errors import CbmkgError, QuerySyntaxError
from cbmkg.namespaces import BASE
from cbmkg.store.base import RELATIVE_IRI

from .answers import GRAPHS, Job, bad_iri
from .errors import refuse, status_of
from .limits import rdfxml_refusal
from .safety import refused_loads
from .sparql import _store, run_job
from .update_text import modify_operations

blueprint = Blueprint("graph_store", __name__)
DATASET = {"application/n-quads": RdfFormat.N_QUADS, "application/trig": RdfFormat.TRIG}
TRIPLES = {m: f for m, f in GRAPHS.items() if m not in DATASET}


def _refuse_write() -> Response | None:
    """None when the request may write; else the answer that says why not."""
    token = current_app.config["CBMKG"].update_token
    if not token:
        return refuse(403, "this server is read-only (set update_token to switch on updates "
                          "and Graph Store writes)")
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    # the scheme's name is case-insensitive (RFC 9110, 11.1)
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        response = refuse(401, "a write needs the header Authorization: Bearer <update_token>")
        response.headers["WWW-Authenticate"] = 'Bearer realm="cbmkg"'
        return response
    return None


def _target() -> tuple[str | None, Response | None]:
    """The graph a request names: an IRI, "" for the default graph, None for the dataset."""
    graphs = request.args.getlist("graph")
    default = "default" in request.args
    if len(graphs) > 1 or (graphs and default):
        return None, refuse(400, "name one graph: ?graph=IRI or ?default")
    if graphs:
        iri = graphs[0]
        problem = bad_iri(iri)
        if problem:
            return None, refuse(400, f"graph: {problem}")
        return iri, None
    return ("" if default else None), None


@blueprint.route("/store", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def graph_store() -> Response:
    graph, error = _target()
    if error is not None:
        return error
    if request.method in ("GET", "HEAD"):
        return _read(graph)
    refusal = _refuse_write()
    if refusal is not None:
        return refusal
    created = None
    if graph is None and request.method == "POST":
        # a POST to the store itself creates a graph and names it (Graph Store Protocol, 5.5)
        graph = created = f"{BASE}graph/store/{uuid.uuid4()}"
    if graph is None or graph == "":
        return refuse(400, "writes name one named graph (?graph=IRI), or POST to /store without one "
                          "to create a graph; the default graph here is the union of all graphs "
                          "and cannot be written")
    store = _store()
    exists = graph in store.graphs()
    try:
        if request.method == "DELETE":
            if not exists:
                return refuse(404, f"no graph <{graph}>")
            store.drop_graph(graph)
            return Response(status=204)
        data = _payload()
        if isinstance(data, Response):
            return data
        if request.method == "POST" and exists:
            data = store.graph_ntriples(graph) + b"\n" + data
        store.replace_graph(graph, data, RdfFormat.N_TRIPLES)
    except CbmkgError as e:
        return refuse(status_of(e), str(e))
    if created:
        return Response(status=201, headers={"Location": f"{request.base_url}?{urlencode({'graph': created})}"})
    return Response(status=204 if exists else 201)


def _payload() -> bytes | Response:
    """The request body as N-Triples, parsed here so that a bad payload is a 400 naming where."""
    triples = read_triples(TRIPLES)
    if isinstance(triples, Response):
        return triples
    return serialize(triples, format=RdfFormat.N_TRIPLES) or b""


def read_triples(formats: dict[str, RdfFormat]) -> list[Triple] | Response:
    """The triples of the request body in one of ``formats`` (of a dataset format, their
    graphs are dropped), at most ``triples_limit`` of them, or the 415/400/413 answer
    naming what is wrong and where. The body itself is at most MAX_CONTENT_LENGTH bytes
    (limits.py); RDF/XML comes without a DTD."""
    media = (request.mimetype or "").lower()
    if media not in formats:
        return refuse(415, f"send RDF as one of {', '.join(formats)}, not {media!r}")
    body = request.get_data()
    if formats[media] is RdfFormat.RDF_XML:
        problem = rdfxml_refusal(body)
        if problem:
            return refuse(400, problem)
    triples: list[Triple] = []
    limit = current_app.config["CBMKG"].triples_limit
    try:
        # pyoxigraph's JSON-LD reader loads no remote @context: nothing is fetched
        for quad in parse(body, format=formats[media], base_iri=request.base_url):
            triples.append(quad.triple)
            if len(triples) > limit:
                return refuse(413, f"the body holds more than {limit} triples, the most one "
                                   f"request may send (triples_limit)")
    except SyntaxError as e:
        return refuse(400, f"the {media} body does not parse: {e}")
    return triples


def _read(graph: str | None) -> Response:
    if graph is None:
        return _dataset()
    if graph and graph not in _store().graphs():
        return refuse(404, f"no graph <{graph}>")
    where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
    return run_job(Job(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}"))


def _dataset() -> Response:
    """The whole dataset in a quad format (N-Quads unless TriG is preferred)."""
    media = request.accept_mimetypes.best_match(list(DATASET), default="application/n-quads") \
        if request.accept_mimetypes else "application/n-quads"
    if request.values.get("format") in ("trig", "nquads"):
        media = {"trig": "application/trig", "nquads": "application/n-quads"}[request.values["format"]]
    body = _store().export_bytes(DATASET[media])
    response = Response(body, content_type=f"{media}; charset=utf-8")
    response.headers["Vary"] = "Accept"
    response.headers["Content-Disposition"] = 'inline; filename="cbmkg.' + \
        ("trig" if media == "application/trig" else "nq") + '"'
    return response


@blueprint.route("/update", methods=["POST"])
def update() -> Response:
    refusal = _refuse_write()
    if refusal is not None:
        return refusal
    media = (request.mimetype or "").lower()
    charset = (request.mimetype_params.get("charset") or "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        return refuse(400, f"the update must be UTF-8, not {charset}")
    if media == "application/sparql-update":
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError:
            return refuse(400, "the update is not UTF-8")
        args = request.args
    elif media == "application/x-www-form-urlencoded":
        if "query" in request.form:
            return refuse(400, "this endpoint runs updates; send queries to /sparql")
        updates = request.form.getlist("update")
        if len(updates) != 1:
            return refuse(400, "give one update parameter")
        text, args = updates[0], request.form
    else:
        return refuse(415, f"POST an update as application/sparql-update or as a form, not {media!r}")
    if not text.strip():
        return refuse(400, "no update: POST update=… or an application/sparql-update body")
    refusal_text = refused_loads(text, tuple(current_app.config["CBMKG"].service_allowlist.split()),
                                 request.base_url)
    if refusal_text:
        return refuse(403, refusal_text)
    store = _store()
    try:
        text = with_dataset(text, args.getlist("using-graph-uri"), args.getlist("using-named-graph-uri"),
                            store.graphs())
        if RELATIVE_IRI.search(text):  # relative IRIs resolve against the endpoint
            text = f"BASE <{request.base_url}>\n{text}"
        store.update(text)
    except QuerySyntaxError as e:
        return refuse(400, str(e))
    except CbmkgError as e:
        return refuse(status_of(e), str(e))
    return Response(status=204)


def with_dataset(update: str, using: list[str], using_named: list[str], graphs: list[str]) -> str:
    """The update with the protocol's dataset (``using-graph-uri``, ``using-named-graph-uri``)
    written as USING clauses before the WHERE of each ``DELETE``/``INSERT … WHERE``
    operation; with neither, and no USING or WITH of its own, its WHERE clauses see what
    queries see: the union of all graphs as default graph, and every named graph.
    Conflicting dataset descriptions are an error (the protocol's rule). Where each WHERE
    stands is found by rdflib's SPARQL Update grammar (``update_text.py``), not by
    searching the text."""
    if "where" not in update.casefold():
        return update  # no DELETE/INSERT … WHERE: nothing takes a dataset
    try:
        operations = modify_operations(update)
    except ValueError as e:
        raise QuerySyntaxError(f"malformed SPARQL update: {e}") from None
    if any(op.own_dataset for op in operations):
        if using or using_named:
            raise QuerySyntaxError("the update names its dataset (USING or WITH) and the request "
                                   "gives using-graph-uri/using-named-graph-uri: give one")
    if not (using or using_named):
        using, using_named = graphs, graphs
    for iri in using + using_named:
        if not iri or any(c in iri for c in '<> "{}'):
            raise QuerySyntaxError(f"not an IRI: {iri!r}")
    clause = "".join(f"USING <{g}> " for g in using) + "".join(f"USING NAMED <{g}> " for g in using_named)
    for op in reversed(operations):
        if not op.own_dataset:
            update = update[:op.where] + clause + update[op.where:]
    return update
