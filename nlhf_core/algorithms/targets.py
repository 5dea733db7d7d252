"""The exact policy each solver converges to, for measuring ``KL(target || pi_t)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from nlhf_core.equilibria import nash_equilibrium, regularized_nash
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.metrics import regularized_best_response
from nlhf_core.games.policies import context_rows


def solver_target(kind: str, game: PreferenceGame, tau: Any, mu: np.ndarray) -> np.ndarray | None:
    """Target of shape ``(C, n)``: ``pi*_tau``, the (maximum-entropy) Nash, or ``BR_tau(mu)``."""
    if kind == "regularized":
        return context_rows(regularized_nash(game, float(tau), mu).policy, game)
    if kind == "nash":
        return context_rows(nash_equilibrium(game).policy, game)
    if kind == "reference-best-response":
        return regularized_best_response(game.matrices, mu, float(tau), mu)
    return None
