"""The weekly review as a PDF for the meeting room: A4, one section per page, a header and
footer with the week and the filter on every page, charts drawn as vector graphics.

Rendered with ReportLab: a long-maintained, pure-Python PDF library that draws text,
tables and charts itself, so the pack is made with no browser (Chrome for kaleido or a
headless print) and no system library at run time, and its charts stay vector paths
(sharp when printed or zoomed). The tables and words are the HTML pack's own
(`dashboard.report.weekly`), so the three formats never disagree.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pandas as pd
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from dashboard.records import local_now
from dashboard.report.weekly import (
    Column,
    _days,
    _int,
    _kpi_rows,
    _light,
    _sections,
    format_kpi,
    format_kpi_delta,
)
from dashboard.services.review import WeeklyReview
from dashboard.ui import theme
from dashboard.ui.i18n import fmt_date, fmt_datetime, fmt_day_month, fmt_pct, norm_lang
from dashboard.ui.texts import tr

PAGE = landscape(A4)
MARGIN = 14 * mm
FRAME_WIDTH = PAGE[0] - 2 * MARGIN

# A Unicode TrueType font (the pack has ✓ ✗ · – and accented names); the system's DejaVu
# when installed (tools/ensure_fonts.sh), else the Vera that ships inside ReportLab.
_FONT_CANDIDATES: tuple[tuple[Path, Path], ...] = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
)
FONT, BOLD = "EslabonSans", "EslabonSans-Bold"

# Wider columns for long text, in units of an ordinary column.
_WEIGHTS: dict[str, float] = {
    "commitment_id": 1.4,
    "root_id": 1.4,
    "title": 2.2,
    "what": 3.0,
    "performer": 1.3,
    "customer": 1.3,
    "upstreams": 1.6,
    "breached_upstreams": 1.6,
    "external_customer_names": 2.0,
    "due_at": 1.5,
    "delivered_at": 1.5,
    "predicted_delivery": 1.5,
    "delay_days": 0.9,
    "impact": 0.8,
}


def register_fonts() -> tuple[str, str]:
    """Register the pack's font once per process; returns (regular, bold) names."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT, BOLD
    import reportlab

    bundled = Path(reportlab.__file__).parent / "fonts"
    candidates = [*_FONT_CANDIDATES, (bundled / "Vera.ttf", bundled / "VeraBd.ttf")]
    regular, bold = next((r, b) for r, b in candidates if r.is_file() and b.is_file())
    pdfmetrics.registerFont(TTFont(FONT, str(regular)))
    pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
    return FONT, BOLD


