"""Proactive notices: who should be warned before (or now that) a promise breaks, and a
drafted message to send them.

The source texts' third tool: tell the customer before the due date, with the new expected
date and the reason, instead of letting them discover the breach. Candidates are the
at-risk commitments (open, not yet due, with a breached upstream; prediction from
`dashboard.metrics.propagation`) and the overdue ones (past due, still undelivered). The
message names the commitment, the new expected date and the upstream stage that is late,
never internal ids or people: it goes to the customer.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.propagation import at_risk_commitments
from dashboard.metrics.status import commitment_status_sql
from dashboard.records import neutralised
from etl.exports import csv_writer, single_line

AT_RISK, OVERDUE = "at_risk", "overdue"

CANDIDATE_COLUMNS: tuple[str, ...] = (
    "commitment_id",
    "title",
    "customer",
    "customer_type",
    "process",
    "performer",
    "kind",
    "due_at",
    "expected_date",
    "late_upstream_stages",
    "breached_upstreams",
    "last_notice_at",
)

_OVERDUE_SQL = """
WITH s AS ({status_sql})
SELECT s.commitment_id, s.title, s.customer, s.process, s.performer, s.due_at
FROM s
WHERE s.status = 'breach' AND s.delivered_at IS NULL
ORDER BY s.due_at, s.commitment_id
"""

# Breached direct upstreams of every commitment, judged on the whole chain.
_LATE_UPSTREAMS_SQL = """
WITH s_all AS ({status_sql})
SELECT d.commitment_id, u.commitment_id AS upstream_id, u.process AS upstream_process
FROM dependencies d
JOIN s_all u ON u.commitment_id = d.depends_on
WHERE u.status = 'breach'
ORDER BY d.commitment_id, u.commitment_id
"""

# Internal customers are areas (often the next stage), not people: greeted as a team.
_INTERNAL_SQL = """
SELECT c.commitment_id FROM commitments c WHERE c.customer_type = 'internal'
"""

_LAST_NOTICE_SQL = """
SELECT n.commitment_id, max(n.sent_at) AS last_notice_at
FROM notices n
WHERE n.sent_at <= :as_of
GROUP BY n.commitment_id
"""


@dataclass(frozen=True)
class NoticeDraft:
    """A message ready to copy into an e-mail: subject and plain-text body."""

    subject: str
    body: str


def notice_filter(f: MetricFilter) -> MetricFilter:
    """The commitments proactive notices are about: those made to customers, due at any
    time (at risk means not yet due, so the period of the other pages would hide them);
    the filter's stages, performers and customers still apply."""
    return f.with_(date_from=None, date_to=None, direction="to_customer", group_by="none")


def not_yet_notified(candidates: pd.DataFrame) -> pd.DataFrame:
    """The `notice_candidates` nobody has sent a notice about yet."""
    return candidates[candidates["last_notice_at"].isna()].reset_index(drop=True)


def notice_candidates(conn: sa.Connection, f: MetricFilter) -> pd.DataFrame:
    """At-risk and overdue commitments of the filter, each with what a notice must say.

    `expected_date` is the metrics' predicted delivery for at-risk ones (None for overdue
    ones without a prediction: the message then promises to confirm a date);
    `late_upstream_stages` the process stages upstream that are late (the reason);
    `last_notice_at` the latest notice already sent (None = nobody told them yet).
    The filter is taken as `notice_filter` reads it.
    """
    f = notice_filter(f)
    risk = at_risk_commitments(conn, f)
    risk = risk.assign(kind=AT_RISK, expected_date=pd.to_datetime(risk["predicted_delivery"]))
    status_sql, params = commitment_status_sql(f)
    overdue = pd.read_sql(sa.text(_OVERDUE_SQL.format(status_sql=status_sql)), conn, params=params)
    # pandas-stubs take no NaT scalar in assign; pandas broadcasts it to a column
    overdue = overdue.assign(kind=OVERDUE, expected_date=pd.NaT)  # type: ignore[arg-type]
    keep = ["commitment_id", "title", "customer", "process", "performer", "due_at", "kind"]
    frame = pd.concat(
        [risk[[*keep, "expected_date"]], overdue[[*keep, "expected_date"]]], ignore_index=True
    )
    all_sql, all_params = commitment_status_sql(f, apply_filter=False)
    late = pd.read_sql(
        sa.text(_LATE_UPSTREAMS_SQL.format(status_sql=all_sql)), conn, params=all_params
    )
    grouped = late.groupby("commitment_id")
    stages = grouped["upstream_process"].agg(lambda s: ", ".join(sorted(set(s.dropna()))))
    ids = grouped["upstream_id"].agg(lambda s: ", ".join(sorted(s)))
    internal = set(pd.read_sql(sa.text(_INTERNAL_SQL), conn)["commitment_id"])
    frame["customer_type"] = [
        "internal" if cid in internal else "external" for cid in frame["commitment_id"]
    ]
    frame["late_upstream_stages"] = frame["commitment_id"].map(stages)
    frame["breached_upstreams"] = frame["commitment_id"].map(ids)
    last = pd.read_sql(sa.text(_LAST_NOTICE_SQL), conn, params={"as_of": f.as_of})
    frame["last_notice_at"] = pd.to_datetime(
        frame["commitment_id"].map(
            dict(zip(last["commitment_id"], last["last_notice_at"], strict=True))
        )
    )
    for column in ("due_at", "expected_date"):
        frame[column] = pd.to_datetime(frame[column])
    for column in ("late_upstream_stages", "breached_upstreams"):
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), None)
    return frame.sort_values(["due_at", "commitment_id"]).reset_index(drop=True)[
        list(CANDIDATE_COLUMNS)
    ]


