"""The parametric NLHF algorithms as estimators of one gradient (Munos et al. 2024, Section 7).

Each algorithm ascends ``J(theta) = E_x E_{y~pi_theta}[s(x, y)] - tau KL(pi_theta || mu)`` where the
signal ``s`` is held fixed while differentiating:

* ``nash-md-pg``:  ``s(x, y) = P(y ≻ y' | x) - 1/2`` with ``y' ~ pi_beta ∝ pi^(1-beta) mu^beta`` (stop-gradient);
* ``nash-ema-pg``: the same with ``y'`` drawn from the policy at an exponential moving average of
  past parameters, ``theta_ema <- beta theta_ema + (1 - beta) theta``;
* ``self-play``: ``y' ~ pi`` itself (``beta = 0``; online IPO has the same stationary point);
* ``rlhf``: ``s(x, y) = r(x, y) - b`` for a Bradley–Terry reward ``r`` (KL-regularized RLHF), ``b`` the
  leave-one-out mean reward of the batch.

:func:`sampled_loss` draws a batch and returns the surrogate of
:func:`~nlhf_core.policy_gradient.losses.regularized_pg_loss`; :func:`exact_loss` is ``-J``
computed in closed form over all responses (zero variance): its gradient is the expectation
of the sampled one, which the tests check.
"""

from __future__ import annotations

import numpy as np
import torch

from nlhf_core.baselines.bradley_terry import kl_regularized_optimum
from nlhf_core.games.game import PreferenceGame
from nlhf_core.policy_gradient.losses import leave_one_out_baseline, regularized_pg_loss
from nlhf_core.policy_gradient.policies import FeatureSoftmaxPolicy, geometric_mixture, sample_categorical
from nlhf_core.policy_gradient.registry import PolicyGradientSpec
from nlhf_core.policy_gradient.resting_point import nash_md_pg_resting_point


def alternative_log_probs(
    algo: PolicyGradientSpec,
    policy: FeatureSoftmaxPolicy,
    log_mu: torch.Tensor,
    beta: float,
    ema_theta: torch.Tensor | None,
) -> torch.Tensor | None:
    """``(C, n)`` log-probabilities of the opponent ``y'`` is drawn from (no gradient), or None for RLHF."""
    with torch.no_grad():
        log_pi = policy.log_probs()
        if algo.alternative == "mixture":
            return geometric_mixture(log_pi, log_mu, beta)
        if algo.alternative == "self":
            return log_pi
        if algo.alternative == "ema":
            assert ema_theta is not None, "the EMA alternative needs the EMA parameters"
            return torch.log_softmax(policy.features @ ema_theta + policy.log_init, dim=-1)
    return None


def sampled_loss(
    algo: PolicyGradientSpec,
    policy: FeatureSoftmaxPolicy,
    alternative: torch.Tensor | None,
    log_mu: torch.Tensor,
    matrices: torch.Tensor,
    rewards: torch.Tensor,
    context_weights: torch.Tensor,
    batch_size: int,
    tau: float,
    generator: torch.Generator,
    bernoulli: bool = False,
) -> torch.Tensor:
    """One batch: ``x ~ rho``, ``y ~ pi``, ``y' ~`` the alternative; the surrogate loss of the paper's estimator."""
    contexts = sample_categorical(torch.log(context_weights).expand(batch_size, -1), generator)
    responses = policy.sample(contexts, generator)
    logp, mask = policy.token_log_probs(contexts, responses)
    ref_logp = log_mu[contexts, responses][:, None]
    if algo.signal == "reward":
        r = rewards[contexts, responses]
        signal = r - leave_one_out_baseline(r)
    else:
        assert alternative is not None, "preference signals need an alternative policy"
        others = sample_categorical(alternative[contexts], generator)
        p = matrices[contexts, responses, others]
        if bernoulli:
            p = torch.bernoulli(p, generator=generator)
        signal = p - 0.5
    return regularized_pg_loss(logp, ref_logp, mask, signal, tau)


def exact_loss(
    algo: PolicyGradientSpec,
    policy: FeatureSoftmaxPolicy,
    alternative: torch.Tensor | None,
    log_mu: torch.Tensor,
    matrices: torch.Tensor,
    rewards: torch.Tensor,
    context_weights: torch.Tensor,
    tau: float,
) -> torch.Tensor:
    """``-J(theta) = -sum_x rho(x) [sum_y pi(y|x) s(x, y) - tau KL(pi(.|x) || mu(.|x))]`` with ``s`` held fixed."""
    log_pi = policy.log_probs()
    pi = log_pi.exp()
    if algo.signal == "reward":
        signal = rewards
    else:
        assert alternative is not None, "preference signals need an alternative policy"
        signal = torch.einsum("cij,cj->ci", matrices, alternative.exp()) - 0.5
    per_context = (pi * signal).sum(-1) - tau * (pi * (log_pi - log_mu)).sum(-1)
    return -(context_weights * per_context).sum()


def stationary_point(
    algo: PolicyGradientSpec,
    matrices: np.ndarray,
    tau: float,
    beta: float,
    mu: np.ndarray,
    rewards: np.ndarray,
    regularized: np.ndarray,
) -> np.ndarray | None:
    """Where the expected update is zero for a tabular policy, shape ``(C, n)``.

    ``self-play`` and ``nash-ema-pg``: ``pi*_tau`` (given as ``regularized``). ``rlhf``:
    ``pi ∝ mu exp(r / tau)``. ``nash-md-pg``: the gradient vanishes where
    ``pi ∝ mu exp(P pi_beta / tau)`` with ``pi_beta ∝ pi^(1-beta) mu^beta``, i.e. (closed form, see
    :mod:`.resting_point`) ``pi = BR_tau(pi*_{tau/(1-beta)})``; it is ``pi*_tau`` at ``beta = 0`` and
    the best response to ``mu`` at ``beta = 1``.

    Args:
        algo: the method's spec (its ``signal`` and ``alternative`` pick the case).
        matrices: the game's preference matrices ``(C, n, n)``, P[x, i, j] = P(i ≻ j | x).
        tau: KL strength ``tau > 0``.
        beta: the mixture weight of Nash-MD-PG's alternative, in ``[0, 1]``.
        mu: reference policy ``(C, n)``, positive.
        rewards: rewards ``(C, n)`` (used by ``rlhf`` only).
        regularized: ``pi*_tau`` ``(C, n)``, already computed by the caller.

    Returns:
        The stationary policy ``(C, n)`` (the signature allows None for a method without one; every
        registered method has one).
    """
    if algo.signal == "reward":
        return kl_regularized_optimum(rewards, tau, mu)
    if algo.alternative != "mixture" or beta == 0.0:
        return regularized
    labels = tuple(f"y{i}" for i in range(matrices.shape[-1]))
    contexts = tuple(f"x{c}" for c in range(matrices.shape[0]))
    game = PreferenceGame(labels, np.array(matrices, dtype=float), contexts, np.full(len(contexts), 1 / len(contexts)))
    return nash_md_pg_resting_point(game, tau, beta, mu).policy
