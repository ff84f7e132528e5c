"""The ontology's own files (``ontology/cbm-*.ttl``, not the registers): which they are, the
terms they declare, and the ontology as one graph, for the closed vocabulary of
``namespaces.py``, the documentation page and the server's ``/ontology``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, parse
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "ontology"
#: the modules, the core first: its header is the ontology's (pyLODE documents one ontology)
MODULES = ("cbm-core", "cbm-vocab", "cbm-odrl-profile", "cbm-external", "cbm-align")
IRI = "https://w3id.org/cbmkg/ontology"
TERMS = IRI + "#"
_TYPE = NamedNode(str(RDF.type))


def module_paths(folder: Path = FOLDER) -> list[Path]:
    return [folder / f"{module}.ttl" for module in MODULES]


@cache
def declared_terms(folder: Path = FOLDER) -> frozenset[str]:
    """Local names of the ``cbm:`` terms the modules declare (give a type to): classes,
    properties, concepts and schemes, ODRL actions and operands."""
    names = set()
    for path in module_paths(folder):
        for quad in parse(path=str(path), format=RdfFormat.TURTLE):
            subject = quad.subject
            if quad.predicate == _TYPE and isinstance(subject, NamedNode) \
                    and subject.value.startswith(TERMS):
                names.add(subject.value[len(TERMS):])
    return frozenset(names)


def merged(folder: Path = FOLDER) -> Graph:
    """The modules as one graph under the core's header (the other modules' headers become
    its parts, which the core already lists with dct:hasPart)."""
    g = Graph()
    for path in module_paths(folder):
        g.parse(path, format="turtle")
    for header in list(g.subjects(RDF.type, OWL.Ontology)):
        if header != URIRef(IRI):
            g.remove((header, None, None))
    return g
