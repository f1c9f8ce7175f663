"""Charts of the value chain (Cadena page): the process map with contagion, the Sankey of
propagated breaches, the Pareto of root breaches, one root's impact tree, and the event
log's directly-follows pairs and step durations.

Pure `DataFrame → Figure` builders fed by dashboard.metrics.propagation and
dashboard.metrics.process_map; words come from dashboard.ui.texts, colours from
dashboard.ui.theme (status colours keep their meaning: vermillion is a breach).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.charts import empty_figure, number_or_none, percent_axis, plotly_safe, styled
from dashboard.metrics.process_map import chain_rank
from dashboard.metrics.propagation import LIFT_BANDS, impact_pareto, lift_band
from dashboard.ui import theme
from dashboard.ui.i18n import fmt_int, fmt_num, fmt_pct
from dashboard.ui.texts import tr

# The colour of each contagion-lift band (metrics.propagation.lift_band), light to dark
# so "more contagious" reads as "more alarming" in grey-scale too; blue / orange /
# vermillion stay apart for every common colour-vision deficiency.
LIFT_COLORS: dict[str, str] = {"low": theme.SKY_BLUE, "mid": theme.ORANGE, "high": theme.VERMILLION}
LIFT_NONE_COLOR = theme.LIGHT_GREY


def lift_bin(lift: object) -> str:
    """The legend key of a lift value ('lift_none' when it is unknown)."""
    return f"lift_{lift_band(lift) or 'none'}"


def lift_color(lift: object) -> str:
    """The colour of a map link with this lift."""
    return LIFT_COLORS.get(lift_band(lift) or "", LIFT_NONE_COLOR)


def _curve(x0: float, x1: float, height: float, steps: int = 24) -> tuple[list[float], list[float]]:
    """Points of a quadratic Bézier from (x0, 0) to (x1, 0) bulging to `height` at its middle."""
    xs, ys = [], []
    for i in range(steps + 1):
        s = i / steps
        xs.append((1 - s) ** 2 * x0 + 2 * (1 - s) * s * (x0 + x1) / 2 + s**2 * x1)
        ys.append(2 * (1 - s) * s * height)
    return xs, ys


def process_map_figure(
    chain: pd.DataFrame,
    flows: pd.DataFrame,
    lift: pd.DataFrame,
    lang: str,
    *,
    title: str | None = None,
) -> go.Figure:
    """The value chain as a map: stages (process_chain) left to right in chain order,
    links between them (process_dependency_flows) as wide as their dependencies and
    coloured by contagion lift (contagion_lift), with a legend that names the colours.

    Neighbouring stages are joined by straight links; links that skip stages arc above
    (even skips) or below (odd skips) the chain so they do not hide each other. Each
    link's middle carries its lift and a hover with the counts behind it.
    """
    if chain.empty:
        return empty_figure(tr("no_data_filter", lang), lang)
    stages = [str(p) for p in chain["process"]]
    pos = {s: i for i, s in enumerate(stages)}
    lifts = {
        (str(r["upstream_process"]), str(r["downstream_process"])): r for _, r in lift.iterrows()
    }
    data = flows[
        flows["upstream_process"].astype(str).isin(pos)
        & flows["downstream_process"].astype(str).isin(pos)
    ]
    top = max([int(v) for v in data["dependencies"]] or [1])
    fig = go.Figure()
    reach = 0.6
    hover_points: list[tuple[float, float, str]] = []
    for _, row in data.sort_values("dependencies").iterrows():
        up, down = str(row["upstream_process"]), str(row["downstream_process"])
        x0, x1 = pos[up], pos[down]
        span = abs(x1 - x0)
        if span == 0:
            continue
        # every skipping link arcs above the chain, higher the further it reaches: the
        # stage names and rates below the nodes are never crossed (they used to be, by
        # the links that arced below)
        height = 0.0 if span == 1 else 0.26 * span + (0.06 if span % 2 else 0.0)
        reach = max(reach, abs(height) / 2 + 0.35)
        xs, ys = _curve(x0, x1, height)
        info = lifts.get((up, down))
        value = number_or_none(info["lift"]) if info is not None else None
        color = lift_color(value)
        deps = int(row["dependencies"])
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": color, "width": 2 + 12 * deps / top},
                hoverinfo="skip",
                showlegend=False,
            )
        )
        lines = [
            f"{plotly_safe(up)} → {plotly_safe(down)}",
            f"{tr('dependencies', lang)}: {fmt_int(deps, lang)}",
            f"{tr('lift', lang)}: {_lift_text(value, lang)}",
        ]
        if info is not None:
            lines.append(
                f"{tr('p_breach_given_breach', lang)}: "
                f"{fmt_pct(info['p_breach_given_breach'], lang)}"
                f" ({fmt_int(info['downstream_breach_given_upstream_breach'], lang)}"
                f"/{fmt_int(info['pairs_upstream_breach'], lang)})"
            )
            lines.append(
                f"{tr('p_breach_given_on_time', lang)}: "
                f"{fmt_pct(info['p_breach_given_on_time'], lang)}"
                f" ({fmt_int(info['downstream_breach_given_upstream_on_time'], lang)}"
                f"/{fmt_int(info['pairs_upstream_on_time'], lang)})"
            )
        mid = len(xs) // 2
        # an arrow head just before the downstream node says which way the link runs
        tip = int(len(xs) * (0.86 if span == 1 else 0.93))
        fig.add_annotation(
            x=xs[tip],
            y=ys[tip],
            ax=xs[tip - 2],
            ay=ys[tip - 2],
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=2,
            arrowsize=1.2,
            arrowwidth=2,
            arrowcolor=theme.GREY,
            text="",
        )
        # small links keep their numbers in the hover only, so the map stays readable
        labelled = value is not None and deps >= 0.03 * top
        if labelled:
            fig.add_annotation(
                x=xs[mid],
                y=ys[mid],
                text=_lift_text(value, lang),
                showarrow=False,
                bgcolor="rgba(255,255,255,0.9)",
                font={"size": 12, "color": "#111111"},
            )
        hover_points.append((xs[mid], ys[mid], "<br>".join(lines)))
    if hover_points:
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in hover_points],
                y=[p[1] for p in hover_points],
                mode="markers",
                marker={"size": 22, "opacity": 0},
                hovertext=[p[2] for p in hover_points],
                hoverinfo="text",
                showlegend=False,
            )
        )
    rates = [number_or_none(v) for v in chain["on_time_rate"]]
    fig.add_trace(
        go.Scatter(
            x=list(range(len(stages))),
            y=[0.0] * len(stages),
            mode="markers",
            marker={"size": 30, "color": theme.BLUE, "line": {"color": "#FFFFFF", "width": 2}},
            hovertext=[
                f"{plotly_safe(s)}<br>{tr('on_time_rate', lang)}: {fmt_pct(r, lang)}"
                f"<br>{tr('due', lang)}: {fmt_int(d, lang)}"
                f"<br>{tr('kpi_breaches', lang)}: {fmt_int(b, lang)}"
                for s, r, d, b in zip(stages, rates, chain["due"], chain["breaches"], strict=True)
            ],
            hoverinfo="text",
            showlegend=False,
        )
    )
    for i, (stage, rate) in enumerate(zip(stages, rates, strict=True)):
        fig.add_annotation(
            x=i,
            y=0,
            yshift=-34,
            text=f"<b>{plotly_safe(stage)}</b><br>{fmt_pct(rate, lang)}",
            showarrow=False,
            bgcolor="rgba(255,255,255,0.9)",
            font={"size": 13},
        )
    for key, color in (
        *((f"lift_{band}", LIFT_COLORS[band]) for band, _lower in LIFT_BANDS),
        ("lift_none", LIFT_NONE_COLOR),
    ):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                line={"color": color, "width": 8},
                name=tr(key, lang),
                showlegend=True,
            )
        )
    fig.update_xaxes(visible=False, range=[-0.6, len(stages) - 0.4])
    fig.update_yaxes(visible=False, range=[-0.55, reach])
    styled(fig, lang, height=int(260 + 150 * reach), title=title)
    fig.update_layout(
        showlegend=True,
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        dragmode=False,
    )
    return fig


def _lift_text(value: float | None, lang: str) -> str:
    """A lift as `×14,8` / `×14.8`; a dash when unknown; "no contagion" for a lift of 0
    (no breach downstream after a breached upstream), which "×0,0" made look like a
    measurement of nothing."""
    if value is None:
        return "—"
    if value == 0:
        return tr("lift_zero", lang)
    return "×" + fmt_num(value, lang, 1)


def breach_sankey_figure(
    flows: pd.DataFrame, lang: str, *, order: Sequence[str] = (), title: str | None = None
) -> go.Figure:
    """Propagated breaches between stages (breach_flows) as a Sankey, stages in chain order.

    A stage appears once as a node; a link's width is the number of propagated breaches
    of the downstream stage with a breached upstream in the upstream stage.
    """
    data = flows[flows["breaches"].fillna(0) > 0] if not flows.empty else flows
    if data.empty:
        return empty_figure(tr("no_flows", lang), lang)
    present = set(data["upstream_process"].astype(str)) | set(
        data["downstream_process"].astype(str)
    )
    nodes = sorted(present, key=chain_rank(order))
    index = {s: i for i, s in enumerate(nodes)}
    breaches = tr("kpi_breaches", lang)
    # One column per stage in chain order, each name written above its column: Plotly's
    # own labels sit beside the nodes, where neighbouring names ran into each other and
    # into the links.
    columns = [0.02 + 0.96 * i / max(len(nodes) - 1, 1) for i in range(len(nodes))]
    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",
            valueformat=",d",
            node={
                "label": [""] * len(nodes),
                "customdata": [plotly_safe(n) for n in nodes],
                "x": columns,
                "y": [0.5] * len(nodes),
                "color": theme.BLUE,
                "pad": 18,
                "thickness": 18,
                "line": {"color": "#FFFFFF", "width": 1},
                "hovertemplate": "%{customdata}: %{value} " + breaches + "<extra></extra>",
            },
            link={
                "source": [index[str(s)] for s in data["upstream_process"]],
                "target": [index[str(s)] for s in data["downstream_process"]],
                "value": [int(v) for v in data["breaches"]],
                "color": "rgba(213, 94, 0, 0.45)",
                "hovertemplate": "%{source.customdata} → %{target.customdata}: %{value} "
                + breaches
                + "<extra></extra>",
            },
            textfont={"size": 14, "color": "#111111"},
        )
    )
    for x, name in zip(columns, nodes, strict=True):
        fig.add_annotation(
            x=x,
            y=1.0,
            xref="paper",
            yref="paper",
            yanchor="bottom",
            text=f"<b>{plotly_safe(name)}</b>",
            showarrow=False,
            font={"size": 13, "color": "#111111"},
        )
    styled(fig, lang, height=440, title=title)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def root_pareto_figure(
    roots: pd.DataFrame, lang: str, *, top: int = 20, title: str | None = None
) -> go.Figure:
    """Root breaches by impact (root_impact) as a Pareto: bars of the `top` largest
    impacts, and the cumulative % of the total impact as a line on a right-hand axis.
    """
    data = impact_pareto(roots, top) if not roots.empty else roots
    if data.empty:
        return empty_figure(tr("no_roots", lang), lang)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    hover = [
        f"{plotly_safe(r)} · {plotly_safe(p)}<br>{tr('col_customer', lang)}: {plotly_safe(c)}"
        f"<br>{tr('col_impact', lang)}: {fmt_int(i, lang)}"
        f"<br>{tr('cumulative_pct', lang)}: {fmt_pct(s, lang)}"
        for r, p, c, i, s in zip(
            data["root_id"],
            data["process"],
            data["customer"],
            data["impact"],
            data["cumulative_share"],
            strict=True,
        )
    ]
    ids = [plotly_safe(r) for r in data["root_id"]]
    fig.add_trace(
        go.Bar(
            x=ids,
            y=[int(v) for v in data["impact"]],
            marker_color=theme.VERMILLION,
            text=[fmt_int(v, lang) for v in data["impact"]],
            textposition="outside",
            cliponaxis=False,
            hovertext=hover,
            hoverinfo="text",
            name=tr("col_impact", lang),
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=ids,
            y=[float(v) for v in data["cumulative_share"]],
            mode="lines+markers",
            line={"color": theme.BLACK, "width": 2},
            marker={"size": 7},
            hovertext=hover,
            hoverinfo="text",
            name=tr("cumulative_pct", lang),
        ),
        secondary_y=True,
    )
    # bars in the lower half of the plot, the cumulative line in the upper part: the line
    # ran through the bars' labels when both shared the height
    most = max(int(v) for v in data["impact"])
    fig.update_yaxes(
        title=tr("col_impact", lang),
        range=[0, most * 2.0],
        tickformat=",d",
        secondary_y=False,
        zeroline=False,
    )
    fig.update_yaxes(
        **{**percent_axis(lang), "range": [-1.7, 1.08]},
        title=tr("cumulative_pct", lang),
        secondary_y=True,
    )
    fig.update_yaxes(showgrid=False, secondary_y=True)
    fig.update_xaxes(tickangle=-45, type="category")
    styled(fig, lang, height=420, title=title)
    fig.update_layout(
        showlegend=True, legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}
    )
    return fig


def tree_layout(tree: pd.DataFrame, root_id: str) -> dict[str, tuple[int, float]]:
    """Each node of an impact tree (impact_tree) placed as (depth, row): depth from the
    root, rows spread within a depth in the order of their parents' rows, so links
    between neighbouring depths cross as little as a simple rule allows.
    """
    place: dict[str, tuple[int, float]] = {root_id: (0, 0.0)}
    if tree.empty:
        return place
    depths = {str(c): int(d) for c, d in zip(tree["commitment_id"], tree["depth"], strict=True)}
    parents: dict[str, list[str]] = {}
    for child, parent in zip(tree["commitment_id"], tree["depends_on"], strict=True):
        parents.setdefault(str(child), []).append(str(parent))
    widest = max([list(depths.values()).count(d) for d in set(depths.values())] + [1])
    for depth in sorted(set(depths.values())):
        nodes = [n for n, d in depths.items() if d == depth]

        def parent_row(node: str) -> float:
            rows = [place[p][1] for p in parents.get(node, []) if p in place]
            return sum(rows) / len(rows) if rows else 0.0

        nodes.sort(key=lambda n: (parent_row(n), n))
        count = len(nodes)
        for i, node in enumerate(nodes):
            offset = (i - (count - 1) / 2) * (widest / max(count, 1)) if count > 1 else 0.0
            place[node] = (depth, offset)
    return place


def impact_tree_figure(
    tree: pd.DataFrame,
    root_id: str,
    lang: str,
    *,
    root_process: str | None = None,
    title: str | None = None,
) -> go.Figure:
    """One root breach and the breaches downstream of it (impact_tree) as a layered
    network: the root on the left, each depth a column to its right, every breach-to-
    breach link drawn (a breach with two breached upstreams on the path shows both).
    """
    if tree.empty:
        return empty_figure(tr("tree_empty", lang), lang, height=200)
    place = tree_layout(tree, root_id)
    processes = {
        str(c): str(p) for c, p in zip(tree["commitment_id"], tree["process"], strict=True)
    }
    if root_process:
        processes[root_id] = root_process
    fig = go.Figure()
    xs: list[float | None] = []
    ys: list[float | None] = []
    for child, parent in zip(tree["commitment_id"], tree["depends_on"], strict=True):
        if str(parent) not in place or str(child) not in place:
            continue
        (d0, r0), (d1, r1) = place[str(parent)], place[str(child)]
        xs += [d0, d1, None]
        ys += [r0, r1, None]
    fig.add_trace(
        go.Scatter(
            x=xs, y=ys, mode="lines", line={"color": theme.GREY, "width": 2}, hoverinfo="skip"
        )
    )
    nodes = list(place)
    fig.add_trace(
        go.Scatter(
            x=[place[n][0] for n in nodes],
            y=[place[n][1] for n in nodes],
            mode="markers+text",
            marker={
                "size": [22 if n == root_id else 16 for n in nodes],
                "color": theme.VERMILLION,
                "symbol": ["diamond" if n == root_id else "circle" for n in nodes],
                "line": {"color": "#FFFFFF", "width": 1},
            },
            text=[f"{plotly_safe(n)}<br>{plotly_safe(processes.get(n, ''))}" for n in nodes],
            textposition="bottom center",
            textfont={"size": 12},
            hovertext=[
                f"{plotly_safe(n)} · {plotly_safe(processes.get(n, ''))}"
                f"<br>{tr('col_depth', lang)}: {place[n][0]}"
                for n in nodes
            ],
            hoverinfo="text",
        )
    )
    depth_max = max(d for d, _r in place.values())
    rows = [r for _d, r in place.values()]
    fig.update_xaxes(
        range=[-0.5, depth_max + 0.5],
        tickvals=list(range(depth_max + 1)),
        title=tr("col_depth", lang),
        showgrid=False,
    )
    fig.update_yaxes(visible=False, range=[min(rows) - 0.9, max(rows) + 0.6])
    height = int(200 + 70 * (max(rows) - min(rows) + 1))
    styled(fig, lang, height=min(max(height, 280), 900), title=title)
    fig.update_layout(dragmode=False)
    return fig


def directly_follows_figure(
    pairs: pd.DataFrame, lang: str, *, top: int = 15, title: str | None = None
) -> go.Figure:
    """The `top` most frequent directly-follows pairs (directly_follows) as horizontal bars,
    most frequent on top, each labelled with its count and median hours between the steps.
    """
    if pairs.empty:
        return empty_figure(tr("no_events", lang), lang)
    data = pairs.sort_values(["count", "source", "target"], ascending=[False, True, True]).head(top)
    labels = [
        f"{plotly_safe(s)} → {plotly_safe(t)}"
        for s, t in zip(data["source"], data["target"], strict=True)
    ]
    hours = [number_or_none(v) for v in data["median_hours"]]
    texts = [
        f"{fmt_int(c, lang)} · {tr('hours_suffix', lang, value=fmt_num(h, lang, 1))}"
        for c, h in zip(data["count"], hours, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=[int(v) for v in data["count"]],
            y=labels,
            orientation="h",
            marker_color=theme.BLUE,
            text=texts,
            textposition="auto",
            insidetextanchor="end",
            hovertext=[
                f"{lab}<br>{tr('col_count', lang)}: {fmt_int(c, lang)}"
                f"<br>{tr('col_median_hours', lang)}: {fmt_num(h, lang, 1)}"
                for lab, c, h in zip(labels, data["count"], hours, strict=True)
            ],
            hoverinfo="text",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=tr("col_count", lang), tickformat=",d")  # 12.000, not 12000
    return styled(fig, lang, height=max(260, 70 + 34 * len(labels)), title=title)


def stage_durations_figure(
    durations: pd.DataFrame, lang: str, *, title: str | None = None
) -> go.Figure:
    """Median hours spent in each step (stage_durations) as horizontal bars, longest on top;
    steps with no measured stay (a case's last step) are left out.
    """
    if durations.empty:
        return empty_figure(tr("no_events", lang), lang)
    data = durations.assign(
        _h=pd.Series(
            [number_or_none(v) for v in durations["median_hours"]],
            index=durations.index,
            dtype=float,
        )
    )
    data = data[data["_h"].notna()].sort_values(["_h", "stage"], ascending=[False, True])
    if data.empty:
        return empty_figure(tr("no_events", lang), lang)
    fig = go.Figure(
        go.Bar(
            x=list(data["_h"]),
            y=[plotly_safe(s) for s in data["stage"]],
            orientation="h",
            marker_color=theme.SKY_BLUE,
            text=[tr("hours_suffix", lang, value=fmt_num(h, lang, 1)) for h in data["_h"]],
            textposition="auto",
            hovertext=[
                f"{plotly_safe(s)}<br>{tr('col_visits', lang)}: {fmt_int(v, lang)}"
                f"<br>{tr('col_median_hours', lang)}: {fmt_num(h, lang, 1)}"
                for s, v, h in zip(data["stage"], data["visits"], data["_h"], strict=True)
            ],
            hoverinfo="text",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=tr("median_hours", lang), tickformat=",~r")
    return styled(fig, lang, height=max(240, 70 + 34 * len(data)), title=title)
