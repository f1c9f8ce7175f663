"""ES/EN strings of the Metas, Revisión, Seguimiento, Avisos and customer pages and of the
weekly report, kept beside dashboard.ui.i18n (which owns the shared words and formats).

`tr` looks here first and falls back to `dashboard.ui.i18n.t`, so a key can later move into
i18n.py without touching a page. Pure module: pages, reports and tests share it.
"""

from __future__ import annotations

from dashboard.metrics.definitions import KPIS
from dashboard.ui.i18n import norm_lang, t
from etl.exports import single_line
from etl.language import in_language

STRINGS: dict[str, tuple[str, str]] = {
    # the customer view's heading (its browser tab says dashboard.ui.i18n's page_cliente)
    "cliente_title": ("Seguimiento de sus compromisos", "Tracking of your commitments"),
    # service standards
    "std_intro": (
        "Plazos estándar por alcance (proceso, tipo de cliente, prioridad, categoría), en "
        "horas hábiles de su calendario. Se cambian con una versión nueva aquí (editores) o "
        "cargando calendars / holidays / policies: cada versión queda en el historial.",
        "Standard lead times per scope (process, customer type, priority, category), in "
        "business hours of their calendar. They change by a new version here (editors) or "
        "by loading calendars / holidays / policies: every version stays in the history.",
    ),
    "std_edit": ("Nueva versión de un estándar", "New version of a standard"),
    "std_edit_help": (
        "Se guarda como versión nueva (el historial no se reescribe) y se recalculan las "
        "fechas estándar de los compromisos.",
        "Saved as a new version (the history is never rewritten); the commitments' "
        "standard due dates are recomputed.",
    ),
    "std_new_id": ("(nuevo estándar)", "(new standard)"),
    "std_new_id_label": ("Id del nuevo estándar", "New standard id"),
    "std_target_hours": ("Objetivo (horas)", "Target (hours)"),
    "std_priority": ("Prioridad", "Priority"),
    "std_category": ("Categoría", "Category"),
    "std_pause_label": ("Etapas que pausan el reloj", "Stages that pause the clock"),
    "std_save": ("Guardar versión", "Save version"),
    "std_saved": (
        "Guardada la versión {version} de {policy}; {refreshed} compromisos recalculados.",
        "Saved version {version} of {policy}; {refreshed} commitments recomputed.",
    ),
    "std_err_policy_id": ("Falta el id del estándar.", "The standard id is missing."),
    "std_err_target": (
        "El objetivo debe ser mayor que 0 horas (se indicó {hours}).",
        "The target must be more than 0 hours ({hours} given).",
    ),
    "std_err_calendar": (
        "El calendario {calendar!r} no está definido.",
        "Calendar {calendar!r} is not defined.",
    ),
    "std_err_customer_type": (
        "El tipo de cliente {value!r} debe ser internal o external.",
        "Customer type {value!r} must be internal or external.",
    ),
    "std_err_same_scope": (
        "El estándar {other!r} tiene el mismo alcance: dos estándares igual de específicos "
        "estarían vigentes para los mismos compromisos.",
        "Standard {other!r} has the same scope: two equally specific standards would be "
        "in force for the same commitments.",
    ),
    "std_err_not_later": (
        "La versión nueva de {policy} debe empezar después de la última ({latest}): el "
        "historial no se reescribe.",
        "The new version of {policy} must start after its latest one ({latest}): the "
        "history is never rewritten.",
    ),
    "std_err_kind": (
        "No es un archivo de calendars, holidays ni policies: {files}",
        "Not a calendars, holidays or policies file: {files}",
    ),
    "std_import": ("Importar archivos de estándares", "Import standards files"),
    "std_import_help": (
        "calendars, holidays y policies (CSV/Excel), validados y cargados como una carga de Datos.",
        "calendars, holidays and policies (CSV/Excel), checked and loaded like a load on "
        "the Datos page.",
    ),
    "std_import_button": ("Importar", "Import"),
    "std_import_done": (
        "Lote {batch}: {new} nuevas, {changed} cambiadas, {rejected} rechazadas.",
        "Batch {batch}: {new} new, {changed} changed, {rejected} rejected.",
    ),
    "std_import_failed": ("La importación no se hizo: {reason}", "Nothing imported: {reason}"),
    "std_file": ("Archivo", "File"),
    "std_kind": ("Tipo", "Kind"),
    "std_read": ("Leídas", "Read"),
    "std_new": ("Nuevas", "New"),
    "std_changed": ("Cambiadas", "Changed"),
    "std_unchanged": ("Sin cambios", "Unchanged"),
    "std_rejected": ("Rechazadas", "Rejected"),
    "std_row": ("Fila", "Row"),
    "std_column": ("Columna", "Column"),
    "std_none": ("Aún no hay estándares de servicio cargados.", "No service standards loaded yet."),
    "std_in_force": ("Estándares vigentes", "Standards in force"),
    "std_history": ("Historial de versiones", "Version history"),
    "std_policy": ("Estándar", "Standard"),
    "std_version": ("Versión", "Version"),
    "std_target": ("Plazo (h hábiles)", "Target (business h)"),
    "std_calendar": ("Calendario", "Calendar"),
    "std_round_clock": ("24 × 7", "24 × 7"),
    "std_scope": ("Alcance", "Scope"),
    "std_any": ("todos", "every commitment"),
    "std_pauses": ("Pausa en", "Paused in"),
    "std_calendars": ("Calendarios", "Calendars"),
    "std_no_calendars": (
        "Sin calendarios: los estándares corren 24 × 7.",
        "No calendars: standards run round the clock.",
    ),
    "std_day": ("Día", "Day"),
    "std_windows": ("Horario", "Working hours"),
    "std_days_off": ("Días no laborables {year}", "Days off {year}"),
    "std_what_if": ("¿Y si…? Un plazo propuesto", "What if? A proposed target"),
    "std_what_if_help": (
        "Compromisos del estándar con plazo estándar en las últimas {weeks} semanas, "
        "juzgados con el plazo vigente y con el propuesto. No se guarda nada.",
        "The standard's commitments with a standard due in the last {weeks} weeks, judged "
        "against the target in force and the proposed one. Nothing is saved.",
    ),
    "std_proposed": ("Plazo propuesto (h hábiles)", "Proposed target (business h)"),
    "std_covered": ("Compromisos", "Commitments"),
    "std_rate_in_force": ("Dentro del estándar con {hours} h", "Within standard at {hours} h"),
    "std_rate_proposed": ("Con {hours} h", "At {hours} h"),
    "std_no_flips": ("Ningún compromiso cambia de veredicto.", "No commitment changes verdict."),
    "std_commitment": ("Compromiso", "Commitment"),
    "std_customer": ("Cliente", "Customer"),
    "std_delivered": ("Entregado", "Delivered"),
    "std_due_in_force": ("Plazo vigente", "Due in force"),
    "std_due_proposed": ("Plazo propuesto", "Due proposed"),
    "std_verdict_now": ("Hoy", "Now"),
    "std_verdict_proposed": ("Con la propuesta", "Proposed"),
    "std_within": ("dentro", "within"),
    "std_behind": (
        "Estándar {policy} v{version} ({hours} h hábiles, {calendar}): plazo estándar {due}.",
        "Standard {policy} v{version} ({hours} business h, {calendar}): standard due {due}.",
    ),
    "std_due_derived": (
        "La fecha comprometida viene del estándar.",
        "The due date comes from the standard.",
    ),
    "std_due_explicit": (
        "La fecha comprometida es explícita; el estándar la contrasta.",
        "The due date is explicit; the standard checks it.",
    ),
    "std_left": ("{time} hábiles restantes", "{time} of business time left"),
    "std_paused": ("reloj en pausa", "clock paused"),
    "std_at_risk": ("Abiertos en riesgo", "Open commitments at risk"),
    "std_at_risk_help": (
        "Abiertos y aún no vencidos: con un proveedor directo en quiebre, o con el "
        "{share} del plazo estándar ya consumido en horas hábiles.",
        "Open and not yet due: with a breached direct upstream, or with {share} of the "
        "standard's target already run in business hours.",
    ),
    "std_no_risk": ("Ningún compromiso abierto está en riesgo.", "No open commitment is at risk."),
    "std_reason": ("Motivo", "Reason"),
    "std_reason_upstream": ("proveedor en quiebre", "breached upstream"),
    "std_reason_elapsed": ("plazo consumido", "target mostly run"),
    "std_left_col": ("Tiempo hábil restante", "Business time left"),
    "std_outside": ("fuera", "outside"),
    # targets
    "targets_in_force": ("Metas vigentes", "Targets in force"),
    "targets_history": ("Historial de metas", "Target history"),
    "targets_new": ("Nueva meta", "New target"),
    "targets_kpi": ("Indicador", "KPI"),
    "targets_process": ("Etapa (vacío = toda la organización)", "Stage (empty = organisation)"),
    "targets_value": ("Valor meta", "Target value"),
    "targets_direction": ("Mejor si es", "Better when"),
    "dir_higher": ("Mayor", "Higher"),
    "dir_lower": ("Menor", "Lower"),
    "targets_tolerance": ("Tolerancia ámbar", "Amber tolerance"),
    "targets_valid_from": ("Vigente desde", "Valid from"),
    "targets_note": ("Nota", "Note"),
    "targets_set_by": ("Fijada por", "Set by"),
    "targets_set_at": ("Registrada", "Recorded"),
    "targets_save": ("Guardar meta", "Save target"),
    "targets_saved": ("Meta guardada.", "Target saved."),
    "targets_rate_hint": (
        "Las tasas se escriben como fracción: 0.9 = 90 %.",
        "Rates are fractions: 0.9 = 90%.",
    ),
    "targets_import": (
        "Importar archivo (CSV, Excel, Parquet)",
        "Import file (CSV, Excel, Parquet)",
    ),
    "targets_import_ok": ("{n} metas importadas.", "{n} targets imported."),
    "targets_import_bad": (
        "El archivo tiene errores; no se ha guardado nada:",
        "The file has errors; nothing was saved:",
    ),
    "targets_export": ("Descargar historial (CSV)", "Download history (CSV)"),
    "targets_lights": ("Semáforo de la última semana", "Last week's traffic lights"),
    "targets_none": ("Aún no hay metas.", "No targets yet."),
    # review
    "review_week": ("Semana ISO", "ISO week"),
    "review_title": ("Revisión semanal {week}", "Weekly review {week}"),
    "review_period": ("Del {start} al {end}", "{start} to {end}"),
    "review_kpis": (
        "Indicadores frente a la semana anterior y la meta",
        "KPIs against last week and the target",
    ),
    "review_current": ("Esta semana", "This week"),
    "review_previous": ("Semana anterior", "Previous week"),
    "review_delta": ("Cambio", "Change"),
    "review_target": ("Meta", "Target"),
    "review_status": ("Semáforo", "Light"),
    "review_trend": ("Cumplimiento a tiempo por semana", "On-time rate by week"),
    "review_roots": (
        "Quiebres raíz de la semana y su impacto",
        "Root breaches of the week and their impact",
    ),
    "review_breached": ("Compromisos incumplidos en la semana", "Commitments breached in the week"),
    "review_at_risk": ("En riesgo con vencimiento la semana próxima", "At risk, due next week"),
    "review_actions": ("Acciones", "Action items"),
    "review_none": ("Nada en esta sección.", "Nothing in this section."),
    "review_generated": (
        "Generado el {when}; datos al {as_of}.",
        "Generated {when}; data as of {as_of}.",
    ),
    "review_download_html": ("Descargar informe (HTML)", "Download report (HTML)"),
    "review_download_xlsx": ("Descargar libro (Excel)", "Download workbook (Excel)"),
    "review_bad_week": (
        "Semana no válida: use el formato 2026-W47.",
        "Invalid week: use the form 2026-W47.",
    ),
    "sheet_kpis": ("Indicadores", "KPIs"),
    "sheet_roots": ("Quiebres raíz", "Root breaches"),
    "sheet_breached": ("Incumplidos", "Breached"),
    "sheet_at_risk": ("En riesgo próxima semana", "At risk next week"),
    "sheet_actions": ("Acciones", "Action items"),
    "sheet_trend": ("Tendencia", "Trend"),
    # actions
    "action_what": ("Qué", "What"),
    "action_owner": ("Responsable", "Owner"),
    "action_due": ("Fecha límite", "Due date"),
    "action_status": ("Estado", "Status"),
    "action_week": ("Semana", "Week"),
    "action_carried": ("Arrastrada", "Carried"),
    "action_commitment": ("Compromiso", "Commitment"),
    "action_add": ("Añadir acción", "Add action"),
    "action_added": ("Acción añadida.", "Action added."),
    "action_update": ("Actualizar estado", "Update status"),
    "action_open": ("Abierta", "Open"),
    "action_done": ("Hecha", "Done"),
    "action_dropped": ("Descartada", "Dropped"),
    # columns
    "col_commitment": ("Compromiso", "Commitment"),
    "col_title": ("Título", "Title"),
    "col_process": ("Etapa", "Stage"),
    "col_performer": ("Responsable", "Performer"),
    "col_customer": ("Cliente", "Customer"),
    "col_due": ("Vence", "Due"),
    "col_delivered": ("Entregado", "Delivered"),
    "col_delay": ("Retraso (días)", "Delay (days)"),
    "col_status": ("Estado", "Status"),
    "col_impact": ("Impacto", "Impact"),
    "col_external": ("Clientes externos", "External customers"),
    "col_root": ("Quiebre raíz", "Root breach"),
    "col_upstreams": ("Dependencias", "Upstreams"),
    "col_breached_upstreams": ("Dependencias incumplidas", "Breached upstreams"),
    "col_predicted": ("Entrega prevista", "Predicted delivery"),
    "col_kind": ("Tipo", "Kind"),
    "col_expected": ("Nueva fecha prevista", "New expected date"),
    "col_reason": ("Motivo (etapa previa)", "Reason (upstream stage)"),
    "col_last_notice": ("Último aviso", "Last notice"),
    "col_direction": ("Sentido", "Direction"),
    "col_phase": ("Fase", "Phase"),
    "col_stage": ("Etapa", "Stage"),
    "col_at": ("Fecha", "Date"),
    "col_actor": ("Quién", "Who"),
    "col_kpi": ("Indicador", "KPI"),
    "st_cancelled": ("Anulado", "Cancelled"),
    "phase_need": ("Necesidad", "Need"),
    "phase_promise": ("Promesa", "Promise"),
    "phase_delivery": ("Entrega", "Delivery"),
    "phase_closure": ("Cierre", "Closure"),
    "dir_to_customer": ("Nuestro compromiso", "Our commitment"),
    "dir_from_customer": ("Compromiso suyo", "Your commitment"),
    # tracking
    "track_search": ("Buscar por compromiso o cliente", "Search by commitment or customer"),
    "track_pick": ("Compromiso", "Commitment"),
    "track_placeholder": ("p. ej. CMP-000123 o un cliente", "e.g. CMP-000123 or a customer"),
    "track_hint": (
        "Escriba el identificador de un compromiso (o parte de él) o el nombre de un cliente "
        "para ver dónde está: sus fases, su vencimiento y de quién depende. En Resumen, el "
        "enlace «abrir» de cada quiebre raíz lo abre directamente.",
        "Type a commitment's id (or part of it) or a customer's name to see where it stands: "
        "its phases, its due date and what it depends on. On Overview, each root breach's "
        "«open» link opens it directly.",
    ),
    "timeline_due": ("→ Vencimiento comprometido", "→ Promised due date"),
    "track_none": ("Ningún compromiso coincide.", "No commitment matches."),
    "track_timeline": ("Línea de tiempo", "Timeline"),
    "track_upstreams": ("Compromisos de los que depende", "Upstream commitments"),
    "track_no_upstreams": (
        "No depende de otros compromisos.",
        "It depends on no other commitment.",
    ),
    "track_at_risk": (
        "En riesgo: una dependencia está incumplida. Entrega prevista: {date}.",
        "At risk: an upstream is breached. Predicted delivery: {date}.",
    ),
    "track_link": ("Enlace para el cliente", "Link for the customer"),
    "track_link_days": ("Días de validez", "Days valid"),
    "track_link_make": ("Crear enlace", "Create link"),
    "track_no_secret": (
        "Falta el secreto de firma o no es seguro (ESLABON_SECRET o eslabon_secret en "
        "secrets.toml; el motivo está en el registro del servidor).",
        "The signing secret is missing or unsafe (ESLABON_SECRET or eslabon_secret in "
        "secrets.toml; the reason is in the server log).",
    ),
    "calendar_download": ("Descargar calendario (.ics)", "Download calendar (.ics)"),
    "calendar_for": ("Calendario de vencimientos", "Due-date calendar"),
    "calendar_scope": ("Para", "For"),
    # notices
    "notices_intro": (
        "Compromisos en riesgo o vencidos: avise al cliente antes de que lo descubra.",
        "At-risk and overdue commitments: tell the customer before they find out.",
    ),
    "kind_at_risk": ("En riesgo", "At risk"),
    "kind_overdue": ("Vencido", "Overdue"),
    "notices_draft": ("Mensaje propuesto", "Drafted message"),
    "notices_channel": ("Canal", "Channel"),
    "notices_mark": ("Marcar como avisado", "Mark as notified"),
    "notices_marked": ("Aviso registrado.", "Notice recorded."),
    "notices_export": ("Descargar lista (CSV)", "Download list (CSV)"),
    "notices_none": ("No hay compromisos que avisar.", "No commitment needs a notice."),
    "notices_only_pending": ("Solo sin avisar", "Only not yet notified"),
    "channel_email": ("Correo", "E-mail"),
    "channel_phone": ("Teléfono", "Phone"),
    "channel_meeting": ("Reunión", "Meeting"),
    "channel_portal": ("Portal", "Portal"),
    "channel_other": ("Otro", "Other"),
    "recorded_by": ("Registrado por", "Recorded by"),
    # customer view
    "cust_title": ("Sus compromisos con nosotros, al día", "Your commitments with us, up to date"),
    "cust_hello": ("Cliente: {customer}", "Customer: {customer}"),
    "cust_ours": ("Lo que le hemos prometido", "What we promised you"),
    "cust_theirs": ("Lo que usted nos ha prometido", "What you promised us"),
    "cust_none": ("No hay compromisos que mostrar.", "There are no commitments to show."),
    "cust_refused": (
        "Este enlace no es válido o ha caducado. Pida un enlace nuevo a su contacto.",
        "This link is not valid or has expired. Please ask your contact for a new link.",
    ),
    "cust_late_upstream": (
        "Retraso en una etapa previa: {stages}.",
        "Delay at an earlier stage: {stages}.",
    ),
    "cust_valid_until": ("Enlace válido hasta el {date}.", "Link valid until {date}."),
    "cust_detail": ("Detalle", "Details"),
    "cust_unavailable": (
        "El seguimiento no está disponible en este momento. Inténtelo más tarde.",
        "Tracking is not available right now. Please try again later.",
    ),
    "error_generic": (
        "No se pudo completar la operación: {message}",
        "The operation could not be completed: {message}",
    ),
    # --- issue-4 pages: Cadena, Satisfacción, Datos ---
    # Cadena (value chain)
    "cadena_title": (
        "Cadena de valor: dónde se rompe y hasta dónde llega",
        "Value chain: where it breaks and how far it travels",
    ),
    "chain_map_title": ("Mapa de la cadena", "Value-chain map"),
    "chain_map_help": (
        "Cada nodo es una etapa, en el orden de la cadena, con su cumplimiento en plazo. "
        "El grosor de un enlace es el número de dependencias entre dos etapas; su color, "
        "el contagio (lift): cuántas veces más probable es un quiebre abajo cuando el "
        "compromiso de arriba se quebró que cuando llegó a tiempo.",
        "Each node is a stage, in chain order, with its on-time rate. A link's width is "
        "the number of dependencies between two stages; its colour, the contagion lift: "
        "how many times likelier a breach downstream is when the upstream commitment "
        "was breached than when it was on time.",
    ),
    "lift_none": ("Contagio sin datos", "Lift: no data"),
    "lift_zero": ("sin contagio", "no contagion"),
    "lift_low": ("Contagio < 2×", "Lift < 2×"),
    "lift_mid": ("Contagio 2× – 10×", "Lift 2× – 10×"),
    "lift_high": ("Contagio ≥ 10×", "Lift ≥ 10×"),
    "lift": ("Contagio (lift)", "Contagion lift"),
    "dependencies": ("Dependencias", "Dependencies"),
    "p_breach_given_breach": ("P(quiebre | arriba quebrado)", "P(breach | upstream breached)"),
    "p_breach_given_on_time": ("P(quiebre | arriba a tiempo)", "P(breach | upstream on time)"),
    "lift_table": ("Contagio por par de etapas", "Contagion by stage pair"),
    "sankey_title": ("Quiebres que viajan entre etapas", "Breaches travelling between stages"),
    "sankey_help": (
        "Quiebres propagados de cada etapa con una dependencia quebrada en la etapa de "
        "origen (un quiebre con dependencias quebradas en dos etapas cuenta en ambas).",
        "Propagated breaches of each stage with a breached upstream in the source stage "
        "(a breach with breached upstreams in two stages counts in both).",
    ),
    "no_flows": ("No hay quiebres propagados en este filtro.", "No propagated breaches."),
    "pareto_title": ("Pareto de quiebres raíz por impacto", "Pareto of root breaches by impact"),
    "pareto_help": (
        "Barras: quiebres propagados que causa cada raíz (las {n} mayores). Línea: % "
        "acumulado del impacto total de las {total} raíces con impacto.",
        "Bars: propagated breaches each root causes (the {n} largest). Line: cumulative "
        "% of the total impact of the {total} roots with impact.",
    ),
    "cumulative_pct": ("% acumulado", "Cumulative %"),
    "roots_with_impact": ("Raíces con impacto", "Roots with impact"),
    "total_impact": ("Impacto total", "Total impact"),
    "top_root_impact": ("Impacto de la mayor raíz", "Impact of the largest root"),
    "at_risk_title": ("Compromisos en riesgo", "Commitments at risk"),
    "at_risk_help": (
        "Abiertos, aún no vencidos (vencen después del periodo), con al menos una "
        "dependencia directa quebrada.",
        "Open, not yet due (they fall due after the period), with at least one breached "
        "direct upstream.",
    ),
    "no_at_risk": ("No hay compromisos en riesgo en este filtro.", "No commitments at risk."),
    "col_max_upstream_delay": ("Mayor retraso arriba (días)", "Largest upstream delay (days)"),
    "tree_title": ("Árbol de impacto de un quiebre raíz", "Impact tree of a root breach"),
    "tree_pick": ("Quiebre raíz", "Root breach"),
    "tree_help": (
        "Quiebres aguas abajo alcanzados desde la raíz por un camino de quiebres; "
        "profundidad = eslabones desde la raíz.",
        "Downstream breaches reached from the root through a path of breaches; "
        "depth = links from the root.",
    ),
    "tree_empty": (
        "Este quiebre raíz no tiene quiebres aguas abajo.",
        "This root breach has no downstream breaches.",
    ),
    "col_depth": ("Profundidad", "Depth"),
    "col_depends_on": ("Depende de (quebrado)", "Depends on (breached)"),
    "df_title": ("Mapa de procesos de los eventos", "Process map of the events"),
    "df_help": (
        "Pares de pasos consecutivos de un mismo caso (directly-follows): cuántas veces y "
        "la mediana de horas entre ellos. Se muestran los {n} más frecuentes.",
        "Consecutive steps of one case (directly-follows): how often and the median hours "
        "between them. The {n} most frequent are shown.",
    ),
    "df_top": ("Pares mostrados", "Pairs shown"),
    "no_events": ("No hay eventos en este filtro.", "No events in this filter."),
    "col_source": ("Desde", "From"),
    "col_target": ("Hasta", "To"),
    "col_count": ("Veces", "Count"),
    "col_median_hours": ("Mediana (horas)", "Median (hours)"),
    "col_visits": ("Visitas", "Visits"),
    "durations_title": ("Duración en cada paso", "Time spent in each step"),
    "median_hours": ("Mediana de horas", "Median hours"),
    "hours_suffix": ("{value} h", "{value} h"),
    "times": ("veces", "times"),
    # Satisfacción
    "satisfaccion_title": ("Satisfacción y reclamos", "Satisfaction and complaints"),
    "sat_by_week": ("CSAT % y NPS por semana", "CSAT % and NPS by week"),
    "sat_by_stage": ("CSAT % y NPS por etapa", "CSAT % and NPS by stage"),
    "responses": ("Respuestas", "Responses"),
    "csat_answers": ("Con CSAT", "With a CSAT"),
    "nps_answers": ("Con NPS", "With an NPS"),
    "breach_cost_n": (
        "n = respuestas con CSAT (las que solo puntúan NPS cuentan en «Respuestas» de la tabla).",
        "n = responses with a CSAT (those scoring only NPS count in the table's «Responses»).",
    ),
    "partial_suffix": ("{label} (parcial)", "{label} (partial)"),
    "partial_weeks_note": (
        "Semanas marcadas «parcial»: aún en curso o cortadas por el periodo; pueden cambiar.",
        "Weeks marked «partial»: still running or cut by the period; they may still change.",
    ),
    "breach_cost_title": ("Lo que cuesta un quiebre", "What a breach costs"),
    "breach_cost_metric": ("Coste de un quiebre", "Cost of a breach"),
    "points_suffix": ("{value} puntos", "{value} points"),
    "breach_cost_help": (
        "CSAT % de las respuestas sobre compromisos a tiempo menos el de las respuestas "
        "sobre compromisos quebrados (raíz y propagados), en puntos porcentuales.",
        "CSAT % of responses about on-time commitments minus that of responses about "
        "breached ones (root and propagated), in percentage points.",
    ),
    "csat_on_time": ("CSAT % a tiempo", "CSAT % on time"),
    "csat_breach": ("CSAT % con quiebre", "CSAT % breached"),
    "status_on_time": ("A tiempo", "On time"),
    "status_root_breach": ("Quiebre raíz", "Root breach"),
    "status_propagated_breach": ("Quiebre propagado", "Propagated breach"),
    "complaints_title": ("Reclamos y tiempo de resolución", "Complaints and time to resolve"),
    "target_hours": ("Meta de resolución (horas)", "Resolution target (hours)"),
    "complaints": ("Reclamos", "Complaints"),
    "complaints_per_100": ("Reclamos por 100 vencidos", "Complaints per 100 due"),
    "median_hours_to_resolve": ("Horas medianas hasta resolver", "Median hours to resolve"),
    "within_target": ("Resueltos dentro de la meta", "Resolved within target"),
    "resolved": ("Resueltos", "Resolved"),
    "comments_title": ("Comentarios de las encuestas", "Survey comments"),
    "comments_search": ("Buscar en los comentarios", "Search the comments"),
    "comments_count": ("{n} comentarios", "{n} comments"),
    "no_comments": ("Ningún comentario coincide.", "No comment matches."),
    "col_answered": ("Respondida", "Answered"),
    "col_comment": ("Comentario", "Comment"),
    "col_csat": ("CSAT", "CSAT"),
    "col_nps": ("NPS", "NPS"),
    "no_responses": ("No hay respuestas en este filtro.", "No responses in this filter."),
    # Datos
    "datos_title": ("Datos: subir, validar, cargar", "Data: upload, validate, load"),
    "upload_title": ("1. Subir ficheros", "1. Upload files"),
    "upload_label": (
        "Ficheros CSV, Excel (.xlsx) o Parquet",
        "CSV, Excel (.xlsx) or Parquet files",
    ),
    "upload_help": (
        "Sin mapeo, cada fichero se llama como su tipo de registro (commitments.csv, "
        "events.xlsx, …). Límites: {mb} MB por fichero y {rows} filas por fichero "
        "(variable ESLABON_UPLOAD_MAX_ROWS); para más, use `python -m etl load`.",
        "Without a mapping, name each file after its record kind (commitments.csv, "
        "events.xlsx, …). Limits: {mb} MB per file and {rows} rows per file "
        "(ESLABON_UPLOAD_MAX_ROWS); for more, use `python -m etl load`.",
    ),
    "mapping_label": ("Mapeo", "Mapping"),
    "mapping_none": ("Sin mapeo (ficheros canónicos)", "No mapping (canonical files)"),
    "mapping_upload": ("Subir un mapeo TOML…", "Upload a TOML mapping…"),
    "mapping_file": ("Fichero de mapeo (.toml)", "Mapping file (.toml)"),
    "mapping_missing": ("Suba el fichero de mapeo.", "Upload the mapping file."),
    "preview_title": (
        "2. Validación (todavía no se ha escrito nada)",
        "2. Validation (nothing written yet)",
    ),
    "preview_none": (
        "Suba uno o varios ficheros para validarlos.",
        "Upload one or more files to validate them.",
    ),
    "preview_failed": (
        "No se pueden validar los ficheros: {reason}",
        "The files cannot be validated: {reason}",
    ),
    "col_file": ("Fichero", "File"),
    "col_record_kind": ("Tipo de registro", "Record kind"),
    "record_kind_processes": ("Procesos", "Processes"),
    "record_kind_commitments": ("Compromisos", "Commitments"),
    "record_kind_dependencies": ("Dependencias", "Dependencies"),
    "record_kind_events": ("Eventos", "Events"),
    "record_kind_satisfaction": ("Satisfacción", "Satisfaction"),
    "record_kind_complaints": ("Reclamos", "Complaints"),
    "record_kind_notices": ("Avisos", "Notices"),
    "record_kind_calendars": ("Calendarios", "Calendars"),
    "record_kind_holidays": ("Festivos", "Holidays"),
    "record_kind_policies": ("Plazos estándar", "Service standards"),
    "col_read": ("Leídas", "Read"),
    "col_new": ("Nuevas", "New"),
    "col_changed": ("Cambiadas", "Changed"),
    "col_unchanged": ("Sin cambios", "Unchanged"),
    "col_rejected": ("Rechazadas", "Rejected"),
    "col_row": ("Fila", "Row"),
    "col_column": ("Columna", "Column"),
    "col_reject_reason": ("Motivo", "Reason"),
    "col_raw": ("Fila original", "Original row"),
    "col_batch": ("Lote", "Batch"),
    "col_started": ("Inicio", "Started"),
    "col_finished": ("Fin", "Finished"),
    "col_loaded_by": ("Cargado por", "Loaded by"),
    "col_files": ("Ficheros", "Files"),
    "col_mapping": ("Mapeo", "Mapping"),
    "refused_file": ("Fichero rechazado entero: {reason}", "Whole file refused: {reason}"),
    "review_reason": ("Por qué está vacío", "Why it is empty"),
    "load_all_rejected": (
        "Carga fallida: se rechazaron todas las filas de {files}; no se cargó nada de ello "
        "(lote {batch}, con sus motivos en el historial).",
        "Load failed: every row of {files} was rejected; nothing of it was loaded (batch "
        "{batch}, with its reasons in the history).",
    ),
    # dashboard.metrics.kpis.kpi_reasons codes: why a KPI is empty ("no data" is not 0)
    "reason_no_surveys_loaded": (
        "Sin datos: no se ha cargado ninguna encuesta de satisfacción",
        "No data: no satisfaction surveys have been loaded",
    ),
    "reason_no_complaints_loaded": (
        "Sin datos: no se ha cargado ningún fichero de reclamaciones",
        "No data: no complaints file has been loaded",
    ),
    "reason_no_notices_loaded": (
        "Sin datos: no se ha cargado ni registrado ningún aviso",
        "No data: no notices have been loaded or recorded",
    ),
    "reason_no_customer_commitments_loaded": (
        "Sin datos: no hay compromisos del cliente con nosotros",
        "No data: there are no customer commitments to us",
    ),
    # etl.records.LoadWarning codes, with the warning's parameters
    "load_warning_unknown_process": (
        "{path} ({kind}): {rows} fila(s) nombran procesos que no están en la lista de "
        "procesos: {processes}. Se cargan, pero esas etapas aparecerán en la cadena sin "
        "lugar en su orden (añádalas a processes o corrija los nombres).",
        "{path} ({kind}): {rows} row(s) name process(es) not in the processes list: "
        "{processes}. They are loaded, but those stages appear in the chain without a place "
        "in its order (add them to processes, or fix the names).",
    ),
    "load_warning_all_rejected": (
        "{path} ({kind}): se rechazaron las {rows} filas; no se cargaría nada de este fichero.",
        "{path} ({kind}): all {rows} rows were rejected; nothing of this file would load.",
    ),
    "preview_summary": (
        "Se cargarían {valid} filas ({new} nuevas, {changed} cambiadas, {unchanged} sin "
        "cambios) y se rechazarían {rejected}.",
        "{valid} rows would load ({new} new, {changed} changed, {unchanged} unchanged) "
        "and {rejected} would be rejected.",
    ),
    "rejects_title": ("Filas rechazadas y su motivo", "Rejected rows and their reason"),
    "rejects_shown": ("Se muestran {shown} de {total}.", "Showing {shown} of {total}."),
    "rejects_download": ("Descargar rechazos (CSV)", "Download rejects (CSV)"),
    "load_title": ("3. Cargar", "3. Load"),
    "load_button": ("Cargar el lote", "Load the batch"),
    "load_help": (
        "Todo o nada: el lote entero se escribe en una transacción; las filas rechazadas "
        "quedan registradas con su motivo.",
        "All or nothing: the whole batch is written in one transaction; rejected rows are "
        "logged with their reason.",
    ),
    "load_done": (
        "Lote {batch} cargado: {new} nuevas, {changed} cambiadas, {rejected} rechazadas.",
        "Batch {batch} loaded: {new} new, {changed} changed, {rejected} rejected.",
    ),
    "load_failed": ("No se cargó nada: {reason}", "Nothing was loaded: {reason}"),
    "loading": ("Cargando…", "Loading…"),
    "validating": ("Validando…", "Validating…"),
    "validating_for": (
        "Validando en un proceso aparte… {seconds} s",
        "Validating in a separate process… {seconds} s",
    ),
    "preview_cancel": ("Cancelar la validación", "Cancel the validation"),
    "preview_cancelled": (
        "Validación cancelada; nada se ha escrito.",
        "Validation cancelled; nothing was written.",
    ),
    "preview_retry": ("Validar de nuevo", "Validate again"),
    "history_title": ("Historial de cargas", "Load history"),
    "history_none": ("Todavía no hay cargas.", "No loads yet."),
    "history_files": ("Ficheros del lote {batch}", "Files of batch {batch}"),
    "history_pick": ("Lote", "Batch"),
    "stored_rejects_title": ("Rechazos del lote {batch}", "Rejects of batch {batch}"),
    "no_rejects": ("Ninguna fila rechazada.", "No rejected rows."),
    "sample_title": ("Datos de ejemplo", "Sample data"),
    # delivery: the weekly pack by e-mail, alerts
    "mail_subject": (
        "Revisión semanal {week}{scope} · Eslabón",
        "Weekly review {week}{scope} · Eslabón",
    ),
    "mail_intro": (
        "Adjuntamos la revisión semanal {week} ({period}).",
        "Here is the weekly review {week} ({period}).",
    ),
    "mail_scope": ("Filtro: {scope}", "Filter: {scope}"),
    "mail_attached": ("Adjuntos: {files}", "Attached: {files}"),
    "mail_open": ("Abrir en el tablero: {link}", "Open in the dashboard: {link}"),
    "mail_sections": (
        "{roots} quiebres raíz, {breached} incumplidos, {at_risk} en riesgo la semana próxima, "
        "{actions} acciones.",
        "{roots} root breaches, {breached} breached, {at_risk} at risk next week, "
        "{actions} action items.",
    ),
    "mail_why": (
        "Recibe este mensaje por una suscripción de Eslabón (n.º {id}).",
        "You receive this message through an Eslabón subscription (no. {id}).",
    ),
    "pdf_page": ("Página {n} de {total}", "Page {n} of {total}"),
    # the Suscripciones page
    "subs_intro": (
        "Quién recibe la revisión semanal por correo, con qué filtro, en qué formatos y cuándo "
        "(día y hora en {tz}). `python -m dashboard.report deliver` envía lo que toca.",
        "Who receives the weekly review by e-mail, with which filter, in which formats and "
        "when (day and hour in {tz}). `python -m dashboard.report deliver` sends what is due.",
    ),
    "subs_smtp": ("Servidor de correo: {server}", "Mail server: {server}"),
    "subs_no_smtp": (
        "No hay servidor de correo configurado (ESLABON_SMTP_HOST): nada se envía. "
        "Ver docs/deployment.md.",
        "No mail server is configured (ESLABON_SMTP_HOST): nothing is sent. "
        "See docs/deployment.md.",
    ),
    "subs_bad_smtp": ("Configuración de correo incorrecta: {error}", "Bad mail settings: {error}"),
    "subs_none": ("Aún no hay suscripciones.", "No subscriptions yet."),
    "subs_list": ("Suscripciones", "Subscriptions"),
    "subs_edit": ("Nueva o editar", "New or edit"),
    "subs_pick": ("Suscripción", "Subscription"),
    "subs_new": ("— nueva —", "— new —"),
    "subs_email": ("Correo", "E-mail"),
    "subs_stages": ("Etapas (vacío: todas)", "Stages (empty: all)"),
    "subs_customers": (
        "Clientes, separados por comas (vacío: todos)",
        "Customers, comma-separated (empty: all)",
    ),
    "subs_ctypes": ("Tipo de cliente (vacío: ambos)", "Customer type (empty: both)"),
    "subs_lang": ("Idioma", "Language"),
    "subs_weekday": ("Día", "Day"),
    "subs_hour": ("Hora", "Hour"),
    "subs_formats": ("Adjuntos", "Attachments"),
    "subs_active": ("Activa", "Active"),
    "subs_save": ("Guardar suscripción", "Save subscription"),
    "subs_saved": ("Suscripción guardada.", "Subscription saved."),
    "subs_remove": ("Eliminar", "Remove"),
    "subs_removed": ("Suscripción eliminada.", "Subscription removed."),
    "subs_test": ("Enviar prueba ahora", "Send a test now"),
    "subs_test_sent": ("Prueba enviada a {email}.", "Test sent to {email}."),
    "subs_test_failed": ("La prueba no se envió: {error}", "The test was not sent: {error}"),
    "subs_alerts": ("Reglas de alerta", "Alert rules"),
    "subs_alerts_hint": (
        "Se crean con `python -m dashboard.records alerts add` (ver docs/delivery.md).",
        "Created with `python -m dashboard.records alerts add` (see docs/delivery.md).",
    ),
    "subs_col_rule": ("Regla", "Rule"),
    "subs_col_condition": ("Condición", "Condition"),
    "subs_log": ("Registro de envíos", "Delivery log"),
    "subs_log_none": ("Aún no hay envíos.", "Nothing sent yet."),
    "subs_col_id": ("N.º", "No."),
    "subs_col_schedule": ("Cuándo", "When"),
    "subs_col_filter": ("Filtro", "Filter"),
    "subs_col_when": ("Fecha", "When"),
    "subs_col_kind": ("Qué", "What"),
    "subs_col_to": ("Para", "To"),
    "subs_col_subject": ("Asunto", "Subject"),
    "subs_col_result": ("Resultado", "Result"),
    "subs_col_detail": ("Detalle", "Detail"),
    "kind_subscription": ("Suscripción", "Subscription"),
    "kind_alert": ("Alerta", "Alert"),
    "kind_test": ("Prueba", "Test"),
    "result_sent": ("enviado", "sent"),
    "result_failed": ("falló", "failed"),
    "alert_below_target": (
        "{kpi} de la semana {week} es {value}: no alcanza su meta de {target}.",
        "{kpi} for week {week} is {value}: it misses its target of {target}.",
    ),
    "alert_worse_than_last_week": (
        "{kpi} empeoró {delta} frente a la semana anterior "
        "({previous} → {value}; umbral {threshold}).",
        "{kpi} got worse by {delta} against last week "
        "({previous} → {value}; threshold {threshold}).",
    ),
    "alert_above": (
        "{kpi} de la semana {week} es {value}, por encima del umbral de {threshold}.",
        "{kpi} for week {week} is {value}, above the threshold of {threshold}.",
    ),
    "alert_below": (
        "{kpi} de la semana {week} es {value}, por debajo del umbral de {threshold}.",
        "{kpi} for week {week} is {value}, below the threshold of {threshold}.",
    ),
    "alert_at_risk_upstream": (
        "{id} «{title}» ({stage}, cliente {customer}) vence el {due} y su proveedor {upstreams} "
        "ya está en quiebre: entrega prevista {predicted}.",
        "{id} “{title}” ({stage}, customer {customer}) is due {due} and its supplier {upstreams} "
        "is already breached: expected delivery {predicted}.",
    ),
    "alert_at_risk_elapsed": (
        "{id} «{title}» ({stage}, cliente {customer}) vence el {due}, sigue abierto y ya "
        "consumió el {share} de su plazo.",
        "{id} “{title}” ({stage}, customer {customer}) is due {due}, still open, with {share} "
        "of its time already used.",
    ),
    "alert_newly_breached": (
        "{id} «{title}» ({stage}, cliente {customer}) quedó incumplido: vencía el {due}.",
        "{id} “{title}” ({stage}, customer {customer}) is now breached: it was due {due}.",
    ),
    "alert_subject": ("[Eslabón] Alerta: {name}", "[Eslabón] Alert: {name}"),
    "alert_intro": (
        "La regla «{name}» se cumple ({scope}):",
        "Rule “{name}” is met ({scope}):",
    ),
    "alert_open": ("Ver: {link}", "Open: {link}"),
    "alert_why": (
        "Esta alerta avisa una vez por episodio: volverá a avisar cuando la condición deje "
        "de cumplirse y vuelva a cumplirse.",
        "This alert fires once per episode: it fires again only after the condition clears "
        "and returns.",
    ),
    "sample_help": (
        "Carga los 5.000 compromisos de ejemplo de data/sample (como `make db`).",
        "Loads the 5,000 sample commitments in data/sample (like `make db`).",
    ),
    # issue 14: cards that say one thing, weeks that may be partial
    "cards_note": (
        "Cada tarjeta: el valor del periodo y su meta; debajo, la última semana completa "
        "y su cambio respecto de la anterior.",
        "Each card: the value for the period and its target; below it, the last full week "
        "and its change from the week before.",
    ),
    "single_user_short": ("Modo de un solo usuario", "Single-user mode"),
    # Streamlit's file uploader speaks English only: its two texts, replaced by CSS
    "uploader_button": ("Subir", "Upload"),
    "uploader_limit": ("Hasta {mb} MB por fichero", "Up to {mb} MB per file"),
    "card_week": ("Semana del {week}: {value}", "Week of {week}: {value}"),
    "card_change": ("{arrow} {delta} vs. semana anterior", "{arrow} {delta} vs. previous week"),
    "card_no_week": ("Sin semanas completas en el periodo", "No full week in the period"),
}


