"""The game's linear program solved by the simplex method, in extended precision or exactly.

With ``A = (P - P^T) / 2`` and ``B = A + J`` (all entries in ``[1/2, 3/2]``), the symmetric game has
value 0 and ``B`` has value 1, so (Dantzig 1951, "A proof of the equivalence of the programming
problem and the game problem")

    max 1^T z  subject to  B z <= 1,  z >= 0

has optimal value 1 and every optimal ``z`` is a Nash equilibrium (``B z <= 1`` with ``1^T z = 1`` is
``A z <= 0``). ``z = 0`` is a feasible basis, so no first phase is needed. The primal simplex method
takes Dantzig's rule (most negative reduced cost) and switches to Bland's rule (Bland 1977: no
cycling) after a run of degenerate pivots; the variables are ordered by a hint, so likely support
responses are preferred.

* :func:`simplex_support` runs it on a floating-point tableau (double, then ``long double`` with its
  64-bit significand where the platform has one): a vertex whose support :mod:`.support` then
  decides exactly. Without tolerances beyond the rounding level it resolves near-ties that HiGHS's
  ``1e-7`` tolerances merge.
* :func:`exact_equilibrium` runs it on an integer tableau with integer-preserving pivots (Edmonds
  1967: every entry is a minor of ``[B | I | 1]``, so every division is exact): an exact equilibrium,
  whatever the game. Rows of ``B`` are scaled to integers separately (a row of ``B z <= 1`` may be
  multiplied by any positive number). Large games are solved on a *core* of responses: the core's
  equilibrium is an equilibrium of the whole game iff no outside response beats it, else the
  violated responses join the core.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from nlhf_core.equilibria.skew_game import SkewGame

#: Largest core the exact simplex method is run on.
EXACT_LP_LIMIT = 150
# Dantzig's rule until this many degenerate pivots in a row, then Bland's.
_DEGENERATE_STREAK = 10


def simplex_support(A: np.ndarray, hint: np.ndarray, dtype: type = np.longdouble) -> np.ndarray | None:
    """Support of an optimal vertex of Dantzig's program, in floating point (``long double`` by default).

    Args:
        A: the skew payoff (floats).
        hint: positive scores ordering the responses (likely support first).
        dtype: the tableau's floating-point type (``np.float64`` is about 8 times faster per pivot).

    Returns:
        Sorted indices of the positive coordinates, or None if the method did not finish.
    """
    n = A.shape[0]
    T = np.zeros((n + 1, 2 * n + 1), dtype=dtype)
    T[:n, :n] = A.astype(dtype) + 1
    T[:n, n : 2 * n] = np.eye(n)
    T[:n, 2 * n] = 1
    T[n, :n] = -1
    eps = 64 * float(np.finfo(dtype).eps)
    priority = _priority(hint)
    basis = np.arange(n, 2 * n)
    degenerate = 0
    for _ in range(20 * n + 50):
        costs = T[n, : 2 * n]
        candidates = np.flatnonzero(costs < -eps)
        if len(candidates) == 0:
            z = np.zeros(n)
            rows = np.flatnonzero(basis < n)
            z[basis[rows]] = T[rows, 2 * n].astype(float)
            return np.flatnonzero(z > eps * max(1.0, z.max()))
        if degenerate < _DEGENERATE_STREAK:  # Dantzig's rule, ties by the hint's order
            best = candidates[costs[candidates] == costs[candidates].min()]
        else:  # Bland's rule
            best = candidates
        q = int(best[np.argmin(priority[best])])
        column = T[:n, q]
        rows = np.flatnonzero(column > eps)
        if len(rows) == 0:
            return None  # unbounded: impossible for this program (B > 0), so a rounding failure
        ratios = T[rows, 2 * n] / column[rows]
        ties = rows[ratios == ratios.min()]
        p = int(ties[np.argmin(priority[basis[ties]])])
        degenerate = degenerate + 1 if T[p, 2 * n] <= eps else 0
        row = T[p] / T[p, q]
        T -= T[:, q : q + 1] * row[None, :]
        T[p] = row
        basis[p] = q
    return None


def exact_equilibrium(skew: SkewGame, hint: np.ndarray) -> tuple[np.ndarray, int] | None:
    """An exact Nash equilibrium ``x = num / den`` of the game.

    Args:
        skew: the exact game.
        hint: positive scores: responses it weighs most form the first core and enter first.

    Returns:
        ``(num, den)`` (object arrays of ints, ``num >= 0``, ``sum(num) = den``), or None when the
        core would exceed :data:`EXACT_LP_LIMIT` responses.
    """
    n = skew.n
    order = np.argsort(-hint, kind="stable")
    core = np.sort(order[: min(n, max(2 * int((hint > 1e-9 * hint.max()).sum()) + 8, 40))])
    while True:
        if len(core) > EXACT_LP_LIMIT:
            return None
        num, den = _exact_core(skew, core, hint)
        outside = np.setdiff1d(np.arange(n), core)
        if len(outside) == 0:
            break
        rows = np.dot(skew.integers(outside, core)[0], num)
        beaten = [int(y) for y, v in zip(outside, rows, strict=True) if v > 0]
        if not beaten:
            break
        core = np.union1d(core, beaten[: max(8, len(core) // 2)])
    full = np.zeros(n, dtype=object)
    full[core] = num
    return full, den


def _exact_core(skew: SkewGame, core: np.ndarray, hint: np.ndarray) -> tuple[np.ndarray, int]:
    m = len(core)
    M, scale = skew.integers(core, core)  # M = scale * A_CC by rows
    T = np.zeros((m + 1, 2 * m + 1), dtype=object)
    T[:m, :m] = M + scale[:, None]  # scale_i * B_i
    T[:m, m : 2 * m] = np.eye(m, dtype=np.int64).astype(object)  # the slack of row i, times scale_i
    T[:m, 2 * m] = scale
    T[m, :m] = -1
    denominator = [1]

    def pivot(T: np.ndarray, p: int, q: int) -> np.ndarray:
        row = T[p].copy()
        column = T[:, q].copy()
        column[p] = 0
        T = (row[q] * T - column[:, None] * row[None, :]) // denominator[0]
        T[p] = row
        denominator[0] = row[q]
        return T

    result = _primal_simplex(T, m, _priority(hint[core]), pivot, 0, max_pivots=None)
    if result is None:  # pragma: no cover - the exact method always finishes
        raise ArithmeticError("the exact simplex method did not finish")
    T, basis = result
    num = np.zeros(m, dtype=object)
    for i, j in enumerate(basis):
        if j < m:
            num[j] = T[i, 2 * m]
    total = int(sum(num))
    g = math.gcd(total, *[int(v) for v in num])
    return num // g, total // g


def _priority(hint: np.ndarray) -> np.ndarray:
    """Bland's order: responses by decreasing hint, then the slacks."""
    m = len(hint)
    priority = np.empty(2 * m, dtype=np.int64)
    priority[np.argsort(-hint, kind="stable")] = np.arange(m)
    priority[m:] = np.arange(m, 2 * m)
    return priority


