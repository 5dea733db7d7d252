"""Plotly figure builders: data in, ``go.Figure`` out (no Streamlit, no numerics).

Every number drawn comes from the caller (computed and tested in the numerical modules);
these functions only lay it out. Figures carry plain lists, not NumPy arrays, so they
serialize compactly and stay readable in tests. Animations use Plotly frames with
play/pause buttons and a slider that run in the browser; the moving traces come first and
each frame carries only them (the static path is drawn once). Animated figures are
returned as plain figure dicts (``{"data", "layout", "frames"}``, which ``st.plotly_chart``
and ``go.Figure`` accept): validating a few hundred frames through ``go.Frame`` costs
~0.4 s, building them as dicts ~5 ms.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

#: Colours of the named policies, shared across figures so a policy keeps its colour.
POLICY_COLOURS = {
    "Nash": "#1f77b4",
    "Regularized Nash": "#2ca02c",
    "regularized Nash": "#2ca02c",
    "Reference": "#7f7f7f",
    "reference": "#7f7f7f",
    "RLHF": "#d62728",
    "DPO": "#ff9896",
    "IPO": "#9467bd",
}
MARKER_SYMBOLS = {"Nash": "star", "Regularized Nash": "diamond", "Reference": "square", "RLHF": "x"}
_TAIL = 12  # recorded points drawn behind the moving policy


def _escape(labels: Sequence[str]) -> list[str]:
    """Labels as literal text: Plotly reads a subset of HTML in strings, so ``<``, ``>`` and ``&`` are escaped."""
    return [html.escape(str(label), quote=False) for label in labels]


#: Values below this are drawn at it on log axes ("at machine precision").
LOG_FLOOR = 1e-16


def _floats(values, digits: int = 7) -> list[float]:
    """Plain floats rounded to ``digits`` significant digits: what a chart can show, in fewer bytes."""
    return [float(f"{v:.{digits}g}") for v in np.ravel(values)]


def _log_values(values) -> list[float | None]:
    """Values for a log axis: non-finite or non-positive hidden, tiny ones raised to :data:`LOG_FLOOR`."""
    return [max(float(v), LOG_FLOOR) if np.isfinite(v) and v > 0 else None for v in np.ravel(values)]


def preference_heatmap(labels: Sequence[str], matrix: np.ndarray, title: str = "") -> go.Figure:
    """Heat map of ``P[i, j] = P(row ≻ column)`` with the values written in the cells."""
    labels = _escape(labels)
    values = np.asarray(matrix, dtype=float)
    small = len(labels) <= 15
    fig = go.Figure(
        go.Heatmap(
            z=values.tolist(),
            x=list(labels),
            y=list(labels),
            zmin=0.0,
            zmax=1.0,
            colorscale="RdBu",
            text=[[f"{v:.3g}" for v in row] for row in values] if small else None,
            texttemplate="%{text}" if small else None,
            hovertemplate="P(%{y} ≻ %{x}) = %{z:.4f}<extra></extra>",
            colorbar={"title": "P(row ≻ col)"},
        )
    )
    fig.update_layout(
        title=title or None,
        xaxis={"title": "column response", "side": "top", "type": "category"},
        yaxis={"title": "row response", "autorange": "reversed", "type": "category"},
        margin={"l": 10, "r": 10, "t": 60 if title else 40, "b": 10},
        height=max(320, 40 * len(labels) + 120),
    )
    return fig


def policy_bars(labels: Sequence[str], policies: Mapping[str, np.ndarray], title: str = "") -> go.Figure:
    """Grouped bars: the probability each named policy gives each response."""
    labels = _escape(labels)
    fig = go.Figure()
    for name, policy in policies.items():
        fig.add_trace(
            go.Bar(
                name=name,
                x=list(labels),
                y=_floats(policy),
                marker_color=POLICY_COLOURS.get(name),
                hovertemplate=f"{name}: %{{x}} %{{y:.4f}}<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        title=title or None,
        yaxis={"title": "probability", "range": [0, 1]},
        xaxis={"type": "category"},
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 10, "r": 10, "t": 50 if title else 20, "b": 10},
        height=360,
    )
    return fig


def _play_controls(frame_names: list[str], labels: list[str], duration: int = 40) -> dict:
    """Plotly play/pause buttons and a frame slider (they run in the browser)."""
    play = {"frame": {"duration": duration, "redraw": True}, "fromcurrent": True, "transition": {"duration": 0}}
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
    return {
        "updatemenus": [
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.0,
                "y": -0.08,
                "xanchor": "left",
                "yanchor": "top",
                "showactive": False,
                "buttons": [
                    {"label": "▶ Play", "method": "animate", "args": [None, play]},
                    {"label": "❚❚ Pause", "method": "animate", "args": [[None], pause]},
                ],
            }
        ],
        "sliders": [
            {
                "active": 0,
                "x": 0.26,
                "y": -0.04,
                "len": 0.72,
                "ticklen": 0,
                "minorticklen": 0,
                "font": {"size": 1, "color": "rgba(0,0,0,0)"},
                "xanchor": "left",
                "yanchor": "top",
                "currentvalue": {"prefix": "queries: ", "font": {"size": 13, "color": "#444"}},
                "steps": [
                    {
                        "label": label,
                        "method": "animate",
                        "args": [[name], {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"}],
                    }
                    for name, label in zip(frame_names, labels, strict=True)
                ],
            }
        ],
    }


#: Line styles of the extra (fixed) paths on the simplex: an average iterate is dashed purple,
#: other paths (parametric runs) solid green, then dotted brown.
_AVERAGE_PATH_STYLE = {"color": "#9467bd", "width": 2, "dash": "dash"}
_EXTRA_PATH_STYLES = ({"color": "#2ca02c", "width": 1.5}, {"color": "#8c564b", "width": 1.5, "dash": "dot"})


def simplex_animation(
    labels: Sequence[str],
    path: np.ndarray,
    queries: Sequence[int],
    markers: Mapping[str, np.ndarray],
    field: tuple[np.ndarray, np.ndarray] | None = None,
    title: str = "",
    extra_paths: Mapping[str, np.ndarray] | None = None,
) -> dict:
    """A policy moving on the ternary simplex of 3 responses (figure dict with frames).

    ``path`` is ``(R, 3)`` (one point per frame, at ``queries``); ``markers`` are fixed
    named points (Nash, regularized Nash, reference, RLHF); ``field`` is
    ``(points, next_points)``: one solver step from each point, drawn as faint arrows;
    ``extra_paths`` are further fixed paths: an average iterate (dashed purple) or parametric runs (green).
    Built as plain dicts throughout (it is redrawn on every edit).
    """
    labels = _escape(labels)
    path = np.asarray(path, dtype=float)

    def tern(points: np.ndarray) -> dict:
        pts = np.atleast_2d(points)
        return {"a": _floats(pts[:, 0]), "b": _floats(pts[:, 1]), "c": _floats(pts[:, 2])}

    def trace(**kw) -> dict:
        return {"type": "scatterternary", **kw}

    def moving(k: int) -> list[dict]:
        tail = path[max(0, k - _TAIL) : k + 1]
        return [
            trace(
                mode="markers",
                **tern(path[k]),
                name="policy",
                hovertemplate="policy<extra></extra>",
                marker={"size": 16, "color": "#ff7f0e", "line": {"width": 1.5, "color": "black"}},
            ),
            trace(
                mode="lines", **tern(tail), name="recent path", showlegend=False, line={"color": "#ff7f0e", "width": 3}
            ),
        ]

    data = moving(0)
    data.append(
        trace(
            mode="lines",
            **tern(path),
            name="trajectory",
            hoverinfo="skip",
            line={"color": "rgba(255,127,14,0.35)", "width": 1.5},
        )
    )
    others = [name for name in (extra_paths or {}) if "average" not in name]
    for name, other in (extra_paths or {}).items():
        style = _AVERAGE_PATH_STYLE if "average" in name else _EXTRA_PATH_STYLES[others.index(name) % 2]
        data.append(
            trace(
                mode="lines",
                **tern(np.asarray(other)),
                name=name,
                hoverinfo="skip",
                line=style,
            )
        )
    if field is not None:
        start, end = np.asarray(field[0]), np.asarray(field[1])
        step = end - start
        longest = np.abs(step).max() or 1.0
        tip = start + step * (0.06 / longest)
        segments: dict[str, list] = {"a": [], "b": [], "c": []}
        for p, q in zip(start, tip, strict=True):
            for axis, k in (("a", 0), ("b", 1), ("c", 2)):
                segments[axis] += [round(float(p[k]), 5), round(float(q[k]), 5), None]
        data.append(
            trace(
                mode="lines",
                **segments,
                name="update field",
                hoverinfo="skip",
                line={"color": "rgba(90,90,90,0.5)", "width": 1.2},
            )
        )
        data.append(
            trace(
                mode="markers",
                **tern(tip),
                showlegend=False,
                hoverinfo="skip",
                marker={"size": 3, "color": "rgba(90,90,90,0.6)"},
            )
        )
    for name, point in markers.items():
        data.append(
            trace(
                mode="markers",
                **tern(point),
                name=name,
                marker={
                    "size": 12,
                    "symbol": MARKER_SYMBOLS.get(name, "circle"),
                    "opacity": 0.85,
                    "color": POLICY_COLOURS.get(name, "#17becf"),
                    "line": {"width": 1, "color": "white"},
                },
                hovertemplate=f"{name}<br>%{{a:.3f}}, %{{b:.3f}}, %{{c:.3f}}<extra></extra>",
            )
        )
    names = [str(k) for k in range(len(path))]
    layout = {
        "title": {"text": title} if title else None,
        "ternary": {
            "sum": 1,
            "aaxis": {"title": {"text": labels[0]}, "min": 0},
            "baxis": {"title": {"text": labels[1]}, "min": 0},
            "caxis": {"title": {"text": labels[2]}, "min": 0},
        },
        "height": 640,
        "margin": {"l": 50, "r": 50, "t": 50, "b": 120},
        "legend": {"orientation": "v", "x": 1.0, "y": 1.0, "xanchor": "left"},
        **_play_controls(names, [str(int(q)) for q in queries]),
    }
    frames = [{"name": names[k], "data": moving(k), "traces": [0, 1]} for k in range(len(path))]
    return {"data": data, "layout": {k: v for k, v in layout.items() if v is not None}, "frames": frames}


def bar_animation(
    labels: Sequence[str],
    path: np.ndarray,
    queries: Sequence[int],
    markers: Mapping[str, np.ndarray],
    title: str = "",
) -> dict:
    """Animated bars of a policy over many responses, with fixed named policies as ticks (figure dict)."""
    labels = _escape(labels)
    path = np.asarray(path, dtype=float)

    def bars(k: int) -> list[dict]:
        return [
            {"type": "bar", "x": list(labels), "y": _floats(path[k]), "name": "policy", "marker": {"color": "#ff7f0e"}}
        ]

    data = bars(0)
    for name, point in markers.items():
        data.append(
            {
                "type": "scatter",
                "x": list(labels),
                "y": _floats(point),
                "mode": "markers",
                "name": name,
                "marker": {
                    "symbol": "line-ew-open",
                    "size": 26,
                    "line": {"width": 3},
                    "color": POLICY_COLOURS.get(name, "#17becf"),
                },
            }
        )
    top = float(max(path.max(), *(np.max(p) for p in markers.values()))) if markers else float(path.max())
    names = [str(k) for k in range(len(path))]
    layout = {
        "yaxis": {"title": {"text": "probability"}, "range": [0, min(1.0, top * 1.1 + 0.02)]},
        "xaxis": {"type": "category"},
        "height": 460,
        "margin": {"l": 10, "r": 10, "t": 50, "b": 110},
        "legend": {"orientation": "h", "y": -0.35},
        **_play_controls(names, [str(int(q)) for q in queries]),
    }
    if title:
        layout["title"] = {"text": title}
    frames = [{"name": names[k], "data": bars(k), "traces": [0]} for k in range(len(path))]
    return {"data": data, "layout": layout, "frames": frames}


def policy_heatmap(labels: Sequence[str], path: np.ndarray, queries: Sequence[int], title: str = "") -> go.Figure:
    """The policy over time: one row per response, one column per recorded step."""
    labels = _escape(labels)
    path = np.asarray(path, dtype=float)
    fig = go.Figure(
        go.Heatmap(
            z=path.T.tolist(),
            x=[int(q) for q in queries],
            y=list(labels),
            colorscale="Viridis",
            zmin=0,
            colorbar={"title": "π(y)"},
            hovertemplate="queries %{x}<br>%{y}: %{z:.4f}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title or None,
        xaxis={"title": "preference queries"},
        yaxis={"type": "category"},
        height=max(300, 22 * len(labels) + 140),
        margin={"l": 10, "r": 10, "t": 50 if title else 20, "b": 10},
    )
    return fig


def convergence_figure(
    queries: Sequence[int],
    curves: Mapping[str, np.ndarray],
    bound: tuple[str, np.ndarray] | None = None,
    title: str = "",
) -> go.Figure:
    """Metric curves against preference queries on a log scale (non-positive values are hidden)."""
    fig = go.Figure()
    x = [int(q) for q in queries]
    for name, values in curves.items():
        fig.add_trace(go.Scatter(x=x, y=_log_values(values), mode="lines", name=name.replace("_", " ")))
    if bound is not None:
        label, values = bound
        y = _log_values(values)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=label, line={"dash": "dash", "color": "black"}))
    fig.update_layout(
        title=title or None,
        xaxis={"title": "preference queries"},
        yaxis={"title": "value (log scale)", "type": "log", "exponentformat": "power"},
        height=380,
        legend={"orientation": "h", "y": -0.25},
        margin={"l": 10, "r": 10, "t": 50 if title else 20, "b": 10},
    )
    return fig


def race_figure(runs: Mapping[str, tuple[Sequence[int], np.ndarray]], metric: str, title: str = "") -> go.Figure:
    """One curve per solver: ``metric`` against preference queries, log scale."""
    fig = go.Figure()
    for name, (queries, values) in runs.items():
        fig.add_trace(go.Scatter(x=[int(q) for q in queries], y=_log_values(values), mode="lines", name=name))
    fig.update_layout(
        title=title or None,
        xaxis={"title": "preference queries"},
        yaxis={"title": metric.replace("_", " ") + " (log scale)", "type": "log", "exponentformat": "power"},
        height=420,
        legend={"orientation": "h", "y": -0.22},
        margin={"l": 10, "r": 10, "t": 50 if title else 20, "b": 10},
    )
    return fig


def win_rate_heatmap(names: Sequence[str], win_rates: np.ndarray, title: str = "") -> go.Figure:
    """Head-to-head table ``W[a, b] = P(a ≻ b)`` as a heat map centred on 1/2."""
    W = np.asarray(win_rates, dtype=float)
    fig = go.Figure(
        go.Heatmap(
            z=W.tolist(),
            x=list(names),
            y=list(names),
            zmin=0.0,
            zmax=1.0,
            colorscale="RdBu",
            text=[[f"{v:.3f}" for v in row] for row in W],
            texttemplate="%{text}",
            hovertemplate="P(%{y} ≻ %{x}) = %{z:.4f}<extra></extra>",
            colorbar={"title": "row wins"},
        )
    )
    fig.update_layout(
        title=title or None,
        xaxis={"side": "top", "type": "category"},
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(360, 38 * len(names) + 140),
        margin={"l": 10, "r": 10, "t": 80, "b": 10},
    )
    return fig


def sweep_heatmap(
    etas: Sequence[float | None], taus: Sequence[float | None], grid: np.ndarray, metric: str, title: str = ""
) -> go.Figure:
    """``log10`` of a final metric over the (eta, tau) grid; hover shows the value itself."""
    values = np.asarray(grid, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)
    logs = np.where(np.isfinite(logs), logs, np.nan)
    x = ["—" if e is None else f"{e:.3g}" for e in etas]
    y = ["—" if t is None else f"{t:.3g}" for t in taus]
    text = [["invalid" if not np.isfinite(v) else f"{v:.3g}" for v in row] for row in values]
    fig = go.Figure(
        go.Heatmap(
            z=[[None if not np.isfinite(v) else float(v) for v in row] for row in logs],
            x=x,
            y=y,
            text=text,
            colorscale="Viridis",
            colorbar={"title": f"log10 {metric.replace('_', ' ')}"},
            hovertemplate="eta %{x}, tau %{y}<br>" + metric.replace("_", " ") + " = %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title or None,
        xaxis={"title": "eta (step size)", "type": "category"},
        yaxis={"title": "tau (KL strength)", "type": "category"},
        height=520,
        margin={"l": 10, "r": 10, "t": 50 if title else 20, "b": 10},
    )
    return fig


def rewards_bar(
    labels: Sequence[str], rewards: np.ndarray, title: str = "", errors: np.ndarray | None = None
) -> go.Figure:
    """Bradley–Terry rewards, one bar per response (with ±1 standard error bars when given)."""
    labels = _escape(labels)
    error_y = None if errors is None else {"type": "data", "array": _floats(errors), "visible": True}
    fig = go.Figure(
        go.Bar(
            x=list(labels),
            y=_floats(rewards),
            error_y=error_y,
            marker_color="#d62728",
            hovertemplate="%{x}: r = %{y:.4f}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title or None,
        yaxis={"title": "reward r(y) (centred)"},
        xaxis={"type": "category"},
        height=320,
        margin={"l": 10, "r": 10, "t": 50 if title else 20, "b": 10},
    )
    return fig


def interval_heatmap(
    labels: Sequence[str], matrix: np.ndarray, lower: np.ndarray, upper: np.ndarray, counts: np.ndarray
) -> go.Figure:
    """A fitted preference matrix whose hover shows the credible interval and the number of comparisons."""
    fig = preference_heatmap(labels, matrix)
    custom = [
        [[float(lower[i][j]), float(upper[i][j]), int(counts[i][j])] for j in range(len(labels))]
        for i in range(len(labels))
    ]
    fig.update_traces(
        customdata=custom,
        hovertemplate="P(%{y} ≻ %{x}) ≈ %{z:.3f}<br>interval [%{customdata[0]:.3f}, %{customdata[1]:.3f}]"
        "<br>%{customdata[2]} comparisons<extra></extra>",
    )
    return fig


def band_figure(
    x: Sequence[float],
    mean: Mapping[str, np.ndarray],
    std: Mapping[str, np.ndarray],
    y_title: str,
    x_title: str = "comparisons in the dataset",
) -> go.Figure:
    """Mean curves with ±1 standard-deviation bands (over seeds), log-scaled x."""
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    fig = go.Figure()
    xs = [float(v) for v in x]
    for k, (name, m) in enumerate(mean.items()):
        colour = palette[k % len(palette)]
        lo = _floats(np.asarray(m) - np.asarray(std[name]))
        hi = _floats(np.asarray(m) + np.asarray(std[name]))
        fig.add_trace(
            go.Scatter(
                x=xs + xs[::-1],
                y=hi + lo[::-1],
                fill="toself",
                line={"width": 0},
                fillcolor=colour,
                opacity=0.18,
                hoverinfo="skip",
                showlegend=False,
            )
        )
        fig.add_trace(go.Scatter(x=xs, y=_floats(m), mode="lines+markers", name=name, line={"color": colour}))
    fig.update_layout(
        xaxis={"title": x_title, "type": "log"},
        yaxis={"title": y_title},
        height=360,
        legend={"orientation": "h", "y": -0.25},
        margin={"l": 10, "r": 10, "t": 20, "b": 10},
    )
    return fig


def ternary_paths(
    labels: Sequence[str],
    paths: Mapping[str, np.ndarray],
    markers: Mapping[str, np.ndarray],
    title: str = "",
) -> dict:
    """Static ternary plot: named paths ``(R, 3)`` (a dot at their last point) and named fixed markers."""
    labels = _escape(labels)
    data = []
    for k, (name, path) in enumerate(paths.items()):
        pts = np.atleast_2d(np.asarray(path, dtype=float))
        colour = _SERIES_COLOURS[k % len(_SERIES_COLOURS)]
        data.append(
            {
                "type": "scatterternary",
                "mode": "lines+markers",
                "a": _floats(pts[:, 0]),
                "b": _floats(pts[:, 1]),
                "c": _floats(pts[:, 2]),
                "name": html.escape(str(name), quote=False),
                "line": {"color": colour, "width": 2},
                "marker": {"size": [4] * (len(pts) - 1) + [12], "color": colour},
            }
        )
    for name, point in markers.items():
        p = np.asarray(point, dtype=float)
        data.append(
            {
                "type": "scatterternary",
                "mode": "markers",
                "a": [float(p[0])],
                "b": [float(p[1])],
                "c": [float(p[2])],
                "name": name,
                "marker": {
                    "size": 14,
                    "symbol": MARKER_SYMBOLS.get(name, "circle"),
                    "color": POLICY_COLOURS.get(name, "#17becf"),
                    "line": {"width": 1, "color": "white"},
                },
            }
        )
    layout = {
        "ternary": {
            "sum": 1,
            "aaxis": {"title": {"text": labels[0]}, "min": 0},
            "baxis": {"title": {"text": labels[1]}, "min": 0},
            "caxis": {"title": {"text": labels[2]}, "min": 0},
        },
        "height": 420,
        "margin": {"l": 40, "r": 40, "t": 50 if title else 30, "b": 40},
        "legend": {"orientation": "h", "y": -0.1},
    }
    if title:
        layout["title"] = {"text": html.escape(title, quote=False)}
    return {"data": data, "layout": layout}


def metric_lines(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    y_title: str,
    log: bool = False,
    colours: Mapping[str, str] | None = None,
) -> dict:
    """One line per named series ``(x, y)`` against training steps (log y-axis optional).

    ``colours`` pins a colour per name, so a method keeps its colour across figures.
    """
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": [float(v) for v in x],
            "y": _log_values(y) if log else _floats(y),
            "name": html.escape(str(name), quote=False),
            "line": {"color": (colours or {}).get(name, _SERIES_COLOURS[k % len(_SERIES_COLOURS)])},
        }
        for k, (name, (x, y)) in enumerate(series.items())
    ]
    yaxis = {"title": y_title, **({"type": "log", "exponentformat": "power"} if log else {})}
    layout = {
        "xaxis": {"title": "step"},
        "yaxis": yaxis,
        "height": 300,
        "margin": {"l": 10, "r": 10, "t": 20, "b": 10},
        "legend": {"orientation": "h", "y": -0.3},
    }
    return {"data": data, "layout": layout}


_SERIES_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


# ---------------------------------------------------------------------- the paper's comparison (issue 16)
#: Colours of the paper's methods in every study chart: SFT is the reference, RLHF is RLHF, self-play rests at
#: the regularized Nash; Nash-MD-PG runs from the Nash blue (small beta) to IPO's purple at beta = 1 (the best
#: response to mu is IPO's optimum for pairs drawn from mu).
METHOD_COLOURS = {
    "sft": POLICY_COLOURS["reference"],
    "rlhf": POLICY_COLOURS["RLHF"],
    "self-play": POLICY_COLOURS["regularized Nash"],
    "nash-ema-pg": "#8c564b",
}
#: Colours of the two opponents in the beta curve.
OPPONENT_COLOURS = {"rlhf": POLICY_COLOURS["RLHF"], "self-play": POLICY_COLOURS["regularized Nash"]}


def method_colour(name: str) -> str:
    """The colour of a study method (``nash-md-pg(beta=B)`` blends from the Nash blue to IPO's purple with B)."""
    if name in METHOD_COLOURS:
        return METHOD_COLOURS[name]
    if name.startswith("nash-md-pg(beta=") and name.endswith(")"):
        try:
            beta = min(1.0, max(0.0, float(name[len("nash-md-pg(beta=") : -1])))
        except ValueError:
            return "#17becf"
        a, b = POLICY_COLOURS["Nash"], POLICY_COLOURS["IPO"]
        rgb = [round(int(a[k : k + 2], 16) * (1 - beta) + int(b[k : k + 2], 16) * beta) for k in (1, 3, 5)]
        return "#" + "".join(f"{c:02x}" for c in rgb)
    return "#17becf"


def beta_curve_figure(
    betas: Sequence[float],
    exact: Mapping[str, np.ndarray],
    bands: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    measured: Sequence[Mapping] = (),
    title: str = "Nash-MD-PG from self-play (β = 0) to the best response to μ (β = 1)",
) -> dict:
    """Win rate of Nash-MD-PG(β) against each opponent (``exact``: ``{"rlhf": (G,), "self-play": (G,)}``).

    ``bands`` (same keys) are drawn as shaded ranges over seeds behind the exact lines; ``measured`` are
    points ``{"opponent", "beta", "value", "low", "high", "name"}`` (e.g. a language-model study's cells)
    drawn on top with their intervals. A dotted line marks a tie (1/2).
    """
    x = [float(b) for b in betas]
    data: list[dict] = []
    for opponent, (lo, hi) in (bands or {}).items():
        data.append(
            {
                "type": "scatter",
                "x": x + x[::-1],
                "y": _floats(hi) + _floats(lo)[::-1],
                "fill": "toself",
                "fillcolor": OPPONENT_COLOURS.get(opponent, "#7f7f7f"),
                "opacity": 0.18,
                "line": {"width": 0},
                "hoverinfo": "skip",
                "name": f"vs {opponent}: finite-data range over seeds",
            }
        )
    for opponent, values in exact.items():
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": _floats(values),
                "name": f"vs {opponent} (exact)",
                "line": {"color": OPPONENT_COLOURS.get(opponent, "#7f7f7f"), "width": 3},
                "hovertemplate": f"β = %{{x:.3g}}: P(Nash-MD-PG ≻ {opponent}) = %{{y:.4f}}<extra></extra>",
            }
        )
    for opponent in dict.fromkeys(p["opponent"] for p in measured):
        points = [p for p in measured if p["opponent"] == opponent]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [float(p["beta"]) for p in points],
                "y": _floats([p["value"] for p in points]),
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": _floats([p["high"] - p["value"] for p in points]),
                    "arrayminus": _floats([p["value"] - p["low"] for p in points]),
                },
                "name": html.escape(str(points[0].get("name", f"measured vs {opponent}")), quote=False),
                "marker": {
                    "size": 11,
                    "symbol": "diamond",
                    "color": OPPONENT_COLOURS.get(opponent, "#7f7f7f"),
                    "line": {"width": 1.5, "color": "black"},
                },
            }
        )
    layout = {
        "title": {"text": html.escape(title, quote=False)},
        "xaxis": {"title": "mixture coefficient β (0: self-play, 1: best response to μ)", "range": [-0.02, 1.02]},
        "yaxis": {"title": "win rate of Nash-MD-PG(β)"},
        "shapes": [{"type": "line", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5, "line": {"dash": "dot", "color": "#444"}}],
        "height": 420,
        "legend": {"orientation": "h", "y": -0.25},
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
    }
    return {"data": data, "layout": layout}


