"""The deterministic sample data generator: a believable value chain to try Eslabón on.

The sample is what a new user sees first and what the benchmarks load at a million
commitments, so it must look like a real organisation (stages that breach more than
others, breaches that travel down the chain and are sometimes absorbed, customers who
complain after a breach) and it must be cheap: every table is built with vectorised numpy
draws from one seeded `numpy.random.Generator` (no Python loop per commitment), and the
CSV files are written in chunks so memory stays bounded.

Same seed, size and `as_of` → byte-identical files. All times are naive wall-clock times
(the configured `ESLABON_TZ`), kept as int64 seconds internally and snapped to working
hours on weekdays, so no timestamp falls at midnight or on a weekend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from etl.schema import CUSTOMER_TYPES, DIRECTIONS, RECORD_KINDS

GENERATOR_VERSION = "1"
DATASET_NAME = "eslabon-sample"
# A Friday afternoon: the weekly review meeting looks back from here.
DEFAULT_AS_OF = datetime(2026, 11, 20, 17, 0, 0)
WEEKS = 26

MINUTE = 60
HOUR = 3600
DAY = 86400
_CHUNK_ROWS = 200_000
_NAT = np.iinfo(np.int64).min  # "no time" in the int64-seconds arrays


@dataclass(frozen=True)
class Stage:
    """One link of the value chain and how it behaves in the sample."""

    name: str
    area: str
    description: str
    on_time: float  # base probability of keeping a promise when the upstream kept its own
    absorb: float  # probability of still delivering on time when an upstream breached
    lead_days: float  # mean promised lead time in business days
    presence: float  # share of orders that pass through this stage
    title: str  # the commitment's title, before the order number
    performers: tuple[str, ...]


STAGES: tuple[Stage, ...] = (
    Stage(
        name="Ventas",
        area="Comercial",
        description="Entiende la necesidad del cliente, acuerda la oferta y confirma el pedido.",
        on_time=0.95,
        absorb=0.55,
        lead_days=2.0,
        presence=1.0,
        title="Confirmar pedido",
        performers=(
            "Lucía Fernández",
            "Javier Morales",
            "Carmen Ruiz",
            "Andrés Castillo",
            "Elena Vidal",
        ),
    ),
    Stage(
        name="Planificación",
        area="Operaciones",
        description="Convierte el pedido en un plan de fabricación con fechas realistas.",
        on_time=0.94,
        absorb=0.5,
        lead_days=2.0,
        presence=0.9,
        title="Planificar fabricación",
        performers=("Marta Serrano", "Pablo Herrera", "Isabel Domínguez"),
    ),
    Stage(
        name="Compras",
        area="Abastecimiento",
        description="Aprovisiona materiales y componentes a tiempo para producir.",
        on_time=0.8,
        absorb=0.45,
        lead_days=6.0,
        presence=0.65,
        title="Aprovisionar materiales",
        performers=("Raúl Navarro", "Beatriz Gil", "Sergio Romero", "Nuria Pascual"),
    ),
    Stage(
        name="Producción",
        area="Operaciones",
        description="Fabrica el pedido según el plan y las especificaciones acordadas.",
        on_time=0.93,
        absorb=0.5,
        lead_days=5.0,
        presence=1.0,
        title="Fabricar pedido",
        performers=(
            "Manuel Ortega",
            "Rosa Iglesias",
            "Francisco Medina",
            "Alberto Cano",
            "Pilar Garrido",
            "Diego Cortés",
            "Teresa Molina",
            "Óscar Delgado",
        ),
    ),
    Stage(
        name="Calidad",
        area="Calidad",
        description="Inspecciona el producto terminado y libera el lote para su expedición.",
        on_time=0.96,
        absorb=0.5,
        lead_days=1.0,
        presence=0.8,
        title="Inspeccionar y liberar lote",
        performers=("Silvia Rubio", "Jorge Marín", "Ana Belén Sanz"),
    ),
    Stage(
        name="Logística",
        area="Operaciones",
        description="Prepara, embala y programa el transporte del pedido.",
        on_time=0.84,
        absorb=0.42,
        lead_days=2.0,
        presence=0.85,
        title="Preparar expedición",
        performers=(
            "Luis Prieto",
            "Cristina Vega",
            "Antonio Lozano",
            "Miguel Ángel Santos",
            "Sara Bravo",
        ),
    ),
    Stage(
        name="Entrega",
        area="Distribución",
        description="Entrega el pedido al cliente en la fecha y el lugar acordados.",
        on_time=0.95,
        absorb=0.5,
        lead_days=2.0,
        presence=1.0,
        title="Entregar pedido",
        performers=(
            "Daniel Crespo",
            "Patricia León",
            "Rubén Méndez",
            "Alicia Carmona",
            "Hugo Pastor",
            "Irene Soto",
        ),
    ),
    Stage(
        name="Postventa",
        area="Servicio al cliente",
        description="Instala, pone en marcha y atiende al cliente después de la entrega.",
        on_time=0.95,
        absorb=0.55,
        lead_days=4.0,
        presence=0.5,
        title="Instalación y puesta en marcha",
        performers=("Laura Benítez", "Carlos Fuentes", "Marina Cabrera", "Iván Aguilar"),
    ),
)
_N_STAGES = len(STAGES)
_REWORK_STAGES = [i for i, s in enumerate(STAGES) if s.name in ("Producción", "Calidad")]
_EXTERNAL_STAGES = frozenset({"Entrega", "Postventa"})
# Columns of the stage matrix that are always present in an order.
_ALWAYS = frozenset({"Ventas", "Producción", "Entrega"})

# What customers promise to the company (direction = from_customer), and which stage waits.
_CUSTOMER_PROMISES: tuple[tuple[str, str], ...] = (
    ("Ventas", "Enviar formulario de alta"),
    ("Ventas", "Pagar anticipo"),
    ("Planificación", "Aprobar diseño"),
    ("Planificación", "Enviar planos firmados"),
    ("Producción", "Confirmar especificaciones"),
    ("Entrega", "Confirmar dirección y franja de entrega"),
    ("Entrega", "Facilitar acceso a la obra"),
    ("Postventa", "Firmar acta de conformidad"),
)

_SURNAMES = (
    "Núñez",
    "Ibarra",
    "García",
    "Martínez",
    "López",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Díaz",
    "Álvarez",
    "Romero",
    "Torres",
    "Ramírez",
    "Flores",
    "Jiménez",
    "Moreno",
    "Muñoz",
    "Alonso",
    "Gutiérrez",
    "Blanco",
    "Suárez",
    "Castro",
    "Ortiz",
    "Rubio",
    "Marín",
    "Sanz",
    "Iglesias",
    "Nieto",
    "Vázquez",
    "Ramos",
    "Gil",
    "Serrano",
    "Molina",
    "Hidalgo",
    "Calvo",
    "Campos",
    "Vega",
    "Cabello",
    "Reyes",
    "Herrero",
    "Peña",
    "Montero",
    "Lorenzo",
    "Aguirre",
    "Echeverría",
    "Zubizarreta",
    "Arrieta",
    "Etxeberria",
    "Goikoetxea",
    "Olmedo",
)
_TRADES = (
    ("Ferretería", "S.L."),
    ("Construcciones", ""),
    ("Talleres", "e Hijos"),
    ("Distribuciones", "S.A."),
    ("Instalaciones", "S.L.U."),
    ("Reformas", ""),
    ("Carpintería", "S.L."),
    ("Electricidad", "Hermanos"),
    ("Suministros Industriales", "S.A."),
    ("Transportes", "S.L."),
    ("Clínica Dental", ""),
    ("Bodegas", "S.A."),
    ("Hotel", ""),
    ("Inmobiliaria", "S.L."),
    ("Gestoría", ""),
    ("Panadería", ""),
    ("Farmacia", ""),
    ("Cooperativa Agrícola", ""),
)
_GIVEN_NAMES = (
    "María José",
    "Juan Carlos",
    "Ana",
    "Francisco Javier",
    "Mercedes",
    "José Luis",
    "Dolores",
    "Alejandro",
    "Rocío",
    "Fernando",
    "Inmaculada",
    "Ramón",
    "Montserrat",
    "Ignacio",
    "Begoña",
    "Emilio",
    "Consuelo",
    "Gonzalo",
    "Amparo",
    "Víctor",
)
_N_CUSTOMERS = 150

# Survey comments, by tone; the tone follows the csat given.
_COMMENTS_GOOD = (
    "Muy buen servicio, todo a tiempo.",
    "Entrega puntual y bien comunicada.",
    "Cumplieron lo prometido, gracias.",
    "Rápidos y profesionales.",
    "Atención excelente, repetiremos.",
    "Nos avisaron de cada paso, así da gusto.",
)
_COMMENTS_MIXED = (
    "Correcto, aunque la comunicación podría mejorar.",
    "Bien, pero tuve que llamar para saber el estado.",
    "El producto bien, el plazo justo.",
    "Aceptable; la documentación llegó incompleta.",
)
_COMMENTS_BAD = (
    "Llegó tarde y nadie nos avisó.",
    "El plazo prometido no se cumplió.",
    "Tuvimos que reclamar varias veces.",
    "Falta de información sobre el estado del pedido.",
    "Mala coordinación entre departamentos.",
    "Cada persona nos daba una respuesta distinta.",
)


def external_customers() -> tuple[str, ...]:
    """The sample's external customers: companies and self-employed people, Spanish names.

    Built by a fixed rule (not the seed) so every sample, whatever its seed, has the same
    customer names and a user can recognise them across sizes.
    """
    names: list[str] = []
    seen: set[str] = set()
    i = 0
    while len(names) < _N_CUSTOMERS - 25:
        trade, suffix = _TRADES[i % len(_TRADES)]
        surname = _SURNAMES[(i * 7 + i // len(_SURNAMES)) % len(_SURNAMES)]
        name = f"{trade} {surname} {suffix}".strip()
        if name not in seen:
            seen.add(name)
            names.append(name)
        i += 1
    j = 0
    while len(names) < _N_CUSTOMERS:
        given = _GIVEN_NAMES[j % len(_GIVEN_NAMES)]
        first = _SURNAMES[(j * 11 + 3) % len(_SURNAMES)]
        second = _SURNAMES[(j * 17 + 5) % len(_SURNAMES)]
        name = f"{given} {first} {second}"
        if first != second and name not in seen:
            seen.add(name)
            names.append(name)
        j += 1
    return tuple(names)


# --- time helpers: int64 seconds since 1970-01-01 of naive wall-clock time -------------


def _to_seconds(when: datetime) -> int:
    """Seconds since the epoch of a naive wall-clock datetime (no zone conversion)."""
    return int((when.replace(tzinfo=None, microsecond=0) - datetime(1970, 1, 1)).total_seconds())


def _night_to_day(tod: np.ndarray) -> np.ndarray:
    """A night time of day (19–08 h) spread evenly over a working day (08–19 h).

    Spreading, rather than snapping to 08:00, keeps times of day looking natural.
    """
    night = (tod - 19 * HOUR) % DAY  # 0 .. 13 h
    return 8 * HOUR + (night * 11 // 13) // MINUTE * MINUTE


def _business_time(t: np.ndarray) -> np.ndarray:
    """The same instant moved *later* into working hours (08–19 h, Monday–Friday), to the minute.

    Moving only later keeps an on-time delivery on time (due dates are 18:00 on weekdays)
    and a late one late.
    """
    t = (t // MINUTE) * MINUTE
    days = t // DAY
    tod = t % DAY
    early = tod < 8 * HOUR
    late = tod >= 19 * HOUR
    tod = np.where(early | late, _night_to_day(tod), tod)
    days = days + late
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    days = days + np.where(weekday >= 5, 7 - weekday, 0)
    return np.asarray(days * DAY + tod)


def _business_time_earlier(t: np.ndarray) -> np.ndarray:
    """The same instant moved *earlier* into working hours (08–19 h, Monday–Friday)."""
    t = (t // MINUTE) * MINUTE
    days = t // DAY
    tod = t % DAY
    early = tod < 8 * HOUR
    late = tod >= 19 * HOUR
    tod = np.where(early | late, _night_to_day(tod), tod)
    days = days - early
    weekday = (days + 3) % 7
    days = days - np.where(weekday >= 5, weekday - 4, 0)
    return np.asarray(days * DAY + tod)


def _between(t: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """A working-hours minute near `t` strictly between `lower` and `upper` (business times).

    Interpolated event times must stay inside their neighbours so each commitment's log
    keeps its phase order; when neither nearby working minute fits, a minute after `lower`.
    """
    later = _business_time(t)
    earlier = _business_time_earlier(t)
    fallback = lower + MINUTE
    return np.where(
        (later > lower) & (later < upper),
        later,
        np.where((earlier > lower) & (earlier < upper), earlier, fallback),
    )


def _kept_time(t: np.ndarray, earliest: np.ndarray, due: np.ndarray) -> np.ndarray:
    """A delivery meant to be on time, in working hours and still no later than due.

    When the earliest possible time is already past due (a late upstream), it is late.
    """
    return np.where(t <= due, _between(t, earliest - MINUTE, due + MINUTE), _business_time(t))


def _business_day_at(t: np.ndarray, offset: np.ndarray, hour: int) -> np.ndarray:
    """`offset` business days after the day of `t` (rolled forward off weekends), at `hour`."""
    day = (t // DAY).astype("datetime64[D]")
    shifted = np.busday_offset(day, offset.astype(np.int64), roll="forward")
    return shifted.astype(np.int64) * DAY + hour * HOUR


def _days(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """n uniform durations in seconds between `low` and `high` days."""
    return (rng.uniform(low, high, n) * DAY).astype(np.int64)


def _promise_time(
    rng: np.random.Generator, requested: np.ndarray, due: np.ndarray, max_days: float
) -> np.ndarray:
    """When the offer is agreed: soon after the request, in working hours, well before due."""
    wait = np.minimum(_days(rng, 0.02, max_days, len(requested)), (due - requested) // 3)
    promised = _business_time(requested + np.maximum(wait, 30 * MINUTE))
    return np.where(promised < due - HOUR, promised, requested + 30 * MINUTE)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


# --- the chain: orders x stages ----------------------------------------------------------


@dataclass
class _Commitments:
    """Every commitment of the sample as parallel arrays (times in int64 seconds)."""

    stage: np.ndarray  # int: index into STAGES
    order: np.ndarray  # int: order number (-1 for customer commitments)
    customer: np.ndarray  # int: index into the customer names (externals first, then stages)
    external: np.ndarray  # bool
    from_customer: np.ndarray  # bool
    promise_kind: np.ndarray  # int: index into _CUSTOMER_PROMISES, -1 for to_customer
    performer: np.ndarray  # int: index into the performer names
    requested: np.ndarray
    promised: np.ndarray
    due: np.ndarray
    original_due: np.ndarray  # _NAT unless renegotiated
    delivered: np.ndarray  # true delivery time, may be after as_of; _NAT if cancelled
    accepted: np.ndarray
    cancelled: np.ndarray  # bool
    cancelled_at: np.ndarray
    dep_down: np.ndarray  # dependency edges, as positions in these arrays
    dep_up: np.ndarray

    def rows(self, lo: int, hi: int) -> _Commitments:
        """Commitments lo..hi (their dependencies left out), for work done in chunks."""
        sliced = {
            f.name: getattr(self, f.name)[lo:hi]
            for f in fields(self)
            if not f.name.startswith("dep_")
        }
        return replace(self, **sliced)


def _performer_tables() -> tuple[list[str], np.ndarray]:
    """All performer names and, per stage, the offset of its first performer in that list."""
    names: list[str] = []
    offsets = np.zeros(_N_STAGES + 1, dtype=np.int64)
    for s, stage in enumerate(STAGES):
        offsets[s] = len(names)
        names.extend(stage.performers)
    offsets[_N_STAGES] = len(names)
    return names, offsets


def _chain_matrix(
    rng: np.random.Generator,
    n_orders: int,
    *,
    as_of: int,
    window_start: int,
    customer_weights: np.ndarray,
    performer_effect: list[np.ndarray],
    performer_weights: list[np.ndarray],
    week_effect: Callable[[np.ndarray], np.ndarray],
) -> dict[str, np.ndarray]:
    """Simulate `n_orders` customer orders flowing down the chain, stage by stage.

    Each column is one stage, vectorised over all orders; a downstream stage sees its
    upstreams' true delivery (after as_of too), so a late upstream delays it physically and
    makes it breach with a higher probability unless it absorbs the delay.
    """
    m = n_orders
    shape = (m, _N_STAGES)
    presence = np.array([s.presence for s in STAGES])
    present = rng.random(shape) < presence
    for s, stage in enumerate(STAGES):
        if stage.name in _ALWAYS:
            present[:, s] = True
    join = rng.random(shape) < 0.3
    order_customer = rng.choice(len(customer_weights), size=m, p=customer_weights)
    # An order is cancelled from one of its stages on (its tail is never worked).
    cancel_from = np.where(rng.random(m) < 0.035, rng.integers(0, _N_STAGES, m), _N_STAGES)
    first_day = (window_start - 35 * DAY) // DAY
    n_days = (as_of // DAY) - first_day + 1
    start_day = (first_day + rng.integers(0, n_days, m)).astype("datetime64[D]")
    start_day = np.busday_offset(start_day, 0, roll="forward").astype(np.int64)
    t0 = _business_time(start_day * DAY + 8 * HOUR + _days(rng, 0, 10 / 24, m))

    req = np.full(shape, _NAT)
    prom = np.full(shape, _NAT)
    due = np.full(shape, _NAT)
    orig = np.full(shape, _NAT)
    deliv = np.full(shape, _NAT)
    late = np.zeros(shape, dtype=bool)
    perf = np.full(shape, -1)
    up1 = np.full(shape, -1)
    up2 = np.full(shape, -1)
    last = np.full(m, -1)
    second = np.full(m, -1)
    rows = np.arange(m)
    for s, stage in enumerate(STAGES):
        p = present[:, s]
        u1, u2 = last.copy(), np.where(join[:, s], second, -1)
        has1, has2 = u1 >= 0, u2 >= 0
        due1 = np.where(has1, due[rows, np.maximum(u1, 0)], 0)
        # Requested at hand-off planning time, a little before the upstream is due.
        handoff = _business_time(due1 - _days(rng, 0.5, 2.5, m))
        prom1 = np.where(has1, prom[rows, np.maximum(u1, 0)], 0)
        # Asked once the upstream link has promised its part, never before.
        r = np.where(has1, _business_time(np.maximum(handoff, prom1 + 30 * MINUTE)), t0)
        lead = 1 + rng.poisson(stage.lead_days - 1, m)
        anchor = np.where(has1, due1, r)
        d = _business_day_at(anchor, lead, 18)
        pr = _promise_time(rng, r, d, 1.5)
        # Renegotiated: the promise in force (due) was moved later from an earlier one.
        shift = rng.integers(1, 5, m)
        o = _business_day_at(d - shift * DAY * 7 // 5, np.zeros(m, dtype=np.int64), 18)
        reneg = (rng.random(m) < 0.18) & (o < d) & (o > pr + 4 * HOUR)
        who = rng.choice(len(stage.performers), size=m, p=performer_weights[s])
        # Outcome: on time with a stage, week and performer dependent probability, or
        # absorbed with the stage's (lower) absorption probability after an upstream breach.
        up_late = (has1 & late[rows, np.maximum(u1, 0)]) | (has2 & late[rows, np.maximum(u2, 0)])
        logit = (
            _logit(stage.on_time)
            + week_effect(d)
            + performer_effect[s][who]
            + np.where(reneg, 0.6, 0.0)
        )
        p_on = np.where(up_late, stage.absorb, _sigmoid(logit))
        on = rng.random(m) < p_on
        earliest = pr + 2 * HOUR
        for u, has in ((u1, has1), (u2, has2)):
            ud = deliv[rows, np.maximum(u, 0)]
            earliest = np.where(has & (ud != _NAT), np.maximum(earliest, ud + HOUR), earliest)
        slack = (rng.exponential(0.8, m) * DAY).astype(np.int64)
        on_time_at = np.maximum(d - slack, earliest)
        delay_days = rng.lognormal(np.log(0.6), 0.9, m) * np.where(up_late, 1.6, 1.0)
        delay_days = np.where(rng.random(m) < 0.03, rng.uniform(15, 60, m), delay_days)
        work = _days(rng, 0.1, 1.0, m)
        late_at = np.maximum(
            d + np.maximum((delay_days * DAY).astype(np.int64), HOUR), earliest + work
        )
        dv = np.where(on, _kept_time(on_time_at, earliest, d), _business_time(late_at))
        cancelled = s >= cancel_from
        dv = np.where(cancelled, _NAT, dv)

        req[:, s] = np.where(p, r, _NAT)
        prom[:, s] = np.where(p, pr, _NAT)
        due[:, s] = np.where(p, d, _NAT)
        orig[:, s] = np.where(p & reneg, o, _NAT)
        deliv[:, s] = np.where(p, dv, _NAT)
        late[:, s] = p & ~cancelled & (dv > d)
        perf[:, s] = who
        up1[:, s] = np.where(p, u1, -1)
        up2[:, s] = np.where(p & has1, u2, -1)
        second = np.where(p, last, second)
        last = np.where(p, s, last)
    return {
        "present": present,
        "customer": order_customer,
        "cancel_from": cancel_from,
        "t0": t0,
        "req": req,
        "prom": prom,
        "due": due,
        "orig": orig,
        "deliv": deliv,
        "perf": perf,
        "up1": up1,
        "up2": up2,
    }


def _week_effect_function(
    rng: np.random.Generator, window_start: int
) -> Callable[[np.ndarray], np.ndarray]:
    """A logit shift per due week: a slow wave, weekly noise and a summer-holiday dip.

    It gives the weekly on-time chart a visible, believable trend instead of flat noise.
    """
    n = WEEKS + 12
    phase = rng.uniform(0, 2 * np.pi)
    weeks = np.arange(n) - 6
    effect = 0.25 * np.sin(2 * np.pi * weeks / 11 + phase) + 0.012 * weeks
    effect = effect + rng.normal(0, 0.08, n)

    def week_effect(due: np.ndarray) -> np.ndarray:
        week = np.clip((due - window_start) // (7 * DAY) + 6, 0, n - 1)
        month = (due // DAY).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
        return np.asarray(effect[week] - np.where(month == 7, 0.35, 0.0))  # August

    return week_effect


def _orders_to_commitments(
    rng: np.random.Generator,
    n_chain: int,
    *,
    as_of: int,
    window_start: int,
    customer_weights: np.ndarray,
    performer_effect: list[np.ndarray],
    performer_weights: list[np.ndarray],
    week_effect: Callable[[np.ndarray], np.ndarray],
) -> _Commitments:
    """Simulate enough orders, keep the commitments visible in the window, take exactly n."""
    n_orders = max(8, int(n_chain / 4.0) + 16)
    while True:
        mat = _chain_matrix(
            rng,
            n_orders,
            as_of=as_of,
            window_start=window_start,
            customer_weights=customer_weights,
            performer_effect=performer_effect,
            performer_weights=performer_weights,
            week_effect=week_effect,
        )
        due = mat["due"]
        # Visible: promised by as_of (a commitment exists once agreed), due inside the
        # window or the two weeks after it. Due and promise times grow along an order, so
        # what is kept of an order is a contiguous run of its stages.
        kept = mat["present"] & (due >= window_start) & (mat["prom"] <= as_of)
        kept &= due <= as_of + 14 * DAY
        if kept.sum() >= n_chain:
            break
        n_orders *= 2  # rare (tiny samples): simulate more orders, still deterministic
    per_order = kept.sum(axis=1)
    order_perm = rng.permutation(n_orders)
    total = np.cumsum(per_order[order_perm])
    n_used = int(np.searchsorted(total, n_chain) + 1)
    chosen = np.zeros(n_orders, dtype=bool)
    chosen[order_perm[:n_used]] = True
    last_order = order_perm[n_used - 1]
    excess = int(total[n_used - 1] - n_chain)
    if excess:
        cols = np.flatnonzero(kept[last_order])
        kept[last_order, cols[len(cols) - excess :]] = False
    kept &= chosen[:, None]

    # Orders numbered by start time, so titles read PED-000001 for the oldest.
    order_rank = np.empty(n_orders, dtype=np.int64)
    order_rank[np.argsort(mat["t0"], kind="stable")] = np.arange(1, n_orders + 1)

    rows, cols = np.nonzero(kept)
    n = len(rows)
    position = np.full(kept.shape, -1)
    position[rows, cols] = np.arange(n)
    deps_down: list[np.ndarray] = []
    deps_up: list[np.ndarray] = []
    for key in ("up1", "up2"):
        up_col = mat[key][rows, cols]
        up_pos = np.where(up_col >= 0, position[rows, np.maximum(up_col, 0)], -1)
        ok = up_pos >= 0
        deps_down.append(np.flatnonzero(ok))
        deps_up.append(up_pos[ok])

    # Internal customer: the next stage of the same order (its area is who receives).
    present = mat["present"]
    next_stage = np.full(present.shape, -1)
    upcoming = np.full(present.shape[0], -1)
    for s in range(_N_STAGES - 1, -1, -1):
        next_stage[:, s] = upcoming
        upcoming = np.where(present[:, s], s, upcoming)
    stage_names = [s.name for s in STAGES]
    external = np.isin(cols, [stage_names.index(x) for x in _EXTERNAL_STAGES])
    nxt = next_stage[rows, cols]
    external |= nxt < 0
    customer = np.where(external, mat["customer"][rows], _N_CUSTOMERS + np.maximum(nxt, 0))

    cancelled = cols >= mat["cancel_from"][rows]
    req = mat["req"][rows, cols]
    due = mat["due"][rows, cols]
    deliv = mat["deliv"][rows, cols]
    accepted = _business_time(deliv + _days(rng, 0.1, 3.0, n))
    accepted = np.where((deliv == _NAT) | (rng.random(n) < 0.15), _NAT, accepted)
    cancel_at = req + ((np.minimum(due, as_of) - req) * rng.uniform(0.2, 0.9, n)).astype(np.int64)
    cancel_at = np.clip(_business_time(cancel_at), req + MINUTE, as_of - HOUR)
    cancel_at = np.where(cancelled, cancel_at, _NAT)
    return _Commitments(
        stage=cols,
        order=order_rank[rows],
        customer=customer,
        external=external,
        from_customer=np.zeros(n, dtype=bool),
        promise_kind=np.full(n, -1),
        performer=mat["perf"][rows, cols],
        requested=req,
        promised=mat["prom"][rows, cols],
        due=due,
        original_due=mat["orig"][rows, cols],
        delivered=deliv,
        accepted=accepted,
        cancelled=cancelled,
        cancelled_at=cancel_at,
        dep_down=np.concatenate(deps_down),
        dep_up=np.concatenate(deps_up),
    )


def _customer_commitments(
    rng: np.random.Generator,
    n: int,
    *,
    as_of: int,
    window_start: int,
    customer_weights: np.ndarray,
    performer_weights: list[np.ndarray],
) -> _Commitments:
    """What customers promised the company: sent forms, approvals, deposits.

    Kept less often than the company's own promises (about two in three) and sometimes
    never kept at all, which is why they need reminders.
    """
    wanted = n
    n = int(n * 1.25) + 10  # some are not promised yet at as_of: draw extra, keep n
    kind = rng.integers(0, len(_CUSTOMER_PROMISES), n)
    stage_names = [s.name for s in STAGES]
    stage = np.array(
        [stage_names.index(_CUSTOMER_PROMISES[k][0]) for k in range(len(_CUSTOMER_PROMISES))]
    )[kind]
    customer = rng.choice(len(customer_weights), size=n, p=customer_weights)
    first_day = window_start // DAY
    n_days = (as_of // DAY) - first_day + 1
    day = first_day + rng.integers(0, n_days, n)
    req = _business_time(day * DAY + 8 * HOUR + _days(rng, 0, 10 / 24, n))
    due = _business_day_at(req, 1 + rng.poisson(3, n), 18)
    prom = _promise_time(rng, req, due, 0.8)
    on = rng.random(n) < 0.68
    slack = (rng.exponential(1.0, n) * DAY).astype(np.int64)
    on_at = np.maximum(due - slack, prom + 2 * HOUR)
    delay = (rng.lognormal(np.log(1.5), 0.9, n) * DAY).astype(np.int64) + HOUR
    never = rng.random(n) < 0.08  # the form that never arrives
    late_at = np.where(never, as_of + 365 * DAY, due + delay)
    deliv = np.where(on, _kept_time(on_at, prom + 2 * HOUR, due), _business_time(late_at))
    accepted = np.where(deliv < as_of, _business_time(deliv + _days(rng, 0.05, 1.0, n)), _NAT)
    performer = np.zeros(n, dtype=np.int64)
    for s in range(_N_STAGES):
        sel = stage == s
        performer[sel] = rng.choice(
            len(STAGES[s].performers), size=int(sel.sum()), p=performer_weights[s]
        )
    sel = np.flatnonzero(prom <= as_of)[:wanted]
    if len(sel) < wanted:  # pragma: no cover - needs an as_of minutes after a weekend
        raise ValueError("sample: as_of leaves too little time for customer commitments")
    n = wanted
    kind, stage, customer, performer = kind[sel], stage[sel], customer[sel], performer[sel]
    req, prom, due, deliv, accepted = req[sel], prom[sel], due[sel], deliv[sel], accepted[sel]
    return _Commitments(
        stage=stage,
        order=np.full(n, -1),
        customer=customer,
        external=np.ones(n, dtype=bool),
        from_customer=np.ones(n, dtype=bool),
        promise_kind=kind,
        performer=performer,
        requested=req,
        promised=prom,
        due=due,
        original_due=np.full(n, _NAT),
        delivered=deliv,
        accepted=accepted,
        cancelled=np.zeros(n, dtype=bool),
        cancelled_at=np.full(n, _NAT),
        dep_down=np.zeros(0, dtype=np.int64),
        dep_up=np.zeros(0, dtype=np.int64),
    )


def _concat_sorted(a: _Commitments, b: _Commitments) -> _Commitments:
    """Both sets in one, ordered by request time, so ids read in the order work arrived."""
    n_a = len(a.stage)
    columns = {
        f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)])
        for f in fields(_Commitments)
        if not f.name.startswith("dep_")
    }
    order = np.lexsort((np.arange(len(columns["stage"])), columns["requested"]))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    sorted_fields = {k: v[order] for k, v in columns.items()}
    dep_down = np.concatenate([rank[a.dep_down], rank[b.dep_down + n_a]])
    dep_up = np.concatenate([rank[a.dep_up], rank[b.dep_up + n_a]])
    dep_order = np.lexsort((dep_up, dep_down))
    return _Commitments(**sorted_fields, dep_down=dep_down[dep_order], dep_up=dep_up[dep_order])


# --- status at as_of (docs/design.md) -----------------------------------------------------------


def _status_at(c: _Commitments, as_of: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Known delivery at as_of, breach flag and propagated flag, by the metric contract.

    Breach: delivered after due, or undelivered and due before as_of; propagated: a
    breach with at least one direct upstream that is itself a breach.
    """
    delivered = np.where(c.delivered <= as_of, c.delivered, _NAT)
    known = delivered != _NAT
    breach = ~c.cancelled & ((known & (delivered > c.due)) | (~known & (c.due < as_of)))
    up_breach = np.zeros(len(breach), dtype=bool)
    up_breach[c.dep_down[breach[c.dep_up]]] = True
    return delivered, breach, breach & up_breach


