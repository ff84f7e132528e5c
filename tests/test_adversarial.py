"""The standing adversarial suite (issue 12): `cbmkg serve` on 127.0.0.1 under hostile
clients, each test asserting that other clients keep being answered within a bound.

- fixed-seed fuzzing of queries, updates, bodies and paths (benchmarks/fuzz.py at a small
  size): no 500, no call to a listener that stands for another machine, no worker lost;
- memory bombs: a query that doubles a string with nested CONCAT;
- slow clients, over-long request lines, runaway queries with kept connections;
- kill of a worker, of the master, ``kill -HUP`` (reload) and ``kill -TTOU``.

The SSRF corpus (escapes, comments, strings, SPARQL 1.2 syntax, nested queries, updates) and
the billion laughs are in test_security.py.

Tests marked ``LEAD`` need the worker-process fixes of issue 12 that live in
server/keepalive.py, server/workers.py and server/serving.py (defects 1, 4 and 6 and the
per-worker memory limit). They are strict expected failures: they run, and the day they
pass the run fails until the mark is removed, so none stays hidden.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cbmkg.config import ROOT
from cbmkg.store import EmbeddedStore
from loaders.build import build
from tests.helpers import CbmkgServer, Connection, process_gone, wait_for

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
BOUND = 3.0  # seconds another client may wait for /healthz while an attack goes on (loaded 2-core machine)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("adversarial") / "store"
    store = EmbeddedStore.open(folder, create=True)
    build(store, ROOT / "ontology", [ROOT / "corpus" / "A_75_95-ZH.txt"])
    store.close()
    return folder


@pytest.fixture()
def server(store_dir: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[CbmkgServer]:
    """A fresh `cbmkg serve` per test (tests kill its processes): 2 workers, a 4 s timeout."""
    settings = {"store": str(store_dir), "workers": "2", "query_timeout": "4", "update_token": "fuzz-token",
                **getattr(request, "param", {})}
    started = CbmkgServer(settings, tmp_path / "server.log")
    yield started
    if started.process.poll() is None:
        started.stop()


def workers(server: CbmkgServer) -> set[int]:
    pid = server.process.pid
    try:
        return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


def answered_quickly(server: CbmkgServer, bound: float = BOUND) -> float:
    """Seconds a new client waits for /healthz (fails past ``bound``)."""
    started = time.monotonic()
    answer = requests.get(server.base + "/healthz", timeout=bound)
    assert answer.status_code == 200
    return time.monotonic() - started


def keep_answering(server: CbmkgServer, seconds: float, bound: float = BOUND) -> list[float]:
    """Ask /healthz again and again for ``seconds``; every answer within ``bound``."""
    waits = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        waits.append(answered_quickly(server, bound))
        time.sleep(0.2)
    return waits


# -- fuzzing ---------------------------------------------------------------------------------

def test_fuzzed_requests_get_no_500_and_lose_no_worker(server: CbmkgServer) -> None:
    """300 mutated requests of seed 12 (benchmarks/fuzz.py; the report's figures come from
    its full size): no 500, nobody called, the master and both workers there."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fuzz.py"), "--requests", "300",
                           "--seed", "12", "--base", server.base, "--master", str(server.process.pid)],
                          capture_output=True, text=True, timeout=300)
    result = json.loads(done.stdout)
    assert result["failures"] == [], result["failures"][:5]
    assert result["listener_saw"] == []
    assert result["master_alive"] and result["workers_after"] == result["workers_before"] == 2
    assert done.returncode == 0
    answered_quickly(server)


# -- memory bombs ------------------------------------------------------------------------------

def concat_bomb(doublings: int) -> str:
    """A query of a few hundred characters whose string doubles ``doublings`` times."""
    binds = "".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1}) " for i in range(doublings))
    return f'SELECT (STRLEN(?v{doublings}) AS ?n) {{ BIND("0123456789abcdef" AS ?v0) {binds}}}'


@pytest.mark.parametrize("server", [{"worker_memory_limit": "400"}], indirect=True)
def test_a_concat_bomb_is_stopped_and_others_are_answered(server: CbmkgServer) -> None:
    """2^24 × 16 bytes (256 MiB, about twice that held at once) against a worker limit of
    400 MB (the setting's name is the lead's to confirm): the bomb gets 503 or 400, the
    worker is replaced, and other clients are answered meanwhile."""
    query = concat_bomb(24)
    assert len(query) < 1200
    outcome: dict[str, int] = {}

    def bomb() -> None:
        outcome["status"] = requests.get(server.base + "/sparql", params={"query": query}, timeout=60).status_code

    thread = threading.Thread(target=bomb)
    thread.start()
    keep_answering(server, 2.0)
    thread.join(60)
    assert outcome.get("status") in (400, 503), outcome
    wait_for(lambda: len(workers(server)) == 2, 30, "the worker is replaced")
    answered_quickly(server)


# -- slow clients, long request lines, runaway queries ------------------------------------------

