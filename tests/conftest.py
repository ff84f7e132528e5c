"""Fixtures: real stores (in memory, on disk, and a real `oxigraph serve` process), the
CLI runner, and a guard that keeps every test off the network except 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cbmkg.config import ROOT
from cbmkg.store import EmbeddedStore, GraphStore, RemoteStore

SHARED = ROOT.parent / "shared"

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a host other than loopback fails the test that makes it."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if isinstance(address, tuple) and str(address[0]) not in _LOOPBACK:
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


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


def raw_request(port: int, path: str, body: bytes = b"", method: str = "GET") -> bytes:
    """The bytes of one HTTP/1.1 request, for tests that drive a socket themselves
    (keep-alive, pipelining)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body:
        head += f"Content-Length: {len(body)}\r\nContent-Type: text/turtle\r\n"
    return (head + "\r\n").encode() + body


def read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP answer read off a socket (http.client's parser), the socket left open."""
    import http.client

    sock.settimeout(10)
    response = http.client.HTTPResponse(sock)
    response.begin()
    body = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


class OxigraphServer:
    """A real `oxigraph serve` process on 127.0.0.1 (the PyPI `oxigraph` package)."""

    def __init__(self, location: Path):
        binary = shutil.which("oxigraph") or str(Path(__import__("sys").executable).parent
                                                  / "oxigraph")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{self.port}"],
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
        import os
        import sys

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


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph-serve"))
    yield server
    server.stop()
    assert server.process.poll() is not None, "the oxigraph server process was left running"


@pytest.fixture(params=["memory", "disk", "remote", "remote-gsp"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """The same store test suite runs on every backend."""
    kind = request.param
    if kind == "memory":
        yield EmbeddedStore.memory()
    elif kind == "disk":
        yield EmbeddedStore.open(tmp_path / "store", create=True)
    else:
        server: OxigraphServer = request.getfixturevalue("oxigraph_server")
        server.clear()
        gsp = server.gsp_url if kind == "remote-gsp" else None
        store = RemoteStore(server.query_url, server.update_url, gsp)
        yield store
        store.close()
