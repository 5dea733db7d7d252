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

The models fitted to the comparisons live in :mod:`nlhf_core.feedback.models`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlhf_core.baselines.bradley_terry import pair_distribution
from nlhf_core.errors import GameValidationError, ParameterError
from nlhf_core.feedback.dataset import ComparisonDataset
from nlhf_core.feedback.models import fit_preference_model
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
        """A perfectly consistent group: it always prefers the response ranked higher.

        Args:
            name: the group's name.
            labels: the game's ``n`` response labels.
            ranking: the same labels, best first.
            weight: the group's share of the population (normalized with the others').

        Returns:
            The group, whose game has ``P[i, j] = 1`` when ``i`` is ranked above ``j`` (0 below, 1/2 on the diagonal).

        Raises:
            GameValidationError: ``ranking`` does not list every label exactly once.
        """
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
        """A single group whose preferences are ``game``.

        Args:
            game: the group's preference game.
            noise: probability that a label is flipped, in ``[0, 0.5]``.

        Returns:
            The one-group population.

        Raises:
            ParameterError: ``noise`` is outside ``[0, 0.5]``.
        """
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
        """The population's preference game (what an infinite dataset converges to).

        Args:
            name: the game's title.
            story: the game's story.

        Returns:
            The game with matrices ``(C, n, n)`` ``(1 - noise) sum_g w_g P_g + noise (1 - sum_g w_g P_g)``,
            with the first group's labels, contexts and context weights.
        """
        first = self.groups[0].game
        P = np.einsum("g,gcij->cij", self.weights, self.group_matrices())
        P = 0.5 * (P + 1.0 - np.swapaxes(P, -1, -2))  # exact complementarity despite rounding
        if first.has_contexts:
            return PreferenceGame.from_contexts(
                list(P), first.labels, first.contexts, first.weights, name=name, story=story
            )
        return PreferenceGame.from_matrix(P[0], first.labels, name=name, story=story)


def condorcet_population(labels: Sequence[str] = ("A", "B", "C")) -> AnnotatorPopulation:
    """Three equally large, perfectly consistent groups whose majority is cyclic (A>B>C, B>C>A, C>A>B).

    Args:
        labels: the three response names ``(a, b, c)``.

    Returns:
        The population; its aggregate has ``P(a ≻ b) = P(b ≻ c) = P(c ≻ a) = 2/3``.
    """
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

    Args:
        population: the annotators, or a game (one noiseless group).
        size: number of comparisons, in ``[1, MAX_COMPARISONS]``.
        sampling: how pairs are drawn (see above).
        reference: ``mu`` for ``"reference"`` sampling and the first adaptive round (default uniform).
        seed: seed of every draw.
        adaptive_tau: ``tau`` of the regularized Nash that adaptive rounds sample from.
        adaptive_rounds: number of adaptive rounds.

    Returns:
        The :class:`ComparisonDataset` of ``size`` rows.

    Raises:
        ParameterError: ``size`` is not a whole number in range, or ``adaptive_tau`` is out of range.
        GameValidationError: the game has a single response.
        PolicyError: an invalid ``sampling`` or ``reference``.
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
