"""Exact arithmetic for the equilibrium solvers: the game's entries as rationals, linear algebra on them.

**Which game is exact.** Preference games are typed, stored and computed as decimals and simple
fractions (``0.9``, ``1e-08``, ``1/3``, ``1 - 0.9``), but held as binary floats: ``1 - 0.9`` is
``0.09999999999999998`` and ``0.1 + 0.9`` is not exactly 1. A solver that took the floats literally
would answer a game ``1e-17`` away from the one meant, and near-degenerate games (several
equilibria, ties) change their answer under such perturbations. So each entry ``x`` is read as

* the fraction ``p/q`` with ``q <= 10^6`` nearest to it, when that lies within
  ``|p/q - x| <= 2^-51 |x|`` (about two units in the last place): ``0.1``, ``1 - 0.9``,
  ``0.30000000000000004`` and ``1/3`` are ``1/10``, ``1/10``, ``3/10`` and ``1/3``;
* otherwise the decimal its float prints as (Python's shortest round-trip ``repr``; Steele and
  White 1990): ``1e-08`` is ``10^-8`` and ``0.99999999`` is ``99999999/10^8``.

Either way ``|exact(x) - x| <= 2^-51 |x|``, which the floating-point bounds of :mod:`.certify` allow
for. A random float lies that close to such a fraction with probability about ``3e-4``; generic
games keep their floats to within half a unit in the last place.

Only signs and zeros of ``A``-expressions matter (equilibrium, support, tight set: all invariant under
scaling each row of ``A = (P - P^T) / 2`` by a positive number), so each row is scaled to integers and
the systems are solved there:

* :func:`bareiss_solve` — fraction-free Gaussian elimination (Bareiss 1968, "Sylvester's identity and
  multistep integer-preserving Gaussian elimination", Math. Comp. 22): every division is exact and
  every intermediate entry is a minor, so numbers grow linearly in the order, not exponentially.
* :func:`affine_point` and :func:`null_space_basis` — reduced row echelon form in
  :class:`fractions.Fraction`, for the singular systems of games with several equilibria.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np

#: Largest denominator an entry is snapped to.
SNAP_DENOMINATOR = 10**6
#: Largest distance (relative) from the float to its snapped fraction.
SNAP_TOLERANCE = 2.0**-51


@lru_cache(maxsize=65536)
def exact_value(x: float) -> Fraction:
    """The rational number a preference entry stands for (see the module docstring).

    Args:
        x: a float entry of a preference matrix.

    Returns:
        The nearest fraction with denominator at most :data:`SNAP_DENOMINATOR` when it is within
        :data:`SNAP_TOLERANCE` relative, else the float's shortest decimal.
    """
    if x == 0.0:
        return Fraction(0)
    snapped = Fraction(x).limit_denominator(SNAP_DENOMINATOR)
    if abs(float(snapped) - x) <= SNAP_TOLERANCE * abs(x):
        return snapped
    return Fraction(repr(x))


@lru_cache(maxsize=65536)
def _excess(x: float) -> float:
    return float(exact_value(x) - Fraction(x))


def entry_excess(X: np.ndarray) -> np.ndarray:
    """``exact_value(x) - x`` for every float of ``X``, rounded to floats (at most ``2^-51 |x|``).

    Args:
        X: float array.

    Returns:
        The excesses, the shape of ``X``.
    """
    return np.array([_excess(x) for x in X.ravel().tolist()], dtype=float).reshape(X.shape)


@lru_cache(maxsize=65536)
def _ratio(x: float) -> tuple[int, int]:
    v = exact_value(x)
    return v.numerator, v.denominator


def small_denominators(P: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> bool:
    """Whether every entry of the block reads as a fraction with denominator at most ``10^6``.

    Such blocks (ties, 0/1 and 0/½/1 games, typed decimals) are cheap in exact arithmetic.

    Args:
        P: the preference matrix.
        rows: row indices.
        cols: column indices.

    Returns:
        True when exact arithmetic on ``A[rows, cols]`` stays with small integers.
    """
    block = P[np.ix_(rows, cols)].ravel().tolist() + P[np.ix_(cols, rows)].ravel().tolist()
    return all(_ratio(x)[1] <= SNAP_DENOMINATOR for x in block)


def common_denominator_form(P: np.ndarray, max_values: int = 256) -> tuple[np.ndarray | None, int]:
    """``(D (P - P^T), D)`` exactly in int64 when ``P`` has few distinct entries, all fractions whose
    denominators share a common multiple ``D <= 10^6``; ``(None, 0)`` otherwise.

    Games of ties, 0/1 and 0/½/1 entries or a few typed decimals qualify; their exact blocks are then
    slices of one integer matrix instead of a fraction read per entry.

    Args:
        P: the ``n × n`` preference matrix (entries read by :func:`exact_value`).
        max_values: most distinct entries tried (each is read as a fraction once).

    Returns:
        The integer skew matrix times ``D`` (that is ``2 D A``) and ``D``, or ``(None, 0)``.
    """
    values = np.unique(P)
    if len(values) > max_values:
        return None, 0
    ratios = [_ratio(float(v)) for v in values]
    denominator = math.lcm(*(q for _, q in ratios))
    if denominator > SNAP_DENOMINATOR:
        return None, 0
    numerators = np.array([p * (denominator // q) for p, q in ratios], dtype=np.int64)
    N = numerators[np.searchsorted(values, P)]
    return N - N.T, denominator


def skew_integers(P: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The block ``A[rows, cols]`` of ``A = (P - P^T) / 2`` exactly, each row scaled to integers.

    Args:
        P: the preference matrix (floats, read by :func:`exact_value`).
        rows: row indices.
        cols: column indices.

    Returns:
        ``(M, c)``: object arrays of Python ints with ``M[i, :] = c[i] * A[rows[i], cols]``, ``c > 0``.
    """
    M = np.zeros((len(rows), len(cols)), dtype=object)
    c = np.ones(len(rows), dtype=object)
    block, mirror = P[np.ix_(rows, cols)].tolist(), P[np.ix_(cols, rows)].T.tolist()
    for r, (row, back) in enumerate(zip(block, mirror, strict=True)):
        a = [_ratio(v) for v in row]
        b = [_ratio(v) for v in back]
        scale = math.lcm(*(d for _, d in a), *(d for _, d in b)) if a else 1
        M[r, :] = [p * (scale // q) - s * (scale // t) for (p, q), (s, t) in zip(a, b, strict=True)]
        c[r] = 2 * scale
    return M, c


def bareiss_solve(M: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Solve the integer system ``M x = rhs`` exactly: ``x = y / d`` with integers ``y`` and ``d``.

    Args:
        M: ``(m, m)`` object array of ints.
        rhs: ``(m,)`` object array of ints.

    Returns:
        ``(y, d)`` with ``d = ±det(M) != 0``, or None when ``M`` is singular.
    """
    m = M.shape[0]
    T = np.concatenate([M, rhs[:, None]], axis=1)
    prev = 1
    for k in range(m):
        nonzero = [i for i in range(k, m) if T[i, k] != 0]
        if not nonzero:
            return None
        p = min(nonzero, key=lambda i: abs(T[i, k]))
        if p != k:
            T[[k, p]] = T[[p, k]]
        akk = T[k, k]
        T[k + 1 :, k:] = (akk * T[k + 1 :, k:] - T[k + 1 :, k : k + 1] * T[k : k + 1, k:]) // prev
        prev = akk
    d = int(T[m - 1, m - 1])
    y = np.empty(m, dtype=object)
    for i in range(m - 1, -1, -1):  # back substitution: y = d x is integral (Cramer's rule)
        s = d * T[i, m] - (int(np.dot(T[i, i + 1 : m], y[i + 1 :])) if i + 1 < m else 0)
        y[i] = s // T[i, i]
    return y, d


def _echelon(T: np.ndarray, ncols: int) -> tuple[np.ndarray, list[int]]:
    """Reduced row echelon form of an integer matrix over its first ``ncols`` columns, fraction-free.

    Each elimination step ``T_i <- p T_i - T_ic T_r`` keeps integers (only rows with ``T_ic != 0``
    change); dividing a changed row by the gcd of its entries keeps them small. Pivot rows come
    first; a pivot need not be 1.
    """
    rows = [[int(v) for v in row] for row in T.tolist()]
    pivots: list[int] = []
    r = 0
    for c in range(ncols):
        nonzero = [i for i in range(r, len(rows)) if rows[i][c] != 0]
        if not nonzero:
            continue
        p = min(nonzero, key=lambda i: abs(rows[i][c]))
        rows[r], rows[p] = rows[p], rows[r]
        pivot_row = rows[r]
        pv = pivot_row[c]
        for i, row in enumerate(rows):
            f = row[c]
            if i == r or f == 0:
                continue
            new = [pv * a - f * b for a, b in zip(row, pivot_row, strict=True)]
            g = math.gcd(*new)
            rows[i] = [v // g for v in new] if g > 1 else new
        pivots.append(c)
        r += 1
        if r == len(rows):
            break
    out = np.empty((len(rows), T.shape[1]), dtype=object)
    out[:, :] = rows
    return out, pivots


Faces = dict[tuple[tuple[int, ...], ...], tuple[np.ndarray, list[int]]]


def _face_echelon(M: np.ndarray, cache: Faces | None) -> tuple[np.ndarray, list[int]]:
    """Echelon form of ``[M, 0; 1^T, 1]`` (the face ``{M x = 0, 1^T x = 1}``), remembered in ``cache``.

    The support test and the maximum-entropy step of one solve ask for the same face; the cache
    (one per game, :class:`.certify.SkewGame`) spares the second elimination.
    """
    r, k = M.shape
    T = np.zeros((r + 1, k + 1), dtype=object)
    T[:r, :k] = M
    T[r, :] = 1
    if cache is None:
        return _echelon(T, k)
    key = tuple(tuple(int(v) for v in row) for row in T.tolist())
    if key not in cache:
        cache[key] = _echelon(T, k)
    return cache[key]


def affine_point(AEE: np.ndarray, hint: np.ndarray, cache: Faces | None = None) -> list[Fraction] | None:
    """An exact point of ``{x : A_EE x = 0, 1^T x = 1}`` near ``hint``.

    Args:
        AEE: ``(k, k)`` integer block (rows may be scaled independently).
        hint: ``(k,)`` floats; the free coordinates of the echelon form take their values.
        cache: echelon forms already computed for this game (updated).

    Returns:
        The point as fractions, or None when the set is empty.
    """
    k = AEE.shape[0]
    T, pivots = _face_echelon(AEE, cache)
    if any(T[i, k] != 0 for i in range(len(pivots), k + 1)):
        return None
    free = [c for c in range(k) if c not in pivots]
    x = [Fraction(0)] * k
    for c in free:
        x[c] = Fraction(float(hint[c]))
    for i, c in enumerate(pivots):
        x[c] = (T[i, k] - sum((T[i, f] * x[f] for f in free), Fraction(0))) / T[i, c]
    return x


def null_space_basis(M: np.ndarray, cache: Faces | None = None) -> np.ndarray:
    """A basis of ``{d : M d = 0, 1^T d = 0}``, computed exactly and returned as floats.

    Args:
        M: ``(r, k)`` integer matrix (rows may be scaled independently).
        cache: echelon forms already computed for this game (updated).

    Returns:
        ``(k, m)`` floats, one basis vector per free column of the echelon form (``m = 0``: none).
    """
    k = M.shape[1]
    T, pivots = _face_echelon(M, cache)
    free = [c for c in range(k) if c not in pivots]
    basis = np.zeros((k, len(free)))
    for j, f in enumerate(free):
        basis[f, j] = 1.0
        for i, c in enumerate(pivots):
            basis[c, j] = float(Fraction(-T[i, f], T[i, c]))
    return basis
