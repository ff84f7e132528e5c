"""Bulk-load throughput of the embedded store, side by side with `oxigraph load`.

    python benchmarks/bulk_load.py [--quads 1000000] [--rounds 3]

Generates a synthetic N-Quads file (benchmarks/synthetic.py), then loads it into a fresh
directory with, in turn:

* ``oxigraph load``: the Oxigraph CLI's bulk loader (the reference);
* ``cbmkg store``: the embedded store's build API (``EmbeddedStore.begin().put_dataset``,
  then the atomic publication of the new generation);
* ``cbmkg build --no-validate``: the whole command (ontology files + the dataset file +
  publication), without the SHACL check, which is measured by benchmarks/validation.py.

Each runs in its own process, in alternating order, ``--rounds`` times; the medians are
reported with the peak memory (max RSS) of each process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from loaders.synthetic import write_nquads  # noqa: E402

BIN = Path(sys.executable).parent

STORE_LOAD = """
import sys
from pathlib import Path
from pyoxigraph import RdfFormat
from cbmkg.store import EmbeddedStore
store = EmbeddedStore.open(Path(sys.argv[1]), create=True)
with store.begin(replace_all=True) as build:
    build.put_dataset(Path(sys.argv[2]), RdfFormat.N_QUADS)
"""


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        error = process.stderr.read().decode()[:500] if process.stderr else ""
        raise SystemExit(f"{cmd[0]} failed: {error}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quads", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cbmkg-bench-"))
    data = work / "synthetic.nq"
    quads = write_nquads(data, args.quads)
    size = data.stat().st_size / 2**20
    print(f"{quads} quads, {size:.0f} MiB of N-Quads, {args.rounds} rounds, "
          f"{os.cpu_count()} cores")

    contenders = {
        "oxigraph load": lambda d: [str(BIN / "oxigraph"), "load", "--location", str(d),
                                    "--file", str(data)],
        "cbmkg store": lambda d: [sys.executable, "-c", STORE_LOAD, str(d), str(data)],
        "cbmkg build": lambda d: [str(BIN / "cbmkg"), "build", "--no-validate", "--store", str(d),
                                  str(data)],
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    memory: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_no in range(args.rounds):
        order = names if round_no % 2 == 0 else list(reversed(names))
        for name in order:
            target = work / f"store-{name.replace(' ', '-')}"
            shutil.rmtree(target, ignore_errors=True)
            seconds, rss = timed(contenders[name](target))
            times[name].append(seconds)
            memory[name].append(rss)
            shutil.rmtree(target, ignore_errors=True)

    reference = quads / statistics.median(times["oxigraph load"])
    print(f"{'loader':<15} {'median s':>9} {'quads/s':>11} {'× oxigraph':>11} {'max RSS MiB':>12}"
          f"   all runs (s)")
    for name in names:
        median = statistics.median(times[name])
        rate = quads / median
        runs = " ".join(f"{t:.2f}" for t in times[name])
        print(f"{name:<15} {median:>9.2f} {rate:>11,.0f} {rate / reference:>11.2f} "
              f"{max(memory[name]):>12.0f}   {runs}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
