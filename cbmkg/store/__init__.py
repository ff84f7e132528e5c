"""Store access: :func:`open_store` picks the backend the configuration names."""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from .base import Build, GraphStore, QueryResult, TripleList, Triples
from .embedded import EmbeddedStore
from .remote import RemoteStore

__all__ = ["Build", "EmbeddedStore", "GraphStore", "QueryResult", "RemoteStore", "TripleList",
           "Triples", "open_store"]


def open_store(config: Config, *, create: bool = False) -> GraphStore:
    """The remote store when ``config.endpoint`` is set, else the embedded one.

    ``create`` makes a missing embedded store home (for builds); otherwise a missing store
    raises :class:`~cbmkg.errors.StoreNotFound`.
    """
    if config.endpoint:
        auth = None
        if config.endpoint_user:
            auth = (config.endpoint_user, config.endpoint_password or "")
        return RemoteStore(config.endpoint, config.update_endpoint, config.gsp_endpoint,
                           auth=auth, timeout=config.http_timeout, union=config.endpoint_union,
                           graphs_prefix=config.endpoint_graphs)
    return EmbeddedStore.open(Path(config.store), create=create)
