"""The layout of a "views of Member States" report: page furniture out, hard wraps joined,
paragraphs split by page breaks rejoined, then sections, replies (heading, "[Original: …]",
date) and paragraphs in document order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cbmkg.errors import InputError

from .lexicon import (
    BARCODE_LINE,
    CJK,
    JOB_LINE,
    LEXICONS,
    PAGE_NUMBER_LINE,
    SYMBOL_LINE,
    URL_LINE,
    Lexicon,
    detect_language,
)
from .reader import Source

_CJK_CHAR = re.compile(f"[{CJK}]")


@dataclass
class Paragraph:
    text: str
    line: int                    # first line in the file (1-based)
    number: str | None = None    # the printed number ("1"), if any
    list_item: bool = False


@dataclass
class Reply:
    heading: str
    line: int
    original_language: str | None = None
    date_text: str | None = None
    paragraphs: list[Paragraph] = field(default_factory=list)


@dataclass
class Section:
    number: str
    title: str
    line: int
    paragraphs: list[Paragraph] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)


@dataclass
class Layout:
    source: Source
    lang: str
    symbol: str | None
    job_number: str | None
    sections: list[Section]

    @property
    def replies(self) -> list[Reply]:
        return [r for s in self.sections for r in s.replies]


def join_lines(a: str, b: str, lang: str) -> str:
    """Join a hard-wrapped line: no space between CJK characters, one space elsewhere
    (the documents themselves put spaces between CJK and digits or Latin words)."""
    a, b = a.rstrip(), b.strip()
    if not a:
        return b
    if not b:
        return a
    if a.endswith("-") and lang != "zh" and a[-2:-1].isalpha() and b[:1].isalpha():
        if re.match(r"(?:and|or|to)\b", b):
            return a + " " + b  # "confidence- and security-building": a suspended hyphen
        return a + b  # "Secretary-General" broken at its hyphen
    if _CJK_CHAR.match(a[-1]) and _CJK_CHAR.match(b[0]):
        return a + b
    if lang == "zh" and (_is_cjk_punct(a[-1]) or _is_cjk_punct(b[0])):
        return a + b
    return a + " " + b


def _is_cjk_punct(ch: str) -> bool:
    return "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef" or ch in "“”‘’《》、—–…"


class _Builder:
    def __init__(self, source: Source, lex: Lexicon):
        self.source = source
        self.lex = lex
        self.sections: list[Section] = []
        self.paragraphs: list[Paragraph] = []  # of the current section or reply
        self.open: Paragraph | None = None
        self.symbol: str | None = None
        self.job: str | None = None
        self.width = 80          # the usual length of a full line of the text
        self.previous = ""       # the last text line read

    def where(self, line: int) -> str:
        return f"{self.source.path}:{line}"

    # paragraphs ---------------------------------------------------------------------------
    def close(self) -> None:
        if self.open is not None:
            self.open.text = self.open.text.strip()
            if self.open.text:
                self.paragraphs.append(self.open)
            self.open = None

    def start(self, text: str, line: int) -> None:
        self.close()
        text = text.strip()
        number = self.lex.numbered.match(text)
        list_item = bool(self.lex.list_item.match(text))
        if number:  # the printed number is kept apart (cbm:number), not in the text
            text = text[number.end():]
        self.open = Paragraph(text, line, number["num"] if number else None, list_item)

    def extend(self, text: str) -> None:
        assert self.open is not None
        self.open.text = join_lines(self.open.text, text, self.lex.lang)

    def last_paragraph(self) -> Paragraph | None:
        if self.open is not None:
            return self.open
        return self.paragraphs[-1] if self.paragraphs else None


def _furniture(text: str, builder: _Builder) -> bool:
    stripped = text.strip()
    if SYMBOL_LINE.match(stripped):
        builder.symbol = builder.symbol or stripped
        return True
    job = JOB_LINE.match(stripped)
    if job:
        builder.job = builder.job or job["job"]
        return True
    return bool(URL_LINE.match(stripped) or BARCODE_LINE.match(stripped)
                or PAGE_NUMBER_LINE.match(stripped))


def _line_width(lines: tuple[str, ...]) -> int:
    """The length of a full line: the 90th percentile of the text lines' lengths."""
    lengths = sorted(len(line.strip()) for line in lines if len(line.strip()) > 1)
    return lengths[int(0.9 * (len(lengths) - 1))] if lengths else 80


def _blank_lines_separate_paragraphs(lines: tuple[str, ...]) -> bool:
    """In text extracted from a PDF every line may be followed by a blank line; then blank
    lines mean nothing. In ordinary text, wrapped lines touch and blank lines part
    paragraphs."""
    text = [i for i, line in enumerate(lines) if line.strip()]
    touching = sum(1 for a, b in zip(text, text[1:], strict=False) if b == a + 1)
    return touching > 0.3 * max(1, len(text))


