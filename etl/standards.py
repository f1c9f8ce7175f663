"""Service standards: which policy covers a commitment, and the due date it gives.

Three canonical files describe the standards (DESIGN.md, "Service standards"):
`calendars` (weekly working windows, optionally a country/subdivision whose public
holidays come from the `holidays` package), `holidays` (a calendar's own days off) and
`policies` (target hours per scope; a later `valid_from` of a policy_id is a new version).

At load they get the checks a person needs (`checked_calendars`, `checked_holidays`,
`checked_policies`), commitments without `due_at` take the standard due
(`checked_commitments`), and once the batch's files are merged `refresh_standards`
recomputes, for every commitment at once, its policy, version and standard due with
the clock paused while its latest event is in one of the policy's pause stages.

Everything is column-wise: policies are matched with one merge per scope shape (which
match columns a policy fills), business time comes from `etl.business_time` (one
timeline per calendar, searchsorted); Python loops run over calendars, policy shapes and
rejected rows, never over commitments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import holidays as holiday_lib
import numpy as np
import pandas as pd
import sqlalchemy as sa

from etl import business_time as bt
from etl.reasons import RowReason
from etl.records import ROW, Reject
from etl.schema import WEEKDAY_WORDS, commitment_pauses
from etl.validate import ValidationResult

MATCH_COLUMNS: tuple[str, ...] = ("process", "customer_type", "priority", "category")

# A calendar's weekday, 1 = Monday … 7 = Sunday: the number, or a name (etl.schema).
WEEKDAYS: dict[str, int] = {
    **{str(i): i for i in range(1, 8)},
    **{word: day + 1 for word, day in WEEKDAY_WORDS.items()},
}
_CLOCK = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*$")
US: Final = "datetime64[us]"
# stands for a blank value where one must be compared (pandas 3 drops a NUL in fillna)
_BLANK = "\x1e(blank)"


# --- rejecting rows of a validated file --------------------------------------------


def _drop(
    result: ValidationResult,
    mask: np.ndarray,
    column: RowReason | str | None,
    reason: RowReason,
) -> None:
    """Move the rows of `result.valid` where `mask` holds into rejects, each with a reason
    (by position in `valid`) and its values as the raw row."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    valid = result.valid
    positions = np.flatnonzero(mask)
    shown = valid.iloc[positions].drop(columns=[ROW], errors="ignore").astype(object)
    shown = shown.where(shown.notna(), None)
    rows = valid[ROW].to_numpy() if ROW in valid.columns else np.full(len(valid), None)
    for pos, raw in zip(positions, shown.to_dict("records"), strict=True):
        row = rows[pos]
        result.rejects.append(
            Reject(
                None if row is None or pd.isna(row) else int(row),
                column(int(pos)) if callable(column) else column,
                reason(int(pos)),
                {str(k): str(v) for k, v in raw.items() if v is not None},
            )
        )
    result.valid = valid.loc[~mask].reset_index(drop=True)
    result.rejects.sort(key=lambda r: (r.row_number is None, r.row_number or 0))


def _row_of(result: ValidationResult, pos: int) -> str:
    value: Any = result.valid[ROW].iat[pos] if ROW in result.valid.columns else None
    return "?" if value is None or pd.isna(value) else str(int(value))


# --- what the batch and the database hold ------------------------------------------


@dataclass
class StandardsSeen:
    """The standards a batch can see: the database's rows plus this batch's valid ones.

    In a real load the batch's rows are merged before the next file is read, so the
    database alone would do; a dry run merges nothing, hence the batch's own frames.
    `db` is None when there is no database to ask (a file checked on its own).
    """

    db: sa.Connection | None
    batch: dict[str, list[pd.DataFrame]]

    @staticmethod
    def for_connection(conn: sa.Connection | None) -> StandardsSeen:
        return StandardsSeen(conn, {"calendars": [], "holidays": [], "policies": []})

    def add(self, kind: str, frame: pd.DataFrame) -> None:
        if kind in self.batch and not frame.empty:
            self.batch[kind].append(frame.drop(columns=[ROW], errors="ignore"))

    def frame(self, kind: str) -> pd.DataFrame:
        """Every known row of a standards kind (a batch row replaces the DB row it keys)."""
        parts = []
        if self.db is not None and sa.inspect(self.db).has_table(kind):
            parts.append(stored(self.db, kind))
        parts.extend(self.batch[kind])
        if not parts:
            return _empty(kind)
        frame = pd.concat([p for p in parts if not p.empty] or [_empty(kind)], ignore_index=True)
        key = {"calendars": ["calendar", "weekday", "start"], "holidays": ["calendar", "day"]}
        return frame.drop_duplicates(key.get(kind, ["policy_id", "valid_from"]), keep="last")


_COLUMNS = {
    "calendars": ["calendar", "weekday", "start", "end", "country", "subdivision"],
    "holidays": ["calendar", "day", "name"],
    "policies": [
        "policy_id",
        "valid_from",
        "target_hours",
        "calendar",
        *MATCH_COLUMNS,
        "pause_stages",
        "set_by",
    ],
}


def _empty(kind: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in _COLUMNS[kind]})


def stored(conn: sa.Connection, kind: str) -> pd.DataFrame:
    """A standards table as stored (small: read whole)."""
    columns = ", ".join(f'"{c}"' for c in _COLUMNS[kind])
    rows = conn.execute(sa.text(f"SELECT {columns} FROM {kind}")).fetchall()  # noqa: S608
    frame = pd.DataFrame([tuple(r) for r in rows], columns=_COLUMNS[kind], dtype=object)
    if kind == "holidays":
        frame["day"] = [v if isinstance(v, date) and not isinstance(v, datetime)
                        else pd.Timestamp(v).date() for v in frame["day"]]  # fmt: skip
    if kind == "policies":
        frame["valid_from"] = pd.to_datetime(frame["valid_from"]).astype(US)
        frame["target_hours"] = frame["target_hours"].astype(float)
    if kind == "calendars":
        frame["weekday"] = frame["weekday"].astype(int)
    return frame


# --- the file checks ---------------------------------------------------------------


