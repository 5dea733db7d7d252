"""Train a softmax policy on a (contextual) preference game with a parametric algorithm.

:func:`train_policy_gradient` runs Nash-MD-PG, Nash-EMA-PG, self-play PG or RLHF PG with a
torch optimizer, deterministically for a given seed, and records the exact policy, its
metrics and its true win rates along the way. The result carries a
:class:`~nlhf_core.algorithms.trajectory.Trajectory`, so the app and the command line show it
exactly like a tabular solver's run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from nlhf_core.algorithms.trajectory import Trajectory, check_recording_size, recording_steps, trajectory_metrics
from nlhf_core.baselines.bradley_terry import fit_bradley_terry, kl_regularized_optimum
from nlhf_core.equilibria import nash_equilibrium, regularized_nash
from nlhf_core.errors import ParameterError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.metrics import context_average, context_win_rate, kl_divergence
from nlhf_core.games.policies import as_context_policies, as_reference, context_rows
from nlhf_core.policy_gradient.estimators import alternative_log_probs, exact_loss, sampled_loss, stationary_point
from nlhf_core.policy_gradient.policies import DTYPE, FeatureSoftmaxPolicy, one_hot_features, random_features
from nlhf_core.policy_gradient.registry import PolicyGradientSpec, get_pg_algorithm

#: Largest ``steps * batch_size`` one run may ask for (about a minute of CPU).
MAX_SAMPLES_PER_RUN = 50_000_000
#: Largest feature tensor (``contexts * responses * dim`` entries).
MAX_FEATURE_ENTRIES = 20_000_000


@dataclass(frozen=True)
class PGRun:
    """A parametric run: the trajectory plus the reference points it is measured against.

    Attributes:
        trajectory: policies ``(R, C, n)`` at the recorded steps with the tabular metric curves
            (``exploitability``, ``regularized_gap``, ``kl_to_equilibrium`` = ``KL(pi*_tau || pi)``).
        curves: more curves ``(R,)``: ``kl_to_target`` (to the algorithm's stationary point),
            ``kl_to_reference``, ``win_rate_vs_reference``, ``win_rate_vs_rlhf``, ``win_rate_vs_nash``.
        regularized: ``pi*_tau`` ``(C, n)``; ``target``: the stationary point (None if not found);
            ``rlhf``: the RLHF optimum ``pi ∝ mu exp(r / tau)``; ``nash``: the exact Nash.
        rewards: the Bradley–Terry rewards used by ``rlhf`` and for the RLHF policy.
    """

    algorithm: PolicyGradientSpec
    params: dict[str, Any]
    trajectory: Trajectory
    curves: dict[str, np.ndarray]
    regularized: np.ndarray = field(repr=False)
    target: np.ndarray | None = field(repr=False)
    rlhf: np.ndarray = field(repr=False)
    nash: np.ndarray = field(repr=False)
    rewards: np.ndarray = field(repr=False)

    @property
    def final_policy(self) -> np.ndarray:
        """The trained policy at the last step, shape ``(C, n)``."""
        return self.trajectory.final_policy

    def final_metrics(self) -> dict[str, float]:
        """Tabular metrics and the extra curves at the last step."""
        return {**self.trajectory.final_metrics(), **{k: float(v[-1]) for k, v in self.curves.items()}}


def resolve_pg_params(algo: PolicyGradientSpec, given: dict[str, Any]) -> dict[str, Any]:
    """The registry's defaults overridden by ``given`` (None = default), each validated, within the run budget.

    Args:
        algo: the method's spec.
        given: parameter name -> value (None keeps the default).

    Returns:
        Every parameter of the method with its validated value.

    Raises:
        ParameterError: an unknown parameter, a value out of range, or ``steps * batch_size`` above
            :data:`MAX_SAMPLES_PER_RUN`.
    """
    out = algo.resolve_params(given)
    if out["steps"] * out["batch_size"] > MAX_SAMPLES_PER_RUN:
        raise ParameterError(
            f"steps × batch_size = {out['steps'] * out['batch_size']:,} samples is more than {MAX_SAMPLES_PER_RUN:,}; "
            f"use fewer steps or a smaller batch."
        )
    return out


def train_policy_gradient(
    game: PreferenceGame,
    algorithm: str = "nash-md-pg",
    *,
    reference: Any = None,
    init: Any = None,
    rewards: np.ndarray | None = None,
    record_every: int | None = None,
    **params: Any,
) -> PGRun:
    """Train ``pi_theta`` with a parametric algorithm (see :mod:`~nlhf_core.policy_gradient.estimators`).

    ``reference`` is ``mu`` (default uniform); ``init`` the initial policy (default ``mu``, as
    the SFT policy in the paper); ``rewards`` ``(C, n)`` the reward for ``rlhf`` (default:
    the Bradley–Terry maximum-likelihood fit of the game under uniformly sampled pairs).
    ``params`` override the defaults of the method's registry entry (``algorithm`` is its name,
    or a former name such as ``rlhf-pg``).

    Args:
        game: the preference game (plain or contextual).
        algorithm: a registered policy-gradient method (``nash-md-pg``, ``nash-ema-pg``, ``self-play``, ``rlhf``).
        reference: ``mu`` (default uniform); positive.
        init: the initial policy ``pi_0`` (default ``mu``); positive.
        rewards: rewards ``(C, n)`` or ``(n,)`` for ``rlhf``, finite (logit units).
        record_every: record the policy every so many steps (None: about 1000 records).
        **params: the method's parameters (``tau``, ``beta``, ``lr``, ``steps``, ``batch_size``, ...).

    Returns:
        The :class:`PGRun`: the trajectory ``(R, C, n)`` with its metric curves, the extra curves ``(R,)``
        and the reference points (``pi*_tau``, stationary point, RLHF optimum, Nash), each ``(C, n)``.

    Raises:
        ParameterError: an unknown method or parameter, a value out of range, too many samples or
            features, non-finite rewards, or a trajectory too large to record.
        PolicyError: an invalid ``reference`` or ``init``.
    """
    algo = get_pg_algorithm(algorithm)
    p = resolve_pg_params(algo, params)
    mu = as_reference(reference, game)
    start = mu if init is None else as_context_policies(init, game, what="initial policy", full_support=True)
    C, n = game.num_contexts, game.n
    if rewards is None:
        rewards = fit_bradley_terry(game, "uniform", mu).scores
    rewards = np.broadcast_to(np.asarray(rewards, dtype=float), (C, n))
    if not np.all(np.isfinite(rewards)):
        raise ParameterError("The rewards contain NaN or infinite values; give finite rewards.")
    steps = recording_steps(p["steps"], record_every)
    check_recording_size(len(steps), C, n)

    policy = FeatureSoftmaxPolicy(_features(p, C, n), torch.tensor(np.log(start), dtype=DTYPE))
    with single_thread():
        recorded = _optimize(algo, p, policy, game, mu, rewards, steps)

    tau = p["tau"]
    regularized = context_rows(regularized_nash(game, tau, mu).policy, game)
    nash = context_rows(nash_equilibrium(game).policy, game)
    bt = fit_bradley_terry(game, "uniform", mu).scores
    rlhf = kl_regularized_optimum(bt, tau, mu)
    target = stationary_point(algo, game.matrices, tau, p.get("beta", 0.0), mu, rewards, regularized)
    if p.get("beta_schedule") == "linear":
        target = regularized  # beta ends at 0
    P, w = game.matrices, game.weights
    curves = {
        "kl_to_reference": context_average(kl_divergence(recorded, mu), w),
        "win_rate_vs_reference": context_win_rate(P, recorded, mu, w),
        "win_rate_vs_rlhf": context_win_rate(P, recorded, rlhf, w),
        "win_rate_vs_nash": context_win_rate(P, recorded, nash, w),
    }
    if target is not None:
        curves = {"kl_to_target": context_average(kl_divergence(target, recorded), w), **curves}
    metrics = trajectory_metrics(P, w, recorded, tau=tau, reference=mu, target=regularized)
    per_step = p["batch_size"] if p["gradient"] == "sampled" else 1
    trajectory = Trajectory(
        algorithm=algo.name,
        params={**p, "iterations": p["steps"]},
        steps=steps,
        queries=steps * per_step,
        iterate="last",
        last_policies=recorded,
        average_policies=recorded,
        metrics_last=metrics,
        metrics_average=metrics,
        target=regularized,
        target_kind="regularized",
    )
    return PGRun(algo, p, trajectory, curves, regularized, target, rlhf, nash, rewards)


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread: the tensors here are tiny, and extra threads only contend (10× slower on 2 cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _features(p: dict[str, Any], C: int, n: int) -> torch.Tensor:
    if p["features"] == "one-hot":
        if C * n * C * n > MAX_FEATURE_ENTRIES:
            raise ParameterError(
                f"One-hot features for {C} contexts × {n} responses need {(C * n) ** 2:,} entries; "
                f"use features=random with a small feature_dim."
            )
        return one_hot_features(C, n)
    if C * n * (p["feature_dim"] + n) > MAX_FEATURE_ENTRIES:
        raise ParameterError(f"feature_dim = {p['feature_dim']} is too large for this game; use a smaller one.")
    return random_features(C, n, p["feature_dim"], seed=p["seed"])


def _optimize(
    algo: PolicyGradientSpec,
    p: dict[str, Any],
    policy: FeatureSoftmaxPolicy,
    game: PreferenceGame,
    mu: np.ndarray,
    rewards: np.ndarray,
    steps: np.ndarray,
) -> np.ndarray:
    """Run the optimizer; return the exact policies ``(R, C, n)`` at the recorded steps."""
    torch.manual_seed(p["seed"])
    generator = torch.Generator().manual_seed(p["seed"])
    log_mu = torch.tensor(np.log(mu), dtype=DTYPE)
    matrices = torch.tensor(game.matrices, dtype=DTYPE)
    reward_t = torch.tensor(rewards, dtype=DTYPE)
    weights = torch.tensor(game.weights, dtype=DTYPE)
    total = p["steps"]
    opt_class = torch.optim.Adam if p["optimizer"] == "adam" else torch.optim.SGD
    optimizer = opt_class(policy.parameters(), lr=p["lr"])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: _decay(p["lr_schedule"], t, total))
    ema_theta = policy.theta.detach().clone() if algo.alternative == "ema" else None
    record = set(steps.tolist())
    out = np.empty((len(steps), game.num_contexts, game.n))
    out[0] = policy.probabilities()
    row = 1
    for t in range(total):
        beta = p.get("beta", 0.0)
        if p.get("beta_schedule") == "linear":
            beta *= 1.0 - t / total
        alternative = alternative_log_probs(algo, policy, log_mu, beta, ema_theta)
        if p["gradient"] == "exact":
            loss = exact_loss(algo, policy, alternative, log_mu, matrices, reward_t, weights, p["tau"])
        else:
            loss = sampled_loss(
                algo,
                policy,
                alternative,
                log_mu,
                matrices,
                reward_t,
                weights,
                p["batch_size"],
                p["tau"],
                generator,
                bernoulli=p.get("feedback") == "bernoulli",
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if ema_theta is not None:
            ema_theta.mul_(p["beta"]).add_(policy.theta.detach(), alpha=1.0 - p["beta"])
        if t + 1 in record:
            out[row] = policy.probabilities()
            row += 1
    if not np.all(np.isfinite(out)):
        raise ParameterError("The policy left the simplex (NaN); use a smaller learning rate.")
    return out


def _decay(schedule: str, t: int, total: int) -> float:
    """Learning-rate multiplier at step ``t`` of ``total``."""
    if schedule == "linear":
        return max(0.0, 1.0 - t / total)
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * t / total))
    return 1.0
