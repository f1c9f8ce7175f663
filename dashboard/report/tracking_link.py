"""`python -m dashboard.report tracking-link`: print a signed link to one customer's tracking.

The link opens the customer view (that customer's commitments and nothing else) until it
expires. The signing secret comes from ESLABON_SECRET or `eslabon_secret` in
.streamlit/secrets.toml; the base URL from --base-url or ESLABON_BASE_URL.
"""

from __future__ import annotations

import argparse
import os

from dashboard.report import ReportError, add_user_argument, user_scope
from dashboard.services.tokens import (
    MAX_DAYS,
    TokenConfigError,
    configured_secret,
    make_token,
    secret_refusal,
    tracking_link,
)

COMMAND = "tracking-link"
HELP = "Print a signed link that shows one customer their own commitments (expires)."
DEFAULT_BASE_URL = "http://localhost:8501"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `tracking-link` options."""
    parser.add_argument("--customer", required=True, metavar="NAME", help="the customer's name")
    parser.add_argument(
        "--days",
        type=float,
        default=30,
        help=f"days the link stays valid (default 30, max {MAX_DAYS})",
    )
    parser.add_argument(
        "--base-url",
        dest="base_url",
        metavar="URL",
        help=f"the dashboard's public address (default: ESLABON_BASE_URL or {DEFAULT_BASE_URL})",
    )
    add_user_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Print the link. The customer name is not checked against the database on purpose:
    a link can be prepared before the customer's first commitment is loaded."""
    base = args.base_url or os.environ.get("ESLABON_BASE_URL") or DEFAULT_BASE_URL
    if not base.startswith(("http://", "https://")):
        raise ReportError(f"--base-url {base!r} must start with http:// or https://")
    refusal = secret_refusal()
    if refusal:
        raise ReportError(refusal)
    scope = user_scope(args.as_user)
    if scope.customers is not None and args.customer not in scope.customers:
        raise ReportError(f"--customer: not a customer {args.as_user} may see")
    try:
        token = make_token(args.customer, configured_secret(), days=args.days)
    except TokenConfigError as exc:
        raise ReportError(str(exc)) from exc
    print(tracking_link(base, token))
    return 0
