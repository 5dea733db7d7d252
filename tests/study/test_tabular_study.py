"""Issue 16: the tabular study predicts the paper's table exactly; finite-data tables, intervals, bad settings."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import minimize
from scipy.special import log_expit

from nlhf_core.errors import NLHFError, ParameterError, PolicyError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.presets import get_preset
from nlhf_core.study import (
    beta_curve,
    exact_models,
    paper_findings,
    run_tabular_study,
    sampled_models,
    tabular_settings,
    write_study,
)
from tests.policy_gradient.test_resting_point import damped_fixed_point, random_game


def independent_bradley_terry(P: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """BT maximum likelihood on pairs from mu × mu by BFGS (not the library's Newton)."""
    W = np.outer(mu, mu) * (1 - np.eye(len(mu)))

    def nll(s: np.ndarray) -> float:
        return -float(np.sum(W * P * log_expit(s[:, None] - s[None, :])))

    return minimize(nll, np.zeros(len(mu)), method="BFGS", options={"gtol": 1e-12}).x


def independent_exact_table(game: PreferenceGame, mu: np.ndarray, tau: float, tau_r: float, betas, noise: float):
    """The exact table from scratch: noisy game by hand, BFGS reward, fixed-point iterations, einsum evaluation."""
    names = ["sft", "rlhf", "self-play", *(f"nash-md-pg(beta={b:g})" for b in betas)]
    policies = {m: [] for m in names}
    for P, m in zip(game.matrices, mu, strict=True):
        noisy = (1 - noise) * P + noise * (1 - P)
        r = independent_bradley_terry(noisy, m)
        rlhf = m * np.exp((r - r.max()) / tau_r)
        policies["sft"].append(m)
        policies["rlhf"].append(rlhf / rlhf.sum())
        policies["self-play"].append(damped_fixed_point(noisy, m, tau, 0.0))
        for b in betas:
            policies[f"nash-md-pg(beta={b:g})"].append(damped_fixed_point(noisy, m, tau, b))
    D = np.stack([np.array(policies[k]) for k in names])
    return names, np.einsum("x,axi,xij,bxj->ab", game.weights, D, game.matrices, D), policies


@pytest.mark.parametrize(
    ("which", "noise"), [("random", 0.0), ("random", 0.1), ("two-prompts", 0.0), ("two-prompts", 0.2)]
)
def test_exact_table_equals_an_independent_computation(which, noise):
    if which == "random":
        game, mu = random_game(7, n=4)
        mu = mu[None]
    else:
        game = get_preset("two-prompts")
        mu = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    betas = (0.125, 0.5, 1.0)
    result = run_tabular_study(tabular_settings(game, mu, tau=0.25, rlhf_tau=0.3, betas=betas, pairs=0, noise=noise))
    names, W, policies = independent_exact_table(game, mu, 0.25, 0.3, betas, noise)
    assert list(result.methods) == names
    np.testing.assert_allclose(result.exact, W, atol=1e-8)
    np.testing.assert_array_equal(result.mean, result.exact)
    np.testing.assert_array_equal(result.low, result.high)
    for m in names:
        np.testing.assert_allclose(result.exact_policies[m], np.array(policies[m]), atol=1e-7)
    assert result.settings.seeds == () and result.per_seed.shape == (0, len(names), len(names))


def test_betas_are_sorted_and_end_with_the_best_response():
    s = tabular_settings(get_preset("biased-cycle"), None, betas=[0.5, 0.125], pairs=0)
    assert s.betas == (0.125, 0.5, 1.0)
    assert s.methods == ["sft", "rlhf", "self-play", "nash-md-pg(beta=0.125)", "nash-md-pg(beta=0.5)",
                         "nash-md-pg(beta=1)"]  # fmt: skip


def test_finite_data_mean_and_interval_are_student_t_over_seeds():
    game = get_preset("paper-comparison")
    mu = [0.05, 0.05, 0.7, 0.2]
    result = run_tabular_study(tabular_settings(game, mu, tau=0.1, rlhf_tau=0.3, pairs=3000, seeds=range(8)))
    per_seed = result.per_seed
    assert per_seed.shape[0] == 8
    np.testing.assert_allclose(per_seed + per_seed.transpose(0, 2, 1), 1.0, atol=1e-12)
    mean = per_seed.mean(axis=0)
    half = stats.t.ppf(0.975, 7) * per_seed.std(axis=0, ddof=1) / np.sqrt(8)
    np.testing.assert_allclose(result.mean, mean, atol=1e-12)
    iu = np.triu_indices(len(result.methods), 1)
    np.testing.assert_allclose(result.low[iu], np.clip(mean - half, 0, 1)[iu], atol=1e-12)
    np.testing.assert_allclose(result.high[iu], np.clip(mean + half, 0, 1)[iu], atol=1e-12)
    again = run_tabular_study(tabular_settings(game, mu, tau=0.1, rlhf_tau=0.3, pairs=3000, seeds=range(8)))
    np.testing.assert_array_equal(again.per_seed, per_seed)  # seeded
    assert not np.array_equal(per_seed[0], per_seed[1])


def test_pairs_are_drawn_from_mu_times_mu_identical_ones_carrying_nothing():
    game = get_preset("paper-comparison")
    mu = np.array([0.05, 0.05, 0.7, 0.2])
    s = tabular_settings(game, mu, pairs=2000, seeds=range(1))
    counts = np.array([sampled_models(s, seed).comparisons for seed in range(150)])
    q = 1 - (mu**2).sum()  # probability that two draws from mu differ
    assert abs(counts.mean() - 2000 * q) < 4 * np.sqrt(2000 * q * (1 - q) / 150)


def test_a_lot_of_data_approaches_the_exact_table():
    game = get_preset("paper-comparison")
    s = tabular_settings(game, [0.05, 0.05, 0.7, 0.2], tau=0.1, rlhf_tau=0.3, pairs=2_000_000, seeds=[0, 1])
    result = run_tabular_study(s)
    assert np.abs(result.mean - result.exact).max() < 0.01
    limit = exact_models(s)
    model = sampled_models(s, 0)
    assert np.abs(model.preference.matrices - limit.preference.matrices).max() < 0.02
    np.testing.assert_allclose(model.rewards, limit.rewards, atol=0.05)


def test_beta_curve_runs_from_self_play_to_the_best_response():
    game = get_preset("paper-comparison")
    s = tabular_settings(game, [0.05, 0.05, 0.7, 0.2], tau=0.1, rlhf_tau=0.3, pairs=5000, seeds=range(5))
    curve = beta_curve(s, np.linspace(0, 1, 11))
    table = run_tabular_study(s)
    assert curve.betas[0] == 0 and curve.betas[-1] == 1 and len(curve.betas) == 11
    assert curve.exact_vs_self_play[0] == pytest.approx(0.5, abs=1e-12)  # beta = 0 is self-play itself
    assert curve.exact_vs_rlhf[0] == pytest.approx(table.win_rate("self-play", "rlhf", "exact"), abs=1e-10)
    assert curve.exact_vs_rlhf[-1] == pytest.approx(table.win_rate("nash-md-pg(beta=1)", "rlhf", "exact"), abs=1e-10)
    assert curve.seeds_vs_rlhf.shape == (5, 11)
    np.testing.assert_allclose(curve.seeds_vs_rlhf[:, 5], table.per_seed[:, table.index("nash-md-pg(beta=0.5)"), 1])
    lo, hi = curve.band("rlhf")
    assert np.all(lo <= hi)
    findings = paper_findings(table.exact, table.methods, s.betas)
    assert findings.best_middle_beta == 0.5 and findings.all


def test_an_exact_beta_curve_has_no_band_and_says_so():
    game = get_preset("paper-comparison")
    s = tabular_settings(game, [0.05, 0.05, 0.7, 0.2], tau=0.1, rlhf_tau=0.3, pairs=0)
    curve = beta_curve(s, [0.0, 0.5, 1.0])
    with pytest.raises(ParameterError, match="no finite-data band"):
        curve.band("rlhf")


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"betas": [0.5, 1.2]}, ParameterError, "beta = 1.2 is outside [0, 1]"),
        ({"betas": [-0.1]}, ParameterError, "outside [0, 1]"),
        ({"reference": [0.5, 0.3, 0.3]}, PolicyError, "adds up to 1.1, not 1"),
        ({"reference": [0.5, 0.5, 0.0]}, PolicyError, "probability 0"),
        ({"reference": [0.5, 0.5]}, PolicyError, "has 2 probabilities but the game has 3"),
        ({"pairs": -1}, ParameterError, "whole number in [0"),
        ({"pairs": 2.5}, ParameterError, "whole number"),
        ({"noise": 0.7}, ParameterError, "label noise must be a probability in [0, 0.5]"),
        ({"tau": 0.0}, ParameterError, "tau = 0"),
        ({"rlhf_tau": -1.0}, ParameterError, "RLHF's tau"),
        ({"pairs": 10, "seeds": [1, 1]}, ParameterError, "distinct non-negative"),
        ({"pairs": 10, "seeds": []}, ParameterError, "distinct non-negative"),
    ],
)
def test_bad_settings_get_one_sentence(kwargs, error, words):
    game = get_preset("biased-cycle")
    reference = kwargs.pop("reference", None)
    with pytest.raises(error) as info:
        tabular_settings(game, reference, **kwargs)
    message = str(info.value)
    assert isinstance(info.value, NLHFError) and words in message
    assert message.endswith(".") and "\n" not in message


