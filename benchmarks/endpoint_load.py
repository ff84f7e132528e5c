"""Concurrent clients against `cbmkg serve` (one server per worker class) and `oxigraph
serve`, side by side on the same data and the same queries, in one run.

    python benchmarks/endpoint_load.py [--size 1] [--store HOME] [--seconds 10]
                                       [--connections 4] [--rounds 3]
                                       [--worker-classes keepalive,gthread] [--only NAME]
                                       [--params example|none] [--json FILE]

Builds a store of ``--size`` times the bundled corpus build (1: the bundled corpus; more:
the scale corpus of loaders/scale.py, as benchmarks/scale.py writes it) or takes the
store home ``--store``, and serves its active generation twice on 127.0.0.1: with `cbmkg
serve` (one server per worker class) and with `oxigraph serve-read-only
--union-default-graph` on the same database directory (the default graph cbmkg serves).
Each is driven with `wrk` (Debian package `wrk`): a fixed number of connections for a fixed
time per query, the servers taking turns in a rotating order, ``--rounds`` times. Reports
requests/s and p50/p99 latency (medians over the rounds), each cbmkg server's throughput as
a ratio of oxigraph's and of the first worker class's, every non-2xx answer or socket error
(there must be none), and the resident memory of each server's processes at the end.

Queries: each named query of queries/ (``--params example``, the default: its first
parameter bound to the example its header gives, as a user looking up one party or report
does; ``none``: every parameter free, the whole listing), a GROUP BY over the whole corpus,
and a point lookup (DESCRIBE of one IRI). All servers run on the machine that runs wrk: read
the figures as a comparison under the same load, not as absolute capacities.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scale import corpus, example_values  # noqa: E402
from cbmkg.catalogue import Catalogue  # noqa: E402
from cbmkg.config import ROOT  # noqa: E402
from loaders.scale import bundled_quads  # noqa: E402

BIN = Path(sys.executable).parent
GROUP_BY = ("SELECT ?class (COUNT(*) AS ?n) WHERE { ?s a ?class . ?s ?p ?o } "
            "GROUP BY ?class ORDER BY DESC(?n)")
DESCRIBE = "DESCRIBE <https://w3id.org/cbmkg/id/actor/UKR>"
JSON = "application/sparql-results+json"
OXIGRAPH = "oxigraph"


@dataclass
class Load:
    """One server's figures for one query: medians over the rounds, failures summed."""
    rps: float
    p50: float
    p99: float
    failed: int


@dataclass
class Row:
    query: str
    kind: str         # point | light | heavy (by oxigraph's CPU time per query)
    engine_ms: float  # oxigraph serve's CPU time per query under this load
    loads: dict[str, Load] = field(default_factory=dict)

    def ratio(self, server: str, reference: str = OXIGRAPH) -> float | None:
        base = self.loads[reference].rps
        return round(self.loads[server].rps / base, 3) if base else None


def queries(params: str, sparql_url: str) -> list[tuple[str, str, str]]:
    """(name, text, accept)."""
    def select(text: str) -> list[dict[str, str]]:
        answer = requests.get(sparql_url, params={"query": text}, headers={"Accept": JSON}, timeout=60)
        return [{k: v["value"] for k, v in row.items()} for row in answer.json()["results"]["bindings"]]

    chosen = [(f"named:{q.name}", q.bind(example_values(q, select) if params == "example" else {}), JSON)
              for q in Catalogue(ROOT / "queries").all()]
    chosen.append(("group-by", GROUP_BY, JSON))
    chosen.append(("describe", DESCRIBE, "application/n-triples"))
    return chosen


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[match[2]]


def _find(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if match is None:
        raise ValueError(f"wrk printed no {pattern!r}:\n{text}")
    return match[1]


def wrk(url: str, accept: str, seconds: int, connections: int) -> Load:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency",
         "--timeout", "30s", "-H", f"Accept: {accept}", url],
        capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(non2xx[1]) if non2xx else 0) + (sum(int(x) for x in errors.groups()) if errors else 0)
    done = re.search(r"(\d+) requests in", out)
    if done and int(done[1]) == 0:  # nothing answered in the whole run: every connection failed
        failed += connections
    return Load(float(_find(r"Requests/sec:\s+([\d.]+)", out)), _ms(_find(r"\s50%\s+(\S+)", out)),
                _ms(_find(r"\s99%\s+(\S+)", out)), failed)


def median_load(loads: list[Load]) -> Load:
    return Load(round(statistics.median(x.rps for x in loads), 2),
                round(statistics.median(x.p50 for x in loads), 2),
                round(statistics.median(x.p99 for x in loads), 2), sum(x.failed for x in loads))


