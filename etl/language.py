"""The two languages Eslabón speaks: Spanish (the default) and English.

Every text that exists in both is a (Spanish, English) pair; `in_language` is the one
place that picks from a pair, for the ETL's reasons and the dashboard alike (the ETL
never imports the dashboard, so the rule lives here).
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["es", "en"]


def norm_lang(lang: str | None) -> Lang:
    """A supported language code; anything else falls back to Spanish."""
    return "en" if lang == "en" else "es"


def in_language(pair: tuple[str, str], lang: str | None) -> str:
    """The text of a (Spanish, English) pair in `lang` (Spanish unless `lang` is "en")."""
    return pair[1] if norm_lang(lang) == "en" else pair[0]