def study_heatmap(
    names: Sequence[str],
    mean: np.ndarray,
    low: np.ndarray | None = None,
    high: np.ndarray | None = None,
    title: str = "Win rate of row vs column under the true preferences",
) -> dict:
    """The study's table ``W[a, b] = P(a ≻ b)`` as a heat map centred on 1/2, with its interval in each cell."""
    W = np.asarray(mean, dtype=float)
    k = len(names)

    def cell(i: int, j: int) -> str:
        if i == j:
            return "—"
        if low is None or high is None or low[i][j] == high[i][j]:
            return f"{W[i, j]:.3f}"
        return f"{W[i, j]:.3f}<br>[{low[i][j]:.2f}, {high[i][j]:.2f}]"

    shown = _escape(names)
    return {
        "data": [
            {
                "type": "heatmap",
                "z": [_floats(row) for row in W],
                "x": shown,
                "y": shown,
                "zmin": 0.0,
                "zmax": 1.0,
                "colorscale": "RdBu",
                "text": [[cell(i, j) for j in range(k)] for i in range(k)],
                "texttemplate": "%{text}",
                "hovertemplate": "P(%{y} ≻ %{x}) = %{z:.4f}<extra></extra>",
                "colorbar": {"title": {"text": "row wins"}},
            }
        ],
        "layout": {
            "title": {"text": html.escape(title, quote=False)},
            "xaxis": {"side": "top", "type": "category", "title": "column"},
            "yaxis": {"autorange": "reversed", "type": "category", "title": "row"},
            "height": max(380, 48 * k + 160),
            "margin": {"l": 10, "r": 10, "t": 110, "b": 10},
        },
    }