# --- the dependent tables ------------------------------------------------------------------


def _events(
    rng: np.random.Generator, c: _Commitments, delivered: np.ndarray, as_of: int
) -> dict[str, np.ndarray]:
    """The process log: one row per phase a commitment entered, only what happened by as_of.

    Solicitud → Promesa → Ejecución → Entrega → Aceptación, with renegotiations, rework
    loops (Revisión → Ejecución) and cancellations so the directly-follows graph has more
    than one path. Each row names its actor: the performer or the customer.
    """
    n = len(c.stage)
    open_ = (delivered == _NAT) & ~c.cancelled
    end = np.where(delivered != _NAT, delivered, np.maximum(c.due, c.promised + 2 * HOUR))
    start = c.promised + ((end - c.promised) * rng.uniform(0.1, 0.5, n)).astype(np.int64)
    start = _between(start, c.promised, end)
    has_exec = ~c.cancelled & (start < np.where(open_, as_of, end)) & (rng.random(n) < 0.55)
    breach_like = delivered > c.due
    # Work sent back happens more where things are made and checked, and before breaches.
    rework_p = np.where(breach_like, 0.25, 0.06) + np.isin(c.stage, _REWORK_STAGES) * 0.06
    rework = (
        has_exec
        & (delivered != _NAT)
        & (delivered - start >= 4 * HOUR)
        & (rng.random(n) < rework_p)
    )
    review = start + ((delivered - start) * rng.uniform(0.3, 0.5, n)).astype(np.int64)
    review = _between(review, start, delivered)
    again = review + ((delivered - review) * rng.uniform(0.3, 0.6, n)).astype(np.int64)
    again = _between(again, review, delivered)
    reneg = c.original_due != _NAT
    reneg_end = np.where(delivered != _NAT, np.minimum(c.original_due, delivered), c.original_due)
    reneg_at = c.promised + ((reneg_end - c.promised) * rng.uniform(0.3, 0.9, n)).astype(np.int64)
    reneg_at = _between(reneg_at, c.promised, reneg_end)

    # (stage name, time, present?, actor is the customer?) for each event kind. Events
    # placed between two others carry their own second of the minute (10 s … 50 s), so two
    # events of one commitment never share an instant and the log has one order.
    perf_is_customer = c.from_customer  # for customer promises the customer does the work
    cancel_at = c.cancelled_at + 10
    kinds: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = [
        ("Solicitud", c.requested, np.ones(n, dtype=bool), ~perf_is_customer),
        ("Promesa", c.promised, np.ones(n, dtype=bool), perf_is_customer),
        ("Renegociación", reneg_at + 20, reneg, perf_is_customer),
        ("Ejecución", start + 30, has_exec, perf_is_customer),
        ("Revisión", review + 40, rework, ~perf_is_customer),
        ("Ejecución", again + 50, rework, perf_is_customer),
        ("Cancelación", cancel_at, c.cancelled, ~perf_is_customer),
        ("Entrega", delivered, delivered != _NAT, perf_is_customer),
        ("Aceptación", c.accepted, c.accepted != _NAT, ~perf_is_customer),
    ]
    idx, at, stage, by_customer = [], [], [], []
    for k, (_, t, mask, actor) in enumerate(kinds):
        # Nothing but the cancellation itself happens after a commitment is cancelled.
        after_cancel = c.cancelled & (t > cancel_at)
        sel = np.flatnonzero(mask & (t != _NAT) & (t <= as_of) & ~after_cancel)
        idx.append(sel)
        at.append(t[sel])
        stage.append(np.full(len(sel), k, dtype=np.int8))
        by_customer.append(actor[sel])
    all_idx = np.concatenate(idx)
    all_at = np.concatenate(at)
    # Kinds are in phase order; the label code maps a kind to its (possibly repeated) name.
    names = list(dict.fromkeys(k[0] for k in kinds))
    name_code = np.array([names.index(k[0]) for k in kinds], dtype=np.int8)
    all_stage = np.concatenate(stage)
    order = np.lexsort((all_stage, all_at, all_idx))
    return {
        "commitment": all_idx[order],
        "at": all_at[order],
        "stage_code": name_code[all_stage[order]],
        "by_customer": np.concatenate(by_customer)[order],
        "stage_names": np.array(names, dtype=object),
    }


