"""Estándares page (AppTest): standards in force and history, a calendar's week and days
off, and the what-if, in both languages, on the hand-worked world of
tests/metrics/test_standard_metrics.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.db import create_db_engine
from etl.load import load_files
from tests.dashboard.apptest_support import all_text, page_app, world_db


def _script() -> None:
    from dashboard.pages import estandares

    estandares.page()


def standards_db(tmp_path: Path) -> str:
    from tests.metrics.test_standard_metrics import (
        CALENDARS,
        COMMITMENTS,
        DEPENDENCIES,
        EVENTS,
        HOLIDAYS,
        POLICIES,
    )

    folder = tmp_path / "std"
    folder.mkdir()
    files = {
        "calendars": CALENDARS,
        "holidays": HOLIDAYS,
        "policies": POLICIES,
        "commitments": COMMITMENTS,
        "dependencies": DEPENDENCIES,
        "events": EVENTS,
    }
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    (folder / "dataset.toml").write_text('as_of = "2026-01-09T12:00:00"\n', encoding="utf-8")
    url = f"duckdb:///{tmp_path / 'std.duckdb'}"
    engine = create_db_engine(url)
    load_files(engine, [folder], tz="Europe/Madrid")
    engine.dispose()
    return url


def test_standards_calendar_and_what_if_in_english(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = page_app(monkeypatch, standards_db(tmp_path), _script, lang="en").run()
    assert not at.exception
    text = all_text(at)
    assert "Service standards" in text and "Standards in force" in text
    in_force = at.dataframe[0].value
    assert sorted(in_force["Standard"]) == ["logistics", "support-any", "support-high"]
    assert in_force.set_index("Standard").loc["support-high", "Version"] == 2
    assert in_force.set_index("Standard").loc["logistics", "Calendar"] == "24 × 7"
    assert len(at.dataframe[1].value) == 4  # every version in the history
    risk = at.dataframe[2].value.set_index("Commitment")
    assert risk.loc["C7", "Reason"] == "breached upstream + target mostly run"
    assert risk.loc["C7", "Business time left"] == "1 h"
    assert risk.loc["C8", "Reason"] == "breached upstream"
    week = at.dataframe[3].value
    assert list(week["Day"]) == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    assert set(week["Working hours"]) == {"09:00–13:00, 15:00–18:00"}
    assert "2026-01-06" in at.dataframe[4].value.to_csv()

    # what-if on support-high: the page proposes the target in force (4 h): nothing flips
    at.selectbox(key="w_std_policy").set_value("support-high").run()
    assert "No commitment changes verdict." in all_text(at)
    # at 7 h C1 (delivered Wed 16:00) would have been due Wed 15:30: it flips
    at.number_input(key="w_std_proposed").set_value(7.0).run()
    assert not at.exception
    flips = at.dataframe[-1].value
    assert list(flips["Commitment"]) == ["C1"]
    assert (flips.iloc[0]["Now"], flips.iloc[0]["Proposed"]) == ("within", "outside")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Within standard at 4.0 h"] == "33.3%"
    assert metrics["At 7.0 h"] == "0.0%"


def test_spanish_and_empty_standards(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = page_app(monkeypatch, standards_db(tmp_path), _script, lang="es").run()
    assert not at.exception
    text = all_text(at)
    assert "Estándares de servicio" in text and "Historial de versiones" in text
    assert list(at.dataframe[3].value["Día"])[:2] == ["lunes", "martes"]
    assert "plazo consumido" in at.dataframe[2].value.to_csv()
    # a database without standards says so
    at = page_app(monkeypatch, world_db(tmp_path), _script, lang="es").run()
    assert not at.exception
    assert "Aún no hay estándares de servicio cargados." in all_text(at)


def _tracking_script() -> None:
    from dashboard.pages import seguimiento

    seguimiento.page()


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("es", ("Estándar support-high v2", "30 min hábiles restantes", "reloj en pausa")),
        ("en", ("Standard support-high v2", "3 h 30 min of business time left", "clock paused")),
    ],
)
def test_seguimiento_shows_the_standard_and_the_countdown(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lang: str, words: tuple[str, ...]
) -> None:
    at = page_app(monkeypatch, standards_db(tmp_path), _tracking_script, lang=lang)
    at.query_params["commitment"] = "C9"
    at.run()
    assert not at.exception
    text = all_text(at)
    for word in words:
        assert word in text
    assert "3 h 30 min" in text  # C9: 4 h target, 0.5 h run before its pause


def test_fmt_hours_minutes() -> None:
    from dashboard.texts import fmt_hours_minutes

    assert fmt_hours_minutes(10 / 3) == "3 h 20 min"
    assert fmt_hours_minutes(0.5) == "30 min"
    assert fmt_hours_minutes(2.0) == "2 h"
