"""AppTest support for the issue-5 pages: the hand-worked chain as a DuckDB file with its
own as_of, and page scripts that run one page function (the app frame is
dashboard/views/frame.py; these tests look at the page body)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from etl.db import create_db_engine
from etl.schema import create_schema, dataset_meta
from tests.dashboard.world import load_chain_world


def world_db(tmp_path: Path) -> str:
    """A DuckDB file holding tests/dashboard/world.py, evaluated at its AS_OF."""
    url = f"duckdb:///{tmp_path / 'world.duckdb'}"
    engine = create_db_engine(url)
    create_schema(engine)
    load_chain_world(engine)
    with engine.begin() as conn:
        conn.execute(dataset_meta.insert(), [{"key": "as_of", "value": "2026-11-20T12:00:00"}])
    engine.dispose()
    return url


def page_app(
    monkeypatch: pytest.MonkeyPatch, url: str, script: Callable[[], None], **query: str
) -> AppTest:
    """An AppTest of `script` (a function calling one page) on `url`, not yet run."""
    monkeypatch.setenv("ESLABON_DB_URL", url)
    at = AppTest.from_function(script, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at


def all_text(at: AppTest) -> str:
    """Every text, table cell and metric AppTest can see."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "caption", "markdown", "info", "error",
                 "warning", "success", "text", "code"):  # fmt: skip
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(f"{m.label} {m.value}" for m in at.metric)
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    return "\n".join(parts)
