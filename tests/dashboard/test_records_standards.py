"""save_policy_version on DuckDB and PostgreSQL: a new version recomputes the standard
dues by hand-worked values, and every refusal the ETL would give is given here too."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from dashboard.records.standards import StandardError, save_policy_version, standards_kind
from tests.metrics.test_standard_metrics import world  # noqa: F401 (the fixture)


def _due(conn: sa.Connection, commitment: str) -> tuple:
    return tuple(
        conn.execute(
            sa.text(
                "SELECT standard_due_at, due_at, policy_id, policy_version FROM commitments "
                "WHERE commitment_id = :c"
            ),
            {"c": commitment},
        ).fetchall()[0]
    )


def test_a_new_version_moves_the_derived_due_dates(world: sa.Engine) -> None:  # noqa: F811
    with world.begin() as conn:
        saved = save_policy_version(
            conn,
            "support-high",
            1.5,
            date(2026, 1, 8),
            "edu",
            calendar="office",
            process="Soporte",
            priority="high",
            pause_stages=("Waiting customer",),
            tz="Europe/Madrid",
        )
    assert (saved.version, saved.policy_id) == (3, "support-high")
    with world.connect() as conn:
        # C7 requested Fri 9 Jan 09:00: 1.5 office hours → 10:30 (was 13:00 under v2's 4 h)
        assert _due(conn, "C7") == (datetime(2026, 1, 9, 10, 30),) * 2 + ("support-high", 3)
        # C9, same request time, paused in Waiting customer from 09:30 until as_of (the
        # data set's 2026-01-09 12:00): 0.5 h run before the pause, the other 1 h from
        # 12:00 → 13:00 (under v2's 4 h it was 12–13 and 15–17:30 → 17:30)
        assert _due(conn, "C9")[0] == datetime(2026, 1, 9, 13, 0)
        assert _due(conn, "C2")[2:] == ("support-high", 2)  # requested Wed 7th: v2
        set_by = conn.execute(
            sa.text(
                "SELECT set_by FROM policies WHERE policy_id = 'support-high' "
                "ORDER BY valid_from DESC"
            )
        ).fetchall()[0][0]
    assert set_by == "edu"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("logistics", 0.0, date(2026, 1, 8)), {}, "El objetivo debe ser mayor que 0 horas"),
        (("logistics", -2.0, date(2026, 1, 8)), {}, "El objetivo debe ser mayor que 0 horas"),
        (("logistics", 4.0, date(2026, 1, 8)), {"calendar": "nowhere"}, "'nowhere' no está"),
        (("x", 4.0, date(2026, 1, 8)), {"process": "Logística"}, "'logistics' tiene el mismo"),
        (("logistics", 4.0, date(2026, 1, 1)), {"process": "Logística"}, "después de la última"),
        (("  ", 4.0, date(2026, 1, 8)), {}, "Falta el id"),
    ],
)
def test_refusals_in_the_page_language(
    world: sa.Engine,  # noqa: F811
    args: tuple[str, float, date],
    kwargs: dict[str, Any],
    message: str,
) -> None:
    with world.begin() as conn, pytest.raises(StandardError, match=message):
        save_policy_version(conn, *args, "edu", lang="es", **kwargs)
    with world.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM policies")).fetchall()[0][0] == 4


def test_standards_kind() -> None:
    assert standards_kind("policies-2026.csv") == "policies"
    assert standards_kind("dir/Calendars.xlsx") == "calendars"
    assert standards_kind("events.csv") is None
