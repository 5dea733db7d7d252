"""Iterative solvers for preference games, behind one registry, one engine and one runner.

:func:`run_algorithm` resolves the game, reference and initial policy, validates the
parameters against the registry, runs the solver (exact or sampled preference queries)
and returns a :class:`Trajectory` with metric curves for the last and the average
iterate (exploitability, regularized gap, KL to the solver's exact target).
:func:`~nlhf_core.algorithms.sweep.sweep` runs a grid of ``(eta, tau)`` settings as one
batched computation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlhf_core.algorithms import classical, extragradient, mirror_descent, nash_md  # noqa: F401  (register the solvers)
from nlhf_core.algorithms.engine import PreferenceOracle, run_solver
from nlhf_core.algorithms.registry import AlgorithmSpec, get_solver, list_solvers
from nlhf_core.algorithms.targets import solver_target
from nlhf_core.algorithms.trajectory import Trajectory, check_recording_size, recording_steps, trajectory_metrics
from nlhf_core.errors import ParameterError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.policies import as_context_policies, as_reference
from nlhf_core.numerics import safe_log
from nlhf_core.params import ParamSpec, check_seed
from nlhf_core.registry import get_algorithm, list_algorithms, register

#: Largest number of iterations one run may ask for.
MAX_ITERATIONS = 1_000_000
#: Largest number of sampled comparisons per response and query.
MAX_SAMPLES = 1_000_000

__all__ = [
    "AlgorithmSpec",
    "ParamSpec",
    "Trajectory",
    "get_algorithm",
    "get_solver",
    "list_algorithms",
    "list_solvers",
    "register",
    "run_algorithm",
]


def run_algorithm(
    name: str,
    game: PreferenceGame,
    *,
    iterations: int = 500,
    reference: Any = None,
    init: Any = None,
    record_every: int | None = None,
    samples: int | None = None,
    seed: int = 0,
    **params: Any,
) -> Trajectory:
    """Run a registered solver on ``game`` and return its :class:`Trajectory`.

    ``reference`` is ``mu`` (default uniform); ``init`` the initial policy (default: the
    reference, as in the paper where the SFT policy is both). ``params`` override the
    registry defaults (``tau``, ``eta``, ...). Policies are recorded every
    ``record_every`` iterations (default: about 1000 records) and at the end. With
    ``samples = m`` every preference query is answered by ``m`` simulated comparisons
    per response (seeded by ``seed``) instead of exactly.

    Args:
        name: a registered tabular solver (``nlhf algorithms`` lists them), e.g. ``"nash-md"``.
        game: the preference game (plain or contextual).
        iterations: number of iterations ``T``, in ``[1, MAX_ITERATIONS]``.
        reference: ``mu``: None/``"uniform"``, a vector, ``(C, n)`` or ``{context: policy}``; positive.
        init: the initial policy ``pi_0`` (same forms; default ``mu``); positive.
        record_every: record the policies every so many iterations (None: about 1000 records).
        samples: comparisons per response and query, in ``[1, MAX_SAMPLES]`` (None: exact ``P pi``).
        seed: seed of the simulated comparisons.
        **params: the solver's parameters (``tau``, ``eta``, ``schedule``, ...); None keeps a default.

    Returns:
        The :class:`Trajectory`: ``R`` recorded policies ``(R, C, n)`` of the last and the average
        iterate, the queries used and their metric curves ``(R,)``.

    Raises:
        ParameterError: an unknown solver or parameter, a value out of range, bad ``iterations``,
            ``samples`` or ``record_every``, or a trajectory too large to record.
        PolicyError: an invalid ``reference`` or ``init``.
    """
    spec = get_solver(name)
    resolved = spec.resolve_params(params)
    iterations = check_iterations(iterations)
    samples = check_samples(samples)
    seed = check_seed(seed)
    mu = as_reference(reference, game)
    start = mu if init is None else as_context_policies(init, game, what="initial policy", full_support=True)
    steps = recording_steps(iterations, record_every)
    check_recording_size(len(steps), game.num_contexts, game.n)
    oracle = PreferenceOracle(game.matrices, samples=samples, rng=np.random.default_rng(seed))
    solver = spec.solver(resolved, safe_log(mu))
    last, average, queries = run_solver(solver, oracle, safe_log(start), steps)
    tau = resolved.get("tau")
    kind = spec.converges_to(resolved)
    target = solver_target(kind, game, tau, mu)

    def curves(policies: np.ndarray) -> dict[str, np.ndarray]:
        return trajectory_metrics(game.matrices, game.weights, policies, tau=tau, reference=mu, target=target)

    extra = {"samples": samples, "seed": seed} if samples else {}
    return Trajectory(
        algorithm=spec.name,
        params={**resolved, "iterations": iterations, **extra},
        steps=steps,
        queries=queries,
        iterate=spec.iterate,
        last_policies=last,
        average_policies=average,
        metrics_last=curves(last),
        metrics_average=curves(average),
        target=target,
        target_kind=kind,
        comparisons=oracle.comparisons,
    )


def check_iterations(iterations: Any) -> int:
    """A whole number of iterations in ``[1, MAX_ITERATIONS]``."""
    if isinstance(iterations, bool) or not isinstance(iterations, int | float | np.integer | np.floating):
        raise ParameterError(f"iterations must be a whole number, not {iterations!r}.")
    if not float(iterations).is_integer():
        raise ParameterError(f"iterations must be a whole number, not {iterations!r}.")
    value = int(iterations)
    if not 1 <= value <= MAX_ITERATIONS:
        raise ParameterError(
            f"iterations = {value} is outside [1, {MAX_ITERATIONS:,}]; choose a number of iterations in that range."
        )
    return value


def check_samples(samples: Any) -> int | None:
    """None (exact queries) or a whole number of comparisons in ``[1, MAX_SAMPLES]``."""
    if samples is None:
        return None
    try:
        number = float(samples)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(samples, bool) or not number.is_integer() or not 1 <= number <= MAX_SAMPLES:
        raise ParameterError(
            f"samples = {samples!r} must be a whole number of comparisons in [1, {MAX_SAMPLES:,}] "
            f"(leave it out for exact preferences)."
        )
    return int(number)
