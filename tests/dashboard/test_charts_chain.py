"""dashboard.charts.chain on hand-made frames: link widths and colours by lift, chain
order, Sankey links, Pareto shares, impact-tree layout, directly-follows top N."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.charts.chain import (
    breach_sankey_figure,
    directly_follows_figure,
    impact_tree_figure,
    lift_bin,
    lift_color,
    process_map_figure,
    root_pareto_figure,
    stage_durations_figure,
    tree_layout,
)
from dashboard.metrics.propagation import impact_pareto
from dashboard.ui import theme
from dashboard.ui.texts import tr

CHAIN = pd.DataFrame(
    {
        "process": ["A", "B", "C"],
        "stage_order": [1, 2, 3],
        "area": ["x", "x", "x"],
        "due": [10, 20, 30],
        "on_time_rate": [0.9, 0.5, None],
        "breaches": [1, 10, 0],
    }
)
FLOWS = pd.DataFrame(
    {
        "upstream_process": ["A", "B", "A", "Z"],
        "downstream_process": ["B", "C", "C", "A"],
        "dependencies": [10, 5, 2, 7],
    }
)
LIFT = pd.DataFrame(
    {
        "upstream_process": ["A", "B"],
        "downstream_process": ["B", "C"],
        "pairs_upstream_breach": [4, 3],
        "downstream_breach_given_upstream_breach": [3, 1],
        "pairs_upstream_on_time": [16, 30],
        "downstream_breach_given_upstream_on_time": [1, 3],
        "p_breach_given_breach": [0.75, 1 / 3],
        "p_breach_given_on_time": [1 / 16, 0.1],
        "lift": [12.0, 10 / 3],
    }
)


@pytest.mark.parametrize(
    ("lift", "key"),
    [(None, "lift_none"), (float("nan"), "lift_none"), (0.0, "lift_low"), (1.99, "lift_low"),
     (2.0, "lift_mid"), (9.9, "lift_mid"), (10.0, "lift_high"), (26.5, "lift_high")],
)  # fmt: skip
def test_lift_bins(lift: float | None, key: str) -> None:
    assert lift_bin(lift) == key


def test_process_map_links_follow_dependencies_and_lift() -> None:
    fig = process_map_figure(CHAIN, FLOWS, LIFT, "es")
    lines = [t for t in fig.data if t.mode == "lines" and t.x[0] is not None]
    # drawn smallest first; Z → A is left out (Z is not a stage of the chain)
    by_width = sorted((round(t.line.width, 6), t.line.color) for t in lines)
    assert by_width == [
        (2 + 12 * 2 / 10, theme.LIGHT_GREY),  # A → C: no lift known
        (2 + 12 * 5 / 10, lift_color(10 / 3)),  # B → C: 3.3× → orange
        (14.0, theme.VERMILLION),  # A → B: 12× → vermillion
    ]
    assert lift_color(10 / 3) == theme.ORANGE
    skip = next(t for t in lines if t.line.color == theme.LIGHT_GREY)
    assert skip.x[0] == 0 and skip.x[-1] == 2 and max(skip.y) == pytest.approx(0.26)  # arcs above
    nodes = next(t for t in fig.data if t.mode == "markers" and len(t.x) == 3 and t.y == (0, 0, 0))
    assert list(nodes.x) == [0, 1, 2]
    labels = [a.text for a in fig.layout.annotations]
    assert "<b>A</b><br>90,0 %" in labels and "<b>C</b><br>—" in labels
    assert "×12,0" in labels and "×3,3" in labels
    legend = [t.name for t in fig.data if t.showlegend]
    assert legend == [tr(k, "es") for k in ("lift_low", "lift_mid", "lift_high", "lift_none")]
    hover = next(t for t in fig.data if t.mode == "markers" and t.marker.opacity == 0)
    assert any("75,0 % (3/4)" in h for h in hover.hovertext)


def test_process_map_without_stages_says_so() -> None:
    fig = process_map_figure(CHAIN.iloc[0:0], FLOWS, LIFT, "en")
    assert fig.layout.annotations[0].text == tr("no_data_filter", "en")


def test_sankey_nodes_in_chain_order_and_links_by_breaches() -> None:
    flows = pd.DataFrame(
        {
            "upstream_process": ["B", "A", "A"],
            "downstream_process": ["C", "B", "C"],
            "breaches": [4, 7, 0],
            "edges": [4, 8, 0],
        }
    )
    fig = breach_sankey_figure(flows, "es", order=["A", "B", "C"])
    sankey = fig.data[0]
    assert list(sankey.node.customdata) == ["A", "B", "C"]
    # names above fixed columns in chain order, none beside a node (they overlapped)
    assert list(sankey.node.label) == ["", "", ""] and sankey.arrangement == "fixed"
    assert list(sankey.node.x) == sorted(sankey.node.x)
    names = [(a.x, a.text) for a in fig.layout.annotations]
    assert names == [(x, f"<b>{n}</b>") for x, n in zip(sankey.node.x, "ABC", strict=True)]
    assert list(zip(sankey.link.source, sankey.link.target, sankey.link.value, strict=True)) == [
        (1, 2, 4),
        (0, 1, 7),
    ]
    empty = breach_sankey_figure(flows.iloc[0:0], "es")
    assert empty.layout.annotations[0].text == tr("no_flows", "es")


def test_pareto_shares_are_of_the_total_impact() -> None:
    roots = pd.DataFrame(
        {
            "root_id": ["r1", "r2", "r3", "r4"],
            "process": ["A", "B", "A", "C"],
            "customer": ["c"] * 4,
            "impact": [1, 6, 0, 3],
        }
    )
    top2 = impact_pareto(roots, 2)
    assert list(top2["root_id"]) == ["r2", "r4"]
    assert list(top2["cumulative_share"]) == pytest.approx([0.6, 0.9])  # of 10, not of 9
    fig = root_pareto_figure(roots, "en", top=2)
    bars, line = fig.data
    assert list(bars.x) == ["r2", "r4"] and list(bars.y) == [6, 3]
    assert list(line.y) == pytest.approx([0.6, 0.9]) and line.yaxis == "y2"


def test_tree_layout_puts_each_breach_at_its_depth() -> None:
    tree = pd.DataFrame(
        {
            "commitment_id": ["a", "b", "c", "c"],
            "depends_on": ["R", "R", "a", "b"],
            "process": ["P", "P", "Q", "Q"],
            "status": ["breach"] * 4,
            "depth": [1, 1, 2, 2],
        }
    )
    place = tree_layout(tree, "R")
    assert place["R"] == (0, 0.0)
    assert place["a"][0] == place["b"][0] == 1 and place["a"][1] != place["b"][1]
    assert place["c"] == (2, 0.0)  # one node at its depth: centred
    fig = impact_tree_figure(tree, "R", "es", root_process="Ventas")
    edges, nodes = fig.data
    assert len([x for x in edges.x if x is None]) == 4  # four links drawn
    assert nodes.text[0] == "R<br>Ventas"
    assert impact_tree_figure(tree.iloc[0:0], "R", "es").layout.annotations[0].text == tr(
        "tree_empty", "es"
    )


def test_directly_follows_top_pairs_with_counts_and_hours() -> None:
    pairs = pd.DataFrame(
        {
            "source": ["S", "P", "E", "R"],
            "target": ["P", "E", "A", "E"],
            "count": [2421, 1027, 1977, 2],
            "median_hours": [23.3833, 52.7667, 49.7, None],
        }
    )
    bar = directly_follows_figure(pairs, "es", top=2).data[0]
    assert list(bar.y) == ["S → P", "E → A"]
    assert list(bar.text) == ["2.421 · 23,4 h", "1.977 · 49,7 h"]
    durations = pd.DataFrame(
        {"stage": ["A", "B", "C"], "visits": [5, 6, 7], "median_hours": [None, 3.0, 10.0]}
    )
    bar = stage_durations_figure(durations, "en").data[0]
    assert list(bar.y) == ["C", "B"] and list(bar.text) == ["10.0 h", "3.0 h"]


def test_user_text_is_never_plotly_markup() -> None:
    """Plotly reads <a href>, <b>, <br> in labels: stage names and ids are escaped."""
    hostile = "<a href='javascript:alert(1)'>S&P</a>"
    chain = CHAIN.assign(process=["A", hostile, "C"])
    flows = FLOWS.replace({"B": hostile})
    lift = LIFT.replace({"B": hostile})
    fig = process_map_figure(chain, flows, lift, "en")
    texts = [a.text for a in fig.layout.annotations] + [
        h for t in fig.data if t.hovertext is not None for h in t.hovertext
    ]
    assert not any("<a" in t for t in texts)
    assert "<b>&lt;a href='javascript:alert(1)'&gt;S&amp;P&lt;/a&gt;</b><br>50.0%" in texts
    sankey = breach_sankey_figure(
        pd.DataFrame({"upstream_process": [hostile], "downstream_process": ["C"], "breaches": [1]}),
        "en",
    ).data[0]
    assert not any("<a" in label for label in sankey.node.label)
    roots = pd.DataFrame(
        {"root_id": [hostile], "process": ["A"], "customer": ["<b>x</b>"], "impact": [2]}
    )
    bars = root_pareto_figure(roots, "en").data[0]
    assert not any("<" in x for x in bars.x) and not any("<b>x" in h for h in bars.hovertext)


def test_every_skipping_link_arcs_above_the_stage_labels() -> None:
    """Links that skip stages arced below the chain too, through the stage names and rates
    written under the nodes: now every one stays above the chain."""
    chain = pd.DataFrame(
        {"process": list("ABCDE"), "stage_order": [1, 2, 3, 4, 5], "area": ["x"] * 5,
         "due": [10] * 5, "on_time_rate": [0.9] * 5, "breaches": [1] * 5}
    )  # fmt: skip
    flows = pd.DataFrame(
        {"upstream_process": ["A", "A", "A", "B"], "downstream_process": ["C", "D", "E", "E"],
         "dependencies": [3, 3, 3, 3]}
    )  # fmt: skip
    fig = process_map_figure(chain, flows, LIFT.iloc[0:0], "es")
    arcs = [t for t in fig.data if t.mode == "lines" and t.x[0] is not None]
    assert len(arcs) == 4 and all(min(t.y) >= 0 for t in arcs)


def test_a_lift_of_zero_says_no_contagion() -> None:
    lift = LIFT.assign(lift=[0.0, 10 / 3])
    labels = [a.text for a in process_map_figure(CHAIN, FLOWS, lift, "es").layout.annotations]
    assert tr("lift_zero", "es") in labels and "×0,0" not in labels


def test_pareto_line_runs_above_the_bars_and_their_labels() -> None:
    """Bars take the lower half of the plot, the cumulative line the upper part, so the
    line never crosses a bar's label: at each root, the line's height on the plot is above
    the top of its bar plus a label's room."""
    roots = pd.DataFrame(
        {"root_id": [f"r{i}" for i in range(6)], "process": ["A"] * 6, "customer": ["c"] * 6,
         "impact": [9, 7, 5, 3, 2, 1]}
    )  # fmt: skip
    fig = root_pareto_figure(roots, "es", top=6)
    bars, line = fig.data
    low, high = fig.layout.yaxis.range
    low2, high2 = fig.layout.yaxis2.range
    for bar, share in zip(bars.y, line.y, strict=True):
        bar_top = (bar - low) / (high - low)
        assert (share - low2) / (high2 - low2) > bar_top + 0.08
    assert fig.layout.yaxis.tickformat == ",d"


def test_count_axes_group_thousands() -> None:
    pairs = pd.DataFrame(
        {"source": ["a"], "target": ["b"], "count": [12000], "median_hours": [1.5]}
    )
    assert directly_follows_figure(pairs, "es").layout.xaxis.tickformat == ",d"
