"""etl.read: encodings, delimiters, quoting, Excel, Parquet and every unreadable file.

Fixtures are written into tmp_path by each test; the literal bad-file corpus in
tests/etl/files/read/ holds only what must be exact bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.read import READABLE_TYPES, kind_from_name, read_table
from etl.records import ROW, ReadError

CORPUS = Path(__file__).parent / "files" / "read"


def rows_of(frame: pd.DataFrame) -> list[list[object]]:
    """Frame values with missing as None, for exact comparisons."""
    return [[None if pd.isna(v) else v for v in row] for row in frame.itertuples(index=False)]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- encodings ---------------------------------------------------------------------

SPANISH = "id,cliente,importe\n1,Peña Café,€ 12\n2,Ibáñez,3\n"


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(SPANISH.encode("utf-8"), id="utf-8"),
        pytest.param(b"\xef\xbb\xbf" + SPANISH.encode("utf-8"), id="utf-8-bom"),
        pytest.param(SPANISH.encode("cp1252"), id="cp1252"),
        pytest.param(b"\xff\xfe" + SPANISH.encode("utf-16-le"), id="utf-16-bom"),
    ],
)
def test_each_encoding_reads_the_same_text(tmp_path: Path, encoded: bytes) -> None:
    table = read_table(write(tmp_path, "c.csv", encoded))
    assert list(table.frame.columns) == ["id", "cliente", "importe", ROW]
    assert rows_of(table.frame) == [["1", "Peña Café", "€ 12", 2], ["2", "Ibáñez", "3", 3]]


def test_latin1_file_with_bytes_undefined_in_cp1252_still_reads(tmp_path: Path) -> None:
    # 0x81 is undefined in Windows-1252; Latin-1 maps it to U+0081. Nothing is lost.
    table = read_table(write(tmp_path, "l.csv", b"a,b\nx\x81,\xe9\n"))
    assert rows_of(table.frame) == [["x\x81", "é", 2]]


def test_forced_encoding_that_does_not_fit_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "forced.csv", "a,b\n1,2\n3,é\n".encode("cp1252"))
    with pytest.raises(ReadError) as info:
        read_table(path, encoding="utf-8")
    assert str(path) in str(info.value)
    assert "line 3" in str(info.value)


def test_forced_encoding_is_used(tmp_path: Path) -> None:
    # These cp1252 bytes are valid UTF-8 by accident (é€€ = E9 80 80): only forcing helps.
    path = write(tmp_path, "f.csv", "a,b\n1,é€€\n".encode("cp1252"))
    assert rows_of(read_table(path).frame) == [["1", "退", 2]]
    assert rows_of(read_table(path, encoding="cp1252").frame) == [["1", "é€€", 2]]


def test_unknown_forced_encoding_is_a_read_error(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", b"a\n1\n")
    with pytest.raises(ReadError, match="unknown encoding"):
        read_table(path, encoding="klingon")


# --- delimiters and quoting --------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = delimiter.join(["id", "name", "n"]) + "\n" + delimiter.join(["1", "a b", "7"]) + "\n"
    table = read_table(write(tmp_path, "d.csv", text.encode()))
    assert rows_of(table.frame) == [["1", "a b", "7", 2]]


def test_european_semicolon_file_with_decimal_commas(tmp_path: Path) -> None:
    # Comma-counting would see 2 commas per row; field counting sees 3 fields with ';'.
    text = "id;importe;fecha\n1;1.234,50;05/03/2024\n2;0,75;06/03/2024\n3;12;07/03/2024\n"
    table = read_table(write(tmp_path, "eu.csv", text.encode()))
    assert list(table.frame.columns) == ["id", "importe", "fecha", ROW]
    assert rows_of(table.frame) == [
        ["1", "1.234,50", "05/03/2024", 2],
        ["2", "0,75", "06/03/2024", 3],
        ["3", "12", "07/03/2024", 4],
    ]


def test_quoted_delimiter_quote_and_newline_inside_fields(tmp_path: Path) -> None:
    text = 'id,comment,n\n1,"a, b",2\n2,"say ""hi""",3\n3,"two\nlines",4\n4,x,5\n'
    table = read_table(write(tmp_path, "q.csv", text.encode()))
    # `_row` is the record ordinal: the record after the two-line field is row 5.
    assert rows_of(table.frame) == [
        ["1", "a, b", "2", 2],
        ["2", 'say "hi"', "3", 3],
        ["3", "two\nlines", "4", 4],
        ["4", "x", "5", 5],
    ]