def test_slow_clients_do_not_hold_the_workers(server: CbmkgServer) -> None:
    """Defect 4: eight clients sending their request one byte a second (more than the
    workers); a new client is still answered within the bound, all along."""
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    slow = []
    for _ in range(8):  # one at a time, each with its first byte: every worker takes some
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.send(head[:1])
        slow.append(sock)
        time.sleep(0.3)
    stop = threading.Event()

    def dribble() -> None:
        for i in range(1, len(head) - 2):
            if stop.is_set():
                return
            for sock in slow:
                try:
                    sock.send(head[i:i + 1])
                except OSError:
                    pass
            time.sleep(1.0)

    thread = threading.Thread(target=dribble, daemon=True)
    thread.start()
    try:
        keep_answering(server, 6.0)
    finally:
        stop.set()
        for sock in slow:
            sock.close()


def test_an_over_long_request_line_gets_414_with_advice(server: CbmkgServer) -> None:
    """Defects 1 and 4: a 2 MB GET request line is refused at once, telling the client to
    POST, and the server goes on (32 MB used to stop it after the worker's timeout)."""
    with Connection(server.port, timeout=10) as conn:
        conn.send(b"GET /sparql?query=" + b"a" * (2 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        status, _, body = conn.answer()
    assert status == 414 and b"POST" in body
    assert time.monotonic() - started < BOUND
    keep_answering(server, 1.0)


@pytest.mark.parametrize("server", [{"workers": "3"}], indirect=True)
def test_kept_connections_are_answered_while_workers_run_away(server: CbmkgServer) -> None:
    """Defect 6: three workers, a connection kept by each, then two runaway queries: each
    kept connection's next request is answered within the bound (one kept by a worker stuck
    on a runaway waited for the timeout and was then reset)."""
    kept: dict[int, Connection] = {}
    held = []
    for _ in range(3):
        # a kept connection on a worker not yet held, then held there by a half-sent body,
        # so that the next new client goes to another worker
        conn = Connection(server.port, timeout=15)
        conn.send(conn.request("/healthz"))
        pid = json.loads(conn.answer()[2])["pid"]
        assert pid not in kept
        kept[pid] = conn
        conn.send(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                  b"Accept: text/csv\r\nContent-Length: 6\r\n\r\nASK")
        held.append(conn)
        time.sleep(0.2)
    for conn in held:
        conn.send(b" {}")
        assert conn.answer()[0] == 200
    runaways = [threading.Thread(target=lambda: requests.get(server.base + "/sparql", params={"query": RUNAWAY},
                                                             timeout=60), daemon=True) for _ in range(2)]
    for thread in runaways:
        thread.start()
        time.sleep(0.3)
    try:
        for conn in kept.values():
            started = time.monotonic()
            conn.send(conn.request("/healthz"))
            assert conn.answer()[0] == 200
            assert time.monotonic() - started < BOUND
    finally:
        for conn in kept.values():
            conn.close()
        for thread in runaways:
            thread.join(60)


# -- signals -----------------------------------------------------------------------------------

def test_a_killed_worker_is_replaced_and_the_others_answer(server: CbmkgServer) -> None:
    before = workers(server)
    assert len(before) == 2
    victim = next(iter(before))
    os.kill(victim, signal.SIGKILL)
    keep_answering(server, 1.5)
    wait_for(lambda: len(workers(server)) == 2 and victim not in workers(server), 30, "a new worker")
    assert requests.get(server.base + "/metrics", timeout=10).status_code == 200


def test_a_killed_master_leaves_no_worker_and_the_port_can_serve_again(server: CbmkgServer, store_dir: Path,
                                                                         tmp_path: Path) -> None:
    children = workers(server)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(10)
    wait_for(lambda: all(process_gone(pid) or _zombie(pid) for pid in children), 30, "its workers end")
    again = CbmkgServer({**server.settings}, tmp_path / "again.log")
    try:
        answered_quickly(again)
    finally:
        again.stop()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except OSError:
        return True


def test_hup_reloads_without_losing_the_server(server: CbmkgServer) -> None:
    """Defect 1: ``kill -HUP`` (the usual reload) replaces the workers; the server answers
    throughout and afterwards, metrics included (a worker's exit removed their folder)."""
    before = workers(server)
    os.kill(server.process.pid, signal.SIGHUP)
    keep_answering(server, 3.0)
    wait_for(lambda: len(workers(server)) == 2 and not workers(server) & before, 30, "new workers")
    keep_answering(server, 2.0)
    assert server.process.poll() is None
    assert requests.get(server.base + "/metrics", timeout=10).status_code == 200


def test_ttou_then_a_runaway_query_does_not_stop_the_server(server: CbmkgServer) -> None:
    """Defect 1: one worker fewer (``kill -TTOU``), then a worker ending at a runaway query;
    the server must still be there and answering."""
    os.kill(server.process.pid, signal.SIGTTOU)
    wait_for(lambda: len(workers(server)) == 1, 30, "one worker fewer")
    late = requests.get(server.base + "/sparql", params={"query": RUNAWAY}, timeout=60)
    assert late.status_code == 503
    wait_for(lambda: len(workers(server)) == 1, 30, "its replacement")
    keep_answering(server, 2.0)
    assert server.process.poll() is None
