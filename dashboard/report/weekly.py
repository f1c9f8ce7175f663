"""`python -m dashboard.report weekly`: the weekly review as HTML, PDF or an Excel workbook.

The HTML file is self-contained (plotly.js embedded, CSS inline, no link to the
network), so it opens offline from an e-mail attachment and prints well (print CSS,
A4 landscape); its charts are laid out for a document (`charts.print_ready`), so no
label is clipped. The PDF (`weekly_pdf`) is drawn by ReportLab without a browser. Every
piece of user text (titles, names, action items) is HTML-escaped: an action item
`<script>` is shown, never run. The workbook (XlsxWriter) has one sheet per
table with Excel number formats, a trend sheet with a native chart, and neutralises text
that a spreadsheet would run as a formula.
"""

from __future__ import annotations

import argparse
import html
import io
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.io as pio
import xlsxwriter

from dashboard.charts import print_ready
from dashboard.charts.kpi import root_impact_figure, weekly_rate_figure
from dashboard.metrics.definitions import KPIS, RATE_KPIS
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import default_as_of
from dashboard.records import RecordError, iso_week_monday, local_now, neutralised
from dashboard.report import ReportError, add_user_argument, user_scope
from dashboard.report.kpis import (
    add_as_of_argument,
    add_db_argument,
    open_report_engine,
    parse_instant,
)
from dashboard.services.review import WeeklyReview, weekly_review
from dashboard.ui import theme
from dashboard.ui.i18n import (
    MISSING,
    fmt_date,
    fmt_datetime,
    fmt_int,
    fmt_kpi,
    fmt_kpi_delta,
    fmt_num,
    fmt_stored,
    norm_lang,
)
from dashboard.ui.texts import kpi_label, tr
from etl.language import in_language

COMMAND = "weekly"
HELP = "The weekly review of an ISO week as a self-contained HTML file, a PDF or a workbook."

Formatter = Callable[[object, str], str]


# --- value formatting -------------------------------------------------------------------


def _missing(value: Any) -> bool:  # a table cell
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_kpi(kpi: str, value: Any, lang: str) -> str:
    """A KPI value as the dashboard shows it: rates in %, counts whole, the rest 1 decimal."""
    if _missing(value):
        return MISSING
    return fmt_kpi(kpi, float(value), lang)


def format_kpi_or_reason(kpi: str, value: object, reason: object, lang: str) -> str:
    """A KPI value, or for an empty one whose input was never loaded, why ("no data" is
    not 0: issue 14, item 6)."""
    if _missing(value) and isinstance(reason, str) and reason:
        return f"{MISSING} ({tr(f'reason_{reason}', lang)})"
    return format_kpi(kpi, value, lang)


def format_kpi_delta(kpi: str, value: Any, lang: str) -> str:
    """A week-over-week change: percentage points for rates."""
    if _missing(value):
        return MISSING
    return fmt_kpi_delta(kpi, float(value), lang) or MISSING


def _text(value: object, lang: str) -> str:
    return MISSING if _missing(value) else str(value)


def _when(value: object, lang: str) -> str:
    return fmt_stored(value, lang, missing=MISSING)


def _day(value: object, lang: str) -> str:
    return fmt_stored(value, lang, missing=MISSING, with_time=False)


def _days(value: Any, lang: str) -> str:
    return MISSING if _missing(value) else fmt_num(float(value), lang, 1)


def _int(value: Any, lang: str) -> str:
    return MISSING if _missing(value) else fmt_int(float(value), lang)


def _status(value: object, lang: str) -> str:
    return MISSING if _missing(value) else tr(f"st_{value}", lang)


def _light(value: object, lang: str) -> str:
    return tr("status_none", lang) if _missing(value) else tr(f"status_{value}", lang)


def _action_status(value: object, lang: str) -> str:
    return MISSING if _missing(value) else tr(f"action_{value}", lang)


def _yes(value: object, lang: str) -> str:
    return in_language(("sí", "yes"), lang) if bool(value) else ""


# --- the tables, shared by HTML and Excel -------------------------------------------------

