"""Typed values from the strings a reader produced: dates, decimals, integers, booleans.

Every function takes a whole column (a pandas Series of text, missing = NA) and returns
`(values, bad)`: the typed column and a boolean mask of cells that held something that
could not be read. An empty cell is never bad here (whether a value is required is
validation's business). Work is vectorised: pandas' C parsers on the whole column, a
handful of formats tried in turn; never a Python loop per row.

Date rules (docs/design.md, "The record kinds"):

- ISO 8601 (`2026-03-01`, `2026-03-01T10:00`, `2026-03-01 10:00:00.123`), with or without
  a UTC offset (`+01:00`, `Z`). A value with an offset is converted to the configured
  zone; one without is already wall-clock time there. Results are naive wall-clock times.
- Slashed (or dotted, or dashed) dates, `dd/mm/yyyy` or `mm/dd/yyyy`, optionally with
  `HH:MM[:SS]` or a 12-hour time with AM/PM. The order of day and month is decided once
  per **column**, never per value: a value whose first field is above 12 proves the
  column day first, one whose second field is above 12 proves it month first. A column
  where every value has both fields at 12 or below (or where values prove both orders)
  cannot be read without a format: its slashed values are reported as bad, and
  validation says how to set the format in a mapping. The caller may pass the order
  (`order=`) when it knows it from elsewhere (another date column of the same file).
- A date without a time means the END of that day (23:59:59): "due on the 5th" is kept
  if delivered any time on the 5th. A caller whose dates say when something starts (a
  target's `valid_from`) asks for the start of the day instead (`date_only=START_OF_DAY`).
- A forced strptime format (from a mapping) wins over all of the above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Arrow-backed text: string operations run in pyarrow compute, column at a time.
TEXT = pd.StringDtype("pyarrow")
END_OF_DAY = pd.Timedelta(hours=23, minutes=59, seconds=59)
# What a date without a time stands for: the end of that day (a deadline) or its start.
END_OF_DAY_DATES, START_OF_DAY_DATES = "end_of_day", "start_of_day"
_DATE_ONLY_AT = {END_OF_DAY_DATES: END_OF_DAY, START_OF_DAY_DATES: pd.Timedelta(0)}

# Patterns are plain strings without backreferences, \s or \d (Unicode-aware in Python,
# ASCII in RE2), so pyarrow's RE2 runs them on Arrow-backed text column at a time instead
# of pandas falling back to Python's re once per value.
_ISO = (
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?)?"
    r"[ ]?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?$"
)
_ISO_DATE_ONLY = r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$"
# An offset only counts after a time of day: the "-01" closing "2026-03-01" is the day.
_OFFSET = r"[0-9]:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?[ ]?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)$"
# A slashed date: two 1–2 digit fields and a 4-digit year, an optional 24-hour time or a
# 12-hour one with AM/PM (also "a.m.", any case).
_SLASHED = (
    r"^[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}"
    r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:[ ]?[AaPp]\.?[Mm]\.?)?)?$"
)
_SLASHED_FIELDS = r"^(?P<first>[0-9]{1,2})[/.-](?P<second>[0-9]{1,2})[/.-][0-9]{4}"
_MERIDIEM = r"[ ]?([AaPp])\.?[Mm]\.?$"
DAY_FIRST, MONTH_FIRST = "day_first", "month_first"
DATE_ORDERS = (DAY_FIRST, MONTH_FIRST)
# Slashed formats tried in turn per order; the first one is the date-only one (end of day).
_SLASHED_FORMATS = {
    DAY_FIRST: ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"),
    MONTH_FIRST: ("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S"),
}
_MERIDIEM_FORMATS = {
    DAY_FIRST: ("%d/%m/%Y %I:%M %p", "%d/%m/%Y %I:%M:%S %p"),
    MONTH_FIRST: ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p"),
}
# (format, shape) of the common machine-written forms, tried on a column's first value.
_FAST_ISO = (
    ("%Y-%m-%d %H:%M:%S", r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"),
    ("%Y-%m-%dT%H:%M:%S", r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"),
    ("%Y-%m-%d %H:%M", r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}"),
    ("%Y-%m-%dT%H:%M", r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}"),
)
_FAST_SLASHED = (
    ("%H:%M", r"[0-9]{2}/[0-9]{2}/[0-9]{4} [0-9]{2}:[0-9]{2}"),
    ("%H:%M:%S", r"[0-9]{2}/[0-9]{2}/[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}"),
)
# Where the day's two digits stand in a value of each fast format's date part.
_DAY_AT = {"%Y-%m-%d": 8, "%d/%m/%Y": 0, "%m/%d/%Y": 3}
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%X", "%c", "%T", "%R")

TRUE_WORDS = frozenset(
    {"true", "t", "1", "yes", "y", "sí", "si", "s", "ja", "j", "x", "verdadero", "waar", "wahr"}
)
FALSE_WORDS = frozenset({"false", "f", "0", "no", "n", "nee", "falso", "onwaar", "nein"})


def text_chunks(values: pd.Series) -> list[pa.Array]:
    """The column as Arrow large_string arrays, one per chunk (Arrow-backed text: no copy).

    A list of arrays, not a ChunkedArray, because callers join several columns' chunks
    and pa.chunked_array() turns a ChunkedArray element into an array value by value.
    """
    arr = pa.array(values.astype(TEXT), type=pa.large_string())
    return arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]


def clean_text(values: pd.Series) -> pd.Series:
    """The column as stripped text with empty cells as NA (so 'missing' means one thing).

    Done in Arrow compute directly, cheaper than pandas' strip + mask. Chunk by chunk, so
    that a column with nothing to strip (the usual machine export) is never copied whole
    just to find that out.
    """
    text = values.astype(TEXT)
    cleaned: list[pa.Array] = []
    changed = False
    for chunk in text_chunks(text):
        trimmed = pc.utf8_trim_whitespace(chunk)
        empty = pc.equal(trimmed, "")
        if not pc.any(empty).as_py() and pc.all(
            pc.equal(pc.binary_length(trimmed), pc.binary_length(chunk))
        ).as_py() in (True, None):
            cleaned.append(chunk)  # nothing to strip and no empty cell: kept as it is
        else:
            cleaned.append(pc.if_else(empty, pa.scalar(None, pa.large_string()), trimmed))
            changed = True
        del trimmed, empty
    if not changed:
        return pd.Series(text, index=values.index, name=values.name, copy=False)
    whole = pa.chunked_array(cleaned, type=pa.large_string())
    return pd.Series(pd.array(whole, dtype=TEXT), index=values.index, name=values.name)


def format_has_time(fmt: str) -> bool:
    """True when a strptime format reads a time of day (otherwise the value is a whole day)."""
    return any(d in fmt for d in _TIME_DIRECTIVES)


@dataclass(frozen=True)
class DateOrderEvidence:
    """What a column's slashed dates say about their order of day and month.

    `day_first` / `month_first` hold a value proving that order (first, resp. second
    field between 13 and 31 with the other one a month), or None. `slashed` counts the
    slashed values looked at.
    """

    slashed: int
    day_first: str | None = None
    month_first: str | None = None

    @property
    def order(self) -> str | None:
        """The column's order when exactly one is proven; None when none or both are."""
        if self.day_first is not None and self.month_first is None:
            return DAY_FIRST
        if self.month_first is not None and self.day_first is None:
            return MONTH_FIRST
        return None

    @property
    def conflicting(self) -> bool:
        """Values prove both orders: the column was written two ways."""
        return self.day_first is not None and self.month_first is not None


