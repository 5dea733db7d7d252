"""The paper's comparison in the tabular limit: what every method deploys from the same data, exactly.

Munos et al. (2024, Section 8, Table 1) compare SFT, RLHF, self-play and Nash-MD-PG for several
mixture coefficients ``beta`` by pairwise win rates. For a tabular policy every method has a
closed-form (or exactly solvable) resting point given the models fitted to the data, so the whole
table is predicted without training:

* **Data.** ``N`` pairs ``(y, y')`` drawn from ``mu × mu`` (per context ``x ~ rho``), labelled by the
  simulated annotators of :mod:`nlhf_core.feedback` (label noise ``eps`` flips a label). Pairs of two
  identical responses carry no information for either model, so only the ``k ~ Binomial(N, q)``
  pairs of different responses are simulated, ``q = sum_x rho(x) (1 - sum_y mu(y|x)^2)``, with their
  contexts drawn in proportion to ``rho(x) (1 - sum_y mu(y|x)^2)`` (the same law as drawing all ``N``
  and dropping the identical ones). ``N = 0`` is the infinite-data limit: the models are then the
  noisy game itself, ``P_eps = (1 - eps) P + eps (1 - P)``, and its Bradley–Terry fit under ``mu × mu``.
* **Models** (the feedback lab's fits, on the same pairs): the preference model ``P̂`` of
  :func:`~nlhf_core.feedback.fit_preference_model` and the Bradley–Terry reward ``r̂`` of
  :func:`~nlhf_core.feedback.fit_reward_model`.
* **Deployed policies** (shape ``(C, n)``): SFT is ``mu``; RLHF is ``mu exp(r̂ / tau_R) / Z``
  (:func:`~nlhf_core.baselines.bradley_terry.kl_regularized_optimum`); self-play is the regularized Nash ``pi*_tau`` of
  ``P̂`` (:func:`~nlhf_core.equilibria.regularized_nash`); Nash-MD-PG with mixture ``beta`` rests at
  ``BR_tau(pi*_{tau/(1-beta)})`` of ``P̂`` (:mod:`nlhf_core.policy_gradient.resting_point`); ``beta = 1``
  (always included) is the best response to ``mu``.
* **Evaluation.** ``W[a, b] = sum_x rho(x) pi_a(x)^T P(x) pi_b(x)`` under the **true** (noise-free)
  game, exactly complementary; across seeds the mean and a two-sided 95 % Student-t interval
  (the language-model study's :meth:`~nlhf_core.study.results.IntervalMatrix.over_seeds`, so both engines report alike).

No torch is imported: the language-model study module is only used for its NumPy helpers.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlhf_core.baselines.bradley_terry import fit_bradley_terry, kl_regularized_optimum
from nlhf_core.equilibria import check_tau
from nlhf_core.errors import ParameterError
from nlhf_core.feedback.annotators import AnnotatorPopulation, simulate_comparisons
from nlhf_core.feedback.models import fit_preference_model, fit_reward_model
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.policies import as_reference
from nlhf_core.llm.win_rates import win_matrix
from nlhf_core.policy_gradient.resting_point import check_beta, nash_md_pg_resting_points
from nlhf_core.study.results import IntervalMatrix, nash_md_name

#: Largest number of labelled pairs one seed may draw.
MAX_PAIRS = 5_000_000
#: Most seeds one study may run.
MAX_SEEDS = 1000


@dataclass(frozen=True)
class TabularSettings:
    """Validated settings of a tabular study (build them with :func:`tabular_settings`).

    ``reference`` is ``mu`` with shape ``(C, n)``; ``betas`` are sorted, distinct, in ``[0, 1]`` and
    end with 1 (the best response); ``pairs = 0`` is the exact, infinite-data limit.
    """

    game: PreferenceGame = field(repr=False)
    reference: np.ndarray = field(repr=False)
    tau: float
    rlhf_tau: float
    betas: tuple[float, ...]
    pairs: int
    noise: float
    seeds: tuple[int, ...]

    @property
    def methods(self) -> list[str]:
        """Rows and columns of the table, in the paper's order: SFT, RLHF, self-play, Nash-MD-PG by ``beta``."""
        return ["sft", "rlhf", "self-play", *(nash_md_name(b) for b in self.betas)]


