"""Metas page (AppTest): setting targets changes the lights; history; CSV import errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.apptest_support import all_text, page_app, world_db


def _script() -> None:
    from dashboard.views import metas

    metas.page()


def _light(at: AppTest, label: str = "On-time rate") -> str:
    table = at.table[0].value
    return str(table[table["KPI"] == label].iloc[0]["Light"])


def test_setting_targets_changes_the_light(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = page_app(monkeypatch, world_db(tmp_path), _script, lang="en").run()
    assert not at.exception
    # last full week at Fri 20 Nov 12:00 is W46: P1 on time, on-time rate 100 %
    assert "2026-W46" in all_text(at)
    table = at.table[0].value
    row = table[table["KPI"] == "On-time rate"].iloc[0]
    assert row["This week"] == "100.0%" and row["Light"] == "No target"

    at.selectbox(key="w_t_kpi").set_value("on_time_rate")
    at.number_input(key="w_t_value").set_value(0.9)
    at.number_input(key="w_t_tol").set_value(0.05)
    at.date_input(key="w_t_from").set_value(date(2026, 11, 1))
    at.text_input(key="w_records_who").set_value("Marta")
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    assert "Target saved." in all_text(at)
    assert _light(at) == "✓ On target"

    # a stricter target from 10 Nov: 100 % misses 1.02 by 2 points, tolerance 1 point -> red
    at.number_input(key="w_t_value").set_value(1.02)
    at.number_input(key="w_t_tol").set_value(0.01)
    at.date_input(key="w_t_from").set_value(date(2026, 11, 10))
    at.button[0].click().run()
    assert _light(at) == "✗ Off target"
    history = at.dataframe[0].value
    assert list(history["Set by"]) == ["Marta", "Marta"]
    # in the KPI's own format (a rate in %), the tolerance in percentage points
    assert sorted(history["Target value"]) == ["102.0%", "90.0%"]
    assert sorted(history["Amber tolerance"]) == ["1.0 pp", "5.0 pp"]
    assert sorted(history["Valid from"]) == ["2026-11-01", "2026-11-10"]


def test_empty_history_says_so_and_export_is_offered(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = page_app(monkeypatch, world_db(tmp_path), _script).run()
    assert "Aún no hay metas." in all_text(at)
    assert at.get("download_button")  # export offered even when empty