def test_forced_delimiter(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", b"a;b,c\n1;2,3\n")
    assert list(read_table(path, delimiter=",").frame.columns) == ["a;b", "c", ROW]
    assert list(read_table(path, delimiter=";").frame.columns) == ["a", "b,c", ROW]


def test_header_names_stripped_empty_cells_missing_values_kept_verbatim(tmp_path: Path) -> None:
    text = '\ufeff  id ; name \n 1 ;\n2;""\n'
    table = read_table(write(tmp_path, "h.csv", text.encode()))
    assert list(table.frame.columns) == ["id", "name", ROW]
    # Values are not trimmed here: parse.py decides what spaces mean.
    assert rows_of(table.frame) == [[" 1 ", None, 2], ["2", None, 3]]
    assert table.frame["id"].dtype == pd.StringDtype("pyarrow")


def test_trailing_delimiter_on_every_line_adds_no_column(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "t.csv", b"a;b;\n1;2;\n3;4;\n"))
    assert rows_of(table.frame) == [["1", "2", 2], ["3", "4", 3]]


def test_unnamed_column_with_values_is_kept(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "u.csv", b"a,,c\n1,x,3\n"))
    assert list(table.frame.columns) == ["a", "column_2", "c", ROW]


def test_duplicate_column_names_are_a_read_error(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.csv", b"id,name,id\n1,2,3\n")
    with pytest.raises(ReadError, match=r"'id' appears twice \(columns 1 and 3\)") as info:
        read_table(path)
    assert str(path) in str(info.value)


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "b.csv", b"a,b\n1,2\n\n3,4\n\n"))
    assert rows_of(table.frame) == [["1", "2", 2], ["3", "4", 3]]


# --- ragged rows -------------------------------------------------------------------


def test_row_with_more_fields_names_the_row(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", b"a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n11,12,13,14\n")
    with pytest.raises(ReadError) as info:
        read_table(path)
    message = str(info.value)
    assert message.startswith(f"{path}, row 4: 4 fields but the header has 3")
    assert "1 more rows" in message


def test_row_with_fewer_fields_gets_missing_values(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "r.csv", b"a,b,c\n1,2,3\n4\n5,6\n7,8,9\n"))
    assert rows_of(table.frame) == [
        ["1", "2", "3", 2],
        ["4", None, None, 3],
        ["5", "6", None, 4],
        ["7", "8", "9", 5],
    ]


def test_extra_fields_that_are_empty_are_tolerated(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "r.csv", b"a,b\n1,2\n3,4,,\n5,6\n"))
    assert rows_of(table.frame) == [["1", "2", 2], ["3", "4", 3], ["5", "6", 4]]


# --- empty and unreadable files ----------------------------------------------------


def test_header_only_file_has_columns_and_no_rows(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "events.csv", b"commitment_id;stage;at\r\n"))
    assert list(table.frame.columns) == ["commitment_id", "stage", "at", ROW]
    assert len(table.frame) == 0


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("zero.csv", b"", "the file is empty (0 bytes)"),
        ("blank.csv", b"  \n\t\r\n ", "only whitespace"),
        ("bom_only.csv", b"\xef\xbb\xbf\n", "only whitespace"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks like a PNG image"),
        ("nul.csv", b"a,b\n1,\x002\n", "contains NUL bytes"),
        ("book.csv", b"PK\x03\x04\x14\x00", "zip archive"),
        ("old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1", ".xls"),
        ("data.json", b"{}", "unknown file type '.json'"),
        ("noext", b"a,b\n", "unknown file type '(no extension)'"),
        ("old.xls", b"\xd0\xcf\x11\xe0", "save it as .xlsx"),
        ("zero.xlsx", b"", "the file is empty (0 bytes)"),
        ("text.xlsx", b"a,b\n1,2\n", "not a readable .xlsx workbook"),
        ("zero.parquet", b"", "the file is empty (0 bytes)"),
        ("text.parquet", b"a,b\n1,2\n", "not a readable Parquet file"),
    ],
)
def test_unreadable_files_name_the_file(
    tmp_path: Path, name: str, data: bytes, expected: str
) -> None:
    path = write(tmp_path, name, data)
    with pytest.raises(ReadError) as info:
        read_table(path)
    assert str(info.value).startswith(str(path))
    assert expected in str(info.value)


