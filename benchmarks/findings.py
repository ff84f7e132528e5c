"""Compliance findings against the SHACL engines, on the same rule shapes and data.

    python benchmarks/findings.py [--triples 200000] [--rounds 3]

Measured on the bundled corpus and on a synthetic graph of about N triples (copies of the
bundled report under new symbols, with the ontology and registers): ``findings.compute`` (the
rules run by Oxigraph on the store, one query per shape, then the evidence queries) against
pyshacl-turbo and the pySHACL reference validating the same rule shapes (each given the
union of the graphs the way it reads fastest: an Oxigraph store for turbo, an rdflib graph
for pySHACL, whose building is timed apart). Prints the medians and whether the three give
the same (shape, focus node) pairs; pySHACL runs on the bundled corpus only (minutes beyond).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks.validation import synthetic, with_registers  # noqa: E402
from cbmkg.findings import compute, rule_paths  # noqa: E402
from cbmkg.namespaces import SH  # noqa: E402
from cbmkg.store import EmbeddedStore  # noqa: E402
from cbmkg.validation import load_shapes, union_graph, union_store, validate  # noqa: E402
from loaders.build import build  # noqa: E402

SHAPES_DIR = ROOT / "shapes"
T = TypeVar("T")


def timed(label: str, func: Callable[[], T], rounds: int) -> T:
    times: list[float] = []
    value = None
    for _ in range(rounds):
        start = time.perf_counter()
        value = func()
        times.append(time.perf_counter() - start)
    print(f"  {label:<48} median {statistics.median(times):7.2f} s  ({', '.join(f'{t:.2f}' for t in times)})")
    assert value is not None
    return value


def run(store: EmbeddedStore, rounds: int, reference: bool) -> None:
    shapes = load_shapes(SHAPES_DIR, rule_paths(SHAPES_DIR))
    found = timed("findings.compute (Oxigraph, with evidence)", lambda: compute(store, SHAPES_DIR), rounds)
    ours = {(str(found.value(f, SH.sourceShape)), str(found.value(f, SH.focusNode)))
            for f in found.subjects(SH.focusNode, None)}
    flat = timed("(turbo's input) union into an Oxigraph store", lambda: union_store(store.export_bytes()), rounds)
    turbo = timed("pyshacl-turbo, rule shapes", lambda: validate(flat, shapes), rounds)
    print(f"  {len(ours)} findings; pyshacl-turbo gives the same (shape, focus node) pairs: "
          f"{ours == {(r.shape, r.focus) for r in turbo.results}}")
    if reference:
        graph = timed("(pySHACL's input) union as an rdflib graph", lambda: union_graph(store.export_bytes()), 1)
        slow = timed("pySHACL reference, rule shapes", lambda: validate(graph, shapes, engine="pyshacl"), 1)
        print(f"  pySHACL gives the same pairs: {ours == {(r.shape, r.focus) for r in slow.results}}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("bundled corpus (A/75/95 with ontology and registers)")
    store = EmbeddedStore.memory()
    build(store, ROOT / "ontology", [ROOT / "corpus" / "A_75_95-ZH.txt"])
    run(store, args.rounds, reference=True)
    big = with_registers(synthetic(args.triples))
    print(f"synthetic graph: {big.count()} triples in {len(big.graphs())} named graphs")
    run(big, 1, reference=False)


if __name__ == "__main__":
    main()
