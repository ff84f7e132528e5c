"""Words for terms: labels, definitions and patterns of the IRIs a message names, in English
and Chinese, read from the store; and messages with every IRI replaced by its label, so that
a person reads "battle tanks", not ``https://w3id.org/cbmkg/ontology#BattleTank``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date as Date
from decimal import Decimal, InvalidOperation

from babel.dates import format_date
from babel.numbers import format_decimal
from pyoxigraph import NamedNode

from .namespaces import PREFIXES
from .store import GraphStore

LANGUAGES = ("en", "zh")
_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
_DEFINITION = "http://www.w3.org/2004/02/skos/core#definition"
_PATTERN = "https://w3id.org/cbmkg/ontology#attributionPattern"
#: the words read for each term, most preferred first for labels
_WORDS = {_LABEL: "label", _PREF: "label", _DEFINITION: "definition", _PATTERN: "pattern"}

#: an IRI in running text; what may close a sentence after it is not part of it
IRI_IN_TEXT = re.compile(r"https?://(?:(?!https?://)[A-Za-z0-9._~:/?#\[\]@!$&'*+,;=%()-])+")
_TRAILING = ".,;:!?)]'"


def values(variable: str, iris: Iterable[str]) -> str:
    return f"VALUES ?{variable} {{ " + " ".join(str(NamedNode(i)) for i in sorted(iris)) + " }"


class Words:
    """Labels (rdfs:label, else skos:prefLabel), definitions and attribution patterns of
    some IRIs, by language, with fallbacks: the English text, then a prefixed name."""

    def __init__(self, texts: dict[tuple[str, str, str], str] | None = None):
        self.texts = texts or {}

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, object]]) -> Words:
        """From the rows of ``words_query``: plain values (x, p, t, lang) or rdflib terms
        (x, p, t with its language)."""
        found: dict[tuple[str, str, str], str] = {}
        preferred = list(_WORDS)
        table = []
        for row in rows:
            text = row["t"]
            lang = row.get("lang") or getattr(text, "language", None)
            table.append((str(row["x"]), str(row["p"]), str(text), str(lang)))
        for x, p, text, lang in sorted(table, key=lambda r: preferred.index(r[1])):
            found.setdefault((x, _WORDS[p], lang), text)
        return cls(found)

    def get(self, iri: str, kind: str, lang: str) -> str | None:
        return self.texts.get((iri, kind, lang)) or self.texts.get((iri, kind, "en"))

    def label(self, iri: str, lang: str) -> str:
        return self.get(iri, "label", lang) or short(iri)

    def definition(self, iri: str, lang: str) -> str:
        return self.get(iri, "definition", lang) or self.label(iri, lang)

    def render(self, text: str, lang: str) -> str:
        """``text`` with each IRI in it replaced by its label."""
        def label(match: re.Match[str]) -> str:
            iri = match.group(0)
            tail = ""
            while iri and iri[-1] in _TRAILING:
                iri, tail = iri[:-1], iri[-1] + tail
            return self.label(iri, lang) + tail
        return IRI_IN_TEXT.sub(label, text)

    def iris_in(self, text: str) -> set[str]:
        found = set()
        for match in IRI_IN_TEXT.finditer(text):
            iri = match.group(0).rstrip(_TRAILING)
            try:
                NamedNode(iri)
            except ValueError:  # not an IRI after all
                continue
            found.add(iri)
        return found


def words_query(iris: set[str]) -> str:
    """The query for the labels, definitions and patterns of ``iris`` in English and Chinese."""
    return ("SELECT ?x ?p ?t WHERE { " + values("x", iris) + " " + values("p", _WORDS) +
            ' ?x ?p ?t FILTER(LANG(?t) IN ("en", "zh")) }')


def words(store: GraphStore, iris: set[str]) -> Words:
    """One query for the labels, definitions and patterns of ``iris`` in English and Chinese."""
    if not iris:
        return Words()
    rows = store.select(words_query(iris))
    return Words.from_rows({"x": r["x"].value, "p": r["p"].value, "t": r["t"].value,
                            "lang": r["t"].language} for r in rows)


def labels_of(store: GraphStore, iris: set[str]) -> dict[tuple[str, str], str]:
    """English and Chinese labels (rdfs:label, skos:prefLabel) of ``iris``: (iri, lang) → label."""
    found = words(store, iris).texts
    return {(iri, lang): text for (iri, kind, lang), text in found.items() if kind == "label"}


def short(iri: str) -> str:
    """A prefixed name for an IRI of a known namespace (``cbm:BattleTank``), else the IRI."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    if iri.startswith("https://w3id.org/cbmkg/shapes#"):
        return "shp:" + iri.split("#", 1)[1]
    return iri


def number(lexical: str, lang: str) -> str:
    """A number as people write it: "10000.0" → "10,000"."""
    try:
        return format_decimal(Decimal(lexical), locale="zh" if lang == "zh" else "en")
    except (InvalidOperation, ValueError):
        return lexical


_XSD = "http://www.w3.org/2001/XMLSchema#"
#: how dates are written (the UN's order in English), by the precision they are given to
_DATES = {"en": {"date": "d MMMM y", "gYearMonth": "MMMM y", "gMonthDay": "d MMMM"},
          "zh": {"date": "y年M月d日", "gYearMonth": "y年M月", "gMonthDay": "M月d日"}}


def when(lexical: str, datatype: str, lang: str) -> str:
    """A date as people write it: "2020-06-15" → "15 June 2020" / "2020年6月15日";
    a month, a day of the year likewise; anything else as it is."""
    kind = datatype.removeprefix(_XSD)
    pattern = _DATES["zh" if lang == "zh" else "en"].get(kind)
    if pattern is None:
        return lexical
    try:
        if kind == "date":
            day = Date.fromisoformat(lexical[:10])
        elif kind == "gYearMonth":
            day = Date(int(lexical[:4]), int(lexical[5:7]), 1)
        else:  # --MM-DD, in a leap year so that 29 February is a day
            day = Date(2000, int(lexical[2:4]), int(lexical[5:7]))
    except ValueError:
        return lexical
    return format_date(day, pattern, locale="zh" if lang == "zh" else "en")
