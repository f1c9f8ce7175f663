"""One all-or-nothing batch: read, map, validate, upsert by key, log counts and rejects.

A call to `load_files` is one batch and one database transaction: the `load_batches` row,
a `load_batch_files` row per file × record kind (sha256 and counts), every rejected row
and every upsert commit together, or — on any error, or a killed process — not at all.

Rows are staged in bulk into a temporary table (DuckDB: the DataFrame registered on the
connection and copied with INSERT … SELECT; PostgreSQL: COPY), then merged with
set-based SQL: rows whose key is new are inserted, rows whose loaded columns differ
(IS DISTINCT FROM) are updated ("changed"), the rest are "unchanged". Only the columns
the file actually has are compared and updated, so a file without, say, `title` never
erases titles loaded before. Per file and kind: read = new + changed + unchanged + rejected.
Into an empty table rows go straight in (a first load needs no staging or comparison).

Files are validated and merged one at a time, in load order (directories by file name,
LOAD_ORDER), while the next one is read; memory follows the largest two consecutive
files rather than the whole batch.

`validate_files` is the same pipeline without writing: the dashboard shows its result
before the user decides to load.
"""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import io
import json
import os
import tomllib
import typing
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from etl.db import is_duckdb
from etl.event_steps import refresh_event_steps
from etl.mapping import Mapping, apply_mapping, load_mapping
from etl.parse import TEXT
from etl.read import ReadLimits, kind_from_name, read_table
from etl.reasons import stored_code
from etl.records import EtlError, KindFrame, LoadWarning, ReadError, Reject
from etl.schema import (
    BRIN_INDEXES,
    LOAD_ORDER,
    RECORD_KINDS,
    RecordKind,
    commitment_pauses,
    create_schema,
    dataset_meta,
    event_steps,
    load_batch_files,
    load_batches,
    load_warnings,
    rejected_rows,
)
from etl.settings import load_settings
from etl.standards import (
    StandardsSeen,
    checked_calendars,
    checked_commitments,
    checked_holidays,
    checked_policies,
    query_frame,
    refresh_standards,
)
from etl.validate import (
    KnownCommitments,
    ValidationResult,
    commitment_ids_in_db,
    dependency_edges_in_db,
    validate_frame,
)

# A source: a path (file or directory) or an upload as (name, binary file object).
Source = str | os.PathLike[str] | tuple[str, typing.BinaryIO]
# progress(what is being done, rows done so far, rows in the batch)
Progress = Callable[[str, int, int], None]

DATASET_FILE = "dataset.toml"
# What a commitment's standard due depends on: a batch that changes none of these leaves
# every standard due as it is (no refresh).
STANDARD_INPUTS = frozenset({"calendars", "holidays", "policies", "commitments", "events"})
_COPY_CHUNK = 100_000
_NAMES_SHOWN = 10