def slashed_mask(text: pd.Series) -> pd.Series:
    """True where a (cleaned) value has the shape of a slashed date, whatever its order."""
    return text.str.match(_SLASHED, na=False).astype(bool)


def date_order_evidence(text: pd.Series) -> DateOrderEvidence:
    """The order of day and month that a whole column of (cleaned) text proves, if any.

    Column at a time in Arrow: the two leading fields are extracted with one regex and
    compared as numbers; only the first proving value of each order is kept (for the
    message that names it).
    """
    values = pa.array(text.astype(TEXT), type=pa.large_string())
    # A slashed date has a separator among its first three characters; an ISO one starts
    # with four digits. Only the values that do not are matched against the full shape
    # (a whole ISO column costs one cheap pass instead of a regex per value).
    head_digits = pc.fill_null(pc.utf8_is_digit(pc.utf8_slice_codeunits(values, 0, 3)), True)
    candidates = values.filter(pc.invert(head_digits))
    shaped = pc.fill_null(pc.match_substring_regex(candidates, _SLASHED), False)
    slashed = candidates.filter(shaped)
    if len(slashed) == 0:
        return DateOrderEvidence(0)
    fields = pc.extract_regex(slashed, _SLASHED_FIELDS)
    first = pc.cast(pc.struct_field(fields, "first"), pa.int32())
    second = pc.cast(pc.struct_field(fields, "second"), pa.int32())

    def proving(day: pa.Array, month: pa.Array) -> str | None:
        mask = pc.and_(
            pc.and_(pc.greater(day, 12), pc.less_equal(day, 31)),
            pc.and_(pc.greater_equal(month, 1), pc.less_equal(month, 12)),
        )
        hits = slashed.filter(pc.fill_null(mask, False))
        return hits[0].as_py() if len(hits) else None

    return DateOrderEvidence(len(slashed), proving(first, second), proving(second, first))