def _surveys(
    rng: np.random.Generator,
    c: _Commitments,
    delivered: np.ndarray,
    breach: np.ndarray,
    propagated: np.ndarray,
    as_of: int,
) -> dict[str, np.ndarray]:
    """Satisfaction answers for about one in five delivered commitments, lower after breaches.

    External customers are surveyed more often than internal areas; a propagated breach
    hurts more than a root one (the customer waited on a whole chain).
    """
    n = len(c.stage)
    eligible = (delivered != _NAT) & ~c.from_customer & ~c.cancelled
    p = np.where(c.external, 0.5, 0.16)
    answered = _business_time(delivered + _days(rng, 0.5, 7.0, n))
    take = eligible & (rng.random(n) < p) & (answered <= as_of)
    sel = np.flatnonzero(take)
    m = len(sel)
    tone = np.where(propagated[sel], 2, np.where(breach[sel], 1, 0))
    csat_p = np.array(
        [
            [0.02, 0.04, 0.10, 0.38, 0.46],
            [0.08, 0.15, 0.27, 0.32, 0.18],
            [0.15, 0.23, 0.28, 0.24, 0.10],
        ]
    )
    cum = np.cumsum(csat_p, axis=1)[tone]
    csat = (rng.random(m)[:, None] > cum).sum(axis=1) + 1
    nps = np.clip(np.rint(csat * 2.1 - 0.6 + rng.normal(0, 1.2, m)), 0, 10).astype(np.int64)
    missing = rng.random(m)
    csat_missing = missing < 0.05
    nps_missing = (missing >= 0.05) & (missing < 0.10)
    with_comment = rng.random(m) < np.where(csat <= 2, 0.6, 0.3)
    comment_pick = rng.integers(0, 1_000_000, m)
    order = np.lexsort((sel, answered[sel]))
    return {
        "commitment": sel[order],
        "answered": answered[sel][order],
        "csat": np.where(csat_missing, -1, csat)[order],
        "nps": np.where(nps_missing, -1, nps)[order],
        "comment_tone": np.where(with_comment, np.select([csat >= 4, csat == 3], [0, 1], 2), -1)[
            order
        ],
        "comment_pick": comment_pick[order],
    }


