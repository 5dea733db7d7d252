"""The settings of the data: the labelled pairs of the category task (``[data]``) and your own data (``[dataset]``).

Sections of :class:`~nlhf_core.llm.config.TrainingConfig`, declared like every section (default, help,
constraint; :mod:`nlhf_core.llm.settings`). ``[data]`` says how many response pairs the simulated
annotators label, with what noise, in how many feedback rounds (:mod:`nlhf_core.llm.rounds`);
``[dataset]`` names your prompts, SFT and preference files (:mod:`nlhf_core.llm.dataset`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from nlhf_core.llm.settings import Interval, Options, Section, setting

POSITIVE = Interval(0, None, closed="neither")


@dataclass(frozen=True)
class DataConfig(Section):
    SECTION: ClassVar[str] = "data"
    pairs: int = setting(4096, "response pairs sampled from the SFT model and labelled", POSITIVE)
    noise: float = setting(0.0, "probability that an annotator label is flipped", Interval(0, 0.5))
    corrupt: float = setting(
        0.1,
        "fraction of sampled responses with one token replaced at random, "
        "so the judges see malformed text (which loses to every answer)",
        Interval(0, 1, closed="left"),
        "in [0, 1)",
    )
    rounds: int = setting(
        1,
        "rounds of labelled pairs: round 1 from the SFT model, each later round data.pairs more with each side "
        "drawn from the current NLHF policy (self-play against the preference model fitted so far) or the SFT "
        "model, half and half; the preference model is refitted on all rounds",
        POSITIVE,
    )
    explore_steps: int = setting(
        100, "policy steps of the self-play policy that draws each later round's pairs", POSITIVE
    )
    reward_pairs: str = setting(
        "all",
        "pairs the reward model is fitted on: all (every round) or sft (round 1, the SFT model's pairs)",
        Options(("all", "sft")),
        "all or sft",
    )


@dataclass(frozen=True)
class DatasetConfig(Section):
    """Your own data (the free-form task): prompts, and optional SFT and preference data."""

    SECTION: ClassVar[str] = "dataset"
    prompts: str = setting(
        "",
        "prompts to train on ('' = the category task of [task]): a .jsonl file of {\"prompt\": ...} or "
        '{"messages": [...]}, a .parquet/.arrow file or a Hugging Face datasets directory (save_to_disk)',
    )
    sft: str = setting("", 'SFT data, {"prompt", "response"} records (\'\' = no SFT stage unless the task has one)')
    pairs: str = setting(
        "",
        'preference data, {"prompt", "chosen", "rejected"} records, for the preference and reward models',
    )
    eval_fraction: float = setting(
        0.1,
        "fraction of the prompts held out for evaluation (drawn by run.seed)",
        Interval(0, 1, closed="neither"),
        "in (0, 1)",
    )
    eval_max: int = setting(256, "at most this many held-out prompts are evaluated", POSITIVE)
    chat_template: str = setting(
        "auto",
        "auto: prompts go through the tokenizer's chat template when it has one (else BOS + text); off: BOS + text",
        Options(("auto", "off")),
    )
