"""``nlhf feedback simulate|fit|pipeline``: the human-feedback lab on the command line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from .errors import GameValidationError, ParameterError
from .feedback import (
    AnnotatorPopulation,
    ComparisonDataset,
    fit_preference_model,
    fit_reward_model,
    held_out_log_likelihood,
    simulate_comparisons,
)
from .feedback_pipeline import run_pipeline
from .game_io import load_game
from .games import PreferenceGame


def add_parser(sub: Any, game_help: str, common: Any) -> None:
    """Register ``feedback`` and its three subcommands on the main parser's subparsers."""
    p = sub.add_parser("feedback", help="simulated annotators, fitted models, the NLHF vs RLHF pipeline")
    fsub = p.add_subparsers(dest="feedback_command", metavar="STEP", parser_class=type(p))
    fsub.required = True
    sampling_help = "pairs to compare: uniform (default), reference, adaptive, or a policy/pair-matrix file"

    q = fsub.add_parser("simulate", help="draw a seeded dataset of comparisons from a true game")
    q.add_argument("game", metavar="GAME", help=game_help)
    q.add_argument("--samples", "-n", type=int, required=True, help="number of comparisons")
    q.add_argument("--sampling", metavar="S", help=sampling_help)
    q.add_argument("--reference", metavar="REF", help="reference policy (for --sampling reference)")
    q.add_argument("--noise", type=float, default=0.0, help="probability that a label is flipped (default 0)")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--out", metavar="FILE.csv", required=True, help="where to write the comparisons")
    common(q)

    q = fsub.add_parser("fit", help="fit a preference model and a Bradley–Terry reward model to comparisons")
    q.add_argument("game", metavar="GAME", help="the game the comparisons are about (for labels and truth)")
    q.add_argument("data", metavar="FILE.csv", help="comparisons written by `nlhf feedback simulate`")
    q.add_argument("--held-out", type=float, default=0.2, help="fraction kept to score the models (default 0.2)")
    q.add_argument("--seed", type=int, default=0)
    common(q)

    q = fsub.add_parser("pipeline", help="dataset → models → NLHF and RLHF policies → true exploitability")
    q.add_argument("game", metavar="GAME", help=game_help)
    q.add_argument("--samples", "-n", type=int, required=True, help="number of comparisons")
    q.add_argument("--sampling", metavar="S", help=sampling_help)
    q.add_argument("--reference", metavar="REF", help="reference policy: 'uniform' (default) or a file")
    q.add_argument("--tau", type=float, default=0.1, help="KL strength of both policies (default 0.1)")
    q.add_argument("--noise", type=float, default=0.0, help="probability that a label is flipped (default 0)")
    q.add_argument("--seed", type=int, default=0)
    common(q)


def run(args: argparse.Namespace, emit: Any, table: Any) -> None:
    """Dispatch ``nlhf feedback STEP``."""
    {"simulate": _simulate, "fit": _fit, "pipeline": _pipeline}[args.feedback_command](args, emit, table)


def _sampling(args: argparse.Namespace) -> Any:
    return args.sampling or "uniform"


def _simulate(args, emit, table) -> None:
    out = _output_file(args.out)
    game = load_game(args.game)
    population = AnnotatorPopulation.of(game, noise=args.noise)
    data = simulate_comparisons(
        population, args.samples, sampling=_sampling(args), reference=args.reference, seed=args.seed
    )
    try:
        out.write_text(data.to_csv(), encoding="utf-8")
    except OSError as err:
        raise ParameterError(
            f"Cannot write {str(out)!r} ({err.strerror or type(err).__name__}); choose a file in a writable folder."
        ) from None
    _, total = data.win_counts()
    summary = {
        "labels": list(game.labels),
        "comparisons": len(data),
        "out": str(out),
        "counts": total if game.has_contexts else total[0],
    }
    if args.json:
        emit(summary)
        return
    print(f"Wrote {len(data)} comparisons of {game.name or args.game} to {out}.")