_CATEGORIES = ("Plazo", "Calidad", "Atención", "Facturación")
_SEVERITIES = ("baja", "media", "alta")


def _complaints(
    rng: np.random.Generator,
    c: _Commitments,
    delivered: np.ndarray,
    breach: np.ndarray,
    propagated: np.ndarray,
    as_of: int,
) -> dict[str, np.ndarray]:
    """Complaints, far more likely after a breach; most resolved, some still open."""
    n = len(c.stage)
    active = ~c.cancelled & ~c.from_customer
    p = np.where(propagated, 0.10, np.where(breach, 0.07, 0.006)) * np.where(c.external, 1.6, 0.6)
    opened = np.where(
        breach,
        c.due + _days(rng, 0.15, 4.0, n),
        np.where(delivered != _NAT, delivered, c.requested) + _days(rng, 1.0, 10.0, n),
    )
    opened = _business_time(opened)
    sel = np.flatnonzero(active & (rng.random(n) < p) & (opened <= as_of))
    m = len(sel)
    on_breach = breach[sel]
    cat_p = np.where(on_breach[:, None], [0.70, 0.10, 0.15, 0.05], [0.0, 0.5, 0.25, 0.25])
    category = (rng.random(m)[:, None] > np.cumsum(cat_p, axis=1)).sum(axis=1)
    category = np.minimum(category, len(_CATEGORIES) - 1)
    long_delay = on_breach & (
        (np.where(delivered[sel] != _NAT, delivered[sel], as_of) - c.due[sel]) > 5 * DAY
    )
    sev_p = np.where(long_delay[:, None], [0.15, 0.40, 0.45], [0.40, 0.45, 0.15])
    severity = np.minimum((rng.random(m)[:, None] > np.cumsum(sev_p, axis=1)).sum(axis=1), 2)
    hours = rng.lognormal(np.log(30), 1.0, m)
    resolved = _business_time(opened[sel] + (hours * HOUR).astype(np.int64))
    resolved = np.where((rng.random(m) < 0.9) & (resolved <= as_of), resolved, _NAT)
    linked = rng.random(m) >= 0.08
    order = np.lexsort((sel, opened[sel]))
    return {
        "commitment": sel[order],
        "linked": linked[order],
        "opened": opened[sel][order],
        "resolved": resolved[order],
        "category": category[order],
        "severity": severity[order],
    }


