"""The skew payoff ``A = (P - P^T) / 2`` of a preference game, as floats with proved error radii.

:class:`SkewGame` holds the floating-point ``hi = fl((P - P^T) / 2)`` and gives, block by block, the
radius of its error (coarse: ``6 u`` everywhere for entries in ``[0, 1]``; precise: TwoSum plus each
entry's distance to the number it stands for, :func:`.exact.entry_excess`), and the block exactly as
integers (:func:`.exact.skew_integers`, or slices of one integer matrix when the game has a small
common denominator). The support certificates of :mod:`.certify` are built on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nlhf_core.equilibria.exact import (
    Faces,
    common_denominator_form,
    entry_excess,
    skew_integers,
    small_denominators,
)

#: Largest support the exact integer arithmetic handles (its cost grows like k^3 big-integer steps).
EXACT_SUPPORT_LIMIT = 120

#: Unit roundoff of IEEE double precision.
UNIT_ROUNDOFF = 2.0**-53
#: Absolute slack for underflow in products of tiny numbers.
TINY = 1e-290
# |A - hi| for entries in [0, 1]: 2^-54 from the subtraction plus 2^-51 from reading the entries, with room
_COARSE_RADIUS = 6 * UNIT_ROUNDOFF


def gamma(m: int) -> float:
    """Higham's ``gamma_m = m u / (1 - m u)``: the relative error bound of ``m`` floating-point operations."""
    return m * UNIT_ROUNDOFF / (1.0 - m * UNIT_ROUNDOFF)


@dataclass(frozen=True)
class SkewGame:
    """The skew payoff ``A = (P - P^T) / 2`` of a preference matrix, as floats with proved radii.

    Attributes:
        P: the preference matrix (its entries, read by :func:`.exact.exact_value`, are the exact game).
        hi: ``fl((P - P^T) / 2)``.
        faces: exact echelon forms of faces already computed for this game.
    """

    P: np.ndarray
    hi: np.ndarray
    faces: Faces = field(default_factory=dict, repr=False, compare=False)
    #: ``[M, D]`` with ``M = D (P - P^T)`` as int64 when every entry is a fraction with a common denominator
    #: ``D <= 10^6`` (ties, 0/1, 0/½/1 games); ``[None, 0]`` otherwise; ``[]`` until first asked.
    _common: list = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def of(cls, P: np.ndarray) -> SkewGame:
        """The skew payoff of ``P`` (its finer parts are computed per block, when needed).

        Args:
            P: an ``n × n`` preference matrix.

        Returns:
            The game's skew payoff.
        """
        return cls(P, 0.5 * (P - P.T))

    @property
    def n(self) -> int:
        return self.hi.shape[0]

    def _two_sum(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(a, b, err)`` of the block: ``a - b = fl(a - b) + err`` exactly (Knuth's TwoSum)."""
        a, b = self.P[np.ix_(rows, cols)], -self.P[np.ix_(cols, rows)].T
        s = a + b
        bb = s - a
        return a, b, (a - (s - bb)) + (b - bb)

    def coarse(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(0, rad)`` of the block: ``|A - hi| <= rad``.

        With entries ``a, b`` in ``[0, 1]`` the subtraction errs by at most ``2^-53 |a - b| / 2`` and
        the entries' readings by ``2^-51 (|a| + |b|) / 2``, so ``rad = 6 * 2^-53`` everywhere.

        Args:
            rows: row indices.
            cols: column indices.

        Returns:
            Two float arrays of the block's shape.
        """
        shape = (len(rows), len(cols))
        return np.zeros(shape), np.full(shape, _COARSE_RADIUS)

    def precise(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, rad)`` of the block with ``|A - hi - lo| <= rad``, ``rad`` at the level of ``2^-53 |lo|``.

        ``lo`` adds to the floats' exact difference the distance of each entry to the number it
        stands for (:func:`.exact.entry_excess`), so ``hi + lo`` is ``A`` to about 106 bits.

        Args:
            rows: row indices.
            cols: column indices.

        Returns:
            Two float arrays of the block's shape.
        """
        ea = entry_excess(self.P[np.ix_(rows, cols)])
        eb = entry_excess(self.P[np.ix_(cols, rows)].T)
        base = 0.5 * self._two_sum(rows, cols)[2]
        lo = base + 0.5 * (ea - eb)
        rad = 4 * UNIT_ROUNDOFF * (np.abs(base) + np.abs(ea) + np.abs(eb)) + TINY
        return lo, rad

    def cheap(self, E: np.ndarray) -> bool:
        """Whether exact arithmetic on support ``E`` is cheap: small, or with small denominators."""
        return len(E) <= 16 or (len(E) <= EXACT_SUPPORT_LIMIT and small_denominators(self.P, E, E))

    def integers(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The block ``A[rows, cols]`` exactly, each row scaled to integers (:func:`.exact.skew_integers`).

        Args:
            rows: row indices.
            cols: column indices.

        Returns:
            ``(M, c)`` with ``M[i] = c[i] A[rows[i], cols]``, ``c > 0``, as object arrays of ints.
        """
        rows, cols = np.asarray(rows), np.asarray(cols)
        whole, denominator = self._common_integers()
        if whole is not None:  # one vectorized slice instead of a fraction per entry
            block = whole[np.ix_(rows, cols)].astype(object)
            return block, np.full(len(rows), 2 * denominator, dtype=object)
        return skew_integers(self.P, rows, cols)

    def _common_integers(self) -> tuple[np.ndarray | None, int]:
        """``(D (P - P^T), D)`` in int64 when the whole game has a small common denominator ``D``."""
        if not self._common:
            self._common.extend(common_denominator_form(self.P))
        return self._common[0], self._common[1]
