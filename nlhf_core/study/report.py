"""``study.json`` of a tabular study in the language-model study's layout, and the files written next to it.

Both engines of ``nlhf study`` share one format, so a reader (the app, a script, the LM study's
``tabular_prediction``) handles either alike:

* ``methods`` — ``sft``, ``rlhf``, ``self-play``, ``nash-md-pg(beta=B)`` per ``beta`` (``beta = 1``,
  the best response to ``mu``, under that name);
* ``win_rates[i][j] = P(methods[i] ≻ methods[j])`` under the true game with ``win_rates_ci_low`` /
  ``win_rates_ci_high`` (two-sided 95 % Student-t over seeds) and the same under the learned
  preference model (``win_rates_preference_model*``);
* ``seeds``, ``betas``, ``per_seed`` (``{seed: {"win_rates", "win_rates_preference_model", ...}}``),
  ``config``, ``resolved_config`` (the language-model config keys the settings correspond to) and
  ``wall_time_s``.

The tabular engine adds ``engine = "tabular"``, ``win_rates_exact`` (the infinite-data table),
``policies`` (the infinite-data policies, ``{method: [[...] per context]}``), ``labels``,
``contexts`` and, per seed, ``policies`` and ``comparisons``. The CSV, Markdown, SVG and HTML files
are written by :func:`nlhf_core.study.results.write_study_files`, shared with the LM study.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nlhf_core.study.results import INTERVAL, IntervalMatrix, write_study_files

if TYPE_CHECKING:
    from nlhf_core.study.tabular import TabularStudyResult


def resolved_config(result: TabularStudyResult, game: str = "") -> dict[str, dict[str, Any]]:
    """The settings as the language-model config keys they stand for (``--set section.key=value``)."""
    s = result.settings
    mu = s.reference
    weights: Any = mu[0].tolist() if np.allclose(mu, mu[0]) else mu.tolist()
    return {
        "task": {"game": game or s.game.name},
        "sft": {"answer_weights": weights},
        "data": {"pairs": s.pairs, "noise": s.noise},
        "policy": {"tau": s.tau},
        "rlhf": {"tau": s.rlhf_tau},
    }


def study_json(result: TabularStudyResult, game: str = "") -> dict[str, Any]:
    """What ``study.json`` holds for a tabular study (plain Python, JSON-ready).

    The layout is the one both engines share (see the module notes). With seeds, the preference-model
    table is the mean and two-sided 95 % Student-t interval of the seeds' tables
    (:meth:`IntervalMatrix.over_seeds`); with ``pairs = 0`` it is the exact one and ``low = high = mean``.

    Args:
        result: the study (:func:`~nlhf_core.study.tabular.run_tabular_study`).
        game: the ``task.game`` the study was run on (``preset:NAME`` or a game file), written to ``config`` and
            ``resolved_config``; ``""`` uses the game's own name.

    Returns:
        The ``study.json`` object: ``engine``, ``methods`` (``M`` names), the ``(M, M)`` tables ``win_rates``,
        ``win_rates_ci_low``, ``win_rates_ci_high``, ``win_rates_preference_model*`` and ``win_rates_exact`` as
        nested lists, ``interval``, ``orientation``, ``seeds``, ``betas``, ``labels``, ``contexts``,
        ``policies`` (``{method: (C, n)}``), ``per_seed``, ``config``, ``resolved_config`` and ``wall_time_s``.
    """
    s, names = result.settings, list(result.methods)
    seeds = [int(x) for x in s.seeds]
    if seeds:
        model = IntervalMatrix.over_seeds(list(result.per_seed_model))
        pm, pm_low, pm_high = model.mean, model.low, model.high
        interval = INTERVAL
    else:
        pm = pm_low = pm_high = result.exact_model
        interval = "none: data.pairs = 0 is the exact, infinite-data limit (low = high = the exact value)"
    per_seed = {
        str(seed): {
            "win_rates": result.per_seed[k].tolist(),
            "win_rates_preference_model": result.per_seed_model[k].tolist(),
            "comparisons": int(result.comparisons[k]),
            "policies": {m: result.seed_policies[k, i].tolist() for i, m in enumerate(names)},
        }
        for k, seed in enumerate(seeds)
    }
    return {
        "engine": "tabular",
        "methods": names,
        "win_rates": result.mean.tolist(),
        "win_rates_ci_low": result.low.tolist(),
        "win_rates_ci_high": result.high.tolist(),
        "win_rates_preference_model": pm.tolist(),
        "win_rates_preference_model_ci_low": pm_low.tolist(),
        "win_rates_preference_model_ci_high": pm_high.tolist(),
        "win_rates_exact": result.exact.tolist(),
        "interval": interval,
        "orientation": "win_rates[i][j] = P(methods[i] beats methods[j]) under the true preferences (exact)",
        "seeds": seeds,
        "betas": list(s.betas),
        "labels": list(s.game.labels),
        "contexts": list(s.game.contexts),
        "policies": {m: np.asarray(result.exact_policies[m]).tolist() for m in names},
        "per_seed": per_seed,
        "config": f"tabular ({game or s.game.name or 'custom game'})",
        "resolved_config": resolved_config(result, game),
        "wall_time_s": result.wall_time_s,
    }


def write_study(result: TabularStudyResult, out_dir: str | Path, game: str = "") -> dict[str, Any]:
    """Write ``study.json``, ``study.csv``, ``study_cells.csv``, ``study.md``, ``study.svg``, ``study.html``.

    Args:
        result: the study (:func:`~nlhf_core.study.tabular.run_tabular_study`).
        out_dir: the folder to write into (created with its parents if missing; files there are replaced).
        game: the ``task.game`` the study was run on, as for :func:`study_json`.

    Returns:
        The ``study.json`` object written (:func:`study_json`).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = study_json(result, game)
    write_study_files(out, data)
    return data
