"""Helpers the tests share: real servers on 127.0.0.1 (`oxigraph serve`, `cbmkg serve`), free
ports, waiting for a server, and raw HTTP on a socket (keep-alive, pipelining).

Fixtures live in conftest.py; this module holds plain functions and classes that tests import.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

from cbmkg.config import ROOT

SHARED = ROOT.parent / "shared"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            requests.get(url, timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            # not listening yet, or listening (the kernel takes the connection) while its
            # workers still start: slow on a fresh clone, which compiles every module first
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def stop_process(process: subprocess.Popen[bytes], seconds: float = 15) -> None:
    """Ask a server to stop (SIGTERM: it may finish what it does), kill it if it will not."""
    process.terminate()
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Wait until ``condition()`` holds (polled every 50 ms), at most ``seconds``: an upper
    bound for an event, generous enough for a loaded machine, not a duration to measure."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(0.05)


def process_gone(pid: int) -> bool:
    """Whether a process has ended and been reaped (a zombie still has /proc/PID)."""
    return not Path(f"/proc/{pid}").exists()


def server_connections(port: int) -> int:
    """Connections a server on 127.0.0.1:``port`` holds open (established, or closed by the
    client but not yet by the server), read from the kernel's table."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] in ("01", "08"):  # ESTABLISHED, CLOSE_WAIT
                count += 1
    return count


