"""RLHF baselines: Bradley–Terry rewards fitted to a preference game, and the policies built on them.

* **Bradley–Terry maximum likelihood** under a sampling distribution ``w`` over pairs
  (Munos et al. 2024, Section 3 and Proposition 2 / Theorem 2: when ``P`` is not
  Bradley–Terry the fitted reward depends on ``w``):
  ``max_s sum_{i != j} w_ij P_ij log sigmoid(s_i - s_j)``. The gradient is
  ``sum_j w_kj (P_kj - sigmoid(s_k - s_j))`` and the Hessian a weighted graph Laplacian,
  so Newton's method converges in a few steps. Scores are centred (mean 0 per connected
  group of compared responses).
* **Separable data**: if some group of responses never loses to the rest (in the
  sampled pairs), the likelihood keeps growing as their scores go to infinity (Ford 1957:
  the MLE exists iff the "beats" graph of each compared group is strongly connected).
  We then maximize the likelihood minus ``ridge/2 ||s||^2`` with ``ridge = 1e-3`` and say
  so in ``warning``: the scores stay finite and keep the order, their gaps are "very large".
* **RLHF / DPO optimum**: ``pi ∝ mu exp(r / tau)`` (the KL-regularized reward maximizer;
  with infinite data from the same pairs DPO's tabular optimum is the same policy).
* **IPO optimum** (Azar et al. 2024, Section 5): IPO minimizes, over pairs ``(y, y') ~ W`` labelled
  by ``P``, ``E[(h(y_w, y_l) - 1/(2 tau))^2]`` with ``h(y, y') = log(pi(y) mu(y') / (pi(y') mu(y)))``.
  Averaging over the label, each pair contributes ``(h(y, y') - (P(y ≻ y') - 1/2) / tau)^2`` plus a
  constant, so with ``g = log(pi / mu)`` the loss is the weighted least-squares problem
  ``sum_{y, y'} W(y, y') (g(y) - g(y') - A(y, y') / tau)^2`` (``A = (P - P^T) / 2``). Its normal
  equations are ``L g = b`` with the graph Laplacian ``L = diag(W 1) - W`` and
  ``b = (W ∘ A) 1 / tau``; we take the minimum-norm solution (the limit of gradient descent from
  ``pi = mu``: the loss never moves responses or groups the sampled pairs do not connect) and
  ``pi ∝ mu exp(g)``. For pairs drawn independently from a policy ``q`` with full support
  (``W = q ⊗ q``) this is the closed form ``pi ∝ mu exp(P(y ≻ q) / tau)`` (``q = mu`` gives
  Nash-MD's ``beta = 1`` best response); for general pair weights it is not.
* **Best-of-n** over ``mu`` by the fitted reward: the law of the highest-reward response
  among ``n`` draws from ``mu`` (ties broken at random).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse.csgraph import connected_components
from scipy.special import expit, log_expit

from nlhf_core.errors import PolicyError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.policies import as_context_policies, as_reference
from nlhf_core.numerics import softmax

#: Ridge used when the data are separable (documented finite fallback).
SEPARABLE_RIDGE = 1e-3


@dataclass(frozen=True)
class BradleyTerryFit:
    """Bradley–Terry rewards fitted to each context of a game.

    Attributes:
        scores: ``(C, n)`` rewards, centred per compared group.
        pair_weights: ``(C, n, n)`` sampling distribution over ordered pairs (symmetric,
            zero diagonal, sums to 1 per context).
        log_likelihood: expected log-likelihood of one sampled comparison (``rho``-averaged).
        max_residual: ``max |P_ij - sigmoid(s_i - s_j)|`` over sampled pairs: 0 (to 1e-9)
            exactly when the game is Bradley–Terry on those pairs.
        separable: whether the ridge fallback was needed in some context.
        warning: one sentence when it was, else None.
    """

    scores: np.ndarray
    pair_weights: np.ndarray = field(repr=False)
    log_likelihood: float
    max_residual: float
    separable: bool
    warning: str | None = None

    def predicted(self) -> np.ndarray:
        """The Bradley–Terry preference matrix ``sigmoid(s_i - s_j)``, shape ``(C, n, n)``."""
        return expit(self.scores[:, :, None] - self.scores[:, None, :])


def pair_distribution(spec: Any, game: PreferenceGame, reference: Any = None) -> np.ndarray:
    """Sampling distribution over pairs, shape ``(C, n, n)``.

    ``spec`` is ``"uniform"`` (every pair alike), ``"reference"`` (both responses drawn
    from ``mu``), a policy (vector or file) ``q`` (pairs from ``q × q``), or a square
    matrix (or a JSON file holding one) of non-negative pair weights. The result is
    symmetrized, its diagonal zeroed and normalized.

    Args:
        spec: ``"uniform"`` (or None), ``"reference"``, a policy ``q`` (``(n,)``, ``(C, n)``, mapping or
            file) or an ``(n, n)`` matrix of non-negative pair weights (or a ``.json`` file holding one).
        game: the game whose responses are paired.
        reference: ``mu`` for ``"reference"`` (default uniform).

    Returns:
        ``W`` of shape ``(C, n, n)``: symmetric, zero diagonal, each context summing to 1.

    Raises:
        PolicyError: an invalid policy or JSON file, a table of the wrong shape, negative or
            non-finite pair weights, or no weight on any pair of different responses.
    """
    n, C = game.n, game.num_contexts
    if spec is None or (isinstance(spec, str) and spec.strip().lower() == "uniform"):
        W = np.ones((C, n, n))
    elif isinstance(spec, str) and spec.strip().lower() == "reference":
        mu = as_reference(reference, game)
        W = mu[:, :, None] * mu[:, None, :]
    else:
        data = _read_json_if_matrix(spec)
        arr = np.asarray(data, dtype=float) if _is_square_table(data, n) else None
        if arr is not None:
            W = _check_pair_matrix(arr, game)
        else:
            _check_table_shape(data, game)
            q = as_context_policies(data, game, what="sampling policy")
            W = q[:, :, None] * q[:, None, :]
    W = np.broadcast_to(W, (C, n, n)).copy()
    W = 0.5 * (W + np.swapaxes(W, -1, -2))
    W[:, np.arange(n), np.arange(n)] = 0.0
    totals = W.sum(axis=(-1, -2), keepdims=True)
    if n > 1 and np.any(totals <= 0):
        raise PolicyError(
            "The sampling distribution puts no weight on any pair of different responses; "
            "give two or more responses positive probability."
        )
    return W / np.where(totals > 0, totals, 1.0)


def _read_json_if_matrix(spec: Any) -> Any:
    if isinstance(spec, str | Path) and str(spec).lower().endswith(".json") and Path(spec).is_file():
        try:
            return json.loads(Path(spec).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise PolicyError(f"The sampling file {Path(spec).name!r} is not valid JSON.") from None
    return spec


def _is_square_table(data: Any, n: int) -> bool:
    try:
        arr = np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        return False
    return arr.ndim == 2 and arr.shape == (n, n) and n > 1


def _check_table_shape(data: Any, game: PreferenceGame) -> None:
    """A table that is neither ``n × n`` pair weights nor one policy per context gets one sentence."""
    try:
        arr = np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        return  # not a numeric table: the policy reader names the problem
    n, C = game.n, game.num_contexts
    if arr.ndim != 2 or arr.shape == (C, n):
        return
    rows, cols = arr.shape
    labels = ", ".join(game.labels[:6]) + (", ..." if n > 6 else "")
    if rows == cols:
        raise PolicyError(
            f"The pair sampling matrix is {rows}×{cols} but the game has {n} responses; give a matrix of pair "
            f"weights with one row and one column per response ({n}×{n}: {labels})."
        )
    per_context = f", one policy per context ({C}×{n})" if game.has_contexts else ""
    raise PolicyError(
        f"The sampling table is {rows}×{cols}; for this {n}-response game give pair weights ({n}×{n}){per_context} "
        f"or one policy ({n} probabilities)."
    )


def _check_pair_matrix(arr: np.ndarray, game: PreferenceGame) -> np.ndarray:
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise PolicyError(
            "The pair sampling matrix must hold finite, non-negative weights (one per pair of responses)."
        )
    return arr[None, :, :]


def fit_bradley_terry(game: PreferenceGame, sampling: Any = "uniform", reference: Any = None) -> BradleyTerryFit:
    """Maximum-likelihood Bradley–Terry rewards for each context under a pair distribution.

    Maximizes ``sum_{i != j} w_ij P_ij log sigmoid(s_i - s_j)`` per context by Newton's method (Munos et al.
    2024, Section 3; the fit depends on ``w`` when ``P`` is not Bradley–Terry, Proposition 2); separable
    data get the :data:`SEPARABLE_RIDGE` penalty and a ``warning``.

    Args:
        game: the preference game (plain or contextual).
        sampling: the pair distribution ``w`` (anything :func:`pair_distribution` accepts).
        reference: ``mu``, used when ``sampling`` is ``"reference"``.

    Returns:
        The :class:`BradleyTerryFit`: scores ``(C, n)`` (logit units), pair weights ``(C, n, n)``,
        expected log-likelihood and the largest residual on sampled pairs.

    Raises:
        PolicyError: an invalid ``sampling`` or ``reference``.
    """
    W = pair_distribution(sampling, game, reference)
    scores = np.zeros((game.num_contexts, game.n))
    loglik = np.zeros(game.num_contexts)
    residual = 0.0
    separable = False
    for k in range(game.num_contexts):
        P = game.matrices[k]
        ridge = SEPARABLE_RIDGE if is_separable(P, W[k]) else 0.0
        separable |= ridge > 0
        scores[k] = newton_bradley_terry(P, W[k], ridge)
        d = scores[k][:, None] - scores[k][None, :]
        loglik[k] = float(np.sum(W[k] * P * log_expit(d)))
        sampled = W[k] > 0
        if sampled.any():
            residual = max(residual, float(np.abs(P - expit(d))[sampled].max()))
    warning = None
    if separable:
        warning = (
            "Some responses never lose (or never win) against the others in the sampled pairs, so the "
            "Bradley–Terry likelihood has no finite maximum; the fit adds a small ridge penalty "
            f"({SEPARABLE_RIDGE:g}) to keep the rewards finite: read very large gaps as 'always wins'."
        )
    return BradleyTerryFit(
        scores=scores,
        pair_weights=W,
        log_likelihood=float(np.dot(game.weights, loglik)),
        max_residual=residual,
        separable=separable,
        warning=warning,
    )


def is_separable(P: np.ndarray, W: np.ndarray) -> bool:
    """True when the MLE is infinite: a compared group is not strongly connected by wins.

    Args:
        P: ``(n, n)`` preference matrix, P[i, j] = P(i ≻ j).
        W: ``(n, n)`` pair weights (which pairs are compared).

    Returns:
        Whether the number of strongly connected components of the "beats" graph (compared pairs
        with ``P > 0``) differs from the number of compared groups.
    """
    compared = W > 0
    n_groups, _ = _components(compared, strong=False)
    beats = compared & (P > 0)
    n_strong, _ = _components(beats, strong=True)
    return n_strong != n_groups


def _components(adjacency: np.ndarray, *, strong: bool) -> tuple[int, np.ndarray]:
    """Number and labels of the connected (``strong``: strongly connected) components of a graph.

    Small graphs use boolean reachability by repeated squaring (scipy's validation alone costs
    ~0.5 ms a call, which dominated small fits); large ones scipy's ``connected_components``.
    """
    n = adjacency.shape[0]
    if n > 64:
        return connected_components(adjacency, directed=strong, connection="strong" if strong else "weak")
    reach = (adjacency if strong else adjacency | adjacency.T) | np.eye(n, dtype=bool)
    for _ in range(max(1, int(np.ceil(np.log2(n))))):
        reach = (reach.astype(float) @ reach.astype(float)) > 0
    first = (reach & reach.T).argmax(axis=1)  # smallest member of each response's component
    groups, labels = np.unique(first, return_inverse=True)
    return len(groups), labels


def newton_bradley_terry(P: np.ndarray, W: np.ndarray, ridge: float) -> np.ndarray:
    """Newton's method on the (ridge-penalized) BT log-likelihood; scores centred per group.

    Args:
        P: ``(n, n)`` preference matrix, P[i, j] = P(i ≻ j).
        W: ``(n, n)`` symmetric pair weights, zero diagonal.
        ridge: the penalty ``ridge/2 ||s||^2`` (0 for the plain MLE; > 0 when the data are separable).

    Returns:
        The scores ``(n,)`` (logit units), mean 0 within each group of compared responses.
    """
    n = P.shape[0]
    s = np.zeros(n)

    def objective(x: np.ndarray) -> float:
        return float(np.sum(W * P * log_expit(x[:, None] - x[None, :]))) - 0.5 * ridge * float(x @ x)

    value = objective(s)
    for _ in range(200):
        sig = expit(s[:, None] - s[None, :])
        grad = np.sum(W * (P - sig), axis=1) - ridge * s
        if np.abs(grad).max() < 1e-13:
            break
        curvature = W * sig * (1.0 - sig)
        H = curvature - np.diag(curvature.sum(axis=1)) - ridge * np.eye(n)
        step = np.linalg.lstsq(-H, grad, rcond=None)[0]
        t = 1.0
        while t > 1e-10:
            candidate = s + t * step
            new_value = objective(candidate)
            if new_value >= value - 1e-15:
                break
            t *= 0.5
        s, value = candidate, new_value
    return _centre(s, W)


def _centre(s: np.ndarray, W: np.ndarray) -> np.ndarray:
    _, groups = _components(W > 0, strong=False)
    out = s.copy()
    for g in np.unique(groups):
        members = groups == g
        out[members] -= out[members].mean()
    return out


def kl_regularized_optimum(rewards: np.ndarray, tau: float, mu: np.ndarray) -> np.ndarray:
    """``pi ∝ mu exp(r / tau)``: the RLHF (and DPO) optimum, per context, shape like ``mu``.

    Args:
        rewards: rewards ``r``, shape ``(..., n)`` (e.g. Bradley–Terry scores ``(C, n)``).
        tau: KL strength ``tau > 0``.
        mu: reference policy, shape like ``rewards``, positive.

    Returns:
        The policy ``softmax(log mu + r / tau)`` along the last axis.
    """
    return softmax(np.log(mu) + rewards / tau)


def ipo_optimum(
    game: PreferenceGame,
    tau: float,
    mu: np.ndarray,
    sampling_policy: np.ndarray | None = None,
    *,
    pair_weights: np.ndarray | None = None,
) -> np.ndarray:
    """IPO's tabular optimum for comparisons of pairs drawn from ``pair_weights`` (or ``q ⊗ q``).

    Args:
        game: the preference game (its ``P`` labels the pairs).
        tau: IPO's regularization strength.
        mu: reference policy, shape ``(C, n)``.
        sampling_policy: ``q`` of shape ``(C, n)`` or ``(n,)``: pairs drawn independently from ``q``.
        pair_weights: ``(C, n, n)`` or ``(n, n)`` weights of the ordered pairs (symmetrized here);
            takes precedence over ``sampling_policy``.

    Returns:
        ``(C, n)``: the minimizer of the IPO loss (see the module docstring), per context.
    """
    C, n = game.num_contexts, game.n
    if pair_weights is None:
        if sampling_policy is None:
            raise ValueError("give the sampling policy or the pair weights")
        q = np.broadcast_to(np.asarray(sampling_policy, dtype=float), (C, n))
        W = q[:, :, None] * q[:, None, :]
    else:
        W = np.broadcast_to(np.asarray(pair_weights, dtype=float), (C, n, n))
    W = 0.5 * (W + np.swapaxes(W, -1, -2))
    A = 0.5 * (game.matrices - np.swapaxes(game.matrices, -1, -2))
    g = np.zeros((C, n))
    for k in range(C):
        L = np.diag(W[k].sum(axis=1)) - W[k]
        b = (W[k] * A[k]).sum(axis=1) / tau
        g[k] = np.linalg.lstsq(L, b, rcond=None)[0]  # minimum norm: unconnected groups stay centred
    return kl_regularized_optimum(g, 1.0, mu)


def best_of_n(rewards: np.ndarray, mu: np.ndarray, n: int) -> np.ndarray:
    """Law of the best of ``n`` draws from ``mu`` by reward (ties split in proportion to ``mu``).

    For a reward level ``r`` with mass ``m`` and mass ``F`` strictly below it, the best
    draw lands on that level with probability ``(F + m)^n - F^n``.

    Args:
        rewards: rewards ``(C, n)`` (or ``(n,)``).
        mu: the policy the ``n`` draws come from, same shape.
        n: number of draws (>= 1).

    Returns:
        The best-of-``n`` policy, shape ``(C, n)`` (a 1-d input gains the context axis).
    """
    rewards = np.atleast_2d(rewards)
    mu = np.atleast_2d(mu)
    out = np.zeros_like(mu)
    for k in range(mu.shape[0]):
        r, m = rewards[k], mu[k]
        levels = np.unique(r)
        below = 0.0
        for level in levels:
            tied = r == level
            mass = m[tied].sum()
            share = (below + mass) ** n - below**n
            out[k, tied] = share * m[tied] / mass if mass > 0 else 0.0
            below += mass
    return out / out.sum(axis=-1, keepdims=True)


def sampling_marginal(W: np.ndarray) -> np.ndarray:
    """The policy each compared response is drawn from: the row sums of the pair weights.

    Args:
        W: pair weights ``(..., n, n)`` (symmetric).

    Returns:
        The marginal ``q = W 1 / 1^T W 1``, shape ``(..., n)``.
    """
    q = W.sum(axis=-1)
    return q / q.sum(axis=-1, keepdims=True)
