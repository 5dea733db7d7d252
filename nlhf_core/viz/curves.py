"""Curves against preference queries, dataset size or training steps.

The metrics converge to 0 at a geometric or ``O(1/T)`` rate (exploitability ``max_y P(y ≻ π) − 1/2``,
``KL(π*_τ ‖ π_t) ≤ 8/(τ²(T+1))`` under Munos et al. 2024, Theorem 1), so their y axis is
logarithmic whenever the values drawn span :data:`~nlhf_core.viz.layout.LOG_DECADES` decades or more
(values at or below 0 are then hidden, tiny ones drawn at :data:`~nlhf_core.viz.layout.LOG_FLOOR`)
and linear otherwise. A series named after a policy or method is drawn in its role's colour;
metric curves take the series colours in turn.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from nlhf_core.viz.layout import (
    FigureSpec,
    axis,
    base_layout,
    escape,
    floats,
    linear_values,
    log_values,
    spans_decades,
    value_axis,
)
from nlhf_core.viz.palette import SERIES_COLOURS, hex_to_rgb, series_styles


def metric_label(key: str) -> str:
    """A display name for a metric key: ``kl_to_equilibrium`` → ``KL to equilibrium``; other names unchanged.

    Only identifiers (lower case, digits, underscores) are rewritten, so a display name such as
    ``"KL to π*_τ"`` keeps its characters.

    Args:
        key: A metric key (``"kl_to_equilibrium"``) or a display name.

    Returns:
        The words of an identifier joined by spaces, ``kl`` written ``KL``; any other text as given.
    """
    if not re.fullmatch(r"[a-z0-9_]+", key):
        return key
    return " ".join("KL" if word == "kl" else word for word in key.split("_") if word)


def _y(values: ArrayLike, log: bool) -> list[float | None]:
    return log_values(values) if log else linear_values(values)


def _line(name: str, x: Sequence[float], y: list[float | None], colour: str, dash: str) -> dict[str, object]:
    line = {"color": colour, **({"dash": dash} if dash != "solid" else {})}
    return {"type": "scatter", "mode": "lines", "x": list(x), "y": y, "name": escape(name), "line": line}


def convergence_figure(
    queries: Sequence[int],
    curves: Mapping[str, np.ndarray],
    bound: tuple[str, np.ndarray] | None = None,
    title: str = "Convergence",
    log: bool | None = None,
) -> FigureSpec:
    """Metric curves against preference queries (log y axis when they span decades).

    Args:
        queries: Preference queries at each recorded point.
        curves: Named metric values (keys such as ``kl_to_equilibrium`` are shown as ``KL to equilibrium``).
        bound: Optional ``(label, values)`` drawn dashed in the colour of the KL curve it bounds.
        title: Figure title.
        log: Force a log (``True``) or linear (``False``) y axis; ``None`` decides from the data.

    Returns:
        A figure dict.
    """
    x = [int(q) for q in queries]
    log = spans_decades([*curves.values(), *([bound[1]] if bound else [])]) if log is None else log
    names = [metric_label(k) for k in curves]
    styles = series_styles(names)
    data = [
        _line(name, x, _y(values, log), s.colour, s.dash)
        for name, values, s in zip(names, curves.values(), styles, strict=True)
    ]
    if bound is not None:
        kl = [s.colour for key, s in zip(curves, styles, strict=True) if key.lower().startswith("kl")]
        colour = kl[0] if kl else SERIES_COLOURS[len(styles) % len(SERIES_COLOURS)]
        data.append(_line(bound[0], x, _y(bound[1], log), colour, "dash"))
    layout = base_layout(title, height=400, xaxis=axis("preference queries"), yaxis=value_axis("metric value", log))
    return {"data": data, "layout": layout}


def race_figure(
    runs: Mapping[str, tuple[Sequence[int], np.ndarray]], metric: str, title: str = "", log: bool | None = None
) -> FigureSpec:
    """One curve per solver (in the solver's colour): ``metric`` against preference queries.

    Args:
        runs: Solver name or title → ``(queries, values)``.
        metric: The metric's key (``exploitability``, ``kl_to_equilibrium``…), used in the titles.
        title: Figure title (default: "Solver race: <metric>").
        log: Force the y scale; ``None`` decides from the data.

    Returns:
        A figure dict.
    """
    log = spans_decades([values for _, values in runs.values()]) if log is None else log
    styles = series_styles(list(runs))
    data = [
        _line(name, [int(q) for q in queries], _y(values, log), s.colour, s.dash)
        for (name, (queries, values)), s in zip(runs.items(), styles, strict=True)
    ]
    label = metric_label(metric)
    layout = base_layout(
        title or f"Solver race: {label}",
        height=440,
        xaxis=axis("preference queries"),
        yaxis=value_axis(label, log),
    )
    return {"data": data, "layout": layout}


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = hex_to_rgb(colour)
    return f"rgba({r},{g},{b},{alpha})"


def band_figure(
    x: Sequence[float],
    mean: Mapping[str, np.ndarray],
    std: Mapping[str, np.ndarray],
    y_title: str,
    x_title: str = "comparisons in the dataset",
    title: str = "",
) -> FigureSpec:
    """Mean curves with ±1 standard-deviation bands (over seeds), log-scaled x.

    Args:
        x: The x values (dataset sizes).
        mean: Named mean curves (named after a role, e.g. "nlhf exploitability", they take its colour).
        std: Standard deviations under the same names.
        y_title: Title of the y axis.
        x_title: Title of the x axis.
        title: Figure title (default: "<y_title> by <x_title>").

    Returns:
        A figure dict.
    """
    xs = [float(v) for v in x]
    data: list[dict[str, object]] = []
    for (name, m), style in zip(mean.items(), series_styles(list(mean)), strict=True):
        lo = floats(np.asarray(m) - np.asarray(std[name]))
        hi = floats(np.asarray(m) + np.asarray(std[name]))
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": xs + xs[::-1],
                "y": hi + lo[::-1],
                "fill": "toself",
                "line": {"width": 0},
                "fillcolor": _rgba(style.colour, 0.18),
                "hoverinfo": "skip",
                "showlegend": False,
            }
        )
        line = {"color": style.colour, **({"dash": style.dash} if style.dash != "solid" else {})}
        data.append(
            {"type": "scatter", "x": xs, "y": floats(m), "mode": "lines+markers", "name": escape(name), "line": line}
        )
    layout = base_layout(
        title or f"{y_title} by {x_title}", height=380, xaxis=axis(x_title, type="log"), yaxis=axis(y_title)
    )
    return {"data": data, "layout": layout}


def metric_lines(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    y_title: str,
    log: bool | None = None,
    colours: Mapping[str, str] | None = None,
    title: str = "",
) -> FigureSpec:
    """One line per named series ``(x, y)`` against training steps.

    Args:
        series: Name (a stage or method, drawn in its role's colour) → ``(steps, values)``.
        y_title: Title of the y axis.
        log: Force the y scale; ``None`` decides from the data (log when it spans decades).
        colours: Optional colours by name, overriding the palette.
        title: Figure title (default: ``y_title``).

    Returns:
        A figure dict (no traces when ``series`` is empty).
    """
    log = spans_decades([y for _, y in series.values()]) if log is None else log
    styles = series_styles(list(series))
    data = [
        _line(name, [float(v) for v in x], _y(y, log), (colours or {}).get(name, s.colour), s.dash)
        for (name, (x, y)), s in zip(series.items(), styles, strict=True)
    ]
    layout = base_layout(title or y_title, height=320, xaxis=axis("step"), yaxis=value_axis(y_title, log))
    layout["legend"] = {"orientation": "h", "y": -0.3}
    return {"data": data, "layout": layout}
