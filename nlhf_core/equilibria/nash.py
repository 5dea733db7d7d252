"""The exact Nash equilibrium of a preference game, its uniqueness decided exactly.

Munos et al. (2024, Section 3): ``pi*`` is a Nash equilibrium when ``max_y P(y ≻ pi*) = 1/2``
(exploitability 0). With ``A = (P - P^T) / 2`` that is ``A pi* <= 0`` on the simplex: the
equilibria of the symmetric zero-sum game ``A``, a polytope. When it is one point we return it;
otherwise its point of **maximum entropy** (:mod:`.maximum_entropy`), the ``tau -> 0`` limit of the
regularized equilibrium with a uniform reference.

The pipeline, cheapest first:

1. A Condorcet winner (a response beating every other) is the unique equilibrium.
2. Mehrotra's interior point (:mod:`.interior_point`) converges to the analytic center of the
   polytope; at each late iterate the support ``{pi > w}`` is solved and, if it holds, certified
   with floating-point error bounds (:mod:`.certify`). Random games end here.
3. Otherwise (near-degenerate games: near-copies, near-ties; games with several equilibria) the
   iterate, floating-point simplex vertices and their neighbours *suggest* supports
   (:mod:`.support`), each decided exactly (:mod:`.certify`): an exact equilibrium proves the game
   has one equilibrium (strictly complementary, nonsingular ``B_E``: Kaplansky 1945) or several. The
   simplex method in exact integer arithmetic (:mod:`.simplex`) is the last resort.
4. With several equilibria, the maximum-entropy one on the exact face (:mod:`.maximum_entropy`).

Every answer meets ``max_y (P pi)(y) - 1/2 <= 1e-9`` in floating point; uniqueness verdicts are
proofs in exact arithmetic (or with rigorous floating-point error bounds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.linalg import lapack

from nlhf_core.equilibria.certify import SupportVerdict, classify_exact, decide_support
from nlhf_core.equilibria.common import NASH_TOLERANCE, as_game
from nlhf_core.equilibria.interior_point import nash_interior_point
from nlhf_core.equilibria.maximum_entropy import maximum_entropy
from nlhf_core.equilibria.simplex import EXACT_LP_LIMIT, exact_equilibrium, simplex_support
from nlhf_core.equilibria.skew_game import SkewGame
from nlhf_core.equilibria.support import ranked_supports, search
from nlhf_core.errors import SolverError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.metrics import exploitability as _exploitability

# The interior point's target duality measure when its iterates feed the exact support search.
_IPM_TOL = 1e-16
_IPM_MAX_ITERATIONS = 100


@dataclass(frozen=True)
class NashEquilibrium:
    """An exact Nash equilibrium and its certificate.

    Attributes:
        policy: ``(n,)`` for a plain game, ``(C, n)`` for a contextual one.
        exploitability: ``max_y (P pi)(y) - 1/2`` (weighted by ``rho`` over contexts).
        support: indices with positive probability (plain games).
        unique: whether the game has exactly one Nash equilibrium (every context).
        selection: ``"unique"``, ``"maximum-entropy"`` (several equilibria; the one of
            largest entropy) or ``"lp-vertex"`` (several equilibria, proved exactly, but the
            maximum-entropy point could not be certified: an exact equilibrium instead).
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

    Args:
        game: a :class:`PreferenceGame` (plain or contextual) or an ``n × n`` matrix.

    Returns:
        The certified :class:`NashEquilibrium` (one result per context in ``per_context``).

    Raises:
        SolverError: only if no method can certify an answer.
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
        selection="unique" if all(r.unique for r in results) else _shared_selection(results),
        method=results[0].method,
        per_context=tuple(results),
    )


# ------------------------------------------------------------------ exact Nash
def _shared_selection(results: list[NashEquilibrium]) -> str:
    chosen = {r.selection for r in results} - {"unique"}
    return chosen.pop() if len(chosen) == 1 else "maximum-entropy"


