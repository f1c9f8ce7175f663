"""Every KPI declared once: its kind, which way is better, its names and its one-line help.

The metric functions compute the values; this registry says what each value *is*, and
the cards, the weekly pack, the exports, the targets and the i18n layer all read it here,
so a KPI cannot be "higher is better" on one page and "lower" on another, or carry two
Spanish names. Adding a KPI: declare it below, then return its key from the metric
function that owns it (see CONTRIBUTING.md, "A new KPI").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from etl.language import in_language

KpiKind = Literal["rate", "count", "number"]
Better = Literal["higher", "lower", "neutral"]
# What a change means: better, worse, unchanged, or neither (a KPI with no better way).
Tone = Literal["better", "worse", "same", "neutral"]


@dataclass(frozen=True)
class Kpi:
    """One KPI: `kind` decides its format (rate: 0..1 shown as %; count: whole number,
    0 when a group has nothing; number: `decimals` places), `better` the arrows and the
    target direction, `label`/`help` the (Spanish, English) words."""

    key: str
    kind: KpiKind
    better: Better
    label: tuple[str, str]
    help: tuple[str, str] | None = None
    decimals: int = 1

    @property
    def is_rate(self) -> bool:
        """Shown in % and changes in percentage points."""
        return self.kind == "rate"

    @property
    def is_count(self) -> bool:
        """A whole number that is 0, not missing, when a group has nothing."""
        return self.kind == "count"

    @property
    def lower_is_better(self) -> bool:
        """A fall is good news (breaches, delays, complaints)."""
        return self.better == "lower"

    def change_tone(self, delta: float | None) -> Tone:
        """What a change of `delta` means for this KPI, so an arrow's colour always
        follows the KPI's better direction and never a rule of thumb of a page."""
        if self.better == "neutral" or delta is None or delta != delta:  # NaN
            return "neutral"
        if abs(delta) < 1e-12:
            return "same"
        rising = delta > 0
        return "better" if rising == (self.better == "higher") else "worse"

    def label_in(self, lang: str) -> str:
        """The KPI's name in `lang` ("en", else Spanish)."""
        return in_language(self.label, lang)

    def help_in(self, lang: str) -> str | None:
        """The KPI's one-line definition in `lang`, or None."""
        if self.help is None:
            return None
        return in_language(self.help, lang)


