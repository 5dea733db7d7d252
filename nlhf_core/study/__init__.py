"""The paper's comparison (Munos et al. 2024, Section 8, Table 1): methods compared by pairwise win rates.

* :mod:`.results` — the engine-neutral result (:class:`StudyResult`), Student-t intervals over seeds and the
  writers of ``study.json`` / ``study.csv`` / ``study_cells.csv`` / ``study.md`` / ``study.svg`` / ``study.html``;
* :mod:`.tabular` — the exact tabular engine: fit the preference and reward models to ``N`` pairs from
  ``mu × mu`` (or take the infinite-data limit), deploy every method's resting point and evaluate every pair
  exactly under the true game, over seeds (no torch);
* :mod:`.curve` — the paper's findings on a table and the ``beta`` curve behind them;
* :mod:`.defaults` — the settings (the language-model study's names) and the presets' study defaults;
* :mod:`.report` — a tabular study's ``study.json``;
* :mod:`.measured` — a measured ``study.json``'s cells placed on the beta curve;
* :mod:`.language_model` — the language-model engine: every method trained per seed on shared data (torch,
  imported by ``nlhf study`` only when it runs).
"""

from nlhf_core.study.curve import BetaCurve, Findings, beta_curve, paper_findings
from nlhf_core.study.defaults import (
    PresetStudy,
    preset_overrides,
    preset_study,
    resolve_settings,
    tabular_settings_from,
)
from nlhf_core.study.measured import measured_points, study_game
from nlhf_core.study.report import study_json, write_study
from nlhf_core.study.results import (
    IntervalMatrix,
    StudyResult,
    markdown_table,
    nash_md_name,
    t_interval,
    write_results,
    write_study_files,
)
from nlhf_core.study.tabular import (
    FittedModels,
    TabularSettings,
    TabularStudyResult,
    deploy,
    evaluate,
    exact_models,
    run_tabular_study,
    sampled_models,
    tabular_settings,
)

__all__ = [
    "BetaCurve",
    "Findings",
    "FittedModels",
    "IntervalMatrix",
    "PresetStudy",
    "StudyResult",
    "TabularSettings",
    "TabularStudyResult",
    "beta_curve",
    "deploy",
    "evaluate",
    "exact_models",
    "markdown_table",
    "measured_points",
    "nash_md_name",
    "paper_findings",
    "preset_overrides",
    "preset_study",
    "resolve_settings",
    "run_tabular_study",
    "sampled_models",
    "study_game",
    "study_json",
    "t_interval",
    "tabular_settings",
    "tabular_settings_from",
    "write_results",
    "write_study",
    "write_study_files",
]
