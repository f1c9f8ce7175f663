"""Row-level access through the real app, page by page (AppTest of dashboard/app.py).

A viewer scoped to stage Ventas and customer Acme (tests/scope_world.py) signs in and
opens every page. Each page must show exactly what single-user mode shows on a copy of
the database from which every other row was deleted (the independent computation of
"their rows only": every number, table, chart and option), and no id, name or marker of
a hidden row anywhere. The hand-worked cards pin a few of those numbers directly.
"""

from __future__ import annotations

import functools
import io
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import streamlit as st
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from dashboard import serve
from dashboard.access import auth
from dashboard.metrics import kpis
from dashboard.metrics.filters import RowScope
from dashboard.ui.i18n import fmt_kpi
from dashboard.ui.i18n import t as i18n_t
from dashboard.ui.texts import tr
from etl.db import create_db_engine
from etl.schema import create_schema
from tests.dashboard.conftest import make_app
from tests.dashboard.test_hostile_urls import markdown_texts
from tests.scope_world import SCOPE, SECRETS, delete_outside, load_scope_world

PAGES = (
    "resumen", "cumplimiento", "cadena", "satisfaccion", "revision", "seguimiento",
    "avisos", "metas", "estandares",
)  # fmt: skip
PASSWORD = "sol's password!"
HASH_AGAIN = auth.hash_password(PASSWORD)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(the whole world, the same world with only the scoped user's rows left)."""
    folder = tmp_path_factory.mktemp("scope")
    whole = folder / "whole.duckdb"
    engine = create_db_engine(f"duckdb:///{whole}")
    create_schema(engine)
    load_scope_world(engine)
    engine.dispose()
    alone = folder / "alone.duckdb"
    shutil.copy(whole, alone)
    engine = create_db_engine(f"duckdb:///{alone}")
    delete_outside(engine, SCOPE)
    engine.dispose()
    return f"duckdb:///{whole}", f"duckdb:///{alone}"


@pytest.fixture(scope="module")
def auth_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "auth.yaml"
    data = auth.with_user({}, "sol", "viewer", auth.hash_password(PASSWORD), scope=SCOPE)
    data = auth.with_user(data, "val", "viewer", auth.hash_password(PASSWORD))  # all rows
    auth.write_raw_config(path, data)
    return path


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _signed_in(
    monkeypatch: pytest.MonkeyPatch, url: str, auth_path: Path, user: str = "sol", **query: str
) -> AppTest:
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(auth_path))
    at = _run(make_app(monkeypatch, url, **query))
    fields = {f.label: f for f in at.text_input}
    fields[auth.auth_text("login_user", "es")].input(user)
    fields[auth.auth_text("login_password", "es")].input(PASSWORD)
    next(b for b in at.button if b.label == auth.auth_text("login_button", "es")).click()
    return _run(at)


def _open(at: AppTest, page: str, **query: str) -> AppTest:
    at.query_params["page"] = page
    for key, value in query.items():
        at.query_params[key] = value
    return _run(at)


def page_content(at: AppTest) -> list[str]:
    """Everything the main area shows: texts, cards, tables, chart data, widget options."""
    parts = [str(getattr(e, "value", "")) for kind in ("title", "subheader", "caption", "markdown",
             "info", "warning", "error", "success", "code") for e in at.main.get(kind)]  # fmt: skip
    parts += [f"{m.label}={m.value}|{m.delta}" for m in at.main.metric]
    parts += [frame.value.to_csv() for frame in at.main.dataframe]
    parts += [str(list(s.options)) for s in at.main.selectbox]
    for chart in at.main.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        parts.append(json.dumps(spec.get("data"), sort_keys=True))
    for chart in at.main.get("arrow_vega_lite_chart"):
        parts.append(str(chart.proto.spec))
    return parts


