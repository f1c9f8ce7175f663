"""Alerts: each rule's condition evaluated at the run's instant, once per episode.

A rule's condition holds for a set of subjects (the KPI itself: subject ''; commitments:
their ids). A subject that starts to hold opens an episode (`alert_episodes`, with the
words and the link of the alert); one that stops closes it, which re-arms the rule for
that subject. An open episode is announced once on each channel (e-mail addresses, a
webhook): the delivery log says whether it has been, exactly as for subscriptions, so a
failed announcement is retried by the next run and a sent one never repeats. Episodes
opened by the same run of the same rule travel together in one message.
"""

from __future__ import annotations

import json
import urllib.request
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.delivery.links import view_link, view_of
from dashboard.delivery.log import ALERT, EMAIL, WEBHOOK, Outgoing, occurrence_key, sent_keys
from dashboard.delivery.mail import build_message
from dashboard.metrics.deadlines import elapsed_share_at_risk
from dashboard.metrics.definitions import KPIS
from dashboard.metrics.ontime import commitment_list
from dashboard.metrics.propagation import at_risk_commitments
from dashboard.records import iso_week_label
from dashboard.records.alerts import AlertRule, list_alert_rules
from dashboard.services.review import kpi_table, week_filter
from dashboard.ui.i18n import fmt_datetime, fmt_kpi, fmt_kpi_delta, fmt_pct
from dashboard.ui.texts import kpi_label, tr
from etl.schema import alert_episodes, alert_rules

WEBHOOK_TIMEOUT = 15.0


@dataclass(frozen=True)
class Finding:
    """One subject for which a rule's condition holds, said in words, with its link."""

    subject: str
    reason: str
    link: str


@dataclass(frozen=True)
class Episode:
    """An open episode as stored."""

    rule_id: int
    subject: str
    opened_at: datetime
    reason: str
    link: str


# --- conditions ---------------------------------------------------------------------------


def _kpi_findings(
    conn: sa.Connection, rule: AlertRule, as_of: datetime, base: str
) -> list[Finding]:
    """The KPI rule's one finding (subject ''), or none: judged on the ISO week of `as_of`
    so far, against the week before and the target in force (review.kpi_table)."""
    kpi, lang = str(rule.kpi), rule.lang
    week = iso_week_label(as_of.date())
    f = rule.metric_filter(as_of)
    previous_week = iso_week_label(as_of.date() - timedelta(days=7))
    table = kpi_table(conn, week_filter(f, week), week_filter(f, previous_week))
    row = table[table["kpi"] == kpi].iloc[0]
    value, previous, delta = row["current"], row["previous"], row["delta"]
    if value is None:
        return []  # no data is not a breach of anything
    value = float(value)
    words = {"kpi": kpi_label(kpi, lang), "week": week, "value": fmt_kpi(kpi, value, lang)}
    threshold = rule.threshold
    holds = False
    if rule.condition == "below_target":
        holds = row["status"] in ("amber", "red")
        if holds:
            words["target"] = fmt_kpi(kpi, float(row["target_value"]), lang)
    elif rule.condition == "worse_than_last_week" and delta is not None and threshold is not None:
        worse = -float(delta) if KPIS[kpi].better == "higher" else float(delta)
        holds = worse >= threshold and worse > 0
        words |= {
            "delta": (fmt_kpi_delta(kpi, abs(float(delta)), lang) or "").lstrip("+"),
            "previous": fmt_kpi(kpi, float(previous), lang),
            "threshold": (fmt_kpi_delta(kpi, threshold, lang) or "").lstrip("+"),
        }
    elif rule.condition in ("above", "below") and threshold is not None:
        holds = value > threshold if rule.condition == "above" else value < threshold
        words["threshold"] = fmt_kpi(kpi, threshold, lang)
    if not holds:
        return []
    view = view_of(rule.processes, rule.customer_types, lang)
    link = view_link(base, "revision", view, {"week": week})
    return [Finding("", tr(f"alert_{rule.condition}", lang, **words), link)]


def _commitment_words(row: pd.Series, lang: str) -> dict[str, str]:
    return {
        "id": str(row["commitment_id"]),
        "title": str(row.get("title") or ""),
        "stage": str(row.get("process") or ""),
        "customer": str(row.get("customer") or ""),
        "due": fmt_datetime(pd.Timestamp(row["due_at"]).floor("min").to_pydatetime(), lang),
    }


def _commitment_link(base: str, rule: AlertRule, commitment_id: str) -> str:
    view = view_of(rule.processes, rule.customer_types, rule.lang)
    return view_link(base, "seguimiento", view, {"commitment": commitment_id})