# (column, header key, formatter for HTML)
Column = tuple[str, str, Formatter]

ROOT_COLUMNS: tuple[Column, ...] = (
    ("root_id", "col_root", _text),
    ("process", "col_process", _text),
    ("performer", "col_performer", _text),
    ("customer", "col_customer", _text),
    ("due_at", "col_due", _when),
    ("delay_days", "col_delay", _days),
    ("impact", "col_impact", _int),
    ("external_customer_names", "col_external", _text),
)
BREACHED_COLUMNS: tuple[Column, ...] = (
    ("commitment_id", "col_commitment", _text),
    ("title", "col_title", _text),
    ("process", "col_process", _text),
    ("performer", "col_performer", _text),
    ("customer", "col_customer", _text),
    ("due_at", "col_due", _when),
    ("delivered_at", "col_delivered", _when),
    ("delay_days", "col_delay", _days),
    ("upstreams", "col_upstreams", _text),
)
AT_RISK_COLUMNS: tuple[Column, ...] = (
    ("commitment_id", "col_commitment", _text),
    ("title", "col_title", _text),
    ("process", "col_process", _text),
    ("performer", "col_performer", _text),
    ("customer", "col_customer", _text),
    ("due_at", "col_due", _when),
    ("breached_upstreams", "col_breached_upstreams", _text),
    ("predicted_delivery", "col_predicted", _when),
)
ACTION_COLUMNS: tuple[Column, ...] = (
    ("week", "action_week", _text),
    ("what", "action_what", _text),
    ("owner", "action_owner", _text),
    ("due_date", "action_due", _day),
    ("status", "action_status", _action_status),
    ("commitment_id", "action_commitment", _text),
    ("carried", "action_carried", _yes),
)


def _kpi_rows(review: WeeklyReview, lang: str) -> pd.DataFrame:
    """The KPI table with labels, for both renderers (numbers kept raw for Excel)."""
    frame = review.kpis.copy()
    frame.insert(0, "label", [kpi_label(k, lang) for k in frame["kpi"]])
    return frame


def _sections(review: WeeklyReview) -> list[tuple[str, pd.DataFrame, tuple[Column, ...]]]:
    """(title key, table, columns) of each table after the KPIs; the sheet key is
    the title key with `review_` replaced by `sheet_`."""
    return [
        ("review_roots", review.roots, ROOT_COLUMNS),
        ("review_breached", review.breached, BREACHED_COLUMNS),
        ("review_at_risk", review.at_risk_next_week, AT_RISK_COLUMNS),
        ("review_actions", review.actions, ACTION_COLUMNS),
    ]


# --- HTML ---------------------------------------------------------------------------------

