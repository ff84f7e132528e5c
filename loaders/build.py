"""`cbmkg build`: the ontology, the registers and the reports into the store, all at once.

Every input is read and checked *before* the store is touched; then everything is written
through one :class:`~cbmkg.store.Build`, which publishes it in a single step. A bad input
therefore stops the build with a message naming the file, and the store keeps what it had.

Graphs: each Turtle file under ``ontology/`` becomes the named graph
``https://w3id.org/cbmkg/graph/ontology/<path>`` (``ontology/registers/parties.ttl`` →
``…/graph/ontology/registers/parties``); a dataset file (N-Quads, TriG, e.g. the output of
``cbmkg extract``) keeps its own graph names; a report goes through the report loader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import Dataset, RdfFormat, parse
from rdflib import Graph

from cbmkg.errors import InputError, StoreError
from cbmkg.findings import FINDINGS_GRAPH
from cbmkg.findings import compute as compute_findings
from cbmkg.namespaces import graph_iri
from cbmkg.store import EmbeddedStore, GraphStore
from cbmkg.store.base import serialized
from cbmkg.validation import load_shapes, union_graph, union_store, validate

#: File endings read as RDF as they are.
RDF_FORMATS = {
    ".ttl": RdfFormat.TURTLE,
    ".nt": RdfFormat.N_TRIPLES,
    ".nq": RdfFormat.N_QUADS,
    ".trig": RdfFormat.TRIG,
    ".jsonld": RdfFormat.JSON_LD,
    ".rdf": RdfFormat.RDF_XML,
    ".owl": RdfFormat.RDF_XML,
}
#: File endings read by the report loader.
REPORT_SUFFIXES = {".txt", ".pdf", ".docx"}


@dataclass
class Part:
    """One thing to write: a graph (``graph`` set) or a dataset (quads carry their graphs).

    ``data`` is the serialisation, or the file itself for a dataset file, which the store
    parses while it loads it (bulk loading without a second pass; a syntax error then aborts
    the build, which is invisible until it commits).
    """

    source: Path
    data: bytes | Path
    format: RdfFormat
    graph: str | None = None


@dataclass
class BuildSummary:
    graphs: dict[str, int] = field(default_factory=dict)
    warnings: int = 0

    @property
    def quads(self) -> int:
        return sum(self.graphs.values())


Progress = Callable[[str], None]


def ontology_parts(ontology_dir: Path) -> list[Part]:
    """Every Turtle file under ``ontology_dir``, each as its own named graph."""
    if not ontology_dir.is_dir():
        raise InputError(f"ontology folder not found: {ontology_dir}")
    parts = []
    for path in sorted(ontology_dir.rglob("*.ttl")):
        relative = path.relative_to(ontology_dir).with_suffix("")
        parts.append(read_rdf(path, graph=graph_iri("ontology", *relative.parts)))
    return parts


def read_rdf(path: Path, graph: str | None = None) -> Part:
    """An RDF file as a part of the build. A graph file is parsed here, so a syntax error
    names the file and line before anything is written."""
    fmt = RDF_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: not an RDF file this build reads ({', '.join(RDF_FORMATS)})")
    if graph is None and fmt.supports_datasets:
        return Part(path, path, fmt)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    try:
        quads = list(parse(data, format=fmt))
    except SyntaxError as e:
        raise InputError(f"{path}: {e}") from None
    if graph is None and not fmt.supports_datasets:
        raise InputError(f"{path}: a graph file needs a graph name; give a dataset (N-Quads, TriG)")
    if graph is not None and fmt.supports_datasets:
        data, fmt = serialized((q.triple for q in quads), RdfFormat.N_TRIPLES), RdfFormat.N_TRIPLES
    return Part(path, data, fmt, graph)


def input_parts(inputs: Iterable[Path], ontology_dir: Path) -> list[Part]:
    """Reports and dataset files given to ``cbmkg build``."""
    parts: list[Part] = []
    for path in inputs:
        if not path.exists():
            raise InputError(f"{path}: no such file")
        suffix = path.suffix.lower()
        if suffix in RDF_FORMATS:
            parts.append(read_rdf(path))
        elif suffix in REPORT_SUFFIXES:
            parts.extend(report_parts(path, ontology_dir))
        else:
            raise InputError(f"{path}: unknown input type '{suffix}' (reports: .txt .pdf .docx; "
                             f"RDF: {' '.join(RDF_FORMATS)})")
    return parts


def report_parts(path: Path, ontology_dir: Path, symbol: str | None = None) -> list[Part]:
    """A UN report read by the report loader, as one dataset part (a graph per reply)."""
    from loaders.report import extract

    dataset = extract(path, ontology_dir, symbol)
    return [Part(path, dataset.serialize(format="nquads", encoding="utf-8"), RdfFormat.N_QUADS)]


def default_inputs(corpus_dir: Path) -> list[Path]:
    return sorted(p for p in corpus_dir.glob("*") if p.suffix.lower() in REPORT_SUFFIXES)


def parts_dump(parts: list[Part]) -> bytes:
    """Everything a build would write, as one N-Quads dump."""
    dataset = Dataset()
    for part in parts:
        try:
            quads = parse(path=str(part.data), format=part.format) if isinstance(part.data, Path) \
                else parse(part.data, format=part.format)
            for quad in quads:
                dataset.add(quad)
        except SyntaxError as e:
            raise InputError(f"{part.source}: {e}") from None
    return serialized(dataset, RdfFormat.N_QUADS)


def parts_graph(parts: list[Part]) -> Graph:
    """Everything a build would write, as one rdflib graph (the union of its graphs)."""
    return union_graph(parts_dump(parts))


#: the shapes files that gate a build (the compliance and consistency rules never do)
GATING_SHAPES = "integrity*.ttl"


def check(parts: list[Part], shapes_dir: Path) -> int:
    """Validate what a build would write with the integrity shapes; a violation stops the
    build. Returns the number of warnings."""
    shapes = load_shapes(shapes_dir, sorted(shapes_dir.glob(GATING_SHAPES)))
    outcome = validate(union_store(parts_dump(parts)), shapes)
    if not outcome.conforms:
        shown = [r for r in outcome.results if r.severity == "Violation"][:5]
        lines = "; ".join(f"{r.focus}: {r.message_en}" for r in shown)
        raise InputError(f"the build does not conform to the shapes ({outcome.count('Violation')} "
                         f"violations), the store is unchanged: {lines}")
    return outcome.count("Warning")


def findings_part(parts: list[Part], shapes_dir: Path) -> Part:
    """The compliance findings of what a build would write, as one more part of it."""
    scratch = EmbeddedStore.memory()
    with scratch.begin(replace_all=True) as staging:
        for part in parts:
            if part.graph:
                staging.put_graph(part.graph, part.data, part.format)
            else:
                staging.put_dataset(part.data, part.format)
    graph = compute_findings(scratch, shapes_dir)
    return Part(shapes_dir, graph.serialize(format="nt", encoding="utf-8"), RdfFormat.N_TRIPLES,
                FINDINGS_GRAPH)


def build(store: GraphStore, ontology_dir: Path, inputs: list[Path],
          progress: Progress | None = None, shapes_dir: Path | None = None) -> BuildSummary:
    """Replace the whole store with the ontology, registers and ``inputs``. With
    ``shapes_dir``, check them with the integrity shapes first and add the compliance
    findings (their graph, ``…/graph/findings``) to the same publication."""
    say = progress or (lambda _message: None)
    parts = ontology_parts(ontology_dir)
    parts += input_parts(inputs, ontology_dir)
    summary = BuildSummary()
    if shapes_dir is not None:
        say("validating")
        summary.warnings = check(parts, shapes_dir)
        say("computing compliance findings")
        parts.append(findings_part(parts, shapes_dir))
    with store.begin(replace_all=True) as staging:
        for part in parts:
            say(f"loading {part.source.name}")
            try:
                if part.graph:
                    staging.put_graph(part.graph, part.data, part.format)
                else:
                    staging.put_dataset(part.data, part.format)
            except StoreError as e:
                raise InputError(f"{part.source}: {e}") from None
        say("publishing")
    for row in store.select(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
            union_default_graph=False):
        summary.graphs[row["g"].value] = int(row["n"].value)
    return summary
