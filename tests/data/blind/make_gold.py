"""Write gold/<name>.json from the annotations written by hand in src/<name>.src (or .ann).

    python tests/data/blind/make_gold.py [name ...]

The annotations sit under the paragraph they were read from (see blindsrc.py for the format);
this script only numbers the paragraphs per unit, counts each reply's body paragraphs and
writes the keys in the shape of tests/data/ANNOTATING.md (version 2). It interprets nothing.
An .ann file annotates a text kept elsewhere (META|input=...): its P| blocks carry the line
range of the paragraph in that text ("L39-41") and its first words, not the paragraph itself.
"""

from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

ORDER = ("input", "formats", "symbol", "method", "annotated_by", "about", "level", "document", "replies",
         "mentions", "events", "quantities", "relations", "claims")


def _none(v: str) -> str:
    return "" if v == "-" else v


def build(name: str) -> dict:
    import blindsrc

    path = os.path.join(HERE, "src", name + ".src")
    if not os.path.exists(path):
        path = os.path.join(HERE, "src", name + ".ann")
    src = blindsrc.read(path)
    m = src.meta
    rel = "tests/data/blind/reports/" + name
    gold: dict = {
        "input": m.get("input", rel + ".txt"),
        "formats": [rel + ".docx", rel + ".pdf"] if path.endswith(".src") else [],
        "symbol": m["symbol"],
        "method": "blind",
        "annotated_by": m["annotated_by"],
        "about": m["about"],
        "level": m.get("level", "full"),
        "document": {},
        "replies": [],
        "mentions": [],
    }
    if not gold["formats"]:
        del gold["formats"]
    for note in src.doc_notes:
        gold["document"][note[0]] = note[1]
    counts: dict[str, int] = {}
    for b in src.blocks:
        if b.para:
            counts[b.unit] = b.para
    for b in src.blocks:
        if b.tag in ("RH", "SECT"):
            code, lang, date = b.fields[0], _none(b.fields[1]), _none(b.fields[2])
            gold["replies"].append([code, lang, date, counts.get(code, 0)])
    full = gold["level"] == "full"
    if full:
        for k in ("events", "quantities", "relations", "claims"):
            gold[k] = []
    for b in src.blocks:
        for n in b.notes:
            kind, f = n[0], [x.strip() for x in n[1:]]
            where = [b.unit, b.para]
            if kind == "m":
                gold["mentions"].append(where + [f[0], f[1]])
            elif not full:
                raise ValueError(f"{path}:{b.line}: fact annotation in a structure-level file")
            elif kind == "e":
                gold["events"].append(where + [f[0], _none(f[1]), _none(f[2]), _none(f[3])])
            elif kind == "q":
                gold["quantities"].append(where + [f[0], f[1], f[2], f[3], f[4], _none(f[5])])
            elif kind == "r":
                gold["relations"].append(where + [f[0], f[1], f[2]])
            elif kind == "c":
                gold["claims"].append(where + [f[0], " ".join(sorted(f[1].split())), f[2]])
            else:
                raise ValueError(f"{path}:{b.line}: unknown annotation {kind}")
    return {k: gold[k] for k in ORDER if k in gold}


def dump(gold: dict) -> str:
    """JSON with one key per line, as the other gold files are written."""
    out = ["{"]
    keys = list(gold)
    for i, k in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        v = gold[k]
        if isinstance(v, list) and v and isinstance(v[0], list):
            rows = [" " * 2 + json.dumps(r, ensure_ascii=False) for r in v]
            out.append(f' "{k}": [\n' + ",\n".join(rows) + f"\n ]{comma}")
        else:
            out.append(f' "{k}": {json.dumps(v, ensure_ascii=False)}{comma}')
    out.append("}")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    names = argv or sorted(n.rsplit(".", 1)[0] for n in os.listdir(os.path.join(HERE, "src"))
                           if n.endswith((".src", ".ann")))
    for name in names:
        gold = build(name)
        with open(os.path.join(HERE, "gold", name + ".json"), "w", encoding="utf-8") as f:
            f.write(dump(gold))
        sizes = {k: len(gold[k]) for k in ("replies", "mentions", "events", "quantities", "relations", "claims")
                 if k in gold}
        print(name, sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
