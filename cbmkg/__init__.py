"""cbmkg core: configuration, namespaces, store access and named queries shared by the
loaders, the server and the command line."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cbmkg")
except PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0.0.0+unknown"
