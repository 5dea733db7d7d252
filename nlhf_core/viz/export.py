"""Handing figure dicts to Plotly: without re-validation on screen, as PNG from the toolbar, as HTML files.

:class:`CheckedFigure` is a ``go.Figure`` that carries a figure dict already validated by the tests:
renderers that serialize figures through ``to_dict`` (Streamlit's ``st.plotly_chart`` does) then skip
building one validated object per trace and frame, ~130 ms per animated chart. :func:`export_config`
is the one Plotly ``config`` of every chart: the toolbar's camera button saves a 1600 × 900 PNG
(presentation size) with the figure's title. :func:`figures_html` writes figures into a report page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import plotly.graph_objects as go
import plotly.io

from nlhf_core.viz.layout import FigureSpec

#: Width, height and scale of a figure saved with the toolbar's camera button (a 16:9 slide).
EXPORT_WIDTH, EXPORT_HEIGHT, EXPORT_SCALE = 1600, 900, 1


class CheckedFigure(go.Figure):
    """A ``go.Figure`` that only carries an already-validated figure dict (no per-trace objects are built)."""

    def __init__(self, spec: FigureSpec) -> None:  # skips Figure.__init__ on purpose: no trace objects
        self._spec = spec

    def to_dict(self) -> FigureSpec:
        """The figure dict, as given."""
        return self._spec


def checked_figure(spec: FigureSpec | go.Figure) -> go.Figure:
    """``spec`` as a figure object renderers serialize without re-validating (figure objects pass through).

    Args:
        spec: A validated figure dict, or a ``go.Figure``.

    Returns:
        A :class:`CheckedFigure` wrapping the dict, or the figure object itself.
    """
    return CheckedFigure(spec) if isinstance(spec, dict) else spec


def export_config(name: str) -> dict[str, object]:
    """The Plotly ``config`` of a chart: PNG download at presentation size, named after the chart.

    Args:
        name: The chart's name (its key); characters other than letters, digits, ``-`` and ``_`` become ``-``.

    Returns:
        A Plotly config dict (``toImageButtonOptions`` 1600 × 900, scale 1, file ``nlhf-<name>.png``).
    """
    filename = "nlhf-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")
    return {
        "displaylogo": False,
        "toImageButtonOptions": {
            "format": "png",
            "filename": filename,
            "width": EXPORT_WIDTH,
            "height": EXPORT_HEIGHT,
            "scale": EXPORT_SCALE,
        },
    }


def figures_html(figures: Sequence[tuple[str, FigureSpec]], include_plotlyjs: str = "cdn") -> str:
    """A standalone HTML page with the given figures, one after the other.

    Args:
        figures: ``(name, figure dict)`` pairs; the name sets the PNG file name of each figure's camera button.
        include_plotlyjs: Where plotly.js comes from: ``"cdn"`` or ``"directory"`` (``plotly.min.js``
            beside the page).

    Returns:
        The page's HTML (UTF-8).
    """
    parts = [
        plotly.io.to_html(
            spec,
            full_html=False,
            include_plotlyjs=include_plotlyjs if k == 0 else False,
            config=export_config(name),
        )
        for k, (name, spec) in enumerate(figures)
    ]
    body = "\n".join(parts)
    return f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>"
