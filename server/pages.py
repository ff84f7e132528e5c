"""Dereferenceable IRIs. ``/id/X`` and ``/graph/X`` name things (a party, a paragraph, a
claim, a graph), so they answer ``303 See Other`` to ``/doc/id/X``, the document about
the thing (httpRange-14). That document is negotiated: an HTML page for a browser, any
RDF format for a linked-data client (``Accept`` or ``format``), both holding what the
store says about the IRI (its statements) and what points at it, with the named graph
each statement comes from, so a reader can follow the source of every fact."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from pyoxigraph import NamedNode
from werkzeug.wrappers import Response as WerkzeugResponse

from cbmkg.findings import contexts, labels_of
from cbmkg.namespaces import BASE
from cbmkg.results import short

from .answers import GRAPHS, Job
from .description import void_description
from .errors import refuse
from .sparql import _store, rdflib_response, run_job

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
def thing(root: str, rest: str) -> WerkzeugResponse:
    target = url_for("pages.document", root=root, rest=rest)
    if request.query_string:
        target += "?" + request.query_string.decode("ascii", "replace")
    return redirect(target, code=303)


@blueprint.get("/doc/<any(id, graph):root>/<path:rest>")
def document(root: str, rest: str) -> Response:
    iri = _iri(root, rest)
    if "<" in iri or ">" in iri or " " in iri:
        return refuse(400, f"not an IRI: {iri!r}")
    store = _store()
    if not store.query(f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}"):
        return refuse(404, f"the store says nothing about <{iri}>")
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


def _language() -> str:
    """English or Chinese: ``lang`` if given, else the reader's Accept-Language."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


def _labels(iris: list[str], lang: str) -> dict[str, str]:
    """The best label of each IRI: the reader's language, else the other one."""
    wanted = {i for i in iris if i and not any(c in i for c in '<> "{}')}
    found = labels_of(_store(), wanted)
    other = "zh" if lang == "en" else "en"
    return {i: found.get((i, lang)) or found[(i, other)]
            for i in wanted if (i, lang) in found or (i, other) in found}


def _evidence(iri: str) -> list[dict[str, Any]]:
    """For an extracted fact: the paragraph it was read from, with the quoted words marked,
    and who said it (the named query fact-context)."""
    found = contexts(_store(), {iri}).get(iri)
    if not found or "paragraph_text" not in found:
        return []
    text, start, end = found["paragraph_text"], int(found["start"]), int(found["end"])
    return [{"paragraph": _link(found["paragraph"]), "before": text[:start],
             "quote": text[start:end], "after": text[end:], "who": _link(found["reported_by"])}]


def _link(iri: str) -> dict[str, str]:
    return _local(NamedNode(iri))


def _rdf(iri: str) -> Response:
    return run_job(Job(
        f"CONSTRUCT {{ <{iri}> ?p ?o . ?s ?q <{iri}> }} WHERE {{ {{ <{iri}> ?p ?o }} UNION "
        f"{{ ?s ?q <{iri}> }} }} LIMIT {2 * LIMIT}"))


def _rows(iri: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    store = _store()
    outgoing = [{"p": _local(s["p"]), "o": _local(s["o"]), "g": _local(s["g"])}
                for s in store.select(
                    f"SELECT ?p ?o ?g WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }} "
                    f"ORDER BY ?p ?o LIMIT {LIMIT}", union_default_graph=False)]
    incoming = [{"s": _local(s["s"]), "p": _local(s["p"]), "g": _local(s["g"])}
                for s in store.select(
                    f"SELECT ?s ?p ?g WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} }} "
                    f"ORDER BY ?p ?s LIMIT {LIMIT}", union_default_graph=False)]
    current_app.logger.debug("page %s: %d out, %d in", iri, len(outgoing), len(incoming))
    return outgoing, incoming
