"""The shipped mappings on the three real public files (read from ../shared/data/real).

Expected values come from the data sets' own documentation (case and event counts, the
952-of-1,329 on-time fact) or are recomputed here with the standard library's csv and
datetime modules, independently of pandas and of etl.mapping's grouping.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from etl.mapping import apply_mapping, load_mapping, shipped_mappings
from etl.read import read_table
from etl.records import ROW, KindFrame


def mapped(real_data: Path, name: str) -> dict[str, KindFrame]:
    """The real file `name`.csv through its shipped mapping, by record kind."""
    mapping = load_mapping(shipped_mappings()[name])
    table = read_table(real_data / f"{name}.csv", **mapping.read_options)
    frames = apply_mapping(table, mapping)
    return {kf.kind: kf for kf in frames}


def source_rows(path: Path, **fmt: Any) -> list[dict[str, str]]:
    with path.open(encoding=fmt.pop("encoding", "utf-8"), newline="") as handle:
        return list(csv.DictReader(handle, **fmt))


def test_receipt_gives_1434_commitments_and_8577_events(real_data: Path) -> None:
    frames = mapped(real_data, "receipt_coselog")
    commitments, events = frames["commitments"], frames["events"]
    assert (commitments.rows_read, len(commitments.frame), commitments.rejects) == (1434, 1434, [])
    assert (events.rows_read, len(events.frame), events.rejects) == (8577, 8577, [])
    assert commitments.refused is None and events.refused is None
    assert commitments.frame["commitment_id"].is_unique
    assert set(events.frame["commitment_id"]) == set(commitments.frame["commitment_id"])
    assert list(events.frame.columns) == ["commitment_id", "stage", "at", "actor", ROW]


def test_receipt_952_of_1329_delivered_on_or_before_due(real_data: Path) -> None:
    frame = mapped(real_data, "receipt_coselog")["commitments"].frame
    delivered = pd.to_datetime(frame["delivered_at"].astype(object), format="ISO8601", utc=True)
    due = pd.to_datetime(frame["due_at"].astype(object), format="ISO8601", utc=True)
    assert int(delivered.notna().sum()) == 1329
    assert int(delivered.isna().sum()) == 105
    assert int((delivered <= due).sum()) == 952


def test_receipt_case_attributes_and_row_numbers(real_data: Path) -> None:
    rows = source_rows(real_data / "receipt_coselog.csv")
    first_line: dict[str, int] = {}
    channel: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        first_line.setdefault(row["case:concept:name"], line)
        channel.setdefault(row["case:concept:name"], row["case:channel"])
    frame = mapped(real_data, "receipt_coselog")["commitments"].frame.set_index("commitment_id")
    assert frame[ROW].to_dict() == first_line
    assert frame["customer"].to_dict() == channel
    internal = {case for case, ch in channel.items() if ch == "Intern"}
    assert set(frame.index[frame["customer_type"] == "internal"]) == internal
    assert set(frame["customer_type"]) == {"internal", "external"}
    assert set(frame["process"]) == {"Recepción de solicitud"}
    case = frame.loc["case-10017"]
    assert (
        case["requested_at"],
        case["due_at"],
        case["original_due_at"],
        case["delivered_at"],
    ) == (
        "2011-10-11 01:06:40.020000+02:00",
        "2011-12-06 01:06:40+01:00",
        "2011-12-06 01:06:40.010000+01:00",
        "2011-10-18 13:56:55.943000+02:00",
    )
    assert case["performer"] == "Resource04"


def test_helpdesk_gives_4580_commitments_and_21348_events(real_data: Path) -> None:
    frames = mapped(real_data, "helpdesk_events")
    commitments, events = frames["commitments"], frames["events"]
    assert (commitments.rows_read, len(commitments.frame), commitments.rejects) == (4580, 4580, [])
    assert (events.rows_read, len(events.frame), events.rejects) == (21348, 21348, [])
    assert set(events.frame["commitment_id"]) == set(commitments.frame["commitment_id"])


def test_helpdesk_aggregates_match_a_plain_python_recount(real_data: Path) -> None:
    rows = source_rows(real_data / "helpdesk_events.csv")
    times: dict[str, list[tuple[dt.datetime, str]]] = defaultdict(list)
    first_customer: dict[str, str] = {}
    customers: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        case = row["case"]
        times[case].append(
            (dt.datetime.fromisoformat(row["time:timestamp"]), row["time:timestamp"])
        )
        first_customer.setdefault(case, row["customer"])
        customers[case].add(row["customer"])
    frame = mapped(real_data, "helpdesk_events")["commitments"].frame.set_index("commitment_id")
    assert frame["requested_at"].to_dict() == {c: min(t)[1] for c, t in times.items()}
    assert frame["due_at"].to_dict() == {c: max(t)[1] for c, t in times.items()}
    assert frame["delivered_at"].to_dict() == frame["due_at"].to_dict()
    assert frame["customer"].to_dict() == first_customer
    # The documented reason `customer` is aggregated: it changes within 7 tickets.
    assert sum(len(v) > 1 for v in customers.values()) == 7


def test_bpic2016_gives_289_complaints_in_latin1(real_data: Path) -> None:
    mapping = load_mapping(shipped_mappings()["bpic2016_complaints"])
    table = read_table(real_data / "bpic2016_complaints.csv", **mapping.read_options)
    topics = Counter(table.frame["ComplaintTopic"])
    assert topics["ongeïnteresseerd / te weinig aandacht gekregen"] == 7
    assert topics["boos over beëindiging gesprek"] == 3
    [complaints] = apply_mapping(table, mapping)
    assert (complaints.kind, complaints.rows_read, len(complaints.frame)) == (
        "complaints",
        289,
        289,
    )
    assert complaints.frame["complaint_id"].is_unique
    assert complaints.frame.iloc[0].to_dict() == {
        "complaint_id": "220",
        "customer": "1945807",
        "opened_at": "2016-01-12",
        "category": "duration of treatment",
        ROW: 2,
    }
    assert "resolved_at" not in complaints.frame.columns


@pytest.mark.parametrize("name", ["receipt_coselog", "helpdesk_events", "bpic2016_complaints"])
def test_sniffing_alone_reads_the_real_files_like_the_mapping_options(
    real_data: Path, name: str
) -> None:
    # The [read] options are documentation of the file, not a crutch: sniffing agrees.
    mapping = load_mapping(shipped_mappings()[name])
    forced = read_table(real_data / f"{name}.csv", **mapping.read_options)
    sniffed = read_table(real_data / f"{name}.csv")
    pd.testing.assert_frame_equal(forced.frame, sniffed.frame)
