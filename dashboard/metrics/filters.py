"""The filter every metric takes: immutable, hashable (it keys the UI cache), and able to
turn itself into bound-parameter SQL and into words (as datasette's filters do).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

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


def _names(values: object) -> tuple[str, ...] | None:
    """A scope dimension as a sorted tuple of distinct names; None stays None (any)."""
    if values is None:
        return None
    if isinstance(values, str):
        values = (values,)
    if not isinstance(values, Iterable):
        raise TypeError(f"a scope dimension is a name or names, not {values!r}")
    return tuple(sorted({str(v) for v in values}))


@dataclass(frozen=True)
class RowScope:
    """The rows one user may see, decided on the server from the auth file (never the URL).

    Each dimension is None (no restriction) or the names allowed; an empty tuple allows
    nothing (fail closed). A commitment is in scope when its process is one of `stages`
    and its customer one of `customers` (both, when both are set).
    """

    stages: tuple[str, ...] | None = None
    customers: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", _names(self.stages))
        object.__setattr__(self, "customers", _names(self.customers))

    @property
    def unrestricted(self) -> bool:
        """True when the scope restricts nothing (admins, single-user mode)."""
        return self.stages is None and self.customers is None

    def narrowed(self, other: RowScope) -> RowScope:
        """The intersection of two scopes: what both allow (never more than either)."""

        def both(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> tuple[str, ...] | None:
            if a is None:
                return b
            if b is None:
                return a
            return tuple(v for v in a if v in b)

        return RowScope(both(self.stages, other.stages), both(self.customers, other.customers))

    def allows(self, process: object, customer: object) -> bool:
        """The same rule as `sql`, in Python (for single rows already read)."""
        if self.stages is not None and process not in self.stages:
            return False
        return self.customers is None or customer in self.customers

    def sql(
        self, alias: str = "c", *, process: str = "process", customer: str = "customer"
    ) -> tuple[str, dict[str, Any]]:
        """The scope as a SQL condition on `alias` and its bound parameters ("TRUE" when
        unrestricted, "FALSE" for an empty dimension). Parameter names start with `rs_`,
        so the condition can sit beside `MetricFilter.sql_where` in one statement."""
        clauses: list[str] = []
        params: dict[str, object] = {}
        for column, values, key in (
            (process, self.stages, "stage"),
            (customer, self.customers, "customer"),
        ):
            if values is None:
                continue
            if not values:
                clauses.append("FALSE")
                continue
            names = [f"rs_{key}_{i}" for i in range(len(values))]
            clauses.append(f"{alias}.{column} IN ({', '.join(':' + n for n in names)})")
            params.update(zip(names, values, strict=True))
        return (" AND ".join(clauses) or "TRUE"), params

    def describe(self, lang: str = "en") -> str:
        """The scope in words ("" when unrestricted), for the sidebar and report headers."""
        es = lang == "es"
        parts: list[str] = []
        if self.stages is not None:
            parts.append(f"{'etapas' if es else 'stages'}: {', '.join(self.stages) or '—'}")
        if self.customers is not None:
            parts.append(f"{'clientes' if es else 'customers'}: {', '.join(self.customers) or '—'}")
        return "; ".join(parts)


EVERYTHING = RowScope()


@dataclass(frozen=True)
class MetricFilter:
    """Which commitments a metric looks at, and when it looks.

    `date_from`/`date_to` bound the due date, both inclusive (whole days). Empty tuples
    mean "all". `direction` is `to_customer` unless a metric says otherwise.
    `scope` is the user's row-level access: it is ANDed into every condition the filter
    writes (`sql_where`, and `scope_where` where the rest of the filter is left out), and
    can only be narrowed (`within`), never widened by `with_`.
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
    scope: RowScope = EVERYTHING

    def __post_init__(self) -> None:
        if self.group_by not in GROUP_BY_OPTIONS:
            raise ValueError(f"group_by must be one of {', '.join(GROUP_BY_OPTIONS)}")
        for name in _LIST_COLUMNS:
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")

    def with_(self, **changes: Any) -> MetricFilter:
        """A copy with some fields changed (the filter itself never changes).

        The scope is not one of them: a page building a filter from the URL cannot widen
        the rows its user may see; use `within` to narrow it.
        """
        if "scope" in changes:
            raise ValueError("the scope only narrows: use MetricFilter.within(scope)")
        return replace(self, **changes)

    def within(self, scope: RowScope) -> MetricFilter:
        """A copy restricted to `scope` as well (the intersection with its own scope)."""
        return replace(self, scope=self.scope.narrowed(scope))

    def scope_where(self, alias: str = "c") -> tuple[str, dict[str, Any]]:
        """Only the scope's condition: for queries that look past the filter (the
        upstreams of propagation) but must never look past the user's rows."""
        return self.scope.sql(alias)

    def sql_where(
        self, alias: str = "c", *, with_direction: bool = True
    ) -> tuple[str, dict[str, Any]]:
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
        if not self.scope.unrestricted:
            scope_sql, scope_params = self.scope.sql(alias)
            clauses.append(scope_sql)
            params.update(scope_params)
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
