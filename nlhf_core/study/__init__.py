"""Studies of the paper's comparison (Munos et al. 2024, Section 8, Table 1) that need no training.

* :mod:`.tabular` — the tabular study: fit the preference and reward models to ``N`` pairs from
  ``mu × mu`` (or take the infinite-data limit), deploy every method's resting point and evaluate
  every pair exactly under the true game, over seeds;
* :mod:`.curve` — the paper's findings on a table and the ``beta`` curve behind them;
* :mod:`.defaults` — the settings (the language-model study's names) and the presets' study defaults;
* :mod:`.report` — ``study.json`` and its companions, in the language-model study's layout;
* :mod:`.measured` — a measured ``study.json``'s cells placed on the beta curve.

No module here imports torch.
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
from nlhf_core.study.tabular import (
    FittedModels,
    StudyResult,
    TabularSettings,
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
    "PresetStudy",
    "StudyResult",
    "TabularSettings",
    "beta_curve",
    "deploy",
    "evaluate",
    "exact_models",
    "measured_points",
    "paper_findings",
    "preset_overrides",
    "preset_study",
    "resolve_settings",
    "run_tabular_study",
    "sampled_models",
    "study_game",
    "study_json",
    "tabular_settings",
    "tabular_settings_from",
    "write_study",
]
