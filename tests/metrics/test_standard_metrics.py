"""Service-standard metrics on a hand-worked world, on DuckDB and PostgreSQL.

Office calendar Mon–Fri 09:00–13:00 and 15:00–18:00, 2026-01-06 a holiday; as_of is
Friday 2026-01-09 12:00. Every expected number is worked out in the comments.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import headline_kpis
from dashboard.metrics.standards import (
    at_risk_with_reasons,
    business_delays,
    elapsed_share,
    standards_summary,
)
from etl.load import load_files

ROOT = Path(__file__).resolve().parent.parent.parent
AS_OF = datetime(2026, 1, 9, 12)

CALENDARS = "calendar,weekday,start,end\n" + "".join(
    f"office,{d},09:00,13:00\noffice,{d},15:00,18:00\n" for d in range(1, 6)
)
HOLIDAYS = "calendar,day,name\noffice,2026-01-06,Reyes\n"
POLICIES = """policy_id,target_hours,calendar,process,priority,pause_stages,valid_from
support-high,8,office,Soporte,high,Waiting customer,2026-01-01
support-high,4,office,Soporte,high,Waiting customer,2026-01-07
support-any,16,office,Soporte,,,2026-01-01
logistics,48,,Logística,,,2026-01-01
"""
COMMITMENTS = """commitment_id,process,customer,priority,requested_at,due_at,delivered_at,cancelled
C1,Soporte,Acme,high,2026-01-05 12:00,,2026-01-07 16:00,
C2,Soporte,Acme,high,2026-01-07 09:00,,,
C3,Soporte,Beta,low,2026-01-05 12:00,,2026-01-09 10:00,
C5,Soporte,Acme,high,2026-01-05 12:00,2026-01-06 10:00,,
C6,Logística,Acme,,2026-01-05 12:00,,,
C7,Soporte,Acme,high,2026-01-09 09:00,,,
C8,Soporte,Beta,low,2026-01-09 09:00,,,
C9,Soporte,Acme,high,2026-01-09 09:00,,,
X1,Ventas,Acme,,2026-01-05 09:00,2026-01-08 18:00,2026-01-08 12:00,
X2,Ventas,=HYPERLINK(1),,2026-01-05 09:00,2026-01-08 18:00,,yes
"""
# C7 and C8 wait on C2, a breach: both at risk by the upstream rule too.
DEPENDENCIES = "commitment_id,depends_on\nC7,C2\nC8,C2\n"
EVENTS = """commitment_id,stage,at
C1,Open,2026-01-05 12:00
C1,Waiting customer,2026-01-07 09:00
C1,In progress,2026-01-07 10:30
C9,Waiting customer,2026-01-09 09:30
"""


@pytest.fixture
def world(engine: sa.Engine, tmp_path: Path) -> sa.Engine:
    folder = tmp_path / "std"
    folder.mkdir()
    for name, text in {
        "calendars": CALENDARS,
        "holidays": HOLIDAYS,
        "policies": POLICIES,
        "commitments": COMMITMENTS,
        "dependencies": DEPENDENCIES,
        "events": EVENTS,
    }.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    (folder / "dataset.toml").write_text('as_of = "2026-01-09T12:00:00"\n', encoding="utf-8")
    report = load_files(engine, [folder], tz="Europe/Madrid")
    assert report.rows_rejected == 0
    return engine


def test_business_delays_by_hand(world: sa.Engine) -> None:
    with world.connect() as conn:
        got = business_delays(conn, MetricFilter(as_of=AS_OF))
    delays = dict(zip(got["commitment_id"], got["business_delay_hours"], strict=True))
    assert delays == {
        "C2": 13.0,  # due Wed 13:00 (v2, 4 h): Wed 15–18, Thu 7 h, Fri 09–12
        "C3": 3.0,  # due Thu 16:00, delivered Fri 10:00: Thu 16–18 + Fri 09–10
        "C5": 17.0,  # explicit due Tue 10:00 (holiday): Wed 7, Thu 7, Fri 3
        "C6": 48.0,  # round the clock: Wed 12:00 → Fri 12:00
    }


def test_within_standard_and_delay_percentiles(world: sa.Engine) -> None:
    with world.connect() as conn:
        row = standards_summary(conn, MetricFilter(as_of=AS_OF)).iloc[0]
    # covered and due: C1 C2 C3 C5 C6; only C1 (delivered Wed 16:00 ≤ 16:30) within
    assert (row["covered_due"], row["within_standard"]) == (5, 1)
    assert row["within_standard_rate"] == pytest.approx(0.2)
    # delays 3, 13, 17, 48: median (13 + 17) / 2; p90 at 2.7 → 17 + 0.7 × 31
    assert row["median_business_delay_hours"] == pytest.approx(15.0)
    assert row["p90_business_delay_hours"] == pytest.approx(38.7)


def test_elapsed_share_and_at_risk_reasons(world: sa.Engine) -> None:
    f = MetricFilter(as_of=AS_OF)
    with world.connect() as conn:
        clock = elapsed_share(conn, f).set_index("commitment_id")
        risk = at_risk_with_reasons(conn, f)
        risk_half = at_risk_with_reasons(conn, f, share=0.1)
    # C7: 4 h target (v2), 09–12 run: 3 h = 75 % → at risk, 1 h left
    assert clock.loc["C7", "elapsed_hours"] == 3.0
    assert clock.loc["C7", "remaining_hours"] == 1.0
    assert clock.loc["C7", "elapsed_share"] == 0.75
    # C8: 16 h target, 3 h run; C9: paused since 09:30, 0.5 h of 4 h
    assert clock.loc["C8", "elapsed_share"] == pytest.approx(3 / 16)
    assert clock.loc["C9", "elapsed_hours"] == 0.5
    reasons = dict(zip(risk["commitment_id"], risk["reason"], strict=True))
    assert reasons == {"C7": "upstream_breach+elapsed_share", "C8": "upstream_breach"}
    reasons = dict(zip(risk_half["commitment_id"], risk_half["reason"], strict=True))
    assert reasons == {
        "C7": "upstream_breach+elapsed_share",
        "C8": "upstream_breach+elapsed_share",
        "C9": "elapsed_share",
    }
    with world.connect() as conn:
        # the KPI counts each once, whatever the share: C7, C8 / C7, C8, C9
        assert headline_kpis(conn, f).iloc[0]["at_risk"] == 2
        assert headline_kpis(conn, f, at_risk_share=0.1).iloc[0]["at_risk"] == 3


def test_kpi_export_carries_the_standards(world: sa.Engine) -> None:
    with world.connect() as conn:
        row = headline_kpis(conn, MetricFilter(as_of=AS_OF)).iloc[0]
    assert row["within_standard_rate"] == pytest.approx(0.2)
    assert row["median_business_delay_hours"] == pytest.approx(15.0)
    assert row["p90_business_delay_hours"] == pytest.approx(38.7)
    assert row["at_risk"] == 2
    # existing KPIs on derived due dates: due C1 C2 C3 C5 C6 X1; on time C1, X1
    assert (row["due"], row["on_time"], row["breaches"]) == (6, 2, 4)
    assert row["pending"] == 3


def test_kpi_command_prints_the_new_keys(world: sa.Engine, db_url: str) -> None:
    world.dispose()
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.report", "kpis", "--db", db_url,
         "--as-of", "2026-01-09 12:00"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["within_standard_rate"] == pytest.approx(0.2)
    assert out["p90_business_delay_hours"] == pytest.approx(38.7)


def test_commitment_list(world: sa.Engine) -> None:
    from dashboard.metrics.standards import commitments_with_standards

    with world.connect() as conn:
        rows = commitments_with_standards(conn, MetricFilter(as_of=AS_OF))
    got = rows.set_index("commitment_id")
    # C9 paused from 09:30 to as_of (12:00): 0.5 h + 12–13 + 15–17:30 → Fri 17:30
    assert list(got.index) == ["C5", "C6", "C2", "C1", "C3", "X1", "X2", "C7", "C9", "C8"]
    assert got.loc["C9", "due_at"] == datetime(2026, 1, 9, 17, 30)
    assert got.loc["C1", "status"] == "on_time"
    assert got.loc["C2", "status"] == "breach" and got.loc["C2", "business_delay_hours"] == 13.0
    assert got.loc["C2", "policy_id"] == "support-high" and got.loc["C2", "policy_version"] == 2
    assert got.loc["C5", "standard_due_at"] == datetime(2026, 1, 7, 13)
    assert got.loc["X2", "status"] == "cancelled"
    assert got["policy_id"]["X1"] is None and pd.isna(got["business_delay_hours"]["X1"])
    assert got.loc["C7", "at_risk_reason"] == "upstream_breach+elapsed_share"
    assert got.loc["C8", "at_risk_reason"] == "upstream_breach"
    assert got.loc["C9", "at_risk_reason"] is None
    # C6: Wed 12:00 → Fri 12:00 = 2 days late
    assert got.loc["C6", "delay_days"] == 2.0


def test_cumplimiento_list_names_the_standard(world: sa.Engine) -> None:
    """Cumplimiento's drill list carries the policy, version and standard due (C5: v1,
    8 h from Mon 12:00 over the Tuesday holiday → Wed 13:00), on both backends."""
    from dashboard.metrics.ontime import commitment_list

    with world.connect() as conn:
        got = commitment_list(conn, MetricFilter(as_of=AS_OF)).set_index("commitment_id")
    assert (got.loc["C5", "policy_id"], got.loc["C5", "policy_version"]) == ("support-high", 1)
    assert got.loc["C5", "standard_due_at"] == datetime(2026, 1, 7, 13)
    assert got.loc["C2", "policy_version"] == 2
    assert got["policy_id"]["X1"] is None and pd.isna(got["standard_due_at"]["X1"])


def test_commitments_command_json_and_csv(world: sa.Engine, db_url: str) -> None:
    world.dispose()
    base = [
        sys.executable,
        "-m",
        "dashboard.report",
        "commitments",
        "--db",
        db_url,
        "--as-of",
        "2026-01-09 12:00",
        "--process",
        "Soporte",
        "--process",
        "Ventas",
    ]
    done = subprocess.run(base, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    records = {r["commitment_id"]: r for r in json.loads(done.stdout)}
    assert "C6" not in records  # Logística filtered out
    assert records["C1"]["due_at"] == "2026-01-07T16:30:00"
    assert records["C1"]["policy_version"] == 1 and records["C1"]["status"] == "on_time"
    assert records["C2"]["business_delay_hours"] == 13.0
    done = subprocess.run([*base, "--format", "csv", "--from", "2026-01-08", "--to", "2026-01-08"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0][:3] == ["commitment_id", "process", "performer"]
    by_id = {r[0]: r for r in rows[1:]}
    assert sorted(by_id) == ["C3", "X1", "X2"]
    assert by_id["X2"][3] == "'=HYPERLINK(1)"  # formula made inert


def test_what_if_a_stricter_target(world: sa.Engine) -> None:
    from dashboard.metrics.standards import policy_versions, target_what_if

    with world.connect() as conn:
        versions = policy_versions(conn, AS_OF)
        summary, flips = target_what_if(conn, MetricFilter(as_of=AS_OF), "support-high", 7.5)
        same, none = target_what_if(conn, MetricFilter(as_of=AS_OF), "support-high", 8)
    in_force = versions[versions["in_force"]].set_index("policy_id")["version"].to_dict()
    assert in_force == {"support-high": 2, "support-any": 1, "logistics": 1}
    # support-high's standard due in the 13 weeks to as_of: C1 (Wed 16:30, delivered
    # 16:00, within), C2 (Wed 13:00, open: outside), C5 (Wed 13:00, open: outside);
    # C7 (due Fri 13:00) is not yet due. At 7.5 h for all of them C1 is due at 16:00
    # (its pause still counts), delivered at 16:00: still within; C2 and C5 stay outside.
    row = summary.iloc[0]
    assert (row["covered"], row["within_in_force"], row["within_proposed"]) == (3, 1, 1)
    assert flips.empty
    # at 7 h C1 is due at 15:30 and delivered at 16:00: it flips to outside
    with world.connect() as conn:
        summary, flips = target_what_if(conn, MetricFilter(as_of=AS_OF), "support-high", 7)
    assert summary.iloc[0]["rate_in_force"] == pytest.approx(1 / 3)
    assert summary.iloc[0]["rate_proposed"] == 0.0
    assert list(flips["commitment_id"]) == ["C1"]
    assert flips.iloc[0]["standard_due_proposed"] == pd.Timestamp("2026-01-07 15:30")
    assert (flips.iloc[0]["in_force"], flips.iloc[0]["proposed"]) == ("within", "outside")
    # the proposal equal to the targets in force of version 1 changes nothing for C1
    assert same.iloc[0]["within_proposed"] == 1 and none.empty


def test_one_commitments_standard_and_countdown(world: sa.Engine) -> None:
    from dashboard.metrics.standards import commitment_standard

    with world.connect() as conn:
        c7 = commitment_standard(conn, "C7", AS_OF)
        c9 = commitment_standard(conn, "C9", AS_OF)
        c1 = commitment_standard(conn, "C1", AS_OF)
        x1 = commitment_standard(conn, "X1", AS_OF)
    assert c7 is not None and (c7["policy_id"], c7["version"]) == ("support-high", 2)
    assert c7["remaining_hours"] == 1.0 and not c7["paused"]
    assert c7["standard_due_at"] == datetime(2026, 1, 9, 13) and c7["due_from_standard"]
    # C9 waits since 09:30: 0.5 h run, 3.5 h left, paused
    assert c9 is not None and c9["remaining_hours"] == 3.5 and c9["paused"]
    assert c1 is not None and c1["remaining_hours"] is None  # delivered
    assert x1 is None  # no standard covers Ventas


# --- pauses stored at load -----------------------------------------------------------

_STORED_PAUSES_SQL = """
SELECT commitment_id, paused_from, paused_until FROM commitment_pauses
ORDER BY commitment_id, paused_from
"""


def _stored_pauses(conn: sa.Connection) -> list[tuple[object, ...]]:
    return [tuple(r) for r in conn.execute(sa.text(_STORED_PAUSES_SQL)).fetchall()]


def test_the_load_stores_each_commitments_pauses(world: sa.Engine) -> None:
    """C1 waited Wed 09:00–10:30; C9 waits since Fri 09:30 (its latest event: no end
    stored, it ends at whoever evaluates). Every other commitment has none."""
    with world.connect() as conn:
        assert _stored_pauses(conn) == [
            ("C1", datetime(2026, 1, 7, 9), datetime(2026, 1, 7, 10, 30)),
            ("C9", datetime(2026, 1, 9, 9, 30), None),
        ]
        counts: dict[str, int] = dict(
            conn.execute(sa.text("SELECT commitment_id, pause_count FROM commitments")).fetchall()
        )
    assert counts == {c: 1 if c in ("C1", "C9") else 0 for c in counts}
    assert len(counts) == 10


def _load_events(engine: sa.Engine, folder: Path, text: str) -> None:
    folder.mkdir()
    (folder / "events.csv").write_text("commitment_id,stage,at\n" + text, encoding="utf-8")
    report = load_files(engine, [folder], tz="Europe/Madrid")
    assert report.rows_rejected == 0


def _numbers(conn: sa.Connection, f: MetricFilter) -> tuple[object, ...]:
    return (
        business_delays(conn, f).to_dict("list"),
        elapsed_share(conn, f).to_dict("list"),
        headline_kpis(conn, f).to_dict("list"),
        headline_kpis(conn, f, at_risk_share=0.1).to_dict("list"),
    )


def test_a_later_batchs_pauses_are_stored_and_give_the_rebuilt_numbers(
    world: sa.Engine, tmp_path: Path
) -> None:
    """A second batch: C2 (a breach since Wed 13:00) waits on the customer Thu 09:00–11:00,
    so its business delay at Fri 12:00 is Wed 15–18 (3 h) + Thu 7 h − 2 h paused + Fri
    09–12 (3 h) = 11 h (13 h without the pause). A third batch records an answer at Thu
    10:00: the pause shrinks to one hour, 12 h. Each time the numbers from the stored
    pauses equal those rebuilt from the events (pause_count NULL: not stored)."""
    f = MetricFilter(as_of=AS_OF)
    _load_events(
        world,
        tmp_path / "b2",
        "C2,Waiting customer,2026-01-08 09:00\nC2,In progress,2026-01-08 11:00\n",
    )
    for hours, pause_end in ((11.0, datetime(2026, 1, 8, 11)), (12.0, datetime(2026, 1, 8, 10))):
        if hours == 12.0:
            _load_events(world, tmp_path / "b3", "C2,Answered,2026-01-08 10:00\n")
        with world.connect() as conn:
            assert _stored_pauses(conn) == [
                ("C1", datetime(2026, 1, 7, 9), datetime(2026, 1, 7, 10, 30)),
                ("C2", datetime(2026, 1, 8, 9), pause_end),
                ("C9", datetime(2026, 1, 9, 9, 30), None),
            ]
            delays = business_delays(conn, f).set_index("commitment_id")
            assert delays.loc["C2", "business_delay_hours"] == hours
            stored = _numbers(conn, f)
        with world.begin() as conn:
            conn.execute(sa.text("UPDATE commitments SET pause_count = NULL"))
        with world.connect() as conn:
            assert _numbers(conn, f) == stored
        with world.begin() as conn:  # as the refresh left them
            conn.execute(
                sa.text(
                    "UPDATE commitments SET pause_count = CASE WHEN commitment_id IN"
                    " ('C1', 'C2', 'C9') THEN 1 ELSE 0 END"
                )
            )
    # median of 3, 12, 17, 48 (C2 now 12 h)
    with world.connect() as conn:
        assert headline_kpis(conn, f).iloc[0]["median_business_delay_hours"] == 14.5