def _clock_minutes(text: pd.Series, *, end: bool) -> tuple[np.ndarray, np.ndarray]:
    """Minutes of the day from HH:MM text (24:00 allowed as an end) and the bad mask."""
    parts = text.astype(str).str.extract(_CLOCK)
    hours = pd.to_numeric(parts[0], errors="coerce")
    minutes = pd.to_numeric(parts[1], errors="coerce")
    value = (hours * 60 + minutes).to_numpy(dtype=float)
    limit = 1440 if end else 1439
    bad = np.isnan(value) | (minutes.to_numpy(dtype=float) > 59) | (value > limit)
    return np.nan_to_num(value, nan=0).astype(int), bad


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def checked_calendars(result: ValidationResult, seen: StandardsSeen) -> None:
    """Weekdays, HH:MM times, end after start, no overlapping windows, known countries."""
    v = result.valid
    weekday_text = v["weekday"].astype(str).str.strip().str.lower()
    weekday = weekday_text.map(WEEKDAYS)
    _drop(
        result,
        weekday.isna().to_numpy(),
        "weekday",
        lambda p, t=v["weekday"]: (
            f"weekday {t.iat[p]!r} is not a weekday (1 = Monday … 7 = Sunday, or a name "
            "such as Monday or lunes)"
        ),
    )
    v = result.valid
    start, bad_start = _clock_minutes(v["start"], end=False)
    _drop(result, bad_start, "start", lambda p, t=v["start"]: f"start {t.iat[p]!r} is not HH:MM")
    v = result.valid
    end, bad_end = _clock_minutes(v["end"], end=True)
    _drop(result, bad_end, "end", lambda p, t=v["end"]: f"end {t.iat[p]!r} is not HH:MM")
    v = result.valid
    start, _ = _clock_minutes(v["start"], end=False)
    end, _ = _clock_minutes(v["end"], end=True)
    _drop(
        result,
        end <= start,
        "end",
        lambda p, s=start, e=end: f"end {_hhmm(e[p])} is not after start {_hhmm(s[p])}",
    )
    v = result.valid
    start, _ = _clock_minutes(v["start"], end=False)
    end, _ = _clock_minutes(v["end"], end=True)
    v = v.assign(
        weekday=v["weekday"].astype(str).str.strip().str.lower().map(WEEKDAYS).astype(int),
        start=[_hhmm(m) for m in start],
        end=[_hhmm(m) for m in end],
        country=v["country"].str.strip().str.upper(),
        subdivision=v["subdivision"].str.strip().str.upper(),
    )
    result.valid = v
    _reject_unknown_places(result)
    _reject_overlaps(result, seen)


def _reject_unknown_places(result: ValidationResult) -> None:
    """A country or subdivision the holidays library does not know is a typing error."""
    v = result.valid
    places = v[["country", "subdivision"]].drop_duplicates()
    unknown: dict[tuple[Any, Any], tuple[str, str]] = {}  # (country, subdivision) cells
    for country, subdivision in places.itertuples(index=False):
        if pd.isna(country):
            if not pd.isna(subdivision):
                unknown[(country, subdivision)] = (
                    "country",
                    f"subdivision {subdivision!r} needs a country",
                )
            continue
        try:
            holiday_lib.country_holidays(
                str(country), subdiv=None if pd.isna(subdivision) else str(subdivision)
            )
        except NotImplementedError as exc:
            column = "subdivision" if "subdiv" in str(exc).lower() else "country"
            unknown[(country, subdivision)] = (
                column,
                f"{column} {country if column == 'country' else subdivision!r} is not "
                f"known to the holidays library ({exc})",
            )
    for (country, subdivision), (column, reason) in unknown.items():
        v = result.valid
        mask = (v["country"].fillna(_BLANK) == (country if not pd.isna(country) else _BLANK)) & (
            v["subdivision"].fillna(_BLANK) == (subdivision if not pd.isna(subdivision) else _BLANK)
        )
        _drop(result, mask.to_numpy(), column, lambda _p, r=reason: r)


def _reject_overlaps(result: ValidationResult, seen: StandardsSeen) -> None:
    """Windows of one calendar and weekday that overlap: the later row is rejected,
    naming the window (and row) it overlaps. Stored windows this file does not replace
    take part too."""
    v = result.valid.assign(_pos=np.arange(len(result.valid)), _file=True)
    db = seen.frame("calendars") if seen.db is not None else _empty("calendars")
    if not db.empty:
        keys = set(zip(v["calendar"], v["weekday"], v["start"], strict=True))
        db = db[
            [k not in keys for k in zip(db["calendar"], db["weekday"], db["start"], strict=True)]
        ]
        db = db[db["calendar"].isin(set(v["calendar"]))]
        db = db.assign(_pos=-1, _file=False, **{ROW: None})
    both = pd.concat([db, v], ignore_index=True) if not db.empty else v
    both = both.sort_values(["calendar", "weekday", "start", "_pos"], kind="stable")
    both = both.reset_index(drop=True)
    same = (both["calendar"].to_numpy() == np.roll(both["calendar"].to_numpy(), 1)) & (
        both["weekday"].to_numpy() == np.roll(both["weekday"].to_numpy(), 1)
    )
    same[0] = False
    prev_end = np.roll(both["end"].to_numpy(), 1)
    clash = same & (both["start"].to_numpy() < prev_end) & both["_file"].to_numpy(dtype=bool)
    if not clash.any():
        return
    mask = np.zeros(len(v), dtype=bool)
    reasons: dict[int, str] = {}
    for i in np.flatnonzero(clash):
        other = both.iloc[i - 1]
        where = "stored" if not other["_file"] else f"row {other[ROW]}"
        me = both.iloc[i]
        pos = int(me["_pos"])
        mask[pos] = True
        reasons[pos] = (
            f"window {me['start']}–{me['end']} of calendar {me['calendar']!r} on weekday "
            f"{me['weekday']} overlaps {other['start']}–{other['end']} ({where})"
        )
    _drop(result, mask, "start", lambda p: reasons[p])


def _known_calendars(seen: StandardsSeen) -> set[str]:
    return set(seen.frame("calendars")["calendar"].dropna())


