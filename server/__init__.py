"""The HTTP server: a SPARQL 1.1 Protocol endpoint over the cbmkg store, the named queries,
and a health check (issue #6; the linked-data pages, UI and the rest come next).

``create_app`` is a Flask application factory: it takes the configuration (and, for tests,
a ready store) and registers the blueprints. ``cbmkg serve`` runs it under waitress.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from cbmkg.config import Config, load_config
from cbmkg.store import GraphStore, open_store

from .workers import runner_for


def create_app(config: Config | None = None, store: GraphStore | None = None,
               test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    config = config or load_config()
    app.config.from_mapping(CBMKG=config, MAX_CONTENT_LENGTH=1_000_000)
    if test_config:
        app.config.update(test_config)
    app.extensions["cbmkg.store"] = store if store is not None else open_store(config)
    app.extensions["cbmkg.runner"] = runner_for(app.extensions["cbmkg.store"], config.workers,
                                                  config.worker_copy_limit)

    from . import graph_store, manners, named, pages, sparql, ui

    app.register_blueprint(sparql.blueprint)
    app.register_blueprint(named.blueprint)
    app.register_blueprint(graph_store.blueprint)
    app.register_blueprint(ui.blueprint)
    app.register_blueprint(pages.blueprint)
    manners.install(app)

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, Any], int]:
        current = app.extensions["cbmkg.store"]
        return {"ok": True, "store": current.kind, "graphs": len(current.graphs()),
                "workers": app.extensions["cbmkg.runner"].pids()}, 200

    return app
