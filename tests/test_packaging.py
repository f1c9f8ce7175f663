"""Eslabón as an installed package: every command in pyproject.toml names a function that
exists, and no module edits sys.path or needs a `__main__` guard to be run."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS: dict[str, str] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
    "project"
]["scripts"]
PACKAGES = ("etl", "dashboard")


def test_the_four_commands_are_declared() -> None:
    assert set(SCRIPTS) == {"eslabon-etl", "eslabon-report", "eslabon-records", "eslabon-users"}


@pytest.mark.parametrize("command", sorted(SCRIPTS))
def test_each_command_names_a_function(command: str) -> None:
    module_name, _, attribute = SCRIPTS[command].partition(":")
    assert callable(getattr(importlib.import_module(module_name), attribute))


@pytest.mark.parametrize(
    ("module", "prog"),
    [
        ("etl", "python -m etl"),
        ("dashboard.report", "python -m dashboard.report"),
        ("dashboard.records", "python -m dashboard.records"),
        ("dashboard.access", "python -m dashboard.access"),
    ],
)
def test_python_dash_m_runs_the_same_command(module: str, prog: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {prog} ")


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _edits_sys_path(tree: ast.AST) -> bool:
    """A call of sys.path.<anything>(...) or an assignment to sys.path."""
    for node in ast.walk(tree):
        target = node.func if isinstance(node, ast.Call) else None
        if isinstance(target, ast.Attribute):
            owner = target.value
            if (
                isinstance(owner, ast.Attribute)
                and owner.attr == "path"
                and isinstance(owner.value, ast.Name)
                and owner.value.id == "sys"
            ):
                return True
    return False


def _has_main_guard(tree: ast.Module) -> bool:
    """An `if __name__ == "__main__":` at module level."""
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            names = [n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)]
            values = [n.value for n in ast.walk(node.test) if isinstance(n, ast.Constant)]
            if "__name__" in names and "__main__" in values:
                return True
    return False


def test_the_checks_see_what_they_look_for() -> None:
    bad = ast.parse("import sys\nsys.path.insert(0, 'x')\nif __name__ == '__main__':\n    main()\n")
    assert _edits_sys_path(bad) and _has_main_guard(bad)
    good = ast.parse("import sys\nprint(sys.path)\nif __name__ == 'x':\n    pass\n")
    assert not _edits_sys_path(good) and not _has_main_guard(good)


def test_no_module_edits_sys_path_or_guards_main() -> None:
    assert len(_modules()) > 100  # the walk found the packages
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if _edits_sys_path(tree) or _has_main_guard(tree):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
