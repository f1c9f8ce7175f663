"""URL parameters and filter values are data: never SQL, never Markdown, never HTML.

AppTest opens Resumen, Cumplimiento and Cadena with every view parameter set to SQL
injection, Markdown links/images and HTML; the pages render without an exception, the
commitments table is still there with the same count, and no shown text carries a live
link, image or tag. Then EVERY page (all ten) is walked with hostile stage, customer, performer and
commitment names both in the data and in the URL, and every text of the page that
Streamlit renders as Markdown (bodies, labels, help, expander and tab names, sidebar
included) is checked for a live image, link or tag. Then MetricFilter directly: a value such as
`x'; DROP TABLE commitments; --` matches a commitment whose process has that very name,
and nothing else — it is bound as a parameter.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

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
QUERY: dict[str, Any] = {
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
LIVE_MARKUP = re.compile(r"(?<!\\)\]\((?:http|javascript)|(?<!\\)<(?:img|script|b>)", re.I)


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


# --- every page, hostile names in the data and in the URL ----------------------------

ALL_PAGES = (
    "resumen", "cumplimiento", "cadena", "satisfaccion", "revision", "seguimiento",
    "avisos", "metas", "suscripciones", "datos",
)  # fmt: skip
IMAGE = "x ![b](http://evil.example/p.png)"  # the Metas report: a stage name in the URL
JS_LINK = "[pulse](javascript:alert(1))"
HOSTILE_ID = "ID <b>x</b> ![i](http://evil.example/i.png)"
# Proto fields Streamlit renders as Markdown (widget options and values are plain text).
MARKDOWN_FIELDS = frozenset({"body", "label", "help", "caption"})


def _proto_texts(message: object, out: list[str]) -> None:
    """Every Markdown-rendered string field of a protobuf message, recursively."""
    list_fields = getattr(message, "ListFields", None)
    if list_fields is None:
        return
    for field, value in list_fields():
        if field.type == field.TYPE_MESSAGE:
            items = [value] if hasattr(value, "ListFields") else list(value)
            for item in items:
                _proto_texts(item, out)
        elif field.name in MARKDOWN_FIELDS and isinstance(value, str):
            out.append(value)


def markdown_texts(at: AppTest) -> list[str]:
    """Every Markdown-rendered text of the whole element tree (main and sidebar)."""
    out: list[str] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            _proto_texts(proto, out)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def _hostile_world(url: str) -> str:
    """Stage, customer, performer and one commitment id renamed to hostile text in every
    table that holds them; returns the renamed commitment's new id."""
    with published_transaction(url) as conn:
        cid = conn.execute(
            sa.text(
                "SELECT d.commitment_id FROM dependencies d JOIN commitments c "
                "ON c.commitment_id = d.commitment_id ORDER BY c.due_at LIMIT 1"
            )
        ).fetchall()[0][0]
        for table, column in (
            ("commitments", "commitment_id"), ("dependencies", "commitment_id"),
            ("dependencies", "depends_on"), ("events", "commitment_id"),
            ("satisfaction", "commitment_id"), ("complaints", "commitment_id"),
            ("notices", "commitment_id"),
        ):  # fmt: skip
            conn.execute(
                sa.text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old"),
                {"new": HOSTILE_ID, "old": cid},
            )
        for table in ("commitments", "processes", "targets"):
            conn.execute(
                sa.text(f"UPDATE {table} SET process = :new WHERE process = :old"),
                {"new": IMAGE, "old": "Compras"},
            )
        conn.execute(sa.text("UPDATE events SET stage = :new WHERE stage = :old"),
                     {"new": IMAGE, "old": "Compras"})  # fmt: skip
        for table in ("commitments", "satisfaction", "complaints"):
            conn.execute(
                sa.text(f"UPDATE {table} SET customer = :new WHERE customer = :old"),
                {"new": JS_LINK, "old": "Producción"},
            )
        conn.execute(
            sa.text("UPDATE commitments SET performer = :p, title = :t WHERE performer <> ''"),
            {"p": HTML, "t": MARKDOWN},
        )
        conn.execute(sa.text("UPDATE satisfaction SET comment = :c"), {"c": MARKDOWN})
    return HOSTILE_ID


@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_keeps_hostile_names_literal(
    page: str, own_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile_id = _hostile_world(own_db)
    at = make_app(
        monkeypatch, own_db, page=page, stages=[IMAGE, MARKDOWN, HTML], stage=IMAGE,
        performer=HTML, commitment=hostile_id, root=hostile_id, q=JS_LINK,
    )  # fmt: skip
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    texts = markdown_texts(at)
    assert texts, "the walker found no text at all"
    for text in texts:
        assert not LIVE_MARKUP.search(text), text


def test_walker_sees_an_unescaped_image(monkeypatch: pytest.MonkeyPatch, own_db: str) -> None:
    """The check itself can fail: a page element carrying the raw name is caught."""
    at = AppTest.from_string(
        f"import streamlit as st\nst.caption({IMAGE!r})\nst.sidebar.selectbox({JS_LINK!r}, [1])"
    )
    at.run()
    found = [t for t in markdown_texts(at) if LIVE_MARKUP.search(t)]
    assert found == [IMAGE, JS_LINK]


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
