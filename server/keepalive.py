"""gunicorn's sync worker with HTTP keep-alive.

The sync worker answers one request per connection: every request of a client costs a new
TCP connection and gunicorn's lingering close, more than Oxigraph needs for a point lookup
(benchmarks/endpoint_load.py). gunicorn keeps connections only in its threaded workers,
which hand each request to a thread; a ``cbmkg serve`` worker must run its request in its
own main thread, one at a time, so that its watchdog can answer a runaway query and end
the process (``workers.py``).

This worker keeps that: one request at a time, in the main thread. Between requests it
waits, with one ``select``, on the listening socket and on every connection it keeps, so
an idle client holds no worker: a new client is accepted, a kept client's next request is
answered, in turn. A connection is closed when its client closes it, after ``keepalive``
idle seconds, when its answer says ``Connection: close`` (HTTP/1.0, errors, a request body
the answer left unread beyond 64 KiB), or when the worker ends (a worker that stops a runaway
query ends with its connections; clients reconnect). Reading a request is bounded by
``keepalive`` too, so a client that stops halfway cannot hold the worker.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import sys
import time
from datetime import datetime
from typing import Any

from gunicorn import http, util
from gunicorn.http import wsgi
from gunicorn.workers.sync import SyncWorker

DRAIN = 65536  # bytes of an unread request body read off to keep its connection


class _Kept:
    """A connection this worker keeps: its socket, its parser (which may hold the start of
    a next request already), and when it is given up if idle."""

    __slots__ = ("sock", "addr", "listener", "parser", "idle_until")

    def __init__(self, sock: socket.socket, addr: Any, listener: socket.socket, cfg: Any):
        self.sock, self.addr, self.listener = sock, addr, listener
        self.parser = http.get_parser(cfg, sock, addr)
        self.idle_until = time.monotonic() + cfg.keepalive

    def buffered(self) -> bool:
        """Whether the parser holds bytes of a next request (pipelined), which ``select``
        cannot see; True when it cannot tell."""
        buffer = getattr(getattr(self.parser, "unreader", None), "buf", None)
        if buffer is None:
            return True
        with buffer.getbuffer() as view:  # released at once: the parser may grow the buffer
            return view.nbytes > 0


class KeepAliveWorker(SyncWorker):
    def run(self) -> None:
        if self.cfg.is_ssl or self.cfg.keepalive <= 0:
            return super().run()  # gunicorn's own: one request per connection
        # epoll (not select: no limit of 1024 descriptors), one for the worker's life
        self.selector = selectors.DefaultSelector()
        for listener in self.sockets:
            listener.setblocking(False)
            self.selector.register(listener, selectors.EVENT_READ)
        self.selector.register(self.PIPE[0], selectors.EVENT_READ)
        self.listening = True
        kept: dict[socket.socket, _Kept] = {}
        try:
            while self.alive:
                self.notify()
                for conn in [c for c in kept.values() if c.buffered()] or self._wait(kept):
                    self._serve(conn, kept)
                    if not self.alive:
                        break
                now = time.monotonic()
                for conn in [c for c in kept.values() if c.idle_until < now]:
                    self._drop(conn, kept, idle=True)
                if not self.is_parent_alive():
                    break
        finally:
            for conn in list(kept.values()):
                self._drop(conn, kept, idle=True)

    def _wait(self, kept: dict[socket.socket, _Kept]) -> list[_Kept]:
        """Accept a new client or find the kept ones with a request, waiting at most until
        the first idle connection is due."""
        # and at most half of gunicorn's timeout, so that the arbiter hears from an idle worker
        until = min([c.idle_until for c in kept.values()] +
                    [time.monotonic() + max(0.5, self.timeout / 2)])
        self._listen(len(kept) < self.cfg.worker_connections)
        ready = {key.fileobj for key, _ in self.selector.select(max(0.0, until - time.monotonic()))}
        if self.PIPE[0] in ready:
            os.read(self.PIPE[0], 1)  # a signal: the loop looks at self.alive
        answer = [kept[s] for s in ready if isinstance(s, socket.socket) and s in kept]
        for listener in self.sockets:
            if listener in ready:
                try:
                    client, addr = listener.accept()
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                        raise
                    continue  # another worker took it
                util.close_on_exec(client)
                kept[client] = _Kept(client, addr, listener, self.cfg)
                self.selector.register(client, selectors.EVENT_READ)
                client.setblocking(True)
                if _has_sent(client):
                    answer.append(kept[client])  # most clients send at once: answer now
                break  # one new client a turn: the other workers take the rest
        return answer

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

    def _serve(self, conn: _Kept, kept: dict[socket.socket, _Kept]) -> None:
        """Answer the connection's next request; drop it unless it is to be kept."""
        req = None
        keep = False
        try:
            conn.sock.settimeout(self.cfg.keepalive)  # a half-sent request cannot hold us
            req = next(conn.parser)
            conn.sock.settimeout(None)
            keep = self._answer(conn.listener, req, conn.sock, conn.addr)
            if keep:
                conn.sock.settimeout(self.cfg.keepalive)
                keep = _drained(req)  # a large body the answer left unread: close
                conn.sock.settimeout(None)
        except (StopIteration, http.errors.NoMoreData, TimeoutError):
            pass  # the client is done, or went quiet
        except OSError as e:
            if e.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
        except BaseException as e:  # noqa: BLE001 - gunicorn's own handler answers 400 or 500
            self.handle_error(req, conn.sock, conn.addr, e)
        if keep:
            conn.idle_until = time.monotonic() + self.cfg.keepalive
        else:
            self._drop(conn, kept, idle=False)

    def _drop(self, conn: _Kept, kept: dict[socket.socket, _Kept], idle: bool) -> None:
        kept.pop(conn.sock, None)
        self.selector.unregister(conn.sock)
        if idle:
            conn.sock.close()  # nothing unread: an idle client would not answer a lingering close
        else:
            util.close_graceful(conn.sock)

    def _answer(self, listener: socket.socket, req: Any, client: socket.socket, addr: Any) -> bool:
        """gunicorn's SyncWorker.handle_request, without its unconditional close; True when
        the connection stays open."""
        environ: dict[str, Any] = {}
        resp = None
        try:
            self.cfg.pre_request(self, req)
            request_start = datetime.now()
            resp, environ = wsgi.create(req, client, addr, listener.getsockname(), self.cfg)
            self.nr += 1
            if self.nr >= self.max_requests:
                self.log.info("Autorestarting worker after current request.")
                self.alive = False
            if not self.alive:
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


def _drained(req: Any) -> bool:
    """Read what is left of the request's body (an answer may not have read it), so that a
    readable socket means a next request; False when more than DRAIN bytes were left."""
    left = DRAIN
    while left > 0:
        data = req.body.read(min(8192, left))
        if not data:
            return True
        left -= len(data)
    return False


def _has_sent(client: socket.socket) -> bool:
    """Whether a just accepted client has sent something yet (without waiting)."""
    try:
        return bool(client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except BlockingIOError:
        return False
    except OSError:
        return True  # let the parser meet the error
