"""ES/EN strings of the Metas, Revisión, Seguimiento, Avisos and customer pages and of the
weekly report, kept beside dashboard.i18n (which owns the shared words and formats).

`tr` looks here first and falls back to `dashboard.i18n.t`, so a key can later move into
i18n.py without touching a page. Pure module: pages, reports and tests share it.
"""

from __future__ import annotations

from dashboard.i18n import norm_lang, t
from dashboard.metrics.definitions import KPIS

STRINGS: dict[str, tuple[str, str]] = {
    # pages
    "page_metas": ("Metas", "Targets"),
    "page_estandares": ("Estándares de servicio", "Service standards"),
    "page_revision": ("Revisión semanal", "Weekly review"),
    "page_seguimiento": ("Seguimiento", "Tracking"),
    "page_avisos": ("Avisos", "Notices"),
    "page_cliente": ("Seguimiento de sus compromisos", "Tracking of your commitments"),
    # service standards
    "std_intro": (
        "Plazos estándar por alcance (proceso, tipo de cliente, prioridad, categoría), en "
        "horas hábiles de su calendario. Se cambian cargando calendars / holidays / policies "
        "en Datos: cada versión queda en el historial.",
        "Standard lead times per scope (process, customer type, priority, category), in "
        "business hours of their calendar. They change by loading calendars / holidays / "
        "policies in Data: every version stays in the history.",
    ),
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
    "targets_import": ("Importar CSV", "Import CSV"),
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
    "history_title": ("Historial de cargas", "Load history"),
    "history_none": ("Todavía no hay cargas.", "No loads yet."),
    "history_files": ("Ficheros del lote {batch}", "Files of batch {batch}"),
    "history_pick": ("Lote", "Batch"),
    "stored_rejects_title": ("Rechazos del lote {batch}", "Rejects of batch {batch}"),
    "no_rejects": ("Ninguna fila rechazada.", "No rejected rows."),
    "sample_title": ("Datos de ejemplo", "Sample data"),
    "sample_help": (
        "Carga los 5.000 compromisos de ejemplo de data/sample (como `make db`).",
        "Loads the 5,000 sample commitments in data/sample (like `make db`).",
    ),
}


def tr(key: str, lang: str, **values: object) -> str:
    """The text for `key` in `lang`: this module's strings first, then dashboard.i18n."""
    pair = STRINGS.get(key)
    if pair is None:
        return t(key, lang, **values)
    text = pair[1] if norm_lang(lang) == "en" else pair[0]
    return text.format(**values) if values else text


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
    `[link](http://…)` shows as typed (Streamlit already refuses raw HTML)."""
    return "".join("\\" + c if c in _MARKDOWN_ACTIVE else c for c in str(text))


def fmt_hours_minutes(hours: float) -> str:
    """Business time as people say it: 3.3333 → '3 h 20 min', 0.5 → '30 min'."""
    minutes = round(hours * 60)
    whole, rest = divmod(minutes, 60)
    if whole and rest:
        return f"{whole} h {rest} min"
    return f"{whole} h" if whole else f"{rest} min"
