"""Datos: upload files, see what they would do, load them as one batch, read the load log.

1. Upload CSV / Excel / Parquet files (several at once) with an optional mapping: one
   of the shipped etl/mappings/*.toml or an uploaded TOML file.
2. The validation result is shown BEFORE anything is written (etl.preview.preview_files:
   the load's own steps in a transaction that is always rolled back): per file and
   record kind, rows read, would-be new / changed / unchanged, rejected, and every
   rejected row with its reason, downloadable as CSV.
3. "Load" writes the batch all or nothing (etl.publish.load_published), then forgets every
   cached metric (database.invalidate_data; the new batch also changes the data version).

Below: the load history (batches and their files with counts) and each batch's rejected
rows, downloadable. Limits: Streamlit's upload size (`server.maxUploadSize`, 200 MB per
file by default, in .streamlit/config.toml) and a row limit per file, set with
ESLABON_UPLOAD_MAX_ROWS (default 1,000,000; see etl.preview). Bigger loads belong to
`python -m etl load`.

This page writes to the database, so it never shows a traceback: unreadable files, bad
mappings and database errors become one clear message. File names, reasons and cell
values are user text: they are shown in tables (plain text) or Markdown-escaped.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from dashboard.ui.i18n import fmt_datetime, fmt_int, t
from dashboard.ui.texts import md_escape, record_kind_label, tr
from dashboard.views import access_gate, database, dispatch, sample, url_state
from etl.load import BatchReport, batch_summaries, rejected_rows_frame
from etl.mapping import Mapping, load_mapping, shipped_mappings
from etl.preview import (
    batch_files,
    bounded_preview,
    rejects_csv,
    rejects_frame,
    upload_read_limits,
    upload_row_limit,
)
from etl.publish import load_published
from etl.read import READABLE_TYPES
from etl.reasons import render_stored
from etl.records import EtlError
from etl.worker import worker_limits

log = logging.getLogger(__name__)

NO_MAPPING, UPLOADED_MAPPING = "", "__upload__"
K_MAPPING, K_HISTORY = "w_datos_mapping", "w_datos_batch"
_GENERATION = "_datos_upload_generation"  # bumped after a load: empties the uploaders
_PREVIEWS = "_datos_previews"  # preview results by content key (one page run to the next)
_FLASH = "_datos_flash"  # the outcome of the last load, shown after the rerun
_CANCELLED = "_datos_cancelled"  # the content key of a preview the user cancelled
REJECTS_SHOWN = 1_000


@dataclass(frozen=True)
class Upload:
    """One uploaded file's name and bytes (what the ETL reads)."""

    name: str
    data: bytes

    def source(self) -> tuple[str, io.BytesIO]:
        """The ETL's source form: (name, binary file object), fresh for each read."""
        return self.name, io.BytesIO(self.data)


def short_reason(exc: BaseException) -> str:
    """The first line of an error, without SQLAlchemy's background links."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def upload_limit_mb() -> int:
    """Streamlit's per-file upload limit in MB (server.maxUploadSize)."""
    try:
        return int(st.get_option("server.maxUploadSize"))
    except Exception:
        return 200


def _generation() -> int:
    return int(st.session_state.get(_GENERATION, 0))


def chosen_mapping(lang: str) -> tuple[Mapping | str | None, str, bool]:
    """The mapping picked (None, a shipped file's path, or an uploaded Mapping), a key
    naming it for the preview cache, and whether the choice is complete.

    A malformed uploaded mapping raises EtlError (MappingError) with the file and key.
    """
    shipped = shipped_mappings()
    choice = st.selectbox(
        tr("mapping_label", lang),
        options=[NO_MAPPING, *shipped, UPLOADED_MAPPING],
        format_func=lambda m: (
            tr("mapping_none", lang)
            if m == NO_MAPPING
            else tr("mapping_upload", lang)
            if m == UPLOADED_MAPPING
            else m
        ),
        key=url_state.translated_key(K_MAPPING),
    )
    if choice == NO_MAPPING:
        return None, "", True
    if choice in shipped:
        return str(shipped[choice]), f"shipped:{choice}", True
    upload = st.file_uploader(
        tr("mapping_file", lang), type=["toml"], key=f"datos_mapping_file_{_generation()}"
    )
    if upload is None:
        st.info(tr("mapping_missing", lang))
        return None, "", False
    data = upload.getvalue()
    buffer = io.BytesIO(data)
    buffer.name = upload.name  # load_mapping names the file in its messages
    digest = hashlib.sha256(data).hexdigest()
    return load_mapping(buffer), f"upload:{upload.name}:{digest}", True


