"""The one shared Streamlit helper module: engine, cached metric calls, the sidebar, the
view in the URL, page headers and the empty / error states every page shows.

Pages hold layout only; everything a page needs from the database goes through
`metric()`, which calls a function of `dashboard.metrics` with a connection
and an immutable MetricFilter, and caches the result per (database, data version,
filter, arguments). A load bumps the data version (a new batch in `load_batches`),
so cached results never outlive the data they were computed from.

Writing a page (dashboard/views/<name>.py, registered in app.PAGES):

    def render() -> None:
        view = common.current_view()          # sidebar filters + language
        at = common.as_of()
        f = view.to_filter(at)                # MetricFilter
        common.page_header("<title key>", f, view.lang)
        df = common.metric(ontime.on_time_summary, f.with_(group_by="process"))
        ...                                   # layout only; texts via dashboard.ui.i18n.t

    def page() -> None:
        common.run_page(render)               # empty / error states for free

    if __name__ == "__main__":                # see app.py
        from dashboard.app import main
        main()

plus the sys.path line at the top that resumen.py has. After writing data (a load from
the Datos page), call `common.invalidate_data()`.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import make_url
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard.access import auth, signin
from dashboard.metrics import kpis, process_map
from dashboard.metrics.filters import EVERYTHING, MetricFilter, RowScope
from dashboard.ui.i18n import LANGUAGES, fmt_datetime, norm_lang, t
from dashboard.ui.state import (
    CUSTOMER_TYPES,
    DIRECTIONS,
    PERIODS,
    VIEW_KEYS,
    ViewState,
    parse_view,
)
from dashboard.ui.texts import md_escape
from etl import querywatch
from etl.db import normalise_url
from etl.publish import served_engine
from etl.schema import commitments, load_batches
from etl.settings import PROJECT_ROOT, SAMPLE_DIR, load_settings

log = logging.getLogger(__name__)

# session_state keys of the shared widgets (sidebar) and of the drill-down
K_LANG, K_PERIOD, K_FROM, K_TO = "w_lang", "w_period", "w_from", "w_to"
K_STAGES, K_CTYPE, K_DIR = "w_stages", "w_ctype", "w_dir"
K_DRILL_STAGE, K_DRILL_PERFORMER = "w_drill_stage", "w_drill_performer"
# Widgets whose option labels are translated: the browser sends a choice back as its label,
# so on a language switch the server must send each one its value in the new labels.
FRAME_TRANSLATED: tuple[str, ...] = (K_PERIOD, K_CTYPE, K_DIR, K_DRILL_STAGE, K_DRILL_PERFORMER)
_LAST_LANG = "_eslabon_last_lang"
_TRANSLATED = "_eslabon_translated_widgets"
_URL_VIEW = "_eslabon_url_view"
_VIEW = "_eslabon_view"


# --- database ------------------------------------------------------------------------


def db_url() -> str:
    """The database URL in use (ESLABON_DB_URL or the default DuckDB file), normalised.

    A URL that cannot even be parsed is returned as given: opening it fails in _probe,
    which turns the failure into the error state.
    """
    raw = load_settings().db_url
    try:
        return normalise_url(raw)
    except Exception:
        return raw


def url_for_people(url: str) -> str:
    """The URL without its password, for messages (or a placeholder if unparseable)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(URL no válida / invalid URL)"


def engine_for(url: str) -> sa.Engine:
    """One engine per URL (and statement timeout) for the whole server; DuckDB engines
    use NullPool, so every `with engine.connect()` opens and closes the file and locks
    stay brief.

    On a DuckDB file it is etl.publish's served engine: `connect()` reads read-only (so
    `python -m etl load` in another process never locks a page out) and `begin()` writes
    through the writer lock and a swapped copy (readers see old or new, never half).
    Every statement stops after ESLABON_STATEMENT_TIMEOUT seconds (etl.querywatch).
    """
    return _served(url, load_settings().statement_timeout)


@st.cache_resource(show_spinner=False)
def _served(url: str, statement_timeout: float | None) -> sa.Engine:
    return served_engine(url, statement_timeout=statement_timeout)


