"""Compliance findings: the SHACL validation results of the rule shapes (``compliance-*.ttl``,
``consistency.ttl``), computed by the store's own SPARQL engine and written as
cbm:ComplianceFinding resources with their evidence.

A finding is a result a conformant SHACL engine gives for these shapes, on the same focus
nodes: each shape's targets (``sh:targetClass`` with its subclasses, ``sh:targetNode``,
``sh:targetSubjectsOf``, ``sh:targetObjectsOf``) give its focus nodes, and the rule's SELECT
runs with ``$this`` bound to them and, for a SPARQL-based constraint component, its
parameters bound to the shape's values. One query per shape covers all its focus nodes, on
the store itself (fast, and the same on a remote store); the test suite checks the set of
findings against pySHACL's results. So a rule must bind ``$this`` in every group that uses
it (as SHACL's pre-binding would), and a component's query must not use ``?value``, which
SHACL pre-binds to the focus node (its observed figure is ``?observed``).

Each answer becomes a finding that is also a ``sh:ValidationResult`` (focus node, source
shape and component, severity) with what a lawyer needs to weigh it: the party, the
obligation, the observed figure and its qualifier, the limit and the register figure it
comes from, the strength of the finding and its ground, the edition of the instrument
applied and why, whose word it rests on (the kind of evidence) and the source the reporter
names, the paragraph and the quoted words; and a message in English and Chinese, with
labels for every term.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import BlankNode, NamedNode
from pyoxigraph import Literal as OxLiteral
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, PROV, RDF, RDFS, XSD
from rdflib.term import Node

from .catalogue import Catalogue
from .config import ROOT
from .errors import InputError
from .labels import Words, labels_of, number, values, when, words
from .namespaces import CBM, SH, graph_iri
from .store import GraphStore

__all__ = ["FINDINGS_GRAPH", "Rule", "compute", "contexts", "labels_of", "load_rules"]

FINDINGS_GRAPH = graph_iri("findings")
FINDING = "https://w3id.org/cbmkg/id/finding/"
#: shapes files whose rules are checks of what reports say (the others gate loading)
RULE_FILES = ("compliance-*.ttl", "consistency.ttl")
#: rules that check a report against itself and the register, not a party's compliance
CONSISTENCY_FILES = ("consistency.ttl",)

Term = NamedNode | BlankNode | OxLiteral


@dataclass(frozen=True)
class Rule:
    shape: URIRef
    component: URIRef            # sh:SPARQLConstraintComponent, or a SPARQL-based component
    severity: URIRef
    obligation: URIRef | None    # cbm:checksObligation of the shape, when it names one
    targets: str                 # the query for the shape's focus nodes
    body: str                    # the rule's query, prefixes and parameters in place (SHACL runs
                                 # it with $this bound to each focus node)
    messages: dict[str, str]     # language → template with {?variable} placeholders
    consistency: bool            # checks a report against itself: no attribution


def rule_paths(shapes_dir: Path, files: Iterable[Path] = ()) -> list[Path]:
    """The rule files: those of ``files`` whose names are rule files', else all of the folder."""
    given = list(files)
    if given:
        return [p for p in given if any(p.match(pattern) for pattern in RULE_FILES)]
    return [p for pattern in RULE_FILES for p in sorted(shapes_dir.glob(pattern))]


def load_rules(shapes_dir: Path, files: Iterable[Path] = ()) -> tuple[Graph, list[Rule]]:
    shapes = Graph()
    consistency: set[Node] = set()
    for path in rule_paths(shapes_dir, files):
        part = Graph().parse(path, format="turtle")
        if path.name in CONSISTENCY_FILES:
            consistency |= set(part.subjects(RDF.type, SH.NodeShape))
        shapes += part
    return shapes, list(_rules(shapes, consistency))