@dataclass
class FileReport:
    """Counts for one file × record kind; new/changed/unchanged are None in a dry run."""

    path: str
    kind: str
    sha256: str
    read: int
    rejected: int
    new: int | None = None
    changed: int | None = None
    unchanged: int | None = None
    mapping: str | None = None
    refused: str | None = None
    warnings: list[LoadWarning] = field(default_factory=list)

    @property
    def valid(self) -> int:
        """Rows that passed validation (loaded, or loadable in a dry run)."""
        return self.read - self.rejected

    @property
    def all_rejected(self) -> bool:
        """The file had rows and none of them passed: the load failed for this file."""
        return self.read > 0 and self.valid == 0

    def as_json(self) -> dict[str, object]:
        """The entry `python -m etl load --json` prints."""
        return {
            "path": self.path,
            "kind": self.kind,
            "read": self.read,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


@dataclass(frozen=True)
class RejectedRow:
    """A Reject with the file and kind it came from."""

    path: str
    kind: str
    reject: Reject


@dataclass
class BatchReport:
    """What a batch did (or, in a dry run or a strict refusal, would have done)."""

    batch_id: int | None
    files: list[FileReport]
    rejects: list[RejectedRow] = field(default_factory=list)
    committed: bool = False
    dataset: dict[str, str] = field(default_factory=dict)

    @property
    def rows_rejected(self) -> int:
        """Rejected records over every file."""
        return sum(f.rejected for f in self.files)

    @property
    def warnings(self) -> list[LoadWarning]:
        """Every file's warnings, in load order."""
        return [w for f in self.files for w in f.warnings]

    @property
    def failed_files(self) -> list[FileReport]:
        """Files (× kind) that had rows and loaded none: a load with one is a failure."""
        return [f for f in self.files if f.all_rejected]

    def as_json(self) -> dict[str, object]:
        """`{"batch_id": ..., "files": [...], "warnings": [...]}`, what the CLI prints with
        --json; a warning is {path, kind, code, params, message}."""
        return {
            "batch_id": self.batch_id,
            "files": [f.as_json() for f in self.files],
            "warnings": [
                {
                    "path": w.path,
                    "kind": w.kind,
                    "code": w.code,
                    "params": dict(w.params),
                    "message": w.text,
                }
                for w in self.warnings
            ],
        }


# --- sources -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """One file to read: a path, or an upload's name and bytes."""

    name: str
    source: str | os.PathLike[str] | typing.BinaryIO
    canonical: bool = False  # read as a canonical file even when the batch has a mapping


def expanded_sources(sources: Iterable[Source]) -> tuple[list[_Item], dict[str, str]]:
    """Files to read, in load order for directories, and the dataset metadata found.

    A directory contributes its canonical files (by name, in LOAD_ORDER) and, when it
    holds `dataset.toml`, its top-level values (as_of, name, seed, ...). Raises ReadError
    for a path that does not exist or a directory without canonical files.
    """
    items: list[_Item] = []
    meta: dict[str, str] = {}
    for source in sources:
        if isinstance(source, tuple):
            name, fileobj = source
            items.append(_Item(str(name), fileobj))
            continue
        path = Path(source)
        if path.is_dir():
            files = [p for p in sorted(path.iterdir()) if p.is_file() and kind_from_name(p)]
            if not files:
                raise ReadError(
                    f"{path}: no canonical files in this folder (expected names like "
                    f"{', '.join(k + '.csv' for k in LOAD_ORDER[:3])}, ...)"
                )
            files.sort(key=lambda p: LOAD_ORDER.index(kind_from_name(p) or ""))
            items.extend(_Item(str(p), p) for p in files)
            if (path / DATASET_FILE).is_file():
                meta.update(dataset_metadata(path / DATASET_FILE))
        elif path.exists():
            items.append(_Item(str(path), path))
        else:
            raise ReadError(f"{path}: no such file or folder")
    if not items:
        raise ReadError("nothing to load: no files were given")
    return items, meta


def dataset_metadata(path: Path) -> dict[str, str]:
    """The scalar top-level values of a sample's dataset.toml, as text for dataset_meta."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ReadError(f"{path}: cannot be read as TOML ({exc})") from None
    meta: dict[str, str] = {}
    for key, value in document.items():
        if isinstance(value, (datetime, date)):
            meta[key] = value.isoformat()
        elif isinstance(value, (str, int, float, bool)):
            meta[key] = str(value)
    return meta


def with_standards(items: list[_Item], mapping: Mapping | None) -> list[_Item]:
    """The batch's files plus the standards folder its mapping names (read canonically)."""
    if mapping is None or mapping.standards is None:
        return items
    folder, _meta = expanded_sources([mapping.standards])
    return [_Item(i.name, i.source, canonical=True) for i in folder] + items


def ordered_items(items: Sequence[_Item], mapping: Mapping | None) -> list[_Item]:
    """Files in load order: by the record kind their name (or the mapping) gives.

    Files are read one at a time, so a file must come after the files it refers to. The
    sort is stable: two files of one kind load in the order given.
    """

    def rank(item: _Item) -> int:
        if mapping is not None and not item.canonical:
            return min(LOAD_ORDER.index(k.kind) for k in mapping.kinds)
        kind = kind_from_name(item.name)
        return LOAD_ORDER.index(kind) if kind else -1

    return sorted(items, key=rank)


def kind_frames_of(
    item: _Item, mapping: Mapping | None, limits: ReadLimits | None = None, *, tz: str
) -> list[KindFrame]:
    """One file read (within `limits`, for an untrusted upload) and mapped into its
    record kinds, in load order; `tz` is the zone dates are read in."""
    if item.canonical:
        mapping = None
    options = mapping.read_options if mapping is not None else {}
    try:
        table = read_table(item.source, name=item.name, limits=limits, **options)
    except EtlError:
        raise
    except Exception as exc:  # a reader surprise is still "this file cannot be read"
        raise ReadError(f"{item.name}: cannot be read ({type(exc).__name__}: {exc})") from exc
    frames = apply_mapping(table, mapping, tz=tz)
    return sorted(frames, key=lambda kf: LOAD_ORDER.index(kf.kind))


def _size(item: _Item) -> int:
    """Bytes of a source, for progress (0 when unknown)."""
    source = item.source
    try:
        if isinstance(source, (str, os.PathLike)):
            return Path(source).stat().st_size
        position = source.tell()
        size = source.seek(0, os.SEEK_END)
        source.seek(position)
        return int(size)
    except (OSError, AttributeError, ValueError):
        return 0


def as_mapping(mapping: Mapping | str | os.PathLike[str] | None) -> Mapping | None:
    """A Mapping from a Mapping, a path, or None (a path is loaded and checked)."""
    if mapping is None or isinstance(mapping, Mapping):
        return mapping
    return load_mapping(mapping)


# --- the batch ---------------------------------------------------------------------


def load_files(
    engine: sa.Engine,
    sources: Sequence[Source],
    *,
    mapping: Mapping | str | os.PathLike[str] | None = None,
    tz: str | None = None,
    progress: Progress | None = None,
    strict: bool = False,
    loaded_by: str | None = None,
    note: str | None = None,
    read_limits: ReadLimits | None = None,
) -> BatchReport:
    """Load `sources` as one batch, all or nothing; the report says what happened.

    `strict` refuses the whole batch when any row is rejected (report.committed False,
    nothing written). Files are read one at a time (bounded memory); an unreadable file or
    a bad mapping raises EtlError and, like any error, rolls the whole batch back.
    `read_limits` bounds untrusted files while they are read (the Datos page's uploads).
    """
    tz = tz or load_settings().timezone
    items, meta = expanded_sources(sources)
    checked = as_mapping(mapping)
    items = with_standards(items, checked)
    create_schema(engine)
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            _quiet(conn)
            batch_id = _new_batch(conn, tz, loaded_by, note)
            report = batch_report(
                conn,
                items,
                checked,
                tz=tz,
                batch_id=batch_id,
                progress=progress,
                read_limits=read_limits,
            )
            if strict and report.rows_rejected:
                transaction.rollback()
                report.batch_id = None
                return report
            _finish_batch(conn, report, batch_id, meta, tz)
            transaction.commit()
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
        refresh_statistics(conn)
    report.committed = True
    return report


def _finish_batch(
    conn: sa.Connection, report: BatchReport, batch_id: int, meta: dict[str, str], tz: str
) -> None:
    """What closes a batch after its files: dataset metadata, the stored event pairs of
    the cases whose events changed, the standards refresh when the batch changed what
    standard dues depend on, the batch's finishing time."""
    if meta:
        _store_dataset_meta(conn, meta)
        report.dataset = meta
    changed = {f.kind for f in report.files if f.new or f.changed}
    if "events" in changed:
        refresh_event_steps(conn, batch_id)
    if changed & STANDARD_INPUTS:
        refresh_standards(conn, standards_as_of(conn, tz))
    conn.execute(
        load_batches.update()
        .where(load_batches.c.batch_id == batch_id)
        .values(finished_at=_now(tz))
    )


@dataclass
class CheckedBatch:
    """A batch read, validated and compared with the database, nothing written yet: the
    first phase of an in-place load (etl.publish), applied by `apply_checked`."""

    files: list[CheckedFile]
    report: BatchReport
    meta: dict[str, str]
    tz: str

    @property
    def rows_to_merge(self) -> int:
        """Rows the apply will insert or update (or compare again: a kind's later files)."""
        return sum(len(f.result.valid) for f in self.files)


def check_batch(
    engine: sa.Engine,
    sources: Sequence[Source],
    *,
    mapping: Mapping | str | os.PathLike[str] | None = None,
    tz: str | None = None,
    progress: Progress | None = None,
    read_limits: ReadLimits | None = None,
) -> CheckedBatch:
    """Everything of a load that only reads the database: reading, validating, and finding
    which valid rows are new or changed. A read-only engine suffices, so readers of a
    DuckDB file keep reading meanwhile; the database must hold the schema already.
    """
    tz = tz or load_settings().timezone
    items, meta = expanded_sources(sources)
    checked = as_mapping(mapping)
    items = with_standards(items, checked)
    deferred: list[CheckedFile] = []
    with engine.connect() as conn:
        _quiet(conn)
        report = batch_report(
            conn,
            items,
            checked,
            tz=tz,
            batch_id=None,
            progress=progress,
            read_limits=read_limits,
            deferred=deferred,
        )
        conn.rollback()
    return CheckedBatch(deferred, report, meta, tz)


def apply_checked(
    engine: sa.Engine,
    checked: CheckedBatch,
    *,
    strict: bool = False,
    loaded_by: str | None = None,
    note: str | None = None,
) -> BatchReport:
    """Write a checked batch in one transaction, all or nothing, like `load_files` would
    have: only its new and changed rows are merged (the unchanged ones are counted).

    Must run with no other writer since `check_batch` (etl.publish holds the writer
    lock across both phases), or the comparison would be stale.
    """
    report = checked.report
    if strict and report.rows_rejected:
        return report
    create_schema(engine)
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            _quiet(conn)
            batch_id = _new_batch(conn, checked.tz, loaded_by, note)
            for f in checked.files:
                _store_file(
                    conn,
                    f.result,
                    f.report,
                    batch_id,
                    log=True,
                    skipped=f.skipped,
                    is_new=f.is_new,
                    differing=f.differing,
                    merged=f.merged,
                )
            report.batch_id = batch_id
            _finish_batch(conn, report, batch_id, checked.meta, checked.tz)
            transaction.commit()
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
        refresh_statistics(conn)
    report.committed = True
    return report


def refresh_statistics(conn: sa.Connection) -> None:
    """ANALYZE the loaded tables (and those the load derives from them) on PostgreSQL,
    right after the batch commits, and summarize the due-date ranges the batch filled.

    A COPY leaves the planner without row counts until autovacuum gets round to the
    tables; until then it plans the metric queries' joins as nested loops over "tiny"
    tables (docs/benchmarks.md, "The team server"). A BRIN index leaves the pages written
    after it was built unsummarized, and a scan must read every such page, so the period
    index (etl.schema.DUE_DATE_RANGES) would skip nothing of a first load. DuckDB keeps its
    statistics and zone maps as it writes, so it needs neither.
    """
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.format_table
    with conn.begin():
        for index in BRIN_INDEXES:
            conn.execute(
                sa.text("SELECT brin_summarize_new_values(CAST(:index AS regclass))"),
                {"index": index.name},
            ).fetchall()
        derived = (event_steps, commitment_pauses)  # written by the load from the others
        for table in (*(record.table for record in RECORD_KINDS.values()), *derived):
            conn.execute(sa.text(f"ANALYZE {quote(table)}"))


def validate_files(
    engine: sa.Engine,
    sources: Sequence[Source],
    *,
    mapping: Mapping | str | os.PathLike[str] | None = None,
    tz: str | None = None,
    progress: Progress | None = None,
) -> BatchReport:
    """A dry run: what `load_files` would read and reject, without writing anything.

    References and cycles are checked against the database as it is (read-only, so a
    dashboard holding a read-only DuckDB connection can call it). new/changed/unchanged
    stay None: they are only known by merging.
    """
    tz = tz or load_settings().timezone
    items, _meta = expanded_sources(sources)
    checked = as_mapping(mapping)
    items = with_standards(items, checked)
    with engine.connect() as conn:
        _quiet(conn)
        has_schema = sa.inspect(conn).has_table("commitments")
        report = batch_report(
            conn, items, checked, tz=tz, batch_id=None, progress=progress, db=has_schema
        )
        conn.rollback()
    return report


def batch_report(
    conn: sa.Connection,
    items: Sequence[_Item],
    mapping: Mapping | None,
    *,
    tz: str,
    batch_id: int | None,
    progress: Progress | None = None,
    db: bool = True,
    log: bool = True,
    each_frame: Callable[[KindFrame], None] | None = None,
    read_limits: ReadLimits | None = None,
    deferred: list[CheckedFile] | None = None,
) -> BatchReport:
    """Read, validate and (with a batch id) merge each file in load order, one at a time.

    The next file is read while one is checked and merged, and a file's tables are dropped
    once merged, so memory follows the two largest consecutive files, not the batch.
    Progress counts bytes of the source files. `log=False` merges without writing the
    load log (a preview that will roll back); `each_frame` sees every file × kind as soon
    as it is read (the upload row limit); `read_limits` bounds each file while it is read.
    `deferred` (an in-place load's first phase): nothing is written, each checked file
    and the rows of it that would change the database are appended there instead.
    """
    batch = _Batch(conn, tz, batch_id, db, log)
    batch.deferred = deferred
    ordered = ordered_items(items, mapping)
    sizes = [_size(item) for item in ordered]
    total, done = sum(sizes), 0
    # The next file is read on a second thread while this one is checked and merged:
    # reading is mostly Arrow and I/O, which run without the GIL. Errors still surface
    # in file order (a read's error when its frames are asked for).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eslabon-read") as reader:
        pending = [
            reader.submit(kind_frames_of, item, mapping, read_limits, tz=tz) for item in ordered[:1]
        ]
        for position, (item, size) in enumerate(zip(ordered, sizes, strict=True)):
            if progress is not None:
                progress(f"reading {Path(item.name).name}", done, total)
            frames = pending.pop().result()
            if position + 1 < len(ordered):
                pending.append(
                    reader.submit(
                        kind_frames_of, ordered[position + 1], mapping, read_limits, tz=tz
                    )
                )
            while frames:
                kf = frames.pop(0)  # dropped as soon as it is merged
                if progress is not None:
                    progress(f"checking {kf.kind} of {Path(kf.path).name}", done, total)
                if each_frame is not None:
                    each_frame(kf)
                batch.add(kf)
                del kf
            done += size
            # Give what this file freed back to the system before the next one is checked
            # (with the C allocator, malloc_trim; see etl/cli.py for why that allocator).
            pa.default_memory_pool().release_unused()
    if progress is not None:
        progress("done", total, total)
    return batch.report


class _Batch:
    """What one batch has seen so far: known commitments, accepted edges, the report.

    Commitments validated earlier in the batch are known to later files; dependency edges
    accepted earlier (database and batch) take part in the cycle search.
    """

    def __init__(
        self, conn: sa.Connection, tz: str, batch_id: int | None, db: bool, log: bool
    ) -> None:
        self.conn, self.tz, self.batch_id, self.db, self.log = conn, tz, batch_id, db, log
        lookup = (lambda ids: commitment_ids_in_db(conn, ids)) if db else None
        self.known = KnownCommitments(lookup)
        self.edges: list[pd.DataFrame] = []
        self.db_edges_fetched = not db
        self.processes: set[str] = set()  # the processes list: this batch's, then the DB's
        self.db_processes_fetched = not db
        self.report = BatchReport(batch_id=batch_id, files=[])
        self.standards = StandardsSeen.for_connection(conn if db else None)
        self.deferred: list[CheckedFile] | None = None
        self.kinds_seen: set[str] = set()

    def add(self, kf: KindFrame) -> None:
        """Validate one KindFrame, merge it when loading, and log its counts and rejects.

        With `deferred` set (an in-place load's first phase) nothing is written: the file
        is checked, the rows that would change the database are found, and both are kept
        for `apply_checked`.
        """
        result, file_report = self.check(kf)
        if self.deferred is not None:
            # A kind's first file is compared with the database as it is; a later file of
            # the same kind may revisit rows the earlier one changes, so it is merged whole.
            first = result.kind not in self.kinds_seen
            self.deferred.append(_deferred(self.conn, result, file_report, compare=first))
            self.kinds_seen.add(result.kind)
        elif self.batch_id is not None:
            _store_file(self.conn, result, file_report, self.batch_id, log=self.log)
        self.report.files.append(file_report)
        self.report.rejects.extend(RejectedRow(result.path, result.kind, r) for r in result.rejects)

    def check(self, kf: KindFrame) -> tuple[ValidationResult, FileReport]:
        """Validate one KindFrame against the batch so far and the database."""
        existing = None
        if kf.kind == "dependencies":
            if not self.db_edges_fetched:
                self.edges.insert(0, dependency_edges_in_db(self.conn))
                self.db_edges_fetched = True
            existing = pd.concat(self.edges, ignore_index=True) if self.edges else None
        result = validate_frame(kf, tz=self.tz, known=self.known, existing_edges=existing)
        self._check_standards(result)
        if kf.kind == "commitments":
            self.known.add(result.valid["commitment_id"])
        if kf.kind == "dependencies":
            # Arrow-backed text, not Python str objects: every edge is held for the batch.
            self.edges.append(result.valid[["commitment_id", "depends_on"]].astype(TEXT))
        if kf.kind == "processes":
            self.processes.update(str(p) for p in result.valid["process"].dropna().unique())
        file_report = FileReport(
            path=result.path,
            kind=result.kind,
            sha256=result.sha256,
            read=result.rows_read,
            rejected=result.rows_rejected,
            mapping=result.mapping,
            refused=result.refused,
            warnings=self._warnings(result),
        )
        return result, file_report

    def _warnings(self, result: ValidationResult) -> list[LoadWarning]:
        """What this file's load must say beside its counts (LoadWarning codes).

        `unknown_process`: commitments naming a process that the processes list (this
        batch's and the database's) does not hold; only when there is a list at all, since
        a log loaded without one (a process-mining export) names its stages itself.
        """
        found: list[LoadWarning] = []
        if result.rows_read and not result.rows_valid:
            found.append(
                LoadWarning("all_rejected", result.path, result.kind, {"rows": result.rows_read})
            )
        if result.kind == "commitments" and result.rows_valid:
            known = self._process_list()
            named = result.valid["process"]
            unknown = named.notna() & ~named.isin(list(known)) if known else None
            if unknown is not None and unknown.any():
                names = sorted(str(p) for p in named[unknown].unique())
                shown = ", ".join(repr(n) for n in names[:_NAMES_SHOWN])
                if len(names) > _NAMES_SHOWN:
                    shown += f" and {len(names) - _NAMES_SHOWN} more"
                found.append(
                    LoadWarning(
                        "unknown_process",
                        result.path,
                        result.kind,
                        {"processes": shown, "rows": int(unknown.sum())},
                    )
                )
        return found

    def _process_list(self) -> set[str]:
        """The process names a commitment may use: this batch's processes and the DB's."""
        if not self.db_processes_fetched:
            rows = self.conn.execute(sa.text("SELECT process FROM processes")).fetchall()
            self.processes.update(str(r[0]) for r in rows)
            self.db_processes_fetched = True
        return self.processes

    def _check_standards(self, result: ValidationResult) -> None:
        """The service-standard checks of a file (etl/standards.py), after the generic ones."""
        kind = result.kind
        if result.refused is not None:
            return
        if kind == "calendars":
            checked_calendars(result, self.standards)
        elif kind == "holidays":
            checked_holidays(result, self.standards)
        elif kind == "policies":
            checked_policies(result, self.standards)
        elif kind == "commitments":
            stored = _stored_derived_dues(self.conn) if self.db else None
            checked_commitments(result, self.standards, stored)
        self.standards.add(kind, result.valid)


@dataclass
class CheckedFile:
    """One file × kind checked before an in-place apply: its validation result, whose
    `valid` holds only the rows to merge, and how many valid rows were left out as
    already stored unchanged."""

    result: ValidationResult
    report: FileReport
    skipped: int
    is_new: np.ndarray | None = None  # per row of result.valid; None: merge it whole
    differing: tuple[str, ...] = ()  # the columns some changed row differs in
    merged: pa.Table | None = None  # DuckDB: the changed rows as they will be stored


def _deferred(
    conn: sa.Connection, result: ValidationResult, report: FileReport, *, compare: bool
) -> CheckedFile:
    """A checked file reduced to the rows that would change the database (`compare`),
    or whole."""
    if not compare or result.valid.empty:
        return CheckedFile(result, report, 0)
    positions, is_new, differing, merged = changing_rows(conn, result)
    rows = result.valid.iloc[positions]
    skipped = len(result.valid) - len(rows)
    return CheckedFile(
        dataclasses.replace(result, valid=rows), report, skipped, is_new, differing, merged
    )


def _store_file(
    conn: sa.Connection,
    result: ValidationResult,
    report: FileReport,
    batch_id: int,
    *,
    log: bool,
    skipped: int = 0,
    is_new: np.ndarray | None = None,
    differing: Sequence[str] = (),
    merged: pa.Table | None = None,
) -> None:
    """Merge one checked file, fill in its counts and write its part of the load log.

    `skipped`: valid rows found unchanged before (not in `result.valid`), counted as such;
    `is_new` (and `differing`): the rows were compared already (`changing_rows`), they
    are only written here.
    """
    if is_new is None:
        new, changed, unchanged = merged_counts(conn, result, batch_id)
    else:
        new, changed, unchanged = applied_counts(conn, result, is_new, differing, batch_id, merged)
    unchanged += skipped
    report.new, report.changed, report.unchanged = new, changed, unchanged
    if not log:
        return
    _store_rejects(conn, result, batch_id)
    _store_warnings(conn, report.warnings, batch_id)
    conn.execute(
        load_batch_files.insert().values(
            batch_id=batch_id,
            path=result.path,
            kind=result.kind,
            sha256=result.sha256,
            mapping=result.mapping,
            rows_read=result.rows_read,
            rows_new=new,
            rows_changed=changed,
            rows_unchanged=unchanged,
            rows_rejected=report.rejected,
        )
    )


def _stored_derived_dues(conn: sa.Connection) -> pd.DataFrame | None:
    """(commitment_id, due_at) of stored commitments whose due came from their standard."""
    if not sa.inspect(conn).has_table("commitments"):
        return None
    return query_frame(
        conn, "SELECT commitment_id, due_at FROM commitments WHERE due_from_standard"
    )


def _quiet(conn: sa.Connection) -> None:
    """Turn off DuckDB's own progress bar: it would write into `--json` output."""
    if is_duckdb(conn.engine):
        conn.exec_driver_sql("SET enable_progress_bar = false")


def _now(tz: str) -> datetime:
    """Wall-clock now in the configured zone, naive like every stored timestamp."""
    return datetime.now(ZoneInfo(tz)).replace(tzinfo=None)


def standards_as_of(conn: sa.Connection, tz: str) -> datetime:
    """The instant that ends the pause of a commitment still paused and open: the data
    set's own as_of when it ships one (samples), otherwise the load's wall-clock time."""
    row = conn.execute(sa.select(dataset_meta.c.value).where(dataset_meta.c.key == "as_of")).first()
    if row is not None and row[0]:
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(str(row[0])).replace(tzinfo=None)
    return _now(tz)


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _new_batch(conn: sa.Connection, tz: str, loaded_by: str | None, note: str | None) -> int:
    """Take the next batch id inside the transaction and write the batch row.

    PostgreSQL: an EXCLUSIVE lock on load_batches makes concurrent loads queue instead of
    taking the same id (readers are not blocked). DuckDB has one writer per file anyway,
    and its optimistic concurrency fails a second in-process writer rather than mixing.
    """
    if not is_duckdb(conn.engine):
        conn.execute(sa.text("LOCK TABLE load_batches IN EXCLUSIVE MODE"))
    current = conn.execute(sa.select(sa.func.max(load_batches.c.batch_id))).scalar()
    batch_id = int(current or 0) + 1
    conn.execute(
        load_batches.insert().values(
            batch_id=batch_id,
            started_at=_now(tz),
            status="committed",
            loaded_by=loaded_by or _user(),
            note=note,
        )
    )
    return batch_id


def _store_dataset_meta(conn: sa.Connection, meta: dict[str, str]) -> None:
    """Replace the keys of dataset.toml in dataset_meta (other keys are left alone)."""
    conn.execute(dataset_meta.delete().where(dataset_meta.c.key.in_(list(meta))))
    conn.execute(dataset_meta.insert(), [{"key": k, "value": v} for k, v in meta.items()])


# --- merging ---------------------------------------------------------------------


def merged_counts(
    conn: sa.Connection, result: ValidationResult, batch_id: int
) -> tuple[int, int, int]:
    """Upsert the valid rows by key; returns (new, changed, unchanged).

    Rows are staged into a temporary table in bulk, then merged set-based: a changed row
    gets the batch id, an unchanged one keeps the batch that last changed it. Into an
    empty table (a first load) every row is new and goes straight in, with no staging.
    """
    if result.valid.empty:
        return 0, 0, 0
    record = RECORD_KINDS[result.kind]
    target = record.table
    stored_columns = [
        *record.columns,
        *(c for c in record.derived if c in result.valid.columns),
    ]
    if conn.execute(sa.select(sa.literal(1)).select_from(target).limit(1)).first() is None:
        frame = result.valid[stored_columns]
        bulk_insert(conn, target, frame, batch_id=batch_id)
        return len(frame), 0, 0
    stage = _stage_table(record, stored_columns)
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {stage.name}"))
    stage.create(conn)
    frame = result.valid[stored_columns]
    bulk_insert(conn, stage, frame)

    key, compared, differs = _comparison(record, stage, result.columns)
    exists = sa.exists().where(*key)
    new = conn.execute(sa.select(sa.func.count()).select_from(stage).where(~exists)).scalar()
    changed = conn.execute(
        sa.select(sa.func.count()).select_from(stage.join(target, sa.and_(*key))).where(differs)
    ).scalar()
    if changed:
        conn.execute(
            sa.update(target)
            .values({**{c: stage.c[c] for c in compared}, "batch_id": batch_id})
            .where(*key, differs)
        )
    if new:
        columns = stored_columns
        conn.execute(
            sa.insert(target).from_select(
                [*columns, "batch_id"],
                sa.select(*[stage.c[c] for c in columns], sa.literal(batch_id, sa.Integer)).where(
                    ~exists
                ),
            )
        )
    conn.execute(sa.text(f"DROP TABLE {stage.name}"))
    new, changed = int(new or 0), int(changed or 0)
    return new, changed, len(frame) - new - changed


def _comparison(
    record: RecordKind, stage: sa.Table, loaded: Sequence[str]
) -> tuple[list[sa.ColumnElement[bool]], list[str], sa.ColumnElement[bool]]:
    """How a staged row meets its stored one: the key join, the compared (loaded, non-key)
    columns, and the condition under which the stored row changes."""
    target = record.table
    key = [target.c[k] == stage.c[k] for k in record.key]
    compared = [c for c in loaded if c not in record.key]
    differs = (
        sa.or_(*[target.c[c].is_distinct_from(stage.c[c]) for c in compared])
        if compared
        else sa.false()
    )
    return key, compared, differs


_POSITION = "_eslabon_position"
_ROWID = "_eslabon_rowid"


def changing_rows(
    conn: sa.Connection, result: ValidationResult
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], pa.Table | None]:
    """Positions in `result.valid` of the rows a merge would insert or update, which of
    them are new (the others are stored rows that differ), the columns in which some
    stored row differs, and (DuckDB) the changed rows as they will be stored.

    The same comparison as `merged_counts`, as one outer join, run without writing to the
    stored tables (a temporary table is allowed on a read-only DuckDB connection), so an
    in-place load finds its delta before it shuts readers out.
    """
    record = RECORD_KINDS[result.kind]
    target = record.table
    if conn.execute(sa.select(sa.literal(1)).select_from(target).limit(1)).first() is None:
        return np.arange(len(result.valid)), np.ones(len(result.valid), dtype=bool), (), None
    stored_columns = [
        *record.columns,
        *(c for c in record.derived if c in result.valid.columns),
    ]
    stage = _stage_table(record, stored_columns, position=True)
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {stage.name}"))
    stage.create(conn)
    frame = result.valid[stored_columns].assign(
        **{_POSITION: np.arange(len(result.valid), dtype=np.int64)}
    )
    bulk_insert(conn, stage, frame)
    key, compared, differs = _comparison(record, stage, result.columns)
    missing = target.c[record.key[0]].is_(None)
    each = [
        sa.func.coalesce(target.c[c].is_distinct_from(stage.c[c]), sa.false()) for c in compared
    ]
    delta = (
        sa.select(
            stage.c[_POSITION].label("position"),
            missing.label("is_new"),
            *[e.label(f"differs_{i}") for i, e in enumerate(each)],
        )
        .select_from(stage.outerjoin(target, sa.and_(*key)))
        .where(sa.or_(missing, differs))
        .order_by(stage.c[_POSITION])
    )
    if is_duckdb(conn.engine):
        positions, is_new, differing, merged = _duckdb_delta(conn, record, stage, delta, compared)
    else:
        rows = conn.execute(delta).fetchall()
        flags = {
            name: np.array([r[i] for r in rows])
            for i, name in enumerate(delta.selected_columns.keys())
        }
        positions, is_new, differing = _delta_flags(flags, compared)
        merged = None
    conn.execute(sa.text(f"DROP TABLE {stage.name}"))
    return positions, is_new, differing, merged