def checked_holidays(result: ValidationResult, seen: StandardsSeen) -> None:
    """The calendar must exist; the day is a day (a time of day is dropped)."""
    known = _known_calendars(seen)
    v = result.valid
    _drop(
        result,
        (~v["calendar"].isin(known)).to_numpy(dtype=bool),
        "calendar",
        lambda p, c=v["calendar"]: f"calendar {c.iat[p]!r} is not defined in a calendars file",
    )
    v = result.valid
    result.valid = v.assign(day=[ts.date() for ts in pd.to_datetime(v["day"])])


def checked_policies(result: ValidationResult, seen: StandardsSeen) -> None:
    """Positive targets, known calendars and customer types, and no two policies with the
    same scope (they would be equally specific for every commitment they cover)."""
    v = result.valid
    target = v["target_hours"].astype(float)
    _drop(
        result,
        ~(target > 0).to_numpy(dtype=bool),
        "target_hours",
        lambda p, t=target: f"target_hours {t.iat[p]:g} must be more than 0",
    )
    known = _known_calendars(seen)
    v = result.valid
    unknown = v["calendar"].notna() & ~v["calendar"].isin(known)
    _drop(
        result,
        unknown.to_numpy(dtype=bool),
        "calendar",
        lambda p, c=v["calendar"]: f"calendar {c.iat[p]!r} is not defined in a calendars file",
    )
    v = result.valid
    ctype = v["customer_type"].str.strip().str.lower()
    wrong = ctype.notna() & ~ctype.isin(["internal", "external"])
    _drop(
        result,
        wrong.to_numpy(dtype=bool),
        "customer_type",
        lambda p, c=v["customer_type"]: f"customer_type {c.iat[p]!r} must be internal or external",
    )
    v = result.valid
    result.valid = v.assign(
        customer_type=v["customer_type"].str.strip().str.lower(),
        valid_from=pd.to_datetime(v["valid_from"]).dt.floor("D").astype(US),
        pause_stages=v["pause_stages"].map(_clean_stages, na_action="ignore"),
    )
    _reject_same_scope(result, seen)


def _clean_stages(text: str) -> str | None:
    stages = [s.strip() for s in str(text).split("|") if s.strip()]
    return "|".join(stages) or None


def _scope(frame: pd.DataFrame) -> list[str]:
    """The match columns of each policy as one text (blank = \\0), to compare scopes."""
    parts = [frame[c].astype(object).fillna(_BLANK).astype(str).tolist() for c in MATCH_COLUMNS]
    return ["\x1f".join(values) for values in zip(*parts, strict=True)]


def _describe_scope(row: pd.Series) -> str:
    parts = [f"{c}={row[c]}" for c in MATCH_COLUMNS if not pd.isna(row[c])]
    return ", ".join(parts) or "every commitment"


def _reject_same_scope(result: ValidationResult, seen: StandardsSeen) -> None:
    v = result.valid
    if v.empty:
        return
    others = seen.frame("policies")
    scopes = _scope(v)
    owner: dict[str, tuple[str, str]] = {}  # scope -> (policy_id, where)
    if not others.empty:
        mine = set(v["policy_id"])
        rest = others[~others["policy_id"].isin(mine)]
        for scope, pid in zip(_scope(rest), rest["policy_id"], strict=True):
            owner.setdefault(scope, (pid, "stored"))
    mask = np.zeros(len(v), dtype=bool)
    reasons: dict[int, str] = {}
    for pos, (scope, pid) in enumerate(zip(scopes, v["policy_id"], strict=True)):
        first = owner.setdefault(scope, (pid, f"row {_row_of(result, pos)}"))
        if first[0] != pid:
            mask[pos] = True
            reasons[pos] = (
                f"policy {pid!r} and policy {first[0]!r} ({first[1]}) have the same scope "
                f"({_describe_scope(v.iloc[pos])}): two equally specific policies would be "
                "in force for the same commitments"
            )
    _drop(result, mask, "policy_id", lambda p: reasons[p])


# --- matching commitments to policies ----------------------------------------------


def numbered_versions(policies: pd.DataFrame) -> pd.DataFrame:
    """Policies with `version` 1, 2, … per policy_id by valid_from."""
    p = policies.sort_values(["policy_id", "valid_from"], kind="stable").reset_index(drop=True)
    return p.assign(version=p.groupby("policy_id").cumcount() + 1)


@dataclass(frozen=True)
class Matches:
    """Per commitment (by position): the winning policy version, or why there is none."""

    policy_id: pd.Series  # object, None when no policy covers it
    version: pd.Series  # Int64
    target_hours: pd.Series  # float
    calendar: pd.Series  # object, None = round the clock
    pause_stages: pd.Series  # object
    conflict: pd.Series  # object: the other equally specific policy, or None


