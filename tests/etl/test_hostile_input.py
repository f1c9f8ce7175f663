"""Hostile files: whatever the bytes, reading and validation end in a clean rejection.

Hypothesis generates random bytes, CSV-ish text (random delimiters, quotes, encodings,
junk headers) and canonical commitment files whose cells are random text (formulas, SQL,
markup, control characters, huge numbers). Through read_table → apply_mapping →
validate_frame nothing but an EtlError (ReadError, MappingError, ...) may escape; through
load_files on a fresh DuckDB file, every file's rows read = new + changed + unchanged +
rejected, the table holds exactly the new rows, and a refused batch writes nothing.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.db import create_db_engine
from etl.load import load_files
from etl.mapping import apply_mapping
from etl.read import read_table
from etl.records import EtlError
from etl.validate import validate_frame

COLUMNS = (
    "commitment_id",
    "title",
    "process",
    "performer",
    "customer",
    "customer_type",
    "direction",
    "requested_at",
    "promised_at",
    "due_at",
    "delivered_at",
    "cancelled",
)
NASTY = (
    "x'; DROP TABLE commitments; --",
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    "[link](javascript:alert(1))",
    "**bold** $x^2$",
    "\x00\x01\x02",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ ñ",
    "9" * 400,
    "2026-02-30",
    "2026-01-05 25:61",
    "1e309",
    "NaN",
    "",
    " ",
    '"',
    '""',
    "a,b;c\td|e",
    "\r\n",
)
DATES = ("2026-01-05", "2026-01-10 09:30", "05/01/2026", "2026-13-01", "")
cells = st.one_of(
    st.sampled_from(NASTY), st.sampled_from(DATES), st.text(max_size=30), st.integers().map(str)
)
delimiters = st.sampled_from([",", ";", "\t", "|", " ", "'", '"'])
encodings = st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"])


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


@st.composite
def csvish(draw: st.DrawFn) -> bytes:
    """Text that looks a bit like a CSV: canonical and junk headers, ragged rows."""
    header = draw(st.lists(st.one_of(st.sampled_from(COLUMNS), st.text(max_size=12)), max_size=14))
    rows = draw(st.lists(st.lists(cells, max_size=16), max_size=12))
    sep = draw(delimiters)
    quote = draw(st.sampled_from(["", '"', "'"]))
    lines = [sep.join(header)] + [sep.join(f"{quote}{c}{quote}" for c in row) for row in rows]
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return _encode(newline.join(lines), draw(encodings))


@st.composite
def canonical_commitments(draw: st.DrawFn) -> bytes:
    """A commitments file with every canonical column and random values in them."""
    count = draw(st.integers(min_value=0, max_value=15))
    ids = draw(
        st.lists(
            st.one_of(st.sampled_from(NASTY), st.from_regex(r"C-[0-9]{1,3}", fullmatch=True)),
            min_size=count,
            max_size=count,
        )
    )
    out = io.StringIO()
    import csv

    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for cid in ids:
        writer.writerow([cid, *(draw(cells) for _ in COLUMNS[1:])])
    return _encode(out.getvalue(), draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1"])))


hostile_files = st.one_of(st.binary(max_size=600), csvish(), canonical_commitments())
names = st.sampled_from(["commitments.csv", "events.csv", "commitments.xlsx", "dependencies.csv"])


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=hostile_files, name=names)
def test_read_map_validate_only_ever_reject_cleanly(data: bytes, name: str) -> None:
    try:
        table = read_table(io.BytesIO(data), name=name)
        frames = apply_mapping(table, None)
        for kf in frames:
            result = validate_frame(kf, tz="Europe/Madrid")
            rejected_rows = {r.row_number for r in result.rejects if r.row_number is not None}
            file_level = any(r.row_number is None for r in result.rejects)
            if not file_level:
                assert result.rows_read == len(result.valid) + len(rejected_rows)
            else:  # a whole-file rejection (e.g. a required column missing) keeps nothing
                assert len(result.valid) == 0
    except EtlError as exc:
        assert str(exc).strip()  # a message a person can read


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.one_of(csvish(), canonical_commitments()), strict=st.booleans())
def test_load_files_counts_add_up_and_a_refusal_writes_nothing(data: bytes, strict: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_db_engine(f"duckdb:///{Path(folder) / 'h.duckdb'}")
        try:
            try:
                report = load_files(engine, [("commitments.csv", io.BytesIO(data))], strict=strict)
            except EtlError:
                report = None
            with engine.connect() as conn:
                has = sa.inspect(conn).has_table("commitments")
                stored = (
                    conn.execute(sa.text("SELECT count(*) FROM commitments")).scalar() if has else 0
                )
                batches = (
                    conn.execute(sa.text("SELECT count(*) FROM load_batches")).scalar()
                    if has
                    else 0
                )
        finally:
            engine.dispose()
    if report is None or not report.committed:  # refused: nothing at all was written
        assert (stored, batches) == (0, 0)
        return
    assert batches == 1
    for f in report.files:
        if f.refused:
            assert (f.new or 0) + (f.changed or 0) + (f.unchanged or 0) == 0
            continue
        assert f.read == (f.new or 0) + (f.changed or 0) + (f.unchanged or 0) + f.rejected
    assert stored == sum(f.new or 0 for f in report.files)


@pytest.mark.parametrize("data", [b"\r\x01", b'\xef\xbb\xbftitle\r"x"\'"y'])
def test_lone_carriage_return_is_a_clean_rejection(data: bytes) -> None:
    with contextlib.suppress(EtlError):
        read_table(io.BytesIO(data), name="commitments.csv")
