"""The one home of shared numerics: normalizing in log space, softmax, geometric mixtures, safe logs.

Used by the solvers, the metrics, the baselines and the policy-gradient code alike (no
``0 * log 0``, iterates stay on the simplex); torch code uses ``torch.log_softmax``.
"""

from __future__ import annotations

import numpy as np


def log_normalize(log_p: np.ndarray) -> np.ndarray:
    """Subtract ``logsumexp`` along the last axis so ``exp`` of the result sums to 1."""
    m = log_p.max(axis=-1, keepdims=True)
    return log_p - (m + np.log(np.exp(log_p - m).sum(axis=-1, keepdims=True)))


def softmax(logits: np.ndarray) -> np.ndarray:
    """``exp(v) / sum exp(v)`` along the last axis, shifted by the maximum so nothing overflows.

    ``-inf`` logits (log of a zero probability) give exactly 0.
    """
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def geometric_mixture(log_p: np.ndarray, log_q: np.ndarray, weight: np.ndarray | float) -> np.ndarray:
    """Log of the normalized geometric mixture ``p^(1-w) q^w`` (``w`` may broadcast).

    Written with ``where`` so a zero probability with weight 0 contributes ``0``, not
    ``0 * (-inf) = nan``.
    """
    w = np.asarray(weight, dtype=float)
    with np.errstate(invalid="ignore"):
        left = np.where(w < 1.0, (1.0 - w) * log_p, 0.0)
        right = np.where(w > 0.0, w * log_q, 0.0)
    return log_normalize(left + right)


def safe_log(p: np.ndarray) -> np.ndarray:
    """``log p`` with ``log 0 = -inf`` and no warning."""
    with np.errstate(divide="ignore"):
        return np.log(p)


def batched_matvec(P: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """``P pi`` for ``P`` of shape ``(..., n, n)`` and ``pi`` of shape ``(..., n)``: one query."""
    return np.matmul(P, pi[..., None])[..., 0]
