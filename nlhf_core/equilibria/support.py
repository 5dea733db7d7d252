"""Finding an equilibrium's support from approximate equilibria, then deciding it exactly.

Floating-point methods locate a Nash equilibrium of ``A = (P - P^T) / 2`` to about ``1e-16``, which
is not the same as knowing its support: in a near-degenerate game (a response that is almost a copy
of another, a preference of ``1e-8`` away from a tie) the only equilibrium can sit at distance
``O(1)`` from a point that every floating-point certificate accepts. So approximate points only
*suggest* supports here, and :func:`~.certify.decide_support` settles each suggestion exactly.

Suggestions, cheapest first (the order :mod:`.nash` asks for them):

1. The interior point's iterate ``(pi, w)`` (:mod:`.interior_point`): on the central path
   ``pi_y w_y = mu``, so ``log(pi_y / w_y)`` is large on the support and small off it, with a gap
   that widens as ``mu -> 0`` (Mehrotra 1992; Ye 1992, "On the finite convergence of interior-point
   algorithms for linear programming"). We cut the ranking at its widest gaps.
2. A vertex of Dantzig's game program from the simplex method in floating point
   (:func:`.simplex.simplex_support`).
3. The neighbours of the suggestions that failed: the ends of the face ``{A_EE x = 0, 1^T x = 1}``
   of a singular ``B_E`` (a ratio test, as when a simplex step moves to a vertex), ``E`` with the
   responses tight at the hint, and active-set swaps that drop the response whose mass is most
   negative and add the one whose payoff ``(A x)_y`` is most positive.

If all fail, :func:`.simplex.exact_equilibrium` computes an equilibrium in exact arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from nlhf_core.equilibria.certify import SupportVerdict, decide_support
from nlhf_core.equilibria.skew_game import EXACT_SUPPORT_LIMIT, SkewGame

#: How many cuts of the interior point's ranking are tried.
RANKING_CUTS = 8
#: How many local repairs are tried from each rejected support.
REPAIR_STEPS = 6
#: Most supports one search decides.
SEARCH_BUDGET = 60


def ranked_supports(pi: np.ndarray, w: np.ndarray, cuts: int = RANKING_CUTS) -> list[np.ndarray]:
    """Candidate supports from an interior point ``pi`` with slacks ``w = v - A pi``.

    Args:
        pi: interior iterate (positive).
        w: its slacks (positive).
        cuts: how many cuts of the ranking by ``log(pi / w)`` to return besides ``{pi > w}``.

    Returns:
        Sorted index arrays, ``{pi > w}`` first, then the cuts at the widest gaps (odd sizes first:
        a unique equilibrium has a support of odd size).
    """
    tiny = np.finfo(float).tiny
    score = np.log(np.maximum(pi, tiny)) - np.log(np.maximum(w, tiny))
    order = np.argsort(-score, kind="stable")
    gaps = score[order][:-1] - score[order][1:]
    best = np.argsort(-gaps, kind="stable")[:cuts] + 1
    sizes = sorted(best, key=lambda s: (s % 2 == 0, -gaps[s - 1]))
    out = [np.flatnonzero(pi > w)] + [np.sort(order[:s]) for s in sizes]
    return _distinct(out)


def search(
    skew: SkewGame,
    candidates: Iterable[np.ndarray],
    hint: np.ndarray,
    tried: set[tuple[int, ...]],
    budget: int = SEARCH_BUDGET,
    cheap_only: bool = False,
    explore: bool = True,
) -> tuple[SupportVerdict | None, SupportVerdict | None]:
    """Decide candidate supports, and supports next to them, until one holds the unique equilibrium.

    Each round decides its supports with floating-point bounds, then in exact arithmetic those the
    bounds left open; the supports that failed then propose their neighbours: the ends of the face
    ``{x : A_EE x = 0, 1^T x = 1}`` of a singular ``B_E`` along ``hint`` (a ratio test, as when a
    simplex step moves to a vertex), ``E`` with the responses that are tight at ``hint``, and
    active-set swaps (:func:`_repairs`).

    Args:
        skew: the exact game.
        candidates: supports to try, most promising first.
        hint: an approximate equilibrium.
        tried: supports already decided (updated).
        budget: most supports decided in this call.
        cheap_only: decide in exact arithmetic only supports where that is cheap
            (:meth:`.SkewGame.cheap`), leaving the others for a later search.
        explore: go on to the neighbours of the supports that failed.

    Returns:
        ``(unique, several)``: the verdict proving uniqueness, or else the best verdict proving
        there are several equilibria (strictly complementary and largest support preferred);
        None where not found.
    """
    several: SupportVerdict | None = None
    queue = list(candidates)
    expanded: set[tuple[int, ...]] = set()
    while queue and budget > 0:
        failed: list[np.ndarray] = []
        undecided: list[np.ndarray] = []
        for E in queue:
            key = tuple(int(i) for i in E)
            if key in tried:
                if key not in expanded:
                    failed.append(np.asarray(key))  # decided before: its neighbours may still be new
                continue
            if not key or budget <= 0:
                continue
            budget -= 1
            verdict = decide_support(skew, E, hint, exact=False)
            if verdict.status == "unique":
                return verdict, None
            if verdict.status == "undecided":
                if len(key) > EXACT_SUPPORT_LIMIT:
                    continue
                if skew.cheap(np.asarray(key)):  # exact arithmetic is cheap here: decide it at once
                    tried.add(key)
                    done, several = _decide_exactly(skew, np.asarray(key), hint, several, failed)
                    if done is not None:
                        return done
                    continue
                if cheap_only:
                    continue  # left for a later search that may afford exact arithmetic
            tried.add(key)
            (undecided if verdict.status == "undecided" else failed).append(np.asarray(key))
        for E in undecided:
            done, several = _decide_exactly(skew, E, hint, several, failed)
            if done is not None:
                return done
        if not explore:
            break
        failed = [E for E in failed if tuple(int(i) for i in E) not in expanded][:4]
        expanded.update(tuple(int(i) for i in E) for E in failed)
        queue = _distinct([F for E in failed for F in _neighbours(skew, E, hint)])
    return None, several


def _decide_exactly(
    skew: SkewGame,
    E: np.ndarray,
    hint: np.ndarray | None,
    several: SupportVerdict | None,
    failed: list[np.ndarray],
) -> tuple[tuple[SupportVerdict | None, SupportVerdict | None] | None, SupportVerdict | None]:
    """Decide support ``E`` in exact arithmetic: the search's answer when it settles it (a unique equilibrium, or a
    strictly complementary one among several), else ``None`` and the best "several" verdict so far (``E`` joins
    ``failed`` when it holds no equilibrium)."""
    verdict = decide_support(skew, E, hint)
    if verdict.status == "unique":
        return (verdict, None), several
    if verdict.status == "several":
        several = _better(several, verdict)
        return ((None, several) if several.strictly_complementary else None), several
    failed.append(E)
    return None, several


def _better(a: SupportVerdict | None, b: SupportVerdict) -> SupportVerdict:
    if a is None:
        return b
    return max((a, b), key=lambda v: (v.strictly_complementary, len(v.support)))


def _neighbours(skew: SkewGame, E: np.ndarray, hint: np.ndarray) -> list[np.ndarray]:
    A = skew.hi
    x = hint / hint.sum()
    t = A @ x
    near = np.flatnonzero(t >= -1e-9 * max(1.0, float(np.abs(t).max())))
    return [*_face_ends(A, E, x), np.union1d(E, near), *_repairs(skew, E, REPAIR_STEPS)]


def _face_ends(A: np.ndarray, E: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
    """Supports where ``x`` moved along the (near-)null directions of ``B_E`` meets a facet.

    Moving along ``d`` with ``A_EE d ~ 0`` and ``1^T d = 0`` keeps the rows of ``E`` tight; it stops
    where a mass reaches 0 (drop that response) or an outside row reaches 0 (add it).
    """
    k = len(E)
    M = np.vstack([A[np.ix_(E, E)], np.ones((1, k))])
    _, s, Vt = np.linalg.svd(M)
    s = np.r_[s, np.zeros(k - len(s))]
    null = Vt[s <= 1e-7 * max(1.0, s[0])]
    if len(null) == 0:
        return []
    out = []
    xE = x[E]
    outside = np.setdiff1d(np.arange(A.shape[0]), E)
    rows_x = A[np.ix_(outside, E)] @ xE
    for d in null[:4]:
        rows_d = A[np.ix_(outside, E)] @ d
        for sign in (1.0, -1.0):
            dd, rd = sign * d, sign * rows_d
            with np.errstate(divide="ignore", invalid="ignore"):
                t_mass = np.where(dd < 0, xE / -dd, np.inf)
                t_row = np.where(rd > 0, np.maximum(-rows_x, 0.0) / rd, np.inf)
            i, y = int(np.argmin(t_mass)), int(np.argmin(t_row)) if len(rd) else -1
            if y >= 0 and t_row[y] < t_mass[i]:
                out.append(np.union1d(E, [outside[y]]))
            elif np.isfinite(t_mass[i]):
                out.append(np.delete(E, i))
    return out


def _repairs(skew: SkewGame, E: np.ndarray, steps: int) -> list[np.ndarray]:
    """Supports reached from ``E`` by simplex-like swaps on the (least-squares) solution of ``B_E``."""
    A, n = skew.hi, skew.n
    out: list[np.ndarray] = []
    E = np.asarray(E)
    for _ in range(steps):
        k = len(E)
        B = np.zeros((k + 1, k + 1))
        B[:k, :k] = A[np.ix_(E, E)]
        B[:k, k] = B[k, :k] = 1.0
        rhs = np.zeros(k + 1)
        rhs[k] = 1.0
        x = np.linalg.lstsq(B, rhs, rcond=None)[0][:k]
        full = np.zeros(n)
        full[E] = x
        t = A @ full
        t[E] = -np.inf
        drop = int(np.argmin(x)) if x.min() < 0 else None
        add = int(np.argmax(t)) if t.max() > 0 else None
        if drop is None and add is None:
            break
        F = set(int(i) for i in E)
        if drop is not None:
            F.discard(int(E[drop]))
        if add is not None:
            F.add(add)
        E = np.array(sorted(F), dtype=np.int64)
        if len(E) == 0:
            break
        out.append(E)
    return out


def _distinct(supports: list[np.ndarray]) -> list[np.ndarray]:
    seen, out = set(), []
    for E in supports:
        key = tuple(int(i) for i in E)
        if key and key not in seen:
            seen.add(key)
            out.append(np.asarray(key, dtype=np.int64))
    return out
