"""Every error of a file collected, not just the first: what a person needs to fix it.

A file of one record kind (a `KindFrame`, still text) becomes a `ValidationResult`: the
typed rows that passed, in canonical columns, and one `Reject` per problem found. Checks,
in order:

1. required columns (missing ones refuse the whole file; every row is then rejected with
   that reason, so rows read = loaded + rejected still holds);
2. per row, as etl/schema.py declares each column: required values present, values of
   the right type (dates, whole numbers, yes/no), ranges (`RANGE`: csat 1–5, nps 0–10,
   stage_order ≥ 0), allowed words (`ALLOWED`, one `not_member` check: customer_type,
   direction), order of dates (`NOT_BEFORE`: delivered or due on a day before the
   request, resolved before opened);
3. duplicate keys within the file, among rows that passed 2 (the first is kept and named);
4. references to commitments unknown both to this batch and to the database;
5. dependency cycles over this batch's valid edges and the database's: only the edges
   that close a cycle are rejected, each naming its cycle.

Pandera was weighed and not used: the checks are a few vectorised masks over columns,
the cross-file ones (references, cycles) need the database anyway, and plain pandas keeps
the reasons worded for people. Everything is column-wise; Python only loops over the
rows that are rejected, and over what is left of the dependency graph once every node
that cannot be on a cycle has been peeled off with numpy.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from etl import parse
from etl.reasons import HINTS, Reason, RowReason, ValueReason
from etl.records import ROW, KindFrame, Reject
from etl.schema import RECORD_KINDS, Field, RecordKind

if TYPE_CHECKING:
    import networkx as nx

BOOL_HINT = "use yes/no, true/false, sí/no, ja/nee, 1/0 or x"
# Cheap enough to ask the database about one by one (bound IN lists); above it, fetch all ids.
_IN_LIST_LIMIT = 5_000
_IN_CHUNK = 1_000
# Vectorised peeling rounds before the remaining graph is searched in Python.
_PEEL_ROUNDS = 50
# Below this many rows a file's columns are typed on one thread (threads cost more there).
_THREADED_ROWS = 50_000


@dataclass
class ValidationResult:
    """One file × record kind after validation.

    `valid` holds the rows that passed, typed, in the kind's canonical columns plus `_row`;
    `columns` lists the canonical columns the source actually had (an update changes only
    those); `rejects` has one entry per problem (a row may have several).
    """

    kind: str
    path: str
    sha256: str
    rows_read: int
    valid: pd.DataFrame
    columns: tuple[str, ...]
    rejects: list[Reject] = field(default_factory=list)
    refused: str | None = None
    mapping: str | None = None

    @property
    def rows_valid(self) -> int:
        """Rows that will be loaded."""
        return len(self.valid)

    @property
    def rows_rejected(self) -> int:
        """Records refused (a row with several problems counts once)."""
        return self.rows_read - len(self.valid)


class KnownCommitments:
    """The commitment ids a reference may point at: this batch's valid ones and the DB's.

    The batch side grows as commitments files are validated; ids not in it are looked up
    in the database through `lookup` (see `commitment_ids_in_db`), only when needed.
    """

    def __init__(self, lookup: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self._lookup = lookup
        self._parts: list[pa.Array] = []
        self._set: pa.Array | None = None

    def add(self, ids: Iterable[object]) -> None:
        """Remember valid commitment ids of this batch."""
        values = ids if isinstance(ids, pd.Series) else pd.Series(list(ids), dtype=object)
        self._parts.extend(parse.text_chunks(values.dropna()))
        self._set = None

    def _value_set(self) -> pa.Array:
        if self._set is None:
            # No unique(): is_in builds its own hash set, repeats in the value set cost nothing.
            self._set = pa.chunked_array(self._parts, type=pa.large_string()).combine_chunks()
        return self._set

    def all_known(self, columns: Sequence[pd.Series]) -> bool:
        """Whether every present id of `columns` is among this batch's commitments.

        One anti-join in an in-memory DuckDB: Arrow's is_in (below) builds a hash set of
        the known ids on every call, paid again by each file and each reference column;
        DuckDB's join hashes the smaller side, on every core. False sends the caller to
        `unknown_mask`, which says which rows.
        """
        if not self._parts:
            return False
        chunks = [chunk for column in columns for chunk in parse.text_chunks(column)]
        probe = pa.table({"id": pa.chunked_array(chunks, type=pa.large_string())})
        known = pa.table({"id": pa.chunked_array(self._parts, type=pa.large_string())})
        con = duckdb.connect()  # in memory, for this call only
        try:
            con.register("probe", probe)
            con.register("known", known)
            rows = con.execute(
                "SELECT count(*) FROM probe AS p ANTI JOIN known AS k ON p.id = k.id"
                " WHERE p.id IS NOT NULL"
            ).fetchall()
        finally:
            con.close()
        return bool(rows[0][0] == 0)

    def unknown_mask(self, ids: pd.Series) -> pd.Series:
        """True where a (non-missing) id is neither in the batch nor in the database.

        Membership runs in Arrow (a hash set of the batch's ids, probed column-wise).
        """
        values = _arrow_text(ids)
        unknown = not_member(values, self._value_set())
        if unknown.any() and self._lookup is not None:
            candidates = pc.unique(values.filter(pa.array(unknown))).to_numpy(zero_copy_only=False)
            unknown &= not_member(values, self._lookup(candidates))
        return pd.Series(unknown, index=ids.index)


def _arrow_text(values: pd.Series) -> pa.Array:
    """A column as an Arrow large_string array (nulls kept)."""
    return pa.array(values.astype(parse.TEXT), type=pa.large_string())


def not_member(values: pd.Series | pa.Array, allowed: Iterable[object] | pa.Array) -> np.ndarray:
    """True where a value is present and not among `allowed`: the one membership check.

    Every allowed-word column and every reference to a commitment asks this. Arrow's
    is_in hashes `allowed` once and probes the column without a Python object per value.
    """
    if isinstance(values, pd.Series):
        values = _arrow_text(values)
    if not isinstance(allowed, pa.Array):
        listed = allowed if isinstance(allowed, np.ndarray) else list(allowed)
        allowed = pa.array(listed, type=pa.large_string())
    inside = pc.is_in(values, value_set=allowed, skip_nulls=True)  # a null is never inside
    outside = pc.and_(pc.is_valid(values), pc.invert(inside))
    return np.asarray(outside.to_numpy(zero_copy_only=False))


def commitment_ids_in_db(conn: sa.Connection, candidates: np.ndarray) -> np.ndarray:
    """Which of `candidates` exist in `commitments`.

    A few ids are asked for with bound IN lists; many (e.g. an events file of a million
    rows loaded after its commitments) fetch every id once, which is faster than any
    IN list at that size.
    """
    if len(candidates) == 0:
        return np.array([], dtype=object)
    if len(candidates) <= _IN_LIST_LIMIT:
        query = sa.text(
            "SELECT commitment_id FROM commitments WHERE commitment_id IN :ids"
        ).bindparams(sa.bindparam("ids", expanding=True))
        found: list[str] = []
        for start in range(0, len(candidates), _IN_CHUNK):
            chunk = [str(c) for c in candidates[start : start + _IN_CHUNK]]
            found.extend(r[0] for r in conn.execute(query, {"ids": chunk}).fetchall())
        return np.array(found, dtype=object)
    rows = conn.execute(sa.text("SELECT commitment_id FROM commitments")).fetchall()
    return np.array([r[0] for r in rows], dtype=object)


def dependency_edges_in_db(conn: sa.Connection) -> pd.DataFrame:
    """Every stored dependency edge (downstream commitment_id, upstream depends_on)."""
    rows = conn.execute(sa.text("SELECT commitment_id, depends_on FROM dependencies")).fetchall()
    return pd.DataFrame(rows, columns=["commitment_id", "depends_on"], dtype=object)


# --- the checks -------------------------------------------------------------------


class Collector:
    """Rejects of one file, built only for the rows that fail (raw rows fetched once).

    Every user file is checked through it (the record kinds here, the targets CSV in
    dashboard.records.targets), so every problem names its row and column the same way.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.rejects: list[tuple[int, Reject]] = []  # (frame position, reject)
        self.bad = np.zeros(len(frame), dtype=bool)

    def add(self, mask: pd.Series | np.ndarray, column: str | None, reason: RowReason) -> None:
        """One reject per True position in `mask`, worded by `reason(position)`."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(positions) == 0:
            return
        self.bad[positions] = True
        rows = self.frame[ROW].to_numpy()
        for pos in positions.tolist():
            self.rejects.append((pos, Reject(_row_number(rows[pos]), column, reason(pos))))

    def finished(self) -> list[Reject]:
        """Rejects in row order, each with its raw source row attached."""
        if not self.rejects:
            return []
        self.rejects.sort(key=lambda item: item[0])
        positions = sorted({pos for pos, _ in self.rejects})
        raws = dict(zip(positions, _raw_rows(self.frame.iloc[positions]), strict=True))
        return [Reject(r.row_number, r.column, r.reason, raws[pos]) for pos, r in self.rejects]


def _row_number(value: float | None) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _raw_rows(frame: pd.DataFrame) -> list[dict[str, object]]:
    """The source rows as dicts of their original strings (empty cells left out)."""
    data = frame.drop(columns=[ROW], errors="ignore").astype(object)
    data = data.where(data.notna(), None)
    return [{str(k): v for k, v in row.items() if v is not None} for row in data.to_dict("records")]


def _show(value: Any) -> str:  # a cell's value: any scalar, NA included
    return repr(str(value)) if value is not None and not pd.isna(value) else "(empty)"


def validate_frame(
    kf: KindFrame,
    *,
    tz: str,
    known: KnownCommitments | None = None,
    existing_edges: pd.DataFrame | None = None,
) -> ValidationResult:
    """Validate one file × record kind; every problem becomes a Reject.

    `known` answers reference checks (None skips them: for a file checked on its own);
    `existing_edges` are the dependency edges already accepted (database and earlier
    files of the batch) that cycles are searched through.
    """
    record = RECORD_KINDS.get(kf.kind)
    if record is None:
        raise ValueError(f"unknown record kind {kf.kind!r}")
    frame = kf.frame.reset_index(drop=True)
    if ROW not in frame.columns:
        frame = frame.assign(**{ROW: np.arange(2, len(frame) + 2)})
    present_cols = tuple(c for c in record.columns if c in frame.columns)

    refused = kf.refused
    if refused is None:
        missing = [c for c in record.required if c not in frame.columns]
        if missing:
            have = [c for c in frame.columns if c != ROW]
            refused = Reason(
                "missing_columns", path=kf.path, kind=kf.kind, missing=missing, have=have
            )
    if refused is not None:
        every_row = Collector(frame)
        every_row.add(np.ones(len(frame), dtype=bool), None, lambda _pos: refused)
        return ValidationResult(
            kf.kind,
            kf.path,
            kf.sha256,
            kf.rows_read,
            _empty_valid(record),
            present_cols,
            list(kf.rejects) + every_row.finished(),
            refused,
            kf.mapping,
        )

    collector = Collector(frame)
    typed = _typed_columns(record, frame, kf, tz, collector)
    if "log_order" in record.columns and "log_order" not in frame.columns:
        # No sequence column: the log's order is the file's (ties at one instant keep it).
        typed["log_order"] = frame[ROW].astype("Int64").array
    _check_order(record, frame, typed, collector)
    if not _number_repeats(record, typed, collector):
        _check_duplicates(record, frame, typed, collector)
    if known is not None:
        _check_references(record, typed, known, collector)
    if record.name == "dependencies":
        _check_cycles(typed, existing_edges, collector)

    # No copy of the typed rows when none is rejected (a clean million-row file).
    valid = typed.loc[~collector.bad] if collector.bad.any() else typed
    valid = valid.reset_index(drop=True)
    return ValidationResult(
        kf.kind,
        kf.path,
        kf.sha256,
        kf.rows_read,
        valid,
        present_cols,
        list(kf.rejects) + collector.finished(),
        None,
        kf.mapping,
    )


def _empty_valid(record: RecordKind) -> pd.DataFrame:
    """A zero-row frame with the kind's typed columns (so loading code has one shape)."""
    columns = {f.name: _typed_empty(f.type) for f in record.fields}
    return pd.DataFrame({**columns, ROW: pd.Series([], dtype="Int64")})


def _typed_empty(type_: str) -> pd.Series:
    dtype = {
        "datetime": "datetime64[us]",
        "int": "Int64",
        "bool": "boolean",
        "float": "float64",
    }.get(type_, "string")
    return pd.Series([], dtype=dtype)


# A problem found in one column: (rows, column, reason for a row), added to the collector
# in field order by the caller (so the rejects do not depend on which thread ran first).
_Problem = tuple[pd.Series | np.ndarray, str, RowReason]


def date_hint(kind: str, column: str) -> str:
    """The accepted date forms, and the exact mapping keys that set a format (English)."""
    return HINTS["date_formats_for"][1].format(kind=kind, column=column)


@dataclass(frozen=True)
class _DateOrder:
    """How one date column's slashed values are read: an order, or why none can be used."""

    order: str | None = None
    unresolved: ValueReason | None = None  # value -> reason, when no order


def _date_orders(record: RecordKind, frame: pd.DataFrame, kf: KindFrame) -> dict[str, _DateOrder]:
    """The order of day and month per date column without a forced format.

    Each column decides from its own values (etl.parse.date_order_evidence). A column
    whose values prove nothing takes the order its file's other date columns prove, when
    they agree (one export writes every date the same way); otherwise it is unresolved,
    and each of its slashed values is rejected with a reason saying how to set the format.
    A column whose values prove both orders is never guessed. A mapping's `date_order`
    decides for every such column of the kind.
    """
    dated = [
        f.name
        for f in record.fields
        if f.type == "datetime" and f.name in frame.columns and not kf.date_formats.get(f.name)
    ]
    if kf.date_order is not None:
        return {name: _DateOrder(kf.date_order) for name in dated}
    evidence = {name: parse.date_order_evidence(parse.clean_text(frame[name])) for name in dated}
    settled = {e.order for e in evidence.values() if e.order is not None}
    file_order = next(iter(settled)) if len(settled) == 1 else None
    orders: dict[str, _DateOrder] = {}
    for name, found in evidence.items():
        if found.slashed == 0:
            # no slashed value: the order is never used; given, so the parser does not
            # look at the column a second time to find that out
            orders[name] = _DateOrder(parse.DAY_FIRST)
            continue
        if found.order is not None:
            orders[name] = _DateOrder(found.order)
            continue
        if found.conflicting:
            orders[name] = _DateOrder(
                unresolved=lambda v, c=name, e=found, k=kf.kind: Reason(
                    "date_order_conflict",
                    column=c,
                    value=_show(v),
                    day_first=repr(e.day_first),
                    month_first=repr(e.month_first),
                    how="date_order_how",
                    kind=k,
                )
            )
        elif file_order is not None:
            orders[name] = _DateOrder(file_order)
        else:
            orders[name] = _DateOrder(
                unresolved=lambda v, c=name, k=kf.kind: Reason(
                    "date_order_ambiguous", column=c, value=_show(v), how="date_order_how", kind=k
                )
            )
    return orders


def _readable_in_some_order(text: pd.Series, bad: pd.Series, tz: str) -> pd.Series:
    """Bad values that are dates in one order or the other: refused for want of an order,
    not for their own sake (`32/01/2026` is no date in either order and says so)."""
    undecided = bad & parse.slashed_mask(text)
    if not undecided.any():
        return undecided
    some = text[undecided]
    readable = pd.Series(False, index=some.index)
    for order in parse.DATE_ORDERS:
        readable |= parse.parse_datetimes(some, tz=tz, cleaned=True, order=order)[0].notna()
    undecided[some.index] = readable.to_numpy()
    return undecided


def _typed_columns(
    record: RecordKind, frame: pd.DataFrame, kf: KindFrame, tz: str, out: Collector
) -> pd.DataFrame:
    """The canonical columns typed; bad values, missing required ones and words rejected.

    Columns are typed on as many threads as there are cores: the work is Arrow compute
    (date parsing, trimming), which runs without the GIL, and at a million rows a file's
    columns otherwise take about a second on one core while the other waits.
    """
    n = len(frame)
    inputs = [(f, frame[f.name] if f.name in frame.columns else None) for f in record.fields]
    orders = _date_orders(record, frame, kf)
    workers = min(len(inputs), os.cpu_count() or 1)
    if n < _THREADED_ROWS or workers < 2:
        done = [_typed_field(f, column, n, kf, tz, orders) for f, column in inputs]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="eslabon-type") as pool:
            done = list(
                pool.map(lambda item: _typed_field(item[0], item[1], n, kf, tz, orders), inputs)
            )
    typed: dict[str, pd.Series] = {}
    for (f, _column), (values, problems) in zip(inputs, done, strict=True):
        for mask, column_name, reason in problems:
            out.add(mask, column_name, reason)
        typed[f.name] = values
    result = pd.DataFrame(typed, index=frame.index, copy=False)  # the columns are new already
    rows = frame[ROW]
    if n and rows.dtype == np.int64:  # the readers' numbering: kept as is, no Int64 copy
        result[ROW] = rows
    else:
        result[ROW] = rows.astype("Int64").array if n else pd.array([], dtype="Int64")
    return result


