"""Where SPARQL queries run, and how a query past its time is stopped.

``cbmkg serve`` runs gunicorn with ``workers`` worker processes (``keepalive.py``: gunicorn's
sync worker with keep-alive): each answers one request at a time and runs its queries
itself (``WatchdogRunner``), from a copy of the store in its memory when the store has at
most ``worker_copy_limit`` quads (Oxigraph answers several times faster from memory than
from RocksDB), else from the store on disk, read-only. A query
that runs past ``query_timeout`` cannot be interrupted inside Oxigraph, so a watchdog thread
(Oxigraph lets go of the GIL while it works) writes the 503 answer to the client's socket
and ends the process: the CPU stops at once, gunicorn starts a fresh worker, and the other
workers go on answering.

Anywhere else (a memory or remote store, or a server that is not ``cbmkg serve``),
``InlineRunner`` runs the query in a thread and answers 503 at the timeout; the work goes
on until it ends (a remote store stops at ``http_timeout`` or its own timeout).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from cbmkg.store import EmbeddedStore, GraphStore

from .answers import Answer, Job, answer
from .errors import envelope

log = logging.getLogger("cbmkg.server.workers")
EXIT_TIMEOUT = 75  # the exit status of a worker that stopped a query (EX_TEMPFAIL)


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
    """Runs a query in the request's own thread, in a process that serves one request at a
    time; at the timeout, answers the client itself and ends the process."""

    TICK = 0.05  # how often the watchdog looks (a thread per request would cost more)

    def __init__(self, store: EmbeddedStore, copy_limit: int, on_timeout: Any = None):
        self.disk = store
        self.copy_limit = copy_limit
        self.on_timeout = on_timeout
        self.lock = threading.Lock()
        self._copy: GraphStore | None = None
        self._copied: str | None = "(none yet)"
        self._deadline: float | None = None
        self._client: socket.socket | None = None
        self._timeout = 0.0
        self._what = "query"
        self._accept: str | None = None
        threading.Thread(target=self._watch, daemon=True, name="cbmkg-watchdog").start()
        self.current()  # copy now, while the worker starts, not in its first request

    def current(self) -> GraphStore:
        """The store to query: the in-memory copy of the active generation when it is small
        enough (taken again after each new generation), else the store on disk. The caller
        has refreshed the store (sparql.run_job)."""
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
        self._client, self._timeout, self._what, self._accept = client, timeout, what, accept
        self._deadline = time.monotonic() + timeout
        try:
            return work()
        finally:
            with self.lock:
                self._deadline = None

    def _watch(self) -> None:
        while True:
            time.sleep(self.TICK)
            deadline = self._deadline
            if deadline is None or time.monotonic() < deadline:
                continue
            with self.lock:
                if self._deadline is None:
                    continue  # the answer was ready just in time
                self._expire()

    def _expire(self) -> None:
        """Answer 503 on the client's socket, then end the process (lock held: the request
        thread cannot answer too)."""
        media, body = envelope(503, timeout_message(self._timeout, self._what), self._accept)
        head = ("HTTP/1.1 503 Service Unavailable\r\n"
                f"Content-Type: {media}\r\nVary: Accept\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n"
                "Access-Control-Allow-Origin: *\r\n\r\n").encode()
        try:
            if self.on_timeout is not None:
                self.on_timeout()
            assert self._client is not None
            self._client.sendall(head + body)
            self._client.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the client left already
        finally:
            log.warning("query stopped after %g s; worker %d exits", self._timeout, os.getpid())
            os._exit(EXIT_TIMEOUT)

    def close(self) -> None:
        pass


def runner_for(store: GraphStore, copy_limit: int, exit_on_timeout: bool,
               on_timeout: Any = None) -> InlineRunner | WatchdogRunner:
    if exit_on_timeout and isinstance(store, EmbeddedStore) and store.home is not None:
        return WatchdogRunner(store, copy_limit, on_timeout)
    return InlineRunner(store)
