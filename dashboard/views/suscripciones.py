"""Suscripciones: who receives the weekly pack (list, edit, remove, test-send) and the
delivery log (every attempt of subscriptions, alerts and tests).

Layout only: dashboard.records.subscriptions records, dashboard.delivery sends and logs.
Writes (and a test-send, which is logged) need the editor role (`manage_subscriptions`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard.delivery.log import delivery_history
from dashboard.delivery.mail import DeliveryError, SmtpSettings, SmtpTransport, smtp_settings
from dashboard.delivery.run import send_test_pack
from dashboard.records import local_now
from dashboard.records.alerts import AlertRule, list_alert_rules
from dashboard.records.recipients import CUSTOMER_TYPES, LANGS
from dashboard.records.subscriptions import (
    FORMATS,
    Subscription,
    add_subscription,
    list_subscriptions,
    remove_subscription,
    update_subscription,
)
from dashboard.ui.i18n import MISSING, fmt_stored, fmt_weekday
from dashboard.ui.texts import kpi_label, md_escape, tr
from dashboard.views import access_gate, cache, dispatch, url_state
from dashboard.views.records_ui import cached, flash, show_flash, who, write
from etl.settings import load_settings

ACTION = "manage_subscriptions"


def subscriptions_table(subs: list[Subscription], lang: str) -> pd.DataFrame:
    """One row per subscription, in words."""
    return pd.DataFrame(
        {
            tr("subs_col_id", lang): [s.subscription_id for s in subs],
            tr("subs_email", lang): [s.email for s in subs],
            tr("subs_col_schedule", lang): [
                f"{fmt_weekday(s.weekday, lang)} {s.hour:02d}:00" for s in subs
            ],
            tr("subs_col_filter", lang): [s.scope_words(lang) for s in subs],
            tr("subs_lang", lang): [s.lang for s in subs],
            tr("subs_formats", lang): [", ".join(s.formats) or MISSING for s in subs],
            tr("subs_active", lang): [s.active for s in subs],
        }
    )


def log_table(log: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The delivery log, newest first, in words."""
    return pd.DataFrame(
        {
            tr("subs_col_when", lang): [fmt_stored(v, lang) for v in log["attempted_at"]],
            tr("subs_col_kind", lang): [
                f"{tr(f'kind_{k}', lang)} {r}"
                for k, r in zip(log["kind"], log["ref_id"], strict=True)
            ],
            tr("subs_col_to", lang): log["recipient"].astype(str),
            tr("subs_col_subject", lang): log["subject"].astype(str),
            tr("subs_col_result", lang): [tr(f"result_{r}", lang) for r in log["result"]],
            tr("subs_col_detail", lang): log["detail"].fillna("").astype(str),
        }
    )


def rules_table(rules: list[AlertRule], lang: str) -> pd.DataFrame:
    """One row per alert rule, in words."""

    def condition(rule: AlertRule) -> str:
        what = rule.condition + (f" · {kpi_label(rule.kpi, lang)}" if rule.kpi else "")
        return what + (f" · {rule.threshold:g}" if rule.threshold is not None else "")

    return pd.DataFrame(
        {
            tr("subs_col_id", lang): [r.rule_id for r in rules],
            tr("subs_col_rule", lang): [r.name for r in rules],
            tr("subs_col_condition", lang): [condition(r) for r in rules],
            tr("subs_col_filter", lang): [
                r.metric_filter(r.created_at).describe(lang).rpartition("; ")[0] or MISSING
                for r in rules
            ],
            tr("subs_col_to", lang): [
                ", ".join([*r.emails, *([r.webhook_url] if r.webhook_url else [])]) for r in rules
            ],
            tr("subs_active", lang): [r.active for r in rules],
        }
    )


def _smtp(lang: str) -> SmtpSettings | None:
    """The mail server in use, said on the page; None when sending is not possible."""
    try:
        settings = smtp_settings()
    except DeliveryError as exc:
        st.error(tr("subs_bad_smtp", lang, error=md_escape(exc)))
        return None
    if settings is None:
        st.warning(tr("subs_no_smtp", lang))
    else:
        st.caption(tr("subs_smtp", lang, server=settings.describe()))
    return settings


