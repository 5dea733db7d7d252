"""What the tabular theory predicts from a language-model run's own learned models, and how wrong those models are.

A language-model study trains every method against a learned preference model ``P̂`` (the NLHF methods)
or a learned Bradley–Terry reward ``r̂`` (RLHF). Read at the answer level — ``P̂(x)[i, j]`` the preference
model's probability that answer ``i`` beats answer ``j`` on prompt ``x``, ``r̂(x, i)`` the reward of answer
``i`` — they define a tabular problem whose resting points are known exactly (:mod:`nlhf_core.study.tabular`,
Munos et al. 2024, Section 7): SFT is ``mu``, RLHF ``mu exp(r̂ / tau_R) / Z``, self-play ``pi*_tau`` of ``P̂``,
Nash-MD-PG with mixture ``beta`` ``BR_tau(pi*_{tau/(1-beta)})`` of ``P̂``. :func:`tabular_prediction` evaluates
those policies under the true game; when the language model's measured table agrees with it, training reached
its resting points and the remaining gap to the exact study is the learned models' error, which
:func:`preference_error` reports pair by pair.

Everything here is on the valid answers: ``mu`` is the SFT model's answer distribution renormalized over them
(its malformed mass is a few tenths of a percent), and the malformed category is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlhf_core.games.game import PreferenceGame
from nlhf_core.study.tabular import FittedModels, deploy, evaluate, tabular_settings


@dataclass(frozen=True)
class LearnedModels:
    """A run's learned models at the answer level (``C`` prompts, ``n`` valid answers).

    Attributes:
        reference: ``(C, n)`` the SFT model's answer distribution, renormalized over the valid answers.
        preference: ``(C, n, n)`` ``P̂(x)[i, j]``, made exactly complementary (``P̂ + P̂^T = 1``, diagonal 1/2).
        rewards: ``(C, n)`` ``r̂(x, i)``.
    """

    reference: np.ndarray = field(repr=False)
    preference: np.ndarray = field(repr=False)
    rewards: np.ndarray = field(repr=False)


def learned_models(reference_ext: np.ndarray, preference_ext: np.ndarray, rewards: np.ndarray) -> LearnedModels:
    """The valid-answer part of a run's SFT distribution ``(C, n+1)`` and preference matrices ``(C, n+1, n+1)``.

    The preference model's own matrix is complementary only up to float32 rounding; it is replaced by
    ``(Q + 1 - Q^T) / 2`` with a diagonal of 1/2 (a change below 1e-6).
    """
    n = rewards.shape[1]
    mu = np.asarray(reference_ext, dtype=float)[:, :n]
    Q = np.asarray(preference_ext, dtype=float)[:, :n, :n]
    Q = 0.5 * (Q + 1.0 - np.swapaxes(Q, 1, 2))
    idx = np.arange(n)
    Q[:, idx, idx] = 0.5
    return LearnedModels(mu / mu.sum(axis=1, keepdims=True), Q, np.asarray(rewards, dtype=float))


@dataclass(frozen=True)
class Prediction:
    """The tabular table predicted from one run's learned models.

    Attributes:
        methods: ``sft``, ``rlhf``, ``self-play``, ``nash-md-pg(beta=B)`` per ``beta`` (1 included).
        win_rates: ``(M, M)`` ``P(row ≻ column)`` of the predicted policies under the true game.
        policies: ``{method: (C, n)}`` the predicted resting points.
    """

    methods: list[str]
    win_rates: np.ndarray = field(repr=False)
    policies: dict[str, np.ndarray] = field(repr=False)


def tabular_prediction(
    game: PreferenceGame, learned: LearnedModels, tau: float, rlhf_tau: float, betas: list[float]
) -> Prediction:
    """Every method's resting point given ``learned`` (:func:`nlhf_core.study.tabular.deploy`), judged by ``game``.

    Args:
        game: the true preferences (valid answers only).
        learned: the run's answer-level models and ``mu``.
        tau: the NLHF methods' KL strength; rlhf_tau: RLHF's.
        betas: Nash-MD-PG's mixture coefficients (``beta = 1`` is added when missing).

    Returns:
        The :class:`Prediction`.
    """
    settings = tabular_settings(game, learned.reference, tau=tau, rlhf_tau=rlhf_tau, betas=betas, pairs=0)
    fitted = PreferenceGame(game.labels, learned.preference, game.contexts, game.weights, "learned preference model")
    policies = deploy(settings, FittedModels(fitted, learned.rewards, 0))
    return Prediction(settings.methods, evaluate(game, policies, settings.methods), policies)


def preference_error(game: PreferenceGame, learned: LearnedModels) -> np.ndarray:
    """``(C, n, n)``: ``P̂(x)[i, j] - P(x)[i, j]``, the learned model's error on every answer pair."""
    return learned.preference - game.matrices


def resting_distance(measured: np.ndarray, predicted: np.ndarray, rho: np.ndarray) -> float:
    """Total variation ``sum_x rho(x) (1/2) sum_i |a_x(i) - p_x(i)|`` between a trained policy's answer
    distribution (renormalized over the valid answers) and its predicted resting point, both ``(C, n)``."""
    a = np.asarray(measured, dtype=float)[:, : predicted.shape[1]]
    a = a / a.sum(axis=1, keepdims=True)
    return float(rho @ (0.5 * np.abs(a - predicted).sum(axis=1)))


