"""Row-level access at the metric level (DuckDB and PostgreSQL, the `engine` fixture).

Three independent checks of one rule, "a scoped user's numbers are the numbers of their
rows only, as if the other rows did not exist":

1. hand-worked values on tests/scope_world.py;
2. every metric function computed with the scope equals the same function computed
   without a scope on a database from which the out-of-scope rows were deleted;
3. the scope cannot be widened: `with_` refuses it, `within` only narrows, and a URL-made
   filter on a hidden stage or customer finds nothing (Hypothesis for the intersection).
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from dashboard.metrics import (
    complaints,
    kpis,
    notices,
    ontime,
    process_map,
    propagation,
    satisfaction,
    targets,
    trends,
)
from dashboard.metrics.filters import EVERYTHING, MetricFilter, RowScope
from dashboard.records.actions import actions_for_week
from dashboard.records.targets import target_history, targets_csv
from dashboard.services.calendar_feed import calendar_feed
from dashboard.services.notice_drafts import notice_candidates
from dashboard.services.review import weekly_review
from dashboard.services.tracking import commitment_tracking, search_commitments
from tests.scope_world import AS_OF, SCOPE, SECRETS, VISIBLE_IDS, delete_outside, load_scope_world

MARCH = MetricFilter(as_of=AS_OF, date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))


@pytest.fixture
def world(engine: sa.Engine) -> sa.Engine:
    load_scope_world(engine)
    return engine


def _scoped(f: MetricFilter = MARCH) -> MetricFilter:
    return f.within(SCOPE)


# --- 1. hand-worked -------------------------------------------------------------------


def test_on_time_numbers_are_those_of_the_allowed_rows(world: sa.Engine) -> None:
    with world.connect() as conn:
        row = ontime.on_time_summary(conn, _scoped()).iloc[0]
        everyone = ontime.on_time_summary(conn, MARCH).iloc[0]
        listed = ontime.commitment_list(conn, _scoped(MARCH.with_(date_to=None)))
    assert (row["due"], row["on_time"], row["breaches"], row["pending"]) == (3, 1, 2, 0)
    assert row["on_time_rate"] == pytest.approx(1 / 3)
    assert row["median_delay_days"] == pytest.approx(6.5)
    assert row["p90_delay_days"] == pytest.approx(10.1)
    assert everyone["due"] == 7  # the rest exists: a leak would show
    assert sorted(listed["commitment_id"]) == list(VISIBLE_IDS)
    v1 = listed.set_index("commitment_id").loc["OK-V1"]
    assert v1["upstreams"] is None and v1["upstream_breaches"] == 0  # X-COMP-1 unnamed


def test_propagation_counts_only_within_the_scope(world: sa.Engine) -> None:
    """OK-V1's upstream X-COMP-1 is a hidden breach: for the scoped user OK-V1 is a root."""
    with world.connect() as conn:
        mine = propagation.propagation_summary(conn, _scoped(MARCH.with_(date_to=None))).iloc[0]
        all_ = propagation.propagation_summary(conn, MARCH.with_(date_to=None)).iloc[0]
        roots = propagation.root_impact(conn, _scoped())
        risk = propagation.at_risk_commitments(conn, _scoped(MARCH.with_(date_to=None)))
        tree = propagation.impact_tree(conn, _scoped(), "X-COMP-1")
    assert (mine["root_breaches"], mine["propagated_breaches"], mine["absorbed"]) == (1, 1, 1)
    assert (mine["exposed"], mine["at_risk"]) == (2, 1)
    assert mine["propagation_rate"] == pytest.approx(0.5)
    assert all_["propagation_rate"] == pytest.approx(3 / 4)
    assert list(roots["root_id"]) == ["OK-V1"] and list(roots["impact"]) == [1]
    assert list(risk["commitment_id"]) == ["OK-V4"]
    assert tree.empty  # a hidden root has no tree, whatever id is asked for


