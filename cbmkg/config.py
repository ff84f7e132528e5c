"""Configuration in one place: defaults, then ``CBMKG_*`` environment variables, then
explicit overrides (CLI flags or a test's dict).

Every setting is declared once in :data:`SETTINGS`; the README's configuration table
lists the same names (a test checks that they agree).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError

#: The checkout this package lives in; data directories default to folders inside it.
ROOT = Path(__file__).resolve().parent.parent

ENV_PREFIX = "CBMKG_"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: type = str


SETTINGS: tuple[Setting, ...] = (
    Setting("store", str(ROOT / "var" / "store"),
            "Directory of the embedded Oxigraph store (ignored when an endpoint is set)."),
    Setting("endpoint", None, "URL of a remote SPARQL 1.1 query endpoint; replaces the embedded store."),
    Setting("update_endpoint", None,
            "URL of the remote SPARQL 1.1 Update endpoint (default: the query endpoint)."),
    Setting("gsp_endpoint", None,
            "URL of the remote Graph Store Protocol endpoint, if the server has one."),
    Setting("endpoint_union", "auto",
            "How a remote store gives the union default graph: `server` (its default graph is "
            "the union), `protocol` (a default-graph-uri per named graph), `auto` (asks it)."),
    Setting("endpoint_graphs", "https://w3id.org/cbmkg/graph/",
            "IRI prefix of the named graphs cbmkg manages on a remote store (lists, counts, "
            "replaces); the server's other graphs are left alone."),
    Setting("endpoint_user", None, "User name for HTTP basic authentication on the remote store."),
    Setting("endpoint_password", None, "Password for HTTP basic authentication on the remote store."),
    Setting("http_timeout", 60.0, "Seconds to wait for a remote store to answer.", float),
    Setting("ontology_dir", str(ROOT / "ontology"), "Folder of the ontology and register Turtle files."),
    Setting("shapes_dir", str(ROOT / "shapes"), "Folder of the SHACL shapes."),
    Setting("queries_dir", str(ROOT / "queries"), "Folder of the named SPARQL queries (*.rq)."),
    Setting("corpus_dir", str(ROOT / "corpus"), "Folder of the bundled reports built by default."),
    Setting("host", "127.0.0.1", "Address `cbmkg serve` listens on."),
    Setting("port", 8080, "Port `cbmkg serve` listens on.", int),
    Setting("workers", 4, "Worker processes of `cbmkg serve` (gunicorn), one request in flight each.", int),
    Setting("worker_class", "keepalive",
            "gunicorn worker of `cbmkg serve`: keepalive (ours: sync with keep-alive, the faster) or "
            "gthread (gunicorn's own, one thread); both answer one request at a time per process."),
    Setting("worker_copy_limit", 500000,
            "Query workers copy an embedded store of at most this many quads into their memory "
            "(faster queries, one copy per worker); 0: always read from disk.", int),
    Setting("query_timeout", 30.0,
            "Seconds a SPARQL query (or a /validate request) may run before it is stopped.", float),
    Setting("read_timeout", 10.0,
            "Seconds `cbmkg serve` gives a client to send a whole request (head and body); a slower "
            "one is cut off.", float),
    Setting("worker_memory_limit", 2048,
            "Megabytes of memory a `cbmkg serve` worker may hold; a request that takes it past this is "
            "answered 503 and the worker replaced (0: no limit).", int),
    Setting("keepalive", 5, "Seconds `cbmkg serve` keeps an idle client connection open "
            "(an idle connection holds no worker); 0: one request per connection.", int),
    Setting("result_limit", 100000, "Most rows or triples one answer carries (announced when hit).", int),
    Setting("triples_limit", 50000,
            "Most triples the RDF body of one request may hold (/validate, Graph Store writes); "
            "more is refused with 413.", int),
    Setting("service_allowlist", "",
            "Space-separated IRI prefixes a SPARQL SERVICE clause or LOAD may call (empty: none).", str),
    Setting("update_token", None,
            "Bearer token that switches on SPARQL Update (/update) and Graph Store writes (/store); "
            "unset: the server is read-only."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Config:
    store: str
    endpoint: str | None
    update_endpoint: str | None
    gsp_endpoint: str | None
    endpoint_union: str
    endpoint_graphs: str
    endpoint_user: str | None
    endpoint_password: str | None
    http_timeout: float
    ontology_dir: str
    shapes_dir: str
    queries_dir: str
    corpus_dir: str
    host: str
    port: int
    workers: int
    worker_class: str
    worker_copy_limit: int
    query_timeout: float
    read_timeout: float
    worker_memory_limit: int
    keepalive: int
    result_limit: int
    triples_limit: int
    service_allowlist: str
    update_token: str | None

    def replace(self, **changes: Any) -> Config:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update({k: v for k, v in changes.items() if v is not None})
        return Config(**values)


def _coerce(setting: Setting, raw: Any, origin: str) -> Any:
    if raw is None or setting.kind is str:
        return raw
    try:
        return setting.kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{origin}: expected a {setting.kind.__name__} for '{setting.name}', got {raw!r}"
        ) from None


def load_config(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Defaults < ``CBMKG_<NAME>`` environment variables < ``overrides`` (None = not given)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for s in SETTINGS:
        values[s.name] = s.default
        env_name = ENV_PREFIX + s.name.upper()
        if env.get(env_name):
            values[s.name] = _coerce(s, env[env_name], f"environment variable {env_name}")
    for name, raw in (overrides or {}).items():
        if name not in _BY_NAME:
            raise ConfigError(f"unknown setting '{name}'")
        if raw is not None:
            values[name] = _coerce(_BY_NAME[name], raw, f"setting '{name}'")
    return Config(**values)
