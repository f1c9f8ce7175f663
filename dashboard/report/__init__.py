"""Command-line reports: `python -m dashboard.report <command> ...`.

Each command is a module of this package that defines `COMMAND` (its name), `HELP` (one
line), `add_arguments(parser)` and `run(args) -> int` (the exit code). `cli` finds
them, so a new report (weekly pack, calendar, tracking links) is one new module and no
edit elsewhere. A command reports a problem by raising `ReportError` with a message for
a person; `cli` prints it on one line and exits with status 2.

Every command that reads rows takes `--as-user NAME` (`add_user_argument`): the output is
then limited to that user's row scope from the auth file, exactly as their pages are.
"""

from __future__ import annotations

import argparse

from dashboard.metrics.filters import EVERYTHING, RowScope


class ReportError(Exception):
    """A problem the user can fix (bad argument, missing database): one line, exit 2."""


def add_user_argument(parser: argparse.ArgumentParser) -> None:
    """`--as-user NAME`: compute the report with that user's row-level access."""
    parser.add_argument(
        "--as-user",
        dest="as_user",
        metavar="NAME",
        help="only the rows this user may see (a password user, or an OIDC e-mail, "
        "of the auth file: ESLABON_AUTH_FILE or .streamlit/auth.yaml)",
    )


def user_scope(name: str | None) -> RowScope:
    """The row scope of `--as-user` (EVERYTHING without it). A name the auth file does
    not give a role is an error, never "all rows"."""
    if not name:
        return EVERYTHING
    from dashboard.access import auth  # imported here: bcrypt and yaml only when asked for

    try:
        config = auth.load_auth_config(auth.auth_config_path())
    except auth.AuthConfigError as exc:
        raise ReportError(str(exc)) from exc
    if auth.role_for_user(config, name) is not None:
        return auth.scope_for_user(config, name)
    if "@" in name:
        role, scope = auth.oidc_access(config, name, verified=True)
        if role is not None:
            return scope
    raise ReportError(f"--as-user: {name!r} has no access in {config.path}")