_CHANNELS = ("email", "teléfono", "portal")
_NOTICE_KINDS = ("aviso_previo", "aviso_retraso")


def _notices(
    rng: np.random.Generator, c: _Commitments, delivered: np.ndarray, as_of: int
) -> dict[str, np.ndarray]:
    """Messages to customers about expected or actual delays, for a share of the breaches.

    Some go out strictly before due (proactive), others only after due; a commitment at
    risk and not yet due may already have had its notice.
    """
    n = len(c.stage)
    active = ~c.cancelled & ~c.from_customer
    true_late = c.delivered > c.due  # the real outcome, including deliveries after as_of
    noticed = active & true_late & (rng.random(n) < 0.45)
    proactive = rng.random(n) < 0.55
    before = c.due - _days(rng, 0.1, 2.5, n)
    before = np.minimum(_business_time(before), c.due - 30 * MINUTE)
    before = np.maximum(before, c.promised + 30 * MINUTE) // MINUTE * MINUTE
    after = _business_time(c.due + _days(rng, 0.05, 2.0, n))
    follow_up = proactive & (rng.random(n) < 0.15)
    idx, at, kind = [], [], []
    for mask, t, k in (
        (noticed & proactive, before, 0),
        (noticed & (~proactive | follow_up), after, 1),
    ):
        sel = np.flatnonzero(
            mask & (t <= as_of) & (t < np.where(c.delivered != _NAT, c.delivered, t + 1))
        )
        idx.append(sel)
        at.append(t[sel])
        kind.append(np.full(len(sel), k))
    all_idx, all_at, all_kind = np.concatenate(idx), np.concatenate(at), np.concatenate(kind)
    order = np.lexsort((all_kind, all_at, all_idx))
    channel = rng.choice(len(_CHANNELS), size=len(order), p=[0.55, 0.25, 0.20])
    return {
        "commitment": all_idx[order],
        "sent": all_at[order],
        "kind": all_kind[order],
        "channel": channel,
    }


