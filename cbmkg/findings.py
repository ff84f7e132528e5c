"""Compliance findings: the SHACL-SPARQL rules of the compliance and consistency shapes,
evaluated by the store itself, written as cbm:ComplianceFinding resources.

The rule of each shape is its ``sh:select`` (one source of truth): pySHACL / pyshacl-turbo
run it to produce the standard validation report; here the store's own SPARQL engine runs
the same query over the union of the graphs (fast, and the same on a remote store), and each
answer becomes a finding with the party, the obligation, the observed value, the limit, the
paragraph, who reported the figures, and a message in English and Chinese.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import BlankNode, NamedNode
from pyoxigraph import Literal as OxLiteral
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from .catalogue import Catalogue
from .config import ROOT
from .namespaces import CBM, SH, graph_iri
from .store import GraphStore

FINDINGS_GRAPH = graph_iri("findings")
FINDING = "https://w3id.org/cbmkg/id/finding/"
#: shapes files whose rules are checks of what reports say (the others gate loading)
RULE_FILES = ("compliance-*.ttl", "consistency.ttl")


@dataclass(frozen=True)
class Rule:
    shape: URIRef
    severity: URIRef
    obligation: URIRef | None
    query: str
    messages: dict[str, str]


def load_rules(shapes_dir: Path) -> tuple[Graph, list[Rule]]:
    shapes = Graph()
    for pattern in RULE_FILES:
        for path in sorted(shapes_dir.glob(pattern)):
            shapes.parse(path, format="turtle")
    return shapes, list(_rules(shapes))


def _rules(shapes: Graph) -> Iterator[Rule]:
    for shape in shapes.subjects(SH.sparql, None):
        for constraint in shapes.objects(shape, SH.sparql):
            select = shapes.value(constraint, SH.select)
            if select is None:
                continue
            prefixes = []
            for owner in shapes.objects(constraint, SH.prefixes):
                for declaration in shapes.objects(owner, SH.declare):
                    prefixes.append(f"PREFIX {shapes.value(declaration, SH.prefix)}: "
                                    f"<{shapes.value(declaration, SH.namespace)}>")
            messages = {(m.language if isinstance(m, Literal) else None) or "en": str(m)
                        for m in shapes.objects(constraint, SH.message)}
            obligation = shapes.value(shape, CBM.checksObligation)
            yield Rule(URIRef(str(shape)), URIRef(str(shapes.value(shape, SH.severity) or SH.Violation)),
                       URIRef(str(obligation)) if obligation is not None else None,
                       "\n".join(prefixes) + "\n" + str(select), messages)


def _value(term: NamedNode | BlankNode | OxLiteral | None) -> str | None:
    return None if term is None else term.value


def compute(store: GraphStore, shapes_dir: Path) -> Graph:
    """Every finding the rules give on ``store``, as the graph to write to FINDINGS_GRAPH.

    A few queries in all, whatever the number of findings: the rules, then one query each
    for where the facts come from, the labels and the figures' verification statuses.
    """
    _shapes, rules = load_rules(shapes_dir)
    answers = []
    for rule in rules:
        result = store.select(rule.query)
        names = [v.value for v in result.variables]
        answers += [(rule, {name: _value(row[name]) for name in names}) for row in result]
    facts = {_fact(b) for _, b in answers}
    sources = contexts(store, facts)
    iris = {v for _, b in answers for v in b.values() if v and v.startswith("http")}
    iris |= {c["reported_by"] for c in sources.values()}
    labels = labels_of(store, iris)
    statuses = _statuses(store, {c for _, b in answers if (c := b.get("constraint"))})
    out = Graph()
    out.bind("cbm", CBM)
    for rule, bindings in answers:
        where = sources.get(_fact(bindings))
        _add_finding(out, rule, bindings, where, labels, statuses)
    return out


def _fact(bindings: dict[str, str | None]) -> str:
    """The fact a finding rests on: the event its rule names, else its focus node."""
    fact = bindings.get("event") or bindings.get("this")
    if fact is None:
        raise ValueError("a compliance rule's query must bind ?this")
    return fact


def _values(variable: str, iris: Iterable[str]) -> str:
    return f"VALUES ?{variable} {{ " + " ".join(str(NamedNode(i)) for i in sorted(iris)) + " }"


def contexts(store: GraphStore, facts: set[str]) -> dict[str, dict[str, str]]:
    """Where each fact comes from (the named query fact-context, one row per fact): its
    paragraph, who reported it, the evidence span and, when known, the paragraph's text and
    the span's character offsets in it."""
    if not facts:
        return {}
    text = Catalogue(ROOT / "queries").get("fact-context").text
    # the facts are given first in the WHERE clause, so the store looks at them alone
    query = text.replace("WHERE {", "WHERE {\n  " + _values("fact", facts), 1)
    out: dict[str, dict[str, str]] = {}
    for row in store.select(query):
        out.setdefault(row["fact"].value, {
            key: row[key].value for key in
            ("paragraph", "reported_by", "evidence", "paragraph_text", "start", "end")
            if row[key] is not None})
    return out


