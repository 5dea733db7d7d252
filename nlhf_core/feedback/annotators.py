"""Simulated human feedback: annotator groups, sampled comparisons, and the models fitted to them.

The paper's argument starts from data (Munos et al. 2024, Sections 2–3): people compare pairs of
responses; a **preference model** fitted to those comparisons can represent any preferences,
cycles included, while a **Bradley–Terry reward model** cannot, and its fit depends on which
pairs were shown. This module makes that runnable:

* :class:`AnnotatorPopulation`: groups of annotators, each with its own (possibly transitive)
  preference game and weight, plus label noise; their aggregate can be cyclic (the Condorcet
  paradox).
* :func:`simulate_comparisons`: a seeded :class:`ComparisonDataset` of ``(context, y, y', winner,
  group)`` rows, with pairs drawn uniformly, from the reference, from a given policy, or
  adaptively from the current NLHF estimate.
* :func:`fit_preference_model` (Beta-binomial counts per pair: posterior mean and credible
  interval) and :func:`fit_reward_model` (Bradley–Terry maximum likelihood with standard
  errors), both scored by :func:`held_out_log_likelihood`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit
from scipy.stats import beta as beta_dist

from nlhf_core.baselines.bradley_terry import SEPARABLE_RIDGE, is_separable, newton_bradley_terry, pair_distribution
from nlhf_core.errors import GameValidationError, ParameterError
from nlhf_core.feedback.dataset import ComparisonDataset
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.policies import as_reference, context_rows
from nlhf_core.params import check_seed

#: Largest simulated dataset (rows).
MAX_COMPARISONS = 5_000_000


# ---------------------------------------------------------------------- annotators
@dataclass(frozen=True)
class AnnotatorGroup:
    """One group of annotators: its own preference game (same labels/contexts) and weight."""

    name: str
    game: PreferenceGame
    weight: float = 1.0

    @classmethod
    def from_ranking(cls, name: str, labels: Sequence[str], ranking: Sequence[str], weight: float = 1.0):
        """A perfectly consistent group: it always prefers the response ranked higher."""
        order = {label: k for k, label in enumerate(ranking)}
        if sorted(order) != sorted(labels) or len(order) != len(labels):
            raise GameValidationError(
                f"The ranking of group {name!r} must list every response once ({', '.join(labels)})."
            )
        n = len(labels)
        P = np.full((n, n), 0.5)
        for i in range(n):
            for j in range(n):
                if i != j:
                    P[i, j] = 1.0 if order[labels[i]] < order[labels[j]] else 0.0
        return cls(name, PreferenceGame.from_matrix(P, labels), weight)


@dataclass(frozen=True)
class AnnotatorPopulation:
    """Annotator groups mixed by weight, each label flipped with probability ``noise``.

    The population's true preference is the weight-averaged group preference, passed through
    the noise: ``P = (1 - noise) * sum_g w_g P_g + noise * (1 - sum_g w_g P_g)``.
    """

    groups: tuple[AnnotatorGroup, ...]
    noise: float = 0.0

    def __post_init__(self) -> None:
        if not self.groups:
            raise GameValidationError("A population needs at least one annotator group.")
        first = self.groups[0].game
        for g in self.groups[1:]:
            if g.game.labels != first.labels or g.game.num_contexts != first.num_contexts:
                raise GameValidationError(
                    f"Group {g.name!r} judges different responses or prompts than {self.groups[0].name!r}; "
                    f"every group must use the same labels and contexts."
                )
        weights = np.array([g.weight for g in self.groups], dtype=float)
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise GameValidationError("Group weights must be finite, non-negative and not all 0.")
        if not 0.0 <= self.noise <= 0.5:
            raise ParameterError(
                f"noise = {self.noise:g} is outside [0, 0.5]; it is the probability that a label is flipped."
            )

    @classmethod
    def of(cls, game: PreferenceGame, noise: float = 0.0) -> AnnotatorPopulation:
        """A single group whose preferences are ``game``."""
        return cls((AnnotatorGroup("everyone", game, 1.0),), noise)

    @property
    def weights(self) -> np.ndarray:
        w = np.array([g.weight for g in self.groups], dtype=float)
        return w / w.sum()

    def group_matrices(self) -> np.ndarray:
        """``(G, C, n, n)``: each group's matrices with the label noise applied."""
        stack = np.stack([g.game.matrices for g in self.groups])
        return (1.0 - self.noise) * stack + self.noise * (1.0 - stack)

    def aggregate(self, name: str = "", story: str = "") -> PreferenceGame:
        """The population's preference game (what an infinite dataset converges to)."""
        first = self.groups[0].game
        P = np.einsum("g,gcij->cij", self.weights, self.group_matrices())
        P = 0.5 * (P + 1.0 - np.swapaxes(P, -1, -2))  # exact complementarity despite rounding
        if first.has_contexts:
            return PreferenceGame.from_contexts(
                list(P), first.labels, first.contexts, first.weights, name=name, story=story
            )
        return PreferenceGame.from_matrix(P[0], first.labels, name=name, story=story)