def _primal_simplex(
    T: np.ndarray,
    m: int,
    priority: np.ndarray,
    pivot: Callable[[np.ndarray, int, int], np.ndarray],
    eps: float,
    max_pivots: int | None,
) -> tuple[np.ndarray, list[int]] | None:
    """Primal simplex on the tableau ``T`` (rows: ``m`` constraints, then the objective).

    The tableau holds the true tableau up to a positive factor per pivot (the integer one) or
    exactly (floats), so every test below compares signs and cross-products only.
    """
    basis = list(range(m, 2 * m))
    rhs = 2 * m
    degenerate, pivots = 0, 0
    while max_pivots is None or pivots < max_pivots:
        costs = T[m, : 2 * m]
        candidates = [j for j in range(2 * m) if costs[j] < -eps]
        if not candidates:
            return T, basis
        if degenerate < _DEGENERATE_STREAK:
            q = min(candidates, key=lambda j: (costs[j], priority[j]))
        else:
            q = min(candidates, key=lambda j: priority[j])
        p = None
        for i in range(m):
            if T[i, q] > eps:
                if p is None:
                    p = i
                    continue
                lhs, other = T[i, rhs] * T[p, q], T[p, rhs] * T[i, q]
                if lhs < other or (lhs == other and priority[basis[i]] < priority[basis[p]]):
                    p = i
        if p is None:
            return None  # unbounded: impossible for this program (B > 0), so a rounding failure
        degenerate = degenerate + 1 if T[p, rhs] <= eps else 0
        T = pivot(T, p, q)
        basis[p] = q
        pivots += 1
    return None
