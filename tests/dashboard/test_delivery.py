"""`report deliver` against a real SMTP server on loopback (aiosmtpd): each recipient gets
their own pack (their stages only, in every part), nothing twice, nothing lost when the
server refuses or is down; the schedule follows a controlled clock; --dry-run writes .eml."""

from __future__ import annotations

import email
import email.policy
import io
import re
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pypdf
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from dashboard.delivery.mail import DeliveryError, smtp_settings
from dashboard.delivery.run import pack_week, single_run
from dashboard.records.actions import create_action
from dashboard.records.subscriptions import (
    Subscription,
    SubscriptionError,
    add_subscription,
    list_subscriptions,
    parse_formats,
    parse_weekday,
)
from dashboard.records.targets import set_target
from dashboard.report.cli import main as report_main
from etl.db import create_db_engine
from etl.schema import create_schema, dataset_meta, delivery_log
from tests.dashboard.delivery_support import SmtpHandler, closed_port, smtp_server
from tests.dashboard.world import WEEK, load_chain_world

SENDER = "eslabon@example.com"
MONDAY_0805 = "2026-11-23T08:05"  # slot Monday 08:00 -> the pack of 2026-W47
COMPRAS_IDS = {"U1", "U2"}
OTHER_STAGE_IDS = {"D1", "D2", "G1", "G2", "F1", "P1", "X1"}
OTHER_STAGE_TITLES = ("Armario A-12", "Entrega lote 7", "Globex secret project", "Globex lote 1",
                      "Enviar formulario", "Oferta")  # fmt: skip


def _world(url: str) -> None:
    """The hand-worked chain (tests/dashboard/world.py) evaluated at its as_of, a target,
    one action item per stage, and three subscriptions created the week before."""
    engine = create_db_engine(url)
    create_schema(engine)
    load_chain_world(engine)
    created = datetime(2026, 11, 16, 9, 30)
    with engine.begin() as conn:
        conn.execute(dataset_meta.insert().values(key="as_of", value="2026-11-20T12:00:00"))
        set_target(conn, "on_time_rate", 0.9, "higher", 0.05, date(2026, 1, 1), "Marta")
        create_action(conn, WEEK, "Revisar proveedor de tornillos", "Ruth", None, "U2")
        create_action(conn, WEEK, "Llamar a Acme por el lote 7", "Luis", None, "D2")
        add_subscription(conn, "compras@example.com", weekday=0, hour=8, processes=["Compras"],
                         lang="es", formats=["pdf", "xlsx"], created_at=created)  # fmt: skip
        add_subscription(conn, "boss@example.com", weekday=0, hour=8, lang="en",
                         formats=["pdf"], created_at=created)  # fmt: skip
        add_subscription(conn, "later@example.com", weekday=0, hour=9, lang="en",
                         formats=[], created_at=created)  # fmt: skip
    engine.dispose()


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """SMTP settings from the environment only (no secrets file of the developer)."""
    monkeypatch.setattr("dashboard.delivery.mail.SECRETS_FILE", tmp_path / "none.toml")
    monkeypatch.setenv("ESLABON_SMTP_SECURITY", "none")
    monkeypatch.setenv("ESLABON_SMTP_SENDER", SENDER)
    monkeypatch.delenv("ESLABON_SMTP_USER", raising=False)
    monkeypatch.setenv("ESLABON_BASE_URL", "https://eslabon.example.com/")
    return monkeypatch


def _point_at(env: pytest.MonkeyPatch, port: int) -> None:
    env.setenv("ESLABON_SMTP_HOST", "127.0.0.1")
    env.setenv("ESLABON_SMTP_PORT", str(port))


def _deliver(url: str, now: str, *extra: str) -> int:
    return report_main(["deliver", "--db", url, "--now", now, *extra])


def _log(url: str) -> list[tuple]:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        c = delivery_log.c
        rows = conn.execute(
            sa.select(c.ref_id, c.occurrence, c.recipient, c.result).order_by(c.attempt_id)
        ).fetchall()
    engine.dispose()
    return [tuple(r) for r in rows]


# --- what a message holds -----------------------------------------------------------------


