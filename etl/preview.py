"""What a batch would do, before it is loaded: per-file predicted counts and rejects.

`etl.load.validate_files` says what would be read and rejected but leaves
new/changed/unchanged unknown (they are only known by merging). The upload page wants
all of them before the user presses "Load", so `preview_files` runs the load's own steps
(`etl.load.batch_report`: read, map, validate, merge) inside one transaction that is
always rolled back: the numbers are exactly the ones the load would
report (later files of the batch see earlier ones), and nothing is ever committed.

Also here: the upload row limit, the stored load log per file (`batch_files`), rejects as
a table and as a spreadsheet-safe CSV, for the Datos page and anyone else.
"""

from __future__ import annotations

import io
import json
import os
import typing
from collections.abc import Mapping as AnyMapping
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa

from etl.cli import write_rejects_csv
from etl.load import (
    BatchReport,
    Source,
    as_mapping,
    batch_report,
    expanded_sources,
    with_standards,
)
from etl.mapping import Mapping
from etl.publish import remove_stale_scratch, scratch_copy
from etl.read import ReadLimits
from etl.reasons import stored_code
from etl.records import EtlError, KindFrame
from etl.schema import load_batch_files, metadata
from etl.settings import load_settings
from etl.worker import WorkerLimits, run_bounded

# Rows per uploaded file (after mapping, per record kind) the dashboard accepts; above it,
# use `python -m etl load`, which streams nothing to a browser and has no such limit.
DEFAULT_UPLOAD_MAX_ROWS = 1_000_000
UPLOAD_MAX_ROWS_ENV = "ESLABON_UPLOAD_MAX_ROWS"
# What an uploaded file may unpack to (an .xlsx's members, a Parquet file's pages), in
# MB, and how many columns it may have: a small file declaring a huge sheet is refused
# before it costs anything (etl.read.ReadLimits).
DEFAULT_UPLOAD_MAX_UNPACKED_MB = 512
UPLOAD_MAX_UNPACKED_ENV = "ESLABON_UPLOAD_MAX_UNPACKED_MB"
UPLOAD_MAX_COLUMNS = 1024
# The batch id the rolled-back merge stamps on rows (never committed, never a real id).
_PREVIEW_BATCH = -1

REJECT_COLUMNS: tuple[str, ...] = (
    "batch_id",
    "path",
    "kind",
    "row_number",
    "column_name",
    "reason",
    "raw",
    "reason_code",
)
BATCH_FILE_COLUMNS: tuple[str, ...] = (
    "batch_id",
    "path",
    "kind",
    "mapping",
    "rows_read",
    "rows_new",
    "rows_changed",
    "rows_unchanged",
    "rows_rejected",
)


class RowLimitError(EtlError):
    """An uploaded file holds more rows than the dashboard accepts."""


def upload_row_limit(env: AnyMapping[str, str] | None = None) -> int:
    """The row limit per uploaded file: ESLABON_UPLOAD_MAX_ROWS, else 1,000,000.

    A value that is not a positive whole number falls back to the default rather than
    switching the limit off.
    """
    env = os.environ if env is None else env
    raw = (env.get(UPLOAD_MAX_ROWS_ENV) or "").strip().replace("_", "")
    try:
        value = int(raw)
    except ValueError:
        return DEFAULT_UPLOAD_MAX_ROWS
    return value if value > 0 else DEFAULT_UPLOAD_MAX_ROWS


def upload_read_limits(
    max_bytes: int | None = None, env: AnyMapping[str, str] | None = None
) -> ReadLimits:
    """The bounds an uploaded file is read within: `max_bytes` (Streamlit's upload size),
    ESLABON_UPLOAD_MAX_ROWS, ESLABON_UPLOAD_MAX_UNPACKED_MB and UPLOAD_MAX_COLUMNS."""
    env = os.environ if env is None else env
    raw = (env.get(UPLOAD_MAX_UNPACKED_ENV) or "").strip().replace("_", "")
    try:
        unpacked_mb = int(raw)
    except ValueError:
        unpacked_mb = DEFAULT_UPLOAD_MAX_UNPACKED_MB
    if unpacked_mb <= 0:
        unpacked_mb = DEFAULT_UPLOAD_MAX_UNPACKED_MB
    return ReadLimits(
        max_bytes=max_bytes,
        max_rows=upload_row_limit(env),
        max_columns=UPLOAD_MAX_COLUMNS,
        max_uncompressed_bytes=unpacked_mb << 20,
        what=f"{UPLOAD_MAX_ROWS_ENV}, {UPLOAD_MAX_UNPACKED_ENV}; see docs/security.md",
    )


def preview_upload(
    db_url: str,
    uploads: Sequence[tuple[str, bytes]],
    mapping: Mapping | str | None,
    read_limits: ReadLimits,
) -> BatchReport:
    """`preview_files` of uploaded files (name, bytes) on a scratch copy of the database,
    within `read_limits`: what the bounded worker runs (`bounded_preview`)."""
    with scratch_copy(db_url) as scratch:
        return preview_files(
            scratch,
            [(name, io.BytesIO(data)) for name, data in uploads],
            mapping=mapping,
            max_rows=read_limits.max_rows,
            read_limits=read_limits,
        )


