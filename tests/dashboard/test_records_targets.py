"""Target history: append-only, judged by the metrics' targets_in_force, CSV in and out."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from dashboard.metrics.definitions import HEADLINE_KPIS
from dashboard.metrics.targets import target_status, targets_in_force
from dashboard.records.targets import (
    TargetError,
    import_targets_csv,
    parsed_targets_csv,
    set_target,
    target_history,
    targets_csv,
)


def test_changes_append_and_the_one_in_force_follows_valid_from(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        first = set_target(
            conn, "on_time_rate", 0.9, "higher", 0.05, date(2026, 1, 1), "Marta",
            set_at=datetime(2026, 1, 1, 9),
        )  # fmt: skip
        second = set_target(
            conn, "on_time_rate", 0.95, "higher", 0.03, datetime(2026, 11, 16), "Luis",
            note="más exigente", set_at=datetime(2026, 11, 10, 9),
        )  # fmt: skip
        stage = set_target(
            conn, "on_time_rate", 0.8, "higher", 0.1, date(2026, 1, 1), "Marta",
            process="Compras", set_at=datetime(2026, 1, 2, 9),
        )  # fmt: skip
    assert (first, second, stage) == (1, 2, 3)
    with engine.connect() as conn:
        history = target_history(conn)
        before = targets_in_force(conn, datetime(2026, 11, 15, 23))
        after = targets_in_force(conn, datetime(2026, 11, 16, 0))
    # newest first; nothing overwritten
    assert list(history["target_id"]) == [2, 3, 1]
    assert list(history["set_by"]) == ["Luis", "Marta", "Marta"]
    assert history.iloc[0]["note"] == "más exigente"
    org_before = before[before["process"].isna()].iloc[0]
    org_after = after[after["process"].isna()].iloc[0]
    assert (org_before["target_value"], org_after["target_value"]) == (0.9, 0.95)
    # the light of an 0.93 on-time rate changes with the target: green, then amber
    assert target_status(0.93, org_before) == "green"
    assert target_status(0.93, org_after) == "amber"
    assert target_status(0.91, org_after) == "red"


@pytest.mark.parametrize(
    "args, message",
    [
        (("no_such_kpi", 1, "higher", 0, date(2026, 1, 1)), "unknown KPI"),
        (("on_time_rate", 1, "up", 0, date(2026, 1, 1)), "direction"),
        (("on_time_rate", float("nan"), "higher", 0, date(2026, 1, 1)), "finite"),
        (("on_time_rate", 1, "higher", -0.1, date(2026, 1, 1)), "negative"),
        (("on_time_rate", "0.9", "higher", 0, date(2026, 1, 1)), "number"),
        (("on_time_rate", 0.9, "higher", 0, "2026-01-01"), "date"),
    ],
)
def test_bad_targets_are_refused(engine: sa.Engine, args: tuple, message: str) -> None:
    with engine.begin() as conn:
        with pytest.raises(TargetError, match=message):
            # five positional values (some deliberately of the wrong type), then set_by
            set_target(conn, *args, set_by="x")  # type: ignore[misc]
        assert target_history(conn).empty


GOOD_CSV = (
    "kpi;process;target_value;direction;amber_tolerance;valid_from;note\n"
    "on_time_rate;;0,92;higher;0,03;16/11/2026;\n"
    "median_delay_days;Compras;2;lower;1;2026-11-16;=cmd|' /C calc'!A0\n"
)


def test_csv_import_appends_all_rows_and_round_trips(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        result = import_targets_csv(conn, GOOD_CSV.encode("cp1252"), "Marta")
    assert result.ok and result.imported == 2
    with engine.connect() as conn:
        history = target_history(conn).sort_values("target_id")
        exported = targets_csv(conn)
    assert list(history["target_value"]) == [0.92, 2.0]
    assert list(history["valid_from"]) == [datetime(2026, 11, 16), datetime(2026, 11, 16)]
    assert history.iloc[1]["process"] == "Compras"
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows[0]["kpi"] == "on_time_rate" and rows[0]["target_value"] == "0.92"
    assert rows[1]["note"] == "'=cmd|' /C calc'!A0"  # neutralised for spreadsheets
    assert rows[0]["set_by"] == "Marta"
    # the exported file imports back (audit columns ignored)
    rows_back, problems = parsed_targets_csv(exported)
    assert problems == []
    assert [(r.kpi, r.target_value, r.process) for r in rows_back] == [
        ("on_time_rate", 0.92, None),
        ("median_delay_days", 2.0, "Compras"),
    ]


def test_csv_problems_name_row_and_column_and_nothing_is_written(engine: sa.Engine) -> None:
    bad = (
        "kpi,process,target_value,direction,amber_tolerance,valid_from,colour\n"
        "on_time_rate,,0.9,higher,0.05,2026-11-16,x\n"  # fine (but the header has 'colour')
        "on_time_rate,,ninety,higher,0.05,2026-11-16,x\n"
        "nps,,30,sideways,5,2026-11-16,x\n"
        "nps,,30,higher,,31/02/2026,x\n"
        "nps,,30\n"
    )
    with engine.begin() as conn:
        result = import_targets_csv(conn, bad, "Marta", name="metas.csv")
    assert not result.ok and result.imported == 0
    # A short row is read as its missing values (etl.read's rule for every file).
    assert [str(p) for p in result.problems] == [
        "metas.csv, row 1, column colour: unknown column colour; the columns are: kpi, "
        "process, target_value, direction, amber_tolerance, valid_from, note",
        "metas.csv, row 3, column target_value: target_value 'ninety' is not a number",
        "metas.csv, row 4, column direction: direction 'sideways' must be higher or lower",
        "metas.csv, row 5, column amber_tolerance: amber_tolerance is required but empty",
        "metas.csv, row 5, column valid_from: valid_from '31/02/2026' is not a date (use "
        "YYYY-MM-DD, YYYY-MM-DD HH:MM, dd/mm/yyyy or dd/mm/yyyy HH:MM)",
        "metas.csv, row 6, column direction: direction is required but empty",
        "metas.csv, row 6, column amber_tolerance: amber_tolerance is required but empty",
        "metas.csv, row 6, column valid_from: valid_from is required but empty",
    ]
    assert result.problems[2].text("es") == (
        "metas.csv, fila 4, columna direction: direction 'sideways' debe ser higher o lower"
    )
    with engine.connect() as conn:
        assert target_history(conn).empty
    _, missing = parsed_targets_csv("kpi,target_value\non_time_rate,1\n")
    assert [str(p) for p in missing] == [
        "targets.csv, row 1, column direction: required column direction is missing",
        "targets.csv, row 1, column amber_tolerance: required column amber_tolerance is missing",
        "targets.csv, row 1, column valid_from: required column valid_from is missing",
    ]


def test_csv_values_read_by_the_loaders_rules() -> None:
    """Decimals either way, date-only = start of the day, offsets to local time, and what
    cannot be a target refused."""
    rows, problems = parsed_targets_csv(
        "KPI;Target_Value;direction;amber_tolerance;valid_from\n"
        "on_time_rate;0,95;Higher;0,02;01/02/2026\n"  # no day above 12: day first
        "nps;1.234,5;lower;0;2026-03-29 09:30\n"
        "csat_pct;0,8;higher;0;2026-07-01T00:00+00:00\n"
        ";;;;\n"  # a spreadsheet's empty row: skipped
    )
    assert problems == []
    assert [(r.kpi, r.target_value, r.direction, r.valid_from) for r in rows] == [
        ("on_time_rate", 0.95, "higher", datetime(2026, 2, 1)),
        ("nps", 1234.5, "lower", datetime(2026, 3, 29, 9, 30)),
        ("csat_pct", 0.8, "higher", datetime(2026, 7, 1, 2, 0)),  # Madrid is UTC+2 in July
    ]
    _, problems = parsed_targets_csv(
        "kpi,target_value,direction,amber_tolerance,valid_from\n"
        "on_time_rate,inf,higher,-1,2026-01-01\n"
        "no_such_kpi,1,higher,0,someday\n"
    )
    assert [str(p) for p in problems] == [
        "targets.csv, row 2, column target_value: target_value 'inf' is not a number",
        "targets.csv, row 2, column amber_tolerance: amber_tolerance '-1' is out of range "
        "(0 or more)",
        "targets.csv, row 3, column valid_from: valid_from 'someday' is not a date (use "
        "YYYY-MM-DD, YYYY-MM-DD HH:MM, dd/mm/yyyy or dd/mm/yyyy HH:MM)",
        "targets.csv, row 3, column kpi: kpi 'no_such_kpi' must be " + " or ".join(HEADLINE_KPIS),
    ]
    _, unreadable = parsed_targets_csv(b"", name="vacio.csv")
    assert [str(p) for p in unreadable] == ["vacio.csv: the file is empty (0 bytes)"]


def test_a_workbook_of_targets_reads_like_the_csv() -> None:
    """Metas accepts every file the loader reads: the same two targets from an .xlsx."""
    import pandas as pd

    sheet = pd.DataFrame(
        {
            "kpi": ["on_time_rate", "median_delay_days"],
            "process": [None, "Compras"],
            "target_value": ["0,92", "2"],
            "direction": ["higher", "lower"],
            "amber_tolerance": ["0,03", "1"],
            "valid_from": ["16/11/2026", "2026-11-16"],
        }
    )
    buffer = io.BytesIO()
    sheet.to_excel(buffer, index=False)
    rows, problems = parsed_targets_csv(buffer.getvalue(), "metas.xlsx")
    assert problems == []
    assert [(r.kpi, r.target_value, r.process, r.direction) for r in rows] == [
        ("on_time_rate", 0.92, None, "higher"),
        ("median_delay_days", 2.0, "Compras", "lower"),
    ]
    assert [r.valid_from for r in rows] == [datetime(2026, 11, 16)] * 2
