"""Seguimiento: where one commitment stands — its cycle phases and process events, due
date, status, upstream commitments and, when at risk, the predicted delivery; a signed
link for its customer and calendar files of due dates.

Deep link: ?page=seguimiento&commitment=ID opens that commitment (used by Resumen).
Layout only: the data comes from dashboard.services.tracking and dashboard.services.calendar_feed.
"""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard.metrics.standards import commitment_standard
from dashboard.services.calendar_feed import calendar_feed, calendar_file_name
from dashboard.services.tokens import TokenConfigError, configured_secret, make_token, tracking_link
from dashboard.services.tracking import commitment_tracking, search_commitments, timeline
from dashboard.ui.i18n import fmt_date, fmt_datetime, fmt_hours_minutes, fmt_num, fmt_stored
from dashboard.ui.texts import md_escape, tr
from dashboard.views import cache, dispatch, url_state
from dashboard.views.records_ui import cached

K_SEARCH, K_PICK = "w_track_search", "w_track_pick"
Q_COMMITMENT = "commitment"
BASE_URL_PARAM = "ESLABON_BASE_URL"


def _status(status: str, lang: str) -> str:
    return tr(f"st_{status}", lang)


def date_card(column: DeltaGenerator, label: str, value: object, lang: str) -> None:
    """A moment as a card: the day large, its time of day small beneath it.

    "25/11/2026 18:00" at a card's font size does not fit a quarter of the page (it was
    cut to "25/11/2026 18…"); the day alone does. "—" when there is none.
    """
    day = fmt_stored(value, lang, with_time=False)
    if not day:
        column.metric(label, "—")
        return
    time_of_day = pd.Timestamp(value).strftime("%H:%M")  # type: ignore[arg-type]
    column.metric(label, day, delta=time_of_day, delta_color="off", delta_arrow="off")


def timeline_table(track: object, lang: str) -> pd.DataFrame:
    """tracking.timeline as text: each moment once, its stage and its cycle phase."""
    rows = timeline(track.phases, track.events, track.commitment["due_at"])  # type: ignore[attr-defined]
    due = tr("timeline_due", lang)
    return pd.DataFrame(
        {
            tr("col_at", lang): [fmt_stored(v, lang) for v in rows["at"]],
            tr("col_stage", lang): [
                due if is_due else (stage if isinstance(stage, str) else "")
                for stage, is_due in zip(rows["stage"], rows["is_due"], strict=True)
            ],
            tr("col_phase", lang): [
                tr(f"phase_{p}", lang) if isinstance(p, str) else "" for p in rows["phase"]
            ],
            tr("col_actor", lang): [a if isinstance(a, str) else "" for a in rows["actor"]],
        }
    )


def upstream_table(upstreams: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("col_commitment", lang): upstreams["commitment_id"].astype(str),
            tr("col_title", lang): upstreams["title"].fillna("").astype(str),
            tr("col_process", lang): upstreams["process"].astype(str),
            tr("col_customer", lang): upstreams["customer"].astype(str),
            tr("col_status", lang): [_status(s, lang) for s in upstreams["status"]],
            tr("col_due", lang): [fmt_stored(v, lang) for v in upstreams["due_at"]],
            tr("col_delivered", lang): [fmt_stored(v, lang) for v in upstreams["delivered_at"]],
            tr("col_delay", lang): [
                "" if pd.isna(v) else fmt_num(v, lang, 1) for v in upstreams["delay_days"]
            ],
        }
    )


def customer_link(customer: str, lang: str) -> None:
    """Create a signed tracking link for the commitment's customer."""
    with st.expander(tr("track_link", lang)):
        days = st.number_input(tr("track_link_days", lang), 1, 366, 30, key="w_track_days")
        if st.button(tr("track_link_make", lang), key="w_track_make"):
            base = os.environ.get(BASE_URL_PARAM) or "http://localhost:8501"
            try:
                token = make_token(customer, configured_secret(), days=float(days))
            except TokenConfigError:
                st.warning(tr("track_no_secret", lang))
                return
            st.code(tracking_link(base, token), language=None)