def tabular_settings(
    game: PreferenceGame,
    reference: Any = None,
    *,
    tau: float = 0.1,
    rlhf_tau: float = 0.1,
    betas: Iterable[float] = (0.125, 0.25, 0.5),
    pairs: int = 0,
    noise: float = 0.0,
    seeds: Iterable[int] = range(10),
) -> TabularSettings:
    """Check every setting (one sentence per problem) and return them; ``beta = 1`` is added if missing.

    Args:
        game: the true preference game (plain or contextual), ``C`` contexts of ``n`` responses.
        reference: the SFT policy ``mu`` (anything :func:`~nlhf_core.games.policies.as_reference` accepts: a
            vector, one vector per context, ...; None is uniform); every response needs positive probability.
        tau: Nash-MD-PG's and self-play's KL strength ``tau``, in ``[1e-6, 1e6]``.
        rlhf_tau: RLHF's KL strength ``tau_R``, in ``[1e-6, 1e6]``.
        betas: Nash-MD-PG's mixture coefficients, each in ``[0, 1]`` (sorted and merged; 1 is added).
        pairs: labelled pairs per seed, a whole number in ``[0, MAX_PAIRS]``; 0 is the exact, infinite-data limit.
        noise: the probability ``eps`` that a label is flipped, in ``[0, 0.5]``.
        seeds: distinct non-negative integers, 1 to :data:`MAX_SEEDS` of them; dropped (``()``) when
            ``pairs = 0``.

    Returns:
        The :class:`TabularSettings`, ``reference`` of shape ``(C, n)``.

    Raises:
        ParameterError: ``tau``, ``rlhf_tau``, a beta, ``pairs``, ``noise`` or the seeds are out of range.
        PolicyError: ``reference`` is not a valid policy of ``game`` or gives a response probability 0.
    """
    mu = as_reference(reference, game)
    tau = check_tau(tau)
    try:
        rlhf_tau = check_tau(rlhf_tau)
    except ParameterError as err:
        raise ParameterError(f"RLHF's {err}") from None
    values = sorted({check_beta(b) for b in betas} | {1.0})
    if not isinstance(pairs, int | np.integer) or isinstance(pairs, bool) or not 0 <= pairs <= MAX_PAIRS:
        raise ParameterError(
            f"The number of labelled pairs must be a whole number in [0, {MAX_PAIRS:,}] (0: the exact, "
            f"infinite-data limit), not {pairs!r}."
        )
    try:
        noise = float(noise)
    except (TypeError, ValueError):
        noise = float("nan")
    if not 0.0 <= noise <= 0.5:
        raise ParameterError(f"The label noise must be a probability in [0, 0.5] (a flipped label), not {noise:g}.")
    seeds_t = tuple(int(s) for s in seeds)
    if pairs and (not seeds_t or min(seeds_t) < 0 or len(set(seeds_t)) != len(seeds_t) or len(seeds_t) > MAX_SEEDS):
        raise ParameterError(
            f"Seeds must be distinct non-negative integers, between 1 and {MAX_SEEDS} of them; e.g. seeds 0..9."
        )
    return TabularSettings(game, mu, tau, rlhf_tau, tuple(values), int(pairs), noise, seeds_t if pairs else ())


# ---------------------------------------------------------------------- models and policies
@dataclass(frozen=True)
class FittedModels:
    """What the learners know: the preference model ``P̂`` (a game) and the Bradley–Terry rewards ``(C, n)``."""

    preference: PreferenceGame = field(repr=False)
    rewards: np.ndarray
    comparisons: int


def exact_models(settings: TabularSettings) -> FittedModels:
    """The infinite-data models: the noisy game itself and its Bradley–Terry fit under ``mu × mu`` pairs.

    The noisy game is ``P_eps = (1 - eps) P + eps (1 - P)``; the rewards maximize its Bradley–Terry likelihood
    with pairs weighted by ``mu × mu`` per context (:func:`~nlhf_core.baselines.bradley_terry.fit_bradley_terry`).

    Args:
        settings: the study's settings (game, ``mu`` and noise ``eps`` are read).

    Returns:
        :class:`FittedModels` with ``preference = P_eps``, Bradley–Terry ``rewards`` of shape ``(C, n)`` and
        ``comparisons = 0`` (no data drawn).
    """
    noisy = AnnotatorPopulation.of(settings.game, settings.noise).aggregate()
    rewards = fit_bradley_terry(noisy, "reference", settings.reference).scores
    return FittedModels(noisy, rewards, 0)


