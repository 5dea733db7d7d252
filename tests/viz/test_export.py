"""One export config for every chart (PNG at presentation size), and figure dicts handed over unchanged."""

from __future__ import annotations

import json

import numpy as np
import plotly.io
import plotly.tools

from nlhf_core.viz import checked_figure, export_config, figures_html, simplex_animation


def test_png_export_is_1600_by_900_and_named_after_the_chart():
    options = export_config("policy heatmap/1")["toImageButtonOptions"]
    assert options == {"format": "png", "filename": "nlhf-policy-heatmap-1", "width": 1600, "height": 900, "scale": 1}


def test_checked_figure_hands_plotly_the_spec_unchanged():
    """Streamlit serializes figure objects through to_dict: what it sends is our spec, not a re-validated copy."""
    spec = simplex_animation(["a", "b", "c"], np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]), [0, 1], {})
    sent = plotly.tools.return_figure_from_figure_or_data(checked_figure(spec), validate_figure=True)
    assert json.loads(plotly.io.to_json(sent, validate=False)) == json.loads(plotly.io.to_json(spec, validate=False))


def test_figures_html_embeds_plotly_once_and_the_export_config_per_figure():
    spec = {"data": [], "layout": {"title": {"text": "t"}}}
    page = figures_html([("one", spec), ("two", spec)], include_plotlyjs="cdn")
    assert page.count("cdn.plot.ly") == 1 and page.count("toImageButtonOptions") == 2
    assert '"filename": "nlhf-two"' in page and page.startswith("<html><head><meta charset='utf-8'>")