def everything_shown(at: AppTest) -> str:
    """The page's content plus every Markdown text and widget option, sidebar included."""
    options = [str(list(getattr(w, "options", []))) for w in at.sidebar.get("multiselect")]
    return "\n".join(page_content(at) + markdown_texts(at) + options)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """url -> bytes of every file a page offers for download (AppTest keeps them in an
    in-memory media store; this records what goes in)."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        if isinstance(path_or_data, bytes | str):
            data = path_or_data if isinstance(path_or_data, bytes) else path_or_data.encode()
            files[self.get_url(file_id)] = data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return files


def export_texts(at: AppTest, files: dict[str, bytes]) -> dict[str, str]:
    """label -> the text of each download button's file (an .xlsx read cell by cell)."""
    out: dict[str, str] = {}
    for button in at.get("download_button"):
        data = files[button.proto.url]
        if data.startswith(b"PK"):
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
            cells = [
                str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                for v in row if v is not None
            ]  # fmt: skip
            out[button.proto.label] = "\n".join(cells)
        else:
            out[button.proto.label] = data.decode("utf-8-sig")
    return out


@pytest.fixture(scope="module")
def reference(worlds: tuple[str, str], auth_path: Path) -> dict[str, list[str]]:
    """Each page for a viewer without a scope, on the database holding the allowed rows
    alone (same role, so the same controls: only the rows differ)."""
    mp = pytest.MonkeyPatch()
    try:
        at = _signed_in(mp, worlds[1], auth_path, user="val")
        out = {}
        for page in PAGES:
            query = {"commitment": "OK-V1"} if page == "seguimiento" else {}
            out[page] = page_content(_open(at, page, **query))
    finally:
        mp.undo()
    return out


@pytest.fixture
def scoped_app(
    monkeypatch: pytest.MonkeyPatch, worlds: tuple[str, str], auth_path: Path
) -> AppTest:
    return _signed_in(monkeypatch, worlds[0], auth_path)


def test_every_page_shows_only_the_allowed_rows(
    scoped_app: AppTest, reference: dict[str, list[str]]
) -> None:
    at = scoped_app
    for page in PAGES:
        at = _open(at, page, **({"commitment": "OK-V1"} if page == "seguimiento" else {}))
        shown = page_content(at)
        assert shown, page
        assert shown == reference[page], page
        text = everything_shown(at)
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, (page, leaked)


def test_every_export_of_every_page_holds_only_the_allowed_rows(
    scoped_app: AppTest, downloads: dict[str, bytes]
) -> None:
    """The review pack (HTML, Excel), the notices CSV, the targets CSV and the calendars:
    the bytes a scoped user downloads name their rows and nothing else."""
    at = scoped_app
    seen: dict[str, str] = {}
    for page in ("revision", "avisos", "metas", "seguimiento"):
        at = _open(at, page, **({"commitment": "OK-V1"} if page == "seguimiento" else {}))
        for label, text in export_texts(at, downloads).items():
            seen[f"{page}: {label}"] = text
            leaked = [s for s in SECRETS if s in text]
            assert not leaked, (page, label, leaked)
    assert len(seen) >= 7, sorted(seen)  # 2 review files, notices, targets, 3 calendars
    assert any("OK-V3" in text for text in seen.values())  # the exports are not empty


def test_hand_worked_cards_and_the_scope_caption(scoped_app: AppTest) -> None:
    at = _open(scoped_app, "resumen")
    cards = {m.label: m.value for m in at.main.metric}
    assert cards[i18n_t("kpi_on_time_rate", "es")] == fmt_kpi("on_time_rate", 1 / 3, "es")
    assert cards[i18n_t("kpi_propagation_rate", "es")] == fmt_kpi("propagation_rate", 0.5, "es")
    captions = [c.value for c in at.sidebar.caption]
    assert i18n_t("row_scope", "es", scope="etapas: Ventas; clientes: Acme") in captions
    assert at.sidebar.multiselect[0].options == ["Ventas"]


