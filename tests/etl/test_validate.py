"""Validation collects every problem of a file, each as an exact Reject worded for people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.records import ROW, KindFrame, Reject
from etl.validate import (
    KnownCommitments,
    commitment_ids_in_db,
    cycle_closing_edges,
    date_hint,
    dependency_edges_in_db,
    not_member,
    validate_frame,
)
from tests.factories import commitment, insert_rows

TZ = "Europe/Madrid"
BASE = {
    "commitment_id": "C1",
    "process": "Ventas",
    "customer": "Acme",
    "requested_at": "2026-01-05",
    "due_at": "2026-01-10",
}


def kind_frame(kind: str, rows: list[dict[str, str | None]], **kw: Any) -> KindFrame:
    """A KindFrame as a reader + mapping would give it: text, `_row` from 2."""
    frame = pd.DataFrame(rows, dtype="string")
    frame[ROW] = range(2, len(rows) + 2)
    return KindFrame(kind, f"{kind}.csv", "sha", frame, len(rows), **kw)


def row(**kw: str | None) -> dict[str, str | None]:
    return {**BASE, **kw}


def test_valid_commitments_are_typed_with_defaults() -> None:
    kf = kind_frame(
        "commitments",
        [row(delivered_at="19/01/2026 16:30", customer_type=" External ", cancelled="sí")],
    )
    result = validate_frame(kf, tz=TZ)
    assert result.rejects == []
    assert result.rows_read == 1 and result.rows_rejected == 0
    got = result.valid.iloc[0]
    assert got["requested_at"] == datetime(2026, 1, 5, 23, 59, 59)
    assert got["delivered_at"] == datetime(2026, 1, 19, 16, 30)
    assert got["customer_type"] == "external"
    assert got["direction"] == "to_customer"  # default for an absent column
    assert bool(got["cancelled"]) is True
    assert result.columns == (
        "commitment_id",
        "process",
        "customer",
        "customer_type",
        "requested_at",
        "due_at",
        "delivered_at",
        "cancelled",
    )


def test_missing_required_columns_refuse_the_file_and_every_row() -> None:
    kf = kind_frame("events", [{"commitment_id": "C1", "actor": "ana"}, {"commitment_id": "C2"}])
    result = validate_frame(kf, tz=TZ)
    reason = (
        "events.csv: the events file is missing required column(s) stage, at; "
        "its columns are: commitment_id, actor"
    )
    assert result.refused == reason
    assert result.rejects == [
        Reject(2, None, reason, {"commitment_id": "C1", "actor": "ana"}),
        Reject(3, None, reason, {"commitment_id": "C2"}),
    ]
    assert result.rows_rejected == 2 and result.valid.empty


def test_every_problem_of_a_file_is_collected() -> None:
    kf = kind_frame(
        "commitments",
        [
            row(),  # row 2: fine
            row(commitment_id="C2", customer=None, due_at="31/02/2026"),  # row 3: two problems
            row(commitment_id="C3", customer_type="partner"),  # row 4
            row(commitment_id="C4", direction="sideways", cancelled="maybe"),  # row 5
            row(commitment_id="C5", due_at="2026-01-01"),  # row 6: due before requested
            row(commitment_id="C6", delivered_at="2026-01-04 09:00"),  # row 7
        ],
    )
    result = validate_frame(kf, tz=TZ)
    got = [(r.row_number, r.column, r.reason) for r in result.rejects]
    assert got == [
        (3, "customer", "customer is required but empty"),
        (3, "due_at", f"due_at '31/02/2026' is not a date ({date_hint('commitments', 'due_at')})"),
        (4, "customer_type", "customer_type 'partner' must be internal or external"),
        (5, "direction", "direction 'sideways' must be to_customer or from_customer"),
        (
            5,
            "cancelled",
            "cancelled 'maybe' is not yes/no (use yes/no, true/false, sí/no, ja/nee, 1/0 or x)",
        ),
        (6, "due_at", "due_at '2026-01-01' is before requested_at '2026-01-05'"),
        (7, "delivered_at", "delivered_at '2026-01-04 09:00' is before requested_at '2026-01-05'"),
    ]
    assert result.rows_read == 6
    assert result.rows_rejected == 5  # row 3 and row 5 count once each
    assert result.valid["commitment_id"].tolist() == ["C1"]
    assert result.rejects[0].raw == {  # the row as written; empty cells left out
        "commitment_id": "C2",
        "process": "Ventas",
        "requested_at": "2026-01-05",
        "due_at": "31/02/2026",
    }


def test_order_is_checked_by_calendar_day() -> None:
    # Same day, earlier hour: clock skew (the receipt log has it), not an error. A day
    # earlier is an error; "2026-01-05" as a request is the whole day.
    kf = kind_frame(
        "commitments",
        [
            row(commitment_id="C1", requested_at="2026-01-05 10:00", delivered_at="2026-01-05"),
            row(commitment_id="C2", delivered_at="2026-01-05T09:00"),
            row(
                commitment_id="C3", requested_at="2026-01-05 00:30", delivered_at="2026-01-04 23:59"
            ),
        ],
    )
    result = validate_frame(kf, tz=TZ)
    assert [(r.row_number, r.reason) for r in result.rejects] == [
        (4, "delivered_at '2026-01-04 23:59' is before requested_at '2026-01-05 00:30'")
    ]


def test_the_date_order_rule_is_in_the_user_docs() -> None:
    """Issue 14, item 7: the same-day rule is written where users read, with the very
    message validation gives (taken from the validator, not typed twice)."""
    from pathlib import Path

    kf = kind_frame(
        "commitments",
        [row(requested_at="2026-01-05 00:30", delivered_at="2026-01-04 23:59")],
    )
    [reject] = validate_frame(kf, tz=TZ).rejects
    docs = Path(__file__).resolve().parents[2] / "docs" / "data-formats.md"
    text = " ".join(docs.read_text(encoding="utf-8").split())
    assert "### Dates that must come in order" in docs.read_text(encoding="utf-8")
    assert "the **same calendar day is allowed**" in text
    assert f"`{reject.reason}`".replace(" ", "") in text.replace(" ", "")


def test_ranges_and_whole_numbers_of_satisfaction() -> None:
    base = {"customer": "Acme", "answered_at": "2026-02-01"}
    kf = kind_frame(
        "satisfaction",
        [
            {"response_id": "R1", "csat": "5", "nps": "10", **base},
            {"response_id": "R2", "csat": "0", "nps": "11", **base},
            {"response_id": "R3", "csat": "4.5", "nps": "-1", **base},
            {"response_id": "R4", "csat": "4.0", "nps": "0", **base},
        ],
    )
    result = validate_frame(kf, tz=TZ)
    assert [(r.row_number, r.column, r.reason) for r in result.rejects] == [
        (3, "csat", "csat '0' is out of range (1–5)"),
        (3, "nps", "nps '11' is out of range (0–10)"),
        (4, "csat", "csat '4.5' is not a whole number"),
        (4, "nps", "nps '-1' is out of range (0–10)"),
    ]
    assert result.valid["csat"].tolist() == [5, 4]
    assert result.valid["nps"].tolist() == [10, 0]


def test_duplicate_keys_reject_later_rows_naming_the_kept_row() -> None:
    kf = kind_frame(
        "commitments",
        [
            row(commitment_id="C1", customer=None),  # row 2: invalid, so not the kept one
            row(commitment_id="C1"),  # row 3: kept
            row(commitment_id="C2"),  # row 4
            row(commitment_id="C1", title="again"),  # row 5
        ],
    )
    result = validate_frame(kf, tz=TZ)
    assert [(r.row_number, r.column, r.reason) for r in result.rejects] == [
        (2, "customer", "customer is required but empty"),
        (
            5,
            "commitment_id",
            "duplicate key commitment_id='C1': row 3 has the same key and is kept",
        ),
    ]
    assert result.valid[ROW].tolist() == [3, 4]


def test_repeated_events_are_numbered_comparing_parsed_times() -> None:
    # 10:00+01:00 and 10:00 are the same Madrid instant in winter: the same event twice.
    # A process log can record a step twice; both are kept, numbered by seq in file order.
    kf = kind_frame(
        "events",
        [
            {"commitment_id": "C1", "stage": "need", "at": "2026-01-05T10:00+01:00"},
            {"commitment_id": "C1", "stage": "need", "at": "2026-01-05 10:00"},
            {"commitment_id": "C1", "stage": "done", "at": "2026-01-05 10:00"},
        ],
    )
    result = validate_frame(kf, tz=TZ)
    assert result.rejects == []
    assert result.valid["seq"].tolist() == [1, 2, 1]


def test_duplicate_event_keys_with_explicit_seq_are_rejected() -> None:
    kf = kind_frame(
        "events",
        [
            {"commitment_id": "C1", "stage": "need", "at": "2026-01-05T10:00+01:00", "seq": "1"},
            {"commitment_id": "C1", "stage": "need", "at": "2026-01-05 10:00", "seq": "1"},
        ],
    )
    result = validate_frame(kf, tz=TZ)
    assert [(r.row_number, r.reason) for r in result.rejects] == [
        (
            3,
            "duplicate key commitment_id='C1', stage='need', at='2026-01-05 10:00', seq='1': "
            "row 2 has the same key and is kept",
        )
    ]
    assert result.rejects[0].column == "commitment_id,stage,at,seq"


def test_unknown_references_both_ends_of_a_dependency() -> None:
    known = KnownCommitments()
    known.add(["A", "B"])
    kf = kind_frame(
        "dependencies",
        [
            {"commitment_id": "B", "depends_on": "A"},
            {"commitment_id": "Z", "depends_on": "Q"},
        ],
    )
    result = validate_frame(kf, tz=TZ, known=known)
    tail = "is not a known commitment (not in this batch's commitments nor in the database)"
    assert [(r.row_number, r.column, r.reason) for r in result.rejects] == [
        (3, "commitment_id", f"commitment_id 'Z' {tail}"),
        (3, "depends_on", f"depends_on 'Q' {tail}"),
    ]
    assert result.rows_rejected == 1


@pytest.mark.parametrize("kind", ["events", "satisfaction", "complaints", "notices"])
def test_unknown_references_of_every_other_kind(kind: str) -> None:
    rows = {
        "events": {"stage": "need", "at": "2026-01-01"},
        "satisfaction": {"response_id": "R1", "customer": "x", "answered_at": "2026-01-01"},
        "complaints": {"complaint_id": "Q1", "customer": "x", "opened_at": "2026-01-01"},
        "notices": {"sent_at": "2026-01-01"},
    }[kind]
    known = KnownCommitments()
    known.add(["C1"])
    kf = kind_frame(kind, [{**rows, "commitment_id": "C1"}, {**rows, "commitment_id": "C9"}])
    if kind in ("satisfaction", "complaints"):  # distinct keys so only the reference fails
        kf.frame.loc[1, kf.frame.columns[0]] = "second"
    result = validate_frame(kf, tz=TZ, known=known)
    assert [(r.row_number, r.column) for r in result.rejects] == [(3, "commitment_id")]
    assert result.rejects[0].reason.startswith("commitment_id 'C9' is not a known commitment")


def test_references_fall_back_to_the_database(engine: sa.Engine) -> None:
    insert_rows(engine, "commitments", [commitment("DB1", datetime(2026, 1, 9))])
    with engine.connect() as conn:
        known = KnownCommitments(lambda ids: commitment_ids_in_db(conn, ids))
        known.add(["NEW"])
        kf = kind_frame(
            "dependencies",
            [
                {"commitment_id": "NEW", "depends_on": "DB1"},
                {"commitment_id": "NEW", "depends_on": "GHOST"},
            ],
        )
        result = validate_frame(kf, tz=TZ, known=known)
        assert [(r.row_number, r.column) for r in result.rejects] == [(3, "depends_on")]
        # the bulk path (fetch all ids) gives the same answer as the IN-list path
        many = np.array([f"X{i}" for i in range(6000)] + ["DB1"], dtype=object)
        assert commitment_ids_in_db(conn, many).tolist() == ["DB1"]


def test_cycles_reject_only_the_closing_edge_and_name_the_cycle() -> None:
    kf = kind_frame(
        "dependencies",
        [
            {"commitment_id": "B", "depends_on": "C"},
            {"commitment_id": "C", "depends_on": "A"},
            {"commitment_id": "A", "depends_on": "B"},  # closes A → B → C → A
            {"commitment_id": "S", "depends_on": "S"},  # self-dependency
            {"commitment_id": "D", "depends_on": "A"},  # fine: hangs off the cycle
        ],
    )
    result = validate_frame(kf, tz=TZ)
    assert [(r.row_number, r.column, r.reason) for r in result.rejects] == [
        (4, "depends_on", "dependency cycle: A → B → C → A (each commitment depends on the next)"),
        (5, "depends_on", "dependency cycle: S → S (each commitment depends on the next)"),
    ]
    assert result.valid[ROW].tolist() == [2, 3, 6]


def test_cycle_through_edges_already_in_the_database(engine: sa.Engine) -> None:
    insert_rows(
        engine,
        "commitments",
        [commitment(c, datetime(2026, 1, 9)) for c in ("A", "B", "C")],
    )
    insert_rows(
        engine,
        "dependencies",
        [{"commitment_id": "A", "depends_on": "B"}, {"commitment_id": "B", "depends_on": "C"}],
    )
    with engine.connect() as conn:
        existing = dependency_edges_in_db(conn)
        known = KnownCommitments(lambda ids: commitment_ids_in_db(conn, ids))
        kf = kind_frame("dependencies", [{"commitment_id": "C", "depends_on": "A"}])
        result = validate_frame(kf, tz=TZ, known=known, existing_edges=existing)
    assert [r.reason for r in result.rejects] == [
        "dependency cycle: C → A → B → C (each commitment depends on the next)"
    ]


def _has_cycle(edges: list[tuple[int, int]]) -> bool:
    """Independent check: repeated removal of sink nodes (plain Python)."""
    remaining = set(edges)
    while remaining:
        sources = {a for a, _ in remaining}
        sinks_edges = {(a, b) for a, b in remaining if b not in sources}
        if not sinks_edges:
            return True
        remaining -= sinks_edges
    return False


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), max_size=25))
def test_cycle_search_leaves_an_acyclic_graph_and_only_rejects_needed_edges(
    edges: list[tuple[int, int]],
) -> None:
    text = [(f"C{a}", f"C{b}") for a, b in edges]  # commitment ids are text
    new = pd.DataFrame(text, columns=["commitment_id", "depends_on"], dtype=object)
    empty = pd.DataFrame(columns=["commitment_id", "depends_on"], dtype=object)
    closing = cycle_closing_edges(new, empty)
    kept = [e for i, e in enumerate(edges) if i not in closing]
    assert not _has_cycle(kept)
    # each rejected edge would indeed close a cycle with the edges kept before it
    for i in closing:
        before = [e for j, e in enumerate(edges[:i]) if j not in closing]
        assert _has_cycle([*before, edges[i]])
        cycle = closing[i]
        assert cycle[0] == cycle[-1] == text[i][0] and cycle[1] == text[i][1]


def test_cycle_search_handles_a_long_chain_quickly() -> None:
    n = 200_000
    ids = np.array([f"C{i}" for i in range(n + 1)], dtype=object)
    new = pd.DataFrame({"commitment_id": ids[1:], "depends_on": ids[:-1]})
    empty = pd.DataFrame(columns=["commitment_id", "depends_on"], dtype=object)
    assert cycle_closing_edges(new, empty) == {}


_cell = st.one_of(
    st.none(),
    st.sampled_from(["C1", "C2", "", " ", "2026-01-05", "31/02/2026", "yes", "maybe", "external"]),
    st.text(max_size=8),
)
_COMMITMENT_COLUMNS = (
    "commitment_id", "process", "customer", "customer_type", "requested_at", "due_at",
    "delivered_at", "cancelled",
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries(dict.fromkeys(_COMMITMENT_COLUMNS, _cell)), max_size=15))
def test_every_row_is_either_valid_or_rejected(rows: list[dict[str, str | None]]) -> None:
    kf = kind_frame("commitments", rows)
    result = validate_frame(kf, tz=TZ)
    rejected_rows = {r.row_number for r in result.rejects}
    valid_rows = set(result.valid[ROW].tolist())
    assert not rejected_rows & valid_rows
    assert rejected_rows | valid_rows == set(range(2, len(rows) + 2))
    assert result.rows_rejected == len(rejected_rows)
    assert result.valid["commitment_id"].is_unique


def test_columns_typed_on_threads_give_what_one_thread_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Same rejects in the same order and the same typed rows, whichever thread ran first."""
    import etl.validate

    rows = [
        row(commitment_id=f"C{i}", due_at=due, customer=customer, cancelled=cancelled)
        for i, (due, customer, cancelled) in enumerate(
            [("2026-01-10", "Acme", "no"), ("31/02/2026", None, "maybe"), ("x", "B", "yes")] * 40
        )
    ]
    monkeypatch.setattr(etl.validate, "_THREADED_ROWS", 10**9)
    one = validate_frame(kind_frame("commitments", rows), tz=TZ)
    monkeypatch.setattr(etl.validate, "_THREADED_ROWS", 0)
    monkeypatch.setattr("etl.validate.os.cpu_count", lambda: 4)
    threaded = validate_frame(kind_frame("commitments", rows), tz=TZ)
    assert threaded.rejects == one.rejects
    assert len(one.rejects) == 40 * 4  # per bad triple: customer, due_at, cancelled; due_at 'x'
    pd.testing.assert_frame_equal(threaded.valid, one.valid)


