"""Cost at scale: build, validation, adding one report and the named queries, at sizes of
the corpus given as multiples of the bundled corpus build (1x = ontology, registers and
A/75/95, about 20,000 quads; 500x is about 10 M quads).

    python benchmarks/scale.py [--sizes 1,10,100,500] [--rounds 20] [--work DIR]

For each size: the scale corpus (loaders/scale.py: report files the real loader reads)
is written to ``--work`` (kept, and reused when it is there), then, each in a child process
whose whole process tree's peak resident memory is sampled every 0.1 s:

* ``cbmkg build`` of the bundled report and the generated ones, with validation and
  findings (its stage times are read from its last line);
* ``cbmkg build --add`` of one more generated report;
* every named query without parameters, ``--rounds`` times each on the embedded store
  (one client, answers read whole): median and 95th percentile.

The figures go to benchmarks/results/scale.json (a size run again replaces its entry),
and benchmarks/chart.py draws them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from cbmkg.catalogue import NamedQuery  # noqa: E402
from loaders.scale import bundled_quads, plans, render  # noqa: E402

BIN = Path(sys.executable).parent
RESULTS = HERE / "results" / "scale.json"
BUNDLED = ROOT / "corpus" / "A_75_95-ZH.txt"

#: the first event of a store (for a query's "fact" or "event" parameter)
AN_EVENT = ("SELECT ?e WHERE { ?e <https://w3id.org/cbmkg/ontology#presentedAsNonCompliance> ?x } "
            "ORDER BY ?e LIMIT 1")


def example_values(query: NamedQuery, select: Callable[[str], list[dict[str, str]]]) -> dict[str, str]:
    """A query's first parameter bound as a user looking one thing up does: to the example
    its header gives ("e.g. AZE"), the first word of a list of choices, or, for a fact or
    an event, the first event of the store (``select`` runs a query on it)."""
    if not query.parameters:
        return {}
    param = query.parameters[0]
    if param.name in ("fact", "event"):
        rows = select(AN_EVENT)
        return {param.name: rows[0]["e"]} if rows else {}
    found = re.search(r"e\.g\.\s*([^,\s]+)", param.description) or re.match(r"\s*([A-Za-z]+)",
                                                                             param.description)
    return {param.name: found[1]} if found else {}


#: one named query timed in a child process: "one" binds its first parameter (see
#: example_values), "all" leaves every parameter free (the whole listing)
QUERIES = """
import json, statistics, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[7])
from benchmarks.scale import example_values
from cbmkg.catalogue import Catalogue
from cbmkg.store import EmbeddedStore
store = EmbeddedStore.open(Path(sys.argv[1]))
rounds, budget, name, mode = int(sys.argv[2]), float(sys.argv[3]), sys.argv[5], sys.argv[6]
q = Catalogue(Path(sys.argv[4])).get(name)
def select(text):
    result = store.select(text)
    return [{v.value: row[v.value].value for v in result.variables} for row in result]
values = example_values(q, select) if mode == "one" else {}
text = q.bind(values)
times, rows = [], 0
spent = time.perf_counter()
while len(times) < rounds and (len(times) < 3 or time.perf_counter() - spent < budget):
    start = time.perf_counter()
    rows = sum(1 for _ in store.query(text))
    times.append((time.perf_counter() - start) * 1000)
times.sort()
p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
print(json.dumps({"median_ms": round(statistics.median(times), 2), "p95_ms": round(p95, 2),
                  "runs": len(times), "rows": rows, "params": values}))
"""


def measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str, str]:
    """Wall seconds, peak RSS of the whole process tree (bytes, sampled every 0.1 s),
    stdout and stderr of one command."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        root = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                total = 0
                for p in tree:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                peak = max(peak, total)
            except psutil.Error:
                pass
            time.sleep(0.1)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} … failed ({process.returncode}):\n{stderr[-2000:]}")
    return seconds, peak, stdout, stderr


def corpus(work: Path, size: float, base: int) -> tuple[list[Path], Path]:
    """The reports of one size (the bundled one and generated ones) and one more to add."""
    folder = work / f"corpus-{size:g}x"
    done = folder / ".complete"
    target = round(size * base) - base  # on top of the bundled corpus build
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if target > 0:
            for plan in plans(quads=target):
                (folder / plan.file_name).write_text(render(plan), encoding="utf-8")
        extra = next(iter(plans(count=1, seed=99)))
        (folder / "add").mkdir()
        (folder / "add" / extra.file_name.replace("A_", "A_9")).write_text(
            render(extra).replace(extra.symbol, "A/9" + extra.symbol[2:]), encoding="utf-8")
        done.write_text("")
    reports = sorted(p for p in folder.glob("*.txt"))
    return [BUNDLED, *reports], next((folder / "add").glob("*.txt"))