def parse_datetimes(
    values: pd.Series,
    *,
    tz: str,
    fmt: str | None = None,
    cleaned: bool = False,
    order: str | None = None,
    date_only: str = END_OF_DAY_DATES,
) -> tuple[pd.Series, pd.Series]:
    """Naive wall-clock datetimes in `tz` and the mask of values that are not dates.

    See the module docstring for the accepted forms; `fmt` forces one strptime format.
    `date_only` says what a date without a time stands for: END_OF_DAY_DATES (a due
    date, the default) or START_OF_DAY_DATES (the day something comes into force).
    `order` (DAY_FIRST / MONTH_FIRST) says how slashed dates are read; without it the
    column decides (`date_order_evidence`), and a column that does not decide gets its
    slashed values marked bad. `cleaned` says `values` already came out of `clean_text`.
    """
    if date_only not in _DATE_ONLY_AT:
        raise ValueError(f"unknown date_only {date_only!r} (expected {tuple(_DATE_ONLY_AT)})")
    day_at = _DATE_ONLY_AT[date_only]
    text = values if cleaned else clean_text(values)
    present = text.notna()
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    if not present.any():
        return out, pd.Series(False, index=text.index)

    if fmt:
        out = _strptime_column(text, fmt, tz)
        if not format_has_time(fmt):
            out = out + day_at
    else:
        if order is None:
            order = date_order_evidence(text).order
        elif order not in DATE_ORDERS:
            raise ValueError(f"unknown date order {order!r} (expected {DATE_ORDERS})")
        fast = _fast_format(text, order)
        if fast is not None:
            out = _fast_column(text, *fast)
        rest = present & out.isna()
        if rest.any():
            out[rest] = _general_column(text[rest], tz, order, day_at)
    bad = present & out.isna()
    return out, bad


def _fast_format(text: pd.Series, order: str | None) -> tuple[str, str] | None:
    """The exact (format, shape) of the column's first value, when it is a common one.

    Machine exports write one format throughout; parsing the whole column with it is a
    single C pass, and only the values it does not fit go through the general rules.
    Only formats with a time and no offset qualify (those need no further adjustment);
    slashed ones only once the column's order is known.
    """
    index = text.first_valid_index()
    if index is None:
        return None
    first = str(text.loc[index])
    candidates = list(_FAST_ISO)
    if order is not None:
        date = "%d/%m/%Y" if order == DAY_FIRST else "%m/%d/%Y"
        candidates += [(f"{date} {time}", shape) for time, shape in _FAST_SLASHED]
    for fmt, pattern in candidates:
        if re.fullmatch(pattern, first):
            return fmt, pattern
    return None


def _fast_column(text: pd.Series, fmt: str, pattern: str) -> pd.Series:
    """The column read with `fmt`, as pandas reads it, but mostly in Arrow; NaT if unreadable.

    Arrow's strptime reads the Arrow-backed text in place, where pandas first makes a
    Python object per value. Arrow's result is
    kept where the value has exactly the shape `pattern` (C's strptime is lenient where
    pandas is not, e.g. about a missing space); the few other values are read by pandas.
    One more difference: Arrow rolls an impossible day over into the next month
    (2026-02-30 becomes 2026-03-02) where pandas refuses it. Such a value lands on day
    1–3, so for those the day written in the text (two digits at a fixed place, given the
    shape) must equal the day parsed.
    """
    values = pa.array(text, type=pa.large_string())
    shaped = pc.fill_null(pc.match_substring_regex(values, f"^{pattern}$"), True)
    parsed = pc.strptime(values, format=fmt, unit="us", error_is_null=True)
    # One writable copy of Arrow's read-only buffer, which the Series then uses as it is.
    out = np.array(parsed.to_numpy(zero_copy_only=False), dtype="datetime64[us]")
    days = pc.day(parsed)
    early = np.flatnonzero(pc.fill_null(pc.and_(shaped, pc.less_equal(days, 3)), False))
    redo = np.flatnonzero(pc.invert(shaped).to_numpy(zero_copy_only=False))
    if len(early):
        start = _DAY_AT[fmt[:8]]  # the fast formats: %Y-%m-%d…, %d/%m/%Y… or %m/%d/%Y…
        written = pc.utf8_slice_codeunits(pc.take(values, early), start, start + 2)
        rolled = pc.not_equal(pc.cast(written, pa.int64()), pc.take(days, early))
        out[early[rolled.to_numpy(zero_copy_only=False)]] = np.datetime64("NaT")
    if len(redo):
        again = pd.to_datetime(text.iloc[redo], format=fmt, errors="coerce")
        out[redo] = again.to_numpy(dtype="datetime64[us]")
    return pd.Series(out, index=text.index, copy=False)


