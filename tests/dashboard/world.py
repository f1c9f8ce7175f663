"""A small hand-worked value chain shared by the issue-5 tests (targets, review, tracking,
calendar, notices). Every expected number below is worked out by hand in the comments.

as_of = Friday 2026-11-20 12:00 (ISO week 2026-W47 = Mon 16 .. Sun 22 November).

  U1  Compras     -> internal "Planta"  due Mon 16 10:00, delivered Wed 18 10:00: breach 2.0 d
  U2  Compras     -> internal "Planta"  due Tue 17 12:00, open:              breach 3.0 d at as_of
  D1  Producción  -> Acme   due Wed 25 18:00, open, depends on U1: at risk, predicted Fri 27 18:00
  D2  Entrega     -> Acme   due Thu 19 12:00, open, depends on U2: breach 1.0 d (propagated)
  G1  Producción  -> Globex due Tue 24 12:00, open, depends on U2: at risk, predicted Fri 27 12:00
  G2  Entrega     -> Globex due Mon 16 12:00, delivered Mon 16 09:00: on time
  F1  from_customer Acme ("send the form") due Mon 23, end of day: pending
  X1  cancelled Acme, due Thu 19
  P1  Ventas -> Acme due Tue 10 12:00 (week W46), delivered Mon 09: on time
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tests.factories import commitment, insert_rows

AS_OF = datetime(2026, 11, 20, 12, 0)
WEEK = "2026-W47"
ACME_IDS = {"D1", "D2", "F1"}  # X1 is cancelled and never shown
OTHER_IDS = {"U1", "U2", "G1", "G2", "P1", "X1"}


def load_chain_world(engine: sa.Engine) -> None:
    """Insert the chain above (commitments, dependencies, events)."""
    internal: dict[str, Any] = {
        "customer": "Planta",
        "customer_type": "internal",
        "process": "Compras",
    }
    insert_rows(
        engine,
        "commitments",
        [
            commitment(
                "U1", datetime(2026, 11, 16, 10), datetime(2026, 11, 18, 10), performer="Ruth",
                title="Chapa", **internal,
            ),
            commitment(
                "U2", datetime(2026, 11, 17, 12), performer="Ruth", title="Tornillos", **internal
            ),
            commitment(
                "D1", datetime(2026, 11, 25, 18), process="Producción", performer="Ana",
                customer="Acme", title="Armario A-12",
                requested_at=datetime(2026, 11, 2, 9), promised_at=datetime(2026, 11, 3, 9),
            ),
            commitment(
                "D2", datetime(2026, 11, 19, 12), process="Entrega", performer="Luis",
                customer="Acme", title="Entrega lote 7",
            ),
            commitment(
                "G1", datetime(2026, 11, 24, 12), process="Producción", performer="Ana",
                customer="Globex", title="Globex secret project",
            ),
            commitment(
                "G2", datetime(2026, 11, 16, 12), datetime(2026, 11, 16, 9), process="Entrega",
                performer="Luis", customer="Globex", title="Globex lote 1",
            ),
            commitment(
                "F1", datetime(2026, 11, 23, 23, 59, 59), customer="Acme",
                direction="from_customer", title="Enviar formulario", process="Ventas",
                performer="Marta",
            ),
            commitment(
                "X1", datetime(2026, 11, 19, 12), customer="Acme", cancelled=True,
                title="Anulado",
            ),
            commitment(
                "P1", datetime(2026, 11, 10, 12), datetime(2026, 11, 9, 12), customer="Acme",
                process="Ventas", performer="Marta", title="Oferta",
            ),
        ],
    )  # fmt: skip
    insert_rows(
        engine,
        "dependencies",
        [
            {"commitment_id": "D1", "depends_on": "U1"},
            {"commitment_id": "D2", "depends_on": "U2"},
            {"commitment_id": "G1", "depends_on": "U2"},
        ],
    )

    def event(stage: str, at: datetime, actor: str) -> dict:
        return {"commitment_id": "D1", "stage": stage, "at": at, "actor": actor}

    insert_rows(
        engine,
        "events",
        [
            event("Producción", datetime(2026, 11, 10, 9), "ana"),
            event("Calidad", datetime(2026, 11, 12, 9), "luis"),
            # after as_of: not known yet, never shown
            event("Embalaje", datetime(2026, 11, 21, 9), "eva"),
        ],
    )