def preview_key(uploads: Sequence[Upload], mapping_key: str, version: str) -> str:
    """What a preview depends on: the files' names and bytes, the mapping, the data."""
    digest = hashlib.sha256()
    for item in uploads:
        digest.update(item.name.encode("utf-8", "replace") + b"\0")
        digest.update(hashlib.sha256(item.data).digest())
    digest.update(mapping_key.encode("utf-8", "replace") + b"\0" + version.encode())
    return digest.hexdigest()


def _cancel_preview(key: str) -> None:
    st.session_state[_CANCELLED] = key


def cached_preview(
    uploads: Sequence[Upload], mapping: Mapping | str | None, key: str, lang: str
) -> BatchReport | None:
    """The preview of these uploads, computed once per content key in this session; None
    when the user cancelled it (this page then offers to validate again).

    The files are untrusted: they are read and validated in a bounded child process
    (etl.preview.bounded_preview: time, memory, low priority, within the upload read
    limits). While it runs, the page shows the seconds and a Cancel button; a click (or
    any other interaction, or leaving) stops the run, which kills the child.
    """
    previews: dict[str, BatchReport] = st.session_state.setdefault(_PREVIEWS, {})
    if key in previews:
        return previews[key]
    if st.session_state.get(_CANCELLED) == key:
        st.info(tr("preview_cancelled", lang))
        if st.button(tr("preview_retry", lang), key="datos_preview_retry"):
            st.session_state.pop(_CANCELLED, None)
            st.rerun()
        return None
    previews.clear()  # only the current files' preview is worth keeping
    cancel, ticker = st.empty(), st.empty()
    cancel.button(
        tr("preview_cancel", lang), key="datos_preview_cancel", on_click=_cancel_preview,
        args=(key,),
    )  # fmt: skip
    shown = [-1]

    def on_wait(elapsed: float) -> None:
        # Each update passes through Streamlit, which raises here when the user clicked
        # Cancel (or anything else) or left: the worker is then killed.
        if int(elapsed) != shown[0]:
            shown[0] = int(elapsed)
            ticker.caption(tr("validating_for", lang, seconds=shown[0]))

    try:
        previews[key] = bounded_preview(
            database.db_url(),
            [(u.name, u.data) for u in uploads],
            mapping,
            read_limits=upload_read_limits(upload_limit_mb() << 20),
            limits=worker_limits(),
            on_wait=on_wait,
        )
    finally:
        cancel.empty()
        ticker.empty()
    return previews[key]


def file_table(report: BatchReport, lang: str) -> pd.DataFrame:
    """Per file × kind: read, new, changed, unchanged, rejected (as the load log has)."""
    return pd.DataFrame(
        {
            tr("col_file", lang): [f.path for f in report.files],
            tr("col_record_kind", lang): [record_kind_label(f.kind, lang) for f in report.files],
            tr("col_read", lang): [fmt_int(f.read, lang) for f in report.files],
            tr("col_new", lang): [fmt_int(f.new, lang) for f in report.files],
            tr("col_changed", lang): [fmt_int(f.changed, lang) for f in report.files],
            tr("col_unchanged", lang): [fmt_int(f.unchanged, lang) for f in report.files],
            tr("col_rejected", lang): [fmt_int(f.rejected, lang) for f in report.files],
        }
    )