def _commitment_findings(
    conn: sa.Connection, rule: AlertRule, as_of: datetime, base: str
) -> list[Finding]:
    """One finding per commitment at risk (breached supplier, or enough of its window
    used) or newly breached (due, and breached, since the rule was created)."""
    lang = rule.lang
    f = rule.metric_filter(as_of)
    found: dict[str, Finding] = {}
    if rule.condition == "at_risk":
        for _, row in at_risk_commitments(conn, f).iterrows():
            words = _commitment_words(row, lang) | {
                "upstreams": str(row["breached_upstreams"]),
                "predicted": fmt_datetime(
                    pd.Timestamp(row["predicted_delivery"]).floor("min").to_pydatetime(), lang
                ),
            }
            cid = words["id"]
            found[cid] = Finding(
                cid, tr("alert_at_risk_upstream", lang, **words), _commitment_link(base, rule, cid)
            )
        if rule.threshold is not None:
            for _, row in elapsed_share_at_risk(conn, f, rule.threshold).iterrows():
                words = _commitment_words(row, lang)
                cid = words["id"]
                if cid not in found:
                    share = fmt_pct(float(row["elapsed_share"]), lang, 0)
                    reason = tr("alert_at_risk_elapsed", lang, share=share, **words)
                    found[cid] = Finding(cid, reason, _commitment_link(base, rule, cid))
    elif rule.condition == "newly_breached":
        since = rule.created_at
        scoped = f.with_(date_from=since.date(), date_to=as_of.date())
        listed = commitment_list(conn, scoped)
        due = pd.to_datetime(listed["due_at"])
        breached = listed[(listed["status"] == "breach") & (due >= since) & (due <= as_of)]
        for _, row in breached.iterrows():
            words = _commitment_words(row, lang)
            cid = words["id"]
            found[cid] = Finding(
                cid, tr("alert_newly_breached", lang, **words), _commitment_link(base, rule, cid)
            )
    return [found[k] for k in sorted(found)]


def rule_findings(
    conn: sa.Connection, rule: AlertRule, as_of: datetime, base: str
) -> list[Finding]:
    """Every subject for which the rule's condition holds at `as_of`."""
    if rule.kpi is not None:
        return _kpi_findings(conn, rule, as_of, base)
    return _commitment_findings(conn, rule, as_of, base)


# --- episodes -----------------------------------------------------------------------------