def _typed_field(
    f: Field,
    column: pd.Series | None,
    n: int,
    kf: KindFrame,
    tz: str,
    orders: dict[str, _DateOrder] | None = None,
) -> tuple[pd.Series, list[_Problem]]:
    """One column typed (a missing column: all NA), and the problems found in it."""
    problems: list[_Problem] = []
    if column is not None:
        text = parse.clean_text(column)
    else:
        text = pd.Series(pd.NA, index=pd.RangeIndex(n), dtype="string")
    raw = column if column is not None else text
    if f.required:
        problems.append(
            (text.isna(), f.name, lambda _p, c=f.name: Reason("required_empty", column=c))
        )

    if f.type == "datetime":
        fmt = kf.date_formats.get(f.name)
        order = (orders or {}).get(f.name, _DateOrder())
        values, bad = parse.parse_datetimes(text, tz=tz, fmt=fmt, cleaned=True, order=order.order)
        hint: dict[str, object] = (
            {"hint": "date_format", "fmt": fmt}
            if fmt
            else {"hint": "date_formats_for", "kind": kf.kind}
        )
        if order.unresolved is not None:
            undecided = _readable_in_some_order(text, bad, tz)
            bad = bad & ~undecided
            problems.append(
                (undecided, f.name, lambda p, r=raw, why=order.unresolved: why(r.iat[p]))
            )
        problems.append(
            (
                bad,
                f.name,
                lambda p, c=f.name, r=raw, h=hint: Reason(
                    "not_a_date", column=c, value=_show(r.iat[p]), **h
                ),
            )
        )
    elif f.type == "int":
        values, bad = parse.parse_ints(text, decimal=kf.decimal, cleaned=True)
        problems.append(
            (
                bad,
                f.name,
                lambda p, c=f.name, r=raw: Reason("not_whole", column=c, value=_show(r.iat[p])),
            )
        )
        low, high = f.range
        outside = pd.Series(False, index=text.index)
        if low is not None:
            outside |= (values < low).fillna(False)
        if high is not None:
            outside |= (values > high).fillna(False)
        problems.append(
            (
                outside,
                f.name,
                lambda p, c=f.name, r=raw, lo=low, hi=high: Reason(
                    "out_of_range", column=c, value=_show(r.iat[p]), low=lo, high=hi
                ),
            )
        )
    elif f.type == "float":
        values, bad = parse.parse_decimals(text, decimal=kf.decimal, cleaned=True)
        problems.append(
            (
                bad,
                f.name,
                lambda p, c=f.name, r=raw: Reason("not_a_number", column=c, value=_show(r.iat[p])),
            )
        )
    elif f.type == "bool":
        default = f.default if isinstance(f.default, bool) else None
        values, bad = parse.parse_bools(text, default=default, cleaned=True)
        problems.append(
            (
                bad,
                f.name,
                lambda p, c=f.name, r=raw: Reason(
                    "not_yes_no", column=c, value=_show(r.iat[p]), hint="bool"
                ),
            )
        )
    else:
        values = text
        if f.allowed is not None:
            values = text.str.lower()
            if f.default is not None:
                values = values.fillna(str(f.default))
            allowed = f.allowed
            problems.append(
                (
                    not_member(values, allowed),
                    f.name,
                    lambda p, c=f.name, r=raw, a=allowed: Reason(
                        "not_allowed", column=c, value=_show(r.iat[p]), allowed=list(a)
                    ),
                )
            )
        elif f.default is not None:
            values = text.fillna(str(f.default))
    return values, problems


