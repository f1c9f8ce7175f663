"""Deep links into the dashboard: the address of the exact view a message speaks of.

Built from `dashboard.ui.state` (the one place that knows the URL form of a view), so a link
in a mail opens the same stages, customer type, language and drill level the dashboard
would show for that filter.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlencode

from dashboard.ui.state import ViewState

DEFAULT_BASE_URL = "http://localhost:8501"


def base_url(env: Mapping[str, str] | None = None) -> str:
    """ESLABON_BASE_URL (the dashboard's public address) without a trailing slash."""
    env = os.environ if env is None else env
    return (env.get("ESLABON_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def view_link(base: str, page: str, view: ViewState, extra: Mapping[str, str] | None = None) -> str:
    """`{base}/{page}?stages=...&lang=...` for the view (and page-specific keys)."""
    query: dict[str, str | list[str]] = dict(view.to_query())
    for key, value in (extra or {}).items():
        query[key] = value
    text = urlencode(query, doseq=True)
    return f"{base}/{page}" + (f"?{text}" if text else "")


def view_of(
    stages: tuple[str, ...], customer_types: tuple[str, ...], lang: str, **changes: object
) -> ViewState:
    """The URL view of a recipient's or rule's filter (one customer type, or all)."""
    ctype = customer_types[0] if len(customer_types) == 1 else "all"
    return ViewState(stages=stages, customer_type=ctype, lang=lang).with_(**changes)
