"""`python -m dashboard.report deliver`: send everything that is due, for cron or a timer.

Subscriptions whose slot has come and that were not sent yet get their pack; every attempt
is logged; a failed one is tried again by the next run. Run it every hour (docs/deployment.md);
running it twice in the same hour sends nothing twice. `--dry-run` writes the messages as
.eml files into a folder and records nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboard.delivery.log import FAILED, Outcome
from dashboard.delivery.mail import (
    DeliveryError,
    OutboxTransport,
    SmtpTransport,
    Transport,
    smtp_settings,
)
from dashboard.delivery.run import RunInProgress, deliver_due, single_run
from dashboard.records import local_now
from dashboard.report import ReportError
from dashboard.report.kpis import add_db_argument, open_report_engine, parse_instant
from etl.db import normalise_url
from etl.settings import load_settings

COMMAND = "deliver"
HELP = "Send the subscriptions (and alerts) that are due; idempotent, for cron or a timer."
DRY_RUN_SENDER = "eslabon@localhost"
# Exit status when some attempt failed (it stays due and the next run tries again).
EXIT_SOME_FAILED = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `deliver` options."""
    add_db_argument(parser)
    parser.add_argument(
        "--now",
        metavar="T",
        help="the run's clock, wall time in ESLABON_TZ (default: now); for tests and catch-up",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="write the messages as .eml files into --outbox instead of sending; log nothing",
    )
    parser.add_argument(
        "--outbox",
        default="outbox",
        metavar="DIR",
        help="folder for --dry-run messages (default: ./outbox)",
    )


def _line(outcome: Outcome) -> str:
    out = outcome.outgoing
    return (
        f"{outcome.result}\t{out.kind} {out.ref_id}\t{out.occurrence}\t{out.channel}:"
        f"{out.recipient}\t{out.subject}\t{outcome.detail}"
    )


def run(args: argparse.Namespace) -> int:
    """Deliver; prints one line per attempt. 0 when all went out, 3 when some failed."""
    now = parse_instant(args.now, "--now") if args.now else local_now()
    url = normalise_url(args.db or load_settings().db_url)
    open_report_engine(url).dispose()  # a clear error for a missing or foreign database
    try:
        settings = smtp_settings()
    except DeliveryError as exc:
        raise ReportError(str(exc)) from exc
    transport: Transport
    if args.dry_run:
        transport = OutboxTransport(Path(args.outbox))
        sender = settings.sender if settings else DRY_RUN_SENDER
    elif settings is None:
        raise ReportError(
            "no SMTP server configured: set ESLABON_SMTP_HOST (and ESLABON_SMTP_SENDER), "
            "or [smtp] in .streamlit/secrets.toml; or use --dry-run"
        )
    else:
        transport, sender = SmtpTransport(settings), settings.sender
    try:
        with single_run(url):
            if isinstance(transport, OutboxTransport):
                outcomes = deliver_due(
                    url, now, transport, sender, record=False, webhook=transport.post
                )
            else:
                outcomes = deliver_due(url, now, transport, sender)
    except RunInProgress as exc:  # the running one does the work: not an error
        print(f"skipped: {exc}")
        return 0
    for outcome in outcomes:
        stream = sys.stderr if outcome.result == FAILED else sys.stdout
        print(_line(outcome), file=stream)
    if not outcomes:
        print(f"nothing due at {now.isoformat(timespec='minutes')}")
    return EXIT_SOME_FAILED if any(o.result == FAILED for o in outcomes) else 0
