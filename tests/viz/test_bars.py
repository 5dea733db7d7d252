"""Bars: policies on a probability axis, rewards on their own axis that keeps negative rewards in view."""

from __future__ import annotations

import numpy as np
import pytest

from nlhf_core.viz import bar_animation, policy_bars, rewards_bar, role
from nlhf_core.viz.bars import reward_range

PATH = np.array([[1 / 3, 1 / 3, 1 / 3], [0.2, 0.5, 0.3], [0.1, 0.6, 0.3]])


def test_bar_animation_frames_carry_the_policy():
    spec = bar_animation(["a", "b", "c"], PATH, [0, 1, 2], {"Nash": PATH[-1]})
    assert spec["frames"][1]["data"][0]["y"] == [0.2, 0.5, 0.3]
    assert spec["data"][0]["marker"]["color"] == role("policy").colour
    assert spec["data"][1]["marker"]["color"] == role("nash").colour


def test_policy_bars_are_probabilities_in_role_colours():
    spec = policy_bars(["a", "b"], {"Nash": np.array([0.25, 0.75]), "RLHF": np.array([1.0, 0.0])})
    assert spec["layout"]["yaxis"]["range"] == [0, 1] and spec["layout"]["yaxis"]["title"]["text"] == "probability"
    assert [t["y"] for t in spec["data"]] == [[0.25, 0.75], [1.0, 0.0]]
    assert [t["marker"]["color"] for t in spec["data"]] == [role("nash").colour, role("rlhf").colour]


def test_rewards_are_drawn_on_a_reward_axis_that_shows_negative_rewards():
    rewards, errors = np.array([-1.2, 0.3, 0.9]), np.array([0.1, 0.2, 0.1])
    spec = rewards_bar(["a", "b", "c"], rewards, errors=errors)
    y_axis = spec["layout"]["yaxis"]
    assert y_axis["title"]["text"] == "reward"
    low, high = y_axis["range"]
    assert low < -1.3 and high > 1.0  # every bar and its error bar, with a margin
    assert spec["data"][0]["y"] == [-1.2, 0.3, 0.9]
    assert spec["data"][0]["error_y"]["array"] == [0.1, 0.2, 0.1]


def test_named_reward_series_are_grouped_and_keep_their_sign():
    spec = rewards_bar(
        ["a", "b"],
        {"reward model, uniform pairs": np.array([-2.0, 2.0]), "reward model, pairs from μ": np.array([-0.5, 0.5])},
    )
    assert [t["y"] for t in spec["data"]] == [[-2.0, 2.0], [-0.5, 0.5]]
    first, second = (t["marker"] for t in spec["data"])
    assert first["color"] == second["color"] == role("reward-model").colour and second["pattern"]["shape"]
    assert spec["layout"]["yaxis"]["range"][0] < -2.0


@pytest.mark.parametrize(
    ("rewards", "errors", "low_at_most", "high_at_least"),
    [([0.5, 1.0], [None], 0.0, 1.0), ([-3.0, -1.0], [None], -3.0, 0.0), ([0.0, 0.0], [None], 0.0, 0.0)],
)
def test_reward_range_holds_zero_and_every_value(rewards, errors, low_at_most, high_at_least):
    low, high = reward_range([np.array(rewards)], errors)
    assert low <= low_at_most and high >= high_at_least and low < high
