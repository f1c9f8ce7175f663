"""Text reads at WCAG AA (issue 14, item 16): every text colour of the Streamlit theme on
the backgrounds it is drawn on. The browser test measures the rendered pages too."""

from __future__ import annotations

import tomllib

import pytest

from dashboard.ui import theme
from etl.settings import PROJECT_ROOT

CONFIG = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())["theme"]


def _wcag(foreground: str, background: str) -> float:
    """The WCAG 2.x formula written out again, independently of dashboard.ui.theme."""

    def lum(color: str) -> float:
        r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(foreground), lum(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_ratio_by_hand() -> None:
    assert theme.contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert theme.contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    # the single-user warning as it was: Okabe-Ito yellow on Streamlit's pale yellow
    assert theme.contrast_ratio("#F0E442", "#FDFBE3") < 1.6


@pytest.mark.parametrize("name", sorted(theme.TEXT_ON_TINT))
def test_palette_text_reads_on_its_tint_on_white_and_on_the_sidebar(name: str) -> None:
    text, tint = CONFIG[f"{name}TextColor"], CONFIG[f"{name}BackgroundColor"]
    assert (text, tint) == theme.TEXT_ON_TINT[name]  # the toml and theme.py agree
    for background in (tint, CONFIG["backgroundColor"], CONFIG["secondaryBackgroundColor"]):
        assert _wcag(text, background) >= 4.5, (name, text, background)


def test_body_and_link_text_read_on_both_backgrounds() -> None:
    for color in (CONFIG["textColor"], CONFIG["linkColor"], CONFIG["primaryColor"]):
        for background in (CONFIG["backgroundColor"], CONFIG["secondaryBackgroundColor"]):
            assert _wcag(color, background) >= 4.5, (color, background)
