"""Day and month order is decided per column, never per value (issue 14, item 1).

A US export writes month first (`01/02/2015 13:00` is 2 January). Read value by value,
day first, such a file loaded 1 February for 2 January and rejected every date whose
day is above 12. The files here are built so that every expected instant is known: each
row is written from a datetime, and the stored value must be that datetime.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from etl.load import load_files
from etl.mapping import apply_mapping, load_mapping
from etl.read import STRING_DTYPE
from etl.records import ROW, MappingError, RawTable

US_MAPPING = """
[commitments]
[commitments.columns]
commitment_id = "Unique Key"
requested_at = "Created Date"
due_at = "Due Date"
delivered_at = "Closed Date"
customer = "Borough"
[commitments.constants]
process = "311"
"""


def us_file(folder: Path, starts: list[datetime], fmt: str) -> tuple[Path, pd.DataFrame]:
    """A service-request export with month-first dates in `fmt`; the intended instants."""
    rows = []
    for i, created in enumerate(starts):
        due = created + timedelta(days=3, hours=2)
        closed = created + timedelta(days=1, hours=5, minutes=30)
        rows.append((f"SR{i:04d}", created, due, closed))
    expected = pd.DataFrame(rows, columns=["commitment_id", "requested_at", "due_at", "delivered"])
    lines = ["Unique Key,Created Date,Due Date,Closed Date,Borough"]
    lines += [
        f"{key},{c.strftime(fmt)},{d.strftime(fmt)},{x.strftime(fmt)},QUEENS"
        for key, c, d, x in rows
    ]
    path = folder / "requests.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, expected


def mapping_file(folder: Path, extra: str = "") -> Path:
    path = folder / "us.toml"
    path.write_text(US_MAPPING.replace("[commitments]\n", "[commitments]\n" + extra), "utf-8")
    return path


def stored(engine: sa.Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT commitment_id, requested_at, due_at, delivered_at FROM commitments "
                "ORDER BY commitment_id"
            )
        ).fetchall()
    return pd.DataFrame(rows, columns=["commitment_id", "requested_at", "due_at", "delivered"])


def hourly(first: datetime, n: int, step_hours: int) -> list[datetime]:
    return [first + timedelta(hours=step_hours * i) for i in range(n)]


def test_us_month_first_24_hour_file_loads_unswapped(engine: sa.Engine, tmp_path: Path) -> None:
    # 240 requests, one every 7 hours from 1 Jan 2015 to mid-March: 24-hour times, month
    # first. Every date column has days above 12 somewhere, so each decides for itself.
    starts = hourly(datetime(2015, 1, 1, 0, 15), 240, 7)
    path, expected = us_file(tmp_path, starts, "%m/%d/%Y %H:%M")
    assert "01/02/2015 04:15" in path.read_text()  # 2 January, which day-first reads as 1 Feb
    report = load_files(engine, [path], mapping=mapping_file(tmp_path))
    [counts] = report.files
    assert (counts.read, counts.new, counts.rejected) == (240, 240, 0)
    got = stored(engine)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # independent of the loader: no stored date lies in February's first days by accident
    january_2nd = got[got["commitment_id"] == "SR0004"]["requested_at"].iloc[0]
    assert (january_2nd.month, january_2nd.day) == (1, 2)


def test_twelve_hour_times_load_without_a_format(engine: sa.Engine, tmp_path: Path) -> None:
    starts = hourly(datetime(2015, 1, 10, 9, 0), 30, 11)
    path, expected = us_file(tmp_path, starts, "%m/%d/%Y %I:%M:%S %p")
    assert "PM" in path.read_text() and "AM" in path.read_text()
    report = load_files(engine, [path], mapping=mapping_file(tmp_path))
    assert (report.files[0].new, report.files[0].rejected) == (30, 0)
    pd.testing.assert_frame_equal(stored(engine), expected, check_dtype=False)


def test_an_ambiguous_file_is_refused_with_how_to_set_the_order(
    engine: sa.Engine, tmp_path: Path
) -> None:
    # Created 1..5 Jan, due and closed within the first twelve days: no field above 12
    # anywhere, so 01/05/2015 could be 5 January or 1 May.
    starts = hourly(datetime(2015, 1, 1, 8, 0), 5, 24)
    path, expected = us_file(tmp_path, starts, "%m/%d/%Y %H:%M")
    report = load_files(engine, [path], mapping=mapping_file(tmp_path))
    assert (report.files[0].read, report.files[0].rejected) == (5, 5)
    first = report.rejects[0].reject
    assert first.column == "requested_at"
    assert first.reason.startswith(
        "requested_at '01/01/2015 08:00' could be day/month or month/day: no date of the "
        "column (nor of the file) has a day above 12 to tell; set the format in the mapping: "
        '[commitments.date_formats] requested_at = "%d/%m/%Y" (day first) or "%m/%d/%Y"'
    )
    assert first.reason.endswith(
        'for every date column, date_order = "day_first" or "month_first" in [commitments]'
    )
    assert stored(engine).empty

    # the mapping says the order once, for every date column of the kind
    report = load_files(
        engine, [path], mapping=mapping_file(tmp_path, 'date_order = "month_first"\n')
    )
    assert (report.files[0].new, report.files[0].rejected) == (5, 0)
    pd.testing.assert_frame_equal(stored(engine), expected, check_dtype=False)


def test_a_column_that_proves_nothing_follows_the_files_other_dates(
    engine: sa.Engine, tmp_path: Path
) -> None:
    # Created 1..12 Jan (ambiguous on its own); closed and due dates reach the 13th and
    # beyond, month first: one export writes every date one way.
    starts = hourly(datetime(2015, 1, 1, 8, 0), 12, 23)
    path, expected = us_file(tmp_path, starts, "%m/%d/%Y %H:%M")
    created = [line.split(",")[1] for line in path.read_text().splitlines()[1:]]
    assert all(int(v[:2]) <= 12 and int(v[3:5]) <= 12 for v in created)
    report = load_files(engine, [path], mapping=mapping_file(tmp_path))
    assert (report.files[0].new, report.files[0].rejected) == (12, 0)
    pd.testing.assert_frame_equal(stored(engine), expected, check_dtype=False)


def test_a_column_written_both_ways_is_refused_naming_both(tmp_path: Path) -> None:
    from etl.validate import validate_frame

    path = tmp_path / "requests.csv"
    path.write_text(
        "Unique Key,Created Date,Due Date,Closed Date,Borough\n"
        "A,13/01/2015 10:00,2015-01-20,,Q\n"
        "B,01/14/2015 10:00,2015-01-20,,Q\n",
        "utf-8",
    )
    from etl.read import read_table

    [kf] = apply_mapping(read_table(path), load_mapping(mapping_file(tmp_path)))
    result = validate_frame(kf, tz="Europe/Madrid")
    assert [r.row_number for r in result.rejects] == [2, 3]
    assert "the column holds day-first dates ('13/01/2015 10:00') and month-first ones " in (
        result.rejects[0].reason
    )


def test_a_format_set_once_applies_to_every_date_column_of_the_kind(tmp_path: Path) -> None:
    text = US_MAPPING.replace("[commitments]\n", '[commitments]\ndate_format = "%m/%d/%Y %H:%M"\n')
    text += '[commitments.date_formats]\ndue_at = "%m/%d/%Y"\n'
    path = tmp_path / "m.toml"
    path.write_text(text, "utf-8")
    km = load_mapping(path).kind("commitments")
    assert dict(km.date_formats) == {
        "requested_at": "%m/%d/%Y %H:%M",
        "due_at": "%m/%d/%Y",  # the column's own format wins
        "delivered_at": "%m/%d/%Y %H:%M",
    }
    # or once for the whole file, every kind
    path.write_text('date_order = "month_first"\n' + US_MAPPING, "utf-8")
    assert load_mapping(path).kind("commitments").date_order == "month_first"
    path.write_text('date_order = "american"\n' + US_MAPPING, "utf-8")
    with pytest.raises(MappingError, match="'date_order' must be 'day_first' or 'month_first'"):
        load_mapping(path)


def test_aggregates_order_dates_the_way_the_column_is_read(tmp_path: Path) -> None:
    # Month first (01/13 proves it): 1 Feb, 3 Jan, 13 Jan. Day first would have made
    # 02/01 the earliest (2 January) and 01/03 the latest (1 March).
    path = tmp_path / "m.toml"
    path.write_text(
        '[commitments]\none_per = "case"\n[commitments.columns]\ncommitment_id = "case"\n'
        'customer = "who"\nrequested_at = { column = "ts", agg = "min" }\n'
        'due_at = { column = "ts", agg = "max" }\n[commitments.constants]\nprocess = "P"\n',
        "utf-8",
    )
    frame = pd.DataFrame(
        {
            "case": pd.array(["a", "a", "a"], dtype=STRING_DTYPE),
            "who": pd.array(["K", "K", "K"], dtype=STRING_DTYPE),
            "ts": pd.array(
                ["02/01/2015 10:00", "01/03/2015 09:00", "01/13/2015 08:00"], dtype=STRING_DTYPE
            ),
        }
    )
    frame[ROW] = pd.Series([2, 3, 4], dtype="int64")
    [kf] = apply_mapping(RawTable("x.csv", "sha", frame), load_mapping(path))
    assert kf.frame["requested_at"].tolist() == ["01/03/2015 09:00"]
    assert kf.frame["due_at"].tolist() == ["02/01/2015 10:00"]