def sampled_models(settings: TabularSettings, seed: int) -> FittedModels:
    """Both models fitted to the same ``settings.pairs`` pairs from ``mu × mu`` (seeded; see the module notes).

    Only the ``k ~ Binomial(N, q)`` pairs of different responses are simulated,
    ``q = sum_x rho(x) (1 - sum_y mu(y|x)^2)``, their contexts drawn in proportion to
    ``rho(x) (1 - sum_y mu(y|x)^2)``, each label flipped with probability ``eps``.

    Args:
        settings: the study's settings (``N = pairs``, game, ``mu`` and noise ``eps`` are read).
        seed: a non-negative integer; the same seed draws the same pairs and gives the same models.

    Returns:
        :class:`FittedModels`: the fitted preference model ``P̂`` (a game like ``settings.game``), Bradley–Terry
        ``rewards`` ``(C, n)`` and ``comparisons = k``. When ``k = 0`` the model is a game of coin flips
        (``P̂ = 1/2`` everywhere) and the rewards are zero.
    """
    game, mu = settings.game, settings.reference
    informative = game.weights * (1.0 - (mu**2).sum(axis=1))
    rng = np.random.default_rng([seed, 16])
    k = int(rng.binomial(settings.pairs, min(1.0, float(informative.sum()))))
    if k == 0:  # nothing to learn from: a preference model of coin flips and a flat reward
        half = np.full_like(game.matrices, 0.5)
        return FittedModels(_like(game, half), np.zeros_like(mu), 0)
    drawn = PreferenceGame(game.labels, game.matrices, game.contexts, informative / informative.sum(), game.name)
    data = simulate_comparisons(
        AnnotatorPopulation.of(drawn, settings.noise), k, sampling="reference", reference=mu, seed=seed
    )
    preference = fit_preference_model(data, game).game
    return FittedModels(preference, fit_reward_model(data, game).rewards, k)


def deploy(settings: TabularSettings, models: FittedModels) -> dict[str, np.ndarray]:
    """Every method's resting point ``(C, n)`` given the fitted models, keyed like :attr:`TabularSettings.methods`.

    Self-play's ``pi*_tau`` is Nash-MD-PG's resting point at ``beta = 0`` (the mixture is the policy).

    SFT deploys ``mu``; RLHF ``mu exp(r̂ / tau_R) / Z``; Nash-MD-PG with mixture ``beta`` the resting point
    ``BR_tau(pi*_{tau/(1-beta)})`` of ``P̂`` (Munos et al. 2024, Section 7), ``beta = 1`` the best response
    to ``mu``.

    Args:
        settings: the study's settings (``mu``, ``tau``, ``tau_R`` and the betas are read).
        models: the fitted models (:func:`exact_models` or :func:`sampled_models`).

    Returns:
        ``{method: policy}`` with every policy of shape ``(C, n)``, in the order of
        :attr:`TabularSettings.methods`.

    Raises:
        SolverError: only if a regularized Nash of ``P̂`` cannot be certified (not expected for a valid game).
    """
    mu, shape = settings.reference, settings.reference.shape
    points = nash_md_pg_resting_points(models.preference, settings.tau, (0.0, *settings.betas), mu)
    out = {"sft": mu, "rlhf": kl_regularized_optimum(models.rewards, settings.rlhf_tau, mu)}
    out["self-play"] = points[0].mixture.reshape(shape)
    for beta, point in zip(settings.betas, points[1:], strict=True):
        out[nash_md_name(beta)] = point.policy.reshape(shape)
    return out


def evaluate(game: PreferenceGame, policies: Mapping[str, np.ndarray], names: Iterable[str]) -> np.ndarray:
    """``W[a, b] = sum_x rho(x) pi_a(x)^T P(x) pi_b(x)`` for the named policies (``W + W^T = 1``).

    Args:
        game: the game that judges (``P`` of shape ``(C, n, n)`` and context weights ``rho``): the true game, or
            a fitted preference model to see what the learners believe.
        policies: ``{method: policy}``, each policy of shape ``(C, n)`` (:func:`deploy`).
        names: the ``M`` methods to compare, in row/column order; each must be a key of ``policies``.

    Returns:
        ``W`` of shape ``(M, M)``, made exactly complementary (the lower triangle is ``1 - W^T``) with 1/2 on
        the diagonal.
    """
    return win_matrix([policies[m] for m in names], game.matrices, game.weights)


