"""The maximum-entropy Nash equilibrium of a preference game with several equilibria.

The Nash equilibria of ``A = (P - P^T) / 2`` form a polytope. With a uniform reference the
regularized equilibrium ``pi*_tau`` (Munos et al. 2024, Eq. 2) tends, as ``tau -> 0``, to its point
of largest entropy: for every Nash ``pi'``, ``P_tau(pi' ≻ pi*_tau) <= 1/2`` and
``P(pi' ≻ pi*_tau) >= 1/2`` give ``KL(pi*_tau || u) <= KL(pi' || u)`` (:mod:`.entropic_path`). That
point is the answer we report when the equilibrium is not unique.

Given a strictly complementary equilibrium with support ``S`` (proved exactly by :mod:`.certify`),
the polytope is ``{x >= 0 : supp(x) ⊆ S, A_SS x_S = 0, 1^T x = 1, A_yS x_S <= 0 for y ∉ S}``: every
equilibrium is supported in ``S`` and makes the rows of ``S`` tight. We maximize the (strictly
concave) entropy over it by a primal active-set method (Nocedal and Wright 2006, *Numerical
Optimization*, Sec. 16.5): Newton's method on the affine set cut out by ``S``'s rows and the active
rows ``W`` (an exact rational basis of its directions, :func:`.exact.null_space_basis`), a ratio test
that activates the first outside row the step would cross, and the sign of the multipliers to
release a row. If that fails, the entropic path itself is followed.
"""

from __future__ import annotations

import numpy as np

from nlhf_core.equilibria.certify import SupportVerdict
from nlhf_core.equilibria.entropic_path import follow_entropic_path
from nlhf_core.equilibria.exact import null_space_basis
from nlhf_core.equilibria.skew_game import EXACT_SUPPORT_LIMIT, SkewGame
from nlhf_core.errors import SolverError

# Smallest tau the entropic path is followed to before its point is used.
_PATH_MIN_TAU = 1e-9
# Relative singular values that decide a rank in floating point: above _RANK_CLEAR nonzero, below _RANK_ZERO
# zero (integer matrices of the support's size: rounding leaves ~1e-15); in between, exact arithmetic decides.
_RANK_CLEAR = 1e-7
_RANK_ZERO = 1e-13


def maximum_entropy(skew: SkewGame, verdict: SupportVerdict) -> np.ndarray | None:
    """The maximum-entropy equilibrium, from an exact equilibrium proving there are several.

    Args:
        skew: the exact game.
        verdict: a ``"several"`` verdict; when strictly complementary its support is the union
            of all equilibria's supports.

    Returns:
        The maximum-entropy equilibrium (floats), or None when it could not be computed.
    """
    if verdict.strictly_complementary and len(verdict.support) <= EXACT_SUPPORT_LIMIT:
        pi = _active_set(skew, np.array(verdict.support), verdict.equilibrium)
        if pi is not None:
            return pi
    return _along_the_path(skew.hi)


def _directions(skew: SkewGame, S: np.ndarray, W: list[int]) -> np.ndarray:
    """Orthonormal basis of ``{d : A_{S ∪ W, S} d = 0, 1^T d = 0}``.

    The singular values of the integer rows decide the rank in floating point when they leave a clear
    gap (every one above ``1e-7`` or below ``1e-13`` of the largest: small integer matrices, the usual
    case); otherwise an exact rational basis decides it.
    """
    M = skew.integers(np.r_[S, np.array(W, dtype=np.int64)], S)[0]
    rows = np.vstack([M.astype(float), np.ones((1, M.shape[1]))])
    _, sv, Vt = np.linalg.svd(rows)
    scale = sv[0] if len(sv) else 1.0
    if not np.any((sv > _RANK_ZERO * scale) & (sv < _RANK_CLEAR * scale)):
        rank = int((sv >= _RANK_CLEAR * scale).sum())
        return Vt[rank:].T.copy()
    basis = null_space_basis(M, skew.faces)
    if basis.shape[1] == 0:
        return basis
    q, _ = np.linalg.qr(basis)
    return q


