"""Calendar feeds parsed back with the icalendar library: UIDs, times, alarms, scopes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from icalendar import Calendar, Component

from dashboard.report.cli import main
from dashboard.services.calendar_feed import calendar_feed, event_uid
from etl.db import create_db_engine
from etl.schema import create_schema
from tests.dashboard.world import AS_OF, load_chain_world

STAMP = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
MADRID = ZoneInfo("Europe/Madrid")


def _events(ics: bytes) -> dict[str, Component]:
    calendar = Calendar.from_ical(ics)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_customer_feed_times_uids_and_alarms(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.connect() as conn:
        ics = calendar_feed(conn, AS_OF, customer="Acme", stamp=STAMP)
        again = calendar_feed(conn, AS_OF, customer="Acme", stamp=STAMP)
        later = calendar_feed(conn, AS_OF, customer="Acme")  # another run, another DTSTAMP
    assert ics == again  # same data, same stamp: byte-identical
    events = _events(ics)
    # cancelled X1 is not in the calendar
    assert set(events) == {"D1@eslabon", "D2@eslabon", "F1@eslabon", "P1@eslabon"}
    assert set(_events(later)) == set(events)  # UIDs stable across runs
    d1 = events["D1@eslabon"]
    # due Wed 25 Nov 18:00 Madrid: a 30-minute event ending at the due moment
    assert d1.decoded("DTEND") == datetime(2026, 11, 25, 18, 0, tzinfo=MADRID)
    assert d1.decoded("DTSTART") == datetime(2026, 11, 25, 17, 30, tzinfo=MADRID)
    assert d1.decoded("DTEND").utcoffset() == timedelta(hours=1)
    assert "Armario A-12" in str(d1["SUMMARY"])
    assert "Ana" in str(d1["DESCRIPTION"])
    # F1 is due at the end of Mon 23: an all-day event, with two reminders before
    f1 = events["F1@eslabon"]
    assert f1.decoded("DTSTART") == date(2026, 11, 23)
    assert f1.decoded("DTEND") == date(2026, 11, 24)
    triggers = sorted(a.decoded("TRIGGER") for a in f1.walk("VALARM"))
    assert triggers == [timedelta(days=-2), timedelta(hours=-2)]
    assert all(str(a["ACTION"]) == "DISPLAY" for a in f1.walk("VALARM"))
    # alarms only on commitments the customer made
    for uid in ("D1@eslabon", "D2@eslabon", "P1@eslabon"):
        assert events[uid].walk("VALARM") == []
    # D2 is late at as_of, P1 delivered
    assert str(events["D2@eslabon"]["SUMMARY"]).startswith("[Con retraso]")
    assert str(events["P1@eslabon"]["SUMMARY"]).startswith("[Entregado]")
    # the zone the times refer to travels with the file
    assert [str(tz["TZID"]) for tz in Calendar.from_ical(ics).walk("VTIMEZONE")] == [
        "Europe/Madrid"
    ]


def test_performer_and_process_scopes_and_english(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.connect() as conn:
        ana = _events(calendar_feed(conn, AS_OF, performer="Ana", lang="en", stamp=STAMP))
        compras = _events(calendar_feed(conn, AS_OF, process="Compras", stamp=STAMP))
        everything = _events(calendar_feed(conn, AS_OF, stamp=STAMP))
        customer_copy = calendar_feed(
            conn, AS_OF, customer="Acme", internal=False, stamp=STAMP
        ).decode()
    assert set(ana) == {"D1@eslabon", "G1@eslabon"}
    assert str(ana["G1@eslabon"]["SUMMARY"]) == "Due: Globex secret project (G1)"
    assert set(compras) == {"U1@eslabon", "U2@eslabon"}
    assert len(everything) == 8  # all but the cancelled one
    assert "Ana" not in customer_copy and "Marta" not in customer_copy
    assert event_uid("D1") == "D1@eslabon"


def test_renegotiated_due_date_bumps_sequence(engine: sa.Engine) -> None:
    load_chain_world(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE commitments SET original_due_at = :o, due_at = :d"
                " WHERE commitment_id = 'D1'"
            ),
            {"o": datetime(2026, 11, 25, 18), "d": datetime(2026, 11, 27, 18)},
        )
    with engine.connect() as conn:
        events = _events(calendar_feed(conn, AS_OF, customer="Acme", stamp=STAMP))
    assert events["D1@eslabon"].decoded("DTEND") == datetime(2026, 11, 27, 18, tzinfo=MADRID)
    assert int(str(events["D1@eslabon"]["SEQUENCE"])) == 1
    assert int(str(events["D2@eslabon"]["SEQUENCE"])) == 0


def test_command_line_writes_an_ics(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "c.duckdb"
    engine = create_db_engine(f"duckdb:///{db}")
    create_schema(engine)
    load_chain_world(engine)
    engine.dispose()
    out = tmp_path / "acme.ics"
    args = ["calendar", "--customer", "Acme", "--db", str(db), "--as-of", "2026-11-20 12:00"]
    assert main([*args, "--out", str(out), "--external"]) == 0
    events = _events(out.read_bytes())
    assert set(events) == {"D1@eslabon", "D2@eslabon", "F1@eslabon", "P1@eslabon"}
    assert b"Ana" not in out.read_bytes()
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "acme.txt")]) == 2
    assert "must end in .ics" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["calendar", "--customer", "A", "--performer", "B", "--out", str(out)])