def memory_mb(process: subprocess.Popen[bytes]) -> dict[str, object]:
    """Resident memory of a server: its main process and each worker process, MiB."""
    root = psutil.Process(process.pid)
    workers = root.children(recursive=True)
    return {"main": round(root.memory_info().rss / 2**20, 1),
            "workers": [round(w.memory_info().rss / 2**20, 1) for w in workers],
            "total": round(sum(p.memory_info().rss for p in [root, *workers]) / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--size", type=float, default=1.0,
                        help="the store's size as a multiple of the bundled corpus build")
    parser.add_argument("--store", type=Path, help="serve this store home instead of building one")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "cbmkg-scale",
                        help="where the scale corpus is written (and kept)")
    parser.add_argument("--params", choices=["example", "none"], default="example")
    parser.add_argument("--seconds", type=int, default=10, help="per query, server and round")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4, help="cbmkg serve worker processes")
    parser.add_argument("--worker-classes", default="keepalive",
                        help="comma-separated worker_class settings, one cbmkg server each")
    parser.add_argument("--only", help="run only the queries whose name contains this")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    classes = [c.strip() for c in args.worker_classes.split(",") if c.strip()]
    work = Path(tempfile.mkdtemp(prefix="cbmkg-endpoint-"))
    home = args.store or work / "cbmkg"
    env = {**os.environ, "CBMKG_STORE": str(home), "CBMKG_WORKERS": str(args.workers),
           "CBMKG_QUERY_TIMEOUT": "60"}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if args.store is None:
            reports = corpus(args.work, args.size, bundled_quads())[0] if args.size > 1 else []
            subprocess.run([BIN / "cbmkg", "build", "--no-validate", *map(str, reports)], env=env,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        generation = home / os.readlink(home / "active")
        servers: dict[str, str] = {}
        for worker_class in classes:
            port = free_port()
            procs.append(subprocess.Popen([BIN / "cbmkg", "serve", "--port", str(port)],
                                          env={**env, "CBMKG_WORKER_CLASS": worker_class},
                                          stderr=subprocess.DEVNULL))
            servers[f"cbmkg-{worker_class}"] = f"http://127.0.0.1:{port}/sparql"
            wait_up(f"http://127.0.0.1:{port}/healthz", procs[-1])
        port = free_port()
        # the same database directory, read-only, as cbmkg's workers read it
        procs.append(subprocess.Popen(
            [BIN / "oxigraph", "serve-read-only", "--location", str(generation), "--union-default-graph",
             "--bind", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL))
        servers[OXIGRAPH] = f"http://127.0.0.1:{port}/query"
        wait_up(servers[OXIGRAPH], procs[-1])
        first = next(iter(servers.values()))
        quads = int(requests.get(first, params={"query": "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"},
                                 headers={"Accept": JSON}, timeout=600).json()
                    ["results"]["bindings"][0]["n"]["value"])
        print(f"corpus: {quads} quads; wrk: {args.connections} connections, {args.seconds} s per "
              f"query and server, {args.rounds} rounds; cbmkg workers: {args.workers}; "
              f"cores: {os.cpu_count()}\n")
        names = list(servers)
        print(f"{'query':<28}{'kind':<7}{'engine ms':>10}" +
              "".join(f"{n + ' r/s':>22}{'p50':>7}{'p99':>7}" for n in names) +
              "".join(f"{'÷oxi ' + n.removeprefix('cbmkg-'):>16}" for n in names if n != OXIGRAPH) +
              f"{'failed':>8}")
        report: list[Row] = []
        for name, text, accept in queries(args.params, first):
            if args.only and args.only not in name:
                continue
            runs: dict[str, list[Load]] = {n: [] for n in names}
            for r in range(args.rounds):
                for server in names[r % len(names):] + names[:r % len(names)]:  # rotate who goes first
                    url = servers[server] + "?" + urlencode({"query": text})
                    runs[server].append(wrk(url, accept, args.seconds, args.connections))
            loads = {server: median_load(results) for server, results in runs.items()}
            # oxigraph serve keeps every core busy under this load, so cores / (requests per
            # second) is its CPU time per query: what the query costs the engine
            rps = loads[OXIGRAPH].rps
            engine = (os.cpu_count() or 1) * 1000 / rps if rps else float("inf")
            kind = "point" if name == "describe" else "heavy" if engine >= 10 else "light"
            row = Row(name, kind, round(engine, 2), loads)
            report.append(row)
            print(f"{name:<28}{kind:<7}{engine:>10.1f}" +
                  "".join(f"{loads[n].rps:>22}{loads[n].p50:>7}{loads[n].p99:>7}" for n in names) +
                  "".join(f"{row.ratio(n)!s:>16}" for n in names if n != OXIGRAPH) +
                  f"{sum(x.failed for x in loads.values()):>8}", flush=True)
        failed = sum(x.failed for row in report for x in row.loads.values())
        print(f"\nlatencies in ms; engine ms: oxigraph serve's CPU time per query under this load; "
              f"÷oxi: cbmkg r/s ÷ oxigraph r/s; failed requests: {failed}")
        cbmkg_servers = [n for n in names if n != OXIGRAPH]
        for kind in ("heavy", "light", "point"):
            for server in cbmkg_servers:
                ratios = [q for row in report if row.kind == kind and (q := row.ratio(server)) is not None]
                if ratios:
                    print(f"{kind:<6} {server}: ÷oxigraph min {min(ratios):.2f}, median "
                          f"{statistics.median(ratios):.2f} over {len(ratios)} queries")
            for server in cbmkg_servers[1:]:
                ratios = [q for row in report if row.kind == kind
                          and (q := row.ratio(server, cbmkg_servers[0])) is not None]
                if ratios:
                    print(f"{kind:<6} {server} ÷ {cbmkg_servers[0]}: min {min(ratios):.2f}, median "
                          f"{statistics.median(ratios):.2f}")
        memory = {name: memory_mb(process) for name, process in zip(names, procs, strict=True)}
        for name, figures in memory.items():
            print(f"memory of {name}: {figures['total']} MiB in all (main {figures['main']}, "
                  f"workers {figures['workers']})")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({
                "command": " ".join(["python", "benchmarks/endpoint_load.py", *sys.argv[1:]]),
                "size": args.size, "quads": quads, "cores": os.cpu_count(), "params": args.params,
                "connections": args.connections, "seconds": args.seconds, "rounds": args.rounds,
                "workers": args.workers, "memory_mb": memory, "rows": [asdict(row) for row in report]},
                indent=1))
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
