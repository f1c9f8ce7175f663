"""Metas: the quality team's targets — the traffic lights of the last full week against
the targets in force, a form to set a new target, the full history (who set what, when),
and CSV import/export.

A target is never edited in place: saving appends a row with its own `valid_from`, and
every light in the app (cards, review, reports) uses the one in force. Layout only:
dashboard.records.targets writes, dashboard.services.review.kpi_table judges.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard.metrics.definitions import HEADLINE_KPIS
from dashboard.records.targets import (
    DIRECTIONS,
    import_targets_csv,
    set_target,
    target_history,
    targets_csv,
)
from dashboard.report.weekly import format_kpi
from dashboard.services.review import default_review_week, kpi_table, week_and_previous
from dashboard.ui.i18n import MISSING, fmt_date, fmt_kpi_gap, fmt_stored
from dashboard.ui.texts import kpi_label, md_escape, tr
from dashboard.views import access_gate, cache, dispatch, url_state
from dashboard.views.records_ui import cached, flash, show_flash, show_lights, who, write
from etl.read import READABLE_TYPES

MAX_UPLOAD_BYTES = 1_000_000


def history_table(history: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("col_kpi", lang): [kpi_label(k, lang) for k in history["kpi"]],
            tr("col_process", lang): history["process"].fillna("—").astype(str),
            tr("targets_value", lang): [
                format_kpi(k, v, lang)
                for k, v in zip(history["kpi"], history["target_value"], strict=True)
            ],
            tr("targets_direction", lang): [tr(f"dir_{d}", lang) for d in history["direction"]],
            tr("targets_tolerance", lang): [
                fmt_kpi_gap(k, v, lang)
                for k, v in zip(history["kpi"], history["amber_tolerance"], strict=True)
            ],
            tr("targets_valid_from", lang): [
                fmt_stored(v, lang, missing=MISSING, with_time=False) for v in history["valid_from"]
            ],
            tr("targets_set_by", lang): history["set_by"].fillna("").astype(str),
            tr("targets_set_at", lang): [
                fmt_stored(v, lang, missing=MISSING) for v in history["set_at"]
            ],
            tr("targets_note", lang): history["note"].fillna("").astype(str),
        }
    )


def target_form(stages: list[str], default_day: date, lang: str) -> None:
    """The form that appends one target."""
    st.subheader(tr("targets_new", lang))
    with st.form("w_target_form", clear_on_submit=False):
        cols = st.columns(3)
        kpi = cols[0].selectbox(
            tr("targets_kpi", lang),
            list(HEADLINE_KPIS),
            index=list(HEADLINE_KPIS).index("on_time_rate"),
            format_func=lambda k: kpi_label(k, lang),
            key=url_state.translated_key("w_t_kpi"),
        )
        process = cols[1].selectbox(
            tr("targets_process", lang),
            ["", *stages],
            format_func=lambda p: p or "—",
            key="w_t_process",
        )
        valid_from = cols[2].date_input(
            tr("targets_valid_from", lang),
            value=default_day,
            format="DD/MM/YYYY" if lang == "es" else "YYYY-MM-DD",
            key="w_t_from",
        )
        cols = st.columns(3)
        value = cols[0].number_input(
            tr("targets_value", lang), value=0.9, step=0.01, format="%.4f", key="w_t_value"
        )
        direction = cols[1].radio(
            tr("targets_direction", lang),
            list(DIRECTIONS),
            format_func=lambda d: tr(f"dir_{d}", lang),
            horizontal=True,
            key=url_state.translated_key("w_t_dir"),
        )
        tolerance = cols[2].number_input(
            tr("targets_tolerance", lang),
            min_value=0.0,
            value=0.05,
            step=0.01,
            format="%.4f",
            key="w_t_tol",
        )
        note = st.text_input(tr("targets_note", lang), max_chars=500, key="w_t_note")
        st.caption(tr("targets_rate_hint", lang))
        author = who(lang)
        if st.form_submit_button(tr("targets_save", lang), type="primary"):
            ok, _ = write(
                set_target,
                kpi,
                float(value),
                direction,
                float(tolerance),
                valid_from,
                author,
                process=process or None,
                note=note,
            )
            if ok:
                flash(tr("targets_saved", lang))
                st.rerun()


def import_export(lang: str) -> None:
    """CSV in (all-or-nothing, every problem listed) and out."""
    cols = st.columns(2)
    may_edit = access_gate.allowed("set_targets")  # viewers export only
    with cols[0]:
        upload = (
            st.file_uploader(
                tr("targets_import", lang), type=list(READABLE_TYPES), key="w_t_upload"
            )
            if may_edit
            else None
        )
        if upload is not None and st.button(tr("targets_import", lang), key="w_t_import"):
            data = upload.getvalue()
            if len(data) > MAX_UPLOAD_BYTES:
                st.error(f"{md_escape(upload.name)}: > {MAX_UPLOAD_BYTES // 1000} kB")
                return
            ok, result = write(import_targets_csv, data, who(lang, widget=False), name=upload.name)
            if ok and result.ok:
                flash(tr("targets_import_ok", lang, n=result.imported))
                st.rerun()
            elif ok:
                st.error(tr("targets_import_bad", lang))
                st.dataframe(
                    pd.DataFrame({upload.name: [p.text(lang) for p in result.problems]}),
                    hide_index=True,
                    width="stretch",
                )
    with cols[1]:
        st.download_button(
            tr("targets_export", lang),
            data=cached(targets_csv).encode("utf-8-sig"),
            file_name="metas.csv",
            mime="text/csv",
            key="w_t_export",
        )


def render() -> None:
    """The Metas page."""
    view = url_state.current_view()
    lang = view.lang
    at = cache.as_of()
    base = view.to_filter(at)
    st.title(tr("page_metas", lang))
    show_flash()
    week = default_review_week(at)
    f_week, f_previous = week_and_previous(base, week)
    st.subheader(f"{tr('targets_lights', lang)} · {week}")
    st.caption(
        tr("review_period", lang, start=fmt_date(f_week.date_from, lang),
           end=fmt_date(f_week.date_to, lang))
        + " · " + md_escape(f_week.describe(lang))  # stage names are data
    )  # fmt: skip
    table = cached(kpi_table, f_week, f_previous)
    show_lights(table, lang)
    if access_gate.allowed("set_targets"):  # viewers see the lights and history, no form
        target_form(cache.stage_options(at), at.date(), lang)
    st.subheader(tr("targets_history", lang))
    history = cached(target_history)
    if history.empty:
        st.info(tr("targets_none", lang))
    else:
        st.dataframe(history_table(history, lang), hide_index=True, width="stretch")
    import_export(lang)


def page() -> None:
    """The page as registry.PAGES registers it."""
    dispatch.run_page(render)
