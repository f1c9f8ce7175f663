"""The one definition of Eslabón's database and import files.

Every table is declared here once (SQLAlchemy Core). A canonical import file
(`RECORD_KINDS`) is read off its table's Column objects: its columns, their types, which
are required (NOT NULL), the key (the primary key); `Column.info` says what SQL cannot
(`NOT_READ`, `FILE_DEFAULT`, `OPTIONAL`, `READ_AS`, `REFERENCES`, `ALLOWED`, `RANGE`,
`NOT_BEFORE`). Readers, validation, loading, metrics and tests all take the schema from
this module, and every closed list of words a column may hold is a tuple constant here.

Timestamps are stored as naive wall-clock times in the configured time zone
(`ESLABON_TZ`): a value with a UTC offset is converted to that zone on load, and a
date without a time means the end of that day. Storing wall-clock time keeps ISO-week
bucketing and "end of day" identical on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

SCHEMA_VERSION = 1

metadata = sa.MetaData()

# --- what SQL cannot say: Column.info keys ---------------------------------------

# Never read from an import file: derived at load, or written by the app / the loader.
NOT_READ = "not_read"
# A NOT_READ column the loader derives per row and merges like the file's own columns.
MERGED = "merged"
# The value an empty or missing cell takes in an import file.
FILE_DEFAULT = "file_default"
# NOT NULL in the table, yet a file may leave it empty (the value says who fills it).
OPTIONAL = "optional"
# The file's type where it differs from the table's (a weekday may be written as a name).
READ_AS = "read_as"
# (record kind, column) that every present value must exist in, in the batch or the database.
REFERENCES = "references"
# The words the column may hold (an import compares them after trim + lower case).
ALLOWED = "allowed"
# (low, high) inclusive bounds of a whole number; None = unbounded on that side.
RANGE = "range"
# A date column that must not fall on a day before this other column's (when both given).
NOT_BEFORE = "not_before"

# --- allowed values: each closed list once ----------------------------------------

CUSTOMER_TYPES: tuple[str, ...] = ("internal", "external")
# whose commitment it is: ours to the customer, or the customer's to us
DIRECTIONS: tuple[str, ...] = ("to_customer", "from_customer")
# which way a target's KPI is better
TARGET_DIRECTIONS: tuple[str, ...] = ("higher", "lower")
ACTION_STATUSES: tuple[str, ...] = ("open", "done", "dropped")
# what the app offers when a notice is recorded (imported notices keep their own words)
NOTICE_KINDS: tuple[str, ...] = ("at_risk", "overdue", "renegotiation", "other")
NOTICE_CHANNELS: tuple[str, ...] = ("email", "phone", "meeting", "portal", "other")
LANGUAGES: tuple[str, ...] = ("es", "en")
# a subscription's weekday (0 = Monday), a calendar's (1 = Monday) is its position + 1
WEEKDAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES_EN: tuple[str, ...] = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)  # fmt: skip
WEEKDAY_NAMES_ES: tuple[str, ...] = (
    "lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo",
)  # fmt: skip
# Every word a file or a form may name a day with (lower case) -> 0 = Monday … 6 = Sunday:
# English and Spanish, whole or cut to three letters, Spanish also without its accent.
WEEKDAY_WORDS: dict[str, int] = {
    word: day
    for names in (WEEKDAY_NAMES, WEEKDAY_NAMES_EN, WEEKDAY_NAMES_ES)
    for day, name in enumerate(names)
    for word in (
        name,
        name[:3],
        name.replace("é", "e").replace("á", "a"),
        name[:3].replace("é", "e").replace("á", "a"),
    )
}
DELIVERY_KINDS: tuple[str, ...] = ("subscription", "alert", "test")
DELIVERY_CHANNELS: tuple[str, ...] = ("email", "webhook")
DELIVERY_RESULTS: tuple[str, ...] = ("sent", "failed")

_COMMITMENT_REF = {REFERENCES: ("commitments", "commitment_id")}


def _batch_id() -> sa.Column[Any]:
    """The load batch that last wrote a record row (set by the loader, never read)."""
    return sa.Column("batch_id", sa.Integer, info={NOT_READ: True})


def _quoted(name: str, type_: type[sa.types.TypeEngine[Any]], *, nullable: bool) -> sa.Column[Any]:
    """A column whose name is a reserved word in DuckDB (`at`): always quoted in DDL.

    Hand-written SQL must quote it too: `e."at"`.
    """
    return sa.Column(name, type_, quote=True, nullable=nullable)


def _not_duckdb(
    ddl: object, target: object, bind: object, *args: object, dialect: sa.Dialect, **kw: object
) -> bool:
    return dialect.name != "duckdb"


def _record_key(*columns: str) -> sa.PrimaryKeyConstraint:
    """The primary key of a bulk-loaded record table: declared on PostgreSQL, not on DuckDB.

    DuckDB keeps a key's ART index wholly in memory and builds it value by value while a
    load inserts; the keys cost a large share of a big load's time and memory
    (docs/benchmarks.md), and DuckDB's join and scan plans never use them. The
    loader keeps the keys unique without them: validation rejects duplicate keys within a
    file and the merge inserts only keys the table does not hold (tests/etl). SQLAlchemy
    still knows the key (Table.primary_key); the columns stay NOT NULL on both databases.
    """
    return sa.PrimaryKeyConstraint(*columns).ddl_if(callable_=_not_duckdb)


processes = sa.Table(
    "processes",
    metadata,
    sa.Column("process", sa.String, primary_key=True),
    sa.Column("stage_order", sa.Integer, info={RANGE: (0, None)}),
    sa.Column("area", sa.String),
    sa.Column("description", sa.String),
    _batch_id(),
)

commitments = sa.Table(
    "commitments",
    metadata,
    sa.Column("commitment_id", sa.String, nullable=False),
    sa.Column("title", sa.String),
    sa.Column("process", sa.String, nullable=False),
    sa.Column("performer", sa.String),
    sa.Column("customer", sa.String, nullable=False),
    sa.Column("customer_type", sa.String, info={ALLOWED: CUSTOMER_TYPES}),
    sa.Column(
        "direction",
        sa.String,
        nullable=False,
        info={ALLOWED: DIRECTIONS, FILE_DEFAULT: "to_customer"},
    ),
    sa.Column("requested_at", sa.DateTime, nullable=False),
    sa.Column("promised_at", sa.DateTime),
    # required unless a service standard covers the commitment
    sa.Column(
        "due_at",
        sa.DateTime,
        nullable=False,
        info={OPTIONAL: "service standard", NOT_BEFORE: "requested_at"},
    ),
    sa.Column("original_due_at", sa.DateTime),
    sa.Column("delivered_at", sa.DateTime, info={NOT_BEFORE: "requested_at"}),
    sa.Column("accepted_at", sa.DateTime),
    sa.Column("cancelled", sa.Boolean, nullable=False, info={FILE_DEFAULT: False}),
    sa.Column("priority", sa.String),
    sa.Column("category", sa.String),
    # The source system's own verdict (e.g. a service desk's made_sla), kept to audit
    # Eslabón's verdict against it (dashboard.metrics.standards.verdict_agreement).
    sa.Column("source_on_time", sa.Boolean),
    # Service standards (etl/standards.py): derived at load, never read from a file.
    # `due_from_standard` marks a due_at the standard gave (the file had none); the
    # standard's own date is kept beside an explicit promise so both can be judged.
    sa.Column("due_from_standard", sa.Boolean, info={NOT_READ: True, MERGED: True}),
    sa.Column("standard_due_at", sa.DateTime, info={NOT_READ: True}),
    sa.Column("policy_id", sa.String, info={NOT_READ: True}),
    sa.Column("policy_version", sa.Integer, info={NOT_READ: True}),
    # How many intervals of `commitment_pauses` it has (0: its clock never paused);
    # NULL until the standards refresh has stored them (a database from before them).
    sa.Column("pause_count", sa.Integer, info={NOT_READ: True}),
    _batch_id(),
    _record_key("commitment_id"),
)

# Every page looks at a period of due dates (13 weeks by default), and a database that
# holds years keeps most rows outside it. DuckDB skips those row groups by their min/max
# (zone maps); PostgreSQL has no such thing on a heap, so it read the whole table per
# call. A BRIN index is that min/max per range of 128 pages: a few pages large, cheap to
# keep on every load, and it works because loads write commitments in about due-date
# order (correlation 0.999 on the sample). The load summarizes the ranges it filled
# (etl.load.refresh_statistics); docs/benchmarks.md, "The team server", has the figures.
DUE_DATE_RANGES = sa.Index(
    "ix_commitments_due_at_brin", commitments.c.due_at, postgresql_using="brin"
).ddl_if(callable_=_not_duckdb)

dependencies = sa.Table(
    "dependencies",
    metadata,
    sa.Column("commitment_id", sa.String, nullable=False, info=_COMMITMENT_REF),  # downstream
    sa.Column("depends_on", sa.String, nullable=False, info=_COMMITMENT_REF),  # upstream
    _batch_id(),
    _record_key("commitment_id", "depends_on"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("commitment_id", sa.String, nullable=False, info=_COMMITMENT_REF),
    sa.Column("stage", sa.String, nullable=False),
    _quoted("at", sa.DateTime, nullable=False),
    # Process logs can record the very same step twice (same case, stage and instant);
    # `seq` numbers such repeats 1, 2, … in file order so none is lost and a reload
    # of the same file matches the same rows.
    sa.Column("seq", sa.Integer, nullable=False, default=1),
    sa.Column("actor", sa.String),
    # The event's place in its source log: the log's own sequence column when the mapping
    # names one, else the row number in the file. Two events of a case at the same
    # instant keep this order, as a process-mining tool keeps the file's (NULL: loaded
    # before this column existed; the stage name then breaks the tie).
    sa.Column("log_order", sa.BigInteger),
    _batch_id(),
    _record_key("commitment_id", "stage", "at", "seq"),
)

# Each event with the next event of its case (`next_stage`, `next_at`; NULL for a case's
# last event), in the process map's order (by `at`, then `log_order`, stage, seq). Derived,
# never read from a file: rewritten by each load for the cases whose events it changed
# (etl/event_steps.py), so the process map reads the pairs instead of sorting the whole
# log on every call (a sort costs n log n: above linear from 1M to 10M commitments).
event_steps = sa.Table(
    "event_steps",
    metadata,
    sa.Column("commitment_id", sa.String, nullable=False),
    sa.Column("stage", sa.String, nullable=False),
    _quoted("at", sa.DateTime, nullable=False),
    sa.Column("next_stage", sa.String),
    sa.Column("next_at", sa.DateTime),
)

# Columns added to a table after its first release: (table, column), created in
# databases made before them by `create_schema` (an ALTER TABLE ... ADD COLUMN).
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("events", "log_order"),
    ("rejected_rows", "reason_code"),
    # service standards (etl/standards.py)
    ("commitments", "priority"),
    ("commitments", "category"),
    ("commitments", "source_on_time"),
    ("commitments", "due_from_standard"),
    ("commitments", "standard_due_at"),
    ("commitments", "policy_id"),
    ("commitments", "policy_version"),
    ("commitments", "pause_count"),
)

# Service standards (etl/standards.py): each covered commitment's pause intervals, from
# its events and its policy's pause stages, stored by the standards refresh after each
# batch so metrics subtract them instead of rebuilding them from the event log. Derived,
# never read from a file. `paused_until` NULL: the latest event is a pause stage, so the
# clock stays paused until the commitment's delivery or the evaluation instant.
commitment_pauses = sa.Table(
    "commitment_pauses",
    metadata,
    sa.Column("commitment_id", sa.String, nullable=False),
    sa.Column("paused_from", sa.DateTime, nullable=False),
    sa.Column("paused_until", sa.DateTime),
)

satisfaction = sa.Table(
    "satisfaction",
    metadata,
    sa.Column("response_id", sa.String, nullable=False),
    sa.Column("commitment_id", sa.String, info=_COMMITMENT_REF),
    sa.Column("customer", sa.String, nullable=False),
    sa.Column("answered_at", sa.DateTime, nullable=False),
    sa.Column("csat", sa.Integer, info={RANGE: (1, 5)}),
    sa.Column("nps", sa.Integer, info={RANGE: (0, 10)}),
    sa.Column("comment", sa.String),
    _batch_id(),
    _record_key("response_id"),
)

complaints = sa.Table(
    "complaints",
    metadata,
    sa.Column("complaint_id", sa.String, nullable=False),
    sa.Column("commitment_id", sa.String, info=_COMMITMENT_REF),
    sa.Column("customer", sa.String, nullable=False),
    sa.Column("opened_at", sa.DateTime, nullable=False),
    sa.Column("resolved_at", sa.DateTime, info={NOT_BEFORE: "opened_at"}),
    sa.Column("category", sa.String),
    sa.Column("severity", sa.String),
    _batch_id(),
    _record_key("complaint_id"),
)

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("commitment_id", sa.String, nullable=False, info=_COMMITMENT_REF),
    sa.Column("sent_at", sa.DateTime, nullable=False),
    sa.Column("channel", sa.String),  # the app offers NOTICE_CHANNELS; a file any word
    sa.Column("kind", sa.String),  # the app offers NOTICE_KINDS; a file any word
    # Who recorded it and when: set by the app's "mark as notified", empty for imports.
    sa.Column("recorded_by", sa.String, info={NOT_READ: True}),
    sa.Column("recorded_at", sa.DateTime, info={NOT_READ: True}),
    _batch_id(),
    _record_key("commitment_id", "sent_at"),
)

calendars = sa.Table(
    "calendars",
    metadata,
    sa.Column("calendar", sa.String, nullable=False),
    # 1 = Monday … 7 = Sunday; a file may name the day (etl.standards reads it)
    sa.Column("weekday", sa.Integer, nullable=False, info={READ_AS: "str"}),
    sa.Column("start", sa.String, nullable=False, quote=True),  # HH:MM local wall clock
    sa.Column("end", sa.String, nullable=False, quote=True),  # HH:MM, 24:00 = midnight
    sa.Column("country", sa.String),  # public holidays of this place (holidays package)
    sa.Column("subdivision", sa.String),
    _batch_id(),
    _record_key("calendar", "weekday", "start"),
)

holidays = sa.Table(
    "holidays",
    metadata,
    sa.Column("calendar", sa.String, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("name", sa.String),
    _batch_id(),
    _record_key("calendar", "day"),
)

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("policy_id", sa.String, nullable=False),
    # A later valid_from for the same policy_id is a new version (numbered 1, 2, … by
    # valid_from when commitments are judged); versions are never rewritten.
    sa.Column("valid_from", sa.DateTime, nullable=False),
    sa.Column("target_hours", sa.Double, nullable=False),
    sa.Column("calendar", sa.String),  # NULL = round the clock
    sa.Column("process", sa.String),
    sa.Column("customer_type", sa.String, info={ALLOWED: CUSTOMER_TYPES}),
    sa.Column("priority", sa.String),
    sa.Column("category", sa.String),
    sa.Column("pause_stages", sa.String),  # '|'-separated event stages
    sa.Column("set_by", sa.String),
    _batch_id(),
    _record_key("policy_id", "valid_from"),
)

load_batches = sa.Table(
    "load_batches",
    metadata,
    sa.Column("batch_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("status", sa.String, nullable=False),  # committed (failed batches leave no row)
    sa.Column("loaded_by", sa.String),
    sa.Column("note", sa.String),
)

load_batch_files = sa.Table(
    "load_batch_files",
    metadata,
    sa.Column("batch_id", sa.Integer, primary_key=True),
    sa.Column("path", sa.String, primary_key=True),
    sa.Column("kind", sa.String, primary_key=True),
    sa.Column("sha256", sa.String, nullable=False),
    sa.Column("mapping", sa.String),
    sa.Column("rows_read", sa.Integer, nullable=False),
    sa.Column("rows_new", sa.Integer, nullable=False),
    sa.Column("rows_changed", sa.Integer, nullable=False),
    sa.Column("rows_unchanged", sa.Integer, nullable=False),
    sa.Column("rows_rejected", sa.Integer, nullable=False),
)

rejected_rows = sa.Table(
    "rejected_rows",
    metadata,
    sa.Column("batch_id", sa.Integer, nullable=False),
    sa.Column("path", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("row_number", sa.Integer),  # line in the source file; header = 1
    sa.Column("column_name", sa.String),
    sa.Column("reason", sa.String, nullable=False),  # in English, as the CLI prints it
    sa.Column("raw", sa.String),  # the source row as JSON, so nothing is lost
    # the reason as {"code", "params"} JSON (etl.reasons), to word it in any language
    sa.Column("reason_code", sa.String),
)

# Warnings of a load (etl.records.LoadWarning): rows loaded that a person must look at.
load_warnings = sa.Table(
    "load_warnings",
    metadata,
    sa.Column("batch_id", sa.Integer, nullable=False),
    sa.Column("path", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("code", sa.String, nullable=False),
    sa.Column("params", sa.String),  # JSON
    sa.Column("message", sa.String, nullable=False),  # English, as the CLI printed it
)

targets = sa.Table(
    "targets",
    metadata,
    sa.Column("target_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kpi", sa.String, nullable=False),
    sa.Column("process", sa.String),  # NULL = whole organisation
    sa.Column("target_value", sa.Double, nullable=False),  # DuckDB FLOAT is 32-bit
    sa.Column("direction", sa.String, nullable=False, info={ALLOWED: TARGET_DIRECTIONS}),
    sa.Column("amber_tolerance", sa.Double, nullable=False),
    sa.Column("valid_from", sa.DateTime, nullable=False),
    sa.Column("set_by", sa.String),
    sa.Column("set_at", sa.DateTime, nullable=False),
    sa.Column("note", sa.String),
)

action_items = sa.Table(
    "action_items",
    metadata,
    sa.Column("action_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("week", sa.String, nullable=False),  # ISO week it was raised in, 2026-W47
    sa.Column("what", sa.String, nullable=False),
    sa.Column("owner", sa.String),
    sa.Column("due_date", sa.Date),
    sa.Column("status", sa.String, nullable=False, info={ALLOWED: ACTION_STATUSES}),
    sa.Column("commitment_id", sa.String),
    sa.Column("created_by", sa.String),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("closed_at", sa.DateTime),
)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("subscription_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("email", sa.String, nullable=False),
    # the recipient's filter: JSON lists of MetricFilter values ([] = all)
    sa.Column("processes", sa.String, nullable=False),
    sa.Column("customers", sa.String, nullable=False),
    sa.Column("customer_types", sa.String, nullable=False),
    sa.Column("lang", sa.String, nullable=False, info={ALLOWED: LANGUAGES}),
    sa.Column("weekday", sa.Integer, nullable=False),  # 0 = Monday .. 6 = Sunday
    sa.Column("hour", sa.Integer, nullable=False),  # 0..23, wall clock in ESLABON_TZ
    sa.Column("formats", sa.String, nullable=False),  # "pdf,xlsx", "pdf", "" (body only)
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.String),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# Alert rules: a condition on a KPI or on commitments, within a filter, to e-mail
# addresses and/or a webhook. `condition`: below_target, worse_than_last_week, above,
# below (KPI rules, `threshold` in the KPI's unit or points); at_risk, newly_breached
# (commitment rules; at_risk's optional `threshold` is an elapsed share 0..1).
alert_rules = sa.Table(
    "alert_rules",
    metadata,
    sa.Column("rule_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("kpi", sa.String),  # NULL for commitment rules
    sa.Column("condition", sa.String, nullable=False),
    sa.Column("threshold", sa.Double),
    sa.Column("processes", sa.String, nullable=False),  # JSON lists, [] = all
    sa.Column("customers", sa.String, nullable=False),
    sa.Column("customer_types", sa.String, nullable=False),
    sa.Column("lang", sa.String, nullable=False, info={ALLOWED: LANGUAGES}),
    sa.Column("emails", sa.String, nullable=False),  # comma-separated, may be empty
    sa.Column("webhook_url", sa.String),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.String),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# One row per condition episode: opened when a rule's condition starts to hold for a
# subject (the KPI: subject ''; a commitment: its id), closed when it stops, so an alert
# fires once per episode and re-arms after. `reason`/`link` keep what the alert says, so
# a failed send is retried with the same words.
alert_episodes = sa.Table(
    "alert_episodes",
    metadata,
    sa.Column("rule_id", sa.Integer, nullable=False),
    sa.Column("subject", sa.String, nullable=False),
    sa.Column("opened_at", sa.DateTime, nullable=False),
    sa.Column("closed_at", sa.DateTime),
    sa.Column("reason", sa.String, nullable=False),  # in the rule's language
    sa.Column("link", sa.String, nullable=False),
    sa.PrimaryKeyConstraint("rule_id", "subject", "opened_at"),
)

# Every send attempt of a subscription or an alert, successful or not: the log the
# Suscripciones page shows, and what makes `report deliver` idempotent (a (kind, ref_id,
# occurrence, recipient) with a `sent` row is never sent again).
delivery_log = sa.Table(
    "delivery_log",
    metadata,
    sa.Column("attempt_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String, nullable=False, info={ALLOWED: DELIVERY_KINDS}),
    sa.Column("ref_id", sa.Integer, nullable=False),  # subscription_id or rule_id
    sa.Column("occurrence", sa.String, nullable=False),  # the slot or episode it serves
    sa.Column("channel", sa.String, nullable=False, info={ALLOWED: DELIVERY_CHANNELS}),
    sa.Column("recipient", sa.String, nullable=False),
    sa.Column("subject", sa.String, nullable=False),
    sa.Column("attempted_at", sa.DateTime, nullable=False),
    sa.Column("result", sa.String, nullable=False, info={ALLOWED: DELIVERY_RESULTS}),
    sa.Column("detail", sa.String),  # the error, or what was attached
)

# The tables of subscriptions and alerts, created on first use in a database older than
# them (see dashboard.records.subscriptions.ensure_delivery_tables).
DELIVERY_TABLES: tuple[sa.Table, ...] = (subscriptions, delivery_log, alert_rules, alert_episodes)

dataset_meta = sa.Table(
    "dataset_meta",
    metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("value", sa.String),
)

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.DateTime, nullable=False),
)


# --- canonical import files -------------------------------------------------------


FieldType = Literal["str", "int", "float", "bool", "datetime"]

# How a file's text is typed, by the table's SQL type (a Date is read like a DateTime).
_FILE_TYPES: tuple[tuple[type[sa.types.TypeEngine[Any]], FieldType], ...] = (
    (sa.Boolean, "bool"),
    (sa.Integer, "int"),  # BigInteger too
    (sa.Float, "float"),  # Double too
    (sa.DateTime, "datetime"),
    (sa.Date, "datetime"),
    (sa.String, "str"),
)


@dataclass(frozen=True)
class Field:
    """One column of a canonical import file, as its table's Column declares it."""

    name: str
    type: FieldType
    required: bool = False
    default: object = None
    allowed: tuple[str, ...] | None = None
    range: tuple[int | None, int | None] = (None, None)
    not_before: str | None = None


