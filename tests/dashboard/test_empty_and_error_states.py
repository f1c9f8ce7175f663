"""What a page shows when there is nothing to show: an empty database (instructions and
a button that loads the sample) and a database that cannot be read (a clear message,
never a traceback).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from dashboard.metrics import kpis
from dashboard.ui.i18n import t
from dashboard.views import database
from etl.db import create_db_engine
from etl.schema import create_schema
from etl.settings import PROJECT_ROOT
from tests.dashboard.conftest import make_app, metric_cards

PAGES = ["resumen", "cumplimiento"]


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture
def empty_db_url(tmp_path: Path) -> str:
    """A fresh database with the schema and no rows."""
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    engine = create_db_engine(url)
    create_schema(engine)
    engine.dispose()
    return url


@pytest.mark.parametrize("page", PAGES)
def test_empty_database_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, empty_db_url: str, page: str
) -> None:
    at = _run(make_app(monkeypatch, empty_db_url, page=page))
    assert at.subheader[0].value == t("empty_title", "es")
    assert any(t("empty_body", "es") == m.value for m in at.markdown)
    button = at.button(key="load_sample")
    assert button.label == t("load_sample", "es")
    assert not at.error and not at.metric
    links = at.get("page_link")
    assert [(link.proto.page, link.proto.label) for link in links] == [
        ("datos", t("go_to_datos", "es"))
    ]


def test_no_schema_at_all_is_the_empty_state_in_english(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = _run(make_app(monkeypatch, f"duckdb:///{tmp_path / 'new.duckdb'}", lang="en"))
    assert at.subheader[0].value == t("empty_title", "en")
    assert at.button(key="load_sample").label == "Load the sample data"


def test_load_sample_button_fills_the_dashboard(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = _run(make_app(monkeypatch, f"duckdb:///{tmp_path / 'fresh.duckdb'}"))
    at.button(key="load_sample").click()
    at.run(timeout=300)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert t("kpi_on_time_rate", "es") in metric_cards(at)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://nobody@127.0.0.1:1/nothing",
        "not-a-scheme://whatever",
    ],
)
@pytest.mark.parametrize("page", PAGES)
def test_unreachable_database_gives_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, url: str, page: str
) -> None:
    at = _run(make_app(monkeypatch, url, page=page))
    assert len(at.error) == 1
    message = at.error[0].value
    assert t("db_error_title", "es") in message
    assert "Traceback" not in message and 'File "' not in message
    assert not at.metric


def test_corrupt_database_file_gives_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "broken.duckdb"
    path.write_bytes(b"this is not a database" * 100)
    at = _run(make_app(monkeypatch, f"duckdb:///{path}", lang="en"))
    assert len(at.error) == 1
    assert t("db_error_title", "en") in at.error[0].value


def test_a_load_from_another_process_reaches_the_page(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, tmp_path: Path
) -> None:
    """Metric results are cached per data version: a new batch (here from the ETL's
    command line, as a scheduled load would do) changes the numbers on the next run once
    the short-lived database probe has expired (expired here by hand, not by waiting).
    """
    source = Path(sample_db_url.removeprefix("duckdb:///"))
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(source.read_bytes())
    url = f"duckdb:///{copy}"
    at = _run(make_app(monkeypatch, url, lang="en"))
    before = int(metric_cards(at)["Breaches"][0].replace(",", ""))

    csv = tmp_path / "commitments.csv"
    csv.write_text(
        "commitment_id,process,customer,customer_type,requested_at,due_at\n"
        "LATE-1,Ventas,Cliente nuevo,external,2026-11-01,2026-11-10\n"
        "LATE-2,Compras,Cliente nuevo,external,2026-11-01,2026-11-11\n",
        encoding="utf-8",
    )
    subprocess.run(
        [sys.executable, "-m", "etl", "load", str(csv), "--db", url],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    database._probe.clear()
    _run(at)
    assert int(metric_cards(at)["Breaches"][0].replace(",", "")) == before + 2


@pytest.mark.parametrize(
    ("failure", "message_key"),
    [
        (ValueError("bug with secret detail"), "page_failed"),
        (sa.exc.OperationalError("SELECT", {}, Exception("server closed")), "db_error_title"),
    ],
)
def test_a_failure_mid_page_is_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
    sample_db_url: str,
    tmp_path: Path,
    failure: Exception,
    message_key: str,
) -> None:
    copy = tmp_path / "fails.duckdb"  # a URL of its own: nothing cached for it yet
    copy.write_bytes(Path(sample_db_url.removeprefix("duckdb:///")).read_bytes())

    def broken(*args: object, **kwargs: object) -> None:
        raise failure

    monkeypatch.setattr(kpis, "headline_kpis", broken)
    at = _run(make_app(monkeypatch, f"duckdb:///{copy}", lang="en"))
    assert len(at.error) == 1
    assert t(message_key, "en") in at.error[0].value
    assert "secret detail" not in at.error[0].value and "Traceback" not in at.error[0].value