def _nash_of_matrix(P: np.ndarray) -> NashEquilibrium:
    n = P.shape[0]
    skew = SkewGame.of(P)
    A = skew.hi
    winner = _condorcet_winner(A)
    if winner is not None:
        pi = np.zeros(n)
        pi[winner] = 1.0
        return _certified(P, pi, unique=True, selection="unique", method="condorcet-winner")

    # 1. Interior point; certify the support of late iterates with floating-point error bounds.
    found: dict[str, SupportVerdict] = {}
    attempted: set[bytes] = set()

    def certify_unique(pi: np.ndarray, slack: np.ndarray, v: float) -> bool:
        if v > 1e-6:
            return False
        E = np.flatnonzero(pi > slack)
        key = E.tobytes()
        if key in attempted:
            return False
        attempted.add(key)
        if not _plausible(A, E):
            return False
        verdict = decide_support(skew, E, pi, exact=False)
        if verdict.status == "unique":
            found["unique"] = verdict
            return True
        return False

    pi, w, _ = nash_interior_point(A, tol=_IPM_TOL, max_iterations=_IPM_MAX_ITERATIONS, on_iteration=certify_unique)
    if "unique" in found:
        return _certified(P, found["unique"].equilibrium, unique=True, selection="unique", method="interior-point")

    # 2. Near-degenerate or several equilibria: decide suggested supports exactly.
    tried: set[tuple[int, ...]] = set()
    score = pi / np.maximum(w, np.finfo(float).tiny)
    ranked = ranked_supports(pi, w)
    unique, several = search(skew, ranked, pi, tried, budget=16, cheap_only=True, explore=False)
    # 3. Vertices from the simplex method in double, then extended precision; then the neighbours of every
    #    suggestion that failed; then the simplex method in exact arithmetic.
    suggested: list[np.ndarray] = []
    for dtype in (np.float64, np.longdouble):
        if unique is not None or several is not None:
            break
        E = simplex_support(A, score, dtype)
        if E is not None:
            suggested.append(E)
            unique, several = search(skew, [E], pi, tried, explore=False)
    if unique is None and several is None:
        unique, several = search(skew, suggested + ranked, pi, tried)
    if unique is None and several is None:
        exact = exact_equilibrium(skew, score)
        if exact is None:
            raise SolverError(
                f"This {n}-response game is too close to having several equilibria to decide exactly "
                f"(the exact simplex method is limited to {EXACT_LP_LIMIT} responses); break its "
                f"near-ties by more than 1e-6 or drop near-duplicate responses."
            )
        verdict = classify_exact(skew, *exact)
        unique, several = (verdict, None) if verdict.status == "unique" else (None, verdict)
    if unique is not None:
        return _certified(P, unique.equilibrium, unique=True, selection="unique", method="exact-support")
    assert several is not None  # the searches end with one verdict or the other
    if not several.strictly_complementary:
        # every equilibrium lives on the tight set of this one: look for a relative-interior point
        _, wider = search(skew, [np.array(several.tight)], pi, tried)
        if wider is not None and wider.strictly_complementary:
            several = wider
    policy = maximum_entropy(skew, several)
    if policy is not None and _exploitability(P, policy) <= NASH_TOLERANCE:
        return _certified(P, policy, unique=False, selection="maximum-entropy", method="exact-support")
    return _certified(P, several.equilibrium, unique=False, selection="lp-vertex", method="exact-support")


def _plausible(A: np.ndarray, E: np.ndarray) -> bool:
    """Cheap test before the rigorous one: ``B_E`` well conditioned, solution positive, near-Nash."""
    k = len(E)
    if k == 0 or k % 2 == 0:
        return False
    B = np.zeros((k + 1, k + 1))
    B[:k, :k] = A[np.ix_(E, E)]
    B[:k, k] = 1.0
    B[k, :k] = 1.0
    lu, piv, info = lapack.dgetrf(B)
    if info != 0:
        return False
    rcond, _ = lapack.dgecon(lu, np.abs(B).sum(axis=0).max(), norm="1")
    if rcond <= 1e-12:
        return False
    rhs = np.zeros(k + 1)
    rhs[k] = 1.0
    sol, _ = lapack.dgetrs(lu, piv, rhs)
    if sol[:k].min() <= 0:
        return False
    full = np.zeros(A.shape[0])
    full[E] = sol[:k]
    return float((A @ full).max()) <= NASH_TOLERANCE


def _condorcet_winner(A: np.ndarray) -> int | None:
    """Index that beats every other response with probability > 1/2, if any."""
    beats = (A > 0).sum(axis=1)
    winners = np.flatnonzero(beats == A.shape[0] - 1)
    return int(winners[0]) if len(winners) else None


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