def _rules(shapes: Graph, consistency: set[Node]) -> Iterator[Rule]:
    components = list(_components(shapes))
    node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(SH.sparql, None))
    for shape in sorted(node_shapes, key=str):
        if shapes.value(shape, SH.deactivated) == Literal(True):
            continue
        if (shape, SH.path, None) in shapes:
            raise InputError(f"{shape}: rule shapes are node shapes (no sh:path)")
        targets = _targets(shapes, shape)
        if not targets:
            continue
        severity = URIRef(str(shapes.value(shape, SH.severity) or SH.Violation))
        named = shapes.value(shape, CBM.checksObligation)
        obligation = URIRef(str(named)) if named is not None else None
        own_messages = _messages(shapes, shape)
        found: list[tuple[Node, Node, dict[str, Node]]] = [
            (SH.SPARQLConstraintComponent, c, {}) for c in shapes.objects(shape, SH.sparql)]
        for component, parameters, validator in components:
            bound = {name: value for name, path in parameters.items()
                     if (value := shapes.value(shape, path)) is not None}
            if len(bound) == len(parameters):
                found.append((component, validator, bound))
        for component, constraint, bindings in found:
            select = shapes.value(constraint, SH.select)
            if select is None:
                raise InputError(f"{shape}: a rule is a SPARQL SELECT (sh:select)")
            text = str(select)
            if component != SH.SPARQLConstraintComponent and re.search(r"[?$]value\b", text):
                raise InputError(f"{component}: a component's query must not use ?value "
                                 "(SHACL binds it to the focus node): call the figure ?observed")
            for name, term in bindings.items():
                text = _bind(text, name, term.n3())
            text = _bind(text, "currentShape", URIRef(str(shape)).n3())
            if text.find("{") < 0:
                raise InputError(f"{shape}: not a SELECT query: {text[:80]}")
            yield Rule(URIRef(str(shape)), URIRef(str(component)), severity, obligation,
                       "SELECT DISTINCT $this WHERE { " + " UNION ".join(targets) + " }",
                       _prefixes(shapes, constraint) + text,
                       own_messages or _messages(shapes, constraint), shape in consistency)


def _bind(query: str, variable: str, term: str) -> str:
    """``query`` with ``$variable`` (or ``?variable``) replaced by the term, as SHACL pre-binds
    a parameter (the term is the replacement as it is, not a regex template)."""
    return re.sub(r"[?$]" + re.escape(variable) + r"\b", lambda _match: term, query)


def _components(shapes: Graph) -> Iterator[tuple[Node, dict[str, Node], Node]]:
    """The SPARQL-based constraint components: (component, {parameter name: path}, validator)."""
    for component in shapes.subjects(RDF.type, SH.ConstraintComponent):
        parameters = {}
        for parameter in shapes.objects(component, SH.parameter):
            path = shapes.value(parameter, SH.path)
            if path is None or shapes.value(parameter, SH.optional) == Literal(True):
                continue
            parameters[re.split(r"[#/]", str(path))[-1]] = path
        validator = shapes.value(component, SH.nodeValidator) or shapes.value(component, SH.validator)
        if validator is None:
            raise InputError(f"{component}: a rule component has a node validator (sh:nodeValidator)")
        yield component, parameters, validator


def _messages(shapes: Graph, owner: Node) -> dict[str, str]:
    return {(m.language if isinstance(m, Literal) else None) or "en": str(m)
            for m in shapes.objects(owner, SH.message)}


def _prefixes(shapes: Graph, constraint: Node) -> str:
    lines = []
    for owner in shapes.objects(constraint, SH.prefixes):
        for declaration in shapes.objects(owner, SH.declare):
            lines.append(f"PREFIX {shapes.value(declaration, SH.prefix)}: "
                         f"<{shapes.value(declaration, SH.namespace)}>")
    return "\n".join(lines) + "\n"