def matched_policies(commitments: pd.DataFrame, policies: pd.DataFrame) -> Matches:
    """The most specific policy version in force on each commitment's request day.

    One merge per scope shape (the set of match columns a policy fills), then per
    commitment the most specific policy wins; two policies tied at that specificity are
    a conflict (the second is named). A version is in force from its valid_from day on.
    """
    n = len(commitments)
    # Match columns as integer codes (merging a million rows on ints, not on text).
    base = pd.DataFrame(
        {
            "_pos": np.arange(n),
            "_day": pd.to_datetime(commitments["requested_at"]).dt.floor("D").to_numpy(),
        }
    )
    uniques: dict[str, pd.Index] = {}
    for c in MATCH_COLUMNS:
        values = commitments[c]
        if c == "customer_type":
            values = values.astype("string").str.lower()
        codes, found_values = pd.factorize(values, use_na_sentinel=True)
        base[c] = codes
        uniques[c] = pd.Index(found_values)
    versions = numbered_versions(policies) if not policies.empty else policies
    found: list[pd.DataFrame] = []
    if not versions.empty:
        versions = versions.assign(_pid=np.arange(len(versions)))
        filled = versions[list(MATCH_COLUMNS)].notna()
        shape_key = filled.apply(lambda r: tuple(r.to_numpy()), axis=1)
        for shape, group in versions.groupby(shape_key, sort=False):
            cols = [c for c, on in zip(MATCH_COLUMNS, shape, strict=True) if on]
            pol = group[["_pid", "policy_id", "valid_from", *cols]].copy()
            for c in cols:  # a value no commitment has matches nothing (-2 ≠ any code)
                codes = uniques[c].get_indexer(pd.Index(pol[c].astype(object)))
                pol[c] = np.where(codes < 0, -2, codes)
            pol["_policy"] = pd.factorize(pol["policy_id"])[0]
            pol = pol.drop(columns=["policy_id"])
            left = base[["_pos", "_day", *cols]]
            if cols:
                left = left[(left[cols] >= 0).all(axis=1).to_numpy()]
                hit = left.merge(pol, on=cols, how="inner")
            else:
                hit = left.merge(pol, how="cross")
            hit = hit[hit["valid_from"].to_numpy() <= hit["_day"].to_numpy()]
            if hit.empty:
                continue
            # the latest version in force of each policy
            hit = hit.sort_values(["_pos", "_policy", "valid_from"], kind="stable")
            hit = hit.drop_duplicates(["_pos", "_policy"], keep="last")
            found.append(hit.assign(_specific=len(cols))[["_pos", "_pid", "_specific"]])
        if found:
            by_pid = versions.set_index("_pid")
            joined = pd.concat(found, ignore_index=True)
            cols_back = ["policy_id", "version", "target_hours", "calendar", "pause_stages"]
            for col in cols_back:
                joined[col] = by_pid[col].to_numpy()[joined["_pid"].to_numpy()]
            found = [joined.drop(columns=["_pid"])]
    out = {
        "policy_id": pd.Series([None] * n, dtype=object),
        "version": pd.Series(pd.NA, index=range(n), dtype="Int64"),
        "target_hours": pd.Series(np.nan, index=range(n), dtype=float),
        "calendar": pd.Series([None] * n, dtype=object),
        "pause_stages": pd.Series([None] * n, dtype=object),
        "conflict": pd.Series([None] * n, dtype=object),
    }
    if found:
        hits = pd.concat(found, ignore_index=True)
        hits = hits.sort_values(["_pos", "_specific", "policy_id"], ascending=[True, False, True])
        best = hits.drop_duplicates("_pos", keep="first")
        top = hits.merge(best[["_pos", "_specific", "policy_id"]], on=["_pos", "_specific"],
                         suffixes=("", "_best"))  # fmt: skip
        tied = top[top["policy_id"] != top["policy_id_best"]].drop_duplicates("_pos")
        pos = best["_pos"].to_numpy()
        out["policy_id"].iloc[pos] = best["policy_id"].to_numpy()
        out["version"].iloc[pos] = best["version"].to_numpy()
        out["target_hours"].iloc[pos] = best["target_hours"].astype(float).to_numpy()
        out["calendar"].iloc[pos] = best["calendar"].to_numpy()
        out["pause_stages"].iloc[pos] = best["pause_stages"].to_numpy()
        out["conflict"].iloc[tied["_pos"].to_numpy()] = tied["policy_id"].to_numpy()
    return Matches(**out)


# --- calendars as business-time objects ------------------------------------------


def calendar_objects(
    calendars: pd.DataFrame, holidays: pd.DataFrame, years: Iterable[int]
) -> dict[str, bt.Calendar]:
    """Each calendar's windows and days off (its own holidays plus its country's)."""
    years = list(years)
    out: dict[str, bt.Calendar] = {}
    for name, rows in calendars.groupby("calendar", sort=False):
        windows = tuple(
            (int(w), _minutes(s), _minutes(e))
            for w, s, e in zip(rows["weekday"], rows["start"], rows["end"], strict=True)
        )
        days: set[date] = set(holidays.loc[holidays["calendar"] == name, "day"])
        country = rows["country"].dropna()
        if len(country) and years:
            subdivision = rows["subdivision"].dropna()
            days |= set(
                holiday_lib.country_holidays(
                    str(country.iat[0]),
                    subdiv=str(subdivision.iat[0]) if len(subdivision) else None,
                    years=years,
                )
            )
        out[str(name)] = bt.Calendar(windows, frozenset(days))
    return out


def _minutes(hhmm: str) -> int:
    hours, minutes = str(hhmm).split(":")
    return int(hours) * 60 + int(minutes)


def _us(values: pd.Series | np.ndarray) -> np.ndarray:
    """Naive datetimes as int64 µs (NaT → int64 min)."""
    return pd.to_datetime(pd.Series(values)).astype(US).to_numpy().view(np.int64)


_NAT = np.iinfo(np.int64).min
_NEVER = np.iinfo(np.int64).max
# The end of a stored pause still open at its commitment's latest event.
OPEN = _NEVER


def standard_dues(
    requested_at: pd.Series,
    matches: Matches,
    calendars: dict[str, bt.Calendar],
    pauses: bt.Pauses,
) -> pd.Series:
    """Standard due per commitment (NaT without a policy or beyond reach).

    One timeline per calendar, built over the span its commitments need.
    """
    n = len(requested_at)
    start = _us(requested_at)
    target = (matches.target_hours.to_numpy(dtype=float) * bt.US_PER_HOUR).round()
    due = np.full(n, _NAT, dtype=np.int64)
    covered = matches.policy_id.notna().to_numpy()
    cal_names = matches.calendar.fillna(_BLANK).to_numpy()
    for name in pd.unique(cal_names[covered]):
        calendar = bt.ROUND_THE_CLOCK if name == _BLANK else calendars.get(str(name))
        if calendar is None or not calendar.windows:
            continue
        who = np.flatnonzero(covered & (cal_names == name))
        owner_map = np.full(n, -1, dtype=np.int64)
        owner_map[who] = np.arange(len(who))
        keep = owner_map[pauses.owner] >= 0 if len(pauses.owner) else np.array([], dtype=bool)
        sub = bt.Pauses(owner_map[pauses.owner[keep]], pauses.start[keep], pauses.end[keep])
        lost = np.bincount(sub.owner, weights=sub.end - sub.start, minlength=len(who))
        need = int(target[who].max()) + (int(lost.max()) if len(sub.owner) else 0)
        for _attempt in range(6):  # a horizon too short for some: grow it, rarely needed
            tl = bt.timeline_for(calendar, int(start[who].min()), int(start[who].max()), need)
            got = bt.due_instants(tl, start[who], target[who].astype(np.int64), sub)
            if not (got == _NEVER).any():
                break
            need *= 4
        due[who] = np.where(got == _NEVER, _NAT, got)
    return pd.Series(due.view(US), index=requested_at.index)


