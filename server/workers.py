"""Where SPARQL queries run, and how a query past its time is stopped.

``cbmkg serve`` runs gunicorn with ``workers`` worker processes (``keepalive.py``): each
answers a request at a time in its main thread (and another in its overflow thread while the
main one is held up) and runs its queries itself (``WatchdogRunner``), from a copy of the
store in its memory when the store has at most ``worker_copy_limit`` quads (Oxigraph answers
several times faster from memory than from RocksDB), else from the store on disk, read-only.
A query that runs past ``query_timeout`` cannot be interrupted inside Oxigraph, so the
process's watchdog (watchdog.py; Oxigraph lets go of the GIL while it works) writes the 503
answer to the client's socket and ends the process: the CPU stops, gunicorn starts a fresh
worker, and the other workers go on answering.

Anywhere else (a memory or remote store, or a server that is not ``cbmkg serve``),
``InlineRunner`` runs the query in a thread and answers 503 at the timeout; the work goes
on until it ends (a remote store stops at ``http_timeout`` or its own timeout).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from cbmkg.store import EmbeddedStore, GraphStore

from .answers import Answer, Job, answer
from .watchdog import AlreadyAnswered, Watchdog

T = TypeVar("T")


class Overtime(Exception):
    """Work that ran past its time (InlineRunner: the thread may still be at it)."""


def timeout_message(timeout: float, what: str = "query") -> str:
    return f"{what} stopped after {timeout:g} s (query_timeout)"


class InlineRunner:
    """Runs queries in threads of this process and answers on time."""

    def __init__(self, store: GraphStore, threads: int = 8):
        self.store = store
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cbmkg-query")

    def run(self, job: Job, timeout: float, client: Any = None) -> Answer:
        try:
            return self.call(lambda: answer(self.store, job), timeout, client)
        except Overtime as e:
            return Answer.text(503, str(e))

    def call(self, work: Callable[[], T], timeout: float, client: Any = None, what: str = "query",
             accept: str | None = None) -> T:
        """``work()``, or Overtime at the timeout (the work goes on in its thread)."""
        future = self.pool.submit(work)
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()
            raise Overtime(timeout_message(timeout, what) + "; the store may still be working on it") from None

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class WatchdogRunner:
    """Runs work in the request's own thread, under the process's watchdog (watchdog.py): at
    the timeout the watchdog answers the client and ends the process."""

    def __init__(self, store: EmbeddedStore, copy_limit: int, dog: Watchdog):
        self.disk = store
        self.copy_limit = copy_limit
        self.dog = dog
        self.lock = threading.Lock()  # the main and the overflow thread may both ask for the copy
        self._copy: GraphStore | None = None
        self._copied: str | None = "(none yet)"
        self.current()  # copy now, while the worker starts, not in its first request

    def current(self) -> GraphStore:
        """The store to query: the in-memory copy of the active generation when it is small
        enough (taken again after each new generation), else the store on disk. The caller
        has refreshed the store (sparql.run_job)."""
        with self.lock:
            if self._copied != self.disk.generation:  # counting quads on disk is not free
                self._copied = self.disk.generation
                self._copy = None
                if len(self.disk.raw) <= self.copy_limit:
                    copy = EmbeddedStore.memory()
                    copy.raw.bulk_extend(self.disk.raw)
                    self._copy = copy
            return self._copy if self._copy is not None else self.disk

    def run(self, job: Job, timeout: float, client: socket.socket | None = None) -> Answer:
        store = self.current()
        return self.call(lambda: answer(store, job), timeout, client, accept=job.accept)

    def call(self, work: Callable[[], T], timeout: float, client: socket.socket | None = None,
             what: str = "query", accept: str | None = None) -> T:
        """``work()`` in this thread; at the timeout the watchdog answers (in the envelope
        ``accept`` asks for) and ends the process."""
        if client is None:
            raise RuntimeError("WatchdogRunner needs the client's socket (gunicorn's environ)")
        self.dog.arm("work", timeout, client, timeout_message(timeout, what), accept)
        try:
            result = work()
        except BaseException:
            self.dog.disarm()
            raise
        if not self.dog.disarm():
            raise AlreadyAnswered()
        return result

    def close(self) -> None:
        pass


def runner_for(store: GraphStore, copy_limit: int, dog: Watchdog | None) -> InlineRunner | WatchdogRunner:
    """The watchdog's runner in a `cbmkg serve` worker over the embedded store on disk; threads
    with an answer on time anywhere else (a remote store: the remote server does the work)."""
    if dog is not None and isinstance(store, EmbeddedStore) and store.home is not None:
        return WatchdogRunner(store, copy_limit, dog)
    return InlineRunner(store)
