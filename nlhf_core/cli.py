"""The ``nlhf`` command line: JSON for scripts, readable tables for people.

Contract (../shared/DESIGN.md): ``GAME`` is a ``.csv``, a ``.json`` or ``preset:NAME``;
with ``--json`` every command prints one JSON object on stdout; errors go to stderr as
one sentence with a non-zero exit (2 for bad input, 1 for an internal error) and never
a traceback (set ``NLHF_DEBUG=1`` to see one).

Each subcommand is one ``_cmd_*`` function registered in :data:`COMMANDS`; adding a
command means writing its parser and its function.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import cli_feedback, cli_pg, cli_study, cli_train
from .algorithms import get_algorithm, list_algorithms, run_algorithm
from .algorithms.sweep import parse_grid, sweep
from .comparison import compare_solutions, rlhf_solution
from .equilibria import nash_equilibrium, regularized_nash
from .errors import NLHFError, ParameterError
from .game_io import load_game
from .games import PreferenceGame
from .metrics import context_average, exploitability, win_rate
from .policy_gradient.registry import PG_ALGORITHMS, pg_params
from .presets import list_presets

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1


# ---------------------------------------------------------------------- output helpers
def _jsonable(value: Any) -> Any:
    """numpy → Python; non-finite floats → None (JSON has no NaN/Infinity)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _emit_json(obj: dict[str, Any]) -> None:
    print(json.dumps(_jsonable(obj), ensure_ascii=False))


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    cells = [[_cell(c) for c in row] for row in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.6g}"
    return str(value)


def _policy_rows(game: PreferenceGame, policy: np.ndarray) -> list[list[Any]]:
    policy = np.atleast_2d(policy)
    if not game.has_contexts:
        return [[label, float(p)] for label, p in zip(game.labels, policy[0], strict=True)]
    return [
        [ctx, label, float(p)]
        for ctx, row in zip(game.contexts, policy, strict=True)
        for label, p in zip(game.labels, row, strict=True)
    ]


def _policy_header(game: PreferenceGame) -> list[str]:
    return ["context", "response", "probability"] if game.has_contexts else ["response", "probability"]


def _print_summary(
    title: str, game: PreferenceGame, game_arg: str, params: dict, steps: str, queries: int, policy, metrics: dict
) -> None:
    """The readable result of ``solve`` and ``pg``: settings, cost, final policy table, final metrics."""
    shown = ", ".join(f"{k}={v}" for k, v in params.items())
    print(f"{title} on {game.name or game_arg}: {shown}")
    print(f"{steps}, {queries} preference queries\n")
    print(_table(_policy_rows(game, policy), _policy_header(game)))
    print()
    for k, v in metrics.items():
        if v is not None:
            print(f"{k.replace('_', ' ')}: {v:.3g}")


def _game_fields(game: PreferenceGame) -> dict[str, Any]:
    out: dict[str, Any] = {"labels": list(game.labels)}
    if game.has_contexts:
        out["contexts"] = list(game.contexts)
        out["weights"] = game.weights
    return out


# ---------------------------------------------------------------------- commands
def _cmd_presets(args: argparse.Namespace) -> None:
    presets = list_presets()
    if args.json:
        _emit_json(
            {
                "presets": [
                    {"name": p.name, "labels": list(p.labels), "contexts": list(p.contexts), "story": p.story}
                    for p in presets
                ]
            }
        )
        return
    for p in presets:
        ctx = f", contexts: {', '.join(p.contexts)}" if p.contexts else ""
        print(f"preset:{p.name}  ({len(p.labels)} responses{ctx})")
        print(f"    {p.story}\n")


def _cmd_algorithms(args: argparse.Namespace) -> None:
    specs = list_algorithms()
    if args.json:
        _emit_json({"algorithms": [s.as_dict() for s in specs] + [a.as_dict() for a in PG_ALGORITHMS.values()]})
        return
    for s in specs:
        params = ", ".join(f"{p.name}={p.default}" for p in s.params)
        print(f"{s.name}: {s.title} — {s.summary}")
        print(f"    update: {s.update}")
        print(f"    converges to: {s.target} ({s.iterate} iterate); {s.queries_per_iteration} query/iteration")
        print(f"    parameters: {params}")
        print(f"    cite: {s.citation}\n")
    for a in PG_ALGORITHMS.values():
        params = ", ".join(f"{p.name}={p.default}" for p in pg_params(a))
        print(f"{a.name}: {a.title} (parametric, `nlhf pg`) — {a.summary}")
        print(f"    converges to: {a.target}")
        print(f"    parameters: {params}")
        print(f"    cite: {a.citation}\n")


