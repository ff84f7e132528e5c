"""IRI namespaces: the project's own and the standard vocabularies it reuses.

The project's namespaces hang off one base IRI, https://w3id.org/cbmkg/. Terms of the ontology are hash IRIs
(``…/ontology#Instrument``); data, graphs and shapes are slash IRIs so that every one of
them can be dereferenced by the server.
"""

from __future__ import annotations

from difflib import get_close_matches

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, ORG, OWL, PROV, RDF, RDFS, SKOS, TIME, XSD, ClosedNamespace

from .errors import CbmkgError
from .ontology import TERMS, declared_terms

BASE = "https://w3id.org/cbmkg/"


class UndeclaredTerm(CbmkgError, KeyError):
    """A ``cbm:`` term the ontology does not declare (a misspelling, or a term to add to
    ontology/*.ttl first). A KeyError too, as rdflib's closed namespaces raise."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Vocabulary(ClosedNamespace):
    """The ``cbm:`` namespace, closed: only the terms ``ontology/cbm-*.ttl`` declare exist,
    so code cannot write a term the ontology does not define; anything else raises
    :class:`UndeclaredTerm`, naming it and the nearest declared term."""

    def term(self, name: str) -> URIRef:
        try:
            return super().term(name)
        except KeyError:
            near = get_close_matches(name, dir(self), n=1)
            hint = f" (did you mean cbm:{near[0]}?)" if near else ""
            raise UndeclaredTerm(f"cbm:{name} is not a term of the ontology{hint}: "
                                 "declare it in ontology/cbm-*.ttl or correct it") from None


CBM = Vocabulary(TERMS, sorted(declared_terms()))
ID = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
SHAPES = Namespace(BASE + "shapes#")

ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
OA = Namespace("http://www.w3.org/ns/oa#")
SEM = Namespace("http://semanticweb.cs.vu.nl/2009/11/sem/")
VANN = Namespace("http://purl.org/vocab/vann/")
SH = Namespace("http://www.w3.org/ns/shacl#")

#: Prefixes offered to every SPARQL query and used when serialising Turtle.
PREFIXES: dict[str, str] = {
    "cbm": str(CBM),
    "cbmid": str(ID),
    "cbmg": str(GRAPH),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dct": str(DCTERMS),
    "prov": str(PROV),
    "time": str(TIME),
    "org": str(ORG),
    "odrl": str(ODRL),
    "eli": str(ELI),
    "oa": str(OA),
    "sem": str(SEM),
    "sh": str(SH),
}


def graph_iri(*parts: str) -> str:
    """IRI of a named graph of the project, e.g. ``graph_iri("ontology", "core")``."""
    return str(GRAPH) + "/".join(p.strip("/") for p in parts)
