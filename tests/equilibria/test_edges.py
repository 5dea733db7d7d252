"""Exact Nash at the edges: near-degenerate games against exact rational arithmetic written here.

A family of games is generated the way near-degeneracy arises in practice: a random game whose
responses are cloned (copies have identical rows, so the equilibrium is not unique), then perturbed
by 1e-12 ... 1e-6 (which generically makes it unique again, with an equilibrium that can sit far
from the unperturbed one). Every answer must be certified (exploitability <= 1e-9); its uniqueness
verdict must agree with an independent exact method, and when unique the point must be within
1e-6 of the exact equilibrium.

The independent methods use :class:`fractions.Fraction` only:

* ``nash_vertices``: every vertex of the Nash polytope ``{x >= 0, 1^T x = 1, A x <= 0}``, by
  enumerating supports ``E`` and, where ``[A_EE; 1^T]`` is rank deficient, the extra tight rows
  that make a vertex (small games): the game has one equilibrium iff the polytope has one vertex.
* ``exact_support_solution``: the solution of ``A_EE x = 0, 1^T x = 1`` on a given support, by
  Gaussian elimination, for larger games.

Both read each float entry as the documented exact number (the fraction with denominator at most
``10^6`` within ``2^-51`` relative, else the float's shortest decimal).
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

import numpy as np
import pytest

from nlhf_core.equilibria import NASH_TOLERANCE, nash_equilibrium
from nlhf_core.equilibria.certify import classify_exact, decide_support
from nlhf_core.equilibria.exact import affine_point, bareiss_solve, exact_value, null_space_basis
from nlhf_core.equilibria.simplex import exact_equilibrium, simplex_support
from nlhf_core.equilibria.skew_game import SkewGame
from nlhf_core.games.metrics import exploitability
from nlhf_core.games.presets import get_preset
from tests.helpers import random_matrix

ROCK_STONE = [[0.5, 0.5, 0, 1], [0.5, 0.5, 1e-8, 1], [1, 0.99999999, 0.5, 0], [0, 0, 1, 0.5]]
DELTAS = [1e-12, 1e-11, 1e-10, 1e-9, 3e-9, 1e-8, 1e-7, 1e-6]


# ---------------------------------------------------------------------- independent exact arithmetic
def entry(x: float) -> Fraction:
    """The documented reading of a float entry, written independently of nlhf_core."""
    x = float(x)
    if x == 0:
        return Fraction(0)
    f = Fraction(x).limit_denominator(10**6)
    return f if abs(float(f) - x) <= 2.0**-51 * abs(x) else Fraction(repr(x))


def exact_skew(P: np.ndarray) -> list[list[Fraction]]:
    n = len(P)
    F = [[entry(v) for v in row] for row in P]
    return [[(F[i][j] - F[j][i]) / 2 for j in range(n)] for i in range(n)]


def solve(rows: list[list[Fraction]], rhs: list[Fraction], ncols: int) -> tuple[list[Fraction] | None, int, bool]:
    """Gauss-Jordan in fractions: (unique solution or None, rank, consistent)."""
    M = [[*r, b] for r, b in zip(rows, rhs, strict=True)]
    pivots, r = [], 0
    for c in range(ncols):
        p = next((i for i in range(r, len(M)) if M[i][c] != 0), None)
        if p is None:
            continue
        M[r], M[p] = M[p], M[r]
        M[r] = [v / M[r][c] for v in M[r]]
        for i in range(len(M)):
            if i != r and M[i][c] != 0:
                f = M[i][c]
                M[i] = [a - f * b for a, b in zip(M[i], M[r], strict=True)]
        pivots.append(c)
        r += 1
    consistent = all(M[i][ncols] == 0 for i in range(r, len(M)))
    if not consistent or r < ncols:
        return None, r, consistent
    x = [Fraction(0)] * ncols
    for i, c in enumerate(pivots):
        x[c] = M[i][ncols]
    return x, r, True


def nash_vertices(P: np.ndarray) -> set[tuple[Fraction, ...]]:
    """Every vertex of the exact Nash polytope (supports, plus extra tight rows where degenerate)."""
    A = exact_skew(P)
    n = len(A)
    vertices = set()
    for size in range(1, n + 1):
        for E in combinations(range(n), size):
            rows = [[A[i][j] for j in E] for i in E] + [[Fraction(1)] * size]
            rhs = [Fraction(0)] * size + [Fraction(1)]
            x, rank, consistent = solve(rows, rhs, size)
            if not consistent:
                continue
            outside = [y for y in range(n) if y not in E]
            options = [x] if x is not None else []
            if x is None:
                for extra in combinations(outside, size - rank):
                    more = [[A[y][j] for j in E] for y in extra]
                    xx, _, _ = solve(rows + more, rhs + [Fraction(0)] * len(extra), size)
                    if xx is not None:
                        options.append(xx)
            for xx in options:
                if min(xx) <= 0:
                    continue
                full = [Fraction(0)] * n
                for j, v in zip(E, xx, strict=True):
                    full[j] = v
                if all(sum(A[y][j] * full[j] for j in E) <= 0 for y in range(n)):
                    vertices.add(tuple(full))
    return vertices


def exact_support_solution(P: np.ndarray, support: tuple[int, ...]) -> tuple[list[Fraction] | None, bool]:
    """The exact solution on a support and whether it is strictly complementary (every row off it < 0)."""
    A = exact_skew(P)
    E = list(support)
    rows = [[A[i][j] for j in E] for i in E] + [[Fraction(1)] * len(E)]
    x, _, _ = solve(rows, [Fraction(0)] * len(E) + [Fraction(1)], len(E))
    if x is None:
        return None, False
    full = [Fraction(0)] * len(A)
    for j, v in zip(E, x, strict=True):
        full[j] = v
    strict = all(sum(A[y][j] * full[j] for j in E) < 0 for y in range(len(A)) if y not in E)
    return full, strict and min(x) > 0


# ---------------------------------------------------------------------- the family
def cloned_and_perturbed(
    n: int, seed: int, delta: float, clones: int | None = None, clone_last: bool = False
) -> np.ndarray:
    """A random ``n``-response game with cloned responses, its upper triangle perturbed by ``delta``.

    With ``clone_last`` the game is perturbed first and cloned after: the copies stay exact, so
    the equilibrium is not unique whenever a copied response is played.
    """
    rng = np.random.default_rng(seed)
    base = random_matrix(n, seed)
    k = int(rng.integers(1, max(2, n // 2) + 1)) if clones is None else clones
    idx = np.r_[np.arange(n), rng.integers(0, n, size=k)]

    def perturb(P: np.ndarray) -> np.ndarray:
        m = len(P)
        upper = np.clip(np.triu(P, 1) + np.triu(rng.standard_normal((m, m)), 1) * delta, 0.0, 1.0)
        P = np.triu(upper, 1) + np.tril(1.0 - upper.T, -1)
        np.fill_diagonal(P, 0.5)
        return P

    P = perturb(base)[np.ix_(idx, idx)] if clone_last else perturb(base[np.ix_(idx, idx)])
    perm = rng.permutation(len(idx))
    return P[np.ix_(perm, perm)]


def check_against_vertices(P: np.ndarray) -> None:
    result = nash_equilibrium(P)
    assert exploitability(P, result.policy) <= NASH_TOLERANCE
    assert result.exploitability <= NASH_TOLERANCE
    vertices = nash_vertices(P)
    assert result.unique == (len(vertices) == 1)
    if result.unique:
        exact = np.array([float(v) for v in next(iter(vertices))])
        np.testing.assert_allclose(result.policy, exact, atol=1e-6)
        assert result.selection == "unique"
    else:
        assert result.selection == "maximum-entropy"


def check_exactly_on_support(P: np.ndarray) -> None:
    result = nash_equilibrium(P)
    assert exploitability(P, result.policy) <= NASH_TOLERANCE
    if result.unique:
        exact, strictly_complementary = exact_support_solution(P, result.support)
        assert exact is not None and strictly_complementary
        np.testing.assert_allclose(result.policy, [float(v) for v in exact], atol=1e-6)


@pytest.mark.parametrize("delta", DELTAS)
@pytest.mark.parametrize("seed", range(4))
def test_small_cloned_games_agree_with_vertex_enumeration(delta, seed):
    P = cloned_and_perturbed(3 + seed % 3, 100 * seed + DELTAS.index(delta), delta, clones=1 + seed % 2)
    check_against_vertices(P)


@pytest.mark.parametrize("seed", range(6))
def test_clones_of_a_perturbed_game_are_not_unique(seed):
    """Copies made after the perturbation stay exact: the verdict must follow the exact game."""
    check_against_vertices(cloned_and_perturbed(3 + seed % 2, 500 + seed, 1e-9, clones=2, clone_last=True))


@pytest.mark.parametrize(("n", "delta"), [(12, 1e-12), (20, 1e-10), (30, 1e-9), (40, 1e-8), (50, 1e-7)])
def test_larger_cloned_games_are_exact_on_their_support(n, delta):
    check_exactly_on_support(cloned_and_perturbed(n, n, delta))


@pytest.mark.slow
@pytest.mark.parametrize("delta", DELTAS)
def test_sweep_small_games_against_vertex_enumeration(delta):
    for seed in range(40):
        n = 3 + seed % 4
        P = cloned_and_perturbed(n, 1000 + seed, delta, clones=1 + seed % 3, clone_last=seed % 4 == 0)
        check_against_vertices(P)


@pytest.mark.slow
@pytest.mark.parametrize("delta", DELTAS)
def test_sweep_games_up_to_fifty_responses(delta):
    for seed in range(25):
        n = 6 + (seed * 7) % 40
        check_exactly_on_support(cloned_and_perturbed(n, 2000 + seed, delta))


# ---------------------------------------------------------------------- the games
def test_rock_stone_paper_scissors():
    """Issue 19: the exact solver gave up; the unique equilibrium is about (0, 1/3, 1/3, 1/3)."""
    result = nash_equilibrium(ROCK_STONE)
    assert result.unique and result.selection == "unique" and result.support == (1, 2, 3)
    assert result.exploitability <= NASH_TOLERANCE
    (vertex,) = nash_vertices(np.array(ROCK_STONE, dtype=float))
    np.testing.assert_allclose(result.policy, [float(v) for v in vertex], atol=1e-15)
    np.testing.assert_allclose(result.policy, [0, 1 / 3, 1 / 3, 1 / 3], atol=1e-8)


def test_clone_rps_perturbed_by_1e_9_is_unique():
    """Was reported unique: false, selection: lp-vertex, (1/3, 0, 1/3, 1/3)."""
    P = get_preset("clone-rps").matrix.copy()
    P[1, 2] += 1e-9  # the copy of rock loses a little less to paper
    P[2, 1] = 1.0 - P[1, 2]
    check_against_vertices(P)
    assert nash_equilibrium(P).unique


def test_exact_clones_stay_maximum_entropy():
    result = nash_equilibrium(get_preset("clone-rps"))
    assert not result.unique and result.selection == "maximum-entropy"
    np.testing.assert_allclose(result.policy, [1 / 6, 1 / 6, 1 / 3, 1 / 3], atol=1e-12)


def test_maximum_entropy_point_on_a_face_cut_by_an_outside_row():
    """Responses 0 and 3 tie; response 1 caps x0 <= 0.8 x3, so the maximum-entropy point is (4/9, 0, 0, 5/9)."""
    P = np.array([[0.5, 0.0, 0.5, 0.5], [1.0, 0.5, 0.9, 0.1], [0.5, 0.1, 0.5, 0.0], [0.5, 0.9, 1.0, 0.5]])
    result = nash_equilibrium(P)
    assert not result.unique and result.selection == "maximum-entropy"
    np.testing.assert_allclose(result.policy, [4 / 9, 0, 0, 5 / 9], atol=1e-12)


# ---------------------------------------------------------------------- the exact machinery itself
def test_entries_read_as_the_numbers_typed():
    assert exact_value(0.1) == Fraction(1, 10) and exact_value(1 - 0.9) == Fraction(1, 10)
    assert exact_value(0.1 + 0.2) == Fraction(3, 10) and exact_value(1 / 3) == Fraction(1, 3)
    assert exact_value(1e-8) == Fraction(1, 10**8) and exact_value(0.99999999) == Fraction(99999999, 10**8)
    rng = np.random.default_rng(0)
    for x in rng.random(200):
        assert abs(exact_value(float(x)) - Fraction(float(x))) <= Fraction(2.0**-51) * Fraction(float(x))
        assert exact_value(float(x)) == entry(float(x))


def test_skew_radius_covers_the_exact_game():
    P = cloned_and_perturbed(6, 3, 1e-9)
    skew = SkewGame.of(P)
    A = exact_skew(P)
    everyone = np.arange(len(P))
    _, rad = skew.coarse(everyone, everyone)
    lo, fine = skew.precise(everyone, everyone)
    for i in range(len(P)):
        for j in range(len(P)):
            assert abs(A[i][j] - Fraction(skew.hi[i, j])) <= Fraction(rad[i, j])
            assert abs(A[i][j] - Fraction(skew.hi[i, j]) - Fraction(lo[i, j])) <= Fraction(fine[i, j])


def test_bareiss_solves_integer_systems_exactly():
    rng = np.random.default_rng(1)
    for _ in range(30):
        m = int(rng.integers(1, 7))
        M = rng.integers(-6, 7, size=(m, m)).astype(object)
        b = rng.integers(-6, 7, size=m).astype(object)
        expected, rank, _ = solve([[Fraction(int(v)) for v in r] for r in M], [Fraction(int(v)) for v in b], m)
        result = bareiss_solve(M, b)
        if rank < m:
            assert result is None
        else:
            y, d = result
            assert [Fraction(int(v), d) for v in y] == expected


def test_affine_points_and_null_spaces_are_exact():
    P = get_preset("clone-rps").matrix
    skew = SkewGame.of(P)
    E = np.arange(4)
    M, _ = skew.integers(E, E)
    x = affine_point(M, np.array([0.1, 0.2, 0.3, 0.4]))
    A = exact_skew(P)
    assert sum(x) == 1 and all(sum(A[i][j] * x[j] for j in range(4)) == 0 for i in range(4))
    N = null_space_basis(M)
    assert N.shape[1] == 1 and np.allclose(np.array(P) @ N - 0.5 * N.sum(axis=0), 0, atol=1e-15)


def test_support_verdicts_prove_what_they_say():
    skew = SkewGame.of(np.array(ROCK_STONE, dtype=float))
    assert decide_support(skew, np.array([1, 2, 3])).status == "unique"
    assert decide_support(skew, np.array([0, 2, 3])).status == "none"  # rock alone loses to stone's edge
    clone = SkewGame.of(get_preset("clone-rps").matrix)
    verdict = decide_support(clone, np.array([0, 1, 2, 3]), np.array([0.1, 0.2, 0.3, 0.4]))
    assert verdict.status == "several" and verdict.strictly_complementary and verdict.exact


@pytest.mark.parametrize("seed", range(6))
def test_exact_simplex_finds_an_exact_equilibrium(seed):
    """The last resort of the solver, run directly: its answer is an exact vertex of the Nash polytope."""
    P = cloned_and_perturbed(3 + seed % 3, 700 + seed, [1e-12, 1e-9, 0.0][seed % 3], clones=1 + seed % 2)
    skew = SkewGame.of(P)
    num, den = exact_equilibrium(skew, np.ones(len(P)))
    x = tuple(Fraction(int(v), den) for v in num)
    vertices = nash_vertices(P)
    assert x in vertices
    assert (classify_exact(skew, num, den).status == "unique") == (len(vertices) == 1)
    support = simplex_support(skew.hi, np.ones(len(P)))
    assert support is not None and len(support) >= 1


def test_common_denominator_form_is_the_exact_skew_matrix_or_declines():
    """Games with a small common denominator slice one integer matrix; each block equals the per-entry reading."""
    from fractions import Fraction

    from nlhf_core.equilibria.exact import common_denominator_form, skew_integers
    from nlhf_core.equilibria.skew_game import SkewGame

    rng = np.random.default_rng(3)
    upper = np.triu(rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, 0.1], size=(12, 12)), 1)
    P = upper + np.tril(1.0 - upper.T, -1) + 0.5 * np.eye(12)
    whole, D = common_denominator_form(P)
    assert whole is not None and D == 20
    rows, cols = rng.permutation(12)[:7], rng.permutation(12)[:9]
    M, c = SkewGame.of(P).integers(rows, cols)
    M_ref, c_ref = skew_integers(P, rows, cols)
    for i in range(len(rows)):
        for j in range(len(cols)):
            assert Fraction(int(M[i, j]), int(c[i])) == Fraction(int(M_ref[i, j]), int(c_ref[i]))
    assert common_denominator_form(np.random.default_rng(0).random((30, 30))) == (None, 0)  # many distinct entries


def test_maximum_entropy_directions_match_the_exact_basis():
    """The floating-point face directions (clear singular-value gap) span the exact rational null space."""
    from nlhf_core.equilibria import maximum_entropy as me
    from nlhf_core.equilibria.exact import null_space_basis
    from nlhf_core.equilibria.skew_game import SkewGame

    for seed in range(5):
        rng = np.random.default_rng(seed)
        upper = np.triu(rng.choice([0.0, 0.5, 1.0], size=(14, 14)), 1)
        P = upper + np.tril(1.0 - upper.T, -1) + 0.5 * np.eye(14)
        skew = SkewGame.of(P)
        S = np.sort(rng.permutation(14)[:8])
        W = [int(w) for w in np.setdiff1d(np.arange(14), S)[:2]]
        N = me._directions(skew, S, W)
        exact = null_space_basis(skew.integers(np.r_[S, np.array(W, dtype=np.int64)], S)[0])
        assert N.shape[1] == exact.shape[1]
        if exact.shape[1]:
            q, _ = np.linalg.qr(exact)
            np.testing.assert_allclose(N @ N.T, q @ q.T, atol=1e-12)  # the same subspace