def test_missing_file_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="file not found"):
        read_table(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("empty_0_bytes.csv", "the file is empty (0 bytes)"),
        ("whitespace_only.csv", "only whitespace"),
        ("binary_png.csv", "looks like a PNG image"),
        ("truncated.xlsx", "not a readable .xlsx workbook (truncated or corrupt"),
        ("ragged_row.csv", "row 3: 4 fields but the header has 3"),
    ],
)
def test_corpus_file_is_refused_with_its_reason(name: str, expected: str) -> None:
    with pytest.raises(ReadError) as info:
        read_table(CORPUS / name)
    assert str(CORPUS / name) in str(info.value)
    assert expected in str(info.value)


def test_corpus_header_only() -> None:
    table = read_table(CORPUS / "header_only.csv")
    assert list(table.frame.columns) == [
        "commitment_id",
        "process",
        "customer",
        "requested_at",
        "due_at",
        ROW,
    ]
    assert table.frame.empty


def test_corpus_cp1252_semicolon_crlf() -> None:
    table = read_table(CORPUS / "commitments_cp1252.csv")
    assert rows_of(table.frame) == [
        ["C-1", "Diseño", "Café Peña S.L.", "05/03/2024", "12/03/2024", 2],
        ["C-2", "Logística", "Importe 1.234,50 €", "06/03/2024 10:30", "13/03/2024", 3],
    ]


# --- file objects, names, hashes ---------------------------------------------------


def test_file_object_equals_path(tmp_path: Path) -> None:
    data = SPANISH.encode("cp1252")
    path = write(tmp_path, "commitments.csv", data)
    from_path = read_table(path)
    from_object = read_table(io.BytesIO(data), name="commitments.csv")
    pd.testing.assert_frame_equal(from_path.frame, from_object.frame)
    assert from_path.sha256 == from_object.sha256
    assert from_object.path == "commitments.csv"


def test_sha256_is_of_the_bytes(tmp_path: Path) -> None:
    # Computed independently: `printf 'a\n1\n' | sha256sum`.
    table = read_table(write(tmp_path, "s.csv", b"a\n1\n"))
    assert table.sha256 == "309b0e45a73d3fc5325e2b6ed0a01ef8b9cde6b05a5633c1f893f970d52bfddc"


def test_file_object_takes_its_name_attribute(tmp_path: Path) -> None:
    path = write(tmp_path, "events.csv", b"a\n1\n")
    with path.open("rb") as handle:
        assert read_table(handle).path == str(path)


def test_file_object_errors_name_the_upload() -> None:
    with pytest.raises(ReadError, match=r"^subida\.csv: the file is empty"):
        read_table(io.BytesIO(b""), name="subida.csv")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("commitments.csv", "commitments"),
        ("/x/y/Events.XLSX", "events"),
        (Path("data/satisfaction.parquet"), "satisfaction"),
        ("dependencies.csv", "dependencies"),
        ("commitments_2024.csv", None),
        ("commitment.csv", None),
        (None, None),
    ],
)
def test_kind_from_name(name: str | Path | None, kind: str | None) -> None:
    assert kind_from_name(name) == kind


# --- Excel -------------------------------------------------------------------------


