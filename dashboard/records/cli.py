"""`python -m dashboard.records`: targets from and to CSV, and subscriptions, for scripts.

The Metas and Suscripciones pages do the same interactively; this is for `make db` (the
sample's targets), for a quality team that keeps its targets in a spreadsheet under
version control, and for whoever scripts who receives the weekly pack:

    python -m dashboard.records subscriptions add --email E [--stage S]... [--customer C]...
        [--customer-type internal|external] [--lang es|en] --weekday mon..sun --hour H
        [--formats pdf,xlsx]
    python -m dashboard.records subscriptions list
    python -m dashboard.records subscriptions remove ID
    python -m dashboard.records alerts add --name N --condition C [--kpi K] [--threshold X]
        [--stage S]... [--customer C]... [--lang es|en] [--email E]... [--webhook URL]
    python -m dashboard.records alerts list | remove ID
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

import sqlalchemy as sa

from dashboard.metrics.definitions import KPIS
from dashboard.records.alerts import (
    CONDITIONS,
    add_alert_rule,
    list_alert_rules,
    remove_alert_rule,
)
from dashboard.records.recipients import CUSTOMER_TYPES, LANGS
from dashboard.records.subscriptions import (
    Subscription,
    add_subscription,
    get_subscription,
    list_subscriptions,
    parse_formats,
    parse_weekday,
    remove_subscription,
)
from dashboard.records.targets import import_targets_csv, targets_csv
from etl.db import create_db_engine
from etl.publish import published_transaction, publishing
from etl.schema import alert_rules, create_schema, subscriptions


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 1 when the CSV has problems, 2 on other errors."""
    parser = argparse.ArgumentParser(prog="python -m dashboard.records", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import-targets", help="append every target of a CSV (all or none)")
    imp.add_argument("path", type=Path)
    imp.add_argument("--db", help="database URL (default: ESLABON_DB_URL or data/eslabon.duckdb)")
    imp.add_argument("--set-by", default=None, help="recorded author (default: the OS user)")
    exp = sub.add_parser("export-targets", help="the whole target history as CSV on stdout")
    exp.add_argument("--db", help="database URL (default: ESLABON_DB_URL or data/eslabon.duckdb)")
    _subscription_parsers(sub)
    _alert_parsers(sub)
    args = parser.parse_args(argv)
    try:
        if args.command == "import-targets":
            return _import(args)
        if args.command == "subscriptions":
            return _subscriptions(args)
        if args.command == "alerts":
            return _alerts(args)
        engine = create_db_engine(args.db, read_only=True)
        with engine.connect() as conn:
            sys.stdout.write(targets_csv(conn))
        return 0
    except Exception as exc:  # one clear line, never a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _import(args: argparse.Namespace) -> int:
    data = args.path.read_bytes()
    with published_transaction(args.db) as conn:
        result = import_targets_csv(
            conn, data, args.set_by or getpass.getuser(), name=str(args.path)
        )
    if not result.ok:
        for problem in result.problems:
            print(problem, file=sys.stderr)
        return 1
    print(f"{result.imported} targets imported from {args.path}")
    return 0


DB_HELP = "database URL (default: ESLABON_DB_URL or data/eslabon.duckdb)"


def _subscription_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    subs = sub.add_parser("subscriptions", help="who receives the weekly pack: add, list, remove")
    actions = subs.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="subscribe a recipient")
    add.add_argument("--email", required=True, help="the recipient's address")
    add.add_argument("--stage", action="append", default=[], metavar="S",
                     help="only this stage (repeatable; default: all)")  # fmt: skip
    add.add_argument("--customer", action="append", default=[], metavar="C",
                     help="only this customer (repeatable; default: all)")  # fmt: skip
    add.add_argument("--customer-type", action="append", default=[], choices=CUSTOMER_TYPES,
                     help="only internal or external customers")  # fmt: skip
    add.add_argument("--lang", choices=LANGS, default="es", help="language (default es)")
    add.add_argument("--weekday", required=True, help="mon..sun (in ESLABON_TZ)")
    add.add_argument("--hour", required=True, type=int, help="0..23 (wall clock, ESLABON_TZ)")
    add.add_argument("--formats", default="pdf,xlsx",
                     help="attachments: pdf,xlsx (default), pdf, xlsx or '' for none")  # fmt: skip
    add.add_argument("--by", default=None, help="recorded author (default: the OS user)")
    lst = actions.add_parser("list", help="every subscription, one per line")
    rem = actions.add_parser("remove", help="delete a subscription (its log stays)")
    rem.add_argument("id", type=int)
    for parser in (add, lst, rem):
        parser.add_argument(
            "--db", help="database URL (default: ESLABON_DB_URL or data/eslabon.duckdb)"
        )