def bounded_preview(
    db_url: str,
    uploads: Sequence[tuple[str, bytes]],
    mapping: Mapping | str | None,
    *,
    read_limits: ReadLimits,
    limits: WorkerLimits,
    on_wait: typing.Callable[[float], None] | None = None,
) -> BatchReport:
    """`preview_upload` in a bounded child process (etl.worker): hostile files cost at
    most the worker's time and memory, at low priority, and `on_wait` can cancel it. The
    child's scratch copy is removed afterwards, however the child ended."""
    try:
        return run_bounded(
            preview_upload,
            (db_url, list(uploads), mapping, read_limits),
            limits=limits,
            on_wait=on_wait,
        )
    finally:
        remove_stale_scratch()


def checked_row_limit(frames: Sequence[KindFrame], max_rows: int | None) -> None:
    """Raise RowLimitError naming the first file × kind above `max_rows` (None: no limit)."""
    if max_rows is None:
        return
    for kf in frames:
        if kf.rows_read > max_rows:
            raise RowLimitError(
                f"{kf.path}: {kf.rows_read:,} {kf.kind} rows, more than the {max_rows:,} "
                f"an upload may hold ({UPLOAD_MAX_ROWS_ENV}); split the file or load it "
                "with `python -m etl load`"
            )


def preview_files(
    engine: sa.Engine,
    sources: Sequence[Source],
    *,
    mapping: Mapping | str | os.PathLike[str] | None = None,
    tz: str | None = None,
    max_rows: int | None = None,
    read_limits: ReadLimits | None = None,
) -> BatchReport:
    """What `load_files(engine, sources, mapping=...)` would do, with nothing committed.

    The report has every file × kind with read, new, changed, unchanged and rejected, and
    every reject with its reason; `committed` is False and `batch_id` None. A database
    without the schema is previewed as if empty (the tables are created inside the
    rolled-back transaction). Files are read one at a time, like the load, so memory
    follows the largest file. Raises EtlError (unreadable file, bad mapping, a file above
    `max_rows`, which is checked as soon as the file is read, a file past `read_limits`,
    checked while it is read); database errors propagate.
    """
    tz = tz or load_settings().timezone
    items, _meta = expanded_sources(sources)
    checked = as_mapping(mapping)
    items = with_standards(items, checked)
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            if not sa.inspect(conn).has_table("commitments"):
                metadata.create_all(conn)
            # The load's own steps, merged under a stand-in batch id but not logged.
            report = batch_report(
                conn,
                items,
                checked,
                tz=tz,
                batch_id=_PREVIEW_BATCH,
                log=False,
                each_frame=lambda kf: checked_row_limit([kf], max_rows),
                read_limits=read_limits,
            )
            report.batch_id = None
        finally:
            transaction.rollback()
    return report


def rejects_frame(report: BatchReport) -> pd.DataFrame:
    """A report's rejects in the shape of `etl.load.rejected_rows_frame` (batch_id None)."""
    rows = [
        {
            "batch_id": report.batch_id,
            "path": item.path,
            "kind": item.kind,
            "row_number": item.reject.row_number,
            "column_name": item.reject.column,
            "reason": item.reject.reason,
            "raw": None
            if item.reject.raw is None
            else json.dumps(item.reject.raw, ensure_ascii=False, default=str),
            "reason_code": stored_code(item.reject.reason),
        }
        for item in report.rejects
    ]
    frame = pd.DataFrame(rows, columns=list(REJECT_COLUMNS))
    frame["row_number"] = frame["row_number"].astype("Int64")
    return frame


def rejects_csv(rejects: pd.DataFrame, lang: str = "en") -> str:
    """Rejects (columns of REJECT_COLUMNS) as the CSV `python -m etl rejects --csv` writes:
    reason first, then the row's own columns, every cell neutralised against formulas.

    The CLI's writer is reused on purpose so a file downloaded from the dashboard and one
    written by the CLI are the same, and both are fixed and reloaded the same way; `lang`
    words the fixed headers and the reasons (etl.reasons).
    """
    out = io.StringIO()
    write_rejects_csv(rejects.reset_index(drop=True), out, lang)
    return out.getvalue()


def batch_files(conn: sa.Connection, batch_id: int | None = None) -> pd.DataFrame:
    """The load log per file × kind (all batches, or one), newest batch first.

    Columns: BATCH_FILE_COLUMNS; the counts are what the load wrote for that file.
    """
    t = load_batch_files.c
    query = sa.select(*[t[c] for c in BATCH_FILE_COLUMNS]).order_by(
        t.batch_id.desc(), t.path, t.kind
    )
    if batch_id is not None:
        query = query.where(t.batch_id == batch_id)
    rows = conn.execute(query).fetchall()
    return pd.DataFrame(rows, columns=list(BATCH_FILE_COLUMNS))


__all__ = [
    "DEFAULT_UPLOAD_MAX_ROWS",
    "UPLOAD_MAX_ROWS_ENV",
    "RowLimitError",
    "batch_files",
    "bounded_preview",
    "checked_row_limit",
    "preview_files",
    "preview_upload",
    "rejects_csv",
    "rejects_frame",
    "upload_read_limits",
    "upload_row_limit",
]