def reasons_in(rejects: pd.DataFrame, lang: str) -> list[str]:
    """Each reject's reason in the reader's language, from its stored code (etl.reasons);
    a reason stored without one (an older load, a mapping's) as it was written."""
    codes = rejects["reason_code"] if "reason_code" in rejects else [None] * len(rejects)
    return [
        render_stored(reason, None if pd.isna(code) else code, lang)
        for reason, code in zip(rejects["reason"], codes, strict=True)
    ]


def rejects_table(rejects: pd.DataFrame, lang: str) -> None:
    """Rejected rows with their reasons (first REJECTS_SHOWN) and the CSV download."""
    if rejects.empty:
        st.info(tr("no_rejects", lang))
        return
    shown = rejects.head(REJECTS_SHOWN)
    table = pd.DataFrame(
        {
            tr("col_file", lang): shown["path"].astype(str),
            tr("col_record_kind", lang): [record_kind_label(k, lang) for k in shown["kind"]],
            tr("col_row", lang): shown["row_number"].astype("Int64"),
            tr("col_column", lang): shown["column_name"].fillna("").astype(str),
            tr("col_reject_reason", lang): reasons_in(shown, lang),
            tr("col_raw", lang): shown["raw"].fillna("").astype(str),
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            tr("col_reject_reason", lang): st.column_config.TextColumn(width="large"),
            tr("col_raw", lang): st.column_config.TextColumn(width="medium"),
        },
    )
    if len(rejects) > REJECTS_SHOWN:
        st.caption(
            tr(
                "rejects_shown",
                lang,
                shown=fmt_int(REJECTS_SHOWN, lang),
                total=fmt_int(len(rejects), lang),
            )
        )


def rejects_download(rejects: pd.DataFrame, lang: str, *, key: str, name: str) -> None:
    """The rejects as the CLI's CSV (formulas neutralised), offered for download."""
    st.download_button(
        tr("rejects_download", lang),
        data=rejects_csv(rejects, lang).encode("utf-8-sig"),
        file_name=name,
        mime="text/csv",
        key=key,
        disabled=rejects.empty,
        icon=":material/download:",
    )


def preview_section(report: BatchReport, lang: str) -> None:
    """The dry run's result: the per-file table, refused files, every reject."""
    st.dataframe(file_table(report, lang), hide_index=True, width="stretch")
    st.markdown(
        tr(
            "preview_summary",
            lang,
            valid=fmt_int(sum(f.valid for f in report.files), lang),
            new=fmt_int(sum(f.new or 0 for f in report.files), lang),
            changed=fmt_int(sum(f.changed or 0 for f in report.files), lang),
            unchanged=fmt_int(sum(f.unchanged or 0 for f in report.files), lang),
            rejected=fmt_int(report.rows_rejected, lang),
        )
    )
    for f in report.files:
        if f.refused:
            st.warning(tr("refused_file", lang, reason=md_escape(f.refused)))
    for warning in report.warnings:
        params = {k: md_escape(str(v)) for k, v in warning.params.items()}
        st.warning(
            tr(
                f"load_warning_{warning.code}",
                lang,
                path=md_escape(Path(warning.path).name),
                kind=warning.kind,
                **params,
            )
        )
    if report.rejects:
        st.markdown(f"**{tr('rejects_title', lang)}**")
        rejects = rejects_frame(report)
        rejects_table(rejects, lang)
        rejects_download(rejects, lang, key="preview_rejects_csv", name="rejects-preview.csv")


