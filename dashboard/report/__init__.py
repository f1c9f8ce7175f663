"""Command-line reports: `python -m dashboard.report <command> ...`.

Each command is a module of this package that defines `COMMAND` (its name), `HELP` (one
line), `add_arguments(parser)` and `run(args) -> int` (the exit code). `__main__` finds
them, so a new report (weekly pack, calendar, tracking links) is one new module and no
edit elsewhere. A command reports a problem by raising `ReportError` with a message for
a person; `__main__` prints it on one line and exits with status 2.
"""

from __future__ import annotations


class ReportError(Exception):
    """A problem the user can fix (bad argument, missing database): one line, exit 2."""
