"""URL parameters and filter values are data: never SQL, never Markdown, never HTML.

AppTest opens Resumen, Cumplimiento and Cadena with every view parameter set to SQL
injection, Markdown links/images and HTML; the pages render without an exception, the
commitments table is still there with the same count, and no shown text carries a live
link, image or tag. Then MetricFilter directly: a value such as
`x'; DROP TABLE commitments; --` matches a commitment whose process has that very name,
and nothing else — it is bound as a parameter.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.ontime import commitment_list, on_time_summary
from etl.publish import published_transaction
from tests.dashboard.conftest import make_app
from tests.etl.concurrency_support import scalar
from tests.factories import commitment, insert_rows

SQL = "x'; DROP TABLE commitments; --"
MARKDOWN = "![p](http://evil.example/p.png) [click](javascript:alert(1))"
HTML = '<img src=x onerror=alert(1)><script>alert("x")</script>'
QUERY = {
    "stages": [SQL, MARKDOWN, HTML],
    "period": SQL,
    "from": "2026-01-01'; DELETE FROM commitments; --",
    "to": HTML,
    "ctype": SQL,
    "dir": MARKDOWN,
    "lang": HTML,
    "stage": SQL,
    "performer": MARKDOWN,
    "root": SQL,
}
# A link, image or tag Markdown would render: the same text escaped (\<img, \]\() is inert.
LIVE_MARKUP = re.compile(r"(?<!\\)\]\((?:http|javascript)|(?<!\\)<(?:img|script)", re.I)


@pytest.fixture
def own_db(sample_db_url: str, tmp_path: Path) -> str:
    """A copy of the session's sample database, so a successful injection could not hide."""
    target = tmp_path / "hostile.duckdb"
    shutil.copy(Path(sample_db_url.removeprefix("duckdb:///")), target)
    return f"duckdb:///{target}"


def shown_markdown(at: AppTest) -> list[str]:
    """Every text Streamlit renders as Markdown on the page."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "caption", "markdown", "info", "warning",
                 "error", "success"):  # fmt: skip
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(str(m.label) for m in at.metric)
    return parts


def _hostile_names(url: str) -> None:
    """Stages and performers named with Markdown and HTML, as an uploaded file could."""
    with published_transaction(url) as conn:
        for old, new in (("Compras", MARKDOWN), ("Ventas", HTML)):
            conn.execute(
                sa.text("UPDATE commitments SET process = :new WHERE process = :old"),
                {"new": new, "old": old},
            )
        conn.execute(
            sa.text("UPDATE commitments SET performer = :p WHERE performer IS NOT NULL"), {"p": SQL}
        )


@pytest.mark.parametrize("page", ["resumen", "cumplimiento", "cadena"])
def test_hostile_query_parameters_are_data(
    page: str, own_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hostile_names(own_db)
    before = scalar(own_db, "SELECT count(*) FROM commitments")
    tables_before = scalar(own_db, "SELECT count(*) FROM information_schema.tables")
    at = make_app(monkeypatch, own_db, page=page, **QUERY)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    for text in shown_markdown(at):
        assert not LIVE_MARKUP.search(text), text
    assert scalar(own_db, "SELECT count(*) FROM commitments") == before
    assert scalar(own_db, "SELECT count(*) FROM information_schema.tables") == tables_before


@pytest.mark.parametrize("page", ["avisos", "revision"])
def test_filter_description_keeps_stage_names_literal(
    page: str, own_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stage named with Markdown in an uploaded file, chosen through the URL."""
    _hostile_names(own_db)
    at = make_app(monkeypatch, own_db, page=page, stages=[MARKDOWN])
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    for text in shown_markdown(at):
        assert not LIVE_MARKUP.search(text), text


# --- MetricFilter directly ------------------------------------------------------------


def test_filter_values_are_bound_parameters(engine: sa.Engine) -> None:
    """A process named like an injection is matched literally; other values match nothing."""
    due = datetime(2026, 3, 2, 12)
    insert_rows(
        engine,
        "commitments",
        [
            commitment("A1", due, due, process=SQL, performer=HTML, customer=MARKDOWN),
            commitment("A2", due, None, process="Ventas", performer="Ana", customer="Acme"),
        ],
    )
    base = MetricFilter(as_of=datetime(2026, 4, 1))
    with engine.connect() as conn:
        hit = commitment_list(conn, base.with_(processes=(SQL,)))
        assert list(hit["commitment_id"]) == ["A1"]
        assert list(commitment_list(conn, base.with_(performers=(HTML,)))["commitment_id"]) == [
            "A1"
        ]
        assert list(commitment_list(conn, base.with_(customers=(MARKDOWN,)))["commitment_id"]) == [
            "A1"
        ]
        for hostile in (
            "Ventas' OR '1'='1",
            "x') OR 1=1 --",
            'Ventas"; DROP TABLE commitments; --',
            "%",
        ):
            f = base.with_(processes=(hostile,), performers=(hostile,), customer_types=(hostile,))
            assert commitment_list(conn, f).empty
            summary = on_time_summary(conn, f.with_(group_by="process"))
            assert summary.empty or int(summary["due"].sum()) == 0
        count = conn.execute(sa.text("SELECT count(*) FROM commitments")).scalar()
    assert count == 2