def test_study_json_has_the_language_model_layout(tmp_path):
    game = get_preset("paper-comparison")
    result = run_tabular_study(tabular_settings(game, [0.05, 0.05, 0.7, 0.2], pairs=500, seeds=[3, 4]))
    data = write_study(result, tmp_path, "preset:paper-comparison")
    lm_keys = {
        "methods", "win_rates", "win_rates_ci_low", "win_rates_ci_high", "win_rates_preference_model",
        "win_rates_preference_model_ci_low", "win_rates_preference_model_ci_high", "interval", "orientation",
        "seeds", "betas", "per_seed", "config", "resolved_config", "wall_time_s",
    }  # fmt: skip
    assert lm_keys <= set(data) and data["engine"] == "tabular"
    assert data["methods"][-1] == "nash-md-pg(beta=1)" and data["seeds"] == [3, 4]
    assert set(data["per_seed"]) == {"3", "4"}
    np.testing.assert_array_equal(data["per_seed"]["4"]["win_rates"], result.per_seed[1])
    assert data["resolved_config"]["sft"]["answer_weights"] == [0.05, 0.05, 0.7, 0.2]
    assert data["resolved_config"]["data"] == {"pairs": 500, "noise": 0.0}
    with open(tmp_path / "study.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][1:] == data["methods"]
    np.testing.assert_allclose([[float(v) for v in r[1:]] for r in rows[1:]], result.mean, atol=1e-15)
    for name in ("study.json", "study_cells.csv", "study.md", "study.svg", "study.html"):
        assert (tmp_path / name).stat().st_size > 0
