"""Notice candidates and drafted messages on the hand-worked chain."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.records.notices import mark_notified
from dashboard.services.notice_drafts import (
    draft_notice,
    not_yet_notified,
    notice_candidates,
    notices_csv,
)
from tests.dashboard.world import AS_OF, load_chain_world


def test_candidates_kinds_dates_and_reasons(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.begin() as conn:
        mark_notified(conn, "D1", "at_risk", "email", "q", sent_at=datetime(2026, 11, 19, 9))
    with engine.connect() as conn:
        cands = notice_candidates(conn, MetricFilter(as_of=AS_OF)).set_index("commitment_id")
    # overdue: U1? no (delivered); U2 and D2 open past due. At risk: D1, G1.
    assert sorted(cands.index) == ["D1", "D2", "G1", "U2"]
    assert cands.loc["D1", "kind"] == "at_risk"
    assert cands.loc["D1", "expected_date"] == pd.Timestamp(2026, 11, 27, 18)
    assert cands.loc["D1", "late_upstream_stages"] == "Compras"
    assert cands.loc["D1", "last_notice_at"] == pd.Timestamp(2026, 11, 19, 9)
    assert cands.loc["G1", "expected_date"] == pd.Timestamp(2026, 11, 27, 12)
    assert cands.loc["D2", "kind"] == "overdue"
    assert pd.isna(cands["expected_date"]["D2"])
    assert cands.loc["D2", "breached_upstreams"] == "U2"
    assert cands.loc["U2", "late_upstream_stages"] is None
    assert pd.isna(cands["last_notice_at"]["G1"])
    with engine.connect() as conn:
        acme = notice_candidates(conn, MetricFilter(as_of=AS_OF, customers=("Acme",)))
        # a page's period and direction do not hide them: notices are about open
        # commitments to customers, due at any time
        lifted = notice_candidates(
            conn,
            MetricFilter(as_of=AS_OF, date_from=date(2026, 1, 1), date_to=date(2026, 1, 31),
                         direction="from_customer"),
        )  # fmt: skip
    assert list(acme["commitment_id"]) == ["D2", "D1"]  # by due date
    assert sorted(lifted["commitment_id"]) == ["D1", "D2", "G1", "U2"]
    # D1 was told on 11-19: the three nobody has told yet
    assert sorted(not_yet_notified(cands.reset_index())["commitment_id"]) == ["D2", "G1", "U2"]


def test_drafts_name_commitment_date_and_reason_in_both_languages() -> None:
    row = {
        "commitment_id": "D1",
        "title": "Armario A-12",
        "customer": "Acme",
        "kind": "at_risk",
        "due_at": pd.Timestamp(2026, 11, 25, 18),
        "expected_date": pd.Timestamp(2026, 11, 27, 18),
        "late_upstream_stages": "Compras",
    }
    es = draft_notice(row, "es")
    en = draft_notice(row, "en")
    assert es.subject == "Aviso sobre su compromiso D1: Armario A-12"
    assert "previsto para el 25 de noviembre de 2026" in es.body
    assert "La nueva fecha prevista de entrega es el 27 de noviembre de 2026." in es.body
    assert "(Compras)" in es.body and es.body.startswith("Estimado/a Acme:")
    assert "due on 25 November 2026" in en.body
    assert "The new expected delivery date is 27 November 2026." in en.body
    overdue = draft_notice({**row, "kind": "overdue", "expected_date": pd.NaT,
                            "late_upstream_stages": None}, "en")  # fmt: skip
    assert "has not been delivered yet" in overdue.body
    assert "We will confirm the new delivery date" in overdue.body
    assert "earlier stage" not in overdue.body


def test_csv_export_neutralises_formulas(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE commitments SET title = '=HYPERLINK(\"x\")' WHERE commitment_id = 'D1'")
        )
    with engine.connect() as conn:
        text = notices_csv(notice_candidates(conn, MetricFilter(as_of=AS_OF)), "en")
    rows = list(csv.DictReader(io.StringIO(text)))
    d1 = next(r for r in rows if r["commitment_id"] == "D1")
    assert d1["title"] == '\'=HYPERLINK("x")'
    assert d1["expected_date"] == "2026-11-27 18:00:00"
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())
    assert len(rows) == 4


def test_an_internal_customer_is_greeted_as_a_team(engine: sa.Engine) -> None:
    """An internal customer is an area, often the next stage: "Estimado/a Entrega" greeted
    a stage as a person. The candidates say who is internal, the draft greets the team."""
    load_chain_world(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE commitments SET customer = 'Entrega', customer_type = 'internal' "
                "WHERE commitment_id = 'D1'"
            )
        )
    with engine.connect() as conn:
        cands = notice_candidates(conn, MetricFilter(as_of=AS_OF)).set_index("commitment_id")
    assert cands.loc["D1", "customer_type"] == "internal"
    assert cands.loc["D2", "customer_type"] == "external"
    row = cands.loc["D1"].to_dict() | {"commitment_id": "D1"}
    assert draft_notice(row, "es").body.startswith("Equipo de Entrega:")
    assert draft_notice(row, "en").body.startswith("Dear Entrega team,")
    external = cands.loc["D2"].to_dict() | {"commitment_id": "D2"}
    assert draft_notice(external, "es").body.startswith("Estimado/a Acme:")