def _cmd_equilibrium(args: argparse.Namespace) -> None:
    game = load_game(args.game)
    if args.tau is None:
        if args.reference is not None:
            raise ParameterError(
                "--reference only matters with --tau (the regularized equilibrium); add --tau or drop --reference."
            )
        result = nash_equilibrium(game)
        out = {
            **_game_fields(game),
            "policy": result.policy,
            "tau": None,
            "exploitability": result.exploitability,
            "regularized_gap": None,
            "unique": result.unique,
            "selection": result.selection,
            "method": result.method,
        }
        title = "Nash equilibrium" + (
            ""
            if result.unique
            else " (not unique: maximum-entropy one)"
            if result.selection == "maximum-entropy"
            else " (not unique: one vertex of the set of equilibria)"
        )
    else:
        reg = regularized_nash(game, args.tau, args.reference)
        out = {
            **_game_fields(game),
            "policy": reg.policy,
            "tau": reg.tau,
            "exploitability": reg.exploitability,
            "regularized_gap": reg.regularized_gap,
            "reference": reg.reference,
            "fixed_point_residual": reg.fixed_point_residual,
        }
        title = f"Regularized Nash equilibrium, tau = {reg.tau:g}"
    if args.json:
        _emit_json(out)
        return
    print(f"{title} of {game.name or args.game}\n")
    print(_table(_policy_rows(game, np.asarray(out["policy"])), _policy_header(game)))
    print(f"\nexploitability: {out['exploitability']:.3g}")
    if out["regularized_gap"] is not None:
        print(f"regularized duality gap: {out['regularized_gap']:.3g}")


def _cmd_solve(args: argparse.Namespace) -> None:
    game = load_game(args.game)
    spec = get_algorithm(args.algorithm)
    params = dict(_parse_params(args.param))
    for flag in ("tau", "eta", "schedule"):
        value = getattr(args, flag)
        if value is not None:
            if flag not in {p.name for p in spec.params}:
                raise ParameterError(f"{spec.title} has no parameter {flag}; drop --{flag}.")
            params[flag] = value
    traj = run_algorithm(
        spec.name,
        game,
        iterations=args.iterations,
        reference=args.reference,
        init=args.init,
        record_every=args.trajectory_every,
        samples=args.samples,
        seed=args.seed,
        **params,
    )
    final = traj.final_metrics()
    metrics = {k: final.get(k) for k in ("exploitability", "regularized_gap", "kl_to_equilibrium")}
    out: dict[str, Any] = {
        **_game_fields(game),
        "algorithm": spec.name,
        "params": {**traj.params, "seed": args.seed},
        "iterations": traj.iterations,
        "queries": traj.total_queries,
        "iterate": traj.iterate,
        "policy": traj.final_policy,
        "metrics": metrics,
    }
    if args.samples:
        out["comparisons"] = traj.comparisons
    if args.trajectory_every is not None:
        out["trajectory"] = traj.records(game.has_contexts)
    if args.json:
        _emit_json(out)
        return
    _print_summary(
        spec.title,
        game,
        args.game,
        traj.params,
        f"{traj.iterations} iterations",
        traj.total_queries,
        traj.final_policy,
        metrics,
    )


def _cmd_rlhf(args: argparse.Namespace) -> None:
    game = load_game(args.game)
    rl = rlhf_solution(game, args.tau, args.reference, args.sampling)
    nash = nash_equilibrium(game).policy.reshape(rl.rlhf.shape)
    policy = rl.rlhf if game.has_contexts else rl.rlhf[0]
    rewards = rl.fit.scores if game.has_contexts else rl.fit.scores[0]
    expl = float(context_average(exploitability(game.matrices, rl.rlhf), game.weights))
    vs_nash = float(context_average(win_rate(game.matrices, rl.rlhf, nash), game.weights))
    out = {
        **_game_fields(game),
        "tau": args.tau,
        "sampling": args.sampling or "uniform",
        "rewards": rewards,
        "policy": policy,
        "exploitability": expl,
        "win_rate_vs_nash": vs_nash,
        "log_likelihood": rl.fit.log_likelihood,
        "bt_max_residual": rl.fit.max_residual,
        "separable": rl.fit.separable,
        "warning": rl.fit.warning,
    }
    if args.json:
        _emit_json(out)
        return
    if rl.fit.warning:
        print(f"warning: {rl.fit.warning}", file=sys.stderr)
    print(f"RLHF on {game.name or args.game}: Bradley–Terry rewards (pairs: {out['sampling']}), tau = {args.tau:g}\n")
    rows = _policy_rows(game, rl.rlhf)
    reward_rows = np.atleast_2d(rl.fit.scores).reshape(-1)
    print(
        _table(
            [[*r[:-1], float(w), r[-1]] for r, w in zip(rows, reward_rows, strict=True)],
            [*_policy_header(game)[:-1], "reward", "RLHF policy"],
        )
    )
    print(f"\nexploitability of the RLHF policy: {expl:.3g}")
    print(f"win rate of the RLHF policy against the Nash policy: {vs_nash:.4f}")
    print(f"largest Bradley–Terry misfit |P - sigmoid(r_i - r_j)|: {rl.fit.max_residual:.3g}")


