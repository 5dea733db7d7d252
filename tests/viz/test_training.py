"""The LM report's figures: each method's curves in its colour, and the llm report writes them through viz."""

from __future__ import annotations

import json

from nlhf_core.llm.report import _figures
from nlhf_core.viz import answer_distributions, role, training_curves
from tests.viz.catalogue import DISTRIBUTIONS, RECORDS


def test_training_curves_put_each_logged_value_in_its_panel():
    spec = training_curves(RECORDS, ["rlhf", "nash-md-pg"])
    by_axis = {}
    for trace in spec["data"]:
        by_axis.setdefault(trace["yaxis"], {})[trace["name"]] = trace
    assert sorted(by_axis) == ["y", "y2", "y3"]
    kl = by_axis["y3"]["nash-md-pg"]
    assert kl["x"] == [0.0, 1.0, 2.0, 3.0] and kl["y"] == [1.0, 0.1, 0.01, 0.001]
    assert by_axis["y2"]["rlhf"]["y"] == [0.5, 0.51, 0.52, 0.53]
    assert (
        kl["line"]["color"] == role("nash-md").colour and by_axis["y"]["rlhf"]["line"]["color"] == role("rlhf").colour
    )
    assert [t["showlegend"] for t in spec["data"] if t["name"] == "rlhf"] == [True, False, False]
    assert spec["layout"]["yaxis3"]["type"] == "log" and spec["layout"]["yaxis3"]["title"]["text"] == "KL (log scale)"
    assert "type" not in spec["layout"]["yaxis2"]  # win rates within a factor 100: linear


def test_answer_distributions_group_answers_by_prompt():
    spec = answer_distributions(DISTRIBUTIONS)
    first = spec["data"][0]
    assert first["x"] == [["p1", "p1", "p1"], ["a", "b", "c"]] and first["y"] == [0.6, 0.3, 0.1]
    assert first["marker"]["color"] == role("reference").colour  # SFT is the reference μ
    assert spec["data"][1]["marker"]["color"] == role("regularized-nash").colour


def test_the_llm_report_writes_its_figures_through_viz(tmp_path):
    (tmp_path / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in RECORDS), encoding="utf-8")
    summary = {
        "methods": ["sft", "nash-md-pg"],
        "reference_distribution": DISTRIBUTIONS["SFT (μ)"],
        "regularized_nash": DISTRIBUTIONS["regularized Nash"],
        "answer_distributions": {"nash-md-pg": DISTRIBUTIONS["nash-md-pg"]},
    }
    assert _figures(tmp_path, summary) == "figures.html"
    page = (tmp_path / "figures.html").read_text(encoding="utf-8")
    assert page.count("Plotly.newPlot") == 2 and "Training curves" in page and "plotly.min.js" in page
    assert "toImageButtonOptions" in page and role("nash-md").colour in page
