"""Datos (AppTest): a hostile mapping is a mapping error naming the upload, never a
database failure with the server's paths; a bug on the page is a plain message, not the
database error state (issue 17, item 7c)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.ui.i18n import t
from dashboard.views import datos
from etl.settings import PROJECT_ROOT
from tests.dashboard.apptest_support import all_text, world_db
from tests.dashboard.conftest import make_app

DEEP = "[commitments]\ncolumns = { title = " + "[" * 10_000 + "]" * 10_000 + " }\n"


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(tmp_path / "none.yaml"))  # single-user admin
    return world_db(tmp_path)


def _no_server_paths(at: AppTest, world: str) -> None:
    text = all_text(at)
    assert t("db_error_title", "es") not in text
    assert str(PROJECT_ROOT) not in text and world.removeprefix("duckdb:///") not in text
    assert "/tmp" not in text and "duckdb:" not in text


def test_a_deeply_nested_uploaded_mapping_is_a_mapping_error(
    monkeypatch: pytest.MonkeyPatch, world: str
) -> None:
    at = _run(make_app(monkeypatch, world, page="datos"))
    at.selectbox(key=datos.K_MAPPING).set_value(datos.UPLOADED_MAPPING)
    at = _run(at)
    uploader = next(u for u in at.file_uploader if (u.key or "").startswith("datos_mapping_file_"))
    uploader.set_value(("deep.toml", DEEP.encode("utf-8"), "application/toml"))
    at = _run(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "deep.toml" in errors[0] and "nested too deeply" in errors[0]
    _no_server_paths(at, world)


def test_a_bug_on_datos_is_not_reported_as_a_database_failure(
    monkeypatch: pytest.MonkeyPatch, world: str
) -> None:
    def broken(lang: str) -> None:
        raise RuntimeError(f"boom in {PROJECT_ROOT}/etl/secret.py")

    monkeypatch.setattr(datos, "sample_section", broken)
    at = _run(make_app(monkeypatch, world, page="datos"))
    assert [e.value for e in at.error] == [t("page_failed", "es")]
    _no_server_paths(at, world)