def editor(
    subs: list[Subscription], stages: list[str], lang: str, smtp: SmtpSettings | None
) -> None:
    """Pick a subscription (or new), edit it in a form; remove it or test-send it."""
    st.subheader(tr("subs_edit", lang))
    by_id = {s.subscription_id: s for s in subs}
    choice = st.selectbox(
        tr("subs_pick", lang),
        [0, *by_id],
        format_func=lambda i: tr("subs_new", lang) if i == 0 else f"{i} · {by_id[i].email}",
        key="w_s_pick",
    )
    current = by_id.get(choice)
    k = f"_{choice}"  # fresh widgets when another subscription is picked
    with st.form("w_sub_form", clear_on_submit=False):
        email = st.text_input(
            tr("subs_email", lang), value=current.email if current else "", max_chars=254,
            key=f"w_s_email{k}",
        )  # fmt: skip
        cols: Sequence[DeltaGenerator] = st.columns(2)
        options = list(dict.fromkeys([*stages, *(current.processes if current else ())]))
        chosen_stages = cols[0].multiselect(
            tr("subs_stages", lang), options, default=list(current.processes) if current else [],
            key=f"w_s_stages{k}",
        )  # fmt: skip
        ctypes = cols[1].multiselect(
            tr("subs_ctypes", lang), list(CUSTOMER_TYPES),
            default=list(current.customer_types) if current else [],
            format_func=lambda c: tr(f"customer_type_{c}", lang), key=f"w_s_ctypes{k}",
        )  # fmt: skip
        customers = st.text_input(
            tr("subs_customers", lang), value=", ".join(current.customers) if current else "",
            max_chars=2000, key=f"w_s_customers{k}",
        )  # fmt: skip
        cols = st.columns(4)
        weekday = cols[0].selectbox(
            tr("subs_weekday", lang), list(range(7)), index=current.weekday if current else 0,
            format_func=lambda d: fmt_weekday(d, lang), key=f"w_s_weekday{k}",
        )  # fmt: skip
        hour = cols[1].number_input(
            tr("subs_hour", lang), min_value=0, max_value=23, step=1,
            value=current.hour if current else 8, key=f"w_s_hour{k}",
        )  # fmt: skip
        sub_lang = cols[2].radio(
            tr("subs_lang", lang), list(LANGS), horizontal=True,
            index=list(LANGS).index(current.lang if current else lang), key=f"w_s_lang{k}",
        )  # fmt: skip
        formats = cols[3].multiselect(
            tr("subs_formats", lang), list(FORMATS),
            default=list(current.formats) if current else list(FORMATS),
            key=f"w_s_formats{k}",
        )  # fmt: skip
        active = st.checkbox(
            tr("subs_active", lang), value=current.active if current else True,
            key=f"w_s_active{k}",
        )  # fmt: skip
        author = who(lang)
        if st.form_submit_button(tr("subs_save", lang), type="primary"):
            fields = {
                "weekday": int(weekday),
                "hour": int(hour),
                "processes": chosen_stages,
                "customers": [c for c in customers.split(",") if c.strip()],
                "customer_types": ctypes,
                "lang": sub_lang,
                "formats": formats,
            }
            if current is None:
                ok, _ = write(add_subscription, email, created_by=author, **fields)
            else:
                ok, _ = write(update_subscription, current.subscription_id, email, active=active,
                              **fields)  # fmt: skip
            if ok:
                flash(tr("subs_saved", lang))
                st.rerun()
    if current is None:
        return
    cols = st.columns(2)
    if cols[0].button(tr("subs_remove", lang), key="w_s_remove"):
        ok, _ = write(remove_subscription, current.subscription_id)
        if ok:
            flash(tr("subs_removed", lang))
            st.session_state.pop("w_s_pick", None)
            st.rerun()
    clicked = cols[1].button(tr("subs_test", lang), key="w_s_test", disabled=smtp is None)
    if clicked and smtp is not None:
        ok, outcome = write(send_test_pack, current.subscription_id, local_now(),
                            SmtpTransport(smtp), smtp.sender)  # fmt: skip
        if ok and outcome.result == "sent":
            flash(tr("subs_test_sent", lang, email=current.email))
            st.rerun()
        elif ok:
            st.error(tr("subs_test_failed", lang, error=md_escape(outcome.detail)))


def render() -> None:
    """The Suscripciones page."""
    view = url_state.current_view()
    lang = view.lang
    at = cache.as_of()
    st.title(tr("page_suscripciones", lang))
    show_flash()
    st.caption(tr("subs_intro", lang, tz=load_settings().timezone))
    smtp = _smtp(lang)
    subs = cached(list_subscriptions)
    st.subheader(tr("subs_list", lang))
    if subs:
        st.dataframe(subscriptions_table(subs, lang), hide_index=True, width="stretch")
    else:
        st.info(tr("subs_none", lang))
    if access_gate.allowed(ACTION):  # viewers see the list and the log, no form
        editor(subs, cache.stage_options(at), lang, smtp)
    rules = cached(list_alert_rules)
    if rules:
        st.subheader(tr("subs_alerts", lang))
        st.caption(tr("subs_alerts_hint", lang))
        st.dataframe(rules_table(rules, lang), hide_index=True, width="stretch")
    st.subheader(tr("subs_log", lang))
    log = cached(delivery_history)
    if log.empty:
        st.info(tr("subs_log_none", lang))
    else:
        st.dataframe(log_table(log, lang), hide_index=True, width="stretch")


def page() -> None:
    """The page as registry.PAGES registers it (every recipient and the whole log: all rows)."""
    dispatch.run_page(render, all_rows=True)
