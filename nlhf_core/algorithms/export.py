"""Downloads: a trajectory as CSV (one row per recorded step and context) and its metrics as JSON."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from nlhf_core.algorithms.trajectory import Trajectory
from nlhf_core.games.csv_cells import escape_cell
from nlhf_core.games.game import PreferenceGame


def trajectory_to_csv(traj: Trajectory, game: PreferenceGame) -> str:
    """CSV with ``step, queries, context, <one column per response>, <one per metric>``.

    Policies are those of the converging iterate (``traj.iterate``); metrics are
    context-averaged, so they repeat on the rows of one step. Labels and contexts that a
    spreadsheet would run as formulas get a leading apostrophe (:mod:`nlhf_core.games.csv_cells`).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    metric_names = list(traj.metrics)
    writer.writerow(["step", "queries", "context", *(escape_cell(label) for label in game.labels), *metric_names])
    contexts = game.contexts or ("",)
    for r, (step, queries) in enumerate(zip(traj.steps, traj.queries, strict=True)):
        for c, ctx in enumerate(contexts):
            writer.writerow(
                [
                    int(step),
                    int(queries),
                    escape_cell(ctx),
                    *(repr(float(p)) for p in traj.policies[r, c]),
                    *(repr(float(traj.metrics[m][r])) for m in metric_names),
                ]
            )
    return buf.getvalue()


def metrics_to_json(traj: Trajectory) -> str:
    """JSON with the run's parameters, queries and final metrics of both iterates."""

    def clean(v: float) -> float | None:
        return None if not math.isfinite(v) else v

    data: dict[str, Any] = {
        "algorithm": traj.algorithm,
        "params": traj.params,
        "iterate": traj.iterate,
        "iterations": traj.iterations,
        "queries": traj.total_queries,
        "final": {k: clean(float(v[-1])) for k, v in traj.metrics.items()},
        "final_last_iterate": {k: clean(float(v[-1])) for k, v in traj.metrics_last.items()},
        "final_average_iterate": {k: clean(float(v[-1])) for k, v in traj.metrics_average.items()},
        "curves": {
            "steps": [int(s) for s in traj.steps],
            "queries": [int(q) for q in traj.queries],
            **{k: [clean(float(x)) for x in v] for k, v in traj.metrics.items()},
        },
    }
    return json.dumps(data, indent=1)
