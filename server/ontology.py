"""``/ontology``: the ontology at the local path of its IRI (https://w3id.org/cbmkg/ontology).
A hash namespace, so one document answers for every term (``…/ontology#Instrument``): the
page pyLODE made (docs/ontology/index.html) for a browser, the ontology's modules as one
graph in the RDF format a linked-data client asks for (``Accept``, or ``format=``). Read from
the files that come with the code, not from the store: the ontology is there even before a
build.
"""

from __future__ import annotations

from functools import cache

from flask import Blueprint, Response, request
from pyoxigraph import RdfFormat

from cbmkg.config import ROOT
from cbmkg.ontology import merged

from .answers import SHORT_GRAPHS
from .errors import refuse

blueprint = Blueprint("ontology", __name__)
PAGE = ROOT / "docs" / "ontology" / "index.html"
#: what /ontology offers, the page first
OFFERED = {"text/html": None, "text/turtle": RdfFormat.TURTLE, "application/rdf+xml": RdfFormat.RDF_XML,
           "application/ld+json": RdfFormat.JSON_LD, "application/n-triples": RdfFormat.N_TRIPLES}


@cache
def _serialised(media: str) -> bytes:
    from pyoxigraph import parse, serialize

    turtle = merged().serialize(format="turtle", encoding="utf-8")
    fmt = OFFERED[media]
    if fmt is RdfFormat.TURTLE or fmt is None:
        return turtle
    return serialize(parse(turtle, format=RdfFormat.TURTLE), format=fmt) or b""


@blueprint.get("/ontology")
def ontology() -> Response:
    wanted = request.args.get("format")
    if wanted:
        media = "text/html" if wanted == "html" else SHORT_GRAPHS.get(wanted, wanted)
        if media not in OFFERED:
            return refuse(406, f"format {wanted!r} is not offered: html or one of "
                                f"{', '.join(k for k in SHORT_GRAPHS if SHORT_GRAPHS[k] in OFFERED)}")
    elif request.accept_mimetypes:
        best = request.accept_mimetypes.best_match(list(OFFERED))
        if best is None:
            return refuse(406, "the ontology is offered as " + ", ".join(OFFERED))
        media = best
    else:
        media = "text/turtle"  # a client that says nothing is a program, not a browser
    if media == "text/html":
        if not PAGE.is_file():
            return refuse(404, "no documentation page: run `python -m loaders.docs`")
        body = PAGE.read_bytes()
    else:
        body = _serialised(media)
    response = Response(body, content_type=f"{media}; charset=utf-8")
    response.headers["Vary"] = "Accept"
    return response


