"""The pages draw through app.charts: every chart has a title, the PNG export config and the palette."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from nlhf_core.viz import export_config, role

APP = str(Path(__file__).resolve().parents[2] / "app" / "main.py")


def _open(page: str, query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _check_every_chart(at: AppTest) -> None:
    charts = [(json.loads(e.proto.spec), json.loads(e.proto.config)) for e in at.get("plotly_chart")]
    assert charts
    for spec, config in charts:
        options = config["toImageButtonOptions"]
        assert (options["width"], options["height"], options["scale"]) == (1600, 900, 1)
        assert options["filename"].startswith("nlhf-") and spec["layout"]["title"]["text"]


def test_playground_charts_have_titles_export_config_and_role_colours():
    at = _open("app_pages/playground.py", {"preset": "rock-paper-scissors"})
    _check_every_chart(at)
    simplex = json.loads(at.get("plotly_chart")[0].proto.spec)
    colours = {t["name"]: t.get("marker", {}).get("color") for t in simplex["data"] if t.get("mode") == "markers"}
    assert colours["Nash"] == role("nash").colour and colours["RLHF"] == role("rlhf").colour
    assert any(name.startswith("regularized Nash (τ = ") for name in colours)
    field = next(t for t in simplex["data"] if t.get("name") == "update field")
    assert field["marker"]["symbol"] == "arrow"


def test_nlhf_vs_rlhf_draws_rewards_on_a_reward_axis():
    at = _open("app_pages/nlhf_vs_rlhf.py", {"preset": "condorcet-winner"})
    _check_every_chart(at)
    rewards = json.loads(at.get("plotly_chart")[0].proto.spec)
    y = rewards["data"][0]["y"]
    low, high = rewards["layout"]["yaxis"]["range"]
    assert rewards["layout"]["yaxis"]["title"]["text"] == "reward" and low < min(y) < 0 < max(y) < high


def test_feedback_lab_section_5_shows_negative_rewards_on_their_own_axis():
    at = _open("app_pages/feedback_lab.py", {"preset": "condorcet-winner"})
    _check_every_chart(at)
    specs = [json.loads(e.proto.spec) for e in at.get("plotly_chart")]
    by_pairs = next(s for s in specs if s["layout"]["title"]["text"] == "Bradley–Terry reward by the pairs shown")
    assert by_pairs["layout"]["yaxis"]["title"]["text"] == "reward"
    values = np.concatenate([t["y"] for t in by_pairs["data"]])
    low, high = by_pairs["layout"]["yaxis"]["range"]
    assert values.min() < 0 and low < values.min() and high > values.max()
    assert {t["marker"]["color"] for t in by_pairs["data"]} == {role("reward-model").colour}
    assert export_config("x")["toImageButtonOptions"]["width"] == 1600
