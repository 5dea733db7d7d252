"""Exact decisions on a candidate support: is there an equilibrium on it, and is it the only one?

A preference game is the symmetric zero-sum game with skew payoff ``A = (P - P^T) / 2``; ``pi`` is a
Nash equilibrium iff it lies on the simplex and ``A pi <= 0`` (Munos et al. 2024, Section 3: then
``max_y P(y ≻ pi) = 1/2``). ``A`` is exact: its entries are the rationals the floats of ``P`` stand
for (:mod:`.exact`). In floating point we hold ``hi = fl((P - P^T) / 2)`` and a radius ``rad`` with
``|A - hi| <= rad`` elementwise (the rounding error of the subtraction, from Knuth's TwoSum, plus
the entries' distance to those rationals).

**Two facts decide everything.** For equilibria ``pi, pi'``: ``pi'^T A pi <= 0``, ``pi^T A pi' <= 0``
and ``A`` skew give ``pi'^T A pi = 0``, so every equilibrium is supported inside the *tight set*
``T(pi) = {y : (A pi)(y) = 0}`` of every other. With ``E = supp(pi)`` and the bordered matrix
``B_E = [[A_EE, 1], [1^T, 0]]``:

    the game has exactly one equilibrium  <=>  T(pi) = E  and  B_E is nonsingular.

(<=) every equilibrium ``pi'`` has ``supp(pi') ⊆ T(pi) = E`` and ``A_EE pi'_E = 0`` (as ``E ⊆ T(pi')``),
so ``B_E (pi'_E, 0) = (0, 1)`` and ``pi' = pi``. (=>) the linear program ``min v : A x <= v 1,
1^T x = 1, x >= 0`` is self-dual, so it has a strictly complementary optimal solution (Goldman and
Tucker 1956), which must be ``pi``: ``T(pi) = E``. If ``B_E (d, s) = 0`` with ``d != 0``, then
``pi_E^T A_EE d = 0`` gives ``s = 0`` and ``pi + t d`` is an equilibrium for small ``|t|``. This is
Kaplansky's (1945, "A contribution to von Neumann's theory of games", Ann. Math. 46) characterization
of games with a unique solution, in the symmetric case. So an exact equilibrium *proves* uniqueness,
or proves there are several (a tight response without mass, or a singular ``B_E``). The solution of
``B_E z = (0, 1)`` always has ``z_v = -pi^T A pi = 0``. Generic supports have odd size: a skew
``A_EE`` of even order is nonsingular, and then ``B_E`` is singular.

:func:`decide_support` solves ``B_E z = (0, 1)`` first in floating point with a *rigorous* error bound
(an approximate inverse ``R`` with ``||I - R B|| <= alpha < 1`` proves ``B_E`` nonsingular and bounds
``||z* - z|| <= ||R r|| / (1 - alpha)``: Rump 2010, "Verification methods", Acta Numerica 19, Thm. 10.2;
residuals ``r`` computed exactly by TwoProduct and ``math.fsum``), and only when the bound cannot
settle a sign, in exact integer arithmetic (:mod:`.exact`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nlhf_core.equilibria.exact import affine_point, bareiss_solve
from nlhf_core.equilibria.skew_game import EXACT_SUPPORT_LIMIT, TINY, UNIT_ROUNDOFF, SkewGame, gamma
from nlhf_core.errors import SolverError

#: A floating-point solution is returned only when proved this close (max norm) to the exact one.
POINT_ACCURACY = 1e-10


@dataclass(frozen=True)
class SupportVerdict:
    """What a candidate support says about the game.

    Attributes:
        status: ``"unique"`` (the game's only equilibrium), ``"several"`` (an exact equilibrium that
            proves there are others), ``"none"`` (no equilibrium has exactly this support) or
            ``"undecided"``.
        policy: the equilibrium, rounded to floats (``"unique"`` and ``"several"``).
        support: its support.
        tight: its tight set ``{y : (A pi)(y) = 0}`` (exact).
        exact: decided in exact integer arithmetic (else with floating-point error bounds).
    """

    status: str
    policy: np.ndarray | None = None
    support: tuple[int, ...] = ()
    tight: tuple[int, ...] = ()
    exact: bool = False

    @property
    def strictly_complementary(self) -> bool:
        """Whether every tight response carries mass (then ``support`` is every equilibrium's union)."""
        return self.status in ("unique", "several") and self.tight == self.support

    @property
    def equilibrium(self) -> np.ndarray:
        """:attr:`policy`, for verdicts that found one (``"unique"`` and ``"several"``)."""
        if self.policy is None:
            raise SolverError("A support without an equilibrium was taken for one; please report this game.")
        return self.policy


def decide_support(
    skew: SkewGame, E: np.ndarray, hint: np.ndarray | None = None, *, exact: bool = True
) -> SupportVerdict:
    """Decide whether the game has an equilibrium with support ``E``, and whether it is unique.

    Args:
        skew: the game's exact skew payoff.
        E: candidate support (sorted indices).
        hint: an approximate equilibrium, used to pick an exact point when ``B_E`` is singular.
        exact: fall back to exact integer arithmetic when the floating-point bounds are
            inconclusive (supports up to :data:`EXACT_SUPPORT_LIMIT`).

    Returns:
        The verdict; ``"undecided"`` only without ``exact`` or above the size limit.
    """
    E = np.asarray(E, dtype=np.int64)
    if len(E) == 0:
        return SupportVerdict("none")
    out = _complement(skew.n, E)
    cheap = skew.cheap(E)
    verdict, nonsingular = _float_verdict(skew, E, skew.coarse(E, E), skew.coarse(out, E), refine=not cheap)
    if verdict.status != "undecided" or len(E) > EXACT_SUPPORT_LIMIT:
        return verdict
    if cheap:  # small integers: exact arithmetic settles it faster than refinement would
        return _exact_verdict(skew, E, hint) if exact else verdict
    if nonsingular:  # signs within the entries' rounding: resolve them with the entries' exact values
        verdict, _ = _float_verdict(skew, E, skew.precise(E, E), skew.precise(out, E))
    if verdict.status != "undecided" or not exact:
        return verdict
    return _exact_verdict(skew, E, hint)


# ---------------------------------------------------------------- floating point, rigorous bounds
def _bordered(AEE: np.ndarray) -> np.ndarray:
    k = AEE.shape[0]
    B = np.zeros((k + 1, k + 1))
    B[:k, :k] = AEE
    B[:k, k] = 1.0
    B[k, :k] = 1.0
    return B


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = 134217729.0 * a  # Veltkamp: 2^27 + 1
    hi = c - (c - a)
    return hi, a - hi


def exact_matvec(M: np.ndarray, *zs: np.ndarray) -> np.ndarray:
    """``M @ (z_1 + z_2 + ...)`` correctly rounded (TwoProduct by Veltkamp splitting, ``math.fsum`` per row).

    Args:
        M: ``(r, c)`` matrix.
        zs: ``(c,)`` vectors whose (exact) sum multiplies ``M``.

    Returns:
        ``(r,)``: each entry the float nearest the exact dot product (up to underflow).
    """
    mh, ml = _split(M)
    parts = []
    for z in zs:
        p = M * z[None, :]
        zh, zl = _split(z[None, :])
        parts += [p, ((mh * zh - p) + mh * zl + ml * zh) + ml * zl]
    return np.array([math.fsum(row) for row in np.concatenate(parts, axis=1).tolist()])


def _float_verdict(
    skew: SkewGame,
    E: np.ndarray,
    inner: tuple[np.ndarray, np.ndarray],
    rows: tuple[np.ndarray, np.ndarray],
    refine: bool = True,
) -> tuple[SupportVerdict, bool]:
    """Solve ``B_E z = (0, 1)`` with a proved error bound and read off the signs it settles.

    ``A`` on the block is ``hi + lo`` up to ``rad`` (``inner`` for ``E × E``, ``rows`` for the rows off
    ``E``). ``R ~ B^-1`` from LAPACK; ``alpha`` bounds ``||I - R B||`` including every rounding error of
    its computation (``|fl(R B) - R B| <= gamma_m |R| |B|``, Higham 2002, Sec. 3.5). Then ``B`` is
    nonsingular and ``||z* - z|| <= ||R r|| / (1 - alpha)``. The iterate is kept as a pair of floats
    ``z = zh + zl`` refined with exactly computed residuals, so with a precise ``lo`` the bound reaches
    the rounding level of ``zh`` even for condition numbers near ``1e14``. Without ``refine``, one
    pass with a floating-point residual. Also returns whether ``B_E`` was proved nonsingular.
    """
    k, m = len(E), len(E) + 1
    B = _bordered(skew.hi[np.ix_(E, E)])
    lo, rad = np.zeros_like(B), np.zeros_like(B)  # |B_exact - B - lo| <= rad
    lo[:k, :k], rad[:k, :k] = inner
    out = _complement(skew.n, E)
    block = (skew.hi[np.ix_(out, E)], *rows)
    with np.errstate(all="ignore"):
        try:
            R = np.linalg.inv(B)
        except np.linalg.LinAlgError:
            return SupportVerdict("undecided"), False
        if not np.isfinite(R).all():
            return SupportVerdict("undecided"), False
        absR, absB, abs_lo = np.abs(R), np.abs(B), np.abs(lo)
        C = R @ B
        C[np.diag_indices(m)] -= 1.0
        g = gamma(m + 2)
        alpha = float((np.abs(C) + g * (absR @ absB) + absR @ (abs_lo + rad)).sum(axis=1).max()) * (1 + 4 * g)
        if not alpha < 0.5:
            return SupportVerdict("undecided"), False
        zh, zl = R[:, k].copy(), np.zeros(m)
        b = np.zeros(m)
        b[k] = 1.0
        last_err = np.inf
        for exact_residual in (False, True, True, True, True, True)[: 6 if refine else 1]:
            if exact_residual:
                z_abs = np.abs(zh) + np.abs(zl)
                r = b - exact_matvec(B, zh, zl) - lo @ (zh + zl)
                dr = UNIT_ROUNDOFF * np.abs(r) + (g * abs_lo + rad) @ z_abs * (1 + g)
            else:
                r = b - (B + lo) @ zh
                dr = g * (np.abs(b) + (absB + abs_lo) @ np.abs(zh)) + (rad @ np.abs(zh)) * (1 + g)
            err = float((absR @ (np.abs(r) + dr + TINY)).max()) * (1 + 2 * g) / (1 - alpha)
            err += float(np.abs(zl).max()) + TINY  # bound on |z* - zh|
            status = _signs(zh[:k], err, block, exact_residual)
            if status == "none":
                return SupportVerdict("none"), True
            if status == "unique" and err <= POINT_ACCURACY:
                pi = np.zeros(skew.n)
                pi[E] = zh[:k]
                support = tuple(int(i) for i in E)
                return SupportVerdict("unique", pi / pi.sum(), support, support), True
            if err > 0.5 * last_err or err < 1e-30:
                break  # refinement stalls: a sign it cannot settle (a tie, a zero mass) is exact arithmetic's job
            last_err = err
            zh, zl = _two_sum(zh, zl + R @ r)
    return SupportVerdict("undecided"), True


def _complement(n: int, E: np.ndarray) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    mask[E] = False
    return np.flatnonzero(mask)


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _signs(x: np.ndarray, err: float, block: tuple[np.ndarray, np.ndarray, np.ndarray], exact_rows: bool) -> str:
    """``"unique"``, ``"none"`` or ``"undecided"`` from the signs of ``x*`` (``|x* - x| <= err``) and of
    ``A_out,E x*`` (``block = (hi, lo, rad)`` of those rows)."""
    hi, lo, rad = block
    g = gamma(len(x) + 2)
    if exact_rows:
        t = exact_matvec(hi, x) + lo @ x
        dt = UNIT_ROUNDOFF * np.abs(t) + g * (np.abs(lo) @ np.abs(x))
    else:
        t = (hi + lo) @ x
        dt = g * ((np.abs(hi) + np.abs(lo)) @ np.abs(x))
    dt = dt + (rad @ np.abs(x)) * (1 + g) + (np.abs(hi) + np.abs(lo) + rad).sum(axis=1) * err * (1 + g) + TINY
    if (x + err < 0).any() or (t - dt > 0).any():
        return "none"
    if (x - err > 0).all() and (t + dt < 0).all():
        return "unique"
    return "undecided"


# ---------------------------------------------------------------- exact integer arithmetic
def _exact_verdict(skew: SkewGame, E: np.ndarray, hint: np.ndarray | None) -> SupportVerdict:
    k = len(E)
    out = _complement(skew.n, E)
    AEE, scale = skew.integers(E, E)
    B = np.zeros((k + 1, k + 1), dtype=object)
    B[:k, :k] = AEE
    B[:k, k] = scale
    B[k, :k] = 1
    rhs = np.zeros(k + 1, dtype=object)
    rhs[k] = 1
    solved = bareiss_solve(B, rhs)
    if solved is not None:
        y, d = solved
        num = y[:k] if d > 0 else -y[:k]
        return _exact_point(skew, E, out, num, abs(d), singular=False)
    x = affine_point(AEE, hint[E] if hint is not None else np.full(k, 1.0 / k), skew.faces)
    if x is None:
        return SupportVerdict("none", exact=True)
    den = math.lcm(*(v.denominator for v in x))
    num = np.array([v.numerator * (den // v.denominator) for v in x], dtype=object)
    return _exact_point(skew, E, out, num, den, singular=True)


def _exact_point(
    skew: SkewGame, E: np.ndarray, out: np.ndarray, num: np.ndarray, den: int, *, singular: bool
) -> SupportVerdict:
    """Classify the exact point ``x_E = num / den`` (``A_EE x_E = 0``, ``1^T x_E = 1``)."""
    if any(v < 0 for v in num):
        return SupportVerdict("none" if not singular else "undecided", exact=True)
    rows = np.dot(skew.integers(out, E)[0], num) if len(out) else np.zeros(0, dtype=object)
    if any(v > 0 for v in rows):
        return SupportVerdict("none" if not singular else "undecided", exact=True)
    pi = np.zeros(skew.n)
    pi[E] = [v / den for v in num]  # int / int rounds correctly
    pi /= pi.sum()
    support = tuple(int(i) for i, v in zip(E, num, strict=True) if v > 0)
    tight = tuple(sorted([int(i) for i in E] + [int(y) for y, v in zip(out, rows, strict=True) if v == 0]))
    status = "several" if singular or tight != support else "unique"
    return SupportVerdict(status, pi, support, tight, exact=True)


def classify_exact(skew: SkewGame, num: np.ndarray, den: int) -> SupportVerdict:
    """Verdict on an exact equilibrium ``x = num / den`` (from :func:`.simplex.exact_equilibrium`).

    Args:
        skew: the exact game.
        num: non-negative integers, one per response.
        den: their sum.

    Returns:
        ``"unique"`` when ``x`` is strictly complementary with a nonsingular ``B_E``, else
        ``"several"``; ``"none"`` if ``x`` is not an equilibrium.
    """
    E = np.array([i for i, v in enumerate(num) if v > 0], dtype=np.int64)
    k = len(E)
    B = np.zeros((k + 1, k + 1), dtype=object)
    B[:k, :k], scale = skew.integers(E, E)
    B[:k, k] = scale
    B[k, :k] = 1
    singular = bareiss_solve(B, np.r_[np.zeros(k, dtype=object), 1].astype(object)) is None
    return _exact_point(skew, E, _complement(skew.n, E), num[E], den, singular=singular)
