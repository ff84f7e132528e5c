"""Checks of the blind corpus, independent of the project's code.

    python tests/data/blind/check_gold.py            # validate every gold file and the index
    python tests/data/blind/check_gold.py --names X  # list, paragraph by paragraph, the register
                                                     # names found in src/X.src next to the
                                                     # annotated mentions (a reading aid)

Validation: each gold file parses, has the keys of tests/data/ANNOTATING.md (version 2) with the
right shapes, uses only party and instrument codes that exist in ontology/registers/*.ttl (or an
unresolved "?words" instrument), event kinds, quantity kinds, units, qualifiers, relation kinds
and stances of the guide, ISO dates, and facts only in paragraphs that exist (replies' counts).
It reads the Turtle files with rdflib when it is installed, else with a plain text search.
"""

from __future__ import annotations

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
REG = os.path.join(ROOT, "ontology", "registers")
CBM = "https://w3id.org/cbmkg/ontology#"

EVENT_KINDS = {
    "MilitaryExercise", "MilitaryActivity", "HoldingsDeclaration", "Inspection", "EvaluationVisit",
    "ObservationFlight", "ObservationVisit", "VerificationActivity", "Meeting", "Workshop", "Conference",
    "Signature", "Ratification", "Accession", "Suspension", "Withdrawal", "FundingDecision",
    "ReportSubmission", "InformationExchange", "Notification", "NoteVerbale", "Adoption", "EntryIntoForce",
    "Establishment",
}
QUANTITY_KINDS = {"Personnel", "Holding", "EquipmentCount", "MoneyAmount", "EventCount", "ParticipantCount"}
CATEGORIES = {
    "BattleTank", "ArmouredCombatVehicle", "Artillery", "CombatAircraft", "AttackHelicopter", "Warship",
    "MissileAndLauncher", "SmallArmsLightWeapons", "Ammunition",
}
UNITS = {"Troops", "Persons", "Items", "Events", "States", "EUR", "USD", "Days"}
QUALIFIERS = {"Exactly", "UpTo", "MoreThan", "AtLeast", "About", "LessThan"}
RELATIONS = {"IsPartyTo", "HasSigned", "HasRatified", "ParticipatesIn", "Implements", "HasSuspended", "HasWithdrawn"}
STANCES = {"Accusation", "NeutralAccount"}
LANGS = {"en", "fr", "es", "ru", "ar", "zh", ""}
DATE = re.compile(r"^(\d{4}(-\d{2}(-\d{2})?)?|\.\.|)$")
DURATION = re.compile(r"^(P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?|)$")


def registers():
    """(party codes, instrument codes, {code: [labels]}) from the register files."""
    parties: dict[str, list[str]] = {}
    instruments: dict[str, list[str]] = {}
    try:
        import rdflib
    except ImportError:  # plain text fallback
        rdflib = None
    if rdflib is not None:
        g = rdflib.Graph()
        for name in ("parties.ttl", "organizations.ttl", "instruments.ttl"):
            g.parse(os.path.join(REG, name))
        code_p = rdflib.URIRef(CBM + "code")
        label_ps = [rdflib.RDFS.label, rdflib.URIRef("http://www.w3.org/2004/02/skos/core#altLabel"),
                    rdflib.URIRef(CBM + "abbreviation")]
        for s, _, o in g.triples((None, code_p, None)):
            parties[str(o)] = [str(lab) for p in label_ps for lab in g.objects(s, p)]
        prefix = "https://w3id.org/cbmkg/id/instrument/"
        for s in set(g.subjects()):
            if str(s).startswith(prefix) and "/" not in str(s)[len(prefix):]:
                if (s, rdflib.RDF.type, None) in g:
                    instruments[str(s)[len(prefix):]] = [str(lab) for p in label_ps for lab in g.objects(s, p)]
    else:
        for name in ("parties.ttl", "organizations.ttl"):
            with open(os.path.join(REG, name), encoding="utf-8") as f:
                for code in re.findall(r'cbm:code "([^"]+)"', f.read()):
                    parties[code] = []
        with open(os.path.join(REG, "instruments.ttl"), encoding="utf-8") as f:
            for code in re.findall(r"^i:([\w-]+) a ", f.read(), re.M):
                instruments[code] = []
    return parties, instruments


def _err(errors, path, msg):
    errors.append(f"{os.path.relpath(path, ROOT)}: {msg}")


