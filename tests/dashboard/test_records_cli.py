"""`python -m dashboard.records`: the sample's targets import, lights follow, bad files refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import default_as_of, headline_kpis
from dashboard.metrics.targets import kpi_target_status
from etl.db import create_db_engine

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dashboard.records", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_sample_targets_import_and_light_the_sample(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 's.duckdb'}"
    for cmd in (["init", "--db", url], ["load", "data/sample", "--db", url]):
        done = subprocess.run(
            [sys.executable, "-m", "etl", *cmd], cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    done = _run("import-targets", "data/sample-targets.csv", "--db", url, "--set-by", "qa")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "10 targets imported from data/sample-targets.csv"

    engine = create_db_engine(url, read_only=True)
    with engine.connect() as conn:
        f = MetricFilter(as_of=default_as_of(conn))
        kpis = {str(k): v for k, v in headline_kpis(conn, f).iloc[0].items()}
        lights = kpi_target_status(conn, f, kpis)
        authors = conn.execute(sa.text("SELECT DISTINCT set_by FROM targets")).fetchall()
    engine.dispose()
    assert authors == [("qa",)]
    # Independent check of the rule on the sample's own numbers: green meets the target,
    # amber is within the tolerance, red beyond (targets from data/sample-targets.csv).
    rules = {
        "on_time_rate": (0.88, "higher", 0.03),
        "propagation_rate": (0.5, "lower", 0.1),
        "csat_pct": (0.82, "higher", 0.05),
        "complaints_per_100": (1.5, "lower", 0.5),
    }
    for kpi, (target, better, tol) in rules.items():
        value = kpis[kpi]
        gap = (target - value) if better == "higher" else (value - target)
        expected = "green" if gap <= 0 else "amber" if gap <= tol else "red"
        assert lights[kpi] == expected, (kpi, value)

    exported = _run("export-targets", "--db", url)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines()[0].startswith("kpi,process,target_value")
    assert len(exported.stdout.splitlines()) == 11


def test_a_bad_targets_file_writes_nothing_and_names_the_row(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'b.duckdb'}"
    subprocess.run([sys.executable, "-m", "etl", "init", "--db", url], cwd=ROOT, check=True)
    bad = tmp_path / "t.csv"
    bad.write_text(
        "kpi,process,target_value,direction,amber_tolerance,valid_from\n"
        "on_time_rate,,0.9,higher,0.03,2026-01-01\n"
        "no_such_kpi,,1,higher,0,2026-01-01\n",
        encoding="utf-8",
    )
    done = _run("import-targets", str(bad), "--db", url)
    assert done.returncode == 1
    assert "row 3" in done.stderr and "kpi" in done.stderr
    engine = create_db_engine(url, read_only=True)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM targets")).scalar() == 0
    engine.dispose()