_IDS = st.lists(st.one_of(st.none(), st.sampled_from(["C1", "C2", "C3", "c1", "C1 ", "é"])))


@settings(max_examples=80, deadline=None)
@given(known_ids=_IDS, first=_IDS, second=_IDS)
def test_all_known_agrees_with_the_row_by_row_mask(
    known_ids: list[str | None], first: list[str | None], second: list[str | None]
) -> None:
    """DuckDB's anti-join shortcut against Arrow's per-row membership (no database)."""
    known = KnownCommitments()
    known.add(pd.Series(known_ids, dtype="string"))
    columns = [pd.Series(first, dtype="string"), pd.Series(second, dtype="string")]
    by_row = not any(known.unknown_mask(c).any() for c in columns)
    shortcut = known.all_known(columns)
    assert by_row or not shortcut  # never "all known" when a row refers amiss
    if any(v is not None for v in known_ids):
        assert shortcut == by_row  # (with nothing known, False is allowed: no shortcut)


def test_not_member_flags_present_values_outside_the_set() -> None:
    values = pd.Series(["internal", None, "partner", "external", ""], dtype="string")
    assert not_member(values, ("internal", "external")).tolist() == [
        False,
        False,  # missing is "required" business, never "not allowed"
        True,
        False,
        True,  # an empty string is a value (validation cleans blanks to NA first)
    ]
    ids = pd.Series(["C1", "C9"], dtype=object)
    assert not_member(ids, np.array(["C1"], dtype=object)).tolist() == [False, True]
    assert not_member(pd.Series([], dtype="string"), ()).tolist() == []


def test_policies_customer_type_takes_the_same_allowed_words() -> None:
    kf = kind_frame(
        "policies",
        [
            {"policy_id": "P1", "target_hours": "8", "valid_from": "2026-01-01"},
            {"policy_id": "P2", "target_hours": "8", "valid_from": "2026-01-01",
             "customer_type": "External"},
            {"policy_id": "P3", "target_hours": "8", "valid_from": "2026-01-01",
             "customer_type": "vip"},
        ],
    )  # fmt: skip
    result = validate_frame(kf, tz=TZ)
    got = [(r.row_number, r.column, r.reason) for r in result.rejects]
    assert got == [(4, "customer_type", "customer_type 'vip' must be internal or external")]
    assert result.valid["customer_type"].tolist()[1] == "external"