def test_satisfaction_complaints_notices_are_scoped(world: sa.Engine) -> None:
    with world.connect() as conn:
        sat = satisfaction.satisfaction_summary(conn, _scoped()).iloc[0]
        comments = satisfaction.survey_comments(conn, _scoped())
        cost = satisfaction.breach_cost(conn, _scoped())
        comp = complaints.complaints_summary(conn, _scoped()).iloc[0]
        note = notices.proactive_notice_summary(conn, _scoped()).iloc[0]
    assert (sat["responses"], sat["csat_pct"], sat["nps"]) == (2, 0.5, 0.0)
    assert sorted(comments["response_id"]) == ["S1", "S2"]
    assert (cost["csat_pct_on_time"], cost["csat_pct_breach"]) == (1.0, 0.0)
    assert (comp["complaints"], comp["due"]) == (1, 3)
    assert comp["complaints_per_100"] == pytest.approx(100 / 3)
    assert (note["breaches"], note["proactive"]) == (2, 1)


def test_customer_only_scope_keeps_its_unattributed_answers(world: sa.Engine) -> None:
    """Scoped to Acme alone, the answer without a commitment filed under Acme counts."""
    acme = RowScope(customers=("Acme",))
    with world.connect() as conn:
        sat = satisfaction.satisfaction_summary(conn, MARCH.within(acme)).iloc[0]
    # S1, S2, X-S5 (X-COMP-1 is Acme's) and X-S4 (Acme, no commitment)
    assert sat["responses"] == 4


def test_process_map_chain_targets_records_are_scoped(world: sa.Engine) -> None:
    with world.connect() as conn:
        chain = process_map.process_chain(conn, _scoped())
        follows = process_map.directly_follows(conn, _scoped())
        flows = process_map.process_dependency_flows(conn, _scoped())
        in_force = targets.targets_in_force(conn, AS_OF, SCOPE)
        history = target_history(conn, scope=SCOPE)
        csv_text = targets_csv(conn, scope=SCOPE)
        actions = actions_for_week(conn, "2026-W13", SCOPE)
        found = search_commitments(conn, "X-", AS_OF, scope=SCOPE)
        hidden = commitment_tracking(conn, "X-COMP-1", AS_OF, SCOPE)
        v1 = commitment_tracking(conn, "OK-V1", AS_OF, SCOPE)
        ics = calendar_feed(conn, AS_OF, scope=SCOPE, stamp=datetime(2026, 3, 31))
    assert list(chain["process"]) == ["Ventas"] and list(chain["due"]) == [3]
    assert set(follows["source"]) | set(follows["target"]) == {"recibido", "enviado"}
    assert list(flows["upstream_process"]) == ["Ventas"]
    assert list(in_force["process"].isna()) == [True]
    assert list(history["target_id"]) == [1] and "Compras" not in csv_text
    assert list(actions["action_id"]) == [1]
    assert found.empty and hidden is None
    assert v1 is not None and v1.upstreams.empty
    text = ics.decode("utf-8")
    assert all(cid in text for cid in VISIBLE_IDS)
    assert not any(secret in text for secret in SECRETS)


# --- 2. scoped == the same function on a database without the other rows ------------------

FILTERS = {
    "march": MARCH,
    "open": MARCH.with_(date_to=None),
    "by_process": MARCH.with_(group_by="process"),
    "by_customer": MARCH.with_(group_by="customer"),
    "by_week": MARCH.with_(group_by="week"),
    "from_customer": MARCH.with_(direction="from_customer"),
}
FUNCTIONS = (
    ontime.on_time_summary,
    ontime.renegotiation_summary,
    ontime.delay_distribution,
    ontime.commitment_list,
    ontime.customer_commitments_kept,
    propagation.propagation_summary,
    propagation.breach_roots,
    propagation.root_impact,
    propagation.contagion_lift,
    propagation.breach_flows,
    propagation.at_risk_commitments,
    process_map.process_chain,
    process_map.process_dependency_flows,
    process_map.directly_follows,
    process_map.stage_durations,
    satisfaction.satisfaction_summary,
    satisfaction.survey_comments,
    complaints.complaints_summary,
    notices.proactive_notice_summary,
    kpis.headline_kpis,
    notice_candidates,
)


