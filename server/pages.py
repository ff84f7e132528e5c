"""Dereferenceable IRIs. ``/id/X`` and ``/graph/X`` name things (a party, a paragraph, a
claim, a graph), so they answer ``303 See Other`` to ``/doc/id/X``, the document about
the thing (httpRange-14). That document is negotiated: an HTML page for a browser, any
RDF format for a linked-data client (``Accept`` or ``format``), both holding what the
store says about the IRI (its statements) and what points at it, with the named graph
each statement comes from, so a reader can follow the source of every fact."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from cbmkg.namespaces import BASE
from cbmkg.results import short

from .answers import GRAPHS, Job
from .description import void_description
from .sparql import _store, _text, rdflib_response, run_job

blueprint = Blueprint("pages", __name__)

ROOTS = ("id", "graph")
LIMIT = 2000  # statements per direction on one page; the rest is one SPARQL query away


def _iri(root: str, rest: str) -> str:
    return f"{BASE}{root}/{rest}"


def _local(term: Any) -> dict[str, str]:
    """A term for the page: its label, and a link (local for the project's IRIs)."""
    value = getattr(term, "value", "")
    text = short(term)
    link = ""
    if type(term).__name__ == "NamedNode":
        link = "/doc/" + value[len(BASE):] if value.startswith(BASE) and \
            value[len(BASE):].split("/", 1)[0] in ROOTS else value
    return {"text": text, "link": link, "iri": value}


@blueprint.get("/.well-known/void")
def void() -> Response:
    return rdflib_response(void_description(request.host_url, _store()))


@blueprint.get("/<any(id, graph):root>/<path:rest>")
def thing(root: str, rest: str) -> Response:
    target = url_for("pages.document", root=root, rest=rest)
    if request.query_string:
        target += "?" + request.query_string.decode("ascii", "replace")
    return redirect(target, code=303)


@blueprint.get("/doc/<any(id, graph):root>/<path:rest>")
def document(root: str, rest: str) -> Response:
    iri = _iri(root, rest)
    if "<" in iri or ">" in iri or " " in iri:
        return _text(400, f"not an IRI: {iri!r}")
    store = _store()
    if not store.query(f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}"):
        return _text(404, f"the store says nothing about <{iri}>")
    html_wanted = not request.values.get("format") and request.accept_mimetypes.best_match(
        ["text/html", *GRAPHS], default="text/turtle") == "text/html"
    if not html_wanted:
        return _rdf(iri)
    lang = _language()
    outgoing, incoming = _rows(iri)
    evidence = _evidence(iri)
    cells = [cell for row in outgoing + incoming for cell in row.values()]
    cells += [e["who"] for e in evidence if e["who"]]
    labels = _labels([iri] + [cell["iri"] for cell in cells if cell["link"]], lang)
    for cell in cells:
        cell["text"] = labels.get(cell["iri"], cell["text"])
    page = render_template("resource.html", iri=iri, label=labels.get(iri), lang=lang,
                           outgoing=outgoing, incoming=incoming, evidence=evidence,
                           limit=LIMIT, formats=["turtle", "jsonld", "nt", "rdfxml"])
    response = Response(page, content_type="text/html; charset=utf-8")
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Content-Language"] = lang
    return response


LANGUAGES = ("en", "zh")
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>|<http://www.w3.org/2004/02/skos/core#prefLabel>"


def _language() -> str:
    """English or Chinese: ``lang`` if given, else the reader's Accept-Language."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


def _labels(iris: list[str], lang: str) -> dict[str, str]:
    """The best label of each IRI: the reader's language, then English, then any."""
    wanted = sorted({i for i in iris if i and "<" not in i and ">" not in i and " " not in i})
    if not wanted:
        return {}
    values = " ".join(f"<{i}>" for i in wanted)
    rank: dict[str, tuple[int, str]] = {}
    for row in _store().query(  # type: ignore[union-attr]
            f"SELECT ?x ?l WHERE {{ VALUES ?x {{ {values} }} ?x {LABEL} ?l }}"):
        tag = (row["l"].language or "").lower()
        score = 0 if tag.startswith(lang) else 1 if tag.startswith("en") else 2 if not tag else 3
        key = row["x"].value
        if key not in rank or (score, row["l"].value) < rank[key]:
            rank[key] = (score, row["l"].value)
    return {k: v for k, (_, v) in rank.items()}


def _evidence(iri: str) -> list[dict[str, Any]]:
    """For an extracted fact (or a quoted span itself): the paragraph it was read from, with
    the quoted words marked, and who said it (the reply's respondent)."""
    rows = _store().query(f"""
        PREFIX oa: <http://www.w3.org/ns/oa#>
        PREFIX cbm: <https://w3id.org/cbmkg/ontology#>
        SELECT DISTINCT ?para ?text ?start ?end ?who WHERE {{
          {{ <{iri}> cbm:evidence ?span }} UNION {{ BIND(<{iri}> AS ?span) ?span oa:hasSource ?any }}
          ?span oa:hasSource ?para ; oa:hasSelector ?pos .
          ?pos oa:start ?start ; oa:end ?end .
          ?para cbm:text ?text .
          OPTIONAL {{ <{iri}> cbm:reportedBy ?who }}
        }} ORDER BY ?para ?start LIMIT 50""")
    found = []
    for row in rows:  # type: ignore[union-attr]
        text, start, end = row["text"].value, int(row["start"].value), int(row["end"].value)
        found.append({"paragraph": _local(row["para"]), "before": text[:start],
                      "quote": text[start:end], "after": text[end:],
                      "who": _local(row["who"]) if row["who"] is not None else None})
    return found


def _rdf(iri: str) -> Response:
    return run_job(Job(
        f"CONSTRUCT {{ <{iri}> ?p ?o . ?s ?q <{iri}> }} WHERE {{ {{ <{iri}> ?p ?o }} UNION "
        f"{{ ?s ?q <{iri}> }} }} LIMIT {2 * LIMIT}"))


def _rows(iri: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    store = _store()
    outgoing = [{"p": _local(s["p"]), "o": _local(s["o"]), "g": _local(s["g"])}
                for s in store.query(  # type: ignore[union-attr]
                    f"SELECT ?p ?o ?g WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }} "
                    f"ORDER BY ?p ?o LIMIT {LIMIT}", union_default_graph=False)]
    incoming = [{"s": _local(s["s"]), "p": _local(s["p"]), "g": _local(s["g"])}
                for s in store.query(  # type: ignore[union-attr]
                    f"SELECT ?s ?p ?g WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} }} "
                    f"ORDER BY ?p ?s LIMIT {LIMIT}", union_default_graph=False)]
    current_app.logger.debug("page %s: %d out, %d in", iri, len(outgoing), len(incoming))
    return outgoing, incoming
