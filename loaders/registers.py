"""Generate the register files that come from maintained libraries and readable tables.

    python -m loaders.registers          # rewrites ontology/registers/{parties,participation}.ttl

* ``parties.ttl``: the 193 UN Member States and 2 observer States (``src/un-states.csv``)
  with ISO 3166-1 codes from pycountry and names in the six UN languages from CLDR
  (Babel); ISO names (pycountry's translations) and the UN names of
  ``src/party-aliases.csv`` are alternative labels.
* ``participation.ttl``: ``src/participation.csv``, one cbm:Participation per row, plus the
  membership of the UN Member States in the Charter (from ``src/un-states.csv``).

The generated files are committed so that a reviewer reads Turtle; a test regenerates them
and fails if they drifted from their sources.
"""

from __future__ import annotations

import csv
import gettext
from collections.abc import Iterator
from pathlib import Path

import pycountry
from babel import Locale
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS, XSD

from cbmkg.config import ROOT
from cbmkg.namespaces import CBM, ID

REGISTERS = ROOT / "ontology" / "registers"
SOURCES = REGISTERS / "src"
UN_LANGUAGES = ("en", "zh", "fr", "es", "ru", "ar")
ISO_LOCALES = {"zh": "zh_CN", "fr": "fr", "es": "es", "ru": "ru", "ar": "ar"}
ACTOR = Namespace(str(ID) + "actor/")
SRC = Namespace(str(ID) + "source/")
INSTRUMENT = Namespace(str(ID) + "instrument/")
VERIFICATION = {"verified": CBM.Verified, "secondary": CBM.SecondarySource,
                "unverified": CBM.Unverified}


def rows(path: Path) -> Iterator[dict[str, str]]:
    """Rows of a CSV file whose leading ``#`` lines are comments."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    yield from csv.DictReader(lines)


def parties_graph() -> Graph:
    g = Graph()
    g.bind("cbm", CBM)
    g.bind("skos", SKOS)
    iso = {lang: gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[loc])
           for lang, loc in ISO_LOCALES.items()}
    cldr = {lang: Locale.parse(lang) for lang in UN_LANGUAGES}
    aliases: dict[str, list[tuple[str, str]]] = {}
    for row in rows(SOURCES / "party-aliases.csv"):
        aliases.setdefault(row["alpha3"], []).append((row["lang"], row["name"]))
    for row in rows(SOURCES / "un-states.csv"):
        country = pycountry.countries.get(alpha_3=row["alpha3"])
        if country is None:
            raise ValueError(f"un-states.csv: unknown ISO 3166-1 alpha-3 code {row['alpha3']}")
        s = ACTOR[country.alpha_3]
        g.add((s, RDF.type, CBM.State))
        g.add((s, CBM.code, Literal(country.alpha_3)))
        g.add((s, CBM.isoAlpha3, Literal(country.alpha_3)))
        g.add((s, CBM.isoAlpha2, Literal(country.alpha_2)))
        g.add((s, CBM.isoNumeric, Literal(country.numeric)))
        g.add((s, CBM.unStatus, CBM.UNMemberState if row["status"] == "member"
               else CBM.UNObserverState))
        g.add((s, DCTERMS.source, SRC["un-member-states"]))
        preferred = {}
        for lang in UN_LANGUAGES:
            name = cldr[lang].territories.get(country.alpha_2)
            if name:
                preferred[lang] = name
                g.add((s, RDFS.label, Literal(name, lang=lang)))
        alternatives = {("en", country.name), ("en", getattr(country, "official_name", "")),
                        ("en", getattr(country, "common_name", ""))}
        for lang, translation in iso.items():
            alternatives.add((lang, translation.gettext(country.name)))
            official = getattr(country, "official_name", None)
            if official:
                alternatives.add((lang, translation.gettext(official)))
        alternatives.update(aliases.get(country.alpha_3, []))
        for lang, name in sorted(alternatives):
            if name and name != preferred.get(lang):
                g.add((s, SKOS.altLabel, Literal(name, lang=lang)))
    return g


def _date(text: str) -> Literal:
    kind = {4: XSD.gYear, 7: XSD.gYearMonth, 10: XSD.date}.get(len(text))
    if kind is None:
        raise ValueError(f"participation.csv: not an ISO date: {text!r}")
    return Literal(text, datatype=kind)


def _un_membership() -> Iterator[dict[str, str]]:
    """Membership of the UN Member States in the Charter, from the same list as parties.ttl."""
    for row in rows(SOURCES / "un-states.csv"):
        if row["status"] == "member":
            yield {"instrument": "un-charter", "party": row["alpha3"], "status": "MemberState",
                   "since": "", "until": "", "verification": "verified",
                   "source": "un-member-states"}


def participation_graph() -> Graph:
    g = Graph()
    g.bind("cbm", CBM)
    table = [*rows(SOURCES / "participation.csv"), *_un_membership()]
    for number, row in enumerate(table, start=2):
        status = CBM[row["status"]]
        key = f"{row['instrument']}/{row['party']}/{row['status']}"
        s = URIRef(f"{ID}participation/{key}")
        g.add((s, RDF.type, CBM.Participation))
        g.add((s, CBM.participant, ACTOR[row["party"]]))
        g.add((s, CBM.instrument, INSTRUMENT[row["instrument"]]))
        g.add((s, CBM.participationStatus, status))
        if row["since"]:
            g.add((s, CBM.since, _date(row["since"])))
        if row["until"]:
            g.add((s, CBM.until, _date(row["until"])))
        if row["verification"] not in VERIFICATION:
            raise ValueError(f"participation.csv row {number}: verification is "
                             f"{'|'.join(VERIFICATION)}, got {row['verification']!r}")
        g.add((s, CBM.verificationStatus, VERIFICATION[row["verification"]]))
        g.add((s, DCTERMS.source, SRC[row["source"]]))
    return g


HEADER = ("# GENERATED by `python -m loaders.registers` from {sources}; do not edit by hand.\n"
          "# {what}\n")


def write(graph: Graph, path: Path, sources: str, what: str) -> None:
    text = graph.serialize(format="turtle")
    path.write_text(HEADER.format(sources=sources, what=what) + text, encoding="utf-8")


def main() -> None:
    write(parties_graph(), REGISTERS / "parties.ttl",
          "src/un-states.csv, src/party-aliases.csv, pycountry and Babel (CLDR)",
          "The UN Member States and observer States, with names in the six UN languages.")
    write(participation_graph(), REGISTERS / "participation.ttl", "src/participation.csv",
          "Participation of states in instruments, with dates, sources and verification status.")


if __name__ == "__main__":
    main()
