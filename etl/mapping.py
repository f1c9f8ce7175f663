"""Foreign layouts → canonical columns, and one flat file → several record kinds.

A mapping file (TOML, see docs/data-formats.md) says, per record kind, which source column
feeds which canonical column, which words mean what (value maps), which columns are fixed
(constants), which strptime format a date column uses, and — for a kind derived from a flat
event log — which source column identifies one record (`one_per`). Everything stays text:
`etl.parse` and `etl.validate` type and check the values afterwards, so a refused value is
reported once, in one place, with its row.

Nothing is picked silently: case attributes that differ within one case reject that case
(naming the values and rows) unless the mapping asks for an aggregate (`first`, `last`,
`min`, `max`) for that column.
"""

from __future__ import annotations

import codecs
import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from etl.parse import DATE_ORDERS, clean_text, parse_datetimes, parse_decimals
from etl.read import STRING_DTYPE, kind_from_name
from etl.reasons import Reason
from etl.records import ROW, KindFrame, MappingError, RawTable, Reject
from etl.schema import LOAD_ORDER, RECORD_KINDS
from etl.settings import load_settings

SHIPPED_DIR = Path(__file__).resolve().parent / "mappings"
AGGREGATES = ("first", "last", "min", "max")
_DATE_KEYS = ("date_format", "date_order")
_NULL_KEY = "null_values"
_TOP_KEYS = ("description", "read", "standards", _NULL_KEY, *_DATE_KEYS)
_READ_KEYS = ("delimiter", "encoding", "sheet")
_KIND_KEYS = (
    "one_per",
    "columns",
    "constants",
    "values",
    "date_formats",
    "decimal",
    _NULL_KEY,
    *_DATE_KEYS,
)
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_MAX_ROWS_NAMED = 5


@dataclass(frozen=True)
class ColumnSource:
    """Where one canonical column's text comes from: a source column, maybe aggregated."""

    column: str
    agg: str | None = None  # first / last / min / max, only for `one_per` kinds
    # Words that mean "no value" in this column (casefolded), besides the kind's and file's
    null_values: frozenset[str] = frozenset()