def field_of(column: sa.Column[Any]) -> Field:
    """The import-file view of a table column.

    Required = NOT NULL without a default of any kind (the table's, the file's, or a
    filler named by `OPTIONAL`).
    """
    info = column.info
    read_as = info.get(READ_AS)
    type_ = read_as or next(t for sql, t in _FILE_TYPES if isinstance(column.type, sql))
    required = not (
        column.nullable or column.default is not None or FILE_DEFAULT in info or OPTIONAL in info
    )
    return Field(
        column.name,
        type_,
        required,
        info.get(FILE_DEFAULT),
        info.get(ALLOWED),
        info.get(RANGE, (None, None)),
        info.get(NOT_BEFORE),
    )


@dataclass(frozen=True)
class RecordKind:
    """A canonical import file: its table, columns, key and references."""

    name: str
    table: sa.Table
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    # column -> (kind, column) it must exist in; checked against the file and the database
    references: tuple[tuple[str, str, str], ...] = ()
    # stored columns the loader derives (never read from a file), merged like the others
    derived: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


def record_kind(table: sa.Table) -> RecordKind:
    """A record kind read off its table: every column a file may supply, in table order."""
    read = [c for c in table.columns if not c.info.get(NOT_READ)]
    return RecordKind(
        table.name,
        table,
        tuple(field_of(c) for c in read),
        key=tuple(table.primary_key.columns.keys()),
        references=tuple((c.name, *c.info[REFERENCES]) for c in read if REFERENCES in c.info),
        derived=tuple(c.name for c in table.columns if c.info.get(MERGED)),
    )


