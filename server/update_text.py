"""Where the WHERE of each ``DELETE``/``INSERT … WHERE`` operation of a SPARQL update
stands, found by rdflib's SPARQL 1.1 Update grammar, so that the server can give those
operations their dataset (``graph_store.with_dataset``) by writing ``USING`` clauses there.

rdflib's parser gives a tree without positions; this module composes its grammar elements
(the prologue, each operation, and the parts of a ``Modify``) with pyparsing's ``Located``,
which records where each matched. Text that rdflib's grammar cannot read raises ValueError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyparsing import CaselessKeyword, Forward, Group, Located, Optional, ParseBaseException, ZeroOrMore, rest_of_line
from rdflib.plugins.sparql.parser import (
    DeleteClause,
    InsertClause,
    Prologue,
    Update1,
    UsingClause,
    iri,
)

_UPDATE = Forward()
_UPDATE <<= Prologue + Optional(Group(Located(Update1)) + Optional(";" + _UPDATE))
_UPDATE.ignore("#" + rest_of_line)
# the head of a Modify up to its WHERE: [WITH iri] DELETE…/INSERT… USING… WHERE
_HEAD = (Optional(CaselessKeyword("WITH") + iri) + (DeleteClause + Optional(InsertClause) | InsertClause)
         + ZeroOrMore(UsingClause) + Group(Located(CaselessKeyword("WHERE"))))
_HEAD.ignore("#" + rest_of_line)
_ESCAPE = re.compile(r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}")


@dataclass(frozen=True)
class Modify:
    where: int  # offset of its WHERE keyword in the update's text
    own_dataset: bool  # it has WITH or USING


def _readable(text: str) -> str:
    """The text as rdflib's grammar should read it, of the same length (offsets hold):
    a comment ends at a carriage return too (as in Oxigraph), and a ``\\u`` escape, which
    Oxigraph reads inside IRIs and strings only, is one plain character run there."""
    text = text.replace("\r", "\n")
    return _ESCAPE.sub(lambda m: "_" * len(m.group()), text)


def modify_operations(update: str) -> list[Modify]:
    """The ``DELETE``/``INSERT … WHERE`` operations of an update, in order."""
    text = _readable(update)
    try:
        parsed = (_UPDATE + Optional(";")).parse_string(text, parse_all=True)
    except ParseBaseException as e:
        raise ValueError(str(e).splitlines()[0]) from None
    found = []
    for item in parsed:
        if not (hasattr(item, "__len__") and len(item) == 3 and isinstance(item[0], int)):
            continue  # a prologue or a ';'
        start, tokens, end = item
        operation = tokens[0]
        if getattr(operation, "name", None) != "Modify":
            continue
        own = "withClause" in operation or "using" in operation  # (CompValue.get gives the key when missing)
        head = _HEAD.parse_string(text[start:end])
        where = head[-1][0]
        found.append(Modify(start + where, own))
    return found
