"""etl.mapping: loading and checking TOML mappings, and applying them to string tables.

Tables are built in memory as `read_table` hands them over (strings, pd.NA, `_row`);
expected values are worked out by hand from those few rows.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.mapping import Mapping, apply_mapping, load_mapping, shipped_mappings
from etl.read import STRING_DTYPE, read_table
from etl.records import ROW, MappingError, RawTable, Reject


def raw(columns: dict[str, list[str | None]], path: str = "export.csv") -> RawTable:
    """A RawTable as read_table would give it: text columns and `_row` from 2."""
    frame = pd.DataFrame({k: pd.array(v, dtype=STRING_DTYPE) for k, v in columns.items()})
    frame[ROW] = range(2, len(frame) + 2)
    frame[ROW] = frame[ROW].astype("int64")
    return RawTable(path=path, sha256="abc", frame=frame)


def mapping(tmp_path: Path, text: str, name: str = "m.toml") -> Mapping:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as dicts with missing values as None."""
    return [
        {str(k): (None if pd.isna(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


COMPLAINTS = """
[complaints.columns]
complaint_id = "Nr"
customer = "Klant"
opened_at = "Datum"
category = "Soort"
"""

# --- renames, value maps, constants, hints -----------------------------------------


def test_renames_keep_row_numbers_and_drop_unmapped_columns(tmp_path: Path) -> None:
    m = mapping(tmp_path, COMPLAINTS)
    table = raw(
        {
            "Nr": ["K1", "K2"],
            "Datum": ["01/02/2024", None],
            "Klant": ["Jansen", "de Vries"],
            "Soort": ["late", None],
            "Notitie": ["x", "y"],
        }
    )
    [kf] = apply_mapping(table, m)
    assert (kf.kind, kf.path, kf.sha256, kf.rows_read, kf.mapping) == (
        "complaints",
        "export.csv",
        "abc",
        2,
        str(tmp_path / "m.toml"),
    )
    assert list(kf.frame.columns) == ["complaint_id", "customer", "opened_at", "category", ROW]
    assert records(kf.frame) == [
        {
            "complaint_id": "K1",
            "customer": "Jansen",
            "opened_at": "01/02/2024",
            "category": "late",
            ROW: 2,
        },
        {"complaint_id": "K2", "customer": "de Vries", "opened_at": None, "category": None, ROW: 3},
    ]
    assert kf.rejects == [] and kf.refused is None
    assert kf.date_formats == {} and kf.decimal is None


def test_value_maps_ignore_case_and_spaces_and_pass_unknown_words(tmp_path: Path) -> None:
    m = mapping(
        tmp_path,
        """
[commitments]
[commitments.columns]
commitment_id = "id"
process = "proceso"
customer = "cliente"
requested_at = "pedido"
due_at = "plazo"
cancelled = "anulado"
customer_type = "tipo"
[commitments.values.cancelled]
ja = true
nee = false
yes = "true"
no = "false"
"sí" = true
[commitments.values.customer_type]
Interno = "internal"
Externo = "external"
""",
    )
    table = raw(
        {
            "id": ["1", "2", "3", "4", "5", "6"],
            "proceso": ["P"] * 6,
            "cliente": ["C"] * 6,
            "pedido": ["2024-01-01"] * 6,
            "plazo": ["2024-01-02"] * 6,
            "anulado": ["JA", " nee ", "Sí", "no", "quizá", None],
            "tipo": ["interno", "EXTERNO", "Interno", "otro", None, "externo"],
        }
    )
    [kf] = apply_mapping(table, m)
    assert kf.frame["cancelled"].tolist()[:5] == ["true", "false", "true", "false", "quizá"]
    assert pd.isna(kf.frame["cancelled"].iloc[5])
    assert kf.frame["customer_type"].tolist()[:4] == ["internal", "external", "internal", "otro"]
    assert pd.isna(kf.frame["customer_type"].iloc[4])


def test_constants_fill_every_row(tmp_path: Path) -> None:
    m = mapping(
        tmp_path,
        """
[commitments.columns]
commitment_id = "id"
customer = "cliente"
requested_at = "pedido"
due_at = "plazo"
[commitments.constants]
process = "Compras"
direction = "from_customer"
customer_type = "external"
cancelled = false
""",
    )
    table = raw(
        {"id": ["1", "2"], "cliente": ["A", "B"], "pedido": ["x", "y"], "plazo": ["z", "w"]}
    )
    [kf] = apply_mapping(table, m)
    assert kf.frame["process"].tolist() == ["Compras", "Compras"]
    assert kf.frame["direction"].tolist() == ["from_customer", "from_customer"]
    assert kf.frame["cancelled"].tolist() == ["false", "false"]
    assert list(kf.frame.columns) == [
        "commitment_id",
        "process",
        "customer",
        "customer_type",
        "direction",
        "requested_at",
        "due_at",
        "cancelled",
        ROW,
    ]


def test_date_formats_and_decimal_pass_through_untouched(tmp_path: Path) -> None:
    m = mapping(
        tmp_path,
        COMPLAINTS
        + """
[complaints]
decimal = ","
[complaints.date_formats]
opened_at = "%d-%m-%Y %H.%M"
""",
    )
    table = raw({"Nr": ["1"], "Klant": ["A"], "Datum": ["05-03-2024 10.30"], "Soort": [None]})
    [kf] = apply_mapping(table, m)
    assert kf.date_formats == {"opened_at": "%d-%m-%Y %H.%M"}
    assert kf.decimal == ","
    assert kf.frame["opened_at"].tolist() == ["05-03-2024 10.30"]  # parsing is parse.py's job


def test_read_options(tmp_path: Path) -> None:
    m = mapping(
        tmp_path, '[read]\ndelimiter = "tab"\nencoding = "latin-1"\nsheet = 2\n' + COMPLAINTS
    )
    assert m.read_options == {"delimiter": "\t", "encoding": "latin-1", "sheet": 2}
    assert mapping(tmp_path, COMPLAINTS, "n.toml").read_options == {}


def test_mapping_from_a_binary_upload_equals_from_path(tmp_path: Path) -> None:
    from_path = mapping(tmp_path, COMPLAINTS)
    upload = io.BytesIO(COMPLAINTS.encode())
    upload.name = str(tmp_path / "m.toml")
    assert load_mapping(upload) == from_path


def test_kinds_come_in_load_order_and_kind_argument_picks_one(tmp_path: Path) -> None:
    m = mapping(
        tmp_path,
        """
[events.columns]
commitment_id = "case"
stage = "act"
at = "ts"
[commitments]
one_per = "case"
[commitments.columns]
commitment_id = "case"
requested_at = "ts"
due_at = "ts"
[commitments.constants]
process = "P"
customer = "C"
""",
    )
    table = raw({"case": ["a"], "act": ["x"], "ts": ["t"]})
    assert [kf.kind for kf in apply_mapping(table, m)] == ["commitments", "events"]
    assert [kf.kind for kf in apply_mapping(table, m, "events")] == ["events"]
    with pytest.raises(MappingError, match="defines no 'complaints'"):
        apply_mapping(table, m, "complaints")


# --- no mapping: canonical files ---------------------------------------------------


def test_canonical_file_kind_from_name_columns_as_they_are() -> None:
    table = raw(
        {"Commitment_ID": ["C1"], "stage": ["s"], "at": ["t"], "extra": ["e"]}, "/d/events.csv"
    )
    [kf] = apply_mapping(table, None)
    assert (kf.kind, kf.rows_read, kf.mapping) == ("events", 1, None)
    # A canonical name in other letters is renamed; other columns ride along.
    assert list(kf.frame.columns) == ["commitment_id", "stage", "at", "extra", ROW]


def test_canonical_file_kind_argument_wins() -> None:
    [kf] = apply_mapping(raw({"a": ["1"]}, "export.csv"), None, "notices")
    assert kf.kind == "notices"


def test_canonical_file_without_kind_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match=r"^export\.csv: the file name is not a canonical one"):
        apply_mapping(raw({"a": ["1"]}, "export.csv"), None)


# --- missing source columns --------------------------------------------------------


def test_missing_source_columns_refuse_the_kind_and_keep_the_rows(tmp_path: Path) -> None:
    m = mapping(tmp_path, COMPLAINTS)
    table = raw({"Nr": ["1", "2"], "Klant": ["A", "B"], "Other": ["x", "y"]})
    [kf] = apply_mapping(table, m)
    assert kf.refused == (
        f"mapping {tmp_path / 'm.toml'} needs source column(s) 'Datum', 'Soort' for complaints, "
        "but the file has none by that name; columns present: 'Nr', 'Klant', 'Other'"
    )
    assert kf.rows_read == 2
    assert records(kf.frame) == [
        {"complaint_id": "1", "customer": "A", ROW: 2},
        {"complaint_id": "2", "customer": "B", ROW: 3},
    ]


# --- one flat file → one record per case --------------------------------------------

CASES = """
[commitments]
one_per = "case"
[commitments.columns]
commitment_id = "case"
customer = "klant"
due_at = "deadline"
requested_at = "start"
[commitments.constants]
process = "Vergunning"
"""


def test_one_per_case_keeps_first_row_and_counts_cases(tmp_path: Path) -> None:
    m = mapping(tmp_path, CASES)
    table = raw(
        {
            "case": ["c1", "c1", "c2", "c1", "c3"],
            "klant": ["A", "A", "B", "A", None],
            "deadline": ["d1", "d1", "d2", "d1", "d3"],
            "start": ["s1", "s1", "s2", "s1", "s3"],
        }
    )
    [kf] = apply_mapping(table, m)
    assert kf.rows_read == 3
    assert kf.rejects == []
    assert records(kf.frame) == [
        {
            "commitment_id": "c1",
            "process": "Vergunning",
            "customer": "A",
            "requested_at": "s1",
            "due_at": "d1",
            ROW: 2,
        },
        {
            "commitment_id": "c2",
            "process": "Vergunning",
            "customer": "B",
            "requested_at": "s2",
            "due_at": "d2",
            ROW: 4,
        },
        {
            "commitment_id": "c3",
            "process": "Vergunning",
            "customer": None,
            "requested_at": "s3",
            "due_at": "d3",
            ROW: 6,
        },
    ]


def test_disagreeing_case_attributes_reject_that_case_only(tmp_path: Path) -> None:
    m = mapping(tmp_path, CASES)
    table = raw(
        {
            "case": ["c1", "c2", "c1", "c2", "c1", "c3", "c2"],
            "klant": ["A", "B", "A", "B", "A", "C", "B"],
            "deadline": ["d1", "d2", "X", "d2", "d1", "d3", None],
            "start": ["s1", "s2", "s1", "s2", "s1", "s3", "s2"],
        }
    )
    [kf] = apply_mapping(table, m)
    assert kf.rows_read == 3
    assert kf.frame["commitment_id"].tolist() == ["c3"]
    assert kf.frame[ROW].tolist() == [7]
    assert kf.rejects == [
        Reject(
            row_number=2,
            column="deadline",
            reason=(
                "case 'c1': 'deadline' (due_at) differs: 'd1' in rows 2, 6; 'X' in row 4; "
                "a case attribute must be the same on every row of the case, so this "
                "commitments record is not loaded (fix the file, or give the column an agg "
                "in the mapping)"
            ),
            raw={"case": "c1", "klant": "A", "deadline": "d1", "start": "s1", ROW: 2},
        ),
        Reject(
            row_number=3,
            column="deadline",
            reason=(
                "case 'c2': 'deadline' (due_at) differs: 'd2' in rows 3, 5; (empty) in row 8; "
                "a case attribute must be the same on every row of the case, so this "
                "commitments record is not loaded (fix the file, or give the column an agg "
                "in the mapping)"
            ),
            raw={"case": "c2", "klant": "B", "deadline": "d2", "start": "s2", ROW: 3},
        ),
    ]
    assert kf.rows_read == len(kf.frame) + len(kf.rejects)


def test_several_disagreeing_columns_give_one_reject_naming_all(tmp_path: Path) -> None:
    m = mapping(tmp_path, CASES)
    table = raw(
        {
            "case": ["c1"] * 7,
            "klant": list("ABABABA"),
            "deadline": ["d"] * 7,
            "start": list("1234567"),
        }
    )
    [kf] = apply_mapping(table, m)
    assert kf.rows_read == 1 and kf.frame.empty
    [reject] = kf.rejects
    assert reject.column == "klant"
    assert (
        "'klant' (customer) differs: 'A' in rows 2, 4, 6, 8; 'B' in rows 3, 5, 7 |" in reject.reason
    )
    assert "'start' (requested_at) differs: '1' in row 2; '2' in row 3;" in reject.reason


def test_rows_without_case_id_are_rejected_and_counted(tmp_path: Path) -> None:
    m = mapping(tmp_path, CASES)
    table = raw(
        {
            "case": ["c1", None, " "],
            "klant": ["A", "B", "C"],
            "deadline": ["d"] * 3,
            "start": ["s"] * 3,
        }
    )
    [kf] = apply_mapping(table, m)
    assert kf.rows_read == 3
    assert kf.frame["commitment_id"].tolist() == ["c1"]
    assert [(r.row_number, r.column) for r in kf.rejects] == [(3, "case"), (4, "case")]
    assert kf.rejects[0].reason == "no value in 'case': the row belongs to no commitments record"


# --- aggregates --------------------------------------------------------------------

AGGREGATED = """
[commitments]
one_per = "case"
[commitments.columns]
commitment_id = "case"
customer = {column = "klant", agg = "first"}
performer = {column = "wie", agg = "last"}
requested_at = {column = "ts", agg = "min"}
due_at = {column = "ts", agg = "max"}
[commitments.constants]
process = "P"
"""


def test_aggregates_first_last_min_max_in_absolute_time(tmp_path: Path) -> None:
    m = mapping(tmp_path, AGGREGATED)
    table = raw(
        {
            "case": ["a", "a", "a", "b", "b"],
            "klant": [None, "K1", "K2", "K3", "K4"],
            "wie": ["W1", "W2", None, None, None],
            # 10:00+02:00 is 08:00 UTC: earlier than 09:00+00:00 although it sorts later
            # as text; 23:30-01:00 is 00:30 UTC the next day, the latest.
            "ts": [
                "2024-03-05 09:00:00+00:00",
                "2024-03-05 10:00:00+02:00",
                "2024-03-05 23:30:00-01:00",
                "2024-03-06T12:00:00+01:00",
                "not a date",
            ],
        }
    )
    [kf] = apply_mapping(table, m)
    assert kf.rejects == [] and kf.rows_read == 2
    assert records(kf.frame) == [
        {
            "commitment_id": "a",
            "process": "P",
            "performer": "W2",
            "customer": "K1",
            "requested_at": "2024-03-05 10:00:00+02:00",
            "due_at": "2024-03-05 23:30:00-01:00",
            ROW: 2,
        },
        {
            "commitment_id": "b",
            "process": "P",
            "performer": None,
            "customer": "K3",
            "requested_at": "2024-03-06T12:00:00+01:00",
            "due_at": "2024-03-06T12:00:00+01:00",
            ROW: 5,
        },
    ]


def test_min_max_read_times_without_offset_in_the_loads_zone(tmp_path: Path) -> None:
    """A time without an offset is wall-clock time in the load's zone, as it loads."""
    m = mapping(tmp_path, AGGREGATED)
    table = raw(
        {
            "case": ["a", "a"],
            "klant": ["K"] * 2,
            "wie": ["W"] * 2,
            # 09:00 UTC is 10:00 in Madrid (UTC+1 in March), so 09:30 Madrid is earlier;
            # in New York (UTC-5) 09:30 local is 14:30 UTC, the later one.
            "ts": ["2024-03-05 09:00:00+00:00", "2024-03-05 09:30"],
        }
    )
    [kf] = apply_mapping(table, m, tz="Europe/Madrid")
    assert kf.frame[["requested_at", "due_at"]].values.tolist() == [
        ["2024-03-05 09:30", "2024-03-05 09:00:00+00:00"]
    ]
    [kf] = apply_mapping(table, m, tz="America/New_York")
    assert kf.frame[["requested_at", "due_at"]].values.tolist() == [
        ["2024-03-05 09:00:00+00:00", "2024-03-05 09:30"]
    ]


def test_min_max_use_the_mapping_date_format(tmp_path: Path) -> None:
    m = mapping(tmp_path, AGGREGATED + '[commitments.date_formats]\nrequested_at = "%d/%m/%Y"\n')
    table = raw(
        {
            "case": ["a", "a", "a"],
            "klant": ["K"] * 3,
            "wie": ["W"] * 3,
            "ts": ["02/03/2024", "10/01/2024", "05/02/2024"],
        }
    )
    [kf] = apply_mapping(table, m)
    # min by the forced format; max has none, and its column does not say whether it is
    # day or month first: nothing is picked, the first value goes on to be refused.
    assert kf.frame["requested_at"].tolist() == ["10/01/2024"]
    assert kf.frame["due_at"].tolist() == ["02/03/2024"]


def test_min_of_values_that_never_parse_passes_the_first_on(tmp_path: Path) -> None:
    m = mapping(tmp_path, AGGREGATED)
    table = raw(
        {"case": ["a", "a"], "klant": ["K", "K"], "wie": ["W", "W"], "ts": [None, "mañana"]}
    )
    [kf] = apply_mapping(table, m)
    assert kf.frame["requested_at"].tolist() == ["mañana"]  # validation will report it


def test_aggregated_columns_need_not_agree_but_plain_ones_must(tmp_path: Path) -> None:
    m = mapping(
        tmp_path,
        AGGREGATED.replace('performer = {column = "wie", agg = "last"}', 'performer = "wie"'),
    )
    table = raw(
        {
            "case": ["a", "a"],
            "klant": ["K1", "K2"],
            "wie": ["W1", "W2"],
            "ts": ["2024-01-01", "2024-01-02"],
        }
    )
    [kf] = apply_mapping(table, m)
    assert kf.frame.empty
    [reject] = kf.rejects
    assert reject.column == "wie"
    assert "'klant'" not in reject.reason


@settings(max_examples=50, deadline=None)
@given(
    cases=st.lists(st.sampled_from(["a", "b", "c", None]), min_size=0, max_size=12),
    values=st.data(),
)
def test_every_case_is_loaded_or_rejected(cases: list[str | None], values: st.DataObject) -> None:
    m = load_mapping(io.BytesIO(CASES.encode()))
    n = len(cases)
    pick = st.lists(st.sampled_from(["x", "y", None]), min_size=n, max_size=n)
    table = raw(
        {
            "case": cases,
            "klant": values.draw(pick),
            "deadline": values.draw(pick),
            "start": ["s"] * n,
        }
    )
    [kf] = apply_mapping(table, m)
    assert kf.rows_read == len({c for c in cases if c is not None}) + cases.count(None)
    assert kf.rows_read == len(kf.frame) + len(kf.rejects)
    loaded = set(kf.frame["commitment_id"])
    assert loaded.isdisjoint({r.raw["case"] for r in kf.rejects if r.raw})


# --- mapping file errors -----------------------------------------------------------

REQUIRED = """
[complaints.columns]
complaint_id = "a"
customer = "b"
opened_at = "c"
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mappings = 1\n" + REQUIRED, "unknown key or record kind 'mappings'"),
        (
            REQUIRED.replace("complaints.columns", "complains.columns"),
            "unknown key or record kind 'complains'",
        ),
        (REQUIRED + "[complaints]\ncolums = {}\n", "[complaints]: unknown key 'colums'"),
        (REQUIRED + 'severidad = "x"\n', "unknown canonical column 'severidad'"),
        (
            REQUIRED + '[complaints.constants]\nestado = "x"\n',
            "[complaints].constants: unknown canonical column 'estado'",
        ),
        (
            REQUIRED + '[complaints.constants]\ncustomer = "x"\n',
            "'customer' is given both as a column and as a constant",
        ),
        (
            REQUIRED.replace('opened_at = "c"\n', ""),
            "required column(s) 'opened_at' given neither by a column nor by a constant",
        ),
        (
            REQUIRED + '[complaints.values.severity]\nalta = "high"\n',
            "'severity' has a value map but no source column",
        ),
        (
            REQUIRED + '[complaints.date_formats]\ncategory = "%d"\n',
            "'category' is not a date column",
        ),
        (
            REQUIRED + '[complaints.date_formats]\nopened_at = "dd/mm/yyyy"\n',
            "must be a strptime format",
        ),
        (REQUIRED + '[complaints]\ndecimal = ";"\n', "'decimal' must be"),
        (
            REQUIRED.replace('customer = "b"', 'customer = {column = "b", agg = "min"}'),
            "'agg' needs 'one_per'",
        ),
        (
            REQUIRED.replace('customer = "b"', 'customer = {column = "b", agg = "mean"}')
            + '[complaints]\none_per = "a"\n',
            "unknown agg 'mean'",
        ),
        (REQUIRED.replace('customer = "b"', 'customer = {col = "b"}'), "unknown key 'col'"),
        (REQUIRED + '[read]\nseparator = ";"\n', "[read]: unknown key 'separator'"),
        (REQUIRED + '[read]\nencoding = "klingon"\n', "unknown encoding 'klingon'"),
        (REQUIRED + '[read]\ndelimiter = ";;"\n', "'delimiter' must be one character"),
        ('description = "nada"\n', "defines no record kind"),
        ("[complaints.columns\n", "not valid TOML"),
        ('x = "${HOME}"\n', "unknown key or record kind 'x'"),
    ],
)
def test_mapping_errors_name_the_file_and_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    assert str(info.value).startswith(f"mapping {path}")
    assert expected in str(info.value)


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="file not found"):
        load_mapping(tmp_path / "none.toml")


def test_shipped_mappings_all_load() -> None:
    shipped = shipped_mappings()
    assert set(shipped) == {
        "receipt_coselog",
        "helpdesk_events",
        "helpdesk_standards",
        "bpic2016_complaints",
    }
    kinds = {name: [k.kind for k in load_mapping(path).kinds] for name, path in shipped.items()}
    assert kinds == {
        "receipt_coselog": ["commitments", "events"],
        "helpdesk_events": ["commitments", "events"],
        "helpdesk_standards": ["commitments", "events"],
        "bpic2016_complaints": ["complaints"],
    }
    # the standards folder a mapping names is resolved beside the mapping file
    standards = load_mapping(shipped["helpdesk_standards"]).standards
    assert standards is not None and (Path(standards) / "policies.csv").is_file()


def test_mapping_then_read_options_on_a_real_file_shape(tmp_path: Path) -> None:
    # The [read] options flow into read_table: a ';' Latin-1 file read and mapped.
    m = mapping(tmp_path, '[read]\ndelimiter = ";"\nencoding = "latin-1"\n' + COMPLAINTS)
    data = "Nr;Klant;Datum;Soort\n1;Noël;2016-01-12;behandelingsduur\n".encode("latin-1")
    [kf] = apply_mapping(read_table(io.BytesIO(data), name="k.csv", **m.read_options), m)
    assert records(kf.frame) == [
        {
            "complaint_id": "1",
            "customer": "Noël",
            "opened_at": "2016-01-12",
            "category": "behandelingsduur",
            ROW: 2,
        }
    ]


def test_the_annotated_example_in_the_docs_loads_and_applies(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "data-formats.md").read_text()
    annotated = doc.split("### Full annotated example", 1)[1]
    example = annotated.split("```toml\n", 1)[1].split("```", 1)[0]
    m = mapping(tmp_path, example, "ejemplo.toml")
    assert m.read_options == {"delimiter": ";", "encoding": "cp1252", "sheet": "Pedidos"}
    table = raw(
        {
            "Pedido": ["P1", "P1", "P2"],
            "Cliente": ["Acme", "Acme", "Beta"],
            "Tipo cliente": ["Externo", "Externo", "interno"],
            "Fecha compromiso": ["10-03-2024", "10-03-2024", "11-03-2024"],
            "Anulado": ["No", "No", "Sí"],
            "Fecha línea": ["05/03/2024 10:00", "04/03/2024 09:00", "06/03/2024"],
            "Fecha entrega": [None, "09/03/2024", None],
            "Comercial": ["Ana", "Luis", None],
            "Estado": ["Pedido", "Enviado", "Pedido"],
            "Usuario": ["u1", "u2", "u3"],
        }
    )
    commitments, events = apply_mapping(table, m)
    assert records(commitments.frame) == [
        {
            "commitment_id": "P1",
            "process": "Ventas",
            "performer": "Luis",
            "customer": "Acme",
            "customer_type": "external",
            "direction": "to_customer",
            "requested_at": "04/03/2024 09:00",
            "due_at": "10-03-2024",
            "delivered_at": "09/03/2024",
            "cancelled": "false",
            ROW: 2,
        },
        {
            "commitment_id": "P2",
            "process": "Ventas",
            "performer": None,
            "customer": "Beta",
            "customer_type": "internal",
            "direction": "to_customer",
            "requested_at": "06/03/2024",
            "due_at": "11-03-2024",
            "delivered_at": None,
            "cancelled": "true",
            ROW: 4,
        },
    ]
    assert commitments.date_formats == {"due_at": "%d-%m-%Y"} and commitments.decimal == ","
    assert (events.rows_read, events.frame["stage"].tolist()) == (
        3,
        ["Pedido", "Enviado", "Pedido"],
    )


# --- hostile nesting (issue 17, item 7c) ----------------------------------------------------

DEEP = {
    "arrays": "[commitments]\ncolumns = { title = " + "[" * 10_000 + "]" * 10_000 + " }\n",
    "inline tables": "[commitments.columns]\ntitle = " + "{a = " * 10_000 + "1" + "}" * 10_000,
    "values": "[commitments.values]\nstatus = " + "[" * 600 + "1" + "]" * 600 + "\n",
}


@pytest.mark.parametrize("kind", sorted(DEEP))
def test_a_deeply_nested_mapping_is_a_mapping_error_naming_the_upload(kind: str) -> None:
    buffer = io.BytesIO(DEEP[kind].encode("utf-8"))
    buffer.name = "deep.toml"  # an upload: its own name, no server path
    with pytest.raises(MappingError) as err:
        load_mapping(buffer)
    message = str(err.value)
    assert message.startswith("mapping deep.toml: ")
    assert "Recursion" not in message and "recursion" not in message


def test_a_deeply_nested_mapping_file_names_its_path(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"deep\.toml: arrays or tables nested too deeply"):
        mapping(tmp_path, DEEP["arrays"], name="deep.toml")
