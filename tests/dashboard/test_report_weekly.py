"""The weekly pack: self-contained, escaped HTML; a workbook with one sheet per table,
formulas neutralised; the command line picks the format from the extension."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from dashboard.records.actions import create_action
from dashboard.records.targets import set_target
from dashboard.report.__main__ import main
from dashboard.report.weekly import review_html, review_xlsx
from dashboard.review import weekly_review
from etl.db import create_db_engine
from etl.schema import create_schema
from tests.dashboard.world import AS_OF, WEEK, load_chain_world

EVIL = "<script>alert(1)</script>"


def _seed(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.begin() as conn:
        set_target(conn, "on_time_rate", 0.9, "higher", 0.05, date(2026, 1, 1), "Marta")
        create_action(conn, WEEK, EVIL, "=cmd|' /C calc'!A0", date(2026, 11, 27))
        conn.execute(sa.text("UPDATE commitments SET title = :t WHERE commitment_id = 'D2'"),
                     {"t": "@SUM(1+1) <b>bold</b>"})  # fmt: skip


def test_html_is_self_contained_and_escapes_user_text(engine: sa.Engine) -> None:
    _seed(engine)
    with engine.connect() as conn:
        review = weekly_review(conn, WEEK, AS_OF)
    page = review_html(review, "es")
    # no external resource of any kind
    assert not re.search(r"<script[^>]+src\s*=", page, re.I)
    assert not re.search(r"<link\b", page, re.I)
    assert not re.search(r"<(img|iframe)[^>]+src\s*=\s*[\"']?https?:", page, re.I)
    assert "@import" not in page
    assert "Plotly.newPlot" in page and len(page) > 1_000_000  # plotly.js is inside
    # user text escaped, never markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert EVIL not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    # the numbers of the hand-worked week, formatted the Spanish way
    assert "Revisión semanal 2026-W47" in page
    assert "25,0 %" in page and "-75,0 pp" in page and "90,0 %" in page
    assert "@media print" in page


def test_english_html(engine: sa.Engine) -> None:
    _seed(engine)
    with engine.connect() as conn:
        page = review_html(weekly_review(conn, WEEK, AS_OF), "en")
    assert "Weekly review 2026-W47" in page and "25.0%" in page and "-75.0 pp" in page


def test_workbook_one_sheet_per_table_and_formulas_neutralised(engine: sa.Engine) -> None:
    _seed(engine)
    with engine.connect() as conn:
        data = review_xlsx(weekly_review(conn, WEEK, AS_OF), "en")
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == [
        "KPIs",
        "Root breaches",
        "Breached",
        "At risk next week",
        "Action items",
    ]
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@"))]
    assert "'=cmd|' /C calc'!A0" in texts
    assert "'@SUM(1+1) <b>bold</b>" in texts
    kpis = book["KPIs"]
    header = [c.value for c in kpis[1]]
    assert header[:5] == ["KPI", "This week", "Previous week", "Change", "Target"]
    on_time = next(r for r in kpis.iter_rows(values_only=True) if r[0] == "On-time rate")
    assert on_time[1] == pytest.approx(0.25) and on_time[3] == pytest.approx(-0.75)
    assert on_time[6] == "✗ Off target"
    breached = book["Breached"]
    assert [r[0] for r in breached.iter_rows(min_row=2, values_only=True)] == ["U1", "U2", "D2"]


def test_command_line_writes_html_and_xlsx(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "w.duckdb"
    engine = create_db_engine(f"duckdb:///{db}")
    create_schema(engine)
    _seed(engine)
    engine.dispose()
    html_out, xlsx_out = tmp_path / "w.html", tmp_path / "w.xlsx"
    common = ["--week", WEEK, "--db", str(db), "--as-of", "2026-11-20T12:00"]
    assert main(["weekly", *common, "--out", str(html_out)]) == 0
    assert main(["weekly", *common, "--out", str(xlsx_out), "--lang", "en"]) == 0
    assert html_out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert openpyxl.load_workbook(xlsx_out).sheetnames[0] == "KPIs"
    capsys.readouterr()
    assert main(["weekly", *common, "--out", str(tmp_path / "w.pdf")]) == 2
    assert main(["weekly", "--week", "2026-W60", "--db", str(db), "--out", str(html_out)]) == 2
    assert main(["weekly", "--week", WEEK, "--db", str(tmp_path / "no.duckdb"),
                 "--out", str(html_out)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert ".html or .xlsx" in err and "2026-W60" in err and "no database file" in err
    assert "Traceback" not in err


def test_kpis_whose_inputs_were_never_loaded_say_so(engine: sa.Engine) -> None:
    """Issue 14, item 6: the chain world has no surveys, complaints or notices. Those rows
    of the pack are empty with the reason in words (and its code in the review), never
    0,0; the workbook has the reason in a column of its own."""
    _seed(engine)
    with engine.connect() as conn:
        review = weekly_review(conn, WEEK, AS_OF)
    reasons = dict(zip(review.kpis["kpi"], review.kpis["reason"], strict=True))
    assert reasons["complaints_per_100"] == "no_complaints_loaded"
    assert reasons["proactive_notice_rate"] == "no_notices_loaded"
    assert reasons["csat_pct"] == "no_surveys_loaded"
    assert reasons["on_time_rate"] is None
    current = dict(zip(review.kpis["kpi"], review.kpis["current"], strict=True))
    assert current["complaints_per_100"] is None and current["proactive_notice_rate"] is None
    page = review_html(review, "es")
    assert "— (Sin datos: no se ha cargado ningún fichero de reclamaciones)" in page
    english = review_html(review, "en")
    assert "— (No data: no notices have been loaded or recorded)" in english
    book = openpyxl.load_workbook(io.BytesIO(review_xlsx(review, "en")))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    column = header.index("Why it is empty")
    why = {row[0].value: row[column].value for row in sheet.iter_rows(min_row=2)}
    assert "No data: no complaints file has been loaded" in why.values()


def test_the_review_page_table_says_why_a_kpi_is_empty(engine: sa.Engine) -> None:
    """The Revisión page's KPI table (records_ui.lights_table) words the same reason."""
    from dashboard.pages.records_ui import lights_table

    _seed(engine)
    with engine.connect() as conn:
        review = weekly_review(conn, WEEK, AS_OF)
    table = lights_table(review.kpis, "en")
    current = dict(zip(review.kpis["kpi"], table.iloc[:, 1], strict=True))  # rows in order
    assert current["complaints_per_100"] == "— (No data: no complaints file has been loaded)"
    assert "No data" not in current["on_time_rate"]
