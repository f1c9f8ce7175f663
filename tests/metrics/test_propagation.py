"""Breach propagation worked by hand on small graphs, on DuckDB and PostgreSQL.

Every expected number below is counted by hand from the drawing in the test's comment.
Edges read "downstream <- upstream": C <- B means C depends on B.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.metrics import process_map
from dashboard.metrics.filters import MetricFilter
from dashboard.metrics.propagation import (
    ImpactTotals,
    at_risk_commitments,
    breach_classification_sql,
    breach_flows,
    breach_roots,
    contagion_lift,
    impact_pareto,
    impact_totals,
    impact_tree,
    lift_band,
    propagation_summary,
    root_impact,
)
from tests.factories import commitment, insert_rows

AS_OF = datetime(2026, 3, 10, 12, 0)
F = MetricFilter(as_of=AS_OF)
DUE = datetime(2026, 3, 2)
ON_TIME = datetime(2026, 3, 1)  # delivered before DUE
LATE = datetime(2026, 3, 4)  # delivered 2 days after DUE
FUTURE = datetime(2026, 3, 20)  # due after AS_OF: pending while open


def ok(cid: str, **kw: object) -> dict:
    """A commitment delivered on time."""
    return commitment(cid, DUE, ON_TIME, **kw)


def late(cid: str, **kw: object) -> dict:
    """A commitment delivered 2 days late (a breach)."""
    return commitment(cid, DUE, LATE, **kw)


def pending(cid: str, **kw: object) -> dict:
    """An open commitment not yet due at AS_OF."""
    return commitment(cid, FUTURE, None, **kw)


def edges(*pairs: str) -> list[dict]:
    """Dependency rows from "D<-U" strings."""
    out = []
    for pair in pairs:
        down, up = pair.split("<-")
        out.append({"commitment_id": down, "depends_on": up})
    return out


def load(engine: sa.Engine, rows: list[dict], deps: list[dict]) -> None:
    insert_rows(engine, "commitments", rows)
    insert_rows(engine, "dependencies", deps)


def classification(engine: sa.Engine, f: MetricFilter = F) -> pd.DataFrame:
    sql, params = breach_classification_sql(f)
    with engine.connect() as conn:
        df = pd.read_sql(sa.text(sql), conn, params=params)
    return df.set_index("commitment_id").sort_index()


def summary(engine: sa.Engine, f: MetricFilter = F) -> dict:
    with engine.connect() as conn:
        df = propagation_summary(conn, f)
    assert len(df) == 1
    return df.iloc[0].to_dict()


def roots_of(engine: sa.Engine, f: MetricFilter = F) -> dict[str, set[str]]:
    with engine.connect() as conn:
        df = breach_roots(conn, f)
    out: dict[str, set[str]] = {}
    for cid, root in zip(df["commitment_id"], df["root_id"], strict=True):
        out.setdefault(cid, set()).add(root)
    return out


def test_chain_root_propagated_absorbed(engine: sa.Engine) -> None:
    # A (on time) <- B (late, root) <- C (late, propagated) <- D (on time, absorbed)
    load(engine, [ok("A"), late("B"), late("C"), ok("D")], edges("B<-A", "C<-B", "D<-C"))
    k = classification(engine)
    assert k["status"].to_dict() == {"A": "on_time", "B": "breach", "C": "breach", "D": "on_time"}
    assert k["breach_kind"].fillna("-").to_dict() == {
        "A": "-",
        "B": "root",
        "C": "propagated",
        "D": "-",
    }
    assert k["has_breached_upstream"].astype(bool).to_dict() == {
        "A": False,
        "B": False,
        "C": True,
        "D": True,
    }
    assert k["absorbed"].astype(bool).to_dict() == {"A": False, "B": False, "C": False, "D": True}
    s = summary(engine)
    assert {key: s[key] for key in ("breaches", "root_breaches", "propagated_breaches")} == {
        "breaches": 2,
        "root_breaches": 1,
        "propagated_breaches": 1,
    }
    # exposed: C and D have a breached direct upstream; C propagated, D absorbed
    assert (s["exposed"], s["absorbed"], s["at_risk"]) == (2, 1, 0)
    assert s["propagation_rate"] == 0.5 and s["absorption_rate"] == 0.5
    assert roots_of(engine) == {"C": {"B"}}


def test_diamond_has_two_roots_and_impact_counts_customers(engine: sa.Engine) -> None:
    # R1 <- M1 <- X,  R2 <- M2 <- X, all late; R1, R2 roots; X has roots {R1, R2}.
    # Y <- R1 only (late, customer Zeta internal). Customers of M1, M2, X external.
    load(
        engine,
        [
            late("R1", customer="Alfa"),
            late("R2", customer="Beta"),
            late("M1", customer="Gamma"),
            late("M2", customer="Alfa"),
            late("X", customer="Gamma"),
            late("Y", customer="Zeta", customer_type="internal"),
        ],
        edges("M1<-R1", "M2<-R2", "X<-M1", "X<-M2", "Y<-R1"),
    )
    assert roots_of(engine) == {"M1": {"R1"}, "M2": {"R2"}, "X": {"R1", "R2"}, "Y": {"R1"}}
    s = summary(engine)
    assert (s["breaches"], s["root_breaches"], s["propagated_breaches"]) == (6, 2, 4)
    with engine.connect() as conn:
        imp = root_impact(conn, F).set_index("root_id")
        top = root_impact(conn, F, limit=1)
    # R1 is root of M1, X, Y (3); external customers touched: Gamma (M1, X); Zeta is
    # internal; R1's own customer Alfa is not a knock-on victim of R1.
    # R2 is root of M2, X (2); external: Alfa (M2), Gamma (X).
    assert imp.loc["R1", "impact"] == 3
    assert imp.loc["R1", "external_customers"] == 1
    assert imp.loc["R1", "external_customer_names"] == "Gamma"
    assert imp.loc["R2", "impact"] == 2
    assert imp.loc["R2", "external_customers"] == 2
    assert imp.loc["R2", "external_customer_names"] == "Alfa, Gamma"
    assert list(imp.index) == ["R1", "R2"]
    assert imp.loc["R1", "delay_days"] == 2.0
    assert list(top["root_id"]) == ["R1"]


def test_root_with_no_propagated_breach_has_impact_zero(engine: sa.Engine) -> None:
    load(engine, [late("A"), ok("B")], edges("B<-A"))
    with engine.connect() as conn:
        imp = root_impact(conn, F)
    assert imp[["root_id", "impact", "external_customers", "external_customer_names"]].to_dict(
        "records"
    ) == [{"root_id": "A", "impact": 0, "external_customers": 0, "external_customer_names": ""}]


def test_breach_with_pending_upstream_is_a_root(engine: sa.Engine) -> None:
    # P is open and not yet due: not a breach, so the late B that needs it is a root.
    load(engine, [pending("P"), late("B")], edges("B<-P"))
    k = classification(engine)
    assert k.loc["B", "breach_kind"] == "root"
    assert not bool(k.loc["B", "has_breached_upstream"])
    assert "P" not in k.index  # pending: not in the due population
    s = summary(engine)
    assert (s["root_breaches"], s["propagated_breaches"], s["exposed"]) == (1, 0, 0)
    assert s["propagation_rate"] is None and s["absorption_rate"] is None
    assert roots_of(engine) == {}


def test_cancelled_upstream_is_ignored(engine: sa.Engine) -> None:
    load(engine, [late("U", cancelled=True), late("D")], edges("D<-U"))
    assert classification(engine).loc["D", "breach_kind"] == "root"


def test_upstream_outside_filter_period_and_process_still_counts(engine: sa.Engine) -> None:
    # U: Compras, due in February, late. D: Logística, due in March, late, needs U.
    load(
        engine,
        [
            commitment("U", datetime(2026, 2, 10), datetime(2026, 2, 13), process="Compras"),
            commitment("D", DUE, LATE, process="Logística"),
        ],
        edges("D<-U"),
    )
    f = F.with_(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31), processes=("Logística",))
    k = classification(engine, f)
    assert list(k.index) == ["D"]
    assert k.loc["D", "breach_kind"] == "propagated"
    assert roots_of(engine, f) == {"D": {"U"}}
    s = summary(engine, f)
    assert (s["breaches"], s["root_breaches"], s["propagated_breaches"]) == (1, 0, 1)
    # The root is outside this view, so the view's impact ranking lists no root ...
    with engine.connect() as conn:
        assert root_impact(conn, f).empty
        # ... while the Compras view shows U with its knock-on harm in Logística.
        imp = root_impact(conn, F.with_(processes=("Compras",)))
    assert imp[["root_id", "impact"]].to_dict("records") == [{"root_id": "U", "impact": 1}]


def test_open_overdue_upstream_is_a_breach_and_as_of_matters(engine: sa.Engine) -> None:
    # U is still open, due 03-02: a breach at AS_OF. D delivered late on 03-04.
    load(engine, [commitment("U", DUE), late("D")], edges("D<-U"))
    assert classification(engine).loc["D", "breach_kind"] == "propagated"
    # On 03-01 neither is due yet: nothing in the due population.
    s = summary(engine, F.with_(as_of=datetime(2026, 3, 1)))
    assert (s["breaches"], s["exposed"]) == (0, 0)


def test_at_risk_with_predicted_delivery(engine: sa.Engine) -> None:
    # P (pending, due 03-20) needs U1 (delivered 2 days late), U2 (open, due 03-06:
    # 4.5 days late at AS_OF 03-10 12:00) and U3 (on time). Q (pending) needs only U3.
    load(
        engine,
        [
            pending("P", title="Montaje"),
            late("U1"),
            commitment("U2", datetime(2026, 3, 6)),
            ok("U3"),
            pending("Q"),
        ],
        edges("P<-U1", "P<-U2", "P<-U3", "Q<-U3"),
    )
    with engine.connect() as conn:
        risk = at_risk_commitments(conn, F)
    assert list(risk["commitment_id"]) == ["P"]
    row = risk.iloc[0]
    assert row["title"] == "Montaje"
    assert row["breached_upstreams"] == "U1, U2"
    assert row["max_upstream_delay_days"] == 4.5
    assert row["predicted_delivery"] == pd.Timestamp(2026, 3, 24, 12, 0)
    assert summary(engine)["at_risk"] == 1


def test_contagion_lift_by_hand(engine: sa.Engine) -> None:
    # Compras -> Producción edges: 4 with a late upstream (3 downstream late),
    # 4 with an on-time upstream (1 downstream late). p1 = 3/4, p0 = 1/4, lift = 3.
    # Ignored: an edge from a pending upstream, an edge into a pending downstream.
    # Producción -> Logística: 1 edge, late upstream, late downstream; no on-time edge.
    c, p, g = {"process": "Compras"}, {"process": "Producción"}, {"process": "Logística"}
    rows = [late(f"UB{i}", **c) for i in range(4)] + [ok(f"UO{i}", **c) for i in range(4)]
    rows += [late(f"DB{i}", **p) for i in range(3)] + [ok("DB3", **p)]
    rows += [late("DO0", **p)] + [ok(f"DO{i}", **p) for i in range(1, 4)]
    rows += [pending("UP", **c), pending("DP", **p), late("L", **g)]
    deps = [f"DB{i}<-UB{i}" for i in range(4)] + [f"DO{i}<-UO{i}" for i in range(4)]
    deps += ["DO1<-UP", "DP<-UB0", "L<-DB0"]
    load(engine, rows, edges(*deps))
    with engine.connect() as conn:
        lift = contagion_lift(conn, F).set_index(["upstream_process", "downstream_process"])
        flows = breach_flows(conn, F)
    cp = lift.loc[[("Compras", "Producción")]].iloc[0]
    assert cp["pairs_upstream_breach"] == 4
    assert cp["downstream_breach_given_upstream_breach"] == 3
    assert cp["pairs_upstream_on_time"] == 4
    assert cp["downstream_breach_given_upstream_on_time"] == 1
    assert cp["p_breach_given_breach"] == 0.75
    assert cp["p_breach_given_on_time"] == 0.25
    assert cp["lift"] == 3.0
    pl = lift.loc[[("Producción", "Logística")]].iloc[0]
    assert (pl["pairs_upstream_breach"], pl["pairs_upstream_on_time"]) == (1, 0)
    assert pl["p_breach_given_breach"] == 1.0
    assert pl["p_breach_given_on_time"] is None and pl["lift"] is None
    assert len(lift) == 2
    assert flows.to_dict("records") == [
        {
            "upstream_process": "Compras",
            "downstream_process": "Producción",
            "breaches": 3,
            "edges": 3,
        },
        {
            "upstream_process": "Producción",
            "downstream_process": "Logística",
            "breaches": 1,
            "edges": 1,
        },
    ]


def test_impact_tree_depths(engine: sa.Engine) -> None:
    # R <- A <- B <- C and R <- C directly (all late); O on time needs A (not a breach edge).
    load(
        engine,
        [late("R"), late("A"), late("B"), late("C"), ok("O", process="Compras")],
        edges("A<-R", "B<-A", "C<-B", "C<-R", "O<-A"),
    )
    with engine.connect() as conn:
        tree = impact_tree(conn, F, "R")
        none = impact_tree(conn, F, "O")
    assert tree[["commitment_id", "depends_on", "depth"]].to_dict("records") == [
        {"commitment_id": "A", "depends_on": "R", "depth": 1},
        {"commitment_id": "C", "depends_on": "B", "depth": 1},
        {"commitment_id": "C", "depends_on": "R", "depth": 1},
        {"commitment_id": "B", "depends_on": "A", "depth": 2},
    ]
    assert set(tree["status"]) == {"breach"}
    assert none.empty


def test_cycle_never_loops(engine: sa.Engine) -> None:
    # The loader rejects cycles; the metrics must still end if one slips in.
    # R <- X <- Y <- X (X and Y form a cycle), all late; Z late needs only Y.
    load(
        engine, [late("R"), late("X"), late("Y"), late("Z")], edges("X<-R", "X<-Y", "Y<-X", "Z<-Y")
    )
    assert roots_of(engine) == {"X": {"R"}, "Y": {"R"}, "Z": {"R"}}
    with engine.connect() as conn:
        tree = impact_tree(conn, F, "R")
        imp = root_impact(conn, F)
    assert dict(
        zip(tree["commitment_id"] + "<-" + tree["depends_on"], tree["depth"], strict=True)
    ) == {
        "X<-R": 1,
        "X<-Y": 1,
        "Y<-X": 2,
        "Z<-Y": 3,
    }
    assert imp[["root_id", "impact"]].to_dict("records") == [{"root_id": "R", "impact": 3}]


def test_summary_grouped_by_process(engine: sa.Engine) -> None:
    # Compras: U late (root). Producción: D late (propagated), E on time (absorbed),
    # P pending at risk. Logística: only a pending commitment with no upstream.
    load(
        engine,
        [
            late("U", process="Compras"),
            late("D", process="Producción"),
            ok("E", process="Producción"),
            pending("P", process="Producción"),
            pending("L", process="Logística"),
        ],
        edges("D<-U", "E<-U", "P<-U"),
    )
    with engine.connect() as conn:
        df = propagation_summary(conn, F.with_(group_by="process"))
    df = df.set_index("group_key")
    assert list(df.index) == ["Compras", "Logística", "Producción"]
    assert list(df.loc["Compras", ["breaches", "root_breaches", "exposed"]]) == [1, 1, 0]
    assert df.loc["Compras", "propagation_rate"] is None
    assert list(df.loc["Logística", ["breaches", "at_risk"]]) == [0, 0]
    prod = df.loc["Producción"]
    assert (prod["breaches"], prod["propagated_breaches"], prod["exposed"]) == (1, 1, 2)
    assert (prod["absorbed"], prod["at_risk"]) == (1, 1)
    assert prod["propagation_rate"] == 0.5


def test_empty_database_gives_one_row_of_zeros(engine: sa.Engine) -> None:
    s = summary(engine)
    assert s["group_key"] is None
    assert (s["breaches"], s["exposed"], s["at_risk"]) == (0, 0, 0)
    assert s["propagation_rate"] is None and s["absorption_rate"] is None
    with engine.connect() as conn:
        assert breach_roots(conn, F).empty
        assert root_impact(conn, F).empty
        assert contagion_lift(conn, F).empty
        assert at_risk_commitments(conn, F).empty


@pytest.mark.parametrize("direction", ["to_customer", "from_customer"])
def test_direction_picks_rows_but_graph_spans_both(engine: sa.Engine, direction: str) -> None:
    # The customer's late form (from_customer) is upstream of our late delivery.
    load(engine, [late("FORM", direction="from_customer"), late("OURS")], edges("OURS<-FORM"))
    k = classification(engine, F.with_(direction=direction))
    if direction == "to_customer":
        assert k["breach_kind"].to_dict() == {"OURS": "propagated"}
    else:
        assert k["breach_kind"].to_dict() == {"FORM": "root"}


# --- the shipped sample on both backends -------------------------------------------

SAMPLE = Path(__file__).resolve().parent.parent.parent / "data" / "sample"


def _plain(value: object) -> object:
    """A comparable value: NaN/NA/NaT as None, times as ISO text, numpy scalars as Python."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).isoformat()
    return value.item() if hasattr(value, "item") else value


