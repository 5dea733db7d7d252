"""Plotly figure builders: data in, ``go.Figure`` out (no Streamlit, no numerics).

Every number drawn comes from the caller (computed and tested in the numerical modules);
these functions only lay it out. Figures use plain lists, not NumPy arrays, so they
serialize compactly and stay readable in tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

#: Colours of the named policies, shared across figures so a policy keeps its colour.
POLICY_COLOURS = {
    "Nash": "#1f77b4",
    "Regularized Nash": "#2ca02c",
    "Reference": "#7f7f7f",
    "RLHF": "#d62728",
}


def preference_heatmap(labels: Sequence[str], matrix: np.ndarray, title: str = "") -> go.Figure:
    """Heat map of ``P[i, j] = P(row ≻ column)`` with the values written in the cells."""
    values = np.asarray(matrix, dtype=float)
    text = [[f"{v:.3g}" for v in row] for row in values]
    fig = go.Figure(
        go.Heatmap(
            z=values.tolist(),
            x=list(labels),
            y=list(labels),
            zmin=0.0,
            zmax=1.0,
            colorscale="RdBu",
            text=text if len(labels) <= 15 else None,
            texttemplate="%{text}" if len(labels) <= 15 else None,
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
    fig = go.Figure()
    for name, policy in policies.items():
        fig.add_trace(
            go.Bar(
                name=name,
                x=list(labels),
                y=[float(p) for p in policy],
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
