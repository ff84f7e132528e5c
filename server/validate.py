"""``/validate``: would this data hold in the graph? The body (Turtle, N-Triples, JSON-LD,
RDF/XML, N-Quads, TriG) is validated together with everything the store holds (the ontology,
the registers, the reports), so class checks and register figures apply, in two sections:
the data's integrity (the integrity shapes; ``Cbmkg-Conforms`` says whether it holds) and the
compliance findings the rule shapes draw from it. Only what is about the posted data is
answered: results and findings whose focus node is one of its subjects, or a term it uses
(an undeclared ``cbm:`` term is reported on the ontology). Text and CSV in English and
Chinese, the standard SHACL report as Turtle or JSON-LD (the findings are
``sh:ValidationResult`` too), or an HTML page. ``GET /validate`` is a form for people.
Nothing is written to the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request
from pyoxigraph import NamedNode, Quad, RdfFormat, Triple, parse, serialize
from rdflib import BNode, Graph, Literal
from rdflib.namespace import RDF

from cbmkg import findings, validation
from cbmkg.namespaces import SH
from cbmkg.store import EmbeddedStore

from .answers import GRAPHS
from .errors import refuse
from .graph_store import read_triples
from .sparql import _store
from .workers import Overtime

blueprint = Blueprint("validate", __name__)
REPORTS = ("text/plain", "text/csv", "text/turtle", "application/ld+json", "text/html")
#: the formats the form offers, by name
FORM_FORMATS = {"Turtle": "text/turtle", "N-Triples": "application/n-triples", "JSON-LD": "application/ld+json",
                "RDF/XML": "application/rdf+xml", "N-Quads": "application/n-quads", "TriG": "application/trig"}
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass
class Answer:
    outcome: validation.Outcome
    found: Graph
    summaries: list[findings.Summary]


@blueprint.get("/validate")
def form() -> str:
    return render_template("validate.html", formats=FORM_FORMATS, chosen="text/turtle", data="", answer=None)


@blueprint.post("/validate")
def validate() -> Response | str:
    from_form = (request.mimetype or "").lower() in FORMS
    posted = _from_form() if from_form else read_triples(GRAPHS)
    if isinstance(posted, Response):
        return posted
    if not posted:
        return refuse(400, "the body holds no triples")
    if from_form:
        wanted = "text/html"
    else:
        wanted = request.accept_mimetypes.best_match(REPORTS, default="text/plain") \
            if request.accept_mimetypes else "text/plain"
    about = {t.subject.value for t in posted if not isinstance(t.subject, Triple)}
    about |= {term.value for t in posted for term in (t.predicate, t.object) if isinstance(term, NamedNode)}
    config, store = current_app.config["CBMKG"], _store()

    def work() -> Answer:  # its cost grows with the store: under the query timeout
        shapes_dir = Path(config.shapes_dir)
        every = sorted(shapes_dir.glob("*.ttl"))
        rules = findings.rule_paths(shapes_dir, every)
        everything = store.export_bytes() + _as_nquads(posted)
        outcome = validation.validate(validation.union_store(everything),
                                      validation.load_shapes(shapes_dir, [p for p in every if p not in rules]))
        scratch = EmbeddedStore.memory()
        with scratch.begin(replace_all=True) as staging:
            staging.put_dataset(everything, RdfFormat.N_QUADS)
        found = findings.compute(scratch, shapes_dir, rules)
        return Answer(outcome, found, findings.summaries(found, scratch, validation.load_shapes(shapes_dir, rules)))
    try:
        answer = current_app.extensions["cbmkg.runner"].call(
            work, config.query_timeout, request.environ.get("gunicorn.socket"), what="validation",
            accept=request.headers.get("Accept"))
    except Overtime as e:
        return refuse(503, str(e))
    answer = _about(answer, about)
    if wanted == "text/html":
        page = render_template("validate.html", formats=FORM_FORMATS, answer=answer,
                               chosen=request.form.get("format", "text/turtle") if from_form else "text/turtle",
                               data=request.form.get("data", "") if from_form else "")
        response = Response(page, content_type="text/html; charset=utf-8")
    else:
        if wanted == "text/plain":
            body = validation.as_text(answer.outcome, answer.summaries)
        elif wanted == "text/csv":
            body = validation.as_csv(answer.outcome, answer.summaries)
        else:
            report = answer.outcome.report + answer.found
            report.bind("sh", str(SH))
            report.bind("cbm", "https://w3id.org/cbmkg/ontology#")
            body = report.serialize(format="turtle" if wanted == "text/turtle" else "json-ld")
        response = Response(body, content_type=f"{wanted}; charset=utf-8")
    response.headers["Cbmkg-Conforms"] = "true" if answer.outcome.conforms else "false"
    response.headers["Vary"] = "Accept"
    return response


def _from_form() -> list[Triple] | Response:
    """The triples the form sends: pasted in ``data`` or uploaded as ``file``, in ``format``."""
    media = request.form.get("format", "text/turtle")
    if media not in GRAPHS:
        return refuse(415, f"choose one of {', '.join(FORM_FORMATS)}, not {media!r}")
    upload = request.files.get("file")
    data = upload.read() if upload is not None and upload.filename else request.form.get("data", "").encode()
    try:
        return [q.triple for q in parse(data, format=GRAPHS[media], base_iri=request.base_url)]
    except SyntaxError as e:
        return refuse(400, f"the {media} data does not parse: {e}")


def _as_nquads(triples: list[Triple]) -> bytes:
    """The posted triples in a graph of their own, as N-Quads (to join the store's dump)."""
    graph = NamedNode("https://w3id.org/cbmkg/graph/validate/request")
    return serialize([Quad(t.subject, t.predicate, t.object, graph) for t in triples],
                     format=RdfFormat.N_QUADS) or b""


def _about(answer: Answer, about: set[str]) -> Answer:
    """Only what is about the posted data: results whose focus node (or, for a term the
    ontology does not declare, whose value) it names, and findings on its subjects, in the
    lists and in the standard report alike."""
    outcome = answer.outcome
    kept = [r for r in outcome.results if r.focus in about or (r.value or "") in about]
    report = Graph()
    for prefix, namespace in outcome.report.namespaces():
        report.bind(prefix, namespace)
    summary = BNode()
    report.add((summary, RDF.type, SH.ValidationReport))
    report.add((summary, SH.conforms, Literal(not any(r.severity == "Violation" for r in kept))))
    for node in set(outcome.report.subjects(SH.focusNode, None)):
        value = outcome.report.value(node, SH.value)
        if str(outcome.report.value(node, SH.focusNode)) in about or str(value) in about:
            report += outcome.report.cbd(node)
            report.add((summary, SH.result, node))
    found = Graph()
    for f in set(answer.found.subjects(SH.focusNode, None)):
        if str(answer.found.value(f, SH.focusNode)) in about:
            found += answer.found.cbd(f)
    return Answer(validation.Outcome(kept, report), found,
                  [s for s in answer.summaries if s.focus in about])