def _delta_flags(
    flags: dict[str, np.ndarray], compared: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The delta query's columns as changing_rows returns them: positions, which rows are
    new, and the columns some stored row really changes in (the only ones the apply
    writes)."""
    positions = np.asarray(flags["position"], dtype=np.int64)
    is_new = np.asarray(flags["is_new"], dtype=bool)
    differing = tuple(
        c
        for i, c in enumerate(compared)
        if np.asarray(flags[f"differs_{i}"], dtype=bool)[~is_new].any()
    )
    return positions, is_new, differing


def _duckdb_delta(
    conn: sa.Connection,
    record: RecordKind,
    stage: sa.Table,
    delta: sa.Select[typing.Any],
    compared: Sequence[str],
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], pa.Table | None]:
    """DuckDB: `changing_rows`' result from one join of the batch with the stored table.

    The delta rows are kept in a temporary table with their stored values, the file's
    and the stored rowid, so the changed rows as they will be stored come from it rather
    than from a second join with the whole stored table (at 10M commitments 0.5 s of a
    nightly load); its flags are read as NumPy arrays, not Python rows (324k delta rows
    in 0.05 s instead of 0.6 s).
    """
    target = record.table
    stored = [c for c in target.columns if c.name != "batch_id"]
    with_values = delta.add_columns(
        sa.literal_column(f"{target.name}.rowid").label("stored_rowid"),
        *[c.label(f"stored_{i}") for i, c in enumerate(stored)],
        *[stage.c[c].label(f"file_{i}") for i, c in enumerate(compared)],
    )
    compiled = with_values.compile(dialect=conn.dialect)
    assert not compiled.params, "identifiers only"
    raw = _driver(conn)
    table = f"_eslabon_delta_{record.name}"
    # identifiers only, from the schema and this module
    raw.execute(f"CREATE OR REPLACE TEMPORARY TABLE {table} AS {compiled}")
    names = list(delta.selected_columns.keys())
    by_position = f"SELECT {', '.join(names)} FROM {table} ORDER BY position"  # noqa: S608
    data = raw.sql(by_position).fetchnumpy()
    positions, is_new, differing = _delta_flags(
        {name: np.asarray(data[name]) for name in names}, compared
    )
    merged = None
    if not is_new.all():
        quote = conn.dialect.identifier_preparer.quote
        sources = [
            f"file_{compared.index(c.name)}" if c.name in differing else f"stored_{i}"
            for i, c in enumerate(stored)
        ]
        picked = ", ".join(
            [
                *(f"{src} AS {quote(c.name)}" for src, c in zip(sources, stored, strict=True)),
                f"stored_rowid AS {_ROWID}",
            ]
        )
        # the changed rows as they will be stored (every stored column kept but the
        # `differing` ones, taken from the file; batch_id left out), in position order,
        # with the stored row's rowid: built while readers read, so the apply only deletes
        # by rowid and appends
        changed = f"SELECT {picked} FROM {table} WHERE NOT is_new ORDER BY position"  # noqa: S608
        merged = raw.sql(changed).to_arrow_table()
    raw.execute(f"DROP TABLE {table}")
    return positions, is_new, differing, merged


def _driver(conn: sa.Connection) -> typing.Any:
    """The database driver's own connection under `conn` (DuckDB's hands data over as
    Arrow and NumPy, and registers Arrow tables as views)."""
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the load's connection is closed")
    return raw


def applied_counts(
    conn: sa.Connection,
    result: ValidationResult,
    is_new: np.ndarray,
    differing: Sequence[str],
    batch_id: int,
    merged: pa.Table | None = None,
) -> tuple[int, int, int]:
    """Write rows already compared (`changing_rows`): the new ones appended, the changed
    ones replaced (DuckDB: deleted by rowid, `merged` appended) or updated by key in the
    `differing` columns only (the others hold equal values); returns (new, changed, 0).
    What `merged_counts` does for them, without comparing each against the stored table
    again while readers wait."""
    record = RECORD_KINDS[result.kind]
    target = record.table
    stored_columns = [
        *record.columns,
        *(c for c in record.derived if c in result.valid.columns),
    ]
    frame = result.valid[stored_columns]
    new_rows, changed_rows = frame[is_new], frame[~is_new]
    if len(new_rows):
        bulk_insert(conn, target, new_rows, batch_id=batch_id)
    if len(changed_rows) and merged is not None:
        # DuckDB: the stored rows deleted, the merged ones appended. An UPDATE of rows
        # spread over the whole table makes DuckDB rewrite every row group it touches
        # at commit (10,000 of 1M commitments: 2.3 s + 2.9 s commit, against 0.18 s
        # delete + 0.03 s insert + 0.04 s commit); the rows move to the table's end,
        # and nothing reads them in storage order.
        _delete_by_rowid(conn, record, merged)
        rows = merged.drop_columns([_ROWID]).to_pandas(types_mapper=pd.ArrowDtype)
        bulk_insert(conn, target, rows, batch_id=batch_id)
    elif len(changed_rows):
        stage = _stage_table(record, stored_columns)
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {stage.name}"))
        stage.create(conn)
        bulk_insert(conn, stage, changed_rows)
        key = [target.c[k] == stage.c[k] for k in record.key]
        conn.execute(
            sa.update(target)
            .values({**{c: stage.c[c] for c in differing}, "batch_id": batch_id})
            .where(*key)
        )
        conn.execute(sa.text(f"DROP TABLE {stage.name}"))
    return len(new_rows), len(changed_rows), 0


def _delete_by_rowid(conn: sa.Connection, record: RecordKind, merged: pa.Table) -> None:
    """DuckDB: delete the stored rows the check found changed, by the rowids it read.

    By rowid, DuckDB finds the rows without scanning the table (50,000 of 10M
    commitments: 0.08 s with the check below, against 0.18-0.24 s by key). The writer
    lock held since the check means no other write moved a row; the keys at those rowids
    are still compared with the merged rows' own, and any difference stops the load (the
    batch rolls back whole).
    """
    raw = _driver(conn)
    view = "_eslabon_rowids"
    raw.register(view, pa.table({"r": merged.column(_ROWID)}))
    try:
        table, keys = _quoted(record.table.name), ", ".join(_quoted(k) for k in record.key)
        # identifiers only (from the schema and this module). The keys are read by a
        # SELECT before the DELETE: DELETE ... RETURNING took ten times as long (0.44 s).
        where = f"WHERE rowid IN (SELECT r FROM {view})"  # noqa: S608
        select = f"SELECT {keys} FROM {table} {where}"  # noqa: S608
        stored = raw.execute(select).fetchall()
        expected = merged.select(list(record.key)).to_pylist()
        if sorted(stored) != sorted(tuple(row[k] for k in record.key) for row in expected):
            raise EtlError(
                f"{record.name}: the stored rows changed between the check and the write; "
                "nothing was loaded, load the batch again"
            )
        delete = f"DELETE FROM {table} {where}"  # noqa: S608
        raw.execute(delete).fetchall()
    finally:
        with contextlib.suppress(Exception):
            raw.unregister(view)


def _stage_table(
    record: RecordKind, stored_columns: Sequence[str], *, position: bool = False
) -> sa.Table:
    """A temporary table with the loaded columns and the target's column types (and, for
    `changing_rows`, each row's position in its frame)."""
    columns = [
        sa.Column(c.name, c.type)  # the name is a quoted_name: it keeps its quoting
        for c in record.table.columns
        if c.name in stored_columns
    ]
    if position:
        columns.append(sa.Column(_POSITION, sa.BigInteger))
    return sa.Table(
        f"_eslabon_stage_{record.name}", sa.MetaData(), *columns, prefixes=["TEMPORARY"]
    )