def _comparable(value: object) -> object:
    if isinstance(value, pd.DataFrame):
        return (
            value.reset_index(drop=True)
            .astype(object)
            .where(value.notna(), None)
            .to_dict("records")
        )
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    "scope",
    [SCOPE, RowScope(stages=("Ventas",)), RowScope(customers=("Acme",))],
    ids=["stage+customer", "stage", "customer"],
)
def test_scoped_metrics_equal_metrics_on_the_allowed_rows_alone(
    world: sa.Engine, scope: RowScope
) -> None:
    def run_all(f_scope: RowScope) -> dict:
        out = {}
        with world.connect() as conn:
            for name, f in FILTERS.items():
                for func in FUNCTIONS:
                    out[(name, func.__name__)] = _comparable(func(conn, f.within(f_scope)))
                out[(name, "breach_cost")] = _comparable(
                    satisfaction.breach_cost(conn, f.within(f_scope))
                )
                out[(name, "weekly_kpis")] = _comparable(
                    trends.weekly_kpis(conn, f.within(f_scope), 4)
                )
            review = weekly_review(conn, "2026-W12", AS_OF, MARCH.within(f_scope))
            for part in ("kpis", "roots", "breached", "at_risk_next_week", "actions", "trend"):
                out[("review", part)] = _comparable(getattr(review, part))
        return out

    scoped = run_all(scope)
    delete_outside(world, scope)
    alone = run_all(EVERYTHING)
    assert scoped.keys() == alone.keys()
    for key in scoped:
        assert scoped[key] == alone[key], key


# --- 3. the scope never widens ------------------------------------------------------------


def test_with_cannot_change_the_scope_and_within_only_narrows() -> None:
    f = MARCH.within(SCOPE)
    with pytest.raises(ValueError, match="only narrows"):
        f.with_(scope=EVERYTHING)
    assert f.within(EVERYTHING).scope == SCOPE
    assert f.with_(processes=("Compras",), customers=("Beta Corp",)).scope == SCOPE
    assert f.within(RowScope(stages=("Compras",))).scope == RowScope(stages=(), customers=("Acme",))


def test_url_filters_on_hidden_rows_find_nothing(world: sa.Engine) -> None:
    """What a hand-edited URL asks for is intersected with the scope, never added to it."""
    with world.connect() as conn:
        for asked in (
            MARCH.with_(processes=("Compras",)),
            MARCH.with_(customers=("Beta Corp",)),
            MARCH.with_(processes=("Compras", "Ventas"), customers=("Beta Corp",)),
        ):
            assert ontime.on_time_summary(conn, asked.within(SCOPE)).iloc[0]["due"] == 0
            assert ontime.commitment_list(conn, asked.within(SCOPE)).empty


def test_an_empty_dimension_allows_nothing(world: sa.Engine) -> None:
    with world.connect() as conn:
        nothing = MARCH.within(RowScope(stages=()))
        assert ontime.on_time_summary(conn, nothing).iloc[0]["due"] == 0
        assert satisfaction.satisfaction_summary(conn, nothing).iloc[0]["responses"] == 0


NAMES = st.lists(st.sampled_from(["Ventas", "Compras", "Acme", "Beta Corp", "x"]), max_size=3)
SCOPES = st.builds(
    RowScope,
    stages=st.one_of(st.none(), NAMES),
    customers=st.one_of(st.none(), NAMES),
)
ROWS = [(p, c) for p in ("Ventas", "Compras", "x") for c in ("Acme", "Beta Corp", "x")]


@given(a=SCOPES, b=SCOPES)
def test_narrowed_allows_exactly_what_both_allow(a: RowScope, b: RowScope) -> None:
    both = a.narrowed(b)
    for process, customer in ROWS:
        assert both.allows(process, customer) == (
            a.allows(process, customer) and b.allows(process, customer)
        )
    assert a.narrowed(EVERYTHING) == a == EVERYTHING.narrowed(a)
