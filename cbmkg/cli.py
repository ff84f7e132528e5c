"""The `cbmkg` command: build, extract, query, validate, serve and export the graph."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from pyoxigraph import RdfFormat
from rich.console import Console
from rich.table import Table

from . import __version__, results
from .catalogue import Catalogue
from .config import Config, load_config
from .errors import CbmkgError
from .store import EmbeddedStore, open_store

err = Console(stderr=True)


class Group(click.Group):
    """Turns the project's errors into one line on stderr and a non-zero exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CbmkgError as e:
            click.echo(f"Error: {e}", err=True)
            ctx.exit(e.exit_code)


def store_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--store / --endpoint on every subcommand that touches the store."""

    @click.option("--store", "store", type=click.Path(file_okay=False, path_type=Path),
                  help="Embedded store directory [env CBMKG_STORE; default var/store].")
    @click.option("--endpoint", help="Remote SPARQL 1.1 endpoint URL instead of the embedded "
                  "store [env CBMKG_ENDPOINT].")
    @click.option("--update-endpoint", help="Remote SPARQL Update URL, if not the endpoint "
                  "[env CBMKG_UPDATE_ENDPOINT].")
    @wraps(func)
    def wrapper(*args: Any, store: Path | None, endpoint: str | None,
                update_endpoint: str | None, **kwargs: Any) -> Any:
        if store and endpoint:
            raise click.UsageError("give --store or --endpoint, not both")
        config = load_config({"store": str(store) if store else None, "endpoint": endpoint,
                              "update_endpoint": update_endpoint})
        return func(*args, config=config, **kwargs)

    return wrapper


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cbmkg")
def cli() -> None:
    """cbmkg: the knowledge graph of confidence-building measures.

    Build the graph from UN reports, query it with named or ad-hoc SPARQL, validate it
    with SHACL, serve it over HTTP and export it. Settings come from CBMKG_* environment
    variables or the options below (see README, "Configuration").
    """


@cli.command()
@click.argument("reports", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--validate/--no-validate", default=True, show_default=True,
              help="Check everything with the SHACL shapes before publishing (a violation stops "
                   "the build). Skip it only for bulk data checked elsewhere.")
@store_options
def build(reports: tuple[Path, ...], validate: bool, config: Config) -> None:
    """Build the graph: ontology + registers + REPORTS into the store.

    With no REPORTS, the bundled corpus is built. REPORTS are UN reports (.txt, .pdf,
    .docx) or RDF datasets (.nq, .trig) such as `cbmkg extract` writes. The store changes
    only if everything loads: a failed or killed build leaves the previous graph in place.
    """
    from loaders.build import build as run_build
    from loaders.build import default_inputs

    inputs = list(reports) or default_inputs(Path(config.corpus_dir))
    store = open_store(config, create=True)
    with err.status("building…") as status:
        summary = run_build(store, Path(config.ontology_dir), inputs,
                            progress=lambda message: status.update(message),
                            shapes_dir=Path(config.shapes_dir) if validate else None)
    if summary.warnings:
        err.print(f"[yellow]{summary.warnings} validation warnings[/] (`cbmkg validate` lists them)")
    table = Table("named graph", "triples", title=f"cbmkg store ({_where(config)})")
    for graph, n in sorted(summary.graphs.items()):
        table.add_row(graph, str(n))
    table.add_row("[bold]total[/]", f"[bold]{summary.quads}[/]")
    Console().print(table)


@cli.command()
@click.argument("report", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["nquads", "trig", "turtle", "jsonld"]),
              default="nquads", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
@click.option("--symbol", help="Report symbol when the text does not carry it (e.g. A/75/95).")
def extract(report: Path, fmt: str, output: Path | None, symbol: str | None) -> None:
    """Turn one REPORT into RDF without touching the store."""
    from loaders.report import extract as run_extract

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


@cli.command()
@click.argument("query")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Bind a parameter of a named query (repeatable).")
@click.option("--format", "fmt", type=click.Choice(results.FORMATS), default="table",
              show_default=True)
@click.option("--no-union", is_flag=True,
              help="Default graph = the store's default graph, not the union of all graphs.")
@store_options
def query(query: str, params: tuple[str, ...], fmt: str, no_union: bool, config: Config) -> None:
    """Run QUERY: a named query (see `cbmkg queries`) or a .rq file."""
    text = _query_text(query, params, config)
    store = open_store(config)
    answer = store.query(text, union_default_graph=not no_union)
    out = sys.stdout.buffer
    results.write(answer, fmt, out, console=Console())
    out.flush()


@cli.command("queries")
@store_options
def list_queries(config: Config) -> None:
    """List the named queries with their parameters."""
    table = Table("name", "title", "parameters")
    for q in Catalogue(config.queries_dir).all():
        params = ", ".join(f"{p.name} ({p.type})" for p in q.parameters)
        table.add_row(q.name, q.title, params)
    Console().print(table)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["nquads", "trig"]), default="nquads",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
@store_options
def export(fmt: str, output: Path | None, config: Config) -> None:
    """Write every quad of the store."""
    store = open_store(config)
    rdf_format = RdfFormat.N_QUADS if fmt == "nquads" else RdfFormat.TRIG
    if output:
        tmp = output.with_name(output.name + ".part")
        with open(tmp, "wb") as f:
            store.export(f, rdf_format)
        tmp.replace(output)  # no half-written file under the real name
    else:
        store.export(sys.stdout.buffer, rdf_format)
        sys.stdout.buffer.flush()


@cli.command()
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
    from . import validation

    shapes = validation.load_shapes(Path(config.shapes_dir), shape_files)
    if files:
        data = _files_graph(list(files), config)
    else:
        data = validation.union_store(open_store(config).export_bytes())
    with err.status("validating…"):
        outcome = validation.validate(data, shapes, engine=engine,
                                      inference=None if inference == "none" else inference)
    if fmt == "text":
        click.echo(validation.as_text(outcome), nl=False)
    elif fmt == "csv":
        click.echo(validation.as_csv(outcome), nl=False)
    else:
        outcome.report.bind("sh", "http://www.w3.org/ns/shacl#")
        click.echo(outcome.report.serialize(format="turtle" if fmt == "turtle" else "json-ld"))
    if not files and write_findings:
        from . import findings

        store = open_store(config)
        graph = findings.compute(store, Path(config.shapes_dir))
        store.replace_graph(findings.FINDINGS_GRAPH, graph.serialize(format="nt", encoding="utf-8"),
                            RdfFormat.N_TRIPLES)
        err.print(f"{len(set(graph.subjects()))} compliance findings written to {findings.FINDINGS_GRAPH}")
    if not outcome.conforms:
        sys.exit(1)


def _files_graph(files: list[Path], config: Config) -> Any:
    """The ontology and registers plus the given files, as one graph."""
    from loaders.build import input_parts, ontology_parts, parts_dump

    from .validation import union_store

    ontology = Path(config.ontology_dir)
    return union_store(parts_dump(ontology_parts(ontology) + input_parts(files, ontology)))


@cli.command()
@click.option("--host", help="Address to listen on [env CBMKG_HOST; default 127.0.0.1].")
@click.option("--port", type=int, help="Port [env CBMKG_PORT; default 8080].")
@store_options
def serve(host: str | None, port: int | None, config: Config) -> None:
    """Serve the graph over HTTP: SPARQL 1.1 at /sparql, the query page at /ui.

    Runs under gunicorn with CBMKG_WORKERS worker processes, each answering one request at a
    time; a query past CBMKG_QUERY_TIMEOUT is answered 503 and its process replaced. Also:
    named queries (/queries), Graph Store reads (/store), linked-data pages (/id/…), VoID,
    OpenAPI (/openapi.json), /healthz and /metrics. Updates only with CBMKG_UPDATE_TOKEN set.
    """
    from server.serving import serve as run

    config = config.replace(host=host, port=port)
    # fail here, with one line, if the store cannot be reached; the embedded store is only
    # checked, not opened: RocksDB must not start in a process that forks the workers
    if config.endpoint:
        open_store(config).graphs()
    else:
        EmbeddedStore.check(config.store)
    site = f"http://{config.host}:{config.port}"
    err.print(f"serving {_where(config)}: SPARQL {site}/sparql, query page {site}/ui "
              f"({config.workers} worker processes)")
    run(config)


def _where(config: Config) -> str:
    return config.endpoint or config.store


def _query_text(query: str, params: tuple[str, ...], config: Config) -> str:
    values = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.UsageError(f"--param takes KEY=VALUE, got {item!r}")
        values[key] = value
    if query.endswith((".rq", ".sparql")) or "/" in query:
        path = Path(query)
        if not path.is_file():
            raise click.UsageError(f"no query file {query}")
        if values:
            raise click.UsageError("--param binds parameters of named queries, not of files")
        return path.read_text(encoding="utf-8")
    return Catalogue(config.queries_dir).get(query).bind(values)


def main() -> None:
    cli(prog_name="cbmkg")


if __name__ == "__main__":
    main()
