"""`cbmkg build`: the ontology, the registers and the reports into the store, all at once.

One working set: the build stages everything in one Oxigraph store — the new generation of
an embedded store (on disk, or in memory), or a local scratch store for a remote one —
where each part is loaded once. Validation and the compliance findings read that store,
and publication makes it the store readers see (embedded: the generation becomes active;
remote: its graphs are uploaded in bounded chunks and published in one update). A bad
input stops the build with a message naming the file, and the store keeps what it had.

Validation goes by *unit*: each input file (a report's graphs, a dataset file's graphs) is
validated together with the ontology and the registers, many units at a time up to a
bounded number of quads. The integrity shapes are local to a report and the registers it
points at (every IRI of a report's facts is made from its symbol), so this gives the
results validating the whole union gives (a test checks it) at a memory cost bounded by
the chunk, not the store, and lets ``add`` validate only what it adds.

Graphs: each Turtle file under ``ontology/`` becomes the named graph
``https://w3id.org/cbmkg/graph/ontology/<path>`` (``ontology/registers/parties.ttl`` →
``…/graph/ontology/registers/parties``); a dataset file (N-Quads, TriG, e.g. the output of
``cbmkg extract``) keeps its own graph names; a report goes through the report loader.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from pyoxigraph import RdfFormat, parse
from rdflib import Graph
from rdflib.namespace import RDFS

from cbmkg.errors import InputError, StoreError
from cbmkg.findings import FINDINGS_GRAPH
from cbmkg.namespaces import graph_iri
from cbmkg.store import Build, GraphStore
from cbmkg.store.base import serialized
from cbmkg.validation import BASE_GRAPHS, Outcome, load_shapes, union_graph, validate_units

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
#: reports read in worker processes (one per core) when a build has at least this many
PARALLEL_REPORTS = 4
#: bytes of reports' N-Quads given to the store at once (one bulk load each, not one per
#: report: thousands of small loads leave RocksDB thousands of small files to merge)
LOAD_BATCH = 64 * 2**20


@dataclass
class Part:
    """One thing to write: a graph (``graph`` set) or a dataset (quads carry their graphs).

    ``data`` is the serialisation, or the file itself for a dataset file, which the store
    parses while it loads it (bulk loading without a second pass).
    """

    source: Path
    data: bytes | Path
    format: RdfFormat
    graph: str | None = None
    #: what the loader had to say about the input (kept in the build summary)
    warnings: list[str] = field(default_factory=list)
    #: the graphs a dataset part writes, when known without parsing it (a report's)
    graphs: set[str] | None = None


@dataclass
class BuildSummary:
    graphs: dict[str, int] = field(default_factory=dict)
    #: validation warnings (sh:Warning results)
    warnings: int = 0
    #: what the loaders said of their inputs, "file: message" each
    notes: list[str] = field(default_factory=list)
    #: quads the validation read (with ``add``: the added units and the registers only)
    validated: int = 0
    #: seconds per stage: load, validate, findings, publish
    seconds: dict[str, float] = field(default_factory=dict)

    #: quads of the store after the build (``graphs`` holds only the graphs it touched
    #: when it adds)
    total: int = 0

    @property
    def quads(self) -> int:
        return self.total or sum(self.graphs.values())


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
    """An RDF file as a part of the build (the store parses it while loading; a syntax
    error names the file and line and stops the build before it publishes)."""
    fmt = RDF_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: not an RDF file this build reads ({', '.join(RDF_FORMATS)})")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if graph is None and not fmt.supports_datasets:
        raise InputError(f"{path}: a graph file needs a graph name; give a dataset (N-Quads, TriG)")
    if graph is not None and fmt.supports_datasets:  # a dataset file read as one graph
        try:
            quads = parse(path=str(path), format=fmt)
            return Part(path, serialized((q.triple for q in quads), RdfFormat.N_TRIPLES),
                        RdfFormat.N_TRIPLES, graph)
        except SyntaxError as e:
            raise InputError(f"{path}: {e}") from None
    return Part(path, path, fmt, graph)


def _check_inputs(inputs: Iterable[Path]) -> list[Path]:
    """Every input exists and is of a kind the build reads (before anything is loaded)."""
    out = []
    for path in inputs:
        if not path.exists():
            raise InputError(f"{path}: no such file")
        suffix = path.suffix.lower()
        if suffix not in RDF_FORMATS and suffix not in REPORT_SUFFIXES:
            raise InputError(f"{path}: unknown input type '{suffix}' (reports: .txt .pdf .docx; "
                             f"RDF: {' '.join(RDF_FORMATS)})")
        out.append(path)
    return out


def input_parts(inputs: Iterable[Path], ontology_dir: Path, jobs: int | None = None) -> Iterator[Part]:
    """Reports and dataset files given to ``cbmkg build``, one part each, in order. Many
    reports are read by worker processes (``jobs``, default one per core) while the
    parts already read are loaded."""
    paths = _check_inputs(inputs)
    reports = [p for p in paths if p.suffix.lower() in REPORT_SUFFIXES]
    jobs = jobs or os.cpu_count() or 1
    if len(reports) < PARALLEL_REPORTS or jobs < 2:
        for path in paths:
            yield report_part(path, ontology_dir) if path in reports else read_rdf(path)
        return
    # "spawn": the build holds an open RocksDB, whose threads do not survive a fork
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
        read = pool.map(_read_report, reports, [ontology_dir] * len(reports), chunksize=2)
        for path in paths:
            if path in reports:
                data, warnings, graphs = next(read)
                yield Part(path, data, RdfFormat.N_QUADS, warnings=warnings, graphs=graphs)
            else:
                yield read_rdf(path)


def report_part(path: Path, ontology_dir: Path, symbol: str | None = None) -> Part:
    """A UN report read by the report loader, as one dataset part (a graph per reply)."""
    data, warnings, graphs = _read_report(path, ontology_dir, symbol)
    return Part(path, data, RdfFormat.N_QUADS, warnings=warnings, graphs=graphs)


def _read_report(path: Path, ontology_dir: Path,
                 symbol: str | None = None) -> tuple[bytes, list[str], set[str]]:
    """The report loader's N-Quads of one report, what it warned of and its graphs (plain
    values: this runs in worker processes)."""
    from loaders.report import extract

    dataset = extract(path, ontology_dir, symbol)
    graphs = {str(g.identifier) for g in dataset.graphs() if len(g)}
    return (dataset.serialize(format="nquads", encoding="utf-8"),
            [str(w) for w in getattr(dataset, "warnings", [])], graphs)


def default_inputs(corpus_dir: Path) -> list[Path]:
    return sorted(p for p in corpus_dir.glob("*") if p.suffix.lower() in REPORT_SUFFIXES)


def _load(staging: Build, part: Part) -> set[str]:
    """Stage one part; returns the graphs it wrote."""
    try:
        if part.graph:
            staging.put_graph(part.graph, part.data, part.format)
            return {part.graph}
        return staging.put_dataset(part.data, part.format)
    except StoreError as e:
        raise InputError(f"{part.source}: {e}") from None


#: the shapes files that gate a build (the compliance and consistency rules never do)
GATING_SHAPES = "integrity*.ttl"


def check(store: GraphStore, units: list[list[str]], shapes_dir: Path,
          sizes: dict[str, int] | None = None, findings: bool = False, jobs: int = 1) -> Outcome:
    """Validate ``units`` of ``store`` (each with the ontology and registers) with the
    integrity shapes, in ``jobs`` processes; a violation stops the build. With ``findings``,
    the compliance findings are computed over the same chunks (see
    :func:`cbmkg.validation.validate_units`)."""
    shapes = load_shapes(shapes_dir, sorted(shapes_dir.glob(GATING_SHAPES)))
    outcome = validate_units(store, units, shapes, sizes=sizes,
                             findings_dir=shapes_dir if findings else None, jobs=jobs)
    if not outcome.conforms:
        shown = [r for r in outcome.results if r.severity == "Violation"][:5]
        lines = "; ".join(f"{r.focus}: {r.message_en}" for r in shown)
        raise InputError(f"the build does not conform to the shapes ({outcome.count('Violation')} "
                         f"violations), the store is unchanged: {lines}")
    return outcome


def build(store: GraphStore, ontology_dir: Path, inputs: list[Path],
          progress: Progress | None = None, shapes_dir: Path | None = None, *,
          add: bool = False, jobs: int | None = None) -> BuildSummary:
    """Replace the whole store with the ontology, registers and ``inputs``; with ``add``,
    keep what the store holds and replace only the graphs ``inputs`` write.

    With ``shapes_dir``, validate with the integrity shapes what the build writes (with
    ``add``, the added inputs only, each with the ontology and registers of the store) and
    write the compliance findings of the result (graph ``…/graph/findings``) in the same
    publication.
    """
    say = progress or (lambda _message: None)
    summary = BuildSummary()
    clock = time.perf_counter()
    inputs = _check_inputs(inputs)
    if add and store.kind == "remote":
        raise InputError("adding reports works on the embedded store; rebuild a remote store whole")
    with store.begin(replace_all=not add) as staging:
        if not add:
            for part in ontology_parts(ontology_dir):
                say(f"loading {part.source.name}")
                _load(staging, part)
        units: list[list[str]] = []
        batch: list[bytes] = []
        sources: list[Path] = []

        def flush() -> None:
            if batch:
                _load(staging, Part(sources[0] if len(sources) == 1 else Path(f"{len(sources)} reports"),
                                    b"".join(batch), RdfFormat.N_QUADS))
                batch.clear()
                sources.clear()

        for part in input_parts(inputs, ontology_dir, jobs):
            say(f"loading {part.source.name}")
            summary.notes += [f"{part.source.name}: {w}" for w in part.warnings]
            if part.graphs is not None and isinstance(part.data, bytes):
                # a report: its graphs are its own (named from its symbol), so reports
                # can be loaded together; a clash of two inputs' graphs is refused
                batch.append(part.data)
                sources.append(part.source)
                units.append(sorted(part.graphs))
                if sum(len(b) for b in batch) > LOAD_BATCH:
                    flush()
                continue
            flush()
            units.append(sorted(_load(staging, part)))
        flush()
        seen: set[str] = set()
        for unit, path in zip(units, inputs, strict=False):
            if seen & set(unit):
                raise InputError(f"{path}: writes graphs another input of this build writes "
                                 f"({', '.join(sorted(seen & set(unit))[:3])}); give each report once")
            seen |= set(unit)
        view = staging.staged()
        if add:  # only what this build touches and reads: counting every graph reads the store
            base = [g for g in view.graphs() if g.startswith(BASE_GRAPHS)]
            sizes = view.graph_sizes([*base, *(g for unit in units for g in unit)])
        else:
            sizes = view.graph_sizes()
        summary.seconds["load"] = time.perf_counter() - clock
        if shapes_dir is not None:
            clock = time.perf_counter()
            say("validating and computing compliance findings")
            if not add:  # the ontology and registers alone too (a build may have no report)
                units.append([])
            # the findings' rules read what validation reads: a report with the registers,
            # chunk by chunk, so neither depends on the size of the store
            outcome = check(view, units, shapes_dir, sizes, findings=True,
                            jobs=jobs or os.cpu_count() or 1)
            found = outcome.findings if outcome.findings is not None else Graph()
            summary.warnings = outcome.count("Warning")
            summary.validated = outcome.quads
            if add:
                found += _kept_findings(view, [g for unit in units for g in unit])
            staging.put_graph(FINDINGS_GRAPH, found.serialize(format="nt", encoding="utf-8"),
                              RdfFormat.N_TRIPLES)
            sizes[FINDINGS_GRAPH] = len(found)
            summary.seconds["validate"] = time.perf_counter() - clock  # with the findings
        summary.graphs = {g: n for g, n in sizes.items() if n}
        summary.total = view.count()
        clock = time.perf_counter()
        say("publishing")
    summary.seconds["publish"] = time.perf_counter() - clock
    requests_ = getattr(store, "publish_requests", 1)
    if requests_ > 1:
        summary.notes.append(f"the server took the publication in {requests_} update requests, "
                             "not one transaction: readers may have seen part of it for that time")
    return summary


def _kept_findings(view: GraphStore, added: list[str]) -> Graph:
    """The findings of the store that still hold after ``added`` graphs were written: not
    those about a fact the store no longer has, nor about a fact of the added graphs
    (found again with them)."""
    old = Graph()
    if FINDINGS_GRAPH not in view.graphs():
        return old
    old.parse(data=view.graph_ntriples(FINDINGS_GRAPH), format="nt")
    facts = {str(o) for o in old.objects(None, RDFS.seeAlso)}
    if not facts:
        return old
    values = " ".join(f"<{f}>" for f in sorted(facts))
    graphs = " ".join(f"<{g}>" for g in added) or "<urn:cbmkg:none>"
    stale = {row["fact"].value for row in view.select(
        f"SELECT DISTINCT ?fact WHERE {{ VALUES ?fact {{ {values} }} "
        f"FILTER(NOT EXISTS {{ ?fact ?p ?o }} || EXISTS {{ VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?fact ?q ?v }} }}) }}")}
    for finding in {f for f, _, fact in old.triples((None, RDFS.seeAlso, None)) if str(fact) in stale}:
        old.remove((finding, None, None))
    return old


def parts_dump(parts: Iterable[Part]) -> bytes:
    """Parts as one N-Quads dump (for validating files that are not in a store)."""
    from pyoxigraph import Dataset, NamedNode, Quad

    dataset = Dataset()
    for part in parts:
        try:
            data = parse(path=str(part.data), format=part.format) if isinstance(part.data, Path) \
                else parse(part.data, format=part.format)
            for quad in data:
                if part.graph:
                    quad = Quad(quad.subject, quad.predicate, quad.object, NamedNode(part.graph))
                dataset.add(quad)
        except SyntaxError as e:
            raise InputError(f"{part.source}: {e}") from None
    return serialized(dataset, RdfFormat.N_QUADS)


def parts_graph(parts: Iterable[Part]) -> Graph:
    """Parts as one rdflib graph (the union of their graphs)."""
    return union_graph(parts_dump(parts))
