"""The customer view: one customer's commitments, opened by a signed link (?token=...).

Shown instead of the app, never inside it: no sidebar, no navigation, no filters, no
other customer, nothing internal (no performer, no actor, no upstream ids). The customer
comes from the verified token only; nothing in the URL can widen it. A missing,
tampered or expired token, or a server without a signing secret, gets the same polite
refusal (the reason is not told: it would help whoever is guessing). Database problems
give a short apology without the database address.
"""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from dashboard.services.tokens import CustomerAccess, configured_secret, read_token
from dashboard.services.tracking import customer_commitments, customer_tracking, timeline
from dashboard.ui.i18n import fmt_date, fmt_datetime, fmt_stored, norm_lang
from dashboard.ui.texts import md_escape, tr
from dashboard.views import cache

TOKEN_PARAM = "token"
log = logging.getLogger(__name__)


def _lang() -> str:
    """?lang=en switches the language; anything else is Spanish."""
    return norm_lang(st.query_params.get("lang"))


def _table(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The customer's rows with translated headers and statuses (plain text cells)."""
    return pd.DataFrame(
        {
            tr("col_commitment", lang): rows["commitment_id"].astype(str),
            tr("col_title", lang): rows["title"].fillna("").astype(str),
            tr("col_process", lang): rows["process"].astype(str),
            tr("col_due", lang): [fmt_stored(v, lang) for v in rows["due_at"]],
            tr("col_status", lang): [tr(f"st_{s}", lang) for s in rows["status"]],
            tr("col_delivered", lang): [fmt_stored(v, lang) for v in rows["delivered_at"]],
            tr("col_predicted", lang): [fmt_stored(v, lang) for v in rows["predicted_delivery"]],
        }
    )


def refuse(lang: str) -> None:
    """The one polite refusal for every bad link."""
    st.title(tr("cliente_title", lang))
    st.warning(tr("cust_refused", lang))


def render(access: CustomerAccess, lang: str) -> None:
    """The customer's page, once the token is verified."""
    at = cache.as_of()
    # cached per customer, instant and data version, like every number of the app
    rows = cache.metric(customer_commitments, None, access.customer, at)
    st.title(tr("cust_title", lang))
    st.caption(md_escape(tr("cust_hello", lang, customer=access.customer)))
    if rows.empty:
        st.info(tr("cust_none", lang))
        return
    for direction, key in (("to_customer", "cust_ours"), ("from_customer", "cust_theirs")):
        part = rows[rows["direction"] == direction]
        if part.empty:
            continue
        st.subheader(tr(key, lang))
        st.dataframe(_table(part, lang), hide_index=True, width="stretch")
    st.subheader(tr("cust_detail", lang))
    labels = {
        str(cid): f"{cid} · {title or ''!s}"
        for cid, title in zip(rows["commitment_id"], rows["title"], strict=True)
    }
    options: list[str] = list(labels)
    chosen = st.selectbox(
        tr("col_commitment", lang),
        options=options,
        format_func=lambda cid: labels[str(cid)],
        key="cust_pick",
    )
    if chosen is None:
        return
    detail = cache.metric(customer_tracking, None, access.customer, str(chosen), at)
    if detail is None:  # cannot happen for an id of the list; never show anything else
        return
    # each moment once (tracking.timeline): an event at a phase's instant is that phase
    moments = timeline(detail.phases, detail.stages.assign(actor=None), None)
    steps = pd.DataFrame(
        {
            tr("col_at", lang): [fmt_stored(v, lang) for v in moments["at"]],
            tr("col_stage", lang): [s if isinstance(s, str) else "" for s in moments["stage"]],
            tr("col_phase", lang): [
                tr(f"phase_{p}", lang) if isinstance(p, str) else "" for p in moments["phase"]
            ],
        }
    )
    st.dataframe(steps, hide_index=True, width="stretch")
    if detail.late_upstream_stages:
        st.caption(
            md_escape(tr("cust_late_upstream", lang, stages=", ".join(detail.late_upstream_stages)))
        )
    if detail.predicted_delivery is not None:
        st.info(tr("track_at_risk", lang, date=fmt_date(detail.predicted_delivery, lang)))
    st.caption(tr("cust_valid_until", lang, date=fmt_datetime(access.expires_at, lang)))


def page() -> None:
    """Verify the token, then draw the customer's page or the refusal. Never raises."""
    lang = _lang()
    access = read_token(st.query_params.get(TOKEN_PARAM), configured_secret())
    if not isinstance(access, CustomerAccess):
        log.info("customer link refused: %s", access.reason)
        refuse(lang)
        return
    try:
        render(access, lang)
    except Exception as exc:  # a database failure: apologise, never show internals
        log.warning("customer view failed: %s", type(exc).__name__)
        st.error(tr("cust_unavailable", lang))
