"""Reward-model baselines (Bradley–Terry fits, RLHF/DPO, IPO, best-of-n) and the head-to-head comparison
of every solution of a game.
"""

from nlhf_core.baselines.bradley_terry import (
    SEPARABLE_RIDGE,
    BradleyTerryFit,
    best_of_n,
    fit_bradley_terry,
    ipo_optimum,
    is_separable,
    kl_regularized_optimum,
    newton_bradley_terry,
    pair_distribution,
    sampling_marginal,
)
from nlhf_core.baselines.comparison import (
    Comparison,
    RLHFSolution,
    compare_solutions,
    rlhf_solution,
)

__all__ = [
    "SEPARABLE_RIDGE",
    "BradleyTerryFit",
    "Comparison",
    "RLHFSolution",
    "best_of_n",
    "compare_solutions",
    "fit_bradley_terry",
    "ipo_optimum",
    "is_separable",
    "kl_regularized_optimum",
    "newton_bradley_terry",
    "pair_distribution",
    "rlhf_solution",
    "sampling_marginal",
]
