"""A small hand-worked world for row-level access: two stages, two customers.

The scoped user sees stage Ventas AND customer Acme only (`SCOPE`). Their rows are the
`OK-V*` commitments; everything else (stage Compras, customer Beta Corp, the records tied
to them, an unattributed survey answer, a Compras target, action items about hidden or no
commitments) carries a marker from `SECRETS`, so a test can assert that none of it shows.

At AS_OF (2026-03-31 12:00), worked by hand for the scoped user (March is the period):

    OK-V1  Ventas/Acme  due 03-10 12:00, delivered 03-12 12:00  breach, 2 days
           depends on X-COMP-1 (Compras, a breach): hidden, so OK-V1 is a ROOT for them
    OK-V2  Ventas/Acme  due 03-11, delivered 03-10              on time, absorbs OK-V1
    OK-V3  Ventas/Acme  due 03-20 12:00, open                   breach, 11 days; from OK-V1
    OK-V4  Ventas/Acme  due 04-10, open                         pending, at risk (OK-V3)

    due 3 · on time 1 · breaches 2 · pending 1 · on-time rate 1/3
    delay median 6.5 days, p90 2 + 0.9 x 9 = 10.1 days
    roots 1 (OK-V1, impact 1: OK-V3) · propagated 1 · absorbed 1 · exposed 2 · rate 1/2
    at risk 1 (OK-V4)
    surveys: OK-V2 csat 5 nps 10, OK-V1 csat 2 nps 3 -> CSAT% 1/2, NPS 0, 2 responses
    complaints 1 (OK-V1) -> 100/3 per 100 due · proactive notices: OK-V3 warned before due
    -> 1 of 2 breaches

For everyone (no scope) the same numbers differ (e.g. 7 due, propagation 3/4), which is
what a leak would show.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from dashboard.metrics.filters import RowScope
from etl.schema import action_items, dataset_meta, targets
from tests.factories import commitment, insert_rows

AS_OF = datetime(2026, 3, 31, 12, 0)
SCOPE = RowScope(stages=("Ventas",), customers=("Acme",))
VISIBLE_IDS = ("OK-V1", "OK-V2", "OK-V3", "OK-V4")
# Text that belongs to rows outside SCOPE only; none of it may reach a scoped user.
SECRETS = ("X-COMP", "X-VB", "Beta Corp", "Compras", "SecretStage", "secret")


def _c(cid: str, process: str, customer: str, due: datetime, delivered: datetime | None) -> dict:
    return commitment(
        cid,
        due,
        delivered,
        title=f"Title {cid}",
        process=process,
        customer=customer,
        performer=f"perf-{cid}",
        requested_at=datetime(2026, 2, 1),
    )


def load_scope_world(engine: sa.Engine) -> None:
    """Insert the world into an engine whose schema exists."""
    insert_rows(
        engine,
        "processes",
        [
            {"process": "Compras", "stage_order": 1, "area": "secret area"},
            {"process": "Ventas", "stage_order": 2, "area": "Comercial"},
        ],
    )
    insert_rows(
        engine,
        "commitments",
        [
            _c("X-COMP-1", "Compras", "Acme", datetime(2026, 3, 2, 12), datetime(2026, 3, 5, 12)),
            _c("X-COMP-2", "Compras", "Beta Corp", datetime(2026, 3, 3, 12), datetime(2026, 3, 1)),
            _c("OK-V1", "Ventas", "Acme", datetime(2026, 3, 10, 12), datetime(2026, 3, 12, 12)),
            _c("OK-V2", "Ventas", "Acme", datetime(2026, 3, 11, 12), datetime(2026, 3, 10, 12)),
            _c("OK-V3", "Ventas", "Acme", datetime(2026, 3, 20, 12), None),
            _c("OK-V4", "Ventas", "Acme", datetime(2026, 4, 10, 12), None),
            _c("X-VB-5", "Ventas", "Beta Corp", datetime(2026, 3, 12, 12), datetime(2026, 3, 20)),
            _c("X-VB-6", "Ventas", "Beta Corp", datetime(2026, 3, 15, 12), datetime(2026, 3, 14)),
        ],
    )
    insert_rows(
        engine,
        "dependencies",
        [
            {"commitment_id": "OK-V1", "depends_on": "X-COMP-1"},
            {"commitment_id": "OK-V2", "depends_on": "OK-V1"},
            {"commitment_id": "OK-V3", "depends_on": "OK-V1"},
            {"commitment_id": "OK-V4", "depends_on": "OK-V3"},
            {"commitment_id": "X-VB-5", "depends_on": "OK-V1"},
            {"commitment_id": "X-VB-6", "depends_on": "X-COMP-2"},
        ],
    )
    insert_rows(
        engine,
        "events",
        [
            {"commitment_id": "OK-V1", "stage": "recibido", "at": datetime(2026, 3, 1, 9)},
            {"commitment_id": "OK-V1", "stage": "enviado", "at": datetime(2026, 3, 12, 12)},
            {"commitment_id": "OK-V2", "stage": "recibido", "at": datetime(2026, 3, 2, 9)},
            {"commitment_id": "OK-V2", "stage": "enviado", "at": datetime(2026, 3, 10, 12)},
            {"commitment_id": "X-COMP-1", "stage": "SecretStage", "at": datetime(2026, 3, 1)},
            {"commitment_id": "X-COMP-1", "stage": "enviado", "at": datetime(2026, 3, 5, 12)},
            {"commitment_id": "X-VB-5", "stage": "recibido", "at": datetime(2026, 3, 3, 9)},
            {"commitment_id": "X-VB-5", "stage": "SecretStage", "at": datetime(2026, 3, 4, 9)},
        ],
    )
    sat = [
        ("S1", "OK-V2", "Acme", 5, 10, "great"),
        ("S2", "OK-V1", "Acme", 2, 3, "late again"),
        ("X-S3", "X-VB-5", "Beta Corp", 1, 0, "secret beta comment"),
        ("X-S4", None, "Acme", 4, 9, "secret unattributed comment"),
        ("X-S5", "X-COMP-1", "Acme", 1, 1, "secret compras comment"),
    ]
    insert_rows(
        engine,
        "satisfaction",
        [
            {
                "response_id": rid,
                "commitment_id": cid,
                "customer": customer,
                "answered_at": datetime(2026, 3, 13),
                "csat": csat,
                "nps": nps,
                "comment": comment,
            }
            for rid, cid, customer, csat, nps, comment in sat
        ],
    )
    insert_rows(
        engine,
        "complaints",
        [
            {"complaint_id": "Q1", "commitment_id": "OK-V1", "customer": "Acme",
             "opened_at": datetime(2026, 3, 13), "resolved_at": datetime(2026, 3, 14)},
            {"complaint_id": "X-Q2", "commitment_id": "X-VB-5", "customer": "Beta Corp",
             "opened_at": datetime(2026, 3, 21), "category": "secret"},
            {"complaint_id": "X-Q3", "commitment_id": "X-COMP-1", "customer": "Acme",
             "opened_at": datetime(2026, 3, 6), "category": "secret"},
        ],
    )  # fmt: skip
    insert_rows(
        engine,
        "notices",
        [
            {"commitment_id": "OK-V3", "sent_at": datetime(2026, 3, 18), "channel": "email"},
            {"commitment_id": "X-VB-5", "sent_at": datetime(2026, 3, 10), "channel": "secret"},
        ],
    )
    with engine.begin() as conn:
        conn.execute(dataset_meta.insert(), [{"key": "as_of", "value": AS_OF.isoformat()}])
        target = {
            "kpi": "on_time_rate",
            "target_value": 0.8,
            "direction": "higher",
            "amber_tolerance": 0.05,
            "valid_from": datetime(2026, 1, 1),
            "set_by": "calidad",
            "set_at": datetime(2026, 1, 1),
        }
        conn.execute(
            targets.insert(),
            [
                {**target, "target_id": 1, "process": None, "note": "everyone"},
                {**target, "target_id": 2, "process": "Compras", "target_value": 0.61,
                 "note": "secret compras target"},
            ],
        )  # fmt: skip
        action = {"status": "open", "created_at": datetime(2026, 3, 24), "created_by": "ana"}
        conn.execute(
            action_items.insert(),
            [
                {**action, "action_id": 1, "week": "2026-W13", "what": "Call Acme about OK-V1",
                 "commitment_id": "OK-V1"},
                {**action, "action_id": 2, "week": "2026-W13", "what": "secret Compras action",
                 "commitment_id": "X-COMP-1"},
                {**action, "action_id": 3, "week": "2026-W13", "what": "secret general action",
                 "commitment_id": None},
            ],
        )  # fmt: skip


def delete_outside(engine: sa.Engine, scope: RowScope) -> None:
    """Remove every row `scope` does not allow, as if it had never been loaded: the
    independent way to compute what the scoped user must see."""
    where, params = scope.sql("c")
    hidden = f"SELECT c.commitment_id FROM commitments c WHERE NOT ({where})"
    with engine.begin() as conn:
        for table in ("satisfaction", "complaints", "notices", "events", "action_items"):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE commitment_id IN ({hidden})"), params)
        conn.execute(
            sa.text(
                f"DELETE FROM dependencies WHERE commitment_id IN ({hidden}) "
                f"OR depends_on IN ({hidden})"
            ),
            params,
        )
        conn.execute(
            sa.text(f"DELETE FROM commitments WHERE commitment_id IN ({hidden})"),
            params,
        )
        if not scope.unrestricted:  # action items about no commitment are nobody's rows
            conn.execute(sa.text("DELETE FROM action_items WHERE commitment_id IS NULL"))
        if scope.customers is not None:
            names = {f"k{i}": n for i, n in enumerate(scope.customers)}
            in_list = ", ".join(":" + k for k in names)
            for table in ("satisfaction", "complaints"):
                conn.execute(
                    sa.text(f"DELETE FROM {table} WHERE customer NOT IN ({in_list})"),
                    names,
                )
        if scope.stages is not None:
            for table in ("satisfaction", "complaints"):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE commitment_id IS NULL"))
            names = {f"p{i}": n for i, n in enumerate(scope.stages)}
            in_list = ", ".join(":" + k for k in names)
            conn.execute(
                sa.text(f"DELETE FROM processes WHERE process NOT IN ({in_list})"),
                names,
            )
            conn.execute(
                sa.text(f"DELETE FROM targets WHERE process NOT IN ({in_list})"),
                names,
            )