RECORD_KINDS: dict[str, RecordKind] = {
    table.name: record_kind(table)
    for table in (
        processes,
        commitments,
        dependencies,
        events,
        satisfaction,
        complaints,
        notices,
        calendars,
        holidays,
        policies,
    )
}

# Referenced kinds first, so a directory loads in one pass.
# Standards come before commitments: a commitment without due_at takes its date from them.
LOAD_ORDER: tuple[str, ...] = (
    "calendars",
    "holidays",
    "policies",
    "processes",
    "commitments",
    "dependencies",
    "events",
    "satisfaction",
    "complaints",
    "notices",
)


# Indexes added after their table's first release, created where an older database lacks
# them (create_all makes an index only with its table). PostgreSQL only, like their DDL.
ADDED_INDEXES: tuple[sa.Index, ...] = (DUE_DATE_RANGES,)
# The BRIN ones among them, whose new page ranges each load must summarize (etl.load).
BRIN_INDEXES: tuple[sa.Index, ...] = tuple(
    i for i in ADDED_INDEXES if i.dialect_options["postgresql"]["using"] == "brin"
)


def create_schema(engine: sa.Engine) -> None:
    """Create every table that does not exist yet and record the schema version."""
    with engine.begin() as conn:
        pairs_missing = not sa.inspect(conn).has_table(event_steps.name)
        metadata.create_all(conn)
        _add_missing_columns(conn)
        _add_missing_indexes(conn)
        if pairs_missing:  # a database made before the stored pairs: built from its events
            from etl.event_steps import store_all_event_steps  # it imports this module

            store_all_event_steps(conn)
        current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
        if current is None:
            conn.execute(
                schema_version.insert().values(version=SCHEMA_VERSION, applied_at=sa.func.now())
            )
        elif current > SCHEMA_VERSION:
            raise RuntimeError(
                f"database schema version {current} is newer than this release ({SCHEMA_VERSION})"
            )


