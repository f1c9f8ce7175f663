"""Service standards at load: due dates from policies, calendars, holidays, pauses and
versions, checked against a minute-by-minute walk written here, independently of
etl.business_time; and every bad standards row rejected with file, row and column.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from etl.load import load_files

CALENDARS = """calendar,weekday,start,end
office,1,09:00,13:00
office,1,15:00,18:00
office,2,09:00,13:00
office,2,15:00,18:00
office,3,09:00,13:00
office,3,15:00,18:00
office,4,09:00,13:00
office,4,15:00,18:00
office,5,09:00,13:00
office,5,15:00,18:00
"""
HOLIDAYS = """calendar,day,name
office,2026-01-06,Reyes
"""
# support-high has two versions (8 h, then 4 h from 2026-01-07); support-any is less
# specific (process only) and never pauses.
POLICIES = """policy_id,target_hours,calendar,process,priority,pause_stages,valid_from,set_by
support-high,8,office,Soporte,high,Waiting customer,2026-01-01,calidad
support-high,4,office,Soporte,high,Waiting customer,2026-01-07,calidad
support-any,16,office,Soporte,,,2026-01-01,calidad
logistics,48,,Logística,,,2026-01-01,calidad
"""
COMMITMENTS = """commitment_id,process,customer,priority,requested_at,due_at,delivered_at
C1,Soporte,Acme,high,2026-01-05 12:00,,2026-01-07 16:00
C2,Soporte,Acme,high,2026-01-07 09:00,,
C3,Soporte,Beta,low,2026-01-05 12:00,,2026-01-09 10:00
C4,Ventas,Beta,,2026-01-05 12:00,,
C5,Soporte,Acme,high,2026-01-05 12:00,2026-01-06 10:00,
C6,Logística,Acme,,2026-01-05 12:00,,
"""
EVENTS = """commitment_id,stage,at
C1,Open,2026-01-05 12:00
C1,Waiting customer,2026-01-07 09:00
C1,In progress,2026-01-07 10:30
C3,Waiting customer,2026-01-07 09:00
C3,In progress,2026-01-07 12:00
"""

# --- the independent reference: walk the minutes ---------------------------------

WINDOWS = {wd: [(9 * 60, 13 * 60), (15 * 60, 18 * 60)] for wd in range(1, 6)}
DAYS_OFF = {date(2026, 1, 6)}


def reference_due(
    requested: datetime, hours: float, paused: list[tuple[datetime, datetime]]
) -> datetime:
    """The end of the minute in which `hours` of office time (not paused) have run."""
    need, run, t = round(hours * 60), 0, requested
    while True:
        minute = t.hour * 60 + t.minute
        working = t.date() not in DAYS_OFF and any(
            s <= minute < e for s, e in WINDOWS.get(t.isoweekday(), [])
        )
        if working and not any(a <= t < b for a, b in paused):
            run += 1
            if run == need:
                return t + timedelta(minutes=1)
        t += timedelta(minutes=1)


def _write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def _commitments(engine: sa.Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT commitment_id, due_at, standard_due_at, policy_id, policy_version,"
                " due_from_standard FROM commitments ORDER BY commitment_id"
            )
        ).fetchall()
    return pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["id", "due_at", "standard_due_at", "policy_id", "version", "derived"],
    ).set_index("id")


def test_hand_worked_case_equals_the_minute_walk(engine: sa.Engine, tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "std",
        calendars=CALENDARS,
        holidays=HOLIDAYS,
        policies=POLICIES,
        commitments=COMMITMENTS,
        events=EVENTS,
    )
    # files given commitments-first: the loader orders the batch itself
    order = ["events", "commitments", "policies", "holidays", "calendars"]
    report = load_files(engine, [folder / f"{n}.csv" for n in order], tz="Europe/Madrid")
    counts = {f.kind: (f.read, f.new, f.changed, f.unchanged, f.rejected) for f in report.files}
    assert counts["commitments"] == (6, 5, 0, 0, 1)
    assert counts["policies"] == (4, 4, 0, 0, 0)
    [reject] = [r for r in report.rejects if r.kind == "commitments"]
    assert (reject.reject.row_number, reject.reject.column) == (5, "due_at")
    assert "no service standard covers" in reject.reject.reason

    got = _commitments(engine)
    d = datetime
    pause_c1 = [(d(2026, 1, 7, 9), d(2026, 1, 7, 10, 30))]
    # support-any has no pause stages: C3's waiting does not stop its clock
    pause_c3: list[tuple[datetime, datetime]] = []
    expected = {
        # by hand: Mon 12–13, 15–18 (4 h); Tue holiday; Wed paused 09–10:30, then
        # 10:30–13 (2.5 h), 15:00 + 1.5 h → Wed 16:30
        "C1": (reference_due(d(2026, 1, 5, 12), 8, pause_c1), d(2026, 1, 7, 16, 30)),
        # version 2 (4 h) is in force on the 7th: 09–13 → 13:00
        "C2": (reference_due(d(2026, 1, 7, 9), 4, []), d(2026, 1, 7, 13)),
        # 16 h: Mon 4, Wed 7, Thu 09–13 (15), 15–16 → Thu 16:00
        "C3": (reference_due(d(2026, 1, 5, 12), 16, pause_c3), d(2026, 1, 8, 16)),
    }
    # no calendar: round the clock, holiday or not
    assert got.loc["C6", "due_at"] == d(2026, 1, 7, 12)
    for cid, (reference, by_hand) in expected.items():
        assert reference == by_hand
        assert got.loc[cid, "due_at"] == by_hand
        assert got.loc[cid, "standard_due_at"] == by_hand
        assert bool(got.loc[cid, "derived"])
    assert got.loc["C1", "policy_id"] == "support-high" and got.loc["C1", "version"] == 1
    assert got.loc["C2", "policy_id"] == "support-high" and got.loc["C2", "version"] == 2
    assert got.loc["C3", "policy_id"] == "support-any" and got.loc["C3", "version"] == 1
    # an explicit due_at is the promise and wins; the standard is kept beside it
    assert got.loc["C5", "due_at"] == d(2026, 1, 6, 10)
    assert got.loc["C5", "standard_due_at"] == reference_due(d(2026, 1, 5, 12), 8, [])
    assert not bool(got.loc["C5", "derived"])

    # the same folder again: nothing changes, every row is unchanged
    again = load_files(engine, [folder], tz="Europe/Madrid")
    for f in again.files:
        assert f.new is not None and f.changed is not None and f.unchanged is not None
        assert f.read == f.new + f.changed + f.unchanged + f.rejected
        assert f.new == 0 and f.changed == 0, f
    assert _commitments(engine).equals(got)


BAD_CALENDARS = """calendar,weekday,start,end
office,1,09:00,13:00
office,1,12:00,15:00
office,Funday,09:00,13:00
office,2,13:00,09:00
office,3,9:00,17:00
"""
BAD_HOLIDAYS = """calendar,day
office,2026-01-06
nowhere,2026-01-07
"""
BAD_POLICIES = """policy_id,target_hours,calendar,process,priority,valid_from
a,8,office,Soporte,,2026-01-01
b,0,office,Soporte,high,2026-01-01
c,8,missing,Soporte,high,2026-01-01
d,8,office,,high,2026-01-01
e,4,office,Soporte,,2026-01-01
"""
AMBIGUOUS = """commitment_id,process,customer,priority,requested_at,due_at
K1,Soporte,Acme,high,2026-01-05 12:00,
K2,Soporte,Acme,low,2026-01-05 12:00,
"""


def test_bad_standards_rows_are_rejected_with_file_row_and_column(
    engine: sa.Engine, tmp_path: Path
) -> None:
    folder = _write(
        tmp_path / "bad",
        calendars=BAD_CALENDARS,
        holidays=BAD_HOLIDAYS,
        policies=BAD_POLICIES,
        commitments=AMBIGUOUS,
    )
    report = load_files(engine, [folder], tz="Europe/Madrid")
    for f in report.files:
        assert f.new is not None and f.changed is not None and f.unchanged is not None
        assert f.read == f.new + f.changed + f.unchanged + f.rejected
    rejects = {
        (Path(r.path).stem, r.reject.row_number, r.reject.column): r.reject.reason
        for r in report.rejects
    }
    assert set(rejects) == {
        ("calendars", 3, "start"),
        ("calendars", 4, "weekday"),
        ("calendars", 5, "end"),
        ("holidays", 3, "calendar"),
        ("policies", 3, "target_hours"),
        ("policies", 4, "calendar"),
        ("policies", 6, "policy_id"),
        ("commitments", 2, "process|priority"),
    }
    assert "overlaps 09:00–13:00 (row 2)" in rejects[("calendars", 3, "start")]
    assert "'Funday' is not a weekday" in rejects[("calendars", 4, "weekday")]
    assert "end 09:00 is not after start 13:00" in rejects[("calendars", 5, "end")]
    assert "'nowhere' is not defined" in rejects[("holidays", 3, "calendar")]
    assert "target_hours 0 must be more than 0" in rejects[("policies", 3, "target_hours")]
    assert "policy 'e' and policy 'a' (row 2)" in rejects[("policies", 6, "policy_id")]
    reason = rejects[("commitments", 2, "process|priority")]
    assert "policy 'a'" in reason and "policy 'd'" in reason
    # K2 (low priority) is covered by 'a' alone: loaded with a derived date
    got = _commitments(engine)
    assert list(got.index) == ["K2"] and got.loc["K2", "policy_id"] == "a"
    # 9:00 normalised to 09:00; Wednesday's single window stands
    with engine.connect() as conn:
        rows = conn.execute(sa.text('SELECT weekday, start, "end" FROM calendars')).fetchall()
    assert sorted(tuple(r) for r in rows) == [(1, "09:00", "13:00"), (3, "09:00", "17:00")]


def test_a_country_brings_its_public_holidays(engine: sa.Engine, tmp_path: Path) -> None:
    # Madrid: 2026-01-06 (Epiphany) is a public holiday, with no holidays file at all.
    cal = "calendar,weekday,start,end,country,subdivision\n" + "\n".join(
        f"mad,{d},09:00,17:00,ES,MD" for d in range(1, 6)
    )
    pol = "policy_id,target_hours,calendar,valid_from\nall,10,mad,2026-01-01\n"
    com = "commitment_id,process,customer,requested_at\nM1,Soporte,Acme,2026-01-05 15:00\n"
    folder = _write(tmp_path / "mad", calendars=cal, policies=pol, commitments=com)
    load_files(engine, [folder], tz="Europe/Madrid")
    # Mon 15–17 (2 h), Tue 6th Epiphany, Wed 09–17 (8 h) → Wed 17:00
    assert _commitments(engine).loc["M1", "due_at"] == datetime(2026, 1, 7, 17)


# --- Hypothesis: random calendars, holidays, event pauses and targets ---------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from etl import standards  # noqa: E402

BASE = datetime(2026, 3, 2)  # a Monday


@st.composite
def scenario(draw: st.DrawFn) -> dict[str, Any]:
    windows: list[tuple[int, int, int]] = []
    for wd, s, length in draw(
        st.lists(
            st.tuples(st.integers(1, 7), st.integers(0, 1439), st.integers(30, 600)),
            min_size=1,
            max_size=5,
        )
    ):
        e = min(1440, s + length)
        if not any(w == wd and s < oe and os < e for w, os, oe in windows):
            windows.append((wd, s, e))
    off = sorted(draw(st.sets(st.integers(0, 20), max_size=4)))
    stamps = sorted(draw(st.sets(st.integers(0, 6 * 1440), max_size=5)))
    stages = [draw(st.sampled_from(["work", "wait"])) for _ in stamps]
    return {
        "windows": windows,
        "off": [(BASE + timedelta(days=o)).date() for o in off],
        "start": draw(st.integers(0, 2 * 1440)),
        "hours": draw(st.integers(1, 16)) / 4,
        "events": [(BASE + timedelta(minutes=m), s) for m, s in zip(stamps, stages, strict=True)],
        "as_of": BASE + timedelta(minutes=draw(st.integers(0, 8 * 1440))),
    }


def walk(sc: dict[str, Any]) -> datetime:
    """Minute by minute: a minute counts inside a window, off the holidays, and when the
    latest event at or before it is not in the pause stage (a pause left open by the
    log's last event ends at as_of)."""
    need = round(float(sc["hours"]) * 60)
    t = BASE + timedelta(minutes=int(sc["start"]))
    run = 0
    while True:
        minute = t.hour * 60 + t.minute
        working = t.date() not in sc["off"] and any(
            w == t.isoweekday() and s <= minute < e for w, s, e in sc["windows"]
        )
        latest, is_last = None, False
        events = sc["events"]
        for i, (at, stage) in enumerate(events):
            if at <= t:
                latest, is_last = stage, i == len(events) - 1
        # the last event's pause has no end in the log: it ends at as_of
        paused = latest == "wait" and (not is_last or t < sc["as_of"])
        if working and not paused:
            run += 1
            if run == need:
                return t + timedelta(minutes=1)
        t += timedelta(minutes=1)


@settings(max_examples=50, deadline=None)
@given(sc=scenario())
def test_standard_due_with_event_pauses_matches_the_walk(sc: dict[str, Any]) -> None:
    cal = pd.DataFrame(
        [("c", w, f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}", None, None)
         for w, s, e in sc["windows"]],
        columns=["calendar", "weekday", "start", "end", "country", "subdivision"],
    )  # fmt: skip
    hol = pd.DataFrame({"calendar": "c", "day": sc["off"], "name": None})
    pol = pd.DataFrame(
        {"policy_id": ["p"], "valid_from": [datetime(2026, 1, 1)], "target_hours": [sc["hours"]],
         "calendar": ["c"], "process": ["S"], "customer_type": [None], "priority": [None],
         "category": [None], "pause_stages": ["wait"], "set_by": [None]}
    )  # fmt: skip
    requested = BASE + timedelta(minutes=int(sc["start"]))
    com = pd.DataFrame(
        {"requested_at": [requested], "process": ["S"], "customer_type": [None],
         "priority": [None], "category": [None]}
    )  # fmt: skip
    m = standards.matched_policies(com, pol)
    ev = sc["events"]
    events = pd.DataFrame(
        {"_pos": [0] * len(ev), "stage": [s for _, s in ev], "at": [a for a, _ in ev],
         "next_at": [ev[i + 1][0] if i + 1 < len(ev) else None for i in range(len(ev))]}
    )  # fmt: skip
    as_of = np.array([np.datetime64(sc["as_of"], "us").astype(np.int64)])
    pauses = standards.pause_intervals(events, m.pause_stages, as_of)
    calendars = standards.calendar_objects(cal, hol, range(2026, 2028))
    due = standards.standard_dues(com["requested_at"], m, calendars, pauses)
    assert due.iat[0] == walk(sc)


def working_minutes(sc: dict[str, Any]) -> int:
    """Minute by minute from the request to as_of: minutes inside a window, off the
    holidays and not paused (the last event's open pause ends at as_of itself)."""
    t = BASE + timedelta(minutes=int(sc["start"]))
    run = 0
    while t < sc["as_of"]:
        minute = t.hour * 60 + t.minute
        working = t.date() not in sc["off"] and any(
            w == t.isoweekday() and s <= minute < e for w, s, e in sc["windows"]
        )
        latest = None
        for at, stage in sc["events"]:
            if at <= t:
                latest = stage
        if working and latest != "wait":
            run += 1
        t += timedelta(minutes=1)
    return run


@settings(max_examples=50, deadline=None)
@given(sc=scenario())
def test_stored_pauses_ended_at_as_of_match_the_walk(sc: dict[str, Any]) -> None:
    """The pauses as the load stores them (an open one without end), ended at as_of by
    the reader: the business time run from the request to as_of (the elapsed-share
    clock) equals the minute count."""
    cal = pd.DataFrame(
        [("c", w, f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}", None, None)
         for w, s, e in sc["windows"]],
        columns=["calendar", "weekday", "start", "end", "country", "subdivision"],
    )  # fmt: skip
    hol = pd.DataFrame({"calendar": "c", "day": sc["off"], "name": None})
    ev = sc["events"]
    events = pd.DataFrame(
        {"_pos": [0] * len(ev), "stage": [s for _, s in ev], "at": [a for a, _ in ev],
         "next_at": [ev[i + 1][0] if i + 1 < len(ev) else None for i in range(len(ev))]}
    )  # fmt: skip
    kept = standards.open_pauses(events, pd.Series(["wait"]))
    assert (kept.end == standards.OPEN).sum() == int(bool(ev) and ev[-1][1] == "wait")
    as_of = np.array([np.datetime64(sc["as_of"], "us").astype(np.int64)])
    pauses = standards.ended_pauses(kept, as_of)
    calendars = standards.calendar_objects(cal, hol, range(2026, 2028))
    requested = BASE + timedelta(minutes=int(sc["start"]))
    run = standards.business_between(
        pd.Series([requested]), pd.Series([sc["as_of"]]), pd.Series(["c"]), calendars, pauses
    )
    assert run[0] == working_minutes(sc) * 60_000_000


def test_dry_run_sees_the_batch_standards(engine: sa.Engine, tmp_path: Path) -> None:
    """validate_files merges nothing: the policies of the batch still reach its
    commitments (C4 alone is rejected, as in the load)."""
    from etl.load import validate_files
    from etl.preview import preview_files

    folder = _write(
        tmp_path / "std",
        calendars=CALENDARS,
        holidays=HOLIDAYS,
        policies=POLICIES,
        commitments=COMMITMENTS,
        events=EVENTS,
    )
    for report in (
        validate_files(engine, [folder], tz="Europe/Madrid"),
        preview_files(engine, [folder], tz="Europe/Madrid"),
    ):
        rejected = [(Path(r.path).stem, r.reject.row_number) for r in report.rejects]
        assert rejected == [("commitments", 5)]
    with engine.connect() as conn:
        assert (
            not sa.inspect(conn).has_table("policies")
            or not conn.execute(sa.text("SELECT count(*) FROM policies")).fetchall()[0][0]
        )


def test_an_older_database_gains_the_standards_columns(engine: sa.Engine) -> None:
    """create_schema adds the standards' columns to a database made before them."""
    from etl.schema import create_schema

    create_schema(engine)
    new = ("priority", "category", "source_on_time", "due_from_standard", "standard_due_at",
           "policy_id", "policy_version", "pause_count")  # fmt: skip
    with engine.begin() as conn:
        for name in new:
            conn.execute(sa.text(f"ALTER TABLE commitments DROP COLUMN {name}"))
    create_schema(engine)
    with engine.connect() as conn:
        have = set(conn.execute(sa.text("SELECT * FROM commitments LIMIT 0")).keys())
    assert set(new) <= have


def _stored_pauses(engine: sa.Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT commitment_id, paused_from, paused_until FROM commitment_pauses"
                " ORDER BY commitment_id, paused_from"
            )
        ).fetchall()
    return [tuple(r) for r in rows]


