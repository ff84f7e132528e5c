"""Concurrent clients against `cbmkg serve`, side by side with `oxigraph serve` on the same
data and the same queries.

    python benchmarks/endpoint_load.py [--seconds 10] [--connections 4] [--rounds 3]

Builds the bundled corpus into a fresh store, exports it, loads the same quads into an
`oxigraph serve` (run with --union-default-graph, the default graph cbmkg serves), starts
both on 127.0.0.1 and drives each with `wrk` (Debian package `wrk`): a fixed number of
connections for a fixed time per query, the two servers alternating, ``--rounds`` times.
Reports requests/s and p50/p99 latency (medians over the rounds), the throughput ratio, and
every non-2xx answer or socket error (there must be none).

Queries: each named query of queries/ (no parameters), a GROUP BY over the whole corpus, and
a point lookup (DESCRIBE of one IRI). Both servers run on the machine that runs wrk: read the
figures as a comparison under the same load, not as absolute capacities.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from cbmkg.catalogue import Catalogue  # noqa: E402
from cbmkg.config import ROOT  # noqa: E402

BIN = Path(sys.executable).parent
GROUP_BY = ("SELECT ?class (COUNT(*) AS ?n) WHERE { ?s a ?class . ?s ?p ?o } "
            "GROUP BY ?class ORDER BY DESC(?n)")
DESCRIBE = "DESCRIBE <https://w3id.org/cbmkg/id/actor/UKR>"
JSON = "application/sparql-results+json"


def queries() -> list[tuple[str, str, str]]:
    """(name, text, accept)."""
    chosen = [(f"named:{q.name}", q.bind({}), JSON) for q in Catalogue(ROOT / "queries").all()]
    chosen.append(("group-by", GROUP_BY, JSON))
    chosen.append(("describe", DESCRIBE, "application/n-triples"))
    return chosen


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"{process.args} exited with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def engine_ms(base: str, query: str, accept: str) -> float:
    """Median single-client latency of one query (what the engine plus HTTP cost)."""
    times = []
    for _ in range(7):
        started = time.perf_counter()
        answer = requests.get(base, params={"query": query}, headers={"Accept": accept}, timeout=120)
        times.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    return statistics.median(times)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(url: str, accept: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
         "--timeout", "30s", "-H", f"Accept: {accept}", url],
        capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(non2xx.group(1)) if non2xx else 0) + \
        (sum(int(x) for x in errors.groups()) if errors else 0)
    return {"rps": rate, "p50": p50, "p99": p99, "failed": failed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per query, server and round")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4, help="cbmkg serve worker processes")
    parser.add_argument("--only", help="run only the queries whose name contains this")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="cbmkg-endpoint-"))
    env = {**os.environ, "CBMKG_STORE": str(work / "cbmkg"), "CBMKG_WORKERS": str(args.workers),
           "CBMKG_QUERY_TIMEOUT": "60"}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run([BIN / "cbmkg", "build", "--no-validate"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dump = work / "corpus.nq"
        with dump.open("wb") as out:
            subprocess.run([BIN / "cbmkg", "export", "--format", "nquads"], env=env, check=True,
                           stdout=out, stderr=subprocess.DEVNULL)
        subprocess.run([BIN / "oxigraph", "load", "--location", str(work / "oxigraph"),
                        "--file", str(dump)], check=True, capture_output=True)
        cbmkg_port, oxigraph_port = free_port(), free_port()
        procs.append(subprocess.Popen([BIN / "cbmkg", "serve", "--port", str(cbmkg_port)], env=env,
                                      stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen(
            [BIN / "oxigraph", "serve", "--location", str(work / "oxigraph"), "--union-default-graph",
             "--bind", f"127.0.0.1:{oxigraph_port}"], stderr=subprocess.DEVNULL))
        servers = {"cbmkg": f"http://127.0.0.1:{cbmkg_port}/sparql",
                   "oxigraph": f"http://127.0.0.1:{oxigraph_port}/query"}
        wait_up(servers["cbmkg"].replace("/sparql", "/healthz"), procs[0])
        wait_up(servers["oxigraph"], procs[1])
        quads = sum(1 for _ in dump.open("rb"))
        print(f"corpus: {quads} quads; wrk: {args.connections} connections, {args.seconds} s per "
              f"query and server, {args.rounds} rounds; cbmkg workers: {args.workers}; "
              f"cores: {os.cpu_count()}\n")
        report = []
        header = (f"{'query':<28}{'kind':<7}{'engine ms':>12}{'cbmkg r/s':>11}{'p50':>8}{'p99':>8}"
                  f"{'oxigraph r/s':>14}{'p50':>8}{'p99':>8}{'ratio':>7}{'failed':>8}")
        print(header)
        floor = engine_ms(servers["oxigraph"], "ASK {}", JSON)  # HTTP and client, no work
        for name, text, accept in queries():
            if args.only and args.only not in name:
                continue
            single = engine_ms(servers["oxigraph"], text, accept)
            runs: dict[str, list[dict[str, float]]] = {"cbmkg": [], "oxigraph": []}
            for r in range(args.rounds):
                order = ("cbmkg", "oxigraph") if r % 2 == 0 else ("oxigraph", "cbmkg")
                for server in order:
                    url = servers[server] + "?" + urlencode({"query": text})
                    runs[server].append(wrk(url, accept, args.seconds, args.connections))
            row: dict[str, object] = {"query": name, "oxigraph_single_ms": round(single, 2)}
            for server, results in runs.items():
                for key in ("rps", "p50", "p99"):
                    row[f"{server}_{key}"] = round(statistics.median(x[key] for x in results), 2)
                row[f"{server}_failed"] = sum(int(x["failed"]) for x in results)
            # the engine's work per query: oxigraph serve keeps every core busy under this
            # load, so cores / (requests per second) is its CPU time per query (steadier than
            # one client's latency). Issue #6's targets: >= 0.9x where it is 10 ms or more,
            # >= 0.25x for a point lookup; queries in between ("light") have none.
            work = (os.cpu_count() or 1) * 1000 / float(row["oxigraph_rps"]) \
                if row["oxigraph_rps"] else float("inf")  # type: ignore[arg-type]
            kind = "point" if name == "describe" else "heavy" if work >= 10 else "light"
            row.update(kind=kind, engine_ms=round(work, 2))
            reference = float(row["oxigraph_rps"])  # type: ignore[arg-type]
            row["ratio"] = round(float(row["cbmkg_rps"]) / reference, 3) if reference else None  # type: ignore[arg-type]
            report.append(row)
            print(f"{name:<28}{kind:<7}{work:>12.1f}{row['cbmkg_rps']:>11}{row['cbmkg_p50']:>8}"
                  f"{row['cbmkg_p99']:>8}{row['oxigraph_rps']:>14}{row['oxigraph_p50']:>8}"
                  f"{row['oxigraph_p99']:>8}{str(row['ratio']):>7}"
                  f"{int(row['cbmkg_failed']) + int(row['oxigraph_failed']):>8}", flush=True)  # type: ignore[call-overload]
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
        failed = sum(int(r["cbmkg_failed"]) + int(r["oxigraph_failed"]) for r in report)  # type: ignore[call-overload]
        print(f"\nlatencies in ms; engine ms: oxigraph serve's CPU time per query under this load "
              f"(one client waits {floor:.1f} ms for ASK {{}}); ratio = cbmkg r/s ÷ oxigraph r/s; "
              f"failed requests: {failed}")
        for kind in ("heavy", "light", "point"):
            ratios = [float(r["ratio"]) for r in report if r["kind"] == kind and r["ratio"] is not None]  # type: ignore[arg-type]
            if ratios:
                print(f"{kind}: ratio min {min(ratios):.2f}, median {statistics.median(ratios):.2f} "
                      f"over {len(ratios)} queries")
        if failed:
            raise SystemExit(1)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
