"""The XSD datatypes a named-query parameter may take, with a lexical check for each."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

XSD = "http://www.w3.org/2001/XMLSchema#"


@dataclass(frozen=True)
class Datatype:
    iri: str
    check: Callable[[str], bool]


def _pattern(regex: str) -> Callable[[str], bool]:
    compiled = re.compile(regex)
    return lambda value: bool(compiled.fullmatch(value))


XSD_TYPES: dict[str, Datatype] = {
    "integer": Datatype(XSD + "integer", _pattern(r"[+-]?\d+")),
    "decimal": Datatype(XSD + "decimal", _pattern(r"[+-]?(\d+(\.\d*)?|\.\d+)")),
    "boolean": Datatype(XSD + "boolean", _pattern(r"true|false|1|0")),
    "date": Datatype(XSD + "date", _pattern(r"-?\d{4,}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?")),
    "gYear": Datatype(XSD + "gYear", _pattern(r"-?\d{4,}")),
}