def _cmd_compare(args: argparse.Namespace) -> None:
    game = load_game(args.game)
    solvers = None if args.solvers is None else [s.strip() for s in args.solvers.split(",") if s.strip()]
    for name in solvers or ():
        get_algorithm(name)
    cmp = compare_solutions(
        game,
        args.tau,
        reference=args.reference,
        sampling=args.sampling,
        solvers=solvers,
        iterations=args.iterations,
    )
    if args.json:
        _emit_json(
            {
                **_game_fields(game),
                "tau": args.tau,
                "names": cmp.names,
                "win_rates": cmp.win_rates,
                "exploitability": [cmp.exploitability[k] for k in cmp.names],
                "policies": {k: (v if game.has_contexts else v[0]) for k, v in cmp.policies.items()},
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
    print(_table(rows, ["", *short, "exploitability"]))
    print(f"\n{cmp.verdict()}")


def _cmd_sweep(args: argparse.Namespace) -> None:
    game = load_game(args.game)
    etas = parse_grid(args.eta, "eta") if args.eta else None
    taus = parse_grid(args.tau, "tau") if args.tau else None
    if etas is None and taus is None:
        raise ParameterError("Give --eta a:b:k and/or --tau a:b:k to sweep over; e.g. --eta 0.01:10:20.")
    params = dict(_parse_params(args.param))
    result = sweep(
        args.algorithm,
        game,
        etas=etas,
        taus=taus,
        iterations=args.iterations,
        reference=args.reference,
        **params,
    )
    out = {
        **_game_fields(game),
        "algorithm": result.algorithm,
        "etas": result.etas,
        "taus": result.taus,
        "iterations": result.iterations,
        "params": result.params,
        "metrics": result.metrics,
    }
    if args.json:
        _emit_json(out)
        return
    metric = "kl_to_equilibrium" if "kl_to_equilibrium" in result.metrics else "exploitability"
    print(
        f"{result.algorithm} on {game.name or args.game}: final {metric.replace('_', ' ')} after "
        f"{result.iterations} iterations (rows: tau, columns: eta)\n"
    )
    header = ["tau \\ eta", *(("-" if e is None else f"{e:.3g}") for e in result.etas)]
    rows = [
        ["-" if t is None else f"{t:.3g}", *(float(v) for v in row)]
        for t, row in zip(result.taus, result.metrics[metric], strict=True)
    ]
    print(_table(rows, header))


def _parse_params(items: Sequence[str] | None) -> list[tuple[str, str]]:
    out = []
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--param {item!r} is not NAME=VALUE; write e.g. --param eta=0.5.")
        out.append((key.strip(), value.strip()))
    return out


# ---------------------------------------------------------------------- parser
COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "presets": _cmd_presets,
    "algorithms": _cmd_algorithms,
    "equilibrium": _cmd_equilibrium,
    "solve": _cmd_solve,
    "rlhf": _cmd_rlhf,
    "compare": _cmd_compare,
    "sweep": _cmd_sweep,
    "feedback": lambda args: cli_feedback.run(args, _emit_json, _table),
    "train": lambda args: cli_train.run(args, _emit_json),
    "study": lambda args: cli_study.run(args, _emit_json),
    "pg": lambda args: cli_pg.run(args, _emit_json, _print_summary, _parse_params, _game_fields),
}


class _Parser(argparse.ArgumentParser):
    """argparse with one-sentence errors and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {message[0].upper()}{message[1:]}; see `{self.prog} --help`.\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``nlhf`` argument parser."""
    parser = _Parser(
        prog="nlhf",
        description="Nash Learning from Human Feedback: preference games, equilibria and solvers.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    p = sub.add_parser("presets", help="list the preset games")
    common(p)
    p = sub.add_parser("algorithms", help="list the registered solvers and their parameters")
    common(p)

    game_help = "a .csv or .json file, or preset:NAME (see `nlhf presets`)"
    p = sub.add_parser("equilibrium", help="exact Nash, or exact regularized Nash with --tau")
    p.add_argument("game", metavar="GAME", help=game_help)
    p.add_argument("--tau", type=float, help="KL-regularization strength (omit for the unregularized Nash)")
    p.add_argument("--reference", metavar="REF", help="reference policy: 'uniform' or a file")
    common(p)

    p = sub.add_parser("solve", help="run an iterative solver (see `nlhf algorithms`)")
    p.add_argument("game", metavar="GAME", help=game_help)
    p.add_argument("--algorithm", "-a", required=True, help="solver name, e.g. nash-md")
    p.add_argument("--tau", type=float, help="KL-regularization strength")
    p.add_argument("--eta", type=float, help="step size")
    p.add_argument("--schedule", help="step schedule (nash-md: constant or theorem)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="any other solver parameter")
    p.add_argument("--iterations", "-n", type=int, default=500, help="number of iterations (default 500)")
    p.add_argument("--reference", metavar="REF", help="reference policy: 'uniform' (default) or a file")
    p.add_argument("--init", metavar="INIT", help="initial policy: 'uniform' or a file (default: the reference)")
    p.add_argument("--samples", type=int, metavar="M", help="answer each query with M sampled comparisons per response")
    p.add_argument("--seed", type=int, default=0, help="random seed of the sampled comparisons")
    p.add_argument(
        "--trajectory-every",
        type=int,
        metavar="K",
        help="also output the policy and metrics every K iterations",
    )
    common(p)

    sampling_help = "pairs shown to annotators: uniform (default), reference, or a policy/pair-matrix file"
    p = sub.add_parser("rlhf", help="Bradley–Terry reward fit and the RLHF policy pi ∝ mu exp(r/tau)")
    p.add_argument("game", metavar="GAME", help=game_help)
    p.add_argument("--tau", type=float, required=True, help="KL-regularization strength")
    p.add_argument("--sampling", metavar="S", help=sampling_help)
    p.add_argument("--reference", metavar="REF", help="reference policy: 'uniform' (default) or a file")
    common(p)

    p = sub.add_parser("compare", help="head-to-head win rates of RLHF, DPO, IPO, Nash and the solvers")
    p.add_argument("game", metavar="GAME", help=game_help)
    p.add_argument("--tau", type=float, required=True, help="KL-regularization strength")
    p.add_argument("--sampling", metavar="S", help=sampling_help)
    p.add_argument("--reference", metavar="REF", help="reference policy: 'uniform' (default) or a file")
    p.add_argument("--solvers", metavar="A,B", help="comma-separated solvers to include (default: all; '' for none)")
    p.add_argument("--iterations", "-n", type=int, default=1000, help="iterations of each solver (default 1000)")
    common(p)

    p = sub.add_parser("sweep", help="final metrics of a solver over an (eta, tau) grid, batched")
    p.add_argument("game", metavar="GAME", help=game_help)
    p.add_argument("--algorithm", "-a", required=True, help="solver name, e.g. nash-md")
    p.add_argument("--eta", metavar="A:B:K", help="K step sizes from A to B (geometric), or one value")
    p.add_argument("--tau", metavar="A:B:K", help="K values of tau from A to B (geometric), or one value")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="any other solver parameter")
    p.add_argument("--iterations", "-n", type=int, default=500, help="number of iterations (default 500)")
    p.add_argument("--reference", metavar="REF", help="reference policy: 'uniform' (default) or a file")
    common(p)

    cli_feedback.add_parser(sub, game_help, common)
    cli_train.add_parser(sub, game_help, common)
    cli_study.add_parser(sub, game_help, common)
    cli_pg.add_parser(sub, game_help, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nlhf`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except NLHFError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # one sentence, never a traceback, unless debugging
        if os.environ.get("NLHF_DEBUG"):
            raise
        print(
            f"error: internal error ({type(err).__name__}: {err}); please report it with the command "
            f"you ran (NLHF_DEBUG=1 shows the traceback).",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":
    sys.exit(main())
