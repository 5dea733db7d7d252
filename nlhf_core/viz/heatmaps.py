"""Heat maps: one win-rate builder for every ``P(row ≻ column)`` table, and the policy over time.

Preference matrices ``P[i, j] = P(y_i ≻ y_j)``, fitted preference models with credible intervals,
head-to-head tables ``W[A, B] = P(A ≻ B) = Σ_x ρ(x) π_A(·|x)ᵀ P(x) π_B(·|x)`` (Munos et al. 2024,
Section 3) and the LM study's matrices over seeds all go through :func:`win_rate_heatmap`: the same
diverging colour scale centred on 1/2 (:data:`~nlhf_core.viz.palette.WIN_RATE_COLOURSCALE`), values
with 3 significant digits in the cells while they fit (smaller type from 7 rows, none above
:data:`TEXT_LIMIT`; hover always gives the value), and each policy's role colour on its label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nlhf_core.viz.layout import FigureSpec, axis, escape, escape_all, figure_title, role_ticks, significant
from nlhf_core.viz.palette import plotly_colourscale

#: Rows above which values are no longer written in the cells (hover still shows them).
TEXT_LIMIT = 12
_TEXT_SIZE, _TEXT_MIN_SIZE, _FULL_SIZE_ROWS = 13, 8, 6


@dataclass(frozen=True)
class WinRatePanel:
    """One ``P(row ≻ column)`` table with its optional uncertainty.

    Attributes:
        title: Panel title (the figure title for a single panel).
        values: ``(k, k)`` probabilities that the row beats the column.
        lower: ``(k, k)`` lower ends of intervals, or ``None``.
        upper: ``(k, k)`` upper ends of intervals, or ``None``.
        counts: ``(k, k)`` numbers of comparisons behind each cell, or ``None``.
    """

    title: str
    values: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    counts: np.ndarray | None = None


def cell_text_size(rows: int) -> int | None:
    """Font size of the values written in a ``rows × rows`` heat map, or ``None`` when they are hidden."""
    if rows > TEXT_LIMIT:
        return None
    return max(_TEXT_MIN_SIZE, _TEXT_SIZE - max(0, rows - _FULL_SIZE_ROWS))


def _cell_text(panel: WinRatePanel, blank_diagonal: bool, intervals: bool) -> list[list[str]]:
    """Each cell's value (3 significant digits), with its interval on a second line when asked and given."""
    W, k = np.asarray(panel.values, dtype=float), len(panel.values)
    text = []
    for i in range(k):
        row = []
        for j in range(k):
            cell = "" if blank_diagonal and i == j else significant(W[i, j])
            if cell and intervals and panel.lower is not None and panel.upper is not None:
                cell += f"<br>[{significant(panel.lower[i][j], 2)}, {significant(panel.upper[i][j], 2)}]"
            row.append(cell)
        text.append(row)
    return text


def _hover(panel: WinRatePanel) -> tuple[str, list[list[list[float]]] | None]:
    """Hover template (value, and interval and count when given) and the matching ``customdata``."""
    template = "P(%{y} ≻ %{x}) = %{z:.4g}"
    if panel.lower is None or panel.upper is None:
        return template + "<extra></extra>", None
    k = len(panel.values)
    counts = panel.counts if panel.counts is not None else np.full((k, k), -1)
    custom = [
        [[float(panel.lower[i][j]), float(panel.upper[i][j]), int(counts[i][j])] for j in range(k)] for i in range(k)
    ]
    template += "<br>interval [%{customdata[0]:.3g}, %{customdata[1]:.3g}]"
    if panel.counts is not None:
        template += "<br>%{customdata[2]} comparisons"
    return template + "<extra></extra>", custom


def _heatmap_trace(
    names: list[str], panel: WinRatePanel, *, blank_diagonal: bool, intervals: bool
) -> dict[str, object]:
    """The ``go.Heatmap`` dict of one panel (axes ``x``/``y``; callers re-anchor for side-by-side panels)."""
    size = cell_text_size(len(names))
    two_lines = intervals and panel.lower is not None
    if two_lines and size is not None:
        size = max(_TEXT_MIN_SIZE, size - 2)
    hover, custom = _hover(panel)
    trace: dict[str, object] = {
        "type": "heatmap",
        "z": np.asarray(panel.values, dtype=float).tolist(),  # full precision: W + Wᵀ = 1 survives
        "x": names,
        "y": names,
        "zmin": 0.0,
        "zmax": 1.0,
        "colorscale": plotly_colourscale(),
        "colorbar": {"title": {"text": "P(row ≻ column)"}},
        "hovertemplate": hover,
    }
    if custom is not None:
        trace["customdata"] = custom
    if size is not None:
        text = _cell_text(panel, blank_diagonal, intervals)
        trace.update(text=text, texttemplate="%{text}", textfont={"size": size})
    return trace


