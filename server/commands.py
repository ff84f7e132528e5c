"""The server's command of `cbmkg` (see cbmkg/cli.py): serve."""

from __future__ import annotations

import click

from cbmkg.cli import err, store_options, where
from cbmkg.config import Config
from cbmkg.store import EmbeddedStore, open_store


@click.command()
@click.option("--host", help="Address to listen on [env CBMKG_HOST; default 127.0.0.1].")
@click.option("--port", type=int, help="Port [env CBMKG_PORT; default 8080].")
@store_options
def serve(host: str | None, port: int | None, config: Config) -> None:
    """Serve the graph over HTTP: SPARQL 1.1 at /sparql, the query page at /ui.

    Runs under gunicorn with CBMKG_WORKERS worker processes, each answering one request at a
    time; a query past CBMKG_QUERY_TIMEOUT is answered 503 and its process replaced. Also:
    named queries (/queries), Graph Store reads (/store), linked-data pages (/id/…), VoID,
    OpenAPI (/openapi.json), /healthz and /metrics. Updates only with CBMKG_UPDATE_TOKEN set.
    """
    from .serving import serve as run

    config = config.replace(host=host, port=port)
    # fail here, with one line, if the store cannot be reached; the embedded store is only
    # checked, not opened: RocksDB must not start in a process that forks the workers
    if config.endpoint:
        open_store(config).graphs()
    else:
        EmbeddedStore.check(config.store)
    site = f"http://{config.host}:{config.port}"
    err.print(f"serving {where(config)}: SPARQL {site}/sparql, query page {site}/ui "
              f"({config.workers} worker processes)")
    run(config)