def _check_order(
    record: RecordKind, frame: pd.DataFrame, typed: pd.DataFrame, out: Collector
) -> None:
    """Dates on an earlier DAY than the date they follow: naming both columns and values.

    Compared by calendar day, not instant: real logs stamp a delivery at midnight of the
    day it was requested at 01:06 (two cases of the CoSeLoG receipt log), and a date
    without a time stands for the whole day. A delivery a day or more before its request
    is an error; a few hours of clock skew within one day is not worth refusing.
    """
    pairs = [(f.name, f.not_before) for f in record.fields if f.not_before is not None]
    for later, earlier in pairs:
        wrong = (typed[later].dt.normalize() < typed[earlier].dt.normalize()).fillna(False)
        wrong = wrong.astype(bool)
        raw_later = frame[later] if later in frame.columns else typed[later]
        raw_earlier = frame[earlier] if earlier in frame.columns else typed[earlier]
        out.add(
            wrong,
            later,
            lambda p, a=later, b=earlier, ra=raw_later, rb=raw_earlier: Reason(
                "before", column=a, value=_show(ra.iat[p]), other=b, other_value=_show(rb.iat[p])
            ),
        )


def _number_repeats(record: RecordKind, typed: pd.DataFrame, out: Collector) -> bool:
    """Give repeats of an identical event `seq` 1, 2, … in file order, where the file has none.

    A real process log can hold the same step twice; both are events (a process-mining
    tool counts both), so they get distinct keys instead of being rejected as duplicates.
    Returns True when every row got its `seq` here (the file has none): the keys of the
    valid rows are then unique by construction and need no duplicate check.
    """
    if "seq" not in record.columns:
        return False
    given = typed["seq"].notna()
    missing = ~given & ~out.bad
    if not missing.any():
        return False
    natural = [c for c in record.key if c != "seq"]
    rows = _rows(typed, missing, natural)
    codes = key_codes(rows)
    # Repeats are rare: every other row is number 1, and only repeated keys are grouped.
    repeated = _repeated(codes)
    numbered = np.ones(len(rows), dtype=np.int64)
    if repeated.any():
        some = pd.Series(codes[repeated])
        numbered[repeated] = some.groupby(some.to_numpy(), sort=False).cumcount().to_numpy() + 1
    del codes, repeated
    seq = pd.arrays.IntegerArray(numbered, np.zeros(len(numbered), dtype=bool))  # no copy
    if len(rows) == len(typed):
        typed["seq"] = seq  # a new column, not a copy of the old one written into
    else:
        typed.loc[rows.index, "seq"] = seq
    return not given.any()


