"""`nlhf study --config paper-comparison` at tiny budgets: feedback rounds, the tabular prediction, the errors.

One seed, two betas, a few steps per stage (issue 16, part 5). The checks read the run directories
independently of the study code: the second feedback round was drawn and the further beta's run reused it,
the reward model saw only the SFT model's pairs, and ``tabular_prediction`` equals each method's resting
point recomputed here by a damped fixed-point iteration on the learned preference model's answer matrix
(and RLHF's ``mu exp(r / tau_R)`` on the learned rewards read back by the trainer's own evaluator).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from nlhf_core.cli.main import main
from nlhf_core.games.presets import get_preset
from nlhf_core.llm.config import load_config
from nlhf_core.llm.task import AnswerTask
from nlhf_core.llm.win_rates import preference_model_matrices
from nlhf_core.study.results import nash_md_name
from tests.study.test_prediction import fixed_point

pytestmark = pytest.mark.slow

TINY = [
    "sft.steps=60",
    "sft.batch_size=32",
    "data.pairs=256",
    "data.explore_steps=6",
    "preference_model.steps=20",
    "preference_model.batch_size=32",
    "reward_model.steps=20",
    "reward_model.batch_size=32",
    "policy.steps=6",
    "policy.batch_size=16",
    "policy.eval_every=6",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper-study")
    args = ["study", "--config", "paper-comparison", "--seeds", "0", "--betas", "0.5,1", "--out", str(out), "--quiet"]
    assert main([*args, *(x for item in TINY for x in ("--set", item))]) == 0
    return out, json.loads((out / "study.json").read_text(encoding="utf-8"))


def test_two_feedback_rounds_and_the_further_beta_reuses_them(tiny):
    out, result = tiny
    assert result["methods"] == ["sft", "rlhf", "self-play", nash_md_name(0.5), nash_md_name(1.0)]
    base, extra = out / "runs" / "seed-0" / "base", out / "runs" / "seed-0" / "nash-md-pg-beta-1"
    for stage in ("preference-model-round-1", "self-play-explorer-round-2", "preference-model", "reward-model"):
        assert (base / "checkpoints" / stage / "done.json").exists(), stage
    assert (extra / "data" / "pairs-round-2.safetensors").read_bytes() == (
        base / "data" / "pairs-round-2.safetensors"
    ).read_bytes()
    assert not (extra / "checkpoints" / "self-play-explorer-round-2").exists()
    assert not (extra / "checkpoints" / "preference-model-round-1").exists()
    summary = json.loads((base / "summary.json").read_text())
    assert summary["models"]["pairs"]["count"] == 512  # both rounds
    assert summary["models"]["preference_model"]["held_out_pairs"] == 51  # 10% of both rounds
    assert summary["models"]["reward_model"]["held_out_pairs"] == 26  # 10% of round 1: the SFT model's pairs


def test_tabular_prediction_equals_the_resting_points_of_the_learned_models(tiny):
    out, result = tiny
    base = out / "runs" / "seed-0" / "base"
    config = load_config(base / "config.toml")
    task = AnswerTask.from_game(get_preset("paper-comparison"), config.task.prompt, config.task.hedges)
    summary = json.loads((base / "summary.json").read_text())
    labels = task.game.labels
    sft = np.array([summary["answer_distributions"]["sft"]["answer me"][lab] for lab in labels])
    mu = sft / sft.sum()
    Q = preference_model_matrices(base, config, task)[0, :4, :4]
    Q = 0.5 * (Q + 1 - Q.T)
    rewards = np.array([summary["rlhf"]["rewards"]["answer me"][lab] for lab in labels])  # the trainer's evaluator
    np.testing.assert_allclose(result["reward_model"]["per_seed"]["0"][0], rewards, atol=1e-4)
    rlhf = mu * np.exp(np.array(result["reward_model"]["per_seed"]["0"][0]) / 0.3)
    policies = {"sft": mu, "rlhf": rlhf / rlhf.sum(), "self-play": fixed_point(Q, mu, 0.1, 0.0)}
    for beta in (0.5, 1.0):
        policies[nash_md_name(beta)] = fixed_point(Q, mu, 0.1, beta)
    pred = result["tabular_prediction"]
    assert pred["methods"] == list(policies)
    P = task.game.matrices[0]
    W = np.array([[policies[a] @ P @ policies[b] for b in pred["methods"]] for a in pred["methods"]])
    np.testing.assert_allclose(pred["per_seed"]["0"]["win_rates"], W, atol=1e-6)
    np.testing.assert_allclose(pred["win_rates"], W, atol=1e-6)  # one seed: the mean is that seed
    distances = pred["per_seed"]["0"]["distance_to_resting_point"]
    assert distances["sft"] == pytest.approx(0.0, abs=1e-12) and set(distances) == set(pred["methods"])
    error = np.array(result["preference_model_error"]["per_seed"]["0"])
    np.testing.assert_allclose(error[0], Q - P, atol=1e-12)
    assert result["preference_model_error"]["max_abs"] == pytest.approx(np.abs(Q - P).max())


def test_markdown_reports_prediction_and_errors(tiny):
    out, result = tiny
    md = (out / "study.md").read_text(encoding="utf-8")
    assert "## Tabular prediction from the runs' own learned models" in md
    assert "error on every answer pair" in md
    assert f"{result['tabular_prediction']['win_rates'][1][0]:.3f}" in md
