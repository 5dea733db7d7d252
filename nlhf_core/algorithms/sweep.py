"""Parameter sweeps as one batched computation: every ``(eta, tau)`` setting advances at once.

The engine's state gets a leading settings axis ``S``; ``eta`` and ``tau`` become arrays of
shape ``(S, 1, 1)``, so each iteration is a handful of NumPy operations on ``(S, C, n)``
arrays and one batched matrix product, instead of ``S`` Python loops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlhf_core.algorithms import check_iterations
from nlhf_core.algorithms.engine import PreferenceOracle, run_solver
from nlhf_core.algorithms.registry import get_solver
from nlhf_core.algorithms.targets import solver_target
from nlhf_core.algorithms.trajectory import trajectory_metrics
from nlhf_core.errors import ParameterError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.policies import as_context_policies, as_reference
from nlhf_core.numerics import safe_log

#: Largest number of settings in one sweep.
MAX_SETTINGS = 10_000


@dataclass(frozen=True)
class SweepResult:
    """Final metrics of a solver over a grid of settings.

    ``metrics[name]`` has shape ``(len(taus), len(etas))`` (a missing axis has length 1 and
    the value None in ``taus``/``etas``); cells whose settings are invalid are NaN.
    ``final_policies`` has shape ``(len(taus), len(etas), C, n)``.
    """

    algorithm: str
    etas: list[float | None]
    taus: list[float | None]
    iterations: int
    metrics: dict[str, np.ndarray]
    final_policies: np.ndarray = field(repr=False)
    params: dict[str, Any] = field(default_factory=dict)


def parse_grid(text: str, name: str = "value", *, what: str | None = None) -> list[float]:
    """``"a:b:k"`` → ``k`` values from ``a`` to ``b``, geometrically spaced; ``"x"`` → ``[x]``.

    Args:
        text: a range ``a:b:k`` (``a, b > 0``, ``k`` a whole number) or one number.
        name: the swept parameter (``eta`` or ``tau``), named in error messages.
        what: how error messages name ``text`` (default ``"The <name> grid"``; the command line passes its flag).

    Returns:
        The grid's values.

    Raises:
        ParameterError: ``text`` is not a number or a range of positive numbers.
    """
    subject = what or f"The {name} grid"
    parts = text.split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ParameterError(f"{subject} {text!r} is not a number or a range a:b:k; write e.g. 0.01:1:20.") from None
    if len(values) == 1:
        return values
    if len(values) != 3 or not values[2].is_integer() or values[2] < 1:
        raise ParameterError(f"{subject} {text!r} must be a:b:k with a whole number k of values, e.g. 0.01:1:20.")
    a, b, k = values[0], values[1], int(values[2])
    if a <= 0 or b <= 0:
        raise ParameterError(f"{subject} {text!r}: the range ends must be positive (the grid is geometric).")
    return np.geomspace(a, b, k).tolist()


def sweep(
    name: str,
    game: PreferenceGame,
    *,
    etas: Sequence[float] | None = None,
    taus: Sequence[float] | None = None,
    iterations: int = 500,
    reference: Any = None,
    init: Any = None,
    **fixed: Any,
) -> SweepResult:
    """Run ``name`` for every ``(tau, eta)`` in the grid, batched; return the final metrics."""
    spec = get_solver(name)
    names = {p.name for p in spec.params}
    if etas is not None and "eta" not in names:
        raise ParameterError(f"{spec.title} has no step size eta to sweep; leave etas out.")
    if taus is not None and "tau" not in names:
        raise ParameterError(f"{spec.title} has no tau to sweep; leave taus out.")
    eta_list: list[float | None] = [float(spec.param("eta").validate(e)) for e in etas] if etas is not None else [None]
    tau_list: list[float | None] = [float(spec.param("tau").validate(t)) for t in taus] if taus is not None else [None]
    if len(eta_list) * len(tau_list) > MAX_SETTINGS:
        raise ParameterError(
            f"The grid has {len(eta_list) * len(tau_list):,} settings, more than {MAX_SETTINGS:,}; use fewer values."
        )
    iterations = check_iterations(iterations)
    base = spec.resolve_params(fixed)
    tau_grid, eta_grid = np.meshgrid(
        np.array([base.get("tau", np.nan) if t is None else t for t in tau_list], dtype=float),
        np.array([base.get("eta", np.nan) if e is None else e for e in eta_list], dtype=float),
        indexing="ij",
    )
    S = tau_grid.size
    valid = np.ones(S, dtype=bool)
    params = dict(base)
    if "tau" in names:
        params["tau"] = tau_grid.reshape(S, 1, 1)
    if "eta" in names:
        eta_flat = eta_grid.reshape(S).copy()
        weight = spec.mixture_weight({**base, "eta": eta_flat, "tau": tau_grid.reshape(S)})
        if weight is not None:  # cells with a mixture weight eta × tau > 1 are reported as NaN
            valid = weight <= 1.0 + 1e-12
            eta_flat = np.where(valid, eta_flat, 1.0 / tau_grid.reshape(S))  # run, then blank out
        params["eta"] = eta_flat.reshape(S, 1, 1)

    mu = as_reference(reference, game)
    start = mu if init is None else as_context_policies(init, game, what="initial policy", full_support=True)
    solver = spec.solver(params, safe_log(mu))
    oracle = PreferenceOracle(game.matrices)
    steps = np.array([0, iterations])
    last, average, _ = run_solver(solver, oracle, np.broadcast_to(safe_log(start), (S, *mu.shape)), steps)
    final = (average if spec.iterate == "average" else last)[-1]  # (S, C, n)

    kind_params = {**base}
    filled = np.full(final.shape, np.nan)
    targets: np.ndarray | None = filled
    for t in np.unique(tau_grid):
        cells = tau_grid.reshape(S) == t if not np.isnan(t) else np.ones(S, dtype=bool)
        kind = spec.converges_to(kind_params)
        target = solver_target(kind, game, None if np.isnan(t) else t, mu)
        if target is None:  # no target for this solver: no KL to it
            targets = None
            break
        filled[cells] = target
    tau_per_policy = tau_grid.reshape(S, 1) if "tau" in names else None
    metrics = trajectory_metrics(game.matrices, game.weights, final, tau=tau_per_policy, reference=mu, target=targets)
    shape = tau_grid.shape
    grids = {k: np.where(valid, v, np.nan).reshape(shape) for k, v in metrics.items()}
    return SweepResult(
        algorithm=spec.name,
        etas=eta_list,
        taus=tau_list,
        iterations=iterations,
        metrics=grids,
        final_policies=np.where(valid[:, None, None], final, np.nan).reshape(*shape, *mu.shape),
        params={k: v for k, v in base.items() if k not in ("eta", "tau")},
    )