def pause_intervals(
    events: pd.DataFrame, pause_stages: pd.Series, open_until: np.ndarray
) -> bt.Pauses:
    """Pause intervals from events (`_pos` of the commitment, stage, at, next_at), sorted.

    An event entering one of its commitment's pause stages pauses the clock until the
    next event (`next_at`); the latest event, when paused, keeps the clock paused until
    `open_until` of that commitment (its delivery, or the evaluation instant).
    """
    return ended_pauses(open_pauses(events, pause_stages), open_until)


def open_pauses(events: pd.DataFrame, pause_stages: pd.Series) -> bt.Pauses:
    """Pause intervals as stored: the closed ones merged, and a still-open one (the
    latest event is a pause stage) with end `OPEN`, kept apart because where it ends
    depends on who asks (`ended_pauses`)."""
    if events.empty or pause_stages.isna().all():
        return bt.Pauses.none()
    # a few distinct stage sets among many commitments: split each set once
    set_code, sets = pd.factorize(pause_stages.astype(object), use_na_sentinel=True)
    pairs = pd.DataFrame(
        [(code, stage) for code, text in enumerate(sets) for stage in str(text).split("|")],
        columns=["_set", "stage"],
    )
    ev = events.assign(_set=set_code[events["_pos"].to_numpy(dtype=np.int64)])
    ev = ev[ev["_set"].to_numpy() >= 0].merge(pairs, on=["_set", "stage"], how="inner")
    if ev.empty:
        return bt.Pauses.none()
    owner = ev["_pos"].to_numpy(dtype=np.int64)
    s = _us(ev["at"])
    e = _us(ev["next_at"])
    still = e == _NAT
    closed = bt.merged_pauses(owner[~still], s[~still], e[~still])
    owner = np.concatenate([closed.owner, owner[still]])
    start = np.concatenate([closed.start, s[still]])
    end = np.concatenate([closed.end, np.full(int(still.sum()), OPEN, dtype=np.int64)])
    order = np.lexsort((start, owner))
    return bt.Pauses(owner[order], start[order], end[order])


def ended_pauses(pauses: bt.Pauses, open_until: np.ndarray) -> bt.Pauses:
    """Stored pauses (`open_pauses`) with each open one ended at its commitment's
    `open_until`, then merged: the intervals `pause_intervals` gives from the events."""
    still = pauses.end == OPEN
    if not still.any():
        return pauses
    owner, start, end = pauses.owner, pauses.start, pauses.end.copy()
    end[still] = np.asarray(open_until)[owner[still]]
    keep = end > start
    # An open pause starts at its commitment's latest event, after every closed one (those
    # are merged already): it can only reach back into the interval just before it.
    i = np.flatnonzero(still & keep)
    before = np.maximum(i - 1, 0)
    join = (i > 0) & (owner[before] == owner[i]) & (end[before] >= start[i])
    end[before[join]] = np.maximum(end[before[join]], end[i[join]])
    keep[i[join]] = False
    return bt.Pauses(owner[keep], start[keep], end[keep])


# --- at load: commitments without due_at -------------------------------------------


def checked_commitments(
    result: ValidationResult, seen: StandardsSeen, stored_derived: pd.DataFrame | None = None
) -> None:
    """Commitments take the standard due when they have no due_at; rejected when they
    cannot, or when two equally specific standards cover them.

    The date given here ignores pauses (events load after commitments); `refresh_standards`
    sets the paused one once the batch's events are in. A commitment whose stored due
    already came from the standard keeps that stored date here, so loading the same file
    again changes nothing. `stored_derived`: (commitment_id, due_at) of those.
    """
    v = result.valid
    if v.empty:
        return
    policies = seen.frame("policies")
    missing = v["due_at"].isna().to_numpy()
    if policies.empty:
        _drop(
            result,
            missing,
            "due_at",
            lambda _p: "due_at is required: no service standard is loaded to derive it from",
        )
        return
    m = matched_policies(v, policies)
    conflict = m.conflict.notna().to_numpy()
    if conflict.any():
        by_id = policies.drop_duplicates("policy_id", keep="last").set_index("policy_id")
        reasons: dict[int, str] = {}
        columns: dict[int, str] = {}
        a: Any  # policy ids: cells of the frame
        b: Any
        for pos in np.flatnonzero(conflict).tolist():
            a, b = m.policy_id.iat[pos], m.conflict.iat[pos]
            used = [c for c in MATCH_COLUMNS if by_id.loc[[a, b], c].notna().any()]
            columns[pos] = "|".join(used) or "process"
            reasons[pos] = (
                f"two equally specific service standards cover this commitment: policy {a!r} "
                f"({_describe_scope(by_id.loc[a])}) and policy {b!r} "
                f"({_describe_scope(by_id.loc[b])}); make one more specific"
            )
        # the column named is the one (or ones) the two policies match on
        _drop(result, conflict, lambda p: columns[p], lambda p: reasons[p])
        keep = ~conflict
        v = result.valid
        m = Matches(
            **{k: getattr(m, k)[keep].reset_index(drop=True) for k in Matches.__dataclass_fields__}
        )
        missing = missing[keep]
    uncovered = missing & m.policy_id.isna().to_numpy()
    _drop(
        result,
        uncovered,
        "due_at",
        lambda p, vv=v: (
            "due_at is empty and no service standard covers this commitment "
            f"({_describe_scope(vv.iloc[p])} on {pd.Timestamp(vv['requested_at'].iat[p]):%Y-%m-%d})"
        ),
    )
    v = result.valid
    missing = v["due_at"].isna().to_numpy()
    if not missing.any():
        result.valid = v.assign(due_from_standard=False)
        _add_columns(result)
        return
    m = matched_policies(v, policies)
    years = _years(v["requested_at"])
    calendars = calendar_objects(seen.frame("calendars"), seen.frame("holidays"), years)
    due = standard_dues(v["requested_at"], m, calendars, bt.Pauses.none())
    if stored_derived is not None and not stored_derived.empty:
        stored = pd.Series(
            pd.to_datetime(stored_derived["due_at"]).astype(US).to_numpy(),
            index=stored_derived["commitment_id"].astype(str).to_numpy(),
        )
        previous = v["commitment_id"].astype(str).map(stored)
        due = due.where(previous.isna(), previous.to_numpy())
    unreachable = missing & due.isna().to_numpy()
    _drop(
        result,
        unreachable,
        "due_at",
        lambda p, ids=m.policy_id: (
            f"due_at is empty and the service standard {ids.iat[p]!r} gives no date "
            "(its calendar has no working time ahead)"
        ),
    )
    keep_rows = ~unreachable
    due = due[keep_rows].reset_index(drop=True)
    missing = missing[keep_rows]
    v = result.valid
    v = v.assign(
        due_at=v["due_at"].where(~missing, due.to_numpy()).astype(US),
        due_from_standard=missing,
    )
    result.valid = v
    _add_columns(result)


