"""`python -m dashboard.report <command> ...`: every report of this package, one entry point.

Commands are discovered (see the package docstring). Errors reach the user as one line
on stderr and exit status 2 (bad argument, database missing or not an Eslabón one), or
1 for anything unexpected; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

import sqlalchemy as sa

import dashboard.report as package
from dashboard.report import ReportError

PROG = "python -m dashboard.report"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (its default prints the usage too)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def command_modules() -> tuple[list[ModuleType], dict[str, str]]:
    """Every module of the package that defines a command (sorted by command name), and
    the modules that failed to import with the reason, so one broken report never takes
    the others down."""
    found: list[ModuleType] = []
    broken: dict[str, str] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{package.__name__}.{info.name}")
        except Exception as exc:
            broken[info.name] = f"{type(exc).__name__}: {exc}"
            continue
        if hasattr(module, "COMMAND") and hasattr(module, "run"):
            found.append(module)
    return sorted(found, key=lambda m: m.COMMAND), broken


def build_parser(modules: Sequence[ModuleType]) -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per command module."""
    parser = _Parser(prog=PROG, description="Eslabón reports from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in modules:
        cmd = sub.add_parser(module.COMMAND, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run the command, turn every failure into one line and an exit status."""
    modules, broken = command_modules()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in broken:
        print(f"{PROG} {argv[0]}: unavailable: {broken[argv[0]]}", file=sys.stderr)
        return 1
    args = build_parser(modules).parse_args(argv)
    try:
        return int(args._run(args))
    except ReportError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"{PROG} {args.command}: database error: {reason}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader (e.g. `| head`) stopped early: not an error of the report
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: never a traceback to a user
        print(
            f"{PROG} {args.command}: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr
        )
        return 1