def _pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def _xlsx_text(data: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return "\n".join(
        str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
        if v is not None
    )  # fmt: skip


def _every_part(message: EmailMessage) -> dict[str, str]:
    """Every part of a message as text: bodies, PDF pages, workbook cells, headers."""
    parts = {"headers": "\n".join(f"{k}: {v}" for k, v in message.items())}
    for i, part in enumerate(message.walk()):
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html"):
            parts[f"{i}:{kind}"] = part.get_content()
        elif kind == "application/pdf":
            parts[f"{i}:pdf"] = "\n".join(_pdf_text(part.get_content()))
        elif kind.endswith("spreadsheetml.sheet"):
            parts[f"{i}:xlsx"] = _xlsx_text(part.get_content())
    return parts


def _ids(text: str) -> set[str]:
    return set(re.findall(r"\b[A-Z]\d\b", text))


# --- the scenario ---------------------------------------------------------------------------


def test_each_recipient_gets_their_own_pack_once(db_url: str, smtp_env: pytest.MonkeyPatch) -> None:
    _world(db_url)
    with smtp_server() as (handler, port):
        _point_at(smtp_env, port)
        assert _deliver(db_url, MONDAY_0805) == 0
        got = {r.rcpt_tos[0]: r for r in handler.received}
        # the 09:00 subscription is not due at 08:05
        assert sorted(got) == ["boss@example.com", "compras@example.com"]
        assert all(r.mail_from == SENDER for r in handler.received)

        compras = got["compras@example.com"].message
        assert compras["Subject"] == "Revisión semanal 2026-W47 · Compras · Eslabón"
        assert compras["From"] == SENDER and compras["To"] == "compras@example.com"
        files = {str(p.get_filename()): p for p in compras.iter_attachments()}
        assert sorted(files) == ["eslabon-revision-2026-W47.pdf", "eslabon-revision-2026-W47.xlsx"]
        pages = _pdf_text(files["eslabon-revision-2026-W47.pdf"].get_content())
        assert len(pages) == 5 and all("etapas: Compras" in p for p in pages)
        # Compras's week by hand: U1 breach (delivered 2 days late), U2 breach -> 0 of 2 on time
        assert (
            "Cumplimiento en plazo" in pages[0] and "0,0 %" in pages[0]
        )  # pypdf: no-break space read as a space
        book = openpyxl.load_workbook(
            io.BytesIO(files["eslabon-revision-2026-W47.xlsx"].get_content())
        )
        assert book.sheetnames[0] == "Indicadores"
        breached = [r[0] for r in book["Incumplidos"].iter_rows(min_row=2, values_only=True)]
        assert breached == ["U1", "U2"]
        html_part, text_part = compras.get_body(("html",)), compras.get_body(("plain",))
        assert html_part is not None and text_part is not None
        html = html_part.get_content()
        assert "<script" not in html and "Revisión semanal 2026-W47" in html
        text = text_part.get_content()
        assert "https://eslabon.example.com/revision?" in text and "stages=Compras" in text
        assert "week=2026-W47" in text

        # a recipient limited to Compras never sees another stage's commitment, in any part
        for name, content in _every_part(compras).items():
            assert not _ids(content) & OTHER_STAGE_IDS, name
            assert not [t for t in OTHER_STAGE_TITLES if t in content], name
            assert "Llamar a Acme" not in content, name  # the action item of D2
        everything = "\n".join(_every_part(compras).values())
        assert _ids(everything) >= COMPRAS_IDS and "Revisar proveedor" in everything
        # ...while the unrestricted recipient's pack does hold them (the check can fail)
        boss = "\n".join(_every_part(got["boss@example.com"].message).values())
        assert {"D2", "G1", "D1"} <= _ids(boss) and "Llamar a Acme" in boss
        assert got["boss@example.com"].message["Subject"] == "Weekly review 2026-W47 · Eslabón"
        assert [p.get_filename() for p in got["boss@example.com"].message.iter_attachments()] == [
            "eslabon-review-2026-W47.pdf"
        ]

        # run again in the same hour: nothing is sent twice
        assert _deliver(db_url, "2026-11-23T08:40") == 0
        assert len(handler.received) == 2
        # at 09:05 the 09:00 subscription (no attachments) goes, and only it
        assert _deliver(db_url, "2026-11-23T09:05") == 0
        assert [r.rcpt_tos for r in handler.received[2:]] == [["later@example.com"]]
        assert not list(handler.received[2].message.iter_attachments())
    log = _log(db_url)
    assert [(r[2], r[3]) for r in log] == [
        ("compras@example.com", "sent"),
        ("boss@example.com", "sent"),
        ("later@example.com", "sent"),
    ]
    assert {r[1] for r in log} == {"2026-11-23T08:00", "2026-11-23T09:00"}


ACME_IDS = {"D1", "D2", "F1", "P1", "X1"}
ACME_TITLES = ("Armario A-12", "Entrega lote 7", "Enviar formulario", "Oferta", "Anulado")


def test_customer_and_customer_type_filters_hold_in_every_part(
    db_url: str, smtp_env: pytest.MonkeyPatch
) -> None:
    _world(db_url)
    engine = create_db_engine(db_url)
    with engine.begin() as conn:
        created = datetime(2026, 11, 16, 9, 30)
        add_subscription(conn, "globex@example.com", weekday=0, hour=7, customers=["Globex"],
                         lang="en", formats=["pdf", "xlsx"], created_at=created)  # fmt: skip
        add_subscription(conn, "plant@example.com", weekday=0, hour=7,
                         customer_types=["internal"], formats=["pdf", "xlsx"],
                         created_at=created)  # fmt: skip
    engine.dispose()
    with smtp_server() as (handler, port):
        _point_at(smtp_env, port)
        assert _deliver(db_url, "2026-11-23T07:30") == 0  # only the 07:00 ones are due
        got = {r.rcpt_tos[0]: r.message for r in handler.received}
    assert sorted(got) == ["globex@example.com", "plant@example.com"]
    globex = _every_part(got["globex@example.com"])
    assert len(globex) == 5  # headers, text, html, pdf, xlsx
    for name, content in globex.items():
        # no Acme commitment (U2 may appear as the name of G1's breached supplier)
        assert not _ids(content) & ACME_IDS, name
        assert not [t for t in ACME_TITLES if t in content], name
    everything = "\n".join(globex.values())
    # G1 (at risk next week) is Globex's only row this week; G2 was on time (no table)
    assert "G1" in _ids(everything) and "Globex secret project" in everything
    assert "customers: Globex" in globex[next(k for k in globex if k.endswith("pdf"))]
    plant = _every_part(got["plant@example.com"])
    for name, content in plant.items():
        # internal customers only: Compras' deliveries to the plant, U1 and U2
        assert _ids(content) & (COMPRAS_IDS | OTHER_STAGE_IDS) <= COMPRAS_IDS, name
        assert not [t for t in OTHER_STAGE_TITLES if t in content], name
    assert _ids("\n".join(plant.values())) >= COMPRAS_IDS
    assert got["plant@example.com"]["Subject"] == "Revisión semanal 2026-W47 · Interno · Eslabón"


def test_a_failing_server_loses_nothing_and_duplicates_nothing(
    db_url: str, smtp_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    _world(db_url)
    # 08:05: the server is down (connection refused)
    _point_at(smtp_env, closed_port())
    assert _deliver(db_url, MONDAY_0805) == 3
    err = capsys.readouterr().err
    assert err.count("failed\tsubscription") == 2 and "Traceback" not in err
    handler = SmtpHandler(refusing=True)
    with smtp_server(handler) as (_, port):
        _point_at(smtp_env, port)
        # 08:30: it answers but refuses every message (451)
        assert _deliver(db_url, "2026-11-23T08:30") == 3
        assert handler.refused == 2 and handler.received == []
        # 08:50: it has recovered: each message goes exactly once
        handler.refusing = False
        assert _deliver(db_url, "2026-11-23T08:50") == 0
        assert sorted(r.rcpt_tos[0] for r in handler.received) == [
            "boss@example.com",
            "compras@example.com",
        ]
        assert _deliver(db_url, "2026-11-23T08:55") == 0
        assert len(handler.received) == 2
    results = [(r[2], r[3]) for r in _log(db_url)]
    for who in ("compras@example.com", "boss@example.com"):
        assert [res for rec, res in results if rec == who] == ["failed", "failed", "sent"]


def test_schedule_follows_the_clock(db_url: str, smtp_env: pytest.MonkeyPatch) -> None:
    _world(db_url)
    with smtp_server() as (handler, port):
        _point_at(smtp_env, port)
        assert _deliver(db_url, "2026-11-23T07:59") == 0  # before the slot: last week's slot
        # ...was before the subscriptions existed (created Mon 16 at 09:30)
        assert handler.received == []
        assert _deliver(db_url, "2026-11-25T15:00") == 0  # Wednesday: Monday's slots are due
        assert len(handler.received) == 3  # a run that was missed catches up
        assert _deliver(db_url, "2026-11-29T23:59") == 0  # the same week: nothing new
        assert len(handler.received) == 3
        assert _deliver(db_url, "2026-11-30T08:00") == 0  # next Monday 08:00 sharp
        assert len(handler.received) == 5
        subjects = {r.message["Subject"] for r in handler.received[3:]}
        assert subjects == {
            "Revisión semanal 2026-W48 · Compras · Eslabón",
            "Weekly review 2026-W48 · Eslabón",
        }


def test_an_overlapping_run_steps_aside(
    db_url: str, smtp_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    _world(db_url)
    with smtp_server() as (handler, port):
        _point_at(smtp_env, port)
        with single_run(db_url):  # a slow run of the hour before still going
            assert _deliver(db_url, MONDAY_0805) == 0
            assert "skipped: another delivery run holds" in capsys.readouterr().out
            assert handler.received == [] and _log(db_url) == []
        assert _deliver(db_url, MONDAY_0805) == 0  # once it is done, the next run works
        assert len(handler.received) == 2


def test_dry_run_writes_eml_and_records_nothing(
    db_url: str, smtp_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _world(db_url)
    smtp_env.delenv("ESLABON_SMTP_HOST", raising=False)  # no server needed
    outbox = tmp_path / "outbox"
    assert _deliver(db_url, MONDAY_0805, "--dry-run", "--outbox", str(outbox)) == 0
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 2
    messages = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files
    ]
    assert sorted(m["To"] for m in messages) == ["boss@example.com", "compras@example.com"]
    assert _log(db_url) == []
    # without --dry-run and without a server configured: a clear error, nothing recorded
    assert _deliver(db_url, MONDAY_0805) == 2
    assert _log(db_url) == []


def test_login_with_the_configured_user_and_password(
    db_url: str, smtp_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    _world(db_url)
    with smtp_server(login=("bot", "s3cret")) as (handler, port):
        _point_at(smtp_env, port)
        smtp_env.setenv("ESLABON_SMTP_USER", "bot")
        smtp_env.setenv("ESLABON_SMTP_PASSWORD", "wrong")
        assert _deliver(db_url, MONDAY_0805) == 3
        assert "SMTPAuthenticationError" in capsys.readouterr().err
        assert handler.received == []
        smtp_env.setenv("ESLABON_SMTP_PASSWORD", "s3cret")
        assert _deliver(db_url, "2026-11-23T08:10") == 0
        assert handler.logins == ["bot", "bot"] and len(handler.received) == 2
    assert "s3cret" not in "".join(str(r) for r in _log(db_url))


# --- pieces -------------------------------------------------------------------------------------


def test_smtp_settings_environment_first_then_secrets(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[smtp]\nhost = "smtp.example.com"\nsecurity = "ssl"\nuser = "bot@example.com"\n'
        'password = "s3cret"\n',
        encoding="utf-8",
    )
    from_file = smtp_settings({}, secrets)
    assert from_file is not None
    assert (from_file.host, from_file.port, from_file.security) == ("smtp.example.com", 465, "ssl")
    assert from_file.sender == "bot@example.com" and from_file.password == "s3cret"
    assert "s3cret" not in from_file.describe()
    env = {"ESLABON_SMTP_HOST": "mail.local", "ESLABON_SMTP_SECURITY": "starttls",
           "ESLABON_SMTP_SENDER": "a@b.org"}  # fmt: skip
    mixed = smtp_settings(env, secrets)
    assert mixed is not None
    expected = ("mail.local", 587, "starttls", "a@b.org")
    assert (mixed.host, mixed.port, mixed.security, mixed.sender) == expected
    assert mixed.user == "bot@example.com"  # not in the environment: from the file
    assert smtp_settings({}, tmp_path / "missing.toml") is None
    with pytest.raises(DeliveryError, match="ESLABON_SMTP_SECURITY"):
        smtp_settings({**env, "ESLABON_SMTP_SECURITY": "tls"}, secrets)
    with pytest.raises(DeliveryError, match="ESLABON_SMTP_PORT"):
        smtp_settings({**env, "ESLABON_SMTP_PORT": "smtp"}, secrets)
    with pytest.raises(DeliveryError, match="ESLABON_SMTP_SENDER"):
        smtp_settings({"ESLABON_SMTP_HOST": "x"}, tmp_path / "missing.toml")


def test_subscription_validation(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for bad, match in (
            ({"email": "not-an-address"}, "e-mail"),
            ({"email": "a@b.org\r\nBcc: x@y.org"}, "e-mail"),
            ({"hour": 24}, "hour"),
            ({"weekday": 7}, "weekday"),
            ({"lang": "fr"}, "language"),
            ({"formats": ["docx"]}, "format"),
            ({"customer_types": ["vip"]}, "customer type"),
        ):
            args: dict[str, Any] = {"email": "a@b.org", "weekday": 0, "hour": 8, **bad}
            with pytest.raises(SubscriptionError, match=match):
                add_subscription(conn, args.pop("email"), **args)
        assert list_subscriptions(conn) == []
    assert parse_weekday("Mon") == 0 and parse_weekday("sunday") == 6
    assert parse_weekday("miércoles") == 2 and parse_weekday("vie") == 4
    with pytest.raises(SubscriptionError, match="weekday"):
        parse_weekday("someday")
    assert parse_formats("xlsx, PDF") == ("pdf", "xlsx") and parse_formats("") == ()


def test_records_cli_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from dashboard.records.cli import main

    url = f"duckdb:///{tmp_path / 'cli.duckdb'}"
    engine = create_db_engine(url)
    create_schema(engine)
    engine.dispose()
    args = ["subscriptions", "add", "--db", url, "--email", "ana@example.com", "--stage",
            "Compras", "--stage", "Producción", "--customer", "Acme", "--lang", "en",
            "--weekday", "fri", "--hour", "7", "--formats", "xlsx", "--by", "tester"]  # fmt: skip
    assert main(args) == 0
    assert main(["subscriptions", "add", "--db", url, "--email", "b@example.com",
                 "--weekday", "mon", "--hour", "8"]) == 0  # fmt: skip
    assert main(["subscriptions", "list", "--db", url]) == 0
    out = capsys.readouterr().out.splitlines()
    listed = out[2:]
    assert listed[0].split("\t")[:5] == ["1", "ana@example.com", "fri 07:00", "en", "xlsx"]
    assert "stages: Compras, Producción; customers: Acme" in listed[0]
    assert listed[1].split("\t")[2:] == ["mon 08:00", "es", "pdf,xlsx", "all"]
    assert main(["subscriptions", "remove", "1", "--db", url]) == 0
    assert main(["subscriptions", "remove", "1", "--db", url]) == 2
    assert main(["subscriptions", "add", "--db", url, "--email", "c@example.com",
                 "--weekday", "someday", "--hour", "8"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "no subscription with id 1" in err and "weekday 'someday'" in err
    assert main(["subscriptions", "list", "--db", url]) == 0
    assert [line.split("\t")[1] for line in capsys.readouterr().out.splitlines()] == [
        "b@example.com"
    ]


_SLOT_SUB: dict[str, Any] = dict(email="x@y.org", processes=(), customers=(), customer_types=(),
                                 lang="es", formats=(), active=True, created_by=None)  # fmt: skip


@given(
    now=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
    weekday=st.integers(0, 6),
    hour=st.integers(0, 23),
)
def test_last_slot_is_the_latest_scheduled_time_not_after_now(
    now: datetime, weekday: int, hour: int
) -> None:
    sub = Subscription(subscription_id=1, weekday=weekday, hour=hour,
                       created_at=datetime(2019, 1, 1), **_SLOT_SUB)  # fmt: skip
    slot = sub.last_slot(now)
    assert slot <= now < slot + timedelta(days=7)
    assert (slot.weekday(), slot.hour, slot.minute, slot.second) == (weekday, hour, 0, 0)
    # the pack reviews the full ISO week before the slot's week
    monday = date.fromisoformat(f"{slot.date() - timedelta(days=slot.weekday() + 7)}")
    assert pack_week(slot) == f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
