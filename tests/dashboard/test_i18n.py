"""Formats and strings: the numbers a page shows in Spanish and English."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.ui.i18n import (
    MISSING,
    STRINGS,
    fmt_date,
    fmt_datetime,
    fmt_day_month,
    fmt_int,
    fmt_kpi,
    fmt_kpi_delta,
    fmt_num,
    fmt_pct,
    fmt_pp,
    fmt_weekday,
    kpi_lower_is_better,
    norm_lang,
    t,
)


def test_percent_formats_named_in_the_issue() -> None:
    assert fmt_pct(0.125, "es") == "12,5\u00a0%"
    assert fmt_pct(0.125, "en") == "12.5%"
    assert fmt_pct(1, "es") == "100,0\u00a0%"
    assert fmt_pct(0.5, "en", 0) == "50%"


def test_percent_and_weekday_come_in_the_locale_s_form() -> None:
    # CLDR: a no-break space before % in Spanish, none in English; grouped thousands
    assert fmt_pct(12.345, "es") == "1.234,5\u00a0%"
    assert fmt_pct(12.345, "en") == "1,234.5%"
    assert fmt_pct(-0.00001, "es") == "0,0\u00a0%"  # no negative zero
    assert fmt_weekday(0, "es") == "lunes" and fmt_weekday(6, "en") == "Sunday"


def test_thousands_and_decimals() -> None:
    assert fmt_int(1234, "es") == "1.234"
    assert fmt_int(1234, "en") == "1,234"
    assert fmt_num(1234567.891, "es", 2) == "1.234.567,89"
    assert fmt_num(1234567.891, "en", 2) == "1,234,567.89"
    assert fmt_num(-0.04, "es", 1) == "0,0"  # no negative zero


def test_dates() -> None:
    assert fmt_date(date(2026, 11, 25), "es") == "25/11/2026"
    assert fmt_date(date(2026, 11, 25), "en") == "2026-11-25"
    assert fmt_datetime(datetime(2026, 11, 25, 9, 5), "es") == "25/11/2026 09:05"
    assert fmt_day_month(date(2026, 9, 21), "es") == "21/09"
    assert fmt_day_month(date(2026, 9, 21), "en") == "09-21"


@pytest.mark.parametrize("func", [fmt_pct, fmt_int, fmt_num, fmt_pp, fmt_date, fmt_datetime])
def test_missing_values_show_a_dash(func) -> None:
    assert func(None, "es") == MISSING
    if func not in (fmt_date, fmt_datetime):
        assert func(math.nan, "en") == MISSING


def test_deltas_carry_an_ascii_sign() -> None:
    # Streamlit reads the direction of st.metric's delta from a leading "-"
    assert fmt_pp(0.033, "es") == "+3,3 pp"
    assert fmt_pp(-0.433, "en") == "-43.3 pp"
    assert fmt_kpi_delta("breaches", 3, "es") == "+3"
    assert fmt_kpi_delta("nps", -30, "es") == "-30,0"
    assert fmt_kpi_delta("on_time_rate", None, "es") is None


def test_kpi_formats_and_direction() -> None:
    assert fmt_kpi("on_time_rate", 0.704, "es") == "70,4\u00a0%"
    assert fmt_kpi("breaches", 1048, "en") == "1,048"
    assert fmt_kpi("complaints_per_100", 7.41, "es") == "7,4"
    assert kpi_lower_is_better("breaches") and kpi_lower_is_better("propagation_rate")
    assert not kpi_lower_is_better("on_time_rate") and not kpi_lower_is_better("nps")
    # at_risk is a count where less is better, everywhere (it was "3,0" and "higher" once)
    assert fmt_kpi("at_risk", 3, "es") == "3" and kpi_lower_is_better("at_risk")


def test_every_string_has_both_languages_and_fills_placeholders() -> None:
    for key, (es, en) in STRINGS.items():
        assert es and en, key
        assert es.count("{") == en.count("{"), key
    assert t("commitments_title", "en", performer="Ana", stage="Compras") == (
        "Commitments of Ana in Compras"
    )
    assert t("no_such_key", "es") == "no_such_key"
    assert norm_lang("fr") == "es" and norm_lang("en") == "en"


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_spanish_and_english_numbers_are_the_same_number(value: float) -> None:
    es = fmt_num(value, "es", 2)
    en = fmt_num(value, "en", 2)
    assert es.replace(".", "").replace(",", ".") == en.replace(",", "")
    assert float(en.replace(",", "")) == pytest.approx(round(value, 2), abs=0.006)


def test_stored_timestamps_as_table_cells() -> None:
    import numpy as np
    import pandas as pd

    from dashboard.ui.i18n import fmt_stored

    stamp = pd.Timestamp("2026-11-05 09:07:59.999")
    assert fmt_stored(stamp, "es") == "05/11/2026 09:07"
    assert fmt_stored(np.datetime64("2026-11-05T09:07:59"), "en") == "2026-11-05 09:07"
    assert fmt_stored(stamp, "es", with_time=False) == "05/11/2026"
    assert fmt_stored(None, "es") == ""
    assert fmt_stored(pd.NaT, "es") == ""
    assert fmt_stored(pd.NaT, "en", missing=MISSING) == MISSING


def test_every_page_of_the_navigation_has_a_title_in_both_languages() -> None:
    """The navigation draws i18n.t(title_key): a key kept elsewhere showed as itself
    ("page_estandares") in the menu."""
    from dashboard.views.registry import PAGES

    for _name, title_key, _icon in PAGES:
        for lang in ("es", "en"):
            assert t(title_key, lang) != title_key, (title_key, lang)
