"""Every figure builder: a valid Plotly figure with a title and titled axes, no raw markup in its names."""

from __future__ import annotations

import re

import plotly.graph_objects as go
import pytest

import nlhf_core.viz as viz
from tests.viz.catalogue import BUILDERS

#: Public functions of nlhf_core.viz that are not figure builders.
HELPERS = {
    "checked_figure",
    "colour_of",
    "export_config",
    "figures_html",
    "marker_of",
    "metric_label",
    "role",
    "role_of",
    "study_heatmap_html",
    "study_heatmap_svg",
    "training_report_html",
    "win_rate_panels",  # drawn through win_rate_heatmap and study_heatmap
}


def _title(entry: object) -> str:
    return (entry or {}).get("title", {}).get("text", "") if isinstance(entry, dict) else ""


def test_the_catalogue_covers_every_public_builder():
    functions = {name for name in viz.__all__ if callable(getattr(viz, name)) and name[0].islower()}
    assert functions - HELPERS == set(BUILDERS)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_figure_is_valid_with_a_title_and_axis_titles(name):
    spec = BUILDERS[name]()
    go.Figure(spec)  # the app hands these dicts to Plotly without re-validating them (app/charts.py)
    layout = spec["layout"]
    assert _title(layout), f"{name} has no title"
    axes = [key for key in layout if re.fullmatch(r"[xy]axis\d*", key)]
    if "ternary" in layout:
        axes = []
        assert all(_title(layout["ternary"][k]) for k in ("aaxis", "baxis", "caxis"))
    else:
        assert axes, f"{name} has no axes in its layout"
    for key in axes:
        assert _title(layout[key]), f"{name}: {key} has no title"
    for trace in spec["data"]:  # every cartesian trace sits on titled axes
        if trace["type"] in ("scatter", "bar", "heatmap"):
            for letter in ("x", "y"):
                ref = trace.get(f"{letter}axis", letter)
                assert _title(layout[f"{letter}axis{ref[1:]}"]), f"{name}: {ref} of {trace.get('name')}"


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_names_and_titles_carry_no_markup_artefacts(name):
    spec = BUILDERS[name]()
    texts = [_title(spec["layout"])] + [str(t.get("name", "")) for t in spec["data"]]
    for text in texts:
        assert "_" not in text and "\\" not in text and "$" not in text, (name, text)
        assert "π* τ" not in text and "π*τ" not in text, (name, text)
