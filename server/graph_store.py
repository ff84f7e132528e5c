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
import re

from flask import Blueprint, Response, current_app, request
from pyoxigraph import RdfFormat, Triple, parse, serialize

from cbmkg.errors import CbmkgError, QuerySyntaxError
from cbmkg.store.base import RELATIVE_IRI, serialized

from .answers import GRAPHS, Job, bad_iri
from .errors import refuse
from .safety import refused_loads
from .sparql import _store, run_job

blueprint = Blueprint("graph_store", __name__)
DATASET = {"application/n-quads": RdfFormat.N_QUADS, "application/trig": RdfFormat.TRIG}
TRIPLES = {m: f for m, f in GRAPHS.items() if m not in DATASET}


def _refuse_write() -> Response | None:
    """None when the request may write; else the answer that says why not."""
    token = current_app.config["CBMKG"].update_token
    if not token:
        return refuse(403, "this server is read-only (set update_token to switch on updates "
                          "and Graph Store writes)")
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].encode(), token.encode()):
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
    if graph is None or graph == "":
        return refuse(400, "writes name one named graph (?graph=IRI); the default graph here is "
                          "the union of all graphs and cannot be written")
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
            old = store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
                                  union_default_graph=False)
            data = serialized(old, RdfFormat.N_TRIPLES) + data
        store.replace_graph(graph, data, RdfFormat.N_TRIPLES)
    except CbmkgError as e:
        return refuse(500, str(e))
    return Response(status=204 if exists else 201)


def _payload() -> bytes | Response:
    """The request body as N-Triples, parsed here so that a bad payload is a 400 naming where."""
    triples = read_triples(TRIPLES)
    if isinstance(triples, Response):
        return triples
    return serialize(triples, format=RdfFormat.N_TRIPLES) or b""


def read_triples(formats: dict[str, RdfFormat]) -> list[Triple] | Response:
    """The triples of the request body in one of ``formats`` (of a dataset format, their
    graphs are dropped), or the 415/400 answer naming what is wrong and where."""
    media = (request.mimetype or "").lower()
    if media not in formats:
        return refuse(415, f"send RDF as one of {', '.join(formats)}, not {media!r}")
    try:
        # pyoxigraph's JSON-LD reader loads no remote @context: nothing is fetched
        return [q.triple for q in parse(request.get_data(), format=formats[media],
                                        base_iri=request.base_url)]
    except SyntaxError as e:
        return refuse(400, f"the {media} body does not parse: {e}")


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
        return refuse(500, str(e))
    return Response(status=204)


_MASK = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|'
                   r"'(?:[^'\\\n]|\\.)*'|#[^\n]*")
_TOKENS = re.compile(r"[{}]|\b(?:WHERE|DELETE|USING|WITH)\b", re.IGNORECASE)


def with_dataset(update: str, using: list[str], using_named: list[str], graphs: list[str]) -> str:
    """The update with the protocol's dataset (``using-graph-uri``, ``using-named-graph-uri``)
    written as USING clauses before each top-level WHERE; with neither, and no USING or WITH
    of its own, its WHERE clauses see what queries see: the union of all graphs as default
    graph, and every named graph. Conflicting dataset descriptions are an error (the
    protocol's rule)."""
    masked = _MASK.sub(lambda m: " " * len(m.group()), update)  # strings and comments out
    depth, previous, wheres, own_dataset = 0, "", [], False
    for token in _TOKENS.finditer(masked):
        word = token.group().upper()
        if word == "{":
            depth += 1
        elif word == "}":
            depth -= 1
        elif depth == 0 and word in ("USING", "WITH"):
            own_dataset = True
        elif depth == 0 and word == "WHERE" and previous != "DELETE":  # not DELETE WHERE {…}
            wheres.append(token.start())
        previous = word
    if own_dataset:
        if using or using_named:
            raise QuerySyntaxError("the update names its dataset (USING or WITH) and the request "
                                   "gives using-graph-uri/using-named-graph-uri: give one")
        return update
    if not (using or using_named):
        using, using_named = graphs, graphs
    for iri in using + using_named:
        if not iri or any(c in iri for c in '<> "{}'):
            raise QuerySyntaxError(f"not an IRI: {iri!r}")
    clause = "".join(f"USING <{g}> " for g in using) + "".join(f"USING NAMED <{g}> " for g in using_named)
    for at in reversed(wheres):
        update = update[:at] + clause + update[at:]
    return update