def condorcet_population(labels: Sequence[str] = ("A", "B", "C")) -> AnnotatorPopulation:
    """Three equally large, perfectly consistent groups whose majority is cyclic (A>B>C, B>C>A, C>A>B)."""
    a, b, c = labels
    return AnnotatorPopulation(
        (
            AnnotatorGroup.from_ranking("group 1", labels, [a, b, c]),
            AnnotatorGroup.from_ranking("group 2", labels, [b, c, a]),
            AnnotatorGroup.from_ranking("group 3", labels, [c, a, b]),
        )
    )


# ---------------------------------------------------------------------- datasets


def simulate_comparisons(
    population: AnnotatorPopulation | PreferenceGame,
    size: int,
    *,
    sampling: Any = "uniform",
    reference: Any = None,
    seed: int = 0,
    adaptive_tau: float = 0.1,
    adaptive_rounds: int = 5,
) -> ComparisonDataset:
    """``size`` seeded comparisons: context ``x ~ rho``, pair ``(y, y') ~ sampling``, group ``g ~ w``,
    winner ``~ Bernoulli(P_g(y ≻ y' | x))`` (with the population's label noise).

    ``sampling`` is ``"uniform"``, ``"reference"``, a policy or pair matrix (see
    :func:`nlhf_core.baselines.bradley_terry.pair_distribution`), or ``"adaptive"``: the data come in
    ``adaptive_rounds`` rounds, each drawn from the regularized Nash (``adaptive_tau``) of the
    preference model fitted to the rounds before (on-policy feedback).
    """
    if isinstance(population, PreferenceGame):
        population = AnnotatorPopulation.of(population)
    size = _check_size(size)
    seed = check_seed(seed)
    game = population.aggregate()
    if game.n < 2:
        raise GameValidationError(
            f"The game has a single response ({game.labels[0]!r}), so there is no pair to compare; "
            f"add a second response to simulate comparisons."
        )
    rng = np.random.default_rng(seed)
    if isinstance(sampling, str) and sampling.strip().lower() == "adaptive":
        return _simulate_adaptive(population, game, size, reference, rng, adaptive_tau, adaptive_rounds)
    W = pair_distribution(sampling, game, reference)
    return _draw(population, game, W, size, rng)


def _draw(
    population: AnnotatorPopulation, game: PreferenceGame, W: np.ndarray, size: int, rng: np.random.Generator
) -> ComparisonDataset:
    C, n = game.num_contexts, game.n
    context = rng.choice(C, size=size, p=game.weights)
    flat = W.reshape(C, n * n)
    pairs = np.empty(size, dtype=np.int64)
    for x in range(C):
        rows = np.flatnonzero(context == x)
        pairs[rows] = rng.choice(n * n, size=len(rows), p=flat[x] / flat[x].sum())
    first, second = np.divmod(pairs, n)
    group = rng.choice(len(population.groups), size=size, p=population.weights)
    P = population.group_matrices()[group, context, first, second]
    wins = (rng.random(size) < P).astype(float)
    return ComparisonDataset(
        game.labels, game.contexts, context, first, second, wins, group, tuple(g.name for g in population.groups)
    )


def _simulate_adaptive(population, game, size, reference, rng, tau, rounds) -> ComparisonDataset:
    from nlhf_core.equilibria import regularized_nash  # local: equilibria is heavier and only needed here

    parts = []
    policy = as_reference(reference, game)
    for r in range(rounds):
        chunk = size // rounds + (1 if r < size % rounds else 0)
        W = policy[:, :, None] * policy[:, None, :]
        idx = np.arange(game.n)
        W[:, idx, idx] = 0.0
        W = W / W.sum(axis=(-1, -2), keepdims=True)
        parts.append(_draw(population, game, W, chunk, rng))
        data = _concat(parts)
        model = fit_preference_model(data, game)
        policy = context_rows(regularized_nash(model.game, tau, reference).policy, game)
        policy = 0.9 * policy + 0.1 / game.n  # keep exploring every pair
    return _concat(parts)


def _concat(parts: list[ComparisonDataset]) -> ComparisonDataset:
    first = parts[0]
    joined = {
        f: np.concatenate([getattr(p, f) for p in parts]) for f in ("context", "first", "second", "first_wins", "group")
    }
    return ComparisonDataset(
        first.labels,
        first.contexts,
        joined["context"],
        joined["first"],
        joined["second"],
        joined["first_wins"],
        joined["group"],
        first.group_names,
    )


def _check_size(size: Any) -> int:
    try:
        value = int(size)
    except (TypeError, ValueError):
        value = -1
    if value != size or not 1 <= value <= MAX_COMPARISONS:
        raise ParameterError(f"The dataset size must be a whole number of comparisons in [1, {MAX_COMPARISONS:,}].")
    return value


# ---------------------------------------------------------------------- fitted models
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
    """Mean log-probability a model gives to the observed winners: ``mean_k log P(winner_k ≻ loser_k | x_k)``."""
    if len(data) == 0:
        return float("nan")
    p = matrices[data.context, data.first, data.second]
    p = np.where(data.first_wins > 0.5, p, 1.0 - p)
    return float(np.mean(np.log(np.clip(p, 1e-300, 1.0))))


def _game_like(like: PreferenceGame, matrices: np.ndarray, name: str) -> PreferenceGame:
    if like.has_contexts:
        return PreferenceGame.from_contexts(list(matrices), like.labels, like.contexts, like.weights, name=name)
    return PreferenceGame.from_matrix(matrices[0], like.labels, name=name)
