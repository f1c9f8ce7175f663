"""Bytes → a table of strings: CSV sniffing (encoding, delimiter), Excel, Parquet.

Reading interprets nothing: every value leaves here as text (or missing), so that one
place (`etl.parse`) decides what a date or a decimal is, and a rejected row can always be
shown to the user exactly as it was in the file.

Decisions (also in docs/data-formats.md):

- Encoding: a UTF-8 BOM means UTF-8; a UTF-16 BOM means UTF-16; otherwise the bytes are
  decoded as strict UTF-8 and, if that fails, as Windows-1252 (Latin-1 for the five bytes
  Windows-1252 leaves undefined). Real Windows-1252 text with accents or `€` is almost never
  valid UTF-8 by accident, so this rule is exact for the two encodings users actually
  have, where a statistical detector (charset-normalizer) guesses cp1250 or mac_roman on
  short files. An explicit `encoding` is used strictly: bytes it cannot decode are an error
  naming the line.
- Delimiter: among `,` `;` tab `|`, the one that splits the header into more than one
  field and gives the most sample rows the header's field count (so `1,5` decimal commas
  in a `;` file do not fool it).
- `_row` is the record's ordinal with the header as 1 (the spreadsheet row when no field
  holds a line break; blank lines are skipped and not counted). Excel keeps its real row
  numbers; Parquet rows are numbered as if a header were row 1.
- One path for every CSV, a file on disk or an upload's bytes: one pass in slices gives
  the hash, the size and whether the file is plain UTF-8 (valid, no BOM, not binary);
  such a file (the usual export) is parsed by Arrow in place, anything else is decoded
  whole by the rules above and parsed from its UTF-8 re-encoding.
- Excel dates become `YYYY-MM-DD` when the cell shows a date only (midnight, no time in the
  number format) and `YYYY-MM-DD HH:MM:SS` otherwise; whole numbers lose the `.0`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import hashlib
import io
import os
import typing
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac
import pyarrow.csv as pacsv

from etl.records import ROW, RawTable, ReadError
from etl.schema import RECORD_KINDS

CSV_EXTENSIONS = frozenset({".csv", ".tsv", ".txt"})
EXCEL_EXTENSIONS = frozenset({".xlsx", ".xlsm"})
PARQUET_EXTENSIONS = frozenset({".parquet", ".pq"})
# Every file type read_table reads, without the dot (what an upload widget accepts).
READABLE_TYPES: tuple[str, ...] = tuple(
    sorted(ext[1:] for ext in CSV_EXTENSIONS | EXCEL_EXTENSIONS | PARQUET_EXTENSIONS)
)
DELIMITERS = (",", ";", "\t", "|")

# Missing values travel as pd.NA in an Arrow-backed string column (compact, fast).
STRING_DTYPE = pd.StringDtype("pyarrow")

_SAMPLE_CHARS = 64 * 1024
_SAMPLE_ROWS = 200
_HEAD_BYTES = 4 * _SAMPLE_CHARS + 4
# Slices a file on disk is hashed and checked in, and the size of the blocks Arrow parses
# (smaller blocks: fewer bytes waiting in flight while the table is built; see
# docs/benchmarks.md).
_SCAN_BYTES = 16 << 20
_BLOCK_BYTES = 2 << 20

# Signatures of binary formats people rename to .csv by mistake, to say what the file is.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook is one: save it with that extension)"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.xls): save it as .xlsx or CSV"),
    (b"PAR1", "a Parquet file: give it the .parquet extension"),
)


# Excel's own sheet size: row numbers beyond it are not a real workbook.
EXCEL_MAX_ROWS = 1_048_576


class ReadLimitError(ReadError):
    """A file is larger than an upload may be (bytes, uncompressed bytes, rows, columns);
    refused while reading, before the cost is paid."""


@dataclass(frozen=True)
class ReadLimits:
    """Bounds an untrusted file is read within; None: no bound on that measure.

    Checked *while* reading, so a hostile file costs no more than the bound: the file's
    bytes; for .xlsx the zip members' declared uncompressed sizes and the sheet's declared
    dimension (before openpyxl parses anything) and then the rows and columns as they are
    streamed; for CSV the records, counted block by block before the table is built; for
    Parquet the row count and uncompressed size its footer declares. `what` names the
    setting that raises a bound, for the message.
    """

    max_bytes: int | None = None
    max_rows: int | None = None
    max_columns: int | None = None
    max_uncompressed_bytes: int | None = None
    what: str = "the upload limits"


def kind_from_name(path: str | os.PathLike[str] | None) -> str | None:
    """The record kind a canonical file name stands for (`events.xlsx` → `events`).

    Lets a directory load without a mapping: the file's stem, case-insensitive, must be
    a record kind's name exactly; anything else needs a mapping or an explicit kind.
    """
    if path is None:
        return None
    stem = PurePath(os.fspath(path)).stem.strip().lower()
    return stem if stem in RECORD_KINDS else None


def read_table(
    source: str | os.PathLike[str] | typing.BinaryIO,
    *,
    name: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    limits: ReadLimits | None = None,
) -> RawTable:
    """Read a CSV, Excel or Parquet file into a `RawTable` of strings with a `_row` column.

    `source` is a path or a binary file object (a Streamlit upload); `name` is the name
    shown in messages and the one whose extension picks the reader (defaults to the path or
    the object's `name`). `sheet` picks an Excel sheet by name or 0-based index;
    `encoding` and `delimiter` override CSV sniffing. `limits` bounds an untrusted file
    (uploads; see ReadLimits): ReadLimitError as soon as one is passed. Raises `ReadError`
    naming the file.
    """
    limits = limits or ReadLimits()
    display = _display_name(source, name)
    if _is_csv(display):
        digest, frame = _read_csv(
            source, display, encoding=encoding, delimiter=delimiter, limits=limits
        )
        return RawTable(path=display, sha256=digest, frame=frame)
    data, display = _bytes_and_name(source, name, limits.max_bytes, limits.what)
    digest = hashlib.sha256(data).hexdigest()
    ext = PurePath(display).suffix.lower()
    if ext in EXCEL_EXTENSIONS:
        frame, sheet_name = _read_excel(data, display, sheet, limits)
        return RawTable(path=display, sha256=digest, frame=frame, sheet=sheet_name)
    if ext in PARQUET_EXTENSIONS:
        frame = _read_parquet(data, display, limits)
        return RawTable(path=display, sha256=digest, frame=frame)
    if ext == ".xls":
        raise ReadError(f"{display}: old Excel .xls files are not supported; save it as .xlsx")
    known = ", ".join(sorted(CSV_EXTENSIONS | EXCEL_EXTENSIONS | PARQUET_EXTENSIONS))
    raise ReadError(f"{display}: unknown file type {ext or '(no extension)'!r}; expected {known}")


def _is_csv(display: str) -> bool:
    return PurePath(display).suffix.lower() in CSV_EXTENSIONS


def _display_name(source: str | os.PathLike[str] | typing.BinaryIO, name: str | None) -> str:
    """The name messages show for a source: `name`, else the path or the object's name."""
    if name:
        return name
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return str(getattr(source, "name", None) or "<upload>")


@dataclass(frozen=True)
class _Scan:
    """What one pass over a file's bytes says: its hash, size and first bytes, and
    whether it is plain UTF-8 (valid, no BOM, not binary), which Arrow parses in place."""

    sha256: str
    size: int
    head: bytes
    plain_utf8: bool


def _scanned(
    slices: typing.Iterable[bytes | memoryview], display: str, limits: ReadLimits
) -> _Scan:
    """One pass over the bytes in slices: hash, size (refused beyond `limits.max_bytes`),
    head, and UTF-8 validity by Arrow's validator, a character cut at a slice end carried
    to the next. The file's bytes are never all in memory for this."""
    digest = hashlib.sha256()
    head = b""
    carry = b""
    size = 0
    valid = True
    for chunk in slices:
        size += len(chunk)
        if limits.max_bytes is not None and size > limits.max_bytes:
            raise _too_large(display, limits.max_bytes, limits.what)
        if len(head) <= _HEAD_BYTES:
            head += bytes(chunk[: _HEAD_BYTES + 1 - len(head)])  # longer than the head
        digest.update(chunk)
        if valid:
            whole, carry = _complete_utf8(carry + bytes(chunk))
            valid = _is_utf8(whole)
    boms = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    plain = (
        valid and not carry and bool(head) and not head.startswith(boms) and not _binary_kind(head)
    )
    return _Scan(digest.hexdigest(), size, head, plain)


def _slices_of_file(path: Path, display: str) -> typing.Iterator[bytes]:
    """The file's bytes in `_SCAN_BYTES` slices, a missing or unreadable file a ReadError."""
    with _file_errors(display), path.open("rb") as stream:
        while chunk := stream.read(_SCAN_BYTES):
            yield chunk


def _slices_of_bytes(data: bytes) -> typing.Iterator[memoryview]:
    """Bytes already in memory in the same slices as a file, as views (no copy)."""
    view = memoryview(data)
    for start in range(0, len(data), _SCAN_BYTES):
        yield view[start : start + _SCAN_BYTES]


@contextlib.contextmanager
def _file_errors(display: str) -> typing.Iterator[None]:
    """OS errors of reading a path as the ReadError a person can act on."""
    try:
        yield
    except FileNotFoundError:
        raise ReadError(f"{display}: file not found") from None
    except IsADirectoryError:
        raise ReadError(f"{display}: is a directory, not a file") from None
    except OSError as exc:
        raise ReadError(f"{display}: cannot be read ({exc.strerror or exc})") from None


def _complete_utf8(data: bytes) -> tuple[bytes, bytes]:
    """`data` split before a UTF-8 character its last bytes only begin (the next slice
    holds the rest), so each part can be validated on its own."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:  # ASCII: nothing is cut
            return data, b""
        if byte >= 0xC0:  # a lead byte: how long its character is
            length = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return (data[:-back], data[-back:]) if length > back else (data, b"")
    return data, b""  # four continuation bytes: invalid, and the validator will say so


def _bytes_and_name(
    source: str | os.PathLike[str] | typing.BinaryIO,
    name: str | None,
    max_bytes: int | None = None,
    what: str = "",
) -> tuple[bytes, str]:
    """All bytes of the source and the name to show for it; with `max_bytes`, a source
    longer than that is refused after reading one byte more than it, never all of it."""
    if isinstance(source, (str, os.PathLike)):
        display = name or os.fspath(source)
        with _file_errors(display):
            if max_bytes is not None:
                with Path(source).open("rb") as stream:
                    return _bounded(stream.read(max_bytes + 1), display, max_bytes, what), display
            return Path(source).read_bytes(), display
    display = name or str(getattr(source, "name", None) or "<upload>")
    try:
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read() if max_bytes is None else source.read(max_bytes + 1)
    except OSError as exc:
        raise ReadError(f"{display}: cannot be read ({exc})") from None
    if isinstance(data, str):
        raise ReadError(f"{display}: open the file in binary mode ('rb') to read it")
    return _bounded(bytes(data), display, max_bytes, what), display


def _bounded(data: bytes, display: str, max_bytes: int | None, what: str) -> bytes:
    if max_bytes is not None and len(data) > max_bytes:
        raise _too_large(display, max_bytes, what)
    return data


def _too_large(display: str, max_bytes: int, what: str) -> ReadLimitError:
    return ReadLimitError(
        f"{display}: larger than the {max_bytes:,} bytes an upload may have ({what})"
    )


def _too_many_rows(display: str, limits: ReadLimits, rows: int | None = None) -> ReadLimitError:
    """The refusal of a file with more rows than an upload may hold (`rows`: the count,
    when the file declares it; otherwise the read stopped at the first row too many)."""
    counted = (
        f"{rows:,} rows, more than the {limits.max_rows:,}"
        if rows is not None
        else (f"more than the {limits.max_rows:,} rows")
    )
    return ReadLimitError(
        f"{display}: {counted} an upload may hold ({limits.what}); split the file or load "
        "it with `python -m etl load`"
    )


# --- CSV ---------------------------------------------------------------------------


def _read_csv(
    source: str | os.PathLike[str] | typing.BinaryIO,
    display: str,
    *,
    encoding: str | None,
    delimiter: str | None,
    limits: ReadLimits,
) -> tuple[str, pd.DataFrame]:
    """(sha256, the CSV as strings): scanned once in slices, then parsed column-wise by
    Arrow.

    Plain UTF-8 (the usual export) is parsed in place, from the file on disk or from the
    bytes in memory, so the bytes are never copied next to the table Arrow builds. Any
    other file (a BOM, UTF-16, Windows-1252, a forced encoding, blank text) is decoded
    whole by `_decoded` and parsed from the UTF-8 re-encoding.
    """
    data: bytes | None = None
    path: Path | None = None
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        scan = _scanned(_slices_of_file(path, display), display, limits)

        def in_place() -> pa.NativeFile:
            return pa.OSFile(os.fspath(source))

    else:
        data, _ = _bytes_and_name(source, display, limits.max_bytes, limits.what)
        scan = _scanned(_slices_of_bytes(data), display, limits)
        whole = data

        def in_place() -> pa.NativeFile:
            return pa.BufferReader(whole)

    if scan.size == 0:
        raise ReadError(f"{display}: the file is empty (0 bytes)")
    if encoding is None and scan.plain_utf8:
        text = _utf8_head(scan.head)
        if text.strip():  # a blank head: the whole-file rules below say what it is
            return scan.sha256, _parsed_csv(
                text, in_place, display, delimiter=delimiter, limits=limits
            )
    if data is None and path is not None:
        with _file_errors(display):
            data = path.read_bytes()
    assert data is not None  # read above: a path or the bytes of a file object
    text, utf8 = _decoded(data, display, encoding)
    if not text.strip() and not (len(text) < len(utf8) and utf8.decode("utf-8").strip()):
        raise ReadError(f"{display}: the file holds only whitespace, no header and no rows")
    frame = _parsed_csv(
        text, lambda: pa.BufferReader(utf8), display, delimiter=delimiter, limits=limits
    )
    return scan.sha256, frame


def _parsed_csv(
    text: str,
    utf8_input: typing.Callable[[], pa.NativeFile],
    display: str,
    *,
    delimiter: str | None,
    limits: ReadLimits | None = None,
) -> pd.DataFrame:
    """The CSV whose head is `text` and whose UTF-8 bytes `utf8_input()` opens, as strings.

    The input is a buffer over bytes in memory or a file read from disk; either way Arrow
    reads it in place (no second copy of the bytes).
    """
    sample = _sample(text)
    if delimiter is None:
        delimiter = _sniffed_delimiter(sample)
    elif len(delimiter) != 1:
        raise ReadError(f"{display}: the delimiter must be one character, not {delimiter!r}")
    try:
        # newline="": the csv module does its own line endings (a lone CR ends a line too)
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=False)
        header = next(reader, None)
    except csv.Error as exc:
        raise ReadError(f"{display}: row 1 (the column names) cannot be read: {exc}") from exc
    if not header:
        raise ReadError(f"{display}: the first line is empty; row 1 must hold the column names")
    width = len(header)
    columns = [f"f{i}" for i in range(width)]
    short_rows: list[tuple[int, str]] = []
    long_rows: list[tuple[int, int, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        # Arrow numbers records with the header as 1: exactly our `_row`.
        if row.actual_columns < width:
            short_rows.append((row.number, row.text))
        else:
            long_rows.append((row.number, row.actual_columns, row.text))
        return "skip"

    def parse(threads: bool, handler: typing.Callable[[pacsv.InvalidRow], str]) -> pa.Table:
        with utf8_input() as source:
            return pacsv.read_csv(
                source,
                read_options=pacsv.ReadOptions(
                    use_threads=threads, autogenerate_column_names=True, block_size=_BLOCK_BYTES
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, invalid_row_handler=handler
                ),
                convert_options=pacsv.ConvertOptions(
                    # large_string is what pandas' Arrow-backed text holds: the frame then
                    # shares Arrow's buffers instead of a cast copy of every column.
                    column_types=dict.fromkeys(columns, pa.large_string()),
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    null_values=[""],
                ),
            )

    invalid: list[bool] = []

    def note_invalid(_row: pacsv.InvalidRow) -> str:
        invalid.append(True)
        return "skip"

    if limits is not None and limits.max_rows is not None:
        _check_csv_records(utf8_input, delimiter, columns, display, limits)
    try:
        # Parsed on every core; only when a row has the wrong number of fields is the file
        # parsed again on one thread, the only way Arrow tells which record it was.
        table = parse(True, note_invalid)
        if invalid:
            table = parse(False, on_invalid)
    except pa.ArrowInvalid as exc:
        raise ReadError(f"{display}: not a readable CSV file ({_short(str(exc))})") from None

    header_values = table.slice(0, 1).to_pylist()[0] if table.num_rows else {}
    body = table.slice(1)
    frame = body.to_pandas(types_mapper={pa.large_string(): STRING_DTYPE}.get)
    record_numbers = _record_numbers(body.num_rows, short_rows, long_rows)
    del table, body

    truly_long = []
    for number, actual, line in long_rows:
        fields = _split_line(line, delimiter)
        if any(f.strip() for f in fields[width:]):
            truly_long.append((number, actual))
        else:  # trailing empty fields carry nothing: keep the row
            short_rows.append((number, delimiter.join(_quote(f, delimiter) for f in fields)))
    if truly_long:
        number, actual = truly_long[0]
        more = f" (and {len(truly_long) - 1} more rows like it)" if len(truly_long) > 1 else ""
        raise ReadError(
            f"{display}, row {number}: {actual} fields but the header has {width}; "
            f"a delimiter inside a value must be quoted{more}"
        )
    frame.insert(len(frame.columns), ROW, record_numbers)
    if short_rows:
        frame = _with_padded_rows(frame, short_rows, columns, delimiter)
    names = [header_values.get(c) for c in columns]
    return _named(frame, columns, names, display)


def _check_csv_records(
    utf8_input: typing.Callable[[], pa.NativeFile],
    delimiter: str,
    columns: list[str],
    display: str,
    limits: ReadLimits,
) -> None:
    """Refuse a CSV with more records than `limits.max_rows` (plus its header) before the
    table is built: line ends are counted first (cheap, an upper bound); only a file with
    too many of them is counted exactly, block by block, stopping at the bound, so
    neither count holds more than one block in memory."""
    bound = typing.cast(int, limits.max_rows) + 1
    lines = 0
    with utf8_input() as source:
        while chunk := source.read(_BLOCK_BYTES):
            # LF, CRLF and a lone CR each end a line (a CRLF split between two blocks
            # counts twice: still an upper bound)
            lines += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
    if lines <= bound:
        return
    records = 0

    def count_invalid(_row: pacsv.InvalidRow) -> str:
        nonlocal records
        records += 1  # a record of the wrong width is a record too
        return "skip"

    with utf8_input() as source:
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(
                use_threads=False, autogenerate_column_names=True, block_size=_BLOCK_BYTES
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=count_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(columns, pa.large_string())
            ),
        )
        try:
            for batch in reader:
                records += batch.num_rows
                if records > bound:
                    raise _too_many_rows(display, limits)
        except pa.ArrowInvalid as exc:
            raise ReadError(f"{display}: not a readable CSV file ({_short(str(exc))})") from None


def _decoded(data: bytes, display: str, encoding: str | None) -> tuple[str, bytes]:
    """The file's text (or, for a large valid UTF-8 file, its head) and the same text as
    UTF-8 bytes (what Arrow reads).

    Valid UTF-8, the usual case, is checked in bounded slices and handed to Arrow as is:
    a whole-file `str` would cost the file's size again (up to four times for text with
    characters beyond Latin-1) at the moment memory peaks. Callers sniff the head only;
    the text is shorter than the bytes exactly when it is only the head.
    """
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ReadError(f"{display}: unknown encoding {encoding!r}") from None
        if codecs.lookup(encoding).name == "utf-8" and data.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ReadError(
                f"{display}, line {line}: byte {data[exc.start : exc.start + 1]!r} is not "
                f"valid {encoding} (byte offset {exc.start}); save the file as UTF-8 or "
                "give the right encoding"
            ) from None
        return text, text.encode("utf-8")
    if data.startswith(codecs.BOM_UTF8):
        raw = data[len(codecs.BOM_UTF8) :]
        try:
            return raw.decode("utf-8"), raw
        except UnicodeDecodeError:
            pass  # a BOM followed by non-UTF-8 bytes: fall through to the byte rules
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ReadError(f"{display}: starts like UTF-16 text but is not valid UTF-16") from None
        return text, text.encode("utf-8")
    what = _binary_kind(data)
    if what:
        raise ReadError(f"{display}: this is not a text (CSV) file: it looks like {what}")
    if _is_utf8(data):
        return _utf8_head(data), data
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text, text.encode("utf-8")


def _is_utf8(data: bytes) -> bool:
    """Whether the bytes are valid UTF-8: Arrow's validator over the bytes in place.

    The bytes seen as one Arrow string value, checked without a copy and faster than
    Python's decoder; the same rules as that strict decoder (no surrogates, no overlong
    forms, nothing above U+10FFFF), pinned by tests/etl/test_read.py.
    """
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        whole.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _utf8_head(data: bytes) -> str:
    """The whole text of a small file; of a large one, enough for `_sample` (whole lines).

    A UTF-8 character is at most 4 bytes, so the head holds at least `_SAMPLE_CHARS`
    characters whenever the file does; a character cut at the end is dropped.
    """
    if len(data) <= _HEAD_BYTES:
        return data.decode("utf-8")
    return data[:_HEAD_BYTES].decode("utf-8", errors="ignore")


def _binary_kind(data: bytes) -> str | None:
    """What a binary file is, when its first bytes say it is not text."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    if b"\x00" in data[:65536]:
        return "binary data (it contains NUL bytes)"
    return None


