"""The two layers against outbound requests, measured: what each stops of the bypass corpus
(tests/test_security.py) on its own, and what each costs.

    python benchmarks/egress.py [--rounds 300] [--json FILE]

1. The corpus, run by pyoxigraph itself against a listener on 127.0.0.1: with no layer (the
   corpus is real: Oxigraph calls out), with the text guard only (server/safety.py: a
   refused request does not run), with the sandbox only (server/sandbox.py, in a child
   process), and with both. Counts the requests that reached the listener.
2. The guard's cost per request (median µs over ``--rounds``): on the named queries, a point
   lookup, and a query that mentions SERVICE (the one case that runs rdflib's parser),
   beside the cost of parsing every request with rdflib (what a guard that always parses
   would cost).
3. The sandbox's cost: medians of a point lookup on the bundled ontology in memory, in one
   child process, before and after it closes its network.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rdflib.plugins.sparql.parser import parseQuery  # noqa: E402

from server.safety import refusal  # noqa: E402
from tests.test_security import bypasses, update_bypasses  # noqa: E402

POINT = "DESCRIBE <https://w3id.org/cbmkg/id/actor/UKR>"

_RUN = """
import json, sys, pyoxigraph
from server.sandbox import close_network
corpus = json.loads(sys.argv[1])
if sys.argv[2] == "closed":
    assert close_network()
store = pyoxigraph.Store()
ran = 0
for kind, text in corpus:
    try:
        if kind == "query":
            result = store.query(text)
            if not isinstance(result, pyoxigraph.QueryBoolean):
                list(result)
        else:
            store.update(text)
        ran += 1
    except Exception:
        pass
print(ran)
"""

_COST = """
import statistics, sys, time, pyoxigraph
from pathlib import Path
from server.sandbox import close_network
store = pyoxigraph.Store()
for path in sorted(Path("ontology").rglob("*.ttl")):
    store.bulk_load(path=str(path), format=pyoxigraph.RdfFormat.TURTLE,
                    to_graph=pyoxigraph.NamedNode("urn:g:" + path.name))
def median():
    times = []
    for _ in range(int(sys.argv[1])):
        started = time.perf_counter()
        list(store.query("DESCRIBE <https://w3id.org/cbmkg/id/actor/UKR>", use_default_graph_as_union=True))
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6
before = median()
assert close_network()
after = median()
print(before, after)
"""


class Listener:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.calls = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.calls += 1
            client.close()


def corpus(target: str) -> list[tuple[str, str]]:
    return [("query", q) for q in bypasses(target)] + [("update", u) for u in update_bypasses(target)]


def reached(guarded: bool, closed: bool) -> dict[str, int]:
    """The corpus aimed at a fresh listener, run by pyoxigraph in a child process: what the
    guard let through (all of it when not ``guarded``), how much ran, how often it called."""
    listener = Listener()
    entries = corpus(f"http://127.0.0.1:{listener.port}/sparql")
    chosen = [(kind, text) for kind, text in entries if not guarded or
              refusal(text, (), update=kind == "update", base_iri="http://127.0.0.1:8080/sparql") is None]
    done = subprocess.run([sys.executable, "-c", _RUN, json.dumps(chosen), "closed" if closed else "open"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    time.sleep(0.5)
    listener.sock.close()
    return {"requests": len(entries), "let_through": len(chosen), "ran": int(done.stdout.strip() or 0),
            "listener_calls": listener.calls}


def median_us(function: object, text: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        function(text)  # type: ignore[operator]  # a callable of one string
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--json")
    args = parser.parse_args()
    layers = {name: reached(guarded, closed) for name, guarded, closed in (
        ("none", False, False), ("guard only", True, False), ("sandbox only", False, True),
        ("guard and sandbox", True, True))}
    queries = {p.stem: p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").glob("*.rq"))}
    queries["point lookup"] = POINT
    queries["mentions SERVICE"] = 'SELECT * { ?s ?p ?o FILTER(?o != "SERVICE") } LIMIT 1'

    def guard(text: str) -> object:
        return refusal(text, ())

    cost = {name: {"guard_us": round(median_us(guard, text, args.rounds), 1),
                   "rdflib_parse_us": round(median_us(parseQuery, text, max(10, args.rounds // 10)), 1)}
            for name, text in queries.items()}
    done = subprocess.run([sys.executable, "-c", _COST, str(args.rounds)], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    before, after = (float(x) for x in done.stdout.split())
    result = {"layers": layers, "guard_cost": cost,
              "sandbox_point_lookup_us": {"before": round(before, 1), "after": round(after, 1),
                                          "ratio": round(after / before, 3)}}
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
