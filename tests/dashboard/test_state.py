"""The view in the URL: round trips, defaults, hostile values, the filter it gives."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from dashboard.metrics.ontime import on_time_summary
from dashboard.ui.state import PERIODS, ViewState, parse_view
from tests.factories import commitment, insert_rows

AS_OF = datetime(2026, 11, 20, 12, 0)  # a Friday; its ISO week starts on Monday 16th
HOSTILE = "x'; DROP TABLE commitments; --"

names = (
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")
        ),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)


@st.composite
def views(draw: st.DrawFn) -> ViewState:
    period = draw(st.sampled_from(PERIODS))
    d1 = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)))
    d2 = draw(st.dates(min_value=d1, max_value=date(2030, 12, 31)))
    stage = draw(st.none() | names)
    return ViewState(
        period=period,
        date_from=d1 if period == "custom" else None,
        date_to=d2 if period == "custom" else None,
        stages=tuple(dict.fromkeys(draw(st.lists(names, max_size=4)))),
        customer_type=draw(st.sampled_from(["all", "internal", "external"])),
        direction=draw(st.sampled_from(["to_customer", "from_customer"])),
        lang=draw(st.sampled_from(["es", "en"])),
        drill_stage=stage,
        drill_performer=draw(st.none() | names) if stage else None,
    )


@given(views())
def test_query_round_trip(view: ViewState) -> None:
    assert parse_view(view.to_query()) == view


def test_defaults_leave_the_link_short() -> None:
    assert ViewState().to_query() == {}
    assert parse_view({}) == ViewState()


def test_period_presets_are_whole_iso_weeks_ending_at_as_of() -> None:
    assert ViewState(period="4w").period_dates(AS_OF) == (date(2026, 10, 26), date(2026, 11, 20))
    assert ViewState(period="13w").period_dates(AS_OF) == (date(2026, 8, 24), date(2026, 11, 20))
    assert ViewState(period="26w").period_dates(AS_OF) == (date(2026, 5, 25), date(2026, 11, 20))
    custom = ViewState(period="custom", date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    assert custom.period_dates(AS_OF) == (date(2026, 3, 1), date(2026, 3, 31))


def test_unknown_values_fall_back_to_defaults() -> None:
    view = parse_view(
        {
            "period": "99w",
            "ctype": HOSTILE,
            "dir": "sideways",
            "lang": "fr",
            "from": "2026-13-45",
            "performer": "Ana",  # a performer without a stage means nothing
            "bogus": "1",
        }
    )
    assert view == ViewState()


def test_custom_dates_are_parsed_and_put_in_order() -> None:
    view = parse_view({"period": "custom", "from": "2026-05-31", "to": "2026-05-01"})
    assert (view.date_from, view.date_to) == (date(2026, 5, 1), date(2026, 5, 31))
    assert parse_view({"period": "custom", "from": "2026-05-01T00:00:00" * 3}).date_from is None


def test_repeated_and_hostile_stage_values_are_plain_data() -> None:
    view = parse_view({"stages": ["Compras", HOSTILE, "Compras", "\x00\x07", "z" * 500]})
    assert view.stages == ("Compras", HOSTILE)
    view = parse_view({"stage": HOSTILE, "performer": "Ana"})
    assert view.drill_level == "commitments"
    f = view.to_filter(AS_OF, drill=True)
    sql, params = f.sql_where()
    assert HOSTILE not in sql and HOSTILE in params.values()


def test_filter_of_a_view() -> None:
    view = ViewState(
        period="4w",
        stages=("Compras", "Producción"),
        customer_type="external",
        direction="from_customer",
        drill_stage="Compras",
        drill_performer="Ana",
    )
    f = view.to_filter(AS_OF)
    assert (f.date_from, f.date_to) == (date(2026, 10, 26), date(2026, 11, 20))
    assert f.processes == ("Compras", "Producción") and f.performers == ()
    assert f.customer_types == ("external",) and f.direction == "from_customer"
    drilled = view.to_filter(AS_OF, drill=True)
    assert drilled.processes == ("Compras",) and drilled.performers == ("Ana",)
    assert ViewState(customer_type="all").to_filter(AS_OF).customer_types == ()


def test_hostile_url_value_reaches_the_database_as_data(engine: sa.Engine) -> None:
    """Through the real metric on both backends: no rows match, the table survives."""
    insert_rows(engine, "commitments", [commitment("A", datetime(2026, 11, 10), None)])
    f = parse_view({"stages": HOSTILE, "period": "26w"}).to_filter(AS_OF)
    with engine.connect() as conn:
        assert int(on_time_summary(conn, f)["due"].sum()) == 0
        everything = on_time_summary(conn, f.with_(processes=()))
        count = conn.execute(sa.text("SELECT COUNT(*) FROM commitments")).scalar()
    assert int(everything["due"].sum()) == 1 and count == 1
    assert isinstance(everything, pd.DataFrame)
