"""A final metric over a grid of step sizes η and KL strengths τ (the Sweeps page).

The colour is ``log10`` of the metric after a fixed number of iterations, so settings that converge
(small values, many decades apart) stay distinguishable; the hover shows the value itself. Settings
outside a solver's valid range (``η τ > 1`` for the mixture-based updates of Munos et al. 2024,
Section 5) are blank and read "invalid".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nlhf_core.viz.curves import metric_label
from nlhf_core.viz.layout import FigureSpec, axis, escape, figure_title, significant

_ROW_HEIGHT, _MAX_HEIGHT = 34, 560


def sweep_heatmap(
    etas: Sequence[float | None], taus: Sequence[float | None], grid: np.ndarray, metric: str, title: str = ""
) -> FigureSpec:
    """``log10`` of a final metric over the ``(η, τ)`` grid; hover shows the value itself.

    Args:
        etas: Step sizes (columns); ``None`` for a solver without one.
        taus: KL strengths (rows); ``None`` for a solver without one (a single row).
        grid: ``(len(taus), len(etas))`` final metric values (NaN where the setting is invalid).
        metric: The metric's key, used in the titles.
        title: Figure title (default: "Final <metric> over (η, τ)").

    Returns:
        A figure dict (its height follows the number of rows).
    """
    values = np.asarray(grid, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)
    label = metric_label(metric)
    trace = {
        "type": "heatmap",
        "z": [[float(v) if np.isfinite(v) else None for v in row] for row in logs],
        "x": ["—" if e is None else f"{e:.3g}" for e in etas],
        "y": ["—" if t is None else f"{t:.3g}" for t in taus],
        "text": [["invalid" if not np.isfinite(v) else significant(v) for v in row] for row in values],
        "colorscale": "Viridis",
        "colorbar": {"title": {"text": f"log10 {escape(label)}"}},
        "hovertemplate": "η %{x}, τ %{y}<br>" + escape(label) + " = %{text}<extra></extra>",
    }
    layout = {
        "title": figure_title(title or f"Final {label} over (η, τ)"),
        "xaxis": axis("η (step size)", type="category"),
        "yaxis": axis("τ (KL strength)", type="category"),
        "height": min(_MAX_HEIGHT, max(260, _ROW_HEIGHT * len(trace["y"]) + 160)),
        "margin": {"l": 10, "r": 10, "t": 60, "b": 10},
    }
    return {"data": [trace], "layout": layout}
