"""One colour-blind-safe palette for every chart, card and the Streamlit theme.

Okabe & Ito's eight colours stay distinguishable with deuteranopia, protanopia and
tritanopia and survive a washed-out projector. Status colours always mean the same
thing everywhere: bluish green = meets target / on time, orange = near target,
vermillion = off target / breach. They are never the only cue: status text carries a
symbol (✓ ! ✗) and a word too.
"""

from __future__ import annotations

BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#6B6B6B"
LIGHT_GREY = "#D9D9D9"

# Categorical order for series without a status meaning (never green/orange/red first).
PALETTE: tuple[str, ...] = (BLUE, SKY_BLUE, REDDISH_PURPLE, BLACK, YELLOW, GREY)

STATUS_COLORS: dict[str, str] = {
    "green": BLUISH_GREEN,
    "amber": ORANGE,
    "red": VERMILLION,
}
# The same statuses without colour, for bar labels and badges (✓ meets, ! near, ✗ off).
STATUS_SYMBOLS: dict[str, str] = {"green": "✓", "amber": "!", "red": "✗"}
NO_STATUS_COLOR = GREY
# (text, background) of each Streamlit palette colour, as .streamlit/config.toml sets
# them: text readable at WCAG AA on its tint, on white and on the sidebar grey.
TEXT_ON_TINT: dict[str, tuple[str, str]] = {
    "green": ("#00664A", "#E3F4EE"),
    "red": ("#A33A00", "#FBE9DF"),
    "orange": ("#7F5300", "#FDF0D8"),
    "yellow": ("#665C00", "#FBF7D5"),
    "blue": ("#005A8C", "#E0EDF6"),
    "violet": ("#8A3A6E", "#F6E8F1"),
    "gray": ("#4D4D4D", "#ECEDEF"),
}


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of a #RRGGBB colour."""
    h = color.lstrip("#")
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.x contrast ratio of two #RRGGBB colours (1..21)."""
    a, b = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


TARGET_LINE_COLOR = BLACK

# The page's own font: Streamlit serves Source Sans 3 to every browser as "Source Sans".
# Charts name it too (they named "Source Sans Pro", which no page declares, and fell back
# to whatever the viewer's system had: boxes for ✓ and ✗ on a bare Debian Chromium).
FONT_FAMILY = '"Source Sans", "Source Sans Pro", sans-serif'
# Every character beyond Latin-1 that text may use: those Source Sans 3 has (read from
# the font Streamlit ships with fontTools), so no page depends on the viewer's fonts.
# An emoji is never among them: a page must not need an emoji font.
PAGE_FONT_SYMBOLS = (
    "\u2007\u2009\u200a\u200b\u202f‐‑‒–—―‖‗‘’‚‛“”„†‡•‣…‰‱′″‵‹›‼‽‾‿⁄⁇⁈⁉⁊⁰ⁱ⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ"
    "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎€₹₺₽№™Ω℮⅓⅔⅛⅜⅝⅞←↑→↓↔↕↖↗↘↙⇐⇑⇒⇓∀∂∃∆∏∑−∕∙√∞∩∫≈≠≡≤≥"
    "■□▪▫▬▲△▴▵▶▷▸▹►▼▽▾▿◀◁◂◃◄◆◉◊○◌●◘◙◦☐☑✓✔✗✘⟨⟩"
)


def in_page_font(text: str) -> bool:
    """True when every character of `text` is in Latin-1, Latin Extended-A or PAGE_FONT_SYMBOLS."""
    return all(ord(c) < 0x180 or c in PAGE_FONT_SYMBOLS for c in text)


FONT_SIZE = 15  # readable from the back of a meeting room


def status_color(status: str | None) -> str:
    """The colour of a traffic-light status; grey when there is no target."""
    return STATUS_COLORS.get(status or "", NO_STATUS_COLOR)