# --- writing --------------------------------------------------------------------------------


def _timestamps(t: np.ndarray) -> pa.Array:
    """int64 seconds as timestamps written `YYYY-MM-DD HH:MM:SS`; _NAT becomes an empty cell."""
    return pa.array(t.astype("datetime64[s]"))


def _labels(codes: np.ndarray, names: pa.Array | Sequence[str]) -> pa.DictionaryArray:
    """Codes as text without building one Python string per row (-1 → empty cell)."""
    dictionary = names if isinstance(names, pa.Array) else pa.array(list(names), pa.string())
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def _integers(values: np.ndarray) -> pa.Array:
    """Integers with -1 meaning "not answered" (an empty cell)."""
    return pa.array(values.astype(np.int64), mask=values < 0)


def _row_chunks(
    n_rows: int, chunk: Callable[[int, int], dict[str, pa.Array]]
) -> Iterator[dict[str, pa.Array]]:
    """The rows 0..n_rows made `_CHUNK_ROWS` at a time."""
    for lo in range(0, n_rows, _CHUNK_ROWS):
        yield chunk(lo, min(n_rows, lo + _CHUNK_ROWS))


def _write_csv(
    path: Path,
    columns: tuple[str, ...],
    chunks: Iterable[dict[str, pa.Array]],
    *,
    free_text: bool = False,
) -> int:
    """Write `n_rows` rows made chunk by chunk: a million rows never sit in memory as text.

    Arrow's CSV writer is the fast path, unquoted (it refuses, rather than corrupts, a value
    with a comma or quote). Files with free text (commas in Spanish sentences) go through
    pandas, which quotes only the cells that need it.
    """
    with path.open("wb") as fh:
        fh.write((",".join(columns) + "\n").encode("utf-8"))
        n_rows = 0
        for chunk in chunks:
            table = pa.table(chunk).select(list(columns))
            n_rows += table.num_rows
            if free_text:
                # Decode dictionaries first: a million-id dictionary must not become a
                # pandas Categorical of a million Python strings for every chunk.
                plain = [
                    col.dictionary_decode() if pa.types.is_dictionary(col.type) else col
                    for col in (table.column(i).combine_chunks() for i in range(table.num_columns))
                ]
                table = pa.table(plain, names=table.column_names)
                frame = table.to_pandas(types_mapper=_pandas_type)
                text = frame.to_csv(header=False, index=False, lineterminator="\n")
                fh.write(text.encode("utf-8"))
            else:
                options = pacsv.WriteOptions(include_header=False, quoting_style="none")
                pacsv.write_csv(table, fh, options)
    return n_rows


