"""The LM study's win-rate matrix: interactive through the one heat-map builder, static as SVG."""

from __future__ import annotations

import re

from nlhf_core.viz import study_heatmap, study_heatmap_html, study_heatmap_svg
from nlhf_core.viz.palette import win_rate_colour
from tests.viz.catalogue import STUDY


def test_study_heatmap_has_both_panels_with_intervals_and_a_blank_diagonal():
    spec = study_heatmap(STUDY)
    true, learned = spec["data"]
    assert true["z"] == STUDY["win_rates"] and learned["z"] == STUDY["win_rates_preference_model"]
    assert true["text"][0][1] == "0.3<br>[0.25, 0.35]" and true["text"][1][1] == ""
    assert (true["xaxis"], learned["xaxis"]) == ("x", "x2") and true["showscale"] and not learned["showscale"]
    assert [a["text"] for a in spec["layout"]["annotations"]] == [
        "true preferences (exact)",
        "learned preference model",
    ]


def test_study_without_a_preference_model_has_one_panel():
    spec = study_heatmap({**STUDY, "win_rates_preference_model": None})
    assert len(spec["data"]) == 1 and "annotations" not in spec["layout"]


def test_the_study_writes_svg_and_html_through_viz():
    svg = study_heatmap_svg(STUDY)
    assert svg.startswith("<svg") and svg.count("<rect") == 1 + 9
    fills = re.findall(r'<rect x="[^"]+" y="[^"]+" width="96" height="96" fill="(#[0-9a-f]{6})"', svg)
    assert fills[1] == win_rate_colour(0.3) and fills[0] == win_rate_colour(0.5)
    assert ">0.3</text>" in svg and "[0.25, 0.35]" in svg
    html = study_heatmap_html(STUDY)
    assert "cdn.plot.ly" in html and "learned preference model" in html
