"""A small NLHF trainer for language models (Munos et al. 2024, Section 7): SFT, preference and reward
models, Nash-MD-PG, Nash-EMA-PG, self-play and RLHF, evaluated exactly against the tabular theory.

Importing this package pulls in torch; ``transformers`` is imported when a model is built.
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
