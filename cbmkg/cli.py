"""The `cbmkg` command.

The core contributes the commands that need only the store (query, queries, export); the
other parts contribute theirs through the entry-point group ``cbmkg.commands``
(``pyproject.toml``): ``loaders`` build, extract and validate, ``server`` serve. So the core
imports neither, and each part keeps its command next to its code."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from importlib.metadata import entry_points
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
from .store import open_store

#: messages and progress go to stderr, so that data on stdout can be piped
err = Console(stderr=True)


class Group(click.Group):
    """Turns the project's errors into one line on stderr and a non-zero exit code, and adds
    the commands the other parts contribute (entry points) the first time it is asked."""

    contributed = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        _add_contributed_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        _add_contributed_commands()
        return super().get_command(ctx, cmd_name)

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


def where(config: Config) -> str:
    """Where the store is, for messages: the endpoint or the store directory."""
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


COMMANDS = "cbmkg.commands"  # the entry-point group of the other parts' commands


def _add_contributed_commands() -> None:
    """The commands ``loaders`` and ``server`` declare as ``cbmkg.commands`` entry points."""
    if Group.contributed:
        return
    Group.contributed = True
    for entry in entry_points(group=COMMANDS):
        command = entry.load()
        if not isinstance(command, click.Command):
            raise TypeError(f"entry point {entry.value} of {COMMANDS} is not a click command")
        cli.add_command(command, entry.name)


def main() -> None:
    cli(prog_name="cbmkg")


if __name__ == "__main__":
    main()