def _rows(typed: pd.DataFrame, mask: pd.Series, columns: list[str]) -> pd.DataFrame:
    """`typed.loc[mask, columns]`, without copying every value when the mask is all True."""
    return typed[columns] if bool(mask.all()) else typed.loc[mask, columns]


def _repeated(codes: np.ndarray) -> np.ndarray:
    """True for each row whose code occurs more than once (Series.duplicated(keep=False)).

    By sorting, not hashing: millions of scattered int64 codes hash slowly and need a
    large table, a sort takes one copy, and the few repeated codes are then looked up in
    a small hash set.
    """
    ordered = np.sort(codes)
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    if len(twice) == 0:
        return np.zeros(len(codes), dtype=bool)
    return pd.Series(codes).isin(np.unique(twice)).to_numpy()


def _first_occurrences(codes: np.ndarray) -> np.ndarray:
    """Per row, the position of the first row with the same code (a groupby "first").

    pd.factorize numbers codes in order of appearance, so writing positions in reverse
    leaves each label's first one.
    """
    labels, _uniques = pd.factorize(codes)
    positions = np.arange(len(labels))
    first_of_label = np.empty(int(labels.max()) + 1 if len(labels) else 0, dtype=np.int64)
    first_of_label[labels[::-1]] = positions[::-1]
    return first_of_label[labels]


