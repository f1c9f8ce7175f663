"""`python -m dashboard.report process-map`: the process map as JSON or CSV (issue 14,
item 2), run as a user runs it, on DuckDB and PostgreSQL. Pairs worked out by hand."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl.load import load_files
from tests.dashboard.test_report_kpis import export

AS_OF = "2026-03-10T12:00"
COMMITMENTS = (
    "commitment_id,process,customer,requested_at,due_at\n"
    "INC1,Soporte,Acme,2026-02-01,2026-03-01\n"
    "INC2,Campo,Acme,2026-02-01,2026-03-01\n"
)
# INC1: New and Active share 10:00, Resolved and Closed share 11:00 (the file's order
# counts, not the stage names). INC2: a stage whose name a spreadsheet would run.
EVENTS = (
    "commitment_id,stage,at\n"
    "INC1,New,2026-02-01 10:00\n"
    "INC1,Active,2026-02-01 10:00\n"
    "INC1,Resolved,2026-02-01 11:00\n"
    "INC1,Closed,2026-02-01 11:00\n"
    "INC2,New,2026-02-01 09:00\n"
    "INC2,=cmd|' /C calc'!A0,2026-02-01 09:30\n"
    "INC2,Closed,2026-02-01 12:00\n"
)
EXPECTED = {
    ("New", "Active"): (1, 0.0),
    ("Active", "Resolved"): (1, 1.0),
    ("Resolved", "Closed"): (1, 0.0),
    ("New", "=cmd|' /C calc'!A0"): (1, 0.5),
    ("=cmd|' /C calc'!A0", "Closed"): (1, 2.5),
}


@pytest.fixture
def log_url(engine: sa.Engine, db_url: str, tmp_path: Path) -> str:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "commitments.csv").write_text(COMMITMENTS, encoding="utf-8")
    (folder / "events.csv").write_text(EVENTS, encoding="utf-8")
    assert load_files(engine, [folder]).rows_rejected == 0
    engine.dispose()  # DuckDB: release the file for the subprocess
    return db_url


def test_json_has_one_row_per_pair(log_url: str) -> None:
    result = export("process-map", "--db", log_url, "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert all(list(r) == ["source", "target", "count", "median_hours"] for r in rows)
    assert {(r["source"], r["target"]): (r["count"], r["median_hours"]) for r in rows} == EXPECTED
    only = export("process-map", "--db", log_url, "--as-of", AS_OF, "--stage", "Soporte")
    assert {(r["source"], r["target"]) for r in json.loads(only.stdout)} == {
        ("New", "Active"),
        ("Active", "Resolved"),
        ("Resolved", "Closed"),
    }


def test_csv_is_spreadsheet_safe(log_url: str) -> None:
    result = export("process-map", "--db", log_url, "--as-of", AS_OF, "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["source", "target", "count", "median_hours"]
    got = {(s, t): (int(c), float(m)) for s, t, c, m in rows[1:]}
    neutral = "'=cmd|' /C calc'!A0"
    assert got == {
        (s.replace("=cmd|' /C calc'!A0", neutral), t.replace("=cmd|' /C calc'!A0", neutral)): v
        for (s, t), v in EXPECTED.items()
    }


def test_bad_period_is_one_line_and_status_2(log_url: str) -> None:
    result = export("process-map", "--db", log_url, "--from", "2026-03-05", "--to", "2026-03-01")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "python -m dashboard.report process-map: error: --from 2026-03-05 is after --to 2026-03-01"
    ]
    assert io.StringIO(result.stdout).read() == ""
