"""Constants and input handling shared by the exact and the regularized equilibrium solvers.

The certificates are those of Munos et al. (2024): a policy ``pi`` is a Nash equilibrium of the
preference game ``P`` when its exploitability ``max_y (P pi)(y) - 1/2`` is 0 (Section 3), and the
regularized equilibrium ``pi*_tau`` (Eq. 2, Proposition 1) is certified by its regularized duality gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nlhf_core.errors import ParameterError
from nlhf_core.games.game import PreferenceGame

#: Certificate every exact Nash answer meets: ``max_y (P pi)(y) - 1/2 <= NASH_TOLERANCE``.
NASH_TOLERANCE = 1e-9
#: Certificate every regularized answer meets (for ``tau`` in [1e-4, 1e3]).
REGULARIZED_GAP_TOLERANCE = 1e-10
#: Supported range of the regularization strength ``tau``.
TAU_MIN, TAU_MAX = 1e-6, 1e6


def check_tau(tau: Any) -> float:
    """Return ``tau`` as a float, or raise :class:`ParameterError` with the valid range.

    Args:
        tau: the KL strength as given by the caller.

    Returns:
        ``tau`` as a float in ``[TAU_MIN, TAU_MAX]``.
    """
    try:
        value = float(tau)
    except (TypeError, ValueError):
        raise ParameterError(f"tau must be a number, not {tau!r}; try tau = 0.1.") from None
    if not np.isfinite(value) or value <= 0:
        raise ParameterError(
            f"tau = {value:g} is not a positive number; the KL strength must be > 0 "
            f"(for the unregularized Nash, leave tau out)."
        )
    if value < TAU_MIN:
        raise ParameterError(
            f"tau = {value:g} is below the supported minimum {TAU_MIN:g}; for the tau -> 0 "
            f"limit use the exact (unregularized) Nash equilibrium instead."
        )
    if value > TAU_MAX:
        raise ParameterError(
            f"tau = {value:g} is above the supported maximum {TAU_MAX:g}; at that strength "
            f"the answer is the reference policy itself."
        )
    return value


def as_game(game: PreferenceGame | Any) -> PreferenceGame:
    """A :class:`PreferenceGame` from a game or an ``n × n`` matrix (validated)."""
    if isinstance(game, PreferenceGame):
        return game
    if isinstance(game, np.ndarray | Sequence):
        return PreferenceGame.from_matrix(game)
    raise TypeError(f"expected a PreferenceGame or a matrix, got {type(game).__name__}")
