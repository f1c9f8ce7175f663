"""The sample generator: deterministic, complete, referentially sound and realistic.

Realism is checked with the metric contract of docs/design.md recomputed here in pandas (an
independent method from the generator's numpy internals): statuses at `as_of`, stage
on-time rates, breach propagation over the dependency graph, customer commitments kept.
"""

from __future__ import annotations

import re
import time
import tomllib
from collections import deque
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.sample import DEFAULT_AS_OF, STAGES, generate_sample
from etl.schema import RECORD_KINDS

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "sample"
FILES = (
    "processes",
    "commitments",
    "dependencies",
    "events",
    "satisfaction",
    "complaints",
    "notices",
)
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
TIME_COLUMNS = {
    "commitments": (
        "requested_at",
        "promised_at",
        "due_at",
        "original_due_at",
        "delivered_at",
        "accepted_at",
    ),
    "events": ("at",),
    "satisfaction": ("answered_at",),
    "complaints": ("opened_at", "resolved_at"),
    "notices": ("sent_at",),
}


def read_raw(directory: Path, kind: str) -> pd.DataFrame:
    """A generated file as strings, exactly as a reader without type sniffing sees it."""
    return pd.read_csv(directory / f"{kind}.csv", dtype=str, keep_default_na=False)


def read_typed(directory: Path) -> dict[str, pd.DataFrame]:
    """Every generated file with its timestamp columns parsed."""
    frames = {}
    for kind in FILES:
        frame = pd.read_csv(directory / f"{kind}.csv", dtype=str)
        for col in TIME_COLUMNS.get(kind, ()):
            frame[col] = pd.to_datetime(frame[col], format="%Y-%m-%d %H:%M:%S")
        frames[kind] = frame
    frames["commitments"]["cancelled"] = frames["commitments"]["cancelled"] == "true"
    for col in ("csat", "nps"):
        frames["satisfaction"][col] = pd.to_numeric(frames["satisfaction"][col])
    return frames


