"""Surrogate losses whose gradients are the policy-gradient estimators of the paper (Section 7).

Every estimator here works on *per-token* log-probabilities, so one function serves the
tabular case (a response is one token, ``T = 1``) and language models (``T`` tokens).
Shapes: ``logp`` and ``ref_logp`` are ``(B, T)`` (``logp`` carries the gradient), ``mask`` is
``(B, T)`` with 1 on real tokens and 0 on padding, ``signal`` is ``(B,)``. The reward signal's
baseline is :func:`leave_one_out_baseline`.
"""

from __future__ import annotations

import torch


def reward_to_go(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``out[b, t] = sum_{s >= t} mask[b, s] * values[b, s]`` (suffix sums over the token axis)."""
    masked = values * mask
    return torch.flip(torch.cumsum(torch.flip(masked, dims=[1]), dim=1), dims=[1])


def leave_one_out_baseline(values: torch.Tensor, groups: torch.Tensor | None = None) -> torch.Tensor:
    """``b_i = mean_{j != i, g(j) = g(i)} values_j``: the mean of the *other* samples of ``i``'s group.

    ``b_i`` does not depend on sample ``i``, so ``signal_i = r_i - b_i`` leaves the policy
    gradient unbiased (``E[grad log pi(y_i) b_i] = 0``) while removing most of the reward's
    common level (the RLHF signal ``r(y) - b`` of Munos et al. 2024, Section 8's baseline;
    RLOO, Ahmadian et al. 2024). A sample alone in its group gets ``b_i = 0``.

    Args:
        values: ``(B,)`` per-sample values (rewards).
        groups: ``(B,)`` integer group of each sample (e.g. its prompt); None puts the whole
            batch in one group.

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
    """
    kl_tokens = (logp - ref_logp).detach()
    advantage = signal.detach()[:, None] - tau * reward_to_go(kl_tokens, mask)
    return -(logp * advantage * mask).sum(dim=1).mean()


def sequence_kl_estimate(logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Monte-Carlo estimate of ``KL(pi || mu)`` from responses sampled from ``pi``: mean of the summed log-ratios."""
    return ((logp - ref_logp).detach() * mask).sum(dim=1).mean()
