"""The loaders' commands of `cbmkg` (see cbmkg/cli.py): build, extract and validate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from pyoxigraph import RdfFormat
from rich.console import Console
from rich.table import Table

from cbmkg.cli import err, store_options, where
from cbmkg.config import Config, load_config
from cbmkg.store import open_store


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
              help="Shapes file(s) to use instead of every file of shapes/ (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "turtle", "jsonld", "csv"]),
              default="text", show_default=True)
@click.option("--inference", type=click.Choice(["none", "rdfs"]), default="none", show_default=True,
              help="Add what RDFS entails from the ontology before validating.")
@click.option("--engine", type=click.Choice(["turbo", "pyshacl"]), default="turbo", show_default=True,
              help="pyshacl-turbo (fast) or pySHACL (the reference).")
@click.option("--findings/--no-findings", "write_findings", default=True, show_default=True,
              help="Write the compliance findings into the store (graph …/graph/findings).")
@store_options
def validate(files: tuple[Path, ...], shape_files: tuple[Path, ...], fmt: str, inference: str,
             engine: str, write_findings: bool, config: Config) -> None:
    """Validate the store, or FILES (RDF or reports, with the ontology), with the SHACL shapes.

    Exits 0 when the data conforms (no sh:Violation), 1 when it does not.
    """
    from cbmkg import validation

    shapes = validation.load_shapes(Path(config.shapes_dir), shape_files)
    with err.status("validating…"):
        if files:
            outcome = validation.validate(_files_graph(list(files), config), shapes, engine=engine,
                                          inference=None if inference == "none" else inference)
        else:  # report by report with the registers: memory bounded whatever the store's size
            store = open_store(config)
            sizes = store.graph_sizes()
            outcome = validation.validate_units(
                store, validation.units_of(sizes) or [[]], shapes, sizes=sizes, engine=engine,
                inference=None if inference == "none" else inference)
    if fmt == "text":
        click.echo(validation.as_text(outcome), nl=False)
    elif fmt == "csv":
        click.echo(validation.as_csv(outcome), nl=False)
    else:
        outcome.report.bind("sh", "http://www.w3.org/ns/shacl#")
        click.echo(outcome.report.serialize(format="turtle" if fmt == "turtle" else "json-ld"))
    if not files and write_findings:
        from cbmkg import findings

        store = open_store(config)
        graph = findings.compute(store, Path(config.shapes_dir))
        store.replace_graph(findings.FINDINGS_GRAPH, graph.serialize(format="nt", encoding="utf-8"),
                            RdfFormat.N_TRIPLES)
        err.print(f"{len(set(graph.subjects()))} compliance findings written to {findings.FINDINGS_GRAPH}")
    if not outcome.conforms:
        sys.exit(1)


def _files_graph(files: list[Path], config: Config) -> Any:
    """The ontology and registers plus the given files, as one graph."""
    from cbmkg.validation import union_store

    from .build import input_parts, ontology_parts, parts_dump

    ontology = Path(config.ontology_dir)
    return union_store(parts_dump([*ontology_parts(ontology), *input_parts(files, ontology, jobs=1)]))
