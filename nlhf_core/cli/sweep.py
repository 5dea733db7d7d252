"""``nlhf sweep``: final metrics of one solver over a grid of step sizes ``eta`` and strengths ``tau``.

Every setting of the grid runs at once (:func:`~nlhf_core.algorithms.sweep.sweep` batches them);
cells whose settings the solver does not allow (a mixture weight ``eta * tau`` above 1, as in
Nash-MD's update, Munos et al. 2024, Section 5) are blank.
"""

from __future__ import annotations

import argparse

from nlhf_core.algorithms.registry import get_solver
from nlhf_core.algorithms.sweep import SweepResult, sweep
from nlhf_core.cli.arguments import (
    Subparsers,
    add_game_argument,
    add_iterations_argument,
    add_json_flag,
    add_param_argument,
    add_reference_argument,
    parse_grid_flag,
    parse_params,
)
from nlhf_core.cli.output import emit_json, game_fields, table
from nlhf_core.errors import ParameterError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.presets import open_game


def add_parser(subparsers: Subparsers) -> None:
    """Register ``sweep`` on the ``nlhf`` subparsers."""
    parser = subparsers.add_parser("sweep", help="final metrics of a solver over an (eta, tau) grid, batched")
    add_game_argument(parser)
    parser.add_argument("--algorithm", "-a", required=True, help="solver name, e.g. nash-md")
    parser.add_argument("--eta", metavar="A:B:K", help="K step sizes from A to B (geometric), or one value")
    parser.add_argument("--tau", metavar="A:B:K", help="K values of tau from A to B (geometric), or one value")
    add_param_argument(parser)
    add_iterations_argument(parser, 500)
    add_reference_argument(parser)
    add_json_flag(parser)


def run(args: argparse.Namespace) -> None:
    """Run the grid; print every final metric, or a table of the main one (rows tau, columns eta)."""
    game = open_game(args.game)
    etas = parse_grid_flag(args.eta, "eta") if args.eta else None
    taus = parse_grid_flag(args.tau, "tau") if args.tau else None
    if etas is None and taus is None:
        raise ParameterError("Give --eta a:b:k and/or --tau a:b:k to sweep over; e.g. --eta 0.01:10:20.")
    params = dict(parse_params(args.param))
    _check_swept_flags(args)
    result = sweep(
        args.algorithm,
        game,
        etas=etas,
        taus=taus,
        iterations=args.iterations,
        reference=args.reference,
        **params,
    )
    if args.json:
        emit_json(
            {
                **game_fields(game),
                "algorithm": result.algorithm,
                "etas": result.etas,
                "taus": result.taus,
                "iterations": result.iterations,
                "params": result.params,
                "metrics": result.metrics,
            }
        )
        return
    _print_grid(result, game, args.game)


def _check_swept_flags(args: argparse.Namespace) -> None:
    """Refuse ``--eta``/``--tau`` for a solver without that parameter, naming the flag to drop."""
    spec = get_solver(args.algorithm)
    names = {p.name for p in spec.params}
    if args.eta and "eta" not in names:
        raise ParameterError(f"{spec.title} has no step size eta to sweep; drop --eta.")
    if args.tau and "tau" not in names:
        raise ParameterError(f"{spec.title} has no tau to sweep; drop --tau.")


def _print_grid(result: SweepResult, game: PreferenceGame, game_arg: str) -> None:
    """The KL to the solver's target (or the exploitability when it has none) as a tau × eta table."""
    metric = "kl_to_equilibrium" if "kl_to_equilibrium" in result.metrics else "exploitability"
    print(
        f"{result.algorithm} on {game.name or game_arg}: final {metric.replace('_', ' ')} after "
        f"{result.iterations} iterations (rows: tau, columns: eta)\n"
    )
    header = ["tau \\ eta", *(("-" if e is None else f"{e:.3g}") for e in result.etas)]
    rows = [
        ["-" if t is None else f"{t:.3g}", *(float(v) for v in row)]
        for t, row in zip(result.taus, result.metrics[metric], strict=True)
    ]
    print(table(rows, header))