def workbook_bytes() -> bytes:
    """Two sheets: typed cells on the first, a second one to pick by name or index."""
    book = openpyxl.Workbook()
    first = book.worksheets[0]
    first.title = "Compromisos"
    first.append(["id ", "fecha", "fecha_hora", "n", "x", None])
    first.append(["A", dt.datetime(2024, 3, 5), dt.datetime(2024, 3, 5, 10, 30), 3, 2.5])
    first.append(["B", dt.datetime(2024, 3, 6), dt.datetime(2024, 3, 6), 4.0, None])
    first.append([None, None, None, None, None])  # an empty row is not a record
    first.append(["C", dt.date(2024, 3, 7), None, True, "texto"])
    for row in (2, 3, 6):
        first.cell(row=row, column=2).number_format = "dd/mm/yyyy"
    for row in (2, 3):
        first.cell(row=row, column=3).number_format = "dd/mm/yyyy hh:mm"
    second = book.create_sheet("Eventos")
    second.append(["commitment_id", "stage"])
    second.append(["A", "Entrega"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_excel_first_sheet_cells_as_text(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "book.xlsx", workbook_bytes()))
    assert table.sheet == "Compromisos"
    assert list(table.frame.columns) == ["id", "fecha", "fecha_hora", "n", "x", ROW]
    # A date-formatted midnight is a date; a time-formatted one keeps its time. `_row`
    # is the sheet's own row number (row 5 was empty).
    assert rows_of(table.frame) == [
        ["A", "2024-03-05", "2024-03-05 10:30:00", "3", "2.5", 2],
        ["B", "2024-03-06", "2024-03-06 00:00:00", "4", None, 3],
        ["C", "2024-03-07", None, "true", "texto", 5],
    ]


@pytest.mark.parametrize("sheet", ["Eventos", 1])
def test_excel_named_or_numbered_sheet(tmp_path: Path, sheet: str | int) -> None:
    table = read_table(write(tmp_path, "book.xlsx", workbook_bytes()), sheet=sheet)
    assert table.sheet == "Eventos"
    assert rows_of(table.frame) == [["A", "Entrega", 2]]


@pytest.mark.parametrize(
    ("sheet", "expected"), [("Nada", "no sheet named 'Nada'"), (5, "no sheet number 5")]
)
def test_excel_unknown_sheet_lists_the_sheets(
    tmp_path: Path, sheet: str | int, expected: str
) -> None:
    path = write(tmp_path, "book.xlsx", workbook_bytes())
    with pytest.raises(ReadError) as info:
        read_table(path, sheet=sheet)
    assert str(info.value).startswith(str(path))
    assert expected in str(info.value)
    assert "Compromisos, Eventos" in str(info.value)


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.9])
def test_truncated_xlsx_is_a_read_error(tmp_path: Path, fraction: float) -> None:
    data = workbook_bytes()
    path = write(tmp_path, "cut.xlsx", data[: int(len(data) * fraction)])
    with pytest.raises(ReadError, match=r"not a readable \.xlsx workbook") as info:
        read_table(path)
    assert str(path) in str(info.value)