def _general_column(
    text: pd.Series, tz: str, order: str | None = None, day_at: pd.Timedelta = END_OF_DAY
) -> pd.Series:
    """Values of any accepted form (module docstring); NaT for the rest.

    Slashed values are read in `order`; without one they stay NaT (the column did not
    say which order it uses). A date without a time is placed at `day_at` into its day.
    """
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    iso = text.str.match(_ISO, na=False).astype(bool)
    if iso.any():
        out[iso] = _iso_column(text[iso], tz, day_at)
    if order is None:
        return out
    slashed = (~iso & slashed_mask(text)).astype(bool)
    if slashed.any():
        out[slashed] = _slashed_column(text[slashed], order, day_at)
    return out


def _strptime_column(text: pd.Series, fmt: str, tz: str) -> pd.Series:
    """A forced format; one with %z gives aware values, converted to `tz` wall-clock."""
    if "%z" in fmt or "%Z" in fmt:
        aware = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
        return _to_wall_clock(aware, tz)
    return pd.to_datetime(text, format=fmt, errors="coerce").astype("datetime64[us]")


def _to_wall_clock(aware: pd.Series, tz: str) -> pd.Series:
    """UTC-aware datetimes as naive wall-clock times in `tz` (DST handled by tzdata)."""
    wall: pd.Series = aware.dt.tz_convert(tz).dt.tz_localize(None).astype("datetime64[us]")
    return wall


def _iso_column(text: pd.Series, tz: str, day_at: pd.Timedelta = END_OF_DAY) -> pd.Series:
    """ISO 8601 values: offsets converted to `tz`, date-only values at `day_at` into the day.

    Values with and without an offset are parsed apart because pandas refuses to mix them
    (and treating naive values as UTC would shift them).
    """
    text = text.str.replace(",", ".", regex=False)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    has_offset = text.str.contains(_OFFSET, regex=True, na=False).astype(bool)
    if has_offset.any():
        aware = pd.to_datetime(text[has_offset], format="ISO8601", errors="coerce", utc=True)
        out[has_offset] = _to_wall_clock(aware, tz)
    naive = ~has_offset
    if naive.any():
        parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        out[naive] = parsed.astype("datetime64[us]")
    date_only = text.str.match(_ISO_DATE_ONLY, na=False).astype(bool)
    out[date_only] = out[date_only] + day_at
    return out


def _slashed_column(text: pd.Series, order: str, day_at: pd.Timedelta = END_OF_DAY) -> pd.Series:
    """dd/mm/yyyy or mm/dd/yyyy (per `order`) with any of / . - as separator, an optional
    time (24-hour, or 12-hour with AM/PM); date-only values at `day_at` into the day."""
    meridiem = text.str.extract(_MERIDIEM, expand=False).str.upper()
    has_meridiem = meridiem.notna().astype(bool)
    date_time = text.str.replace(_MERIDIEM, "", regex=True)
    normal = date_time.str.replace(r"[.-]", "/", regex=True).str.replace("T", " ", regex=False)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    plain = ~has_meridiem
    for i, fmt in enumerate(_SLASHED_FORMATS[order]):
        todo = plain & out.isna()
        if not todo.any():
            break
        parsed = pd.to_datetime(normal[todo], format=fmt, errors="coerce").astype("datetime64[us]")
        if i == 0:
            parsed = parsed + day_at
        out[todo] = parsed
    if has_meridiem.any():
        twelve = normal[has_meridiem] + " " + meridiem[has_meridiem] + "M"
        for fmt in _MERIDIEM_FORMATS[order]:
            todo = has_meridiem & out.isna()
            if not todo.any():
                break
            parsed = pd.to_datetime(twelve[todo[has_meridiem]], format=fmt, errors="coerce")
            out[todo] = parsed.astype("datetime64[us]")
    return out