def stages(stderr: str) -> dict[str, float]:
    line = next((x for x in reversed(stderr.splitlines()) if x.startswith("seconds:")), "")
    found = {k: float(v) for k, v in re.findall(r"(\w+) ([\d.]+)", line)}
    validated = re.search(r"(\d+) quads validated", stderr.replace("\n", " "))
    if validated:
        found["validated_quads"] = int(validated[1])
    return found


def run_size(size: float, work: Path, rounds: int, budget: float, base: int) -> dict[str, object]:
    reports, extra = corpus(work, size, base)
    store = work / f"store-{size:g}x"
    shutil.rmtree(store, ignore_errors=True)
    env = {**os.environ, "CBMKG_STORE": str(store)}
    print(f"{size:g}x: {len(reports)} reports", flush=True)
    seconds, peak, out, err = measured(
        [str(BIN / "cbmkg"), "build", "--summary", "total", *map(str, reports)], env)
    quads = int(re.findall(r"total\s*│\s*(\d+)", out)[-1])
    build = {"seconds": round(seconds, 1), "peak_rss_mb": round(peak / 2**20), **stages(err)}
    print(f"  build: {quads} quads, {build}", flush=True)
    seconds, peak, _, err = measured(
        [str(BIN / "cbmkg"), "build", "--add", "--summary", "total", str(extra)], env)
    add = {"seconds": round(seconds, 1), "peak_rss_mb": round(peak / 2**20), **stages(err)}
    print(f"  add one report: {add}", flush=True)
    queries = time_queries(store, rounds, budget) if rounds else {}
    disk = sum(f.stat().st_size for f in store.rglob("*") if f.is_file())
    return {"size": size, "reports": len(reports), "quads": quads, "store_mb": round(disk / 2**20),
            "build": build, "add_one": add, "queries": queries}


def time_queries(store: Path, rounds: int, budget: float) -> dict[str, dict[str, object]]:
    """Median and p95 of each named query, with one parameter bound and with none; a query
    whose runs pass 10x ``budget`` is stopped and reported as such."""
    from cbmkg.catalogue import Catalogue

    out: dict[str, dict[str, object]] = {}
    for q in Catalogue(ROOT / "queries").all():
        for mode in ("one", "all") if q.parameters else ("all",):
            key = f"{q.name}:{mode}"
            try:
                answer = subprocess.run(
                    [sys.executable, "-c", QUERIES, str(store), str(rounds), str(budget),
                     str(ROOT / "queries"), q.name, mode, str(ROOT)],
                    capture_output=True, text=True, timeout=10 * budget, check=True).stdout
                out[key] = json.loads(answer)
            except subprocess.TimeoutExpired:
                out[key] = {"timeout_s": 10 * budget}
            except subprocess.CalledProcessError as e:
                out[key] = {"error": (e.stderr or "").strip().splitlines()[-1:]}
                print(f"  {key:<26} failed: {out[key]['error']}", flush=True)
                continue
            shown = out[key]
            print(f"  {key:<26} " + ("stopped after {timeout_s} s".format(**shown) if "timeout_s" in shown
                  else "median {median_ms:>9} ms  p95 {p95_ms:>9} ms  ({runs} runs, {rows} rows) {params}"
                  .format(**shown)), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,100,500")
    parser.add_argument("--rounds", type=int, default=20,
                        help="runs of each query (at most; 0: no queries)")
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds one query may take in all before it stops at 3 runs")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "cbmkg-scale")
    parser.add_argument("--keep", action="store_true", help="keep the stores in --work")
    args = parser.parse_args()
    base = bundled_quads()
    figures = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"sizes": {}}
    for size in (float(s) for s in args.sizes.split(",")):
        entry = run_size(size, args.work, args.rounds, args.budget, base)
        entry["command"] = " ".join(["python", "benchmarks/scale.py", *sys.argv[1:]])
        entry["cores"] = os.cpu_count()
        entry["memory_gb"] = round(psutil.virtual_memory().total / 2**30)
        figures["sizes"][f"{size:g}"] = entry
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
        if not args.keep:
            shutil.rmtree(args.work / f"store-{size:g}x", ignore_errors=True)
    print(f"figures written to {RESULTS}")


if __name__ == "__main__":
    main()
