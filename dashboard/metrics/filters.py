"""The filter every metric takes: immutable, hashable (it keys the UI cache), and able to
turn itself into bound-parameter SQL and into words (as datasette's filters do).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

GroupBy = Literal["none", "week", "process", "performer", "customer", "customer_type"]
GROUP_BY_OPTIONS: tuple[str, ...] = (
    "none",
    "week",
    "process",
    "performer",
    "customer",
    "customer_type",
)

# SQL expression of each group-by dimension on the commitments alias `c`.
# ISO weeks start on Monday; date_trunc('week', ...) does that on DuckDB and PostgreSQL.
GROUP_EXPRESSIONS: dict[str, str] = {
    "week": "CAST(date_trunc('week', c.due_at) AS DATE)",
    "process": "c.process",
    "performer": "c.performer",
    "customer": "c.customer",
    "customer_type": "c.customer_type",
}

# filter attribute -> commitments column it restricts
_LIST_COLUMNS: dict[str, str] = {
    "processes": "process",
    "performers": "performer",
    "customers": "customer",
    "customer_types": "customer_type",
}


@dataclass(frozen=True)
class MetricFilter:
    """Which commitments a metric looks at, and when it looks.

    `date_from`/`date_to` bound the due date, both inclusive (whole days). Empty tuples
    mean "all". `direction` is `to_customer` unless a metric says otherwise.
    """

    as_of: datetime
    date_from: date | None = None
    date_to: date | None = None
    processes: tuple[str, ...] = ()
    performers: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    customer_types: tuple[str, ...] = ()
    direction: str = "to_customer"
    group_by: str = "none"

    def __post_init__(self) -> None:
        if self.group_by not in GROUP_BY_OPTIONS:
            raise ValueError(f"group_by must be one of {', '.join(GROUP_BY_OPTIONS)}")
        for name in _LIST_COLUMNS:
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")

    def with_(self, **changes: object) -> MetricFilter:
        """A copy with some fields changed (the filter itself never changes)."""
        return replace(self, **changes)

    def sql_where(self, alias: str = "c", *, with_direction: bool = True) -> tuple[str, dict]:
        """A SQL condition on the commitments alias and its bound parameters.

        Values always travel as parameters; only generated parameter names and fixed
        column names are written into the SQL text.
        """
        clauses: list[str] = []
        params: dict[str, object] = {}
        if with_direction and self.direction:
            clauses.append(f"{alias}.direction = :f_direction")
            params["f_direction"] = self.direction
        if self.date_from:
            clauses.append(f"{alias}.due_at >= :f_date_from")
            params["f_date_from"] = datetime.combine(self.date_from, datetime.min.time())
        if self.date_to:
            clauses.append(f"{alias}.due_at < :f_date_to")
            params["f_date_to"] = datetime.combine(
                self.date_to + timedelta(days=1), datetime.min.time()
            )
        for attr, column in _LIST_COLUMNS.items():
            values = getattr(self, attr)
            if values:
                names = [f"f_{column}_{i}" for i in range(len(values))]
                clauses.append(f"{alias}.{column} IN ({', '.join(':' + n for n in names)})")
                params.update(zip(names, values, strict=True))
        return (" AND ".join(clauses) or "TRUE"), params

    def describe(self, lang: str = "en") -> str:
        """The filter in words, for captions and report headers."""
        es = lang == "es"
        day = "%d/%m/%Y" if es else "%Y-%m-%d"
        parts: list[str] = []
        if self.date_from or self.date_to:
            start = self.date_from.strftime(day) if self.date_from else "…"
            end = self.date_to.strftime(day) if self.date_to else "…"
            parts.append(f"{'vencimiento' if es else 'due'} {start} – {end}")
        labels = {
            "processes": ("etapas", "stages"),
            "performers": ("responsables", "performers"),
            "customers": ("clientes", "customers"),
            "customer_types": ("tipo de cliente", "customer type"),
        }
        for attr, (label_es, label_en) in labels.items():
            values = getattr(self, attr)
            if values:
                parts.append(f"{label_es if es else label_en}: {', '.join(values)}")
        if self.direction == "from_customer":
            parts.append("compromisos del cliente" if es else "customer commitments")
        parts.append(f"{'al' if es else 'as of'} {self.as_of.strftime(day + ' %H:%M')}")
        return "; ".join(parts)