def bulk_insert(
    conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, *, batch_id: int | None = None
) -> None:
    """Append a DataFrame whose columns are `table`'s, in bulk, inside the open transaction.

    DuckDB reads the DataFrame in place (registered as a view on the same connection);
    PostgreSQL receives it through COPY in CSV chunks. Never one statement per row.
    `batch_id`, when given, fills the table's batch_id column of every row (DuckDB: as a
    bound constant of the INSERT, so no column of a million equal numbers is built).
    """
    if frame.empty:
        return
    if batch_id is not None and not is_duckdb(conn.engine):
        frame = frame.assign(batch_id=batch_id)
    # Always quoted: `at` is reserved in DuckDB though its dialect does not know it.
    columns = ", ".join(_quoted(str(c)) for c in frame.columns)
    target = _quoted(table.name)
    raw = _driver(conn)
    if is_duckdb(conn.engine):
        params: tuple[object, ...] = ()
        into, values = columns, columns
        if batch_id is not None:
            into, values, params = f'{columns}, "batch_id"', f"{columns}, ?", (batch_id,)
        view = "_eslabon_frame"
        # As an Arrow table (zero-copy for the Arrow-backed text columns): DuckDB scans it
        # natively, where a pandas frame of ArrowDtype strings is read value by value.
        table_data = pa.Table.from_pandas(frame, preserve_index=False)
        # Registered as a stream of record batches, not as the table: DuckDB keeps a
        # registered table referenced until the transaction ends, so every file of a
        # batch would stay in memory until commit; a stream it has read holds nothing.
        stream = pa.RecordBatchReader.from_batches(table_data.schema, table_data.to_batches())
        del table_data
        raw.register(view, stream)
        try:
            # identifiers only (from the schema, quoted by the dialect); the value is bound
            insert = f"INSERT INTO {target} ({into}) SELECT {values} FROM {view}"  # noqa: S608
            conn.exec_driver_sql(insert, params)
        finally:
            # after a failed statement the transaction refuses everything: keep that error
            with contextlib.suppress(Exception):
                raw.unregister(view)
        return
    # Every value quoted (so a cell holding the end marker `\\.` is data), NULL unquoted.
    table_data = pa.Table.from_pandas(frame, preserve_index=False)
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    copy_sql = f"COPY {target} ({columns}) FROM STDIN (FORMAT csv)"
    with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for start in range(0, table_data.num_rows, _COPY_CHUNK):
            buffer = io.BytesIO()
            pacsv.write_csv(table_data.slice(start, _COPY_CHUNK), buffer, options)
            copy.write(buffer.getvalue())


