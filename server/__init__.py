"""The HTTP server over the cbmkg store: SPARQL 1.1 Protocol (``sparql``), Update and the
Graph Store Protocol (``graph_store``), named queries (``named``), linked-data pages and
VoID (``pages``), the query page and OpenAPI (``ui``), and what every answer carries
(``manners``). Queries run where ``workers`` puts them; ``answers`` writes them.

``create_app`` is a Flask application factory: it takes the configuration (and, for tests,
a ready store) and registers the blueprints. ``cbmkg serve`` runs it under gunicorn
(``serving.py``).
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from cbmkg.config import Config, load_config
from cbmkg.store import GraphStore, open_store


def create_app(config: Config | None = None, store: GraphStore | None = None, *,
               exit_on_timeout: bool = False) -> Flask:
    """The app over ``store`` (default: the one ``config`` names).

    ``exit_on_timeout`` is for processes of their own (``cbmkg serve``'s workers): a query past
    its time, or a request past the worker's memory, is stopped by ending the process, and a
    request not read in time is cut off (watchdog.py).
    """
    app = Flask(__name__)
    config = config or load_config()
    if exit_on_timeout and config.endpoint is None and not config.service_allowlist.split():
        from .sandbox import close_network

        close_network()  # before the store opens: no thread of this worker may reach out
    app.config.from_mapping(CBMKG=config, MAX_CONTENT_LENGTH=1_000_000)
    app.extensions["cbmkg.store"] = store if store is not None else open_store(config)

    # imported here, not at the top: `cbmkg serve` imports this package in gunicorn's master
    # before it sets PROMETHEUS_MULTIPROC_DIR, which prometheus_client reads on import
    from . import errors, graph_store, manners, named, ontology, pages, sparql, ui, validate, watchdog
    from .fastpath import FastSparql
    from .limits import ChunkedBodies
    from .sandbox import network_closed
    from .workers import runner_for

    errors.install(app)
    manners.install(app)
    dog = None
    if exit_on_timeout:  # a process of its own: the watchdog may end it (watchdog.py)
        dog = watchdog.install(watchdog.Watchdog(
            config.worker_memory_limit, config.read_timeout, app.config["MAX_CONTENT_LENGTH"],
            on_stop=app.extensions["cbmkg.metrics"].timed_out))
    app.extensions["cbmkg.runner"] = runner_for(app.extensions["cbmkg.store"], config.worker_copy_limit, dog)

    app.register_blueprint(sparql.blueprint)
    app.register_blueprint(named.blueprint)
    app.register_blueprint(graph_store.blueprint)
    app.register_blueprint(ui.blueprint)
    app.register_blueprint(validate.blueprint)
    app.register_blueprint(ontology.blueprint)
    app.register_blueprint(pages.blueprint)
    # Flask's documented way to add WSGI middleware (mypy sees a method replaced)
    app.wsgi_app = ChunkedBodies(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])  # type: ignore[method-assign]
    app.wsgi_app = FastSparql(app)  # type: ignore[method-assign]

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, Any], int]:
        current = app.extensions["cbmkg.store"]
        return {"ok": True, "store": current.kind, "graphs": len(current.graphs()),
                "pid": os.getpid(), "network_closed": network_closed()}, 200

    return app
