"""What the endpoint refuses before the store sees a query: ``SERVICE`` calls to hosts not
on the allow-list (Oxigraph would fetch them), so no request of a client makes the server
reach out to another machine, and ``LOAD`` in the updates a token holder may send."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pyparsing import ParseResults
from rdflib.plugins.sparql.parser import parseQuery

# A SERVICE keyword outside strings, IRIs and comments: the fallback when rdflib cannot
# parse a query that Oxigraph can (e.g. SPARQL 1.2 syntax).
_NOISE = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|'
                    r"'(?:[^'\\\n]|\\.)*'|<[^<>\s]*>|#[^\n]*")
_SERVICE = re.compile(r"\bSERVICE\b", re.IGNORECASE)


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, list | tuple | ParseResults):
        for child in node:
            yield from _walk(child)
    elif hasattr(node, "values") and callable(node.values):
        for child in node.values():
            yield from _walk(child)


def service_targets(query: str) -> list[str] | None:
    """The IRIs a query's SERVICE clauses call; None when one names its endpoint by a
    variable, or when the query cannot be parsed here but mentions SERVICE."""
    if not _SERVICE.search(query) and "\\u" not in query.lower():
        # no SERVICE anywhere, not even behind a \u escape: skip rdflib's parser, the slow
        # part of a point lookup
        return []
    try:
        parsed = parseQuery(query)
    except Exception:  # rdflib's parser raises several kinds; Oxigraph gives the real message
        return None if _SERVICE.search(_NOISE.sub(" ", query)) else []
    targets: list[str] = []
    for node in _walk(parsed):
        if getattr(node, "name", None) == "ServiceGraphPattern":
            term = node.get("term")
            if term is None or type(term).__name__ == "Variable":
                return None
            targets.append(str(term))
    return targets


def refused_services(query: str, allowed: tuple[str, ...]) -> str | None:
    """Why a query may not run (a message), or None when it may."""
    targets = service_targets(query)
    if targets is None:
        return "SERVICE with an endpoint this server cannot check is not allowed"
    outside = [t for t in targets if not any(t.startswith(prefix) for prefix in allowed)]
    if outside:
        return f"SERVICE to {outside[0]} is not allowed (no outbound requests; allow-list: " \
               f"{', '.join(allowed) or 'empty'})"
    return None


# strings and comments, but not IRIs: LOAD's source is an IRI
_STRINGS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|'
                      r"'(?:[^'\\\n]|\\.)*'|#[^\n]*")
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOAD = re.compile(r"\bLOAD\s+(?:SILENT\s+)?(\S+)", re.IGNORECASE)


def refused_loads(update: str, allowed: tuple[str, ...]) -> str | None:
    """Why an update may not run because it would fetch a document, or None."""
    # SPARQL lets \\u escapes stand anywhere; some engines decode them before parsing
    plain = _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), update)
    for match in _LOAD.finditer(_STRINGS.sub(" ", plain)):
        source = match.group(1).strip("<>")
        if not any(source.startswith(prefix) for prefix in allowed):
            return f"LOAD of {source} is not allowed (no outbound requests; allow-list: " \
                   f"{', '.join(allowed) or 'empty'})"
    return None
