"""Reader of the source files of the blind corpus (tests/data/blind/src/*.src).

A source file holds one synthetic report: its text, block by block, and, under each body
paragraph, the annotations written by hand while reading it. The format is line based:

    META|key=value            rendering options (symbol, language, job number, fonts...)
    COVER|key|value           a line of the cover block (org, symbol, body, distr, date, edition,
                              orig, session, item, agenda, title, report, footnote)
    TOCH|Contents|Page        the heading of the contents; TOC|level|text|page one entry
    H1|text  H2|text          chapter heading (back to the document's own unit ""), sub-heading
    SECT|CODE|lang|date|text  chapter heading that is itself a reply's heading (unit CODE)
    RH|CODE|lang|date|text    a respondent's heading (unit CODE; lang/date as annotated)
    ORIG|text  DATE|text      the "[Original: ...]" and "[date]" lines of a reply
    P|text                    an unnumbered body paragraph
    N|text                    a numbered body paragraph (number added when rendering)
    LI|label|text             a list item with its label ("(a)", "(i)", "1.")
    BU|mark|text              a bulleted item ("•", "–")
    TT|title  TH|a|b|c  TR|a|b|c   table title, header row, row of figures
    PB|                       page break
    LINK|url                  a line that is only a hyperlink
    @m|party|CODE  @m|instrument|CODE
    @e|Kind|start|end|recurrence
    @q|EventKind|QuantityKind|value|unit|qualifier|limit
    @r|PARTY|Kind|INSTRUMENT
    @c|CLAIMANT|SUBJECTS|Stance
    OCR|old|new[|count]       a substitution applied to the extracted text (scan noise)
    #...                      comment

A line starting with whitespace continues the text of the block above it (joined with a space,
or with nothing in Chinese). "{fn:text}" inside a text is a footnote. Annotations attach to the
body paragraph above them. Body paragraphs are P, N, LI, BU and TR blocks; nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BODY = {"P", "N", "LI", "BU", "TR"}
FN = re.compile(r"\{fn:(.*?)\}")


@dataclass
class Block:
    tag: str
    fields: list[str]
    unit: str = ""
    para: int = 0  # 1-based body paragraph number within the unit, 0 for non-body blocks
    notes: list[list[str]] = field(default_factory=list)
    line: int = 0

    @property
    def text(self) -> str:
        return self.fields[-1] if self.fields else ""

    def plain(self) -> str:
        """The text without footnote bodies (the marker stays in the rendering)."""
        return FN.sub("", self.text)


@dataclass
class Source:
    path: str
    meta: dict[str, str]
    cover: list[tuple[str, str]]
    blocks: list[Block]
    doc_notes: list[list[str]]

    @property
    def lang(self) -> str:
        return self.meta.get("lang", "en")


def _cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"


def read(path: str) -> Source:
    meta: dict[str, str] = {}
    cover: list[tuple[str, str]] = []
    blocks: list[Block] = []
    doc_notes: list[list[str]] = []
    last: Block | None = None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, raw in enumerate(lines, 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        if raw[0] in " \t":
            if last is None:
                raise ValueError(f"{path}:{n}: continuation without a block")
            prev, nxt = last.fields[-1], raw.strip()
            sep = " "
            if meta.get("lang") == "zh":
                # Chinese lines join without a space, except where a Chinese character meets a Latin letter
                # or a digit (the UN Chinese style writes "来自 25 个国家")
                sep = "" if not prev or not nxt or (_cjk(prev[-1]) == _cjk(nxt[0])) or not (
                    prev[-1].isalnum() and nxt[0].isalnum()) else " "
            last.fields[-1] = prev + sep + nxt
            continue
        parts = raw.split("|")
        tag = parts[0]
        if tag == "META":
            k, _, v = parts[1].partition("=")
            meta[k.strip()] = "|".join([v] + parts[2:]).strip()
            continue
        if tag == "OCR":
            last = None
            continue
        if tag == "COVER":
            cover.append((parts[1], "|".join(parts[2:])))
            last = None
            continue
        if tag.startswith("@"):
            if tag == "@doc":
                doc_notes.append(parts[1:])
                continue
            if last is None or last.tag not in BODY:
                raise ValueError(f"{path}:{n}: annotation not under a body paragraph: {raw}")
            last.notes.append([tag[1:]] + parts[1:])
            continue
        last = Block(tag, parts[1:], line=n)
        blocks.append(last)
    # units and paragraph numbers
    unit = ""
    counts: dict[str, int] = {}
    for b in blocks:
        if b.tag in ("H1",):
            unit = ""
        elif b.tag == "SECT":
            unit = b.fields[0]
        elif b.tag == "RH":
            unit = b.fields[0]
        b.unit = unit
        if b.tag in BODY:
            counts[unit] = counts.get(unit, 0) + 1
            b.para = counts[unit]
    return Source(path, meta, cover, blocks, doc_notes)
