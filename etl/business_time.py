"""Business time under a calendar, for a whole population at once.

A calendar (weekly working windows, holidays) is laid out once as a *timeline*: its
working intervals between two days, each with the working time that ran before it
(cumulative). Then

- "business time run by instant t" is one `searchsorted` plus an addition (`worked`),
- "business time between a and b" is `worked(b) - worked(a)`,
- "the instant when N of business time have run" is the inverse search (`instant_at`).

Pauses are per commitment: the k-th pause of every commitment is applied in one
vectorised round (rounds = the most pauses any one commitment has, not commitments).
Times are int64 microseconds on the naive wall clock of the data (every stored timestamp
is wall-clock time in ESLABON_TZ), so a day is always 24 h and a window 09:00–13:00 is
4 h, as a person reading the calendar expects, also on the days clocks change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

US_PER_MINUTE = 60_000_000
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR
# A target a calendar cannot reach within this many days (e.g. a calendar whose every
# working day is a holiday) has no standard due.
_MAX_HORIZON_DAYS = 366 * 20


@dataclass(frozen=True)
class Calendar:
    """Weekly working windows (weekday 1 = Monday … 7, start and end in minutes of the
    day, end up to 1440) and non-working days."""

    windows: tuple[tuple[int, int, int], ...]
    holidays: frozenset[date] = frozenset()


ROUND_THE_CLOCK = Calendar(tuple((d, 0, 1440) for d in range(1, 8)))


@dataclass(frozen=True)
class Timeline:
    """Working intervals [starts, ends) of a calendar over a span of days, in order, with
    the business time that ran before each one (`before`)."""

    starts: np.ndarray
    ends: np.ndarray
    before: np.ndarray
    first_us: int  # the span covered: [first_us, last_us)
    last_us: int

    @property
    def total(self) -> int:
        """Business time in the whole span."""
        return int(self.before[-1] + self.ends[-1] - self.starts[-1]) if len(self.starts) else 0

    def worked(self, t: np.ndarray) -> np.ndarray:
        """Business time run from the span's start to each instant (int64 µs)."""
        t = np.asarray(t, dtype=np.int64)
        k = np.searchsorted(self.starts, t, side="right") - 1
        inside = k >= 0
        kk = np.where(inside, k, 0)
        if not len(self.starts):
            return np.zeros(t.shape, dtype=np.int64)
        run = np.clip(t - self.starts[kk], 0, self.ends[kk] - self.starts[kk])
        return np.where(inside, self.before[kk] + run, 0)

    def instant_at(self, amount: np.ndarray) -> np.ndarray:
        """The earliest instant by which `amount` of business time has run (the end of
        the last counted minute); beyond the span: int64 max."""
        amount = np.asarray(amount, dtype=np.int64)
        after = self.before + (self.ends - self.starts)
        k = np.searchsorted(after, amount, side="left")
        reachable = k < len(self.starts)
        kk = np.where(reachable, k, 0)
        at = self.starts[kk] + (amount - self.before[kk])
        # amount 0 (no target left) is reached at once: the start of the span
        at = np.where(amount <= 0, self.first_us, at)
        return np.where(reachable, at, np.iinfo(np.int64).max)


def day_number(us: np.ndarray | int) -> np.ndarray:
    """Days since 1970-01-01 of instants in µs (floor)."""
    return np.floor_divide(us, US_PER_DAY)


def timeline(calendar: Calendar, first_day: int, last_day: int) -> Timeline:
    """The calendar's working intervals from day `first_day` to `last_day` inclusive
    (days since 1970-01-01), built column-wise: one row per day × window."""
    days = np.arange(first_day, last_day + 1, dtype=np.int64)
    if calendar.holidays:
        off = np.array([(d - date(1970, 1, 1)).days for d in calendar.holidays], dtype=np.int64)
        days = days[~np.isin(days, off)]
    weekday = (days + 3) % 7 + 1  # 1970-01-01 was a Thursday
    parts_s, parts_e = [], []
    for wd, start, end in calendar.windows:
        on = days[weekday == wd]
        parts_s.append(on * US_PER_DAY + start * US_PER_MINUTE)
        parts_e.append(on * US_PER_DAY + end * US_PER_MINUTE)
    starts = np.concatenate(parts_s) if parts_s else np.array([], dtype=np.int64)
    ends = np.concatenate(parts_e) if parts_e else np.array([], dtype=np.int64)
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    lengths = ends - starts
    before = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return Timeline(
        starts.astype(np.int64),
        ends.astype(np.int64),
        before,
        int(first_day * US_PER_DAY),
        int((last_day + 1) * US_PER_DAY),
    )


