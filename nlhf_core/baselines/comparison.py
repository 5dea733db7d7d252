"""Head-to-head comparison of the solutions a user may deploy: the tabular analogue of the
paper's pairwise table of methods (Munos et al. 2024, Section 8).

For one game, ``tau`` and reference, :func:`compare_solutions` computes the reference,
the RLHF / DPO / IPO / best-of-n policies (from a Bradley–Terry fit under a sampling
distribution), the regularized and unregularized Nash equilibria and, optionally, the
final policy of every registered solver, then the win-rate table ``W[a, b] = P(a ≻ b)``
and each policy's exploitability. A Nash policy wins or ties against every row:
``W[Nash, b] >= 1/2`` for all ``b`` (its exploitability is 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlhf_core.algorithms import run_algorithm
from nlhf_core.algorithms.registry import get_solver, list_solvers
from nlhf_core.baselines.bradley_terry import (
    BradleyTerryFit,
    best_of_n,
    fit_bradley_terry,
    ipo_optimum,
    kl_regularized_optimum,
    pair_distribution,
    sampling_marginal,
)
from nlhf_core.equilibria import check_tau, nash_equilibrium, regularized_nash
from nlhf_core.errors import PolicyError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.metrics import context_average, exploitability, head_to_head
from nlhf_core.games.policies import as_context_policies, as_reference, context_rows


@dataclass(frozen=True)
class RLHFSolution:
    """The reward-model pipeline's policies for one game."""

    fit: BradleyTerryFit
    rlhf: np.ndarray  # (C, n); also DPO's tabular optimum
    ipo: np.ndarray
    best_of_n: np.ndarray
    sampling_policy: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class Comparison:
    """Named policies with their head-to-head win rates and exploitability."""

    names: list[str]
    policies: dict[str, np.ndarray]
    win_rates: np.ndarray
    exploitability: dict[str, float]
    rlhf: RLHFSolution

    def verdict(self) -> str:
        """One sentence: who beats whom between the Nash and the RLHF policies."""
        i, j = self.names.index("Nash"), self.names.index("RLHF")
        w = float(self.win_rates[i, j])
        if abs(w - 0.5) < 1e-9:
            exploit = self.exploitability["RLHF"]
            if exploit <= 1e-9:
                return "The Nash and RLHF policies tie head to head, and neither can be exploited: they agree here."
            return (
                "The Nash and RLHF policies tie head to head (a fully mixed Nash policy ties with everything), but "
                f"the RLHF policy can be exploited: its best response beats it {0.5 + exploit:.2%} of the time, "
                "while nothing beats the Nash policy more than half of the time."
            )
        return (
            f"The Nash policy beats the RLHF policy {w:.2%} of the time head to head; nothing beats the "
            f"Nash policy more than half of the time."
        )


def rlhf_solution(
    game: PreferenceGame, tau: float, reference: Any = None, sampling: Any = "uniform", best_of: int = 4
) -> RLHFSolution:
    """Bradley–Terry fit under ``sampling``, then the RLHF/DPO, IPO and best-of-n policies.

    Args:
        game: the preference game.
        tau: KL strength of the RLHF/DPO and IPO objectives.
        reference: ``mu`` (default uniform); positive.
        sampling: the pair distribution of the reward-model data (see
            :func:`~nlhf_core.baselines.bradley_terry.pair_distribution`).
        best_of: ``n`` of the best-of-``n`` policy.

    Returns:
        The :class:`RLHFSolution`: the fit and the RLHF/DPO, IPO and best-of-``n`` policies ``(C, n)``.

    Raises:
        ParameterError: ``tau`` out of range.
        PolicyError: an invalid ``reference`` or ``sampling``.
    """
    tau = check_tau(tau)
    mu = as_reference(reference, game)
    fit = fit_bradley_terry(game, sampling, reference)
    q = _sampling_policy(sampling, game, reference, fit)
    return RLHFSolution(
        fit=fit,
        rlhf=kl_regularized_optimum(fit.scores, tau, mu),
        ipo=ipo_optimum(game, tau, mu, pair_weights=fit.pair_weights),
        best_of_n=best_of_n(fit.scores, mu, best_of),
        sampling_policy=q,
    )


def _sampling_policy(sampling: Any, game: PreferenceGame, reference: Any, fit: BradleyTerryFit) -> np.ndarray:
    """The policy compared responses are drawn from (the pair weights' marginal for a matrix)."""
    if sampling is None or (isinstance(sampling, str) and sampling.strip().lower() == "uniform"):
        return np.full((game.num_contexts, game.n), 1.0 / game.n)
    if isinstance(sampling, str) and sampling.strip().lower() == "reference":
        return as_reference(reference, game)
    try:
        return as_context_policies(sampling, game, what="sampling policy")
    except PolicyError:  # a matrix of pair weights, not a policy
        return sampling_marginal(pair_distribution(sampling, game, reference))


def compare_solutions(
    game: PreferenceGame,
    tau: float,
    *,
    reference: Any = None,
    sampling: Any = "uniform",
    best_of: int = 4,
    solvers: list[str] | None = None,
    iterations: int = 1000,
) -> Comparison:
    """Win-rate table among the reference, RLHF, DPO, IPO, best-of-n, regularized Nash, Nash and solvers.

    ``solvers`` lists registry names whose final policy (default parameters, this
    ``tau``) joins the table; ``None`` means every registered solver, ``[]`` none.

    Args:
        game: the preference game.
        tau: KL strength shared by every regularized policy.
        reference: ``mu`` (default uniform); positive.
        sampling: the pair distribution of the reward-model data.
        best_of: ``n`` of the best-of-``n`` policy.
        solvers: registry names of solvers to add (None: all, ``[]``: none).
        iterations: iterations each added solver runs.

    Returns:
        The :class:`Comparison`: names, policies ``(C, n)``, the win-rate table ``(k, k)`` and each
        policy's exploitability.

    Raises:
        ParameterError: ``tau`` out of range, an unknown solver, or bad ``iterations``.
        PolicyError: an invalid ``reference`` or ``sampling``.
    """
    tau = check_tau(tau)
    mu = as_reference(reference, game)
    rl = rlhf_solution(game, tau, reference, sampling, best_of)
    policies: dict[str, np.ndarray] = {
        "reference": mu,
        "RLHF": rl.rlhf,
        "DPO": rl.rlhf,
        "IPO": rl.ipo,
        f"best-of-{best_of}": rl.best_of_n,
        "regularized Nash": context_rows(regularized_nash(game, tau, mu).policy, game),
        "Nash": context_rows(nash_equilibrium(game).policy, game),
    }
    wanted = None if solvers is None else {get_solver(name).name for name in solvers}
    for spec in list_solvers():
        if wanted is None or spec.name in wanted:
            traj = run_algorithm(spec.name, game, iterations=iterations, reference=mu, **spec.defaults_for_tau(tau))
            policies[spec.name] = traj.final_policy
    names = list(policies)
    _, W = head_to_head(game.matrices, policies, game.weights)
    expl = {k: float(context_average(exploitability(game.matrices, v), game.weights)) for k, v in policies.items()}
    return Comparison(names=names, policies=policies, win_rates=W, exploitability=expl, rlhf=rl)
