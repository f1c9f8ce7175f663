"""Names are data, never structure, in every output format.

A customer and a performer whose names hold CR, LF, a tab, quotes, `;`, `,`, a backslash
and the Unicode line and paragraph separators (a CR/LF in a customer name used to make
that customer's calendar feed answer 503 and the Seguimiento page fail). Each format is
read back with an independent reader: the calendar (icalendar, plus RFC 5545 unescaping
by hand), the CSV exports (the csv module), the workbook (openpyxl), the HTML pack
(html.parser), the drafted notices, the tracking link and the pages (AppTest).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from dashboard.access.secret_keys import new_secret
from dashboard.metrics.filters import MetricFilter
from dashboard.records.targets import set_target, targets_csv
from dashboard.report import kpis as kpi_report
from dashboard.report.weekly import review_html, review_xlsx
from dashboard.services.calendar_feed import calendar_feed, calendar_file_name, subscription_feed
from dashboard.services.notice_drafts import draft_notice, notice_candidates, notices_csv
from dashboard.services.review import WeeklyReview, weekly_review
from dashboard.services.tokens import CustomerAccess, make_token, read_token, tracking_link
from dashboard.ui.texts import md_escape
from etl.db import create_db_engine
from etl.exports import single_line
from etl.load import validate_files
from etl.preview import rejects_csv, rejects_frame
from tests.dashboard.apptest_support import all_text, page_app, world_db
from tests.dashboard.world import AS_OF, WEEK, load_chain_world

HOSTILE = 'Núñez\r\nS.L.\t"Q";,\\ x\u2028y\u2029z'
PERFORMER = 'Ana\nMaría; "la jefa",\\\r\u2028Ruiz'
SECRET = new_secret()
BREAKS = re.compile(r"[\r\n\v\f\x85\u2028\u2029]")


def _hostile_names(engine: sa.Engine) -> None:
    """Acme becomes HOSTILE, Ana becomes PERFORMER (commitments D1, D2, F1, P1, G1)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE commitments SET customer = :c WHERE customer = 'Acme'"), {"c": HOSTILE}
        )
        conn.execute(
            sa.text("UPDATE commitments SET performer = :p WHERE performer = 'Ana'"),
            {"p": PERFORMER},
        )


@pytest.fixture
def hostile(engine: sa.Engine) -> sa.Engine:
    load_chain_world(engine)
    _hostile_names(engine)
    return engine


# --- the one-line rule ------------------------------------------------------------------


@given(st.text(max_size=60))
def test_single_line_keeps_everything_but_breaks(text: str) -> None:
    line = single_line(text)
    assert len(line) == len(text)
    assert not BREAKS.search(line) and "\t" not in line
    for before, after in zip(text, line, strict=True):
        if unicodedata.category(before) not in ("Cc", "Zl", "Zp"):
            assert before == after


@given(st.text(max_size=60))
def test_markdown_escape_is_one_line(text: str) -> None:
    assert not BREAKS.search(md_escape(text))


# --- calendar ---------------------------------------------------------------------------