def raw_request(port: int, path: str, body: bytes = b"", method: str = "GET") -> bytes:
    """The bytes of one HTTP/1.1 request, for tests that drive a socket themselves
    (keep-alive, pipelining)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body:
        head += f"Content-Length: {len(body)}\r\nContent-Type: text/turtle\r\n"
    return (head + "\r\n").encode() + body


class Connection:
    """A client connection driven by hand: requests written as raw bytes, answers read with
    http.client's parser from **one** buffered reader for the connection's life, so that
    pipelined answers that arrive together are read one after the other, none dropped."""

    def __init__(self, port: int, timeout: float = 10):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self._reader = self.sock.makefile("rb")

    def send(self, *requests_: bytes) -> None:
        self.sock.sendall(b"".join(requests_))

    def request(self, path: str, body: bytes = b"", method: str = "GET") -> bytes:
        return raw_request(self.port, path, body, method)

    def makefile(self, mode: str, *args: object, **kwargs: object) -> object:
        """What http.client.HTTPResponse asks its socket for: the one reader, shared (the
        response closes what it gets when its body is read: a view that does not close it)."""
        return _Shared(self._reader)

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        """The next answer on the connection: status, headers (lower-case names), body."""
        response = http.client.HTTPResponse(self)  # type: ignore[arg-type]  # duck-typed socket: makefile only
        response.begin()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def closed_by_server(self) -> bool:
        """Wait for the server to close the connection (True), or for 10 s (False)."""
        try:
            return self._reader.read(1) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self._reader.close()
        self.sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Shared:
    """A buffered reader lent to one HTTPResponse: reads go to it, closing does not."""

    def __init__(self, reader: object):
        self._reader = reader

    def __getattr__(self, name: str) -> object:
        return getattr(self._reader, name)

    def close(self) -> None:
        pass


class OxigraphServer:
    """A real `oxigraph serve` process on 127.0.0.1 (the PyPI `oxigraph` package)."""

    def __init__(self, location: Path, union: bool = False):
        binary = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{self.port}",
             *(["--union-default-graph"] if union else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until_up(self.base + "/query", self.process)

    @property
    def query_url(self) -> str:
        return self.base + "/query"

    @property
    def update_url(self) -> str:
        return self.base + "/update"

    @property
    def gsp_url(self) -> str:
        return self.base + "/store"

    def clear(self) -> None:
        requests.post(self.update_url, data="CLEAR ALL",
                      headers={"Content-Type": "application/sparql-update"}, timeout=10)

    def stop(self) -> None:
        stop_process(self.process)


class CbmkgServer:
    """`cbmkg serve` itself (gunicorn, worker processes) on 127.0.0.1, configured by
    CBMKG_* variables; its stderr (query log, errors) is kept in a file."""

    def __init__(self, settings: dict[str, str], log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.settings = settings
        env = {**os.environ, **{f"CBMKG_{k.upper()}": v for k, v in settings.items()}}
        with log.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cbmkg.cli", "serve", "--port", str(self.port)],
                env=env, stdout=subprocess.DEVNULL, stderr=err)
        wait_until_up(self.base + "/healthz", self.process, seconds=60)

    def stop(self) -> None:
        stop_process(self.process)




class DroppingProxy:
    """An HTTP/1.1 forwarder on 127.0.0.1 in front of a server that loses connections on
    purpose: the ``drop``-th request whose body contains ``marker`` is forwarded and
    answered by the server, then the client's connection is closed without the answer (the
    worst case for a client: it cannot know whether the request was applied)."""

    def __init__(self, upstream_port: int, marker: bytes, drop: int):
        self.upstream = upstream_port
        self.marker = marker
        self.drop = drop
        self.seen = 0
        self.dropped = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(client,), daemon=True).start()

    def _connection(self, client: socket.socket) -> None:
        reader = client.makefile("rb")
        try:
            while True:
                request_line = reader.readline()
                if not request_line:
                    return
                method, path, _ = request_line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (line := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip()] = value.strip()
                body = reader.read(int(headers.get("Content-Length", "0")))
                upstream = http.client.HTTPConnection("127.0.0.1", self.upstream, timeout=30)
                upstream.request(method, path, body, {k: v for k, v in headers.items()
                                                      if k.lower() not in ("host", "connection")})
                answer = upstream.getresponse()
                data = answer.read()
                upstream.close()
                if self.marker in body:
                    self.seen += 1
                    if self.seen == self.drop:
                        self.dropped += 1
                        return  # applied upstream, and the client never hears of it
                head = f"HTTP/1.1 {answer.status} {answer.reason}\r\n"
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "content-length", "connection"):
                        head += f"{name}: {value}\r\n"
                head += f"Content-Length: {len(data)}\r\n\r\n"
                client.sendall(head.encode() + data)
        except OSError:
            return
        finally:
            reader.close()
            client.close()

    def close(self) -> None:
        self.listener.close()


VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")


class VirtuosoServer:
    """A real Virtuoso (Debian's `virtuoso-opensource`, 7.2) on 127.0.0.1, its database in
    ``location``, SPARQL Update granted to its anonymous SPARQL user."""

    def __init__(self, location: Path):
        binary = shutil.which("virtuoso-t")
        if binary is None or not VIRTUOSO_INI.exists():
            raise FileNotFoundError("Virtuoso is not installed (Debian package virtuoso-opensource; "
                                    "`make test` installs it where apt-get can)")
        self.port, self.sql_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        ini = VIRTUOSO_INI.read_text()
        ini = ini.replace("/var/lib/virtuoso-opensource-7/db/", f"{location}/")
        ini = re.sub(r"(?m)^ServerPort\s*=\s*1111\b", f"ServerPort = {self.sql_port}", ini)
        ini = re.sub(r"(?m)^ServerPort\s*=\s*8890\b", f"ServerPort = {self.port}", ini)
        ini = re.sub(r"(?m)^DirsAllowed\s*=.*$", f"DirsAllowed = ., {location}", ini)
        # answers longer than 10,000 rows (a list of 10,000 graphs) are cut by default: the
        # setting the README tells Virtuoso's users to raise
        ini = re.sub(r"(?m)^ResultSetMaxRows\s*=.*$", "ResultSetMaxRows = 1000000", ini)
        (location / "virtuoso.ini").write_text(ini)
        self.process = subprocess.Popen([binary, "-f", "-c", str(location / "virtuoso.ini")],
                                        cwd=location, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_up(self.query_url + "?query=ASK%7B%7D", self.process, seconds=60)
        subprocess.run(["isql-vt", str(self.sql_port), "dba", "dba",
                        'exec=GRANT SPARQL_UPDATE TO "SPARQL";'],
                       check=True, capture_output=True, timeout=30)

    @property
    def query_url(self) -> str:
        return self.base + "/sparql"

    @property
    def update_url(self) -> str:
        return self.base + "/sparql"

    def clear(self) -> None:
        """Drop the graphs the tests write (Virtuoso's own system graphs stay)."""
        graphs = requests.post(self.query_url, data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
                               headers={"Accept": "application/sparql-results+json"}, timeout=60).json()
        ours = [b["g"]["value"] for b in graphs["results"]["bindings"]
                if b["g"]["value"].startswith(("https://w3id.org/cbmkg/", "urn:cbmkg:"))]
        for start in range(0, len(ours), 200):
            drops = ";\n".join(f"DROP SILENT GRAPH <{g}>" for g in ours[start:start + 200])
            requests.post(self.update_url, data=drops, headers={"Content-Type": "application/sparql-update"},
                          timeout=60)

    def stop(self) -> None:
        stop_process(self.process)