def _subscriptions(args: argparse.Namespace) -> int:
    if args.action == "list":
        engine = create_db_engine(args.db, read_only=True)
        try:
            with engine.connect() as conn:
                if not sa.inspect(conn).has_table(subscriptions.name):
                    return 0
                for item in list_subscriptions(conn):
                    print(_describe(item))
        finally:
            engine.dispose()
        return 0
    with publishing(args.db) as engine:
        create_schema(engine)  # databases older than subscriptions get the new tables
        with engine.begin() as conn:
            if args.action == "remove":
                remove_subscription(conn, args.id)
                print(f"subscription {args.id} removed")
                return 0
            new_id = add_subscription(
                conn,
                args.email,
                weekday=parse_weekday(args.weekday),
                hour=args.hour,
                processes=args.stage,
                customers=args.customer,
                customer_types=args.customer_type,
                lang=args.lang,
                formats=parse_formats(args.formats),
                created_by=args.by or getpass.getuser(),
            )
            print(_describe(get_subscription(conn, new_id)))
    return 0


def _describe(item: Subscription) -> str:
    scope = item.metric_filter(item.created_at).describe("en").rpartition("; ")[0] or "all"
    formats = ",".join(item.formats) or "body only"
    state = "" if item.active else "\tpaused"
    return (
        f"{item.subscription_id}\t{item.email}\t{item.schedule()}\t{item.lang}\t{formats}"
        f"\t{scope}{state}"
    )


def _alert_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    alerts = sub.add_parser("alerts", help="alert rules on KPIs and commitments: add, list, remove")
    actions = alerts.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="a new alert rule")
    add.add_argument("--name", required=True, help="what the alert is called in messages")
    add.add_argument("--condition", required=True, choices=CONDITIONS)
    add.add_argument("--kpi", choices=tuple(KPIS), help="the KPI (KPI conditions)")
    add.add_argument("--threshold", type=float,
                     help="KPI unit (rates 0..1; worse_than_last_week: the change) or, for "
                          "at_risk, the elapsed share of the window (0..1)")  # fmt: skip
    add.add_argument("--stage", action="append", default=[], metavar="S")
    add.add_argument("--customer", action="append", default=[], metavar="C")
    add.add_argument("--customer-type", action="append", default=[], choices=CUSTOMER_TYPES)
    add.add_argument("--lang", choices=LANGS, default="es")
    add.add_argument("--email", action="append", default=[], metavar="E")
    add.add_argument("--webhook", metavar="URL", help="Slack, Teams or any JSON receiver")
    add.add_argument("--by", default=None, help="recorded author (default: the OS user)")
    lst = actions.add_parser("list", help="every rule, one per line")
    rem = actions.add_parser("remove", help="delete a rule (its episodes and log stay)")
    rem.add_argument("id", type=int)
    for parser in (add, lst, rem):
        parser.add_argument("--db", help=DB_HELP)


def _alerts(args: argparse.Namespace) -> int:
    if args.action == "list":
        engine = create_db_engine(args.db, read_only=True)
        try:
            with engine.connect() as conn:
                if not sa.inspect(conn).has_table(alert_rules.name):
                    return 0
                for rule in list_alert_rules(conn):
                    what = f"{rule.condition}" + (f" {rule.kpi}" if rule.kpi else "")
                    if rule.threshold is not None:
                        what += f" {rule.threshold:g}"
                    scope = rule.metric_filter(rule.created_at).describe("en").rpartition("; ")[0]
                    to = ",".join([*rule.emails, *([rule.webhook_url] if rule.webhook_url else [])])
                    print(f"{rule.rule_id}\t{rule.name}\t{what}\t{scope or 'all'}\t{to}")
        finally:
            engine.dispose()
        return 0
    with publishing(args.db) as engine:
        create_schema(engine)
        with engine.begin() as conn:
            if args.action == "remove":
                remove_alert_rule(conn, args.id)
                print(f"alert rule {args.id} removed")
                return 0
            new_id = add_alert_rule(
                conn,
                args.name,
                args.condition,
                kpi=args.kpi,
                threshold=args.threshold,
                processes=args.stage,
                customers=args.customer,
                customer_types=args.customer_type,
                lang=args.lang,
                emails=args.email,
                webhook_url=args.webhook,
                created_by=args.by or getpass.getuser(),
            )
            print(f"alert rule {new_id} added")
    return 0
