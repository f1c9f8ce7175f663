"""Avisos: at-risk and overdue commitments, each with a message drafted for its customer,
"mark as notified", and the list as CSV.

The filter sidebar's stages and customer type apply; its period does not (an at-risk
commitment is due after today, an overdue one may be older than the period, and both
still need a notice). Marking records a notice that the proactive notice rate counts.
Layout only: dashboard.services.notice_drafts drafts, dashboard.records.notices records.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Streamlit may run this file on its own (its pages/ folder convention, for the first
# request of a fresh server): make the project importable first.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pandas as pd
import streamlit as st

from dashboard.records import local_now
from dashboard.records.notices import CHANNELS, mark_notified
from dashboard.services.notice_drafts import (
    draft_notice,
    not_yet_notified,
    notice_candidates,
    notice_filter,
    notices_csv,
)
from dashboard.ui.i18n import LANGUAGES, fmt_stored
from dashboard.ui.texts import tr
from dashboard.views import common
from dashboard.views.records_ui import cached, flash, show_flash, who, write

K_ONLY_NEW, K_PICK, K_CHANNEL, K_DRAFT_LANG = "w_av_new", "w_av_pick", "w_av_channel", "w_av_lang"


def candidates_table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("col_commitment", lang): frame["commitment_id"].astype(str),
            tr("col_kind", lang): [tr(f"kind_{k}", lang) for k in frame["kind"]],
            tr("col_customer", lang): frame["customer"].astype(str),
            tr("col_title", lang): frame["title"].fillna("").astype(str),
            tr("col_process", lang): frame["process"].astype(str),
            tr("col_due", lang): [fmt_stored(v, lang) for v in frame["due_at"]],
            tr("col_expected", lang): [
                fmt_stored(v, lang, with_time=False) for v in frame["expected_date"]
            ],
            tr("col_reason", lang): frame["late_upstream_stages"].fillna("").astype(str),
            tr("col_last_notice", lang): [fmt_stored(v, lang) for v in frame["last_notice_at"]],
        }
    )


def render() -> None:
    """The Avisos page."""
    view = common.current_view()
    lang = view.lang
    at = common.as_of()
    f = notice_filter(view.to_filter(at))
    st.title(tr("page_avisos", lang))
    show_flash()
    st.caption(common.plain_md(f.describe(lang)))
    st.markdown(tr("notices_intro", lang))
    frame = cached(notice_candidates, f)
    if st.toggle(tr("notices_only_pending", lang), value=True, key=K_ONLY_NEW):
        frame = not_yet_notified(frame)
    if frame.empty:
        st.info(tr("notices_none", lang))
        return
    st.dataframe(candidates_table(frame, lang), hide_index=True, width="stretch")
    st.download_button(
        tr("notices_export", lang),
        data=notices_csv(frame, lang).encode("utf-8-sig"),
        file_name=f"avisos_{at:%Y%m%d}.csv",
        mime="text/csv",
        key="w_av_csv",
    )
    by_id = frame.set_index("commitment_id")
    chosen = st.selectbox(
        tr("col_commitment", lang),
        list(by_id.index),
        format_func=lambda c: (
            f"{c} · {by_id.at[c, 'customer']} · {tr('kind_' + by_id.at[c, 'kind'], lang)}"
        ),
        key=common.translated_key(K_PICK),
    )
    row = by_id.loc[chosen].to_dict() | {"commitment_id": chosen}
    draft_lang = st.segmented_control(
        tr("notices_draft", lang),
        options=list(LANGUAGES),
        format_func=lambda code: {"es": "Español", "en": "English"}[code],
        default=lang,
        key=K_DRAFT_LANG,
    )
    draft = draft_notice(row, draft_lang or lang)
    st.code(f"{draft.subject}\n\n{draft.body}", language=None, wrap_lines=True)
    if not common.allowed("record_notices"):  # viewers read the drafts, mark nothing
        return
    cols = st.columns([1, 1, 1])
    with cols[0]:
        channel = st.selectbox(
            tr("notices_channel", lang),
            list(CHANNELS),
            format_func=lambda c: tr(f"channel_{c}", lang),
            key=common.translated_key(K_CHANNEL),
        )
    with cols[1]:
        author = who(lang)
    with cols[2]:
        st.write("")
        if st.button(tr("notices_mark", lang), type="primary", key="w_av_mark"):
            # Sent "now" in the data's present: the evaluation instant when the data is
            # evaluated in the past (the sample's own as_of), so the list and the rates
            # see the notice; recorded_at keeps the real moment.
            sent_at = min(at, local_now())
            ok, _ = write(mark_notified, chosen, str(row["kind"]), channel, author, sent_at=sent_at)
            if ok:
                flash(tr("notices_marked", lang))
                st.rerun()


def page() -> None:
    """The page as app.py registers it."""
    common.run_page(render)


if __name__ == "__main__":  # run on its own (Streamlit's pages/ folder): draw the whole app
    from dashboard.app import main

    main()