def _add_columns(result: ValidationResult) -> None:
    extra = tuple(c for c in ("due_at", "due_from_standard") if c not in result.columns)
    result.columns = tuple(result.columns) + extra


def _years(values: pd.Series) -> range:
    stamps = pd.to_datetime(values).dropna()
    if stamps.empty:
        return range(0)
    return range(int(stamps.min().year) - 1, int(stamps.max().year) + 3)


# --- after the batch: every commitment's standard -----------------------------------


_COMMITMENTS_SQL = """
SELECT commitment_id, process, customer_type, priority, category, requested_at,
       delivered_at, due_at, due_from_standard, standard_due_at, policy_id, policy_version,
       pause_count
FROM commitments
"""

# Each event with the instant of the commitment's next event (its pause ends there).
_PAUSE_EVENTS_SQL = """
SELECT commitment_id, stage, "at", next_at FROM (
    SELECT commitment_id, stage, "at",
           LEAD("at") OVER (PARTITION BY commitment_id ORDER BY "at", seq) AS next_at
    FROM events
) AS e
WHERE stage IN :stages
"""


def query_frame(
    conn: sa.Connection, sql: str, params: dict[str, Any] | None = None
) -> pd.DataFrame:
    """A SELECT as a DataFrame (DuckDB: handed over column-wise by the driver)."""
    statement = sa.text(sql)
    if params and "stages" in params:
        statement = statement.bindparams(sa.bindparam("stages", expanding=True))
    if conn.dialect.name == "duckdb":
        frame: pd.DataFrame = conn.execute(statement, params or {}).cursor.df()
        return frame
    return pd.read_sql(statement, conn, params=params)


def standards_frame(conn: sa.Connection, as_of: datetime) -> pd.DataFrame:
    """Every commitment with the policy, version and standard due its standards give now.

    Columns: the stored ones of `_COMMITMENTS_SQL` plus new_policy_id, new_version,
    new_standard_due_at, new_pause_count. `as_of` ends the pause of a commitment still
    paused and open.
    """
    return _standards_and_pauses(conn, as_of)[0]


def _standards_and_pauses(conn: sa.Connection, as_of: datetime) -> tuple[pd.DataFrame, bt.Pauses]:
    """`standards_frame` and each commitment's pauses as stored (`open_pauses`, owner =
    row position)."""
    policies = stored(conn, "policies")
    if policies.empty:  # no standards: nothing read (a load without them pays nothing)
        return pd.DataFrame(), bt.Pauses.none()
    c = query_frame(conn, _COMMITMENTS_SQL)
    if c.empty:
        # pandas-stubs take no NA/NaT scalar in assign; pandas broadcasts it to a column
        frame = c.assign(new_policy_id=None, new_version=pd.NA, new_standard_due_at=pd.NaT,  # type: ignore[arg-type]
                         new_pause_count=0)  # fmt: skip
        return frame, bt.Pauses.none()
    m = matched_policies(c, policies)
    events = _pause_events(conn, c["commitment_id"], policies["pause_stages"])
    as_of_us = np.datetime64(pd.Timestamp(as_of).to_pydatetime(), "us").astype(np.int64)
    delivered = _us(c["delivered_at"])
    open_until = np.where(delivered == _NAT, as_of_us, delivered)
    kept = open_pauses(events, m.pause_stages.where(m.policy_id.notna()))
    pauses = ended_pauses(kept, open_until)
    calendars = calendar_objects(stored(conn, "calendars"), stored(conn, "holidays"),
                                 _years(c["requested_at"]))  # fmt: skip
    due = standard_dues(c["requested_at"], m, calendars, pauses)
    frame = c.assign(
        new_policy_id=m.policy_id.to_numpy(),
        new_version=m.version.to_numpy(),
        new_standard_due_at=due.to_numpy(),
        new_pause_count=np.bincount(kept.owner, minlength=len(c)).astype(np.int64),
    )
    return frame, kept


def _pause_events(
    conn: sa.Connection, commitment_id: pd.Series, pause_stages: pd.Series
) -> pd.DataFrame:
    """Events in any of the given pause stages, each with the instant of its commitment's
    next event and `_pos`, the commitment's position in `commitment_id`."""
    stages = sorted({s for v in pause_stages.dropna() for s in str(v).split("|")})
    events = pd.DataFrame(columns=["_pos", "stage", "at", "next_at"])
    if stages:
        ev = query_frame(conn, _PAUSE_EVENTS_SQL, {"stages": stages})
        if not ev.empty:
            pos = pd.Series(np.arange(len(commitment_id)),
                            index=commitment_id.astype(str).to_numpy())  # fmt: skip
            ev["_pos"] = ev["commitment_id"].astype(str).map(pos)
            events = ev.dropna(subset=["_pos"]).astype({"_pos": np.int64})
    return events


_STORED_VERSIONS_SQL = "SELECT commitment_id, policy_id, policy_version FROM commitments"


