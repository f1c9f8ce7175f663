"""`python -m dashboard.access`: add, remove and list the dashboard's password users.

    python -m dashboard.access add marta --role editor          # asks for the password twice
    python -m dashboard.access add luis --role viewer --stage Compras --customer Acme
    python -m dashboard.access add luis --role viewer --all-rows  # lift luis's row scope
    echo "$PW" | python -m dashboard.access add ci --role viewer --password-stdin
    python -m dashboard.access remove marta
    python -m dashboard.access list
    python -m dashboard.access new-key                          # signs everybody out

Writes the auth file (.streamlit/auth.yaml or ESLABON_AUTH_FILE, or --file) with a bcrypt
hash, never the password; the first user also gets a random cookie-signing key, and any
command that writes replaces a published or weak key (the example file's placeholder).
The running dashboard reads the file on every click, so changes apply without a restart.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from dashboard.access.auth import (
    ROLES,
    AuthConfigError,
    auth_config_path,
    hash_password,
    load_auth_config,
    password_problem,
    read_raw_config,
    with_new_cookie_key,
    with_user,
    without_user,
    write_raw_config,
)
from dashboard.metrics.filters import EVERYTHING, RowScope


def parser() -> argparse.ArgumentParser:
    """The command line (kept separate so tests can read its choices)."""
    p = argparse.ArgumentParser(
        prog="python -m dashboard.access", description=__doc__.split("\n")[0]
    )
    p.add_argument("--file", type=Path, default=None, help="auth file (default: %(default)s)")
    sub = p.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add a user or change their role / password")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--name", default=None, help="name shown in the app")
    add.add_argument("--email", default=None)
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (scripts)"
    )
    add.add_argument(
        "--stage", action="append", default=[], metavar="STAGE",
        help="only rows of this process stage (repeatable; row-level access)",
    )  # fmt: skip
    add.add_argument(
        "--customer", action="append", default=[], metavar="NAME",
        help="only rows of this customer (repeatable; row-level access)",
    )  # fmt: skip
    add.add_argument(
        "--all-rows", action="store_true", help="remove the user's stage/customer restriction"
    )
    remove = sub.add_parser("remove", help="remove a user")
    remove.add_argument("username")
    sub.add_parser("list", help="list users and roles (never hashes)")
    sub.add_parser("new-key", help="a new random cookie key (signs everybody out)")
    return p


def read_password(stdin: TextIO, from_stdin: bool) -> str:
    """The new password: one line of stdin for scripts, else asked twice at the terminal."""
    if from_stdin or not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise AuthConfigError("the two passwords differ")
    return first


def requested_scope(args: argparse.Namespace) -> RowScope | None:
    """The scope the options ask for: None keeps the user's current one."""
    if args.all_rows:
        if args.stage or args.customer:
            raise AuthConfigError("--all-rows cannot go with --stage or --customer")
        return EVERYTHING
    if not args.stage and not args.customer:
        return None
    return RowScope(stages=args.stage or None, customers=args.customer or None)


def run(argv: Sequence[str], stdin: TextIO, stdout: TextIO) -> int:
    """Run one command; 0 on success, 2 with a one-line message on stderr otherwise."""
    args = parser().parse_args(list(argv))
    path: Path = args.file or auth_config_path()
    try:
        if args.command == "list":
            config = load_auth_config(path)
            for user in config.users.values():
                rows = "" if user.scope.unrestricted else f"\trows: {user.scope.describe()}"
                stdout.write(f"{user.username}\t{user.role}\t{user.name}\t{user.email}{rows}\n")
            return 0
        data = read_raw_config(path)
        data, replaced = with_new_cookie_key(data, only_if_unsafe=args.command != "new-key")
        if replaced and args.command != "new-key" and data.get("credentials"):
            stdout.write(
                f"cookie.key in {path} was missing, published or weak: replaced by a random "
                "one (everybody signed in must sign in again)\n"
            )
        if args.command == "new-key":
            write_raw_config(path, data)
            stdout.write(f"new cookie.key written to {path}; everybody must sign in again\n")
            return 0
        if args.command == "remove":
            data, found = without_user(data, args.username)
            if not found:
                raise AuthConfigError(f"{path}: no user {args.username!r}")
            write_raw_config(path, data)
            stdout.write(f"removed {args.username} from {path}\n")
            return 0
        password = read_password(stdin, args.password_stdin)
        problem = password_problem(password)
        if problem:
            raise AuthConfigError(problem)
        scope = requested_scope(args)
        data = with_user(
            data, args.username, args.role, hash_password(password),
            name=args.name, email=args.email, scope=scope,
        )  # fmt: skip
        write_raw_config(path, data)
        saved = load_auth_config(path).users[args.username.strip().lower()].scope
        rows = f"; rows: {saved.describe()}" if not saved.unrestricted else ""
        stdout.write(f"{args.username.strip().lower()} ({args.role}{rows}) saved in {path}\n")
        return 0
    except AuthConfigError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2


def main() -> None:
    """Entry point of `python -m dashboard.access`."""
    raise SystemExit(run(sys.argv[1:], sys.stdin, sys.stdout))
