"""Fixtures: real stores (in memory, on disk, and a real `oxigraph serve` process), the
CLI runner, and a guard that keeps every test off the network except 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from cbmkg.store import EmbeddedStore, GraphStore, RemoteStore
from tests.helpers import OxigraphServer, VirtuosoServer

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a host other than loopback fails the test that makes it."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if isinstance(address, tuple) and str(address[0]) not in _LOOPBACK:
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]  # socket's address is typed per family

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph-serve"))
    yield server
    server.stop()
    assert server.process.poll() is not None, "the oxigraph server process was left running"


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    try:
        server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso"))
    except FileNotFoundError as e:
        pytest.skip(str(e))
    yield server
    server.stop()


@pytest.fixture(params=["memory", "disk", "remote", "remote-gsp", "virtuoso"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """The same store test suite runs on every backend."""
    kind = request.param
    if kind == "memory":
        yield EmbeddedStore.memory()
    elif kind == "disk":
        yield EmbeddedStore.open(tmp_path / "store", create=True)
    elif kind == "virtuoso":
        virtuoso: VirtuosoServer = request.getfixturevalue("virtuoso_server")
        virtuoso.clear()
        store = RemoteStore(virtuoso.query_url, virtuoso.update_url, graphs_prefix="https://w3id.org/cbmkg/graph/")
        yield store
        store.close()
    else:
        server: OxigraphServer = request.getfixturevalue("oxigraph_server")
        server.clear()
        gsp = server.gsp_url if kind == "remote-gsp" else None
        store = RemoteStore(server.query_url, server.update_url, gsp)
        yield store
        store.close()
