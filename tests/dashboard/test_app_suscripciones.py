"""Suscripciones page (AppTest): add, edit, test-send over a real SMTP server on loopback,
remove; the delivery log; both languages; a database older than subscriptions."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Button

from dashboard.records.alerts import add_alert_rule
from etl.db import create_db_engine
from tests.dashboard.apptest_support import all_text, page_app, world_db
from tests.dashboard.delivery_support import smtp_server


def _script() -> None:
    from dashboard.views import suscripciones

    suscripciones.page()


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.setattr("dashboard.delivery.mail.SECRETS_FILE", tmp_path / "none.toml")
    for name in ("HOST", "PORT", "USER", "PASSWORD"):
        monkeypatch.delenv(f"ESLABON_SMTP_{name}", raising=False)
    monkeypatch.setenv("ESLABON_SMTP_SECURITY", "none")
    monkeypatch.setenv("ESLABON_SMTP_SENDER", "eslabon@example.com")
    return monkeypatch


def _button(at: AppTest, label: str) -> Button:
    return next(b for b in at.button if b.label == label)


def test_add_edit_test_send_and_remove(no_secrets: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with smtp_server() as (smtp, port):
        no_secrets.setenv("ESLABON_SMTP_HOST", "127.0.0.1")
        no_secrets.setenv("ESLABON_SMTP_PORT", str(port))
        at = page_app(no_secrets, world_db(tmp_path), _script, lang="en").run()
        assert not at.exception
        text = all_text(at)
        assert "Subscriptions" in [t.value for t in at.title]
        assert "No subscriptions yet." in text and "Nothing sent yet." in text
        assert f"Mail server: 127.0.0.1:{port} (none)" in text

        at.text_input(key="w_s_email_0").set_value("ruth@example.com")
        at.multiselect(key="w_s_stages_0").set_value(["Compras"])
        at.selectbox(key="w_s_weekday_0").set_value(0)
        at.number_input(key="w_s_hour_0").set_value(7)
        at.multiselect(key="w_s_formats_0").set_value(["pdf"])
        at.text_input(key="w_records_who").set_value("Marta")
        at = _button(at, "Save subscription").click().run()
        assert not at.exception
        assert "Subscription saved." in [s.value for s in at.success]
        table = at.dataframe[0].value
        assert list(table["E-mail"]) == ["ruth@example.com"]
        assert list(table["When"]) == ["Monday 07:00"]
        assert list(table["Filter"]) == ["stages: Compras"]
        assert list(table["Attachments"]) == ["pdf"]

        # edit it: Thursday 16:00, both attachments
        at.selectbox(key="w_s_pick").set_value(1).run()
        at.selectbox(key="w_s_weekday_1").set_value(3)
        at.number_input(key="w_s_hour_1").set_value(16)
        at.multiselect(key="w_s_formats_1").set_value(["pdf", "xlsx"])
        at = _button(at, "Save subscription").click().run()
        table = at.dataframe[0].value
        assert list(table["When"]) == ["Thursday 16:00"]
        assert list(table["Attachments"]) == ["pdf, xlsx"]

        # a test-send goes through the real server now, and is logged
        at = _button(at, "Send a test now").click().run()
        assert not at.exception
        assert "Test sent to ruth@example.com." in [s.value for s in at.success]
        [mail] = smtp.received
        assert mail.rcpt_tos == ["ruth@example.com"]
        assert mail.message["Subject"].startswith("Weekly review 2026-W")
        assert mail.message["Subject"].endswith(" · Compras · Eslabón")
        assert sorted(p.get_content_type() for p in mail.message.iter_attachments()) == [
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ]
        log = at.dataframe[1].value
        assert list(log["What"]) == ["Test 1"] and list(log["Result"]) == ["sent"]
        assert list(log["To"]) == ["ruth@example.com"]

        at = _button(at, "Remove").click().run()
        assert "Subscription removed." in [s.value for s in at.success]
        assert "No subscriptions yet." in all_text(at)
        assert len(at.dataframe) == 1  # the log stays


def test_alert_rules_are_listed(no_secrets: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = world_db(tmp_path)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        add_alert_rule(conn, "On-time drop", "worse_than_last_week", kpi="on_time_rate",
                       threshold=0.05, processes=["Compras"], emails=["boss@example.com"],
                       webhook_url="https://hooks.example.com/x")  # fmt: skip
    engine.dispose()
    at = page_app(no_secrets, url, _script, lang="en").run()
    assert not at.exception
    assert "Alert rules" in [s.value for s in at.subheader]
    rules = at.dataframe[0].value  # no subscriptions: the rules are the first table
    assert list(rules["Rule"]) == ["On-time drop"]
    assert list(rules["Condition"]) == ["worse_than_last_week · On-time rate · 0.05"]
    assert list(rules["Filter"]) == ["stages: Compras"]
    assert list(rules["To"]) == ["boss@example.com, https://hooks.example.com/x"]


def test_spanish_and_bad_input_without_a_mail_server(
    no_secrets: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = world_db(tmp_path)
    engine = create_db_engine(url)
    with engine.begin() as conn:  # a database made before subscriptions existed
        for table in ("subscriptions", "delivery_log", "alert_rules", "alert_episodes"):
            conn.execute(sa.text(f"DROP TABLE {table}"))
    engine.dispose()
    at = page_app(no_secrets, url, _script).run()
    assert not at.exception
    assert "Suscripciones" in [t.value for t in at.title]
    text = all_text(at)
    assert "No hay servidor de correo configurado" in text
    assert "Aún no hay suscripciones." in text and "Aún no hay envíos." in text
    at.text_input(key="w_s_email_0").set_value("no es un correo")
    at = _button(at, "Guardar suscripción").click().run()
    assert not at.exception
    assert any("no es un correo" in e.value for e in at.error)
    assert "Aún no hay suscripciones." in all_text(at)
    # with a subscription, the test button is there but disabled (nothing could be sent)
    at.text_input(key="w_s_email_0").set_value("ana@example.com")
    at = _button(at, "Guardar suscripción").click().run()
    at.selectbox(key="w_s_pick").set_value(1).run()
    assert _button(at, "Enviar prueba ahora").disabled