def _quoted(identifier: str) -> str:
    """A double-quoted SQL identifier (names come from the schema, never from input)."""
    return '"' + identifier.replace('"', '""') + '"'


def _store_rejects(conn: sa.Connection, result: ValidationResult, batch_id: int) -> None:
    """Every reject of the file into rejected_rows, with its raw row as JSON."""
    if not result.rejects:
        return
    frame = pd.DataFrame(
        {
            "batch_id": np.full(len(result.rejects), batch_id, dtype=np.int64),
            "path": result.path,
            "kind": result.kind,
            "row_number": pd.array([r.row_number for r in result.rejects], dtype="Int64"),
            "column_name": pd.array([r.column for r in result.rejects], dtype="string"),
            "reason": pd.array([str(r.reason) for r in result.rejects], dtype="string"),
            "raw": pd.array(
                [
                    None if r.raw is None else json.dumps(r.raw, ensure_ascii=False, default=str)
                    for r in result.rejects
                ],
                dtype="string",
            ),
            "reason_code": pd.array(
                [stored_code(r.reason) for r in result.rejects], dtype="string"
            ),
        }
    )
    bulk_insert(conn, rejected_rows, frame)


def _store_warnings(conn: sa.Connection, warnings: list[LoadWarning], batch_id: int) -> None:
    """The file's warnings into load_warnings: code and parameters, and the English text."""
    if warnings:
        conn.execute(
            load_warnings.insert(),
            [
                {
                    "batch_id": batch_id,
                    "path": w.path,
                    "kind": w.kind,
                    "code": w.code,
                    "params": json.dumps(dict(w.params), ensure_ascii=False, default=str),
                    "message": w.text,
                }
                for w in warnings
            ],
        )


