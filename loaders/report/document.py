"""A report read whole: its layout, its respondents resolved against the registers, and
the facts of every paragraph."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import URIRef

from cbmkg.errors import InputError
from cbmkg.namespaces import ID

from .facts import FactFinder, ParagraphFacts
from .gazetteer import Gazetteer, load_gazetteer
from .layout import Layout, Paragraph, Reply, Section, read_layout
from .lexicon import LEXICONS
from .reader import read
from .values import time_spans

SYMBOL = re.compile(r"^[A-Z]{1,2}/\d{1,3}/\d{1,4}(?:/[A-Za-z0-9.]+)*$")
AUTHOR = URIRef(f"{ID}actor/UNSG")  # a report of the Secretary-General speaks for the UN


@dataclass
class ReadParagraph:
    paragraph: Paragraph
    order: int
    facts: ParagraphFacts
    #: (event, quantity) index here -> (paragraph order, event, quantity) of the stated
    #: total it is a part of ("57 activities, as follows: – 23 inspections …")
    parts_of: dict[tuple[int, int], tuple[int, int, int]] = field(default_factory=dict)


@dataclass
class ReadReply:
    reply: Reply
    respondent: URIRef
    code: str
    order: int
    section: int
    date: str | None
    paragraphs: list[ReadParagraph] = field(default_factory=list)


@dataclass
class ReadSection:
    section: Section
    order: int
    paragraphs: list[ReadParagraph] = field(default_factory=list)


@dataclass
class Report:
    path: Path
    symbol: str
    lang: str
    job_number: str | None
    mandate: URIRef | None
    sections: list[ReadSection]
    replies: list[ReadReply]
    #: SHA-256 of the input file (the reader's, so the file is read once)
    digest: str = ""

    @property
    def slug(self) -> str:
        return self.symbol.replace("/", "-").replace(" ", "")

    @property
    def session(self) -> int | None:
        m = re.match(r"^A/(\d+)/", self.symbol)
        return int(m.group(1)) if m else None

    @property
    def paragraph_count(self) -> int:
        return sum(len(s.paragraphs) for s in self.sections) + \
            sum(len(r.paragraphs) for r in self.replies)


def read_report(path: Path, ontology_dir: Path, symbol: str | None = None,
                lang: str | None = None) -> Report:
    source = read(path)
    layout = read_layout(source, lang)
    symbol = _symbol(layout, symbol, path)
    gazetteer = load_gazetteer(ontology_dir)
    lex = LEXICONS[layout.lang]
    sections: list[ReadSection] = []
    replies: list[ReadReply] = []
    for s_order, section in enumerate(layout.sections, start=1):
        finder = FactFinder(gazetteer, lex, AUTHOR)
        read_section = ReadSection(section, s_order)
        for order, paragraph in enumerate(section.paragraphs, start=1):
            read_section.paragraphs.append(ReadParagraph(
                paragraph, order, finder.paragraph(paragraph.text, paragraph.list_item)))
        sections.append(read_section)
        for reply in section.replies:
            respondent = _respondent(reply, gazetteer, layout)
            code = respondent.rsplit("/", 1)[1]
            read_reply = ReadReply(reply, respondent, code, len(replies) + 1, s_order,
                                   _date(reply.date_text, layout.lang))
            finder = FactFinder(gazetteer, lex, respondent)
            for order, paragraph in enumerate(reply.paragraphs, start=1):
                read_reply.paragraphs.append(ReadParagraph(
                    paragraph, order, finder.paragraph(paragraph.text, paragraph.list_item)))
            _link_parts(read_reply.paragraphs)
            replies.append(read_reply)
    codes = [r.code for r in replies]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise InputError(f"{path}: more than one reply from {', '.join(duplicates)}")
    return Report(path, symbol, layout.lang, layout.job_number, _mandate(sections), sections,
                  replies, source.digest)


def _counts(paragraph: ReadParagraph) -> list[tuple[int, int]]:
    return [(e, q) for e, event in enumerate(paragraph.facts.events)
            for q, quantity in enumerate(event.quantities) if quantity.kind == "EventCount"]


def _link_parts(paragraphs: list[ReadParagraph]) -> None:
    """A paragraph that introduces a list with one count ("57 control activities, as
    follows:") states a total; the counts of the list items under it are its parts."""
    total: tuple[int, int, int] | None = None
    for p in paragraphs:
        if not p.paragraph.list_item:
            counts = _counts(p)
            text = p.paragraph.text.rstrip()
            total = (p.order, *counts[0]) if len(counts) == 1 and text[-1:] in "：:" else None
            continue
        if total is not None:
            for event, quantity in _counts(p):
                p.parts_of[(event, quantity)] = total


def _symbol(layout: Layout, given: str | None, path: Path) -> str:
    symbol = layout.symbol or given or layout.source.symbol_hint
    if given and layout.symbol and given != layout.symbol:
        raise InputError(f"{path}: the text carries the symbol {layout.symbol}, not {given}")
    if symbol is None:
        raise InputError(f"{path}: no document symbol in the text or the file name; give one "
                         "with --symbol (e.g. A/75/95)")
    if not SYMBOL.match(symbol):
        raise InputError(f"{path}: '{symbol}' is not a UN document symbol (e.g. A/75/95)")
    return symbol


def _respondent(reply: Reply, gazetteer: Gazetteer, layout: Layout) -> URIRef:
    target = gazetteer.resolve_name(reply.heading)
    if target is None:
        parties = {m.target for m in gazetteer.find(reply.heading) if m.kind == "party" and m.target}
        if len(parties) == 1:
            target = parties.pop()
    if target is None or gazetteer.entries[target].kind != "party":
        raise InputError(f"{layout.source.path}:{reply.line}: unknown respondent "
                         f"'{reply.heading}': no state or organisation of the registers has "
                         "this name (add it to ontology/registers/ if it is one)")
    return target


def _date(text: str | None, lang: str) -> str | None:
    if not text:
        return None
    spans = time_spans(text, lang)
    return spans[0].start if spans and len(spans[0].start) == 10 else None


def _mandate(sections: list[ReadSection]) -> URIRef | None:
    """The first General Assembly resolution the introduction cites."""
    for section in sections[:1]:
        for paragraph in section.paragraphs:
            for mention in paragraph.facts.mentions:
                if mention.kind == "instrument" and mention.target and "/a-res-" in mention.target:
                    return mention.target
    return None
