"""Why a row was refused, as a code and its parameters, worded in either language.

The validator used to write each reason as an English sentence, so the Spanish Datos page
showed English. A `Reason` is still that English sentence (a `str`: the CLI, the logs and
the stored `rejected_rows.reason` read exactly as before) and also carries `code` and
`params`, which the load stores beside it (`rejected_rows.reason_code`, JSON) so a page
can word the same reason in the reader's language (`render`, `render_stored`).
Adding a reason: a code in REASONS with its Spanish and English templates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Protocol

from etl.language import in_language

# code -> (Spanish, English) templates; {names} are the reason's parameters, some of them
# worded per language first (see _worded).
REASONS: dict[str, tuple[str, str]] = {
    "required_empty": ("{column} es obligatorio y está vacío", "{column} is required but empty"),
    "not_a_date": (
        "{column} {value} no es una fecha ({hint})",
        "{column} {value} is not a date ({hint})",
    ),
    "not_whole": (
        "{column} {value} no es un número entero",
        "{column} {value} is not a whole number",
    ),
    "out_of_range": (
        "{column} {value} está fuera de rango ({span})",
        "{column} {value} is out of range ({span})",
    ),
    "not_a_number": ("{column} {value} no es un número", "{column} {value} is not a number"),
    "not_yes_no": (
        "{column} {value} no es sí/no ({hint})",
        "{column} {value} is not yes/no ({hint})",
    ),
    "not_allowed": ("{column} {value} debe ser {allowed}", "{column} {value} must be {allowed}"),
    "before": (
        "{column} {value} es anterior a {other} {other_value}",
        "{column} {value} is before {other} {other_value}",
    ),
    "duplicate_key": (
        "clave duplicada {key}: la fila {row} tiene la misma clave y es la que se conserva",
        "duplicate key {key}: row {row} has the same key and is kept",
    ),
    "unknown_commitment": (
        "{column} {value} no es un compromiso conocido (no está en el fichero {kind} de "
        "este lote ni en la base de datos)",
        "{column} {value} is not a known commitment (not in this batch's {kind} nor in the "
        "database)",
    ),
    "cycle": (
        "ciclo de dependencias: {cycle} (cada compromiso depende del siguiente)",
        "dependency cycle: {cycle} (each commitment depends on the next)",
    ),
    "date_order_conflict": (
        "{column} {value}: la columna tiene fechas con el día primero ({day_first}) y otras "
        "con el mes primero ({month_first}), así que ninguna de sus fechas con barras se "
        "puede leer con seguridad; {how}",
        "{column} {value}: the column holds day-first dates ({day_first}) and month-first "
        "ones ({month_first}), so none of its slashed dates can be read safely; {how}",
    ),
    "date_order_ambiguous": (
        "{column} {value} puede ser día/mes o mes/día: ninguna fecha de la columna (ni del "
        "fichero) tiene un día mayor que 12 que lo aclare; {how}",
        "{column} {value} could be day/month or month/day: no date of the column (nor of "
        "the file) has a day above 12 to tell; {how}",
    ),
    "no_case_id": (
        "sin valor en {key}: la fila no pertenece a ningún registro de {kind}",
        "no value in {key}: the row belongs to no {kind} record",
    ),
    "case_disagrees": (
        "{key} {case}: {differences}; un atributo del caso debe ser igual en todas sus "
        "filas, así que este registro de {kind} no se carga (corrija el fichero, o dé a la "
        "columna un agg en el mapeo)",
        "{key} {case}: {differences}; a case attribute must be the same on every row of the "
        "case, so this {kind} record is not loaded (fix the file, or give the column an agg "
        "in the mapping)",
    ),
    "missing_column": (
        "falta la columna obligatoria {column}",
        "required column {column} is missing",
    ),
    "unknown_column": (
        "columna desconocida {column}; las columnas son: {have}",
        "unknown column {column}; the columns are: {have}",
    ),
    "missing_columns": (
        "{path}: al fichero de {kind} le faltan columnas obligatorias {missing}; sus "
        "columnas son: {have}",
        "{path}: the {kind} file is missing required column(s) {missing}; its columns are: {have}",
    ),
}
# Hints inside a reason, worded per language.
HINTS: dict[str, tuple[str, str]] = {
    "date_formats": (
        "use AAAA-MM-DD, AAAA-MM-DD HH:MM, dd/mm/aaaa o dd/mm/aaaa HH:MM",
        "use YYYY-MM-DD, YYYY-MM-DD HH:MM, dd/mm/yyyy or dd/mm/yyyy HH:MM",
    ),
    "date_format": ("formato esperado {fmt}", "expected format {fmt}"),
    # the accepted forms, and the exact mapping keys that set a column's format
    "date_formats_for": (
        "use AAAA-MM-DD [HH:MM], dd/mm/aaaa [HH:MM] o mm/dd/aaaa [HH:MM] (también horas de "
        "12 con AM/PM), o indique el formato de la columna en un mapeo: "
        '[{kind}.date_formats] {column} = "%m/%d/%Y %H:%M", o date_format = "..." en '
        "[{kind}] para todas las columnas de fecha",
        "use YYYY-MM-DD [HH:MM], dd/mm/yyyy [HH:MM] or mm/dd/yyyy [HH:MM] (12-hour times "
        "with AM/PM too), or set the column's format in a mapping: "
        '[{kind}.date_formats] {column} = "%m/%d/%Y %H:%M", or date_format = "..." in '
        "[{kind}] for every date column",
    ),
    # how to settle a column's day/month order
    "date_order_how": (
        "indique el formato en el mapeo: [{kind}.date_formats] {column} = "
        '"%d/%m/%Y" (día primero) o "%m/%d/%Y" (mes primero), con " %H:%M" o '
        '" %I:%M %p" para la hora; o, para todas las columnas de fecha, date_order = '
        '"day_first" o "month_first" en [{kind}]',
        "set the format in the mapping: [{kind}.date_formats] {column} = "
        '"%d/%m/%Y" (day first) or "%m/%d/%Y" (month first), with " %H:%M" or '
        '" %I:%M %p" for a time; or, for every date column, date_order = "day_first" '
        'or "month_first" in [{kind}]',
    ),
    "bool": (
        "use sí/no, true/false, yes/no, ja/nee, 1/0 o x",
        "use yes/no, true/false, sí/no, ja/nee, 1/0 or x",
    ),
}


# The fixed columns of a rejects CSV (etl.cli.write_rejects_csv), per language.
CSV_HEADERS: dict[str, tuple[str, ...]] = {
    "en": ("batch_id", "file", "record_kind", "row_number", "problem_column", "reason"),
    "es": ("lote", "fichero", "tipo_de_registro", "fila", "columna_con_problema", "motivo"),
}


class _Blank(dict[str, object]):
    """Parameters for a hint's template; a name the reason does not carry stays empty."""

    def __missing__(self, key: str) -> str:
        return ""


