"""The Streamlit app with `streamlit.testing.v1.AppTest`: what it shows comes from the core."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nlhf_core.equilibria import nash_equilibrium, regularized_nash
from nlhf_core.presets import get_preset

APP = str(Path(__file__).resolve().parents[1] / "app" / "main.py")


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def bars(fig: dict) -> dict[str, list[float]]:
    return {trace["name"]: trace["y"] for trace in fig["data"]}


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    return at


def test_landing_page_shows_the_first_preset(app):
    game = get_preset("biased-cycle")
    heatmap, policies = figures(app)
    assert heatmap["data"][0]["z"] == game.matrix.tolist()
    assert heatmap["data"][0]["x"] == list(game.labels)
    shown = bars(policies)
    np.testing.assert_allclose(shown["Nash"], nash_equilibrium(game).policy)
    np.testing.assert_allclose(shown["Regularized Nash"], regularized_nash(game, 0.1).policy)
    assert game.story in [i.value for i in app.info]


def test_tau_slider_updates_the_regularized_equilibrium(app):
    app.select_slider(key="tau").set_value(1.0).run()
    assert not app.exception
    shown = bars(figures(app)[1])
    np.testing.assert_allclose(shown["Regularized Nash"], regularized_nash(get_preset("biased-cycle"), 1.0).policy)


def test_every_preset_renders_without_error(app):
    for name in ("rock-paper-scissors", "clone-rps", "random-preferences", "two-prompts"):
        app.selectbox(key="preset").set_value(name).run()
        assert not app.exception and not app.error, name
        assert len(figures(app)) == 2


def test_contextual_game_shows_the_chosen_prompt(app):
    app.selectbox(key="preset").set_value("two-prompts").run()
    app.radio(key="context").set_value("state a fact").run()
    game = get_preset("two-prompts")
    heatmap, policies = figures(app)
    assert heatmap["data"][0]["z"] == game.context("state a fact").matrix.tolist()
    np.testing.assert_allclose(bars(policies)["Nash"], [1.0, 0.0, 0.0])
