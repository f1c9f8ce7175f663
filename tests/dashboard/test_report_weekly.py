"""The weekly pack: self-contained, escaped HTML; a workbook with one sheet per table,
formulas neutralised; the command line picks the format from the extension."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pypdf
import pytest
import sqlalchemy as sa
from openpyxl.cell.cell import Cell

from dashboard.metrics.definitions import HEADLINE_KPIS
from dashboard.metrics.filters import MetricFilter
from dashboard.records.actions import create_action
from dashboard.records.targets import set_target
from dashboard.report.cli import main
from dashboard.report.weekly import review_html, review_xlsx
from dashboard.services.review import WeeklyReview, weekly_review
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
    assert "25,0\u00a0%" in page and "-75,0 pp" in page and "90,0\u00a0%" in page
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
        "Trend",
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
    # the rate stays a 0..1 number shown in %; its change is in percentage points
    assert on_time[1] == pytest.approx(0.25) and on_time[3] == pytest.approx(-75.0)
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
    assert main(["weekly", *common, "--out", str(tmp_path / "w.pdf")]) == 0
    assert pypdf.PdfReader(tmp_path / "w.pdf").pages[0].extract_text().count(WEEK) >= 1
    assert main(["weekly", *common, "--out", str(tmp_path / "w.docx")]) == 2
    assert main(["weekly", "--week", "2026-W60", "--db", str(db), "--out", str(html_out)]) == 2
    assert main(["weekly", "--week", WEEK, "--db", str(tmp_path / "no.duckdb"),
                 "--out", str(html_out)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert ".html, .pdf or .xlsx" in err and "2026-W60" in err and "no database file" in err
    assert "Traceback" not in err


# --- the workbook's formats ------------------------------------------------------------------


def _review(engine: sa.Engine) -> WeeklyReview:
    _seed(engine)
    with engine.connect() as conn:
        return weekly_review(conn, WEEK, AS_OF)


def test_workbook_formats_every_column(engine: sa.Engine) -> None:
    book = openpyxl.load_workbook(io.BytesIO(review_xlsx(_review(engine), "en")))
    kpis = book["KPIs"]
    by_label = {row[0].value: row for row in kpis.iter_rows(min_row=2)}
    # the registry's kinds: a rate in %, its change in pp; a count whole; a number 1 decimal
    rate = by_label["On-time rate"]
    assert rate[1].number_format == "0.0%" and rate[4].number_format == "0.0%"
    assert rate[4].value == pytest.approx(0.9)
    assert rate[3].number_format == '+0.0" pp";-0.0" pp";0.0" pp"'
    assert by_label["Breaches"][1].number_format == "#,##0"
    assert by_label["Breaches"][1].value == 3
    assert by_label["Median delay (days)"][1].number_format == "#,##0.0"
    assert by_label["Median delay (days)"][1].value == pytest.approx(2.0)
    # no number cell anywhere is left "General"; dates are real dates with a date format
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.b for c in ws[1]), ws.title
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, (int, float)):
                    assert cell.number_format != "General", (ws.title, cell.coordinate)
    breached = book["Breached"]
    header = [c.value for c in breached[1]]
    due = breached.cell(row=2, column=header.index("Due") + 1)
    assert isinstance(due, Cell) and due.is_date and due.number_format == "yyyy-mm-dd hh:mm"
    # U1, as in tests/dashboard/world.py
    assert isinstance(due.value, datetime) and due.value.isoformat() == "2026-11-16T10:00:00"
    delay = breached.cell(row=2, column=header.index("Delay (days)") + 1)
    assert delay.value == pytest.approx(2.0) and delay.number_format == "#,##0.0"
    # widths follow the content: the title column is wider than the default 8.43
    assert breached.column_dimensions["B"].width > 12


def test_workbook_traffic_light_and_native_trend_chart(engine: sa.Engine) -> None:
    book = openpyxl.load_workbook(io.BytesIO(review_xlsx(_review(engine), "es")))
    kpis = book["Indicadores"]
    rules = {cf.sqref: list(cf.rules) for cf in kpis.conditional_formatting}
    formulas = sorted(r.formula[0] for rs in rules.values() for r in rs)
    assert formulas == ['"! Cerca de la meta"', '"✓ En meta"', '"✗ Fuera de meta"']
    # the light column of every headline KPI (21 with the service standards')
    assert all(str(s) == f"G2:G{len(HEADLINE_KPIS) + 1}" for s in rules)
    fills = {r.formula[0]: r.dxf.fill.bgColor.rgb for rs in rules.values() for r in rs}
    assert fills['"✗ Fuera de meta"'].endswith("FFC7CE")
    # the trend: a native line chart over the sheet's own cells, with the target line
    trend = book["Tendencia"]
    # openpyxl keeps a sheet's charts in a private list, which its stubs leave out
    charts = trend._charts  # type: ignore[attr-defined]
    assert len(charts) == 1
    chart = charts[0]
    assert chart.tagname == "lineChart" and len(chart.series) == 2
    refs = [s.val.numRef.f for s in chart.series]
    assert refs == ["Tendencia!$B$2:$B$9", "Tendencia!$C$2:$C$9"]
    weeks = [r[0] for r in trend.iter_rows(min_row=2, values_only=True)]
    assert len(weeks) == 8 and isinstance(weeks[-1], datetime)
    assert weeks[-1].date().isoformat() == "2026-11-09"
    assert trend["B2"].number_format == "0.0%" and trend["A2"].number_format == "yyyy-mm-dd"


# --- the PDF ------------------------------------------------------------------------------------


def test_pdf_pages_header_and_registry_formats(engine: sa.Engine) -> None:
    from dashboard.report.weekly_pdf import review_pdf

    reader = pypdf.PdfReader(io.BytesIO(review_pdf(_review(engine), "es")))
    pages = [p.extract_text() for p in reader.pages]
    # KPIs + trend, then one page per section (roots, breached, at risk, actions)
    assert len(pages) == 5
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # landscape
    assert round(float(reader.pages[0].mediabox.width)) == 842  # A4: 297 mm
    for n, page in enumerate(pages, start=1):  # header and footer: week, filter, page
        assert "Revisión semanal 2026-W47 · Del 16/11/2026 al 22/11/2026" in page
        assert f"Página {n} de 5" in page
        assert "al 20/11/2026 12:00" in page and "Eslabón · Generado" in page
    first = pages[0]
    assert "Cumplimiento en plazo" in first and "Tasa de propagación" in first
    # the cards' "25,0\u00a0%": pypdf reads the no-break space back as a space
    assert "25,0 %" in first and "-75,0 pp" in first and "90,0 %" in first
    assert "✗ Fuera de meta" in first
    assert "Cumplimiento a tiempo por semana" in first  # the trend chart's title
    sections = ["Quiebres raíz", "Compromisos incumplidos", "En riesgo con vencimiento",
                "Acciones"]  # fmt: skip
    for page, title in zip(pages[1:], sections, strict=True):
        assert title in page
    assert "U2 · Compras" in pages[1]  # the root chart's bar label, drawn as text
    assert "Entrega lote 7" not in pages[1] and "@SUM(1+1) <b>bold</b>" in pages[2]
    assert EVIL in pages[4]  # user text printed as typed, never interpreted
    # charts are vector: no raster image anywhere
    assert all(not page.images for page in reader.pages)


def test_pdf_in_english_names_its_filter_and_keeps_to_it(engine: sa.Engine) -> None:
    from dashboard.report.weekly_pdf import review_pdf

    _seed(engine)
    with engine.connect() as conn:
        base = MetricFilter(as_of=AS_OF, processes=("Entrega",))
        review = weekly_review(conn, WEEK, AS_OF, base)
    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(review_pdf(review, "en"))).pages]
    assert all("stages: Entrega" in page for page in pages)
    text = "\n".join(pages)
    assert "Weekly review 2026-W47" in text and "On-time rate" in text
    # Entrega's week: D2 breached (1 of 1 due), G2 on time -> 50.0%
    assert "50.0%" in text and "D2" in text
    # other stages' commitments are not there (U2 only as the name of D2's upstream)
    assert not {"U1", "G1", "D1"} & set(re.findall(r"\b[A-Z]\d\b", text))
    assert not [t for t in ("Chapa", "Tornillos", "Armario A-12", "Globex secret") if t in text]


# --- the HTML pack's charts -----------------------------------------------------------------


def test_html_charts_leave_room_for_labels(engine: sa.Engine) -> None:
    from dashboard.charts import print_ready
    from dashboard.charts.kpi import root_impact_figure

    review = _review(engine)
    fig = print_ready(root_impact_figure(review.roots, "es", title="t"))
    assert fig.layout.xaxis.automargin is True and fig.layout.yaxis.automargin is True
    assert fig.layout.margin.l >= 60 and fig.layout.margin.b >= 50
    assert fig.layout.xaxis.title.standoff >= 10  # the axis title clears its ticks
    assert fig.layout.width == 1000 and fig.layout.autosize is False
    bar = fig.data[0]
    assert bar.cliponaxis is False and bar.textposition == "outside"
    page = review_html(review, "es")
    # both figures in the page carry that layout
    assert page.count('"automargin":true') >= 4 and '"cliponaxis":false' in page


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
    from dashboard.views.records_ui import lights_table

    _seed(engine)
    with engine.connect() as conn:
        review = weekly_review(conn, WEEK, AS_OF)
    table = lights_table(review.kpis, "en")
    current = dict(zip(review.kpis["kpi"], table.iloc[:, 1], strict=True))  # rows in order
    assert current["complaints_per_100"] == "— (No data: no complaints file has been loaded)"
    assert "No data" not in current["on_time_rate"]
