"""Speed and memory of the report loader.

    python benchmarks/loader_throughput.py [--reports 1000] [--rounds 5]

1. The bundled report: median wall time of ``--rounds`` extractions (read + RDF + N-Quads),
   after one warm-up that loads the registers' names (timed apart).
2. A synthetic corpus of ``--reports`` report-sized inputs, made from the bundled Chinese
   report and the English test report: each copy gets its own symbol and its replies in a
   different order (so no two inputs are the same text). Every input is extracted to
   N-Quads; the script reports paragraphs per second, reports per second and the peak
   memory (max RSS) of the process.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from loaders.report import read_report, to_dataset  # noqa: E402
from loaders.report.gazetteer import load_gazetteer  # noqa: E402

ONTOLOGY = ROOT / "ontology"
SOURCES = [ROOT / "corpus" / "A_75_95-ZH.txt", ROOT / "tests" / "data" / "reports" / "A_76_150-EN.txt"]


def _blocks(text: str, lang: str) -> tuple[str, list[str]]:
    """The text before the first reply, and each reply (heading to the next heading)."""
    marker = re.compile(r"^\s*\[(?:原件|Original)", re.M)
    starts = [m.start() for m in marker.finditer(text)]
    # a reply starts at its heading: the last non-blank line before the marker
    cuts = []
    for start in starts:
        head = text.rfind("\n", 0, text.rstrip()[:start].rstrip().rfind("\n") + 1)
        cuts.append(max(0, head))
    return text[:cuts[0]], [text[a:b] for a, b in zip(cuts, cuts[1:] + [len(text)], strict=True)]


def synthetic_corpus(folder: Path, count: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    originals = [(p, p.read_text(encoding="utf-8")) for p in SOURCES]
    for n in range(count):
        source, text = originals[n % len(originals)]
        lang = "ZH" if source.name.endswith("-ZH.txt") else "EN"
        found = re.search(r"A/\d+/\d+", text)
        if found is None:
            raise SystemExit(f"{source}: no report symbol")
        symbol = found.group()
        new_symbol = f"A/{70 + n % 9}/{100 + n}"
        head, replies = _blocks(text, lang)
        # reorder the replies within their sections: keep the last (organisations) last
        middle = replies[:-1]
        rng.shuffle(middle)
        body = head + "".join(middle + replies[-1:])
        path = folder / f"{new_symbol.replace('/', '_')}-{lang}.txt"
        path.write_text(body.replace(symbol, new_symbol), encoding="utf-8")
        paths.append(path)
    return paths


def extract_once(path: Path) -> int:
    report = read_report(path, ONTOLOGY)
    to_dataset(report).serialize(format="nquads", encoding="utf-8")
    return report.paragraph_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    load_gazetteer(ONTOLOGY)
    warm = time.perf_counter() - start
    bundled = SOURCES[0]
    times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        paragraphs = extract_once(bundled)
        times.append(time.perf_counter() - start)
    print(f"registers' names loaded once in {warm:.2f} s")
    print(f"bundled report ({paragraphs} paragraphs): median {statistics.median(times):.3f} s "
          f"over {args.rounds} runs (min {min(times):.3f}, max {max(times):.3f}); "
          f"cold, with the names: {warm + times[0]:.2f} s")

    work = Path(tempfile.mkdtemp(prefix="cbmkg-loader-"))
    try:
        corpus = synthetic_corpus(work, args.reports)
        total = 0
        start = time.perf_counter()
        for path in corpus:
            total += extract_once(path)
        elapsed = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"synthetic corpus: {len(corpus)} reports, {total} paragraphs in {elapsed:.1f} s: "
          f"{total / elapsed:,.0f} paragraphs/s, {len(corpus) / elapsed:.2f} reports/s; "
          f"peak memory (max RSS) {peak:.0f} MiB")


if __name__ == "__main__":
    main()
