"""Precision and recall of the report loader against annotations (tests/data/ANNOTATING.md).

Run it with ``python benchmarks/quality.py [GOLD.json ...]``; the tests use it too.

Each gold file names its input report and lists, per category, the facts a careful reader
finds in it, as comparable keys (see ``keys``). The loader reads the report; each category
is scored as multisets of keys: precision = matched / extracted, recall = matched / gold.
``--dump`` prints the loader's keys for a report, the starting point of a new gold file
(which must then be checked paragraph by paragraph against the text).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from cbmkg.config import ROOT

from .report import read_report
from .report.document import Report

CATEGORIES = ("replies", "mentions", "events", "quantities", "relations", "claims")


def _code(iri: object) -> str:
    return str(iri).rsplit("/", 1)[1] if iri else ""


def keys(report: Report) -> dict[str, list[list[object]]]:
    out: dict[str, list[list[object]]] = {c: [] for c in CATEGORIES}
    units: list[tuple[str, list]] = [("", s.paragraphs) for s in report.sections]
    units += [(r.code, r.paragraphs) for r in report.replies]
    for reply in report.replies:
        out["replies"].append([reply.code, reply.reply.original_language, reply.date,
                               len(reply.paragraphs)])
    for who, paragraphs in units:
        for p in paragraphs:
            where = [who, p.order]
            for m in p.facts.mentions:
                out["mentions"].append([*where, m.kind, _code(m.target) or f"?{m.text}"])
            for e in p.facts.events:
                start = e.span.start if e.span else ""
                end = e.span.end if e.span else ""
                out["events"].append([*where, e.kind, start, end])
                for q in e.quantities:
                    out["quantities"].append([*where, e.kind, q.kind, str(q.value),
                                              q.category or q.unit or "", q.qualifier,
                                              str(q.limit) if q.limit is not None else ""])
            for r in p.facts.relations:
                out["relations"].append([*where, _code(r.party), r.kind, _code(r.instrument)])
            for c in p.facts.claims:
                out["claims"].append([*where, " ".join(sorted(_code(s) for s in c.subjects)),
                                      c.stance])
    return out


def score(gold: list[list[object]], found: list[list[object]]) -> tuple[float, float, int, int, int]:
    g = Counter(json.dumps(k, ensure_ascii=False) for k in gold)
    f = Counter(json.dumps(k, ensure_ascii=False) for k in found)
    matched = sum((g & f).values())
    precision = matched / sum(f.values()) if f else 1.0
    recall = matched / sum(g.values()) if g else 1.0
    return precision, recall, matched, sum(f.values()), sum(g.values())


def evaluate(gold_path: Path) -> dict[str, tuple[float, float, int, int, int]]:
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    report = read_report(ROOT / gold["input"], ROOT / "ontology", gold.get("symbol"))
    found = keys(report)
    return {c: score(gold[c], found[c]) for c in CATEGORIES}


def differences(gold_path: Path) -> dict[str, dict[str, list[str]]]:
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    found = keys(read_report(ROOT / gold["input"], ROOT / "ontology", gold.get("symbol")))
    out = {}
    for c in CATEGORIES:
        g = Counter(json.dumps(k, ensure_ascii=False) for k in gold[c])
        f = Counter(json.dumps(k, ensure_ascii=False) for k in found[c])
        out[c] = {"missed": sorted((g - f).elements()), "extra": sorted((f - g).elements())}
    return out
