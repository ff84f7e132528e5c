"""The keep-alive worker (server/keepalive.py) at its connection limit, under gunicorn with
a two-line WSGI app: a worker that keeps ``worker_connections`` clients stops waiting on
the listening socket (it must not wake, and spin, for every client it cannot take) and
takes the next client when one of its own leaves. The rest of its behaviour is tested
through ``cbmkg serve`` in test_server.py."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import free_port, wait_until_up

APP = '''
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
'''


def _get(sock: socket.socket) -> bytes:
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    return _read(sock)


def _read(sock: socket.socket) -> bytes:
    """One answer of the app (headers and body may come in two pieces)."""
    sock.settimeout(5)
    answer = b""
    while not answer.endswith(b"ok"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return answer


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def test_a_full_worker_stops_listening_and_takes_the_next_client_later(tmp_path: Path) -> None:
    (tmp_path / "hello.py").write_text(APP)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--chdir", str(tmp_path), "-b", f"127.0.0.1:{port}",
         "-w", "1", "-k", "server.keepalive.KeepAliveWorker", "--worker-connections", "2",
         "--keep-alive", "30", "hello:app"],
        cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", server)
        time.sleep(0.5)  # the probe's connection is gone
        worker = int(subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True,
                                    text=True, check=True).stdout.split()[0])
        first, second = (socket.create_connection(("127.0.0.1", port)) for _ in range(2))
        assert _get(first).endswith(b"ok") and _get(second).endswith(b"ok")  # both kept
        third = socket.create_connection(("127.0.0.1", port))  # queued by the kernel
        third.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        before = _cpu_seconds(worker)
        time.sleep(1.5)
        assert _cpu_seconds(worker) - before < 0.3, "a full worker must not spin on its listener"
        third.settimeout(0.2)
        try:
            assert third.recv(1) == b"", "not answered while the worker is full"
        except TimeoutError:
            pass
        first.close()  # room again: the queued client is taken and answered
        answer = _read(third)
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"ok")
        assert _get(second).endswith(b"ok")
        second.close()
        third.close()
    finally:
        server.terminate()
        server.wait(15)


def test_an_idle_worker_with_a_kept_connection_outlives_gunicorns_timeout(tmp_path: Path) -> None:
    """The loop tells gunicorn's arbiter it lives while it waits (else the arbiter would
    kill it after --timeout seconds of quiet), with and without kept connections."""
    (tmp_path / "hello.py").write_text(APP)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--chdir", str(tmp_path), "-b", f"127.0.0.1:{port}",
         "-w", "1", "-k", "server.keepalive.KeepAliveWorker", "--timeout", "2",
         "--keep-alive", "30", "hello:app"],
        cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", server)
        worker = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True,
                                check=True).stdout.split()
        with socket.create_connection(("127.0.0.1", port)) as kept:
            assert _get(kept).endswith(b"ok")
            time.sleep(5)  # quiet, with one connection kept
            assert _get(kept).endswith(b"ok"), "the kept connection still works"
        time.sleep(5)  # quiet, with none
        assert subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True,
                              check=True).stdout.split() == worker, "the same worker"
    finally:
        server.terminate()
        server.wait(15)
