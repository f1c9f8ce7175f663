"""Null markers in a mapping: `?`, `N/A`, `-` mean "no value" (issue 14, item 3).

Value maps and markers apply before a case's rows are compared or aggregated, so an
aggregate never picks a marker as a value. Expected values worked out from the rows.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingOf
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from etl.load import load_files
from etl.mapping import Mapping, apply_mapping, load_mapping
from etl.read import STRING_DTYPE
from etl.records import ROW, MappingError, RawTable

FLAT = """
null_values = ["?", "N/A"]

[commitments]
one_per = "case"
[commitments.columns]
commitment_id = "case"
customer = { column = "klant", agg = "first" }
performer = { column = "wie", agg = "last" }
customer_type = "soort"
requested_at = { column = "ts", agg = "min" }
due_at = { column = "deadline", null_values = ["-"] }
[commitments.constants]
process = "P"
[commitments.values.customer_type]
externo = "external"
ext = "external"
"""


def raw(columns: MappingOf[str, Sequence[str | None]]) -> RawTable:
    frame = pd.DataFrame({k: pd.array(v, dtype=STRING_DTYPE) for k, v in columns.items()})
    frame[ROW] = pd.Series(range(2, len(frame) + 2), dtype="int64")
    return RawTable(path="flat.csv", sha256="abc", frame=frame)


def mapping(tmp_path: Path, text: str = FLAT) -> Mapping:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


CASES = {
    "case": ["a", "a", "a", "b", "b"],
    "klant": ["?", " n/a ", "Acme", "Beta", "Beta"],
    "wie": ["Ana", "Luis", "N/A", "Eva", "?"],
    "soort": ["Externo", "ext", "EXTERNO", "ext", "externo"],
    "ts": ["?", "2026-01-02", "2026-01-03", "2026-01-05", "N/A"],
    "deadline": ["2026-01-10", "2026-01-10", "2026-01-10", "-", "-"],
}


def test_markers_are_never_picked_and_value_maps_apply_before_comparing(tmp_path: Path) -> None:
    [kf] = apply_mapping(raw(CASES), mapping(tmp_path))
    assert kf.rejects == []  # 'Externo', 'ext', 'EXTERNO' all mean external: one value
    got = kf.frame.drop(columns=[ROW]).astype(object).where(kf.frame.notna(), None)
    assert got.to_dict("records") == [
        {
            "commitment_id": "a",
            "process": "P",
            "performer": "Luis",  # last present: N/A is no value
            "customer": "Acme",  # first present: ? and n/a are no value
            "customer_type": "external",
            "requested_at": "2026-01-02",
            "due_at": "2026-01-10",
        },
        {
            "commitment_id": "b",
            "process": "P",
            "performer": "Eva",
            "customer": "Beta",
            "customer_type": "external",
            "requested_at": "2026-01-05",
            "due_at": None,  # '-' is this column's marker
        },
    ]


def test_without_markers_the_first_value_was_the_marker(tmp_path: Path) -> None:
    """The same rows without `null_values`: the marker is a value like any other, and
    `first` picks it (this is why the key exists)."""
    text = FLAT.replace('null_values = ["?", "N/A"]\n', "").replace(
        '{ column = "deadline", null_values = ["-"] }', '"deadline"'
    )
    [kf] = apply_mapping(raw(CASES), mapping(tmp_path, text))
    assert kf.frame["customer"].tolist() == ["?", "Beta"]


def test_a_rejected_case_keeps_its_row_as_written(tmp_path: Path) -> None:
    rows = {**CASES, "soort": ["Externo", "interno", "Externo", "ext", "ext"]}
    [kf] = apply_mapping(raw(rows), mapping(tmp_path))
    [reject] = kf.rejects
    assert reject.row_number == 2
    assert "'soort' (customer_type) differs: 'external' in rows 2, 4; 'interno' in row 3" in (
        reject.reason
    )
    assert reject.raw is not None and reject.raw["klant"] == "?"  # the text as read


def test_markers_must_be_a_list_of_words(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"null_values: must be a list of words"):
        mapping(tmp_path, 'null_values = "?"\n' + FLAT.split("\n", 2)[2])


def test_a_marker_in_a_number_column_loads_as_empty(engine: sa.Engine, tmp_path: Path) -> None:
    (tmp_path / "survey.csv").write_text(
        "id,klant,wanneer,score,nps\nR1,Acme,2026-01-05,4,9\nR2,Acme,2026-01-06,?,-\n"
        "R3,Acme,2026-01-07,N/A,x\n",
        encoding="utf-8",
    )
    (tmp_path / "s.toml").write_text(
        '[satisfaction]\nnull_values = ["?", "n/a"]\n[satisfaction.columns]\n'
        'response_id = "id"\ncustomer = "klant"\nanswered_at = "wanneer"\ncsat = "score"\n'
        'nps = { column = "nps", null_values = ["-"] }\n',
        encoding="utf-8",
    )
    report = load_files(engine, [tmp_path / "survey.csv"], mapping=tmp_path / "s.toml")
    assert [(f.new, f.rejected) for f in report.files] == [(2, 1)]
    assert report.rejects[0].reject.reason == "nps 'x' is not a whole number"
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT response_id, csat, nps FROM satisfaction ORDER BY response_id")
        ).fetchall()
    assert [tuple(r) for r in rows] == [("R1", 4, 9), ("R2", None, None)]
