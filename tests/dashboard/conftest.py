"""Dashboard fixtures: one DuckDB file with sample data per test session, and AppTest
helpers that point the app at it.

The database is loaded with the ETL's own command (`python -m etl load data/sample`),
exactly as a user would load it.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.views import cache
from etl.db import create_db_engine
from etl.settings import PROJECT_ROOT, SAMPLE_DIR

APP = PROJECT_ROOT / "dashboard" / "app.py"


def load_with_etl(url: str) -> None:
    """Load data/sample exactly as a user would."""
    for args in (["init"], ["load", str(SAMPLE_DIR)]):
        subprocess.run(
            [sys.executable, "-m", "etl", *args, "--db", url],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "ESLABON_DB_URL": url},
        )


@pytest.fixture(scope="session")
def sample_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A DuckDB file holding the sample data, shared by the session's dashboard tests."""
    path = tmp_path_factory.mktemp("dashboard") / "sample.duckdb"
    url = f"duckdb:///{path}"
    load_with_etl(url)
    return url


@pytest.fixture
def sample_engine(sample_db_url: str) -> Iterator[sa.Engine]:
    """An engine on the session's sample database, for computing expected values."""
    engine = create_db_engine(sample_db_url)
    yield engine
    engine.dispose()


def make_app(monkeypatch: pytest.MonkeyPatch, url: str, **query: str | list[str]) -> AppTest:
    """An AppTest of the real entry point on `url`, with a query string."""
    monkeypatch.setenv("ESLABON_DB_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at


def texts(at: AppTest) -> str:
    """Every text AppTest can see on the page, joined (for "is this shown" asserts)."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "caption", "markdown", "info", "error", "success"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(f"{m.label} {m.value} {m.delta or ''}" for m in at.metric)
    return "\n".join(parts)


def metric_cards(at: AppTest) -> dict[str, tuple[str, str | None]]:
    """label -> (value, delta) of every st.metric on the page."""
    return {m.label: (m.value, m.delta) for m in at.metric}


def counting_metric(monkeypatch: pytest.MonkeyPatch, asked: list[str], computed: list[str]) -> None:
    """Make cache.metric note each metric asked for, and each one actually computed.

    The wrapper keeps the function's module and name (functools.wraps), which is all the
    cache keys a call on, so a cached result is found as before and only a miss runs it.
    """
    metric = cache.metric

    def counting(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        key = cache.metric_key(func)
        asked.append(key)

        @functools.wraps(func)
        def computing(*inner: Any, **kw: Any) -> Any:
            computed.append(key)
            return func(*inner, **kw)

        return metric(computing, *args, **kwargs)

    monkeypatch.setattr(cache, "metric", counting)
