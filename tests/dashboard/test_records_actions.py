"""Action items: created in a week, carried to later reviews until closed."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from dashboard.records import RecordError
from dashboard.records.actions import (
    ActionError,
    actions_for_week,
    create_action,
    open_actions,
    update_action_status,
)


def test_items_are_carried_until_closed(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        a = create_action(
            conn, "2026-W46", "Llamar a Compras", "Ruth", date(2026, 11, 20),
            created_by="q", created_at=datetime(2026, 11, 9, 10),
        )  # fmt: skip
        b = create_action(conn, "2026-W46", "Revisar plan", created_at=datetime(2026, 11, 9, 11))
        c = create_action(conn, "2026-W47", "Nuevo proveedor", created_at=datetime(2026, 11, 16))
        d = create_action(conn, "2026-W48", "Futuro", created_at=datetime(2026, 11, 23))
        # b closed during W46: not carried into W47
        update_action_status(conn, b, "done", at=datetime(2026, 11, 12))
    assert (a, b, c, d) == (1, 2, 3, 4)
    with engine.connect() as conn:
        w47 = actions_for_week(conn, "2026-W47")
        w46 = actions_for_week(conn, "2026-W46")
    assert list(w47["action_id"]) == [a, c]
    assert list(w47["carried"]) == [True, False]
    assert list(w46["action_id"]) == [a, b]  # both raised that week, whatever their status
    assert w47.loc[0, "owner"] == "Ruth"
    assert w47.loc[0, "due_date"] == date(2026, 11, 20)

    # a closed in W48: the W48 review still shows it (closed since the last meeting),
    # W49 no longer does.
    with engine.begin() as conn:
        update_action_status(conn, a, "done", at=datetime(2026, 11, 24))
    with engine.connect() as conn:
        assert list(actions_for_week(conn, "2026-W48")["action_id"]) == [a, c, d]
        assert list(actions_for_week(conn, "2026-W49")["action_id"]) == [c, d]
        assert list(open_actions(conn)["action_id"]) == [c, d]


def test_reopening_clears_closed_at_and_bad_input_is_refused(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        a = create_action(conn, "2026-W47", "X", created_at=datetime(2026, 11, 16))
        update_action_status(conn, a, "dropped", at=datetime(2026, 11, 17))
        update_action_status(conn, a, "open")
    with engine.connect() as conn:
        row = actions_for_week(conn, "2026-W47").iloc[0]
    assert row["status"] == "open" and row["closed_at"] is None
    with engine.begin() as conn:
        with pytest.raises(ActionError, match="status"):
            update_action_status(conn, a, "finished")
        with pytest.raises(ActionError, match="no action item 99"):
            update_action_status(conn, 99, "done")
        with pytest.raises(ActionError, match="description"):
            create_action(conn, "2026-W47", "   ")
        with pytest.raises(RecordError, match="ISO week"):
            create_action(conn, "47/2026", "X")
        with pytest.raises(RecordError, match="does not exist"):
            create_action(conn, "2026-W54", "X")