def _same(left: object, right: object) -> bool:
    """Equal; floats to 1e-9 (PostgreSQL does the epoch arithmetic in numeric)."""
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)
    return left == right


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in df.to_dict("records")]


CHAIN_FUNCTIONS: dict[str, Callable[[sa.Connection, MetricFilter], pd.DataFrame]] = {
    "propagation_summary": propagation_summary,
    "breach_roots": breach_roots,
    "root_impact": root_impact,
    "contagion_lift": contagion_lift,
    "breach_flows": breach_flows,
    "at_risk_commitments": at_risk_commitments,
    "directly_follows": process_map.directly_follows,
    "stage_durations": process_map.stage_durations,
    "process_chain": process_map.process_chain,
    "process_dependency_flows": process_map.process_dependency_flows,
}


@pytest.mark.postgres
def test_sample_gives_the_same_numbers_on_both_backends(
    sample_engines: tuple[sa.Engine, sa.Engine],
) -> None:
    duck, pg = sample_engines
    as_of = datetime.fromisoformat(tomllib.loads((SAMPLE / "dataset.toml").read_text())["as_of"])
    base = MetricFilter(as_of=as_of)
    filters = [
        base,
        base.with_(group_by="week"),
        base.with_(group_by="process"),
        base.with_(date_from=date(2026, 10, 1), date_to=date(2026, 11, 15), processes=("Compras",)),
        base.with_(customer_types=("external",), group_by="customer_type"),
    ]
    compared = 0
    for f in filters:
        for name, fn in CHAIN_FUNCTIONS.items():
            with duck.connect() as conn:
                left = _records(fn(conn, f))
            with pg.connect() as conn:
                right = _records(fn(conn, f))
            assert len(left) == len(right), (name, f)
            for a, b in zip(left, right, strict=True):
                assert a.keys() == b.keys()
                bad = {k: (a[k], b[k]) for k in a if not _same(a[k], b[k])}
                assert not bad, (name, f.describe(), bad)
            compared += len(left)
        with duck.connect() as conn:
            top = root_impact(conn, f, limit=1)
        if not top.empty:
            root = str(top.iloc[0]["root_id"])
            with duck.connect() as conn:
                left = _records(impact_tree(conn, f, root))
            with pg.connect() as conn:
                right = _records(impact_tree(conn, f, root))
            assert left == right
    # the sample exercises the chain: roots, propagated breaches and a process map
    with duck.connect() as conn:
        s = propagation_summary(conn, base).iloc[0]
        pairs = process_map.directly_follows(conn, base)
    assert s["root_breaches"] > 0 and s["propagated_breaches"] > 0 and s["absorbed"] > 0
    assert len(pairs) > 0 and compared > 100