def _session_gone(session_id: str) -> bool:
    """Whether a Streamlit session has closed or lost its browser (its runs are over)."""
    from streamlit.runtime import Runtime

    return Runtime.exists() and not Runtime.instance().is_active_session(session_id)


def watch_session_queries() -> None:
    """Record this run's statements under its session, and make sure a session that
    closes gets its statements cancelled (etl.querywatch): a user who leaves must not
    keep database backends busy."""
    ctx = get_script_run_ctx()
    querywatch.set_owner(ctx.session_id if ctx is not None else None)
    querywatch.start_reaper(_session_gone)


@dataclass(frozen=True)
class DbStatus:
    """What a page needs to know before it asks for numbers."""

    ok: bool
    commitments: int = 0
    version: str = ""
    error: str = ""
    timed_out: bool = False  # the probe's query ran past ESLABON_STATEMENT_TIMEOUT


@st.cache_data(ttl=5, show_spinner=False)
def _probe(url: str) -> DbStatus:
    """Is the database reachable, does it hold commitments, and which load is the latest.

    Cached for a few seconds only, so a load from the command line shows up promptly;
    the version token keys every metric cache entry.
    """
    try:
        engine = engine_for(url)
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            if not inspector.has_table("commitments"):
                return DbStatus(ok=True, commitments=0, version="no-schema")
            count = conn.execute(sa.select(sa.func.count()).select_from(commitments)).scalar()
            version = "none"
            if inspector.has_table("load_batches"):
                row = conn.execute(
                    sa.select(
                        sa.func.max(load_batches.c.batch_id),
                        sa.func.count(),
                        sa.func.max(load_batches.c.finished_at),
                    )
                ).one()
                version = f"{row[0]}:{row[1]}:{row[2]}"
            return DbStatus(ok=True, commitments=int(count or 0), version=f"{version}:{count}")
    except Exception as exc:  # any driver error becomes a message, never a traceback
        timed_out = querywatch.is_statement_timeout(exc)
        return DbStatus(ok=False, error=_short_reason(exc), timed_out=timed_out)