def _check_duplicates(
    record: RecordKind, frame: pd.DataFrame, typed: pd.DataFrame, out: Collector
) -> None:
    """Later rows repeating a key of an earlier valid row are rejected; the first is kept."""
    key = list(record.key)
    candidates = _rows(typed, pd.Series(~out.bad, index=typed.index), key)
    if candidates.empty:
        return
    codes = key_codes(candidates)
    repeated = _repeated(codes)
    if not repeated.any():
        return
    # Only the rows whose key repeats are grouped; positions below are within those.
    index = candidates.index.to_numpy()[repeated]
    first = _first_occurrences(codes[repeated])
    dup = first != np.arange(len(first))
    kept_row_of = dict(zip(index, typed[ROW].to_numpy()[index[first]], strict=True))
    mask = np.zeros(len(typed), dtype=bool)
    mask[index[dup]] = True
    raw = {c: (frame[c] if c in frame.columns else typed[c]) for c in key}

    def reason(pos: int) -> str:
        shown = ", ".join(f"{c}={_show(raw[c].iat[pos])}" for c in key)
        return Reason("duplicate_key", key=shown, row=int(kept_row_of[pos]))

    out.add(mask, ",".join(key), reason)


def key_codes(frame: pd.DataFrame) -> np.ndarray:
    """One int64 per row, equal exactly when the rows' values are equal (missing = missing).

    What pandas' multi-column `duplicated`/`groupby` compute internally, but text columns
    are dictionary-encoded in Arrow instead of going through Python string objects, so
    no object column is made.
    """
    code = np.zeros(len(frame), dtype=np.int64)
    bound = 1  # codes so far lie in [0, bound): a mixed-radix number, re-packed near overflow
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.StringDtype) or column.dtype == object:
            encoded = pc.dictionary_encode(_arrow_text(column), null_encoding="encode")
            if isinstance(encoded, pa.ChunkedArray):
                encoded = encoded.combine_chunks()
            part = encoded.indices.to_numpy(zero_copy_only=False)  # int32, added in place
            size = len(encoded.dictionary)
        else:
            part, uniques = pd.factorize(column, use_na_sentinel=False)
            size = len(uniques)
        size = max(size, 1)
        if bound > (2**62) // size:
            code, packed = pd.factorize(code)
            code = code.astype(np.int64, copy=False)
            bound = max(len(packed), 1)
        code *= size  # in place: no temporary of n int64 per column
        code += part
        bound *= size
    return code