def _roots(impacts: list[int]) -> pd.DataFrame:
    """A root_impact-shaped frame, ranked as root_impact ranks it."""
    return pd.DataFrame(
        {"root_id": [f"r{i}" for i in range(1, len(impacts) + 1)], "impact": impacts}
    ).sort_values(["impact", "root_id"], ascending=[False, True])


def test_impact_totals() -> None:
    """Roots with impacts 1, 6, 0, 3, 0: five roots, three with impact, 10 in all, 6 the
    largest; no roots at all: zeros and no largest."""
    assert impact_totals(_roots([1, 6, 0, 3, 0])) == ImpactTotals(5, 3, 10, 6)
    assert impact_totals(_roots([0, 0])) == ImpactTotals(2, 0, 0, 0)
    assert impact_totals(_roots([])) == ImpactTotals(0, 0, 0, None)


def test_impact_pareto_shares_are_of_every_root_with_impact() -> None:
    """Impacts 1, 6, 0, 3, 3 (total 13): the top three are r2 (6), r4 and r5 (3 each, by
    id), shares 6/13, 3/13, 3/13, cumulative 6/13, 9/13, 12/13 — r1's 1/13 is not shown."""
    top = impact_pareto(_roots([1, 6, 0, 3, 3]), 3)
    assert top["root_id"].tolist() == ["r2", "r4", "r5"]
    assert top["share"].tolist() == pytest.approx([6 / 13, 3 / 13, 3 / 13])
    assert top["cumulative_share"].tolist() == pytest.approx([6 / 13, 9 / 13, 12 / 13])
    assert impact_pareto(_roots([0, 0]), 3).empty


@pytest.mark.parametrize(
    ("lift", "band"),
    [(None, None), (math.nan, None), ("x", None), (0.0, "low"), (1.99, "low"), (2.0, "mid"),
     (9.99, "mid"), (10.0, "high"), (26.5, "high")],
)  # fmt: skip
def test_lift_bands(lift: object, band: str | None) -> None:
    assert lift_band(lift) == band


def test_at_risk_scope_drops_only_the_period() -> None:
    """Cadena's at-risk list: every open commitment of the page's rows, any due date."""
    from dashboard.metrics.filters import MetricFilter
    from dashboard.metrics.propagation import at_risk_scope

    f = MetricFilter(
        as_of=datetime(2024, 4, 2, 9, 0),
        date_from=date(2024, 1, 1),
        date_to=date(2024, 3, 31),
        processes=("Compras",),
    )
    widened = at_risk_scope(f)
    assert (widened.date_from, widened.date_to) == (None, None)
    assert widened.processes == ("Compras",)
    assert widened.as_of == f.as_of