_CSS = f"""
body {{ font-family: {theme.FONT_FAMILY}; color: #111; margin: 24px; font-size: 14px; }}
h1 {{ font-size: 24px; margin-bottom: 4px; }}
h2 {{ font-size: 18px; margin-top: 28px; border-bottom: 2px solid {theme.LIGHT_GREY}; }}
.meta {{ color: {theme.GREY}; }}
table {{ border-collapse: collapse; width: 100%; margin-top: 8px; }}
th, td {{ border: 1px solid {theme.LIGHT_GREY}; padding: 4px 8px; text-align: left;
         vertical-align: top; }}
th {{ background: #f3f3f3; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.light {{ display: inline-block; width: 0.8em; height: 0.8em; border-radius: 50%;
          margin-right: 4px; vertical-align: middle; border: 1px solid #555; }}
.empty {{ color: {theme.GREY}; font-style: italic; }}
.chart {{ page-break-inside: avoid; }}
@page {{ size: A4 landscape; margin: 12mm; }}
@media print {{
  body {{ margin: 0; font-size: 11px; }}
  h2 {{ page-break-after: avoid; }}
  tr, .chart {{ page-break-inside: avoid; }}
  thead {{ display: table-header-group; }}
}}
"""


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _html_table(frame: pd.DataFrame, columns: Sequence[Column], lang: str) -> str:
    if frame.empty:
        return f'<p class="empty">{_esc(tr("review_none", lang))}</p>'
    head = "".join(f"<th>{_esc(tr(key, lang))}</th>" for _, key, _ in columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for column, _, fmt in columns:
            value = row.get(column)
            numeric = fmt in (_days, _int)
            css = ' class="num"' if numeric else ""
            cells.append(f"<td{css}>{_esc(fmt(value, lang))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _light_html(status: object, lang: str) -> str:
    color = theme.STATUS_COLORS.get(str(status), theme.NO_STATUS_COLOR)
    dot = f'<span class="light" style="background:{_esc(color)}"></span>'
    return dot + _esc(_light(status, lang))


def _kpi_html(review: WeeklyReview, lang: str) -> str:
    heads = ("col_kpi", "review_current", "review_previous", "review_delta", "review_target",
             "review_status")  # fmt: skip
    head = "".join(f"<th>{_esc(tr(k, lang))}</th>" for k in heads)
    rows = []
    for _, row in _kpi_rows(review, lang).iterrows():
        kpi = row["kpi"]
        cells = [
            f"<td>{_esc(row['label'])}</td>",
            f'<td class="num">'
            f"{_esc(format_kpi_or_reason(kpi, row['current'], row.get('reason'), lang))}</td>",
            f'<td class="num">'
            f"{_esc(format_kpi_or_reason(kpi, row['previous'], row.get('reason'), lang))}</td>",
            f'<td class="num">{_esc(format_kpi_delta(kpi, row["delta"], lang))}</td>',
            f'<td class="num">{_esc(format_kpi(kpi, row["target_value"], lang))}</td>',
            f"<td>{_light_html(row['status'], lang)}</td>",
        ]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _charts_html(review: WeeklyReview, lang: str) -> list[str]:
    """The two charts as inline divs; plotly.js is embedded once, in the first."""
    trend = weekly_rate_figure(
        review.trend, lang, target=review.on_time_target, title=tr("review_trend", lang)
    )
    roots = root_impact_figure(review.chart_roots(), lang, title=tr("review_roots", lang))
    trend, roots = print_ready(trend), print_ready(roots)
    config = {"displayModeBar": False, "responsive": True}
    return [
        pio.to_html(trend, include_plotlyjs=True, full_html=False, div_id="trend", config=config),
        pio.to_html(roots, include_plotlyjs=False, full_html=False, div_id="roots", config=config),
    ]


def review_html(
    review: WeeklyReview,
    lang: str = "es",
    *,
    generated: datetime | None = None,
    charts: bool = True,
) -> str:
    """The whole review as one HTML document that needs nothing else to open or print.

    `charts=False` leaves out the interactive charts (and plotly.js): the e-mail body,
    which mail programs would not run anyway, and whose charts travel in the PDF."""
    lang = norm_lang(lang)
    title = tr("review_title", lang, week=review.week)
    period = tr(
        "review_period",
        lang,
        start=fmt_date(review.monday, lang),
        end=fmt_date(review.sunday, lang),
    )
    meta = tr(
        "review_generated",
        lang,
        when=fmt_datetime(generated or local_now(), lang),
        as_of=fmt_datetime(review.as_of, lang),
    )
    trend_chart, roots_chart = _charts_html(review, lang) if charts else ("", "")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        f'<p class="meta">{_esc(period)} · {_esc(review.scope.describe(lang))}</p>',
        f'<p class="meta">{_esc(meta)}</p>',
        f"<h2>{_esc(tr('review_kpis', lang))}</h2>",
        _kpi_html(review, lang),
    ]
    if charts:
        parts.append(f'<div class="chart">{trend_chart}</div>')
    for key, frame, columns in _sections(review):
        parts.append(f"<h2>{_esc(tr(key, lang))}</h2>")
        if charts and key == "review_roots" and not frame.empty:
            parts.append(f'<div class="chart">{roots_chart}</div>')
        parts.append(_html_table(frame, columns, lang))
    parts.append("</body></html>")
    return "\n".join(parts)


# --- Excel --------------------------------------------------------------------------------

# Excel number formats, by what a column holds (the KPI registry decides for KPI values).
XLSX_FORMATS: dict[str, str] = {
    "rate": "0.0%",
    "pp": '+0.0" pp";-0.0" pp";0.0" pp"',
    "count": "#,##0",
    "signed_count": "+#,##0;-#,##0;0",
    "number": "#,##0.0",
    "signed_number": "+#,##0.0;-#,##0.0;0.0",
    "datetime": "yyyy-mm-dd hh:mm",
    "date": "yyyy-mm-dd",
    "text": "@",
}
# Traffic-light fills (background, font) for the status column's conditional format.
_LIGHT_FILLS: dict[str, tuple[str, str]] = {
    "green": ("#C6EFCE", "#006100"),
    "amber": ("#FFEB9C", "#9C5700"),
    "red": ("#FFC7CE", "#9C0006"),
}


def _sheet_name(text: str, taken: set[str]) -> str:
    """A valid, unique sheet name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in text)[:31].strip() or "Sheet"
    name, n = cleaned, 2
    while name.lower() in taken:
        name = f"{cleaned[:28]} {n}"
        n += 1
    taken.add(name.lower())
    return name


def kpi_number_format(kpi: str, *, delta: bool = False) -> str:
    """The Excel format of a KPI value (or of its week-over-week change), from the registry:
    rates in % (changes in percentage points, stored ×100), counts whole, numbers with the
    KPI's declared decimals (as the cards show them)."""
    declared = KPIS.get(kpi)
    kind = declared.kind if declared is not None else "number"
    if kind == "rate":
        return XLSX_FORMATS["pp" if delta else "rate"]
    if kind == "count":
        return XLSX_FORMATS["signed_count" if delta else "count"]
    decimals = declared.decimals if declared is not None else 1
    number = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return f"+{number};-{number};{number.removeprefix('#,##')}" if delta else number


def _column_kind(fmt: Formatter) -> str:
    """The Excel format key of a table column, from the formatter the HTML uses."""
    if fmt is _when:
        return "datetime"
    if fmt is _day:
        return "date"
    if fmt is _days:
        return "number"
    if fmt is _int:
        return "count"
    return "text"


def _cell_value(value: Any, kind: str, fmt: Formatter, lang: str) -> object:
    """What goes into the cell: a datetime, a float, or neutralised text (None: blank)."""
    if _missing(value):
        return None
    if kind in ("datetime", "date"):
        stamp = pd.Timestamp(value)
        return stamp.to_pydatetime().replace(tzinfo=None, microsecond=0)
    if kind in ("number", "count"):
        return float(value)
    if fmt in (_action_status, _status, _yes):
        return neutralised(fmt(value, lang))
    return neutralised(str(value))


class _Sheet:
    """One worksheet being written: a bold frozen header row, widths that fit the text,
    and an autofilter; `write` keeps text as text (never a formula)."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, headers: Sequence[str]) -> None:
        self.ws = book.add_worksheet(name)
        self.book = book
        self.widths = [len(h) for h in headers]
        header = book.add_format(
            {"bold": True, "bg_color": "#F3F3F3", "bottom": 1, "text_wrap": True}
        )
        for col, text in enumerate(headers):
            self.ws.write_string(0, col, text, header)
        self.ws.freeze_panes(1, 0)
        self.rows = 0
        self._formats: dict[str, object] = {}

    def fmt(self, number_format: str) -> object:
        if number_format not in self._formats:
            self._formats[number_format] = self.book.add_format({"num_format": number_format})
        return self._formats[number_format]

    def write(self, row: int, col: int, value: object, number_format: str) -> None:
        cell_format = self.fmt(number_format)
        if value is None:
            self.ws.write_blank(row, col, None, cell_format)
            shown = 0
        elif isinstance(value, datetime):
            self.ws.write_datetime(row, col, value, cell_format)
            shown = 16
        elif isinstance(value, float):
            self.ws.write_number(row, col, value, cell_format)
            shown = 10
        else:
            self.ws.write_string(row, col, str(value), cell_format)
            shown = len(str(value))
        self.widths[col] = max(self.widths[col], shown)
        self.rows = max(self.rows, row)

    def finish(self) -> None:
        for col, width in enumerate(self.widths):
            self.ws.set_column(col, col, min(max(10, width + 2), 60))
        self.ws.autofilter(0, 0, max(self.rows, 1), len(self.widths) - 1)


def _xlsx_table(
    book: xlsxwriter.Workbook,
    name: str,
    frame: pd.DataFrame,
    columns: Sequence[Column],
    lang: str,
) -> None:
    sheet = _Sheet(book, name, [tr(key, lang) for _, key, _ in columns])
    for r, (_, row) in enumerate(frame.iterrows(), start=1):
        for c, (column, _, fmt) in enumerate(columns):
            kind = _column_kind(fmt)
            value = _cell_value(row.get(column), kind, fmt, lang)
            sheet.write(r, c, value, XLSX_FORMATS[kind])
    sheet.finish()


def _xlsx_kpis(book: xlsxwriter.Workbook, name: str, review: WeeklyReview, lang: str) -> None:
    """The KPI sheet: each value in its registry format, the light coloured by rule."""
    heads = ("col_kpi", "review_current", "review_previous", "review_delta", "review_target",
             "targets_tolerance", "review_status", "review_reason")  # fmt: skip
    sheet = _Sheet(book, name, [tr(k, lang) for k in heads])
    rows = _kpi_rows(review, lang)
    for r, (_, row) in enumerate(rows.iterrows(), start=1):
        kpi = str(row["kpi"])
        value_format = kpi_number_format(kpi)
        delta = None if _missing(row["delta"]) else float(row["delta"])
        if delta is not None and kpi in RATE_KPIS:
            delta *= 100  # percentage points
        sheet.write(r, 0, neutralised(str(row["label"])), XLSX_FORMATS["text"])
        for c, column in ((1, "current"), (2, "previous"), (4, "target_value"),
                          (5, "amber_tolerance")):  # fmt: skip
            value = None if _missing(row[column]) else float(row[column])
            sheet.write(r, c, value, value_format)
        sheet.write(r, 3, delta, kpi_number_format(kpi, delta=True))
        sheet.write(r, 6, _light(row["status"], lang), XLSX_FORMATS["text"])
        reason = row.get("reason")  # why an empty value is empty ("no data" is not 0)
        words = tr(f"reason_{reason}", lang) if isinstance(reason, str) and reason else None
        sheet.write(r, 7, words, XLSX_FORMATS["text"])
    last = max(len(rows), 1)
    for status, (background, font) in _LIGHT_FILLS.items():
        sheet.ws.conditional_format(
            1, 6, last, 6,
            {
                "type": "cell",
                "criteria": "==",
                "value": '"' + tr(f"status_{status}", lang).replace('"', '""') + '"',
                "format": book.add_format({"bg_color": background, "font_color": font}),
            },
        )  # fmt: skip
    sheet.finish()


def _xlsx_trend(book: xlsxwriter.Workbook, name: str, review: WeeklyReview, lang: str) -> None:
    """The on-time trend as a table and a native Excel line chart (with its target)."""
    headers = [tr("week", lang), kpi_label("on_time_rate", lang), tr("review_target", lang),
               kpi_label("breaches", lang)]  # fmt: skip
    sheet = _Sheet(book, name, headers)
    trend = review.trend.sort_values("week")
    for r, (_, row) in enumerate(trend.iterrows(), start=1):
        sheet.write(r, 0, _cell_value(row["week"], "date", _day, lang), XLSX_FORMATS["date"])
        rate = None if _missing(row["on_time_rate"]) else float(row["on_time_rate"])
        sheet.write(r, 1, rate, kpi_number_format("on_time_rate"))
        target = review.on_time_target
        sheet.write(r, 2, None if target is None else float(target), XLSX_FORMATS["rate"])
        sheet.write(r, 3, float(row["breaches"]), kpi_number_format("breaches"))
    sheet.finish()
    n = len(trend)
    if n == 0:
        return
    chart = book.add_chart({"type": "line"})
    chart.add_series(
        {
            "name": [name, 0, 1],
            "categories": [name, 1, 0, n, 0],
            "values": [name, 1, 1, n, 1],
            "marker": {"type": "circle"},
            "line": {"color": theme.BLUE, "width": 2.5},
        }
    )
    if review.on_time_target is not None:
        chart.add_series(
            {
                "name": [name, 0, 2],
                "categories": [name, 1, 0, n, 0],
                "values": [name, 1, 2, n, 2],
                "line": {"color": theme.TARGET_LINE_COLOR, "dash_type": "dash", "width": 1.5},
            }
        )
    chart.set_title({"name": tr("review_trend", lang)})
    chart.set_y_axis({"min": 0, "max": 1, "num_format": "0%", "major_gridlines": {"visible": True}})
    chart.set_x_axis({"num_format": "dd/mm" if lang == "es" else "mm-dd", "date_axis": False})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 360})
    sheet.ws.insert_chart(1, len(headers) + 1, chart)


def review_xlsx(review: WeeklyReview, lang: str = "es") -> bytes:
    """The review as an .xlsx workbook: one sheet per table with Excel number formats
    (KPI formats from the registry), frozen header, widths, the traffic light as a
    conditional format, the trend as a native chart; text never becomes a formula."""
    lang = norm_lang(lang)
    buffer = io.BytesIO()
    taken: set[str] = set()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False})  # fmt: skip
    book.set_properties({"title": tr("review_title", lang, week=review.week)})
    _xlsx_kpis(book, _sheet_name(tr("sheet_kpis", lang), taken), review, lang)
    _xlsx_trend(book, _sheet_name(tr("sheet_trend", lang), taken), review, lang)
    for key, frame, columns in _sections(review):
        sheet = _sheet_name(tr(key.replace("review_", "sheet_"), lang), taken)
        _xlsx_table(book, sheet, frame, columns, lang)
    book.close()
    return buffer.getvalue()


# --- command line -------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `weekly` options."""
    parser.add_argument("--week", required=True, help="ISO week, e.g. 2026-W47")
    add_db_argument(parser)
    add_as_of_argument(parser)
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="output file: .html, .pdf or .xlsx picks the format",
    )
    parser.add_argument("--lang", choices=("es", "en"), default="es", help="language (default es)")
    parser.add_argument(
        "--process", action="append", default=[], metavar="P", help="only this stage (repeatable)"
    )
    add_user_argument(parser)