def _check_references(
    record: RecordKind, typed: pd.DataFrame, known: KnownCommitments, out: Collector
) -> None:
    """References to commitments neither in this batch nor in the database."""
    columns = [column for column, _kind, _col in record.references]
    if columns and known.all_known([typed[c] for c in columns]):
        return  # every id of every row is known, so none of the rows still valid refers amiss
    still_ok = pd.Series(~out.bad, index=typed.index)  # both ends of an edge are checked
    for column, ref_kind, _ref_col in record.references:
        ids = typed[column].where(still_ok)
        unknown = known.unknown_mask(ids)
        out.add(
            unknown,
            column,
            lambda p, c=column, v=typed[column], k=ref_kind: Reason(
                "unknown_commitment", column=c, value=_show(v.iat[p]), kind=k
            ),
        )


def _check_cycles(typed: pd.DataFrame, existing_edges: pd.DataFrame | None, out: Collector) -> None:
    """Reject the valid edges that close a dependency cycle, naming the cycle."""
    ok = ~out.bad
    new = typed.loc[ok, ["commitment_id", "depends_on"]]
    if new.empty:
        return
    if existing_edges is None:
        existing_edges = pd.DataFrame(columns=["commitment_id", "depends_on"], dtype=object)
    closing = cycle_closing_edges(new, existing_edges)
    if not closing:
        return
    mask = np.zeros(len(typed), dtype=bool)
    mask[list(closing)] = True
    out.add(
        mask,
        "depends_on",
        lambda p: Reason("cycle", cycle=" → ".join(map(str, closing[p]))),
    )


