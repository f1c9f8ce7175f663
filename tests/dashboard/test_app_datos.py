"""Datos (AppTest) on a private copy of the sample database: an upload is validated and
previewed before anything is written, Load writes it and the history shows the batch, a
bad file shows its rejects (downloadable, formulas neutralised) and writes nothing, the
row limit and unreadable files give a message, never a traceback.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
import streamlit
from streamlit.testing.v1 import AppTest

from dashboard.ui.texts import md_escape, tr
from dashboard.views import datos
from etl.db import create_db_engine
from tests.dashboard.conftest import make_app

HEADER = "commitment_id,title,process,customer,requested_at,due_at,delivered_at\n"
GOOD = (
    HEADER
    + "UP-0001,Pedido subido,Ventas,Cliente Nuevo,2026-11-01,2026-11-10,2026-11-09\n"
    + "UP-0002,Otro pedido,Compras,Cliente Nuevo,2026-11-02,2026-11-12,\n"
)
BAD = (
    HEADER
    + "UP-0101,Bueno,Ventas,Cliente Nuevo,2026-11-01,2026-11-10,\n"
    + "UP-0102,=cmd|' /C calc'!A0,Ventas,Cliente Nuevo,2026-11-01,mañana,\n"
)


@pytest.fixture
def own_db(sample_db_url: str, tmp_path: Path) -> str:
    """A copy of the session's sample database that this test may write to."""
    source = Path(sample_db_url.removeprefix("duckdb:///"))
    target = tmp_path / "datos.duckdb"
    shutil.copy(source, target)
    return f"duckdb:///{target}"


def _count(url: str, sql: str) -> int:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar() or 0)
    finally:
        engine.dispose()


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _open(monkeypatch: pytest.MonkeyPatch, url: str, **query: str) -> AppTest:
    return _run(make_app(monkeypatch, url, page="datos", **query))


def _upload(at: AppTest, *files: tuple[str, str]) -> AppTest:
    uploader = next(u for u in at.file_uploader if (u.key or "").startswith("datos_files_"))
    uploader.set_value([(name, text.encode("utf-8"), "text/csv") for name, text in files])
    return _run(at)


def _table_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_good_file_is_previewed_then_loaded(monkeypatch: pytest.MonkeyPatch, own_db: str) -> None:
    batches_before = _count(own_db, "SELECT count(*) FROM load_batches")
    at = _open(monkeypatch, own_db)
    assert tr("preview_none", "es") in [i.value for i in at.info]
    at = _upload(at, ("commitments.csv", GOOD))
    preview = _table_with(at, tr("col_new", "es"))
    assert preview.to_dict("records") == [
        {
            tr("col_file", "es"): "commitments.csv",
            tr("col_record_kind", "es"): "Compromisos",  # the kind in the reader's words
            tr("col_read", "es"): "2",
            tr("col_new", "es"): "2",
            tr("col_changed", "es"): "0",
            tr("col_unchanged", "es"): "0",
            tr("col_rejected", "es"): "0",
        }
    ]
    # nothing written before Load
    assert _count(own_db, "SELECT count(*) FROM commitments WHERE commitment_id LIKE 'UP-%'") == 0
    assert _count(own_db, "SELECT count(*) FROM load_batches") == batches_before

    at.button(key="datos_load").click()
    at = _run(at)
    assert not at.error, [e.value for e in at.error]
    assert _count(own_db, "SELECT count(*) FROM commitments WHERE commitment_id LIKE 'UP-%'") == 2
    assert _count(own_db, "SELECT count(*) FROM load_batches") == batches_before + 1
    assert any("2" in s.value for s in at.success)
    history = _table_with(at, tr("col_loaded_by", "es"))
    newest = history.iloc[0]
    assert int(newest[tr("col_batch", "es")]) == batches_before + 1
    assert newest[tr("col_loaded_by", "es")] == "dashboard"
    assert newest[tr("col_new", "es")] == "2"
    files = _table_with(at, tr("col_mapping", "es"))
    assert list(files[tr("col_file", "es")]) == ["commitments.csv"]
    # the uploader starts empty again: the next visitor does not reload the same file
    assert tr("preview_none", "es") in [i.value for i in at.info]


def test_bad_file_shows_its_rejects_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, own_db: str
) -> None:
    captured: list[bytes] = []
    original = streamlit.download_button

    def recording(label: str, data: Any = None, *args: Any, **kwargs: Any) -> object:
        if kwargs.get("key") == "preview_rejects_csv":
            captured.append(data if isinstance(data, bytes) else str(data).encode())
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", recording)
    batches_before = _count(own_db, "SELECT count(*) FROM load_batches")
    at = _upload(_open(monkeypatch, own_db), ("commitments.csv", BAD))
    preview = _table_with(at, tr("col_new", "es"))
    assert preview.iloc[0][tr("col_read", "es")] == "2"
    assert preview.iloc[0][tr("col_rejected", "es")] == "1"
    rejects = _table_with(at, tr("col_reject_reason", "es"))
    assert list(rejects[tr("col_row", "es")]) == [3]
    assert "due_at" in rejects.iloc[0][tr("col_column", "es")]
    assert "mañana" in rejects.iloc[0][tr("col_reject_reason", "es")]
    # the reason in the page's language (issue 14): worded from its code, not English
    assert "no es una fecha" in rejects.iloc[0][tr("col_reject_reason", "es")]
    assert _count(own_db, "SELECT count(*) FROM commitments WHERE commitment_id LIKE 'UP-%'") == 0
    assert _count(own_db, "SELECT count(*) FROM load_batches") == batches_before
    # the download neutralises the formula a spreadsheet would run
    assert captured
    rows = list(csv.DictReader(io.StringIO(captured[-1].decode("utf-8-sig"))))
    assert rows[0]["title"] == "'=cmd|' /C calc'!A0"
    assert "no es una fecha" in rows[0]["motivo"]  # Spanish headers and reasons
    assert not any(v.startswith(("=", "+", "-", "@")) for row in rows for v in row.values())

    # loading keeps the good row and logs the reject in the batch's history
    at.button(key="datos_load").click()
    at = _run(at)
    assert _count(own_db, "SELECT count(*) FROM commitments WHERE commitment_id LIKE 'UP-%'") == 1
    stored = _table_with(at, tr("col_reject_reason", "es"))
    assert list(stored[tr("col_row", "es")]) == [3]
    assert "no es una fecha" in stored.iloc[0][tr("col_reject_reason", "es")]


