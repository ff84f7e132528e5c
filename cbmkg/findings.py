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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import NamedNode
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
            messages = {m.language or "en": str(m) for m in shapes.objects(constraint, SH.message)}
            yield Rule(URIRef(shape), URIRef(shapes.value(shape, SH.severity) or SH.Violation),
                       shapes.value(shape, CBM.checksObligation),  # type: ignore[arg-type]
                       "\n".join(prefixes) + "\n" + str(select), messages)


def _value(term: object) -> str | None:
    return None if term is None else term.value  # type: ignore[attr-defined]


def compute(store: GraphStore, shapes_dir: Path) -> Graph:
    """Every finding the rules give on ``store``, as the graph to write to FINDINGS_GRAPH."""
    _shapes, rules = load_rules(shapes_dir)
    # the project's own query (not a user's queries folder): where a fact comes from
    context = Catalogue(ROOT / "queries").get("fact-context")
    out = Graph()
    out.bind("cbm", CBM)
    for rule in rules:
        result = store.query(rule.query)
        names = [v.value for v in result.variables]  # type: ignore[union-attr]
        for row in result:
            bindings = {name: _value(row[name]) for name in names}  # type: ignore[index]
            _add_finding(out, store, rule, bindings, context)
    return out


def _add_finding(out: Graph, store: GraphStore, rule: Rule, b: dict[str, str | None],
                 context: object) -> None:
    focus = b["this"]
    key = hashlib.sha1(f"{rule.shape}|{focus}|{b.get('constraint')}".encode()).hexdigest()[:16]
    f = URIRef(f"{FINDING}{str(rule.shape).rsplit('#', 1)[-1]}/{key}")
    out.add((f, RDF.type, CBM.ComplianceFinding))
    out.add((f, CBM.rule, rule.shape))
    out.add((f, CBM.severity, rule.severity))
    out.add((f, RDFS.seeAlso, URIRef(focus)))  # the fact the finding is about
    obligation = rule.obligation or (URIRef(b["obligation"]) if b.get("obligation") else None)
    if obligation is not None:
        out.add((f, CBM.checksObligation, obligation))
    if b.get("party"):
        out.add((f, CBM.findingAbout, URIRef(b["party"])))  # type: ignore[arg-type]
    if b.get("value") is not None:
        out.add((f, CBM.observedValue, Literal(b["value"])))
    if b.get("limit") is not None:
        out.add((f, CBM.limitValue, Literal(b["limit"])))
    if b.get("constraint"):
        out.add((f, PROV.used, URIRef(b["constraint"])))  # the register figure compared with
    where = _context(store, context, b.get("event") or focus)  # type: ignore[arg-type]
    if where:
        out.add((f, CBM.paragraph, URIRef(where["paragraph"])))
        out.add((f, CBM.reportedBy, URIRef(where["reported_by"])))
        out.add((f, CBM.evidence, URIRef(where["evidence"])))
        out.add((f, PROV.wasDerivedFrom, URIRef(where["paragraph"])))
    for lang, template in rule.messages.items():
        text = template
        for name, value in b.items():
            shown = _label(store, value, lang) if value and value.startswith("http") else _number(value)
            text = text.replace("{?" + name + "}", shown)
        prefix = _who(store, b.get("party"), where.get("reported_by") if where else None, lang)
        out.add((f, CBM.message, Literal(prefix + text, lang=lang)))


def _number(value: str | None) -> str:
    """"10000.0" → "10,000"; other values as they are."""
    if value is None:
        return ""
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:,.0f}" if number == int(number) else f"{number:,}"


def _context(store: GraphStore, context: object, fact: str) -> dict[str, str] | None:
    rows = list(store.query(context.bind({"fact": fact})))  # type: ignore[attr-defined]
    if not rows:
        return None
    row = rows[0]
    return {"paragraph": row["paragraph"].value, "reported_by": row["reported_by"].value,
            "evidence": row["evidence"].value}


def _label(store: GraphStore, iri: str | None, lang: str) -> str:
    if not iri:
        return ""
    rows = list(store.query(
        f"SELECT ?l WHERE {{ {NamedNode(iri)} <http://www.w3.org/2000/01/rdf-schema#label>|"
        f"<http://www.w3.org/2004/02/skos/core#prefLabel> ?l "
        f'FILTER(LANG(?l) = "{"zh" if lang == "zh" else "en"}") }} LIMIT 1'))
    return rows[0]["l"].value if rows else iri.rsplit("/", 1)[-1]


def _who(store: GraphStore, party: str | None, reporter: str | None, lang: str) -> str:
    """"Azerbaijan (as reported by Armenia): " — whose figures, and whose word it is."""
    if not party and not reporter:
        return ""
    subject = _label(store, party, lang) if party else ""
    by = _label(store, reporter, lang) if reporter else ""
    if lang == "zh":
        if not subject:
            return f"据{by}报告："
        return f"{subject}（据{by}报告）：" if by else f"{subject}："
    if not subject:
        return f"As reported by {by}: "
    return f"{subject} (as reported by {by}): " if by else f"{subject}: "