def store_missing_pauses(conn: sa.Connection) -> int:
    """Store the pauses of a database whose commitments predate them (pause_count NULL),
    from the events and each commitment's stored policy version; due dates are left as
    they are. Returns how many commitments lacked them (0: nothing done).

    Without policies nothing is missing: a load stores pauses only once standards exist,
    and then for every commitment (`refresh_standards`)."""
    if not sa.inspect(conn).has_table("policies"):
        return 0
    if not conn.execute(sa.text("SELECT 1 FROM policies LIMIT 1")).fetchall():
        return 0
    missing_sql = "SELECT count(*) FROM commitments WHERE pause_count IS NULL"
    missing = int(conn.execute(sa.text(missing_sql)).fetchall()[0][0])
    if not missing:
        return 0
    c = query_frame(conn, _STORED_VERSIONS_SQL)
    policies = StoredStandards.read(conn, range(0)).of(c["policy_id"], c["policy_version"])
    stages = policies["pause_stages"].where(c["policy_id"].notna().to_numpy())
    kept = open_pauses(_pause_events(conn, c["commitment_id"], stages), stages)
    _write_pauses(conn, c["commitment_id"], kept)
    counts = pd.DataFrame(
        {
            "commitment_id": c["commitment_id"].to_numpy(),
            "pause_count": np.bincount(kept.owner, minlength=len(c)).astype(np.int64),
        }
    )
    _update_commitments(conn, _COUNT_STAGE, counts)
    return missing


def refresh_standards(conn: sa.Connection, as_of: datetime) -> int:
    """Store each commitment's policy, version, standard due and pauses; a due_at that
    came from the standard follows it. Only rows that change are written; returns how
    many commitments changed policy, version or date."""
    if not sa.inspect(conn).has_table("policies"):
        return 0
    f, kept = _standards_and_pauses(conn, as_of)
    if f.empty or "new_policy_id" not in f:
        return 0
    _write_pauses(conn, f["commitment_id"], kept)
    derived = f["due_from_standard"].fillna(False).astype(bool).to_numpy()
    new_due = pd.to_datetime(f["due_at"]).astype(US).to_numpy().copy()
    std = pd.to_datetime(f["new_standard_due_at"]).astype(US).to_numpy()
    use = derived & ~pd.isna(std)
    new_due[use] = std[use]
    old_std = pd.to_datetime(f["standard_due_at"]).astype(US).to_numpy()
    old_pid = f["policy_id"].astype(object).where(f["policy_id"].notna(), None)
    new_pid = f["new_policy_id"].astype(object).where(f["new_policy_id"].notna(), None)
    old_ver = f["policy_version"].astype("Int64")  # one frame: these align row by row
    new_ver = f["new_version"].astype("Int64")
    old_count = f["pause_count"].astype("Int64")
    new_count = f["new_pause_count"].to_numpy(dtype=np.int64)
    redated = (
        (old_pid.to_numpy() != new_pid.to_numpy())
        | ~_same_times(old_std, std)
        | ~_same_times(pd.to_datetime(f["due_at"]).astype(US).to_numpy(), new_due)
        | ~np.asarray((old_ver == new_ver).fillna(pd.isna(old_ver) & pd.isna(new_ver)), dtype=bool)
    )
    changed = redated | ~np.asarray((old_count == new_count).fillna(False), dtype=bool)
    if not changed.any():
        return 0
    rows = pd.DataFrame(
        {
            "commitment_id": f["commitment_id"].to_numpy()[changed],
            "due_at": new_due[changed],
            "standard_due_at": std[changed],
            "policy_id": new_pid.to_numpy()[changed],
            "policy_version": new_ver[changed],
            "pause_count": new_count[changed],
        }
    )
    _write_refresh(conn, rows)
    return int(redated.sum())


_PAUSES_SQL = "SELECT commitment_id, paused_from, paused_until FROM commitment_pauses"


def _pause_rows(commitment_id: pd.Series, pauses: bt.Pauses) -> pd.DataFrame:
    """Stored pauses (owner = position in `commitment_id`) as rows of commitment_pauses."""
    end = pauses.end.copy()
    end[end == OPEN] = _NAT
    return pd.DataFrame(
        {
            "commitment_id": commitment_id.astype(str).to_numpy()[pauses.owner],
            "paused_from": pauses.start.view(US),
            "paused_until": end.view(US),
        }
    )


def _write_pauses(conn: sa.Connection, commitment_id: pd.Series, pauses: bt.Pauses) -> None:
    """Bring commitment_pauses to `pauses`: the rows of commitments whose intervals
    differ are replaced, the others are left alone (a batch re-reading the same events
    writes nothing)."""
    from etl.load import bulk_insert  # the loader's bulk writer (it imports this module)

    new = _pause_rows(commitment_id, pauses)
    old = query_frame(conn, _PAUSES_SQL)
    if old.empty:
        bulk_insert(conn, commitment_pauses, new)
        return
    old = old.assign(
        commitment_id=old["commitment_id"].astype(str),
        paused_from=pd.to_datetime(old["paused_from"]).astype(US),
        paused_until=pd.to_datetime(old["paused_until"]).astype(US),
    )
    both = new.merge(old, how="outer", on=list(new.columns), indicator=True)
    differ = pd.unique(both.loc[both["_merge"] != "both", "commitment_id"])
    if not len(differ):
        return
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {_PAUSES_STAGE.name}"))
    _PAUSES_STAGE.create(conn)
    bulk_insert(conn, _PAUSES_STAGE, pd.DataFrame({"commitment_id": differ}))
    conn.execute(
        sa.text(
            f"""
            DELETE FROM commitment_pauses
            WHERE commitment_id IN (SELECT commitment_id FROM {_PAUSES_STAGE.name})
            """  # noqa: S608 (a fixed table name)
        )
    )
    conn.execute(sa.text(f"DROP TABLE {_PAUSES_STAGE.name}"))
    bulk_insert(conn, commitment_pauses, new[new["commitment_id"].isin(set(differ))])


_PAUSES_STAGE = sa.Table(
    "_eslabon_pauses_refresh",
    sa.MetaData(),
    sa.Column("commitment_id", sa.String),
    prefixes=["TEMPORARY"],
)


def _same_times(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a == b) | (pd.isna(a) & pd.isna(b)))


_REFRESH_STAGE = sa.Table(
    "_eslabon_standards_refresh",
    sa.MetaData(),
    sa.Column("commitment_id", sa.String),
    sa.Column("due_at", sa.DateTime),
    sa.Column("standard_due_at", sa.DateTime),
    sa.Column("policy_id", sa.String),
    sa.Column("policy_version", sa.Integer),
    sa.Column("pause_count", sa.Integer),
    prefixes=["TEMPORARY"],
)


def _write_refresh(conn: sa.Connection, rows: pd.DataFrame) -> None:
    _update_commitments(conn, _REFRESH_STAGE, rows)


