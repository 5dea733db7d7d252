"""The paper's three findings read off a table, and the beta curve that explains them.

Munos et al. (2024, Table 1) report that (a) Nash-MD-PG with a middle mixture coefficient beats
RLHF (0.598 at ``beta = 0.125``), (b) self-play only ties RLHF (0.489) while the win rate against
RLHF rises and then falls as ``beta`` grows, the best response (``beta = 1``) losing to RLHF, and
(c) every method beats SFT. :func:`paper_findings` checks those statements on any win-rate table;
:func:`beta_curve` traces ``P(Nash-MD-PG(beta) ≻ RLHF)`` and ``P(Nash-MD-PG(beta) ≻ self-play)`` for
``beta`` from 0 (self-play's ``pi*_tau``) to 1 (the best response to ``mu``), exactly and per seed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nlhf_core.errors import ParameterError
from nlhf_core.policy_gradient.resting_point import check_beta
from nlhf_core.study.results import nash_md_name
from nlhf_core.study.tabular import TabularSettings, run_tabular_study

#: (a): a middle beta must beat RLHF at least this often.
WIN_THRESHOLD = 0.55
#: (b): self-play must be within this of a tie with RLHF.
TIE_BAND = 0.03


@dataclass(frozen=True)
class Findings:
    """The paper's findings on one table (win rates of row vs column).

    ``curve`` is ``P(· ≻ RLHF)`` along ``curve_betas`` (self-play first, as ``beta = 0``, then each
    Nash-MD-PG ``beta > 0`` in increasing order, ending with the best response ``beta = 1``).
    """

    curve_betas: tuple[float, ...]
    curve: tuple[float, ...]
    best_middle_beta: float
    best_middle_vs_rlhf: float
    self_play_vs_rlhf: float
    best_response_vs_rlhf: float
    rises_then_falls: bool
    worst_vs_sft: float
    a: bool
    b: bool
    c: bool

    @property
    def all(self) -> bool:
        return self.a and self.b and self.c


def paper_findings(table: np.ndarray, methods: Sequence[str], betas: Sequence[float]) -> Findings:
    """Check (a) ``max_{0<beta<1} W[beta, rlhf] >= 0.55``, (b) ``|W[self-play, rlhf] - 1/2| <= 0.03``, the curve
    strictly rising to an interior peak then strictly falling, ``W[beta=1, rlhf] < 1/2``, and (c) ``W[m, sft] > 1/2``
    for every method ``m`` (``table[i][j] = P(methods[i] ≻ methods[j])``; ``betas`` must include 1).

    The findings are Munos et al. (2024, Section 8, Table 1); the thresholds are :data:`WIN_THRESHOLD`
    and :data:`TIE_BAND`.

    Args:
        table: ``(M, M)`` win rates, ``table[i][j] = P(methods[i] ≻ methods[j])`` (the exact table or one
            seed's, e.g. ``TabularStudyResult.exact`` or ``TabularStudyResult.per_seed[k]``).
        methods: the ``M`` row/column names; they must include ``sft``, ``rlhf``, ``self-play`` and
            ``nash-md-pg(beta=B)`` (:func:`nash_md_name`) for every ``B > 0`` of ``betas``.
        betas: the study's mixture coefficients, 1 (the best response to ``mu``) among them; those ``<= 0``
            are ignored (self-play stands for ``beta = 0``).

    Returns:
        The :class:`Findings`: the curve ``P(· ≻ RLHF)`` along ``(0, *sorted positive betas)``, the best
        middle ``beta`` (``0 < beta < 1``; NaN when there is none, which fails (a)) and its win rate, self-play's
        and the best response's win rate against RLHF, whether the curve rises then falls, the worst win rate
        against SFT, and the verdicts ``a``, ``b``, ``c``.

    Raises:
        KeyError: ``methods`` lacks one of the names above (a programming error, not user input).
    """
    W = np.asarray(table, dtype=float)
    row = {m: i for i, m in enumerate(methods)}
    rlhf, sft = row["rlhf"], row["sft"]
    positive = sorted(b for b in betas if b > 0)
    curve_betas = (0.0, *positive)
    curve = np.array([W[row["self-play"], rlhf], *(W[row[nash_md_name(b)], rlhf] for b in positive)])
    middle = [(W[row[nash_md_name(b)], rlhf], b) for b in positive if b < 1]
    best_value, best_beta = max(middle) if middle else (float("nan"), float("nan"))
    peak = int(np.argmax(curve))
    steps = np.diff(curve)
    unimodal = 0 < peak < len(curve) - 1 and bool(np.all(steps[:peak] > 0) and np.all(steps[peak:] < 0))
    self_play, best_response = float(curve[0]), float(W[row[nash_md_name(1.0)], rlhf])
    worst = float(min(W[i, sft] for m, i in row.items() if m != "sft"))
    return Findings(
        curve_betas=tuple(float(b) for b in curve_betas),
        curve=tuple(float(v) for v in curve),
        best_middle_beta=float(best_beta),
        best_middle_vs_rlhf=float(best_value),
        self_play_vs_rlhf=self_play,
        best_response_vs_rlhf=best_response,
        rises_then_falls=unimodal,
        worst_vs_sft=worst,
        a=bool(best_value >= WIN_THRESHOLD),
        b=bool(abs(self_play - 0.5) <= TIE_BAND and unimodal and best_response < 0.5),
        c=bool(worst > 0.5),
    )


@dataclass(frozen=True)
class BetaCurve:
    """Nash-MD-PG's win rate against RLHF and against self-play as ``beta`` runs over ``betas``.

    ``exact_*`` have shape ``(G,)`` (infinite data); ``seeds_*`` have shape ``(S, G)`` (one row per seed,
    ``S = 0`` when the study is exact). ``betas[0] = 0`` is self-play's ``pi*_tau`` itself.
    """

    betas: np.ndarray
    exact_vs_rlhf: np.ndarray
    exact_vs_self_play: np.ndarray
    seeds_vs_rlhf: np.ndarray
    seeds_vs_self_play: np.ndarray

    def band(self, which: str = "rlhf", lower: float = 10.0, upper: float = 90.0) -> tuple[np.ndarray, np.ndarray]:
        """Percentiles over seeds of the curve against ``"rlhf"`` or ``"self-play"`` (``(G,)`` each).

        Args:
            which: ``"rlhf"`` for the curve against RLHF; any other value gives the curve against self-play.
            lower: the lower percentile, in ``[0, 100]``.
            upper: the upper percentile, in ``[0, 100]``.

        Returns:
            ``(low, high)``, each of shape ``(G,)``: the ``lower`` and ``upper`` percentiles of the ``S`` seeds'
            win rates at each ``beta``.

        Raises:
            ParameterError: an exact study (no labelled pairs, so no seeds) has no band.
        """
        values = self.seeds_vs_rlhf if which == "rlhf" else self.seeds_vs_self_play
        if len(values) == 0:
            raise ParameterError(
                "An exact study (0 labelled pairs) has no finite-data band; give data.pairs > 0 for one."
            )
        return np.percentile(values, lower, axis=0), np.percentile(values, upper, axis=0)


def beta_curve(settings: TabularSettings, grid: Sequence[float] | None = None) -> BetaCurve:
    """Run the study with ``beta`` on ``grid`` (default ``0, 0.05, ..., 1``) and read both curves off it.

    Nash-MD-PG with mixture ``beta`` rests at ``BR_tau(pi*_{tau/(1-beta)})`` of the fitted preference
    model (Munos et al. 2024, Section 7); ``beta = 0`` is self-play's ``pi*_tau`` and ``beta = 1`` the best
    response to ``mu``.

    Args:
        settings: the study's settings; its ``betas`` are replaced by the grid (every other setting kept).
        grid: the ``beta`` values, each in ``[0, 1]`` (0 and 1 are always added; duplicates are merged and the
            values sorted), or None for the 21 values ``0, 0.05, ..., 1``.

    Returns:
        The :class:`BetaCurve` over the ``G`` sorted distinct betas: exact curves ``(G,)`` and per-seed curves
        ``(S, G)`` against RLHF and against self-play (``S = len(settings.seeds)``, 0 when ``pairs = 0``).

    Raises:
        ParameterError: a ``beta`` of ``grid`` is not a number in ``[0, 1]``.
        SolverError: only if a regularized Nash of a fitted model cannot be certified (not expected for a valid
            game; see :func:`run_tabular_study`).
    """
    values = np.linspace(0.0, 1.0, 21) if grid is None else np.asarray(grid, dtype=float)
    betas = tuple(sorted({check_beta(b) for b in values} | {0.0, 1.0}))
    result = run_tabular_study(dataclasses.replace(settings, betas=betas))
    rows = [result.index(nash_md_name(b)) for b in betas]
    rlhf, self_play = result.index("rlhf"), result.index("self-play")
    return BetaCurve(
        betas=np.array(betas),
        exact_vs_rlhf=result.exact[rows, rlhf],
        exact_vs_self_play=result.exact[rows, self_play],
        seeds_vs_rlhf=result.per_seed[:, rows, rlhf],
        seeds_vs_self_play=result.per_seed[:, rows, self_play],
    )