def _targets(shapes: Graph, shape: Node) -> list[str]:
    """The shape's targets as graph patterns binding $this (SHACL 2.1.3)."""
    if (shape, SH.target, None) in shapes:
        raise InputError(f"{shape}: SPARQL-based targets (sh:target) are not supported in rules")
    classes = list(shapes.objects(shape, SH.targetClass))
    if (shape, RDF.type, RDFS.Class) in shapes or (shape, RDF.type, OWL.Class) in shapes:
        classes.append(shape)  # an implicit class target
    patterns = [f"{{ $this {RDF.type.n3()}/{RDFS.subClassOf.n3()}* {c.n3()} }}" for c in classes]
    patterns += [f"{{ VALUES $this {{ {n.n3()} }} }}" for n in shapes.objects(shape, SH.targetNode)]
    patterns += [f"{{ $this {p.n3()} ?_targetObject }}" for p in shapes.objects(shape, SH.targetSubjectsOf)]
    patterns += [f"{{ ?_targetSubject {p.n3()} $this }}" for p in shapes.objects(shape, SH.targetObjectsOf)]
    return patterns


#: focus nodes per query: a VALUES clause of this many IRIs keeps a query small
BATCH = 2000


def _bound(body: str, focus: Sequence[Term]) -> str:
    """The rule's query with ``$this`` bound to ``focus`` by a VALUES clause first in its
    WHERE clause, which the store then evaluates from (as SHACL pre-binds $this); blank
    nodes, which VALUES cannot name, by their targets' pattern instead."""
    opening = body.find("{")
    return body[:opening + 1] + "\n  VALUES $this { " + " ".join(str(t) for t in focus) + " }" + body[opening + 1:]


def _blank_focus(body: str, targets: str) -> str:
    opening = body.find("{")
    inner = targets.replace("SELECT DISTINCT $this WHERE { ", "SELECT DISTINCT $this WHERE { { ", 1)
    return body[:opening + 1] + "\n  { " + inner + " } FILTER(isBlank($this)) } }" + body[opening + 1:]


def _answers(store: GraphStore, rule: Rule, focus: list[Term]) -> Iterator[dict[str, Term]]:
    named = [t for t in focus if not isinstance(t, BlankNode)]
    queries = [_bound(rule.body, named[i:i + BATCH]) for i in range(0, len(named), BATCH)]
    if len(named) < len(focus):
        queries.append(_blank_focus(rule.body, rule.targets))
    for query in queries:
        result = store.select(query)
        names = [v.value for v in result.variables]
        for row in result:
            if row["this"] is None:
                raise InputError(f"{rule.shape}: a rule's query must project $this")
            yield {n: row[n] for n in names if row[n] is not None}


@dataclass
class Answer:
    rule: Rule
    bindings: dict[str, Term]

    def iri(self, name: str) -> str | None:
        term = self.bindings.get(name)
        return term.value if isinstance(term, NamedNode) else None

    @property
    def focus(self) -> Term:
        return self.bindings["this"]

    @property
    def fact(self) -> str | None:
        """The fact a finding rests on: the event its rule names, else its focus node."""
        return self.iri("event") or self.iri("this")


def compute(store: GraphStore, shapes_dir: Path, files: Iterable[Path] = ()) -> Graph:
    """Every finding the rule shapes of ``shapes_dir`` (or the rule files among ``files``)
    give on ``store``, as the graph to write to FINDINGS_GRAPH.

    A few queries in all, whatever the number of findings: one for the focus nodes of each
    set of targets, one per rule shape and BATCH focus nodes, then one each for where the
    facts come from, whose word they are, the words of the terms named, and the register
    figures' verification statuses.
    """
    _shapes, rules = load_rules(shapes_dir, files)
    answers: list[Answer] = []
    focus: dict[str, list[Term]] = {}  # shapes with the same targets share their focus nodes
    for rule in rules:
        if rule.targets not in focus:
            focus[rule.targets] = [row["this"] for row in store.select(rule.targets)]
        answers += [Answer(rule, bindings) for bindings in _answers(store, rule, focus[rule.targets])]
    facts = {a.fact for a in answers if a.fact}
    where = contexts(store, facts)
    said = attribution(store, {(a.fact, _party(a, where)) for a in answers if a.fact and _party(a, where)})
    statuses = _statuses(store, {c for a in answers if (c := a.iri("constraint"))})
    iris = {CBM.strength, CBM.appliedEdition, CBM.statedSource, CBM.limitValue} | set(statuses.values())
    for a in answers:
        iris |= {t.value for t in a.bindings.values() if isinstance(t, NamedNode)}
        iris |= {i for t in a.bindings.values() if isinstance(t, OxLiteral) for i in Words().iris_in(t.value)}
    iris |= {v for c in where.values() for k, v in c.items() if k == "reported_by"}
    iris |= {v for s in said.values() for k, v in s.items() if k in ("kind", "source_actor", "reported_by")}
    vocabulary = words(store, {str(i) for i in iris})
    out = Graph()
    out.bind("cbm", str(CBM))
    out.bind("sh", str(SH))
    seen: set[str] = set()
    for a in answers:
        _add_finding(out, a, where.get(a.fact or ""), said.get((a.fact or "", _party(a, where) or "")),
                     statuses, vocabulary, seen)
    return out


