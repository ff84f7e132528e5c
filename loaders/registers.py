"""Generate the register files that come from maintained libraries and readable tables.

    python -m loaders.registers   # rewrites ontology/registers/{parties,participation,sources,vienna-document}.ttl

* ``parties.ttl``: the 193 UN Member States and 2 observer States (``src/un-states.csv``)
  with ISO 3166-1 codes from pycountry and names in the six UN languages from CLDR
  (Babel); ISO names (pycountry's translations) and the UN names of
  ``src/party-aliases.csv`` are alternative labels.
* ``participation.ttl``: ``src/participation.csv``, one cbm:Participation per party and
  instrument (standing, dates of signature, consent, entry into force, suspension and
  withdrawal, group, sources), plus the membership of the UN Member States in the Charter
  (from ``src/un-states.csv``).
* ``sources.ttl``: ``src/sources.csv``, the public sources the registers cite.
* ``vienna-document.ttl``: ``src/vienna-document.csv``, the notification and observation
  thresholds and notice period of each Vienna Document edition.

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


def _date(text: str, where: str = "participation.csv") -> Literal:
    kind = {4: XSD.gYear, 7: XSD.gYearMonth, 10: XSD.date}.get(len(text))
    if kind is None:
        raise ValueError(f"{where}: not an ISO date: {text!r}")
    return Literal(text, datatype=kind)


def _un_membership() -> Iterator[dict[str, str]]:
    """Membership of the UN Member States in the Charter, from the same list as parties.ttl."""
    for row in rows(SOURCES / "un-states.csv"):
        if row["status"] == "member":
            yield {"instrument": "un-charter", "party": row["alpha3"], "status": "MemberState",
                   "verification": "verified", "source": "un-member-states"}


STATUSES = {"StateParty", "Signatory", "ParticipatingState", "SubscribingState", "MemberState",
            "SuspendedParty", "WithdrawnParty", "RatificationRevoked"}
CONSENT_KINDS = {"ratification": CBM.Ratification, "acceptance": CBM.Acceptance,
                 "approval": CBM.Approval, "accession": CBM.Accession,
                 "succession": CBM.Succession, "raa": CBM.RatificationAcceptanceApproval,
                 "admission": CBM.Admission, "subscription": CBM.Subscription}
#: the CSV column of each dated event and the property that records it
EVENTS = (("signature", CBM.signatureDate), ("consent", CBM.consentDate),
          ("entry_into_force", CBM.entryIntoForceDate), ("suspension", CBM.suspensionDate),
          ("withdrawal_notice", CBM.withdrawalNotificationDate), ("withdrawal", CBM.withdrawalDate))
#: the event whose date is the start of each current standing (cbm:since)
SINCE = {"StateParty": "entry_into_force", "Signatory": "signature",
         "SuspendedParty": "suspension", "WithdrawnParty": "withdrawal",
         "RatificationRevoked": "withdrawal"}
PC = Namespace(str(ID) + "collection/")


def source_keys() -> set[str]:
    return {row["key"] for row in rows(SOURCES / "sources.csv")}


def _sources(g: Graph, s: URIRef, text: str, known: set[str], where: str) -> None:
    for key in text.split(";"):
        if key not in known:
            raise ValueError(f"{where}: source {key!r} is not a key of sources.csv")
        g.add((s, DCTERMS.source, SRC[key]))


def _verification(text: str, where: str) -> URIRef:
    if text not in VERIFICATION:
        raise ValueError(f"{where}: verification is {'|'.join(VERIFICATION)}, got {text!r}")
    return VERIFICATION[text]


def participation_graph() -> Graph:
    """One cbm:Participation per party and instrument: its current standing (since when) and
    the dates of its signature, consent, entry into force, suspension and withdrawal."""
    g = Graph()
    g.bind("cbm", CBM)
    g.bind("skos", SKOS)
    known = source_keys()
    parties = {row["alpha3"] for row in rows(SOURCES / "un-states.csv")}
    seen: set[tuple[str, str]] = set()
    table = [*rows(SOURCES / "participation.csv"), *_un_membership()]
    for number, row in enumerate(table, start=2):
        where = f"participation.csv row {number}"
        instrument, party, status = row["instrument"], row["party"], row["status"]
        if party not in parties:
            raise ValueError(f"{where}: {party!r} is not a State of un-states.csv")
        if status not in STATUSES:
            raise ValueError(f"{where}: status is one of {sorted(STATUSES)}, got {status!r}")
        if (instrument, party) in seen:
            raise ValueError(f"{where}: a second row for {party} in {instrument}")
        seen.add((instrument, party))
        s = URIRef(f"{ID}participation/{instrument}/{party}")
        g.add((s, RDF.type, CBM.Participation))
        g.add((s, CBM.participant, ACTOR[party]))
        g.add((s, CBM.instrument, INSTRUMENT[instrument]))
        g.add((s, CBM.participationStatus, CBM[status]))
        for column, prop in EVENTS:
            if row.get(column):
                g.add((s, prop, _date(row[column], where)))
        if row.get("consent_kind"):
            if row["consent_kind"] not in CONSENT_KINDS:
                raise ValueError(f"{where}: consent_kind is one of {sorted(CONSENT_KINDS)}, "
                                 f"got {row['consent_kind']!r}")
            g.add((s, CBM.consentKind, CONSENT_KINDS[row["consent_kind"]]))
        start = row.get(SINCE.get(status, ""), "")
        if start:
            g.add((s, CBM.since, _date(start, where)))
        if row.get("group"):
            g.add((s, CBM.inGroup, PC[row["group"]]))
        g.add((s, CBM.verificationStatus, _verification(row["verification"], where)))
        _sources(g, s, row["source"], known, where)
        if row.get("note"):
            g.add((s, SKOS.editorialNote, Literal(row["note"], lang="en")))
    return g


SOURCE_KINDS = {"depositary": "depositary record", "text": "text of the instrument",
                "official": "official page (not the depositary)", "secondary": "secondary source",
                "none": "no source"}


def sources_graph() -> Graph:
    """The sources the registers cite: title, address, publisher, kind, day consulted."""
    g = Graph()
    g.bind("cbm", CBM)
    g.bind("skos", SKOS)
    for number, row in enumerate(rows(SOURCES / "sources.csv"), start=2):
        s = SRC[row["key"]]
        if row["kind"] not in SOURCE_KINDS:
            raise ValueError(f"sources.csv row {number}: kind is one of {sorted(SOURCE_KINDS)}")
        g.add((s, RDF.type, CBM.Source))
        g.add((s, DCTERMS.title, Literal(row["title"], lang="en")))
        label = row["title"] + (f" ({row['publisher']})" if row["publisher"] else "")
        if row["url"]:
            label += f", {row['url']}"
            g.add((s, DCTERMS.identifier, Literal(row["url"], datatype=XSD.anyURI)))
            g.add((s, RDFS.seeAlso, URIRef(row["url"])))
        g.add((s, RDFS.label, Literal(label, lang="en")))
        if row["publisher"]:
            g.add((s, DCTERMS.bibliographicCitation, Literal(row["publisher"], lang="en")))
        g.add((s, SKOS.scopeNote, Literal(SOURCE_KINDS[row["kind"]], lang="en")))
        if row["consulted"]:
            g.add((s, CBM.consultedOn, _date(row["consulted"], "sources.csv")))
        if row["note"]:
            g.add((s, SKOS.editorialNote, Literal(row["note"], lang="en")))
    return g


ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
EDITIONS = {"vd1990": ("Vienna Document 1990", "1990年维也纳文件", "VD90"),
            "vd1992": ("Vienna Document 1992", "1992年维也纳文件", "VD92"),
            "vd1994": ("Vienna Document 1994", "1994年维也纳文件", "VD94"),
            "vd1999": ("Vienna Document 1999", "1999年维也纳文件", "VD99"),
            "vd2011": ("Vienna Document 2011", "2011年维也纳文件", "VD11")}
#: operand → (short key of the constraint IRI, English label, Chinese label), {n} the figure
OPERANDS = {
    "troopCount": ("troops", "{n} troops or more", "{n} 名或以上兵员"),
    "battleTankCount": ("tanks", "{n} battle tanks or more", "{n} 辆或以上作战坦克"),
    "acvCount": ("acv", "{n} armoured combat vehicles or more", "{n} 辆或以上装甲战车"),
    "artilleryCount": ("artillery", "{n} pieces of artillery (100 mm and above) or more",
                       "{n} 门或以上火炮（100 毫米及以上）"),
    "amphibiousOrAirborneTroopCount": (
        "airborne", "{n} troops or more in an amphibious landing or parachute assault",
        "两栖登陆或伞降突击兵员 {n} 名或以上"),
    "aircraftSortieCount": ("sorties", "{n} aircraft sorties (excluding helicopters) or more",
                            "{n} 架次或以上飞机出动（不含直升机）")}
CHINESE_NUMERALS = {"I": "一", "II": "二", "III": "三", "IV": "四", "V": "五", "VI": "六",
                    "VII": "七", "VIII": "八", "IX": "九", "X": "十"}
RULES = {
    "notify": ("prior-notification", "notification", "notify", "notify",
               "Prior Notification of Certain Military Activities", "某些军事活动的事先通知",
               "notifiable-activities", "military activities at or above the notification "
               "thresholds", "达到或超过通知门槛的军事活动", "any of the notification thresholds",
               "任一通知门槛"),
    "observe": ("observation", "observation", "observe", "inviteObservers",
                "Observation of Certain Military Activities", "某些军事活动的观察",
                "observable-activities", "military activities at or above the observation "
                "thresholds", "达到或超过观察门槛的军事活动", "any of the observation thresholds",
                "任一观察门槛")}


def vienna_document_graph() -> Graph:
    """The notification and observation thresholds and the notice period of each Vienna
    Document edition (src/vienna-document.csv) as ODRL duties of that edition."""
    g = Graph()
    for prefix, ns in (("cbm", CBM), ("odrl", ODRL), ("skos", SKOS)):
        g.bind(prefix, ns)
    known = source_keys()
    ob_ns, c_ns = Namespace(f"{ID}obligation/"), Namespace(f"{ID}constraint/")
    t_ns, dl_ns = Namespace(f"{ID}target/"), Namespace(f"{ID}deadline/")
    table = list(rows(SOURCES / "vienna-document.csv"))
    for edition, (name_en, name_zh, abbr) in EDITIONS.items():
        mine = [r for r in table if r["edition"] == edition]
        if not mine:
            continue
        pc = PC[f"{edition}-participating-states"]
        g.add((pc, RDF.type, CBM.PartyCollection))
        g.add((pc, CBM.collectionOf, INSTRUMENT[edition]))
        g.add((pc, CBM.memberStatus, CBM.ParticipatingState))
        g.add((pc, RDFS.label, Literal(f"OSCE participating States ({name_en})", lang="en")))
        g.add((pc, RDFS.label, Literal(f"欧安组织参加国（{name_zh}）", lang="zh")))
        notice = [r for r in mine if r["rule"] == "notice"]
        for rule, (ob_key, kind, c_key, action, title_en, title_zh, t_key, t_en, t_zh, or_en,
                   or_zh) in RULES.items():
            figures = [r for r in mine if r["rule"] == rule]
            if not figures:
                continue
            chapter = figures[0]["chapter"]
            provision = INSTRUMENT[f"{edition}-ch-{chapter.lower()}" if chapter
                                   else f"{edition}-{ob_key}"]
            g.add((provision, RDF.type, CBM.Provision))
            g.add((provision, CBM.provisionOf, INSTRUMENT[edition]))
            if chapter:
                g.add((provision, CBM.provisionKind, CBM.Chapter))
                g.add((provision, CBM.citation, Literal(f"{abbr} Chapter {chapter}")))
                g.add((provision, RDFS.label, Literal(f"{name_en}, Chapter {chapter}: {title_en}",
                                                      lang="en")))
                g.add((provision, RDFS.label, Literal(
                    f"{name_zh}第{CHINESE_NUMERALS[chapter]}章：{title_zh}", lang="zh")))
            else:
                g.add((provision, CBM.citation, Literal(f"{abbr} ({title_en})")))
                g.add((provision, RDFS.label, Literal(
                    f"{name_en}, provisions on {title_en[0].lower() + title_en[1:]}", lang="en")))
                g.add((provision, RDFS.label, Literal(f"{name_zh}关于{title_zh}的规定",
                                                      lang="zh")))
            g.add((provision, CBM.verificationStatus, CBM.Unverified))
            g.add((provision, DCTERMS.source, SRC["not-checked"]))
            ob = ob_ns[f"{edition}-{ob_key}"]
            g.add((ob, RDF.type, CBM.Obligation))
            g.add((ob, CBM.obligationOf, INSTRUMENT[edition]))
            g.add((ob, CBM.establishedBy, provision))
            g.add((ob, ODRL.assignee, pc))
            g.add((ob, ODRL.action, CBM[action]))
            g.add((ob, CBM.bindingForce, CBM.PoliticallyBinding))
            target = t_ns[f"{edition}-{t_key}"]
            either = c_ns[f"{edition}-{kind}-thresholds"]
            g.add((ob, ODRL.target, target))
            g.add((target, RDF.type, ODRL.AssetCollection))
            g.add((target, RDFS.label, Literal(t_en, lang="en")))
            g.add((target, RDFS.label, Literal(t_zh, lang="zh")))
            g.add((target, ODRL.refinement, either))
            g.add((either, RDF.type, ODRL.LogicalConstraint))
            g.add((either, RDFS.label, Literal(or_en, lang="en")))
            g.add((either, RDFS.label, Literal(or_zh, lang="zh")))
            for r in figures:
                where = f"vienna-document.csv ({edition} {rule} {r['operand']})"
                key, en, zh = OPERANDS[r["operand"]]
                c = c_ns[f"{edition}-{c_key}-{key}"]
                n = int(r["value"])
                g.add((either, ODRL["or"], c))
                g.add((c, RDF.type, ODRL.Constraint))
                g.add((c, ODRL.leftOperand, CBM[r["operand"]]))
                g.add((c, ODRL.operator, ODRL.gteq))
                g.add((c, ODRL.rightOperand, Literal(n, datatype=XSD.integer)))
                g.add((c, RDFS.label, Literal(en.format(n=f"{n:,}"), lang="en")))
                g.add((c, RDFS.label, Literal(zh.format(n=f"{n:,}"), lang="zh")))
                g.add((c, CBM.verificationStatus, _verification(r["verification"], where)))
                _sources(g, c, r["source"], known, where)
                if r["note"]:
                    g.add((c, SKOS.editorialNote, Literal(r["note"], lang="en")))
            if rule == "notify":
                g.add((ob, RDFS.label, Literal(
                    f"Notify in writing military activities at or above the notification "
                    f"thresholds ({name_en})", lang="en")))
                g.add((ob, RDFS.label, Literal(f"以书面形式通知达到或超过通知门槛的军事活动（{name_zh}）",
                                               lang="zh")))
                for r in notice:
                    days = int(r["value"])
                    dl = dl_ns[f"{edition}-{days}-days"]
                    g.add((ob, CBM.deadline, dl))
                    g.add((dl, RDF.type, CBM.Deadline))
                    g.add((dl, CBM.daysBefore, Literal(days, datatype=XSD.integer)))
                    g.add((dl, CBM.relativeTo, CBM.ActivityStart))
                    g.add((dl, RDFS.label, Literal(f"{days} days or more before the start",
                                                   lang="en")))
                    g.add((dl, RDFS.label, Literal(f"开始前至少{days}天", lang="zh")))
                    g.add((dl, CBM.verificationStatus,
                           _verification(r["verification"], f"vienna-document.csv ({edition})")))
                    _sources(g, dl, r["source"], known, "vienna-document.csv")
            else:
                g.add((ob, RDFS.label, Literal(
                    f"Invite observers from all other participating States to military "
                    f"activities at or above the observation thresholds ({name_en})", lang="en")))
                g.add((ob, RDFS.label, Literal(
                    f"邀请所有其他参加国的观察员观察达到或超过观察门槛的军事活动（{name_zh}）", lang="zh")))
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
    write(participation_graph(), REGISTERS / "participation.ttl",
          "src/participation.csv and src/un-states.csv",
          "Participation of states in instruments: standing, dates as the depositary records "
          "them, group, sources and verification status.")
    write(sources_graph(), REGISTERS / "sources.ttl", "src/sources.csv",
          "The public sources the registers cite: title, address, publisher, day consulted.")
    write(vienna_document_graph(), REGISTERS / "vienna-document.ttl", "src/vienna-document.csv",
          "Vienna Document editions: notification and observation thresholds, notice period.")


if __name__ == "__main__":
    main()