def _worded(params: Mapping[str, object], lang: str) -> dict[str, object]:
    """Parameters as the template of `lang` takes them: hints, ranges and lists worded."""
    out = dict(params)
    for key in ("hint", "how"):
        hint = params.get(key)
        if isinstance(hint, str) and hint in HINTS:
            out[key] = in_language(HINTS[hint], lang).format_map(_Blank(params))
    if "low" in params:
        low, high = params["low"], params.get("high")
        out["span"] = (
            f"{low}–{high}"
            if high is not None
            else (f"{low} or more" if lang == "en" else f"{low} o más")
        )
    allowed = params.get("allowed")
    if isinstance(allowed, list | tuple):
        out["allowed"] = (" or " if lang == "en" else " o ").join(map(str, allowed))
    differences = params.get("differences")
    if isinstance(differences, list | tuple):
        out["differences"] = " | ".join(_difference(d, lang) for d in differences)
    for key in ("missing", "have"):
        value = params.get(key)
        if isinstance(value, list | tuple):
            out[key] = ", ".join(map(str, value)) or ("(none)" if lang == "en" else "(ninguna)")
    return out


def _rows_words(rows: list[int], more: int, lang: str) -> str:
    """'row 5' / 'rows 2, 3 and 4 more' (or in Spanish) — short enough for a message."""
    if len(rows) == 1 and not more:
        return f"{'row' if lang == 'en' else 'fila'} {rows[0]}"
    text = f"{'rows' if lang == 'en' else 'filas'} {', '.join(map(str, rows))}"
    if more:
        text += f" and {more} more" if lang == "en" else f" y {more} más"
    return text


def _difference(item: object, lang: str) -> str:
    """One column of a case that differs: "'col' (canonical) differs: 'a' in rows 2, 6"."""
    if not isinstance(item, Mapping):
        return str(item)
    listed = []
    for value in item.get("values", []):
        shown = value.get("value")
        if shown is None:
            shown = "(empty)" if lang == "en" else "(vacío)"
        where = _rows_words(list(value.get("rows", [])), int(value.get("more", 0)), lang)
        listed.append(f"{shown} {'in' if lang == 'en' else 'en'} {where}")
    verb = "differs" if lang == "en" else "difiere"
    return f"{item.get('column')} ({item.get('canonical')}) {verb}: " + "; ".join(listed)


def render(code: str, params: Mapping[str, object], lang: str) -> str:
    """The reason `code` with `params` in `lang` ("en", else Spanish)."""
    lang = "en" if lang == "en" else "es"
    return in_language(REASONS[code], lang).format(**_worded(params, lang))


class Reason(str):
    """A refusal reason: the English sentence itself, plus `code` and `params`."""

    code: str
    params: dict[str, object]

    def __new__(cls, code: str, **params: object) -> Reason:
        made = super().__new__(cls, render(code, params, "en"))
        made.code = code
        made.params = params
        return made

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickled as its code and parameters: the Datos preview runs in a worker process
        (etl.worker) and its report comes back pickled."""
        return (_rebuilt, (self.code, self.params))

    def stored(self) -> str:
        """The JSON kept in `rejected_rows.reason_code`."""
        return json.dumps(
            {"code": self.code, "params": self.params}, ensure_ascii=False, default=str
        )


def _rebuilt(code: str, params: dict[str, object]) -> Reason:
    """A Reason again from its code and parameters (unpickling)."""
    return Reason(code, **params)


def stored_code(reason: str) -> str | None:
    """What `rejected_rows.reason_code` keeps for a reason: None for plain text."""
    return reason.stored() if isinstance(reason, Reason) else None


def render_stored(reason: str, code: str | None, lang: str) -> str:
    """A stored reason in `lang`: worded again from its code when it has one (and the code
    is known to this release), else the text as stored."""
    if isinstance(reason, Reason):
        return render(reason.code, reason.params, lang)
    if not code:
        return str(reason)
    try:
        data = json.loads(code)
        return render(str(data["code"]), dict(data.get("params") or {}), lang)
    except (ValueError, KeyError, TypeError, IndexError):
        return str(reason)


class RowReason(Protocol):
    """Words why the row at a position is refused.

    A protocol rather than `Callable[[int], str]` so that the validators' lambdas can bind
    their loop variables as defaults (`lambda p, c=name: ...`) and still be type-checked.
    """

    def __call__(self, position: int, /) -> str: ...


class ValueReason(Protocol):
    """Words why one raw value is refused (a date column whose day/month order is open)."""

    def __call__(self, value: object, /) -> str: ...