# --- message templates --------------------------------------------------------------------

_MONTHS_ES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)  # fmt: skip


def _day(value: Any, lang: str) -> str:  # a table cell
    moment = pd.Timestamp(value)
    if lang == "es":
        return f"{moment.day} de {_MONTHS_ES[moment.month - 1]} de {moment.year}"
    return f"{moment.day} {moment:%B %Y}"


def _present(value: object) -> bool:
    """False for None, NaN, NaT and blank text: the "nothing to say" values of a frame."""
    if value is None or value is pd.NaT:
        return False
    if isinstance(value, float) and pd.isna(value):
        return False
    return str(value).strip() != ""


_TEMPLATES = {
    "es": {
        "subject": "Aviso sobre su compromiso {cid}: {title}",
        "greeting": "Estimado/a {customer}:",
        "greeting_internal": "Equipo de {customer}:",
        AT_RISK: (
            "Le escribimos antes de la fecha comprometida para avisarle de que «{title}» "
            "({cid}), previsto para el {due}, no podrá entregarse a tiempo."
        ),
        OVERDUE: (
            "Le escribimos porque «{title}» ({cid}), que debía entregarse el {due}, "
            "todavía no se ha entregado."
        ),
        "reason": "El motivo es un retraso en una etapa anterior de nuestro proceso ({stages}).",
        "expected": "La nueva fecha prevista de entrega es el {expected}.",
        "no_expected": "Le confirmaremos la nueva fecha de entrega lo antes posible.",
        "closing": (
            "Estamos trabajando para reducir el impacto y le mantendremos informado/a. "
            "Disculpe las molestias.\n\nUn saludo cordial."
        ),
    },
    "en": {
        "subject": "Notice about your commitment {cid}: {title}",
        "greeting": "Dear {customer},",
        "greeting_internal": "Dear {customer} team,",
        AT_RISK: (
            "We are writing ahead of the agreed date to let you know that “{title}” ({cid}), "
            "due on {due}, will not be delivered on time."
        ),
        OVERDUE: (
            "We are writing because “{title}” ({cid}), which was due on {due}, "
            "has not been delivered yet."
        ),
        "reason": "The reason is a delay at an earlier stage of our process ({stages}).",
        "expected": "The new expected delivery date is {expected}.",
        "no_expected": "We will confirm the new delivery date as soon as possible.",
        "closing": (
            "We are working to limit the impact and will keep you informed. "
            "We apologise for the inconvenience.\n\nKind regards."
        ),
    },
}


def draft_notice(row: pd.Series | dict[Any, Any], lang: str = "es") -> NoticeDraft:
    """The message for one candidate row of `notice_candidates`, in Spanish or English.

    Plain text: the page shows it as text (never HTML) and the user copies it.
    """
    words = _TEMPLATES["en" if lang == "en" else "es"]
    lang = "en" if lang == "en" else "es"
    # Names and titles are data: a line break in one must not start a line of the
    # message (or a second line of the subject).
    cid = single_line(row["commitment_id"])
    title = single_line(row["title"]) if _present(row.get("title")) else cid
    values = {
        "cid": cid,
        "title": title,
        "customer": single_line(row["customer"]),
        "due": _day(row["due_at"], lang),
    }
    lines = [words[row["kind"]].format(**values)]
    if _present(row.get("late_upstream_stages")):
        lines.append(words["reason"].format(stages=single_line(row["late_upstream_stages"])))
    expected = row.get("expected_date")
    if _present(expected):
        lines.append(words["expected"].format(expected=_day(expected, lang)))
    else:
        lines.append(words["no_expected"])
    # an internal customer is an area or stage ("Entrega"), never "Estimado/a Entrega"
    greeting = "greeting_internal" if row.get("customer_type") == "internal" else "greeting"
    body = "\n\n".join([words[greeting].format(**values), " ".join(lines), words["closing"]])
    return NoticeDraft(words["subject"].format(**values), body)


def notices_csv(candidates: pd.DataFrame, lang: str = "es") -> str:
    """The candidate list with each drafted message as CSV, safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv_writer(out)
    columns = list(CANDIDATE_COLUMNS)
    writer.writerow([*columns, "subject", "message"])
    for _, row in candidates.iterrows():
        draft = draft_notice(row, lang)
        cells: list[object] = []
        for column in columns:
            value = row[column]
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                cells.append("")
            elif isinstance(value, pd.Timestamp | datetime):
                cells.append(pd.Timestamp(value).isoformat(sep=" "))
            else:
                cells.append(neutralised(str(value)))
        cells += [neutralised(draft.subject), neutralised(draft.body)]
        writer.writerow(cells)
    return out.getvalue()
