"""A small NLHF trainer for language models (Munos et al. 2024, Section 7): SFT, preference and reward
models, Nash-MD-PG, Nash-EMA-PG, self-play and RLHF, evaluated exactly against the tabular theory on the
category task, or trained on your own prompts (``[dataset]``) and evaluated by your judge on held-out prompts.

Importing this package is light (configs and summaries); torch and ``transformers`` are imported when a
run starts. :func:`run_training` and :class:`TrainingJob` take a :class:`TrainingConfig` (or a built-in
name, a TOML path or a mapping) and give a :class:`TrainingSummary`.
"""

from nlhf_core.llm.api import TrainingJob, resolve_config, run_training
from nlhf_core.llm.config import BUILTIN, METHODS, TrainingConfig, load_config
from nlhf_core.llm.summary import TrainingSummary

__all__ = [
    "BUILTIN",
    "METHODS",
    "TrainingConfig",
    "TrainingJob",
    "TrainingSummary",
    "load_config",
    "resolve_config",
    "run_training",
]
