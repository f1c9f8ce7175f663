"""Helpers for the tests that run real loader and reader processes against one database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from etl.db import create_db_engine
from etl.schema import metadata

ROOT = Path(__file__).resolve().parents[2]
COMMITMENT_HEADER = "commitment_id,title,process,customer,requested_at,due_at,delivered_at\n"


def write_new_commitments(folder: Path, count: int, prefix: str) -> Path:
    """A batch folder holding `count` commitments whose ids no other batch uses.

    Its effect on the counts is exact and distinctive: commitments grow by `count`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lines = [COMMITMENT_HEADER]
    for i in range(count):
        day = 1 + i % 28
        delivered = f"2026-10-{day:02d}" if i % 3 else ""
        lines.append(
            f"{prefix}-{i:06d},Pedido {i},Ventas,Cliente {i % 17},2026-09-{day:02d},"
            f"2026-10-{day:02d},{delivered}\n"
        )
    (folder / "commitments.csv").write_text("".join(lines), encoding="utf-8")
    return folder


def etl_command(*args: str) -> list[str]:
    """argv of `python -m etl ...` with this interpreter."""
    return [sys.executable, "-m", "etl", *args]


def child_env() -> dict[str, str]:
    """The environment of a child process: no debug tracebacks, the project importable."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ESLABON_DEBUG", None)
    return env


def run_etl(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m etl ...` to its end."""
    return subprocess.run(
        etl_command(*args),
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=timeout,
    )


def database_dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every Eslabón table, in a stable order: equal dumps, equal databases."""
    engine = create_db_engine(url, read_only=url.startswith("duckdb"))
    dump: dict[str, list[tuple]] = {}
    try:
        with engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names())
            for name, table in sorted(metadata.tables.items()):
                if name not in present:
                    continue
                rows = conn.execute(sa.select(table)).fetchall()
                dump[name] = sorted((tuple(r) for r in rows), key=repr)
    finally:
        engine.dispose()
    return dump


def scalar(url: str, sql: str) -> int:
    """One number from the database (read-only on DuckDB)."""
    engine = create_db_engine(url, read_only=url.startswith("duckdb"))
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar() or 0)
    finally:
        engine.dispose()
