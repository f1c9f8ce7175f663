"""Reject reasons as a code and parameters, worded in Spanish or English (issue 14, item 14):
the English text stays what the CLI and the logs always said, the Datos page and its
CSV speak the reader's language."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from etl.load import load_files, rejected_rows_frame
from etl.preview import rejects_csv
from etl.reasons import REASONS, Reason, render, render_stored, stored_code
from etl.schema import create_schema, rejected_rows

BAD = (
    "commitment_id,title,process,customer,requested_at,due_at,direction,cancelled\n"
    "C1,Uno,Ventas,Acme,2026-01-05,pronto,to_customer,no\n"
    "C2,Dos,Ventas,Acme,2026-01-05,2026-01-09,hacia_fuera,no\n"
    "C3,Tres,Ventas,Acme,2026-01-09,2026-01-05,to_customer,quizá\n"
)


def test_the_english_wording_is_what_the_cli_always_printed() -> None:
    """Byte for byte the sentences validate.py wrote before reasons had codes."""
    assert Reason("required_empty", column="due_at") == "due_at is required but empty"
    assert Reason("not_a_date", column="due_at", value="'pronto'", hint="date_formats") == (
        "due_at 'pronto' is not a date (use YYYY-MM-DD, YYYY-MM-DD HH:MM, dd/mm/yyyy or "
        "dd/mm/yyyy HH:MM)"
    )
    assert Reason("out_of_range", column="csat", value="'9'", low=1, high=5) == (
        "csat '9' is out of range (1–5)"
    )
    assert Reason("not_allowed", column="direction", value="'x'", allowed=["a", "b"]) == (
        "direction 'x' must be a or b"
    )
    assert Reason("missing_columns", path="f.csv", kind="events", missing=["at"], have=[]) == (
        "f.csv: the events file is missing required column(s) at; its columns are: (none)"
    )


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_reason_has_both_languages(code: str) -> None:
    params = {"column": "c", "value": "'v'", "other": "o", "other_value": "'w'", "key": "k=1",
              "row": 2, "kind": "commitments", "cycle": "A → B → A", "path": "f.csv",
              "missing": ["x"], "have": ["y"], "low": 0, "high": None, "allowed": ["a", "b"],
              "hint": "bool", "case": "'c1'", "differences": [], "day_first": "'13/01/2015'",
              "month_first": "'01/13/2015'", "how": "date_order_how"}  # fmt: skip
    spanish, english = render(code, params, "es"), render(code, params, "en")
    assert spanish and english and spanish != english


def test_spanish_wording_by_hand() -> None:
    reason = Reason("not_a_date", column="due_at", value="'pronto'", hint="date_format",
                    fmt="%d/%m/%Y")  # fmt: skip
    assert render_stored(reason, None, "es") == (
        "due_at 'pronto' no es una fecha (formato esperado %d/%m/%Y)"
    )
    assert render("out_of_range", {"column": "nps", "value": "'11'", "low": 0, "high": None},
                  "es") == "nps '11' está fuera de rango (0 o más)"  # fmt: skip
    # a reason stored as plain text (an older load, a mapping's) is shown as it was
    assert render_stored("row refused by the mapping", None, "es") == "row refused by the mapping"
    assert render_stored("x", '{"code": "no such code"}', "es") == "x"
    assert stored_code("plain") is None


def test_mapping_and_date_order_reasons_in_spanish_by_hand() -> None:
    """The reasons of etl.mapping and of the day/month order rule, worded per language."""
    differs = Reason(
        "case_disagrees",
        key="case",
        case="'c1'",
        kind="commitments",
        differences=[
            {
                "column": "'deadline'",
                "canonical": "due_at",
                "values": [{"value": "'d1'", "rows": [2, 6], "more": 0},
                           {"value": None, "rows": [4], "more": 0}],
            }
        ],
    )  # fmt: skip
    assert differs.startswith("case 'c1': 'deadline' (due_at) differs: 'd1' in rows 2, 6; "
                              "(empty) in row 4; a case attribute")  # fmt: skip
    assert render_stored(differs, None, "es") == (
        "case 'c1': 'deadline' (due_at) difiere: 'd1' en filas 2, 6; (vacío) en fila 4; un "
        "atributo del caso debe ser igual en todas sus filas, así que este registro de "
        "commitments no se carga (corrija el fichero, o dé a la columna un agg en el mapeo)"
    )
    ambiguous = Reason("date_order_ambiguous", column="requested_at", value="'01/02/2015'",
                       how="date_order_how", kind="commitments")  # fmt: skip
    spanish = render_stored(ambiguous, ambiguous.stored(), "es")
    assert spanish.startswith("requested_at '01/02/2015' puede ser día/mes o mes/día")
    assert '[commitments.date_formats] requested_at = "%d/%m/%Y" (día primero)' in spanish
    assert 'date_order = "day_first" o "month_first" en [commitments]' in spanish


def test_a_load_stores_the_code_and_the_page_words_it_in_spanish(engine: sa.Engine) -> None:
    create_schema(engine)
    report = load_files(engine, [("commitments.csv", io.BytesIO(BAD.encode()))])
    assert report.rows_rejected == 3
    with engine.connect() as conn:
        stored = rejected_rows_frame(conn)
    english = list(stored["reason"])
    assert english[0].startswith("due_at 'pronto' is not a date")
    spanish = [render_stored(r, c, "es") for r, c in zip(stored["reason"], stored["reason_code"],
                                                         strict=True)]  # fmt: skip
    assert sorted(spanish) == sorted([
        "due_at 'pronto' no es una fecha (use AAAA-MM-DD [HH:MM], dd/mm/aaaa [HH:MM] o "
        "mm/dd/aaaa [HH:MM] (también horas de 12 con AM/PM), o indique el formato de la "
        'columna en un mapeo: [commitments.date_formats] due_at = "%m/%d/%Y %H:%M", o '
        'date_format = "..." en [commitments] para todas las columnas de fecha)',
        "direction 'hacia_fuera' debe ser to_customer o from_customer",
        "cancelled 'quizá' no es sí/no (use sí/no, true/false, yes/no, ja/nee, 1/0 o x)",
        "due_at '2026-01-05' es anterior a requested_at '2026-01-09'",  # C3's second problem
    ])  # fmt: skip
    rows = list(csv.reader(io.StringIO(rejects_csv(stored, "es"))))
    assert rows[0][:6] == ["lote", "fichero", "tipo_de_registro", "fila",
                           "columna_con_problema", "motivo"]  # fmt: skip
    assert [r[5] for r in rows[1:]] == spanish
    english_csv = list(csv.reader(io.StringIO(rejects_csv(stored))))
    assert english_csv[0][5] == "reason" and [r[5] for r in english_csv[1:]] == english


def test_a_database_from_before_reason_codes_gets_the_column(engine: sa.Engine) -> None:
    """create_schema (run by every load) adds the nullable column to an older table."""
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS rejected_rows"))
        conn.execute(sa.text(
            "CREATE TABLE rejected_rows (batch_id INTEGER NOT NULL, path VARCHAR NOT NULL, "
            "kind VARCHAR NOT NULL, row_number INTEGER, column_name VARCHAR, "
            "reason VARCHAR NOT NULL, raw VARCHAR)"
        ))  # fmt: skip
    create_schema(engine)
    create_schema(engine)  # idempotent
    with engine.begin() as conn:
        conn.execute(rejected_rows.insert().values(
            batch_id=1, path="p", kind="k", reason="r", reason_code='{"code": "x"}'
        ))  # fmt: skip
        assert conn.execute(sa.select(rejected_rows.c.reason_code)).scalar() == '{"code": "x"}'


def test_a_reason_survives_pickling_with_its_code() -> None:
    """The Datos preview runs in a worker process whose report comes back pickled."""
    import pickle

    reason = Reason("out_of_range", column="csat", value="'9'", low=1, high=5)
    again = pickle.loads(pickle.dumps(reason))
    assert again == reason and isinstance(again, Reason)
    assert (again.code, again.params) == (reason.code, reason.params)
