"""The project's exceptions: one base class, whose message is written for the user.

The CLI prints ``Error: <message>`` and exits non-zero for any of them; the server maps
them to HTTP statuses. Anything else that escapes is a bug.
"""

from __future__ import annotations


class CbmkgError(Exception):
    """Base class: the message says what is wrong and where."""

    exit_code = 1


class ConfigError(CbmkgError):
    """A setting is missing or malformed."""


class StoreError(CbmkgError):
    """The store cannot be opened, read or written."""


class StoreNotFound(StoreError):
    """No store at the configured location (nothing has been built yet)."""


class EndpointError(StoreError):
    """A remote SPARQL endpoint is unreachable or answered with an error."""


class QuerySyntaxError(CbmkgError):
    """A SPARQL query or update does not parse; the message carries the parser's words."""


class NamedQueryError(CbmkgError):
    """A named query is unknown, or its header or parameters are malformed."""


class InputError(CbmkgError):
    """An input file (report, ontology, shape) cannot be read or parsed."""



class QueryFailed(CbmkgError):
    """A query or update parses but cannot be carried out on this data (an unknown
    extension function, DROP of a graph that does not exist)."""


class OutboundRefused(CbmkgError):
    """A query or update tried to reach another machine (SERVICE, LOAD) where this process
    may not open connections."""


def evaluation_error(error: Exception) -> CbmkgError | None:
    """The project's error for what pyoxigraph raises while it evaluates a query or an
    update, when the cause is the request (or the machine it calls), not the store: a
    SERVICE or LOAD refused in this process (a server worker that may open no sockets) or
    failed at the far end, or an evaluation error; None for others (a failing disk)."""
    if isinstance(error, PermissionError):
        return OutboundRefused("the request tried to reach another machine (SERVICE or LOAD), "
                               "which this server does not do")
    if isinstance(error, ConnectionError | TimeoutError):
        return EndpointError(f"a SERVICE or LOAD call failed: {error}")
    if isinstance(error, RuntimeError):
        return QueryFailed(f"the request cannot be carried out: {error}")
    return None
