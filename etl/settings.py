"""Run-time settings read from the environment, in one place so every entry point agrees."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "eslabon.duckdb"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
DEFAULT_TIMEZONE = "Europe/Madrid"


@dataclass(frozen=True)
class Settings:
    """What a process needs to know before it opens a database."""

    db_url: str
    timezone: str


def default_db_url() -> str:
    """The embedded default: a DuckDB file under data/."""
    return f"duckdb:///{DEFAULT_DB_PATH}"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from ESLABON_DB_URL and ESLABON_TZ, falling back to the embedded defaults."""
    env = os.environ if env is None else env
    return Settings(
        db_url=env.get("ESLABON_DB_URL") or default_db_url(),
        timezone=env.get("ESLABON_TZ") or DEFAULT_TIMEZONE,
    )