class SeedPredictions:
    """Collects, seed by seed, the tabular prediction from each run's learned models and their errors."""

    def __init__(
        self, game: PreferenceGame, tau: float, rlhf_tau: float, betas: list[float], prompts: Sequence[str] = ()
    ) -> None:
        self.game, self.tau, self.rlhf_tau, self.betas = game, tau, rlhf_tau, list(betas)
        self.prompts = list(prompts) or list(game.contexts) or [f"context {c}" for c in range(game.num_contexts)]
        self.seeds: list[int] = []
        self.tables: list[np.ndarray] = []
        self.distances: list[dict[str, float]] = []
        self.errors: list[np.ndarray] = []
        self.rewards: list[np.ndarray] = []
        self.methods: list[str] = []

    def add(self, seed: int, dists: dict[str, np.ndarray], preference_ext: np.ndarray, rewards: np.ndarray) -> None:
        """One seed: ``dists`` the trained policies' ``(C, n+1)`` distributions (``sft`` among them), the
        preference model's ``(C, n+1, n+1)`` matrices and the reward model's ``(C, n)`` rewards."""
        learned = learned_models(dists["sft"], preference_ext, rewards)
        found = tabular_prediction(self.game, learned, self.tau, self.rlhf_tau, self.betas)
        rho = np.asarray(self.game.weights, dtype=float)
        self.methods = found.methods
        self.seeds.append(int(seed))
        self.tables.append(found.win_rates)
        self.distances.append(
            {m: resting_distance(dists[m], found.policies[m], rho) for m in found.methods if m in dists}
        )
        self.errors.append(preference_error(self.game, learned))
        self.rewards.append(learned.rewards)

    def to_json(self) -> dict[str, Any]:
        """``study.json``'s ``tabular_prediction``, ``preference_model_error``, ``reward_model`` (or nothing)."""
        if not self.seeds:
            return {}
        from nlhf_core.study.results import INTERVAL, IntervalMatrix

        agg = IntervalMatrix.over_seeds(self.tables)
        err = np.stack(self.errors)
        game = self.game
        return {
            "tabular_prediction": {
                "about": "the tabular resting points of each run's own learned preference and reward models "
                "(answer level; mu = the SFT model's answer distribution over the valid answers), judged under "
                "the true preferences; distance_to_resting_point = total variation between each trained policy "
                "and its predicted resting point",
                "methods": self.methods,
                "win_rates": agg.mean.tolist(),
                "win_rates_ci_low": agg.low.tolist(),
                "win_rates_ci_high": agg.high.tolist(),
                "interval": INTERVAL,
                "per_seed": {
                    str(s): {"win_rates": t.tolist(), "distance_to_resting_point": d}
                    for s, t, d in zip(self.seeds, self.tables, self.distances, strict=True)
                },
            },
            "preference_model_error": {
                "about": "learned minus true P(row answer beats column answer), [context][row][column]",
                "labels": list(game.labels),
                "prompts": self.prompts,
                "true": game.matrices.tolist(),
                "mean": err.mean(axis=0).tolist(),
                "max_abs": float(np.abs(err).max()),
                "per_seed": {str(s): e.tolist() for s, e in zip(self.seeds, self.errors, strict=True)},
            },
            "reward_model": {
                "about": "the learned reward of each answer, [context][answer], per seed (RLHF's signal)",
                "labels": list(game.labels),
                "per_seed": {str(s): r.tolist() for s, r in zip(self.seeds, self.rewards, strict=True)},
            },
        }


def prediction_markdown(data: dict[str, Any]) -> str:
    """Markdown sections for ``study.md``: the tabular prediction, the distances to it and the preference errors."""
    pred, err = data["tabular_prediction"], data["preference_model_error"]
    names = pred["methods"]
    W, L, H = pred["win_rates"], pred["win_rates_ci_low"], pred["win_rates_ci_high"]
    lines = [
        "",
        "## Tabular prediction from the runs' own learned models",
        "",
        "Each method's exact resting point given the seed's learned preference and reward models (answer level), "
        "judged under the true preferences; mean [95% interval] over seeds.",
        "",
        "| row beats column | " + " | ".join(names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for i, m in enumerate(names):
        cells = ["—" if i == j else f"{W[i][j]:.3f} [{L[i][j]:.2f}, {H[i][j]:.2f}]" for j in range(len(names))]
        lines.append(f"| **{m}** | " + " | ".join(cells) + " |")
    seeds = list(pred["per_seed"])
    lines += ["", "Total variation between each trained policy and its predicted resting point, per seed:", ""]
    lines += ["| method | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---" * (len(seeds) + 1) + "|"]
    for m in names:
        row = [pred["per_seed"][s]["distance_to_resting_point"].get(m) for s in seeds]
        lines.append(f"| {m} | " + " | ".join("—" if v is None else f"{v:.3f}" for v in row) + " |")
    labels = err["labels"]
    lines += ["", "## Learned preference model: error on every answer pair", ""]
    for c, context in enumerate(err["prompts"]):
        lines += [
            f"Prompt {context!r}: true P(row ≻ column), then learned minus true, mean over seeds "
            f"(largest error over all seeds and pairs: {err['max_abs']:.3f}).",
            "",
            "| row vs column | " + " | ".join(labels) + " |",
            "|---" * (len(labels) + 1) + "|",
        ]
        for i, a in enumerate(labels):
            cells = [
                "—" if i == j else f"{err['true'][c][i][j]:.3f} ({err['mean'][c][i][j]:+.3f})"
                for j in range(len(labels))
            ]
            lines.append(f"| **{a}** | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"
