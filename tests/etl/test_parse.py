"""Typed values from text: every expected value below is worked out by hand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl.parse import (
    DAY_FIRST,
    MONTH_FIRST,
    START_OF_DAY_DATES,
    date_order_evidence,
    parse_bools,
    parse_datetimes,
    parse_decimals,
    parse_ints,
    sniff_decimal,
)

TZ = "Europe/Madrid"


def _dates(values: Sequence[str | None], **kw: Any) -> tuple[list, list[bool]]:
    parsed, bad = parse_datetimes(pd.Series(values, dtype="string"), tz=kw.pop("tz", TZ), **kw)
    return [None if pd.isna(v) else v.to_pydatetime() for v in parsed], bad.tolist()


def test_iso_forms_without_offset_are_wall_clock_and_date_only_is_end_of_day() -> None:
    got, bad = _dates(["2026-03-01", "2026-03-01T10:00", "2026-03-01 10:00:00.123"])
    assert got == [
        datetime(2026, 3, 1, 23, 59, 59),
        datetime(2026, 3, 1, 10, 0),
        datetime(2026, 3, 1, 10, 0, 0, 123000),
    ]
    assert bad == [False, False, False]


def test_offsets_become_madrid_wall_clock_in_winter_and_summer() -> None:
    # Winter: Madrid is UTC+1; summer (after 29 March 2026): UTC+2.
    got, bad = _dates(
        [
            "2026-03-01T10:00+01:00",  # already Madrid time
            "2026-03-01T10:00Z",  # 10:00 UTC = 11:00 Madrid
            "2026-07-01T10:00:00Z",  # 10:00 UTC = 12:00 Madrid (CEST)
            "2026-07-01 10:00:00-03:00",  # 13:00 UTC = 15:00 Madrid
            "2011-12-06 13:41:31.788000+01:00",  # the receipt log's form
        ]
    )
    assert got == [
        datetime(2026, 3, 1, 10, 0),
        datetime(2026, 3, 1, 11, 0),
        datetime(2026, 7, 1, 12, 0),
        datetime(2026, 7, 1, 15, 0),
        datetime(2011, 12, 6, 13, 41, 31, 788000),
    ]
    assert not any(bad)


def test_other_time_zone_is_honoured() -> None:
    got, _ = _dates(["2026-07-01T10:00Z"], tz="America/New_York")
    assert got == [datetime(2026, 7, 1, 6, 0)]


def test_day_first_dates_and_end_of_day() -> None:
    # "31.12.2026" proves the column day first; every other value is then read that way
    got, bad = _dates(
        ["05/03/2026", "05/03/2026 10:30", "1/2/2026 7:05", "31.12.2026", "31-12-2026"]
    )
    assert got == [
        datetime(2026, 3, 5, 23, 59, 59),
        datetime(2026, 3, 5, 10, 30),
        datetime(2026, 2, 1, 7, 5),
        datetime(2026, 12, 31, 23, 59, 59),
        datetime(2026, 12, 31, 23, 59, 59),
    ]
    assert bad == [False] * 5


def test_the_order_is_the_columns_never_the_values() -> None:
    # One value with a second field above 12 proves the whole column month first:
    # "12/01/2026" is 1 December, not 12 January (issue 14: 01/02/2015 read as 1 February)
    got, bad = _dates(["12/01/2026", "01/13/2026", "01/02/2015 13:00"])
    assert got == [
        datetime(2026, 12, 1, 23, 59, 59),
        datetime(2026, 1, 13, 23, 59, 59),
        datetime(2015, 1, 2, 13, 0),
    ]
    assert bad == [False, False, False]


def test_an_ambiguous_or_contradictory_column_is_not_guessed() -> None:
    # every value has both fields <= 12: could be either order
    got, bad = _dates(["05/03/2026", "01/02/2026 10:00", "2026-03-01"])
    assert got == [None, None, datetime(2026, 3, 1, 23, 59, 59)]
    assert bad == [True, True, False]
    evidence = date_order_evidence(pd.Series(["05/03/2026", "01/02/2026 10:00"]))
    assert (evidence.slashed, evidence.order, evidence.conflicting) == (2, None, False)
    # values proving both orders: the column was written two ways
    mixed = pd.Series(["13/01/2026", "01/13/2026", "05/03/2026"], dtype="string")
    evidence = date_order_evidence(mixed)
    assert (evidence.day_first, evidence.month_first) == ("13/01/2026", "01/13/2026")
    assert evidence.order is None and evidence.conflicting
    assert parse_datetimes(mixed, tz=TZ)[1].tolist() == [True, True, True]
    # the caller may know the order from elsewhere (another column of the file)
    got, bad = _dates(["05/03/2026", "01/02/2026 10:00"], order=MONTH_FIRST)
    assert got == [datetime(2026, 5, 3, 23, 59, 59), datetime(2026, 1, 2, 10, 0)]
    got, _ = _dates(["05/03/2026"], order=DAY_FIRST)
    assert got == [datetime(2026, 3, 5, 23, 59, 59)]
    # an impossible date proves nothing (32 is no day, 13 no month)
    assert date_order_evidence(pd.Series(["32/01/2026", "13/13/2026"])).order is None


def test_twelve_hour_times_with_am_pm_parse_without_a_format() -> None:
    got, bad = _dates(
        [
            "1/13/2015 1:05 PM",
            "1/2/2015 12:00 AM",
            "1/2/2015 12:30:15 pm",
            "12/31/2015 11:59 p.m.",
            "1/2/2015 13:00 PM",  # no 13 o'clock on a 12-hour clock
        ]
    )
    assert got == [
        datetime(2015, 1, 13, 13, 5),
        datetime(2015, 1, 2, 0, 0),
        datetime(2015, 1, 2, 12, 30, 15),
        datetime(2015, 12, 31, 23, 59),
        None,
    ]
    assert bad == [False, False, False, False, True]


def test_date_only_can_mean_the_start_of_the_day() -> None:
    """A target comes into force at the start of its day; times given are kept as they are."""
    got, bad = _dates(
        ["2026-11-16", "16/11/2026", "2026-11-16 08:30", "2026-11-16T00:00+01:00"],
        date_only=START_OF_DAY_DATES,
    )
    assert got == [
        datetime(2026, 11, 16),
        datetime(2026, 11, 16),
        datetime(2026, 11, 16, 8, 30),
        datetime(2026, 11, 16),  # Madrid is UTC+1 in November
    ]
    assert bad == [False] * 4
    forced, _ = _dates(["16.11.2026"], fmt="%d.%m.%Y", date_only=START_OF_DAY_DATES)
    assert forced == [datetime(2026, 11, 16)]
    with pytest.raises(ValueError, match="date_only"):
        _dates(["2026-11-16"], date_only="noon")


def test_bad_and_empty_dates() -> None:
    got, bad = _dates(["30/02/2026", "2026-02-30", "tomorrow", "", None, "2026-03-01+01:00"])
    assert got == [None] * 6
    assert bad == [True, True, True, False, False, True]


def test_forced_format_wins_and_without_time_means_end_of_day() -> None:
    got, bad = _dates(["2026|03|01", "01/03/2026"], fmt="%Y|%m|%d")
    assert got == [datetime(2026, 3, 1, 23, 59, 59), None]
    assert bad == [False, True]
    # "03/01/2026" forced month first is 1 March at the given time
    got, _ = _dates(["03/01/2026 08:00"], fmt="%m/%d/%Y %H:%M")
    assert got == [datetime(2026, 3, 1, 8, 0)]
    got, _ = _dates(["2026-07-01 10:00 +0000"], fmt="%Y-%m-%d %H:%M %z")
    assert got == [datetime(2026, 7, 1, 12, 0)]


@pytest.mark.parametrize(
    ("values", "expected_sep", "expected"),
    [
        (["1.234,5", "2,25", "7"], ",", [1234.5, 2.25, 7.0]),
        (["1,234.5", "2.25", "7"], ".", [1234.5, 2.25, 7.0]),
        (["4,5", "10"], ",", [4.5, 10.0]),
        (["1,234,567", "8"], ".", [1234567.0, 8.0]),
        (["1 234,5"], ",", [1234.5]),
    ],
)
def test_decimals_both_ways(values: list[str], expected_sep: str, expected: list[float]) -> None:
    series = pd.Series(values, dtype="string")
    assert sniff_decimal(series) == expected_sep
    numbers, bad = parse_decimals(series)
    assert numbers.tolist() == expected
    assert not bad.any()


def test_forced_decimal_and_bad_numbers() -> None:
    numbers, bad = parse_decimals(pd.Series(["1.234", "x", None]), decimal=",")
    assert numbers.iloc[0] == 1234.0
    assert bad.tolist() == [False, True, False]


def test_ints_accept_whole_decimals_only() -> None:
    values, bad = parse_ints(pd.Series(["4", "4.0", "4.5", "abc", None, " 10 "]))
    assert values.tolist()[:2] == [4, 4]
    assert values.iloc[5] == 10
    assert bad.tolist() == [False, False, True, True, False, False]


def test_bools_in_three_languages_and_default() -> None:
    words = [
        "true",
        "FALSE",
        "1",
        "0",
        "yes",
        "no",
        "Sí",
        "si",
        "ja",
        "nee",
        "Y",
        "n",
        "x",
        "",
        None,
    ]
    values, bad = parse_bools(pd.Series(words), default=False)
    assert values.tolist() == [
        True, False, True, False, True, False, True, True, True, False, True, False, True,
        False, False,
    ]  # fmt: skip
    assert not bad.any()
    values, bad = parse_bools(pd.Series(["maybe", None]))
    assert bad.tolist() == [True, False]
    assert values.isna().tolist() == [True, True]


@given(st.lists(st.text(max_size=12), max_size=30))
def test_parsers_never_raise_and_bad_only_where_text_was_given(values: list[str]) -> None:
    series = pd.Series(values, dtype=object)
    blank = series.astype("string").str.strip().fillna("").eq("").tolist()
    for parsed, bad in (
        parse_datetimes(series, tz=TZ),
        parse_decimals(series),
        parse_ints(series),
        parse_bools(series),
    ):
        assert len(parsed) == len(values)
        assert not any(b and e for b, e in zip(bad.tolist(), blank, strict=True))
        # a value is either parsed, or bad, or was empty
        for p, b, e in zip(parsed.isna().tolist(), bad.tolist(), blank, strict=True):
            assert (not p) or b or e


@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    )
)
def test_day_first_round_trip(moment: datetime) -> None:
    text = moment.strftime("%d/%m/%Y %H:%M:%S")
    got, bad = _dates([text, "31/12/2026"])  # the second value settles the order
    assert got[0] == moment
    assert bad == [False, False]


@given(
    st.lists(
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1)).map(
            lambda d: d.replace(microsecond=0)
        ),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(["%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p"]),
)
def test_a_column_is_read_in_one_order_or_not_at_all(moments: list[datetime], fmt: str) -> None:
    """Whatever the column holds, no value is ever read in the other order: each one is
    either the instant written or refused (when nothing in the column tells the order)."""
    got, bad = _dates([m.strftime(fmt) for m in moments])
    decided = any(m.day > 12 for m in moments)
    if decided:
        assert got == moments and not any(bad)
    else:
        assert all(bad) and got == [None] * len(moments)


def test_a_column_mixing_the_common_format_with_others() -> None:
    # The first value picks the one-pass format; the rest still follow the general rules.
    got, bad = _dates(
        [
            "2026-03-01 10:00:00",
            "2026-07-01T10:00Z",
            "15/03/2026",
            "2026-03-01 10:00:00.5",
            "2026-02-30 10:00:00",
            None,
        ]
    )
    assert got == [
        datetime(2026, 3, 1, 10, 0),
        datetime(2026, 7, 1, 12, 0),
        datetime(2026, 3, 15, 23, 59, 59),
        datetime(2026, 3, 1, 10, 0, 0, 500000),
        None,
        None,
    ]
    assert bad == [False, False, False, False, True, False]
    got, _ = _dates(["15/03/2026 10:30", "2026-03-05"])
    assert got == [datetime(2026, 3, 15, 10, 30), datetime(2026, 3, 5, 23, 59, 59)]


# --- the Arrow fast path agrees with pandas ------------------------------------------

_DIGIT_FIELDS = st.tuples(
    st.integers(1000, 2999),  # year
    st.integers(0, 13),  # month, 0 and 13 impossible
    st.integers(0, 32),  # day, 0, 29–31 in short months and 32 impossible
    st.integers(0, 25),  # hour
    st.integers(0, 61),  # minute
    st.integers(0, 61),  # second (pandas and Arrow both roll 60 and 61 over)
)


def _reference(values: pd.Series, fmt: str) -> pd.Series:
    """What parse_datetimes gave before the Arrow path: pandas on the whole column."""
    from etl.parse import _general_column

    out = pd.to_datetime(values, format=fmt, errors="coerce").astype("datetime64[us]")
    rest = values.notna() & out.isna()
    if rest.any():
        order = date_order_evidence(values.dropna()).order
        out[rest] = _general_column(values[rest], TZ, order)
    return out


@given(
    st.lists(
        st.one_of(
            _DIGIT_FIELDS.map(lambda f: "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format(*f)),
            _DIGIT_FIELDS.map(lambda f: "{}-{}-{} {}:{}:{}".format(*f)),  # one-digit fields
            _DIGIT_FIELDS.map(lambda f: "{:04d}-{:02d}-{:02d}{:02d}:{:02d}:{:02d}".format(*f)),
            st.text(alphabet="0123456789-: T/+Z", min_size=10, max_size=22),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_fast_path_gives_what_pandas_gives(values: list[str]) -> None:
    first = "2026-01-01 10:00:00"  # fixes the column's fast format, as a real export would
    column = pd.Series([first, *values], dtype="string")
    got, bad = parse_datetimes(column, tz=TZ)
    expected = _reference(column.str.strip().replace("", None), "%Y-%m-%d %H:%M:%S")
    as_list = lambda s: [None if pd.isna(v) else v for v in s]  # noqa: E731 (NaT != NaT)
    assert as_list(got) == as_list(expected)
    assert bad.tolist() == (column.str.strip().replace("", None).notna() & expected.isna()).tolist()


def test_impossible_days_are_bad_not_rolled_over() -> None:
    values = ["2026-01-31 10:00:00", "2026-02-30 10:00:00", "2026-04-31 08:00:00"]
    values += ["2023-02-29 00:00:00", "2024-02-29 00:00:00", "2026-03-01 00:00:00"]
    got, bad = _dates(values)
    feb29, mar1 = datetime(2024, 2, 29), datetime(2026, 3, 1)
    assert got == [datetime(2026, 1, 31, 10), None, None, None, feb29, mar1]
    assert bad == [False, True, True, True, False, False]


def _chunked_text(chunks: list[list[str | None]]) -> pd.Series:
    """Arrow-backed text in the given chunks, as a CSV read in several blocks gives it."""
    import pyarrow as pa

    arrays = [pa.array(c, type=pa.large_string()) for c in chunks]
    return pd.Series(pd.array(pa.chunked_array(arrays, type=pa.large_string()), dtype="string"))


def test_clean_text_strips_and_empties_chunk_by_chunk() -> None:
    from etl.parse import clean_text

    values = _chunked_text([["a", "b"], [" c", "", None, "d\t"], ["e"]])
    got = clean_text(values)
    assert [None if pd.isna(v) else v for v in got] == ["a", "b", "c", None, None, "d", "e"]


@given(
    st.lists(
        st.lists(
            st.one_of(st.none(), st.sampled_from(["x", " x", "x ", "", " ", "é\u00a0", "ab"]))
        ),
        max_size=5,
    )
)
def test_clean_text_equals_a_strip_value_by_value(chunks: list[list[str | None]]) -> None:
    """Independent method: Python's own strip per value, empty → missing."""
    from etl.parse import clean_text

    flat = [v for c in chunks for v in c]
    expected = [None if v is None or v.strip() == "" else v.strip() for v in flat]
    got = clean_text(_chunked_text(chunks))
    assert [None if pd.isna(v) else v for v in got] == expected