def _short_reason(exc: BaseException) -> str:
    """The first line of an error, without SQLAlchemy's background links."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def db_status() -> DbStatus:
    """The database status (probed at most every few seconds, see _probe)."""
    return _probe(db_url())


def invalidate_data() -> None:
    """Forget every cached metric result and the database probe (after a load)."""
    st.cache_data.clear()


# --- cached metric calls ---------------------------------------------------------------


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
    with engine_for(url).connect() as conn:
        if f is None:
            return _func(conn, *args, **dict(kwargs))
        return _func(conn, f, *args, **dict(kwargs))


def metric(func: Callable[..., Any], f: MetricFilter | None, *args: Any, **kwargs: Any) -> Any:
    """`func(conn, f, *args, **kwargs)`, cached per database, data version and arguments.

    `func` is a function of `dashboard.metrics` (e.g. `ontime.on_time_summary`), passed
    itself so that go-to-definition, rename and dead-code tools see every call. Pass
    f=None for functions that take no filter (e.g. `targets.targets_in_force`).
    """
    status = db_status()
    f, kwargs = scoped_call(func, f, kwargs, current_scope())
    kw = tuple(sorted(kwargs.items()))
    return _cached_metric(db_url(), status.version, metric_key(func), func, f, args, kw)


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


# --- as_of and options -----------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=100)
def _as_of_cached(url: str, version: str, minute: str) -> datetime:
    """kpis.default_as_of, recomputed each minute (it is "now" for live data)."""
    with engine_for(url).connect() as conn:
        return kpis.default_as_of(conn)


def as_of() -> datetime:
    """The evaluation instant: the sample's own as_of when it is loaded, else now.

    "Now" is asked for once a minute, so metric results stay cached within a minute
    and every element of one page is judged at the same instant.
    """
    minute = datetime.now().strftime("%Y%m%d%H%M")
    value = _as_of_cached(db_url(), db_status().version, minute)
    value = pd.Timestamp(value).to_pydatetime()
    return value.replace(tzinfo=None) if value.tzinfo is not None else value


def stage_options(at: datetime) -> list[str]:
    """Process stages in chain order (process_map.process_chain), for every selector."""
    chain = metric(process_map.process_chain, MetricFilter(as_of=at))  # scoped by metric()
    return [str(p) for p in chain["process"]]


# --- the view (sidebar + URL) ----------------------------------------------------------


def _query_dict() -> dict[str, list[str]]:
    """The current query string with every value of repeated keys."""
    return {key: st.query_params.get_all(key) for key in st.query_params}


def url_view() -> ViewState:
    """The view the URL asked for when this session started (parsed defensively)."""
    if _URL_VIEW not in st.session_state:
        st.session_state[_URL_VIEW] = parse_view(_query_dict())
    return st.session_state[_URL_VIEW]


def current_lang() -> str:
    """The language of this run (the sidebar switch, else the URL, else Spanish)."""
    chosen = st.session_state.get(K_LANG)
    if chosen in LANGUAGES:
        return norm_lang(chosen)
    return norm_lang(st.session_state.get(_LAST_LANG) or url_view().lang)


def _seed(key: str, value: Any) -> None:
    """Give a widget its starting value from the URL, once (later its own state rules)."""
    if key not in st.session_state:
        st.session_state[key] = value


def translated_key(key: str) -> str:
    """`key`, remembered as the key of a widget whose option labels are translated.

    Streamlit's browser side keeps a choice as its *label*: after a language switch the
    old label matches no option and the widget falls back to its first option (a second
    switch turned "Last 26 weeks" into "Last 4 weeks"). Every remembered widget gets its
    value re-sent on the switch (`_resend_translated`).
    """
    st.session_state.setdefault(_TRANSLATED, set()).add(key)
    return key


def _resend_translated() -> None:
    """Assign each translated widget its own value again, before it is drawn: a value set
    through session state is sent to the browser with the new labels."""
    for key in (*FRAME_TRANSLATED, *sorted(st.session_state.get(_TRANSLATED, ()))):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def scope_note(lang: str) -> None:
    """On every page of a scoped user, the sidebar says which rows every number counts
    (pages without the filters too: the scope is not a filter they can change)."""
    scope = current_scope()
    if not scope.unrestricted:
        st.sidebar.caption(t("row_scope", lang, scope=plain_md(scope.describe(lang))))


def language_switch() -> str:
    """The ES/EN switch (also shown on pages without the filter sidebar)."""
    _seed(K_LANG, url_view().lang)
    if st.session_state.get(K_LANG) not in LANGUAGES:  # the active choice was clicked off
        st.session_state[K_LANG] = current_lang()
    lang = st.sidebar.segmented_control(
        t("language", current_lang()),
        options=list(LANGUAGES),
        format_func=lambda code: {"es": "Español", "en": "English"}[code],
        key=K_LANG,
        selection_mode="single",
    )
    lang = norm_lang(lang) if lang in LANGUAGES else current_lang()
    previous = st.session_state.get(_LAST_LANG)
    st.session_state[_LAST_LANG] = lang
    if previous is not None and previous != lang:
        _resend_translated()
    return lang


def keep_filters(*keys: str) -> None:
    """Keep the filter widgets' values through a run that does not draw them (Streamlit
    forgets a keyed widget's state when a run skips it): back on a filtered page, the
    view is the one the user left."""
    for key in keys or (K_PERIOD, K_FROM, K_TO, K_STAGES, K_CTYPE, K_DIR):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def last_view() -> ViewState:
    """The view the sidebar last described (or the URL's), for pages that draw no filter."""
    view = st.session_state.get(_VIEW) or url_view().with_(drill_stage=None, drill_performer=None)
    return view.with_(lang=current_lang())


def sidebar(
    at: datetime | None, stages: Sequence[str], *, hidden: frozenset[str] = frozenset()
) -> ViewState:
    """The shared filter sidebar; returns the view it describes (no drill level).

    Values the URL asked for but the data does not have (an unknown stage, a hostile
    string) are dropped before they reach a widget. Filters named in `hidden` ("period",
    "direction") are not drawn, for pages where they change nothing; their values are
    kept for the next page that uses them.
    """
    seed = url_view()
    lang = language_switch()
    _seed(K_PERIOD, seed.period)
    _seed(K_STAGES, [s for s in seed.stages if s in stages])
    _seed(K_CTYPE, seed.customer_type)
    _seed(K_DIR, seed.direction)
    st.session_state[K_STAGES] = [s for s in st.session_state[K_STAGES] if s in stages]
    side = st.sidebar
    side.header(t("sidebar_filters", lang))
    if "period" in hidden:
        keep_filters(K_PERIOD, K_FROM, K_TO)
        period = st.session_state[K_PERIOD]
    else:
        period = side.selectbox(
            t("period", lang),
            options=list(PERIODS),
            format_func=lambda p: t(f"period_{p}", lang),
            key=K_PERIOD,
        )
    date_from: date | None = None
    date_to: date | None = None
    if period == "custom" and "period" in hidden:
        date_from = st.session_state.get(K_FROM, seed.date_from)
        date_to = st.session_state.get(K_TO, seed.date_to)
    elif period == "custom":
        default_to = seed.date_to or (at.date() if at else date.today())
        default_from = seed.date_from or default_to.replace(day=1)
        _seed(K_FROM, default_from)
        _seed(K_TO, default_to)
        date_from = side.date_input(
            t("date_from", lang), key=K_FROM, format="DD/MM/YYYY" if lang == "es" else "YYYY-MM-DD"
        )
        date_to = side.date_input(
            t("date_to", lang), key=K_TO, format="DD/MM/YYYY" if lang == "es" else "YYYY-MM-DD"
        )
    chosen = side.multiselect(
        t("stages", lang), options=list(stages), key=K_STAGES, placeholder=t("stages_all", lang)
    )
    ctype = side.selectbox(
        t("customer_type", lang),
        options=list(CUSTOMER_TYPES),
        format_func=lambda c: t(f"customer_type_{c}", lang),
        key=K_CTYPE,
    )
    if "direction" in hidden:
        keep_filters(K_DIR)
        direction = st.session_state[K_DIR]
    else:
        direction = side.radio(
            t("direction", lang),
            options=list(DIRECTIONS),
            format_func=lambda d: t(f"direction_{d}", lang),
            key=K_DIR,
        )
    if at is not None:
        side.caption(f"{t('as_of_label', lang)}: **{fmt_datetime(at, lang)}**")
    scope_note(lang)
    side.caption(t("view_link_help", lang))
    start, end = (date_from, date_to) if period == "custom" else (None, None)
    if isinstance(start, date) and isinstance(end, date) and start > end:
        start, end = end, start
    view = ViewState(
        period=period,
        date_from=start if isinstance(start, date) else None,
        date_to=end if isinstance(end, date) else None,
        stages=tuple(chosen),
        customer_type=ctype,
        direction=direction,
        lang=lang,
    )
    st.session_state[_VIEW] = view
    return view


def current_view() -> ViewState:
    """The view of this run as the sidebar left it (or as the URL says, without sidebar)."""
    view = st.session_state.get(_VIEW)
    if view is None:
        view = url_view().with_(drill_stage=None, drill_performer=None)
    return view.with_(lang=current_lang())


def sync_url(view: ViewState) -> None:
    """Write the view into the query string so the link in the address bar reopens it.

    Only the view's own keys are touched; other pages' parameters are left alone.
    """
    wanted = view.to_query()
    current = _query_dict()
    for key in VIEW_KEYS:
        value = wanted.get(key)
        if value is None:
            if key in current:
                del st.query_params[key]
            continue
        as_list = value if isinstance(value, list) else [value]
        if current.get(key) != as_list:
            st.query_params[key] = value


# --- page furniture ----------------------------------------------------------------------


# User text made literal inside Markdown: one implementation, in dashboard.ui.texts.
plain_md = md_escape


def text(key: str, lang: str, **values: object) -> str:
    """A UI string from dashboard.ui.texts (page-specific strings) or dashboard.ui.i18n."""
    try:
        from dashboard.ui.texts import tr
    except ImportError:  # texts.py is optional: i18n holds the shared words
        return t(key, lang, **values)
    return tr(key, lang, **values)


def uploader_words(lang: str) -> None:
    """Streamlit's file uploader says "Upload" and "200MB per file" in English whatever
    the page's language: in Spanish, a style rule draws the page's own words instead
    (the English text stays in the DOM at size 0, so nothing else moves). An empty date
    input's placeholder is the format in English letters (DD/MM/YYYY): in Spanish it is
    hidden, and the field's label says the format in Spanish (`date_format_hint`)."""
    if lang != "es":
        return
    button = text("uploader_button", lang)
    limit = text("uploader_limit", lang, mb=st.get_option("server.maxUploadSize"))
    zone = '[data-testid="stFileUploaderDropzone"]'
    st.html(
        "<style>"
        f'{zone} button [data-testid="stMarkdownContainer"] p {{font-size: 0}}'
        f'{zone} button [data-testid="stMarkdownContainer"] p::after '
        f'{{content: "{button}"; font-size: 1rem}}'
        f'{zone} [data-testid="stFileUploaderDropzoneInstructions"] span {{font-size: 0}}'
        f'{zone} [data-testid="stFileUploaderDropzoneInstructions"] span::after '
        f'{{content: "{limit}"; font-size: 0.875rem}}'
        '[data-testid="stDateInput"] [data-type="year"][data-placeholder="true"] '
        "{font-size: 0}"
        '[data-testid="stDateInput"] [data-type="year"][data-placeholder="true"]::after '
        '{content: "aaaa"; font-size: 1rem}'
        "</style>"
    )


def page_header(title_key: str, f: MetricFilter, lang: str) -> None:
    """The page title and, under it, the filter in words and the as_of in use.

    `title_key` may live in dashboard.ui.i18n or dashboard.ui.texts.
    """
    st.title(text(title_key, lang))
    st.caption(plain_md(f.describe(lang)))  # stage / performer names are user data


def sample_available() -> bool:
    """True when the sample files ship with this copy of Eslabón."""
    return SAMPLE_DIR.is_dir() and any(SAMPLE_DIR.iterdir())


def load_sample(url: str) -> tuple[bool, str]:
    """Create the schema and load data/sample into `url` with the ETL's own CLI.

    A subprocess keeps the load (and its write lock) out of the server process and
    uses exactly the path `make db` uses.
    """
    env = {**os.environ, "ESLABON_DB_URL": url}
    steps = (
        [sys.executable, "-m", "etl", "init", "--db", url],
        [sys.executable, "-m", "etl", "load", str(SAMPLE_DIR), "--db", url],
    )
    for cmd in steps:
        done = subprocess.run(  # fixed argv, no shell
            cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()
            return False, tail[-1] if tail else f"exit {done.returncode}"
    return True, ""


def remember_pages(pages: dict[str, st.Page]) -> None:
    """Keep this run's registered pages so states can link to them (e.g. to Datos)."""
    st.session_state["_eslabon_pages"] = pages


def registered_page(name: str) -> st.Page | None:
    """A page registered in this run by app.py, by its url path."""
    return (st.session_state.get("_eslabon_pages") or {}).get(name)


def empty_state(lang: str) -> None:
    """What to do when the database holds no commitments: load the sample, or go to Datos."""
    st.title(t("app_title", lang))
    st.subheader(t("empty_title", lang))
    st.markdown(t("empty_body", lang))
    cols = st.columns([1, 1, 2])
    may_load = allowed("load_data")  # loading is the admin's (auth.PERMISSIONS)
    if may_load and cols[0].button(
        t("load_sample", lang), type="primary", key="load_sample", disabled=not sample_available()
    ):
        if not require("load_data", lang):
            return
        with st.spinner(t("loading_sample", lang)):
            ok, reason = load_sample(db_url())
        invalidate_data()
        if ok:
            st.success(t("sample_loaded", lang))
            st.rerun()
        else:
            st.error(t("sample_failed", lang, reason=plain_md(reason)))
    datos = registered_page("datos")
    if datos is not None and may_load:
        with cols[1]:
            st.page_link(datos, label=t("go_to_datos", lang), icon=":material/upload_file:")
    else:
        cols[1].markdown(f"**{t('go_to_datos', lang)}**: `python -m etl load <carpeta> --db URL`")


def timeout_reason(exc: BaseException, lang: str) -> str | None:
    """The plain words for a query stopped by ESLABON_STATEMENT_TIMEOUT, else None."""
    if not querywatch.is_statement_timeout(exc):
        return None
    seconds = load_settings().statement_timeout or 0
    return t("query_timeout", lang, seconds=f"{seconds:g}")


def status_reason(status: DbStatus, lang: str) -> str:
    """Why the database status is not ok, in words (a timeout says which setting)."""
    if status.timed_out:
        seconds = load_settings().statement_timeout or 0
        return t("query_timeout", lang, seconds=f"{seconds:g}")
    return status.error


def error_state(lang: str, reason: str) -> None:
    """A clear message about an unreachable or broken database; never a traceback."""
    st.title(t("app_title", lang))
    st.error(
        f"**{t('db_error_title', lang)}**\n\n"
        + t(
            "db_error_body",
            lang,
            url=url_for_people(db_url()).replace("`", ""),
            reason=plain_md(reason),
        )
    )


def run_page(
    render: Callable[[], None],
    *,
    needs_data: bool = True,
    action: str = "read",
    all_rows: bool = False,
) -> None:
    """Run a page body, turning any database failure into the error state.

    Pages that make sense on an empty database (Datos, where data is loaded) pass
    `needs_data=False` and skip the empty state. The role is checked first, on the
    server, whatever the navigation showed: without `action` nothing of the page is drawn.
    A page that spans every row (`all_rows`, auth.ALL_ROWS_PAGES) draws nothing for a
    user with a row scope.
    """
    watch_session_queries()
    lang = current_lang()
    if not require(action, lang):
        return
    if all_rows and not current_scope().unrestricted:
        st.warning(auth.auth_text("not_allowed", lang, action=action))
        return
    status = db_status()
    if not status.ok:
        error_state(lang, status_reason(status, lang))
        return
    if needs_data and status.commitments == 0:
        empty_state(lang)
        return
    try:
        render()
    except sa.exc.SQLAlchemyError as exc:  # the database failed mid-page
        log.warning("database error on a page: %s", _short_reason(exc))
        error_state(lang, timeout_reason(exc, lang) or _short_reason(exc))
    except Exception:  # a bug: the details go to the server log, a plain message to the user
        log.exception("page failed")
        st.error(t("page_failed", lang))


# --- access: who is signed in and what their role allows (dashboard.access.auth) -----------------

IDENTITY_KEY = "_eslabon_identity"  # the password user this session signed in as
NO_ROWS = RowScope(stages=(), customers=())


@dataclass(frozen=True)
class Access:
    """This session's access, worked out on the server on every run.

    mode: "single" (no auth configured, loopback: admin), "login" (auth configured;
    role None until someone with a role signs in), "refused" (no auth configured but the
    server is reachable from other machines) or "broken" (the auth file is invalid).
    """

    mode: str
    role: str | None = None
    who: str | None = None
    method: str | None = None  # "password" or "oidc" once signed in
    unsafe_key: tuple[str, str] | None = None  # "broken" by a published or weak key: (file, key)
    # the rows this person may see (auth file); nobody signed in sees none
    scope: RowScope = NO_ROWS


def server_address() -> str | None:
    """The address the server listens on (server.address; empty means every interface)."""
    return st.get_option("server.address")


def oidc_section() -> dict[str, Any] | None:
    """The `[auth]` section of .streamlit/secrets.toml (st.login's provider), if any."""
    try:
        section = st.secrets.get("auth")
    except Exception:  # no secrets file, or an unreadable one: no OIDC
        return None
    return dict(section) if section else None


def oidc_providers() -> list[str]:
    """Named providers ([auth.NAME] sections); empty for the single default provider."""
    section = oidc_section() or {}
    return [name for name, value in section.items() if isinstance(value, Mapping)]


def auth_config() -> auth.AuthConfig:
    """The auth file as it is now, so removed or demoted users lose rights at once.

    Checked on every call (a stat), parsed again only when the file changed: the row
    scope is asked for on every metric call of a page, and parsing the YAML each time
    cost about 8 ms a call.
    """
    path = auth.auth_config_path()
    try:
        info = path.stat()
        stamp: tuple[int, int, int] | None = (info.st_mtime_ns, info.st_size, info.st_ino)
    except OSError:
        stamp = None
    return _auth_config_at(str(path), stamp)


@functools.lru_cache(maxsize=8)
def _auth_config_at(path: str, stamp: tuple[int, int, int] | None) -> auth.AuthConfig:
    """The parsed file for one (path, modification stamp); errors are not cached."""
    return auth.load_auth_config(Path(path))


@st.cache_resource(show_spinner=False)
def sign_in_throttle() -> signin.SignInThrottle:
    """The server's one count of failed sign-ins (per username and per client): kept on
    the server, so a new tab or a cleared cookie starts nowhere afresh."""
    return signin.SignInThrottle()


def client_address() -> str | None:
    """The browser's address, for the sign-in throttle and the log: the connection's, or,
    when the connection comes from this machine (Streamlit then says None: a reverse proxy
    on the same host, deploy/nginx-eslabon.conf), the last X-Forwarded-For entry — the
    address the proxy itself appended, which the browser cannot choose."""
    try:
        direct = st.context.ip_address
        if direct:
            return direct
        forwarded = st.context.headers.get("X-Forwarded-For") or ""
    except Exception:
        return None
    last = forwarded.split(",")[-1].strip()
    return last[:64] or None


def browser_cookie(name: str) -> str | None:
    """A cookie the browser sent when this session opened (st.context.cookies)."""
    try:
        return st.context.cookies.get(name)
    except Exception:
        return None


def _oidc_user() -> dict[str, Any]:
    """st.user as a dict when someone is signed in through st.login, else {}."""
    try:
        info = dict(st.user.to_dict())
    except Exception:
        return {}
    return info if info.get("is_logged_in") is True else {}


def current_access() -> Access:
    """This session's mode, role and name (never taken from the browser: the role is
    looked up in the auth file for the user the server authenticated)."""
    try:
        config = auth_config()
    except auth.AuthConfigError as exc:
        log.error("auth configuration: %s", exc)
        unsafe = (exc.file_name, exc.key) if isinstance(exc, auth.UnsafeKeyError) else None
        return Access(mode="broken", unsafe_key=unsafe)
    oidc = oidc_section()
    problem = auth.oidc_cookie_secret_problem(oidc)
    if problem:  # st.login's identity cookie would be signed with a public key
        log.error(
            "auth configuration: .streamlit/secrets.toml: %s. Replace it with a random "
            "secret: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            problem,
        )
        return Access(mode="broken", unsafe_key=("secrets.toml", "[auth] cookie_secret"))
    if not config.exists and not oidc:
        if auth.single_user_allowed(server_address()):
            return Access(mode="single", role="admin", scope=EVERYTHING)
        return Access(mode="refused")
    username = st.session_state.get(IDENTITY_KEY)
    if username and st.session_state.get("authentication_status") is True:
        user = config.users.get(str(username))
        if user is not None:
            return Access(
                mode="login", role=user.role, who=user.name, method="password", scope=user.scope
            )
    if oidc:
        info = _oidc_user()
        if info:
            verified = info.get("email_verified")
            groups = info.get("groups")
            role, scope = auth.oidc_access(
                config,
                info.get("email"),
                verified=verified if isinstance(verified, bool) else None,
                groups=[str(g) for g in groups] if isinstance(groups, list) else (),
            )
            who = str(info.get("email") or info.get("name") or "")
            return Access(mode="login", role=role, who=who or None, method="oidc", scope=scope)
    return Access(mode="login")


def current_scope() -> RowScope:
    """The rows this session may see, from the auth file on every call (never the
    browser): every metric call of a page is narrowed to it (`metric`, records_ui).

    Outside any session (no script-run context: only the server's own start-up work,
    `serve.warm_caches`, which fills the shared caches for the unrestricted view) there
    is no user to restrict; every visitor's run has a context. The cache keys hold the
    scope, so a scoped user never reads an entry computed for another scope.
    """
    if get_script_run_ctx() is None:
        return EVERYTHING
    return current_access().scope


def current_role() -> str | None:
    """The role of this session (None: not signed in, or no role)."""
    return current_access().role


def allowed(action: str) -> bool:
    """May this session do `action` (a key of dashboard.access.auth.PERMISSIONS)?"""
    return auth.role_allows(current_role(), action)


def require(action: str, lang: str) -> bool:
    """allowed(action), with a polite "not allowed" on the page when it is not."""
    if allowed(action):
        return True
    st.warning(auth.auth_text("not_allowed", lang, action=action))
    return False
