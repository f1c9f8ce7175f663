"""Estándares: the service standards in force and their history, each calendar's week
and days off, and a what-if — a proposed target beside the one in force over the last
13 weeks, with the commitments whose verdict would flip (nothing saved). An editor adds a
new version of a policy here (dashboard.records.standards, through records_ui.write) or
imports calendars / holidays / policies files through the load itself; every version
stays in the history. Layout only: the numbers come from dashboard.metrics.standards.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.standards import (
    DEFAULT_AT_RISK_SHARE,
    WHAT_IF_WEEKS,
    at_risk_with_reasons,
    calendar_days_off,
    calendar_weeks,
    policy_versions,
    target_what_if,
)
from dashboard.records.standards import (
    StandardError,
    import_standards_files,
    save_policy_version,
)
from dashboard.ui.i18n import MISSING, fmt_hours_minutes, fmt_num, fmt_pct, fmt_stored
from dashboard.ui.texts import md_escape, record_kind_label, tr
from dashboard.views import access_gate, cache, database, dispatch, records_ui, url_state
from etl.preview import upload_read_limits
from etl.publish import publishing
from etl.read import READABLE_TYPES

WEEKS = WHAT_IF_WEEKS
K_IMPORT = "_std_import_result"
_NEW = "+new"  # the "new standard" choice in the policy list
# match column -> its label key (blank = any value)
_MATCH = {
    "process": "col_process",
    "customer_type": "customer_type",
    "priority": "std_priority",
    "category": "std_category",
}
_DAY_NAMES = {
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def _scope(row: pd.Series, lang: str) -> str:
    """A policy's match columns in the page's words ("Etapa: Compras, Prioridad: alta")."""
    parts = [
        f"{tr(label, lang)}: {row[c]}"
        for c, label in _MATCH.items()
        if pd.notna(row[c]) and row[c] is not None
    ]
    return ", ".join(parts) or tr("std_any", lang)


def versions_table(versions: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Policy versions as people read them."""
    return pd.DataFrame(
        {
            tr("std_policy", lang): versions["policy_id"].astype(str),
            tr("std_version", lang): versions["version"].astype(int),
            tr("targets_valid_from", lang): [
                fmt_stored(v, lang, missing=MISSING, with_time=False)
                for v in versions["valid_from"]
            ],
            tr("std_target", lang): [fmt_num(v, lang, 1) for v in versions["target_hours"]],
            tr("std_calendar", lang): [
                str(c) if isinstance(c, str) else tr("std_round_clock", lang)
                for c in versions["calendar"]
            ],
            tr("std_scope", lang): [_scope(r, lang) for _, r in versions.iterrows()],
            tr("std_pauses", lang): versions["pause_stages"].fillna("—").astype(str),
            tr("targets_set_by", lang): versions["set_by"].fillna("").astype(str),
        }
    )


def calendar_section(lang: str, year: int) -> None:
    """Each calendar's week and its days off in the evaluation year."""
    weeks = cache.metric(calendar_weeks, None)
    st.subheader(tr("std_calendars", lang))
    if weeks.empty:
        st.info(tr("std_no_calendars", lang))
        return
    names = sorted(set(weeks["calendar"]))
    name = st.selectbox(tr("std_calendar", lang), names, key="w_std_calendar")
    rows = weeks[weeks["calendar"] == name]
    days = _DAY_NAMES["en" if lang == "en" else "es"]
    week = (
        rows.assign(day=[days[int(w) - 1] for w in rows["weekday"]])
        .assign(window=rows["start"] + "–" + rows["end"])
        .groupby(["weekday", "day"], sort=True)["window"]
        .agg(", ".join)
        .reset_index()
    )
    cols = st.columns(2)
    cols[0].dataframe(
        pd.DataFrame({tr("std_day", lang): week["day"], tr("std_windows", lang): week["window"]}),
        hide_index=True,
        width="stretch",
    )
    off = cache.metric(calendar_days_off, None, name, year)
    place = rows["country"].dropna()
    caption = tr("std_days_off", lang, year=year)
    if len(place):
        caption += f" · {place.iat[0]}"
    cols[1].caption(caption)
    cols[1].dataframe(
        pd.DataFrame(
            {tr("std_day", lang): [fmt_stored(d, lang, with_time=False) for d in off["day"]]}
        ),
        hide_index=True,
        width="stretch",
    )


