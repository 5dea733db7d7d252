"""From comparisons to a deployed policy, evaluated under the true preferences.

:func:`run_pipeline` does what the paper contrasts (Munos et al. 2024, Sections 1–3):

    dataset --> preference model --> NLHF policy: regularized Nash of the fitted model
            --> reward model     --> RLHF policy: pi ∝ mu exp(r / tau)

and scores both under the *true* preference game. :func:`pipeline_curves` repeats it over
dataset sizes and seeds (means and standard deviations for bands); :func:`sampling_effect`
shows the Bradley–Terry fit and the RLHF policy moving with the sampling distribution while
the NLHF policy does not; :func:`online_nash_md` runs Nash-MD fed by simulated annotators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlhf_core.algorithms.engine import PreferenceOracle
from nlhf_core.algorithms.nash_md import nash_md_step
from nlhf_core.baselines.bradley_terry import fit_bradley_terry, kl_regularized_optimum
from nlhf_core.equilibria import check_tau, nash_equilibrium, regularized_nash
from nlhf_core.feedback.annotators import AnnotatorPopulation, ComparisonDataset, simulate_comparisons
from nlhf_core.feedback.models import fit_preference_model, fit_reward_model, held_out_log_likelihood
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.metrics import context_average, context_win_rate, exploitability, kl_divergence
from nlhf_core.games.policies import as_reference, context_rows
from nlhf_core.numerics import log_normalize
from nlhf_core.params import check_seed


@dataclass(frozen=True)
class PipelineResult:
    """One run of the pipeline (policies have shape ``(C, n)``)."""

    dataset: ComparisonDataset = field(repr=False)
    preference_model: np.ndarray = field(repr=False)
    rewards: np.ndarray
    nlhf_policy: np.ndarray
    rlhf_policy: np.ndarray
    true_exploitability: dict[str, float]
    nlhf_beats_rlhf: float
    held_out_log_likelihood: dict[str, float]


def _population(truth: AnnotatorPopulation | PreferenceGame) -> tuple[AnnotatorPopulation, PreferenceGame]:
    population = truth if isinstance(truth, AnnotatorPopulation) else AnnotatorPopulation.of(truth)
    return population, population.aggregate()


def run_pipeline(
    truth: AnnotatorPopulation | PreferenceGame,
    size: int,
    *,
    tau: float = 0.1,
    sampling: Any = "uniform",
    reference: Any = None,
    seed: int = 0,
    held_out: float = 0.2,
) -> PipelineResult:
    """Simulate ``size`` comparisons, fit both models on 80%, score the likelihoods on the rest,
    deploy the NLHF and RLHF policies, and evaluate them under the true preferences.

    Args:
        truth: the true preferences: an :class:`AnnotatorPopulation`, or a game (one noiseless group).
        size: number of simulated comparisons.
        tau: KL strength of both deployed policies.
        sampling: how pairs are drawn (see :func:`~nlhf_core.feedback.annotators.simulate_comparisons`).
        reference: ``mu`` (default uniform); positive.
        seed: seed of the simulation and of the split.
        held_out: fraction of the comparisons held out for the likelihoods (all of them are used
            for fitting when ``size < 5``).

    Returns:
        The :class:`PipelineResult`: both policies ``(C, n)``, their true exploitability, the NLHF
        policy's true win rate against the RLHF one, and the held-out log-likelihoods.

    Raises:
        ParameterError: ``tau`` or ``size`` out of range.
        PolicyError: an invalid ``reference`` or ``sampling``.
        GameValidationError: a game with a single response.
    """
    tau = check_tau(tau)
    population, game = _population(truth)
    mu = as_reference(reference, game)
    data = simulate_comparisons(population, size, sampling=sampling, reference=reference, seed=seed)
    train, test = data.split(held_out, seed) if size >= 5 else (data, data.take(np.array([], dtype=np.int64)))
    preference = fit_preference_model(train, game)
    reward = fit_reward_model(train, game)
    nlhf = context_rows(regularized_nash(preference.game, tau, mu).policy, game)
    rlhf = kl_regularized_optimum(reward.rewards, tau, mu)
    true_P = game.matrices
    expl = {
        name: float(context_average(exploitability(true_P, pi), game.weights))
        for name, pi in (("nlhf", nlhf), ("rlhf", rlhf))
    }
    return PipelineResult(
        dataset=data,
        preference_model=preference.matrix,
        rewards=reward.rewards,
        nlhf_policy=nlhf,
        rlhf_policy=rlhf,
        true_exploitability=expl,
        nlhf_beats_rlhf=float(context_win_rate(true_P, nlhf, rlhf, game.weights)),
        held_out_log_likelihood={
            "preference model": held_out_log_likelihood(preference.matrix, test),
            "reward model": held_out_log_likelihood(reward.predicted(), test),
        },
    )


@dataclass(frozen=True)
class PipelineCurves:
    """Means and standard deviations over seeds, per dataset size."""

    sizes: list[int]
    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]


def pipeline_curves(
    truth: AnnotatorPopulation | PreferenceGame,
    sizes: Sequence[int],
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    **kwargs: Any,
) -> PipelineCurves:
    """:func:`run_pipeline` for each size and seed: true exploitability of both policies, the NLHF
    policy's true win rate against the RLHF policy, and both held-out log-likelihoods.

    Args:
        truth: the true preferences: an :class:`AnnotatorPopulation`, or a game (one noiseless group).
        sizes: the dataset sizes.
        seeds: the seeds averaged over at each size.
        **kwargs: passed on to :func:`run_pipeline` (``tau``, ``sampling``, ``reference``, ``held_out``).

    Returns:
        The :class:`PipelineCurves`: for each metric, mean and standard deviation per size, shape ``(len(sizes),)``.

    Raises:
        ParameterError: ``tau`` or a size out of range.
        PolicyError: an invalid ``reference`` or ``sampling``.
    """
    keys = (
        "nlhf exploitability",
        "rlhf exploitability",
        "nlhf beats rlhf",
        "preference model log-lik",
        "reward model log-lik",
    )
    values = {k: np.zeros((len(sizes), len(seeds))) for k in keys}
    for a, size in enumerate(sizes):
        for b, seed in enumerate(seeds):
            r = run_pipeline(truth, size, seed=seed, **kwargs)
            values["nlhf exploitability"][a, b] = r.true_exploitability["nlhf"]
            values["rlhf exploitability"][a, b] = r.true_exploitability["rlhf"]
            values["nlhf beats rlhf"][a, b] = r.nlhf_beats_rlhf
            values["preference model log-lik"][a, b] = r.held_out_log_likelihood["preference model"]
            values["reward model log-lik"][a, b] = r.held_out_log_likelihood["reward model"]
    return PipelineCurves(
        list(sizes), {k: v.mean(axis=1) for k, v in values.items()}, {k: v.std(axis=1) for k, v in values.items()}
    )


@dataclass(frozen=True)
class SamplingEffect:
    """BT rewards and RLHF policies per sampling distribution, next to the NLHF policy."""

    names: list[str]
    rewards: dict[str, np.ndarray]
    rlhf_policies: dict[str, np.ndarray]
    nlhf_policy: np.ndarray


def sampling_effect(
    game: PreferenceGame, samplings: Mapping[str, Any], *, tau: float = 0.1, reference: Any = None
) -> SamplingEffect:
    """Infinite-data Bradley–Terry fits under each sampling distribution (Proposition 2 / Theorem 2 of
    the paper): the reward, hence the RLHF policy, moves with the pairs shown; the preference model,
    hence the NLHF policy (the regularized Nash of the true game), does not.

    Args:
        game: the true preference game.
        samplings: name -> pair distribution (see :func:`~nlhf_core.baselines.bradley_terry.pair_distribution`).
        tau: KL strength of the policies.
        reference: ``mu`` (default uniform); positive.

    Returns:
        The :class:`SamplingEffect`: per sampling, rewards and RLHF policy ``(C, n)``; the NLHF policy ``(C, n)``.

    Raises:
        ParameterError: ``tau`` out of range.
        PolicyError: an invalid ``reference`` or sampling distribution.
    """
    tau = check_tau(tau)
    mu = as_reference(reference, game)
    rewards, policies = {}, {}
    for name, spec in samplings.items():
        fit = fit_bradley_terry(game, spec, reference)
        rewards[name] = fit.scores
        policies[name] = kl_regularized_optimum(fit.scores, tau, mu)
    nlhf = context_rows(regularized_nash(game, tau, mu).policy, game)
    return SamplingEffect(list(samplings), rewards, policies, nlhf)


@dataclass(frozen=True)
class OnlineRun:
    """KL to ``pi*_tau`` per iteration for Nash-MD fed by annotators and for exact Nash-MD."""

    online_kl: np.ndarray
    exact_kl: np.ndarray
    online_policy: np.ndarray
    comparisons: int


def online_nash_md(
    truth: AnnotatorPopulation | PreferenceGame,
    *,
    tau: float = 0.1,
    eta: float = 1.0,
    iterations: int = 300,
    batch: int = 64,
    reference: Any = None,
    seed: int = 0,
) -> OnlineRun:
    """Nash-MD where each iteration asks the simulated annotators for ``batch`` comparisons.

    Each comparison pits a response ``y ~ pi_t`` (the current policy) against ``y' ~ pi_t^mu``
    (the mixture); the estimate of ``P(y ≻ pi_t^mu)`` is ``(wins_y + 1/2) / (count_y + 1)`` — one
    pseudo-tie of shrinkage, so responses the batch did not sample move as if tied. The update is
    then Nash-MD's (Eq. 5). The exact tabular trajectory (same ``tau``, ``eta``) runs alongside.

    Args:
        truth: the true preferences: an :class:`AnnotatorPopulation`, or a game (one noiseless group).
        tau: KL strength ``tau``.
        eta: step size ``eta`` (``eta * tau`` is the mixture weight, at most 1).
        iterations: number of Nash-MD iterations.
        batch: comparisons per context and iteration.
        reference: ``mu`` (default uniform); positive.
        seed: seed of the simulated comparisons.

    Returns:
        The :class:`OnlineRun`: ``KL(pi*_tau || pi_t)`` per iteration ``(iterations,)`` for the online
        and the exact runs, the final online policy ``(C, n)`` and the number of comparisons used.

    Raises:
        ParameterError: ``tau`` out of range.
        PolicyError: an invalid ``reference``.
    """
    tau = check_tau(tau)
    population, game = _population(truth)
    rng = np.random.default_rng(check_seed(seed))
    mu = as_reference(reference, game)
    log_mu = np.log(mu)
    target = context_rows(regularized_nash(game, tau, mu).policy, game)
    groups = population.group_matrices()
    C, n = mu.shape
    w = eta * tau
    log_online = log_exact = log_mu.copy()
    exact_preferences = PreferenceOracle(game.matrices)
    online_kl, exact_kl = [], []
    for _ in range(iterations):
        log_exact = nash_md_step(log_exact, log_mu, eta, tau, exact_preferences)
        # online Nash-MD from annotator comparisons
        mix = log_normalize((1 - w) * log_online + w * log_mu)
        estimate = np.empty((C, n))
        for x in range(C):
            y = rng.choice(n, size=batch, p=np.exp(log_online[x]) / np.exp(log_online[x]).sum())
            y2 = rng.choice(n, size=batch, p=np.exp(mix[x]) / np.exp(mix[x]).sum())
            g = rng.choice(len(population.groups), size=batch, p=population.weights)
            wins = (rng.random(batch) < groups[g, x, y, y2]).astype(float)
            won = np.bincount(y, weights=wins, minlength=n)
            seen = np.bincount(y, minlength=n)
            estimate[x] = (won + 0.5) / (seen + 1.0)
        log_online = log_normalize(mix + eta * estimate)
        online_kl.append(float(context_average(kl_divergence(target, np.exp(log_online)), game.weights)))
        exact_kl.append(float(context_average(kl_divergence(target, np.exp(log_exact)), game.weights)))
    return OnlineRun(np.array(online_kl), np.array(exact_kl), np.exp(log_online), iterations * batch * C)


def nash_of(game: PreferenceGame) -> np.ndarray:
    """The exact (maximum-entropy) Nash policy of every context, shape ``(C, n)``.

    Args:
        game: the preference game.

    Returns:
        The Nash policies, ``(C, n)``.
    """
    return context_rows(nash_equilibrium(game).policy, game)
