"""The keep-alive worker (server/keepalive.py) under plain gunicorn with a two-line WSGI
app: at its connection limit (a worker that keeps ``worker_connections`` clients stops
waiting on the listening socket, for it must not wake, and spin, for every client it
cannot take, and takes the next client when one of its own leaves) and while quiet (it
keeps telling gunicorn's arbiter it lives). The rest of its behaviour is tested through
``cbmkg serve`` in test_server.py."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import Connection, free_port, server_connections, stop_process, wait_for, wait_until_up

APP = '''
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
'''


@contextmanager
def _gunicorn(folder: Path, *options: str) -> Iterator[tuple[int, int]]:
    """gunicorn with one KeepAliveWorker serving APP on 127.0.0.1: (port, worker pid)."""
    (folder / "hello.py").write_text(APP)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--chdir", str(folder), "-b", f"127.0.0.1:{port}",
         "-w", "1", "-k", "server.keepalive.KeepAliveWorker", "--keep-alive", "30", *options,
         "hello:app"],
        cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", server)
        yield port, _worker_of(server)
    finally:
        stop_process(server)


def _worker_of(server: subprocess.Popen[bytes]) -> int:
    return int(subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True,
                              check=True).stdout.split()[0])


def _get(conn: Connection) -> bytes:
    """The app's answer on a kept connection (b"" when the server closed it)."""
    conn.send(conn.request("/"))
    try:
        status, _, body = conn.answer()
    except ConnectionError:
        return b""
    return body if status == 200 else b""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def test_a_full_worker_stops_listening_and_takes_the_next_client_later(tmp_path: Path) -> None:
    with _gunicorn(tmp_path, "--worker-connections", "2") as (port, worker):
        wait_for(lambda: server_connections(port) == 0, 30, "the probe's connection is gone")
        first, second = Connection(port), Connection(port)
        assert _get(first) == b"ok" and _get(second) == b"ok"  # both kept
        third = Connection(port)  # queued by the kernel
        third.send(third.request("/"))
        before = _cpu_seconds(worker)
        time.sleep(1.5)  # a worker spinning on its listener burns most of this (2/3 of it with
        # both cores busy elsewhere); a waiting one, next to nothing
        assert _cpu_seconds(worker) - before < 0.3, "a full worker must not spin on its listener"
        third.sock.settimeout(0.2)
        try:
            assert third.sock.recv(1, socket.MSG_PEEK) == b"", "not answered while the worker is full"
        except TimeoutError:
            pass
        third.sock.settimeout(10)
        first.close()  # room again: the queued client is taken and answered
        assert third.answer()[::2] == (200, b"ok")
        assert _get(second) == b"ok"
        second.close()
        third.close()


def test_an_idle_worker_with_a_kept_connection_outlives_gunicorns_timeout(tmp_path: Path) -> None:
    """Without word from its worker for --timeout seconds, the arbiter kills it: the loop
    must give word while it waits, with and without kept connections."""
    with _gunicorn(tmp_path, "--timeout", "2") as (port, worker):
        with Connection(port) as kept:
            assert _get(kept) == b"ok"
            time.sleep(5)  # quiet, with one connection kept
            assert _get(kept) == b"ok", "the kept connection still works"
        time.sleep(5)  # quiet, with none
        assert Path(f"/proc/{worker}").exists(), "the same worker"


def test_the_gunicorn_internals_the_worker_leans_on_are_there() -> None:
    """server/keepalive.py copies part of gunicorn's SyncWorker and uses internals that are no
    public API (pyproject.toml pins the gunicorn releases it was tested with). A gunicorn that
    moves one of them fails here, naming it, before a worker fails in production."""
    import inspect
    import io

    from gunicorn import http, util
    from gunicorn.http import unreader, wsgi
    from gunicorn.workers.base import Worker
    from gunicorn.workers.sync import SyncWorker

    def takes(function: object, *names: str) -> bool:
        try:
            parameters = list(inspect.signature(function).parameters)  # type: ignore[arg-type]  # any callable
        except (TypeError, ValueError):
            return False
        return parameters[:len(names)] == list(names)

    missing = [name for name, ok in {
        "http.get_parser(cfg, source, source_addr)": takes(http.get_parser, "cfg", "source", "source_addr"),
        "util.close_graceful(sock)": takes(util.close_graceful, "sock"),
        "util.close_on_exec(fd)": takes(util.close_on_exec, "fd"),
        "util.reraise": callable(getattr(util, "reraise", None)),
        "wsgi.create(req, sock, client, server, cfg)": takes(wsgi.create, "req", "sock", "client", "server", "cfg"),
        "wsgi.Response.force_close/should_close/close/write/write_file": all(
            callable(getattr(wsgi.Response, m, None))
            for m in ("force_close", "should_close", "close", "write", "write_file")),
        "Unreader().buf is a BytesIO": isinstance(getattr(unreader.Unreader(), "buf", None), io.BytesIO),
        "Worker.handle_error(req, client, addr, exc)":
            takes(Worker.handle_error, "self", "req", "client", "addr", "exc"),
        "Worker.init_process makes self.PIPE": "self.PIPE = os.pipe()" in inspect.getsource(Worker.init_process),
        "Worker.notify / is_parent_alive via SyncWorker": all(
            callable(getattr(SyncWorker, m, None)) for m in ("notify", "is_parent_alive", "run")),
        "http.errors.NoMoreData": hasattr(http.errors, "NoMoreData"),
    }.items() if not ok]
    assert not missing, f"gunicorn changed what server/keepalive.py relies on: {missing}"