@dataclass(frozen=True)
class Pauses:
    """Pause intervals [start, end) per commitment: `owner` is the commitment's position;
    sorted by owner then start, not overlapping."""

    owner: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @staticmethod
    def none() -> Pauses:
        empty = np.array([], dtype=np.int64)
        return Pauses(empty, empty, empty)


def merged_pauses(owner: np.ndarray, start: np.ndarray, end: np.ndarray) -> Pauses:
    """Pause intervals sorted and merged per owner (touching or overlapping become one)."""
    owner = np.asarray(owner, dtype=np.int64)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    keep = end > start
    owner, start, end = owner[keep], start[keep], end[keep]
    if not len(owner):
        return Pauses.none()
    order = np.lexsort((start, owner))
    owner, start, end = owner[order], start[order], end[order]
    first = np.concatenate([[True], owner[1:] != owner[:-1]])
    reach = _groupwise_cummax(end, first)
    prev_reach = np.concatenate([[0], reach[:-1]])
    new_run = first | (start > prev_reach)
    run_id = np.cumsum(new_run) - 1
    run_end = np.zeros(int(run_id[-1]) + 1, dtype=np.int64)
    np.maximum.at(run_end, run_id, end)
    return Pauses(owner[new_run], start[new_run], run_end)


def _groupwise_cummax(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Cumulative maximum restarting where `first` is True (pandas' grouped cummax, in C)."""
    group = np.cumsum(first)
    return pd.Series(values).groupby(group).cummax().to_numpy(dtype=np.int64)


def due_instants(tl: Timeline, start: np.ndarray, target: np.ndarray, pauses: Pauses) -> np.ndarray:
    """For each commitment, the instant when `target` µs of unpaused business time have
    run since `start` (int64 max when beyond the timeline).

    Pauses are applied in order, one vectorised round per pause rank: a pause that begins
    before the due found so far gives back the business time it covers.
    """
    start = np.asarray(start, dtype=np.int64)
    goal = tl.worked(start) + np.asarray(target, dtype=np.int64)
    due = tl.instant_at(goal)
    if len(pauses.owner):
        rank = _rank_within_owner(pauses.owner)
        for r in range(int(rank.max()) + 1):
            pick = rank == r
            who = pauses.owner[pick]
            s = np.maximum(pauses.start[pick], start[who])
            e = np.maximum(pauses.end[pick], start[who])
            hit = s < due[who]
            if not hit.any():
                continue
            who, s, e = who[hit], s[hit], e[hit]
            goal[who] += tl.worked(e) - tl.worked(s)
            due[who] = tl.instant_at(goal[who])
    return due


def business_between(
    tl: Timeline, start: np.ndarray, end: np.ndarray, pauses: Pauses
) -> np.ndarray:
    """Unpaused business time from `start` to `end` per commitment (0 when end <= start)."""
    start = np.asarray(start, dtype=np.int64)
    end = np.maximum(np.asarray(end, dtype=np.int64), start)
    total = tl.worked(end) - tl.worked(start)
    if len(pauses.owner):
        who = pauses.owner
        s = np.clip(pauses.start, start[who], end[who])
        e = np.clip(pauses.end, start[who], end[who])
        lost = tl.worked(e) - tl.worked(s)
        total = total - np.bincount(who, weights=lost, minlength=len(start)).astype(np.int64)
    return np.asarray(total)


def _rank_within_owner(owner: np.ndarray) -> np.ndarray:
    """0, 1, 2, … for the rows of each owner (rows sorted by owner)."""
    n = len(owner)
    first = np.concatenate([[True], owner[1:] != owner[:-1]])
    starts = np.flatnonzero(first)
    return np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))


def timeline_for(calendar: Calendar, earliest_us: int, latest_us: int, need_us: int) -> Timeline:
    """A timeline from the day before `earliest_us` long enough to hold `need_us` of
    business time after `latest_us` (grown until it does, up to a bound)."""
    first = int(day_number(earliest_us)) - 1
    last = int(day_number(latest_us)) + 7
    while True:
        tl = timeline(calendar, first, last)
        after_latest = tl.total - int(tl.worked(np.array([latest_us]))[0])
        if after_latest >= need_us or last - first > _MAX_HORIZON_DAYS:
            return tl
        last = last + max(7, (last - first))
