"""The LM lab's one-sentence verdict: who beats whom under the true preferences, and why (issue 16, part 6)."""

from __future__ import annotations

import numpy as np
import pytest

from nlhf_core.games.presets import get_preset
from nlhf_core.llm.verdict import verdict

LABELS = ["insightful", "polished", "stock", "witty", "malformed"]


def summary(win_vs_rlhf: float, nlhf_top: str = "insightful") -> dict:
    """A finished run on paper-comparison: RLHF on 'polished', Nash-MD-PG on ``nlhf_top``."""
    dist = {
        "sft": [0.05, 0.05, 0.69, 0.2, 0.01],
        "rlhf": [0.05, 0.8, 0.1, 0.05, 0.0],
        "nash-md-pg": [0.6, 0.1, 0.2, 0.1, 0.0] if nlhf_top == "insightful" else [0.1, 0.85, 0.05, 0.0, 0.0],
    }
    W = {
        "sft": {"sft": 0.5, "rlhf": 0.2, "nash-md-pg": 0.25},
        "rlhf": {"sft": 0.8, "rlhf": 0.5, "nash-md-pg": 1 - win_vs_rlhf},
        "nash-md-pg": {"sft": 0.75, "rlhf": win_vs_rlhf, "nash-md-pg": 0.5},
    }
    return {
        "methods": ["sft", "rlhf", "nash-md-pg"],
        "labels": LABELS,
        "prompts": ["answer me"],
        "beta": 0.5,
        "win_rates": W,
        "answer_distributions": {m: {"answer me": dict(zip(LABELS, d, strict=True))} for m, d in dist.items()},
        "rlhf": {"rewards": {"answer me": dict(zip(LABELS[:4], [3.0, 4.0, 1.0, 0.5], strict=True))}},
    }


def test_the_winner_its_answer_and_why():
    game = get_preset("paper-comparison")
    text = verdict(summary(0.583), game.matrices, game.weights)
    assert text.startswith("Nash-MD-PG (β = 0.5) beats RLHF 0.583 of the time:")
    assert "puts 60% on 'insightful'" in text and "RLHF 80% on 'polished'" in text
    assert f"'insightful' beats 'polished' {game.matrix[0, 1]:.2f} of the time" in text and "0.89" in text
    assert "ranks 'polished' first" in text and text.endswith("every trained policy beats SFT.")


def test_rlhf_winning_same_answer_and_ties():
    game = get_preset("paper-comparison")
    text = verdict(summary(0.45, nlhf_top="polished"), game.matrices, game.weights)
    assert text.startswith("RLHF beats Nash-MD-PG (β = 0.5) 0.550 of the time")
    assert "the same answer" in text
    assert verdict(summary(0.502), game.matrices, game.weights).startswith("Nash-MD-PG (β = 0.5) and RLHF tie (0.502)")


def test_without_rlhf_the_best_method_is_compared_with_sft():
    game = get_preset("paper-comparison")
    s = summary(0.6)
    s["methods"] = ["sft", "nash-md-pg"]
    s.pop("rlhf")
    text = verdict(s, game.matrices, game.weights)
    assert text.startswith("Nash-MD-PG (β = 0.5) beats SFT 0.750 of the time") and "'stock'" in text
    P = np.asarray(game.matrix)
    assert f"{P[0, 2]:.2f}" in text


@pytest.mark.parametrize("loser", [0.5, 0.4])
def test_sft_not_beaten_is_said(loser):
    game = get_preset("paper-comparison")
    s = summary(0.583)
    s["win_rates"]["rlhf"]["sft"], s["win_rates"]["sft"]["rlhf"] = loser, 1 - loser
    assert verdict(s, game.matrices, game.weights).endswith("SFT beats or ties RLHF.")
