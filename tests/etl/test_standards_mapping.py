"""Mappings reach real exports: priority from a source column with a value map, the
source system's own verdict carried and compared, a standards folder named by the
mapping loaded in the same batch — and the helpdesk log judged by shipped standards."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.standards import verdict_agreement, verdict_disagreements
from etl.load import load_files

ROOT = Path(__file__).resolve().parent.parent.parent

# A service desk's export: its own names, its priority words, its own made_sla verdict.
EXPORT = """Ticket;Opened;Solved;Urgency;Made SLA
T1;05/01/2026 09:00;05/01/2026 12:00;P1 - Urgent;yes
T2;05/01/2026 09:00;07/01/2026 12:00;P1 - Urgent;yes
T3;05/01/2026 09:00;08/01/2026 12:00;P3 - Low;no
T4;05/01/2026 09:00;05/01/2026 10:00;P3 - Low;yes
"""
MAPPING = """
description = "a service desk export with its own SLA verdict"
standards = "desk_standards"

[read]
delimiter = ";"

[commitments.columns]
commitment_id = "Ticket"
requested_at = "Opened"
delivered_at = "Solved"
priority = "Urgency"
source_on_time = "Made SLA"

[commitments.values.priority]
"P1 - Urgent" = "urgent"
"P3 - Low" = "low"

[commitments.constants]
process = "Soporte"
customer = "Acme"

[commitments.date_formats]
requested_at = "%d/%m/%Y %H:%M"
delivered_at = "%d/%m/%Y %H:%M"
"""
CALENDARS = "calendar,weekday,start,end\n" + "".join(f"desk,{d},09:00,17:00\n" for d in range(1, 6))
POLICIES = """policy_id,target_hours,calendar,process,priority,valid_from
urgent,8,desk,Soporte,urgent,2026-01-01
low,24,desk,Soporte,low,2026-01-01
"""


def test_priority_value_map_source_verdict_and_agreement(engine: sa.Engine, tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(EXPORT, encoding="utf-8")
    (tmp_path / "desk.toml").write_text(MAPPING, encoding="utf-8")
    folder = tmp_path / "desk_standards"
    folder.mkdir()
    (folder / "calendars.csv").write_text(CALENDARS, encoding="utf-8")
    (folder / "policies.csv").write_text(POLICIES, encoding="utf-8")
    report = load_files(
        engine, [tmp_path / "export.csv"], mapping=tmp_path / "desk.toml", tz="Europe/Madrid"
    )
    assert report.rows_rejected == 0
    assert {f.kind for f in report.files} == {"calendars", "policies", "commitments"}
    f = MetricFilter(as_of=datetime(2026, 1, 31))
    with engine.connect() as conn:
        table = verdict_agreement(conn, f)
        odd = verdict_disagreements(conn, f)
        rows = conn.execute(
            sa.text("SELECT commitment_id, priority, due_at FROM commitments ORDER BY 1")
        ).fetchall()
    # urgent 8 office hours from Mon 09:00 → Mon 17:00; low 24 h → Wed 17:00
    assert [tuple(r) for r in rows] == [
        ("T1", "urgent", datetime(2026, 1, 5, 17)),
        ("T2", "urgent", datetime(2026, 1, 5, 17)),
        ("T3", "low", datetime(2026, 1, 7, 17)),
        ("T4", "low", datetime(2026, 1, 7, 17)),
    ]
    # T1 both on time; T3 both breached; T4 both on time; T2: the desk says made, Eslabón
    # says breached (solved Wednesday, due Monday 17:00)
    cells = {(r.source_status, r.eslabon_status): r.commitments for r in table.itertuples()}
    assert cells == {
        ("on_time", "on_time"): 2,
        ("breach", "breach"): 1,
        ("on_time", "breach"): 1,
        ("breach", "on_time"): 0,
    }
    assert list(odd["commitment_id"]) == ["T2"]


def test_verdicts_command(engine: sa.Engine, db_url: str, tmp_path: Path) -> None:
    test_priority_value_map_source_verdict_and_agreement(engine, tmp_path)
    engine.dispose()
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.report", "verdicts", "--db", db_url,
         "--as-of", "2026-01-31"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    cells = {(c["source_status"], c["eslabon_status"]): c["commitments"] for c in out["agreement"]}
    assert cells[("on_time", "breach")] == 1 and cells[("on_time", "on_time")] == 2
    assert [d["commitment_id"] for d in out["disagreements"]] == ["T2"]
    assert out["disagreements"][0]["due_at"] == "2026-01-05T17:00:00"


# --- the helpdesk log with the shipped standards ------------------------------------

# Italy's public holidays in October–November 2012, typed here from the calendar (not
# from the holidays package the loader uses): 1 November (Ognissanti).
IT_OFF_2012 = {date(2012, 11, 1)}


def office_walk(start: datetime, hours: int, off: set[date]) -> datetime:
    """Minute by minute through Mon–Fri 09:00–13:00 and 14:00–18:00, skipping `off`.

    Walks from the start's minute; the seconds ride along (start and due both fall
    inside a window, so shifting by them changes nothing else)."""
    seconds = timedelta(seconds=start.second)
    t = start.replace(second=0)
    need, run = hours * 60, 0
    while True:
        m = t.hour * 60 + t.minute
        if t.isoweekday() <= 5 and t.date() not in off and (540 <= m < 780 or 840 <= m < 1080):
            run += 1
            if run == need:
                return t + timedelta(minutes=1) + seconds
        t += timedelta(minutes=1)


@pytest.mark.slow
def test_helpdesk_loads_with_shipped_standards_in_one_command(
    real_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "hd.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "etl", "load", str(real_data / "helpdesk_events.csv"),
         "--mapping", "helpdesk_standards", "--db", str(db)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    log = pd.read_csv(real_data / "helpdesk_events.csv")
    first_level = log.groupby("case")["service_level"].first()
    engine = sa.create_engine(f"duckdb:///{db}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT commitment_id, priority, policy_id, requested_at, due_at,"
                    " due_from_standard FROM commitments"
                )
            ).fetchall()
            waits = conn.execute(
                sa.text(
                    "SELECT count(*) FROM events WHERE commitment_id = 'Case 1' AND stage = 'Wait'"
                )
            ).fetchall()[0][0]
    finally:
        engine.dispose()
    columns = ["case", "priority", "policy", "requested", "due", "derived"]
    got = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    assert len(got) == 4580 and got["derived"].all()
    # every ticket's level is the one it opened with, and its policy is that level's
    expected = ("level-" + first_level.str.removeprefix("Value ")).sort_index()
    assert got.set_index("case")["priority"].sort_index().equals(expected.rename("priority"))
    assert (got["policy"] == "helpdesk-" + got["priority"]).all()
    # Case 1 (level 1: 160 office hours, never waiting) against the minute walk
    case1 = got[got["case"] == "Case 1"].iloc[0]
    assert waits == 0 and case1["priority"] == "level-1"
    assert case1["due"] == office_walk(case1["requested"], 160, IT_OFF_2012)
