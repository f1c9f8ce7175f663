"""`report deliver`: everything that is due, sent once, every attempt on record.

A subscription is due for its most recent scheduled slot (weekday + hour, wall clock in
ESLABON_TZ) until the delivery log holds a `sent` row for that (subscription, slot,
recipient): so a second run in the same hour sends nothing again, and a failed send stays
due and is tried again by the next run until it succeeds (or the next week's slot
supersedes it). The run first reads (a read-only connection: it never blocks the
dashboard), then sends message by message and records each attempt in its own short
write, so a crash loses at most the record of the message in flight (sent again by the
next run: at least once, never silently lost).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

import pandas as pd
import sqlalchemy as sa

from dashboard.delivery.links import base_url, view_link, view_of
from dashboard.delivery.mail import Attachment, Transport, build_message
from dashboard.i18n import fmt_date
from dashboard.metrics.definitions import HEADLINE_KPIS
from dashboard.metrics.kpis import dataset_as_of
from dashboard.records import iso_week_label
from dashboard.records.subscriptions import Subscription, list_subscriptions
from dashboard.report.weekly import format_kpi, review_html, review_pdf, review_xlsx
from dashboard.review import WeeklyReview, recipient_review
from dashboard.texts import kpi_label, tr
from etl.db import create_db_engine
from etl.publish import published_transaction
from etl.schema import delivery_log, subscriptions

SUBSCRIPTION, ALERT, TEST = "subscription", "alert", "test"
EMAIL, WEBHOOK = "email", "webhook"
SENT, FAILED = "sent", "failed"
# How long recording an attempt waits for a running load of a DuckDB file.
RECORD_WAIT = 120.0
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Outgoing:
    """One message ready to leave: what it serves (kind, ref_id, occurrence) and to whom."""

    kind: str
    ref_id: int
    occurrence: str
    channel: str
    recipient: str
    subject: str
    message: EmailMessage | None = None
    payload: dict | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Outcome:
    """What happened to one attempt; what `delivery_log` records."""

    outgoing: Outgoing
    result: str  # sent / failed
    detail: str
    attempted_at: datetime


def pack_week(slot: datetime) -> str:
    """The week a pack sent at `slot` reviews: the last full ISO week before it."""
    monday = slot.date() - timedelta(days=slot.weekday())
    return iso_week_label(monday - timedelta(days=7))


def occurrence_key(slot: datetime) -> str:
    """The slot as stored in the log: `2026-11-23T08:00`."""
    return slot.isoformat(timespec="minutes")


def _scope_suffix(sub: Subscription) -> str:
    names = [*sub.processes, *sub.customers]
    return f" · {', '.join(names)}" if names else ""


def _text_body(review: WeeklyReview, sub: Subscription, files: Sequence[str], link: str) -> str:
    lang = sub.lang
    period = f"{fmt_date(review.monday, lang)} – {fmt_date(review.sunday, lang)}"
    lines = [
        tr("mail_intro", lang, week=review.week, period=period),
        tr("mail_scope", lang, scope=review.scope.describe(lang)),
        "",
    ]
    for _, row in review.kpis.iterrows():
        if row["kpi"] in HEADLINE_KPIS:
            lines.append(
                f"- {kpi_label(row['kpi'], lang)}: {format_kpi(row['kpi'], row['current'], lang)}"
            )
    lines += [
        "",
        tr(
            "mail_sections",
            lang,
            roots=len(review.roots),
            breached=len(review.breached),
            at_risk=len(review.at_risk_next_week),
            actions=len(review.actions),
        ),
    ]
    if files:
        lines.append(tr("mail_attached", lang, files=", ".join(files)))
    lines += [tr("mail_open", lang, link=link), "", tr("mail_why", lang, id=sub.subscription_id)]
    return "\n".join(lines) + "\n"


def subscription_mail(
    conn: sa.Connection,
    sub: Subscription,
    week: str,
    as_of: datetime,
    sender: str,
    *,
    occurrence: str,
    base: str,
) -> EmailMessage:
    """The pack of `week` for one recipient: the HTML review as the body (no scripts),
    a text alternative, and the PDF and/or workbook, every part built from the
    recipient's own filter (`recipient_review`)."""
    review = recipient_review(conn, week, as_of, sub.metric_filter(as_of))
    stem = f"eslabon-{'revision' if sub.lang == 'es' else 'review'}-{review.week}"
    attachments = []
    if "pdf" in sub.formats:
        attachments.append(
            Attachment(f"{stem}.pdf", review_pdf(review, sub.lang), "application/pdf")
        )
    if "xlsx" in sub.formats:
        attachments.append(Attachment(f"{stem}.xlsx", review_xlsx(review, sub.lang), XLSX_MIME))
    view = view_of(sub.processes, sub.customer_types, sub.lang)
    link = view_link(base, "revision", view, {"week": review.week})
    subject = tr("mail_subject", sub.lang, week=review.week, scope=_scope_suffix(sub))
    return build_message(
        sender,
        sub.email,
        subject,
        _text_body(review, sub, [a.filename for a in attachments], link),
        review_html(review, sub.lang, charts=False),
        attachments,
        headers={"X-Eslabon-Occurrence": f"sub{sub.subscription_id}-{occurrence}"},
    )


def delivery_tables_exist(conn: sa.Connection) -> bool:
    """False on a database created before delivery existed (nothing can be due there)."""
    inspector = sa.inspect(conn)
    return inspector.has_table(subscriptions.name) and inspector.has_table(delivery_log.name)