def _unfolded(data: bytes) -> list[str]:
    """RFC 5545 content lines: CRLF-separated, a line starting with a space continues."""
    text = data.decode("utf-8")
    assert re.search(r"(?<!\r)\n", text) is None  # every line ends with CRLF
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def _unescape(value: str) -> str:
    """RFC 5545 TEXT unescaping, by hand (independent of icalendar)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def test_customer_calendar_feed(hostile: sa.Engine) -> None:
    with hostile.connect() as conn:
        data = calendar_feed(conn, AS_OF, customer=HOSTILE, lang="en", internal=False)
        subscribed = subscription_feed(conn, make_token(HOSTILE, SECRET), SECRET, AS_OF, "en")
    assert subscribed is not None  # the feed that answered 503
    flat = single_line(HOSTILE)
    for raw in (data, subscribed):
        lines = _unfolded(raw)
        for line in lines:  # every line is a property, never a piece of a name
            assert re.match(r"^[A-Z][A-Z0-9-]*[;:]", line), line
        names = [_unescape(line.split(":", 1)[1]) for line in lines if line.startswith("NAME:")]
        assert names == [f"Eslabón: due dates — customer: {flat}"]
        calendar = Calendar.from_ical(raw)
        events = list(calendar.walk("VEVENT"))
        assert {str(e["UID"]) for e in events} == {
            "D1@eslabon", "D2@eslabon", "F1@eslabon", "P1@eslabon",
        }  # fmt: skip
        for event in events:
            description = str(event["DESCRIPTION"]).split("\n")
            assert description[0] == f"Customer: {flat}"
            assert [line.split(":")[0] for line in description] == [
                "Customer", "Stage", "Status",
            ]  # fmt: skip
        promised = next(e for e in events if str(e["UID"]) == "F1@eslabon")
        assert str(promised["SUMMARY"]).startswith(f"{flat} promised: ")


def test_performer_calendar_keeps_one_line_per_field(hostile: sa.Engine) -> None:
    with hostile.connect() as conn:
        data = calendar_feed(conn, AS_OF, performer=PERFORMER)
    events = list(Calendar.from_ical(data).walk("VEVENT"))
    assert {str(e["UID"]) for e in events} == {"D1@eslabon", "G1@eslabon"}
    for event in events:
        description = str(event["DESCRIPTION"]).split("\n")
        assert description[2] == f"Responsable: {single_line(PERFORMER)}"
        assert len(description) == 4


def test_calendar_file_name_is_a_safe_header_value() -> None:
    name = calendar_file_name("customer", HOSTILE)
    assert re.fullmatch(r"eslabon_customer_[A-Za-z0-9_-]+\.ics", name), name
    evil = calendar_file_name("customer\r\nX-Evil: 1", "\r\n")
    assert evil == "eslabon_customer_X-Evil_1_customer_X-Evil_1.ics"


# --- CSV, workbook, HTML ----------------------------------------------------------------


def _rows(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows and all(len(row) == len(rows[0]) for row in rows), rows
    return rows


def test_notices_csv_and_drafts(hostile: sa.Engine) -> None:
    with hostile.connect() as conn:
        candidates = notice_candidates(conn, MetricFilter(as_of=AS_OF))
    rows = _rows(notices_csv(candidates, "es"))
    column = rows[0].index("customer")
    assert HOSTILE in {row[column] for row in rows[1:]}  # the stored name, exactly
    plain = candidates.iloc[0].copy()
    plain["customer"], plain["title"] = "Acme", "Armario"
    hostile_row = plain.copy()
    hostile_row["customer"], hostile_row["title"] = HOSTILE, PERFORMER
    plain_draft, hostile_draft = draft_notice(plain, "en"), draft_notice(hostile_row, "en")
    assert not BREAKS.search(hostile_draft.subject)
    assert single_line(PERFORMER) in hostile_draft.subject
    assert hostile_draft.body.count("\n") == plain_draft.body.count("\n")


def test_kpi_csv_targets_csv_and_rejects_csv(hostile: sa.Engine) -> None:
    out = io.StringIO()
    records = [{"customer": HOSTILE, "on_time_rate": 0.5}, {"customer": "b", "on_time_rate": 1}]
    kpi_report.write_csv(records, ["customer", "on_time_rate"], out)
    assert _rows(out.getvalue()) == [["customer", "on_time_rate"], [HOSTILE, "0.5"], ["b", "1"]]

    with hostile.begin() as conn:
        set_target(
            conn, "on_time_rate", 0.9, "higher", 0.05, datetime(2026, 1, 1).date(), PERFORMER,
            process=HOSTILE,
        )  # fmt: skip
    with hostile.connect() as conn:
        rows = _rows(targets_csv(conn))
    assert HOSTILE in rows[1] and PERFORMER in rows[1]

    quoted = '"' + HOSTILE.replace('"', '""') + '"'
    data = (
        "commitment_id,title,process,customer,requested_at,due_at\n"
        f"R1,t,Ventas,{quoted},2026-01-05,not a date\n"
    ).encode()
    report = validate_files(hostile, [("commitments.csv", io.BytesIO(data))])
    rows = _rows(rejects_csv(rejects_frame(report)))
    assert len(rows) == 2 and HOSTILE in rows[1]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.data: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.data.append(data)


def test_weekly_workbook_and_html(hostile: sa.Engine) -> None:
    with hostile.connect() as conn:
        review = weekly_review(conn, WEEK, AS_OF)
    book = openpyxl.load_workbook(io.BytesIO(review_xlsx(review, "es")))
    cells = {ooxml_text(c.value) for s in book.worksheets for row in s.iter_rows() for c in row}
    assert any(isinstance(c, str) and c.replace("\r\n", "\n") == HOSTILE.replace("\r\n", "\n")
               for c in cells), "the customer's name, whole, in one cell"  # fmt: skip
    for lang in ("es", "en"):
        page = review_html(review, lang)
        parsed, plain = _Text(), _Text()
        parsed.feed(page)
        plain_review = review_html(weekly_review_plain(hostile), lang)
        plain.feed(plain_review)
        assert parsed.tags == plain.tags  # the same document structure as with plain names
        assert HOSTILE in "".join(parsed.data)


def ooxml_text(value: object) -> object:
    """A cell's text as Excel shows it: OOXML escapes a control character as `_xHHHH_`
    (ECMA-376, ST_Xstring), which XlsxWriter writes and openpyxl leaves as it is."""
    if not isinstance(value, str):
        return value
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def weekly_review_plain(engine: sa.Engine) -> WeeklyReview:
    """The same review with the plain names put back (the structure to compare with)."""
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE commitments SET customer = 'Acme' WHERE customer = :c"),
                     {"c": HOSTILE})  # fmt: skip
        conn.execute(sa.text("UPDATE commitments SET performer = 'Ana' WHERE performer = :p"),
                     {"p": PERFORMER})  # fmt: skip
    with engine.connect() as conn:
        review = weekly_review(conn, WEEK, AS_OF)
    _hostile_names(engine)
    return review


# --- tracking link and pages ------------------------------------------------------------


def test_tracking_link_carries_the_name_exactly() -> None:
    token = make_token(HOSTILE, SECRET)
    link = tracking_link("http://localhost:8501", token)
    assert re.fullmatch(r"[!-~]+", link), link  # printable ASCII, nothing to split a header
    access = read_token(token, SECRET)
    assert isinstance(access, CustomerAccess) and access.customer == HOSTILE


def _seguimiento() -> None:
    from dashboard.views import seguimiento

    seguimiento.page()


def _cliente() -> None:
    from dashboard.views import cliente

    cliente.page()


def _hostile_world_db(tmp_path: Path) -> str:
    url = world_db(tmp_path)
    engine = create_db_engine(url)
    _hostile_names(engine)
    engine.dispose()
    return url


def test_seguimiento_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = page_app(monkeypatch, _hostile_world_db(tmp_path), _seguimiento, commitment="D1")
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    text = all_text(at)
    assert md_escape(single_line(HOSTILE)) in text
    assert md_escape(single_line(PERFORMER)) in text
    labels = [b.proto.label for b in at.get("download_button")]
    assert len(labels) == 3 and not any(BREAKS.search(label) for label in labels)
    for element in (*at.caption, *at.markdown):
        assert not BREAKS.search(str(element.value))


def test_customer_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ESLABON_SECRET", SECRET)
    token = make_token(HOSTILE, SECRET)
    at = page_app(monkeypatch, _hostile_world_db(tmp_path), _cliente, token=token).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert md_escape(single_line(HOSTILE)) in all_text(at)
    for element in (*at.caption, *at.markdown):
        assert not BREAKS.search(str(element.value))
