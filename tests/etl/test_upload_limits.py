"""Uploads are bounded while they are read, in a worker that can be stopped.

Hostile files are built here: a tiny .xlsx declaring a 1,048,576 × 16,384 sheet, a small
zip bomb, a sheet whose rows outnumber the limit, CSV and Parquet files over the row
limit, a file over the byte limit. Each is refused with a message naming the file and
the limit, and the asserts are on what was read before the refusal (cells converted,
openpyxl never opened, the full CSV parse never run), not on time. The worker: a time
limit, a memory limit, a cancel that kills the child, an error that comes back, and a
killed server whose worker dies with it and whose scratch copy the next start removes.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from etl import read as read_module
from etl.db import create_db_engine
from etl.preview import bounded_preview, upload_read_limits
from etl.publish import SCRATCH_ENV, remove_stale_scratch, scratch_copy, scratch_root
from etl.read import ReadLimitError, ReadLimits, read_table
from etl.records import EtlError, ReadError
from etl.schema import create_schema
from etl.settings import PROJECT_ROOT
from etl.worker import WorkerLimitError, WorkerLimits, run_bounded
from tests.waiting import wait_for

LIMITS = ReadLimits(
    max_bytes=1 << 20,
    max_rows=10,
    max_columns=50,
    max_uncompressed_bytes=1 << 20,
    what="ESLABON_UPLOAD_MAX_ROWS",
)


def _workbook(rows: int = 2, columns: int = 2) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.worksheets[0]
    sheet.append([f"h{c}" for c in range(columns)])
    for r in range(rows - 1):
        sheet.append([f"v{r}-{c}" for c in range(columns)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rewritten(data: bytes, member: str, change: Callable[[bytes], bytes]) -> bytes:
    """The .xlsx with one member's bytes changed (the rest copied as they are)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == member:
                changed = change(body)
                assert changed != body, "the rewrite found nothing to change"
                body = changed
            target.writestr(info.filename, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"


def _huge_dimension() -> bytes:
    """A workbook of 2 × 2 cells that declares A1:XFD1048576 (1,048,576 × 16,384)."""
    return _rewritten(
        _workbook(), SHEET, lambda xml: xml.replace(b'ref="A1:B2"', b'ref="A1:XFD1048576"')
    )


def _counting_cells(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the cells the Excel reader converts (what a read of the sheet costs)."""
    seen = [0]
    original = read_module._excel_text

    def counted(cell: object) -> str | None:
        seen[0] += 1
        return original(cell)

    monkeypatch.setattr(read_module, "_excel_text", counted)
    return seen


def test_huge_declared_dimension_is_refused_before_a_row(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _huge_dimension()
    assert len(data) < 8000  # a few KB
    cells = _counting_cells(monkeypatch)
    with pytest.raises(ReadLimitError) as caught:
        read_table(io.BytesIO(data), name="bomb.xlsx", limits=LIMITS)
    message = str(caught.value)
    assert message.startswith("bomb.xlsx, sheet 'Sheet': declares 1,048,576 rows × 16,384")
    assert "10 rows × 50 columns" in message and "ESLABON_UPLOAD_MAX_ROWS" in message
    assert cells[0] == 0


def test_huge_declared_dimension_costs_only_its_real_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without limits (the trusted CLI) the declaration is not trusted either: openpyxl
    used to pad every row to 16,384 cells up to row 1,048,576 (forty minutes of CPU)."""
    cells = _counting_cells(monkeypatch)
    table = read_table(io.BytesIO(_huge_dimension()), name="bomb.xlsx")
    assert table.frame.to_dict("records") == [{"h0": "v0-0", "h1": "v0-1", "_row": 2}]
    assert cells[0] == 4


def test_rows_beyond_the_limit_stop_the_read(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _rewritten(  # a sheet that hides its size: no dimension element at all
        _workbook(rows=200), SHEET, lambda xml: re.sub(rb'<dimension ref="A1:B200"\s*/>', b"", xml)
    )
    cells = _counting_cells(monkeypatch)
    with pytest.raises(ReadLimitError) as caught:
        read_table(io.BytesIO(data), name="long.xlsx", limits=LIMITS)
    assert "long.xlsx, sheet 'Sheet': more than the 10 rows an upload may hold" in str(caught.value)
    assert cells[0] == 2 * 12  # header, 10 rows and the one too many: not 200 rows


def test_rows_beyond_excel_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _rewritten(_workbook(), SHEET, lambda xml: xml.replace(b'r="2"', b'r="1048577"'))
    cells = _counting_cells(monkeypatch)
    with pytest.raises(ReadError, match="beyond Excel's last row"):
        read_table(io.BytesIO(data), name="far.xlsx")
    assert cells[0] == 2


def test_zip_bomb_is_refused_before_inflating(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sheet padded with 64 MB of whitespace: ~64 KB zipped, refused by its declared
    size before openpyxl opens anything."""
    padding = b" " * (64 << 20)
    data = _rewritten(
        _workbook(), SHEET, lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + padding)
    )
    assert len(data) < 200_000
    opened: list[bool] = []
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: opened.append(True))
    with pytest.raises(ReadLimitError) as caught:
        read_table(io.BytesIO(data), name="bomb.xlsx", limits=LIMITS)
    message = str(caught.value)
    assert message.startswith("bomb.xlsx: unpacks to ")
    assert f"{SHEET}:" in message and "more than the 1,048,576 an upload may unpack" in message
    assert not opened


def test_csv_over_the_row_limit_is_refused_before_the_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[bool] = []
    original = pacsv.read_csv

    def counted(*a: Any, **k: Any) -> Any:
        parsed.append(True)
        return original(*a, **k)

    monkeypatch.setattr(pacsv, "read_csv", counted)
    body = "a,b\n" + "".join(f"{i},x\n" for i in range(1000))
    with pytest.raises(ReadLimitError, match=r"^rows\.csv: more than the 10 rows"):
        read_table(io.BytesIO(body.encode()), name="rows.csv", limits=LIMITS)
    crlf = "a,b\r\n" + "".join(f"{i},x\r\n" for i in range(11))
    with pytest.raises(ReadLimitError):
        read_table(io.BytesIO(crlf.encode()), name="crlf.csv", limits=LIMITS)
    lone_cr = "a,b\r" + "".join(f"{i},x\r" for i in range(1000))  # old Mac line ends
    with pytest.raises(ReadLimitError):
        read_table(io.BytesIO(lone_cr.encode()), name="cr.csv", limits=LIMITS)
    assert not parsed
    # Ten records whose values hold line breaks: more lines than the limit, not more rows.
    quoted = "a,b\n" + "".join(f'{i},"x\ny\nz"\n' for i in range(10))
    table = read_table(io.BytesIO(quoted.encode()), name="ok.csv", limits=LIMITS)
    assert len(table.frame) == 10 and parsed


def test_parquet_over_the_limits_is_refused_from_its_footer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.BytesIO()
    pq.write_table(pa.table({"a": list(range(100))}), out)
    read: list[bool] = []
    monkeypatch.setattr(pq, "read_table", lambda *a, **k: read.append(True))
    with pytest.raises(ReadLimitError, match=r"^p\.parquet: 100 rows, more than the 10 an upload"):
        read_table(io.BytesIO(out.getvalue()), name="p.parquet", limits=LIMITS)
    wide = io.BytesIO()
    pq.write_table(pa.table({f"c{i}": [1] for i in range(60)}), wide)
    with pytest.raises(ReadLimitError, match="60 columns, more than the 50"):
        read_table(io.BytesIO(wide.getvalue()), name="w.parquet", limits=LIMITS)
    assert not read


class _CountingReader(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.given = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.given += len(chunk)
        return chunk


def test_bytes_beyond_the_limit_are_never_read() -> None:
    source = _CountingReader(b"a,b\n" + b"1,2\n" * 500_000)
    with pytest.raises(ReadLimitError, match=r"^big\.csv: larger than the 1,048,576 bytes"):
        read_table(source, name="big.csv", limits=LIMITS)
    assert source.given == (1 << 20) + 1


def test_upload_limits_from_the_environment() -> None:
    limits = upload_read_limits(5 << 20, {"ESLABON_UPLOAD_MAX_ROWS": "7",
                                          "ESLABON_UPLOAD_MAX_UNPACKED_MB": "3"})  # fmt: skip
    assert (limits.max_bytes, limits.max_rows, limits.max_uncompressed_bytes) == (
        5 << 20, 7, 3 << 20,
    )  # fmt: skip
    assert (
        upload_read_limits(None, {"ESLABON_UPLOAD_MAX_UNPACKED_MB": "-1"}).max_uncompressed_bytes
        == 512 << 20
    )


# --- the worker -------------------------------------------------------------------------
# Run in a spawned child: module-level, so the child can import them.


def spin_forever() -> None:
    while True:
        pass


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes << 20))


def refuse(message: str) -> None:
    raise ReadError(message)


def write_pid_and_wait(path: str) -> None:
    Path(path).write_text(str(os.getpid()))
    threading.Event().wait()  # until killed


def hold_scratch(db_url: str, marker: str) -> None:
    """Open a scratch copy (as a preview does), say where, and keep it open."""
    with scratch_copy(db_url):
        Path(marker).write_text(str(os.getpid()))
        threading.Event().wait()  # until killed


def _dead(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie is dead too: its parent was killed, init reaps it
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return True


def test_worker_time_limit() -> None:
    with pytest.raises(WorkerLimitError, match=r"stopped after 1 s.*ESLABON_UPLOAD_MAX_SECONDS"):
        run_bounded(spin_forever, (), limits=WorkerLimits(seconds=1, memory_mb=512))


def test_worker_memory_limit() -> None:
    assert run_bounded(allocate, (50,), limits=WorkerLimits(seconds=60, memory_mb=300)) == 50 << 20
    with pytest.raises(WorkerLimitError, match=r"more than 300 MB.*ESLABON_UPLOAD_MAX_MEMORY_MB"):
        run_bounded(allocate, (4096,), limits=WorkerLimits(seconds=60, memory_mb=300))


def test_worker_error_comes_back() -> None:
    with pytest.raises(ReadError, match=r"^x\.csv: nope$"):
        run_bounded(refuse, ("x.csv: nope",), limits=WorkerLimits(seconds=60))


def test_worker_cancel_kills_the_child(tmp_path: Path) -> None:
    marker = tmp_path / "pid"

    class Cancelled(BaseException):
        pass

    def on_wait(_elapsed: float) -> None:
        if marker.exists() and marker.read_text():
            raise Cancelled  # what Streamlit raises when the user clicks or leaves

    with pytest.raises(Cancelled):
        run_bounded(write_pid_and_wait, (str(marker),), limits=WorkerLimits(), on_wait=on_wait)
    assert _dead(int(marker.read_text()))  # killed and reaped before run_bounded returned


@pytest.fixture
def scratch_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SCRATCH_ENV, str(tmp_path / "scratch"))
    return scratch_root()


@pytest.fixture
def duck_url(tmp_path: Path) -> str:
    url = f"duckdb:///{tmp_path / 'live.duckdb'}"
    engine = create_db_engine(url)
    create_schema(engine)
    engine.dispose()
    return url


def test_bounded_preview_refuses_hostile_and_previews_good(
    scratch_dir: Path, duck_url: str
) -> None:
    limits = upload_read_limits(1 << 20, {"ESLABON_UPLOAD_MAX_ROWS": "10"})
    with pytest.raises(EtlError, match=r"^bomb\.xlsx, sheet 'Sheet': declares 1,048,576 rows"):
        bounded_preview(duck_url, [("bomb.xlsx", _huge_dimension())], None,
                        read_limits=limits, limits=WorkerLimits(seconds=120))  # fmt: skip
    good = (
        b"commitment_id,title,process,customer,requested_at,due_at\n"
        b"C1,t,Ventas,Acme,2026-11-01,2026-11-10\n"
    )
    report = bounded_preview(duck_url, [("commitments.csv", good)], None,
                             read_limits=limits, limits=WorkerLimits(seconds=120))  # fmt: skip
    assert [(f.path, f.kind, f.read, f.new) for f in report.files] == [
        ("commitments.csv", "commitments", 1, 1)
    ]
    assert list(scratch_dir.iterdir()) == []  # the worker's scratch copy is gone


_SERVER = """
import sys
from etl.worker import WorkerLimits, run_bounded
from tests.etl.test_upload_limits import hold_scratch
run_bounded(hold_scratch, (sys.argv[1], sys.argv[2]), limits=WorkerLimits(seconds=600))
"""


def test_a_killed_server_leaves_no_worker_and_no_scratch(
    scratch_dir: Path, duck_url: str, tmp_path: Path
) -> None:
    marker = tmp_path / "worker.pid"
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, duck_url, str(marker)],
        cwd=PROJECT_ROOT, env={**os.environ, SCRATCH_ENV: str(scratch_dir.parent)},
    )  # fmt: skip
    try:
        assert wait_for(lambda: marker.exists() and bool(marker.read_text()), timeout=60)
        worker = int(marker.read_text())
        assert [p.name.split("-")[0] for p in scratch_dir.iterdir()] == [f"p{worker}"]
        server.send_signal(signal.SIGKILL)
        server.wait()
        assert wait_for(lambda: _dead(worker), timeout=60)  # the worker died with its server
        remove_stale_scratch()  # what the next server start (or preview) does
        assert list(scratch_dir.iterdir()) == []
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