def cycle_closing_edges(new: pd.DataFrame, existing: pd.DataFrame) -> dict[int, list[object]]:
    """The edges of `new` (index → cycle of commitment ids, as text) that close a cycle.

    Edges are taken in row order.

    An edge D → U means "D depends on U". `existing` edges (already accepted) are assumed
    to form no cycle among themselves. Nodes that cannot lie on any cycle (no edge in or no
    edge out) are peeled off in vectorised rounds; what is left, normally a handful of
    edges, is searched edge by edge: a new edge D → U closes a cycle when U already
    reaches D, and then it is rejected instead of added. A self-dependency is a cycle.
    """
    # Node numbers from Arrow's dictionary encoding: no Python object per id (2M+ of them).
    columns = [new["commitment_id"], new["depends_on"]]
    columns += [existing["commitment_id"], existing["depends_on"]]
    chunks = [chunk for column in columns for chunk in parse.text_chunks(column)]
    encoded = pc.dictionary_encode(pa.chunked_array(chunks, type=pa.large_string()))
    encoded = encoded.combine_chunks() if isinstance(encoded, pa.ChunkedArray) else encoded
    ids = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    uniques = _Names(encoded.dictionary)
    n_new, n_old = len(new), len(existing)
    src = np.concatenate([ids[:n_new], ids[2 * n_new : 2 * n_new + n_old]])
    dst = np.concatenate([ids[n_new : 2 * n_new], ids[2 * n_new + n_old :]])
    alive = np.ones(len(src), dtype=bool)
    n_nodes = len(uniques)
    for _ in range(_PEEL_ROUNDS):
        indeg = np.bincount(dst[alive], minlength=n_nodes)
        outdeg = np.bincount(src[alive], minlength=n_nodes)
        still = alive & (indeg[src] > 0) & (outdeg[dst] > 0)
        if still.sum() == alive.sum():
            break
        alive = still

    # Long chains survive the peeling rounds; only edges inside a strongly connected
    # component (or self-loops) can be on a cycle, so keep just those.
    if not alive.any():
        return {}
    # Imported only now: a clean file has no edge left after peeling.
    import networkx as nx

    alive &= _in_same_component(src, dst, alive, n_nodes)
    graph = nx.DiGraph()
    graph.add_edges_from(
        zip(src[n_new:][alive[n_new:]].tolist(), dst[n_new:][alive[n_new:]].tolist(), strict=True)
    )
    closing: dict[int, list[object]] = {}
    new_index = new.index.to_numpy()
    for i in np.flatnonzero(alive[:n_new]):
        d, u = int(src[i]), int(dst[i])
        path = _path(graph, u, d)
        if path is not None:
            closing[int(new_index[i])] = [uniques[d], *(uniques[x] for x in path)]
        else:
            graph.add_edge(d, u)
    return closing