def _sample(text: str) -> str:
    """The first lines of the text, cut at a line end, to sniff the layout from."""
    if len(text) <= _SAMPLE_CHARS:
        return text
    cut = text.rfind("\n", 0, _SAMPLE_CHARS)
    return text[: cut if cut > 0 else _SAMPLE_CHARS]


def _sniffed_delimiter(sample: str) -> str:
    """The delimiter that splits the header into fields and agrees with the most rows.

    Counting fields per parsed row (quotes respected) rather than characters per line is
    what tells `;` files with `1,5` decimal commas from comma files.
    """
    best: tuple[tuple[bool, float, int, int], str] | None = None
    for preference, candidate in enumerate(DELIMITERS):
        rows = [r for r in _first_rows(sample, candidate) if r and any(f.strip() for f in r)]
        if not rows:
            continue
        width = len(rows[0])
        data_rows = rows[1:]
        agree = sum(len(r) == width for r in data_rows) / len(data_rows) if data_rows else 1.0
        score = (width > 1, agree, width, -preference)
        if best is None or score > best[0]:
            best = (score, candidate)
    return best[1] if best else ","


def _first_rows(sample: str, delimiter: str) -> list[list[str]]:
    """Up to `_SAMPLE_ROWS` parsed rows of the sample (the last, maybe cut, row dropped)."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, strict=False)
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > _SAMPLE_ROWS:
                break
    except csv.Error:
        pass
    return rows[:_SAMPLE_ROWS] if len(rows) > 1 else rows


def _split_line(line: str, delimiter: str) -> list[str]:
    """The fields of one raw record, quotes respected."""
    return next(csv.reader(io.StringIO(line), delimiter=delimiter, strict=False), [])


def _quote(value: str, delimiter: str) -> str:
    """A field written back so that `_split_line` reads it unchanged."""
    if any(ch in value for ch in (delimiter, '"', "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


def _record_numbers(
    kept: int, short_rows: list[tuple[int, str]], long_rows: list[tuple[int, int, str]]
) -> np.ndarray:
    """`_row` of each row Arrow kept: all record numbers minus the ones it skipped."""
    skipped = {n for n, _ in short_rows} | {n for n, _, _ in long_rows}
    total = kept + len(skipped)
    numbers = np.arange(2, total + 2, dtype="int64")
    if skipped:
        numbers = numbers[~np.isin(numbers, np.fromiter(skipped, dtype="int64"))]
    return numbers


def _with_padded_rows(
    frame: pd.DataFrame, short_rows: list[tuple[int, str]], columns: list[str], delimiter: str
) -> pd.DataFrame:
    """Rows with fewer fields than the header put back, missing values at the end.

    Only malformed rows go through Python here; the bulk stays column-wise.
    """
    records = []
    for number, line in short_rows:
        fields = _split_line(line, delimiter)[: len(columns)]
        values: list[str | None] = [f if f != "" else None for f in fields]
        values += [None] * (len(columns) - len(values))
        records.append([*values, number])
    extra = pd.DataFrame(records, columns=[*columns, ROW])
    extra[columns] = extra[columns].astype(STRING_DTYPE)
    extra[ROW] = extra[ROW].astype("int64")
    both = pd.concat([frame, extra], ignore_index=True)
    return both.sort_values(ROW, kind="stable").reset_index(drop=True)


def _named(
    frame: pd.DataFrame, columns: list[str], names: list[object], display: str
) -> pd.DataFrame:
    """Header names applied: stripped of whitespace and BOM, unnamed empty columns dropped.

    A column without a name that holds values is kept as `column_N` (1-based), so nothing
    in the file is lost and a mapping can still refer to it.
    """
    rename: dict[str, str] = {}
    seen: dict[str, int] = {}
    drop: list[str] = []
    for position, (column, raw_name) in enumerate(zip(columns, names, strict=True), start=1):
        clean = str(raw_name).replace("\ufeff", "").strip() if raw_name is not None else ""
        if not clean:
            if frame[column].isna().all():
                drop.append(column)
                continue
            clean = f"column_{position}"
        if clean == ROW:
            raise ReadError(f"{display}: column {position} is named {ROW!r}, a reserved name")
        if clean in seen:
            raise ReadError(
                f"{display}, row 1: column name {clean!r} appears twice "
                f"(columns {seen[clean]} and {position})"
            )
        seen[clean] = position
        rename[column] = clean
    return frame.drop(columns=drop).rename(columns=rename)


def _short(message: str, limit: int = 200) -> str:
    """A library message cut to one readable line."""
    line = " ".join(message.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# --- Excel -------------------------------------------------------------------------


def _read_excel(
    data: bytes, display: str, sheet: str | int | None, limits: ReadLimits | None = None
) -> tuple[pd.DataFrame, str]:
    """One sheet of an .xlsx as strings, `_row` being the sheet's own row number.

    openpyxl hands cells over one row at a time. The sheet's declared dimension is never
    trusted to size rows (a 1.6 KB file declaring 1,048,576 × 16,384 cells had openpyxl
    pad 17 billion empty cells); rows beyond Excel's 1,048,576 end the read. With
    `limits`, the zip's declared sizes are checked before openpyxl opens it (and Python's
    zip reader never inflates a member past its declared size), the declared dimension
    before a row is parsed, and rows and columns as they stream.
    """
    import openpyxl  # imported here: only Excel files pay for it

    if not data:
        raise ReadError(f"{display}: the file is empty (0 bytes)")
    if limits is not None:
        _check_zip_sizes(data, display, limits)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise ReadError(
            f"{display}: not a readable .xlsx workbook (truncated or corrupt: {_short(str(exc))})"
        ) from None
    except Exception as exc:  # openpyxl raises many kinds on damaged XML
        raise ReadError(
            f"{display}: not a readable .xlsx workbook ({type(exc).__name__}: {_short(str(exc))})"
        ) from None
    try:
        names = book.sheetnames
        if sheet is None:
            chosen = names[0]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise ReadError(
                    f"{display}: no sheet number {sheet} (0-based); sheets: {', '.join(names)}"
                )
            chosen = names[sheet]
        elif sheet in names:
            chosen = sheet
        else:
            raise ReadError(f"{display}: no sheet named {sheet!r}; sheets: {', '.join(names)}")
        worksheet = book[chosen]
        if limits is not None:
            _check_dimension(worksheet, display, chosen, limits)
        worksheet.reset_dimensions()  # rows as stored, not padded to a declared size
        try:
            rows = list(_excel_rows(worksheet, display, chosen, limits))
        except ReadError:
            raise
        except Exception as exc:
            raise ReadError(
                f"{display}: sheet {chosen!r} cannot be read (truncated or corrupt: "
                f"{type(exc).__name__}: {_short(str(exc))})"
            ) from None
    finally:
        book.close()
    if not rows:
        raise ReadError(f"{display}: sheet {chosen!r} is empty; row 1 must hold the column names")
    _, header = rows[0]  # the first row holding anything is the header
    width = len(header)
    while width and header[width - 1] is None:
        width -= 1
    records = []
    for number, values in rows[1:]:
        if any(v is not None for v in values[width:]):
            raise ReadError(
                f"{display}, sheet {chosen!r}, row {number}: a value beyond the last "
                f"named column ({width}); the header has {width} columns"
            )
        padded = list(values[:width]) + [None] * (width - len(values))
        records.append([*padded, number])
    columns = [f"f{i}" for i in range(width)]
    frame = pd.DataFrame(records, columns=[*columns, ROW])
    for column in columns:
        frame[column] = frame[column].astype(STRING_DTYPE)
    frame[ROW] = frame[ROW].astype("int64")
    return _named(frame, columns, list(header[:width]), display), chosen


def _check_zip_sizes(data: bytes, display: str, limits: ReadLimits) -> None:
    """Refuse an .xlsx whose members declare more uncompressed bytes than the limit (a
    zip bomb), before anything is inflated: the declared sizes are all a zip reader
    will produce (Python's stops at a member's declared size and checks its CRC)."""
    if limits.max_uncompressed_bytes is None:
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return  # openpyxl's own open reports the damage
    total = sum(member.file_size for member in members)
    if total > limits.max_uncompressed_bytes:
        biggest = max(members, key=lambda m: m.file_size)
        raise ReadLimitError(
            f"{display}: unpacks to {total:,} bytes ({biggest.filename}: "
            f"{biggest.file_size:,}), more than the {limits.max_uncompressed_bytes:,} an "
            f"upload may unpack to ({limits.what}); a {len(data):,}-byte workbook of that "
            "size is a zip bomb or needs `python -m etl load`"
        )


def _check_dimension(worksheet: typing.Any, display: str, sheet: str, limits: ReadLimits) -> None:
    """Refuse a sheet whose declared dimension (`<dimension ref="A1:XFD1048576"/>`, read
    before any row) exceeds the row or column limit."""
    rows, columns = worksheet.max_row, worksheet.max_column
    if rows is None or columns is None:
        return
    too_many_rows = limits.max_rows is not None and rows > limits.max_rows + 1
    too_wide = limits.max_columns is not None and columns > limits.max_columns
    if too_many_rows or too_wide:
        raise ReadLimitError(
            f"{display}, sheet {sheet!r}: declares {rows:,} rows × {columns:,} columns, "
            f"more than the {limits.max_rows or 0:,} rows × {limits.max_columns or 0:,} "
            f"columns an upload may hold ({limits.what}); save only the cells in use "
            "(or load it with `python -m etl load`)"
        )


def _excel_rows(
    worksheet: typing.Any, display: str, sheet: str, limits: ReadLimits | None = None
) -> typing.Iterator[tuple[int, list[str | None]]]:
    """(row number, cell texts) for every row that holds at least one value, in order.

    Rows come as stored (the dimension was reset), blank rows between them as empty
    tuples, so the count of rows seen is the sheet's row number: beyond Excel's last row
    the file is not a workbook. With `limits`, a row wider than the column limit or one
    row more than the row limit (after the header) ends the read at once.
    """
    max_rows = limits.max_rows if limits is not None else None
    max_columns = limits.max_columns if limits is not None else None
    number = 0
    filled = 0
    for cells in worksheet.iter_rows():
        number += 1
        if number > EXCEL_MAX_ROWS:
            raise ReadError(
                f"{display}, sheet {sheet!r}: rows beyond Excel's last row "
                f"({EXCEL_MAX_ROWS:,}); the file is damaged"
            )
        if not cells:
            continue
        if limits is not None and max_columns is not None and len(cells) > max_columns:
            raise ReadLimitError(
                f"{display}, sheet {sheet!r}, row {number}: a cell in column {len(cells):,}, "
                f"beyond the {max_columns:,} columns an upload may have ({limits.what})"
            )
        values = [_excel_text(cell) for cell in cells]
        if any(v is not None for v in values):
            filled += 1
            if limits is not None and max_rows is not None and filled > max_rows + 1:
                raise _too_many_rows(f"{display}, sheet {sheet!r}", limits)
            row = next((c.row for c in cells if getattr(c, "row", None)), None)
            yield int(row if row is not None else number), values


def _excel_text(cell: typing.Any) -> str | None:
    """One cell as the text a person sees, dates in ISO form."""
    value = getattr(cell, "value", None)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        shows_time = _format_shows_time(getattr(cell, "number_format", "") or "")
        if value.time() == dt.time(0) and not shows_time:
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds" if not value.microsecond else "auto")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None


def _format_shows_time(number_format: str) -> bool:
    """Whether an Excel number format displays a time of day (hours or seconds)."""
    unquoted = "".join(part for i, part in enumerate(number_format.split('"')) if i % 2 == 0)
    return any(ch in unquoted.lower() for ch in ("h", "s"))


# --- Parquet -----------------------------------------------------------------------


def _read_parquet(data: bytes, display: str, limits: ReadLimits | None = None) -> pd.DataFrame:
    """A Parquet file with every column turned into text the way Excel cells are.

    With `limits`, the row count and uncompressed size the footer declares are checked
    before a column is read (a small file can declare a huge, highly compressed table).
    """
    import pyarrow.parquet as pq

    if not data:
        raise ReadError(f"{display}: the file is empty (0 bytes)")
    if limits is not None:
        _check_parquet_footer(data, display, limits)
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise ReadError(f"{display}: not a readable Parquet file ({_short(str(exc))})") from None
    arrays = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        try:
            arrays[name] = _arrow_text(column)
        except (pa.ArrowException, TypeError) as exc:
            raise ReadError(
                f"{display}, column {name!r}: type {column.type} cannot be read as text "
                f"({_short(str(exc))})"
            ) from None
    text = pa.table(arrays) if arrays else pa.table({})
    frame = text.to_pandas(types_mapper={pa.string(): STRING_DTYPE}.get)
    frame[ROW] = np.arange(2, len(frame) + 2, dtype="int64")
    names = list(frame.columns[:-1])
    return _named(frame, names, names, display)


def _check_parquet_footer(data: bytes, display: str, limits: ReadLimits) -> None:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(pa.BufferReader(data)).metadata
    except (pa.ArrowException, OSError):
        return  # the full read reports the damage
    if limits.max_rows is not None and meta.num_rows > limits.max_rows:
        raise _too_many_rows(display, limits, meta.num_rows)
    if limits.max_columns is not None and meta.num_columns > limits.max_columns:
        raise ReadLimitError(
            f"{display}: {meta.num_columns:,} columns, more than the {limits.max_columns:,} "
            f"an upload may have ({limits.what})"
        )
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if limits.max_uncompressed_bytes is not None and unpacked > limits.max_uncompressed_bytes:
        raise ReadLimitError(
            f"{display}: unpacks to {unpacked:,} bytes, more than the "
            f"{limits.max_uncompressed_bytes:,} an upload may unpack to ({limits.what})"
        )


def _arrow_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A typed Arrow column as strings: ISO dates, no `.0` on whole numbers."""
    type_ = column.type
    if pa.types.is_dictionary(type_):
        column = column.cast(type_.value_type)
        type_ = column.type
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        text = column.cast(pa.string())
        return pac.if_else(pac.equal(text, ""), pa.scalar(None, pa.string()), text)
    if pa.types.is_timestamp(type_):
        utc = type_.tz is not None
        if utc:
            column = column.cast(pa.timestamp(type_.unit, tz="UTC"))
        body = pac.strftime(column, format="%Y-%m-%d %H:%M:%S")
        body = pac.replace_substring_regex(body, pattern=r"\.0+$", replacement="")
        return pac.binary_join_element_wise(body, "+00:00", "") if utc else body
    if pa.types.is_date(type_):
        return column.cast(pa.date32()).cast(pa.string())
    if pa.types.is_boolean(type_):
        return pac.if_else(column, "true", "false")
    return column.cast(pa.string())