def read_layout(source: Source, lang: str | None = None) -> Layout:
    sample = "\n".join(source.lines[:400])
    lang = lang or source.language_hint or detect_language(sample)
    lex = LEXICONS.get(lang)
    if lex is None:
        raise InputError(f"{source.path}: reports in '{lang}' are not read yet (only "
                         f"{', '.join(LEXICONS)})")
    builder = _Builder(source, lex)
    blank_breaks = source.paragraph_per_line or _blank_lines_separate_paragraphs(source.lines)
    builder.width = _line_width(source.lines)
    section: Section | None = None
    reply: Reply | None = None
    after_blank = True
    for number, raw in enumerate(source.lines, start=1):
        # runs of spaces (justified PDF text) are one space; the indent is kept
        text = re.sub(r"(?<=\S)[ \t\u3000]{2,}(?=\S)", " ", raw.rstrip())
        stripped = text.strip()
        if not stripped:
            after_blank = True
            continue
        if _furniture(stripped, builder):
            continue  # a page break: the paragraph around it goes on
        heading = lex.section.match(stripped)
        if heading and not lex.ends_sentence(stripped):
            builder.close()
            section = Section(heading["num"], heading["title"].strip(), number)
            builder.sections.append(section)
            builder.paragraphs, reply = section.paragraphs, None
            after_blank = False
            continue
        original = lex.original.match(stripped)
        if original:
            builder.close()
            reply = _open_reply(builder, section, reply, number)
            language = original["lang"].strip()
            reply.original_language = lex.languages.get(language.lower(), language)
            after_blank = False
            continue
        date = lex.date_line.match(stripped)
        if date and reply is not None and not reply.paragraphs and builder.open is None:
            reply.date_text = date["date"]
            after_blank = False
            continue
        if section is None:
            section = Section("", "", number)  # text before the first heading (a cover)
            builder.sections.append(section)
            builder.paragraphs = section.paragraphs
        _text_line(builder, text, number, blank_breaks, after_blank)
        builder.previous = stripped
        after_blank = False
    builder.close()
    return _finish(builder, lang)


def _text_line(builder: _Builder, text: str, number: int, blank_breaks: bool,
               after_blank: bool) -> None:
    lex = builder.lex
    stripped = text.strip()
    current = builder.open
    if current is None or builder.source.paragraph_per_line:
        builder.start(stripped, number)
        return
    list_start = bool(lex.list_item.match(stripped))
    indented = text[:1].isspace()
    ended = lex.ends_sentence(current.text)
    # a sentence that ends on a short line ends its paragraph (the layout of PDF text)
    short_end = ended and len(builder.previous) < 0.75 * builder.width and not _continues(stripped)
    if list_start and (ended or after_blank or indented or current.list_item or not blank_breaks):
        builder.start(stripped, number)
    elif short_end:
        builder.start(stripped, number)
    elif blank_breaks:
        # a blank line parts paragraphs, except where a page break cut a sentence
        if after_blank and (ended or not _continues(stripped)):
            builder.start(stripped, number)
        else:
            builder.extend(stripped)
    elif indented and ended:
        builder.start(stripped, number)  # an indented first line after a finished sentence
    else:
        builder.extend(stripped)


def _continues(text: str) -> bool:
    """Whether a line reads as the middle of a sentence (lower-case start)."""
    return text[:1].islower()


def _open_reply(builder: _Builder, section: Section | None, reply: Reply | None,
                number: int) -> Reply:
    if section is None:
        raise InputError(f"{builder.where(number)}: an '[Original: …]' line before any section")
    last = builder.paragraphs[-1] if builder.paragraphs else None
    heading_line: int
    tail = builder.previous
    if last is not None and _is_heading(last, builder.lex):
        builder.paragraphs.pop()
        heading, heading_line = last.text, last.line
    elif (last is not None and tail and last.text.endswith(tail) and len(tail) <= 80
          and not builder.lex.ends_sentence(tail) and last.text != tail):
        # the heading was read as the last line of the paragraph before it
        last.text = last.text[:-len(tail)].rstrip()
        heading, heading_line = tail, number - 1
    elif not builder.paragraphs and not section.replies:
        heading, heading_line = section.title, section.line  # "III. Replies received from X"
    else:
        raise InputError(f"{builder.where(number)}: '[Original: …]' follows no respondent "
                         "heading (the line before it should name the government or organisation)")
    new = Reply(heading, heading_line)
    section.replies.append(new)
    builder.paragraphs = new.paragraphs
    return new


def _is_heading(paragraph: Paragraph, lex: Lexicon) -> bool:
    text = paragraph.text
    return len(text) <= 80 and not lex.ends_sentence(text) and not paragraph.list_item


def _finish(builder: _Builder, lang: str) -> Layout:
    for section in builder.sections:
        section.paragraphs[:] = _rejoin(section.paragraphs, builder.lex)
        for reply in section.replies:
            reply.paragraphs[:] = _rejoin(reply.paragraphs, builder.lex)
            if not reply.paragraphs:
                raise InputError(f"{builder.where(reply.line)}: the reply of '{reply.heading}' "
                                 "has no text (the file may be truncated)")
    if not any(section.replies for section in builder.sections):
        raise InputError(f"{builder.source.path}: not a report of compiled replies: no "
                         "'[Original: …]' line, so no reply was found")
    return Layout(builder.source, lang, builder.symbol, builder.job, builder.sections)


def _rejoin(paragraphs: list[Paragraph], lex: Lexicon) -> list[Paragraph]:
    """Rejoin a paragraph that a page break cut in two (no sentence end, and the next part
    starts in the middle of a sentence)."""
    out: list[Paragraph] = []
    for p in paragraphs:
        if (out and not lex.ends_sentence(out[-1].text) and not p.list_item
                and not out[-1].list_item and p.number is None and _mid_sentence(p.text, lex)
                and (len(out[-1].text) > 80 or p.text[:1].islower())):
            out[-1].text = join_lines(out[-1].text, p.text, lex.lang)
        else:
            out.append(p)
    return out


def _mid_sentence(text: str, lex: Lexicon) -> bool:
    if lex.lang == "zh":
        return False  # Chinese page-break splits are rejoined while reading lines
    return True  # after an English paragraph that is no heading and ends in no full stop