def _styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle("base", fontName=FONT, fontSize=8.5, leading=10.5)
    return {
        "cell": base,
        "num": ParagraphStyle("num", parent=base, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, fontName=BOLD),
        "h1": ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=18, leading=22),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=BOLD, fontSize=13, leading=16, spaceAfter=6
        ),
        "meta": ParagraphStyle(
            "meta", parent=base, fontSize=9, textColor=colors.HexColor(theme.GREY)
        ),
        "empty": ParagraphStyle(
            "empty", parent=base, fontSize=9, textColor=colors.HexColor(theme.GREY)
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of user text: escaped, since ReportLab reads a little markup."""
    return Paragraph(escape(text), style)


_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor(theme.LIGHT_GREY)),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F3F3F3")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
)


def _widths(columns: Sequence[str]) -> list[float]:
    weights = [_WEIGHTS.get(c, 1.0) for c in columns]
    return [FRAME_WIDTH * w / sum(weights) for w in weights]


def _table(frame: pd.DataFrame, columns: Sequence[Column], lang: str) -> Flowable:
    styles = _styles()
    if frame.empty:
        return _p(tr("review_none", lang), styles["empty"])
    head = [_p(tr(key, lang), styles["head"]) for _, key, _ in columns]
    body = [
        [
            _p(fmt(row.get(column), lang), styles["num" if fmt in (_days, _int) else "cell"])
            for column, _, fmt in columns
        ]
        for _, row in frame.iterrows()
    ]
    table = Table([head, *body], colWidths=_widths([c for c, _, _ in columns]), repeatRows=1)
    table.setStyle(_GRID)
    return table


def _kpi_table(review: WeeklyReview, lang: str, width: float) -> Flowable:
    styles = _styles()
    heads = ("col_kpi", "review_current", "review_previous", "review_delta", "review_target",
             "review_status")  # fmt: skip
    rows: list[list[Flowable]] = [[_p(tr(k, lang), styles["head"]) for k in heads]]
    lights: list[tuple[Any, ...]] = []  # TableStyle commands
    for i, (_, row) in enumerate(_kpi_rows(review, lang).iterrows(), start=1):
        kpi = row["kpi"]
        rows.append(
            [
                _p(str(row["label"]), styles["cell"]),
                _p(format_kpi(kpi, row["current"], lang), styles["num"]),
                _p(format_kpi(kpi, row["previous"], lang), styles["num"]),
                _p(format_kpi_delta(kpi, row["delta"], lang), styles["num"]),
                _p(format_kpi(kpi, row["target_value"], lang), styles["num"]),
                _p(_light(row["status"], lang), styles["cell"]),
            ]
        )
        if row["status"] in theme.STATUS_COLORS:
            color = colors.HexColor(theme.STATUS_COLORS[str(row["status"])])
            lights.append(("LINEBEFORE", (5, i), (5, i), 4, color))
    weights = [2.6, 1.35, 1.35, 1.2, 1.1, 1.9]
    table = Table(rows, colWidths=[width * w / sum(weights) for w in weights],
                  repeatRows=1, hAlign="LEFT")  # fmt: skip
    table.setStyle(_GRID)
    table.setStyle(TableStyle(lights))
    return table


def trend_drawing(review: WeeklyReview, lang: str, width: float = FRAME_WIDTH) -> Drawing:
    """The on-time rate by week as a vector line chart, the target as a dashed line."""
    register_fonts()
    height = 80 * mm
    drawing = Drawing(width, height)
    trend = review.trend.sort_values("week")
    values = [None if pd.isna(v) else float(v) for v in trend["on_time_rate"]]
    drawing.add(String(0, height - 10, tr("review_trend", lang), fontName=BOLD, fontSize=10))
    if not any(v is not None for v in values):
        drawing.add(String(0, height / 2, tr("review_none", lang), fontName=FONT, fontSize=9))
        return drawing
    chart = HorizontalLineChart()
    chart.x, chart.y = 45, 22
    chart.width, chart.height = width - 60, height - 45  # type: ignore[assignment]  # the stubs say int; reportlab takes points as floats
    data = [tuple(values)]
    if review.on_time_target is not None:
        data.append(tuple(float(review.on_time_target) for _ in values))
    chart.data = data
    chart.categoryAxis.categoryNames = [fmt_day_month(pd.Timestamp(w), lang) for w in trend["week"]]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7.5
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 1, 0.2
    chart.valueAxis.labelTextFormat = lambda v: fmt_pct(v, lang, 0)
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7.5
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor(theme.LIGHT_GREY)
    chart.lines[0].strokeColor = colors.HexColor(theme.BLUE)
    chart.lines[0].strokeWidth = 2
    chart.joinedLines = True
    if len(data) > 1:
        chart.lines[1].strokeColor = colors.HexColor(theme.TARGET_LINE_COLOR)
        chart.lines[1].strokeDashArray = (4, 3)
        chart.lines[1].strokeWidth = 1.2
    chart.lines[0].symbol = makeMarker("FilledCircle", size=4)
    chart.lineLabelFormat = "values"
    chart.lineLabelArray = [
        ["" if v is None else fmt_pct(v, lang) for v in values],
        *([["" for _ in values]] if len(data) > 1 else []),
    ]
    chart.lineLabels.fontName = FONT
    chart.lineLabels.fontSize = 7
    drawing.add(chart)
    if review.on_time_target is not None:
        label = f"{tr('target', lang)} {fmt_pct(review.on_time_target, lang)}"
        drawing.add(String(width - 15, height - 10, label, fontName=FONT, fontSize=8,
                           textAnchor="end",
                           fillColor=colors.HexColor(theme.TARGET_LINE_COLOR)))  # fmt: skip
    return drawing


def roots_drawing(review: WeeklyReview, lang: str, width: float = FRAME_WIDTH) -> Drawing:
    """The ten root breaches of largest impact as vector horizontal bars, labelled."""
    register_fonts()
    roots = review.chart_roots().sort_values(["impact", "root_id"], ascending=[True, False])
    n = max(len(roots), 1)
    height = 30 + 16 * n
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 150, 10
    chart.width, chart.height = width - 200, height - 20  # type: ignore[assignment]  # the stubs say int; reportlab takes points as floats
    chart.data = [tuple(float(v) for v in roots["impact"])]
    chart.categoryAxis.categoryNames = [
        f"{r} · {p}" for r, p in zip(roots["root_id"], roots["process"], strict=True)
    ]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 8
    top = max(1, int(roots["impact"].max()) if len(roots) else 1)
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, top
    chart.valueAxis.valueStep = max(1, math.ceil(top / 5))
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7.5
    chart.valueAxis.labelTextFormat = "%d"
    chart.bars[0].fillColor = colors.HexColor(theme.VERMILLION)
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 8
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def _side_by_side(left: Flowable, right: Flowable) -> Flowable:
    """Two flowables in one row (the KPI table and the trend share the first page)."""
    layout = Table([[left, right]], colWidths=[FRAME_WIDTH * 0.58, FRAME_WIDTH * 0.42])
    layout.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                ("LEFTPADDING", (0, 0), (-1, -1), 0)]))  # fmt: skip
    return layout


class _Pack(SimpleDocTemplate):
    """A4 landscape with the week and the filter in the header and the page in the footer."""

    def __init__(
        self,
        buffer: io.BytesIO,
        header: str,
        scope: str,
        footer: str,
        page_label: Callable[[int], str],
        **kw: Any,
    ) -> None:
        super().__init__(
            buffer,
            pagesize=PAGE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN + 8 * mm,
            bottomMargin=MARGIN + 6 * mm,
            **kw,
        )
        self.header, self.scope, self.footer = header, scope, footer
        self.page_label = page_label

    def decorate(self, canvas: Canvas, doc: SimpleDocTemplate) -> None:
        """ReportLab's page callback: the header and footer of every page."""
        canvas.saveState()
        width, height = PAGE
        grey = colors.HexColor(theme.GREY)
        canvas.setFillColor(grey)
        canvas.setFont(BOLD, 9)
        canvas.drawString(MARGIN, height - MARGIN, self.header)
        canvas.setFont(FONT, 8)
        canvas.drawRightString(width - MARGIN, height - MARGIN, self.scope[:150])
        canvas.setStrokeColor(colors.HexColor(theme.LIGHT_GREY))
        canvas.line(MARGIN, height - MARGIN - 3, width - MARGIN, height - MARGIN - 3)
        canvas.line(MARGIN, MARGIN + 8, width - MARGIN, MARGIN + 8)
        canvas.drawString(MARGIN, MARGIN, self.footer)
        canvas.drawRightString(width - MARGIN, MARGIN, self.page_label(doc.page))
        canvas.restoreState()


def review_pdf(
    review: WeeklyReview, lang: str = "es", *, generated: datetime | None = None
) -> bytes:
    """The whole review as PDF bytes: KPIs and trend first, then one page per section."""
    lang = norm_lang(lang)
    styles = _styles()
    title = tr("review_title", lang, week=review.week)
    period = tr(
        "review_period",
        lang,
        start=fmt_date(review.monday, lang),
        end=fmt_date(review.sunday, lang),
    )
    scope = review.scope.describe(lang)
    meta = tr(
        "review_generated",
        lang,
        when=fmt_datetime(generated or local_now(), lang),
        as_of=fmt_datetime(review.as_of, lang),
    )

    def story() -> list[Flowable]:
        parts: list[Flowable] = [
            _p(title, styles["h1"]),
            _p(f"{period} · {scope}", styles["meta"]),
            Spacer(1, 5 * mm),
            _p(tr("review_kpis", lang), styles["h2"]),
            _side_by_side(
                _kpi_table(review, lang, FRAME_WIDTH * 0.56),
                trend_drawing(review, lang, FRAME_WIDTH * 0.40),
            ),
        ]
        for key, frame, columns in _sections(review):
            parts += [PageBreak(), _p(tr(key, lang), styles["h2"])]
            if key == "review_roots" and not frame.empty:
                parts += [roots_drawing(review, lang), Spacer(1, 4 * mm)]
            parts.append(_table(frame, columns, lang))
        return parts

    def render(total: int | None) -> tuple[bytes, int]:
        buffer = io.BytesIO()
        doc = _Pack(
            buffer,
            header=f"{title} · {period}",
            scope=scope,
            footer=f"Eslabón · {meta}",
            page_label=lambda n: tr("pdf_page", lang, n=n, total=total or "?"),
            title=title,
            author="Eslabón",
            subject=scope,
        )
        doc.build(story(), onFirstPage=doc.decorate, onLaterPages=doc.decorate)
        return buffer.getvalue(), doc.page

    # twice: the first pass counts the pages for the footer's "page n of total"
    _, total = render(None)
    return render(total)[0]
