"""Where SPARQL queries run: in worker processes, so that a query past its time is really
stopped (its process is killed; Oxigraph cannot interrupt a query inside a thread) and the
other workers keep answering.

Each worker opens the embedded store read-only and follows new generations by itself; a
store of at most ``worker_copy_limit`` quads is copied into the worker's memory (one copy
per worker, taken again for each new generation), where Oxigraph answers faster. A
worker that is killed or dies is replaced in the background. A store that lives in memory
(tests) or on another server has nothing to open in a second process: ``InlineRunner`` runs
those queries in threads and answers 503 at the timeout (a remote store stops at its own
``http_timeout``, and may have a query timeout of its own).
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from cbmkg.errors import CbmkgError
from cbmkg.store import GraphStore

from .answers import Answer, Job, answer

log = logging.getLogger("cbmkg.server.workers")
_context = multiprocessing.get_context("spawn")  # never fork a process that runs threads


def _work(conn: Connection, home: str, copy_limit: int) -> None:
    """A worker's life: open the store, answer jobs until told to stop."""
    from cbmkg.store import EmbeddedStore

    try:
        disk = EmbeddedStore.open(home)
        store = _in_memory(disk, copy_limit)
    except CbmkgError as e:
        conn.send(Answer.text(500, str(e)))
        return
    conn.send(Answer(200, b"ready"))
    while True:
        try:
            job = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if job is None:
            return
        try:
            if disk.refresh():  # a build has published a newer generation
                store = _in_memory(disk, copy_limit)
            conn.send(answer(store, job))
        except CbmkgError as e:
            conn.send(Answer.text(500, str(e)))


def _in_memory(disk: GraphStore, copy_limit: int) -> GraphStore:
    """A copy of a store small enough in this worker's memory (Oxigraph answers from memory
    several times faster than from RocksDB), else the store on disk itself."""
    from cbmkg.store import EmbeddedStore

    if not isinstance(disk, EmbeddedStore) or len(disk.raw) > copy_limit:
        return disk
    copy = EmbeddedStore.memory()
    copy.raw.bulk_extend(disk.raw)
    return copy


class QueryTimeout(CbmkgError):
    pass


@dataclass
class _Worker:
    process: Any
    conn: Connection


class InlineRunner:
    """Runs queries in threads of this process (memory and remote stores). The client gets
    its timeout answer on time; the work itself goes on until the remote store's own
    timeout (``http_timeout``) or, in memory, until it ends: only the worker pool can kill."""

    def __init__(self, store: GraphStore, threads: int = 8):
        self.store = store
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cbmkg-query")

    def run(self, job: Job, timeout: float) -> Answer:
        future = self.pool.submit(answer, self.store, job)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()
            return Answer.text(503, f"query stopped after {timeout:g} s (query_timeout); "
                                    f"the store may still be working on it")

    def pids(self) -> list[int]:
        return []

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class WorkerPool:
    """``size`` processes answering jobs from one on-disk store."""

    def __init__(self, home: str, size: int, copy_limit: int = 0):
        self.home = home
        self.copy_limit = copy_limit
        self.idle: queue.Queue[_Worker] = queue.Queue()
        self.lock = threading.Lock()
        self.live: set[int] = set()
        self.closed = False
        starting = [self._spawn() for _ in range(max(1, size))]
        for worker in starting:
            self._ready(worker)

    def _spawn(self) -> _Worker:
        parent, child = _context.Pipe()
        process = _context.Process(target=_work, args=(child, self.home, self.copy_limit), daemon=True,
                                   name="cbmkg-query-worker")
        process.start()
        child.close()
        return _Worker(process, parent)

    def _ready(self, worker: _Worker) -> None:
        hello = worker.conn.recv()
        if hello.status != 200:
            worker.process.join()
            raise CbmkgError(f"a query worker could not start: {hello.body.decode().strip()}")
        with self.lock:
            self.live.add(worker.process.pid)
        self.idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker and start another in the background (the caller answers at once)."""
        worker.process.kill()
        worker.process.join()
        worker.conn.close()
        with self.lock:
            self.live.discard(worker.process.pid)
        if self.closed:
            return

        def start() -> None:
            try:
                self._ready(self._spawn())
            except (CbmkgError, EOFError, OSError) as e:
                log.error("cannot replace a query worker: %s", e)

        threading.Thread(target=start, daemon=True).start()

    def run(self, job: Job, timeout: float) -> Answer:
        deadline = time.monotonic() + timeout
        try:
            worker = self.idle.get(timeout=timeout)
        except queue.Empty:
            return Answer.text(503, f"every query worker stayed busy for {timeout:g} s; try again")
        try:
            worker.conn.send(job)
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                self._replace(worker)
                return Answer.text(503, f"query stopped after {timeout:g} s (query_timeout)")
            result: Answer = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self._replace(worker)
            return Answer.text(500, "the query worker died while answering")
        self.idle.put(worker)
        return result

    def pids(self) -> list[int]:
        with self.lock:
            return sorted(self.live)

    def close(self) -> None:
        self.closed = True
        while True:
            try:
                worker = self.idle.get_nowait()
            except queue.Empty:
                break
            try:
                worker.conn.send(None)
            except OSError:
                pass
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.kill()


def runner_for(store: GraphStore, size: int, copy_limit: int = 0) -> InlineRunner | WorkerPool:
    home = getattr(store, "home", None)
    if store.kind == "embedded" and home is not None and size > 0:
        return WorkerPool(str(home), size, copy_limit)
    return InlineRunner(store)
