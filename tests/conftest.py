"""Shared fixtures: a fresh database per test on DuckDB and, when reachable, PostgreSQL.

PostgreSQL tests use a schema of their own (search_path in the URL), so tests never see
each other's rows. Without a server they skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

from etl.db import create_db_engine
from etl.schema import create_schema

REAL_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "real"
PG_URL = os.environ.get("ESLABON_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI") == "true"

_pg_reachable: bool | None = None


# Hypothesis's per-example deadline is a timed assert: on a busy CI machine it fails tests
# whose values are right. Speed is measured by the benchmarks, never by the suite.
settings.register_profile("eslabon", deadline=None)
settings.load_profile("eslabon")


def pytest_configure(config: pytest.Config) -> None:
    """Run the suite in single-user mode whatever auth file a developer keeps locally.

    Tests of login and roles point ESLABON_AUTH_FILE at files of their own; every other
    test (and every server a test starts) must not land on a login form.
    """
    os.environ.setdefault(
        "ESLABON_AUTH_FILE", str(Path(config.rootpath) / ".no-auth-in-tests.yaml")
    )


def postgres_reachable() -> bool:
    """One cheap connection attempt per test session."""
    global _pg_reachable
    if _pg_reachable is None:
        try:
            engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1")).fetchall()
            engine.dispose()
            _pg_reachable = True
        except Exception:
            _pg_reachable = False
    return _pg_reachable


def require_postgres() -> None:
    """Skip (or, in CI, fail) when the PostgreSQL server is not there."""
    if not postgres_reachable():
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but not reachable at {PG_URL}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")


@contextlib.contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A URL whose search_path points at a new, empty PostgreSQL schema, dropped after."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A new, empty PostgreSQL schema for one test."""
    with postgres_schema_url() as url:
        yield url


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once per backend."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'test.duckdb'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """An engine on a fresh database with the schema created, once per backend."""
    eng = create_db_engine(db_url)
    create_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def module_duckdb_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    """One DuckDB file with the schema for a whole test module (property tests: each
    example empties the tables it uses, instead of paying for a new file)."""
    eng = create_db_engine(f"duckdb:///{tmp_path_factory.mktemp('module') / 'test.duckdb'}")
    create_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def duckdb_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    """A DuckDB-only engine with the schema, for tests where the backend does not matter."""
    eng = create_db_engine(f"duckdb:///{tmp_path / 'test.duckdb'}")
    create_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def real_data() -> Path:
    """The real public files in ../shared/data/real (never copied into the project)."""
    if not REAL_DATA.is_dir():
        if IN_CI:
            pytest.fail(f"real data folder missing: {REAL_DATA}")
        pytest.skip(f"real data folder missing: {REAL_DATA}")
    return REAL_DATA