def statuses(c: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Status at as_of per docs/design.md: on_time / breach / pending, cancelled apart."""
    delivered = c["delivered_at"].where(c["delivered_at"] <= as_of)
    status = np.select(
        [
            c["cancelled"],
            delivered.notna() & (delivered <= c["due_at"]),
            delivered.notna() | (c["due_at"] < as_of),
        ],
        ["cancelled", "on_time", "breach"],
        default="pending",
    )
    return pd.Series(status, index=c["commitment_id"])


@pytest.fixture(scope="module")
def default_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample_default")
    generate_sample(out)
    return out


@pytest.fixture(scope="module")
def data(default_dir: Path) -> dict[str, pd.DataFrame]:
    return read_typed(default_dir)


@pytest.fixture(scope="module")
def status(data: dict[str, pd.DataFrame]) -> pd.Series:
    return statuses(data["commitments"], pd.Timestamp(DEFAULT_AS_OF))


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    generate_sample(a, commitments=700, seed=11)
    generate_sample(b, commitments=700, seed=11)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert names == sorted([f"{k}.csv" for k in FILES] + ["dataset.toml"])
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    generate_sample(tmp_path / "a", commitments=700, seed=11)
    generate_sample(tmp_path / "b", commitments=700, seed=12)
    for kind in ("commitments", "dependencies", "events"):
        a = (tmp_path / "a" / f"{kind}.csv").read_bytes()
        assert a != (tmp_path / "b" / f"{kind}.csv").read_bytes(), kind


def test_summary_and_dataset_toml_describe_the_files(tmp_path: Path) -> None:
    summary = generate_sample(tmp_path, commitments=300, seed=5)
    assert summary["seed"] == 5
    assert summary["commitments"] == 300
    assert summary["as_of"] == DEFAULT_AS_OF
    for kind in FILES:
        lines = (tmp_path / f"{kind}.csv").read_text(encoding="utf-8").splitlines()
        assert summary["counts"][kind] == len(lines) - 1, kind
    meta = tomllib.loads((tmp_path / "dataset.toml").read_text(encoding="utf-8"))
    assert meta == {
        "name": "eslabon-sample",
        "as_of": "2026-11-20 17:00:00",
        "seed": 5,
        "commitments": 300,
        "generator_version": summary["generator_version"],
    }


def test_headers_are_the_canonical_columns_and_required_cells_are_filled(default_dir: Path) -> None:
    for kind in FILES:
        header = (default_dir / f"{kind}.csv").read_text(encoding="utf-8").splitlines()[0]
        # no seq / log_order (numbered at load), no standards' columns (explicit dues)
        skip = {"seq", "log_order"}
        if kind == "commitments":
            skip |= {"priority", "category", "source_on_time"}
        expected = tuple(c for c in RECORD_KINDS[kind].columns if c not in skip)
        assert tuple(header.split(",")) == expected, kind
        raw = read_raw(default_dir, kind)
        for col in RECORD_KINDS[kind].required:
            assert (raw[col] != "").all(), (kind, col)


def test_timestamps_are_iso_wall_clock_on_working_days(default_dir: Path) -> None:
    for kind, cols in TIME_COLUMNS.items():
        raw = read_raw(default_dir, kind)
        for col in cols:
            values = raw.loc[raw[col] != "", col]
            assert values.str.match(TIMESTAMP).all(), (kind, col)
            parsed = pd.to_datetime(values, format="%Y-%m-%d %H:%M:%S")
            assert (parsed.dt.day_of_week < 5).all(), (kind, col)


def test_default_size_ids_and_chain(data: dict[str, pd.DataFrame]) -> None:
    c = data["commitments"]
    assert len(c) == 5000
    assert c["commitment_id"].is_unique
    assert c["commitment_id"].str.fullmatch(r"CMP-\d{6}").all()
    assert data["satisfaction"]["response_id"].str.fullmatch(r"RSP-\d{6}").all()
    assert data["satisfaction"]["response_id"].is_unique
    assert data["complaints"]["complaint_id"].str.fullmatch(r"RCL-\d{6}").all()
    assert data["complaints"]["complaint_id"].is_unique
    p = data["processes"]
    assert p["process"].tolist() == [s.name for s in STAGES]
    assert p["stage_order"].tolist() == [str(i) for i in range(1, 9)]
    assert p["area"].tolist() == [
        "Comercial",
        "Operaciones",
        "Abastecimiento",
        "Operaciones",
        "Calidad",
        "Operaciones",
        "Distribución",
        "Servicio al cliente",
    ]
    assert set(c["process"]) == set(p["process"])


def test_every_reference_resolves(data: dict[str, pd.DataFrame]) -> None:
    ids = set(data["commitments"]["commitment_id"])
    for kind, col in (
        ("dependencies", "commitment_id"),
        ("dependencies", "depends_on"),
        ("events", "commitment_id"),
        ("satisfaction", "commitment_id"),
        ("complaints", "commitment_id"),
        ("notices", "commitment_id"),
    ):
        refs = data[kind][col].dropna()
        assert len(refs) > 0, (kind, col)
        assert set(refs) <= ids, (kind, col)
    # Complaints: linked for most, a customer always.
    compl = data["complaints"]
    assert compl["customer"].notna().all()
    assert 0.8 < compl["commitment_id"].notna().mean() < 1.0


def test_keys_are_unique_as_the_loader_requires(data: dict[str, pd.DataFrame]) -> None:
    for kind in ("dependencies", "events", "notices"):
        key = [c for c in RECORD_KINDS[kind].key if c != "seq"]  # seq only numbers repeats
        assert not data[kind].duplicated(key).any(), kind
    # Stronger than the key: one instant per event of a commitment, so the log has one order.
    assert not data["events"].duplicated(["commitment_id", "at"]).any()
    deps = data["dependencies"]
    assert (deps["commitment_id"] != deps["depends_on"]).all()


def topological_order(nodes: set[str], edges: pd.DataFrame) -> list[str]:
    """Kahn's algorithm, independent of the generator: fewer nodes out than in = a cycle."""
    indegree = dict.fromkeys(nodes, 0)
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for down, up in zip(edges["commitment_id"], edges["depends_on"], strict=True):
        children[up].append(down)
        indegree[down] += 1
    queue = deque(n for n, d in indegree.items() if d == 0)
    out = []
    while queue:
        n = queue.popleft()
        out.append(n)
        for child in children[n]:
            indegree[child] -= 1
            if indegree[child] == 0:
                queue.append(child)
    return out


def test_dependencies_form_a_dag_of_chains_down_the_value_chain(
    data: dict[str, pd.DataFrame],
) -> None:
    c, deps = data["commitments"], data["dependencies"]
    nodes = set(c["commitment_id"])
    assert len(topological_order(nodes, deps)) == len(nodes)
    # Edges go downstream: the upstream's stage comes earlier in the chain.
    order = {s.name: i for i, s in enumerate(STAGES)}
    stage = c.set_index("commitment_id")["process"].map(order)
    assert (stage[deps["depends_on"]].to_numpy() < stage[deps["commitment_id"]].to_numpy()).all()
    # About one dependency per commitment, and some joins (two upstreams).
    assert 0.85 < len(deps) / len(c) < 1.1
    per_down = deps.groupby("commitment_id").size()
    assert per_down.max() == 2
    assert 0.05 < (per_down == 2).sum() / len(c) < 0.35


def test_topological_check_does_catch_a_cycle() -> None:
    edges = pd.DataFrame({"commitment_id": ["B", "C", "A"], "depends_on": ["A", "B", "C"]})
    assert len(topological_order({"A", "B", "C"}, edges)) < 3


def test_nothing_happens_after_as_of_and_dates_are_in_order(data: dict[str, pd.DataFrame]) -> None:
    as_of = pd.Timestamp(DEFAULT_AS_OF)
    c = data["commitments"]
    for col in ("requested_at", "promised_at", "delivered_at", "accepted_at"):
        assert (c[col].dropna() <= as_of).all(), col
    assert (data["events"]["at"] <= as_of).all()
    assert (data["satisfaction"]["answered_at"] <= as_of).all()
    assert (data["complaints"]["opened_at"] <= as_of).all()
    assert (data["complaints"]["resolved_at"].dropna() <= as_of).all()
    assert (data["notices"]["sent_at"] <= as_of).all()
    assert (c["requested_at"] < c["promised_at"]).all()
    assert (c["promised_at"] < c["due_at"]).all()
    delivered = c.dropna(subset=["delivered_at"])
    assert (delivered["delivered_at"] > delivered["promised_at"]).all()
    assert (c["accepted_at"].dropna() > c.loc[c["accepted_at"].notna(), "delivered_at"]).all()
    assert c.loc[c["cancelled"], "delivered_at"].isna().all()
    reneg = c.dropna(subset=["original_due_at"])
    assert (reneg["original_due_at"] < reneg["due_at"]).all()
    # 26 ISO weeks of due dates ending with as_of's week, plus up to two weeks ahead.
    assert c["due_at"].min() >= pd.Timestamp("2026-05-25")
    assert c["due_at"].max() <= as_of + pd.Timedelta(days=14)
    assert c["due_at"].dt.isocalendar().week.nunique() >= 27


def test_population_shares(data: dict[str, pd.DataFrame], status: pd.Series) -> None:
    c = data["commitments"]
    assert 0.01 < c["cancelled"].mean() < 0.03
    assert 0.05 < c["original_due_at"].notna().mean() < 0.11
    assert 0.04 < (c["direction"] == "from_customer").mean() < 0.08
    # Pending work exists, some of it already at risk (an upstream breached).
    deps = data["dependencies"]
    up_breach = deps["depends_on"].map(status).eq("breach").groupby(deps["commitment_id"]).any()
    pending = status[status == "pending"]
    assert len(pending) > 30
    assert up_breach.reindex(pending.index, fill_value=False).sum() > 0
    # Some overdue commitments are still undelivered at as_of.
    overdue_open = c["delivered_at"].isna() & c["commitment_id"].map(status).eq("breach")
    assert overdue_open.sum() > 5
    # External customers: many, Spanish names, Zipf-like volume; internal ones are stages.
    ext = c[c["customer_type"] == "external"]["customer"].value_counts()
    assert len(ext) > 100
    assert ext.iloc[0] > 10 * ext.iloc[-1]
    internal = set(c.loc[c["customer_type"] == "internal", "customer"])
    assert internal <= {s.name for s in STAGES}
    assert set(c.loc[c["process"].isin(["Entrega", "Postventa"]), "customer_type"]) == {"external"}
    performers = c.groupby("process")["performer"].nunique()
    assert performers.between(3, 8).all()


def test_stage_rates_differ_and_breaches_propagate(
    data: dict[str, pd.DataFrame], status: pd.Series
) -> None:
    c = data["commitments"]
    to_c = c[c["direction"] == "to_customer"].set_index("commitment_id")
    st_ = status[to_c.index]
    due_pop = st_[st_.isin(["on_time", "breach"])]
    rate = (due_pop == "on_time").groupby(to_c.loc[due_pop.index, "process"]).mean()
    assert 0.80 <= (due_pop == "on_time").mean() <= 0.90
    assert rate.max() - rate.min() > 0.08
    # Purchasing and logistics are the weak links (among the three lowest on-time rates).
    assert {"Compras", "Logística"} <= set(rate.nsmallest(3).index)

    deps = data["dependencies"]
    up_breach = deps["depends_on"].map(status).eq("breach").groupby(deps["commitment_id"]).any()
    with_up = due_pop[due_pop.index.isin(up_breach.index)]
    after_breach = with_up[up_breach[with_up.index].to_numpy()]
    after_on_time = with_up[~up_breach[with_up.index].to_numpy()]
    p_breach_given_breach = (after_breach == "breach").mean()
    p_breach_given_on_time = (after_on_time == "breach").mean()
    assert len(after_breach) > 200
    assert 0.5 <= p_breach_given_breach <= 0.75  # propagation rate; absorbed = the rest
    assert p_breach_given_breach > 3 * p_breach_given_on_time
    # Propagated breaches last longer than root breaches.
    as_of = pd.Timestamp(DEFAULT_AS_OF)
    breaches = to_c.loc[due_pop.index[due_pop == "breach"]]
    end = breaches["delivered_at"].fillna(as_of)
    delay = (end - breaches["due_at"]).dt.total_seconds() / 86400
    propagated = up_breach.reindex(breaches.index, fill_value=False)
    assert delay[propagated].median() > delay[~propagated].median()


def test_weekly_on_time_rate_moves(data: dict[str, pd.DataFrame], status: pd.Series) -> None:
    c = data["commitments"].set_index("commitment_id")
    keep = status.isin(["on_time", "breach"]) & (c["direction"] == "to_customer")
    week = c.loc[keep, "due_at"].dt.to_period("W")
    weekly = (status[keep] == "on_time").groupby(week).agg(["mean", "size"])
    weekly = weekly[weekly["size"] >= 50]
    assert len(weekly) >= 24
    assert weekly["mean"].max() - weekly["mean"].min() > 0.08


def test_customer_commitments_are_kept_less_often(
    data: dict[str, pd.DataFrame], status: pd.Series
) -> None:
    c = data["commitments"].set_index("commitment_id")
    st_ = status[status.isin(["on_time", "breach"])]
    direction = c.loc[st_.index, "direction"]
    kept = (st_ == "on_time").groupby(direction).mean()
    assert 0.55 < kept["from_customer"] < 0.78
    assert kept["from_customer"] < kept["to_customer"] - 0.1


def test_satisfaction_drops_after_breaches(
    data: dict[str, pd.DataFrame], status: pd.Series
) -> None:
    s, c = data["satisfaction"], data["commitments"]
    delivered = c["delivered_at"].notna().sum()
    assert 0.15 < len(s) / delivered < 0.30
    assert s["csat"].dropna().between(1, 5).all()
    assert s["nps"].dropna().between(0, 10).all()
    assert 0.05 < (s["csat"].isna() | s["nps"].isna()).mean() < 0.15
    assert not (s["csat"].isna() & s["nps"].isna()).any()
    assert 0.1 < s["comment"].notna().mean() < 0.6
    tied = s["commitment_id"].map(status)
    csat_ok = (s["csat"] >= 4).where(s["csat"].notna())
    by_status = csat_ok.groupby(tied).mean()
    assert by_status["on_time"] - by_status["breach"] > 0.2
    answered = s.merge(c[["commitment_id", "delivered_at", "customer_type"]], on="commitment_id")
    assert (answered["answered_at"] > answered["delivered_at"]).all()
    # External customers are asked more often than internal areas.
    share = answered["customer_type"].value_counts() / c["customer_type"].value_counts()
    assert share["external"] > share["internal"]


def test_complaints_follow_breaches_and_notices_come_before_and_after_due(
    data: dict[str, pd.DataFrame], status: pd.Series
) -> None:
    compl = data["complaints"]
    linked = compl.dropna(subset=["commitment_id"])
    counts = linked["commitment_id"].map(status).value_counts()
    population = status.value_counts()
    assert (
        counts["breach"] / population["breach"]
        > 5 * counts.get("on_time", 0) / population["on_time"]
    )
    assert set(compl["category"]) == {"Plazo", "Calidad", "Atención", "Facturación"}
    assert set(compl["severity"]) == {"baja", "media", "alta"}
    assert 0 < compl["resolved_at"].isna().mean() < 0.3
    assert (
        compl["resolved_at"].dropna() > compl.loc[compl["resolved_at"].notna(), "opened_at"]
    ).all()

    n = data["notices"].merge(data["commitments"][["commitment_id", "due_at"]], on="commitment_id")
    before = n["sent_at"] < n["due_at"]
    assert before.sum() > 20
    assert (~before).sum() > 20
    assert set(n.loc[before, "kind"]) == {"aviso_previo"}
    assert set(n.loc[~before, "kind"]) == {"aviso_retraso"}
    assert set(n["channel"]) == {"email", "teléfono", "portal"}
    breaches = status[status == "breach"].index
    proactive = breaches.isin(n.loc[before, "commitment_id"]).mean()
    assert 0.05 < proactive < 0.6


def test_events_tell_each_commitments_cycle(data: dict[str, pd.DataFrame]) -> None:
    ev, c = data["events"], data["commitments"]
    assert 3.5 < len(ev) / len(c) < 5.0
    assert set(ev["stage"]) == {
        "Solicitud",
        "Promesa",
        "Ejecución",
        "Revisión",
        "Renegociación",
        "Entrega",
        "Aceptación",
        "Cancelación",
    }
    ordered = ev.sort_values(["commitment_id", "at"], kind="stable")
    first = ordered.groupby("commitment_id")["stage"].first()
    assert (first == "Solicitud").all()
    assert len(first) == len(c)
    # Event times are the commitment's own dates.
    merged = ev.merge(c, on="commitment_id")
    for stage, col in (
        ("Solicitud", "requested_at"),
        ("Promesa", "promised_at"),
        ("Entrega", "delivered_at"),
        ("Aceptación", "accepted_at"),
    ):
        rows = merged[merged["stage"] == stage]
        assert (rows["at"] == rows[col]).all(), stage
    assert (merged.groupby("stage")["actor"].apply(lambda a: a.notna().all())).all()
    # Rework loops: Revisión is followed by Ejecución in the directly-follows pairs.
    nxt = ordered.groupby("commitment_id")["stage"].shift(-1)
    pairs = pd.Series(list(zip(ordered["stage"], nxt, strict=True))).value_counts()
    assert pairs[("Revisión", "Ejecución")] > 20
    assert pairs[("Ejecución", "Revisión")] > 20


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.integers(min_value=10, max_value=400),
    seed=st.integers(0, 2**32 - 1),
    as_of=st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31)),
)
def test_any_seed_size_and_as_of_gives_exactly_that_many_sound_commitments(
    tmp_path_factory: pytest.TempPathFactory, size: int, seed: int, as_of: datetime
) -> None:
    out = tmp_path_factory.mktemp("hyp")
    summary = generate_sample(out, commitments=size, seed=seed, as_of=as_of)
    frames = read_typed(out)
    c, ev = frames["commitments"], frames["events"]
    cut = pd.Timestamp(as_of.replace(microsecond=0))
    assert summary["commitments"] == len(c) == size
    ids = set(c["commitment_id"])
    for kind in ("dependencies", "events", "satisfaction", "complaints", "notices"):
        assert set(frames[kind]["commitment_id"].dropna()) <= ids
    assert set(frames["dependencies"]["depends_on"]) <= ids
    assert len(topological_order(ids, frames["dependencies"])) == size
    assert (c["delivered_at"].dropna() <= cut).all()
    assert (c["promised_at"] <= cut).all()
    assert (ev["at"] <= cut).all()
    assert not ev.duplicated(["commitment_id", "at"]).any()
    first = ev.sort_values(["commitment_id", "at"]).groupby("commitment_id")["stage"].first()
    assert (first == "Solicitud").all()


