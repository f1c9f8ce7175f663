"""Estándares page (AppTest): standards in force and history, a calendar's week and days
off, and the what-if, in both languages, on the hand-worked world of
tests/metrics/test_standard_metrics.py."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl.db import create_db_engine
from etl.load import load_files
from tests.dashboard.apptest_support import all_text, page_app, world_db


def _script() -> None:
    from dashboard.views import estandares

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
    # the scope in the page's words, never the column names
    scopes = at.dataframe[0].value.set_index("Estándar")["Alcance"]
    assert scopes.loc["support-high"] == "Etapa: Soporte, Prioridad: high"
    assert "plazo consumido" in at.dataframe[2].value.to_csv()
    # a database without standards says so
    at = page_app(monkeypatch, world_db(tmp_path), _script, lang="es").run()
    assert not at.exception
    assert "Aún no hay estándares de servicio cargados." in all_text(at)


def _tracking_script() -> None:
    from dashboard.views import seguimiento

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
    from dashboard.ui.i18n import fmt_hours_minutes

    assert fmt_hours_minutes(10 / 3, "es") == "3 h 20 min"
    assert fmt_hours_minutes(0.5, "en") == "30 min"
    assert fmt_hours_minutes(2.0, "es") == "2 h"
    assert fmt_hours_minutes(1200.25, "es") == "1.200 h 15 min"
    assert fmt_hours_minutes(1200.25, "en") == "1,200 h 15 min"


# --- editing standards (editor role) ----------------------------------------------


def _as_role(monkeypatch: pytest.MonkeyPatch, role: str, who: str) -> None:
    """The session signed in as `who` with `role` (what access_gate.current_access returns
    once the auth file says so; test_roles.py covers the sign-in itself)."""
    from dashboard.metrics.filters import EVERYTHING
    from dashboard.views import access_gate

    access = access_gate.Access(
        mode="login", role=role, who=who, method="password", scope=EVERYTHING
    )
    monkeypatch.setattr(access_gate, "current_access", lambda: access)


def _stored_due(url: str, commitment: str) -> tuple:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT standard_due_at, due_at, policy_id, policy_version FROM commitments "
                "WHERE commitment_id = :c"
            ),
            {"c": commitment},
        ).fetchall()[0]
    engine.dispose()
    return tuple(row)


def test_editor_saves_a_new_version_and_due_dates_follow(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = standards_db(tmp_path)
    # before: C7 (Soporte/high, requested Fri 2026-01-09 09:00) under support-high v2,
    # 4 office hours from 09:00 → 13:00 the same morning
    assert _stored_due(url, "C7")[:1] == (datetime(2026, 1, 9, 13, 0),)
    _as_role(monkeypatch, "editor", "edu")
    at = page_app(monkeypatch, url, _script, lang="en").run()
    assert not at.exception
    assert at.button(key="w_std_edit_logistics_save").label == "Save version"
    at.selectbox(key="w_std_edit_policy").set_value("support-high").run()
    # the fields start at the latest version
    assert at.number_input(key="w_std_edit_support-high_target").value == 4.0
    assert at.text_input(key="w_std_edit_support-high_pauses").value == "Waiting customer"
    at.number_input(key="w_std_edit_support-high_target").set_value(2.0)
    at.date_input(key="w_std_edit_support-high_from").set_value(date(2026, 1, 8))
    at.button(key="w_std_edit_support-high_save").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Saved version 3 of support-high" in all_text(at)
    in_force = at.dataframe[0].value.set_index("Standard")
    assert in_force.loc["support-high", "Version"] == 3
    assert in_force.loc["support-high", "Target (business h)"] == "2.0"
    assert in_force.loc["support-high", "Set by"] == "edu"
    history = at.dataframe[1].value
    assert len(history) == 5  # the old versions stay
    old = history[history["Standard"] == "support-high"].set_index("Version")
    assert list(old["Target (business h)"]) == ["8.0", "4.0", "2.0"]
    # by hand: 2 office hours from Fri 09:00 (window 09:00–13:00) → 11:00; the due date
    # came from the standard, so due_at follows it; C2 (requested Wed 7th) keeps v2
    assert _stored_due(url, "C7") == (
        datetime(2026, 1, 9, 11, 0),
        datetime(2026, 1, 9, 11, 0),
        "support-high",
        3,
    )
    assert _stored_due(url, "C2")[2:] == ("support-high", 2)


def test_a_non_positive_target_is_refused_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = standards_db(tmp_path)
    _as_role(monkeypatch, "editor", "edu")
    at = page_app(monkeypatch, url, _script, lang="es").run()
    at.selectbox(key="w_std_edit_policy").set_value("logistics").run()
    at.number_input(key="w_std_edit_logistics_target").set_value(0.0)
    at.button(key="w_std_edit_logistics_save").click().run()
    assert not at.exception
    errors = [str(e.value) for e in at.error]
    assert any("El objetivo debe ser mayor que 0 horas" in e for e in errors), errors
    assert len(at.dataframe[1].value) == 4  # nothing written


def test_a_same_scope_policy_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = standards_db(tmp_path)
    _as_role(monkeypatch, "editor", "edu")
    at = page_app(monkeypatch, url, _script, lang="en").run()
    at.selectbox(key="w_std_edit_policy").set_value("+new").run()
    at.text_input(key="w_std_edit_new_id").input("logistics-2")
    at.text_input(key="w_std_edit_+new_process").input("Logística")
    at.button(key="w_std_edit_+new_save").click().run()
    assert not at.exception
    errors = " ".join(str(e.value) for e in at.error)
    assert "Standard 'logistics' has the same scope" in errors


def _forged_write() -> None:
    from datetime import date

    import streamlit as st

    from dashboard.records.standards import save_policy_version
    from dashboard.views import records_ui

    ok, result = records_ui.write(save_policy_version, "logistics", 1.0, date(2026, 1, 8), "x")
    st.text(f"result={ok}:{result}")


def test_a_viewer_sees_no_form_and_a_forged_write_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = standards_db(tmp_path)
    _as_role(monkeypatch, "viewer", "vera")
    at = page_app(monkeypatch, url, _script, lang="en").run()
    assert not at.exception
    assert "New version of a standard" not in all_text(at)
    assert not [b for b in at.button if str(b.key).startswith("w_std_edit")]
    assert len(at.get("file_uploader")) == 0
    at = page_app(monkeypatch, url, _forged_write, lang="en").run()
    assert "result=False:not allowed" in all_text(at)
    engine = create_db_engine(url)
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM policies")).fetchall()[0][0]
    engine.dispose()
    assert count == 4


def test_editor_imports_a_policies_file_through_the_load(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = standards_db(tmp_path)
    _as_role(monkeypatch, "editor", "edu")
    at = page_app(monkeypatch, url, _script, lang="en").run()
    policies = (
        "policy_id,target_hours,calendar,process,valid_from\n"
        "logistics,24,,Logística,2026-01-08\n"  # a new version of logistics
        "support-any,0,office,Soporte,2026-01-08\n"  # refused: non-positive target
    )
    at.file_uploader(key="w_std_import_files").upload("policies.csv", policies.encode(), "text/csv")
    at.run()
    at.button(key="w_std_import").click().run()
    assert not at.exception, [e.message for e in at.exception]
    text = all_text(at)
    assert "new, 0 changed, 1 rejected" in text
    counts = next(d.value for d in at.dataframe if "File" in d.value.columns and "Read" in d.value)
    row = counts.iloc[0]
    assert (row["File"], row["Read"], row["New"], row["Rejected"]) == ("policies.csv", 2, 1, 1)
    rejects = next(d.value for d in at.dataframe if "Reason" in d.value and "Row" in d.value)
    assert list(rejects["Row"]) == [3] and list(rejects["Column"]) == ["target_hours"]
    assert "must be more than 0" in str(rejects["Reason"].iat[0])
    in_force = at.dataframe[0].value.set_index("Standard")
    assert in_force.loc["logistics", "Version"] == 2
    # C6 (Logística, requested Mon 5th, 24 × 7) keeps version 1: it was requested before
    assert _stored_due(url, "C6")[2:] == ("logistics", 1)
    # a file of another kind is refused before anything is read
    at.file_uploader(key="w_std_import_files").upload("events.csv", b"x\n", "text/csv")
    at.run()
    at.button(key="w_std_import").click().run()
    assert "Not a calendars, holidays or policies file: events.csv" in all_text(at)
