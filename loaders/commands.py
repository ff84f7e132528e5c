"""The loaders' commands of `cbmkg` (see cbmkg/cli.py): build, extract and validate."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from pyoxigraph import RdfFormat
from rdflib import Graph
from rdflib.namespace import RDF
from rich.console import Console
from rich.table import Table

from cbmkg.cli import err, store_options, where
from cbmkg.config import Config, load_config
from cbmkg.errors import InputError, StoreError
from cbmkg.store import EmbeddedStore, open_store


@click.command()
@click.argument("reports", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--validate/--no-validate", default=True, show_default=True,
              help="Check everything with the SHACL shapes before publishing (a violation stops "
                   "the build). Skip it only for bulk data checked elsewhere.")
@click.option("--add", is_flag=True,
              help="Keep what the store holds and add (or replace) the graphs of REPORTS only; "
                   "only they are validated. Embedded store only.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Processes that read reports (default: one per core).")
@click.option("--summary", type=click.Choice(["graphs", "total"]), default="graphs", show_default=True,
              help="Print every named graph with its triples, or the totals only.")
@store_options
def build(reports: tuple[Path, ...], validate: bool, add: bool, jobs: int | None, summary: str,
          config: Config) -> None:
    """Build the graph: ontology + registers + REPORTS into the store.

    With no REPORTS, the bundled corpus is built. REPORTS are UN reports (.txt, .pdf,
    .docx) or RDF datasets (.nq, .trig) such as `cbmkg extract` writes. The store changes
    only if everything loads: a failed or killed build leaves the previous graph in place.
    """
    from .build import build as run_build
    from .build import default_inputs

    if add and not reports:
        raise click.UsageError("--add needs the REPORTS to add")
    if add and config.endpoint:
        raise click.UsageError("--add works on the embedded store; rebuild a remote store whole")
    inputs = list(reports) or default_inputs(Path(config.corpus_dir))
    store = open_store(config, create=True)
    with err.status("building…") as status:
        result = run_build(store, Path(config.ontology_dir), inputs,
                           progress=lambda message: status.update(message),
                           shapes_dir=Path(config.shapes_dir) if validate else None, add=add, jobs=jobs)
    for note in result.notes:
        err.print(f"[yellow]warning[/] {note}")
    if result.warnings:
        err.print(f"[yellow]{result.warnings} validation warnings[/] (`cbmkg validate` lists them)")
    table = Table("named graph", "triples", title=f"cbmkg store ({where(config)})")
    if summary == "graphs":
        for graph, n in sorted(result.graphs.items()):
            table.add_row(graph, str(n))
    else:
        table.add_row(f"{len(result.graphs)} named graphs", "")
    table.add_row("[bold]total[/]", f"[bold]{result.quads}[/]")
    Console().print(table)
    err.print("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in result.seconds.items())
              + (f"; {result.validated} quads validated" if validate else ""))


@click.command()
@click.argument("report", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["nquads", "trig", "turtle", "jsonld"]),
              default="nquads", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
@click.option("--symbol", help="Report symbol when the text does not carry it (e.g. A/75/95).")
def extract(report: Path, fmt: str, output: Path | None, symbol: str | None) -> None:
    """Turn one REPORT into RDF without touching the store."""
    from .report import extract as run_extract

    config = load_config()
    dataset = run_extract(report, Path(config.ontology_dir), symbol)
    if fmt == "turtle":
        # Turtle has no named graphs: the union of the report's graphs, one file
        from rdflib import Graph

        union = Graph()
        for prefix, namespace in dataset.namespaces():
            union.bind(prefix, namespace)
        for s_, p_, o_, _g in dataset.quads():
            union.add((s_, p_, o_))
        data = union.serialize(format="turtle", encoding="utf-8")
    else:
        rdflib_format = {"nquads": "nquads", "trig": "trig", "jsonld": "json-ld"}[fmt]
        data = dataset.serialize(format=rdflib_format, encoding="utf-8")
    if output:
        tmp = output.with_name(output.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(output)
        err.print(f"{len(dataset)} quads in {len(list(dataset.graphs())) - 1} graphs written to {output}")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


@click.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--shapes", "shape_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Shapes file(s) to use instead of every file of shapes/ (repeatable); the rule "
                   "files among them (compliance-*.ttl, consistency.ttl) give the findings.")
@click.option("--format", "fmt", type=click.Choice(["text", "turtle", "jsonld", "csv"]),
              default="text", show_default=True)
@click.option("--inference", type=click.Choice(["none", "rdfs"]), default="none", show_default=True,
              help="Add what RDFS entails from the ontology before validating.")
@click.option("--engine", type=click.Choice(["turbo", "pyshacl"]), default="turbo", show_default=True,
              help="pyshacl-turbo (fast) or pySHACL (the reference).")
@click.option("--findings/--no-findings", "with_findings", default=True, show_default=True,
              help="Compute and report the compliance findings (and, for the store, write them into "
                   "its graph …/graph/findings).")
@click.option("--fail-on", type=click.Choice(["integrity", "findings"]), default="integrity",
              show_default=True,
              help="Exit 1 on a data-integrity violation only, or also on a compliance finding "
                   "that is an sh:Violation (an established breach).")
@store_options
def validate(files: tuple[Path, ...], shape_files: tuple[Path, ...], fmt: str, inference: str,
             engine: str, with_findings: bool, fail_on: str, config: Config) -> None:
    """Validate the store, or FILES (with the ontology and registers), with the SHACL shapes.

    FILES are RDF (Turtle, N-Triples, JSON-LD, RDF/XML, N-Quads, TriG) or UN reports (.txt,
    .pdf, .docx). Two sections: the data's integrity (the integrity shapes), and the
    compliance findings (the rule shapes: what reports say of states, which is no fault of
    the data). Exits 1 when the data does not conform (an integrity sh:Violation), or, with
    --fail-on findings, also when a finding is an sh:Violation.
    """
    from cbmkg import findings, validation

    shapes_dir = Path(config.shapes_dir)
    chosen = list(shape_files) or sorted(shapes_dir.glob("*.ttl"))
    rules = findings.rule_paths(shapes_dir, chosen)
    integrity = [p for p in chosen if p not in rules]
    store = _files_store(list(files), config) if files else open_store(config)
    outcome = validation.Outcome([], Graph())
    reasoning = None if inference == "none" else inference
    with err.status("validating…"):
        if integrity and files:
            outcome = validation.validate(validation.union_store(store.export_bytes()),
                                          validation.load_shapes(shapes_dir, integrity), engine=engine,
                                          inference=reasoning)
        elif integrity:  # report by report with the registers: memory bounded whatever the store's size
            sizes = store.graph_sizes()
            outcome = validation.validate_units(
                store, validation.units_of(sizes) or [[]], validation.load_shapes(shapes_dir, integrity),
                sizes=sizes, engine=engine, inference=reasoning)
        found = findings.compute(store, shapes_dir, rules) if with_findings and rules else None
    if found is not None and not files:
        store.replace_graph(findings.FINDINGS_GRAPH, found.serialize(format="nt", encoding="utf-8"),
                            RdfFormat.N_TRIPLES)
        err.print(f"{len(set(found.subjects(RDF.type, findings.CBM.ComplianceFinding)))} compliance "
                  f"findings written to {findings.FINDINGS_GRAPH}")
    rules_graph = validation.load_shapes(shapes_dir, rules) if found is not None else None
    summaries = findings.summaries(found, store, rules_graph) if found is not None else None
    if fmt == "text":
        click.echo(validation.as_text(outcome, summaries), nl=False)
    elif fmt == "csv":
        click.echo(validation.as_csv(outcome, summaries or ()), nl=False)
    else:
        report = outcome.report
        if found is not None:
            report += found  # the findings are sh:ValidationResult too, next to the integrity report
        report.bind("sh", "http://www.w3.org/ns/shacl#")
        report.bind("cbm", "https://w3id.org/cbmkg/ontology#")
        click.echo(report.serialize(format="turtle" if fmt == "turtle" else "json-ld"))
    violations = [s for s in summaries or () if s.severity == "Violation"]
    if not outcome.conforms or (fail_on == "findings" and violations):
        sys.exit(1)


def _files_store(files: list[Path], config: Config) -> EmbeddedStore:
    """An in-memory store with the ontology and registers plus the given files: an RDF
    file's default graph becomes a graph of its own (a plain Turtle file is one graph), its
    named graphs stay; a report is read as the loader reads it."""
    from pyoxigraph import DefaultGraph, NamedNode, Quad, parse

    from cbmkg.namespaces import graph_iri
    from cbmkg.store.base import serialized

    from .build import RDF_FORMATS, Part, input_parts, ontology_parts

    ontology = Path(config.ontology_dir)
    parts = ontology_parts(ontology)
    for path in files:
        fmt = RDF_FORMATS.get(path.suffix.lower())
        if fmt is None:
            parts += input_parts([path], ontology, jobs=1)
            continue
        own = NamedNode(graph_iri("input", path.name))
        try:
            quads = [Quad(q.subject, q.predicate, q.object, own if isinstance(q.graph_name, DefaultGraph)
                          else q.graph_name) for q in parse(path=str(path), format=fmt)]
        except OSError as e:
            raise InputError(f"{path}: cannot read: {e.strerror}") from None
        except SyntaxError as e:
            raise InputError(f"{path}: {e}") from None
        parts.append(Part(path, serialized(quads, RdfFormat.N_QUADS), RdfFormat.N_QUADS))
    store = EmbeddedStore.memory()
    with store.begin(replace_all=True) as staging:
        for part in parts:
            try:
                if part.graph:
                    staging.put_graph(part.graph, part.data, part.format)
                else:
                    staging.put_dataset(part.data, part.format)
            except StoreError as e:
                raise InputError(f"{part.source}: {e}") from None
    return store