# ---------------------------------------------------------------------- the study
@dataclass(frozen=True)
class TabularStudyResult:
    """A tabular study: the exact table, the finite-data tables per seed and their mean and 95 % interval.

    Attributes:
        settings: what was run.
        methods: row/column names (``sft``, ``rlhf``, ``self-play``, ``nash-md-pg(beta=B)``).
        exact: ``(M, M)`` win rates of the infinite-data policies under the true game.
        exact_policies: ``{method: (C, n)}`` infinite-data policies.
        exact_model: ``(M, M)`` the infinite-data policies judged by the infinite-data preference model
            (the noisy game): what the learners believe.
        per_seed: ``(S, M, M)`` win rates of each seed's policies (``S = 0`` when ``pairs = 0``).
        per_seed_model: ``(S, M, M)`` the same under each seed's fitted preference model ``P̂``.
        seed_policies: ``(S, M, C, n)`` each seed's policies.
        comparisons: ``(S,)`` pairs of different responses each seed drew.
        mean, low, high: ``(M, M)`` mean over seeds and two-sided 95 % Student-t interval (``exact`` when
            ``pairs = 0``).
        wall_time_s: seconds the study took.
    """

    settings: TabularSettings = field(repr=False)
    methods: tuple[str, ...]
    exact: np.ndarray = field(repr=False)
    exact_policies: dict[str, np.ndarray] = field(repr=False)
    exact_model: np.ndarray = field(repr=False)
    per_seed: np.ndarray = field(repr=False)
    per_seed_model: np.ndarray = field(repr=False)
    seed_policies: np.ndarray = field(repr=False)
    comparisons: np.ndarray = field(repr=False)
    mean: np.ndarray = field(repr=False)
    low: np.ndarray = field(repr=False)
    high: np.ndarray = field(repr=False)
    wall_time_s: float

    def index(self, method: str) -> int:
        """Row of ``method`` (a name of :attr:`methods`).

        Args:
            method: a method's name, e.g. ``rlhf`` or ``nash-md-pg(beta=0.125)``.

        Returns:
            Its row (and column) index in every ``(M, M)`` table.

        Raises:
            ParameterError: the study has no such method (the message lists those it has).
        """
        try:
            return self.methods.index(method)
        except ValueError:
            raise ParameterError(f"The study has no method {method!r}; it has {', '.join(self.methods)}.") from None

    def win_rate(self, row: str, column: str, table: str = "mean") -> float:
        """``P(row ≻ column)`` from ``table`` (``mean``, ``exact``, ``low`` or ``high``).

        Args:
            row: the method whose win rate is read.
            column: its opponent.
            table: the name of an ``(M, M)`` table of this result: ``mean``, ``exact``, ``low``, ``high`` (or
                ``exact_model``).

        Returns:
            ``table[index(row), index(column)]`` as a float.

        Raises:
            ParameterError: ``row`` or ``column`` is not a method of the study.
        """
        return float(getattr(self, table)[self.index(row), self.index(column)])

    def to_json(self, game: str = "") -> dict[str, Any]:
        """``study.json`` in the layout both engines share (:mod:`nlhf_core.study.results`).

        Args:
            game: the ``task.game`` the study was run on (``preset:NAME`` or a game file); ``""`` uses the
                game's own name.

        Returns:
            The JSON-ready object of :func:`nlhf_core.study.report.study_json`.
        """
        from nlhf_core.study.report import study_json  # local: keeps this module about the numbers

        return study_json(self, game)


def run_tabular_study(settings: TabularSettings) -> TabularStudyResult:
    """Deploy every method from the exact models and from each seed's data; evaluate under the true game.

    The table is Munos et al. (2024, Section 8, Table 1) in the tabular limit; across seeds the mean and the
    two-sided 95 % Student-t interval of :meth:`~nlhf_core.study.results.IntervalMatrix.over_seeds`.

    Args:
        settings: validated settings (:func:`tabular_settings`); ``M = len(settings.methods)``,
            ``S = len(settings.seeds)`` (0 when ``pairs = 0``).

    Returns:
        The :class:`TabularStudyResult`: the exact ``(M, M)`` table and policies, per-seed tables ``(S, M, M)``
        (under the true game and under each seed's ``P̂``), policies ``(S, M, C, n)``, comparisons ``(S,)``,
        and ``mean``/``low``/``high`` ``(M, M)`` (the exact table when ``S = 0``).

    Raises:
        SolverError: only if a regularized Nash of a fitted model cannot be certified (not expected for a valid
            game).
    """
    started = time.perf_counter()
    names = settings.methods
    limit = exact_models(settings)
    exact_policies = deploy(settings, limit)
    exact = evaluate(settings.game, exact_policies, names)
    tables, model_tables, policies, counts = [], [], [], []
    for seed in settings.seeds:
        models = sampled_models(settings, seed)
        deployed = deploy(settings, models)
        tables.append(evaluate(settings.game, deployed, names))
        model_tables.append(evaluate(models.preference, deployed, names))
        policies.append(np.stack([deployed[m] for m in names]))
        counts.append(models.comparisons)
    M, (C, n) = len(names), settings.reference.shape
    if tables:
        agg = IntervalMatrix.over_seeds(tables)
        mean, low, high = agg.mean, agg.low, agg.high
    else:
        mean, low, high = exact, exact.copy(), exact.copy()
    return TabularStudyResult(
        settings=settings,
        methods=tuple(names),
        exact=exact,
        exact_policies=exact_policies,
        exact_model=evaluate(limit.preference, exact_policies, names),
        per_seed=np.array(tables).reshape(len(tables), M, M),
        per_seed_model=np.array(model_tables).reshape(len(tables), M, M),
        seed_policies=np.array(policies).reshape(len(tables), M, C, n),
        comparisons=np.array(counts, dtype=int),
        mean=mean,
        low=low,
        high=high,
        wall_time_s=time.perf_counter() - started,
    )


def _like(game: PreferenceGame, matrices: np.ndarray) -> PreferenceGame:
    return PreferenceGame(game.labels, np.array(matrices), game.contexts, game.weights, "fitted preference model")
