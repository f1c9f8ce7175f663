"""Process map worked by hand on tiny logs, on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.process_map import (
    chain_rank,
    directly_follows,
    in_chain_order,
    process_chain,
    process_dependency_flows,
    stage_durations,
)
from tests.factories import commitment, insert_rows

AS_OF = datetime(2026, 3, 10, 12, 0)
F = MetricFilter(as_of=AS_OF)
T0 = datetime(2026, 2, 1, 9, 0)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def ev(cid: str, stage: str, at: datetime, seq: int = 1) -> dict:
    return {"commitment_id": cid, "stage": stage, "at": at, "seq": seq}


def load_log(engine: sa.Engine) -> None:
    # K1: a@0 b@1 c@3 b@4   -> a>b 1h, b>c 2h, c>b 1h
    # K2: a@0 b@3 b@3 (the same step recorded twice, seq 1 and 2) -> a>b 3h, b>b 0h
    # K3: y@0 x@0 (a tie: ordered by stage name, x before y) z@2 -> x>y 0h, y>z 2h
    # K4 (Compras, due in April): a@0 c@5 -> a>c 5h
    # Not counted: K1's event after as_of, a cancelled case, a from_customer case.
    insert_rows(
        engine,
        "commitments",
        [
            commitment("K1", datetime(2026, 3, 2)),
            commitment("K2", datetime(2026, 3, 3)),
            commitment("K3", datetime(2026, 3, 4)),
            commitment("K4", datetime(2026, 4, 1), process="Compras"),
            commitment("GONE", datetime(2026, 3, 4), cancelled=True),
            commitment("THEIRS", datetime(2026, 3, 4), direction="from_customer"),
        ],
    )
    insert_rows(
        engine,
        "events",
        [
            ev("K1", "a", h(0)),
            ev("K1", "b", h(1)),
            ev("K1", "c", h(3)),
            ev("K1", "b", h(4)),
            ev("K1", "c", AS_OF + timedelta(minutes=1)),
            ev("K2", "a", h(0)),
            ev("K2", "b", h(3)),
            ev("K2", "b", h(3), seq=2),
            ev("K3", "y", h(0)),
            ev("K3", "x", h(0)),
            ev("K3", "z", h(2)),
            ev("K4", "a", h(0)),
            ev("K4", "c", h(5)),
            ev("GONE", "a", h(0)),
            ev("GONE", "b", h(1)),
            ev("THEIRS", "a", h(0)),
            ev("THEIRS", "b", h(1)),
        ],
    )


def test_directly_follows_counts_and_medians(engine: sa.Engine) -> None:
    load_log(engine)
    with engine.connect() as conn:
        df = directly_follows(conn, F)
    assert df.to_dict("records") == [
        {"source": "a", "target": "b", "count": 2, "median_hours": 2.0},  # median of 1h, 3h
        {"source": "a", "target": "c", "count": 1, "median_hours": 5.0},
        {"source": "b", "target": "b", "count": 1, "median_hours": 0.0},
        {"source": "b", "target": "c", "count": 1, "median_hours": 2.0},
        {"source": "c", "target": "b", "count": 1, "median_hours": 1.0},
        {"source": "x", "target": "y", "count": 1, "median_hours": 0.0},
        {"source": "y", "target": "z", "count": 1, "median_hours": 2.0},
    ]


def test_filter_selects_cases_and_period_uses_due_date(engine: sa.Engine) -> None:
    load_log(engine)
    march = F.with_(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    compras = F.with_(processes=("Compras",))
    customer_side = F.with_(direction="from_customer")
    earlier = F.with_(as_of=h(1.5))  # known then: K1 a@0 b@1, K2 a@0, K3 y@0 x@0, K4 a@0
    with engine.connect() as conn:
        in_march = directly_follows(conn, march)
        only_compras = directly_follows(conn, compras)
        theirs = directly_follows(conn, customer_side)
        early = directly_follows(conn, earlier)
    # K4 is due in April: out of the March map although its events are in February
    assert ("a", "c") not in set(zip(in_march["source"], in_march["target"], strict=True))
    assert in_march["count"].sum() == 7
    assert only_compras[["source", "target", "count"]].to_dict("records") == [
        {"source": "a", "target": "c", "count": 1}
    ]
    assert theirs[["source", "target", "count"]].to_dict("records") == [
        {"source": "a", "target": "b", "count": 1}
    ]
    assert early.to_dict("records") == [
        {"source": "a", "target": "b", "count": 1, "median_hours": 1.0},
        {"source": "x", "target": "y", "count": 1, "median_hours": 0.0},
    ]


def test_stage_durations(engine: sa.Engine) -> None:
    load_log(engine)
    with engine.connect() as conn:
        df = stage_durations(conn, F).set_index("stage")
    # a: K1 1h, K2 3h, K4 5h -> median 3h. b: K1 2h, K2's first b 0h (K1's last b and
    # K2's second b are ends) -> median 1h.
    # c: K1 1h; K4's c is its last event. x 0h, y 2h, z last.
    assert list(df.loc["a"]) == [3, 3, 3.0]
    assert list(df.loc["b"]) == [4, 2, 1.0]
    assert list(df.loc["c"]) == [2, 1, 1.0]
    assert list(df.loc["x"]) == [1, 1, 0.0]
    assert list(df.loc["z"]) == [1, 0, None]
    assert list(df.index) == ["a", "b", "c", "x", "y", "z"]


def test_empty_log(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert directly_follows(conn, F).empty
        assert stage_durations(conn, F).empty
        assert list(directly_follows(conn, F).columns) == [
            "source",
            "target",
            "count",
            "median_hours",
        ]


def test_process_chain_order_and_rates(engine: sa.Engine) -> None:
    insert_rows(
        engine,
        "processes",
        [
            {"process": "Compras", "stage_order": 2, "area": "Operaciones"},
            {"process": "Ventas", "stage_order": 1, "area": "Comercial"},
            {"process": "Postventa", "stage_order": 7},
        ],
    )
    insert_rows(
        engine,
        "commitments",
        [
            commitment("v1", datetime(2026, 3, 2), datetime(2026, 3, 1), process="Ventas"),
            commitment("v2", datetime(2026, 3, 2), datetime(2026, 3, 4), process="Ventas"),
            commitment("v3", datetime(2026, 3, 2), datetime(2026, 3, 2), process="Ventas"),
            commitment("v4", datetime(2026, 3, 20), process="Ventas"),  # pending
            commitment("z1", datetime(2026, 3, 2), process="Zeta"),  # no processes row; breach
            commitment("a1", datetime(2026, 3, 2), process="Almacén"),  # no processes row
        ],
    )
    with engine.connect() as conn:
        df = process_chain(conn, F)
        only = process_chain(conn, F.with_(processes=("Ventas", "Zeta")))
    rows = df.to_dict("records")
    assert [r["process"] for r in rows] == ["Ventas", "Compras", "Postventa", "Almacén", "Zeta"]
    assert rows[0]["due"] == 3 and rows[0]["breaches"] == 1
    assert rows[0]["on_time_rate"] == 2 / 3 and rows[0]["area"] == "Comercial"
    assert rows[1]["due"] == 0 and rows[1]["on_time_rate"] is None
    assert rows[4]["stage_order"] is None or str(rows[4]["stage_order"]) == "<NA>"
    assert (rows[4]["due"], rows[4]["breaches"], rows[4]["on_time_rate"]) == (1, 1, 0.0)
    assert list(only["process"]) == ["Ventas", "Zeta"]


def test_process_dependency_flows(engine: sa.Engine) -> None:
    insert_rows(
        engine,
        "commitments",
        [
            commitment("u1", datetime(2026, 3, 2), process="Compras"),
            commitment("u2", datetime(2026, 3, 2), process="Compras"),
            commitment("d1", datetime(2026, 3, 2), process="Producción"),
            commitment("d2", datetime(2026, 3, 20), process="Producción"),  # pending: counts
            commitment("l1", datetime(2026, 3, 2), process="Logística"),
            commitment("x", datetime(2026, 3, 2), process="Compras", cancelled=True),
        ],
    )
    insert_rows(
        engine,
        "dependencies",
        [
            {"commitment_id": "d1", "depends_on": "u1"},
            {"commitment_id": "d1", "depends_on": "u2"},
            {"commitment_id": "d2", "depends_on": "u1"},
            {"commitment_id": "l1", "depends_on": "d1"},
            {"commitment_id": "l1", "depends_on": "x"},  # cancelled upstream: ignored
        ],
    )
    with engine.connect() as conn:
        df = process_dependency_flows(conn, F)
        prod = process_dependency_flows(conn, F.with_(processes=("Logística",)))
    assert df.to_dict("records") == [
        {"upstream_process": "Compras", "downstream_process": "Producción", "dependencies": 3},
        {"upstream_process": "Producción", "downstream_process": "Logística", "dependencies": 1},
    ]
    assert prod.to_dict("records") == [
        {"upstream_process": "Producción", "downstream_process": "Logística", "dependencies": 1}
    ]


# --- ties at one instant keep the log's own order (issue 14, item 2) -------------------

TIED_COMMITMENTS = (
    "commitment_id,process,customer,requested_at,due_at\nINC1,Soporte,Acme,2026-02-01,2026-03-01\n"
)
# A minute-resolution incident log: New and Active share 10:00, Resolved and Closed 11:00.
# Stage-name order would read Active→New and Closed→Resolved, which never happened.
TIED_EVENTS = (
    "commitment_id,stage,at\n"
    "INC1,New,2026-02-01 10:00\n"
    "INC1,Active,2026-02-01 10:00\n"
    "INC1,Resolved,2026-02-01 11:00\n"
    "INC1,Closed,2026-02-01 11:00\n"
)


def _pairs(engine: sa.Engine) -> dict[tuple[str, str], int]:
    with engine.connect() as conn:
        got = directly_follows(conn, F)
    return {(str(r["source"]), str(r["target"])): int(r["count"]) for r in got.to_dict("records")}


def _load(engine: sa.Engine, folder: Path, events: str, mapping: str | None = None) -> None:
    from etl.load import load_files

    folder.mkdir()
    (folder / "commitments.csv").write_text(TIED_COMMITMENTS, encoding="utf-8")
    (folder / "events.csv").write_text(events, encoding="utf-8")
    report = load_files(engine, [folder / "commitments.csv"])
    assert report.rows_rejected == 0
    mapping_path = None
    if mapping is not None:
        mapping_path = folder / "events.toml"
        mapping_path.write_text(mapping, encoding="utf-8")
    report = load_files(engine, [folder / "events.csv"], mapping=mapping_path)
    assert report.rows_rejected == 0


def test_ties_keep_the_file_order_not_the_stage_name(engine: sa.Engine, tmp_path: Path) -> None:
    _load(engine, tmp_path / "in", TIED_EVENTS)
    assert _pairs(engine) == {("New", "Active"): 1, ("Active", "Resolved"): 1,
                              ("Resolved", "Closed"): 1}  # fmt: skip


def test_ties_follow_a_sequence_column_the_mapping_names(engine: sa.Engine, tmp_path: Path) -> None:
    # The export lists rows newest first; its own sequence number says the order.
    events = (
        "Number,State,Updated,Seq\n"
        "INC1,Closed,2026-02-01 11:00,4\n"
        "INC1,Resolved,2026-02-01 11:00,3\n"
        "INC1,Active,2026-02-01 10:00,2\n"
        "INC1,New,2026-02-01 10:00,1\n"
    )
    mapping = (
        '[events.columns]\ncommitment_id = "Number"\nstage = "State"\nat = "Updated"\n'
        'log_order = "Seq"\n'
    )
    _load(engine, tmp_path / "in", events, mapping)
    assert _pairs(engine) == {("New", "Active"): 1, ("Active", "Resolved"): 1,
                              ("Resolved", "Closed"): 1}  # fmt: skip


def test_a_database_made_before_log_order_still_draws_the_map(db_url: str) -> None:
    """Until `etl init` adds events.log_order, the map and the timeline read the events
    as before (ties by stage name) instead of failing."""
    from dashboard.services.tracking import commitment_tracking
    from etl.db import create_db_engine

    engine = create_db_engine(db_url)
    try:
        from etl.schema import metadata

        with engine.begin() as conn:
            for table in metadata.sorted_tables:
                if table.name not in ("events", "event_steps"):  # both came later
                    table.create(conn)
            conn.execute(
                sa.text(
                    "CREATE TABLE events (commitment_id VARCHAR NOT NULL, stage VARCHAR NOT "
                    'NULL, "at" TIMESTAMP NOT NULL, seq INTEGER NOT NULL, actor VARCHAR, '
                    "batch_id INTEGER)"
                )
            )
        insert_rows(engine, "commitments", [commitment("K3", datetime(2026, 3, 4))])
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO events VALUES ('K3', 'y', :t, 1, NULL, NULL), "
                    "('K3', 'x', :t, 1, NULL, NULL)"
                ),
                {"t": T0},
            )
        assert _pairs(engine) == {("x", "y"): 1}
        with engine.connect() as conn:
            tracking = commitment_tracking(conn, "K3", AS_OF)
        assert tracking is not None and tracking.events["stage"].tolist() == ["x", "y"]
    finally:
        engine.dispose()


def test_rows_in_chain_order() -> None:
    """Chain Ventas → Compras → Entrega: the listed stages first in that order, the
    unlisted Almacén and Zeta after them by name; the other columns travel with them."""
    frame = pd.DataFrame(
        {"group_key": ["Zeta", "Entrega", "Almacén", "Ventas", "Compras"], "n": [5, 3, 9, 1, 2]}
    )
    ordered = in_chain_order(frame, ["Ventas", "Compras", "Entrega"])
    assert ordered["group_key"].tolist() == ["Ventas", "Compras", "Entrega", "Almacén", "Zeta"]
    assert ordered["n"].tolist() == [1, 2, 3, 9, 5]
    assert in_chain_order(frame, [])["group_key"].tolist() == sorted(frame["group_key"])
    names = {"Entrega", "Otro", "Ventas"}
    assert sorted(names, key=chain_rank(["Ventas", "Compras", "Entrega"])) == [
        "Ventas",
        "Entrega",
        "Otro",
    ]
