"""Dashboard fixtures: one DuckDB file with sample data per test session, and AppTest
helpers that point the app at it.

The database is loaded with the ETL's own command (`python -m etl load data/sample`)
when the ETL and the sample files are there; otherwise with a small deterministic data
set built here through tests/factories.py, so the pages can be tested either way.
"""

from __future__ import annotations

import importlib.util
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from etl.db import create_db_engine
from etl.schema import create_schema, dataset_meta, targets
from etl.settings import PROJECT_ROOT, SAMPLE_DIR
from tests.factories import commitment, insert_rows

APP = PROJECT_ROOT / "dashboard" / "app.py"
FIXTURE_AS_OF = datetime(2026, 11, 20, 12, 0)
STAGES = ("Ventas", "Planificación", "Compras", "Producción", "Logística")


def _etl_available() -> bool:
    """The ETL command line and the sample files exist in this tree."""
    return (
        importlib.util.find_spec("etl.cli") is not None
        and importlib.util.find_spec("etl.load") is not None
        and SAMPLE_DIR.is_dir()
        and any(SAMPLE_DIR.iterdir())
    )


def load_with_etl(url: str) -> None:
    """Load data/sample exactly as a user would."""
    for args in (["init"], ["load", str(SAMPLE_DIR)]):
        subprocess.run(
            [sys.executable, "-m", "etl", *args, "--db", url],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "ESLABON_DB_URL": url},
        )


def load_fixture(engine: sa.Engine) -> None:
    """A small deterministic value chain: 5 stages × 3 performers over 14 weeks, with
    dependencies (so breaches propagate), renegotiations, surveys, complaints, notices,
    customer commitments, one target and the dataset's own as_of.
    """
    create_schema(engine)
    rng = random.Random(20261120)
    insert_rows(
        engine,
        "processes",
        [{"process": p, "stage_order": i + 1, "area": "Operaciones"} for i, p in enumerate(STAGES)],
    )
    rows: list[dict] = []
    deps: list[dict] = []
    start = FIXTURE_AS_OF - timedelta(weeks=14)
    previous_stage: list[str] = []
    n = 0
    for stage_index, stage in enumerate(STAGES):
        current: list[str] = []
        for i in range(36):
            n += 1
            cid = f"C{n:04d}"
            due = start + timedelta(days=stage_index * 3 + i * 2.7, hours=17)
            upstream = rng.choice(previous_stage) if previous_stage else None
            late = rng.random() < (0.25 if stage_index < 2 else 0.35)
            delivered: datetime | None = due + (
                timedelta(days=rng.randint(1, 9)) if late else -timedelta(hours=rng.randint(1, 48))
            )
            if delivered and delivered > FIXTURE_AS_OF:
                delivered = None
            renegotiated = rng.random() < 0.15
            rows.append(
                commitment(
                    cid,
                    due,
                    delivered,
                    title=f"Pedido {n}",
                    process=stage,
                    performer=f"{stage[:3]}-{1 + i % 3}",
                    customer=f"Cliente {1 + i % 6}",
                    customer_type="external" if i % 2 else "internal",
                    requested_at=due - timedelta(days=10),
                    promised_at=due - timedelta(days=9),
                    original_due_at=due - timedelta(days=3) if renegotiated else None,
                )
            )
            if upstream:
                deps.append({"commitment_id": cid, "depends_on": upstream})
            current.append(cid)
        previous_stage = current
    for i in range(20):
        due = start + timedelta(days=i * 4.5, hours=12)
        rows.append(
            commitment(
                f"K{i:03d}",
                due,
                due - timedelta(hours=5) if i % 3 else due + timedelta(days=2),
                process="Ventas",
                performer="Ven-1",
                customer=f"Cliente {1 + i % 6}",
                direction="from_customer",
                requested_at=due - timedelta(days=7),
            )
        )
    insert_rows(engine, "commitments", rows)
    insert_rows(engine, "dependencies", deps)
    surveys = [
        {
            "response_id": f"S{i:04d}",
            "commitment_id": r["commitment_id"],
            "customer": r["customer"],
            "answered_at": r["due_at"] + timedelta(days=2),
            "csat": rng.randint(1, 5),
            "nps": rng.randint(0, 10),
            "comment": rng.choice(["Bien", "Tarde otra vez", "Excelente", None]),
        }
        for i, r in enumerate(rows[:150:2])
        if r["due_at"] + timedelta(days=2) < FIXTURE_AS_OF
    ]
    insert_rows(engine, "satisfaction", surveys)
    insert_rows(
        engine,
        "complaints",
        [
            {
                "complaint_id": f"Q{i:03d}",
                "commitment_id": r["commitment_id"],
                "customer": r["customer"],
                "opened_at": r["due_at"] + timedelta(days=1),
                "resolved_at": r["due_at"] + timedelta(days=3),
            }
            for i, r in enumerate(rows[5:150:11])
        ],
    )
    insert_rows(
        engine,
        "notices",
        [
            {"commitment_id": r["commitment_id"], "sent_at": r["due_at"] - timedelta(days=1)}
            for r in rows[3:180:7]
        ],
    )
    with engine.begin() as conn:
        conn.execute(dataset_meta.insert(), [{"key": "as_of", "value": FIXTURE_AS_OF.isoformat()}])
        conn.execute(
            targets.insert(),
            [
                {
                    "target_id": 1,
                    "kpi": "on_time_rate",
                    "process": None,
                    "target_value": 0.85,
                    "direction": "higher",
                    "amber_tolerance": 0.05,
                    "valid_from": datetime(2026, 1, 1),
                    "set_by": "calidad",
                    "set_at": datetime(2026, 1, 1),
                }
            ],
        )


@pytest.fixture(scope="session")
def sample_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A DuckDB file holding the sample data, shared by the session's dashboard tests."""
    path = tmp_path_factory.mktemp("dashboard") / "sample.duckdb"
    url = f"duckdb:///{path}"
    if _etl_available():
        load_with_etl(url)
    else:
        engine = create_db_engine(url)
        load_fixture(engine)
        engine.dispose()
    return url


@pytest.fixture
def sample_engine(sample_db_url: str) -> Iterator[sa.Engine]:
    """An engine on the session's sample database, for computing expected values."""
    engine = create_db_engine(sample_db_url)
    yield engine
    engine.dispose()


def make_app(monkeypatch: pytest.MonkeyPatch, url: str, **query: str | list[str]) -> AppTest:
    """An AppTest of the real entry point on `url`, with a query string."""
    monkeypatch.setenv("ESLABON_DB_URL", url)
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at


@pytest.fixture
def app_on_sample(monkeypatch: pytest.MonkeyPatch, sample_db_url: str) -> AppTest:
    """The app (not yet run) on the sample database."""
    return make_app(monkeypatch, sample_db_url)


def texts(at: AppTest) -> str:
    """Every text AppTest can see on the page, joined (for "is this shown" asserts)."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "caption", "markdown", "info", "error", "success"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(f"{m.label} {m.value} {m.delta or ''}" for m in at.metric)
    return "\n".join(parts)


def metric_cards(at: AppTest) -> dict[str, tuple[str, str | None]]:
    """label -> (value, delta) of every st.metric on the page."""
    return {m.label: (m.value, m.delta) for m in at.metric}
