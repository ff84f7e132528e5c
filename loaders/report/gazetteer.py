"""Find the actors and instruments a paragraph names, using the registers' own names.

Names come from the ontology folder (labels, alternative labels, abbreviations, codes of
organisations, resolution numbers, document symbols), never from a list written for one
report. A citation that looks like an instrument (a resolution or decision number, a
"(CFSP) 2019/2108" symbol, a title in 《…》) but matches nothing is kept as an unresolved
mention, never dropped and never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from cbmkg.namespaces import CBM

from .lexicon import CJK

ACTOR_CLASSES = (CBM.State, CBM.InternationalOrganization, CBM.OrganizationBody)
NAME_PROPERTIES = (RDFS.label, SKOS.altLabel, CBM.abbreviation)
_HAS_CJK = re.compile(f"[{CJK}]")


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str
    kind: str                  # "party" | "instrument"
    target: URIRef | None      # None: unresolved


@dataclass(frozen=True)
class Entry:
    target: URIRef
    kind: str
    label_en: str
    label_zh: str


class Gazetteer:
    def __init__(self, graph: Graph):
        self.entries: dict[URIRef, Entry] = {}
        self.names: dict[str, URIRef] = {}
        self.numbers: dict[str, URIRef] = {}  # normalised resolution numbers and symbols
        self.states = {URIRef(str(s)) for s in graph.subjects(RDF.type, CBM.State)}
        #: actor -> instruments it adopted (a reply's "our Constitution" is its own)
        self.adopted: dict[URIRef, list[URIRef]] = {}
        for instrument, actor in graph.subject_objects(CBM.adoptedBy):
            self.adopted.setdefault(URIRef(str(actor)), []).append(URIRef(str(instrument)))
        instrument_classes = set(graph.transitive_subjects(RDFS.subClassOf, CBM.Instrument))
        for cls, kind in [(c, "party") for c in ACTOR_CLASSES] + \
                         [(c, "instrument") for c in instrument_classes]:
            for subject in graph.subjects(RDF.type, cls):
                self._add(graph, URIRef(str(subject)), kind)
        self._pattern = self._compile()
        self._squeezed: dict[str, URIRef] = {}
        for name, target in self.names.items():
            self._squeezed.setdefault(_squeeze(name), target)

    def _add(self, graph: Graph, subject: URIRef, kind: str) -> None:
        labels = {lang: str(o) for o in graph.objects(subject, RDFS.label)
                  for lang in [getattr(o, "language", None)] if lang}
        self.entries[subject] = Entry(subject, kind, labels.get("en", str(subject)),
                                      labels.get("zh", labels.get("en", "")))
        for prop in NAME_PROPERTIES:
            for name in graph.objects(subject, prop):
                lang = getattr(name, "language", None)
                if lang in (None, "en", "zh") or kind == "instrument":
                    self._name(str(name), subject)
        if kind == "party" and (subject, RDF.type, CBM.State) not in graph:
            code = graph.value(subject, CBM.code)
            if code is not None:
                self._name(str(code), subject)  # OSCE, NATO… (ISO codes of states are not names)
        for prop in (CBM.resolutionNumber, CBM.documentSymbol):
            for number in graph.objects(subject, prop):
                self.numbers[normalise_number(str(number))] = subject

    def _name(self, name: str, subject: URIRef) -> None:
        name = name.strip()
        if len(name) < 2 or (not _HAS_CJK.search(name) and len(name) < 3 and not name.isupper()):
            return
        self.names.setdefault(name, subject)

    def _compile(self) -> re.Pattern[str]:
        alternatives = []
        for name in sorted(self.names, key=len, reverse=True):
            if _HAS_CJK.search(name):
                compact = re.sub(r"\s+", "", name)
                # spaces and title marks may stand inside a name as reports write it
                # ("经调整的《欧洲常规武装力量条约》")
                alternatives.append(r"[\s《》]*".join(re.escape(ch) for ch in compact))
            else:
                body = r"\s+".join(re.escape(w) for w in name.split())
                alternatives.append(rf"(?<![\w-]){body}(?![\w-])")
        # a look-ahead on the possible first characters lets the engine skip most positions
        # without trying a thousand alternatives at each
        first = "".join(sorted({re.escape(n.strip()[0]) for n in self.names}))
        return re.compile(f"(?=[{first}])(?:" + "|".join(f"(?:{a})" for a in alternatives) + ")")

    def resolve_name(self, text: str) -> URIRef | None:
        """The entry a whole string names (a respondent heading), if any."""
        compact = re.sub(r"\s+", " ", text.strip())
        for match in self._pattern.finditer(compact):
            if match.start() == 0 and match.end() == len(compact):
                return self._lookup(match.group())
        return None

    def _lookup(self, matched: str) -> URIRef | None:
        if matched in self.names:
            return self.names[matched]
        spaced = re.sub(r"\s+", " ", matched)
        if spaced in self.names:
            return self.names[spaced]
        return self._squeezed.get(_squeeze(matched))

    def find(self, text: str) -> list[Mention]:
        """Every mention in ``text``, longest first where they overlap, in text order."""
        found: list[Mention] = []
        for m in self._pattern.finditer(text):
            if _inside_word(text, m.start(), m.end()):
                continue
            target = self._lookup(m.group())
            if target is not None:
                found.append(Mention(m.start(), m.end(), m.group(),
                                     self.entries[target].kind, target))
        found += self._citations(text)
        return _without_overlaps(found)

    def _citations(self, text: str) -> list[Mention]:
        out = []
        for pattern in CITATIONS:
            for m in pattern.finditer(text):
                number = normalise_number(m["n"])
                target = self.numbers.get(number)
                out.append(Mention(m.start(), m.end(), m.group(), "instrument", target))
        for m in TITLE_MARKS.finditer(text):
            inner = m["t"].strip()
            target = self._lookup(inner)
            if target is None or self.entries[target].kind != "instrument":
                out.append(Mention(m.start(), m.end(), m.group(), "instrument", None))
        return out

    def is_state(self, target: URIRef) -> bool:
        return target in self.states

    def label(self, target: URIRef, lang: str = "en") -> str:
        entry = self.entries.get(target)
        if entry is None:
            return str(target)
        return entry.label_zh if lang == "zh" else entry.label_en


# Citations of instruments by number, in both languages. "n" is the part compared with the
# register's cbm:resolutionNumber / cbm:documentSymbol.
CITATIONS = [
    re.compile(r"第\s*(?P<n>\d{1,4}\s*/\s*\d{1,4}(?:\s*[A-Z](?![a-z]))?)\s*号(?:决议|决定)"),
    re.compile(r"第\s*(?P<n>\d{3,4}\s*\(\s*\d{4}\s*\))\s*号(?:决议)?"),
    re.compile(r"第\s*(?P<n>\d{3,4}\s*\(\s*[IVXL]+-[OE]/\d{2}\s*\))\s*号(?:决议)?"),
    re.compile(r"第\s*(?P<n>\d{1,4})\s*号决定"),
    re.compile(r"(?P<n>\(\s*CFSP\s*\)\s*\d{4}/\d{1,5})"),
    re.compile(r"(?:[Rr]esolutions?|[Dd]ecisions?)\s+(?:(?:AG/RES\.|A/RES/|S/RES/)\s*)?"
               r"(?P<n>\d{1,4}/\d{1,4}(?:\s+[A-Z](?![a-z]))?|\d{3,4}\s*\(\d{4}\)|"
               r"\d{3,4}\s*\([IVXL]+-[OE]/\d{2}\)|\d{1,4}(?=[\s,.;)]))"),
]
TITLE_MARKS = re.compile(r"《(?P<t>[^《》]{2,80})》")


def _squeeze(name: str) -> str:
    """A name without spaces or title marks, for matching names the text spaces out."""
    return re.sub(r"[\s《》]+", "", name)


def normalise_number(number: str) -> str:
    """"74/39", "1540 (2004)", "(CFSP) 2019/2108", "2625 (XLI-O/11)" in one spelling."""
    text = re.sub(r"\s+", "", number)
    text = re.sub(r"^(?:A/RES/|S/RES/|AG/RES\.)", "", text)
    return text.upper()


@lru_cache(maxsize=4)
def load_gazetteer(ontology_dir: Path) -> Gazetteer:
    graph = Graph()
    for path in sorted(ontology_dir.rglob("*.ttl")):
        graph.parse(path, format="turtle")
    return Gazetteer(graph)


# Chinese has no spaces: a short name can be the middle of another word ("黑海地区" holds
# "海地", "发展中国家" holds "中国"). A two-character name is not taken when its last
# character starts a common word with the next character.
_WORD_AFTER = {"地": "区方点位域面", "国": "家际内会民旗", "门": "户", "南": "方部"}


_PLACE_AFTER = "城市湾"  # "墨西哥城", "几内亚湾": a place named after the state


def _inside_word(text: str, start: int, end: int) -> bool:
    name = text[start:end]
    if not _HAS_CJK.match(name):
        return False
    following = text[end:end + 1]
    if following and following in _PLACE_AFTER:
        return True
    return len(name) == 2 and bool(following) and following in _WORD_AFTER.get(name[-1], "")


def _without_overlaps(mentions: list[Mention]) -> list[Mention]:
    chosen: list[Mention] = []
    for m in sorted(mentions, key=lambda m: (-(m.end - m.start), m.target is None, m.start)):
        if all(m.end <= c.start or m.start >= c.end for c in chosen):
            chosen.append(m)
    return sorted(chosen, key=lambda m: m.start)
