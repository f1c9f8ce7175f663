"""Satisfaction metrics worked out by hand, on both backends."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.satisfaction import breach_cost, satisfaction_summary, survey_comments
from tests.factories import commitment, insert_rows

AS_OF = datetime(2026, 3, 10, 12, 0)
MARCH: dict[str, Any] = {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)}


def d(day: int, month: int = 3, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour)


@pytest.fixture
def surveyed(engine: sa.Engine) -> sa.Engine:
    """Five commitments and ten responses.

    a1 on time (Ventas); a2 root breach (Compras); a3 propagated breach (needs a2);
    a4 absorbed, on time (needs a2); a5 pending (due 03-20).
      resp  commitment  answered  csat nps  comment
      r1    a1          03-02     5    10   "Muy bien, rápido"
      r2    a1          03-03     4    8
      r3    a2          03-06     2    3    "Llegó TARDE"
      r4    a3          03-07     3    6    "tarde otra vez 100%"
      r5    a4          03-05     5    -
      r6    a5          03-09     -    9
      r7    -  Cliente B 03-03    1    7    "sin pedido"
      r8    a1          03-11     1    0    (after as_of: not known, ignored)
      r9    -           02-20     5    10
      r10   a3          03-08     4    -
    """
    insert_rows(
        engine,
        "commitments",
        [
            commitment("a1", d(2), d(1)),
            commitment("a2", d(3), d(5), process="Compras"),
            commitment("a3", d(4), d(6)),
            commitment("a4", d(4), d(4)),
            commitment("a5", d(20)),
        ],
    )
    insert_rows(
        engine,
        "dependencies",
        [{"commitment_id": "a3", "depends_on": "a2"}, {"commitment_id": "a4", "depends_on": "a2"}],
    )

    def r(rid: str, cid: str | None, day: datetime, csat: int | None, nps: int | None, **kw):
        return {"response_id": rid, "commitment_id": cid, "customer": "Cliente A",
                "answered_at": day, "csat": csat, "nps": nps, **kw}  # fmt: skip

    insert_rows(
        engine,
        "satisfaction",
        [
            r("r1", "a1", d(2), 5, 10, comment="Muy bien, rápido"),
            r("r2", "a1", d(3), 4, 8),
            r("r3", "a2", d(6), 2, 3, comment="Llegó TARDE"),
            r("r4", "a3", d(7), 3, 6, comment="tarde otra vez 100%"),
            r("r5", "a4", d(5), 5, None),
            r("r6", "a5", d(9), None, 9),
            r("r7", None, d(3, hour=10), 1, 7, customer="Cliente B", comment="sin pedido"),
            r("r8", "a1", d(11), 1, 0),
            r("r9", None, d(20, 2), 5, 10),
            r("r10", "a3", d(8), 4, None),
        ],
    )
    return engine


def test_summary_whole_and_period(surveyed: sa.Engine) -> None:
    with surveyed.connect() as conn:
        whole = satisfaction_summary(conn, MetricFilter(as_of=AS_OF)).iloc[0].to_dict()
        march = satisfaction_summary(conn, MetricFilter(as_of=AS_OF, **MARCH)).iloc[0].to_dict()
    # whole: r1-r7, r9, r10 = 9 responses; csat 5,4,2,3,5,1,5,4 -> 8 answers, 5 satisfied,
    # sum 29; nps 10,8,3,6,9,7,10 -> 7 answers: promoters 3, passives 2, detractors 2.
    assert whole == {
        "group_key": None,
        "responses": 9,
        "csat_responses": 8,
        "csat_satisfied": 5,
        "csat_pct": 5 / 8,
        "csat_mean": 29 / 8,
        "nps_responses": 7,
        "promoters": 3,
        "passives": 2,
        "detractors": 2,
        "nps": 100 * 1 / 7,
    }
    # March drops r9 (no commitment, answered in February): 8 responses, csat 7 answers,
    # 4 satisfied, sum 24; nps 6 answers: 2 promoters, 2 passives, 2 detractors -> 0.
    assert (march["responses"], march["csat_pct"], march["csat_mean"]) == (8, 4 / 7, 24 / 7)
    assert (march["promoters"], march["passives"], march["detractors"]) == (2, 2, 2)
    assert march["nps"] == 0.0


def test_summary_by_process_puts_unlinked_in_the_none_group(surveyed: sa.Engine) -> None:
    f = MetricFilter(as_of=AS_OF, group_by="process", **MARCH)
    with surveyed.connect() as conn:
        df = satisfaction_summary(conn, f)
        ventas = satisfaction_summary(conn, f.with_(processes=("Ventas",), group_by="none"))
    # Compras: r3 only. Ventas: r1 r2 r4 r5 r6 r10 -> csat 5,4,3,5,4 (4 satisfied, sum 21),
    # nps 10,8,6,9 -> 2 promoters, 1 detractor of 4 -> 25. None: r7 (no commitment).
    assert df["group_key"].tolist() == ["Compras", "Ventas", None]
    assert df["responses"].tolist() == [1, 6, 1]
    assert df["csat_pct"].tolist() == [0.0, 0.8, 0.0]
    assert df["csat_mean"].tolist() == [2.0, 4.2, 1.0]
    assert df["nps"].tolist() == [-100.0, 25.0, 0.0]
    # a stage filter cannot apply to a response without a commitment: r7 is left out
    assert ventas.iloc[0]["responses"] == 6


def test_summary_by_week_and_customer(surveyed: sa.Engine) -> None:
    with surveyed.connect() as conn:
        weeks = satisfaction_summary(conn, MetricFilter(as_of=AS_OF, group_by="week"))
        b_only = satisfaction_summary(conn, MetricFilter(as_of=AS_OF, customers=("Cliente B",)))
        empty = satisfaction_summary(
            conn, MetricFilter(as_of=AS_OF, date_from=date(2025, 1, 1), date_to=date(2025, 1, 2))
        )
    # linked responses by their commitment's due week, unlinked by their answer's week:
    # 02-16: r9; 03-02: r1 r2 r3 r4 r5 r7 r10; 03-16: r6 (a5 due 03-20).
    assert weeks["group_key"].tolist() == [date(2026, 2, 16), date(2026, 3, 2), date(2026, 3, 16)]
    assert weeks["responses"].tolist() == [1, 7, 1]
    assert weeks["csat_pct"].tolist()[2] is None  # r6 has no csat
    assert b_only.iloc[0]["responses"] == 1  # r7: its own customer
    assert empty.iloc[0].to_dict() == {
        "group_key": None,
        "responses": 0,
        "csat_responses": 0,
        "csat_satisfied": 0,
        "csat_pct": None,
        "csat_mean": None,
        "nps_responses": 0,
        "promoters": 0,
        "passives": 0,
        "detractors": 0,
        "nps": None,
    }


def test_breach_cost_three_ways(surveyed: sa.Engine) -> None:
    with surveyed.connect() as conn:
        cost = breach_cost(conn, MetricFilter(as_of=AS_OF))
    # on time a1 (r1 5/10, r2 4/8) + a4 (r5 5/-): csat 3 of 3 satisfied, mean 14/3,
    #   nps 1 promoter 1 passive of 2 -> 50.
    # root a2 (r3 2/3): csat 0/1, nps -100. propagated a3 (r4 3/6, r10 4/-): csat 1/2,
    #   mean 3.5, nps -100. Breaches together: 1 of 3 satisfied -> cost 100*(1 - 1/3).
    # r6 (pending a5), r7/r9 (no commitment) and r8 (after as_of) are out.
    assert cost["csat_pct_on_time"] == 1.0
    assert cost["csat_pct_breach"] == 1 / 3
    assert cost["cost_points"] == 66.666667
    assert cost["by_status"].to_dict("records") == [
        {"status": "on_time", "responses": 3, "csat_responses": 3, "csat_pct": 1.0,
         "csat_mean": 14 / 3, "nps_responses": 2, "nps": 50.0},
        {"status": "root_breach", "responses": 1, "csat_responses": 1, "csat_pct": 0.0,
         "csat_mean": 2.0, "nps_responses": 1, "nps": -100.0},
        {"status": "propagated_breach", "responses": 2, "csat_responses": 2, "csat_pct": 0.5,
         "csat_mean": 3.5, "nps_responses": 1, "nps": -100.0},
    ]  # fmt: skip


def test_breach_cost_without_breach_answers(surveyed: sa.Engine) -> None:
    with surveyed.connect() as conn:
        cost = breach_cost(conn, MetricFilter(as_of=AS_OF, date_to=date(2026, 3, 2)))
    # only a1 (on time) is due by 03-02: no breach answers -> no cost, not 0
    assert (cost["csat_pct_on_time"], cost["csat_pct_breach"], cost["cost_points"]) == (
        1.0,
        None,
        None,
    )
    assert cost["by_status"]["responses"].tolist() == [2, 0, 0]
    assert cost["by_status"]["csat_pct"].tolist() == [1.0, None, None]


def test_survey_comments_search_is_literal_and_case_insensitive(surveyed: sa.Engine) -> None:
    f = MetricFilter(as_of=AS_OF)
    with surveyed.connect() as conn:
        everything = survey_comments(conn, f)
        late = survey_comments(conn, f, "TaRdE")
        percent = survey_comments(conn, f, "%")
        underscore = survey_comments(conn, f, "_")
    assert everything["response_id"].tolist() == ["r4", "r3", "r7", "r1"]  # newest first
    assert late["response_id"].tolist() == ["r4", "r3"]
    assert late.iloc[0]["process"] == "Ventas"
    assert percent["response_id"].tolist() == ["r4"]
    assert underscore.empty
    r7 = everything.set_index("response_id").loc["r7"]
    assert (r7["commitment_id"], r7["customer"], r7["csat"]) == (None, "Cliente B", 1)