_COUNT_STAGE = sa.Table(
    "_eslabon_pause_counts",
    sa.MetaData(),
    sa.Column("commitment_id", sa.String),
    sa.Column("pause_count", sa.Integer),
    prefixes=["TEMPORARY"],
)


def _update_commitments(conn: sa.Connection, stage: sa.Table, rows: pd.DataFrame) -> None:
    """Set the stage table's columns of the commitments it names, in one UPDATE."""
    from etl.load import bulk_insert  # the loader's bulk writer (it imports this module)

    conn.execute(sa.text(f"DROP TABLE IF EXISTS {stage.name}"))
    stage.create(conn)
    bulk_insert(conn, stage, rows)
    # identifiers only, from the stage tables of this module
    columns = [c.name for c in stage.columns if c.name != "commitment_id"]
    assignments = ", ".join(f"{c} = s.{c}" for c in columns)
    conn.execute(
        sa.text(
            f"UPDATE commitments SET {assignments} FROM {stage.name} AS s"  # noqa: S608
            " WHERE commitments.commitment_id = s.commitment_id"
        )
    )
    conn.execute(sa.text(f"DROP TABLE {stage.name}"))


# --- for metrics: business time of stored commitments -------------------------------


def business_between(
    start: pd.Series,
    end: pd.Series,
    calendar: pd.Series,
    calendars: dict[str, bt.Calendar],
    pauses: bt.Pauses,
) -> np.ndarray:
    """Unpaused business time (µs) from start to end per row, under each row's calendar
    (None = round the clock); 0 when end is not after start, -1 when a bound is missing
    or the calendar is unknown. One timeline per calendar, never a loop per row."""
    n = len(start)
    a, b = _us(start), _us(end)
    out = np.full(n, -1, dtype=np.int64)
    ok = (a != _NAT) & (b != _NAT)
    names = calendar.astype(object).fillna(_BLANK).to_numpy()
    for name in pd.unique(names[ok]):
        cal = bt.ROUND_THE_CLOCK if name == _BLANK else calendars.get(str(name))
        if cal is None or not cal.windows:
            continue
        who = np.flatnonzero(ok & (names == name))
        owner_map = np.full(n, -1, dtype=np.int64)
        owner_map[who] = np.arange(len(who))
        keep = owner_map[pauses.owner] >= 0 if len(pauses.owner) else np.array([], dtype=bool)
        sub = bt.Pauses(owner_map[pauses.owner[keep]], pauses.start[keep], pauses.end[keep])
        lo, hi = int(min(a[who].min(), b[who].min())), int(max(a[who].max(), b[who].max()))
        tl = bt.timeline(cal, int(bt.day_number(lo)) - 1, int(bt.day_number(hi)) + 1)
        out[who] = bt.business_between(tl, a[who], b[who], sub)
    return out


@dataclass(frozen=True)
class StoredStandards:
    """The standards as stored, ready to judge commitments: numbered policy versions
    and calendars with their holidays (own and the country's)."""

    versions: pd.DataFrame
    calendars: dict[str, bt.Calendar]

    @staticmethod
    def read(conn: sa.Connection, years: range) -> StoredStandards:
        if not sa.inspect(conn).has_table("policies"):
            return StoredStandards(numbered_versions(_empty("policies")), {})
        policies = stored(conn, "policies")
        versions = numbered_versions(policies) if not policies.empty else policies
        calendars = calendar_objects(stored(conn, "calendars"), stored(conn, "holidays"), years)
        return StoredStandards(versions, calendars)

    def of(self, policy_id: pd.Series, version: pd.Series) -> pd.DataFrame:
        """target_hours, calendar and pause_stages of each (policy_id, version) row."""
        keys = pd.DataFrame(
            {"policy_id": policy_id.astype(object).to_numpy(),
             "version": version.astype("Int64").array}
        )  # fmt: skip
        if self.versions.empty:
            return keys.assign(target_hours=np.nan, calendar=None, pause_stages=None)
        v = self.versions[["policy_id", "version", "target_hours", "calendar", "pause_stages"]]
        v = v.astype({"version": "Int64"})
        return keys.merge(v, on=["policy_id", "version"], how="left")


# The same pauses, for the commitments a metric looks at only: `{ids}` is a fixed
# subquery of commitment ids (the metric's status CTE), so the window runs over their
# events, not over the whole log.
_SOME_PAUSE_EVENTS_SQL = """
SELECT commitment_id, stage, "at", next_at FROM (
    SELECT commitment_id, stage, "at",
           LEAD("at") OVER (PARTITION BY commitment_id ORDER BY "at", seq) AS next_at
    FROM events
    WHERE commitment_id IN ({ids})
) AS e
WHERE stage IN :stages
"""


def stored_pauses(
    conn: sa.Connection,
    commitment_id: pd.Series,
    pause_stages: pd.Series,
    open_until: np.ndarray,
    ids_sql: str | None = None,
    params: dict[str, object] | None = None,
) -> bt.Pauses:
    """Pause intervals (owner = row position) of the given commitments, from stored events.

    `ids_sql` (fixed SQL, its values bound through `params`) narrows the events read to
    those commitments; without it every pause-stage event is read.
    """
    stages = sorted({s for v in pause_stages.dropna() for s in str(v).split("|")})
    if not stages or commitment_id.empty:
        return bt.Pauses.none()
    if ids_sql is None:
        ev = query_frame(conn, _PAUSE_EVENTS_SQL, {"stages": stages})
    else:
        sql = _SOME_PAUSE_EVENTS_SQL.format(ids=ids_sql)
        ev = query_frame(conn, sql, {**(params or {}), "stages": stages})
    if ev.empty:
        return bt.Pauses.none()
    pos = pd.Series(np.arange(len(commitment_id)), index=commitment_id.astype(str).to_numpy())
    pos = pos[~pos.index.duplicated()]
    ev["_pos"] = ev["commitment_id"].astype(str).map(pos)
    ev = ev.dropna(subset=["_pos"]).astype({"_pos": np.int64})
    stage_series = pd.Series(pause_stages.to_numpy(), index=np.arange(len(pause_stages)))
    return pause_intervals(ev, stage_series, open_until)
