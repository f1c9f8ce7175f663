"""Cached metric calls: every number a page shows comes through `metric()`, which calls a
function of dashboard.metrics with a connection and an immutable MetricFilter narrowed to
the session's row scope, and caches the result per (database, data version, function,
filter, arguments). Also the evaluation instant (`as_of`) and the stage options."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.metrics import kpis, process_map
from dashboard.metrics.filters import EVERYTHING, MetricFilter, RowScope
from dashboard.views import access_gate, database


def metric_key(func: Callable[..., Any]) -> str:
    """`module.qualname` of a metric function: what the cache keys a call on."""
    return f"{func.__module__}.{func.__qualname__}"


@st.cache_data(show_spinner=False, max_entries=1000)
def _cached_metric(
    url: str,
    version: str,
    key: str,
    _func: Callable[..., Any],
    f: MetricFilter | None,
    args: tuple,
    kwargs: tuple,
) -> Any:
    """The result of one metric call; the key is everything the result depends on
    (`_func` is left out of the hash: `key` names it)."""
    with database.engine_for(url).connect() as conn:
        if f is None:
            return _func(conn, *args, **dict(kwargs))
        return _func(conn, f, *args, **dict(kwargs))


def metric(func: Callable[..., Any], f: MetricFilter | None, *args: Any, **kwargs: Any) -> Any:
    """`func(conn, f, *args, **kwargs)`, cached per database, data version and arguments.

    `func` is a function of `dashboard.metrics` (e.g. `ontime.on_time_summary`) or a
    read of `dashboard.services` (e.g. `tracking.customer_commitments`), passed
    itself so that go-to-definition, rename and dead-code tools see every call. Pass
    f=None for functions that take no filter (e.g. `targets.targets_in_force`).
    """
    status = database.db_status()
    f, kwargs = scoped_call(func, f, kwargs, access_gate.current_scope())
    kw = tuple(sorted(kwargs.items()))
    return _cached_metric(database.db_url(), status.version, metric_key(func), func, f, args, kw)


@functools.lru_cache(maxsize=256)
def _takes_scope(func: Callable[..., Any]) -> bool:
    """Does `func` read rows without a filter, taking the user's scope as `scope`?"""
    return "scope" in inspect.signature(func).parameters


def scoped_call(
    func: Callable[..., Any], f: MetricFilter | None, kwargs: dict[str, Any], scope: RowScope
) -> tuple[MetricFilter | None, dict[str, Any]]:
    """The filter and keyword arguments of a call narrowed to the session's row scope.

    The one choke point of row-level access on pages: a filter is intersected with the
    scope (whatever the URL or the sidebar built), and a function that reads rows without
    a filter takes the scope as its `scope` argument. Applied on the server on every call.
    """
    if f is not None:
        f = f.within(scope)
    if _takes_scope(func):
        given = kwargs.get("scope", EVERYTHING)
        kwargs = {**kwargs, "scope": given.narrowed(scope)}
    return f, kwargs


@st.cache_data(show_spinner=False, max_entries=100)
def _as_of_cached(url: str, version: str, minute: datetime) -> datetime:
    """kpis.default_as_of with `minute` as "now" (what live data is judged at)."""
    with database.engine_for(url).connect() as conn:
        return kpis.default_as_of(conn, minute)


def live_minute() -> datetime:
    """The start of the current wall-clock minute (ESLABON_TZ): the instant live data is
    judged at for that whole minute."""
    return kpis.start_of_minute(kpis.now_wall_clock())


@dataclass
class Visits:
    """When a visitor's page last asked for the evaluation instant (time.monotonic()):
    the server keeps the coming minutes warm only while someone is looking."""

    last: float = float("-inf")


@st.cache_resource(show_spinner=False)
def visits() -> Visits:
    """The server's one Visits record, shared by every session."""
    return Visits()


def as_of(minute: datetime | None = None) -> datetime:
    """The evaluation instant: the sample's own as_of when it is loaded, else now.

    "Now" is the start of the current minute (`live_minute`), so metric results stay
    cached within a minute, every element of one page is judged at the same instant,
    and the server can compute a minute's default view before it starts (`minute`:
    serve.keep_warm). A visitor's call is noted in `visits`.
    """
    if minute is None:
        minute = live_minute()
        if access_gate.in_visitor_run():
            visits().last = time.monotonic()
    value = _as_of_cached(database.db_url(), database.db_status().version, minute)
    value = pd.Timestamp(value).to_pydatetime()
    return value.replace(tzinfo=None) if value.tzinfo is not None else value


def stage_options(at: datetime) -> list[str]:
    """Process stages in chain order (process_map.process_chain), for every selector."""
    chain = metric(process_map.process_chain, MetricFilter(as_of=at))  # scoped by metric()
    return [str(p) for p in chain["process"]]
