"""The layout's rule, checked on every file: ``loaders`` and ``server`` both import the core
``cbmkg``, never each other, and ``cbmkg`` imports neither (its command line gets their
commands through entry points, see cbmkg/cli.py). Tests do not import benchmarks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cbmkg.config import ROOT

FORBIDDEN = {"cbmkg": {"loaders", "server"}, "loaders": {"server"}, "server": {"loaders"},
             "tests": {"benchmarks"}}


def imported_packages(path: Path) -> set[str]:
    """Top-level names of the absolute imports in a file (including those inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_each_part_imports_only_what_the_layout_allows(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files in {package}/"
    broken = {f"{path.relative_to(ROOT)} imports {name}"
              for path in files for name in imported_packages(path) & FORBIDDEN[package]}
    assert not broken, sorted(broken)


def test_the_rule_sees_imports_inside_functions(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from server.serving import serve\n    import loaders.build\n")
    assert imported_packages(sneaky) == {"server", "loaders"}


def test_the_command_line_has_every_command() -> None:
    from click.testing import CliRunner

    from cbmkg.cli import _add_contributed_commands, cli

    _add_contributed_commands()
    listed = CliRunner().invoke(cli, ["--help"]).output
    for command in ("build", "extract", "validate", "serve", "query", "queries", "export"):
        assert f"  {command} " in listed, command