def tr(key: str, lang: str, **values: object) -> str:
    """The text for `key` in `lang`: this module's strings first, then dashboard.ui.i18n."""
    pair = STRINGS.get(key)
    if pair is None:
        return t(key, lang, **values)
    text = in_language(pair, lang)
    return text.format(**values) if values else text


def record_kind_label(kind: object, lang: str) -> str:
    """A record kind (`commitments`, the file's name) in the reader's words; the kind
    itself when this release has no name for it."""
    pair = STRINGS.get(f"record_kind_{kind}")
    return str(kind) if pair is None else in_language(pair, lang)


def kpi_label(kpi: str, lang: str) -> str:
    """A KPI's name from the one registry (dashboard.metrics.definitions); the key itself
    for anything undeclared, so a missing name shows instead of crashing."""
    declared = KPIS.get(kpi)
    return declared.label_in(norm_lang(lang)) if declared else kpi


# The characters that make Markdown links, images, emphasis, code, HTML, headings, tables
# or math (and Streamlit's :colour[...] directives, through the brackets). Words, dates and
# numbers contain none of them, so they show exactly as they are.
_MARKDOWN_ACTIVE = frozenset("\\`*_[]()<>!#|~$")


def md_escape(text: object) -> str:
    """User text (names, comments, reasons) made literal inside st.markdown, captions and
    messages: every active Markdown character backslash-escaped, so `**x**` or
    `[link](http://…)` shows as typed (Streamlit already refuses raw HTML). Line breaks
    become spaces first: a name's `\\n---` or `\\n# x` would otherwise open a new block."""
    return "".join("\\" + c if c in _MARKDOWN_ACTIVE else c for c in single_line(text))