def _active_set(skew: SkewGame, S: np.ndarray, start: np.ndarray) -> np.ndarray | None:
    A = skew.hi
    outside = np.setdiff1d(np.arange(skew.n), S)
    rows = A[np.ix_(outside, S)]
    x = start[S] / start[S].sum()
    W: list[int] = []  # active outside rows (positions in ``outside``)
    for _ in range(2 * len(outside) + 8):
        N = _directions(skew, S, [int(outside[j]) for j in W])
        target = _max_entropy_affine(x, N) if N.shape[1] else x
        if target is None:
            return None
        d = target - x
        inactive = np.setdiff1d(np.arange(len(outside)), W)
        if len(inactive):
            rx, rd = rows[inactive] @ x, rows[inactive] @ d
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(rd > 1e-300, np.maximum(-rx, 0.0) / rd, np.inf)
            j = int(np.argmin(t))
            if t[j] < 1.0:
                x = x + t[j] * d
                W.append(int(inactive[j]))
                continue
        x = target
        if not W:
            break
        # KKT: grad H = G lam (rows of S free, rows of W need lam >= 0, the sum row free)
        G = np.vstack([A[np.ix_(S, S)], rows[W], np.ones((1, len(S)))]).T
        lam = np.linalg.lstsq(G, -(np.log(x) + 1.0), rcond=None)[0][len(S) : len(S) + len(W)]
        if lam.min() >= -1e-9 * max(1.0, float(np.abs(lam).max())):
            break
        W.pop(int(np.argmin(lam)))
    else:
        return None
    pi = np.zeros(skew.n)
    pi[S] = np.clip(x, 0.0, None)
    return pi / pi.sum()


def _max_entropy_affine(x: np.ndarray, N: np.ndarray) -> np.ndarray | None:
    """Maximize ``-sum x log x`` over ``{x + N c > 0}`` by damped Newton steps from ``x > 0``."""
    if x.min() <= 0:
        return None
    entropy = -float(np.dot(x, np.log(x)))
    for _ in range(100):
        g = -N.T @ (np.log(x) + 1.0)
        H = (N.T * (1.0 / x)) @ N  # minus the Hessian: positive definite
        step = np.linalg.solve(H, g)
        d = N @ step
        if float(g @ step) < 1e-30:
            break
        t = 1.0
        while t > 1e-12:
            x_try = x + t * d
            if x_try.min() > 0:
                h_try = -float(np.dot(x_try, np.log(x_try)))
                if h_try >= entropy - 1e-15:
                    break
            t *= 0.5
        else:
            break
        x, entropy = x_try, h_try
    return x / x.sum()


def _along_the_path(A: np.ndarray) -> np.ndarray | None:
    """Follow ``pi*_tau`` (uniform reference) towards ``tau -> 0`` and maximize entropy on its support."""
    n = A.shape[0]
    try:
        point = follow_entropic_path(
            A, np.full(n, -np.log(n)), _PATH_MIN_TAU, gap_tol=1e-12, stop_on_stall=True, walk_iterations=2000
        )
    except SolverError:
        return None
    pi, slack = point.pi, -point.x
    E = np.flatnonzero(pi > slack)
    if len(E) == 0:
        return None
    tight = np.flatnonzero(slack <= max(1e-7, 10 * slack[E].max(initial=0.0)))
    R = np.union1d(E, tight)
    M = np.vstack([A[np.ix_(R, E)], np.ones((1, len(E)))])
    _, s, Vt = np.linalg.svd(M)
    rank = int((s > 1e-10 * max(1.0, s[0])).sum())
    N = Vt[rank:].T
    b = np.linalg.lstsq(M, np.r_[np.zeros(len(R)), 1.0], rcond=None)[0]
    x0 = b + N @ (N.T @ (pi[E] - b)) if N.shape[1] else b
    x = _max_entropy_affine(x0, N) if N.shape[1] else (x0 if x0.min() > 0 else None)
    if x is None:
        return None
    out = np.zeros(n)
    out[E] = x
    return out / out.sum()
