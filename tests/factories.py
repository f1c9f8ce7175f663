"""Tiny builders for hand-worked fixtures: insert canonical rows with sensible defaults.

Used by metric and dashboard tests that need a few rows, not the ETL. Defaults come
from the schema's RECORD_KINDS, so a new column never breaks them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from etl.event_steps import store_all_event_steps
from etl.schema import RECORD_KINDS

_COMMITMENT_DEFAULTS: dict[str, Any] = {
    "process": "Ventas",
    "customer": "Cliente A",
    "customer_type": "external",
    "direction": "to_customer",
    "requested_at": datetime(2026, 1, 1),
    "cancelled": False,
}


def insert_rows(engine: sa.Engine, kind: str, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert rows of one record kind; columns left out take the kind's default or NULL."""
    record = RECORD_KINDS[kind]
    full: list[dict[str, Any]] = []
    for row in rows:
        base: dict[str, Any] = {f.name: f.default for f in record.fields}
        if kind == "commitments":
            base.update(_COMMITMENT_DEFAULTS)
        base.update(row)
        # A column left empty takes the table's own scalar default (events.seq = 1).
        for column in record.table.columns:
            default = column.default
            if base.get(column.name) is None and isinstance(default, ScalarElementColumnDefault):
                base[column.name] = default.arg
        full.append(base)
    if full:
        with engine.begin() as conn:
            conn.execute(record.table.insert(), full)
            if kind == "events":  # what a load derives from them: each event's successor
                store_all_event_steps(conn)


def commitment(cid: str, due: datetime, delivered: datetime | None = None, **kw: Any) -> dict:
    """One commitment row: id, due date, delivery (None = still open), anything else."""
    return {"commitment_id": cid, "due_at": due, "delivered_at": delivered, **kw}