def _party(a: Answer, where: dict[str, dict[str, str]]) -> str | None:
    """Whom the finding is about: the rule's ?party, else the reporter of its fact."""
    return a.iri("party") or (where.get(a.fact or "") or {}).get("reported_by")


def contexts(store: GraphStore, facts: set[str]) -> dict[str, dict[str, str]]:
    """Where each fact comes from (the named query fact-context, one row per fact): its
    paragraph and its order, who reported it, the evidence span, the report and, when
    known, the paragraph's text and the span's character offsets in it."""
    if not facts:
        return {}
    text = Catalogue(ROOT / "queries").get("fact-context").text
    # the facts are given first in the WHERE clause, so the store looks at them alone
    query = text.replace("WHERE {", "WHERE {\n  " + values("fact", facts), 1)
    out: dict[str, dict[str, str]] = {}
    keys = ("paragraph", "paragraph_order", "reported_by", "evidence", "report", "paragraph_text",
            "start", "end")
    for row in store.select(query):
        out.setdefault(row["fact"].value, {key: row[key].value for key in keys if row[key] is not None})
    return out


def attribution(store: GraphStore, pairs: set[tuple[str | None, str | None]]) -> dict[tuple[str, str], dict[str, str]]:
    """Whose word each fact about a party is (the named query attribution): the kind of
    evidence, the reporter, and the source the reporter names (a blank node's words are
    copied, as a blank node cannot be pointed at from another graph)."""
    pairs_ = {(f, p) for f, p in pairs if f and p}
    if not pairs_:
        return {}
    text = Catalogue(ROOT / "queries").get("attribution").text
    rows = " ".join(f"({NamedNode(f)} {NamedNode(p)})" for f, p in sorted(pairs_))
    query = text.replace("WHERE {", "WHERE {\n  VALUES (?fact ?party) { " + rows + " }", 1)
    out: dict[tuple[str, str], dict[str, str]] = {}
    for row in store.select(query):
        found = {k: row[k].value for k in ("kind", "reported_by", "source_words", "source_actor",
                                           "source_evidence") if row[k] is not None}
        if isinstance(row["source"], NamedNode):
            found["source"] = row["source"].value
        out.setdefault((row["fact"].value, row["party"].value), found)
    return out


def _statuses(store: GraphStore, constraints: set[str]) -> dict[str, str]:
    if not constraints:
        return {}
    query = ("SELECT ?c ?s WHERE { " + values("c", constraints) +
             " ?c <https://w3id.org/cbmkg/ontology#verificationStatus> ?s }")
    return {row["c"].value: row["s"].value for row in store.select(query)}


