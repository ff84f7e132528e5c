"""``cbmkg serve``: the app under gunicorn, ``workers`` worker processes (sync, with keep-alive).

One request at a time per process is what lets a worker stop a runaway query by ending
itself (see workers.py); gunicorn starts a new one in its place. Each worker builds its own
app (no preloading), so each opens the store itself. Metrics of all workers are kept in a
temporary ``PROMETHEUS_MULTIPROC_DIR`` made here.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from typing import Any

from gunicorn.app.base import BaseApplication

from cbmkg.config import Config
from cbmkg.errors import ConfigError


class _Gunicorn(BaseApplication):
    def __init__(self, config: Config, options: dict[str, Any]):
        self.cbmkg_config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from . import create_app

        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
        # the query log's records need no caller or thread (the logging HOWTO's "Optimization"
        # section; about 5 µs a request); the process id stays: gunicorn's log lines print it
        logging._srcfile = None
        logging.logThreads = logging.logMultiprocessing = False
        return create_app(self.cbmkg_config, exit_on_timeout=True)


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


#: the choices of the worker_class setting
WORKER_CLASSES = {"keepalive": "server.keepalive.KeepAliveWorker", "gthread": "gthread"}


def serve(config: Config) -> None:
    if config.worker_class not in WORKER_CLASSES:
        raise ConfigError(f"worker_class must be one of {', '.join(WORKER_CLASSES)}, not {config.worker_class!r}")
    metrics_dir = tempfile.mkdtemp(prefix="cbmkg-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # before any worker imports the client
    options = {
        "bind": f"{config.host}:{config.port}",
        "workers": max(1, config.workers),
        # gunicorn's sync worker (one request in flight per process, which lets a worker end
        # itself at a timeout) with HTTP keep-alive: one epoll loop per process (keepalive.py)
        "worker_class": WORKER_CLASSES[config.worker_class],
        "threads": 1,  # gthread: one request at a time per process (keepalive ignores it)
        "keepalive": config.keepalive,
        # gunicorn's own watchdog is the last resort: ours answers the client first
        "timeout": int(config.query_timeout) + 30,
        "graceful_timeout": 10,
        # gunicorn's largest request line (8 KiB; 0 would be none at all, and parsing a long
        # one costs quadratic time): a longer GET query gets 414 saying to POST it (keepalive.py)
        "limit_request_line": 8190,
        "child_exit": _child_exit,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "cbmkg",
        # gunicorn's control socket (a shared path in the home folder, and a way to change the
        # workers at run time) is not needed: signals do what it does
        "control_socket_disable": True,
    }
    master = os.getpid()
    try:
        _Gunicorn(config, options).run()
    finally:
        # workers are forked inside run(): one that ends by SystemExit unwinds through this
        # frame too, and must not take the metrics of the others with it
        if os.getpid() == master:
            shutil.rmtree(metrics_dir, ignore_errors=True)