class _Names:
    """Node number -> commitment id, read from the Arrow dictionary only for named cycles."""

    def __init__(self, dictionary: pa.Array) -> None:
        self.dictionary = dictionary

    def __len__(self) -> int:
        return len(self.dictionary)

    def __getitem__(self, node: int) -> object:
        return self.dictionary[node].as_py()


def _in_same_component(
    src: np.ndarray, dst: np.ndarray, alive: np.ndarray, n_nodes: int
) -> np.ndarray:
    """Per edge: alive and both ends in one strongly connected component.

    Runs only on what peeling left, which is empty or tiny unless the input holds long
    chains or cycles.
    """
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_edges_from(zip(src[alive].tolist(), dst[alive].tolist(), strict=True))
    component = np.full(n_nodes, -1, dtype=np.int64)
    for number, nodes in enumerate(nx.strongly_connected_components(graph)):
        component[list(nodes)] = number
    return np.asarray(alive & (component[src] == component[dst]) & (component[src] >= 0))


def _path(graph: nx.DiGraph, start: int, goal: int) -> list[int] | None:
    """Nodes of a shortest path start → … → goal, or None when goal is out of reach."""
    import networkx as nx

    if start == goal:
        return [start]
    if start not in graph or goal not in graph:
        return None
    try:
        return list(nx.shortest_path(graph, start, goal))
    except nx.NetworkXNoPath:
        return None
