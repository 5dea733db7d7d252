"""Tabular study speed: the paper's comparison on ``preset:paper-comparison`` (4 responses) over 50 seeds.

One section of ``python -m benchmarks.run`` (or ``python -m benchmarks.bench_study`` alone). Times
:func:`nlhf_core.study.run_tabular_study` at the preset's defaults (``N = 10,000`` labelled pairs per
seed, 50 seeds, Nash-MD-PG at 5 mixture coefficients: per seed, the simulated labels, both fitted
models and 7 policies), the exact table alone (``N = 0``), and the app's beta curve (21 values of beta,
20 seeds). Medians of wall and CPU time over the repeats; the target is the issue's "4 responses ×
50 seeds well under a second", judged on CPU time: this machine is shared (2 cores, load averages of
5-12 while other jobs run), which stretches wall time by the load but not the work. No peer: there is
no other tabular NLHF study to compare with.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from .common import load_average

TITLE = "Tabular study of the paper's comparison (no training)"
PACKAGES = ()
TARGET_S = 1.0


def _settings(pairs: int, seeds: int) -> Any:
    from nlhf_core.study import resolve_settings, tabular_settings_from

    values = resolve_settings(["task.game='preset:paper-comparison'", f"data.pairs={pairs}"])
    return tabular_settings_from(values, seeds=range(seeds))[0]


def _time(fn, repeats: int) -> dict[str, float]:
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return {"wall_s": statistics.median(wall), "cpu_s": statistics.median(cpu), "repeats": repeats}


def run(quick: bool = False) -> dict[str, Any]:
    from nlhf_core.study import beta_curve, run_tabular_study

    repeats = 3 if quick else 7
    full, exact, curve = _settings(10_000, 50), _settings(0, 1), _settings(10_000, 20)
    run_tabular_study(full)  # warm-up: imports and caches
    rows = {
        "study, 50 seeds, N = 10,000": _time(lambda: run_tabular_study(full), repeats),
        "exact table (N = 0)": _time(lambda: run_tabular_study(exact), repeats),
        "beta curve, 21 betas x 20 seeds": _time(lambda: beta_curve(curve), max(1, repeats // 2)),
    }
    measured = rows["study, 50 seeds, N = 10,000"]
    return {
        "rows": rows,
        "load_average": load_average(),
        "targets": [
            {
                "target": f"tabular study, 4 responses x 50 seeds, under {TARGET_S:g} s (CPU)",
                "measured": f"{measured['wall_s']:.3f} s wall, {measured['cpu_s']:.3f} s CPU (median)",
                "met": measured["cpu_s"] < TARGET_S,
            }
        ],
    }


def render(result: dict[str, Any]) -> str:
    lines = [
        "`run_tabular_study` on `preset:paper-comparison` at its defaults (tau = 0.1, tau_R = 0.3, betas "
        "0.125, 0.25, 0.5, 0.75, 1), one process, medians over the repeats.",
        "",
        "| what | wall | CPU | repeats |",
        "|---|---|---|---|",
    ]
    for name, row in result["rows"].items():
        lines.append(f"| {name} | {row['wall_s']:.3f} s | {row['cpu_s']:.3f} s | {row['repeats']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    outcome = run(quick=False)
    print(render(outcome))
    print("load average", outcome["load_average"], "target met:", outcome["targets"][0]["met"])