@pytest.mark.parametrize(
    "query",
    [
        {"stages": "Compras"},
        {"stage": "Compras", "performer": "perf-X-COMP-1"},
        {"commitment": "X-COMP-1"},
        {"commitment": "Beta Corp"},
        {"root": "X-COMP-1"},
    ],
)
def test_a_hand_made_url_never_widens_the_scope(
    monkeypatch: pytest.MonkeyPatch, worlds: tuple[str, str], auth_path: Path, query: dict
) -> None:
    at = _signed_in(monkeypatch, worlds[0], auth_path, **query)
    for page in ("cumplimiento", "seguimiento", "cadena"):
        at = _open(at, page, **query)
        text = everything_shown(at)
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, (page, query, leaked)


def test_a_scope_changed_in_the_file_applies_at_the_next_click(
    monkeypatch: pytest.MonkeyPatch, worlds: tuple[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "auth.yaml"
    data = auth.with_user({}, "sol", "viewer", auth.hash_password(PASSWORD), scope=SCOPE)
    auth.write_raw_config(path, data)
    at = _open(_signed_in(monkeypatch, worlds[0], path), "resumen")
    assert "Beta Corp" not in everything_shown(at)
    beta = RowScope(customers=("Beta Corp",))
    auth.write_raw_config(path, auth.with_user(data, "sol", "viewer", HASH_AGAIN, scope=beta))
    at = _open(at, "seguimiento", commitment="X-VB-5")
    shown = everything_shown(at)
    assert "X-VB-5" in shown and "OK-V1" not in shown
    assert i18n_t("row_scope", "es", scope="clientes: Beta Corp") in [
        c.value for c in at.sidebar.caption
    ]


def test_warming_with_users_serves_the_unscoped_view_and_never_a_scoped_one(
    monkeypatch: pytest.MonkeyPatch, worlds: tuple[str, str], auth_path: Path
) -> None:
    """serve.warm_caches runs outside any session: it fills the unrestricted view's
    entries (an unscoped viewer's first Resumen computes nothing), and a scoped viewer
    never gets them (their own numbers are computed for their scope)."""
    monkeypatch.setenv("ESLABON_AUTH_FILE", str(auth_path))
    monkeypatch.setenv("ESLABON_DB_URL", worlds[0])
    st.cache_data.clear()
    warm = threading.Thread(target=serve.warm_caches)  # as the server does: no session
    warm.start()
    warm.join()
    calls: list[str] = []
    original = kpis.headline_kpis

    @functools.wraps(original)
    def counting(*args: Any, **kwargs: Any) -> object:
        calls.append("headline_kpis")
        return original(*args, **kwargs)

    monkeypatch.setattr(kpis, "headline_kpis", counting)
    _signed_in(monkeypatch, worlds[0], auth_path, user="val")
    assert calls == []
    at = _signed_in(monkeypatch, worlds[0], auth_path, user="sol")
    assert calls  # computed for sol's scope, not read from the warmed entries
    cards = {m.label: m.value for m in at.main.metric}
    assert cards[i18n_t("kpi_on_time_rate", "es")] == fmt_kpi("on_time_rate", 1 / 3, "es")


def test_pages_that_span_every_row_are_closed_to_a_scoped_user(
    scoped_app: AppTest, monkeypatch: pytest.MonkeyPatch, worlds: tuple[str, str], auth_path: Path
) -> None:
    """Suscripciones lists every recipient with their filter and the delivery log (and a
    subscription would mail any rows anywhere); Datos shows the load history."""
    assert set(scoped_app.session_state["_eslabon_pages"]) == set(PAGES)
    at = _open(scoped_app, "suscripciones")
    assert tr("page_suscripciones", "es") not in [t.value for t in at.title]
    assert auth.auth_text("not_allowed", "es", action="read") in [w.value for w in at.warning]
    unscoped = _signed_in(monkeypatch, worlds[0], auth_path, user="val")
    assert "suscripciones" in unscoped.session_state["_eslabon_pages"]
    assert not any(
        auth.page_open_to(role, SCOPE, page) for role in auth.ROLES for page in auth.ALL_ROWS_PAGES
    )
