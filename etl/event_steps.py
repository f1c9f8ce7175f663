"""Each event stored with the next event of its case (table `event_steps`), kept by the load.

The process map pairs every event with the next one of its case. Pairing at read time
sorts the whole log on every call, and a sort grows as n log n: from 1M to 10M
commitments the map grew 10.9×, above linear (docs/benchmarks.md, "Ten million
commitments"). The pairs only change when a case's events do, so each load rewrites the
pairs of the cases whose events it inserted or changed (they carry its batch id), and
the map reads stored rows. The order is the process map's: by `at`, then the log's own
order, then stage and seq (dashboard/metrics/process_map.py says why).

An event's successor at an earlier instant `as_of` is its stored successor when that
happened by `as_of`, else none: the order starts with `at`, so the events up to any
instant are a prefix of the case's sequence. The stored pairs therefore serve every
`as_of`.
"""

from __future__ import annotations

import sqlalchemy as sa

from etl.schema import event_steps

# The order of a case's events, as a window over rows with the events' columns: the one
# definition, also used by the map where a database has no stored pairs yet.
PAIR_ORDER = 'PARTITION BY commitment_id ORDER BY "at", log_order NULLS LAST, stage, seq'

# The cases a batch wrote events of (new or changed rows carry its batch id; a load never
# deletes an event).
_TOUCHED = "SELECT commitment_id FROM events WHERE batch_id = :batch_id"

# Fixed SQL only: {where} is empty or the condition on _TOUCHED.
_PAIRS_SQL = """
INSERT INTO event_steps (commitment_id, stage, "at", next_stage, next_at)
SELECT commitment_id, stage, "at",
    LEAD(stage) OVER w AS next_stage,
    LEAD("at") OVER w AS next_at
FROM events
{where}
WINDOW w AS ({order})
"""

_DELETE_SQL = f"DELETE FROM event_steps WHERE commitment_id IN ({_TOUCHED})"  # noqa: S608


def store_all_event_steps(conn: sa.Connection) -> int:
    """Rebuild every stored pair from the events (a first load, or a database made before
    the table existed); returns how many events were paired."""
    conn.execute(event_steps.delete())
    done = conn.execute(sa.text(_PAIRS_SQL.format(where="", order=PAIR_ORDER)))
    return max(done.rowcount, 0)


def refresh_event_steps(conn: sa.Connection, batch_id: int) -> int:
    """Rewrite the pairs of the cases batch `batch_id` wrote events of, inside the batch's
    transaction (readers see old pairs or new ones, never half); returns how many events
    were paired. An empty table (a first load) is built whole, without the case lookup."""
    if conn.execute(sa.select(sa.literal(1)).select_from(event_steps).limit(1)).first() is None:
        return store_all_event_steps(conn)
    conn.execute(sa.text(_DELETE_SQL), {"batch_id": batch_id})
    where = f"WHERE commitment_id IN ({_TOUCHED})"
    done = conn.execute(
        sa.text(_PAIRS_SQL.format(where=where, order=PAIR_ORDER)), {"batch_id": batch_id}
    )
    return max(done.rowcount, 0)


def event_steps_stored(conn: sa.Connection) -> bool:
    """Whether the database has the stored pairs (one made before them gains them with
    `python -m etl init` or its next load; until then the map pairs events as it reads)."""
    return sa.inspect(conn).has_table(event_steps.name)
