"""Writing query answers for people (a table) and programs (CSV, TSV, JSON, RDF).

The machine formats are pyoxigraph's own serialisers (the W3C SPARQL results formats);
only the table is drawn here.
"""

from __future__ import annotations

from typing import BinaryIO

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    serialize,
)
from rich.console import Console
from rich.table import Table

from .errors import CbmkgError
from .namespaces import PREFIXES
from .store import QueryResult

TABULAR = {
    "csv": QueryResultsFormat.CSV,
    "tsv": QueryResultsFormat.TSV,
    "json": QueryResultsFormat.JSON,
    "xml": QueryResultsFormat.XML,
}
GRAPH = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "jsonld": RdfFormat.JSON_LD,
    "rdfxml": RdfFormat.RDF_XML,
}
FORMATS = ("table", *TABULAR, *GRAPH)


def short(term: object) -> str:
    """A term as a reader wants it in a table: prefixed IRIs, bare literal values."""
    if isinstance(term, NamedNode):
        for prefix, ns in PREFIXES.items():
            if term.value.startswith(ns) and len(term.value) > len(ns):
                return f"{prefix}:{term.value[len(ns):]}"
        return term.value
    if isinstance(term, Literal):
        return term.value + (f"@{term.language}" if term.language else "")
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    return "" if term is None else str(term)


def write(result: QueryResult, fmt: str, out: BinaryIO,
          console: Console | None = None) -> int | None:
    """Write ``result`` in ``fmt`` to ``out``; returns the number of rows or triples when
    it counted them."""
    if isinstance(result, QueryBoolean):
        text = ("true" if bool(result) else "false") + "\n"
        if fmt in ("json", "xml", "csv", "tsv"):
            result.serialize(out, TABULAR[fmt])
        else:
            out.write(text.encode())
        return 1
    if isinstance(result, QuerySolutions):
        return _write_solutions(result, fmt, out, console)
    graph_format = GRAPH.get(fmt if fmt != "table" else "turtle")
    if graph_format is None:
        raise CbmkgError(f"a CONSTRUCT or DESCRIBE answer is a graph: use --format "
                         f"{'|'.join(GRAPH)}, not {fmt}")
    triples = list(result)
    serialize(triples, out, graph_format, prefixes=PREFIXES if graph_format is RdfFormat.TURTLE
              else None)
    return len(triples)


def _write_solutions(result: QuerySolutions, fmt: str, out: BinaryIO,
                     console: Console | None) -> int | None:
    if fmt in TABULAR:
        result.serialize(out, TABULAR[fmt])
        return None
    if fmt != "table":
        raise CbmkgError(f"a SELECT answer is a table: use --format "
                         f"table|{'|'.join(TABULAR)}, not {fmt}")
    variables = [v.value for v in result.variables]
    table = Table(*variables, show_lines=False, header_style="bold")
    count = 0
    for row in result:
        table.add_row(*(short(row[v]) for v in variables))
        count += 1
    console = console or Console()
    console.print(table)
    console.print(f"{count} row{'s' if count != 1 else ''}")
    return count
