"""gunicorn's sync worker with HTTP keep-alive, whole-request reading and an overflow thread.

Why not gunicorn's own: its sync worker answers one request per connection (every request
costs a new TCP connection and a lingering close), and its threaded worker keeps connections
but hands each request to a thread, which answers point lookups at about 0.77x of this loop
(benchmarks/results/endpoint_load-worker-classes.*; the setting worker_class=gthread runs it).
A `cbmkg serve` worker runs its request in its own main thread, so that the watchdog
(watchdog.py) can answer a runaway query and end the process.

The loop: between requests one ``epoll`` waits on the listening socket and on every
connection the worker keeps, so an idle client holds no worker. A request is answered only
once it has come whole (its head, and a body of up to 64 KiB, seen in the kernel's buffer
without taking it): until then its connection waits out of the loop's way, and is closed
when the request takes longer than ``read_timeout`` to come, so clients that send a byte a
second hold nothing. A request is then read whole — head and body, at most
``MAX_CONTENT_LENGTH`` bytes, chunked or not (413 beyond) — under the same deadline, kept by
the watchdog; the application gets the body from memory. Request lines beyond gunicorn's limit
get 414 with a word on POST.

While the main thread has been held up by one request for ``PATIENCE`` seconds (a heavy or
runaway query), an overflow thread answers the worker's other kept connections that have a
request waiting, one at a time, so a kept connection is not tied to a busy worker. When the
watchdog ends the process (a query past its time, too much memory), the worker takes no new
client and closes its idle connections cleanly first.

A connection is closed when its client closes it, after ``keepalive`` idle seconds, when its
answer says ``Connection: close`` (HTTP/1.0, errors), or when the worker ends. gunicorn
internals this uses are checked by tests/test_keepalive.py; pyproject.toml pins gunicorn.
"""

from __future__ import annotations

import errno
import io
import os
import re
import selectors
import socket
import sys
import threading
import time
from datetime import datetime
from typing import Any

from gunicorn import http, util
from gunicorn.http import errors as http_errors
from gunicorn.http import wsgi
from gunicorn.workers.sync import SyncWorker

from .errors import envelope
from .watchdog import TICK, AlreadyAnswered, Watchdog, installed

PEEK = 65536  # bytes of a waiting request looked at before it is read
_CONTENT_LENGTH = re.compile(rb"\ncontent-length:\s*(\d{1,12})")
PATIENCE = 1.0  # seconds the main thread may hold a request before the overflow thread helps
WRITE_TIMEOUT = 60.0  # seconds one write of an answer may take (a client that does not read)
CLIENT_ERRORS = (http_errors.InvalidRequestLine, http_errors.InvalidRequestMethod,
                 http_errors.InvalidHTTPVersion, http_errors.InvalidHeader, http_errors.InvalidHeaderName,
                 http_errors.LimitRequestHeaders, http_errors.InvalidChunkSize,
                 http_errors.ChunkMissingTerminator, http_errors.UnsupportedTransferCoding,
                 http_errors.ObsoleteFolding)


class _TooLarge(Exception):
    pass