@dataclass(frozen=True)
class KindMapping:
    """How one record kind is built from the source file."""

    kind: str
    columns: typing.Mapping[str, ColumnSource]
    constants: typing.Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    values: typing.Mapping[str, typing.Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    date_formats: typing.Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    decimal: str | None = None
    one_per: str | None = None
    # day_first / month_first for slashed dates of every date column without a format
    date_order: str | None = None
    # Words that mean "no value" in every column of the kind (the file's included), casefolded
    null_values: frozenset[str] = frozenset()

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Every source column this kind reads, in mapping order, without repeats."""
        names = [s.column for s in self.columns.values()]
        if self.one_per:
            names.insert(0, self.one_per)
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Mapping:
    """A loaded, checked mapping file."""

    path: str
    kinds: tuple[KindMapping, ...]
    description: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | int | None = None
    # A folder of canonical standards files (calendars, holidays, policies) that loads in
    # the same batch as the mapped file, read without the mapping: `standards = "dir"`,
    # relative to the mapping file.
    standards: str | None = None

    @property
    def read_options(self) -> dict[str, typing.Any]:
        """The keyword arguments `etl.read.read_table` takes from the `[read]` table."""
        options = {"delimiter": self.delimiter, "encoding": self.encoding, "sheet": self.sheet}
        return {k: v for k, v in options.items() if v is not None}

    def kind(self, name: str) -> KindMapping:
        """The mapping of one record kind (MappingError when the file does not define it)."""
        for kind_mapping in self.kinds:
            if kind_mapping.kind == name:
                return kind_mapping
        defined = ", ".join(k.kind for k in self.kinds)
        raise MappingError(f"mapping {self.path}: defines no {name!r} (it defines {defined})")


def shipped_mappings() -> dict[str, Path]:
    """The mapping files that ship with Eslabón, by stem (for the CLI and the upload page)."""
    return {p.stem: p for p in sorted(SHIPPED_DIR.glob("*.toml"))}


# --- loading a mapping file --------------------------------------------------------


def load_mapping(source: str | os.PathLike[str] | typing.IO[bytes] | typing.IO[str]) -> Mapping:
    """Read and check a TOML mapping file; every mistake is a MappingError naming the key."""
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        try:
            text = Path(source).read_bytes().decode("utf-8-sig")
        except FileNotFoundError:
            raise MappingError(f"mapping {name}: file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError(f"mapping {name}: cannot be read ({exc})") from None
    else:
        name = str(getattr(source, "name", None) or "<mapping>")
        raw = source.read()
        try:
            text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as exc:
            raise MappingError(f"mapping {name}: not UTF-8 text ({exc})") from None
    try:
        document = tomllib.loads(text)
        mapping = _checked_mapping(document, name)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"mapping {name}: not valid TOML ({exc})") from None
    except RecursionError:  # [[[[… or {a = {a = … thousands deep: the parser gives up
        raise MappingError(
            f"mapping {name}: arrays or tables nested too deeply to be a mapping file "
            "(a mapping is a few tables of column = value)"
        ) from None
    if mapping.standards is not None and isinstance(source, (str, os.PathLike)):
        folder = Path(os.fspath(source)).resolve().parent / mapping.standards
        mapping = dataclasses.replace(mapping, standards=str(folder))
    return mapping


def _checked_mapping(document: dict[str, typing.Any], name: str) -> Mapping:
    """A Mapping from a parsed TOML document, refusing anything unknown or incomplete."""
    expected = ", ".join([*_TOP_KEYS, *RECORD_KINDS])
    file_dates = _checked_dates(document, f"mapping {name}", (None, None))
    file_nulls = _checked_nulls(document.get(_NULL_KEY), f"mapping {name}.{_NULL_KEY}")
    kinds: dict[str, KindMapping] = {}
    for key, value in document.items():
        if key in _TOP_KEYS:
            continue
        if key not in RECORD_KINDS:
            raise MappingError(
                f"mapping {name}: unknown key or record kind {key!r} (expected one of {expected})"
            )
        if not isinstance(value, dict):
            raise MappingError(f"mapping {name}: {key!r} must be a table ([{key}])")
        kinds[key] = _checked_kind(key, value, name, file_dates, file_nulls)
    if not kinds:
        raise MappingError(
            f"mapping {name}: defines no record kind (add a table such as [commitments])"
        )
    description = document.get("description")
    if description is not None and not isinstance(description, str):
        raise MappingError(f"mapping {name}: 'description' must be a string")
    read = document.get("read", {})
    if not isinstance(read, dict):
        raise MappingError(f"mapping {name}: 'read' must be a table ([read])")
    _refuse_unknown(read, _READ_KEYS, f"mapping {name}, [read]")
    standards = document.get("standards")
    if standards is not None and not isinstance(standards, str):
        raise MappingError(f"mapping {name}: 'standards' must be a folder path (a string)")
    return Mapping(
        standards=standards,
        path=name,
        kinds=tuple(kinds[k] for k in LOAD_ORDER if k in kinds),
        description=description,
        delimiter=_checked_delimiter(read.get("delimiter"), name),
        encoding=_checked_encoding(read.get("encoding"), name),
        sheet=_checked_sheet(read.get("sheet"), name),
    )


def _checked_dates(
    table: dict[str, typing.Any], where: str, defaults: tuple[str | None, str | None]
) -> tuple[str | None, str | None]:
    """(date_format, date_order) of a table, each falling back to `defaults` (the file's)."""
    fmt = table.get("date_format", defaults[0])
    if fmt is not None and (not isinstance(fmt, str) or "%" not in fmt):
        raise MappingError(
            f"{where}: 'date_format' must be a strptime format such as '%m/%d/%Y %H:%M', "
            f"not {fmt!r}"
        )
    order = table.get("date_order", defaults[1])
    if order is not None and order not in DATE_ORDERS:
        raise MappingError(
            f"{where}: 'date_order' must be {' or '.join(map(repr, DATE_ORDERS))}, not {order!r}"
        )
    return fmt, order


def _checked_nulls(value: typing.Any, where: str) -> frozenset[str]:
    """A list of null markers (`["?", "N/A", "-"]`), casefolded and stripped."""
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MappingError(f'{where}: must be a list of words such as ["?", "N/A", "-"]')
    return frozenset(v.strip().casefold() for v in value)


def _checked_kind(
    kind: str,
    table: dict[str, typing.Any],
    name: str,
    file_dates: tuple[str | None, str | None] = (None, None),
    file_nulls: frozenset[str] = frozenset(),
) -> KindMapping:
    """One `[kind]` table checked against the canonical file's columns.

    A `date_format` of the kind (or of the file) becomes the format of every date column
    the kind reads from the source, unless `date_formats` names another for the column.
    """
    where = f"mapping {name}, [{kind}]"
    record = RECORD_KINDS[kind]
    _refuse_unknown(table, _KIND_KEYS, where)
    one_per = table.get("one_per")
    if one_per is not None and (not isinstance(one_per, str) or not one_per.strip()):
        raise MappingError(f"{where}: 'one_per' must name a source column")

    columns: dict[str, ColumnSource] = {}
    for canonical, spec in _table(table, "columns", where).items():
        _require_canonical(canonical, record.columns, f"{where}.columns")
        columns[canonical] = _checked_source(spec, f"{where}.columns.{canonical}", one_per)

    constants: dict[str, str] = {}
    for canonical, value in _table(table, "constants", where).items():
        _require_canonical(canonical, record.columns, f"{where}.constants")
        if canonical in columns:
            raise MappingError(
                f"{where}: {canonical!r} is given both as a column and as a constant"
            )
        constants[canonical] = _text(value, f"{where}.constants.{canonical}")

    values: dict[str, typing.Mapping[str, str]] = {}
    for canonical, words in _table(table, "values", where).items():
        _require_canonical(canonical, record.columns, f"{where}.values")
        if canonical not in columns:
            raise MappingError(
                f"{where}.values: {canonical!r} has a value map but no source column in "
                f"[{kind}.columns]"
            )
        if not isinstance(words, dict):
            raise MappingError(f"{where}.values.{canonical}: must be a table of word = value")
        folded: dict[str, str] = {}
        for word, meaning in words.items():
            key = word.strip().casefold()
            target = _text(meaning, f"{where}.values.{canonical}.{word}")
            if folded.get(key, target) != target:
                raise MappingError(
                    f"{where}.values.{canonical}: {word!r} is mapped twice to different values"
                )
            folded[key] = target
        values[canonical] = MappingProxyType(folded)

    date_formats: dict[str, str] = {}
    for canonical, fmt in _table(table, "date_formats", where).items():
        _require_canonical(canonical, record.columns, f"{where}.date_formats")
        if record.field(canonical).type != "datetime":
            raise MappingError(f"{where}.date_formats: {canonical!r} is not a date column")
        if not isinstance(fmt, str) or "%" not in fmt:
            raise MappingError(
                f"{where}.date_formats.{canonical}: must be a strptime format such as "
                f"'%d/%m/%Y %H:%M', not {fmt!r}"
            )
        date_formats[canonical] = fmt
    every_format, date_order = _checked_dates(table, where, file_dates)
    if every_format is not None:
        for canonical in columns:
            if record.field(canonical).type == "datetime":
                date_formats.setdefault(canonical, every_format)

    decimal = table.get("decimal")
    if decimal is not None and decimal not in (",", "."):
        raise MappingError(f'{where}: \'decimal\' must be "," or ".", not {decimal!r}')

    missing = [c for c in record.required if c not in columns and c not in constants]
    if missing:
        raise MappingError(
            f"{where}: required column(s) {', '.join(map(repr, missing))} given neither by a "
            "column nor by a constant"
        )
    return KindMapping(
        kind=kind,
        columns=MappingProxyType(columns),
        constants=MappingProxyType(constants),
        values=MappingProxyType(values),
        date_formats=MappingProxyType(date_formats),
        decimal=decimal,
        one_per=one_per,
        date_order=date_order,
        null_values=file_nulls | _checked_nulls(table.get(_NULL_KEY), f"{where}.{_NULL_KEY}"),
    )


def _checked_source(spec: typing.Any, where: str, one_per: str | None) -> ColumnSource:
    """A column spec: a source column name, or {column = ..., agg = ...}."""
    if isinstance(spec, str):
        if not spec.strip():
            raise MappingError(f"{where}: the source column name is empty")
        return ColumnSource(spec)
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: must be a source column name or {{column = ..., agg = ...}}")
    _refuse_unknown(spec, ("column", "agg", _NULL_KEY), where)
    column = spec.get("column")
    if not isinstance(column, str) or not column.strip():
        raise MappingError(f"{where}: 'column' must name a source column")
    agg = spec.get("agg")
    if agg is not None:
        if agg not in AGGREGATES:
            raise MappingError(f"{where}: unknown agg {agg!r} (expected {', '.join(AGGREGATES)})")
        if one_per is None:
            raise MappingError(
                f"{where}: 'agg' needs 'one_per' in the kind's table "
                "(aggregates combine the rows of one case)"
            )
    return ColumnSource(column, agg, _checked_nulls(spec.get(_NULL_KEY), f"{where}.{_NULL_KEY}"))


def _table(table: dict[str, typing.Any], key: str, where: str) -> dict[str, typing.Any]:
    """A sub-table of a kind's table, empty when absent."""
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise MappingError(f"{where}: {key!r} must be a table of canonical column = ...")
    return value


def _refuse_unknown(table: dict[str, typing.Any], allowed: tuple[str, ...], where: str) -> None:
    """MappingError for the first key not in `allowed` (typos must not pass silently)."""
    for key in table:
        if key not in allowed:
            raise MappingError(f"{where}: unknown key {key!r} (expected {', '.join(allowed)})")


def _require_canonical(column: str, canonical: tuple[str, ...], where: str) -> None:
    """MappingError unless `column` is a column of the canonical file."""
    if column not in canonical:
        raise MappingError(
            f"{where}: unknown canonical column {column!r} (expected {', '.join(canonical)})"
        )


def _text(value: typing.Any, where: str) -> str:
    """A TOML scalar as the text a source file would hold (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise MappingError(f"{where}: must be a string, number or boolean, not {value!r}")


def _checked_delimiter(value: object, name: str) -> str | None:
    """The `[read]` delimiter: one character, or a word such as "tab"."""
    if value is None:
        return None
    if isinstance(value, str):
        value = _DELIMITER_NAMES.get(value.lower(), value)
        if len(value) == 1:
            return value
    raise MappingError(f"mapping {name}, [read]: 'delimiter' must be one character or 'tab'")


def _checked_encoding(value: typing.Any, name: str) -> str | None:
    """The `[read]` encoding, when Python knows it."""
    if value is None:
        return None
    try:
        codecs.lookup(str(value))
    except LookupError:
        raise MappingError(f"mapping {name}, [read]: unknown encoding {value!r}") from None
    return str(value)


def _checked_sheet(value: typing.Any, name: str) -> str | int | None:
    """The `[read]` sheet: a name or a 0-based index."""
    if value is None or (isinstance(value, (str, int)) and not isinstance(value, bool)):
        return value
    raise MappingError(f"mapping {name}, [read]: 'sheet' must be a sheet name or number")


# --- applying a mapping ------------------------------------------------------------


def apply_mapping(
    table: RawTable, mapping: Mapping | None, kind: str | None = None, *, tz: str | None = None
) -> list[KindFrame]:
    """The file's rows as one KindFrame per record kind, in canonical column names.

    Without a mapping the file is canonical: its kind is `kind` or its file name's, and its
    columns pass as they are (a header matching a canonical name in another letter case is
    renamed to it; other columns ride along and validation ignores them). With a mapping,
    every kind it defines (or only `kind`) is built, in load order. `tz` is the zone the
    load reads dates in (default: the configured one), for a case's earliest or latest.
    """
    if mapping is None:
        return [_canonical_frame(table, kind)]
    tz = tz or load_settings().timezone
    kinds = [mapping.kind(kind)] if kind is not None else list(mapping.kinds)
    return [_mapped_frame(table, mapping, k, tz) for k in kinds]


def _canonical_frame(table: RawTable, kind: str | None) -> KindFrame:
    """A canonical file as it is, with its record kind decided."""
    kind = kind or kind_from_name(table.path)
    if kind is None:
        raise MappingError(
            f"{table.path}: the file name is not a canonical one ({', '.join(LOAD_ORDER)}) "
            "and no mapping was given: name the file after its record kind or pass --mapping"
        )
    if kind not in RECORD_KINDS:
        raise MappingError(f"{table.path}: unknown record kind {kind!r}")
    canonical = {c.lower(): c for c in RECORD_KINDS[kind].columns}
    rename = {
        c: canonical[c.lower()]
        for c in table.frame.columns
        if c.lower() in canonical
        and c != canonical[c.lower()]
        and canonical[c.lower()] not in table.frame.columns
    }
    # Shallow: under copy-on-write the RawTable cannot see changes made to this frame, and
    # a deep copy duplicated the `_row` numbers.
    frame = table.frame.rename(columns=rename) if rename else table.frame.copy(deep=False)
    return KindFrame(
        kind=kind, path=table.path, sha256=table.sha256, frame=frame, rows_read=len(frame)
    )


def _mapped_frame(table: RawTable, mapping: Mapping, km: KindMapping, tz: str) -> KindFrame:
    """One record kind built from the source rows as `km` says."""
    source = table.frame
    missing = [c for c in km.source_columns if c not in source.columns]
    if missing:
        present = [c for c in source.columns if c != ROW]
        refused = (
            f"mapping {mapping.path} needs source column(s) {', '.join(map(repr, missing))} "
            f"for {km.kind}, but the file has none by that name; columns present: "
            f"{', '.join(map(repr, present))}"
        )
        frame = _renamed_rows(source, km, skip=set(missing))
        return _kind_frame(table, mapping, km, frame, len(frame), refused=refused)
    original = source
    source, km = _cleaned_sources(source, km)
    if km.one_per is None:
        frame = _renamed_rows(source, km)
        return _kind_frame(table, mapping, km, frame, len(frame))
    frame, rejects, rows_read = _one_per_case(source, km, original, tz)
    return _kind_frame(table, mapping, km, frame, rows_read, rejects=rejects)


def _cleaned_sources(source: pd.DataFrame, km: KindMapping) -> tuple[pd.DataFrame, KindMapping]:
    """Null markers and value maps applied to the source columns BEFORE anything else.

    So a case's attributes are compared, and its aggregates picked, on what the values
    mean: `?` or `N/A` is no value (an aggregate never picks it), `Externo` and `externo`
    are one word. Each canonical column gets a text column of its own, named like its
    source column (or "source → canonical" when one source column feeds several canonical
    columns that treat it differently); the returned mapping points at those columns and
    has no value maps left to apply.
    """
    treatment: dict[str, tuple[frozenset[str], tuple[tuple[str, str], ...]]] = {}
    for canonical, spec in km.columns.items():
        value_map = km.values.get(canonical, {})
        treatment[canonical] = (km.null_values | spec.null_values, tuple(sorted(value_map.items())))
    if not any(nulls or words for nulls, words in treatment.values()) and not km.null_values:
        return source, km
    by_source: dict[str, set[tuple[frozenset[str], tuple[tuple[str, str], ...]]]] = {}
    for canonical, spec in km.columns.items():
        by_source.setdefault(spec.column, set()).add(treatment[canonical])
    frame = source.copy(deep=False)
    columns: dict[str, ColumnSource] = {}
    for canonical, spec in km.columns.items():
        nulls, words = treatment[canonical]
        shared = len(by_source[spec.column]) > 1
        name = f"{spec.column} → {canonical}" if shared else spec.column
        if name not in frame.columns or not shared:
            frame[name] = _meaning(source[spec.column], nulls, dict(words))
        columns[canonical] = ColumnSource(name, spec.agg)
    if km.one_per is not None and km.null_values:
        frame[km.one_per] = _meaning(source[km.one_per], km.null_values, {})
    cleaned = dataclasses.replace(
        km, columns=MappingProxyType(columns), values=MappingProxyType({})
    )
    return frame, cleaned


def _meaning(column: pd.Series, nulls: frozenset[str], words: dict[str, str]) -> pd.Series:
    """A source column with its null markers as missing and its value map applied."""
    text = column.astype(STRING_DTYPE)
    if nulls:
        folded = text.str.strip().str.casefold()
        text = text.mask(folded.isin(list(nulls)).fillna(False).astype(bool))
    return _mapped_words(text, words) if words else text


def _kind_frame(
    table: RawTable,
    mapping: Mapping,
    km: KindMapping,
    frame: pd.DataFrame,
    rows_read: int,
    *,
    rejects: list[Reject] | None = None,
    refused: str | None = None,
) -> KindFrame:
    """The KindFrame with the mapping's parsing hints attached."""
    return KindFrame(
        kind=km.kind,
        path=table.path,
        sha256=table.sha256,
        frame=frame,
        rows_read=rows_read,
        date_formats=dict(km.date_formats),
        date_order=km.date_order,
        decimal=km.decimal,
        mapping=mapping.path,
        rejects=rejects or [],
        refused=refused,
    )


def _renamed_rows(
    source: pd.DataFrame, km: KindMapping, skip: typing.AbstractSet[str] = frozenset()
) -> pd.DataFrame:
    """One output row per source row: renamed columns, value maps, constants, `_row`."""
    out = {
        canonical: source[spec.column]
        for canonical, spec in km.columns.items()
        if spec.column not in skip
    }
    frame = pd.DataFrame(out, index=source.index)
    frame[ROW] = source[ROW]
    return _finished(frame.reset_index(drop=True), km)


def _finished(frame: pd.DataFrame, km: KindMapping) -> pd.DataFrame:
    """Value maps and constants applied, columns in canonical order, text dtype."""
    for canonical, words in km.values.items():
        if canonical in frame.columns:
            frame[canonical] = _mapped_words(frame[canonical], words)
    for canonical, value in km.constants.items():
        frame[canonical] = value
    order = [c for c in RECORD_KINDS[km.kind].columns if c in frame.columns]
    frame = frame[[*order, ROW]]
    for column in order:
        frame[column] = frame[column].astype(STRING_DTYPE)
    frame[ROW] = frame[ROW].astype("int64")
    return frame


def _mapped_words(column: pd.Series, words: typing.Mapping[str, str]) -> pd.Series:
    """Words replaced by their canonical value (case and surrounding spaces ignored).

    A word the map does not know passes unchanged, so validation reports it in context.
    """
    text = column.astype(STRING_DTYPE)
    mapped = text.str.strip().str.casefold().map(dict(words))
    return mapped.where(mapped.notna(), text).astype(STRING_DTYPE)


def _one_per_case(
    source: pd.DataFrame, km: KindMapping, original: pd.DataFrame | None, tz: str
) -> tuple[pd.DataFrame, list[Reject], int]:
    """One record per distinct `one_per` value; cases whose attributes disagree rejected.

    Returns the frame, the rejects and rows read (cases, plus rows with no case id, which
    are rejected because they belong to no case). `original` holds the rows as read, for
    the raw rows of the rejects (nothing is lost: the text as written, markers included).
    """
    original = source if original is None else original
    key = typing.cast(str, km.one_per)
    rejects: list[Reject] = []
    no_id = source[key].isna() | (source[key].astype(STRING_DTYPE).str.strip() == "")
    index: typing.Any  # a row label (the stubs say Hashable, which .loc does not take)
    for index, row in source[no_id].iterrows():
        rejects.append(
            Reject(
                row_number=int(row[ROW]),
                column=key,
                reason=Reason("no_case_id", key=repr(key), kind=km.kind),
                raw=_raw(original.loc[index]),
            )
        )
    rows = source[~no_id]
    ids = rows[key]
    plain = {c: s.column for c, s in km.columns.items() if s.agg is None}
    plain_sources = list(dict.fromkeys(s for s in plain.values() if s != key))

    bad_cases: set[object] = set()
    if plain_sources:
        distinct = rows.groupby(key, sort=False)[plain_sources].nunique(dropna=False)
        disagreeing = distinct[(distinct > 1).any(axis=1)]
        for case_id, counts in disagreeing.iterrows():
            columns = [c for c in plain_sources if counts[c] > 1]
            case_rows = rows[ids == case_id]
            rejects.append(
                _disagreement(case_id, case_rows, columns, plain, key, km.kind, original)
            )
            bad_cases.add(case_id)
    good = rows[~ids.isin(bad_cases)] if bad_cases else rows

    firsts = good.drop_duplicates(key, keep="first")
    frame = pd.DataFrame(
        {canonical: firsts[column].to_numpy() for canonical, column in plain.items()},
        index=pd.Index(firsts[key].to_numpy(), name=key),
    )
    frame[ROW] = firsts[ROW].to_numpy()
    for canonical, spec in km.columns.items():
        if spec.agg is not None:
            frame[canonical] = _aggregated(good, key, spec, km, canonical, tz).reindex(frame.index)
    frame = frame.reset_index(drop=True)
    rejects.sort(key=lambda r: r.row_number or 0)
    return _finished(frame, km), rejects, int(ids.nunique()) + int(no_id.sum())


def _disagreement(
    case_id: object,
    case_rows: pd.DataFrame,
    columns: list[str],
    plain: dict[str, str],
    key: str,
    kind: str,
    original: pd.DataFrame,
) -> Reject:
    """The Reject of a case whose attributes differ: every differing value with its rows."""
    by_source = {source: canonical for canonical, source in plain.items()}
    differences = []
    for column in columns:
        values = case_rows[column].astype(object).where(case_rows[column].notna(), None)
        listed = []
        for value, group in case_rows[ROW].groupby(values, dropna=False, sort=False):
            rows = [int(r) for r in group.tolist()]
            listed.append(
                {
                    "value": None if value is None or pd.isna(value) else repr(value),
                    "rows": rows[:_MAX_ROWS_NAMED],
                    "more": max(0, len(rows) - _MAX_ROWS_NAMED),
                }
            )
        differences.append(
            {"column": repr(column), "canonical": by_source[column], "values": listed}
        )
    first = case_rows.iloc[0]
    raw_first = original.loc[case_rows.index[0]]
    return Reject(
        row_number=int(first[ROW]),
        column=columns[0],
        reason=Reason(
            "case_disagrees", key=key, case=repr(case_id), differences=differences, kind=kind
        ),
        raw=_raw(raw_first),
    )


def _raw(row: pd.Series) -> dict[str, object]:
    """A source row as a plain dict (missing as None) for `rejected_rows.raw`."""
    return {
        str(k): (None if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)) else v)
        if k != ROW
        else int(v)
        for k, v in row.items()
    }


