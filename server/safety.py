"""What the endpoint refuses before the store sees a request: a ``SERVICE`` call or a
``LOAD`` of a document anywhere but the allow-list (Oxigraph would make the request), so no
client can make the server reach another machine, read an internal endpoint or scan ports.

A request that could hold either keyword runs only when two readings of its text agree on
every call it makes: rdflib's SPARQL parser (the parse tree gives each ``SERVICE`` and
``LOAD`` and its IRI, resolved against ``PREFIX`` and ``BASE`` and the request's base) and
the token reader of :mod:`cbmkg.sparql_text` (each ``SERVICE`` and ``LOAD`` keyword
outside IRIs, strings and comments). Text that either cannot read (SPARQL 1.2 syntax that
rdflib does not know, ``\\u`` escapes, which engines decode in different places), or on
which they disagree, is refused as soon as it holds the word at all, in any case, even
inside a string: what cannot be read for certain does not run.

This is the first of two layers. In ``cbmkg serve`` workers over the embedded store with no
allow-list, the process cannot open an internet socket at all (``sandbox.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pyoxigraph import NamedNode
from pyparsing import ParseResults
from rdflib.plugins.sparql.algebra import translatePrologue
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.sparql import Prologue

from cbmkg.sparql_text import keyword_count

_ESCAPES = (re.compile(r"\\[uU]([0-9A-Fa-f]{4})"), re.compile(r"\\[uU]([0-9A-Fa-f]{8})"))
#: the keywords that make a request reach another machine, and the parse-tree node of each
CALLS = {"SERVICE": "ServiceGraphPattern", "LOAD": "Load"}


@dataclass(frozen=True)
class Call:
    keyword: str  # SERVICE or LOAD
    target: str | None  # the absolute IRI; None when it is a variable or cannot be resolved


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, list | tuple | ParseResults):
        for child in node:
            yield from _walk(child)
    elif hasattr(node, "values") and callable(node.values):
        for child in node.values():
            yield from _walk(child)


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    """Whether any of ``words`` is in the text, in any case, as written or with its ``\\u``
    escapes decoded (as the SPARQL spec and some engines do before parsing; each way of
    reading them, and again on what that gives)."""
    variants = {text}
    for _ in range(3 if "\\" in text else 0):
        variants |= {pattern.sub(_char, v) for v in variants for pattern in _ESCAPES}
    return any(w.casefold() in v.casefold() for v in variants for w in words)


def _char(match: re.Match[str]) -> str:
    return chr(min(int(match.group(1), 16), 0x10FFFF))


def _calls_in(tree: Any, prologue: Prologue) -> Iterator[Call]:
    for node in _walk(tree):
        name = getattr(node, "name", None)
        if name == "ServiceGraphPattern":
            yield Call("SERVICE", _resolved(node["term"] if "term" in node else None, prologue))
        elif name == "Load":
            yield Call("LOAD", _resolved(node["iri"] if "iri" in node else None, prologue))


def _resolved(term: Any, prologue: Prologue) -> str | None:
    if term is None or type(term).__name__ == "Variable":
        return None
    try:
        iri = str(prologue.absolutize(term))
        NamedNode(iri)  # an absolute IRI, as Oxigraph would use it
    except Exception:  # an unknown prefix, a relative IRI without a base: rdflib raises several kinds
        return None
    return iri


def calls(text: str, *, update: bool, base_iri: str | None = None) -> list[Call] | str:
    """The outbound calls a query (or an update) would make, or why they cannot be known."""
    words = tuple(CALLS) if update else ("SERVICE",)
    if not _mentions(text, words):
        return []  # neither word anywhere: nothing to read (the common case, and fast)
    if "\\u" in text.casefold():
        return "it holds \\u escapes, which SPARQL engines decode in different places"
    plain = text.replace("\r", "\n")  # a comment ends at either, for Oxigraph; rdflib knows \n only
    try:
        if update:
            request = parseUpdate(plain)
            found: list[Call] = []
            prologue = None
            for head, operation in zip(request["prologue"] if "prologue" in request else [],
                                       request["request"] if "request" in request else [], strict=False):
                prologue = translatePrologue(head, base_iri, None, prologue)
                found += _calls_in(operation, prologue)
        else:
            query = parseQuery(plain)
            found = list(_calls_in(query[1], translatePrologue(query[0], base_iri)))
    except Exception as e:  # rdflib's parser raises several kinds; e.g. SPARQL 1.2 syntax
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        return f"its text cannot be read for certain here ({first[:200]})"
    for keyword in words:
        if keyword_count(plain, keyword) != sum(1 for c in found if c.keyword == keyword):
            return f"two readings of its text disagree on where {keyword} stands"
    return found


def allowed(target: str, allowlist: tuple[str, ...]) -> bool:
    """Whether ``target`` starts with an allow-listed IRI of the same scheme and host (so
    that ``http://example.org`` does not allow ``http://example.org.evil.net/``)."""
    there = urlsplit(target)
    for prefix in allowlist:
        here = urlsplit(prefix)
        if target.startswith(prefix) and (there.scheme, there.netloc) == (here.scheme, here.netloc):
            return True
    return False


def refusal(text: str, allowlist: tuple[str, ...], *, update: bool = False,
            base_iri: str | None = None) -> str | None:
    """Why a query (or an update) may not run because of a call it would make, or None."""
    found = calls(text, update=update, base_iri=base_iri)
    kinds = "SERVICE or LOAD" if update else "SERVICE"
    listed = ", ".join(allowlist) or "empty"
    if isinstance(found, str):
        return f"this request mentions {kinds} and {found}: it is refused, as this server makes " \
               f"no outbound request it cannot check (allow-list: {listed})"
    for call in found:
        if call.target is None:
            return f"{call.keyword} with an endpoint given by a variable or an unknown prefix " \
                   f"cannot be checked and is not allowed"
        if not allowed(call.target, allowlist):
            return f"{call.keyword} of {call.target} is not allowed (no outbound requests; " \
                   f"allow-list: {listed})"
    return None


def refused_services(query: str, allowlist: tuple[str, ...], base_iri: str | None = None) -> str | None:
    """Why a query may not run (a message), or None when it may."""
    return refusal(query, allowlist, base_iri=base_iri)


def refused_loads(update: str, allowlist: tuple[str, ...], base_iri: str | None = None) -> str | None:
    """Why an update may not run because it would fetch a document or call a SERVICE."""
    return refusal(update, allowlist, update=True, base_iri=base_iri)
