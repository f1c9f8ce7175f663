"""The bad-file corpus end to end: each file gives its clear result and loses nothing.

The corpus is generated here (bytes written by the test), so what each file holds is
visible next to what must happen to it. Every case goes through `etl.cli.main`, the code
`python -m etl load` runs, on DuckDB and PostgreSQL; tests/etl/test_cli.py covers the
process boundary itself.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.cli import main
from etl.db import create_db_engine
from etl.load import load_files
from etl.records import EtlError

COMMITMENTS = (
    "commitment_id,title,process,customer,requested_at,due_at,delivered_at\n"
    "C1,Oferta,Ventas,Atención al Cliente,2026-01-05,2026-01-10,2026-01-09\n"
    "C2,Pedido,Logística,Señora Núñez,2026-01-05,2026-01-12,\n"
    "C3,Cierre,Postventa,Ayuntamiento €,2026-01-06,2026-01-15,\n"
)


def _xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    sheet.append(["commitment_id", "stage", "at"])
    sheet.append(["C1", "need", "2026-01-01"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def load(db_url: str, *paths: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    """Run `load --json`; returns (exit code, parsed JSON or {}, stderr)."""
    code = main(["load", *map(str, paths), "--db", db_url, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def stored(db_url: str, sql: str) -> list[tuple]:
    engine = create_db_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql)).fetchall()]
    finally:
        engine.dispose()


def assert_nothing_lost(report: dict) -> None:
    for f in report["files"]:
        assert f["read"] == f["new"] + f["changed"] + f["unchanged"] + f["rejected"], f


@pytest.mark.parametrize(
    "encoding", ["cp1252", "utf-8", "utf-8-sig", "utf-16"], ids=lambda e: f"enc-{e}"
)
def test_encodings_load_with_accents_intact(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    path = tmp_path / "commitments.csv"
    path.write_bytes(COMMITMENTS.encode(encoding))
    code, report, err = load(db_url, path, capsys=capsys)
    assert code == 0, err
    assert [(f["read"], f["new"], f["rejected"]) for f in report["files"]] == [(3, 3, 0)]
    assert stored(db_url, "SELECT customer FROM commitments ORDER BY commitment_id") == [
        ("Atención al Cliente",),
        ("Señora Núñez",),
        ("Ayuntamiento €",),
    ]


def test_spanish_locale_file_semicolons_day_first_decimal_comma(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "commitments.csv").write_bytes(COMMITMENTS.encode("utf-8"))
    path = tmp_path / "satisfaction.csv"
    path.write_bytes(
        "response_id;commitment_id;customer;answered_at;csat;nps\n"
        "R1;C1;Acme;05/02/2026 10:30;4,0;9\n"
        "R2;C2;Acme;31/01/2026;5;10\n".encode("cp1252")
    )
    code, report, err = load(db_url, tmp_path, capsys=capsys)
    assert code == 0, err
    assert report["files"][1] == {
        "path": str(path), "kind": "satisfaction", "read": 2, "new": 2, "changed": 0,
        "unchanged": 0, "rejected": 0,
    }  # fmt: skip
    from datetime import datetime

    assert stored(db_url, "SELECT answered_at, csat FROM satisfaction ORDER BY response_id") == [
        (datetime(2026, 2, 5, 10, 30), 4),
        (datetime(2026, 1, 31, 23, 59, 59), 5),
    ]


# (file name, content, expected (read, new, rejected) for the last file, reason fragments)
ROW_LEVEL_CASES: dict[str, tuple[str, str, tuple[int, int, int], list[str]]] = {
    "missing_columns": (
        "events.csv",
        "commitment_id,when\nC1,2026-01-01\nC2,2026-01-02\n",
        (2, 0, 2),
        ["missing required column(s) stage, at; its columns are: commitment_id, when"] * 2,
    ),
    "bad_dates": (
        "events.csv",
        "commitment_id,stage,at\nC1,need,2026-13-01\nC1,promise,32/01/2026\nC2,need,2026-01-03\n",
        (3, 1, 2),
        ["at '2026-13-01' is not a date", "at '32/01/2026' is not a date"],
    ),
    "duplicate_ids": (
        "commitments.csv",
        COMMITMENTS + "C2,Otra vez,Ventas,Acme,2026-01-05,2026-01-12,\n",
        (4, 3, 1),
        ["duplicate key commitment_id='C2': row 3 has the same key and is kept"],
    ),
    "cycles": (
        "dependencies.csv",
        "commitment_id,depends_on\nC2,C1\nC3,C2\nC1,C3\nC3,C3\n",
        (4, 2, 2),
        ["dependency cycle: C1 → C3 → C2 → C1", "dependency cycle: C3 → C3"],
    ),
    "unknown_references": (
        "notices.csv",
        "commitment_id,sent_at,channel\nC1,2026-01-08 09:00,email\nC404,2026-01-08 09:00,email\n",
        (2, 1, 1),
        ["commitment_id 'C404' is not a known commitment"],
    ),
    "header_only": ("events.csv", "commitment_id,stage,at\n", (0, 0, 0), []),
}


@pytest.mark.parametrize("case", list(ROW_LEVEL_CASES))
def test_row_level_problems_are_rejected_with_reasons(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    name, content, expected, reasons = ROW_LEVEL_CASES[case]
    folder = tmp_path / "batch"
    folder.mkdir()
    if name != "commitments.csv":
        (folder / "commitments.csv").write_text(COMMITMENTS, encoding="utf-8")
    (folder / name).write_text(content, encoding="utf-8")
    code, report, err = load(db_url, folder, capsys=capsys)
    # a file none of whose rows loads is a failed load (exit 3), with every row counted
    all_rejected = expected[0] > 0 and expected[1] == 0
    assert code == (3 if all_rejected else 0), err
    assert_nothing_lost(report)
    last = report["files"][-1]
    assert (last["read"], last["new"], last["rejected"]) == expected
    got = stored(
        db_url,
        "SELECT reason FROM rejected_rows ORDER BY row_number, reason",
    )
    assert len(got) == len(reasons)
    for (reason,), fragment in zip(got, reasons, strict=True):
        assert fragment in reason


def _truncated_xlsx() -> bytes:
    data = _xlsx_bytes()
    return data[: len(data) // 2]


UNREADABLE_CASES: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "zero_bytes": ("events.csv", lambda: b"", "the file is empty (0 bytes)"),
    "whitespace_only": ("events.csv", lambda: b"\n \r\n\t\n", "only whitespace"),
    "binary_named_csv": (
        "events.csv",
        lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        "it looks like a PNG image",
    ),
    "binary_with_nuls": ("events.csv", lambda: bytes(range(256)) * 8, "binary data"),
    "truncated_xlsx": ("events.xlsx", _truncated_xlsx, "not a readable .xlsx workbook"),
}


@pytest.mark.parametrize("case", list(UNREADABLE_CASES))
def test_unreadable_files_stop_the_batch_with_one_line(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    name, make, fragment = UNREADABLE_CASES[case]
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "commitments.csv").write_text(COMMITMENTS, encoding="utf-8")
    (folder / name).write_bytes(make())
    code, report, err = load(db_url, folder, capsys=capsys)
    assert code == 2
    assert report == {}
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert str(folder / name) in lines[0] and fragment in lines[0]
    assert "Traceback" not in err
    # nothing of the batch was written, not even the readable commitments
    engine = create_db_engine(db_url)
    try:
        if sa.inspect(engine).has_table("commitments"):
            assert stored(db_url, "SELECT count(*) FROM commitments") == [(0,)]
            assert stored(db_url, "SELECT count(*) FROM load_batches") == [(0,)]
    finally:
        engine.dispose()


def test_a_good_xlsx_loads(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "commitments.csv").write_text(COMMITMENTS, encoding="utf-8")
    (tmp_path / "events.xlsx").write_bytes(_xlsx_bytes())
    code, report, err = load(db_url, tmp_path, capsys=capsys)
    assert code == 0, err
    assert [(f["kind"], f["new"]) for f in report["files"]] == [("commitments", 3), ("events", 1)]


_fuzz_cell = st.one_of(
    st.sampled_from(["C1", "C2", "", "2026-01-05", "31/02/2026", "x", "=1+1", '"', ";", "\\."]),
    st.text(max_size=6),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(
        st.sampled_from(["commitment_id", "stage", "at", "actor", "extra", ""]),
        min_size=1,
        max_size=5,
    ),
    rows=st.lists(st.lists(_fuzz_cell, min_size=0, max_size=6), max_size=8),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "cp1252", "utf-8-sig"]),
)
def test_fuzzed_event_files_load_or_fail_cleanly(
    header: list[str], rows: list[list[str]], delimiter: str, encoding: str
) -> None:
    """Whatever the bytes: a clean EtlError, or a batch where read = loaded + rejected."""
    text = "\n".join(delimiter.join(r) for r in [header, *rows]) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "commitments.csv").write_text(COMMITMENTS, encoding="utf-8")
        (base / "events.csv").write_bytes(text.encode(encoding, errors="replace"))
        engine = create_db_engine(f"duckdb:///{base / 'f.duckdb'}")
        try:
            try:
                report = load_files(engine, [base])
            except EtlError as exc:
                assert str(exc).strip() and "\n" not in str(exc).strip()
                return
            for f in report.files:
                assert f.new is not None and f.changed is not None and f.unchanged is not None
                assert f.read == f.new + f.changed + f.unchanged + f.rejected
            with engine.connect() as conn:
                loaded = conn.execute(sa.text("SELECT count(*) FROM events")).scalar()
                rejected = conn.execute(
                    sa.text(
                        "SELECT count(DISTINCT coalesce(row_number, -1)) FROM rejected_rows "
                        "WHERE kind = 'events'"
                    )
                ).scalar()
            events = report.files[-1]
            assert loaded == events.new
            assert rejected == events.rejected
        finally:
            engine.dispose()