def test_init_stores_the_pauses_of_an_older_database(engine: sa.Engine, tmp_path: Path) -> None:
    """A database from before stored pauses (no commitment_pauses, no pause_count) gains
    them through create_schema + store_missing_pauses (what `etl init` runs), equal to
    what a load stores, its due dates untouched. C2 waits since Thu 09:00 (its latest
    event: stored without an end)."""
    from etl.schema import create_schema
    from etl.standards import store_missing_pauses

    events = EVENTS + "C2,Waiting customer,2026-01-08 09:00\n"
    folder = _write(tmp_path / "std", calendars=CALENDARS, holidays=HOLIDAYS,
                    policies=POLICIES, commitments=COMMITMENTS, events=events)  # fmt: skip
    load_files(engine, [folder], tz="Europe/Madrid")
    expected = [
        ("C1", datetime(2026, 1, 7, 9), datetime(2026, 1, 7, 10, 30)),
        ("C2", datetime(2026, 1, 8, 9), None),
    ]  # C3 waited too, but its policy (support-any) never pauses
    assert _stored_pauses(engine) == expected
    dates = _commitments(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE commitment_pauses"))
        conn.execute(sa.text("ALTER TABLE commitments DROP COLUMN pause_count"))
    create_schema(engine)
    with engine.begin() as conn:
        assert store_missing_pauses(conn) == 5  # C1 C2 C3 C5 C6 (C4 was rejected)
        assert store_missing_pauses(conn) == 0
    assert _stored_pauses(engine) == expected
    with engine.connect() as conn:
        counts: dict[str, int] = dict(
            conn.execute(sa.text("SELECT commitment_id, pause_count FROM commitments")).fetchall()
        )
    assert counts == {"C1": 1, "C2": 1, "C3": 0, "C5": 0, "C6": 0}
    pd.testing.assert_frame_equal(_commitments(engine), dates)


def test_init_finds_no_pauses_missing_without_standards(engine: sa.Engine, tmp_path: Path) -> None:
    """A database loaded without policies has no covered commitment: `etl init` stores
    nothing and says nothing (it used to write pause_count 0 into every commitment and
    report them all as upgraded, on the first `make run` of the sample). Once policies
    arrive, the refresh stores every commitment's count."""
    from etl.standards import store_missing_pauses

    load_files(engine, [_write(tmp_path / "plain", commitments=COMMITMENTS, events=EVENTS)],
               tz="Europe/Madrid")  # fmt: skip
    with engine.begin() as conn:
        assert store_missing_pauses(conn) == 0
        counts = conn.execute(sa.text("SELECT pause_count FROM commitments")).fetchall()
    assert counts and {c for (c,) in counts} == {None}
    load_files(engine, [_write(tmp_path / "std", calendars=CALENDARS, holidays=HOLIDAYS,
                               policies=POLICIES)], tz="Europe/Madrid")  # fmt: skip
    with engine.connect() as conn:
        counts = conn.execute(sa.text("SELECT pause_count FROM commitments")).fetchall()
        assert store_missing_pauses(conn) == 0
    assert None not in {c for (c,) in counts}


def test_unknown_country_or_subdivision_is_rejected(engine: sa.Engine, tmp_path: Path) -> None:
    cal = (
        "calendar,weekday,start,end,country,subdivision\n"
        "a,1,09:00,17:00,XX,\n"
        "b,1,09:00,17:00,ES,ZZ\n"
        "c,1,09:00,17:00,es,md\n"
    )
    folder = _write(tmp_path / "places", calendars=cal)
    report = load_files(engine, [folder], tz="Europe/Madrid")
    got = {(r.reject.row_number, r.reject.column) for r in report.rejects}
    assert got == {(2, "country"), (3, "subdivision")}
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT calendar, country, subdivision FROM calendars"))
        assert [tuple(r) for r in rows] == [("c", "ES", "MD")]  # codes upper-cased
