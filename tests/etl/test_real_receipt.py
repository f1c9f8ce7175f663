"""The real CoSeLoG receipt log loads through its shipped mapping with the published counts.

Issue 2: 1,434 commitments and 8,577 events; 952 of the 1,329 delivered commitments were
delivered on or before due. The counts come from the source (pm4py's receipt.csv: one
case per `case:concept:name`, one event per row) and are checked on both backends.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from etl.load import load_files

MAPPING = Path(__file__).resolve().parents[2] / "etl" / "mappings" / "receipt_coselog.toml"


@pytest.fixture
def receipt(real_data: Path) -> Path:
    path = real_data / "receipt_coselog.csv"
    if not path.exists():
        pytest.skip(f"real file missing: {path}")
    return path


def test_receipt_log_loads_with_the_published_counts(engine: sa.Engine, receipt: Path) -> None:
    report = load_files(engine, [receipt], mapping=MAPPING)
    assert [(f.kind, f.read, f.new, f.rejected) for f in report.files] == [
        ("commitments", 1434, 1434, 0),
        ("events", 8577, 8577, 0),
    ]
    with engine.connect() as conn:
        commitments = conn.execute(sa.text("SELECT count(*) FROM commitments")).scalar()
        events = conn.execute(sa.text("SELECT count(*) FROM events")).scalar()
        delivered, on_time = conn.execute(
            sa.text(
                "SELECT count(delivered_at), "
                "count(*) FILTER (WHERE delivered_at <= due_at) FROM commitments"
            )
        ).one()
    assert (commitments, events) == (1434, 8577)
    assert (delivered, on_time) == (1329, 952)

    again = load_files(engine, [receipt], mapping=MAPPING)
    assert [(f.unchanged, f.new, f.changed) for f in again.files] == [(1434, 0, 0), (8577, 0, 0)]
