"""The output of a comparison study: pairwise win rates of methods over seeds, with Student-t intervals.

Engine-neutral: any study that trains several methods per seed and measures, for every seed, the
matrix ``W[a, b] = P(method a beats method b)`` (with ``W + W^T = 1`` and ``W[a, a] = 1/2``) fills a
:class:`StudyResult`; the writers here produce ``study.json``, ``study.csv`` (the matrix, row beats
column), ``study_cells.csv`` (one row per cell: mean, interval, preference-model mean, every seed) and
``study.md`` (a Markdown table). Figures are drawn elsewhere from :meth:`StudyResult.to_dict`.

**Across seeds** (Munos et al. 2024 report pairwise win rates, Section 8, Table 1): the mean matrix
and a two-sided 95 % Student-t interval per cell, ``mean ± t_{0.975, n-1} s / sqrt(n)`` over the
``n`` seeds, clipped to ``[0, 1]`` (``low = high = mean`` when ``n = 1``). The mean is made exactly
complementary (``W[b, a] = 1 - W[a, b]``) and so is the interval (``low[b, a] = 1 - high[a, b]``),
as the t-interval of ``1 - W`` is.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlhf_core.files import atomic_write_json, atomic_write_text
from nlhf_core.viz.study import study_heatmap_html, study_heatmap_svg

CONFIDENCE = 0.95
INTERVAL = f"two-sided {CONFIDENCE:.0%} Student-t over seeds (mean ± t_(0.975, n-1) s/sqrt(n)), clipped"
ORIENTATION = "win_rates[i][j] = P(methods[i] beats methods[j]) under the true preferences (exact)"


def nash_md_name(beta: float) -> str:
    """The study's name of Nash-MD-PG with mixture ``beta`` (``nash-md-pg(beta=0.125)``; ``beta = 1`` included).

    Args:
        beta: the mixture coefficient (not checked; the study's betas lie in ``[0, 1]``).

    Returns:
        ``nash-md-pg(beta=B)`` with ``B`` in ``%g`` format (``0.5``, ``1``, ``0.125``).
    """
    return f"nash-md-pg(beta={beta:g})"


def t_interval(samples: np.ndarray, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and two-sided Student-t interval over axis 0: ``mean ± t_{(1+c)/2, n-1} s / sqrt(n)``, clipped to [0, 1].

    Args:
        samples: ``(n, ...)`` one value per seed along axis 0.
        confidence: the interval's coverage ``c``.

    Returns:
        ``(mean, low, high)``, each of shape ``samples.shape[1:]``; ``low = high = mean`` when ``n < 2``.
    """
    n = samples.shape[0]
    mean = samples.mean(axis=0)
    if n < 2:
        return mean, mean.copy(), mean.copy()
    from scipy import stats

    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * samples.std(axis=0, ddof=1) / math.sqrt(n)
    return mean, np.clip(mean - half, 0.0, 1.0), np.clip(mean + half, 0.0, 1.0)


@dataclass(frozen=True)
class IntervalMatrix:
    """A mean win-rate matrix over seeds with its interval, each exactly complementary."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def over_seeds(cls, per_seed: Sequence[np.ndarray]) -> IntervalMatrix:
        """Mean and 95 % t-interval of the seeds' matrices; the lower triangle mirrors the upper one
        (``mean[b, a] = 1 - mean[a, b]``, ``low[b, a] = 1 - high[a, b]``) and the diagonal is 1/2.

        The interval is ``mean ± t_{0.975, n-1} s / sqrt(n)`` per upper-triangle cell, clipped to ``[0, 1]``
        (:func:`t_interval`; ``low = high = mean`` for one seed).

        Args:
            per_seed: ``n >= 1`` win-rate matrices, each ``(M, M)`` with ``W[a, b] = P(a beats b)``.

        Returns:
            The :class:`IntervalMatrix`, ``mean``, ``low`` and ``high`` each ``(M, M)``.
        """
        mean, low, high = t_interval(np.stack(per_seed))
        iu = np.triu_indices(mean.shape[0], 1)
        M, L, H = np.full_like(mean, 0.5), np.full_like(mean, 0.5), np.full_like(mean, 0.5)
        M[iu], L[iu], H[iu] = mean[iu], low[iu], high[iu]
        M.T[iu], L.T[iu], H.T[iu] = 1.0 - mean[iu], 1.0 - high[iu], 1.0 - low[iu]
        return cls(M, L, H)


@dataclass(frozen=True)
class StudyResult:
    """What a study measured and how.

    Attributes:
        methods: rows and columns of every matrix.
        seeds: the seeds, in the order of ``per_seed``.
        per_seed: one ``(M, M)`` win-rate matrix per seed under the true preferences.
        win_rates: their mean and interval.
        per_seed_preference_model, preference_model: the same under a learned preference model (None if none).
        parameters: engine-specific settings written after ``seeds`` (e.g. ``{"betas": [...]}``).
        config: the name of the configuration (or ``"custom"``); resolved_config: its settings.
        training_seconds_per_seed: compute time per seed; wall_time_s: this call's time.
    """

    methods: list[str]
    seeds: list[int]
    per_seed: list[np.ndarray]
    win_rates: IntervalMatrix
    per_seed_preference_model: list[np.ndarray] | None = None
    preference_model: IntervalMatrix | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    config: str = "custom"
    resolved_config: dict[str, Any] = field(default_factory=dict)
    training_seconds_per_seed: dict[str, float] = field(default_factory=dict)
    wall_time_s: float = 0.0

    @classmethod
    def from_seeds(
        cls,
        methods: list[str],
        seeds: list[int],
        per_seed: list[np.ndarray],
        per_seed_preference_model: list[np.ndarray] | None = None,
        **details: Any,
    ) -> StudyResult:
        """A result from the seeds' matrices (the means and intervals computed here); ``details`` fill the rest.

        Args:
            methods: the ``M`` names of the rows and columns.
            seeds: the ``S`` seeds, in the order of ``per_seed``.
            per_seed: ``S >= 1`` win-rate matrices ``(M, M)`` under the true preferences, one per seed.
            per_seed_preference_model: the same under each seed's learned preference model; None or empty when
                the study learned none (then ``preference_model`` is None too).
            **details: the remaining fields (``parameters``, ``config``, ``resolved_config``,
                ``training_seconds_per_seed``, ``wall_time_s``).

        Returns:
            The :class:`StudyResult`, ``win_rates`` (and ``preference_model``) from
            :meth:`IntervalMatrix.over_seeds`.
        """
        learned = per_seed_preference_model or None
        return cls(
            methods,
            seeds,
            per_seed,
            IntervalMatrix.over_seeds(per_seed),
            learned,
            None if learned is None else IntervalMatrix.over_seeds(learned),
            **details,
        )

    @property
    def training_seconds(self) -> float:
        """Total compute time of the seeds."""
        return sum(self.training_seconds_per_seed.values())

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``study.json`` (matrices as nested lists)."""
        pm = self.preference_model
        learned = self.per_seed_preference_model
        return {
            "methods": self.methods,
            "win_rates": self.win_rates.mean.tolist(),
            "win_rates_ci_low": self.win_rates.low.tolist(),
            "win_rates_ci_high": self.win_rates.high.tolist(),
            "win_rates_preference_model": None if pm is None else pm.mean.tolist(),
            "win_rates_preference_model_ci_low": None if pm is None else pm.low.tolist(),
            "win_rates_preference_model_ci_high": None if pm is None else pm.high.tolist(),
            "interval": INTERVAL,
            "orientation": ORIENTATION,
            "seeds": self.seeds,
            **self.parameters,
            "per_seed": {
                str(s): {
                    "win_rates": w.tolist(),
                    "win_rates_preference_model": learned[k].tolist() if learned else None,
                }
                for k, (s, w) in enumerate(zip(self.seeds, self.per_seed, strict=True))
            },
            "config": self.config,
            "resolved_config": self.resolved_config,
            "training_seconds_per_seed": self.training_seconds_per_seed,
            "training_seconds": self.training_seconds,
            "wall_time_s": self.wall_time_s,
        }


def write_results(out: Path, result: StudyResult) -> dict[str, Any]:
    """Write ``result``'s ``study.json`` and its companion files into ``out`` (:func:`write_study_files`).

    Args:
        out: the folder to write into (created with its parents if missing; files there are replaced).
        result: the study to write.

    Returns:
        The JSON object written.
    """
    data = result.to_dict()
    write_study_files(out, data)
    return data


def write_study_files(out: Path, data: dict[str, Any]) -> None:
    """``study.json``, ``study.csv`` (the matrix), ``study_cells.csv`` (every cell with its interval and per-seed
    values), ``study.md``, ``study.svg`` and ``study.html`` (heat maps) from a ``study.json`` object.

    Both engines of ``nlhf study`` write through here, so their files share one layout.

    Args:
        out: the folder to write into (created with its parents if missing; files there are replaced).
        data: a ``study.json`` object: ``methods`` (``M`` names), the ``(M, M)`` tables ``win_rates``,
            ``win_rates_ci_low`` and ``win_rates_ci_high`` (nested lists), ``seeds``, ``per_seed`` with each
            seed's ``win_rates``, and optionally ``win_rates_preference_model`` and ``config``.
    """
    names = data["methods"]
    W, L, H = data["win_rates"], data["win_rates_ci_low"], data["win_rates_ci_high"]
    Q = data.get("win_rates_preference_model")
    seeds = [str(s) for s in data["seeds"]]
    per_seed = data.get("per_seed", {})
    atomic_write_json(out / "study.json", data)
    with open(out / "study.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row beats column", *names])
        for i, m in enumerate(names):
            w.writerow([m, *(repr(float(v)) for v in W[i])])
    with open(out / "study_cells.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["row", "column", "win_rate", "ci_low", "ci_high", "preference_model", *(f"seed_{s}" for s in seeds)]
        )
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                per = [repr(float(per_seed[s]["win_rates"][i][j])) for s in seeds]
                pm = "" if Q is None else repr(float(Q[i][j]))
                w.writerow([a, b, repr(float(W[i][j])), repr(float(L[i][j])), repr(float(H[i][j])), pm, *per])
    atomic_write_text(out / "study.md", markdown_table(data))
    atomic_write_text(out / "study.svg", study_heatmap_svg(data))
    atomic_write_text(out / "study.html", study_heatmap_html(data))


def markdown_table(result: dict[str, Any]) -> str:
    """The matrix of a ``study.json`` object as a Markdown table, cells ``mean [low, high]`` (row beats column).

    Args:
        result: a ``study.json`` object with ``methods`` (``M`` names) and the ``(M, M)`` tables ``win_rates``,
            ``win_rates_ci_low`` and ``win_rates_ci_high``.

    Returns:
        The table, ``M + 2`` lines ending in a newline: a header of the method names, then one row per method
        with ``mean`` to 3 decimals and the interval to 2 (``—`` on the diagonal).
    """
    names = result["methods"]
    W, L, H = (result[k] for k in ("win_rates", "win_rates_ci_low", "win_rates_ci_high"))
    lines = ["| row beats column | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for i, m in enumerate(names):
        cells = ["—" if i == j else f"{W[i][j]:.3f} [{L[i][j]:.2f}, {H[i][j]:.2f}]" for j in range(len(names))]
        lines.append(f"| **{m}** | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
