"""Alert rules: a condition on a KPI or on commitments, within a filter, and where to say it.

KPI conditions (judged on the ISO week of the evaluation instant so far, against the week
before and the target in force): `below_target` (the light is amber or red),
`worse_than_last_week` (by at least `threshold` points for a rate, units otherwise),
`above` / `below` (the value crosses `threshold`). Commitment conditions: `at_risk` (a
breached direct supplier, or with `threshold` also at least that share of the
requested→due window elapsed) and `newly_breached` (breached since the rule exists).
`dashboard.delivery.alerts` evaluates them; this module records what a person asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from dashboard.metrics.definitions import KPIS
from dashboard.records import local_now
from dashboard.records.recipients import (
    RecipientScope,
    checked_addresses,
    checked_lang,
    scope_columns,
    scope_fields,
)
from dashboard.records.subscriptions import SubscriptionError, ensure_delivery_tables
from etl.schema import alert_rules

KPI_CONDITIONS: tuple[str, ...] = ("below_target", "worse_than_last_week", "above", "below")
COMMITMENT_CONDITIONS: tuple[str, ...] = ("at_risk", "newly_breached")
CONDITIONS: tuple[str, ...] = KPI_CONDITIONS + COMMITMENT_CONDITIONS


class AlertRuleError(SubscriptionError):
    """A rule that cannot be recorded as asked; the message says why."""


@dataclass(frozen=True)
class AlertRule(RecipientScope):
    """One alert rule."""

    rule_id: int
    name: str
    kpi: str | None
    condition: str
    threshold: float | None
    processes: tuple[str, ...]
    customers: tuple[str, ...]
    customer_types: tuple[str, ...]
    lang: str
    emails: tuple[str, ...]
    webhook_url: str | None
    active: bool
    created_by: str | None
    created_at: datetime


def _validated(
    name: str,
    condition: str,
    kpi: str | None,
    threshold: float | None,
    processes: Sequence[str],
    customers: Sequence[str],
    customer_types: Sequence[str],
    lang: str,
    emails: Sequence[str],
    webhook_url: str | None,
) -> dict[str, object]:
    name = (name or "").strip()
    if not name:
        raise AlertRuleError("an alert rule needs a name")
    if condition not in CONDITIONS:
        raise AlertRuleError(f"condition {condition!r} is not one of {', '.join(CONDITIONS)}")
    if condition in KPI_CONDITIONS:
        if kpi is None or kpi not in KPIS:
            raise AlertRuleError(f"KPI {kpi!r} is not one of {', '.join(KPIS)}")
        if condition != "below_target" and threshold is None:
            raise AlertRuleError(f"condition {condition} needs a threshold")
        if condition == "worse_than_last_week":
            if threshold is not None and threshold < 0:
                raise AlertRuleError("worse_than_last_week needs a threshold of 0 or more")
            if KPIS[kpi].better == "neutral":
                raise AlertRuleError(f"KPI {kpi} has no better direction: use above or below")
    else:
        kpi = None
        if condition == "at_risk" and threshold is not None and not 0 < threshold <= 1:
            raise AlertRuleError("at_risk's elapsed share must be in (0, 1], e.g. 0.8")
    checked_lang(lang, AlertRuleError)
    addresses = checked_addresses(emails, AlertRuleError)
    hook = (webhook_url or "").strip() or None
    if hook is not None and not hook.startswith(("https://", "http://")):
        raise AlertRuleError(f"webhook {hook!r} must be an http(s) URL")
    if not addresses and hook is None:
        raise AlertRuleError("an alert rule needs an e-mail address or a webhook")
    scope = scope_columns(processes, customers, customer_types, AlertRuleError)
    return {
        "name": name,
        "kpi": kpi,
        "condition": condition,
        "threshold": None if threshold is None else float(threshold),
        **scope,
        "lang": lang,
        "emails": ",".join(addresses),
        "webhook_url": hook,
    }


def add_alert_rule(
    conn: sa.Connection,
    name: str,
    condition: str,
    *,
    kpi: str | None = None,
    threshold: float | None = None,
    processes: Sequence[str] = (),
    customers: Sequence[str] = (),
    customer_types: Sequence[str] = (),
    lang: str = "es",
    emails: Sequence[str] = (),
    webhook_url: str | None = None,
    created_by: str | None = None,
    created_at: datetime | None = None,
) -> int:
    """Record a new active rule and return its id."""
    values = _validated(name, condition, kpi, threshold, processes, customers, customer_types,
                        lang, emails, webhook_url)  # fmt: skip
    ensure_delivery_tables(conn)
    next_id = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(alert_rules.c.rule_id), 0) + 1)
    ).scalar_one()
    conn.execute(
        alert_rules.insert().values(
            rule_id=int(next_id),
            active=True,
            created_by=created_by,
            created_at=created_at or local_now(),
            **values,
        )
    )
    return int(next_id)


def remove_alert_rule(conn: sa.Connection, rule_id: int) -> None:
    """Delete a rule (its episodes and delivery log stay on record)."""
    done = conn.execute(alert_rules.delete().where(alert_rules.c.rule_id == rule_id))
    if done.rowcount == 0:
        raise AlertRuleError(f"no alert rule with id {rule_id}")


def list_alert_rules(conn: sa.Connection, *, active_only: bool = False) -> list[AlertRule]:
    """Every rule, oldest first (none in a database that predates them)."""
    if not sa.inspect(conn).has_table(alert_rules.name):
        return []
    query = sa.select(alert_rules).order_by(alert_rules.c.rule_id)
    if active_only:
        query = query.where(alert_rules.c.active.is_(True))
    return [
        AlertRule(
            rule_id=int(row.rule_id),
            name=row.name,
            kpi=row.kpi,
            condition=row.condition,
            threshold=None if row.threshold is None else float(row.threshold),
            **scope_fields(row),
            lang=row.lang,
            emails=tuple(e for e in row.emails.split(",") if e),
            webhook_url=row.webhook_url,
            active=bool(row.active),
            created_by=row.created_by,
            created_at=row.created_at,
        )
        for row in conn.execute(query).fetchall()
    ]
