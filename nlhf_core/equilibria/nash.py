"""Exact Nash and exact regularized Nash equilibria of preference games, with certificates.

*Unregularized Nash* (Munos et al. 2024, Section 3): ``pi*`` with
``max_y P(y ≻ pi*) = 1/2``, i.e. exploitability 0. The set of such policies is a polytope;
when it has more than one point we return the **maximum-entropy** equilibrium, which is
the limit of the regularized equilibrium with a uniform reference as ``tau -> 0`` (see
:mod:`.entropic_path`). The answer is then made exact by solving the linear
system of its support: with ``A = (P - P.T) / 2`` and support ``E``,
``A[E, E] pi_E = 0, sum(pi_E) = 1``, and certified by ``max_y (P pi)(y) - 1/2 <= 1e-9``.

*Regularized Nash* (Eq. 2, Proposition 1): the unique ``pi*_tau`` with
``pi(y) ∝ mu(y) exp((P pi)(y) / tau)``, certified by its regularized duality gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.linalg import lapack
from scipy.optimize import linprog

from ..errors import SolverError
from ..games import PreferenceGame
from ..metrics import exploitability as _exploitability
from .common import NASH_TOLERANCE, as_game
from .entropic_path import follow_entropic_path
from .interior_point import nash_interior_point

# Smallest tau the exact solver follows the entropic path to before giving up on it.
_NASH_PATH_MIN_TAU = 1e-9
# A response with reference slack below this is treated as tight when deciding uniqueness.
_TIGHT_SLACK = 1e-9


@dataclass(frozen=True)
class NashEquilibrium:
    """An exact Nash equilibrium and its certificate.

    Attributes:
        policy: ``(n,)`` for a plain game, ``(C, n)`` for a contextual one.
        exploitability: ``max_y (P pi)(y) - 1/2`` (weighted by ``rho`` over contexts).
        support: indices with positive probability (plain games).
        unique: whether the game has exactly one Nash equilibrium (every context).
        selection: ``"unique"``, ``"maximum-entropy"`` (several equilibria; the one of
            largest entropy) or ``"lp-vertex"`` (fallback; a vertex of the set).
        method: how it was computed.
        per_context: one result per context (contextual games only).
    """

    policy: np.ndarray
    exploitability: float
    support: tuple[int, ...]
    unique: bool
    selection: str
    method: str
    per_context: tuple[NashEquilibrium, ...] = field(default=(), repr=False)


def nash_equilibrium(game: PreferenceGame | Any) -> NashEquilibrium:
    """Exact Nash equilibrium of a preference game (maximum-entropy when not unique).

    Accepts a :class:`PreferenceGame` (plain or contextual) or an ``n × n`` matrix.
    Raises :class:`SolverError` only if no method can certify an answer.
    """
    game = as_game(game)
    results = [_nash_of_matrix(M) for M in game.matrices]
    if not game.has_contexts:
        return results[0]
    policy = np.stack([r.policy for r in results])
    return NashEquilibrium(
        policy=policy,
        exploitability=float(np.dot(game.weights, [r.exploitability for r in results])),
        support=(),
        unique=all(r.unique for r in results),
        selection="unique" if all(r.unique for r in results) else "maximum-entropy",
        method=results[0].method,
        per_context=tuple(results),
    )


# ------------------------------------------------------------------ exact Nash
def _nash_of_matrix(P: np.ndarray) -> NashEquilibrium:
    n = P.shape[0]
    A = 0.5 * (P - P.T)
    winner = _condorcet_winner(A)
    if winner is not None:
        pi = np.zeros(n)
        pi[winner] = 1.0
        return _certified(P, pi, unique=True, selection="unique", method="condorcet-winner")

    # 1. Interior point to the analytic center; certify the unique equilibrium exactly.
    found: dict[str, _Candidate] = {}

    def certify_unique(pi: np.ndarray, slack: np.ndarray, v: float) -> bool:
        if v > 1e-6:
            return False
        candidate = _support_solve(A, pi, slack, allow_degenerate=False)
        if candidate is not None and candidate.unique:
            found["unique"] = candidate
            return True
        return False

    nash_interior_point(A, on_iteration=certify_unique)
    if "unique" in found:
        return _certified(P, found["unique"].pi, unique=True, selection="unique", method="interior-point")

    # 2. Several equilibria (or an ill-conditioned support): the maximum-entropy one is the
    #    tau -> 0 limit of the entropic path with a uniform reference.
    last: dict[str, _Candidate] = {}

    def certify_on_path(point: Any) -> bool:
        if point.tau > 1e-2:
            return False
        candidate = _support_solve(A, point.pi, -point.x, allow_degenerate=False)
        if candidate is not None and candidate.unique:
            last["candidate"] = candidate
            return True
        return False

    try:
        point = follow_entropic_path(
            A,
            np.full(n, -np.log(n)),
            _NASH_PATH_MIN_TAU,
            on_level=certify_on_path,
            gap_tol=1e-12,
            stop_on_stall=True,
        )
        if "candidate" not in last:
            final = _support_solve(A, point.pi, -point.x, allow_degenerate=True)
            if final is not None:
                last["candidate"] = final
    except SolverError:
        pass  # fall back to the LP below
    if "candidate" in last:
        c = last["candidate"]
        unique = c.unique or _is_unique_lp(A, c.pi)
        selection = "unique" if unique else "maximum-entropy"
        return _certified(P, c.pi, unique=unique, selection=selection, method="entropic-path")
    return _lp_fallback(P, A)


def _condorcet_winner(A: np.ndarray) -> int | None:
    """Index that beats every other response with probability > 1/2, if any."""
    beats = (A > 0).sum(axis=1)
    winners = np.flatnonzero(beats == A.shape[0] - 1)
    return int(winners[0]) if len(winners) else None


@dataclass
class _Candidate:
    pi: np.ndarray
    unique: bool


def _support_solve(A: np.ndarray, pi: np.ndarray, slack: np.ndarray, *, allow_degenerate: bool) -> _Candidate | None:
    """Exact equilibrium on the support suggested by a point of the entropic path.

    ``E = {y : pi(y) > slack(y)}`` (``slack``: ``v - A pi`` or ``-(A pi)``). If the system
    ``[[A_EE, 1], [1^T, 0]] [pi_E; v] = [0; 1]`` is well conditioned, its solution is the
    unique equilibrium supported on ``E``; otherwise the equilibria on ``E`` form a
    polytope and we take its maximum-entropy point. Returns None when the candidate
    fails the certificate (the path is not yet close enough).
    """
    E = np.flatnonzero(pi > slack)
    if len(E) == 0:
        return None
    k = len(E)
    B = np.zeros((k + 1, k + 1))
    B[:k, :k] = A[np.ix_(E, E)]
    B[:k, k] = 1.0
    B[k, :k] = 1.0
    lu, piv, info = lapack.dgetrf(B)
    if info == 0:
        anorm = np.abs(B).sum(axis=0).max()
        rcond, _ = lapack.dgecon(lu, anorm, norm="1")
    else:
        rcond = 0.0
    if rcond > 1e-12:
        rhs = np.zeros(k + 1)
        rhs[k] = 1.0
        sol, _ = lapack.dgetrs(lu, piv, rhs)
        pi_E = sol[:k]
        if pi_E.min() <= 0:
            return None
        full = _embed(pi_E, E, A.shape[0])
        expl = float((A @ full).max())
        if expl > NASH_TOLERANCE:
            return None
        outside = np.setdiff1d(np.arange(A.shape[0]), E)
        margin = float(-(A[outside] @ full).max()) if len(outside) else np.inf
        return _Candidate(full, unique=margin > _TIGHT_SLACK)
    if not allow_degenerate:
        return None
    pi_E = _max_entropy_on_support(A, E, pi, slack)
    if pi_E is None:
        return None
    full = _embed(pi_E, E, A.shape[0])
    if float((A @ full).max()) > NASH_TOLERANCE:
        return None
    return _Candidate(full, unique=False)


def _embed(pi_E: np.ndarray, E: np.ndarray, n: int) -> np.ndarray:
    full = np.zeros(n)
    full[E] = np.clip(pi_E, 0.0, None)
    return full / full.sum()


def _max_entropy_on_support(A: np.ndarray, E: np.ndarray, pi: np.ndarray, slack: np.ndarray) -> np.ndarray | None:
    """Maximum-entropy ``pi_E`` with ``A[R, E] pi_E = 0``, ``sum = 1`` (``R``: tight rows).

    ``R`` holds ``E`` and every response whose slack is (near) zero at ``pi``. The
    solutions form an affine set ``{N c : 1^T N c = 1}`` (``N``: null space of
    ``A[R, E]``); Newton's method maximizes the entropy over it.
    """
    tight = np.flatnonzero(slack <= max(1e-7, 10 * slack[E].max(initial=0.0)))
    R = np.union1d(E, tight)
    M = A[np.ix_(R, E)]
    _, s, Vt = np.linalg.svd(M)
    rank = int((s > 1e-10 * max(1.0, s[0] if len(s) else 0.0)).sum())
    N = Vt[rank:].T
    if N.shape[1] == 0:
        return None
    b = N.sum(axis=0)
    if np.abs(b).max() < 1e-12:
        return None
    # projection of the path point onto the affine set {N c : b^T c = 1}
    c = N.T @ pi[E]
    c += (1.0 - b @ c) * b / (b @ b)
    p = N @ c
    if p.min() <= 0:
        return None
    entropy = -np.dot(p, np.log(p))
    for _ in range(100):
        g = -N.T @ (np.log(p) + 1.0)
        H = -(N.T * (1.0 / p)) @ N
        m = len(c)
        K = np.zeros((m + 1, m + 1))
        K[:m, :m] = H
        K[:m, m] = b
        K[m, :m] = b
        step = np.linalg.lstsq(K, np.concatenate([-g, [0.0]]), rcond=None)[0][:m]
        if np.abs(N @ step).max() < 1e-16:
            break
        t = 1.0
        while t > 1e-12:
            p_try = N @ (c + t * step)
            if p_try.min() > 0:
                h_try = -np.dot(p_try, np.log(p_try))
                if h_try >= entropy - 1e-15:
                    break
            t *= 0.5
        else:
            break
        c = c + t * step
        p, entropy = p_try, h_try
    return p / p.sum()


def _is_unique_lp(A: np.ndarray, pi: np.ndarray) -> bool:
    """Whether the game has no Nash equilibrium other than ``pi`` (two LPs).

    Every equilibrium is supported on the responses that are tight against ``pi``
    (``(A pi)(y) = 0``: for equilibria ``pi, pi'``, ``pi'^T A pi = 0`` and ``A pi <= 0``), so
    the LPs only need those variables. Minimizing and maximizing a random direction over
    the Nash polytope gives the same value iff the polytope is one point (with
    probability 1).
    """
    T = np.flatnonzero(A @ pi >= -_TIGHT_SLACK)
    if len(T) == 1:
        return True
    rng = np.random.default_rng(0)
    direction = rng.standard_normal(len(T))
    values = []
    for sign in (1.0, -1.0):
        res = linprog(
            sign * direction,
            A_ub=A[:, T],
            b_ub=np.zeros(A.shape[0]),
            A_eq=np.ones((1, len(T))),
            b_eq=[1.0],
            bounds=[(0, None)] * len(T),
            method="highs",
        )
        if res.status != 0:
            return False
        values.append(sign * res.fun)
    return abs(values[0] - values[1]) <= 1e-9


def _lp_fallback(P: np.ndarray, A: np.ndarray) -> NashEquilibrium:
    """Plain LP (HiGHS) when the path cannot certify; returns a vertex of the Nash set."""
    n = A.shape[0]
    c = np.zeros(n + 1)
    c[-1] = 1.0  # minimize v subject to A pi <= v, sum pi = 1
    res = linprog(
        c,
        A_ub=np.hstack([A, -np.ones((n, 1))]),
        b_ub=np.zeros(n),
        A_eq=np.concatenate([np.ones(n), [0.0]])[None, :],
        b_eq=[1.0],
        bounds=[(0, None)] * n + [(None, None)],
        method="highs",
    )
    if res.status != 0:
        raise SolverError(
            "Neither the entropic path nor the LP could certify a Nash equilibrium; please report this game."
        )
    pi = np.clip(res.x[:n], 0.0, None)
    pi /= pi.sum()
    candidate = _support_solve(A, pi, -(A @ pi), allow_degenerate=True)
    if candidate is not None:
        pi = candidate.pi
    unique = _is_unique_lp(A, pi)
    return _certified(P, pi, unique=unique, selection="unique" if unique else "lp-vertex", method="linprog")


def _certified(P: np.ndarray, pi: np.ndarray, *, unique: bool, selection: str, method: str) -> NashEquilibrium:
    expl = float(_exploitability(P, pi))
    if expl > NASH_TOLERANCE:
        raise SolverError(
            f"The computed equilibrium has exploitability {expl:.2e} > {NASH_TOLERANCE:g}; please report this game."
        )
    return NashEquilibrium(
        policy=pi,
        exploitability=expl,
        support=tuple(int(i) for i in np.flatnonzero(pi > 0)),
        unique=unique,
        selection=selection,
        method=method,
    )