def sent_keys(conn: sa.Connection, kind: str) -> set[tuple[int, str, str]]:
    """(ref_id, occurrence, recipient) of every successful send of `kind`."""
    c = delivery_log.c
    rows = conn.execute(
        sa.select(c.ref_id, c.occurrence, c.recipient).where(c.kind == kind, c.result == SENT)
    ).fetchall()
    return {(int(r[0]), r[1], r[2]) for r in rows}


def due_subscriptions(conn: sa.Connection, now: datetime) -> list[tuple[Subscription, datetime]]:
    """Each active subscription whose latest slot at `now` has not been sent, with the slot."""
    sent = sent_keys(conn, SUBSCRIPTION)
    due = []
    for sub in list_subscriptions(conn, active_only=True):
        slot = sub.due_slot(now)
        if slot is not None and (sub.subscription_id, occurrence_key(slot), sub.email) not in sent:
            due.append((sub, slot))
    return due


def record_attempt(conn: sa.Connection, outcome: Outcome) -> int:
    """Append one attempt to the delivery log; returns its id."""
    out = outcome.outgoing
    next_id = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(delivery_log.c.attempt_id), 0) + 1)
    ).scalar()
    conn.execute(
        delivery_log.insert().values(
            attempt_id=int(next_id),
            kind=out.kind,
            ref_id=out.ref_id,
            occurrence=out.occurrence,
            channel=out.channel,
            recipient=out.recipient,
            subject=out.subject[:500],
            attempted_at=outcome.attempted_at,
            result=outcome.result,
            detail=outcome.detail[:2000],
        )
    )
    return int(next_id)


def delivery_history(conn: sa.Connection, limit: int = 500) -> pd.DataFrame:
    """The latest attempts, newest first: what, to whom, when, result (for the page)."""
    c = delivery_log.c
    query = (
        sa.select(delivery_log).order_by(c.attempted_at.desc(), c.attempt_id.desc()).limit(limit)
    )
    rows = conn.execute(query).fetchall()
    return pd.DataFrame(rows, columns=[col.name for col in delivery_log.columns])


def _failed(outgoing: Outgoing, exc: BaseException, at: datetime) -> Outcome:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return Outcome(outgoing, FAILED, f"{type(exc).__name__}: {reason}"[:2000], at)


def pending_subscription_mail(
    conn: sa.Connection, now: datetime, sender: str, *, base: str | None = None
) -> tuple[list[Outgoing], list[Outcome]]:
    """The messages due at `now`, and a failed outcome for any pack that could not be built
    (recorded like a failed send, so it is visible and tried again next run)."""
    base = base or base_url()
    as_of = dataset_as_of(conn) or now
    ready: list[Outgoing] = []
    broken: list[Outcome] = []
    for sub, slot in due_subscriptions(conn, now):
        key = occurrence_key(slot)
        week = pack_week(slot)
        subject = tr("mail_subject", sub.lang, week=week, scope=_scope_suffix(sub))
        try:
            msg = subscription_mail(conn, sub, week, as_of, sender, occurrence=key, base=base)
        except Exception as exc:  # one broken pack never stops the others
            stub = Outgoing(SUBSCRIPTION, sub.subscription_id, key, EMAIL, sub.email, subject)
            broken.append(_failed(stub, exc, now))
            continue
        ready.append(
            Outgoing(
                SUBSCRIPTION, sub.subscription_id, key, EMAIL, sub.email, str(msg["Subject"]), msg
            )
        )
    return ready, broken


Sender = Callable[[Outgoing], str]


def send_and_record(
    url: str | None,
    outgoing: Sequence[Outgoing],
    send: Sender,
    now: datetime,
    *,
    record: bool = True,
    already: Sequence[Outcome] = (),
) -> list[Outcome]:
    """Send each message and record each attempt in its own short transaction."""
    outcomes: list[Outcome] = list(already)
    if record:
        for outcome in already:
            with published_transaction(url, wait=RECORD_WAIT) as conn:
                record_attempt(conn, outcome)
    for item in outgoing:
        try:
            outcome = Outcome(item, SENT, send(item), now)
        except Exception as exc:  # a refused message, a server down: logged, tried again
            outcome = _failed(item, exc, now)
        if record:
            with published_transaction(url, wait=RECORD_WAIT) as conn:
                record_attempt(conn, outcome)
        outcomes.append(outcome)
    return outcomes


def mail_sender(transport: Transport) -> Sender:
    """A Sender for e-mail Outgoings through `transport`."""

    def send(item: Outgoing) -> str:
        if item.message is None:
            raise ValueError(f"no message for {item.kind} {item.ref_id}")
        return transport.send(item.message)

    return send


def deliver_due(
    url: str | None,
    now: datetime,
    transport: Transport,
    sender: str,
    *,
    record: bool = True,
    base: str | None = None,
) -> list[Outcome]:
    """Everything due at `now`: the subscriptions' packs (alerts: `dashboard.delivery.alerts`).

    `record=False` is the dry run: messages go to `transport` (an outbox folder) and the
    log is left alone, so a real run afterwards still sends them.
    """
    engine = create_db_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            if not delivery_tables_exist(conn):
                return []
            ready, broken = pending_subscription_mail(conn, now, sender, base=base)
    finally:
        engine.dispose()
    return send_and_record(url, ready, mail_sender(transport), now, record=record, already=broken)
