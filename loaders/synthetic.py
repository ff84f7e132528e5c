"""Synthetic N-Quads shaped like the graph cbmkg builds (replies, paragraphs, events with
quantities, labels in English and Chinese), spread over many named graphs.

    python -m loaders.synthetic OUT.nq [--quads 1000000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

ID = "https://w3id.org/cbmkg/id/"
CBM = "https://w3id.org/cbmkg/ontology#"
GRAPH = "https://w3id.org/cbmkg/graph/synthetic/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"

# Quads written per synthetic event (see _event).
PER_EVENT = 10


def _event(i: int) -> list[str]:
    g = f"<{GRAPH}report-{i // 5000}>"
    e = f"<{ID}event/synthetic-{i}>"
    q = f"<{ID}quantity/synthetic-{i}>"
    p = f"<{ID}paragraph/synthetic-{i // 4}>"
    party = f"<{ID}party/P{i % 193:03d}>"
    day = 1 + i % 28
    return [
        f"{e} <{RDF_TYPE}> <{CBM}MilitaryExercise> {g} .",
        f'{e} <{LABEL}> "Exercise {i}"@en {g} .',
        f'{e} <{LABEL}> "演习 {i}"@zh {g} .',
        f"{e} <{CBM}agent> {party} {g} .",
        f'{e} <{CBM}startDate> "2019-{1 + i % 12:02d}-{day:02d}"^^<{XSD}date> {g} .',
        f"{e} <{CBM}quantity> {q} {g} .",
        f'{q} <{CBM}value> "{(i * 37) % 20000}"^^<{XSD}integer> {g} .',
        f"{q} <{CBM}quantityKind> <{CBM}troops> {g} .",
        f"{e} <{CBM}evidence> {p} {g} .",
        f'{p} <{CBM}text> "Paragraph {i // 4}: 2019 年进行了军事演习，参加人数多达 {i % 20000} 名。"@zh {g} .',
    ]


def write_nquads(path: Path, quads: int) -> int:
    """Write about ``quads`` quads (a multiple of PER_EVENT); returns how many."""
    events = max(1, quads // PER_EVENT)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(events):
            out.write("\n".join(_event(i)))
            out.write("\n")
    return events * PER_EVENT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path)
    parser.add_argument("--quads", type=int, default=1_000_000)
    args = parser.parse_args()
    print(write_nquads(args.output, args.quads), "quads written to", args.output)


if __name__ == "__main__":
    main()
