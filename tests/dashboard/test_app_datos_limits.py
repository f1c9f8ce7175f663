"""Datos (AppTest): a hostile upload is refused with the file and the limit named, by the
bounded worker, and nothing is written; the page stays usable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.ui.texts import tr
from etl.db import create_db_engine
from tests.dashboard.conftest import make_app
from tests.etl.test_upload_limits import _huge_dimension


def test_a_workbook_declaring_a_huge_sheet_is_refused(
    monkeypatch: pytest.MonkeyPatch, sample_db_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "datos.duckdb"
    shutil.copy(Path(sample_db_url.removeprefix("duckdb:///")), target)
    url = f"duckdb:///{target}"
    monkeypatch.setenv("ESLABON_SCRATCH_DIR", str(tmp_path / "scratch"))
    at = make_app(monkeypatch, url, page="datos", lang="en")
    at.run(timeout=120)
    assert not at.exception
    uploader = next(u for u in at.file_uploader if (u.key or "").startswith("datos_files_"))
    uploader.set_value([("commitments.xlsx", _huge_dimension(), "application/octet-stream")])
    at.run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    assert errors[0].startswith(tr("preview_failed", "en", reason="")[:20])
    assert "commitments.xlsx, sheet 'Sheet': declares 1,048,576 rows × 16,384 columns" in (
        errors[0].replace("\\", "")
    )
    assert "ESLABON\\_UPLOAD\\_MAX\\_ROWS" in errors[0]
    assert not [b for b in at.button if b.key == "datos_load"]  # no Load without a preview
    engine = create_db_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM load_batches")).scalar() == 1
    engine.dispose()
    assert list((tmp_path / "scratch").rglob("*.duckdb")) == []