def validate(path: str, parties, instruments, errors: list[str]) -> None:
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    for k in ("input", "symbol", "method", "annotated_by", "about", "level", "document", "replies", "mentions"):
        if k not in d:
            _err(errors, path, f"missing key {k}")
    if d.get("method") != "blind":
        _err(errors, path, "method is not blind")
    full = d.get("level") == "full"
    for k in ("events", "quantities", "relations", "claims"):
        if full and k not in d:
            _err(errors, path, f"level full without {k}")
        if not full and k in d:
            _err(errors, path, f"level structure with {k}")
    if not os.path.exists(os.path.join(ROOT, d["input"])) and not d["input"].startswith("corpus/"):
        _err(errors, path, f"input {d['input']} does not exist")
    for fmt in d.get("formats", []):
        if not os.path.exists(os.path.join(ROOT, fmt)):
            _err(errors, path, f"format {fmt} does not exist")
    doc = d["document"]
    for k in doc:
        if k not in ("symbol", "language", "title", "date", "session", "agenda_item", "original_language"):
            _err(errors, path, f"unknown document key {k}")
    if "date" in doc and not DATE.match(doc["date"]):
        _err(errors, path, f"bad document date {doc['date']}")
    sizes = {"": 10**6}
    for r in d["replies"]:
        if len(r) != 4 or r[0] not in parties or r[1] not in LANGS or not DATE.match(r[2]) or not isinstance(r[3], int):
            _err(errors, path, f"bad reply {r}")
        if r[0] in sizes:
            _err(errors, path, f"respondent twice {r[0]}")
        sizes[r[0]] = r[3]

    def where(key):
        unit, para = key[0], key[1]
        if unit not in sizes:
            _err(errors, path, f"unit {unit!r} is not a respondent: {key}")
        elif not isinstance(para, int) or not 1 <= para <= sizes[unit]:
            _err(errors, path, f"paragraph out of range: {key}")

    def instrument_ok(code):
        return code in instruments or (code.startswith("?") and len(code) > 1)

    seen = set()
    for m in d["mentions"]:
        where(m)
        if len(m) != 4 or m[2] not in ("party", "instrument"):
            _err(errors, path, f"bad mention {m}")
            continue
        if m[2] == "party" and m[3] not in parties:
            _err(errors, path, f"unknown party {m}")
        if m[2] == "instrument" and not instrument_ok(m[3]):
            _err(errors, path, f"unknown instrument {m}")
        if tuple(m) in seen:
            _err(errors, path, f"duplicate mention {m}")
        seen.add(tuple(m))
    if not full:
        return
    for e in d["events"]:
        where(e)
        if len(e) != 6 or e[2] not in EVENT_KINDS or not DATE.match(e[3]) or not DATE.match(e[4]) \
                or not DURATION.match(e[5]):
            _err(errors, path, f"bad event {e}")
    kinds_at = {(e[0], e[1], e[2]) for e in d["events"]}
    for q in d["quantities"]:
        where(q)
        if len(q) != 8 or q[2] not in EVENT_KINDS or q[3] not in QUANTITY_KINDS or q[6] not in QUALIFIERS:
            _err(errors, path, f"bad quantity {q}")
        if q[5] not in CATEGORIES | UNITS:
            _err(errors, path, f"bad category or unit {q}")
        if not re.match(r"^\d+(\.\d+)?$", q[4]) or not re.match(r"^(\d+|)$", q[7]):
            _err(errors, path, f"bad value or limit {q}")
        if (q[0], q[1], q[2]) not in kinds_at and not any(e[0] == q[0] and e[2] == q[2] for e in d["events"]):
            _err(errors, path, f"quantity without an event of its kind in the unit: {q}")
    for r in d["relations"]:
        where(r)
        if len(r) != 5 or r[2] not in parties or r[3] not in RELATIONS or not instrument_ok(r[4]):
            _err(errors, path, f"bad relation {r}")
    for c in d["claims"]:
        where(c)
        subjects = c[3].split(" ") if len(c) == 5 else []
        if len(c) != 5 or c[2] not in parties or c[4] not in STANCES or not subjects \
                or any(s not in parties for s in subjects) or subjects != sorted(subjects):
            _err(errors, path, f"bad claim {c}")
    # every party or instrument of a fact is mentioned in its paragraph
    mentioned = {(m[0], m[1], m[3]) for m in d["mentions"]}
    for r in d["relations"]:
        for code in (r[2], r[4]):
            if (r[0], r[1], code) not in mentioned:
                errors.append(f"WARNING {os.path.basename(path)}: relation {r}: {code} not mentioned there")


def names_report(name: str) -> None:
    sys.path.insert(0, HERE)
    import blindsrc

    parties, instruments = registers()
    path = os.path.join(HERE, "src", name + ".src")
    lines: list[str] = []
    if not os.path.exists(path):
        path = path[:-4] + ".ann"
    src = blindsrc.read(path)
    if path.endswith(".ann"):
        text_path = os.path.join(ROOT, "..", "shared", src.meta["input"])
        with open(text_path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    lang = src.lang
    table = [("party", c, lab) for c, labs in parties.items() for lab in labs + [c]] + \
            [("instrument", c, lab) for c, labs in instruments.items() for lab in labs]
    table = [t for t in table if len(t[2]) >= 2]
    for b in src.blocks:
        if not b.para:
            continue
        text = b.plain() if b.tag != "TR" else " ".join(b.fields)
        if lines:
            a, _, z = b.fields[0][1:].partition("-")
            text = "".join(x.strip() for x in lines[int(a) - 1:int(z or a)])
        hits = set()
        for kind, code, lab in table:
            if lang in ("zh", "ar"):
                found = lab in text
            else:
                found = re.search(r"(?<!\w)" + re.escape(lab) + r"(?!\w)", text) is not None
            if found:
                hits.add((kind, code))
        noted = {(n[1], n[2]) for n in b.notes if n[0] == "m"}
        print(f"[{b.unit}, {b.para}] {text[:150]}")
        for h in sorted(hits - noted):
            print(f"    found, not annotated: {h}")
        for h in sorted(noted - hits):
            print(f"    annotated, name not in register: {h}")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--names"]:
        for n in argv[1:]:
            names_report(n)
        return 0
    parties, instruments = registers()
    errors: list[str] = []
    gold_dir = os.path.join(HERE, "gold")
    for n in sorted(os.listdir(gold_dir)):
        if n.endswith(".json"):
            validate(os.path.join(gold_dir, n), parties, instruments, errors)
    with open(os.path.join(HERE, "index.json"), encoding="utf-8") as f:
        index = json.load(f)
    for row in index:
        if not os.path.exists(os.path.join(ROOT, row["gold"])):
            errors.append(f"index: missing {row['gold']}")
    hard = [e for e in errors if not e.startswith("WARNING")]
    for e in errors:
        print(e)
    print(f"{len(index)} index rows, {len(hard)} errors, {len(errors) - len(hard)} warnings")
    return 1 if hard else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