def has_column(conn: sa.Connection, table_name: str, column_name: str) -> bool:
    """Whether the database's table has the column (an older one may lack ADDED_COLUMNS).

    A zero-row select, not the inspector: DuckDB's reflection needs pg_catalog tables it
    does not have. Only names declared in this module may be passed (never input).
    """
    if table_name not in metadata.tables:
        raise ValueError(f"unknown table {table_name!r}")
    result = conn.execute(sa.text(f"SELECT * FROM {table_name} LIMIT 0"))  # noqa: S608
    present = set(result.keys())
    result.fetchall()
    return column_name in present


def schema_is_current(conn: sa.Connection) -> bool:
    """Whether the database holds every table and added column of this release, so that a
    load may write into it without changing its schema first (what create_schema does)."""
    inspector = sa.inspect(conn)
    if not all(inspector.has_table(name) for name in metadata.tables):
        return False
    if not all(has_column(conn, table, column) for table, column in ADDED_COLUMNS):
        return False
    return not _missing_indexes(conn)


def _missing_indexes(conn: sa.Connection) -> list[sa.Index]:
    """The ADDED_INDEXES this PostgreSQL database lacks (none on DuckDB, which has none)."""
    if conn.dialect.name != "postgresql":
        return []
    inspector = sa.inspect(conn)
    missing = []
    for index in ADDED_INDEXES:
        assert index.table is not None
        present = {i["name"] for i in inspector.get_indexes(index.table.name)}
        if index.name not in present:
            missing.append(index)
    return missing


def _add_missing_indexes(conn: sa.Connection) -> None:
    """Create the ADDED_INDEXES an older PostgreSQL database lacks (summarized as built)."""
    for index in _missing_indexes(conn):
        index.create(conn)


def _add_missing_columns(conn: sa.Connection) -> None:
    """Columns of ADDED_COLUMNS that an older database lacks, added (nullable, empty)."""
    for table_name, column_name in ADDED_COLUMNS:
        if has_column(conn, table_name, column_name):
            continue
        column = metadata.tables[table_name].c[column_name]
        kind = column.type.compile(dialect=conn.dialect)
        # identifiers and the type come from this module, never from input
        conn.execute(sa.text(f'ALTER TABLE {table_name} ADD COLUMN "{column_name}" {kind}'))
