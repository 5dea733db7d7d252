"""The models fitted to simulated comparisons: a preference model and a Bradley–Terry reward model.

The paper's argument (Munos et al. 2024, Sections 2–3): a **preference model** fitted to pairwise
comparisons can represent any preferences, cycles included, while a **Bradley–Terry reward model**
cannot, and its fit depends on which pairs were shown.

* :func:`fit_preference_model`: Beta-binomial counts per pair (posterior mean and credible interval);
* :func:`fit_reward_model`: Bradley–Terry maximum likelihood with standard errors;
* :func:`held_out_log_likelihood`: both scored on comparisons they did not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit
from scipy.stats import beta as beta_dist

from nlhf_core.baselines.bradley_terry import SEPARABLE_RIDGE, is_separable, newton_bradley_terry
from nlhf_core.feedback.dataset import ComparisonDataset
from nlhf_core.games.game import PreferenceGame


@dataclass(frozen=True)
class PreferenceModelFit:
    """Per-pair Beta-binomial preference model: ``P(i ≻ j) ~ Beta(a + wins_ij, a + wins_ji)``.

    ``matrix`` is the posterior mean (complementary by construction; 1/2 where a pair was never
    compared), ``lower``/``upper`` the central credible interval, ``counts`` the comparisons.
    """

    game: PreferenceGame
    lower: np.ndarray = field(repr=False)
    upper: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)

    @property
    def matrix(self) -> np.ndarray:
        return self.game.matrices


def fit_preference_model(
    data: ComparisonDataset, like: PreferenceGame, prior: float = 1.0, credibility: float = 0.9
) -> PreferenceModelFit:
    """Posterior mean, credible interval and counts of every pair's preference probability.

    The prior ``Beta(prior, prior)`` is symmetric, so the posterior means of ``(i, j)`` and
    ``(j, i)`` add up to 1 and an uncompared pair gets 1/2.

    Args:
        data: the comparisons.
        like: the game whose labels and contexts the data use (the fitted game copies them).
        prior: the symmetric Beta prior's parameter ``a > 0`` (1: uniform).
        credibility: mass of the central credible interval, in ``(0, 1)``.

    Returns:
        The :class:`PreferenceModelFit`: the fitted game (posterior means ``(C, n, n)``), interval
        bounds and comparison counts ``(C, n, n)``.
    """
    a = b = prior
    wins, total = data.win_counts()
    mean = (wins + a) / (total + a + b)
    idx = np.arange(like.n)
    mean[:, idx, idx] = 0.5
    tail = (1.0 - credibility) / 2
    lower = beta_dist.ppf(tail, wins + a, total - wins + b)
    upper = beta_dist.ppf(1.0 - tail, wins + a, total - wins + b)
    lower[:, idx, idx] = upper[:, idx, idx] = 0.5
    game = _game_like(like, mean, "fitted preference model")
    return PreferenceModelFit(game, lower, upper, total)


@dataclass(frozen=True)
class RewardModelFit:
    """Bradley–Terry rewards fitted to raw comparisons, with standard errors (per context)."""

    rewards: np.ndarray
    standard_errors: np.ndarray
    separable: bool
    warning: str | None = None

    def predicted(self) -> np.ndarray:
        """``sigmoid(r_i - r_j)``, shape ``(C, n, n)``."""
        return expit(self.rewards[:, :, None] - self.rewards[:, None, :])


def fit_reward_model(data: ComparisonDataset, like: PreferenceGame) -> RewardModelFit:
    """Maximum-likelihood Bradley–Terry rewards ``max_r sum_k log sigmoid(r_winner - r_loser)``.

    Rewards are centred; standard errors come from the inverse observed information (the
    pseudo-inverse, since rewards are only defined up to a constant). Separable data get the
    same documented ridge fallback as :func:`nlhf_core.baselines.bradley_terry.fit_bradley_terry`.

    Args:
        data: the comparisons.
        like: the game whose labels (and number of responses) the data use.

    Returns:
        The :class:`RewardModelFit`: rewards and standard errors ``(C, n)`` (logit units; errors are
        ``inf`` in a context without comparisons), and whether the ridge was needed.
    """
    wins, total = data.win_counts()
    C, n = total.shape[0], like.n
    rewards, errors = np.zeros((C, n)), np.full((C, n), np.inf)
    separable = False
    for x in range(C):
        N = total[x].sum() / 2
        if N == 0:
            continue
        W = total[x] / total[x].sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            P = np.where(total[x] > 0, wins[x] / np.where(total[x] > 0, total[x], 1.0), 0.5)
        ridge = SEPARABLE_RIDGE if is_separable(P, W) else 0.0
        separable |= ridge > 0
        rewards[x] = newton_bradley_terry(P, W, ridge)
        sig = expit(rewards[x][:, None] - rewards[x][None, :])
        curvature = total[x] * sig * (1.0 - sig)  # n_ij sigma (1 - sigma): a weighted graph Laplacian
        information = np.diag(curvature.sum(axis=1)) - curvature + 2 * ridge * N * np.eye(n)
        errors[x] = np.sqrt(np.clip(np.diag(np.linalg.pinv(information)), 0.0, None))
    warning = None
    if separable:
        warning = (
            "Some responses never lose (or never win) in these comparisons, so the Bradley–Terry rewards have no "
            f"finite maximum-likelihood value; a small ridge ({SEPARABLE_RIDGE:g}) keeps them finite."
        )
    return RewardModelFit(rewards, errors, separable, warning)


def held_out_log_likelihood(matrices: np.ndarray, data: ComparisonDataset) -> float:
    """Mean log-probability a model gives to the observed winners: ``mean_k log P(winner_k ≻ loser_k | x_k)``.

    Args:
        matrices: the model's preference matrices ``(C, n, n)``, P[x, i, j] = P(i ≻ j | x).
        data: the held-out comparisons.

    Returns:
        The mean log-likelihood in nats (``<= 0``); NaN for an empty dataset.
    """
    if len(data) == 0:
        return float("nan")
    p = matrices[data.context, data.first, data.second]
    p = np.where(data.first_wins > 0.5, p, 1.0 - p)
    return float(np.mean(np.log(np.clip(p, 1e-300, 1.0))))


def _game_like(like: PreferenceGame, matrices: np.ndarray, name: str) -> PreferenceGame:
    if like.has_contexts:
        return PreferenceGame.from_contexts(list(matrices), like.labels, like.contexts, like.weights, name=name)
    return PreferenceGame.from_matrix(matrices[0], like.labels, name=name)