def _pandas_type(arrow_type: pa.DataType) -> object:
    """Nullable integers stay integers in pandas (not floats written as `4.0`)."""
    return pd.Int64Dtype() if pa.types.is_integer(arrow_type) else None


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Readable, sortable ids such as CMP-000001, built by numpy string ufuncs (no row loop)."""
    return np.strings.add(f"{prefix}-", np.strings.zfill(numbers.astype(str), width))


def generate_sample(
    out_dir: Path,
    *,
    commitments: int = 5000,
    seed: int = 7,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Write a complete canonical sample data set into `out_dir` and return what was written.

    Deterministic: the same arguments give byte-identical files. Returns
    `{"as_of": datetime, "seed": int, "commitments": int, "generator_version": str,
    "counts": {kind: rows}, "out_dir": str}`. `as_of` defaults to DEFAULT_AS_OF and is
    taken as naive wall-clock time (a zone, if any, is dropped, not converted); the 26 ISO
    weeks of due dates end with the week of `as_of`, plus up to two weeks ahead. Raises
    ValueError for fewer than 10 commitments.
    """
    if commitments < 10:
        raise ValueError(
            f"sample: the number of commitments must be at least 10, not {commitments}"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    as_of_dt = (as_of or DEFAULT_AS_OF).replace(microsecond=0, tzinfo=None)
    now = _to_seconds(as_of_dt)
    monday = (now // DAY - ((now // DAY + 3) % 7)) * DAY
    window_start = monday - (WEEKS - 1) * 7 * DAY
    rng = np.random.default_rng(seed)

    customers = external_customers()
    zipf = 1.0 / np.arange(1, _N_CUSTOMERS + 1) ** 1.1
    customer_weights = np.empty(_N_CUSTOMERS)
    customer_weights[rng.permutation(_N_CUSTOMERS)] = zipf / zipf.sum()
    performer_names, performer_offset = _performer_tables()
    performer_weights = []
    performer_effect = []
    for stage in STAGES:
        w = rng.gamma(3.0, 1.0, len(stage.performers))
        performer_weights.append(w / w.sum())
        performer_effect.append(rng.normal(0, 0.3, len(stage.performers)))
    week_effect = _week_effect_function(rng, window_start)

    n_from = round(commitments * 0.06)
    chain = _orders_to_commitments(
        rng,
        commitments - n_from,
        as_of=now,
        window_start=window_start,
        customer_weights=customer_weights,
        performer_effect=performer_effect,
        performer_weights=performer_weights,
        week_effect=week_effect,
    )
    promises = _customer_commitments(
        rng,
        n_from,
        as_of=now,
        window_start=window_start,
        customer_weights=customer_weights,
        performer_weights=performer_weights,
    )
    c = _concat_sorted(chain, promises)
    n = len(c.stage)
    delivered, breach, propagated = _status_at(c, now)
    accepted = np.where((c.accepted <= now) & (delivered != _NAT), c.accepted, _NAT)
    c.accepted = accepted
    surveys = _surveys(rng, c, delivered, breach, propagated, now)
    complaints = _complaints(rng, c, delivered, breach, propagated, now)
    notices = _notices(rng, c, delivered, now)

    width = max(6, len(str(n)))
    id_index = pa.array(_ids("CMP", np.arange(1, n + 1), width), pa.string())
    stage_names = [s.name for s in STAGES]
    customer_names = list(customers) + stage_names
    customer_labels = pa.array(customer_names, pa.string())
    performer_labels = pa.array(performer_names, pa.string())
    performer_code = performer_offset[c.stage] + c.performer
    # For customer promises the stage's performer follows up; the title says what is owed.
    order_width = max(6, len(str(int(c.order.max()) if n else 0)))
    stage_titles = np.array([s.title for s in STAGES])
    promise_titles = np.array([t for _, t in _CUSTOMER_PROMISES])

    def id_col(idx: np.ndarray) -> pa.Array:
        # The ids themselves (a take), not codes into the whole id dictionary: writing a
        # dictionary column costs its full dictionary per chunk, which made generation
        # quadratic (chunks and dictionary both grow with n).
        return id_index.take(pa.array(idx.astype(np.int64), mask=idx < 0))

    kinds = RECORD_KINDS
    counts: dict[str, int] = {}
    counts["processes"] = _write_csv(
        out_dir / "processes.csv",
        kinds["processes"].columns,
        [
            {
                "process": pa.array(stage_names),
                "stage_order": pa.array(range(1, _N_STAGES + 1)),
                "area": pa.array([s.area for s in STAGES]),
                "description": pa.array([s.description for s in STAGES]),
            }
        ],
        free_text=True,
    )

    def commitment_chunk(lo: int, hi: int) -> dict[str, pa.Array]:
        sl = slice(lo, hi)
        kind = c.promise_kind[sl]
        titles = np.where(
            kind < 0,
            np.strings.add(stage_titles[c.stage[sl]], _ids(" PED", c.order[sl], order_width)),
            promise_titles[np.maximum(kind, 0)],
        )
        return {
            "commitment_id": id_index[lo:hi],
            "title": pa.array(titles, pa.string()),
            "process": _labels(c.stage[sl], stage_names),
            "performer": _labels(performer_code[sl], performer_labels),
            "customer": _labels(c.customer[sl], customer_labels),
            "customer_type": _labels(c.external[sl].astype(np.int8), CUSTOMER_TYPES),
            "direction": _labels(c.from_customer[sl].astype(np.int8), DIRECTIONS),
            "requested_at": _timestamps(c.requested[sl]),
            "promised_at": _timestamps(c.promised[sl]),
            "due_at": _timestamps(c.due[sl]),
            "original_due_at": _timestamps(c.original_due[sl]),
            "delivered_at": _timestamps(delivered[sl]),
            "accepted_at": _timestamps(c.accepted[sl]),
            "cancelled": _labels(c.cancelled[sl].astype(np.int8), ("false", "true")),
        }

    counts["commitments"] = _write_csv(
        out_dir / "commitments.csv",
        # the sample carries explicit due dates, no service standards (priority, category)
        tuple(
            c
            for c in kinds["commitments"].columns
            if c not in ("priority", "category", "source_on_time")
        ),
        _row_chunks(n, commitment_chunk),
    )
    counts["dependencies"] = _write_csv(
        out_dir / "dependencies.csv",
        kinds["dependencies"].columns,
        _row_chunks(
            len(c.dep_down),
            lambda lo, hi: {
                "commitment_id": id_col(c.dep_down[lo:hi]),
                "depends_on": id_col(c.dep_up[lo:hi]),
            },
        ),
    )

    actor_names = pa.array(customer_names + performer_names, pa.string())

    def event_chunks() -> Iterator[dict[str, pa.Array]]:
        # Made per slice of commitments (about 4.5 events each), so the largest table
        # never exists whole in memory.
        step = max(1, _CHUNK_ROWS // 5)
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            events = _events(rng, c.rows(lo, hi), delivered[lo:hi], now)
            idx = events["commitment"] + lo
            actor_code = np.where(
                events["by_customer"], c.customer[idx], len(customer_names) + performer_code[idx]
            )
            yield {
                "commitment_id": id_col(idx),
                "stage": _labels(events["stage_code"], events["stage_names"].tolist()),
                "at": _timestamps(events["at"]),
                "actor": _labels(actor_code, actor_names),
            }

    # `seq` only numbers repeats of an identical event, which the sample never makes.
    event_columns = tuple(c for c in kinds["events"].columns if c not in ("seq", "log_order"))
    counts["events"] = _write_csv(out_dir / "events.csv", event_columns, event_chunks())

    tones = (_COMMENTS_GOOD, _COMMENTS_MIXED, _COMMENTS_BAD)
    all_comments = [t for group in tones for t in group]
    tone_offset = np.cumsum([0] + [len(g) for g in tones])
    tone = surveys["comment_tone"]
    tone_size = np.array([len(g) for g in tones])[np.maximum(tone, 0)]
    comment_code = np.where(
        tone >= 0, tone_offset[np.maximum(tone, 0)] + surveys["comment_pick"] % tone_size, -1
    )
    n_resp = len(surveys["commitment"])

    def survey_chunk(lo: int, hi: int) -> dict[str, pa.Array]:
        idx = surveys["commitment"][lo:hi]
        ids = _ids("RSP", np.arange(lo + 1, hi + 1), max(6, len(str(n_resp))))
        return {
            "response_id": pa.array(ids, pa.string()),
            "commitment_id": id_col(idx),
            "customer": _labels(c.customer[idx], customer_labels),
            "answered_at": _timestamps(surveys["answered"][lo:hi]),
            "csat": _integers(surveys["csat"][lo:hi]),
            "nps": _integers(surveys["nps"][lo:hi]),
            "comment": _labels(comment_code[lo:hi], all_comments),
        }

    counts["satisfaction"] = _write_csv(
        out_dir / "satisfaction.csv",
        kinds["satisfaction"].columns,
        _row_chunks(n_resp, survey_chunk),
        free_text=True,
    )
    n_compl = len(complaints["commitment"])

    def complaint_chunk(lo: int, hi: int) -> dict[str, pa.Array]:
        idx = complaints["commitment"][lo:hi]
        ids = _ids("RCL", np.arange(lo + 1, hi + 1), max(6, len(str(n_compl))))
        return {
            "complaint_id": pa.array(ids, pa.string()),
            "commitment_id": id_col(np.where(complaints["linked"][lo:hi], idx, -1)),
            "customer": _labels(c.customer[idx], customer_labels),
            "opened_at": _timestamps(complaints["opened"][lo:hi]),
            "resolved_at": _timestamps(complaints["resolved"][lo:hi]),
            "category": _labels(complaints["category"][lo:hi], _CATEGORIES),
            "severity": _labels(complaints["severity"][lo:hi], _SEVERITIES),
        }

    counts["complaints"] = _write_csv(
        out_dir / "complaints.csv",
        kinds["complaints"].columns,
        _row_chunks(n_compl, complaint_chunk),
    )
    counts["notices"] = _write_csv(
        out_dir / "notices.csv",
        kinds["notices"].columns,
        _row_chunks(
            len(notices["commitment"]),
            lambda lo, hi: {
                "commitment_id": id_col(notices["commitment"][lo:hi]),
                "sent_at": _timestamps(notices["sent"][lo:hi]),
                "channel": _labels(notices["channel"][lo:hi], _CHANNELS),
                "kind": _labels(notices["kind"][lo:hi], _NOTICE_KINDS),
            },
        ),
    )
    (out_dir / "dataset.toml").write_text(
        "\n".join(
            [
                "# Written by etl/sample.py: the evaluation instant and how to regenerate.",
                f'name = "{DATASET_NAME}"',
                f'as_of = "{as_of_dt:%Y-%m-%d %H:%M:%S}"',
                f"seed = {seed}",
                f"commitments = {n}",
                f'generator_version = "{GENERATOR_VERSION}"',
                "",
            ]
        ),
        encoding="utf-8",
    )
    return {
        "as_of": as_of_dt,
        "seed": seed,
        "commitments": n,
        "generator_version": GENERATOR_VERSION,
        "counts": counts,
        "out_dir": str(out_dir),
    }