def _height(rows: int) -> int:
    """Figure height: 40 px per row up to :data:`TEXT_LIMIT` rows, then shrinking cells (at least 18 px)."""
    cell = 40 if rows <= TEXT_LIMIT else max(18, 480 // rows)
    return max(360, cell * rows + 180)


def win_rate_panels(
    names: Sequence[str],
    panels: Sequence[WinRatePanel],
    title: str,
    *,
    row_title: str = "row policy",
    column_title: str = "column policy",
    role_labels: bool = True,
    blank_diagonal: bool = False,
    intervals_in_cells: bool = True,
) -> FigureSpec:
    """Side-by-side ``P(row ≻ column)`` heat maps over the same names (one colour bar, shared scale).

    Args:
        names: Row and column names (policies or responses).
        panels: The tables to draw, left to right.
        title: Figure title.
        row_title: Title of the y axes.
        column_title: Title of the x axes.
        role_labels: Whether labels carry their policy's role colour (policies, not responses).
        blank_diagonal: Whether the diagonal (a policy against itself, 1/2) is left without text.
        intervals_in_cells: Whether a panel's interval is written under its value (else only in the hover).

    Returns:
        A figure dict with one heat map per panel.
    """
    labels = escape_all(names)
    ticks = role_ticks(labels) if role_labels else {}
    gap = 0.12
    width = (1.0 - gap * (len(panels) - 1)) / len(panels)
    data: list[dict[str, object]] = []
    layout: dict[str, object] = {
        "title": figure_title(title),
        "height": _height(len(labels)),
        "margin": {"l": 10, "r": 10, "t": 90 if len(panels) > 1 else 60, "b": 10},
    }
    annotations = []
    for k, panel in enumerate(panels):
        suffix = "" if k == 0 else str(k + 1)
        trace = _heatmap_trace(labels, panel, blank_diagonal=blank_diagonal, intervals=intervals_in_cells)
        trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}", showscale=k == 0)
        data.append(trace)
        left = k * (width + gap)
        layout[f"xaxis{suffix}"] = axis(
            column_title, type="category", domain=[left, left + width], anchor=f"y{suffix}", **ticks
        )
        labelled = {"showticklabels": False} if k > 0 else ticks  # panels share their rows' labels
        layout[f"yaxis{suffix}"] = axis(
            row_title, autorange="reversed", type="category", anchor=f"x{suffix}", **labelled
        )
        if len(panels) > 1:
            annotations.append(
                {
                    "text": escape(panel.title),
                    "x": left + width / 2,
                    "y": 1.0,
                    "xref": "paper",
                    "yref": "paper",
                    "yanchor": "bottom",
                    "yshift": 6,
                    "showarrow": False,
                }
            )
    if annotations:
        layout["annotations"] = annotations
    return {"data": data, "layout": layout}


def win_rate_heatmap(
    names: Sequence[str],
    win_rates: np.ndarray,
    title: str = "Head to head: P(row ≻ column)",
    *,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    counts: np.ndarray | None = None,
) -> FigureSpec:
    """Head-to-head table ``W[a, b] = P(a ≻ b)`` as a heat map centred on 1/2.

    Args:
        names: Policy names (rows and columns), labelled in their role's colour.
        win_rates: ``(k, k)`` probabilities that the row beats the column.
        title: Figure title.
        lower: Optional ``(k, k)`` interval lower ends (written under each value and in the hover).
        upper: Optional ``(k, k)`` interval upper ends.
        counts: Optional ``(k, k)`` numbers of comparisons (in the hover).

    Returns:
        A figure dict.
    """
    panel = WinRatePanel(title, np.asarray(win_rates, dtype=float), lower, upper, counts)
    return win_rate_panels(names, [panel], title)


def preference_heatmap(
    labels: Sequence[str], matrix: np.ndarray, title: str = "Preferences: P(row ≻ column)"
) -> FigureSpec:
    """Heat map of a preference matrix ``P[i, j] = P(row ≻ column)`` over responses.

    Args:
        labels: Response names.
        matrix: ``(n, n)`` preference probabilities.
        title: Figure title.

    Returns:
        A figure dict.
    """
    panel = WinRatePanel(title, np.asarray(matrix, dtype=float))
    return win_rate_panels(
        labels, [panel], title, row_title="row response", column_title="column response", role_labels=False
    )


def interval_heatmap(
    labels: Sequence[str],
    matrix: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    counts: np.ndarray,
    title: str = "Fitted preferences: P(row ≻ column)",
) -> FigureSpec:
    """A fitted preference matrix whose hover shows the credible interval and the number of comparisons.

    Args:
        labels: Response names.
        matrix: ``(n, n)`` posterior mean preferences.
        lower: ``(n, n)`` interval lower ends.
        upper: ``(n, n)`` interval upper ends.
        counts: ``(n, n)`` comparisons observed per pair.
        title: Figure title.

    Returns:
        A figure dict (cells show the mean; hover adds the interval and the count).
    """
    panel = WinRatePanel(title, np.asarray(matrix, dtype=float), np.asarray(lower), np.asarray(upper), counts)
    return win_rate_panels(
        labels,
        [panel],
        title,
        row_title="row response",
        column_title="column response",
        role_labels=False,
        intervals_in_cells=False,
    )


def policy_heatmap(
    labels: Sequence[str], path: np.ndarray, queries: Sequence[int], title: str = "Policy over time"
) -> FigureSpec:
    """The policy over time: one row per response, one column per recorded step, colour ``π_t(y)``.

    Args:
        labels: Response names.
        path: ``(R, n)`` policies recorded after ``queries`` preference queries.
        queries: ``R`` query counts.
        title: Figure title.

    Returns:
        A figure dict.
    """
    names = escape_all(labels)
    trace = {
        "type": "heatmap",
        "z": np.asarray(path, dtype=float).T.tolist(),
        "x": [int(q) for q in queries],
        "y": names,
        "colorscale": "Viridis",
        "zmin": 0,
        "colorbar": {"title": {"text": "π(y)"}},
        "hovertemplate": "queries %{x}<br>%{y}: %{z:.4g}<extra></extra>",
    }
    layout = {
        "title": figure_title(title),
        "xaxis": axis("preference queries"),
        "yaxis": axis("response", type="category"),
        "height": max(320, 22 * len(names) + 160),
        "margin": {"l": 10, "r": 10, "t": 60, "b": 10},
    }
    return {"data": [trace], "layout": layout}
