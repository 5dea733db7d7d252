"""``nlhf compare``: head-to-head win rates of RLHF, DPO, IPO, best-of-n, Nash and the iterative solvers.

Entry ``(i, j)`` is ``P(pi_i > pi_j)`` under the game's true preferences (Munos et al. 2024, eq. 1);
the Nash policy wins or ties against every other policy, which is the paper's argument for NLHF.
"""

from __future__ import annotations

import argparse

from nlhf_core.algorithms.registry import get_solver
from nlhf_core.baselines.comparison import compare_solutions
from nlhf_core.cli.arguments import (
    Subparsers,
    add_baseline_arguments,
    add_iterations_argument,
    add_json_flag,
)
from nlhf_core.cli.output import emit_json, game_fields, per_context, table
from nlhf_core.games.presets import open_game


def add_parser(subparsers: Subparsers) -> None:
    """Register ``compare`` on the ``nlhf`` subparsers."""
    parser = subparsers.add_parser("compare", help="head-to-head win rates of RLHF, DPO, IPO, Nash and the solvers")
    add_baseline_arguments(parser)
    parser.add_argument(
        "--solvers", metavar="A,B", help="comma-separated solvers to include (default: all; '' for none)"
    )
    add_iterations_argument(parser, 1000, what="iterations of each solver")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> None:
    """Compute every policy, then print the win-rate table, the exploitabilities and the verdict."""
    game = open_game(args.game)
    solvers = _solver_names(args.solvers)
    cmp = compare_solutions(
        game,
        args.tau,
        reference=args.reference,
        sampling=args.sampling,
        solvers=solvers,
        iterations=args.iterations,
    )
    if args.json:
        emit_json(
            {
                **game_fields(game),
                "tau": args.tau,
                "names": cmp.names,
                "win_rates": cmp.win_rates,
                "exploitability": [cmp.exploitability[k] for k in cmp.names],
                "policies": {k: per_context(game, v) for k, v in cmp.policies.items()},
                "verdict": cmp.verdict(),
            }
        )
        return
    print(f"Head to head on {game.name or args.game}, tau = {args.tau:g}: row beats column with probability\n")
    short = [n[:10] for n in cmp.names]
    rows = [
        [name, *(float(w) for w in row), cmp.exploitability[name]]
        for name, row in zip(cmp.names, cmp.win_rates, strict=True)
    ]
    print(table(rows, ["", *short, "exploitability"]))
    print(f"\n{cmp.verdict()}")


def _solver_names(text: str | None) -> list[str] | None:
    """``--solvers A,B`` as registry names (None: every solver; ``''``: none); unknown names are refused."""
    if text is None:
        return None
    names = [s.strip() for s in text.split(",") if s.strip()]
    for name in names:
        get_solver(name)
    return names