def method_bars(
    labels: Sequence[str],
    policies: Mapping[str, np.ndarray],
    spread: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    title: str = "What each method deploys",
) -> dict:
    """Grouped bars: each method's probability of each response, in the method's colour; ``spread`` adds
    asymmetric error bars (e.g. the range over seeds)."""
    shown = _escape(labels)
    data = []
    for name, policy in policies.items():
        p = np.ravel(np.asarray(policy, dtype=float))
        trace = {
            "type": "bar",
            "name": html.escape(str(name), quote=False),
            "x": shown,
            "y": _floats(p),
            "marker": {"color": method_colour(name)},
            "hovertemplate": f"{html.escape(str(name), quote=False)}: %{{x}} %{{y:.4f}}<extra></extra>",
        }
        if spread and name in spread:
            lo, hi = (np.ravel(np.asarray(v, dtype=float)) for v in spread[name])
            trace["error_y"] = {
                "type": "data",
                "symmetric": False,
                "array": _floats(np.clip(hi - p, 0, None)),
                "arrayminus": _floats(np.clip(p - lo, 0, None)),
            }
        data.append(trace)
    layout = {
        "title": {"text": html.escape(title, quote=False)},
        "barmode": "group",
        "xaxis": {"type": "category", "title": "response"},
        "yaxis": {"title": "probability", "range": [0, 1]},
        "legend": {"orientation": "h", "y": -0.25},
        "height": 400,
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
    }
    return {"data": data, "layout": layout}