def review_pdf(review: WeeklyReview, lang: str = "es") -> bytes:
    """The review as PDF (dashboard.report.weekly_pdf, which builds on this module's tables;
    imported here so that module may import this one)."""
    from dashboard.report.weekly_pdf import review_pdf as render

    return render(review, lang)


def run(args: argparse.Namespace) -> int:
    """Build the review and write it; prints the path written. Exit status 0."""
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".pdf", ".xlsx"):
        raise ReportError(f"--out {args.out!r} must end in .html, .pdf or .xlsx")
    try:
        iso_week_monday(args.week)
    except RecordError as exc:
        raise ReportError(f"--week: {exc}") from exc
    as_of_arg = parse_instant(args.as_of, "--as-of") if args.as_of else None
    if not out.parent.is_dir():
        raise ReportError(f"--out: folder {out.parent} does not exist")
    scope = user_scope(args.as_user)
    engine = open_report_engine(args.db)
    try:
        with engine.connect() as conn:
            as_of = as_of_arg or default_as_of(conn)
            base = MetricFilter(as_of=as_of, processes=tuple(args.process)).within(scope)
            review = weekly_review(conn, args.week, as_of, base)
    finally:
        engine.dispose()
    if suffix == ".html":
        out.write_text(review_html(review, args.lang), encoding="utf-8")
    elif suffix == ".pdf":
        out.write_bytes(review_pdf(review, args.lang))
    else:
        out.write_bytes(review_xlsx(review, args.lang))
    print(out)
    return 0
