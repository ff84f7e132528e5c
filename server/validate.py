"""``POST /validate``: would this data hold in the graph? The body (any RDF format) is
validated with the project's shapes together with everything the store holds (the ontology,
the registers, the reports), so class checks and register figures apply; the answer lists
the results about the body's own subjects, in English and Chinese (text, CSV) or as the
standard SHACL report (Turtle, JSON-LD). Nothing is written to the store.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, request
from pyoxigraph import RdfFormat, Triple, serialize
from rdflib import BNode, Graph, Literal
from rdflib.namespace import RDF

from cbmkg import validation
from cbmkg.namespaces import SH

from .answers import GRAPHS
from .errors import refuse
from .graph_store import read_triples
from .sparql import _store
from .workers import Overtime

blueprint = Blueprint("validate", __name__)
REPORTS = ("text/plain", "text/csv", "text/turtle", "application/ld+json")


@blueprint.post("/validate")
def validate() -> Response:
    posted = read_triples(GRAPHS)
    if isinstance(posted, Response):
        return posted
    if not posted:
        return refuse(400, "the body holds no triples")
    wanted = request.accept_mimetypes.best_match(REPORTS, default="text/plain") \
        if request.accept_mimetypes else "text/plain"
    subjects = {t.subject.value for t in posted if not isinstance(t.subject, Triple)}
    config, store = current_app.config["CBMKG"], _store()

    def work() -> validation.Outcome:  # its cost grows with the store: under the query timeout
        shapes = validation.load_shapes(Path(config.shapes_dir))
        return validation.validate(validation.union_store(store.export_bytes() + _as_nquads(posted)),
                                   shapes)
    try:
        outcome = current_app.extensions["cbmkg.runner"].call(
            work, config.query_timeout, request.environ.get("gunicorn.socket"), what="validation",
            accept=request.headers.get("Accept"))
    except Overtime as e:
        return refuse(503, str(e))
    outcome = _about(outcome, subjects)
    if wanted == "text/plain":
        body = validation.as_text(outcome)
    elif wanted == "text/csv":
        body = validation.as_csv(outcome)
    else:
        outcome.report.bind("sh", str(SH))
        body = outcome.report.serialize(format="turtle" if wanted == "text/turtle" else "json-ld")
    response = Response(body, content_type=f"{wanted}; charset=utf-8")
    response.headers["Cbmkg-Conforms"] = "true" if outcome.conforms else "false"
    response.headers["Vary"] = "Accept"
    return response


def _as_nquads(triples: list[Triple]) -> bytes:
    """The posted triples in a graph of their own, as N-Quads (to join the store's dump)."""
    from pyoxigraph import NamedNode, Quad

    graph = NamedNode("https://w3id.org/cbmkg/graph/validate/request")
    return serialize([Quad(t.subject, t.predicate, t.object, graph) for t in triples],
                     format=RdfFormat.N_QUADS) or b""


def _about(outcome: validation.Outcome, subjects: set[str]) -> validation.Outcome:
    """Only the results whose focus node is a subject of the posted data, in the list and in
    the standard report alike."""
    kept = [r for r in outcome.results if r.focus in subjects]
    report = Graph()
    for prefix, namespace in outcome.report.namespaces():
        report.bind(prefix, namespace)
    summary = BNode()
    report.add((summary, RDF.type, SH.ValidationReport))
    report.add((summary, SH.conforms, Literal(not any(r.severity == "Violation" for r in kept))))
    for node in set(outcome.report.subjects(SH.focusNode, None)):
        if str(outcome.report.value(node, SH.focusNode)) in subjects:
            report += outcome.report.cbd(node)
            report.add((summary, SH.result, node))
    return validation.Outcome(kept, report)