class _Kept:
    """A connection this worker keeps: its socket, its parser (which may hold the start of
    a next request already), and when it is given up if idle."""

    __slots__ = ("sock", "addr", "listener", "parser", "idle_until", "first_bytes")

    def __init__(self, sock: socket.socket, addr: Any, listener: socket.socket, cfg: Any):
        self.sock, self.addr, self.listener = sock, addr, listener
        self.parser = http.get_parser(cfg, sock, addr)
        self.idle_until = time.monotonic() + cfg.keepalive
        self.first_bytes: float | None = None  # when the part of a request waiting began to come

    def buffered(self) -> bool:
        """Whether the parser holds bytes of a next request (pipelined), which ``select``
        cannot see; True when it cannot tell."""
        buffer = getattr(getattr(self.parser, "unreader", None), "buf", None)
        if buffer is None:
            return True
        with buffer.getbuffer() as view:  # released at once: the parser may grow the buffer
            return view.nbytes > 0

    def complete(self) -> bool | None:
        """Whether a whole request can be read without waiting on the client: its head and a
        body of at most PEEK bytes are in (True); a part is in (False); nothing (None). What
        the kernel holds is looked at, not taken, so a client that sends a byte a second
        never holds a thread; a request too long to look at is left to the reader."""
        if self.buffered():
            return True  # pipelined: the parser holds it (the read guard bounds the rest)
        try:
            data = self.sock.recv(PEEK, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return None
        except OSError:
            return True  # let the reader meet the error
        if not data:
            return True  # the client closed: the reader sees the end
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return len(data) >= PEEK  # too long a head: the parser refuses it
        head = data[:end].lower()
        if b"\ntransfer-encoding:" in head:
            return True  # chunked: read under the read guard
        length = _CONTENT_LENGTH.search(head)
        need = end + 4 + (int(length[1]) if length else 0)
        return len(data) >= need or need > PEEK

    def waiting(self) -> bool:
        """Whether a request (or its first bytes) is waiting on the connection."""
        if self.buffered():
            return True
        try:
            return bool(self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except BlockingIOError:
            return False
        except OSError:
            return True  # let the parser meet the error


class KeepAliveWorker(SyncWorker):
    def run(self) -> None:
        if self.cfg.is_ssl:
            return super().run()  # gunicorn's own: one request per connection
        self.dog: Watchdog | None = installed()
        # epoll (not select: no limit of 1024 descriptors), one for the worker's life
        self.selector = selectors.DefaultSelector()
        for listener in self.sockets:
            listener.setblocking(False)
            self.selector.register(listener, selectors.EVENT_READ)
        self.selector.register(self.PIPE[0], selectors.EVENT_READ)
        self.listening = True
        self.kept: dict[socket.socket, _Kept] = {}
        self.serving: set[socket.socket] = set()  # connections a thread is answering now
        self.lock = threading.Lock()  # guards kept, serving and the selector's registrations
        self.main_busy_since: float | None = None
        self.partial: dict[socket.socket, _Kept] = {}  # requests still coming, out of the selector
        if self.dog is not None:
            self.dog.before_ending(self._close_for_ending)
            threading.Thread(target=self._overflow, daemon=True, name="cbmkg-overflow").start()
        try:
            while self.alive:
                self.notify()
                with self.lock:
                    buffered = [c for c in self.kept.values() if c.sock not in self.serving and c.buffered()]
                for conn in buffered or self._ready(self._wait()):
                    if self._claim(conn):
                        self.main_busy_since = time.monotonic()
                        try:
                            self._serve(conn)
                        finally:
                            self.main_busy_since = None
                    if not self.alive:
                        break
                now = time.monotonic()
                with self.lock:
                    expired = [c for c in self.kept.values()
                               if c.idle_until < now and c.sock not in self.serving and c.sock not in self.partial]
                for conn in expired:
                    self._drop(conn, idle=True)
                if not self.is_parent_alive():
                    break
        finally:
            with self.lock:
                left = [c for c in self.kept.values() if c.sock not in self.serving]
            for conn in left:
                self._drop(conn, idle=True)

    # -- waiting -----------------------------------------------------------------------------
    def _wait(self) -> list[_Kept]:
        """Accept a new client or find the kept ones with a request, waiting at most until
        the first idle connection is due."""
        # and at most half of gunicorn's timeout, so that the arbiter hears from an idle worker
        with self.lock:
            until = min([c.idle_until for c in self.kept.values() if c.sock not in self.partial] +
                        [time.monotonic() + max(0.5, self.timeout / 2)] +
                        [time.monotonic() + TICK for _ in self.partial][:1])
            self._listen(len(self.kept) < self.cfg.worker_connections)
        ready = {key.fileobj for key, _ in self.selector.select(max(0.0, until - time.monotonic()))}
        if self.PIPE[0] in ready:
            os.read(self.PIPE[0], 1)  # a signal: the loop looks at self.alive
        with self.lock:
            answer = [self.kept[s] for s in ready if isinstance(s, socket.socket) and s in self.kept]
        for listener in self.sockets:
            if listener in ready and not (self.dog is not None and self.dog.ending):
                try:
                    client, addr = listener.accept()
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                        raise
                    continue  # another worker took it
                util.close_on_exec(client)
                conn = _Kept(client, addr, listener, self.cfg)
                client.setblocking(True)
                with self.lock:
                    self.kept[client] = conn
                    self.selector.register(client, selectors.EVENT_READ)
                if conn.waiting():
                    answer.append(conn)  # most clients send at once: look at it now
                break  # one new client a turn: the other workers take the rest
        return answer

    def _ready(self, candidates: list[_Kept]) -> list[_Kept]:
        """Of the connections with bytes waiting (and those still receiving a request), the
        ones whose request has come whole; the others wait out of the selector (its level-
        triggered wake-ups would spin), looked at again each tick, and are dropped when their
        request takes longer than read_timeout to come."""
        now = time.monotonic()
        limit = self.dog.read_timeout if self.dog is not None else 10.0
        with self.lock:
            candidates = candidates + [c for c in self.partial.values() if c not in candidates]
        ready = []
        for conn in candidates:
            state = conn.complete()
            if state is None and conn.sock not in self.partial:
                continue  # nothing after all
            if state:
                conn.first_bytes = None
                with self.lock:
                    if self.partial.pop(conn.sock, None) is not None:
                        self.selector.register(conn.sock, selectors.EVENT_READ)
                ready.append(conn)
                continue
            if conn.first_bytes is None:
                conn.first_bytes = now
            if now - conn.first_bytes > limit:
                self.log.warning("request from %s not sent within %g s (read_timeout): closed",
                                 conn.addr[0] if conn.addr else "?", limit)
                with self.lock:
                    self.partial.pop(conn.sock, None)
                    self.kept.pop(conn.sock, None)
                conn.sock.close()
                continue
            with self.lock:
                if conn.sock not in self.partial:
                    self.partial[conn.sock] = conn
                    try:
                        self.selector.unregister(conn.sock)
                    except (KeyError, ValueError):
                        pass
        return ready

    def _listen(self, room: bool) -> None:
        """Wait on the listening sockets only while this worker may take another client
        (``worker_connections``): a full worker must not wake for every new client."""
        if room != self.listening:
            for listener in self.sockets:
                if room:
                    self.selector.register(listener, selectors.EVENT_READ)
                else:
                    self.selector.unregister(listener)
            self.listening = room

    def _claim(self, conn: _Kept) -> bool:
        """Take a connection for answering (False: another thread is answering it)."""
        with self.lock:
            if conn.sock in self.serving or conn.sock not in self.kept:
                return False
            self.serving.add(conn.sock)
            return True

    # -- the overflow thread -------------------------------------------------------------------
    def _overflow(self) -> None:
        """While the main thread is held up by one request, answer the other kept
        connections that have a request waiting, one at a time."""
        while self.alive:
            time.sleep(TICK)
            since = self.main_busy_since
            if since is None or time.monotonic() - since < PATIENCE or (self.dog and self.dog.ending):
                continue
            with self.lock:
                candidates = [c for c in self.kept.values() if c.sock not in self.serving]
            for conn in candidates:
                if conn.sock not in self.partial and conn.complete() and self._claim(conn):
                    self.notify()  # the arbiter hears from the worker while the main thread is held
                    self._serve(conn)
                    break

    def _close_for_ending(self) -> None:
        """The process is about to end (watchdog): take no new client, and close the idle
        kept connections cleanly, so their clients reconnect to another worker."""
        with self.lock:
            idle = [c for c in self.kept.values() if c.sock not in self.serving]
            for conn in idle:
                self.serving.add(conn.sock)  # no thread takes them any more
        for conn in idle:
            try:
                conn.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    # -- answering -------------------------------------------------------------------------
    def _serve(self, conn: _Kept) -> None:
        """Answer the connection's next request; keep the connection or drop it."""
        req = None
        keep = False
        dog = self.dog
        read_timeout = dog.read_timeout if dog else float(self.cfg.keepalive or 30)
        try:
            if dog is not None:
                dog.arm("read", read_timeout, conn.sock,
                        f"request from {conn.addr[0] if conn.addr else '?'} not read within "
                        f"{read_timeout:g} s (read_timeout)")
            try:
                conn.sock.settimeout(read_timeout)
                req = next(conn.parser)
                body = _whole_body(req, dog.body_limit if dog else 1_000_000)
            finally:
                intact = dog.disarm() if dog is not None else True
            if not intact:
                raise StopIteration  # cut off by the watchdog: the socket is shut
            conn.sock.settimeout(WRITE_TIMEOUT)
            keep = self._answer(conn.listener, req, conn.sock, conn.addr, body)
            conn.sock.settimeout(None)
        except _TooLarge as e:
            self._refuse(conn.sock, 413, str(e), req)
        except AlreadyAnswered:
            pass  # the watchdog answered, and ends the process
        except (StopIteration, http_errors.NoMoreData, TimeoutError):
            pass  # the client is done, or went quiet
        except OSError as e:
            if e.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.EBADF):
                self.log.exception("Socket error processing request.")
        except BaseException as e:  # noqa: BLE001 - answered 400, 414 or 500 below
            self.handle_error(req, conn.sock, conn.addr, e)
        with self.lock:
            self.serving.discard(conn.sock)
            if keep and self.alive:
                conn.idle_until = time.monotonic() + self.cfg.keepalive
                return
        self._drop(conn, idle=False)

    def _drop(self, conn: _Kept, idle: bool) -> None:
        with self.lock:
            self.partial.pop(conn.sock, None)
            if self.kept.pop(conn.sock, None) is None:
                return
            try:
                self.selector.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
        if idle:
            conn.sock.close()  # nothing unread: an idle client would not answer a lingering close
        else:
            util.close_graceful(conn.sock)

    def _answer(self, listener: socket.socket, req: Any, client: socket.socket, addr: Any,
                body: bytes) -> bool:
        """gunicorn's SyncWorker.handle_request, without its unconditional close and with the
        body given from memory; True when the connection stays open."""
        environ: dict[str, Any] = {}
        resp = None
        try:
            self.cfg.pre_request(self, req)
            request_start = datetime.now()
            resp, environ = wsgi.create(req, client, addr, listener.getsockname(), self.cfg)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)  # read and de-chunked already
            self.nr += 1
            if self.nr >= self.max_requests:
                self.log.info("Autorestarting worker after current request.")
                self.alive = False
            if not self.alive or self.cfg.keepalive <= 0:
                resp.force_close()
            respiter = self.wsgi(environ, resp.start_response)
            try:
                if isinstance(respiter, environ["wsgi.file_wrapper"]):
                    resp.write_file(respiter)
                else:
                    for item in respiter:
                        resp.write(item)
                resp.close()
            finally:
                self.log.access(resp, req, environ, datetime.now() - request_start)
                if hasattr(respiter, "close"):
                    respiter.close()
            return not resp.should_close()
        except OSError:
            util.reraise(*sys.exc_info())
        except (Exception, SystemExit):
            if resp and resp.headers_sent:
                self.log.exception("Error handling request")
                raise StopIteration() from None  # the answer is half sent: close
            raise
        finally:
            try:
                self.cfg.post_request(self, req, environ, resp)
            except Exception:
                self.log.exception("Exception in post_request hook")
        return False

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        """A request gunicorn cannot read: the envelope of server/errors.py, with 414 saying
        what to do about a long query; anything else as gunicorn answers it."""
        if isinstance(exc, http_errors.LimitRequestLine):
            self._refuse(client, 414, f"the request line is longer than {self.cfg.limit_request_line} "
                                      "bytes: send a long query by POST (as application/sparql-query "
                                      "or a form), not in the URL", req)
        elif isinstance(exc, CLIENT_ERRORS):
            self._refuse(client, 400, f"the request cannot be read: {exc}", req)
        else:
            super().handle_error(req, client, addr, exc)

    def _refuse(self, client: socket.socket, status: int, message: str, req: Any) -> None:
        accept = next((v for k, v in getattr(req, "headers", ()) if k == "ACCEPT"), None)
        media, body = envelope(status, message, accept)
        reason = {400: "Bad Request", 413: "Content Too Large", 414: "URI Too Long"}.get(status, "Error")
        head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {media}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\nAccess-Control-Allow-Origin: *\r\n\r\n").encode()
        try:
            client.settimeout(2)
            client.sendall(head + body)
        except OSError:
            pass


def _whole_body(req: Any, limit: int) -> bytes:
    """The request's body, de-chunked, at most ``limit`` bytes (_TooLarge beyond)."""
    if req.body is None:
        return b""
    chunks: list[bytes] = []
    size = 0
    while True:
        data = req.body.read(min(65536, limit + 1 - size))
        if not data:
            return b"".join(chunks)
        size += len(data)
        if size > limit:
            raise _TooLarge(f"the request body is larger than {limit} bytes")
        chunks.append(data)
