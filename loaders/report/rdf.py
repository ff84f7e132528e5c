"""A read report as RDF in the cbmkg model, one named graph per reply.

Graphs (``<slug>`` is the symbol with "-" for "/", ``<lang>`` the edition's language):

* ``…/graph/report/<slug>/<lang>``: the report, its edition, sections, introduction and the
  extraction run, attributed to the Secretary-General;
* ``…/graph/report/<slug>/<lang>/reply/<code>``: one reply, its paragraphs and every fact
  read from them, a prov:Bundle attributed to the respondent.

IRIs come from the symbol, language, respondent code and paragraph order, so reading the
same file again gives the same IRIs and replaces the same graphs. Only the time of the
extraction run changes between runs (``SOURCE_DATE_EPOCH`` fixes it, as for reproducible
builds).
"""

from __future__ import annotations

import hashlib
import os
import time
from decimal import Decimal

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, TIME, XSD

import cbmkg
from cbmkg.namespaces import CBM, GRAPH, ID, OA

from .document import AUTHOR, ReadParagraph, Report
from .facts import Event
from .gazetteer import Mention
from .values import Quantity

SOFTWARE = URIRef(f"{ID}software/cbmkg")


def _date_literal(iso: str) -> Literal:
    datatype = {4: XSD.gYear, 7: XSD.gYearMonth, 10: XSD.date}[len(iso)]
    return Literal(iso, datatype=datatype)


def _run_time() -> Literal:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    seconds = int(epoch) if epoch and epoch.isdigit() else int(time.time())
    return Literal(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds)),
                   datatype=XSD.dateTime)


