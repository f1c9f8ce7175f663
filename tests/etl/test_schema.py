"""The schema creates on both backends, records its version, and is idempotent."""

import sqlalchemy as sa

from etl.schema import LOAD_ORDER, RECORD_KINDS, SCHEMA_VERSION, create_schema, metadata


def test_schema_creates_all_tables_and_version(engine: sa.Engine) -> None:
    create_schema(engine)  # second call changes nothing
    names = set(sa.inspect(engine).get_table_names())
    assert set(metadata.tables) <= names
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT version FROM schema_version")).fetchall()
    assert rows == [(SCHEMA_VERSION,)]


def test_reserved_column_at_round_trips(engine: sa.Engine) -> None:
    from datetime import datetime

    from etl.schema import commitments, events

    with engine.begin() as conn:
        conn.execute(
            commitments.insert().values(
                commitment_id="C1",
                process="Ventas",
                customer="Acme",
                direction="to_customer",
                requested_at=datetime(2026, 1, 1),
                due_at=datetime(2026, 1, 5),
                cancelled=False,
            )
        )
        conn.execute(
            events.insert().values(commitment_id="C1", stage="need", at=datetime(2026, 1, 1, 9))
        )
        got = conn.execute(sa.text('SELECT e."at" FROM events e')).fetchall()
    assert got == [(datetime(2026, 1, 1, 9),)]


def test_every_kind_is_loaded_after_what_it_references() -> None:
    assert set(LOAD_ORDER) == set(RECORD_KINDS)
    for kind in RECORD_KINDS.values():
        for _, ref_kind, _ in kind.references:
            assert LOAD_ORDER.index(ref_kind) < LOAD_ORDER.index(kind.name)


def declared_keys(engine: sa.Engine) -> dict[str, tuple[str, ...]]:
    """Primary keys as the database itself reports them (duckdb-engine cannot reflect them)."""
    if engine.dialect.name == "duckdb":
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
                    "WHERE constraint_type = 'PRIMARY KEY'"
                )
            ).fetchall()
        return {name: tuple(columns) for name, columns in rows}
    inspector = sa.inspect(engine)
    return {
        name: tuple(inspector.get_pk_constraint(name)["constrained_columns"])
        for name in metadata.tables
    }


def test_record_keys_are_declared_on_postgresql_only(engine: sa.Engine) -> None:
    """DuckDB gets no primary-key index on the bulk-loaded tables (etl.schema._record_key)."""
    declared = declared_keys(engine)
    for kind in RECORD_KINDS.values():
        assert tuple(kind.table.primary_key.columns.keys()) == kind.key
        if engine.dialect.name == "duckdb" and kind.name != "processes":
            assert kind.table.name not in declared, kind.name
        else:
            assert declared[kind.table.name] == kind.key, kind.name
    assert declared["load_batches"] == ("batch_id",)  # the log tables keep theirs
    query = sa.text(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_nullable = 'YES'"
    )
    with engine.connect() as conn:
        nullable = set(conn.execute(query).fetchall())
    for kind in RECORD_KINDS.values():
        assert not any((kind.table.name, c) in nullable for c in kind.key), kind.name
    assert ("commitments", "title") in nullable  # the query does see nullable columns


def test_an_older_database_gets_the_added_columns(db_url: str) -> None:
    """events.log_order (issue 14) came after the first release: create_schema adds it to
    a database made before, keeping its rows (they get no log order: NULL)."""
    from etl.db import create_db_engine
    from etl.schema import create_schema

    engine = create_db_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE TABLE events (commitment_id VARCHAR NOT NULL, stage VARCHAR NOT "
                    'NULL, "at" TIMESTAMP NOT NULL, seq INTEGER NOT NULL, actor VARCHAR, '
                    "batch_id INTEGER)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO events VALUES ('C1', 'need', TIMESTAMP '2026-01-05', 1, NULL, 1)"
                )
            )
        create_schema(engine)
        create_schema(engine)  # and again: nothing left to add
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT commitment_id, log_order FROM events")).fetchall()
        assert [tuple(r) for r in rows] == [("C1", None)]
    finally:
        engine.dispose()


def test_record_kinds_are_read_off_the_tables() -> None:
    """Required = NOT NULL without a default; derived and app-written columns are not read."""
    commitments = RECORD_KINDS["commitments"]
    assert commitments.required == ("commitment_id", "process", "customer", "requested_at")
    assert "due_at" in commitments.columns and "due_at" not in commitments.required
    for derived in ("due_from_standard", "standard_due_at", "policy_id", "batch_id"):
        assert derived not in commitments.columns
    assert commitments.derived == ("due_from_standard",)
    assert commitments.field("direction").default == "to_customer"
    assert commitments.field("cancelled").default is False
    assert commitments.field("cancelled").type == "bool"
    assert commitments.field("customer_type").allowed == ("internal", "external")
    events = RECORD_KINDS["events"]
    assert events.required == ("commitment_id", "stage", "at")  # seq has the table's default
    assert events.field("log_order").type == "int"
    assert events.references == (("commitment_id", "commitments", "commitment_id"),)
    assert RECORD_KINDS["notices"].columns == ("commitment_id", "sent_at", "channel", "kind")
    assert RECORD_KINDS["holidays"].field("day").type == "datetime"  # a Date, read as a date
    assert RECORD_KINDS["calendars"].field("weekday").type == "str"  # a name or a number
    assert RECORD_KINDS["policies"].field("target_hours").type == "float"
    assert RECORD_KINDS["satisfaction"].field("csat").range == (1, 5)
    assert RECORD_KINDS["satisfaction"].field("nps").range == (0, 10)
    assert RECORD_KINDS["processes"].field("stage_order").range == (0, None)
    dated = {(k, f.name): f.not_before for k, r in RECORD_KINDS.items() for f in r.fields}
    assert {key: v for key, v in dated.items() if v} == {
        ("commitments", "due_at"): "requested_at",
        ("commitments", "delivered_at"): "requested_at",
        ("complaints", "resolved_at"): "opened_at",
    }
    assert RECORD_KINDS["dependencies"].references == (
        ("commitment_id", "commitments", "commitment_id"),
        ("depends_on", "commitments", "commitment_id"),
    )


def test_weekday_words_name_each_day_once() -> None:
    from etl.schema import WEEKDAY_WORDS

    assert WEEKDAY_WORDS["mon"] == WEEKDAY_WORDS["lunes"] == 0
    assert WEEKDAY_WORDS["mié"] == WEEKDAY_WORDS["miercoles"] == WEEKDAY_WORDS["wednesday"] == 2
    assert WEEKDAY_WORDS["sáb"] == WEEKDAY_WORDS["sab"] == 5
    assert WEEKDAY_WORDS["dom"] == WEEKDAY_WORDS["sun"] == 6
    assert len(set(WEEKDAY_WORDS.values())) == 7