def calendar_downloads(track: object, at: object, lang: str) -> None:
    """Due-date calendars for this commitment's performer, stage or customer."""
    c = track.commitment  # type: ignore[attr-defined]
    scopes = [
        ("performer", c.get("performer")),
        ("process", c.get("process")),
        ("customer", c.get("customer")),
    ]
    scopes = [(kind, value) for kind, value in scopes if value]
    labels = {"performer": "col_performer", "process": "col_process", "customer": "col_customer"}
    st.markdown(f"**{tr('calendar_for', lang)}**")
    cols = st.columns(len(scopes) or 1)
    for col, (kind, value) in zip(cols, scopes, strict=False):
        data = cached(calendar_feed, at, lang=lang, **{kind: value})
        col.download_button(
            md_escape(f"{tr(labels[kind], lang)}: {value}"),
            data=data,
            file_name=calendar_file_name(kind, value),
            mime="text/calendar",
            key=f"w_ics_{kind}",
        )


def standard_caption(standard: dict | None, lang: str) -> None:
    """The service standard behind the date, and the business-time countdown if open."""
    if standard is None:
        return
    line = tr(
        "std_behind",
        lang,
        policy=standard["policy_id"],
        version=standard["version"],
        hours=fmt_num(standard["target_hours"], lang, 1),
        calendar=standard["calendar"] or tr("std_round_clock", lang),
        due=fmt_stored(standard["standard_due_at"], lang),
    )
    line += " " + tr("std_due_derived" if standard["due_from_standard"] else "std_due_explicit",
                     lang)  # fmt: skip
    st.caption(md_escape(line))
    if standard["remaining_hours"] is not None:
        left = tr("std_left", lang, time=fmt_hours_minutes(standard["remaining_hours"], lang))
        if standard["paused"]:
            left += f" · {tr('std_paused', lang)}"
        st.info(md_escape(left))


def render() -> None:
    """The Seguimiento page."""
    lang = url_state.current_lang()
    at = cache.as_of()
    st.title(tr("page_seguimiento", lang))
    st.caption(f"{tr('as_of_label', lang)}: {fmt_datetime(at, lang)}")
    if K_SEARCH not in st.session_state:
        st.session_state[K_SEARCH] = (st.query_params.get(Q_COMMITMENT) or "")[:200]
    query = st.text_input(
        tr("track_search", lang),
        key=K_SEARCH,
        max_chars=200,
        placeholder=tr("track_placeholder", lang),
    )
    if not query.strip():
        st.info(tr("track_hint", lang))
        return
    found = cached(search_commitments, query, at)
    if found.empty:
        st.info(tr("track_none", lang))
        return
    options = list(found["commitment_id"])
    labels = {
        r["commitment_id"]: f"{r['commitment_id']} · {r['customer']} · {r['title'] or ''}"
        for _, r in found.iterrows()
    }
    chosen = st.selectbox(
        tr("track_pick", lang), options, format_func=lambda c: labels[c], key=K_PICK
    )
    track = cached(commitment_tracking, chosen, at)
    if track is None:
        st.info(tr("track_none", lang))
        return
    c = track.commitment
    cols = st.columns(4)
    cols[0].metric(tr("col_status", lang), _status(track.status, lang))
    date_card(cols[1], tr("col_due", lang), c["due_at"], lang)
    date_card(cols[2], tr("col_delivered", lang), c["delivered_at"], lang)
    cols[3].metric(
        tr("col_delay", lang),
        "—" if track.delay_days is None else fmt_num(track.delay_days, lang, 1),
    )
    st.caption(
        md_escape(
            f"{tr('col_customer', lang)}: {c['customer']} · {tr('col_process', lang)}: "
            f"{c['process']} · {tr('col_performer', lang)}: {c['performer'] or '—'}"
        )
    )
    standard_caption(cached(commitment_standard, chosen, at), lang)
    if track.predicted_delivery is not None:
        st.warning(tr("track_at_risk", lang, date=fmt_date(track.predicted_delivery, lang)))
    st.subheader(tr("track_timeline", lang))
    st.dataframe(timeline_table(track, lang), hide_index=True, width="stretch")
    st.subheader(tr("track_upstreams", lang))
    if track.upstreams.empty:
        st.caption(tr("track_no_upstreams", lang))
    else:
        st.dataframe(upstream_table(track.upstreams, lang), hide_index=True, width="stretch")
    customer_link(str(c["customer"]), lang)
    calendar_downloads(track, at, lang)


def page() -> None:
    """The page as registry.PAGES registers it."""
    dispatch.run_page(render)