def sniff_decimal(values: pd.Series) -> str:
    """The decimal separator a column uses: ',' or '.'.

    A value holding both marks decides by the last one (`1.234,5` → ','). Otherwise a mark
    that appears once and is not followed by exactly three digits (`4,5`, `4.0`) can only
    be a decimal separator; the mark with more such evidence wins. Without evidence, a
    column whose only mark is a single comma (`1,234`) reads it as decimal (Spanish and
    Dutch exports rarely group thousands without a decimal part); anything else is '.'.
    """
    text = clean_text(values).dropna()
    if text.empty:
        return "."
    has_comma = text.str.contains(",", regex=False)
    has_dot = text.str.contains(".", regex=False)
    both = text[has_comma & has_dot]
    if not both.empty:
        comma_last = (both.str.rfind(",") > both.str.rfind(".")).sum()
        return "," if comma_last * 2 >= len(both) else "."
    comma_decimal = text.str.fullmatch(r"[-+]?[0-9]*,(?:[0-9]{1,2}|[0-9]{4,})", na=False).sum()
    dot_decimal = text.str.fullmatch(r"[-+]?[0-9]*\.(?:[0-9]{1,2}|[0-9]{4,})", na=False).sum()
    if comma_decimal or dot_decimal:
        return "," if comma_decimal > dot_decimal else "."
    commas = text[has_comma]
    if commas.empty or commas.str.count(",").gt(1).any():
        return "."
    return ","


def parse_decimals(
    values: pd.Series, *, decimal: str | None = None, cleaned: bool = False
) -> tuple[pd.Series, pd.Series]:
    """Floats from `1.234,5`, `1,234.5` or plain numbers; `decimal` forces the separator."""
    text = values if cleaned else clean_text(values)
    present = text.notna()
    if not present.any():  # e.g. a column the file does not have: nothing to read
        return pd.Series(np.nan, index=text.index), pd.Series(False, index=text.index)
    sep = decimal or sniff_decimal(text)
    thousands = "." if sep == "," else ","
    normal = (
        text.str.replace("[ \t\u00a0\u202f']", "", regex=True)
        .str.replace(thousands, "", regex=False)
        .str.replace(sep, ".", regex=False)
    )
    numbers = pd.to_numeric(normal, errors="coerce").astype("float64")
    bad = present & numbers.isna()
    return numbers, bad.astype(bool)


def parse_ints(
    values: pd.Series, *, decimal: str | None = None, cleaned: bool = False
) -> tuple[pd.Series, pd.Series]:
    """Whole numbers (`4`, `4.0`, `4,0` are 4; `4.5` is bad) as nullable Int64."""
    numbers, bad = parse_decimals(values, decimal=decimal, cleaned=cleaned)
    if not numbers.notna().any():  # nothing to check (e.g. a column the file does not have)
        return pd.Series(pd.NA, index=numbers.index, dtype="Int64"), bad
    fractional = numbers.notna() & (np.floor(numbers) != numbers)
    too_big = numbers.abs() > 2**53
    bad = bad | fractional | too_big
    whole = numbers.mask(bad).round().astype("Int64")
    return whole, bad.astype(bool)


def parse_bools(
    values: pd.Series, *, default: bool | None = None, cleaned: bool = False
) -> tuple[pd.Series, pd.Series]:
    """Booleans from the words people type in ES, NL and EN; empty takes `default`.

    true/yes/sí/si/ja/y/x/1 and false/no/nee/n/0 (any case). Mapping is per distinct
    value, so a million rows of two words cost two lookups.
    """
    text = (values if cleaned else clean_text(values)).str.lower()
    present = text.notna()
    uniques = pd.unique(text.dropna())
    lookup = {u: True for u in uniques if u in TRUE_WORDS} | {
        u: False for u in uniques if u in FALSE_WORDS
    }
    mapped = text.map(lookup).astype("boolean")
    bad = present & mapped.isna()
    if default is not None:
        mapped = mapped.mask(~present, default)
    return mapped.astype("boolean"), bad.astype(bool)
