"""Generate the human-readable ontology page with pyLODE.

    python -m loaders.docs        # writes docs/ontology/index.html

The modules are merged under the core ontology's header (pyLODE documents one ontology);
the page is generated from the labels and definitions in the Turtle, never hand-written.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

from cbmkg.config import ROOT

MODULES = ("cbm-core", "cbm-vocab", "cbm-odrl-profile", "cbm-external", "cbm-align")
CORE = URIRef("https://w3id.org/cbmkg/ontology")
OUTPUT = ROOT / "docs" / "ontology" / "index.html"


def merged() -> Graph:
    g = Graph()
    for module in MODULES:
        g.parse(ROOT / "ontology" / f"{module}.ttl", format="turtle")
    for header in list(g.subjects(RDF.type, OWL.Ontology)):
        if header != CORE:
            g.remove((header, None, None))
    return g


def render(output: Path = OUTPUT) -> Path:
    from pylode import OntPub

    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "cbmkg.ttl"
        merged().serialize(source, format="turtle")
        html = OntPub(ontology=str(source)).make_html()
    output.write_text(html, encoding="utf-8")
    return output


if __name__ == "__main__":
    print("wrote", render())
