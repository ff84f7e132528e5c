"""Generate the human-readable ontology page with pyLODE.

    python -m loaders.docs        # writes docs/ontology/index.html

The modules are merged under the core ontology's header (pyLODE documents one ontology);
the page is generated from the labels and definitions in the Turtle, never hand-written.
pyLODE takes every SKOS concept scheme for the ontology and runs the labels of all languages
into one title, so it is given a copy of the ontology made for it: English labels as the
titles, the other languages' labels listed in a note, the concept schemes out of its way;
the schemes and their concepts (strengths of findings, qualifiers, kinds of evidence…) get a
section of their own, which pyLODE does not have.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from babel import Locale
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS
from rdflib.term import Node

from cbmkg.config import ROOT
from cbmkg.ontology import merged

OUTPUT = ROOT / "docs" / "ontology" / "index.html"
#: the properties pyLODE makes a title of
TITLES = (RDFS.label, SKOS.prefLabel, DCTERMS.title)
ORDER = ("en", "zh", "fr", "es", "ru", "ar")


def _language_name(lang: str) -> str:
    return Locale.parse(lang).get_display_name(lang) or lang


def other_languages(g: Graph, subject: Node) -> str | None:
    """"Other languages: 文书 (中文) · instrument (français) · …" for a term's non-English
    labels, in the order of the UN languages."""
    labels = [(o.language, str(o)) for p in TITLES for o in g.objects(subject, p)
              if isinstance(o, Literal) and o.language and o.language != "en"]
    if not labels:
        return None
    labels.sort(key=lambda x: (ORDER.index(x[0]) if x[0] in ORDER else len(ORDER), x[1]))
    return "Other languages: " + " · ".join(f"{text} ({_language_name(lang)})" for lang, text in labels)


def for_pylode(g: Graph) -> Graph:
    """A copy of ``g`` pyLODE renders correctly: one English title per term (the other
    languages in a skos:note) and no concept schemes (it would take them for the ontology)."""
    out = Graph()
    for prefix, namespace in g.namespaces():
        out.bind(prefix, namespace)
    for s, p, o in g:
        if p == RDF.type and o == SKOS.ConceptScheme:
            continue
        if p in TITLES and isinstance(o, Literal) and o.language and o.language != "en":
            continue
        out.add((s, p, o))
    for s in set(g.subjects()):
        if isinstance(s, URIRef) and (note := other_languages(g, s)):
            out.add((s, SKOS.note, Literal(note)))
    return out


def _english(g: Graph, subject: Node, *predicates: URIRef) -> str:
    for p in predicates:
        for o in g.objects(subject, p):
            if isinstance(o, Literal) and o.language == "en":
                return str(o)
    return str(subject).rsplit("#", 1)[-1]


def _page(g: Graph) -> Any:
    """pyLODE's page with a section for the controlled vocabularies."""
    from dominate.tags import a, code, div, h2, h3, h4, li, table, td, th, tr, ul
    from pylode import OntPub

    schemes = sorted(g.subjects(RDF.type, SKOS.ConceptScheme),
                     key=lambda s: _english(g, s, SKOS.prefLabel, RDFS.label).lower())

    class Page(OntPub):
        def _make_main_sections(self) -> None:
            super()._make_main_sections()
            section = div(h2("Controlled vocabularies"), id="vocabularies", _class="section")
            for scheme in schemes:
                name = _english(g, scheme, SKOS.prefLabel, RDFS.label)
                block = div(h3(name), id=str(scheme).rsplit("#", 1)[-1], _class="property entity")
                block.add(table(tr(th("IRI"), td(code(str(scheme)))),
                                tr(th("Description"), td(_english(g, scheme, SKOS.definition)))))
                concepts = sorted(g.subjects(SKOS.inScheme, scheme),
                                  key=lambda c: _english(g, c, SKOS.prefLabel).lower())
                rows = table(tr(th("concept"), th("IRI"), th("definition"), th("other languages")))
                for concept in concepts:
                    note = other_languages(g, concept) or ""
                    rows.add(tr(td(_english(g, concept, SKOS.prefLabel)), td(code(str(concept))),
                                td(_english(g, concept, SKOS.definition)),
                                td(note.removeprefix("Other languages: "))))
                block.add(rows)
                section.add(block)
            self.content.add(section)

        def _make_toc(self) -> None:
            super()._make_toc()
            first = next(e for e in self.doc.body.get(ul) if "first" in e.attributes.get("class", ""))
            entry = li(h4(a("Controlled vocabularies", href="#vocabularies")))
            entry.add(ul([li(a(_english(g, s, SKOS.prefLabel, RDFS.label), href="#" + str(s).rsplit("#", 1)[-1]))
                          for s in schemes], _class="second"))
            first.add(entry)

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "cbmkg.ttl"
        for_pylode(g).serialize(source, format="turtle")
        html = Page(ontology=str(source)).make_html()
    return html


def render(output: Path = OUTPUT) -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    html = _page(merged())
    output.write_text(html, encoding="utf-8")
    return output


if __name__ == "__main__":
    print("wrote", render())
