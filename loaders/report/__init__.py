"""The report loader: UN reports that compile replies from governments (Chinese and
English; .txt, .pdf, .docx) to RDF in the cbmkg model.

    >>> from loaders.report import extract            # doctest: +SKIP
    >>> dataset = extract(Path("corpus/A_75_95-ZH.txt"), Path("ontology"))

``reader`` reads the file, ``layout`` finds sections, replies and paragraphs, ``gazetteer``
and ``facts`` find what the paragraphs say, ``document`` puts it together and ``rdf``
writes it as one named graph per reply.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import Dataset

from .document import Report, read_report
from .rdf import to_dataset

SOURCE = "un-report"

__all__ = ["SOURCE", "Report", "extract", "read_report", "to_dataset"]


def extract(path: Path, ontology_dir: Path, symbol: str | None = None) -> Dataset:
    """Read one report and return its RDF (raises InputError naming file and line)."""
    return to_dataset(read_report(path, ontology_dir, symbol))
