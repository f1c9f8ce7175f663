"""`python -m dashboard.report weekly`: the weekly review as one HTML file or an Excel workbook.

The HTML file is self-contained (plotly.js embedded, CSS inline, no link to the
network), so it opens offline from an e-mail attachment and prints well (print CSS,
A4 landscape). Every piece of user text (titles, names, action items) is HTML-escaped:
an action item `<script>` is shown, never run. The workbook has one sheet per table and
neutralises text that a spreadsheet would run as a formula.
"""

from __future__ import annotations

import argparse
import html
import io
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd
import plotly.io as pio

from dashboard import theme
from dashboard.charts.kpi import root_impact_figure, weekly_rate_figure
from dashboard.i18n import (
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
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.kpis import default_as_of
from dashboard.records import RecordError, iso_week_monday, local_now, neutralised
from dashboard.report import ReportError
from dashboard.report.kpis import (
    add_as_of_argument,
    add_db_argument,
    open_report_engine,
    parse_instant,
)
from dashboard.review import WeeklyReview, weekly_review
from dashboard.texts import kpi_label, tr

COMMAND = "weekly"
HELP = "The weekly review of an ISO week as one self-contained HTML file or an Excel workbook."

Formatter = Callable[[object, str], str]


# --- value formatting -------------------------------------------------------------------


def _missing(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_kpi(kpi: str, value: object, lang: str) -> str:
    """A KPI value as the dashboard shows it: rates in %, counts whole, the rest 1 decimal."""
    if _missing(value):
        return MISSING
    return fmt_kpi(kpi, float(value), lang)  # type: ignore[arg-type]


def format_kpi_delta(kpi: str, value: object, lang: str) -> str:
    """A week-over-week change: percentage points for rates."""
    if _missing(value):
        return MISSING
    return fmt_kpi_delta(kpi, float(value), lang) or MISSING  # type: ignore[arg-type]


def _text(value: object, lang: str) -> str:
    return MISSING if _missing(value) else str(value)


def _when(value: object, lang: str) -> str:
    return fmt_stored(value, lang, missing=MISSING)


def _day(value: object, lang: str) -> str:
    return fmt_stored(value, lang, missing=MISSING, with_time=False)


def _days(value: object, lang: str) -> str:
    return MISSING if _missing(value) else fmt_num(float(value), lang, 1)  # type: ignore[arg-type]


def _int(value: object, lang: str) -> str:
    return MISSING if _missing(value) else fmt_int(float(value), lang)  # type: ignore[arg-type]


def _status(value: object, lang: str) -> str:
    return MISSING if _missing(value) else tr(f"st_{value}", lang)


def _light(value: object, lang: str) -> str:
    return tr("status_none", lang) if _missing(value) else tr(f"status_{value}", lang)


def _action_status(value: object, lang: str) -> str:
    return MISSING if _missing(value) else tr(f"action_{value}", lang)


def _yes(value: object, lang: str) -> str:
    return ("sí" if norm_lang(lang) == "es" else "yes") if bool(value) else ""


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
            f'<td class="num">{_esc(format_kpi(kpi, row["current"], lang))}</td>',
            f'<td class="num">{_esc(format_kpi(kpi, row["previous"], lang))}</td>',
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
    roots = root_impact_figure(review.roots.head(10), lang, title=tr("review_roots", lang))
    config = {"displayModeBar": False, "responsive": True}
    return [
        pio.to_html(trend, include_plotlyjs=True, full_html=False, div_id="trend", config=config),
        pio.to_html(roots, include_plotlyjs=False, full_html=False, div_id="roots", config=config),
    ]


def review_html(
    review: WeeklyReview, lang: str = "es", *, generated: datetime | None = None
) -> str:
    """The whole review as one HTML document that needs nothing else to open or print."""
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
    trend_chart, roots_chart = _charts_html(review, lang)
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
        f'<div class="chart">{trend_chart}</div>',
    ]
    for key, frame, columns in _sections(review):
        parts.append(f"<h2>{_esc(tr(key, lang))}</h2>")
        if key == "review_roots" and not frame.empty:
            parts.append(f'<div class="chart">{roots_chart}</div>')
        parts.append(_html_table(frame, columns, lang))
    parts.append("</body></html>")
    return "\n".join(parts)


# --- Excel --------------------------------------------------------------------------------


def _sheet_name(text: str, taken: set[str]) -> str:
    """A valid, unique sheet name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in text)[:31].strip() or "Sheet"
    name, n = cleaned, 2
    while name.lower() in taken:
        name = f"{cleaned[:28]} {n}"
        n += 1
    taken.add(name.lower())
    return name


def _excel_frame(frame: pd.DataFrame, columns: Sequence[Column], lang: str) -> pd.DataFrame:
    """The table with translated headers, raw numbers and dates, and neutralised text."""
    out = pd.DataFrame(index=frame.index)
    for column, key, fmt in columns:
        values = frame[column] if column in frame else pd.Series([None] * len(frame))
        if fmt in (_action_status, _status, _yes):
            values = values.map(lambda v, fmt=fmt: fmt(v, lang))
        if fmt is _day:
            values = pd.to_datetime(values)
        out[tr(key, lang)] = values.map(neutralised)
    return out


def _kpi_excel(review: WeeklyReview, lang: str) -> pd.DataFrame:
    rows = _kpi_rows(review, lang)
    return pd.DataFrame(
        {
            tr("col_kpi", lang): rows["label"].map(neutralised),
            tr("review_current", lang): rows["current"],
            tr("review_previous", lang): rows["previous"],
            tr("review_delta", lang): rows["delta"],
            tr("review_target", lang): rows["target_value"],
            tr("targets_tolerance", lang): rows["amber_tolerance"],
            tr("review_status", lang): rows["status"].map(lambda s: _light(s, lang)),
        }
    )


def review_xlsx(review: WeeklyReview, lang: str = "es") -> bytes:
    """The review as an .xlsx workbook: one sheet per table, formulas neutralised."""
    lang = norm_lang(lang)
    buffer = io.BytesIO()
    taken: set[str] = set()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        _kpi_excel(review, lang).to_excel(
            writer, sheet_name=_sheet_name(tr("sheet_kpis", lang), taken), index=False
        )
        for key, frame, columns in _sections(review):
            sheet = tr(key.replace("review_", "sheet_"), lang)
            _excel_frame(frame, columns, lang).to_excel(
                writer, sheet_name=_sheet_name(sheet, taken), index=False
            )
        writer.book.properties.title = tr("review_title", lang, week=review.week)
        for sheet in writer.book.worksheets:
            for column_cells in sheet.columns:
                width = max(len(str(c.value or "")) for c in column_cells[:200])
                sheet.column_dimensions[column_cells[0].column_letter].width = min(
                    max(10, width + 2), 60
                )
            sheet.freeze_panes = "A2"
    return buffer.getvalue()


# --- command line -------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `weekly` options."""
    parser.add_argument("--week", required=True, help="ISO week, e.g. 2026-W47")
    add_db_argument(parser)
    add_as_of_argument(parser)
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="output file: .html or .xlsx picks the format"
    )
    parser.add_argument("--lang", choices=("es", "en"), default="es", help="language (default es)")
    parser.add_argument(
        "--process", action="append", default=[], metavar="P", help="only this stage (repeatable)"
    )


def run(args: argparse.Namespace) -> int:
    """Build the review and write it; prints the path written. Exit status 0."""
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".xlsx"):
        raise ReportError(f"--out {args.out!r} must end in .html or .xlsx")
    try:
        iso_week_monday(args.week)
    except RecordError as exc:
        raise ReportError(f"--week: {exc}") from exc
    as_of_arg = parse_instant(args.as_of, "--as-of") if args.as_of else None
    if not out.parent.is_dir():
        raise ReportError(f"--out: folder {out.parent} does not exist")
    engine = open_report_engine(args.db)
    try:
        with engine.connect() as conn:
            as_of = as_of_arg or default_as_of(conn)
            base = MetricFilter(as_of=as_of, processes=tuple(args.process))
            review = weekly_review(conn, args.week, as_of, base)
    finally:
        engine.dispose()
    if suffix == ".html":
        out.write_text(review_html(review, args.lang), encoding="utf-8")
    else:
        out.write_bytes(review_xlsx(review, args.lang))
    print(out)
    return 0