def _aggregated(
    rows: pd.DataFrame, key: str, spec: ColumnSource, km: KindMapping, canonical: str, tz: str
) -> pd.Series:
    """One text per case: the first/last present value, or the one that orders min/max.

    min/max order values by what the canonical column holds (instants for dates, numbers
    for numeric columns, text otherwise) but return the source text itself, so parsing
    stays in one place. Values that do not parse are ignored for ordering (validation
    rejects their own rows); a case where none parses gets its first value, so the
    problem is reported rather than hidden.
    """
    values = rows[spec.column]
    groups = values.groupby(rows[key], sort=False)
    if spec.agg == "first":
        return groups.first()
    if spec.agg == "last":
        return groups.last()
    order = _ordering_key(values, RECORD_KINDS[km.kind].field(canonical).type, km, canonical, tz)
    present = order.notna()
    picked_index = (
        order[present].groupby(rows[key][present], sort=False).idxmin()
        if spec.agg == "min"
        else order[present].groupby(rows[key][present], sort=False).idxmax()
    )
    picked = pd.Series(values.loc[picked_index.to_numpy()].to_numpy(), index=picked_index.index)
    fallback = groups.first()
    return picked.reindex(fallback.index).fillna(fallback)


def _ordering_key(
    values: pd.Series, type_: str, km: KindMapping, canonical: str, tz: str
) -> pd.Series:
    """Values made comparable for min/max, NaN/NaT where they do not parse.

    Read by the loader's own parsers with the loader's settings (zone, date format and
    order, decimal separator), so a case's earliest or largest value is the one that
    loads as the earliest or largest.
    """
    text = clean_text(values)
    if type_ == "datetime":
        fmt = km.date_formats.get(canonical)
        parsed, _bad = parse_datetimes(text, tz=tz, fmt=fmt, order=km.date_order, cleaned=True)
        return parsed
    if type_ in ("int", "float"):
        numbers, _bad = parse_decimals(text, decimal=km.decimal, cleaned=True)
        return numbers
    return text.astype(object)