class _Writer:
    def __init__(self, report: Report):
        self.r = report
        self.ds = Dataset()
        for prefix, namespace in (("cbm", CBM), ("cbmid", ID), ("cbmg", GRAPH), ("oa", OA),
                                  ("prov", PROV), ("time", TIME), ("dct", DCTERMS)):
            self.ds.bind(prefix, namespace)
        base = f"{ID}report/{report.slug}"
        self.report = URIRef(base)
        self.edition = URIRef(f"{base}/{report.lang}")
        digest = (report.digest or hashlib.sha256(report.path.read_bytes()).hexdigest())[:16]
        self.run = URIRef(f"{ID}run/{report.slug}/{report.lang}/{digest}")
        self.doc_graph = self.ds.graph(URIRef(f"{GRAPH}report/{report.slug}/{report.lang}"))
        self.digest = digest

    def lit(self, text: str) -> Literal:
        return Literal(text, lang=self.r.lang)

    # the document -----------------------------------------------------------------------
    def document(self) -> None:
        g, r = self.doc_graph, self.r
        g.add((self.report, RDF.type, CBM.Report))
        g.add((self.report, CBM.documentSymbol, Literal(r.symbol)))
        if r.session:
            g.add((self.report, CBM.session, Literal(r.session)))
        if r.mandate:
            g.add((self.report, CBM.mandatedBy, r.mandate))
        g.add((self.report, CBM.hasEdition, self.edition))
        g.add((self.report, PROV.wasAttributedTo, AUTHOR))
        g.add((self.edition, RDF.type, CBM.LanguageEdition))
        g.add((self.edition, DCTERMS.language, Literal(r.lang)))
        if r.job_number:
            g.add((self.edition, CBM.jobNumber, Literal(r.job_number)))
        g.add((self.run, RDF.type, CBM.ExtractionRun))
        g.add((self.run, CBM.softwareVersion, Literal(cbmkg.__version__)))
        g.add((self.run, PROV.used, self.edition))
        g.add((self.run, PROV.wasAssociatedWith, SOFTWARE))
        g.add((self.run, PROV.endedAtTime, _run_time()))
        g.add((self.run, DCTERMS.identifier, Literal(f"sha256:{self.digest}")))
        g.add((self.run, DCTERMS.source, Literal(r.path.name)))
        g.add((SOFTWARE, RDF.type, PROV.SoftwareAgent))
        g.add((self.doc_graph.identifier, RDF.type, PROV.Bundle))
        g.add((self.doc_graph.identifier, PROV.wasAttributedTo, AUTHOR))
        g.add((self.doc_graph.identifier, PROV.wasGeneratedBy, self.run))
        for section in r.sections:
            s = URIRef(f"{self.edition}/section/{section.order}")
            g.add((s, RDF.type, CBM.Section))
            g.add((s, CBM.partOf, self.edition))
            g.add((s, CBM.order, Literal(section.order, datatype=XSD.integer)))
            if section.section.number:
                g.add((s, CBM.number, Literal(section.section.number)))
            if section.section.title:
                g.add((s, CBM.text, self.lit(section.section.title)))
            for p in section.paragraphs:
                self.paragraph(g, p, s, f"{self.edition}/p{p.order}", AUTHOR)

    def replies(self) -> None:
        for reply in self.r.replies:
            graph_iri = URIRef(f"{GRAPH}report/{self.r.slug}/{self.r.lang}/reply/{reply.code}")
            g = self.ds.graph(graph_iri)
            node = URIRef(f"{self.report}/reply/{reply.code}")
            section = URIRef(f"{self.edition}/section/{reply.section}")
            g.add((node, RDF.type, CBM.Reply))
            g.add((node, CBM.respondent, reply.respondent))
            g.add((node, CBM.partOf, section))
            g.add((node, CBM.order, Literal(reply.order, datatype=XSD.integer)))
            g.add((node, CBM.text, self.lit(reply.reply.heading)))
            if reply.reply.original_language:
                g.add((node, CBM.originalLanguage,
                       Literal(reply.reply.original_language, datatype=XSD.language)))
            if reply.date:
                g.add((node, CBM.replyDate, Literal(reply.date, datatype=XSD.date)))
            for meta in ((RDF.type, PROV.Bundle), (PROV.wasAttributedTo, reply.respondent),
                         (PROV.wasGeneratedBy, self.run), (PROV.wasDerivedFrom, self.edition)):
                self.doc_graph.add((graph_iri, *meta))
            for p in reply.paragraphs:
                self.paragraph(g, p, node, f"{self.edition}/reply/{reply.code}/p{p.order}",
                               reply.respondent)

    # a paragraph and its facts ------------------------------------------------------------
    def paragraph(self, g: Graph, p: ReadParagraph, parent: URIRef, iri: str,
                  speaker: URIRef) -> None:
        node = URIRef(iri)
        text = p.paragraph.text
        g.add((node, RDF.type, CBM.Paragraph))
        g.add((node, CBM.partOf, parent))
        g.add((node, CBM.order, Literal(p.order, datatype=XSD.integer)))
        g.add((node, CBM.text, self.lit(text)))
        g.add((node, DCTERMS.language, Literal(self.r.lang)))
        g.add((node, CBM.line, Literal(p.paragraph.line, datatype=XSD.integer)))
        if p.paragraph.number:
            g.add((node, CBM.number, Literal(p.paragraph.number)))
        facts = p.facts
        for i, m in enumerate(facts.mentions, start=1):
            self.mention(g, node, text, f"{iri}/mention/{i}", m)
        for i, ev in enumerate(facts.events, start=1):
            self.event(g, node, text, f"{iri}/event/{i}", ev, speaker)
        base = iri.rsplit("/", 1)[0]
        for (e, q), (order, te, tq) in p.parts_of.items():
            g.add((URIRef(f"{iri}/event/{e + 1}/quantity/{q + 1}"), CBM.partOfTotal,
                   URIRef(f"{base}/p{order}/event/{te + 1}/quantity/{tq + 1}")))
        for i, rel in enumerate(facts.relations, start=1):
            r = URIRef(f"{iri}/relation/{i}")
            g.add((r, RDF.type, CBM.PartyRelation))
            g.add((r, CBM.subject, rel.party))
            g.add((r, CBM.relationKind, CBM[rel.kind]))
            g.add((r, CBM.instrument, rel.instrument))
            self.cite(g, r, node, text, rel.evidence, speaker)
        for i, claim in enumerate(facts.claims, start=1):
            c = URIRef(f"{iri}/claim/{i}")
            g.add((c, RDF.type, CBM.Claim))
            g.add((c, CBM.claimant, speaker))
            for subject in claim.subjects:
                g.add((c, CBM.subject, subject))
            g.add((c, CBM.stance, CBM[claim.stance]))
            if claim.instrument:
                g.add((c, CBM.instrument, claim.instrument))
            for e in claim.events:
                g.add((c, CBM.claimsEvent, URIRef(f"{iri}/event/{e + 1}")))
            self.cite(g, c, node, text, claim.evidence, speaker)

    def span(self, g: Graph, paragraph: URIRef, text: str, where: tuple[int, int]) -> URIRef:
        start, end = where
        node = URIRef(f"{paragraph}/span/{start}-{end}")
        quote, position = URIRef(f"{node}#quote"), URIRef(f"{node}#position")
        g.add((node, RDF.type, CBM.TextSpan))
        g.add((node, OA.hasSource, paragraph))
        g.add((node, OA.hasSelector, quote))
        g.add((node, OA.hasSelector, position))
        g.add((quote, RDF.type, OA.TextQuoteSelector))
        g.add((quote, OA.exact, self.lit(text[start:end])))
        g.add((position, RDF.type, OA.TextPositionSelector))
        g.add((position, OA.start, Literal(start, datatype=XSD.integer)))
        g.add((position, OA.end, Literal(end, datatype=XSD.integer)))
        return node

    def cite(self, g: Graph, fact: URIRef, paragraph: URIRef, text: str,
             where: tuple[int, int], speaker: URIRef) -> None:
        g.add((fact, CBM.paragraph, paragraph))
        g.add((fact, CBM.evidence, self.span(g, paragraph, text, where)))
        g.add((fact, CBM.reportedBy, speaker))
        g.add((fact, PROV.wasGeneratedBy, self.run))

    def mention(self, g: Graph, paragraph: URIRef, text: str, iri: str, m: Mention) -> None:
        node = URIRef(iri)
        g.add((node, RDF.type, CBM.Mention))  # the superclass too: SPARQL users need no reasoner
        if not m.target:
            g.add((node, RDF.type, CBM.UnresolvedMention))
        g.add((node, CBM.mentionKind, CBM.PartyMention if m.kind == "party" else CBM.InstrumentMention))
        if m.target:
            g.add((node, CBM.mentions, m.target))
        g.add((node, CBM.paragraph, paragraph))
        g.add((node, CBM.evidence, self.span(g, paragraph, text, (m.start, m.end))))

    def event(self, g: Graph, paragraph: URIRef, text: str, iri: str, ev: Event,
              speaker: URIRef) -> None:
        node = URIRef(iri)
        g.add((node, RDF.type, CBM[ev.kind]))
        if ev.span:
            interval = URIRef(f"{iri}#time")
            g.add((node, CBM.eventTime, interval))
            g.add((interval, RDF.type, TIME.Interval))
            for prop, value, flat in ((TIME.hasBeginning, ev.span.start, CBM.startDate),
                                      (TIME.hasEnd, ev.span.end, CBM.endDate)):
                instant = URIRef(f"{iri}#{'start' if prop == TIME.hasBeginning else 'end'}")
                g.add((interval, prop, instant))
                g.add((instant, RDF.type, TIME.Instant))
                kind = {4: TIME.inXSDgYear, 7: TIME.inXSDgYearMonth, 10: TIME.inXSDDate}[len(value)]
                g.add((instant, kind, _date_literal(value)))
                g.add((node, flat, _date_literal(value)))
        for agent in ev.agents:
            g.add((node, CBM.agent, agent))
        for i, (party, role) in enumerate(ev.participants, start=1):
            part = URIRef(f"{iri}/participation/{i}")
            g.add((node, CBM.hasParticipation, part))
            g.add((part, RDF.type, CBM.EventParticipation))
            g.add((part, CBM.participant, party))
            g.add((part, CBM.role, CBM[role]))
        if ev.instrument:
            g.add((node, CBM.underInstrument, ev.instrument))
        if ev.place:
            g.add((node, CBM.place, self.lit(ev.place)))
        g.add((node, CBM.presentedAsNonCompliance, Literal(ev.non_compliance)))
        for i, q in enumerate(ev.quantities, start=1):
            self.quantity(g, paragraph, text, f"{iri}/quantity/{i}", node, q, ev)
        self.cite(g, node, paragraph, text, ev.sentence, speaker)

    def quantity(self, g: Graph, paragraph: URIRef, text: str, iri: str, event: URIRef,
                 q: Quantity, ev: Event) -> None:
        node = URIRef(iri)
        offset = ev.sentence[0]
        g.add((event, CBM.quantity, node))
        g.add((node, RDF.type, CBM.Quantity))
        g.add((node, CBM.value, Literal(Decimal(q.value), datatype=XSD.decimal)))
        if q.unit:
            g.add((node, CBM.unit, CBM[q.unit]))
        g.add((node, CBM.quantityKind, CBM[q.kind]))
        if q.category:
            g.add((node, CBM.equipmentCategory, CBM[q.category]))
        g.add((node, CBM.qualifier, CBM[q.qualifier]))
        if q.limit is not None:
            g.add((node, CBM.statedLimit, Literal(Decimal(q.limit), datatype=XSD.decimal)))
            if ev.span and len(ev.span.start) == 10:
                g.add((node, CBM.asOf, Literal(ev.span.start, datatype=XSD.date)))
        g.add((node, CBM.evidence, self.span(g, paragraph, text,
                                             (offset + q.begin, offset + q.finish))))


def to_dataset(report: Report) -> Dataset:
    writer = _Writer(report)
    writer.document()
    writer.replies()
    return writer.ds

