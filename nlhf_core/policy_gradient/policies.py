"""Policies for the parametric algorithms: anything that can *sample* and give *log-probabilities*.

The estimators in :mod:`nlhf_core.policy_gradient.losses` only need
``token_log_probs(contexts, responses) -> (logp (B, T), mask (B, T))`` of the trained policy
and of the reference; the language-model trainer (:mod:`nlhf_core.llm`) implements the same
thing for token sequences. Here a response is one token (``T = 1``) and the policy is a
softmax over features of (context, response)::

    pi_theta(y | x) = softmax_y(theta · phi(x, y) + log pi_0(y | x))

With one-hot features (one weight per (x, y)) this is the tabular softmax; with ``d`` random
features shared by all contexts it is function approximation (contexts share parameters).
``theta = 0`` is the initial policy ``pi_0`` (the SFT policy / reference in the paper).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from nlhf_core.errors import ParameterError

DTYPE = torch.float64
#: Largest feature dimension accepted (the feature tensor has C * n * d entries).
MAX_FEATURE_DIM = 4096


class SamplingPolicy(Protocol):
    """What the policy-gradient estimators need from a policy (tabular softmax or language model)."""

    def sample(self, contexts: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One response per context (no gradient).

        Args:
            contexts: context indices ``(B,)``.
            generator: the seeded torch generator the draws use.

        Returns:
            The sampled responses, one per context (response indices ``(B,)`` for a one-token policy).
        """
        ...

    def token_log_probs(self, contexts: torch.Tensor, responses: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-token ``log pi(y_t | x, y_<t)`` with gradient, shape ``(B, T)``, and the ``(B, T)`` mask.

        Args:
            contexts: context indices ``(B,)``.
            responses: the responses, as :meth:`sample` returns them.

        Returns:
            ``(logp, mask)``, both ``(B, T)``; ``mask`` is 1 on real tokens and 0 on padding.
        """
        ...


def one_hot_features(num_contexts: int, n: int) -> torch.Tensor:
    """``phi(x, y) = e_{(x, y)}``: shape ``(C, n, C * n)`` — the tabular softmax.

    Args:
        num_contexts: number of contexts ``C``.
        n: number of responses.

    Returns:
        The feature tensor ``(C, n, C * n)`` (float64).
    """
    return torch.eye(num_contexts * n, dtype=DTYPE).reshape(num_contexts, n, num_contexts * n)


def random_features(num_contexts: int, n: int, dim: int, seed: int = 0, shared_response: bool = True) -> torch.Tensor:
    """Gaussian features ``phi(x, y) ~ N(0, I_d / d)``, optionally concatenated with a one-hot of ``y``.

    The response one-hot (shared by every context) lets the policy learn a context-free
    preference for a response; the random part lets contexts differ through shared weights.

    Args:
        num_contexts: number of contexts ``C``.
        n: number of responses.
        dim: feature dimension ``d``, in ``[1, MAX_FEATURE_DIM]``.
        seed: seed of the Gaussian draw.
        shared_response: append the ``n``-dimensional one-hot of the response.

    Returns:
        The feature tensor ``(C, n, d)``, or ``(C, n, d + n)`` with ``shared_response`` (float64).

    Raises:
        ParameterError: ``dim`` is outside ``[1, MAX_FEATURE_DIM]``.
    """
    if not 1 <= int(dim) <= MAX_FEATURE_DIM:
        raise ParameterError(f"feature dimension = {dim} is outside [1, {MAX_FEATURE_DIM}]; pick a smaller one.")
    gen = torch.Generator().manual_seed(int(seed))
    phi = torch.randn(num_contexts, n, int(dim), generator=gen, dtype=DTYPE) / np.sqrt(dim)
    if shared_response:
        phi = torch.cat([phi, torch.eye(n, dtype=DTYPE).expand(num_contexts, n, n)], dim=-1)
    return phi


class FeatureSoftmaxPolicy(torch.nn.Module):
    """``pi_theta(y|x) = softmax_y(theta · phi(x, y) + log pi_0(y|x))`` over ``n`` responses per context."""

    features: torch.Tensor  # (C, n, d) buffer
    log_init: torch.Tensor  # (C, n) buffer

    def __init__(self, features: torch.Tensor, log_init: torch.Tensor) -> None:
        super().__init__()
        if features.ndim != 3 or tuple(log_init.shape) != tuple(features.shape[:2]):
            raise ParameterError("The features must have shape (contexts, responses, dim) matching the policy.")
        self.register_buffer("features", features.to(DTYPE))
        self.register_buffer("log_init", log_init.to(DTYPE))
        self.theta = torch.nn.Parameter(torch.zeros(features.shape[-1], dtype=DTYPE))

    def logits(self) -> torch.Tensor:
        """``(C, n)`` unnormalized log-probabilities."""
        return self.features @ self.theta + self.log_init

    def log_probs(self) -> torch.Tensor:
        """``(C, n)`` log-probabilities of every response in every context."""
        return torch.log_softmax(self.logits(), dim=-1)

    def probabilities(self) -> np.ndarray:
        """``(C, n)`` exact probabilities as a NumPy array (for metrics)."""
        with torch.no_grad():
            return self.log_probs().exp().numpy().copy()

    def sample(self, contexts: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One response per context, drawn from ``pi_theta(.|x)`` (no gradient).

        Args:
            contexts: context indices ``(B,)``.
            generator: the seeded torch generator the draws use.

        Returns:
            Response indices ``(B,)``.
        """
        with torch.no_grad():
            return sample_categorical(self.log_probs()[contexts], generator)

    def token_log_probs(self, contexts: torch.Tensor, responses: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``log pi_theta(y | x)`` of one-token responses, with gradient.

        Args:
            contexts: context indices ``(B,)``.
            responses: response indices ``(B,)``.

        Returns:
            ``(logp, mask)``, both ``(B, 1)``; the mask is all ones.
        """
        logp = self.log_probs()[contexts, responses][:, None]
        return logp, torch.ones_like(logp)


class FixedPolicy:
    """A policy given by a table of log-probabilities (the reference ``mu``, an alternative)."""

    def __init__(self, log_probs: torch.Tensor) -> None:
        self.table = torch.log_softmax(log_probs.to(DTYPE), dim=-1)

    def sample(self, contexts: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return sample_categorical(self.table[contexts], generator)

    def token_log_probs(self, contexts: torch.Tensor, responses: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logp = self.table[contexts, responses][:, None]
        return logp, torch.ones_like(logp)


def geometric_mixture(log_pi: torch.Tensor, log_mu: torch.Tensor, beta: float) -> torch.Tensor:
    """``log pi_beta`` with ``pi_beta ∝ pi^(1 - beta) mu^beta`` (the paper's alternative policy, Section 7).

    For one-token responses this is the exact sequence-level mixture; a language model draws
    the token-level version instead (see :mod:`nlhf_core.llm`).

    Args:
        log_pi: log-probabilities of ``pi``, ``(..., n)``.
        log_mu: log-probabilities of ``mu``, same shape.
        beta: the reference's weight, in ``[0, 1]``.

    Returns:
        ``log pi_beta``, ``(..., n)``, normalized along the last axis.
    """
    return torch.log_softmax((1.0 - beta) * log_pi + beta * log_mu, dim=-1)


def sample_categorical(log_probs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One index per row of ``(B, n)`` log-probabilities, by inverse CDF on seeded uniforms."""
    probs = torch.softmax(log_probs, dim=-1)
    cdf = torch.cumsum(probs, dim=-1)
    u = torch.rand(probs.shape[0], 1, generator=generator, dtype=probs.dtype) * cdf[:, -1:]
    return torch.clamp((cdf < u).sum(dim=-1), max=probs.shape[-1] - 1)