def test_unreadable_file_and_row_limit_give_a_message(
    monkeypatch: pytest.MonkeyPatch, own_db: str
) -> None:
    at = _upload(_open(monkeypatch, own_db), ("notas.csv", GOOD))
    assert any("notas" in e.value for e in at.error)  # not a record kind, no mapping
    monkeypatch.setenv("ESLABON_UPLOAD_MAX_ROWS", "1")
    at = _upload(_open(monkeypatch, own_db), ("commitments.csv", GOOD))
    assert any("ESLABON\\_UPLOAD\\_MAX\\_ROWS" in e.value for e in at.error)
    assert not at.exception
    assert _count(own_db, "SELECT count(*) FROM commitments WHERE commitment_id LIKE 'UP-%'") == 0


def test_a_malformed_uploaded_mapping_is_a_message(
    monkeypatch: pytest.MonkeyPatch, own_db: str
) -> None:
    at = _open(monkeypatch, own_db)
    at.selectbox(key=datos.K_MAPPING).set_value(datos.UPLOADED_MAPPING)
    at = _run(at)
    mapping = next(u for u in at.file_uploader if (u.key or "").startswith("datos_mapping_file_"))
    mapping.set_value(("mine.toml", b"[commitments\nbroken", "application/toml"))
    at = _run(at)
    assert any("mine" in e.value and "TOML" in e.value for e in at.error)


def test_shipped_mappings_are_offered(monkeypatch: pytest.MonkeyPatch, own_db: str) -> None:
    at = _open(monkeypatch, own_db)
    options = at.selectbox(key=datos.K_MAPPING).options
    assert "helpdesk_events" in options and len(options) >= 3


def test_language_switch(monkeypatch: pytest.MonkeyPatch, own_db: str) -> None:
    at = _open(monkeypatch, own_db, lang="en")
    assert tr("datos_title", "en") in [t.value for t in at.title]
    assert tr("history_title", "en") in [s.value for s in at.subheader]


def test_works_on_an_empty_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Datos is where data comes from: it stays usable when the database is empty."""
    url = f"duckdb:///{tmp_path / 'blank.duckdb'}"
    at = _upload(_open(monkeypatch, url), ("commitments.csv", GOOD))
    assert _table_with(at, tr("col_new", "es")).iloc[0][tr("col_new", "es")] == "2"
    at.button(key="datos_load").click()
    at = _run(at)
    assert _count(url, "SELECT count(*) FROM commitments") == 2


def test_unreachable_database_shows_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    at = make_app(monkeypatch, "postgresql+psycopg://nobody@127.0.0.1:1/none", page="datos")
    at.run()
    assert not at.exception
    assert any(tr("db_error_title", "es") in e.value for e in at.error)


def test_load_the_sample_button_fills_an_empty_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"duckdb:///{tmp_path / 'blank.duckdb'}"
    at = _open(monkeypatch, url)
    at.button(key="datos_load_sample").click()
    at = _run(at)
    assert not at.error, [e.value for e in at.error]
    assert tr("sample_loaded", "es") in [s.value.replace("\\", "") for s in at.success]
    assert _count(url, "SELECT count(*) FROM commitments") == 5000
    assert _count(url, "SELECT count(*) FROM load_batches") == 1


def test_unknown_process_is_a_visible_warning_of_the_preview(
    monkeypatch: pytest.MonkeyPatch, own_db: str
) -> None:
    """Issue 14, item 5: a stage outside the processes list is said before Load, in the
    page's language, instead of appearing later as an empty link of the chain."""
    typo = HEADER + "UP-0201,Pedido,Ventaz,Cliente Nuevo,2026-11-01,2026-11-10,\n"
    for lang in ("es", "en"):
        at = _upload(_open(monkeypatch, own_db, lang=lang), ("commitments.csv", typo))
        expected = tr(
            "load_warning_unknown_process",
            lang,
            path="commitments.csv",
            kind="commitments",
            rows=1,
            processes="'Ventaz'",
        )
        assert expected in [w.value for w in at.warning], [w.value for w in at.warning]


def test_a_load_that_rejects_every_row_is_reported_as_failed(
    monkeypatch: pytest.MonkeyPatch, own_db: str
) -> None:
    """Issue 14, item 4, on the page: every row rejected is a failure, not a success."""
    all_bad = HEADER + "UP-0301,Malo,Ventas,Cliente Nuevo,2026-11-01,mañana,\n"
    at = _upload(_open(monkeypatch, own_db), ("commitments.csv", all_bad))
    expected_warning = tr(
        "load_warning_all_rejected", "es", path="commitments.csv", kind="commitments", rows=1
    )
    assert expected_warning in [w.value for w in at.warning]
    at.button(key="datos_load").click()
    at = _run(at)
    batches = _count(own_db, "SELECT max(batch_id) FROM load_batches")
    message = tr("load_all_rejected", "es", batch=batches, files="commitments.csv")
    assert [e.value for e in at.error] == [md_escape(message)]
    assert not at.success