# --- the load log ------------------------------------------------------------------


def load_warnings_frame(conn: sa.Connection, batch_id: int | None = None) -> pd.DataFrame:
    """Stored load warnings (all, or one batch's) in batch and file order."""
    t = load_warnings.c
    query = sa.select(t.batch_id, t.path, t.kind, t.code, t.params, t.message).order_by(
        t.batch_id, t.path, t.kind, t.code
    )
    if batch_id is not None:
        query = query.where(t.batch_id == batch_id)
    rows = conn.execute(query).fetchall()
    return pd.DataFrame(rows, columns=["batch_id", "path", "kind", "code", "params", "message"])


def batch_summaries(conn: sa.Connection) -> pd.DataFrame:
    """One row per committed batch with its file count and summed row counts, oldest first."""
    query = sa.text(
        """
        SELECT b.batch_id, b.started_at, b.finished_at, b.status, b.loaded_by,
               count(f.path) AS files,
               coalesce(sum(f.rows_read), 0) AS "read",
               coalesce(sum(f.rows_new), 0) AS new,
               coalesce(sum(f.rows_changed), 0) AS changed,
               coalesce(sum(f.rows_unchanged), 0) AS unchanged,
               coalesce(sum(f.rows_rejected), 0) AS rejected
        FROM load_batches b
        LEFT JOIN load_batch_files f ON f.batch_id = b.batch_id
        GROUP BY b.batch_id, b.started_at, b.finished_at, b.status, b.loaded_by
        ORDER BY b.batch_id
        """
    )
    rows = conn.execute(query).fetchall()
    columns = ["batch_id", "started_at", "finished_at", "status", "loaded_by", "files",
               "read", "new", "changed", "unchanged", "rejected"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def rejected_rows_frame(conn: sa.Connection, batch_id: int | None = None) -> pd.DataFrame:
    """Stored rejects (all, or one batch's) in batch, file and row order; raw as JSON text,
    reason_code the reason's code and parameters (etl.reasons.render_stored words it)."""
    query = sa.select(
        rejected_rows.c.batch_id,
        rejected_rows.c.path,
        rejected_rows.c.kind,
        rejected_rows.c.row_number,
        rejected_rows.c.column_name,
        rejected_rows.c.reason,
        rejected_rows.c.raw,
        rejected_rows.c.reason_code,
    ).order_by(
        rejected_rows.c.batch_id,
        rejected_rows.c.path,
        rejected_rows.c.kind,
        rejected_rows.c.row_number,
    )
    if batch_id is not None:
        query = query.where(rejected_rows.c.batch_id == batch_id)
    rows = conn.execute(query).fetchall()
    columns = ["batch_id", "path", "kind", "row_number", "column_name", "reason", "raw",
               "reason_code"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


__all__ = [
    "BatchReport",
    "CheckedBatch",
    "CheckedFile",
    "FileReport",
    "RejectedRow",
    "Source",
    "apply_checked",
    "batch_summaries",
    "bulk_insert",
    "check_batch",
    "expanded_sources",
    "load_files",
    "load_warnings_frame",
    "merged_counts",
    "rejected_rows_frame",
    "validate_files",
]
