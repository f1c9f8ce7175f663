"""The dashboard's view (filters, language, drill level) and its URL form.

Pure (no streamlit): the whole view lives in the URL query string so a copied link
opens the same view, and it is parsed here defensively. Every query value is hostile
until proven otherwise: unknown keys and values are ignored, free-text values (stage,
performer names) are kept only as plain strings that travel to SQL as bound
parameters, never as SQL, and lengths and counts are capped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from dashboard.metrics.filters import MetricFilter
from dashboard.ui.i18n import DEFAULT_LANG, LANGUAGES
from etl import schema

PERIOD_WEEKS: dict[str, int] = {"4w": 4, "13w": 13, "26w": 26}
PERIODS: tuple[str, ...] = ("4w", "13w", "26w", "custom")
DEFAULT_PERIOD = "13w"
CUSTOMER_TYPES: tuple[str, ...] = ("all", *schema.CUSTOMER_TYPES)
DIRECTIONS: tuple[str, ...] = schema.DIRECTIONS

MAX_TEXT = 200  # longest stage / performer name accepted from a URL
MAX_ITEMS = 50  # most stages accepted from a URL

# Query-string keys, one place so links built elsewhere (reports, tracking) agree.
Q_PERIOD, Q_FROM, Q_TO, Q_STAGES = "period", "from", "to", "stages"
Q_CTYPE, Q_DIRECTION, Q_LANG = "ctype", "dir", "lang"
Q_DRILL_STAGE, Q_DRILL_PERFORMER = "stage", "performer"
VIEW_KEYS: tuple[str, ...] = (
    Q_PERIOD,
    Q_FROM,
    Q_TO,
    Q_STAGES,
    Q_CTYPE,
    Q_DIRECTION,
    Q_LANG,
    Q_DRILL_STAGE,
    Q_DRILL_PERFORMER,
)


@dataclass(frozen=True)
class ViewState:
    """What the user is looking at; the same on every page except the drill level.

    `drill_stage` / `drill_performer` say how deep the Cumplimiento drill-down is:
    neither = stages, stage = that stage's performers, both = the commitments.
    """

    period: str = DEFAULT_PERIOD
    date_from: date | None = None  # only for period == "custom"
    date_to: date | None = None
    stages: tuple[str, ...] = ()
    customer_type: str = "all"
    direction: str = "to_customer"
    lang: str = DEFAULT_LANG
    drill_stage: str | None = None
    drill_performer: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def drill_level(self) -> str:
        """'stages', 'performers' or 'commitments'."""
        if self.drill_stage is None:
            return "stages"
        if self.drill_performer is None:
            return "performers"
        return "commitments"

    def with_(self, **changes: Any) -> ViewState:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def period_dates(self, as_of: datetime) -> tuple[date | None, date | None]:
        """The due-date window: whole ISO weeks ending with as_of's week, or the custom dates.

        "Last N weeks" = from the Monday N−1 weeks before as_of's week to as_of's day,
        so a weekly chart shows N weeks, the last one in progress.
        """
        if self.period in PERIOD_WEEKS:
            today = as_of.date()
            monday = today - timedelta(days=today.weekday())
            return monday - timedelta(weeks=PERIOD_WEEKS[self.period] - 1), today
        start, end = self.date_from, self.date_to
        if start and end and start > end:
            start, end = end, start
        return start, end

    def to_filter(self, as_of: datetime, *, drill: bool = False) -> MetricFilter:
        """The MetricFilter of this view at `as_of`.

        With `drill=True` the drill level narrows it too (one stage, one performer).
        """
        start, end = self.period_dates(as_of)
        processes = self.stages
        performers: tuple[str, ...] = ()
        if drill and self.drill_stage is not None:
            processes = (self.drill_stage,)
            if self.drill_performer is not None:
                performers = (self.drill_performer,)
        return MetricFilter(
            as_of=as_of,
            date_from=start,
            date_to=end,
            processes=processes,
            performers=performers,
            customer_types=() if self.customer_type == "all" else (self.customer_type,),
            direction=self.direction,
        )

    def to_query(self) -> dict[str, str | list[str]]:
        """The query-string form; defaults are left out so links stay short."""
        q: dict[str, str | list[str]] = {}
        if self.lang != DEFAULT_LANG:
            q[Q_LANG] = self.lang
        if self.period != DEFAULT_PERIOD:
            q[Q_PERIOD] = self.period
        if self.period == "custom":
            if self.date_from:
                q[Q_FROM] = self.date_from.isoformat()
            if self.date_to:
                q[Q_TO] = self.date_to.isoformat()
        if self.stages:
            q[Q_STAGES] = list(self.stages)
        if self.customer_type != "all":
            q[Q_CTYPE] = self.customer_type
        if self.direction != "to_customer":
            q[Q_DIRECTION] = self.direction
        if self.drill_stage is not None:
            q[Q_DRILL_STAGE] = self.drill_stage
            if self.drill_performer is not None:
                q[Q_DRILL_PERFORMER] = self.drill_performer
        for key, value in self.extra:
            q.setdefault(key, value)
        return q


def _values(params: Mapping[str, object], key: str) -> list[str]:
    """Every value of a key as strings (a query key may repeat)."""
    raw = params.get(key)
    if raw is None:
        return []
    items: Iterable[object] = raw if isinstance(raw, list | tuple) else [raw]
    return [str(v) for v in items]


def _one(params: Mapping[str, object], key: str) -> str | None:
    """The last value of a key (as browsers and st.query_params do)."""
    values = _values(params, key)
    return values[-1] if values else None


def _choice(value: str | None, allowed: tuple[str, ...], default: str) -> str:
    """`value` if it is one of `allowed`, else the default."""
    return value if value in allowed else default


def _date(value: str | None) -> date | None:
    """An ISO date, or None for anything else."""
    if not value or len(value) > 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _text(value: str | None) -> str | None:
    """A name from the URL as plain data: trimmed, no control characters, capped."""
    if value is None:
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    if not cleaned or len(cleaned) > MAX_TEXT:
        return None
    return cleaned


def parse_view(params: Mapping[str, object], *, keep: Iterable[str] = ()) -> ViewState:
    """A ViewState from query parameters, ignoring whatever does not make sense.

    `params` maps a key to a string or a list of strings (st.query_params.to_dict()
    gives the last value; pass lists for repeated keys). Keys named in `keep` (e.g.
    another page's `commitment`) are carried through `extra` untouched.
    """
    period = _choice(_one(params, Q_PERIOD), PERIODS, DEFAULT_PERIOD)
    date_from = _date(_one(params, Q_FROM)) if period == "custom" else None
    date_to = _date(_one(params, Q_TO)) if period == "custom" else None
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    stages: list[str] = []
    for raw in _values(params, Q_STAGES)[: MAX_ITEMS * 4]:
        name = _text(raw)
        if name and name not in stages and len(stages) < MAX_ITEMS:
            stages.append(name)
    drill_stage = _text(_one(params, Q_DRILL_STAGE))
    drill_performer = _text(_one(params, Q_DRILL_PERFORMER)) if drill_stage else None
    extra = tuple(
        (key, text)
        for key in keep
        if (text := _text(_one(params, key))) is not None and key not in VIEW_KEYS
    )
    return ViewState(
        period=period,
        date_from=date_from,
        date_to=date_to,
        stages=tuple(stages),
        customer_type=_choice(_one(params, Q_CTYPE), CUSTOMER_TYPES, "all"),
        direction=_choice(_one(params, Q_DIRECTION), DIRECTIONS, "to_customer"),
        lang=_choice(_one(params, Q_LANG), LANGUAGES, DEFAULT_LANG),
        drill_stage=drill_stage,
        drill_performer=drill_performer,
        extra=extra,
    )
