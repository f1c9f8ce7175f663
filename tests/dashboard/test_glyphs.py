"""No text of the dashboard needs a font the page does not declare (issue 14, item 15):
every character beyond Latin is one Source Sans 3 has (theme.PAGE_FONT_SYMBOLS), and
the charts name the page's font. The browser test checks the rendered pages too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboard.charts import styled
from dashboard.ui import theme
from dashboard.ui.i18n import STRINGS as SHARED
from dashboard.ui.texts import STRINGS as PAGE_STRINGS
from etl.settings import PROJECT_ROOT


def _string_literals(path: Path) -> list[str]:
    """Every string constant of a Python file (comments are not text on a page)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


@pytest.mark.parametrize("lang", [0, 1])
def test_every_ui_string_is_in_the_page_font(lang: int) -> None:
    bad = {
        key: pair[lang]
        for strings in (SHARED, PAGE_STRINGS)
        for key, pair in strings.items()
        if not theme.in_page_font(pair[lang])
    }
    assert bad == {}


def test_no_dashboard_source_writes_a_glyph_the_page_font_lacks() -> None:
    """⏰, 🟢, ↳ and an em space were drawn as empty boxes in a Chromium without them."""
    bad: dict[str, set[str]] = {}
    for path in sorted((PROJECT_ROOT / "dashboard").rglob("*.py")):
        for text in _string_literals(path):
            # the byte order mark is read from files, never shown
            missing = sorted({c for c in text if not theme.in_page_font(c)} - {"\ufeff"})
            if missing:
                bad.setdefault(str(path.relative_to(PROJECT_ROOT)), set()).update(missing)
    assert bad == {}


def test_the_glyph_set_rejects_emoji_and_accepts_the_status_symbols() -> None:
    assert not theme.in_page_font("⏰") and not theme.in_page_font("🟢")
    assert not theme.in_page_font("↳") and not theme.in_page_font("\u2003")
    assert all(theme.in_page_font(s) for s in theme.STATUS_SYMBOLS.values())
    assert theme.in_page_font("Añadir «meta» — ✓ ≥ 10× · ▲ ▼ ○")


def test_charts_name_the_font_the_page_serves() -> None:
    """Streamlit declares its bundled font as "Source Sans"; "Source Sans Pro" matches
    nothing in the page, so the charts fell back to the viewer's system fonts."""
    import plotly.graph_objects as go

    family = styled(go.Figure(), "es").layout.font.family
    assert family.split(",")[0].strip().strip('"') == "Source Sans"