def test_other_as_of_moves_the_window(tmp_path: Path) -> None:
    as_of = pd.Timestamp("2025-03-12 10:30:00")
    generate_sample(tmp_path, commitments=500, as_of=as_of.to_pydatetime())
    c = read_typed(tmp_path)["commitments"]
    assert (c["delivered_at"].dropna() <= as_of).all()
    assert c["due_at"].max() <= as_of + pd.Timedelta(days=14)
    assert c["due_at"].min() >= as_of - pd.Timedelta(weeks=26)
    meta = tomllib.loads((tmp_path / "dataset.toml").read_text(encoding="utf-8"))
    assert meta["as_of"] == "2025-03-12 10:30:00"


def test_too_small_a_sample_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 10"):
        generate_sample(tmp_path, commitments=3)


def test_shipped_sample_is_what_the_defaults_generate(default_dir: Path) -> None:
    shipped = sorted(p.name for p in SHIPPED.iterdir())
    assert shipped == sorted(p.name for p in default_dir.iterdir())
    for name in shipped:
        assert (SHIPPED / name).read_bytes() == (default_dir / name).read_bytes(), (
            f"data/sample/{name} is stale: regenerate with `python -m etl sample data/sample`"
        )


@pytest.mark.slow
def test_hundred_thousand_commitments(tmp_path: Path) -> None:
    started = time.perf_counter()
    summary = generate_sample(tmp_path, commitments=100_000, seed=3)
    print(f"100k sample in {time.perf_counter() - started:.1f} s: {summary['counts']}")
    counts = summary["counts"]
    assert counts["commitments"] == 100_000
    assert 0.85 < counts["dependencies"] / 100_000 < 1.1
    assert 3.5 < counts["events"] / 100_000 < 5.0
    assert 0.15 < counts["satisfaction"] / 100_000 < 0.25
    ids = pd.read_csv(tmp_path / "commitments.csv", usecols=["commitment_id"])["commitment_id"]
    assert ids.is_unique
    assert ids.iloc[-1] == "CMP-100000"
    # Several write chunks and event slices: still byte-identical on a second run.
    again = tmp_path / "again"
    generate_sample(again, commitments=100_000, seed=3)
    for kind in FILES:
        name = f"{kind}.csv"
        assert (tmp_path / name).read_bytes() == (again / name).read_bytes(), name
