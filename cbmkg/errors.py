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



class OutboundRefused(CbmkgError):
    """A query or update tried to reach another machine (SERVICE, LOAD) where this process
    may not open connections."""
