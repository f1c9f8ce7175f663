"""Every CSV and Excel file Eslabón writes neutralises cells a spreadsheet would run.

The exports (found with `grep -rn "to_csv\\|xlsx\\|download_button\\|csv.writer"`):
rejects CSV (`python -m etl rejects --csv`, the Datos download: one writer), targets CSV
(Metas), notices CSV (Avisos), the weekly workbook (Revisión, `python -m dashboard.report
weekly --out x.xlsx`) and the KPI CSV (`python -m dashboard.report kpis --csv`). Each is
fed names, titles, comments and authors that start with `=`, `+`, `-`, `@`, a tab or a
carriage return, and every cell of the output is checked; the HTML review escapes text.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from dashboard.metrics.filters import MetricFilter
from dashboard.records import neutralised
from dashboard.records.actions import create_action
from dashboard.records.targets import set_target, targets_csv
from dashboard.report import kpis as kpi_report
from dashboard.report.weekly import review_html, review_xlsx
from dashboard.services.notice_drafts import notice_candidates, notices_csv
from dashboard.services.review import weekly_review
from etl import cli
from etl.exports import FORMULA_STARTS, spreadsheet_safe
from etl.load import validate_files
from etl.preview import rejects_csv, rejects_frame
from tests.dashboard.world import AS_OF, WEEK, load_chain_world

PAYLOADS = ("=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1")
SCRIPT = '<script>alert("x")</script>'


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def assert_cells_safe(cells: list[str], where: str) -> None:
    """No cell a spreadsheet would run: text never starts with a formula character
    (a plain number such as -0.5 is a number to a spreadsheet, not a formula)."""
    for cell in cells:
        if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
            assert _is_number(cell), f"{where}: unsafe cell {cell!r}"


def csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def xlsx_cells(data: bytes) -> list[object]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells: list[object] = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                cells.append(cell.value)
    return cells


def _hostile_world(engine: sa.Engine) -> None:
    """The chain world with every kind of user text starting like a formula."""
    load_chain_world(engine)
    with engine.begin() as conn:
        for cid, payload in zip(("D1", "D2", "G1", "G2"), PAYLOADS, strict=False):
            conn.execute(
                sa.text(
                    "UPDATE commitments SET title = :p, customer = :c, performer = :w "
                    "WHERE commitment_id = :id"
                ),
                {"p": payload, "c": f"{payload} customer", "w": f"{payload} {SCRIPT}", "id": cid},
            )
        set_target(
            conn, "on_time_rate", 0.9, "higher", 0.05, date(2026, 1, 1), PAYLOADS[0],
            note=PAYLOADS[3],
        )  # fmt: skip
        set_target(
            conn, "on_time_rate", 0.8, "higher", 0.05, date(2026, 2, 1), PAYLOADS[4],
            process=PAYLOADS[1], note=PAYLOADS[5],
        )  # fmt: skip
        create_action(conn, WEEK, f"{PAYLOADS[0]} {SCRIPT}", PAYLOADS[2], date(2026, 11, 27))


@given(st.text(max_size=40))
def test_the_neutraliser_makes_every_formula_start_inert(text: str) -> None:
    safe = spreadsheet_safe(text)
    assert isinstance(safe, str)
    assert not safe.startswith(FORMULA_STARTS)
    assert safe == text or safe == "'" + text  # nothing but the apostrophe is added
    assert (safe != text) == text.startswith(FORMULA_STARTS)


def test_one_neutraliser_everywhere() -> None:
    assert neutralised is spreadsheet_safe
    assert cli.spreadsheet_safe is spreadsheet_safe
    assert spreadsheet_safe(-0.5) == -0.5 and spreadsheet_safe(None) is None


def test_targets_csv(engine: sa.Engine) -> None:
    _hostile_world(engine)
    with engine.connect() as conn:
        text = targets_csv(conn)
    cells = csv_cells(text)
    assert_cells_safe(cells, "targets csv")
    for payload in (PAYLOADS[0], PAYLOADS[1], PAYLOADS[3]):  # typed notes are stripped
        assert "'" + payload in cells


def test_notices_csv(engine: sa.Engine) -> None:
    _hostile_world(engine)
    with engine.connect() as conn:
        candidates = notice_candidates(conn, MetricFilter(as_of=AS_OF))
    assert any(str(c).startswith(PAYLOADS) for c in candidates["customer"])
    cells = csv_cells(notices_csv(candidates, "es"))
    assert_cells_safe(cells, "notices csv")
    assert any(c.startswith("'") and c[1:].startswith(PAYLOADS) for c in cells)


def test_weekly_workbook_and_html(engine: sa.Engine) -> None:
    _hostile_world(engine)
    with engine.connect() as conn:
        review = weekly_review(conn, WEEK, AS_OF)
    cells = xlsx_cells(review_xlsx(review, "es"))
    assert_cells_safe([c for c in cells if isinstance(c, str)], "weekly workbook")
    assert f"'{PAYLOADS[0]} {SCRIPT}" in cells  # the action item, neutralised, as text
    page = review_html(review, "en")
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_rejects_csv_cli_and_datos(engine: sa.Engine) -> None:
    """One writer: the CLI's `rejects --csv` and the Datos download are the same bytes."""
    rows = "".join(
        f"{p},{p},Ventas,{p},2026-01-05,not a date\n".replace("\r", "\\r") for p in PAYLOADS
    )
    data = ("commitment_id,title,process,customer,requested_at,due_at\n" + rows).encode()
    report = validate_files(engine, [("commitments.csv", io.BytesIO(data))])
    frame = rejects_frame(report)
    assert len(frame) >= len(PAYLOADS)
    text = rejects_csv(frame)
    cells = csv_cells(text)
    assert_cells_safe(cells, "rejects csv")
    assert "'" + PAYLOADS[0] in cells and "'" + PAYLOADS[3] in cells
    out = io.StringIO()
    cli.write_rejects_csv(frame.reset_index(drop=True), out)
    assert out.getvalue() == text


def test_kpi_report_csv() -> None:
    out = io.StringIO()
    records = [{"customer": PAYLOADS[0], "on_time_rate": 0.5}]
    kpi_report.write_csv(records, ["customer", "on_time_rate"], out)
    assert_cells_safe(csv_cells(out.getvalue()), "kpi csv")
