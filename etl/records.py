"""The containers records travel in between reading, mapping, validation and loading.

Kept apart from the steps themselves so each step depends on these shapes, not on
another step's internals.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field

import pandas as pd

# Name of the column that carries each row's position in its source file, as a person
# sees it in a spreadsheet: the header is row 1, the first data row is row 2.
ROW = "_row"


class EtlError(ValueError):
    """A problem a person can act on; the message names the file (and row, column)."""


class ReadError(EtlError):
    """A file could not be read at all (empty, binary, truncated, undecodable)."""


class MappingError(EtlError):
    """A mapping file is malformed or names something unknown."""


@dataclass
class RawTable:
    """A source file as read: every column as text, nothing interpreted yet.

    `frame` holds the file's own column names (whitespace and BOM stripped) as strings,
    empty cells as missing, plus the `_row` column.
    """

    path: str
    sha256: str
    frame: pd.DataFrame
    sheet: str | None = None


@dataclass(frozen=True)
class Reject:
    """One refused row with the reason: what `rejected_rows` stores."""

    row_number: int | None
    column: str | None
    reason: str
    raw: dict[str, object] | None = None


@dataclass
class KindFrame:
    """Rows of one record kind from one source, in canonical column names, still as text.

    `date_formats` forces a strptime format per column (from a mapping or the caller);
    `date_order` says how slashed dates of the other date columns are read;
    `decimal` forces the decimal separator; otherwise validation sniffs them.
    `rejects` holds rows already refused upstream (e.g. case attributes that disagree).
    `rows_read` is how many records of this kind the source held, rejects included.
    """

    kind: str
    path: str
    sha256: str
    frame: pd.DataFrame
    rows_read: int
    date_formats: dict[str, str] = field(default_factory=dict)
    date_order: str | None = None  # day_first / month_first, from a mapping
    decimal: str | None = None
    mapping: str | None = None
    rejects: list[Reject] = field(default_factory=list)
    refused: str | None = None  # the whole file was refused, with this reason


# What a load warns about, in English for the command line and the load log; the
# dashboard words the same codes in Spanish and English (dashboard.ui.texts, "load_warning_").
WARNING_TEXTS: dict[str, str] = {
    "unknown_process": (
        "{path} ({kind}): {rows} row(s) name process(es) not in the processes list: "
        "{processes}; they are loaded, and those stages appear in the chain without a "
        "place in its order (add them to processes, or fix the names)"
    ),
    "all_rejected": (
        "{path} ({kind}): every one of its {rows} row(s) was rejected; nothing of it was loaded"
    ),
}


@dataclass(frozen=True)
class LoadWarning:
    """Something a load did that a person must see even though no row was refused for it.

    A code plus parameters, so each reader words it in its own language; `text` is the
    English wording of the command line and the load log.
    """

    code: str
    path: str
    kind: str
    params: typing.Mapping[str, object] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The warning in English, as `python -m etl load` prints it."""
        return WARNING_TEXTS[self.code].format(path=self.path, kind=self.kind, **self.params)
