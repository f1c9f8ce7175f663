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

import contextlib
import fcntl
import hashlib
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from dashboard.delivery.alerts import (
    EpisodeChanges,
    alert_outgoing,
    alert_tables_exist,
    apply_episode_changes,
    evaluate_alerts,
    post_webhook,
)
from dashboard.delivery.links import base_url, view_link, view_of
from dashboard.delivery.log import (
    EMAIL,
    RECORD_WAIT,
    SENT,
    SUBSCRIPTION,
    TEST,
    WEBHOOK,
    Outcome,
    Outgoing,
    Sender,
    delivery_tables_exist,
    failed_outcome,
    occurrence_key,
    record_attempt,
    send_and_record,
    sent_keys,
)
from dashboard.delivery.mail import Attachment, Transport, build_message
from dashboard.metrics.definitions import HEADLINE_KPIS
from dashboard.metrics.kpis import dataset_as_of
from dashboard.records.subscriptions import Subscription, get_subscription, list_subscriptions
from dashboard.report.weekly import format_kpi, review_html, review_pdf, review_xlsx
from dashboard.services.review import WeeklyReview, default_review_week, recipient_review
from dashboard.ui.i18n import fmt_date
from dashboard.ui.texts import kpi_label, tr
from etl.db import create_db_engine
from etl.language import in_language
from etl.publish import published_transaction
from etl.settings import load_settings

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def pack_week(slot: datetime) -> str:
    """The week a pack sent at `slot` reviews: the one the Revisión page opens on then."""
    return default_review_week(slot)


def _scope_suffix(sub: Subscription) -> str:
    types = [tr(f"customer_type_{t}", sub.lang) for t in sub.customer_types]
    names = [*sub.processes, *sub.customers, *types]
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
    stem = f"eslabon-{in_language(('revision', 'review'), sub.lang)}-{review.week}"
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


def due_subscriptions(conn: sa.Connection, now: datetime) -> list[tuple[Subscription, datetime]]:
    """Each active subscription whose latest slot at `now` has not been sent, with the slot."""
    sent = sent_keys(conn, SUBSCRIPTION)
    due = []
    for sub in list_subscriptions(conn, active_only=True):
        slot = sub.due_slot(now)
        if slot is not None and (sub.subscription_id, occurrence_key(slot), sub.email) not in sent:
            due.append((sub, slot))
    return due


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
            broken.append(failed_outcome(stub, exc, now))
            continue
        ready.append(
            Outgoing(
                SUBSCRIPTION, sub.subscription_id, key, EMAIL, sub.email, str(msg["Subject"]), msg
            )
        )
    return ready, broken


Webhook = Callable[[str, dict[str, Any]], str]


class RunInProgress(RuntimeError):
    """Another `report deliver` on the same database is running on this machine."""


@contextlib.contextmanager
def single_run(url: str | None) -> Iterator[None]:
    """Hold this machine's delivery lock for `url` (a non-blocking flock on a file in the
    temp folder named after the database): two overlapping runs (a slow one and the next
    hour's) would each see the same messages as due and both send them."""
    name = hashlib.sha256(str(url or load_settings().db_url).encode("utf-8")).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"eslabon-deliver-{name}.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgress(f"another delivery run holds {path}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def channel_sender(transport: Transport, webhook: Webhook) -> Sender:
    """A Sender that mails e-mail Outgoings through `transport` and posts webhook ones."""

    def send(item: Outgoing) -> str:
        if item.channel == WEBHOOK:
            return webhook(item.recipient, item.payload or {})
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
    webhook: Webhook = post_webhook,
) -> list[Outcome]:
    """Everything due at `now`: the subscriptions' packs, then the alerts.

    Reads on a read-only connection; opens and closes alert episodes in one short write
    (before announcing them, so an announcement is never owed for an episode not on
    record); then sends and records attempt by attempt. `record=False` is the dry run:
    messages go to `transport` and webhooks to `webhook` (an outbox folder), and neither
    the episodes nor the log change, so a real run afterwards still does everything.
    """
    base = base or base_url()
    engine = create_db_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            if not delivery_tables_exist(conn):
                return []
            ready, broken = pending_subscription_mail(conn, now, sender, base=base)
            changes: EpisodeChanges | None = None
            if alert_tables_exist(conn):
                as_of = dataset_as_of(conn) or now
                rules, changes, episodes = evaluate_alerts(conn, as_of, now, base)
                ready += alert_outgoing(conn, rules, episodes, sender)
    finally:
        engine.dispose()
    if record and changes is not None and (changes.opened or changes.closed):
        with published_transaction(url, wait=RECORD_WAIT) as conn:
            apply_episode_changes(conn, changes, now)
    send = channel_sender(transport, webhook)
    return send_and_record(url, ready, send, now, record=record, already=broken)


def send_test_pack(
    conn: sa.Connection,
    subscription_id: int,
    now: datetime,
    transport: Transport,
    sender: str,
    *,
    base: str | None = None,
) -> Outcome:
    """Send one subscription's pack now (the last full week), whatever its schedule, and
    log it as a `test` attempt: the page's "test-send". Never marks a slot as sent."""
    sub = get_subscription(conn, subscription_id)
    week = pack_week(now)
    key = f"test-{occurrence_key(now)}"
    as_of = dataset_as_of(conn) or now
    subject = tr("mail_subject", sub.lang, week=week, scope=_scope_suffix(sub))
    item = Outgoing(TEST, sub.subscription_id, key, EMAIL, sub.email, subject)
    try:
        msg = subscription_mail(conn, sub, week, as_of, sender, occurrence=key,
                                base=base or base_url())  # fmt: skip
        item = Outgoing(TEST, sub.subscription_id, key, EMAIL, sub.email, subject, msg)
        outcome = Outcome(item, SENT, transport.send(msg), now)
    except Exception as exc:  # shown on the page and kept in the log
        outcome = failed_outcome(item, exc, now)
    record_attempt(conn, outcome)
    return outcome