def what_if_section(in_force: pd.DataFrame, base: MetricFilter, lang: str) -> None:
    """A proposed target beside the one in force, on the last 13 weeks; nothing saved."""
    st.subheader(tr("std_what_if", lang))
    st.caption(tr("std_what_if_help", lang, weeks=WEEKS))
    policies = list(in_force["policy_id"])
    cols: Sequence[DeltaGenerator] = st.columns(2)
    policy = cols[0].selectbox(tr("std_policy", lang), policies, key="w_std_policy")
    current = float(in_force.set_index("policy_id").loc[policy, "target_hours"])
    proposed = cols[1].number_input(
        tr("std_proposed", lang),
        min_value=0.25,
        value=current,
        step=0.5,
        key="w_std_proposed",
    )
    summary, flips = cache.metric(target_what_if, base, policy, float(proposed), WEEKS)
    row = summary.iloc[0]
    cols = st.columns(3)
    cols[0].metric(tr("std_covered", lang), int(row["covered"]))
    cols[1].metric(
        tr("std_rate_in_force", lang, hours=fmt_num(current, lang, 1)),
        fmt_pct(row["rate_in_force"], lang),
    )
    cols[2].metric(
        tr("std_rate_proposed", lang, hours=fmt_num(proposed, lang, 1)),
        fmt_pct(row["rate_proposed"], lang),
    )
    if flips.empty:
        st.info(tr("std_no_flips", lang))
        return
    verdict = {"within": tr("std_within", lang), "outside": tr("std_outside", lang)}
    st.dataframe(
        pd.DataFrame(
            {
                tr("std_commitment", lang): flips["commitment_id"],
                tr("std_customer", lang): flips["customer"],
                tr("std_delivered", lang): [
                    fmt_stored(v, lang, missing=MISSING) for v in flips["delivered_at"]
                ],
                tr("std_due_in_force", lang): [
                    fmt_stored(v, lang) for v in flips["standard_due_in_force"]
                ],
                tr("std_due_proposed", lang): [
                    fmt_stored(v, lang) for v in flips["standard_due_proposed"]
                ],
                tr("std_verdict_now", lang): [verdict[v] for v in flips["in_force"]],
                tr("std_verdict_proposed", lang): [verdict[v] for v in flips["proposed"]],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def at_risk_section(base: MetricFilter, lang: str) -> None:
    """Open commitments at risk, with the reason that applies and the time left."""
    st.subheader(tr("std_at_risk", lang))
    st.caption(tr("std_at_risk_help", lang, share=fmt_pct(DEFAULT_AT_RISK_SHARE, lang, 0)))
    risk = cache.metric(at_risk_with_reasons, base)
    if risk.empty:
        st.info(tr("std_no_risk", lang))
        return
    reason = {
        "upstream_breach": tr("std_reason_upstream", lang),
        "elapsed_share": tr("std_reason_elapsed", lang),
    }
    st.dataframe(
        pd.DataFrame(
            {
                tr("std_commitment", lang): risk["commitment_id"],
                tr("std_customer", lang): risk["customer"],
                tr("col_due", lang): [fmt_stored(v, lang) for v in risk["due_at"]],
                tr("std_reason", lang): [
                    " + ".join(reason[p] for p in str(r).split("+")) for r in risk["reason"]
                ],
                tr("std_left_col", lang): [
                    "—" if pd.isna(h) else fmt_hours_minutes(float(h), lang)
                    for h in risk["remaining_hours"]
                ],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def edit_section(versions: pd.DataFrame, lang: str) -> None:
    """An editor's form: a new version of a policy (or a new policy), saved through
    records_ui.write; the checks and the recomputed due dates are the load's."""
    st.subheader(tr("std_edit", lang))
    st.caption(tr("std_edit_help", lang))
    ids = sorted(set(versions["policy_id"].astype(str))) if not versions.empty else []
    choice = st.selectbox(
        tr("std_policy", lang),
        [*ids, _NEW],
        format_func=lambda v: tr("std_new_id", lang) if v == _NEW else v,
        key="w_std_edit_policy",
    )
    latest = (
        versions[versions["policy_id"].astype(str) == choice].sort_values("valid_from").iloc[-1]
        if choice != _NEW
        else None
    )

    def start(column: str) -> str:
        value = None if latest is None else latest[column]
        return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else value

    k = f"w_std_edit_{choice}"  # one set of fields per policy: each starts at its latest
    policy_id = (
        st.text_input(tr("std_new_id_label", lang), key="w_std_edit_new_id")
        if choice == _NEW
        else choice
    )
    calendars = sorted(set(cache.metric(calendar_weeks, None)["calendar"]))
    cols: Sequence[DeltaGenerator] = st.columns(3)
    target = cols[0].number_input(
        tr("std_target_hours", lang),
        value=float(latest["target_hours"]) if latest is not None else 8.0,
        step=0.5,
        key=f"{k}_target",
    )
    current_cal = start("calendar")
    calendar = cols[1].selectbox(
        tr("std_calendar", lang),
        ["", *calendars],
        index=(["", *calendars].index(current_cal) if current_cal in calendars else 0),
        format_func=lambda c: c or tr("std_round_clock", lang),
        key=f"{k}_calendar",
    )
    valid_from = cols[2].date_input(
        tr("targets_valid_from", lang),
        value=cache.as_of().date(),
        format="DD/MM/YYYY" if lang == "es" else "YYYY-MM-DD",
        key=f"{k}_from",
    )
    cols = st.columns(4)
    match = {
        c: cols[i].text_input(tr(label, lang), value=start(c), key=f"{k}_{c}")
        for i, (c, label) in enumerate(_MATCH.items())
    }
    pauses = st.text_input(
        tr("std_pause_label", lang), value=start("pause_stages"), key=f"{k}_pauses"
    )
    author = records_ui.who(lang)
    if not st.button(tr("std_save", lang), key=f"{k}_save"):
        return
    ok, saved = records_ui.write(
        save_policy_version,
        policy_id,
        float(target),
        valid_from if isinstance(valid_from, date) else cache.as_of().date(),
        author,
        calendar=calendar or None,
        pause_stages=tuple(pauses.replace(",", "|").split("|")),
        lang=lang,
        **match,
    )
    if ok:
        records_ui.flash(
            tr(
                "std_saved",
                lang,
                version=saved.version,
                policy=saved.policy_id,
                refreshed=saved.refreshed,
            )
        )
        st.rerun()


def import_section(lang: str) -> None:
    """An editor's import of calendars / holidays / policies files: the load itself (same
    checks and counts as Datos or `python -m etl load`), then the per-file counts."""
    st.subheader(tr("std_import", lang))
    st.caption(tr("std_import_help", lang))
    shown = st.session_state.pop(K_IMPORT, None)
    if shown is not None:
        message, counts, rejects = shown
        st.success(message)
        st.dataframe(counts, hide_index=True, width="stretch")
        if not rejects.empty:
            st.dataframe(rejects, hide_index=True, width="stretch")
    files = st.file_uploader(
        tr("std_import", lang),
        type=list(READABLE_TYPES),
        accept_multiple_files=True,
        key="w_std_import_files",
        label_visibility="collapsed",
    )
    if not files or not st.button(tr("std_import_button", lang), key="w_std_import"):
        return
    if not access_gate.require("set_standards", lang):
        return
    try:
        with publishing(database.db_url()) as writer:
            report = import_standards_files(
                writer,
                [(f.name, io.BytesIO(f.getvalue())) for f in files],
                records_ui.logged_in_user(),
                lang=lang,
                read_limits=upload_read_limits(int(st.get_option("server.maxUploadSize")) << 20),
            )
    except StandardError as exc:
        st.error(md_escape(exc))
        return
    except Exception as exc:  # EtlError or a database error: nothing was written
        st.error(tr("std_import_failed", lang, reason=md_escape(exc)))
        return
    database.invalidate_data()
    st.session_state[K_IMPORT] = (
        tr(
            "std_import_done",
            lang,
            batch=report.batch_id,
            new=sum(f.new or 0 for f in report.files),
            changed=sum(f.changed or 0 for f in report.files),
            rejected=report.rows_rejected,
        ),
        import_counts(report, lang),
        import_rejects(report, lang),
    )
    st.rerun()


def import_counts(report: object, lang: str) -> pd.DataFrame:
    """One row per file × kind of an import, as the Datos page counts them."""
    files = report.files  # type: ignore[attr-defined]
    return pd.DataFrame(
        {
            tr("std_file", lang): [Path(f.path).name for f in files],
            tr("std_kind", lang): [record_kind_label(f.kind, lang) for f in files],
            tr("std_read", lang): [f.read for f in files],
            tr("std_new", lang): [f.new for f in files],
            tr("std_changed", lang): [f.changed for f in files],
            tr("std_unchanged", lang): [f.unchanged for f in files],
            tr("std_rejected", lang): [f.rejected for f in files],
        }
    )


def import_rejects(report: object, lang: str) -> pd.DataFrame:
    """Every rejected row of an import with file, row, column and reason."""
    rows = report.rejects  # type: ignore[attr-defined]
    return pd.DataFrame(
        {
            tr("std_file", lang): [Path(r.path).name for r in rows],
            tr("std_row", lang): [r.reject.row_number for r in rows],
            tr("std_column", lang): [r.reject.column or "" for r in rows],
            tr("std_reason", lang): [r.reject.reason for r in rows],
        }
    )


def render() -> None:
    """The Estándares page."""
    view = url_state.current_view()
    lang = view.lang
    at = cache.as_of()
    base = MetricFilter(as_of=at)
    st.title(tr("page_estandares", lang))
    st.caption(tr("std_intro", lang))
    records_ui.show_flash()
    versions = cache.metric(policy_versions, None, at)
    if versions.empty:
        st.info(tr("std_none", lang))
        calendar_section(lang, at.year)
        editor_sections(versions, lang)
        return
    in_force = versions[versions["in_force"].astype(bool)]
    st.subheader(tr("std_in_force", lang))
    st.dataframe(versions_table(in_force, lang), hide_index=True, width="stretch")
    st.subheader(tr("std_history", lang))
    st.dataframe(versions_table(versions, lang), hide_index=True, width="stretch")
    at_risk_section(base, lang)
    calendar_section(lang, at.year)
    if not in_force.empty:
        what_if_section(in_force, base, lang)
    editor_sections(versions, lang)


def editor_sections(versions: pd.DataFrame, lang: str) -> None:
    """The form and the import, only for a role that may set standards."""
    if access_gate.allowed("set_standards"):
        edit_section(versions, lang)
        import_section(lang)


def page() -> None:
    """The page as registry.PAGES registers it."""
    dispatch.run_page(render)
