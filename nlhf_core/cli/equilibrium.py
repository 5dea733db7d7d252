"""``nlhf equilibrium``: the exact Nash equilibrium of a game, or with ``--tau`` the exact regularized one.

Without ``--tau`` the policy solves ``max_pi min_pi' P(pi > pi')`` (Munos et al. 2024, Section 3); with
``--tau`` it solves the KL-regularized game ``P(pi > pi') - tau KL(pi, mu) + tau KL(pi', mu)`` (Section 4).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from nlhf_core.cli.arguments import Subparsers, add_game_argument, add_json_flag, add_reference_argument
from nlhf_core.cli.output import emit_json, game_fields, policy_header, policy_rows, table
from nlhf_core.equilibria import nash_equilibrium, regularized_nash
from nlhf_core.errors import ParameterError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.presets import open_game


def add_parser(subparsers: Subparsers) -> None:
    """Register ``equilibrium`` on the ``nlhf`` subparsers."""
    parser = subparsers.add_parser("equilibrium", help="exact Nash, or exact regularized Nash with --tau")
    add_game_argument(parser)
    parser.add_argument("--tau", type=float, help="KL-regularization strength (omit for the unregularized Nash)")
    add_reference_argument(parser, help="reference policy: 'uniform' or a file")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> None:
    """Solve the game exactly; print the policy, its exploitability and (with ``--tau``) the duality gap."""
    game = open_game(args.game)
    if args.tau is None:
        if args.reference is not None:
            raise ParameterError(
                "--reference only matters with --tau (the regularized equilibrium); add --tau or drop --reference."
            )
        title, out = _nash(game)
    else:
        title, out = _regularized(game, args.tau, args.reference)
    if args.json:
        emit_json(out)
        return
    print(f"{title} of {game.name or args.game}\n")
    print(table(policy_rows(game, np.asarray(out["policy"])), policy_header(game)))
    print(f"\nexploitability: {out['exploitability']:.3g}")
    if out["regularized_gap"] is not None:
        print(f"regularized duality gap: {out['regularized_gap']:.3g}")


def _nash(game: PreferenceGame) -> tuple[str, dict[str, Any]]:
    result = nash_equilibrium(game)
    out = {
        **game_fields(game),
        "policy": result.policy,
        "tau": None,
        "exploitability": result.exploitability,
        "regularized_gap": None,
        "unique": result.unique,
        "selection": result.selection,
        "method": result.method,
    }
    if result.unique:
        qualifier = ""
    elif result.selection == "maximum-entropy":
        qualifier = " (not unique: maximum-entropy one)"
    else:
        qualifier = " (not unique: one vertex of the set of equilibria)"
    return "Nash equilibrium" + qualifier, out


def _regularized(game: PreferenceGame, tau: float, reference: str | None) -> tuple[str, dict[str, Any]]:
    reg = regularized_nash(game, tau, reference)
    out = {
        **game_fields(game),
        "policy": reg.policy,
        "tau": reg.tau,
        "exploitability": reg.exploitability,
        "regularized_gap": reg.regularized_gap,
        "reference": reg.reference,
        "fixed_point_residual": reg.fixed_point_residual,
    }
    return f"Regularized Nash equilibrium, tau = {reg.tau:g}", out
