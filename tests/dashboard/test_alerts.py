"""Alerts: each condition worked out by hand on the chain of tests/dashboard/world.py; a
real webhook receiver and a real SMTP server on loopback; once per episode, re-armed when
the condition clears, under a controlled clock (`report deliver --now`)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from dashboard.delivery.alerts import Episode, Finding, episode_changes, rule_findings
from dashboard.metrics.deadlines import elapsed_share_at_risk
from dashboard.metrics.filters import MetricFilter
from dashboard.records.alerts import (
    AlertRule,
    AlertRuleError,
    add_alert_rule,
    list_alert_rules,
)
from dashboard.records.targets import set_target
from dashboard.report.cli import main as report_main
from etl.db import create_db_engine
from etl.schema import alert_episodes, create_schema, delivery_log
from tests.dashboard.delivery_support import smtp_server, webhook_receiver
from tests.dashboard.world import AS_OF, load_chain_world

BASE = "https://eslabon.example.com"
CREATED = datetime(2026, 11, 18, 0, 0)


def _rule(conn: sa.Connection, **kw: Any) -> int:
    args: dict[str, Any] = {"name": "r", "lang": "en", "emails": ["a@example.com"],
                               "created_at": CREATED, **kw}  # fmt: skip
    return add_alert_rule(conn, str(args.pop("name")), str(args.pop("condition")), **args)


def _findings(engine: sa.Engine, rule_id: int, as_of: datetime = AS_OF) -> list:
    with engine.connect() as conn:
        rule = next(r for r in list_alert_rules(conn) if r.rule_id == rule_id)
        return rule_findings(conn, rule, as_of, BASE)


# --- conditions, by hand -----------------------------------------------------------------


def test_kpi_conditions(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.begin() as conn:
        set_target(conn, "on_time_rate", 0.9, "higher", 0.05, date(2026, 1, 1), "Marta")
        below = _rule(conn, condition="below_target", kpi="on_time_rate")
        worse = _rule(conn, condition="worse_than_last_week", kpi="on_time_rate", threshold=0.1)
        too_worse = _rule(conn, condition="worse_than_last_week", kpi="on_time_rate",
                          threshold=0.8)  # fmt: skip
        above = _rule(conn, condition="above", kpi="breaches", threshold=2)
        above_entrega = _rule(conn, condition="above", kpi="breaches", threshold=2,
                              processes=["Entrega"], lang="es")  # fmt: skip
    # W47 at as_of: due U1, U2, D2 (breaches) and G2 (on time): 1 of 4 = 25.0%; W46: P1 on
    # time, 100.0% -> change -75.0 pp; 3 breaches (> 2); Entrega alone: D2 only, 1 breach.
    [finding] = _findings(engine, below)
    assert finding.subject == ""
    assert finding.reason == (
        "On-time rate for week 2026-W47 is 25.0%: it misses its target of 90.0%."
    )
    assert finding.link == f"{BASE}/revision?lang=en&week=2026-W47"
    [finding] = _findings(engine, worse)
    assert finding.reason == (
        "On-time rate got worse by 75.0 pp against last week (100.0% → 25.0%; threshold 10.0 pp)."
    )
    assert _findings(engine, too_worse) == []  # 75 points is less than 80
    [finding] = _findings(engine, above)
    assert finding.reason == "Breaches for week 2026-W47 is 3, above the threshold of 2."
    assert _findings(engine, above_entrega) == []


def test_commitment_conditions(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.begin() as conn:
        at_risk = _rule(conn, condition="at_risk", processes=["Producción"])
        at_risk_acme = _rule(conn, condition="at_risk", customers=["Acme"], lang="es")
        newly = _rule(conn, condition="newly_breached")
    found = _findings(engine, at_risk)
    assert [f.subject for f in found] == ["D1", "G1"]
    assert found[0].reason == (
        "D1 “Armario A-12” (Producción, customer Acme) is due 2026-11-25 18:00 and its "
        "supplier U1 is already breached: expected delivery 2026-11-27 18:00."
    )
    assert found[0].link == (f"{BASE}/seguimiento?lang=en&stages=Producci%C3%B3n&commitment=D1")
    [acme] = _findings(engine, at_risk_acme)  # G1 is Globex's
    assert acme.subject == "D1" and acme.reason.startswith("D1 «Armario A-12» (Producción,")
    # breached since the rule was created (Wed 18, 00:00): U2 (due Tue 17) is older; D2
    # (due Thu 19 12:00, open) is new; U1 (due Mon 16) is older
    assert [f.subject for f in _findings(engine, newly)] == ["D2"]
    assert _findings(engine, newly, datetime(2026, 11, 19, 11, 0)) == []  # D2 not due yet


def test_elapsed_share_at_risk(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.connect() as conn:
        f = MetricFilter(as_of=AS_OF)
        # G1: requested Jan 1 (factory default), due Nov 24 12:00 -> 323.5 of 327.5 days
        # D1: requested Nov 2 09:00, due Nov 25 18:00 -> 435 of 561 hours
        late = elapsed_share_at_risk(conn, f, 0.8)
        assert list(late["commitment_id"]) == ["G1"]
        assert late["elapsed_share"].iloc[0] == pytest.approx(323.5 / 327.5)
        both = elapsed_share_at_risk(conn, f, 0.7)
        assert list(both["commitment_id"]) == ["G1", "D1"]
        assert both["elapsed_share"].iloc[1] == pytest.approx(435 / 561)
        with pytest.raises(ValueError, match="elapsed share"):
            elapsed_share_at_risk(conn, f, 0)


def test_rule_validation(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for bad, match in (
            ({"condition": "sometimes"}, "condition"),
            ({"condition": "above", "kpi": "nope", "threshold": 1}, "KPI"),
            ({"condition": "above", "kpi": "breaches"}, "threshold"),
            ({"condition": "worse_than_last_week", "kpi": "due", "threshold": 1}, "direction"),
            ({"condition": "at_risk", "threshold": 1.5}, "elapsed share"),
            ({"condition": "at_risk", "emails": []}, "e-mail address or a webhook"),
            ({"condition": "at_risk", "webhook_url": "file:///etc/passwd"}, "http"),
            ({"condition": "at_risk", "emails": ["x"]}, "e-mail"),
        ):
            with pytest.raises(AlertRuleError, match=match):
                _rule(conn, **bad)
        assert list_alert_rules(conn) == []


# --- delivery, with a controlled clock --------------------------------------------------------


@pytest.fixture
def alert_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.setattr("dashboard.delivery.mail.SECRETS_FILE", tmp_path / "none.toml")
    monkeypatch.setenv("ESLABON_SMTP_SECURITY", "none")
    monkeypatch.setenv("ESLABON_SMTP_SENDER", "eslabon@example.com")
    monkeypatch.setenv("ESLABON_SMTP_HOST", "127.0.0.1")
    monkeypatch.delenv("ESLABON_SMTP_USER", raising=False)
    monkeypatch.setenv("ESLABON_BASE_URL", BASE)
    return monkeypatch


def _episodes(url: str) -> list[tuple]:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        e = alert_episodes.c
        rows = conn.execute(
            sa.select(e.rule_id, e.subject, e.opened_at, e.closed_at).order_by(
                e.opened_at, e.rule_id, e.subject
            )
        ).fetchall()
    engine.dispose()
    return [tuple(r) for r in rows]


def _set_d2_delivered(url: str, delivered: datetime | None) -> None:
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE commitments SET delivered_at = :d WHERE commitment_id = 'D2'"),
            {"d": delivered},
        )
    engine.dispose()


def test_alerts_fire_once_per_episode_to_webhook_and_mail(
    db_url: str, alert_env: pytest.MonkeyPatch
) -> None:
    engine = create_db_engine(db_url)
    create_schema(engine)
    load_chain_world(engine)  # no dataset as_of: the run's clock is the evaluation instant
    with webhook_receiver() as hook, smtp_server() as (smtp, port):
        alert_env.setenv("ESLABON_SMTP_PORT", str(port))
        with engine.begin() as conn:
            risk = _rule(conn, name="Producción at risk", condition="at_risk",
                         processes=["Producción"], emails=["ana@example.com"],
                         webhook_url=hook.url)  # fmt: skip
            # Entrega's on-time rate in W47: D2 breached, G2 on time -> 50% (< 60%)
            low = _rule(conn, name="Entrega below 60%", condition="below", kpi="on_time_rate",
                        threshold=0.6, processes=["Entrega"], emails=[],
                        webhook_url=hook.url)  # fmt: skip
        engine.dispose()

        def deliver(now: str) -> int:
            return report_main(["deliver", "--db", db_url, "--now", now])

        assert deliver("2026-11-20T12:00") == 0
        assert [r["json"]["eslabon"]["rule_id"] for r in hook.requests] == [risk, low]
        body = hook.requests[0]["json"]
        assert hook.requests[0]["content_type"].startswith("application/json")
        assert body["text"].startswith("[Eslabón] Alert: Producción at risk\n")
        assert (
            "D1 “Armario A-12” (Producción, customer Acme) is due 2026-11-25 18:00" in body["text"]
        )
        assert f"{BASE}/seguimiento?lang=en&stages=Producci%C3%B3n&commitment=G1" in body["text"]
        assert body["eslabon"]["condition"] == "at_risk"
        assert [i["subject"] for i in body["eslabon"]["items"]] == ["D1", "G1"]
        assert body["eslabon"]["scope"] == "stages: Producción"
        kpi_body = hook.requests[1]["json"]["eslabon"]
        assert kpi_body["items"] == [
            {
                "subject": None,
                "reason": "On-time rate for week 2026-W47 is 50.0%, below the threshold of 60.0%.",
                "link": f"{BASE}/revision?lang=en&stages=Entrega&week=2026-W47",
            }
        ]
        [mail] = smtp.received
        assert mail.rcpt_tos == ["ana@example.com"]
        assert mail.message["Subject"] == "[Eslabón] Alert: Producción at risk"
        assert "G1 “Globex secret project”" in mail.message.get_content()

        # an hour later nothing has changed: nothing is said again
        assert deliver("2026-11-20T13:00") == 0
        assert len(hook.requests) == 2 and len(smtp.received) == 1

        # D2 turns out delivered on time: Entrega is at 100%, the KPI episode closes
        _set_d2_delivered(db_url, datetime(2026, 11, 19, 10))
        assert deliver("2026-11-20T14:00") == 0
        assert len(hook.requests) == 2
        # ...and the correction is withdrawn: the condition returns, a new episode fires
        _set_d2_delivered(db_url, None)
        assert deliver("2026-11-20T15:00") == 0
        assert [r["json"]["eslabon"]["rule_id"] for r in hook.requests] == [risk, low, low]
        assert hook.requests[2]["json"]["eslabon"]["opened_at"] == "2026-11-20T15:00:00"

        # Tuesday 24 at 13:00: G1 is past due (no longer "at risk"), D1 still is
        assert deliver("2026-11-24T13:00") == 0
        assert len(hook.requests) == 3 and len(smtp.received) == 1
    noon, three = datetime(2026, 11, 20, 12), datetime(2026, 11, 20, 15)
    tue = datetime(2026, 11, 24, 13)
    assert _episodes(db_url) == [
        (risk, "D1", noon, None),
        (risk, "G1", noon, tue),
        (low, "", noon, datetime(2026, 11, 20, 14)),
        # W48 has no Entrega commitment due yet: no value, so the condition does not hold
        (low, "", three, tue),
    ]


def test_a_failing_webhook_is_retried_and_not_repeated(
    db_url: str, alert_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    engine = create_db_engine(db_url)
    create_schema(engine)
    load_chain_world(engine)
    with webhook_receiver() as hook:
        with engine.begin() as conn:
            _rule(conn, name="newly", condition="newly_breached", emails=[],
                  webhook_url=hook.url)  # fmt: skip
        engine.dispose()
        hook.status = 500
        assert report_main(["deliver", "--db", db_url, "--now", "2026-11-20T12:00"]) == 3
        assert "HTTPError" in capsys.readouterr().err
        hook.status = 200
        assert report_main(["deliver", "--db", db_url, "--now", "2026-11-20T13:00"]) == 0
        assert report_main(["deliver", "--db", db_url, "--now", "2026-11-20T14:00"]) == 0
        items = [[i["subject"] for i in r["json"]["eslabon"]["items"]] for r in hook.requests]
        assert items == [["D2"], ["D2"]]  # the refused POST, then the one that counted
    engine = create_db_engine(db_url)
    with engine.connect() as conn:
        c = delivery_log.c
        results = conn.execute(
            sa.select(c.kind, c.channel, c.occurrence, c.result).order_by(c.attempt_id)
        ).fetchall()
    engine.dispose()
    assert [tuple(r) for r in results] == [
        ("alert", "webhook", "2026-11-20T12:00", "failed"),
        ("alert", "webhook", "2026-11-20T12:00", "sent"),
    ]


def test_dry_run_writes_the_webhook_body_and_opens_no_episode(
    db_url: str, alert_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine = create_db_engine(db_url)
    create_schema(engine)
    load_chain_world(engine)
    with engine.begin() as conn:
        _rule(conn, name="newly", condition="newly_breached", emails=["a@example.com"],
              webhook_url="https://hooks.example.com/T000/B000")  # fmt: skip
    engine.dispose()
    outbox = tmp_path / "outbox"
    now = ["--now", "2026-11-20T12:00", "--dry-run", "--outbox", str(outbox)]
    assert report_main(["deliver", "--db", db_url, *now]) == 0
    [hook_file] = outbox.glob("webhook-*.json")
    payload = json.loads(hook_file.read_text(encoding="utf-8"))
    assert payload["text"].startswith("[Eslabón] Alert: newly\n• D2 “Entrega lote 7”")
    assert len(list(outbox.glob("*.eml"))) == 1
    assert _episodes(db_url) == []  # a dry run changes nothing: the real run still fires


# --- the episode bookkeeping, as an invariant ---------------------------------------------------

_SUBJECTS = st.sampled_from(["", "D1", "D2", "G1", "U2"])


@given(
    open_before=st.sets(st.tuples(st.integers(1, 3), _SUBJECTS), max_size=8),
    holding=st.sets(st.tuples(st.integers(1, 3), _SUBJECTS), max_size=8),
    active_rules=st.sets(st.integers(1, 3)),
)
def test_episodes_follow_the_condition(
    open_before: set[tuple[int, str]], holding: set[tuple[int, str]], active_rules: set[int]
) -> None:
    """After a run, the open episodes are exactly the (rule, subject) pairs that hold for an
    active rule; an episode already open is never opened again (so never re-announced)."""
    earlier, now = datetime(2026, 11, 20, 11), datetime(2026, 11, 20, 12)
    rules = [
        AlertRule(rule_id=r, name=f"r{r}", kpi=None, condition="at_risk", threshold=None,
                  processes=(), customers=(), customer_types=(), lang="en", emails=("a@b.org",),
                  webhook_url=None, active=True, created_by=None, created_at=CREATED)
        for r in sorted(active_rules)
    ]  # fmt: skip
    current = [Episode(r, s, earlier, "why", "link") for r, s in sorted(open_before)]
    findings: dict[int, list[Finding]] = {}
    for r, s in sorted(holding):
        findings.setdefault(r, []).append(Finding(s, "why", "link"))
    changes = episode_changes(rules, findings, current, now)
    closed = {(r, s) for r, s, _ in changes.closed}
    opened = {(e.rule_id, e.subject) for e in changes.opened}
    after = (open_before - closed) | opened
    assert after == {(r, s) for r, s in holding if r in active_rules}
    assert not opened & open_before
    assert all(e.opened_at == now for e in changes.opened)
