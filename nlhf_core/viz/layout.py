"""Shared pieces of every figure: literal labels, compact numbers, titled axes, play controls.

Figures are plain Plotly figure dicts (``{"data", "layout"[, "frames"]}``), which ``st.plotly_chart``,
``plotly.graph_objects.Figure`` and ``plotly.io.to_html`` all accept: building a dict costs
microseconds, validating a few hundred animation frames through ``go.Frame`` costs ~0.4 s. Each
builder's output is validated once, by ``tests/viz``. Numbers are rounded to what a chart can show
(7 significant digits for coordinates, 3 for text written in cells).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from nlhf_core.viz.palette import role_of

#: A Plotly figure as a JSON-like dict: ``{"data": [...], "layout": {...}}`` (and ``"frames"`` when animated).
FigureSpec: TypeAlias = dict[str, Any]

#: Values below this are drawn at it on log axes ("at machine precision").
LOG_FLOOR = 1e-16
#: A log axis is used when the positive values of a figure span at least this many decades.
LOG_DECADES = 2.0


def escape(label: object) -> str:
    """A label as literal text: Plotly reads a subset of HTML in strings, so ``<``, ``>`` and ``&`` are escaped."""
    return html.escape(str(label), quote=False)


def escape_all(labels: Iterable[object]) -> list[str]:
    """:func:`escape` applied to every label."""
    return [escape(label) for label in labels]


def floats(values: ArrayLike, digits: int = 7) -> list[float]:
    """Plain floats rounded to ``digits`` significant digits: what a chart can show, in fewer bytes."""
    return [float(f"{v:.{digits}g}") for v in np.ravel(np.asarray(values, dtype=float))]


def log_values(values: ArrayLike) -> list[float | None]:
    """Values for a log axis: non-finite or non-positive hidden, tiny ones raised to :data:`LOG_FLOOR`."""
    return [
        max(float(v), LOG_FLOOR) if np.isfinite(v) and v > 0 else None
        for v in np.ravel(np.asarray(values, dtype=float))
    ]


def linear_values(values: ArrayLike) -> list[float | None]:
    """Values for a linear axis: non-finite ones hidden, the others rounded by :func:`floats`."""
    return [float(f"{v:.7g}") if np.isfinite(v) else None for v in np.ravel(np.asarray(values, dtype=float))]


def significant(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits (``5e-33``, ``0.505``, ``1``): never a run of zeros."""
    if not np.isfinite(value):
        return "—"
    return f"{float(value):.{digits}g}"


def spans_decades(series: Iterable[ArrayLike], decades: float = LOG_DECADES) -> bool:
    """Whether the finite positive values of all ``series`` (floored at :data:`LOG_FLOOR`) span ``decades`` decades.

    Such data read on a log axis (convergence to 0 at a geometric rate); data within a factor
    ``10**decades`` read better on a linear one.
    """
    positive = [
        max(v, LOG_FLOOR)
        for values in series
        for v in np.ravel(np.asarray(values, dtype=float))
        if np.isfinite(v) and v > 0
    ]
    return bool(positive) and np.log10(max(positive) / min(positive)) >= decades


def figure_title(text: str) -> dict[str, object]:
    """A figure title, centred at the top (its room is the layout's top margin)."""
    return {"text": escape(text), "x": 0.5, "xanchor": "center"}


def axis(title: str, **options: object) -> dict[str, object]:
    """A layout axis with a title (every axis of every figure has one), making room for its tick labels."""
    return {"title": {"text": escape(title)}, "automargin": True, **options}


def value_axis(title: str, log: bool, **options: object) -> dict[str, object]:
    """A y axis for curve values: logarithmic (with power tick labels) when ``log``, else linear."""
    scale = {"type": "log", "exponentformat": "power"} if log else {}
    return axis(f"{title} (log scale)" if log else title, **scale, **options)


def base_layout(title: str, height: int, legend_below: bool = True, **options: object) -> dict[str, object]:
    """Layout shared by the figures: the title, the height, margins and a legend under the plot."""
    layout: dict[str, object] = {
        "title": figure_title(title),
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 60, "b": 10},
    }
    if legend_below:
        layout["legend"] = {"orientation": "h", "y": -0.25}
    return {**layout, **options}


def role_ticks(names: Sequence[str]) -> dict[str, object]:
    """Category-axis ticks that carry each name's role colour as a dot (``● Nash``); plain names otherwise.

    Args:
        names: The axis categories (escaped labels as drawn).

    Returns:
        Axis options (``tickmode``, ``tickvals``, ``ticktext``) to merge into a category axis.
    """
    text = []
    for name in names:
        found = role_of(html.unescape(name))
        text.append(f'<span style="color:{found.colour}">●</span> {name}' if found else name)
    return {"tickmode": "array", "tickvals": list(names), "ticktext": text}


def play_controls(frame_names: list[str], labels: list[str], duration: int = 40) -> dict[str, object]:
    """Plotly play/pause buttons and a frame slider (they run in the browser).

    Args:
        frame_names: Names of the animation frames, in order.
        labels: The slider's label of each frame (preference queries so far).
        duration: Milliseconds per frame while playing.

    Returns:
        Layout entries ``updatemenus`` and ``sliders``.
    """
    play = {"frame": {"duration": duration, "redraw": True}, "fromcurrent": True, "transition": {"duration": 0}}
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
    step_args = {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"}
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
                "font": {"size": 1, "color": "rgba(0,0,0,0)"},  # hides the per-step labels; the prefix shows one
                "xanchor": "left",
                "yanchor": "top",
                "currentvalue": {"prefix": "queries: ", "font": {"size": 13}},
                "steps": [
                    {"label": label, "method": "animate", "args": [[name], step_args]}
                    for name, label in zip(frame_names, labels, strict=True)
                ],
            }
        ],
    }
