"""`python -m etl` as a user runs it: real subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from etl.cli import spreadsheet_safe

ROOT = Path(__file__).resolve().parents[2]
COMMITMENTS = (
    "commitment_id,title,process,customer,requested_at,due_at\n"
    "C1,Oferta,Ventas,Acme,2026-01-05,2026-01-10\n"
    "C2,=1+2,Ventas,Acme,2026-01-05,2026-01-12\n"
)
EVENTS = (
    "commitment_id,stage,at\n"
    "C1,need,2026-01-05 09:00\n"
    "C9,need,2026-01-05 09:00\n"
    "=cmd|' /C calc'!A0,need,2026-01-05 09:00\n"
)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("ESLABON_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "etl", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
        check=False,
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "commitments.csv").write_text(COMMITMENTS, encoding="utf-8")
    (folder / "events.csv").write_text(EVENTS, encoding="utf-8")
    return folder


def test_load_json_shape_and_batches_and_rejects(db_url: str, files: Path) -> None:
    init = run("init", "--db", db_url)
    assert init.returncode == 0, init.stderr
    done = run("load", str(files), "--db", db_url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "batch_id": 1,
        "files": [
            {
                "path": str(files / "commitments.csv"),
                "kind": "commitments",
                "read": 2,
                "new": 2,
                "changed": 0,
                "unchanged": 0,
                "rejected": 0,
            },
            {
                "path": str(files / "events.csv"),
                "kind": "events",
                "read": 3,
                "new": 1,
                "changed": 0,
                "unchanged": 0,
                "rejected": 2,
            },
        ],
        "warnings": [],
    }
    human = run("load", str(files / "events.csv"), "--db", db_url)
    assert human.returncode == 0
    assert "batch 2 loaded" in human.stdout
    assert "see them all: python -m etl rejects 2" in human.stdout
    assert "row 3: commitment_id 'C9' is not a known commitment" in human.stdout

    batches = run("batches", "--db", db_url)
    assert batches.returncode == 0
    lines = batches.stdout.splitlines()
    assert lines[0].split() == [
        "batch_id", "started_at", "finished_at", "status", "loaded_by", "files",
        "read", "new", "changed", "unchanged", "rejected",
    ]  # fmt: skip
    assert lines[1].split()[-6:] == ["2", "5", "3", "0", "0", "2"]
    assert lines[2].split()[-6:] == ["1", "3", "0", "0", "1", "2"]

    rejects = run("rejects", "1", "--db", db_url)
    assert rejects.returncode == 0
    assert len(rejects.stdout.splitlines()) == 2

    as_csv = run("rejects", "1", "--csv", "--db", db_url)
    assert as_csv.returncode == 0
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0] == [
        "batch_id", "file", "record_kind", "row_number", "problem_column", "reason",
        "commitment_id", "stage", "at",
    ]  # fmt: skip
    assert rows[1][:4] == ["1", str(files / "events.csv"), "events", "3"]
    assert rows[1][6:] == ["C9", "need", "2026-01-05 09:00"]
    # a formula in a cell is neutralised, in the raw column and inside the reason
    assert rows[2][6] == "'=cmd|' /C calc'!A0"
    assert rows[2][5].startswith("commitment_id")
    assert len(rows) == 3


def test_strict_load_exits_1_and_writes_nothing(db_url: str, files: Path) -> None:
    done = run("load", str(files), "--db", db_url, "--strict", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["batch_id"] is None
    assert run("batches", "--db", db_url).stdout.strip() == "no batches loaded yet"


def test_a_load_that_rejects_every_row_fails_without_strict(db_url: str, tmp_path: Path) -> None:
    """Issue 14, item 4: every row rejected is a failed load (exit 3), with the summary."""
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "commitments.csv").write_text(
        "commitment_id,process,customer,requested_at,due_at\n"
        "C1,Ventas,Acme,05/03/2026,06/03/2026\n"  # day or month first? nothing says
        "C2,Ventas,Acme,not a date,2026-01-10\n",
        encoding="utf-8",
    )
    human = run("load", str(folder), "--db", db_url)
    assert human.returncode == 3, human.stderr
    assert "batch 1 loaded" in human.stdout  # the log is written: the rejects can be listed
    assert "commitments.csv (commitments) row 2: requested_at '05/03/2026' could be" in (
        human.stdout
    )
    assert f"failed: every row of {folder / 'commitments.csv'} (commitments) was rejected" in (
        human.stderr
    )
    assert "warning: " in human.stdout and "every one of its 2 row(s) was rejected" in human.stdout
    as_json = run("load", str(folder), "--db", db_url, "--json")
    assert as_json.returncode == 3
    payload = json.loads(as_json.stdout)
    assert payload["files"][0]["rejected"] == 2
    assert [(w["code"], w["params"]) for w in payload["warnings"]] == [
        ("all_rejected", {"rows": 2})
    ]
    # one good row is a load (rejects are reported, the status is 0, as before)
    (folder / "commitments.csv").write_text(
        "commitment_id,process,customer,requested_at,due_at\n"
        "C1,Ventas,Acme,2026-03-05,2026-03-06\nC2,Ventas,Acme,not a date,2026-01-10\n",
        encoding="utf-8",
    )
    assert run("load", str(folder), "--db", db_url).returncode == 0


def test_unknown_process_loads_with_a_warning_in_output_and_log(
    db_url: str, tmp_path: Path
) -> None:
    """Issue 14, item 5: a commitment naming a process not in the processes list."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "processes.csv").write_text(
        "process,stage_order\nVentas,1\nCompras,2\n", encoding="utf-8"
    )
    (folder / "commitments.csv").write_text(
        "commitment_id,process,customer,requested_at,due_at\n"
        "C1,Ventas,Acme,2026-03-05,2026-03-06\n"
        "C2,Ventaz,Acme,2026-03-05,2026-03-06\n"
        "C3,Ventaz,Acme,2026-03-05,2026-03-06\n"
        "C4,Logística,Acme,2026-03-05,2026-03-06\n",
        encoding="utf-8",
    )
    done = run("load", str(folder), "--db", db_url)
    assert done.returncode == 0, done.stderr
    assert (
        f"warning: {folder / 'commitments.csv'} (commitments): 3 row(s) name process(es) not "
        "in the processes list: 'Logística', 'Ventaz'; they are loaded"
    ) in done.stdout
    from etl.db import create_db_engine
    from etl.load import load_warnings_frame

    engine = create_db_engine(db_url)
    try:
        with engine.connect() as conn:
            log = load_warnings_frame(conn)
    finally:
        engine.dispose()
    assert log[["batch_id", "kind", "code"]].values.tolist() == [
        [1, "commitments", "unknown_process"]
    ]
    assert json.loads(log["params"].iloc[0]) == {"processes": "'Logística', 'Ventaz'", "rows": 3}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["load", "missing.csv"], "error: missing.csv: no such file or folder"),
        (
            ["load", "in/commitments.csv", "--mapping", "nope.toml"],
            "error: mapping nope.toml: file not found",
        ),
    ],
)
def test_errors_are_one_line_and_exit_2(
    tmp_path: Path, files: Path, args: list[str], expected: str
) -> None:
    db = f"duckdb:///{tmp_path / 'x.duckdb'}"
    args = [a if not a.startswith("in/") else str(files / a[3:]) for a in args]
    args = [str(tmp_path / a) if a == "missing.csv" else a for a in args]
    expected = expected.replace("missing.csv", str(tmp_path / "missing.csv"))
    done = run(*args, "--db", db)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [done.stderr.strip()]
    assert done.stderr.strip().startswith(expected)
    assert "Traceback" not in done.stderr


