"""The KPI export as a user runs it: a subprocess on a small hand-worked database."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.report.cli import main
from tests.metrics.test_kpis import WORLD_BY_PROCESS, WORLD_TOTALS, build_world

ROOT = Path(__file__).resolve().parent.parent.parent
AS_OF = "2026-03-10T12:00"


def export(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m dashboard.report ...` from the project root, as a user would."""
    env = {**os.environ, "ESLABON_TZ": "Europe/Madrid"}
    env.pop("ESLABON_DB_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "dashboard.report", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def world_url(engine: sa.Engine, db_url: str) -> str:
    """The world of tests/metrics/test_kpis.py in a database a subprocess can open."""
    build_world(engine)
    engine.dispose()  # DuckDB: release the file for the subprocess
    return db_url


def test_json_whole_and_by_process(world_url: str) -> None:
    whole = export("kpis", "--db", world_url, "--as-of", AS_OF)
    by_process = export("kpis", "--db", world_url, "--as-of", AS_OF, "--by", "process")
    assert whole.returncode == 0, whole.stderr
    assert whole.stderr == ""
    # exactly the keys of the issue, in order, with nulls for empty denominators, then the
    # reasons of KPIs whose input was never loaded (this world has every input)
    assert json.loads(whole.stdout) == {**WORLD_TOTALS, "reasons": {}}
    assert list(json.loads(whole.stdout)) == [*WORLD_TOTALS, "reasons"]
    assert by_process.returncode == 0, by_process.stderr
    expected = [
        {
            "process": row["group_key"],
            **{k: v for k, v in row.items() if k != "group_key"},
            "reasons": {},
        }
        for row in WORLD_BY_PROCESS
    ]
    assert json.loads(by_process.stdout) == expected
    assert "NaN" not in by_process.stdout


def test_by_stage_is_the_word_the_help_uses(world_url: str) -> None:
    """`--by stage` (the help's word) groups like `--by process`, keyed "stage"; `--stage`
    filters like `--process` (issue 14, item 7)."""
    by_stage = export("kpis", "--db", world_url, "--as-of", AS_OF, "--by", "stage")
    assert by_stage.returncode == 0, by_stage.stderr
    expected = [
        {
            "stage": row["group_key"],
            **{k: v for k, v in row.items() if k != "group_key"},
            "reasons": {},
        }
        for row in WORLD_BY_PROCESS
    ]
    assert json.loads(by_stage.stdout) == expected
    one = export(
        "kpis", "--db", world_url, "--as-of", AS_OF, "--by", "stage", "--stage", "Compras",
        "--format", "csv",
    )  # fmt: skip
    assert one.returncode == 0, one.stderr
    rows = list(csv.reader(io.StringIO(one.stdout)))
    assert rows[0][0] == "stage" and [r[0] for r in rows[1:]] == ["Compras"]


def test_csv_by_week_with_period_and_process(world_url: str) -> None:
    result = export(
        "kpis", "--db", world_url, "--as-of", AS_OF, "--by", "week", "--format", "csv",
        "--from", "2026-03-01", "--to", "31/03/2026", "--process", "Compras",
        "--process", "Logística",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["week", *WORLD_TOTALS, "reasons"]
    # Compras w1 w6 + Logística w4 in week 03-02: due 3, on time 1 (w4), breaches 2 (roots),
    # delays 2.0 and 4.5 -> median 3.25, p90 4.25; csat of w4 only (4/9); proactive 1/2.
    # w5 (Logística, due 03-20, at risk) in week 03-16. No customer commitments in either.
    assert rows[1] == [
        "2026-03-02", "3", "1", "2", "0", "0.3333333333333333", "3.25", "4.25", "2", "0", "0",
        "", "0", "1.0", "4.0", "100.0", "0.0", "0.5", "", "", "", "", "",
    ]  # fmt: skip
    assert rows[2] == [
        "2026-03-16", "0", "0", "0", "1", "", "", "", "0", "0", "0", "", "1", "", "", "", "",
        "", "", "", "", "", "",
    ]  # fmt: skip
    assert len(rows) == 3


def test_as_of_defaults_to_the_datasets(world_url: str, engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO dataset_meta (key, value) VALUES ('as_of', :v)"),
                     {"v": "2026-03-10T12:00:00"})  # fmt: skip
    engine.dispose()
    result = export("kpis", "--db", world_url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {**WORLD_TOTALS, "reasons": {}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kpis", "--by", "month"], "argument --by: invalid choice"),
        (["kpis", "--from", "2026-02-30"], "--from '2026-02-30' is not a date"),
        (["kpis", "--from", "2026-03-05", "--to", "2026-03-01"], "is after --to"),
        (["kpis", "--format", "xml"], "argument --format: invalid choice"),
        (["kpis", "--db", "{missing}"], "no database file at"),
        (["kpis", "--db", "{not_duckdb}"], "cannot use the database at"),
        (["kpis", "--db", "duckdb:///{empty}"], "cannot use the database at"),
        (["kpis", "--db", "oracle://nobody@nowhere/x"], "cannot open database"),
        (["nosuch"], "invalid choice: 'nosuch'"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_duckdb = tmp_path / "notes.duckdb"
    not_duckdb.write_text("not a database\n")
    empty = tmp_path / "empty.duckdb"
    sa.create_engine(f"duckdb:///{empty}").connect().close()  # a DuckDB file with no tables
    paths = {"missing": tmp_path / "missing.duckdb", "not_duckdb": not_duckdb, "empty": empty}
    try:
        status = main([a.format(**paths) for a in args])
    except SystemExit as exc:  # argparse exits by itself
        status = exc.code  # type: ignore[assignment]  # argparse exits with an int
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert message in lines[0]
    assert not (tmp_path / "missing.duckdb").exists()  # a typo never creates a database


def test_bad_database_in_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    result = export("kpis", "--db", str(tmp_path / "missing.duckdb"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"python -m dashboard.report kpis: error: no database file at {tmp_path}/missing.duckdb"
    )


def test_export_runs_on_the_real_receipt_log(real_data: Path, tmp_path: Path) -> None:
    db = tmp_path / "receipt.duckdb"
    load = subprocess.run(
        [sys.executable, "-m", "etl", "load", str(real_data / "receipt_coselog.csv"),
         "--mapping", "receipt_coselog", "--db", str(db)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert load.returncode == 0, load.stderr
    result = export("kpis", "--db", str(db), "--as-of", "2011-12-31")
    assert result.returncode == 0, result.stderr
    kpis = json.loads(result.stdout)
    assert list(kpis) == [*WORLD_TOTALS, "reasons"]
    # the receipt log holds no surveys, complaints, notices or customer promises: those
    # KPIs are null, each with its reason, never 0 (issue 14, item 6)
    assert kpis["reasons"] == {
        "csat_pct": "no_surveys_loaded",
        "csat_mean": "no_surveys_loaded",
        "nps": "no_surveys_loaded",
        "complaints_per_100": "no_complaints_loaded",
        "proactive_notice_rate": "no_notices_loaded",
        "customer_commitments_kept": "no_customer_commitments_loaded",
    }
    assert all(kpis[k] is None for k in kpis["reasons"])
    as_csv = export("kpis", "--db", str(db), "--as-of", "2011-12-31", "--format", "csv")
    header, line = list(csv.reader(io.StringIO(as_csv.stdout)))
    cells = dict(zip(header, line, strict=True))
    assert cells["complaints_per_100"] == "" and cells["proactive_notice_rate"] == ""
    assert cells["reasons"].split(";")[3:5] == [
        "complaints_per_100=no_complaints_loaded",
        "proactive_notice_rate=no_notices_loaded",
    ]
    engine = sa.create_engine(f"duckdb:///{db}")
    with engine.connect() as conn:
        # an independent count: every non-cancelled case due by the end of 2011 is in the
        # due population (due or delivered by as_of), the rest are pending
        due, later = conn.execute(
            sa.text(
                "SELECT COUNT(CASE WHEN known THEN 1 END), COUNT(CASE WHEN NOT known THEN 1 END) "
                "FROM (SELECT due_at < TIMESTAMP '2011-12-31 23:59:59' OR "
                "COALESCE(delivered_at <= TIMESTAMP '2011-12-31 23:59:59', FALSE) AS known "
                "FROM commitments WHERE NOT cancelled AND direction = 'to_customer') t"
            )
        ).one()
    engine.dispose()
    assert kpis["due"] == due > 1000
    assert kpis["pending"] == later
    assert kpis["on_time"] + kpis["breaches"] == kpis["due"]
    assert 0 <= kpis["on_time_rate"] <= 1