def _output_file(path: str) -> Path:
    """The ``--out`` file of ``simulate``, checked before any work is done."""
    out = Path(path)
    if out.suffix.lower() != ".csv":
        raise GameValidationError(f"Write comparisons to a .csv file, not {out.name!r}.")
    if not out.parent.is_dir():
        raise ParameterError(
            f"The folder {str(out.parent)!r} of --out does not exist; create it first, or write the "
            f"comparisons to an existing folder."
        )
    if out.is_dir():
        raise ParameterError(f"--out {str(out)!r} is a folder; give the path of a .csv file to write.")
    return out


def _fit(args, emit, table) -> None:
    game = load_game(args.game)
    path = Path(args.data)
    if not path.is_file():
        raise GameValidationError(
            f"There is no comparison file {str(path)!r}; write one with `nlhf feedback simulate`."
        )
    data = ComparisonDataset.from_csv(path.read_text(encoding="utf-8-sig"), game.labels, game.contexts)
    train, test = data.split(args.held_out, args.seed)
    pm = fit_preference_model(train, game)
    rm = fit_reward_model(train, game)
    out = {
        "labels": list(game.labels),
        "comparisons": len(data),
        "preference_model": {
            "matrix": _one(game, pm.matrix),
            "lower": _one(game, pm.lower),
            "upper": _one(game, pm.upper),
        },
        "reward_model": {
            "rewards": _one(game, rm.rewards),
            "standard_errors": _one(game, rm.standard_errors),
            "warning": rm.warning,
        },
        "held_out_log_likelihood": {
            "preference_model": held_out_log_likelihood(pm.matrix, test),
            "reward_model": held_out_log_likelihood(rm.predicted(), test),
        },
    }
    if args.json:
        emit(out)
        return
    rows = [
        [label, float(r), float(e)]
        for label, r, e in zip(game.labels, rm.rewards[0], rm.standard_errors[0], strict=True)
    ]
    print(table(rows, ["response", "BT reward", "std. error"]))
    ll = out["held_out_log_likelihood"]
    print(
        f"\nheld-out log-likelihood: preference model {ll['preference_model']:.4f}, "
        f"reward model {ll['reward_model']:.4f} (higher is better)"
    )


def _pipeline(args, emit, table) -> None:
    game = load_game(args.game)
    population = AnnotatorPopulation.of(game, noise=args.noise)
    r = run_pipeline(
        population, args.samples, tau=args.tau, sampling=_sampling(args), reference=args.reference, seed=args.seed
    )
    out = {
        "labels": list(game.labels),
        "comparisons": args.samples,
        "tau": args.tau,
        "sampling": _sampling(args),
        "preference_model": {"matrix": _one(game, r.preference_model)},
        "reward_model": {"rewards": _one(game, r.rewards)},
        "policies": {"nlhf": _one(game, r.nlhf_policy), "rlhf": _one(game, r.rlhf_policy)},
        "true_exploitability": r.true_exploitability,
        "nlhf_beats_rlhf": r.nlhf_beats_rlhf,
        "held_out_log_likelihood": r.held_out_log_likelihood,
    }
    if args.json:
        emit(out)
        return
    rows = [
        [label, float(a), float(b)] for label, a, b in zip(game.labels, r.nlhf_policy[0], r.rlhf_policy[0], strict=True)
    ]
    print(table(rows, ["response", "NLHF policy", "RLHF policy"]))
    print(f"\ntrue exploitability: NLHF {r.true_exploitability['nlhf']:.4f}, RLHF {r.true_exploitability['rlhf']:.4f}")
    print(f"the NLHF policy beats the RLHF policy {r.nlhf_beats_rlhf:.2%} of the time under the true preferences")


def _one(game: PreferenceGame, array: np.ndarray) -> Any:
    """Drop the context axis of a plain game."""
    return array if game.has_contexts else array[0]