def test_excel_value_beyond_the_header_names_the_row(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.worksheets[0].append(["a", "b"])
    book.worksheets[0].append([1, 2])
    book.worksheets[0].append([3, 4, 5])
    path = tmp_path / "wide.xlsx"
    book.save(path)
    with pytest.raises(ReadError, match=r"row 3: a value beyond the last named column"):
        read_table(path)


def test_excel_header_only_and_empty_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.worksheets[0].append(["commitment_id", "stage", "at"])
    book.create_sheet("vacía")
    path = tmp_path / "events.xlsx"
    book.save(path)
    table = read_table(path)
    assert list(table.frame.columns) == ["commitment_id", "stage", "at", ROW]
    assert table.frame.empty
    with pytest.raises(ReadError, match="sheet 'vacía' is empty"):
        read_table(path, sheet="vacía")


# --- Parquet -----------------------------------------------------------------------


def test_parquet_typed_columns_become_text(tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["a", "b"],
            "n": pa.array([1, None], pa.int64()),
            "x": [1.0, 2.5],
            "flag": [True, False],
            "day": pa.array([dt.date(2024, 3, 5), None], pa.date32()),
            "at": pa.array(
                [dt.datetime(2024, 3, 5, 10, 30), dt.datetime(2024, 3, 5, 0, 0, 0, 500000)]
            ),
            "utc": pa.array([dt.datetime(2024, 3, 5, 9, 30), None], pa.timestamp("us", tz="UTC")),
            "empty": ["", "x"],
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    frame = read_table(path).frame
    assert rows_of(frame) == [
        [
            "a",
            "1",
            "1",
            "true",
            "2024-03-05",
            "2024-03-05 10:30:00",
            "2024-03-05 09:30:00+00:00",
            None,
            2,
        ],
        ["b", None, "2.5", "false", None, "2024-03-05 00:00:00.500000", None, "x", 3],
    ]


def test_parquet_round_trip_of_strings(tmp_path: Path) -> None:
    source = pd.DataFrame({"commitment_id": ["C-1", "C-2"], "stage": ["Diseño", None]})
    path = tmp_path / "events.parquet"
    source.to_parquet(path)
    frame = read_table(path).frame
    assert rows_of(frame) == [["C-1", "Diseño", 2], ["C-2", None, 3]]
    assert (
        read_table(io.BytesIO(path.read_bytes()), name="events.parquet").sha256
        == read_table(path).sha256
    )


# --- properties --------------------------------------------------------------------

# Non-ASCII letters whose Windows-1252 bytes are all >= 0xC0: such text is never valid
# UTF-8, so the strict-UTF-8-then-cp1252 rule must recover it exactly (€ is 0x80, a UTF-8
# continuation byte, and has its own tests above).
ALPHABET = st.sampled_from(list('abcXYZ019 .-:/ñéáüÑ,;|\t"\n'))
VALUE = st.text(ALPHABET, max_size=8)
NAME = st.text(st.sampled_from(list("abcdefxyz_")), min_size=1, max_size=6)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(NAME, min_size=1, max_size=4, unique=True),
    data=st.data(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_any_written_table_reads_back(
    tmp_path: Path, names: list[str], data: st.DataObject, delimiter: str, encoding: str
) -> None:
    width = len(names)
    rows = data.draw(st.lists(st.lists(VALUE, min_size=width, max_size=width), max_size=6))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(names)
    writer.writerows(rows)
    table = read_table(
        io.BytesIO(buffer.getvalue().encode(encoding)), name="p.csv", delimiter=delimiter
    )
    assert list(table.frame.columns) == [*names, ROW]
    expected = [[v if v != "" else None for v in row] + [i + 2] for i, row in enumerate(rows)]
    assert rows_of(table.frame) == expected


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(NAME, min_size=2, max_size=5, unique=True),
    data=st.data(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_delimiter_is_sniffed_for_any_plain_table(
    names: list[str], data: st.DataObject, delimiter: str
) -> None:
    plain = st.text(st.sampled_from(list("abcXYZ019 .-:/ñé")), max_size=8)
    rows = data.draw(
        st.lists(st.lists(plain, min_size=len(names), max_size=len(names)), max_size=6)
    )
    text = "\n".join(delimiter.join(r) for r in [names, *rows]) + "\n"
    table = read_table(io.BytesIO(text.encode()), name="s.csv")
    assert list(table.frame.columns) == [*names, ROW]
    assert len(table.frame) == len(rows)


def _python_says_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Valid and invalid UTF-8 pieces: 2/3/4-byte characters, a surrogate, an overlong '/',
# one above U+10FFFF, a truncated sequence, a stray byte.
_PIECES = [b"a", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\xed\xa0\x80",
           b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\xff", b"\x00"]  # fmt: skip


@given(
    st.one_of(
        st.binary(max_size=40),
        st.text(max_size=20).map(lambda t: t.encode("utf-8", errors="surrogatepass")),
        st.lists(st.sampled_from(_PIECES), max_size=8).map(b"".join),
    )
)
def test_utf8_check_agrees_with_pythons_strict_decoder(data: bytes) -> None:
    from etl.read import _is_utf8

    assert _is_utf8(data) == _python_says_utf8(data)


# --- CSV files on disk: scanned in slices, parsed from disk ------------------------


@settings(max_examples=150, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=40),
        st.text(max_size=20).map(lambda t: t.encode("utf-8", errors="surrogatepass")),
        st.lists(
            st.sampled_from(
                [*_PIECES, b"\xef\xbb\xbf", b"\xff\xfe", b" ", b"\n", b"\xc2\xa0", b"GIF8", b"%PDF"]
            ),
            max_size=10,
        ).map(b"".join),
    ),
    slice_size=st.integers(min_value=1, max_value=7),
)
def test_scan_in_slices_accepts_exactly_plain_utf8(data: bytes, slice_size: int) -> None:
    """Slices cut characters anywhere; the verdict is Python's strict decoder's on the
    whole file, and the hash is the whole file's."""
    import hashlib
    import tempfile
    from unittest import mock

    import etl.read

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        path.write_bytes(data)
        with mock.patch.object(etl.read, "_SCAN_BYTES", slice_size):
            from_disk = etl.read._scanned(
                etl.read._slices_of_file(path, "f.csv"), "f.csv", etl.read.ReadLimits()
            )
            in_memory = etl.read._scanned(
                etl.read._slices_of_bytes(data), "f.csv", etl.read.ReadLimits()
            )
    boms = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
    plain = (
        _python_says_utf8(data)
        and data != b""
        and not data.startswith(boms)
        and b"\x00" not in data
        and not any(data.startswith(magic) for magic, _what in etl.read._MAGIC)  # e.g. GIF8
    )
    for scan in (from_disk, in_memory):
        assert scan.plain_utf8 == plain
        assert (scan.sha256, scan.size) == (hashlib.sha256(data).hexdigest(), len(data))
        assert scan.head == data


_CELLS = st.text(
    alphabet=st.sampled_from(["a", "Z", "7", " ", "é", "€", "😀", "ß", "-", ":"]), max_size=6
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(_CELLS, min_size=3, max_size=3), min_size=1, max_size=30))
def test_a_file_on_disk_read_in_small_slices_gives_its_rows(
    tmp_path: Path, rows: list[list[str]]
) -> None:
    """Parsed in place from disk, with characters cut at every slice end: the rows written."""
    import hashlib
    from unittest import mock

    import etl.read

    text = "\n".join(",".join(r) for r in [["id", "name", "note"], *rows]) + "\n"
    data = text.encode("utf-8")
    path = write(tmp_path, "s.csv", data)
    with mock.patch.object(etl.read, "_SCAN_BYTES", 5):
        table = read_table(path)
    assert table.sha256 == hashlib.sha256(data).hexdigest()
    assert list(table.frame.columns) == ["id", "name", "note", ROW]
    # every row is a record (three fields make two commas even when empty)
    expected = [[v if v != "" else None for v in r] + [i + 2] for i, r in enumerate(rows)]
    assert rows_of(table.frame) == expected


def test_a_large_file_on_disk_with_a_ragged_row_names_the_row(tmp_path: Path) -> None:
    """Parsed from disk in several Arrow blocks, a bad row is still found and numbered."""
    lines = ["commitment_id,stage,at"] + [f"C{i},Entrega,2026-01-05" for i in range(200_000)]
    lines[150_001] = "C150000,Entrega,2026-01-05,extra,fields"
    path = write(tmp_path, "events.csv", ("\n".join(lines) + "\n").encode())
    with pytest.raises(ReadError, match=r"events\.csv, row 150002: 5 fields but the header has 3"):
        read_table(path)


def test_every_type_an_upload_accepts_is_read(tmp_path: Path) -> None:
    """The upload widgets offer READABLE_TYPES: each one reads to the same rows, and a
    type outside it is refused by read_table too."""
    assert READABLE_TYPES == ("csv", "parquet", "pq", "tsv", "txt", "xlsm", "xlsx")
    frame = pd.DataFrame({"process": ["Ventas", "Compras"], "stage_order": ["1", "2"]})
    for ext in READABLE_TYPES:
        path = tmp_path / f"processes.{ext}"
        if ext in ("xlsx", "xlsm"):
            frame.to_excel(path, index=False, engine="openpyxl")
        elif ext in ("parquet", "pq"):
            frame.to_parquet(path)
        else:
            sep = "\t" if ext == "tsv" else ";"
            path.write_text(f"process{sep}stage_order\nVentas{sep}1\nCompras{sep}2\n")
        table = read_table(path).frame
        assert rows_of(table[["process", "stage_order"]]) == [["Ventas", "1"], ["Compras", "2"]]
    (tmp_path / "processes.ods").write_bytes(b"PK")
    with pytest.raises(ReadError, match=r"unknown file type '\.ods'"):
        read_table(tmp_path / "processes.ods")
