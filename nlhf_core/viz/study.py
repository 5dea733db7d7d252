"""Figures of the language-model study: the win-rate matrix over seeds, as interactive HTML and as SVG.

The study (Munos et al. 2024, Section 8, Table 1) reports ``W[A, B] = P(A ≻ B)`` for every pair of
methods, the mean over seeds and a 95 % Student-t interval per cell, under the true preferences and,
when trained, under the learned preference model. The HTML page draws both through
:func:`~nlhf_core.viz.heatmaps.win_rate_panels`; the SVG (no dependency, for papers and READMEs)
uses the same colour scale, :func:`~nlhf_core.viz.palette.win_rate_colour`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np

from nlhf_core.viz.export import figures_html
from nlhf_core.viz.heatmaps import WinRatePanel, win_rate_panels
from nlhf_core.viz.layout import FigureSpec, axis, base_layout, floats, significant
from nlhf_core.viz.palette import colour_of, hex_to_rgb, win_rate_colour


def study_panels(result: Mapping[str, Any]) -> list[WinRatePanel]:
    """The study's matrices: true preferences, then the learned preference model when it was trained."""

    def arrays(prefix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return tuple(np.asarray(result[prefix + s], dtype=float) for s in ("", "_ci_low", "_ci_high"))  # type: ignore[return-value]

    panels = [WinRatePanel("true preferences (exact)", *arrays("win_rates"))]
    if result.get("win_rates_preference_model") is not None:
        panels.append(WinRatePanel("learned preference model", *arrays("win_rates_preference_model")))
    return panels


def study_heatmap(result: Mapping[str, Any]) -> FigureSpec:
    """The study's matrices side by side; cells give the mean and the 95 % interval over seeds.

    Args:
        result: The study result (``methods``, ``seeds``, ``win_rates`` and their ``_ci_low``/``_ci_high``,
            optionally the same for ``win_rates_preference_model``).

    Returns:
        A figure dict.
    """
    seeds = ", ".join(map(str, result["seeds"]))
    title = f"Win rate of row vs column, mean and 95 % t-interval over seeds {seeds}"
    panels = study_panels(result)
    figure = win_rate_panels(result["methods"], panels, title, blank_diagonal=True)
    figure["layout"]["width"] = 760 * len(panels)
    figure["layout"]["height"] = max(figure["layout"]["height"], 720)
    return figure


def study_heatmap_html(result: Mapping[str, Any]) -> str:
    """``study.html``: :func:`study_heatmap` as a standalone page (plotly.js from its CDN).

    Args:
        result: The study result (as for :func:`study_heatmap`).

    Returns:
        The HTML document.
    """
    return figures_html([("study", study_heatmap(result))], include_plotlyjs="cdn")


def study_heatmap_svg(result: Mapping[str, Any]) -> str:
    """``study.svg``: a static heat map (no dependency), mean and 95 % interval in every off-diagonal cell.

    Args:
        result: The study result (as for :func:`study_heatmap`, plus ``config``).

    Returns:
        The SVG document.
    """
    names = result["methods"]
    W, L, H = (result[k] for k in ("win_rates", "win_rates_ci_low", "win_rates_ci_high"))
    k, cell, left, top = len(names), 96, 190, 150
    width, height = left + k * cell + 140, top + k * cell + 50
    seeds = ", ".join(map(str, result["seeds"]))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold">Win rate of row vs column under the true '
        f"preferences (exact), mean over seeds {escape(seeds)}</text>",
        '<text x="10" y="40" font-size="12">cells: mean and 95 % Student-t interval over seeds</text>',
    ]
    for j, name in enumerate(names):
        x = left + j * cell + cell / 2
        parts.append(
            f'<text x="{x}" y="{top - 8}" font-size="12" text-anchor="start" '
            f'transform="rotate(-35 {x} {top - 8})">{escape(name)}</text>'
        )
    for i, name in enumerate(names):
        y = top + i * cell
        parts.append(
            f'<text x="{left - 8}" y="{y + cell / 2 + 4}" font-size="12" text-anchor="end">{escape(name)}</text>'
        )
        for j in range(k):
            x = left + j * cell
            fill = win_rate_colour(W[i][j])
            parts.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" stroke="#888"/>')
            if i != j:
                parts.append(
                    f'<text x="{x + cell / 2}" y="{y + cell / 2 - 2}" font-size="15" text-anchor="middle">'
                    f"{significant(W[i][j])}</text>"
                )
                parts.append(
                    f'<text x="{x + cell / 2}" y="{y + cell / 2 + 16}" font-size="10" text-anchor="middle">'
                    f"[{significant(L[i][j], 2)}, {significant(H[i][j], 2)}]</text>"
                )
    parts.append(
        f'<text x="10" y="{height - 14}" font-size="11">red: row loses, white: 1/2, blue: row wins. '
        f"Generated by nlhf study (config {escape(str(result['config']))}).</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------- the paper's comparison, exact and measured
def table_heatmap(
    names: Sequence[str],
    mean: np.ndarray,
    low: np.ndarray | None = None,
    high: np.ndarray | None = None,
    title: str = "Win rate of row vs column under the true preferences",
) -> FigureSpec:
    """One study table ``W[a, b] = P(a ≻ b)`` (mean, and its interval in each cell when given).

    Args:
        names: The methods, rows and columns alike.
        mean: ``(k, k)`` win rates.
        low: ``(k, k)`` lower ends of the intervals, or ``None``.
        high: ``(k, k)`` upper ends of the intervals, or ``None``.
        title: Figure title.

    Returns:
        A figure dict drawn by :func:`~nlhf_core.viz.heatmaps.win_rate_panels` (blank diagonal).
    """
    panel = WinRatePanel(title, np.asarray(mean, dtype=float), low, high)
    return win_rate_panels(
        names, [panel], title, row_title="row method", column_title="column method", blank_diagonal=True
    )


def beta_curve_figure(
    betas: Sequence[float],
    exact: Mapping[str, np.ndarray],
    bands: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    measured: Sequence[Mapping[str, Any]] = (),
    title: str = "Nash-MD-PG from self-play (β = 0) to the best response to μ (β = 1)",
) -> FigureSpec:
    """Win rate of Nash-MD-PG(β) against each opponent as β runs from 0 to 1 (Munos et al. 2024, Table 1).

    Args:
        betas: The β grid.
        exact: ``{opponent: (G,)}`` exact win rates (opponents ``"rlhf"``, ``"self-play"``), in their role colours.
        bands: The same keys: ``(low, high)`` ranges over finite-data seeds, drawn shaded behind the lines.
        measured: Points ``{"opponent", "beta", "value", "low", "high", "name"}`` (a language-model study's
            cells), drawn on top with their intervals.
        title: Figure title.

    Returns:
        A figure dict; a dotted line marks a tie (1/2).
    """
    x = [float(b) for b in betas]
    data: list[dict[str, object]] = []
    for opponent, (lo, hi) in (bands or {}).items():
        data.append(
            {
                "type": "scatter",
                "x": x + x[::-1],
                "y": floats(hi) + floats(lo)[::-1],
                "fill": "toself",
                "fillcolor": _rgba(colour_of(opponent), 0.18),
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
                "y": floats(values),
                "name": f"vs {opponent} (exact)",
                "line": {"color": colour_of(opponent), "width": 3},
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
                "y": floats([p["value"] for p in points]),
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": floats([p["high"] - p["value"] for p in points]),
                    "arrayminus": floats([p["value"] - p["low"] for p in points]),
                },
                "name": escape(str(points[0].get("name", f"measured vs {opponent}"))),
                "marker": {"size": 11, "symbol": "diamond", "color": colour_of(opponent), "line": {"width": 1.5}},
            }
        )
    layout = base_layout(
        title,
        height=420,
        xaxis=axis("mixture coefficient β (0: self-play, 1: best response to μ)", range=[-0.02, 1.02]),
        yaxis=axis("win rate of Nash-MD-PG(β)"),
        shapes=[{"type": "line", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5, "line": {"dash": "dot", "color": "#777"}}],
    )
    return {"data": data, "layout": layout}


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = hex_to_rgb(colour)
    return f"rgba({r},{g},{b},{alpha})"