def test_unknown_mapping_key_is_one_line(tmp_path: Path, files: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text('[commitments.columns]\ncommitment_id = "id"\n[commitments.colour]\nx = 1\n')
    done = run("load", str(files / "commitments.csv"), "--mapping", str(mapping), "--db",
               f"duckdb:///{tmp_path / 'x.duckdb'}")  # fmt: skip
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "colour" in done.stderr and "Traceback" not in done.stderr


def test_unreachable_database_is_one_line(files: Path) -> None:
    done = run("load", str(files), "--db", "postgresql://nobody@127.0.0.1:1/x")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error: database postgresql+psycopg://nobody@127.0.0.1:1/x")
    assert "Traceback" not in done.stderr


def test_db_url_from_the_environment(tmp_path: Path, files: Path) -> None:
    db = tmp_path / "env.duckdb"
    done = run("load", str(files / "commitments.csv"), env={"ESLABON_DB_URL": f"duckdb:///{db}"})
    assert done.returncode == 0, done.stderr
    assert db.exists()


def test_sample_then_load(tmp_path: Path) -> None:
    out = tmp_path / "sample"
    made = run("sample", str(out), "--commitments", "200", "--seed", "3")
    assert made.returncode == 0, made.stderr
    assert (out / "commitments.csv").exists() and (out / "dataset.toml").exists()
    done = run("load", str(out), "--db", f"duckdb:///{tmp_path / 's.duckdb'}", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    commitments = next(f for f in report["files"] if f["kind"] == "commitments")
    assert commitments["read"] == 200 and commitments["new"] == 200
    for f in report["files"]:
        assert f["read"] == f["new"] + f["changed"] + f["unchanged"] + f["rejected"]


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+34 600", "'+34 600"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("Acme", "Acme"),
        (5, 5),
        ("", ""),
    ],
)
def test_spreadsheet_safe(value: object, safe: object) -> None:
    assert spreadsheet_safe(value) == safe
