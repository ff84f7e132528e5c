"""Speed of validation: the bundled corpus and a synthetic graph of about N triples.

    python benchmarks/validation.py [--triples 1000000] [--reference 100000] [--rounds 3]

The synthetic graph is realistic: copies of the bundled report's extracted graphs under new
symbols (so every copy conforms as the original does), with the ontology and registers.
Measured, each in this process:

* ``cbmkg validate`` as it runs: the union of the graphs flattened into an in-memory
  Oxigraph store, then the integrity shapes with pyshacl-turbo reading that store;
* the compliance rules (SHACL-SPARQL) evaluated by Oxigraph into findings;
* for comparison, pyshacl-turbo on an rdflib graph of the same union (building the rdflib
  graph is timed apart), and the pySHACL reference on ``--reference`` triples (it is far
  too slow for a million).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from cbmkg.findings import compute  # noqa: E402
from cbmkg.store import EmbeddedStore  # noqa: E402
from cbmkg.validation import load_shapes, union_graph, union_store, validate  # noqa: E402
from loaders.build import build  # noqa: E402
from loaders.report import extract  # noqa: E402

SHAPES_DIR = ROOT / "shapes"


def synthetic(triples: int) -> bytes:
    base = extract(ROOT / "corpus" / "A_75_95-ZH.txt", ROOT / "ontology").serialize(format="nquads")
    copies = max(1, triples // base.count("\n"))
    return "".join(base.replace("A-75-95", f"A-75-{1000 + i}").replace("A/75/95", f"A/75/{1000 + i}")
                   for i in range(copies)).encode()


def with_registers(data: bytes) -> EmbeddedStore:
    store = EmbeddedStore.memory()
    build(store, ROOT / "ontology", [])
    with store.begin() as staging:
        staging.put_dataset(data, ox.RdfFormat.N_QUADS)
    return store


def timed(label: str, func, rounds: int = 1):
    times, value = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        value = func()
        times.append(time.perf_counter() - start)
    print(f"  {label:<52} median {statistics.median(times):7.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in times)})")
    return value


def run(store: EmbeddedStore, integrity, rounds: int, reference: bool) -> None:
    flat = timed("union into an in-memory Oxigraph store", lambda: union_store(store.export_bytes()), rounds)
    outcome = timed("integrity shapes, pyshacl-turbo on that store", lambda: validate(flat, integrity), rounds)
    print(f"  conforms: {outcome.conforms}, {len(outcome.results)} results")
    findings = timed("compliance findings, Oxigraph SPARQL", lambda: compute(store, SHAPES_DIR), rounds)
    print(f"  {len(set(findings.subjects()))} findings")
    graph = timed("(comparison) union as an rdflib graph", lambda: union_graph(store.export_bytes()))
    timed("(comparison) integrity shapes, pyshacl-turbo on it", lambda: validate(graph, integrity))
    if reference:
        timed("(comparison) integrity shapes, pySHACL reference", lambda: validate(graph, integrity, engine="pyshacl"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--reference", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    integrity = load_shapes(SHAPES_DIR, sorted(SHAPES_DIR.glob("integrity*.ttl")))

    print("bundled corpus (A/75/95 with ontology and registers)")
    store = EmbeddedStore.memory()
    build(store, ROOT / "ontology", [ROOT / "corpus" / "A_75_95-ZH.txt"])
    run(store, integrity, args.rounds, reference=True)

    big = with_registers(synthetic(args.triples))
    print(f"synthetic graph: {big.count()} triples in {len(big.graphs())} named graphs")
    run(big, integrity, 1, reference=False)

    small = union_graph(with_registers(synthetic(args.reference)).export_bytes())
    print(f"reference: {len(small)} triples")
    timed("integrity shapes, pySHACL reference", lambda: validate(small, integrity, engine="pyshacl"))
    timed("integrity shapes, pyshacl-turbo", lambda: validate(small, integrity))


if __name__ == "__main__":
    main()