_DECLARED: tuple[Kpi, ...] = (
    Kpi(
        "due",
        "count",
        "neutral",
        ("Vencidos en el periodo", "Due in the period"),
        (
            "Compromisos que vencen en el periodo y están entregados o ya vencidos al corte.",
            "Commitments due in the period that are delivered or past due at the cut-off.",
        ),
    ),
    Kpi("on_time", "count", "higher", ("A tiempo", "On time")),
    Kpi(
        "breaches",
        "count",
        "lower",
        ("Quiebres", "Breaches"),
        (
            "Entregados tarde, o sin entregar pasado el vencimiento.",
            "Delivered late, or still undelivered after the due date.",
        ),
    ),
    Kpi("pending", "count", "neutral", ("Pendientes", "Pending")),
    Kpi(
        "on_time_rate",
        "rate",
        "higher",
        ("Cumplimiento en plazo", "On-time rate"),
        (
            "Entregados a tiempo ÷ vencidos (entregados o ya vencidos al corte).",
            "Delivered on time ÷ due (delivered, or past due at the cut-off).",
        ),
    ),
    Kpi("median_delay_days", "number", "lower", ("Retraso mediano (días)", "Median delay (days)")),
    Kpi("p90_delay_days", "number", "lower", ("Retraso p90 (días)", "p90 delay (days)")),
    Kpi("root_breaches", "count", "lower", ("Quiebres raíz", "Root breaches")),
    Kpi("propagated_breaches", "count", "lower", ("Quiebres propagados", "Propagated breaches")),
    Kpi("absorbed", "count", "higher", ("Quiebres absorbidos", "Absorbed breaches")),
    Kpi(
        "propagation_rate",
        "rate",
        "lower",
        ("Tasa de propagación", "Propagation rate"),
        (
            "Quiebres propagados ÷ compromisos con algún proveedor directo en quiebre.",
            "Propagated breaches ÷ commitments with a breached direct upstream.",
        ),
    ),
    Kpi(
        "at_risk",
        "count",
        "lower",
        ("En riesgo", "At risk"),
        (
            "Abiertos y aún no vencidos con algún proveedor directo en quiebre, o cuyo "
            "reloj hábil del estándar ya consumió el 75 % del plazo.",
            "Open, not yet due, with a breached direct upstream, or whose standard's "
            "business clock has run 75 % of its target.",
        ),
    ),
    Kpi(
        "csat_pct",
        "rate",
        "higher",
        ("CSAT %", "CSAT %"),
        (
            "Respuestas con CSAT 4 o 5 ÷ respuestas con CSAT.",
            "Responses with CSAT 4 or 5 ÷ responses with a CSAT.",
        ),
    ),
    Kpi("csat_mean", "number", "higher", ("CSAT medio", "Mean CSAT")),
    Kpi(
        "nps",
        "number",
        "higher",
        ("NPS", "NPS"),
        (
            "% promotores (9–10) − % detractores (0–6).",
            "% promoters (9–10) − % detractors (0–6).",
        ),
    ),
    Kpi(
        "complaints_per_100",
        "number",
        "lower",
        ("Reclamos por 100", "Complaints per 100"),
        ("Reclamos por cada 100 compromisos vencidos.", "Complaints per 100 due commitments."),
    ),
    Kpi(
        "proactive_notice_rate",
        "rate",
        "higher",
        ("Aviso proactivo", "Proactive notice rate"),
        (
            "Quiebres avisados al cliente antes del vencimiento ÷ quiebres.",
            "Breaches notified to the customer before the due date ÷ breaches.",
        ),
    ),
    Kpi(
        "customer_commitments_kept",
        "rate",
        "higher",
        ("Compromisos del cliente cumplidos", "Customer commitments kept"),
        (
            "Cumplimiento a tiempo de lo que los clientes nos prometieron.",
            "On-time rate of what customers promised us.",
        ),
    ),
    # Service standards (dashboard/metrics/standards.py): None where no standard covers.
    Kpi(
        "within_standard_rate",
        "rate",
        "higher",
        ("Dentro del estándar", "Within standard"),
        (
            "Vencidos cubiertos por un estándar y entregados dentro de su plazo estándar ÷ "
            "vencidos cubiertos.",
            "Covered due commitments delivered by their standard due ÷ covered due commitments.",
        ),
    ),
    Kpi(
        "median_business_delay_hours",
        "number",
        "lower",
        ("Retraso hábil mediano (h)", "Median business delay (h)"),
        (
            "Horas hábiles del calendario del estándar entre el vencimiento y la entrega "
            "(o el corte), sin pausas; mediana de los quiebres cubiertos.",
            "Business hours under the standard's calendar from due date to delivery (or "
            "the cut-off), pauses excluded; median over covered breaches.",
        ),
    ),
    Kpi(
        "p90_business_delay_hours",
        "number",
        "lower",
        ("Retraso hábil p90 (h)", "p90 business delay (h)"),
    ),
)

KPIS: Mapping[str, Kpi] = MappingProxyType({k.key: k for k in _DECLARED})
# The headline KPIs, in the order of the export, the trends and the weekly pack.
HEADLINE_KPIS: tuple[str, ...] = tuple(KPIS)
# KPIs that are counts (0 when a group has nothing) rather than rates/values (None then).
COUNT_KPIS: frozenset[str] = frozenset(k for k, d in KPIS.items() if d.is_count)
# KPIs shown as a percentage (0..1 values).
RATE_KPIS: frozenset[str] = frozenset(k for k, d in KPIS.items() if d.is_rate)
# Which way is better, for targets and week-over-week arrows.
KPI_BETTER: Mapping[str, Better] = MappingProxyType({k: d.better for k, d in KPIS.items()})


def kpi(key: str) -> Kpi:
    """The declaration of `key`; KeyError names the unknown KPI."""
    try:
        return KPIS[key]
    except KeyError:
        raise KeyError(f"unknown KPI {key!r}; declared: {', '.join(KPIS)}") from None
