"""Simulated human feedback: annotator populations, sampled comparisons, the preference and reward models
fitted to them, and the pipeline dataset → model → policy → true evaluation.
"""

from nlhf_core.feedback.annotators import (
    MAX_COMPARISONS,
    AnnotatorGroup,
    AnnotatorPopulation,
    ComparisonDataset,
    condorcet_population,
    simulate_comparisons,
)
from nlhf_core.feedback.models import (
    PreferenceModelFit,
    RewardModelFit,
    fit_preference_model,
    fit_reward_model,
    held_out_log_likelihood,
)
from nlhf_core.feedback.pipeline import (
    OnlineRun,
    PipelineCurves,
    PipelineResult,
    SamplingEffect,
    nash_of,
    online_nash_md,
    pipeline_curves,
    run_pipeline,
    sampling_effect,
)

__all__ = [
    "MAX_COMPARISONS",
    "AnnotatorGroup",
    "AnnotatorPopulation",
    "ComparisonDataset",
    "OnlineRun",
    "PipelineCurves",
    "PipelineResult",
    "PreferenceModelFit",
    "RewardModelFit",
    "SamplingEffect",
    "condorcet_population",
    "fit_preference_model",
    "fit_reward_model",
    "held_out_log_likelihood",
    "nash_of",
    "online_nash_md",
    "pipeline_curves",
    "run_pipeline",
    "sampling_effect",
    "simulate_comparisons",
]
