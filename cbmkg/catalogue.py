"""Named queries: the ``queries/*.rq`` files and their headers.

A named query is one SPARQL file whose name (without ``.rq``) is its name in the CLI, the
API and the UI. Its header is a block of ``#+`` comment lines::

    #+ title: Obligations
    #+ description: Who must do what under which provision, with constraints and deadlines.
    #+ param: party_code (string): ISO 3166-1 alpha-3 code of a party, e.g. AZE
    #+ param: instrument (iri, base cbmid:instrument/): an instrument, e.g. vd2011

A parameter names a variable of the query. Given a value, it is bound with a trailing
``VALUES`` clause (standard SPARQL 1.1, so every backend runs it the same way); left out,
the variable stays free and the query answers for every value. The value is turned into an
RDF term and serialised by pyoxigraph, never pasted into the query text.

A ``VALUES`` binding keeps rows where the variable is *unbound* (they are compatible with
any value), so a query binds each parameter variable in every row, e.g. with
``BIND(COALESCE(?x, "") AS ?param)`` over an OPTIONAL part.

``#+ bind-first: report, reported_by`` names parameters whose ``VALUES`` go at the start
of the outermost ``WHERE`` group instead: the same answer when each is bound by a required
triple pattern of that group (the query's author says so by naming it), and the store then
starts from the given value instead of filtering the whole listing at the end (Oxigraph
joins a trailing ``VALUES`` last).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import Literal, NamedNode

from .errors import NamedQueryError
from .namespaces import PREFIXES
from .xsd import XSD_TYPES

_HEADER = re.compile(r"^#\+\s*([\w-]+)\s*:\s*(.*?)\s*$")
_PARAM = re.compile(r"^(\w+)\s*\(([^)]*)\)\s*:\s*(.+)$")
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str = "string"
    base: str | None = None
    description: str = ""

    def term(self, value: str) -> NamedNode | Literal:
        """The RDF term for a user-supplied value, checked against the declared type."""
        if self.type == "iri":
            try:
                return NamedNode(self._expand(value))
            except ValueError as e:
                raise NamedQueryError(f"parameter '{self.name}' expects an IRI, got {value!r} ({e})") from None
        if self.type == "string":
            return Literal(value)
        datatype = XSD_TYPES.get(self.type)
        if datatype is None:
            raise NamedQueryError(f"parameter '{self.name}' has unknown type '{self.type}'")
        literal = Literal(value, datatype=NamedNode(datatype.iri))
        if not datatype.check(value):
            raise NamedQueryError(
                f"parameter '{self.name}' expects {self.type}, got {value!r}")
        return literal

    def _expand(self, value: str) -> str:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value) or value.startswith("urn:"):
            return value
        prefix, sep, local = value.partition(":")
        if sep and prefix in PREFIXES:
            return PREFIXES[prefix] + local
        if self.base:
            return self.base + value
        raise NamedQueryError(f"parameter '{self.name}' expects an IRI, got {value!r}")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    text: str
    title: str
    description: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)
    #: parameters bound at the start of the WHERE clause (see the module's docstring)
    first: frozenset[str] = frozenset()

    def bind(self, values: Mapping[str, str]) -> str:
        """The query text with ``values`` bound (unknown or malformed values raise)."""
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(known))
        if unknown:
            offered = ", ".join(known) or "none"
            raise NamedQueryError(
                f"query '{self.name}' has no parameter {', '.join(unknown)} (it takes: {offered})")
        given = [(known[k], v) for k, v in values.items() if v not in (None, "")]
        if not given:
            return self.text
        text = self.text
        early = [(p, v) for p, v in given if p.name in self.first]
        where = _WHERE.search(text, self._body_start())
        if early and where:
            block = "".join(f"\n  VALUES ?{p.name} {{ {p.term(v)} }}" for p, v in early)
            text = text[:where.end()] + block + text[where.end():]
            given = [(p, v) for p, v in given if p.name not in self.first]
        if not given:
            return text
        names = " ".join(f"?{p.name}" for p, _ in given)
        terms = " ".join(str(p.term(v)) for p, v in given)
        return f"{text.rstrip()}\nVALUES ({names}) {{ ({terms}) }}\n"

    def _body_start(self) -> int:
        """Where the query begins after its header and comment lines."""
        offset = 0
        for line in self.text.splitlines(keepends=True):
            if line.strip() and not line.startswith("#"):
                break
            offset += len(line)
        return offset


def parse_query_file(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    name = path.stem
    if not NAME.match(name):
        raise NamedQueryError(f"{path}: query names are lower-case kebab-case, got '{name}'")
    meta: dict[str, str] = {}
    params: list[Parameter] = []
    first: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#+"):
            if line.strip() and not line.startswith("#"):
                break
            continue
        match = _HEADER.match(line)
        if not match:
            raise NamedQueryError(f"{path}:{lineno}: malformed header line {line!r}")
        key, value = match.groups()
        if key == "param":
            params.append(_parse_param(value, f"{path}:{lineno}"))
        elif key == "bind-first":
            first |= {n.strip() for n in value.split(",") if n.strip()}
        elif key in ("title", "description"):
            meta[key] = f"{meta[key]} {value}".strip() if key in meta else value
        else:
            raise NamedQueryError(f"{path}:{lineno}: unknown header key '{key}'")
    if "title" not in meta:
        raise NamedQueryError(f"{path}: the header has no '#+ title:' line")
    unknown = first - {p.name for p in params}
    if unknown:
        raise NamedQueryError(f"{path}: bind-first names no parameter: {', '.join(sorted(unknown))}")
    return NamedQuery(name, path, text, meta["title"], meta.get("description", ""), tuple(params),
                      frozenset(first))


def _parse_param(spec: str, where: str) -> Parameter:
    match = _PARAM.match(spec)
    if not match:
        raise NamedQueryError(f"{where}: a parameter reads 'NAME (TYPE[, base PREFIX:]): TEXT'")
    name, options, description = match.groups()
    parts = [o.strip() for o in options.split(",") if o.strip()]
    kind, base = (parts[0] if parts else "string"), None
    for option in parts[1:]:
        key, _, value = option.partition(" ")
        if key != "base":
            raise NamedQueryError(f"{where}: unknown parameter option '{option}'")
        prefix, _, local = value.strip().partition(":")
        base = PREFIXES.get(prefix, "") + local if prefix in PREFIXES else value.strip()
    if kind != "iri" and kind != "string" and kind not in XSD_TYPES:
        raise NamedQueryError(f"{where}: unknown parameter type '{kind}'")
    return Parameter(name, kind, base, description)


class Catalogue:
    """The named queries of one folder, read when asked for (the files are the truth)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.rq"))

    def all(self) -> list[NamedQuery]:
        return [parse_query_file(p) for p in sorted(self.folder.glob("*.rq"))]

    def get(self, name: str) -> NamedQuery:
        if not NAME.match(name):
            raise NamedQueryError(f"no named query '{name}'")
        path = self.folder / f"{name}.rq"
        if not path.is_file():
            offered = ", ".join(self.names()) or "none yet"
            raise NamedQueryError(f"no named query '{name}' in {self.folder} (there are: {offered})")
        return parse_query_file(path)
