"""SPARQL text read as tokens: which keywords a query or update holds outside its IRIs,
strings and comments.

This is the lexical layer of the SPARQL grammar (its terminals: IRIREF, the four kinds of
string, comments, variables, language tags), not a parser. It answers cheaply what the
store and the server ask of every request before it runs: does the query name its own
dataset (``FROM``, ``FROM NAMED``)? and, as one of the two readings the server's outbound
guard compares (the other is rdflib's parser), how many ``SERVICE`` and ``LOAD`` keywords
are there?

Comments end at a carriage return as well as at a line feed, as in Oxigraph's parser.
Oxigraph (0.5) decodes ``\\u`` escapes only inside IRIs and strings, so they are read
there and nowhere else.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_TOKEN = re.compile(
    r"(?P<space>[ \t\r\n]+)"
    r"|(?P<comment>#[^\r\n]*)"
    rf"|(?P<iri><(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)"
    r"|(?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''"
    r'|"""(?:(?:"|"")?(?:[^"\\]|\\.))*"""'
    r"|'(?:[^'\\\r\n]|\\.)*'"
    r'|"(?:[^"\\\r\n]|\\.)*")'
    r"|(?P<variable>[?$]\w*)"
    r"|(?P<language>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)"
    r"|(?P<word>[^\s{}()\[\]<>,;\"'#?$=!&|^*/+@]+)"
    r"|(?P<other>.)",
    re.DOTALL,
)


def _words(text: str) -> Counter[str]:
    return Counter(m.group().upper() for m in _TOKEN.finditer(text) if m.lastgroup == "word")


_cached_words = lru_cache(maxsize=512)(_words)  # clients repeat their queries
SHORT = 8192  # longer texts are not cached (a cache must not keep megabytes)


def keyword_count(text: str, keyword: str) -> int:
    """How often ``keyword`` (any case) stands as a word of its own in ``text``, not inside
    an IRI, a string, a comment, a prefixed name or a variable."""
    if keyword.casefold() not in text.casefold():
        return 0  # the common case, without reading the tokens
    return (_cached_words(text) if len(text) <= SHORT else _words(text))[keyword.upper()]


def names_dataset(query: str) -> bool:
    """Whether a query names its own dataset with ``FROM`` or ``FROM NAMED``: then the
    union default graph must not replace it."""
    return keyword_count(query, "FROM") > 0