def _rdflib(term: Term) -> Node:
    if isinstance(term, NamedNode):
        return URIRef(term.value)
    if isinstance(term, BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def _add_finding(out: Graph, a: Answer, where: dict[str, str] | None, said: dict[str, str] | None,
                 statuses: dict[str, str], vocabulary: Words, seen: set[str]) -> None:
    rule, b = a.rule, a.bindings
    key = "|".join([str(rule.shape)] + [f"{n}={t}" for n, t in sorted(b.items())])
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    if digest in seen:  # the same solution twice
        return
    seen.add(digest)
    f = URIRef(f"{FINDING}{str(rule.shape).rsplit('#', 1)[-1]}/{digest}")
    focus = _rdflib(a.focus)
    out.add((f, RDF.type, CBM.ComplianceFinding))
    out.add((f, RDF.type, SH.ValidationResult))
    out.add((f, SH.focusNode, focus))
    out.add((f, SH.sourceShape, rule.shape))
    out.add((f, SH.sourceConstraintComponent, rule.component))
    out.add((f, SH.resultSeverity, rule.severity))
    out.add((f, CBM.rule, rule.shape))
    out.add((f, CBM.severity, rule.severity))
    obligation = rule.obligation or (URIRef(o) if (o := a.iri("obligation")) else None)
    if obligation is not None:
        out.add((f, CBM.checksObligation, obligation))
    party = a.iri("party") or (where or {}).get("reported_by")
    if party:
        out.add((f, CBM.findingAbout, URIRef(party)))
    observed = b.get("observed", b.get("value"))
    if isinstance(observed, OxLiteral):
        out.add((f, CBM.observedValue, _rdflib(observed)))
    for name, predicate in (("qualifier", CBM.observedQualifier), ("strength", CBM.strength),
                            ("ground", CBM.strengthGround), ("edition", CBM.appliedEdition),
                            ("editionGround", CBM.editionGround)):
        if iri := a.iri(name):
            out.add((f, predicate, URIRef(iri)))
    if isinstance(limit := b.get("limit"), OxLiteral):
        out.add((f, CBM.limitValue, _rdflib(limit)))
    status = None
    if constraint := a.iri("constraint"):
        out.add((f, PROV.used, URIRef(constraint)))  # the register figure compared with
        if status := statuses.get(constraint):
            out.add((f, CBM.verificationStatus, URIRef(status)))
    if where:
        out.add((f, CBM.paragraph, URIRef(where["paragraph"])))
        out.add((f, CBM.reportedBy, URIRef(where["reported_by"])))
        out.add((f, CBM.evidence, URIRef(where["evidence"])))
        out.add((f, PROV.wasDerivedFrom, URIRef(where["paragraph"])))
    said = said or {}
    if kind := said.get("kind"):
        out.add((f, CBM.evidenceKind, URIRef(kind)))
    if "source_words" in said or "source_actor" in said:
        source: Node = URIRef(said["source"]) if "source" in said else BNode()
        out.add((f, CBM.statedSource, source))
        if "source" not in said:  # a copy of the reporter's words, in this graph
            out.add((source, RDF.type, CBM.SourceStatement))
            if w := said.get("source_words"):
                out.add((source, RDFS.label, Literal(w)))
            if actor := said.get("source_actor"):
                out.add((source, CBM.sourceActor, URIRef(actor)))
            if span := said.get("source_evidence"):
                out.add((source, CBM.evidence, URIRef(span)))
    reporter = said.get("reported_by") or (where or {}).get("reported_by")
    for lang in ("en", "zh"):
        template = rule.messages.get(lang) or rule.messages.get("en")
        if template is None:
            continue
        text = _message(a, template, lang, vocabulary, reporter, said, status)
        out.add((f, CBM.message, Literal(text, lang=lang)))


#: how each language punctuates the sentences of a message
_STYLE = {"en": {"colon": ": ", "dash": " — ", "open": " (", "close": ")", "end": ".", "join": " ",
                 "quote": "“{}”", "comma": ", "},
          "zh": {"colon": "：", "dash": "——", "open": "（", "close": "）", "end": "。", "join": "",
                 "quote": "“{}”", "comma": "，"}}


def _message(a: Answer, template: str, lang: str, vocabulary: Words, reporter: str | None,
             said: dict[str, str], status: str | None) -> str:
    """The finding in plain words: who says what (the rule's statement, attributed as the
    kind of evidence says), how strong it is and why, the edition applied and why, the
    register figure's standing when it is not verified, and the source the reporter names."""
    style = _STYLE[lang]

    def shown(name: str) -> str:
        term = a.bindings.get(name)
        if term is None or term == NamedNode(str(CBM.Exactly)):  # "exactly" goes without saying
            return ""
        return _render(term, lang, vocabulary)

    statement = re.sub(r"\{[?$](\w+)\}", lambda m: shown(m.group(1)), template)
    # what an unbound placeholder leaves: double spaces, "( ", "(; " (an undated event)
    statement = re.sub(r"  +", " ", statement).replace(" ,", ",").replace("( ", "(")
    statement = statement.replace("(; ", "(").replace("（；", "（")
    kind = said.get("kind")
    pattern = vocabulary.get(kind, "pattern", lang) if kind else None
    if a.rule.consistency or not reporter or not pattern:
        first = statement
    else:
        first = pattern.replace("{reporter}", vocabulary.label(reporter, lang)).replace(
            "{statement}", statement)
    sentences = [_capital(first)]

    def frame(term: str, text: str) -> str:
        return _capital(vocabulary.label(term, lang)) + style["colon"] + text

    if strength := a.iri("strength"):
        text = vocabulary.label(strength, lang)
        if ground := a.iri("ground"):
            text += style["dash"] + _lower(_bare(vocabulary.definition(ground, lang)))
        sentences.append(frame(str(CBM.strength), text))
    if edition := a.iri("edition"):
        text = vocabulary.label(edition, lang)
        if why := a.iri("editionGround"):
            text += style["open"] + vocabulary.label(why, lang) + style["close"]
        sentences.append(frame(str(CBM.appliedEdition), text))
    if status and status != str(CBM.Verified) and isinstance(limit := a.bindings.get("limit"), OxLiteral):
        sentences.append(_capital(vocabulary.label(str(CBM.limitValue), lang)) + " "
                         + _render(limit, lang, vocabulary)
                         + style["colon"] + _bare(vocabulary.definition(status, lang)))
    if "source_words" in said or "source_actor" in said:
        parts = [vocabulary.label(actor, lang)] if (actor := said.get("source_actor")) else []
        if w := said.get("source_words"):
            parts.append(style["quote"].format(w))
        sentences.append(frame(str(CBM.statedSource), style["comma"].join(parts)))
    return style["join"].join(_bare(s) + style["end"] for s in sentences)


def _render(term: Term, lang: str, vocabulary: Words) -> str:
    """A term in a message: a label for an IRI, a number or a date as people write them, any
    other text with the IRIs in it replaced by labels."""
    if isinstance(term, NamedNode):
        return vocabulary.label(term.value, lang)
    if isinstance(term, OxLiteral) and not term.language:
        kind = term.datatype.value
        if kind in _NUMBERS:
            return number(term.value, lang)
        if kind in _DATES:
            return when(term.value, kind, lang)
    return vocabulary.render(term.value, lang)


_DATES = {str(XSD.date), str(XSD.gYearMonth), str(XSD.gMonthDay)}
_NUMBERS = {str(XSD.decimal), str(XSD.integer), str(XSD.double), str(XSD.float), str(XSD.int),
            str(XSD.long), str(XSD.nonNegativeInteger), str(XSD.positiveInteger)}


def _lower(text: str) -> str:
    """A sentence put after a dash: "The figure…" → "the figure…" (not "CFE…", not "“Up to”")."""
    return text[:1].lower() + text[1:] if text[:2].istitle() else text


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _bare(sentence: str) -> str:
    """A sentence without its closing full stop (the message adds its own)."""
    return sentence.rstrip().rstrip(".。")


@dataclass(frozen=True)
class Summary:
    """One finding as a person reads it (English labels; the message in both languages)."""
    severity: str                 # Violation | Warning | Info
    rule: str                     # the shape's IRI
    rule_label: str
    focus: str
    party: str                    # whom it is about ("" if no one)
    message_en: str
    message_zh: str
    strength: str
    evidence: str                 # the kind of evidence, and whose word it is
    source: str                   # where it was read (report ¶) and the source the reporter names


_SUMMARY = """PREFIX cbm: <https://w3id.org/cbmkg/ontology#>
PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?f ?shape ?severity ?focus ?party ?strength ?kind ?reporter ?paragraph ?en ?zh ?words ?actor WHERE {
  ?f a cbm:ComplianceFinding ; sh:sourceShape ?shape ; sh:resultSeverity ?severity ; sh:focusNode ?focus .
  OPTIONAL { ?f cbm:findingAbout ?party } OPTIONAL { ?f cbm:strength ?strength }
  OPTIONAL { ?f cbm:evidenceKind ?kind } OPTIONAL { ?f cbm:reportedBy ?reporter }
  OPTIONAL { ?f cbm:paragraph ?paragraph }
  OPTIONAL { ?f cbm:message ?en FILTER(LANG(?en) = "en") } OPTIONAL { ?f cbm:message ?zh FILTER(LANG(?zh) = "zh") }
  OPTIONAL { ?f cbm:statedSource ?s . OPTIONAL { ?s rdfs:label ?words } OPTIONAL { ?s cbm:sourceActor ?actor } }
}"""
_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


def summaries(graph: Graph, store: GraphStore, shapes: Graph | None = None) -> list[Summary]:
    """The findings of ``graph`` for people, most severe first; labels from ``store`` (and
    the rules' names from ``shapes``)."""
    rows = [{k: (str(v) if v is not None else "") for k, v in row.asdict().items()}  # type: ignore[union-attr]
            for row in graph.query(_SUMMARY)]
    iris = {r[k] for r in rows for k in ("party", "strength", "kind", "reporter", "actor") if r.get(k)}
    vocabulary = words(store, iris)
    places = _places(store, {r["paragraph"] for r in rows if r.get("paragraph")})
    out = []
    for r in rows:
        def label(key: str, row: dict[str, str] = r) -> str:
            return vocabulary.label(row[key], "en") if row.get(key) else ""
        shape_label = shapes.value(URIRef(r["shape"]), RDFS.label) if shapes is not None else None
        evidence = label("kind") + (f" ({label('reporter')})" if r.get("reporter") else "")
        source = places.get(r.get("paragraph", ""), "")
        if r.get("words") or r.get("actor"):
            stated = ", ".join(x for x in (label("actor"), f"“{r['words']}”" if r.get("words") else "") if x)
            source += f"; stated source: {stated}"
        out.append(Summary(r["severity"].rsplit("#", 1)[-1], r["shape"],
                           str(shape_label) if shape_label else r["shape"].rsplit("#", 1)[-1],
                           r["focus"], label("party"), r.get("en", ""), r.get("zh", ""),
                           label("strength"), evidence, source))
    return sorted(out, key=lambda x: (_ORDER.get(x.severity, 3), x.rule_label, x.party, x.source, x.focus))


def _places(store: GraphStore, paragraphs: set[str]) -> dict[str, str]:
    """"A/75/95 ¶4" for each paragraph: the report's symbol and the paragraph's place."""
    if not paragraphs:
        return {}
    query = ("PREFIX cbm: <https://w3id.org/cbmkg/ontology#> SELECT ?p ?symbol ?order WHERE { "
             + values("p", paragraphs) + " OPTIONAL { ?p cbm:order ?order } "
             "OPTIONAL { ?p cbm:partOf+ ?edition . ?r cbm:hasEdition ?edition ; cbm:documentSymbol ?symbol } }")
    out: dict[str, str] = {}
    for row in store.select(query):
        symbol = row["symbol"].value if row["symbol"] is not None else row["p"].value
        order = f" ¶{row['order'].value}" if row["order"] is not None else ""
        out.setdefault(row["p"].value, symbol + order)
    return out
