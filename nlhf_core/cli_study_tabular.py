"""``nlhf study --engine tabular``: the paper's comparison predicted exactly, with the language-model study's
settings, names and outputs (see :mod:`nlhf_core.study`).

Settings are the language-model config keys (``--game``, ``--set sft.answer_weights=[...]`` for ``mu``,
``data.pairs`` with 0 the exact limit, ``data.noise``, ``policy.tau``, ``rlhf.tau``), laid over the
preset's study defaults when the game has them; ``--betas`` and ``--seeds`` as for the LM engine
(``beta = 1``, the best response, is always added). Writes ``study.json``, ``study.csv``,
``study_cells.csv``, ``study.md``, ``study.svg`` and ``study.html`` into ``--out``. No torch.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

from .errors import ParameterError


def run(args: argparse.Namespace, emit_json: Callable[[dict[str, Any]], None], numbers: Callable[..., Any]) -> None:
    """Run the tabular study of ``args`` and print its summary (or one JSON object with ``--json``)."""
    from .study import resolve_settings, run_tabular_study, tabular_settings_from, write_study

    if args.config is not None:
        raise ParameterError(
            "The tabular engine reads its settings from --game and --set (over the preset's study defaults); "
            "--config picks training budgets of the language-model engine, so leave it out."
        )
    overrides = list(args.set)
    if args.game is not None:
        overrides.append(f"task.game={args.game!r}")
    values = resolve_settings(overrides)
    settings, game = tabular_settings_from(
        values, betas=numbers(args.betas, float, "betas"), seeds=numbers(args.seeds, int, "seeds")
    )
    result = run_tabular_study(settings)
    out = args.out or os.path.join("runs", time.strftime("study-tabular-%Y%m%d-%H%M%S"))
    data = write_study(result, out, game)
    if args.json:
        emit_json({"out": out, **data})
        return
    names, W, low, high = data["methods"], data["win_rates"], data["win_rates_ci_low"], data["win_rates_ci_high"]
    width = max(len(m) for m in names)
    rlhf = names.index("rlhf")
    where = f"mean [95% t-interval] over {len(settings.seeds)} seeds" if settings.seeds else "exact, infinite data"
    print(f"study directory: {out}  (study.json, study.csv, study.md, study.svg, study.html)")
    print(
        f"tabular study of {game}: tau = {settings.tau:g}, tau_R = {settings.rlhf_tau:g}, "
        f"data.pairs = {settings.pairs} ({'exact limit' if not settings.pairs else 'pairs from mu x mu'}), "
        f"noise = {settings.noise:g}"
    )
    print(f"win rate vs SFT and vs RLHF under the true preferences, {where}:")
    for i, m in enumerate(names[1:], start=1):
        vs_rlhf = "" if i == rlhf else f"   vs rlhf {W[i][rlhf]:.3f} [{low[i][rlhf]:.3f}, {high[i][rlhf]:.3f}]"
        print(f"  {m:<{width}}  vs sft {W[i][0]:.3f} [{low[i][0]:.3f}, {high[i][0]:.3f}]{vs_rlhf}")
    print(f"wall time {data['wall_time_s']:.2f} s")
