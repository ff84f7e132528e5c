"""One thread per `cbmkg serve` worker process that ends what runs too long or grows too big.

Oxigraph cannot be interrupted inside a query, and a Python thread cannot be stopped, so the
watchdog acts from outside the work, on what it holds:

- **reading a request** past ``read_timeout`` (a client that sends one byte a second): the
  client's socket is shut down; the worker's read fails at once and it goes on with others;
- **work** (a query, a validation) past ``query_timeout``: the client gets its 503 from the
  watchdog, then the process ends (gunicorn starts another) — after the other requests the
  process is answering have finished, and after its idle kept connections were closed
  cleanly, so that no other client loses an answer or meets a reset;
- **memory**: when the process's resident memory passes ``worker_memory_limit`` MB, every
  client it is answering gets a 503 and the process ends at once (the work that grew may
  grow further). ``RLIMIT_DATA`` at twice the limit stops an allocation that outruns the
  watchdog's tick.

Guards are armed per thread (the worker answers one request at a time in its main thread, and
another one in its overflow thread while the main one is held up: keepalive.py).
"""

from __future__ import annotations

import logging
import os
import resource
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import envelope

log = logging.getLogger("cbmkg.server.watchdog")
EXIT_STOPPED = 75  # the exit status of a worker that stopped work (EX_TEMPFAIL)
TICK = 0.05  # seconds between looks (a thread per request would cost more)
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Guard:
    """What one thread is doing under watch."""
    kind: str                     # "read" or "work"
    deadline: float               # time.monotonic() at which it is over
    client: socket.socket | None  # where the 503 goes (and what a read timeout shuts)
    message: str                  # the 503's words (work) or the log's (read)
    accept: str | None = None     # the envelope the client asked for
    answered: bool = False        # the watchdog wrote the client's answer


class AlreadyAnswered(BaseException):  # noqa: N818 - not an error: the answer went out already
    """The watchdog answered this request (its time or the worker's memory ran out) while the
    work went on; the thread must not answer again. A BaseException, so that the application's
    error handlers let it through to the worker, which drops the connection quietly."""


class Watchdog:
    def __init__(self, memory_limit_mb: int = 0, read_timeout: float = 10.0, body_limit: int = 1_000_000,
                 on_stop: Callable[[], None] | None = None):
        self.memory_limit = memory_limit_mb * 1024 * 1024
        self.read_timeout = read_timeout  # for the worker: reading a whole request
        self.body_limit = body_limit      # for the worker: the largest body it reads
        self.on_stop = on_stop  # counted in the metrics (a work past its time)
        self.lock = threading.Lock()
        self.guards: dict[int, Guard] = {}
        self.closing: list[Callable[[], None]] = []  # what to do before the process ends
        self.ending = False
        if self.memory_limit:
            _limit_data(2 * self.memory_limit)
        threading.Thread(target=self._watch, daemon=True, name="cbmkg-watchdog").start()

    # -- what threads call -----------------------------------------------------------------
    def arm(self, kind: str, seconds: float, client: socket.socket | None, message: str,
            accept: str | None = None) -> Guard:
        guard = Guard(kind, time.monotonic() + seconds, client, message, accept)
        with self.lock:
            self.guards[threading.get_ident()] = guard
        return guard

    def disarm(self) -> bool:
        """Stop watching this thread; False when the watchdog has already answered for it
        (the caller must not answer again)."""
        with self.lock:
            guard = self.guards.pop(threading.get_ident(), None)
        return guard is None or not guard.answered

    def before_ending(self, action: Callable[[], None]) -> None:
        """Something to do (under the watchdog's thread) before the process ends: closing
        kept connections, no longer taking new ones."""
        self.closing.append(action)

    def busy(self) -> int:
        """How many threads are reading or working now."""
        with self.lock:
            return len(self.guards)

    # -- the watching thread ---------------------------------------------------------------
    def _watch(self) -> None:
        while True:
            time.sleep(TICK)
            if self.memory_limit and _resident() > self.memory_limit:
                self._out_of_memory()
            now = time.monotonic()
            with self.lock:
                due = [(ident, g) for ident, g in self.guards.items() if g.deadline <= now and not g.answered]
            for ident, guard in due:
                if guard.kind == "read":
                    self._cut(ident, guard)
                else:
                    self._stop(guard)

    def _cut(self, ident: int, guard: Guard) -> None:
        """A request not read in time: shut the socket, so the reading thread fails now."""
        with self.lock:
            if self.guards.get(ident) is not guard:
                return  # it was read just in time
            guard.answered = True
        log.warning("%s; connection closed (worker %d)", guard.message, os.getpid())
        _shut(guard.client)

    def _stop(self, guard: Guard) -> None:
        """Work past its time: answer its client, let the others finish, end the process."""
        with self.lock:
            if guard.answered or all(g is not guard for g in self.guards.values()):
                return  # done just in time
            guard.answered = True
        if self.on_stop is not None:
            self.on_stop()
        _answer(guard, 503)
        log.warning("%s; worker %d ends", guard.message, os.getpid())
        self._end(wait=True)

    def _out_of_memory(self) -> None:
        megabytes = _resident() // (1024 * 1024)
        with self.lock:
            victims = [g for g in self.guards.values() if not g.answered]
            for g in victims:
                g.answered = True
        for g in victims:
            g.message = (f"the request needed more memory than this server allows a worker "
                         f"({self.memory_limit // (1024 * 1024)} MB, worker_memory_limit)")
            _answer(g, 503)
        log.warning("worker %d ends: %d MB resident, above worker_memory_limit", os.getpid(), megabytes)
        self._end(wait=False)

    def _end(self, wait: bool) -> None:
        """End the process: first the worker's own closing (no new clients, idle kept
        connections closed cleanly), then, unless memory is short, the other requests it is
        answering may finish (each stays under its own deadline)."""
        self.ending = True
        for action in self.closing:
            try:
                action()
            except Exception:  # noqa: BLE001 - ending anyway
                log.exception("while ending the worker")
        while wait:
            with self.lock:
                others = [g for g in self.guards.values() if not g.answered]
            if not others:
                break
            if min(g.deadline for g in others) <= time.monotonic():
                for g in others:  # past its own time too: it gets its 503 here
                    g.answered = True
                    _answer(g, 503) if g.kind == "work" else _shut(g.client)
                break
            time.sleep(TICK)
        os._exit(EXIT_STOPPED)


_installed: Watchdog | None = None


def install(dog: Watchdog) -> Watchdog:
    """Make ``dog`` this process's watchdog (the application does, in each worker)."""
    global _installed
    _installed = dog
    return dog


def installed() -> Watchdog | None:
    """This process's watchdog, if the application installed one (under `cbmkg serve`)."""
    return _installed


def _answer(guard: Guard, status: int) -> None:
    """Write a complete answer on the client's socket and close it for writing."""
    if guard.client is None:
        return
    media, body = envelope(status, guard.message, guard.accept)
    head = (f"HTTP/1.1 {status} Service Unavailable\r\n"
            f"Content-Type: {media}\r\nVary: Accept\r\nRetry-After: 1\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
            "Access-Control-Allow-Origin: *\r\n\r\n").encode()
    try:
        guard.client.settimeout(2)
        guard.client.sendall(head + body)
    except OSError:
        pass  # the client left already
    _shut(guard.client)


def _shut(client: socket.socket | None) -> None:
    if client is None:
        return
    try:
        client.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _resident() -> int:
    """Resident memory of this process, in bytes (/proc: a read of a few bytes)."""
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * PAGE


def _limit_data(limit: int) -> None:
    """The kernel's limit on this process's data (heap and private mappings)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
