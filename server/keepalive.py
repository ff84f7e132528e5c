"""gunicorn's sync worker with HTTP keep-alive.

The sync worker answers one request per connection: every request of a client costs a new
TCP connection and gunicorn's lingering close, more than Oxigraph needs for a point lookup
(benchmarks/endpoint_load.py: +35 % requests/s with connections kept). gunicorn keeps
connections only in its threaded workers, which hand each request to a thread; a
``cbmkg serve`` worker must run its request in its own main thread, one at a time, so that
its watchdog can answer a runaway query and end the process (``workers.py``).

This worker keeps the sync model (one connection, one request at a time per process) and
keeps a connection open between requests, but never at another client's expense:

- an answer says ``Connection: close`` whenever another client waits to be accepted
  (checked before each answer), so under more clients than workers it behaves like the
  plain sync worker;
- between requests it waits for the kept client, a new client, or a signal, at most
  ``keepalive`` seconds; a new client or a signal closes the idle connection (a client may
  always find an idle connection closed: HTTP clients reconnect);
- reading the next request (and what is left of the last one's body) has the same
  ``keepalive`` limit, so a client that stops halfway cannot hold the worker.
"""

from __future__ import annotations

import errno
import select
import socket
import sys
from datetime import datetime
from typing import Any

from gunicorn import http, util
from gunicorn.http import wsgi
from gunicorn.workers.sync import SyncWorker


class KeepAliveWorker(SyncWorker):
    def handle(self, listener: socket.socket, client: socket.socket, addr: Any) -> None:
        if self.cfg.is_ssl or self.cfg.keepalive <= 0:
            return super().handle(listener, client, addr)  # gunicorn's own, one request
        req = None
        idle = False  # closing a connection with nothing unread: no lingering needed
        try:
            parser = http.get_parser(self.cfg, client, addr)
            while True:
                client.settimeout(self.cfg.keepalive)  # a half-sent request cannot hold us
                req = next(parser)
                client.settimeout(None)
                if not self._answer(listener, req, client, addr):
                    break
                client.settimeout(self.cfg.keepalive)
                if not _drained(req):
                    break  # a large body the answer did not read: close (lingering)
                client.settimeout(None)
                if not self._next_comes(listener, client, parser):
                    idle = True
                    break
        except (StopIteration, http.errors.NoMoreData, TimeoutError):
            pass  # the client is done, or went quiet
        except OSError as e:
            if e.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
        except BaseException as e:  # noqa: BLE001 - gunicorn's own handler answers 500 or 400
            self.handle_error(req, client, addr, e)
        finally:
            if idle:
                client.close()  # an idle client would not answer a lingering close for seconds
            else:
                util.close_graceful(client)

    def _next_comes(self, listener: socket.socket, client: socket.socket, parser: Any) -> bool:
        """Wait for the kept client's next request; False when the connection should close."""
        unreader = getattr(parser, "unreader", None)
        buffered = getattr(unreader, "buf", None)
        if buffered is None or buffered.getbuffer().nbytes:
            return True  # a pipelined request is read already (or we cannot tell)
        self.notify()  # waiting between requests is not a stuck worker
        try:
            ready, _, _ = select.select([client, listener, self.PIPE[0]], [], [], self.cfg.keepalive)
        except OSError:
            return False
        # a request that came is answered (with "Connection: close" when another client
        # waits); an idle connection gives way to a new client or a signal
        return self.alive and client in ready

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
            if not self.alive or select.select([listener], [], [], 0)[0]:
                resp.force_close()  # ending, or another client waits for a worker
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


DRAIN = 65536  # bytes of an unread request body read off to keep its connection


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
