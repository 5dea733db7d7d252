"""Surrogate losses whose gradients are the policy-gradient estimators of the paper (Section 7).

Every estimator here works on *per-token* log-probabilities, so one function serves the
tabular case (a response is one token, ``T = 1``) and language models (``T`` tokens).
Shapes: ``logp`` and ``ref_logp`` are ``(B, T)`` (``logp`` carries the gradient), ``mask`` is
``(B, T)`` with 1 on real tokens and 0 on padding, ``signal`` is ``(B,)``.
"""

from __future__ import annotations

import torch


def reward_to_go(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``out[b, t] = sum_{s >= t} mask[b, s] * values[b, s]`` (suffix sums over the token axis).

    Args:
        values: per-token values ``(B, T)``.
        mask: ``(B, T)``, 1 on real tokens and 0 on padding.

    Returns:
        The suffix sums ``(B, T)`` (padding contributes 0).
    """
    masked = values * mask
    return torch.flip(torch.cumsum(torch.flip(masked, dims=[1]), dim=1), dims=[1])


def leave_one_out_baseline(values: torch.Tensor, groups: torch.Tensor | None = None) -> torch.Tensor:
    """``b_i = mean_{j != i, g_j = g_i} values_j``: the mean of the *other* rows of the same group; 0 for a lone row.

    The baseline of the reward signal ``s_i = r_i - b_i`` (RLHF policy gradient): it does not depend on
    sample ``i``, so subtracting it keeps the estimator unbiased while removing the common level of the
    rewards; within a group of ``k >= 2`` rows the signals sum to zero,
    ``sum_i (r_i - (S - r_i) / (k - 1)) = S - S = 0``.

    Args:
        values: ``(B,)`` rewards.
        groups: ``(B,)`` non-negative integer group ids (the prompt of each row), or None for one group.

    Returns:
        ``(B,)`` baselines, same dtype as ``values``.
    """
    if groups is None:
        if values.shape[0] < 2:
            return torch.zeros_like(values)
        return (values.sum() - values) / (values.shape[0] - 1)
    onehot = torch.nn.functional.one_hot(groups, int(groups.max()) + 1).to(values.dtype)
    sums, counts = onehot.T @ values, onehot.sum(dim=0)
    others = (counts[groups] - 1).clamp(min=1)
    return torch.where(counts[groups] > 1, (sums[groups] - values) / others, torch.zeros_like(values))


def regularized_pg_loss(
    logp: torch.Tensor,
    ref_logp: torch.Tensor,
    mask: torch.Tensor,
    signal: torch.Tensor,
    tau: float,
) -> torch.Tensor:
    """Loss whose gradient is minus the sampled gradient of ``E_pi[signal] - tau KL(pi || mu)``.

    For a response ``y = (y_1..y_T)`` sampled from ``pi(.|x)`` (no gradient through the
    sampling), the estimate is (Munos et al. 2024, Section 7, with the KL split per token)::

        g = sum_t grad log pi(y_t | x, y_<t) * [signal - tau * sum_{s >= t} log(pi(y_s|.) / mu(y_s|.))]

    Each token's score is multiplied only by the KL terms at or after it (earlier terms do not
    depend on ``y_t``); the missing ``E[grad log pi] = 0`` term makes the estimate unbiased for
    ``grad (E_pi[signal] - tau KL(pi || mu))``. With ``signal = P(y ≻ y') - 1/2`` and ``y'`` from
    the alternative policy this is Nash-MD-PG (the 1/2 is a baseline); with
    ``signal = r(y) - b`` it is KL-regularized RLHF policy gradient.

    Args:
        logp: per-token ``log pi(y_t | x, y_<t)`` of the sampled responses, ``(B, T)``, with gradient.
        ref_logp: the same under the reference ``mu``, ``(B, T)``.
        mask: ``(B, T)``, 1 on real tokens and 0 on padding.
        signal: one value per response, ``(B,)`` (``P(y ≻ y') - 1/2`` or ``r(y) - b``).
        tau: KL strength ``tau >= 0``.

    Returns:
        A scalar loss: minus the batch mean of the estimate's surrogate (call ``backward()`` on it).
    """
    kl_tokens = (logp - ref_logp).detach()
    advantage = signal.detach()[:, None] - tau * reward_to_go(kl_tokens, mask)
    return -(logp * advantage * mask).sum(dim=1).mean()


def sequence_kl_estimate(logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Monte-Carlo estimate of ``KL(pi || mu)`` from responses sampled from ``pi``: mean of the summed log-ratios.

    Args:
        logp: per-token log-probabilities of the sampled responses under ``pi``, ``(B, T)``.
        ref_logp: the same under ``mu``, ``(B, T)``.
        mask: ``(B, T)``, 1 on real tokens and 0 on padding.

    Returns:
        A scalar tensor (nats, no gradient): ``mean_b sum_t mask (logp - ref_logp)``.
    """
    return ((logp - ref_logp).detach() * mask).sum(dim=1).mean()
