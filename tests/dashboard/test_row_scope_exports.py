"""Row-level access on the command line: `python -m dashboard.report ... --as-user NAME`.

Each export (KPI JSON and CSV, weekly pack HTML and Excel, calendar, tracking link) run
for the scoped user of tests/scope_world.py holds their rows only: the hand-worked
numbers, the same bytes as an unscoped run on the allowed rows alone, and no hidden id,
name or marker. A name the auth file does not know is refused, never "all rows".
On DuckDB and PostgreSQL (the `engine` fixture).
"""

from __future__ import annotations

import io
import json
import secrets
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from dashboard.access import auth
from dashboard.report.cli import main
from tests.scope_world import SCOPE, SECRETS, VISIBLE_IDS, delete_outside, load_scope_world

MARCH = ["--from", "2026-03-01", "--to", "2026-03-31"]


@pytest.fixture
def world(
    engine: sa.Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[sa.Engine, str]:
    load_scope_world(engine)
    path = tmp_path / "auth.yaml"
    data = auth.with_user({}, "sol", "viewer", auth.hash_password("sol's password!"), scope=SCOPE)
    data["oidc"] = {"emails": {"luz@example.com": {"role": "viewer", "stages": ["Ventas"],
                                                   "customers": ["Acme"]}}}  # fmt: skip
    auth.write_raw_config(path, data)
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(path))
    # the pack says when it was made: the same minute for every run, so bytes compare
    monkeypatch.setattr("dashboard.report.weekly.local_now", lambda: datetime(2026, 4, 1, 9))
    return engine, db_url


def _run(capsys: pytest.CaptureFixture, *argv: str) -> str:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def _exports(db: str, tmp_path: Path, capsys: pytest.CaptureFixture, *user: str) -> dict:
    """Every export of one run, as text (the workbook read cell by cell)."""
    out: dict[str, str] = {}
    out["kpis.json"] = _run(capsys, "kpis", "--db", db, *MARCH, *user)
    out["kpis_by_customer.csv"] = _run(
        capsys, "kpis", "--db", db, *MARCH, "--by", "customer", "--format", "csv", *user
    )
    out["kpis_by_process.json"] = _run(capsys, "kpis", "--db", db, *MARCH, "--by", "process", *user)
    for suffix in ("html", "xlsx"):
        target = tmp_path / f"weekly.{suffix}"
        _run(capsys, "weekly", "--week", "2026-W12", "--db", db, "--out", str(target), *user)
        if suffix == "html":
            out["weekly.html"] = target.read_text(encoding="utf-8")
        else:
            book = openpyxl.load_workbook(io.BytesIO(target.read_bytes()), read_only=True)
            out["weekly.xlsx"] = "\n".join(
                str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                for v in row if v is not None
            )  # fmt: skip
    for command in ("commitments", "process-map", "verdicts"):
        for fmt in ("json", "csv"):
            out[f"{command}.{fmt}"] = _run(
                capsys, command, "--db", db, *MARCH, "--format", fmt, *user
            )
    ics = tmp_path / "all.ics"
    _run(capsys, "calendar", "--db", db, "--out", str(ics), *user)
    lines = ics.read_text(encoding="utf-8").splitlines()
    out["all.ics"] = "\n".join(line for line in lines if not line.startswith("DTSTAMP"))
    return out


def test_every_export_holds_the_scoped_rows_only(
    world: tuple[sa.Engine, str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    engine, db = world
    engine.dispose()  # DuckDB: the report opens the file itself
    scoped = _exports(db, tmp_path, capsys, "--as-user", "sol")
    whole = json.loads(_run(capsys, "kpis", "--db", db, *MARCH))
    mine = json.loads(scoped["kpis.json"])
    assert (mine["due"], mine["breaches"], mine["root_breaches"]) == (3, 2, 1)
    assert mine["on_time_rate"] == pytest.approx(1 / 3)
    assert mine["propagation_rate"] == pytest.approx(0.5)
    assert mine["csat_pct"] == 0.5 and mine["complaints_per_100"] == pytest.approx(100 / 3)
    assert whole["due"] == 7  # the hidden rows are there for an unscoped run
    assert [r["process"] for r in json.loads(scoped["kpis_by_process.json"])] == ["Ventas"]
    for name, text in scoped.items():
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, (name, leaked)
    assert all(cid in scoped["all.ics"] for cid in VISIBLE_IDS)
    listed = {r["commitment_id"] for r in json.loads(scoped["commitments.json"])}
    assert listed and listed <= set(VISIBLE_IDS)
    assert "OK-V1" in scoped["weekly.html"] and "OK-V1" in scoped["weekly.xlsx"]
    # the OIDC e-mail of the same scope gets the same bytes
    assert _exports(db, tmp_path, capsys, "--as-user", "luz@example.com") == scoped
    # independent: an unscoped run on a database holding the allowed rows alone
    delete_outside(engine, SCOPE)
    engine.dispose()
    alone = _exports(db, tmp_path, capsys)
    assert alone == scoped


def test_unknown_user_or_foreign_customer_is_refused(
    world: tuple[sa.Engine, str], capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, db = world
    engine.dispose()
    assert main(["kpis", "--db", db, "--as-user", "nobody"]) == 2
    assert "nobody" in capsys.readouterr().err
    assert main(["kpis", "--db", db, "--as-user", "stranger@elsewhere.org"]) == 2
    capsys.readouterr()
    monkeypatch.setenv("ESLABON_SECRET", secrets.token_urlsafe(32))
    assert main(["tracking-link", "--customer", "Beta Corp", "--as-user", "sol"]) == 2
    assert "Beta Corp" not in capsys.readouterr().out
    assert main(["tracking-link", "--customer", "Acme", "--as-user", "sol"]) == 0
    assert "token=" in capsys.readouterr().out