def load_batch(uploads: Sequence[Upload], mapping: Mapping | str | None, lang: str) -> None:
    """Load the uploads as one batch; remember the outcome and start afresh on success."""
    if not access_gate.require("load_data", lang):
        return
    try:
        # Published like `python -m etl load`: under the writer lock, reaching readers whole.
        with st.spinner(tr("loading", lang)):
            # The files passed the bounded preview; the same read limits hold here too.
            report = load_published(
                database.db_url(),
                [u.source() for u in uploads],
                mapping=mapping,
                loaded_by="dashboard",
                read_limits=upload_read_limits(upload_limit_mb() << 20),
            )
    except Exception as exc:  # EtlError or a database error: nothing was written
        reason = md_escape(short_reason(exc))  # it may quote a file's content
        st.session_state[_FLASH] = ("error", tr("load_failed", lang, reason=reason))
        return
    database.invalidate_data()
    failed = report.failed_files
    st.session_state[_FLASH] = (
        "error" if failed else "success",
        tr(
            "load_all_rejected",
            lang,
            batch=report.batch_id,
            files=", ".join(Path(f.path).name for f in failed),
        )
        if failed  # every row of a file rejected is a failed load, as `etl load` exits 3
        else tr(
            "load_done",
            lang,
            batch=report.batch_id,
            new=fmt_int(sum(f.new or 0 for f in report.files), lang),
            changed=fmt_int(sum(f.changed or 0 for f in report.files), lang),
            rejected=fmt_int(report.rows_rejected, lang),
        ),
    )
    st.session_state[K_HISTORY] = report.batch_id
    st.session_state[_GENERATION] = _generation() + 1
    st.session_state.pop(_PREVIEWS, None)


def upload_section(version: str, lang: str) -> None:
    """Steps 1–3: upload and mapping, the validation preview, the Load button."""
    st.subheader(tr("upload_title", lang))
    files = st.file_uploader(
        tr("upload_label", lang),
        type=list(READABLE_TYPES),
        accept_multiple_files=True,
        key=f"datos_files_{_generation()}",
    )
    st.caption(
        tr(
            "upload_help",
            lang,
            mb=fmt_int(upload_limit_mb(), lang),
            rows=fmt_int(upload_row_limit(), lang),
        )
    )
    try:
        mapping, mapping_key, mapping_ready = chosen_mapping(lang)
    except EtlError as exc:
        st.error(tr("preview_failed", lang, reason=md_escape(short_reason(exc))))
        return
    st.subheader(tr("preview_title", lang))
    uploads = [Upload(f.name, f.getvalue()) for f in files or []]
    if not uploads or not mapping_ready:
        st.info(tr("preview_none", lang))
        return
    try:
        with st.spinner(tr("validating", lang)):
            report = cached_preview(
                uploads, mapping, preview_key(uploads, mapping_key, version), lang
            )
    except Exception as exc:  # unreadable file, bad mapping, a limit, database error
        st.error(tr("preview_failed", lang, reason=md_escape(short_reason(exc))))
        return
    if report is None:
        return
    preview_section(report, lang)
    st.subheader(tr("load_title", lang))
    st.caption(tr("load_help", lang))
    if st.button(tr("load_button", lang), type="primary", key="datos_load"):
        load_batch(uploads, mapping, lang)
        st.rerun()