def labels_of(store: GraphStore, iris: set[str]) -> dict[tuple[str, str], str]:
    """English and Chinese labels (rdfs:label, skos:prefLabel) of ``iris``: (iri, lang) → label."""
    if not iris:
        return {}
    query = ("SELECT ?x ?l WHERE { " + _values("x", iris) +
             " ?x <http://www.w3.org/2000/01/rdf-schema#label>|"
             "<http://www.w3.org/2004/02/skos/core#prefLabel> ?l "
             'FILTER(LANG(?l) = "en" || LANG(?l) = "zh") }')
    out: dict[tuple[str, str], str] = {}
    for row in store.select(query):
        out.setdefault((row["x"].value, row["l"].language), row["l"].value)
    return out


def _statuses(store: GraphStore, constraints: set[str]) -> dict[str, str]:
    if not constraints:
        return {}
    query = ("SELECT ?c ?s WHERE { " + _values("c", constraints) +
             " ?c <https://w3id.org/cbmkg/ontology#verificationStatus> ?s }")
    return {row["c"].value: row["s"].value for row in store.select(query)}


def _add_finding(out: Graph, rule: Rule, b: dict[str, str | None], where: dict[str, str] | None,
                 labels: dict[tuple[str, str], str], statuses: dict[str, str]) -> None:
    focus = _fact({"this": b.get("this")})
    key = hashlib.sha1(f"{rule.shape}|{focus}|{b.get('constraint')}".encode()).hexdigest()[:16]
    f = URIRef(f"{FINDING}{str(rule.shape).rsplit('#', 1)[-1]}/{key}")
    out.add((f, RDF.type, CBM.ComplianceFinding))
    out.add((f, CBM.rule, rule.shape))
    out.add((f, CBM.severity, rule.severity))
    out.add((f, RDFS.seeAlso, URIRef(focus)))  # the fact the finding is about
    named = b.get("obligation")
    obligation = rule.obligation or (URIRef(named) if named else None)
    if obligation is not None:
        out.add((f, CBM.checksObligation, obligation))
    if party := b.get("party"):
        out.add((f, CBM.findingAbout, URIRef(party)))
    if b.get("value") is not None:
        out.add((f, CBM.observedValue, Literal(b["value"])))
    if b.get("limit") is not None:
        out.add((f, CBM.limitValue, Literal(b["limit"])))
    caveat: dict[str, str] = {}
    if constraint := b.get("constraint"):
        out.add((f, PROV.used, URIRef(constraint)))  # the register figure compared with
        status = statuses.get(constraint)
        if status:
            out.add((f, CBM.verificationStatus, URIRef(status)))
            caveat = CAVEATS.get(status.rsplit("#", 1)[-1], {})
    if where:
        out.add((f, CBM.paragraph, URIRef(where["paragraph"])))
        out.add((f, CBM.reportedBy, URIRef(where["reported_by"])))
        out.add((f, CBM.evidence, URIRef(where["evidence"])))
        out.add((f, PROV.wasDerivedFrom, URIRef(where["paragraph"])))

    def label(iri: str | None, lang: str) -> str:
        if not iri:
            return ""
        return labels.get((iri, lang)) or labels.get((iri, "en")) or iri.rsplit("/", 1)[-1]

    for lang, template in rule.messages.items():
        text = template
        for name, value in b.items():
            shown = label(value, lang) if value and value.startswith("http") else _number(value)
            text = text.replace("{?" + name + "}", shown)
        prefix = _who(label(b.get("party"), lang) if b.get("party") else "",
                      label(where["reported_by"], lang) if where else "", lang)
        out.add((f, CBM.message, Literal(prefix + text + caveat.get(lang, ""), lang=lang)))


#: what a finding says of a register figure that is not established in a primary source
CAVEATS = {
    "SecondarySource": {"en": " (The register's figure rests on a secondary source only.)",
                        "zh": "（登记册中的该数字仅有二手来源。）"},
    "Unverified": {"en": " (The register's figure is not verified: check it before relying on this.)",
                   "zh": "（登记册中的该数字未经核实：依据本结论前请先核查。）"},
}


def _number(value: str | None) -> str:
    """"10000.0" → "10,000"; other values as they are."""
    if value is None:
        return ""
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:,.0f}" if number == int(number) else f"{number:,}"


def _who(subject: str, by: str, lang: str) -> str:
    """"Azerbaijan (as reported by Armenia): " — whose figures, and whose word it is."""
    if not subject and not by:
        return ""
    if lang == "zh":
        if not subject:
            return f"据{by}报告："
        return f"{subject}（据{by}报告）：" if by else f"{subject}："
    if not subject:
        return f"As reported by {by}: "
    return f"{subject} (as reported by {by}): " if by else f"{subject}: "