def open_episodes(conn: sa.Connection) -> list[Episode]:
    """Every episode not closed yet."""
    e = alert_episodes.c
    rows = conn.execute(
        sa.select(e.rule_id, e.subject, e.opened_at, e.reason, e.link)
        .where(e.closed_at.is_(None))
        .order_by(e.rule_id, e.opened_at, e.subject)
    ).fetchall()
    return [Episode(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


@dataclass(frozen=True)
class EpisodeChanges:
    """What a run does to the episodes: opens new ones, closes cleared ones."""

    opened: tuple[Episode, ...]
    closed: tuple[tuple[int, str, datetime], ...]  # rule_id, subject, opened_at


def episode_changes(
    rules: Sequence[AlertRule],
    findings: dict[int, list[Finding]],
    current: Sequence[Episode],
    now: datetime,
) -> EpisodeChanges:
    """Open an episode for each finding without an open one; close each open episode
    whose subject no longer holds (or whose rule is gone or paused)."""
    open_by_rule: dict[int, dict[str, Episode]] = defaultdict(dict)
    for episode in current:
        open_by_rule[episode.rule_id][episode.subject] = episode
    active = {rule.rule_id for rule in rules}
    opened = []
    for rule in rules:
        for finding in findings.get(rule.rule_id, []):
            if finding.subject not in open_by_rule[rule.rule_id]:
                opened.append(
                    Episode(rule.rule_id, finding.subject, now, finding.reason, finding.link)
                )
    closed = []
    for rule_id, episodes in open_by_rule.items():
        holding = {f.subject for f in findings.get(rule_id, [])} if rule_id in active else set()
        for subject, episode in episodes.items():
            if subject not in holding:
                closed.append((rule_id, subject, episode.opened_at))
    return EpisodeChanges(tuple(opened), tuple(closed))


def apply_episode_changes(conn: sa.Connection, changes: EpisodeChanges, now: datetime) -> None:
    """Write the opened and closed episodes."""
    for ep in changes.opened:
        conn.execute(
            alert_episodes.insert().values(
                rule_id=ep.rule_id,
                subject=ep.subject,
                opened_at=ep.opened_at,
                closed_at=None,
                reason=ep.reason,
                link=ep.link,
            )
        )
    e = alert_episodes.c
    for rule_id, subject, opened_at in changes.closed:
        conn.execute(
            alert_episodes.update()
            .where(e.rule_id == rule_id, e.subject == subject, e.opened_at == opened_at)
            .values(closed_at=now)
        )


# --- messages -----------------------------------------------------------------------------


def alert_text(rule: AlertRule, episodes: Sequence[Episode]) -> str:
    """The alert in words: the rule, then one line per subject with its link."""
    lines = [tr("alert_intro", rule.lang, name=rule.name, scope=rule.scope_words(rule.lang)), ""]
    for ep in episodes:
        lines += [f"- {ep.reason}", f"  {tr('alert_open', rule.lang, link=ep.link)}"]
    lines += ["", tr("alert_why", rule.lang)]
    return "\n".join(lines) + "\n"


def webhook_payload(rule: AlertRule, episodes: Sequence[Episode]) -> dict[str, Any]:
    """A body Slack and Teams incoming webhooks accept (`text`; both turn a bare URL into a
    link), with the structured fields a generic receiver wants beside it."""
    lines = "\n".join(f"• {ep.reason} {ep.link}" for ep in episodes)
    text = f"{tr('alert_subject', rule.lang, name=rule.name)}\n{lines}"
    return {
        "text": text,
        "eslabon": {
            "rule_id": rule.rule_id,
            "rule": rule.name,
            "condition": rule.condition,
            "kpi": rule.kpi,
            "threshold": rule.threshold,
            "scope": rule.scope_words(rule.lang),
            "opened_at": episodes[0].opened_at.isoformat(timespec="seconds"),
            "items": [
                {"subject": ep.subject or None, "reason": ep.reason, "link": ep.link}
                for ep in episodes
            ],
        },
    }


def pending_alerts(
    rules: Sequence[AlertRule],
    episodes: Sequence[Episode],
    sent: set[tuple[int, str, str]],
    sender: str,
) -> list[Outgoing]:
    """For each rule's batch of open episodes (same opening run) and each channel that has
    not announced it yet: one message."""
    by_rule = {rule.rule_id: rule for rule in rules}
    batches: dict[tuple[int, datetime], list[Episode]] = defaultdict(list)
    for ep in episodes:
        if ep.rule_id in by_rule:
            batches[(ep.rule_id, ep.opened_at)].append(ep)
    out: list[Outgoing] = []
    for (rule_id, opened_at), batch in sorted(batches.items()):
        rule = by_rule[rule_id]
        key = occurrence_key(opened_at)
        subject = tr("alert_subject", rule.lang, name=rule.name)
        for address in rule.emails:
            if (rule_id, key, address) in sent:
                continue
            headers = {"X-Eslabon-Occurrence": f"alert{rule_id}-{key}"}
            text = alert_text(rule, batch)
            msg = build_message(sender, address, subject, text, headers=headers)
            out.append(Outgoing(ALERT, rule_id, key, EMAIL, address, subject, msg))
        if rule.webhook_url and (rule_id, key, rule.webhook_url) not in sent:
            out.append(
                Outgoing(
                    ALERT,
                    rule_id,
                    key,
                    WEBHOOK,
                    rule.webhook_url,
                    subject,
                    payload=webhook_payload(rule, batch),
                )
            )
    return out


def post_webhook(url: str, payload: dict[str, Any], *, timeout: float = WEBHOOK_TIMEOUT) -> str:
    """POST the JSON body; raises on a refused connection or a non-2xx answer."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return f"HTTP {response.status}"


def alert_tables_exist(conn: sa.Connection) -> bool:
    """False on a database created before alerts existed."""
    inspector = sa.inspect(conn)
    return inspector.has_table(alert_rules.name) and inspector.has_table(alert_episodes.name)


def evaluate_alerts(
    conn: sa.Connection, as_of: datetime, now: datetime, base: str
) -> tuple[list[AlertRule], EpisodeChanges, list[Episode]]:
    """The active rules, the episode changes at `now`, and the episodes open after them."""
    rules = list_alert_rules(conn, active_only=True)
    findings = {rule.rule_id: rule_findings(conn, rule, as_of, base) for rule in rules}
    current = open_episodes(conn)
    changes = episode_changes(rules, findings, current, now)
    closed = {(r, s, o) for r, s, o in changes.closed}
    still_open = [e for e in current if (e.rule_id, e.subject, e.opened_at) not in closed]
    return rules, changes, still_open + list(changes.opened)


def alert_outgoing(
    conn: sa.Connection, rules: Sequence[AlertRule], episodes: Sequence[Episode], sender: str
) -> list[Outgoing]:
    """The announcements still owed for `episodes` (the log says which went out)."""
    return pending_alerts(rules, episodes, sent_keys(conn, ALERT), sender)