def history_section(engine: sa.Engine, lang: str) -> None:
    """Every batch (newest first) with its counts; one batch's files and rejects."""
    st.subheader(tr("history_title", lang))
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("load_batches"):
            st.info(tr("history_none", lang))
            return
        batches = batch_summaries(conn)
    if batches.empty:
        st.info(tr("history_none", lang))
        return
    batches = batches.sort_values("batch_id", ascending=False)
    table = pd.DataFrame(
        {
            tr("col_batch", lang): batches["batch_id"].astype(int),
            tr("col_started", lang): [fmt_datetime(v, lang) for v in batches["started_at"]],
            tr("col_finished", lang): [fmt_datetime(v, lang) for v in batches["finished_at"]],
            tr("col_loaded_by", lang): batches["loaded_by"].fillna("").astype(str),
            tr("col_files", lang): [fmt_int(v, lang) for v in batches["files"]],
            tr("col_read", lang): [fmt_int(v, lang) for v in batches["read"]],
            tr("col_new", lang): [fmt_int(v, lang) for v in batches["new"]],
            tr("col_changed", lang): [fmt_int(v, lang) for v in batches["changed"]],
            tr("col_unchanged", lang): [fmt_int(v, lang) for v in batches["unchanged"]],
            tr("col_rejected", lang): [fmt_int(v, lang) for v in batches["rejected"]],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
    ids = [int(b) for b in batches["batch_id"]]
    if st.session_state.get(K_HISTORY) not in ids:
        st.session_state[K_HISTORY] = ids[0]
    batch = st.selectbox(tr("history_pick", lang), options=ids, key=K_HISTORY)
    with engine.connect() as conn:
        files = batch_files(conn, batch)
        rejects = rejected_rows_frame(conn, batch)
    st.markdown(f"**{tr('history_files', lang, batch=batch)}**")
    st.dataframe(
        pd.DataFrame(
            {
                tr("col_file", lang): files["path"].astype(str),
                tr("col_record_kind", lang): [record_kind_label(k, lang) for k in files["kind"]],
                tr("col_mapping", lang): files["mapping"].fillna("").astype(str),
                tr("col_read", lang): [fmt_int(v, lang) for v in files["rows_read"]],
                tr("col_new", lang): [fmt_int(v, lang) for v in files["rows_new"]],
                tr("col_changed", lang): [fmt_int(v, lang) for v in files["rows_changed"]],
                tr("col_unchanged", lang): [fmt_int(v, lang) for v in files["rows_unchanged"]],
                tr("col_rejected", lang): [fmt_int(v, lang) for v in files["rows_rejected"]],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.markdown(f"**{tr('stored_rejects_title', lang, batch=batch)}**")
    rejects_table(rejects, lang)
    rejects_download(rejects, lang, key="batch_rejects_csv", name=f"rejects-batch-{batch}.csv")


def sample_section(lang: str) -> None:
    """Load the shipped sample (the same command `make db` runs)."""
    if not sample.sample_available():
        return
    with st.expander(tr("sample_title", lang), expanded=database.db_status().commitments == 0):
        st.caption(tr("sample_help", lang))
        if st.button(tr("load_sample", lang), key="datos_load_sample") and access_gate.require(
            "load_data", lang
        ):
            with st.spinner(tr("loading_sample", lang)):
                ok, reason = sample.load_sample(database.db_url())
            database.invalidate_data()
            if ok:
                st.session_state[_FLASH] = ("success", tr("sample_loaded", lang))
            else:
                st.session_state[_FLASH] = (
                    "error",
                    tr("sample_failed", lang, reason=md_escape(reason)),
                )
            st.rerun()


def render(lang: str) -> None:
    """The Datos page body."""
    st.title(tr("datos_title", lang))
    flash = st.session_state.pop(_FLASH, None)
    if flash is not None:
        kind, message = flash
        (st.success if kind == "success" else st.error)(md_escape(message))
    status = database.db_status()
    engine = database.engine_for(database.db_url())
    sample_section(lang)
    upload_section(status.version, lang)
    history_section(engine, lang)


def page() -> None:
    """The page as registry.PAGES registers it: usable on an empty database (that is where data
    comes from), the error state when the database cannot be reached, never a traceback.
    """
    lang = url_state.current_lang()
    if not access_gate.require("load_data", lang):  # admins only, whatever the URL asked
        return
    status = database.db_status()
    if not status.ok:
        dispatch.error_state(lang, dispatch.status_reason(status, lang))
        return
    try:
        render(lang)
    except sa.exc.SQLAlchemyError as exc:  # the database failed mid-page
        dispatch.error_state(lang, short_reason(exc))
    except EtlError as exc:  # a file or mapping problem is not a database failure
        st.error(tr("preview_failed", lang, reason=md_escape(short_reason(exc))))
    except Exception:  # a bug: details in the server log, a plain message on the page
        log.exception("the Datos page failed")
        st.error(t("page_failed", lang))
