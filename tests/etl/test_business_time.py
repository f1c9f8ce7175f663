"""Business time against a minute-by-minute walk written independently of etl.business_time."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.business_time import (
    US_PER_MINUTE,
    Calendar,
    business_between,
    due_instants,
    merged_pauses,
    timeline_for,
)

EPOCH = date(1970, 1, 1)


def _counts(cal: Calendar, pauses: list[tuple[int, int]], minute: int) -> bool:
    """Whether the minute [minute, minute + 1) (minutes since 1970) is business time."""
    day = EPOCH + timedelta(days=minute // 1440)
    if day in cal.holidays:
        return False
    of_day = minute % 1440
    weekday = day.isoweekday()
    if not any(w == weekday and s <= of_day < e for w, s, e in cal.windows):
        return False
    return not any(ps <= minute < pe for ps, pe in pauses)


def brute_due(cal: Calendar, pauses: list[tuple[int, int]], start: int, target: int) -> int:
    """Walk minute by minute from `start` until `target` business minutes have run."""
    run, minute = 0, start
    while True:
        if _counts(cal, pauses, minute):
            run += 1
            if run == target:
                return minute + 1
        minute += 1


def engine_due(cal: Calendar, pauses: list[tuple[int, int]], start: int, target: int) -> int:
    us = np.array([start * US_PER_MINUTE])
    p = merged_pauses(
        np.zeros(len(pauses), dtype=np.int64),
        np.array([s for s, _ in pauses], dtype=np.int64) * US_PER_MINUTE,
        np.array([e for _, e in pauses], dtype=np.int64) * US_PER_MINUTE,
    )
    need = target * US_PER_MINUTE + sum(e - s for s, e in pauses) * US_PER_MINUTE
    tl = timeline_for(cal, int(us[0]), int(us[0]), need)
    due = due_instants(tl, us, np.array([target * US_PER_MINUTE]), p)
    return int(due[0]) // US_PER_MINUTE


def minute_of(d: date, hh: int, mm: int = 0) -> int:
    return (d - EPOCH).days * 1440 + hh * 60 + mm


# Split shift Mon–Fri 09:00–13:00 and 15:00–18:00 (7 h a day); 2026-01-06 is a holiday.
SPLIT = Calendar(
    tuple((d, s, e) for d in range(1, 6) for s, e in ((540, 780), (900, 1080))),
    frozenset({date(2026, 1, 6)}),
)


def test_split_shift_holiday_and_pause_by_hand() -> None:
    # Requested Mon 2026-01-05 12:00, target 8 h. Mon: 12–13 (1 h) + 15–18 (3 h) = 4 h;
    # Tue 6th is a holiday; Wed 7th 09:00 paused until 10:30 (1.5 h lost); 10:30–13:00
    # gives 2.5 h (6.5 h), 15:00 + 1.5 h → due Wed 16:30.
    start = minute_of(date(2026, 1, 5), 12)
    pauses = [(minute_of(date(2026, 1, 7), 9), minute_of(date(2026, 1, 7), 10, 30))]
    expected = minute_of(date(2026, 1, 7), 16, 30)
    assert brute_due(SPLIT, pauses, start, 8 * 60) == expected
    assert engine_due(SPLIT, pauses, start, 8 * 60) == expected


def test_due_at_the_end_of_a_window_is_that_end_not_the_next_start() -> None:
    start = minute_of(date(2026, 1, 5), 9)
    assert engine_due(SPLIT, [], start, 4 * 60) == minute_of(date(2026, 1, 5), 13)


def test_business_between_subtracts_pauses() -> None:
    tl = timeline_for(SPLIT, 0, minute_of(date(2026, 1, 5), 0) * US_PER_MINUTE, 0)
    a = np.array([minute_of(date(2026, 1, 5), 12) * US_PER_MINUTE])
    b = np.array([minute_of(date(2026, 1, 7), 11) * US_PER_MINUTE])
    p = merged_pauses(
        np.array([0]),
        np.array([minute_of(date(2026, 1, 7), 9) * US_PER_MINUTE]),
        np.array([minute_of(date(2026, 1, 7), 10, 30) * US_PER_MINUTE]),
    )
    tl = timeline_for(SPLIT, int(a[0]), int(b[0]), 0)
    # Mon 4 h + Wed 10:30–11:00 0.5 h
    assert business_between(tl, a, b, p)[0] == 270 * US_PER_MINUTE


windows = st.lists(
    st.tuples(st.integers(1, 7), st.integers(0, 1439), st.integers(1, 600)),
    min_size=1,
    max_size=6,
)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    raw = draw(windows)
    clean: list[tuple[int, int, int]] = []
    for wd, s, length in raw:
        e = min(1440, s + length)
        if any(w == wd and s < oe and os < e for w, os, oe in clean):
            continue  # overlapping windows are an input error, rejected at load
        clean.append((wd, s, e))
    base = date(2026, 3, 2)
    off = draw(st.sets(st.integers(0, 20), max_size=5))
    return Calendar(tuple(clean), frozenset(base + timedelta(days=o) for o in off))


@settings(max_examples=60, deadline=None)
@given(
    cal=calendars(),
    start_offset=st.integers(0, 3 * 1440),
    target=st.integers(1, 20 * 60),
    pauses=st.lists(st.tuples(st.integers(0, 6 * 1440), st.integers(1, 2000)), max_size=4),
)
def test_due_matches_minute_walk(
    cal: Calendar, start_offset: int, target: int, pauses: list[tuple[int, int]]
) -> None:
    base = minute_of(date(2026, 3, 2), 0)
    start = base + start_offset
    spans = [(base + s, base + s + length) for s, length in pauses]
    assert engine_due(cal, spans, start, target) == brute_due(cal, spans, start, target)


@settings(max_examples=40, deadline=None)
@given(
    cal=calendars(),
    a=st.integers(0, 4 * 1440),
    length=st.integers(0, 4 * 1440),
    pauses=st.lists(st.tuples(st.integers(0, 6 * 1440), st.integers(1, 2000)), max_size=3),
)
def test_between_matches_minute_count(
    cal: Calendar, a: int, length: int, pauses: list[tuple[int, int]]
) -> None:
    base = minute_of(date(2026, 3, 2), 0)
    spans = [(base + s, base + s + n) for s, n in pauses]
    start, end = base + a, base + a + length
    expected = sum(_counts(cal, spans, m) for m in range(start, end))
    p = merged_pauses(
        np.zeros(len(spans), dtype=np.int64),
        np.array([s for s, _ in spans], dtype=np.int64) * US_PER_MINUTE,
        np.array([e for _, e in spans], dtype=np.int64) * US_PER_MINUTE,
    )
    tl = timeline_for(cal, start * US_PER_MINUTE, end * US_PER_MINUTE, 0)
    got = business_between(
        tl, np.array([start * US_PER_MINUTE]), np.array([end * US_PER_MINUTE]), p
    )
    assert got[0] == expected * US_PER_MINUTE


@settings(max_examples=30, deadline=None)
@given(
    cal=calendars(),
    cases=st.lists(
        st.tuples(
            st.integers(0, 3 * 1440),
            st.integers(1, 12 * 60),
            st.lists(st.tuples(st.integers(0, 6 * 1440), st.integers(1, 2000)), max_size=3),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_many_commitments_at_once_match_one_by_one(
    cal: Calendar, cases: list[tuple[int, int, list[tuple[int, int]]]]
) -> None:
    """The vectorised rounds give each commitment its own pauses, never a neighbour's."""
    base = minute_of(date(2026, 3, 2), 0)
    starts = np.array([(base + s) * US_PER_MINUTE for s, _, _ in cases])
    targets = np.array([t * US_PER_MINUTE for _, t, _ in cases])
    owner, ps, pe = [], [], []
    for i, (_, _, spans) in enumerate(cases):
        for s, n in spans:
            owner.append(i)
            ps.append((base + s) * US_PER_MINUTE)
            pe.append((base + s + n) * US_PER_MINUTE)
    p = merged_pauses(np.array(owner, dtype=np.int64), np.array(ps, dtype=np.int64),
                      np.array(pe, dtype=np.int64))  # fmt: skip
    tl = timeline_for(cal, int(starts.min()), int(starts.max()), int(targets.max()) * 4 + 10**12)
    due = due_instants(tl, starts, targets, p)
    for i, (s, t, spans) in enumerate(cases):
        ref = brute_due(cal, [(base + a, base + a + n) for a, n in spans], base + s, t)
        assert int(due[i]) // US_PER_MINUTE == ref
