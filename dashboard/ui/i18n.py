"""Every word and number format the dashboard shows, in Spanish and English.

Pure (no streamlit) so tests and reports format exactly as the pages do: a test
formats a metric's value with these functions and looks for that text on the page.
Numbers and percentages come from Babel's CLDR data: Spanish puts a no-break space
before `%` and uses `,` for decimals and `.` for thousands (`12,5 %`, `1.234`,
`25/11/2026`); English uses `12.5%`, `1,234` and ISO dates.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date, datetime

import pandas as pd
from babel import Locale
from babel.dates import DateTimePattern, get_day_names
from babel.dates import parse_pattern as parse_date_pattern
from babel.numbers import NumberPattern, parse_pattern

from dashboard.metrics.definitions import KPIS
from etl import schema
from etl.language import Lang, in_language, norm_lang

__all__ = ["Lang", "norm_lang"]  # the language rule of etl.language, where pages look for it

LANGUAGES: tuple[str, ...] = schema.LANGUAGES
DEFAULT_LANG: Lang = "es"
MISSING = "—"
# Numbers, percentages and weekday names by locale come from Babel (CLDR data).
LOCALES: dict[str, Locale] = {"es": Locale.parse("es_ES"), "en": Locale.parse("en")}
# Dates: day first in Spanish; ISO in English, so no reader takes 03/04 for the wrong month.
DATE_PATTERNS: dict[str, str] = {"es": "dd/MM/yyyy", "en": "yyyy-MM-dd"}
# A week's Monday on a crowded axis: the date without its year, in the same order.
DAY_MONTH_PATTERNS: dict[str, str] = {"es": "dd/MM", "en": "MM-dd"}

# key -> (es, en). Keys are stable identifiers used by pages and tests.
STRINGS: dict[str, tuple[str, str]] = {
    # app and navigation
    "app_title": ("Eslabón · tablero de comando", "Eslabón · command dashboard"),
    "page_resumen": ("Resumen", "Overview"),
    "page_cumplimiento": ("Cumplimiento", "On-time delivery"),
    "page_cadena": ("Cadena", "Value chain"),
    "page_satisfaccion": ("Satisfacción", "Satisfaction"),
    "page_datos": ("Datos", "Data"),
    "page_revision": ("Revisión semanal", "Weekly review"),
    "page_suscripciones": ("Suscripciones", "Subscriptions"),
    "page_seguimiento": ("Seguimiento", "Tracking"),
    "page_avisos": ("Avisos", "Notices"),
    "page_metas": ("Metas", "Targets"),
    "page_estandares": ("Estándares de servicio", "Service standards"),
    "page_cliente": ("Sus compromisos", "Your commitments"),
    # sidebar
    "sidebar_filters": ("Filtros", "Filters"),
    "language": ("Idioma", "Language"),
    "period": ("Periodo", "Period"),
    "period_4w": ("Últimas 4 semanas", "Last 4 weeks"),
    "period_13w": ("Últimas 13 semanas", "Last 13 weeks"),
    "period_26w": ("Últimas 26 semanas", "Last 26 weeks"),
    "period_custom": ("Fechas a medida", "Custom dates"),
    "date_from": ("Desde (vencimiento)", "From (due date)"),
    "date_to": ("Hasta (vencimiento)", "To (due date)"),
    "stages": ("Etapas del proceso", "Process stages"),
    "stages_all": ("Todas las etapas", "All stages"),
    "customer_type": ("Tipo de cliente", "Customer type"),
    "customer_type_all": ("Todos", "All"),
    "customer_type_internal": ("Interno", "Internal"),
    "customer_type_external": ("Externo", "External"),
    "direction": ("Sentido del compromiso", "Commitment direction"),
    "direction_to_customer": (
        "Nuestros compromisos con el cliente",
        "Our commitments to customers",
    ),
    "direction_from_customer": (
        "Compromisos del cliente con nosotros",
        "Customers' commitments to us",
    ),
    "as_of_label": ("Datos evaluados al", "Data evaluated as of"),
    "row_scope": (
        "Su acceso se limita a {scope}: cada cifra se calcula solo con esas filas.",
        "Your access is limited to {scope}: every figure is computed on those rows only.",
    ),
    "view_link_help": (
        "El enlace de esta página guarda la vista: cópielo para compartirla.",
        "This page's link keeps the view: copy it to share it.",
    ),
    # states
    "empty_title": ("La base de datos está vacía", "The database is empty"),
    "empty_body": (
        "Todavía no hay compromisos cargados. Cargue los datos de ejemplo para explorar el "
        "tablero, o vaya a **Datos** para subir sus propios ficheros.",
        "No commitments have been loaded yet. Load the sample data to explore the "
        "dashboard, or go to **Data** to upload your own files.",
    ),
    "load_sample": ("Cargar los datos de ejemplo", "Load the sample data"),
    "go_to_datos": ("Ir a Datos", "Go to Data"),
    "loading_sample": ("Cargando los datos de ejemplo…", "Loading the sample data…"),
    "sample_loaded": ("Datos de ejemplo cargados.", "Sample data loaded."),
    "sample_failed": (
        "No se pudieron cargar los datos de ejemplo: {reason}",
        "The sample data could not be loaded: {reason}",
    ),
    "db_error_title": ("No se puede leer la base de datos", "The database cannot be read"),
    "db_error_body": (
        "El tablero no pudo consultar la base de datos `{url}`. Compruebe que el servidor "
        "está en marcha y que la variable ESLABON_DB_URL es correcta. Detalle: {reason}",
        "The dashboard could not query the database `{url}`. Check that the server is "
        "running and that ESLABON_DB_URL is right. Detail: {reason}",
    ),
    "host_refused": (
        "Este servidor no atiende al nombre «{host}». Ábralo con la dirección configurada "
        "(ESLABON_ALLOWED_HOSTS).",
        "This server does not answer to the name “{host}”. Open it at its configured "
        "address (ESLABON_ALLOWED_HOSTS).",
    ),
    "query_timeout": (
        "La consulta tardó más de {seconds} s y se detuvo (ESLABON_STATEMENT_TIMEOUT). "
        "Acote el filtro (menos semanas o etapas) o inténtelo más tarde.",
        "The query took longer than {seconds} s and was stopped "
        "(ESLABON_STATEMENT_TIMEOUT). Narrow the filter (fewer weeks or stages) or try "
        "again later.",
    ),
    "page_failed": (
        "Esta página no pudo mostrarse. El detalle quedó en el registro del servidor.",
        "This page could not be shown. The details are in the server log.",
    ),
    "no_data_filter": (
        "No hay compromisos con vencimiento en este filtro.",
        "No commitments fall due within this filter.",
    ),
    "delta_vs_last_week": ("vs. semana anterior", "vs. previous week"),
    "week_partial": ("semana parcial", "partial week"),
    "trend_partial_note": (
        "○ Semana parcial (aún en curso o cortada por el periodo): sus compromisos están "
        "en las tarjetas; su tasa puede cambiar.",
        "○ Partial week (still running, or cut by the period): its commitments are in "
        "the cards; its rate may still change.",
    ),
    "status_green": ("✓ En meta", "✓ On target"),
    "status_amber": ("! Cerca de la meta", "! Near target"),
    "status_red": ("✗ Fuera de meta", "✗ Off target"),
    "status_none": ("Sin meta", "No target"),
    "target": ("Meta", "Target"),
    # Resumen
    "resumen_title": ("Resumen", "Overview"),
    "trend_title": ("Cumplimiento en plazo por semana", "On-time rate by week"),
    "week": ("Semana", "Week"),
    "top_roots_title": (
        "Los cinco quiebres raíz con mayor impacto",
        "The five root breaches with the largest impact",
    ),
    "no_roots": (
        "No hay quiebres raíz con impacto en este filtro.",
        "No root breaches with impact.",
    ),
    # Cumplimiento
    "cumplimiento_title": ("Cumplimiento por etapa", "On-time delivery by stage"),
    "by_stage_title": (
        "Cumplimiento en plazo por etapa (orden de la cadena)",
        "On-time rate by stage (chain order)",
    ),
    "by_performer_title": (
        "Cumplimiento en plazo por responsable en {stage}",
        "On-time rate by performer in {stage}",
    ),
    "commitments_title": (
        "Compromisos de {performer} en {stage}",
        "Commitments of {performer} in {stage}",
    ),
    "drill_stage": ("Etapa", "Stage"),
    "drill_performer": ("Responsable", "Performer"),
    "drill_all": ("(todas)", "(all)"),
    "drill_all_performers": ("(todos)", "(all)"),
    "breadcrumb_all": ("Todas las etapas", "All stages"),
    "click_hint": (
        "Pulse una barra, o elija en las listas, para bajar un nivel.",
        "Click a bar, or pick from the lists, to go down one level.",
    ),
    "delay_title": (
        "Distribución del retraso de los quiebres (días)",
        "Breach delay distribution (days)",
    ),
    "delay_days": ("Retraso (días)", "Delay (days)"),
    "median_delay": ("Retraso mediano", "Median delay"),
    "p90_delay": ("Retraso p90", "p90 delay"),
    "days_suffix": ("{value} días", "{value} days"),
    "renegotiated_title": (
        "Renegociados: promesa vigente frente a la original",
        "Renegotiated: promise in force vs. the original one",
    ),
    "renegotiated": ("Renegociados", "Renegotiated"),
    "vs_due": ("En plazo (promesa vigente)", "On time (promise in force)"),
    "vs_original": ("En plazo (promesa original)", "On time (original promise)"),
    "no_renegotiated": (
        "No hay compromisos renegociados en este filtro.",
        "No renegotiated commitments.",
    ),
    # columns
    "col_commitment": ("Compromiso", "Commitment"),
    "col_title": ("Título", "Title"),
    "col_process": ("Etapa", "Stage"),
    "col_performer": ("Responsable", "Performer"),
    "col_customer": ("Cliente", "Customer"),
    "col_status": ("Estado", "Status"),
    "col_due": ("Vence", "Due"),
    "col_delivered": ("Entregado", "Delivered"),
    "col_delay": ("Retraso (días)", "Delay (days)"),
    "col_original_due": ("Vencimiento original", "Original due"),
    "col_upstreams": ("Depende de", "Upstreams"),
    "col_standard": ("Estándar", "Standard"),
    "col_standard_due": ("Vence según estándar", "Standard due"),
    "standard_version": ("{policy} v{version}", "{policy} v{version}"),
    "col_tracking": ("Seguimiento", "Tracking"),
    "col_root": ("Quiebre raíz", "Root breach"),
    "col_impact": ("Impacto (quiebres propagados)", "Impact (propagated breaches)"),
    "col_external": ("Clientes externos afectados", "External customers hit"),
    "open_tracking": ("abrir", "open"),
    "st_on_time": ("En plazo", "On time"),
    "st_breach": ("Quiebre", "Breach"),
    "st_pending": ("Pendiente", "Pending"),
}
# Each KPI's name ("kpi_<key>") and one-line definition ("help_<key>") come from the one
# registry (dashboard.metrics.definitions), so every page, report and export says the same.
STRINGS.update({f"kpi_{k}": d.label for k, d in KPIS.items()})
STRINGS.update({f"help_{k}": d.help for k, d in KPIS.items() if d.help is not None})


def t(key: str, lang: str, **values: object) -> str:
    """The text for `key` in `lang`, with `{name}` placeholders filled.

    An unknown key returns the key itself, so a missing string shows up on screen
    instead of crashing a page.
    """
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = in_language(pair, lang)
    return text.format(**values) if values else text


def _missing(value: object) -> bool:
    """None and NaN (pandas' missing) both mean "no value"."""
    if value is None:
        return True
    try:
        return math.isnan(value)  # type: ignore[arg-type]
    except TypeError:
        return False


def _locale(lang: str) -> Locale:
    return LOCALES[norm_lang(lang)]


@functools.cache
def _number_pattern(lang: str, decimals: int, percent: bool = False) -> NumberPattern:
    """A parsed number pattern with exactly `decimals` fraction digits (parsed once).

    Plain numbers: `#,##0.0…`, always grouped (`1.234`), though CLDR leaves four-digit
    Spanish numbers ungrouped: a column of figures reads better with one rule. Percent:
    the locale's own pattern (`#,##0 %` with a no-break space in Spanish).
    """
    fraction = "." + "0" * decimals if decimals > 0 else ""
    if not percent:
        return parse_pattern(f"#,##0{fraction}")
    own = str(_locale(lang).percent_formats[None].pattern)
    return parse_pattern(re.sub(r"0(?![0#.,])", "0" + fraction, own, count=1))


def _rounded(value: float, decimals: int) -> float:
    """Rounded as shown, and never a negative zero ("-0,0")."""
    rounded = round(value, decimals)
    return 0.0 if rounded == 0 else rounded


def fmt_num(value: float | int | None, lang: str, decimals: int = 0) -> str:
    """A number with the language's thousands and decimal separators (Babel, CLDR)."""
    if _missing(value):
        return MISSING
    number = _rounded(float(value), decimals)  # type: ignore[arg-type]
    return str(_number_pattern(norm_lang(lang), decimals).apply(number, _locale(lang)))


def fmt_int(value: float | int | None, lang: str) -> str:
    """A whole number: `1.234` in Spanish, `1,234` in English."""
    return fmt_num(value, lang, 0)


def fmt_pct(value: float | None, lang: str, decimals: int = 1) -> str:
    """A 0..1 rate in the language's percent form: `12,5 %` (no-break space) in Spanish,
    `12.5%` in English."""
    if _missing(value):
        return MISSING
    rate = _rounded(float(value) * 100, decimals) / 100  # type: ignore[arg-type]
    return str(_number_pattern(norm_lang(lang), decimals, percent=True).apply(rate, _locale(lang)))


def fmt_signed(value: float | None, lang: str, decimals: int = 1, suffix: str = "") -> str:
    """A change with its sign (`+2,5`, `-1,0`); ASCII minus so Streamlit reads the sign."""
    if _missing(value):
        return MISSING
    text = fmt_num(value, lang, decimals)
    if round(float(value), decimals) > 0:  # type: ignore[arg-type]
        text = "+" + text
    return text + suffix


def fmt_pp(value: float | None, lang: str) -> str:
    """A change of a 0..1 rate in percentage points: `+2,5 pp`."""
    if _missing(value):
        return MISSING
    return fmt_signed(float(value) * 100, lang, 1, " pp")  # type: ignore[arg-type]


def fmt_hours_minutes(hours: float, lang: str) -> str:
    """Business time as people say it: 3.3333 → `3 h 20 min`, 0.5 → `30 min`.

    The unit symbols are SI's (the same in both languages); the numbers are the
    language's. Babel's CLDR short units would say `3 hr` in English and, for one hour,
    `1 horas` in Spanish (its data has no singular short form and it falls back to the
    long plural).
    """
    minutes = round(hours * 60)
    whole, rest = divmod(minutes, 60)
    parts = [f"{fmt_int(whole, lang)} h"] if whole else []
    if rest or not whole:
        parts.append(f"{rest} min")
    return " ".join(parts)


def fmt_weekday(day: int, lang: str) -> str:
    """A weekday's name, 0 = Monday (CLDR: `lunes`, `Monday`)."""
    return str(get_day_names("wide", locale=_locale(lang))[day])


@functools.cache
def _date_pattern(lang: str, with_time: bool) -> DateTimePattern:
    return parse_date_pattern(DATE_PATTERNS[lang] + (" HH:mm" if with_time else ""))


def fmt_day_month(value: date | datetime, lang: str) -> str:
    """`25/11` in Spanish, `11-25` in English (an axis of weeks whose year is known)."""
    pattern = parse_date_pattern(DAY_MONTH_PATTERNS[norm_lang(lang)])
    return pattern.apply(value, _locale(lang))


def fmt_date(value: date | datetime | None, lang: str) -> str:
    """`25/11/2026` in Spanish, `2026-11-25` in English."""
    if value is None or _missing_ts(value):
        return MISSING
    day = value.date() if isinstance(value, datetime) else value
    return _date_pattern(norm_lang(lang), False).apply(day, _locale(lang))


def fmt_datetime(value: datetime | None, lang: str) -> str:
    """A date with hours and minutes in the language's date order (wall clock as given)."""
    if value is None or _missing_ts(value):
        return MISSING
    return _date_pattern(norm_lang(lang), True).apply(value, _locale(lang))


def fmt_stored(value: object, lang: str, *, missing: str = "", with_time: bool = True) -> str:
    """A timestamp from a query result (Timestamp, datetime64, datetime) as a table cell.

    Cut to the second and shown by fmt_datetime (or fmt_date without the time); None and
    NaT give `missing`. One reader for every page and report that lists dates.
    """
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return missing
    moment = pd.Timestamp(value).floor("s").to_pydatetime()  # type: ignore[arg-type]
    return fmt_datetime(moment, lang) if with_time else fmt_date(moment, lang)


def _missing_ts(value: object) -> bool:
    """pandas' NaT is a datetime subclass that cannot strftime."""
    return str(value) == "NaT"


def fmt_kpi(kpi: str, value: float | None, lang: str) -> str:
    """A KPI's value in the format the cards use (rates as %, counts whole)."""
    declared = KPIS.get(kpi)
    if declared is not None and declared.is_rate:
        return fmt_pct(value, lang)
    if declared is not None and declared.is_count:
        return fmt_int(value, lang)
    return fmt_num(value, lang, declared.decimals if declared else 1)


def fmt_kpi_delta(kpi: str, delta: float | None, lang: str) -> str | None:
    """A KPI's week-over-week change: percentage points for rates, plain otherwise."""
    if _missing(delta):
        return None
    declared = KPIS.get(kpi)
    if declared is not None and declared.is_rate:
        return fmt_pp(delta, lang)
    if declared is not None and declared.is_count:
        return fmt_signed(delta, lang, 0)
    return fmt_signed(delta, lang, declared.decimals if declared else 1)


def fmt_kpi_gap(kpi: str, gap: float | None, lang: str) -> str:
    """A distance on a KPI's scale without a sign (a target's amber tolerance): percentage
    points for rates, whole for counts, the KPI's decimals otherwise."""
    if gap is None or _missing(gap):
        return MISSING
    declared = KPIS.get(kpi)
    if declared is not None and declared.is_rate:
        return fmt_num(abs(gap) * 100, lang, 1) + " pp"
    if declared is not None and declared.is_count:
        return fmt_num(abs(gap), lang, 0)
    return fmt_num(abs(gap), lang, declared.decimals if declared else 1)


def kpi_lower_is_better(kpi: str) -> bool:
    """True for KPIs where a fall is good news (breaches, propagation, complaints)."""
    declared = KPIS.get(kpi)
    return declared is not None and declared.lower_is_better
