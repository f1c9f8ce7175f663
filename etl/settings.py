"""Run-time settings read from the environment, in one place so every entry point agrees."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "eslabon.duckdb"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
DEFAULT_TIMEZONE = "Europe/Madrid"
# Seconds a dashboard query may run (ESLABON_STATEMENT_TIMEOUT; 0 or "off": no limit).
DEFAULT_STATEMENT_TIMEOUT = 60.0
STATEMENT_TIMEOUT_ENV = "ESLABON_STATEMENT_TIMEOUT"
# Memory one sort or hash of a PostgreSQL session may use before spilling to disk
# (ESLABON_PG_WORK_MEM; "default": the server's own, 4MB unless configured).
DEFAULT_PG_WORK_MEM = "64MB"
PG_WORK_MEM_ENV = "ESLABON_PG_WORK_MEM"
_PG_MEMORY = re.compile(r"([1-9][0-9]{0,6})\s*(kB|MB|GB)", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    """What a process needs to know before it opens a database."""

    db_url: str
    timezone: str
    statement_timeout: float | None = DEFAULT_STATEMENT_TIMEOUT
    pg_work_mem: str | None = DEFAULT_PG_WORK_MEM


def default_db_url() -> str:
    """The embedded default: a DuckDB file under data/."""
    return f"duckdb:///{DEFAULT_DB_PATH}"


def statement_timeout(env: Mapping[str, str] | None = None) -> float | None:
    """The dashboard's per-query time limit in seconds, None for none.

    ESLABON_STATEMENT_TIMEOUT: a positive number of seconds; `0`, `off` or `none` switch
    it off. Anything else unreadable keeps the default rather than removing the limit.
    """
    env = os.environ if env is None else env
    raw = (env.get(STATEMENT_TIMEOUT_ENV) or "").strip().lower()
    if raw in ("0", "off", "none"):
        return None
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_STATEMENT_TIMEOUT
    if value == 0:
        return None
    return value if 0 < value < float("inf") else DEFAULT_STATEMENT_TIMEOUT


def pg_work_mem(env: Mapping[str, str] | None = None) -> str | None:
    """PostgreSQL `work_mem` for every session Eslabón opens, None for the server's own.

    The default 4 MB makes the dashboard's medians and wide CTEs spill to disk at a
    million commitments. ESLABON_PG_WORK_MEM: a size such as `64MB`, `512kB`, `1GB`;
    `default` keeps the server's setting. Anything unreadable keeps Eslabón's default
    (the value ends up in a connect option, so only this exact shape is passed on).
    """
    env = os.environ if env is None else env
    raw = (env.get(PG_WORK_MEM_ENV) or "").strip()
    if raw.lower() in ("default", "server"):
        return None
    match = _PG_MEMORY.fullmatch(raw)
    if not match:
        return DEFAULT_PG_WORK_MEM
    unit = {"kb": "kB", "mb": "MB", "gb": "GB"}[match.group(2).lower()]
    return f"{match.group(1)}{unit}"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from ESLABON_DB_URL, ESLABON_TZ, ESLABON_STATEMENT_TIMEOUT and
    ESLABON_PG_WORK_MEM, falling back to the embedded defaults."""
    env = os.environ if env is None else env
    return Settings(
        db_url=env.get("ESLABON_DB_URL") or default_db_url(),
        timezone=env.get("ESLABON_TZ") or DEFAULT_TIMEZONE,
        statement_timeout=statement_timeout(env),
        pg_work_mem=pg_work_mem(env),
    )


IN_PLACE_ENV = "ESLABON_IN_PLACE"
IN_PLACE_MODES = ("auto", "always", "never")


def in_place_mode(env: Mapping[str, str] | None = None) -> str:
    """How a load reaches an existing DuckDB file (etl.publish.load_published):
    `always` in place, `never` (a private copy swapped in), or `auto` (the default, and
    what anything unreadable means): in place when the batch is small next to the file.
    """
    env = os.environ if env is None else env
    raw = (env.get(IN_PLACE_ENV) or "").strip().lower()
    return raw if raw in IN_PLACE_MODES else "auto"


KEEP_WARM_ENV = "ESLABON_KEEP_WARM"
DEFAULT_KEEP_WARM_MINUTES = 30.0


def keep_warm_minutes(env: Mapping[str, str] | None = None) -> float:
    """How long after the last visit the dashboard server keeps the default view computed
    for each coming minute (dashboard/serve.py, `keep_warm`); 0 switches that off.

    ESLABON_KEEP_WARM: minutes, a number ≥ 0; `0`, `off` or `none` switch it off.
    Anything unreadable keeps the default.
    """
    env = os.environ if env is None else env
    raw = (env.get(KEEP_WARM_ENV) or "").strip().lower()
    if raw in ("off", "none"):
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_KEEP_WARM_MINUTES
    return value if 0 <= value < float("inf") else DEFAULT_KEEP_WARM_MINUTES
