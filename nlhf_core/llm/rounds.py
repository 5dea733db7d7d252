"""Feedback in rounds: pairs from the SFT model, then pairs from the current NLHF policy as well.

A preference model fitted on pairs from the SFT model ``mu`` alone sees the pairs ``mu`` rarely writes
(two answers it gives 5 % each meet in 0.5 % of the pairs) too seldom to learn them, and a small
pairwise network then extrapolates them like a reward model would. A practitioner collects more
feedback where the policies go (the feedback lab's adaptive rounds, :mod:`nlhf_core.feedback.annotators`):

* round 1: ``data.pairs`` pairs from ``mu × mu`` (:func:`nlhf_core.llm.pairs.sample_pairs`);
* round ``k >= 2``: fit the preference model on every pair so far (stage ``preference-model-round-{k-1}``),
  train a self-play policy against it for ``data.explore_steps`` steps (stage
  ``self-play-explorer-round-k``, drawn in self-play's colour; self-play rests at the fitted model's
  regularized Nash ``pi*_tau``, Munos et al. 2024, Section 7), then draw ``data.pairs`` more pairs whose
  sides each come from that explorer or from ``mu`` with probability 1/2;
* the run's preference model (stage ``preference-model``) is fitted on all rounds; the reward model on all
  rounds or, with ``data.reward_pairs = "sft"``, on round 1 only (an offline reward model, as in the paper).

Every round's pairs are saved (``data/pairs-round-k.safetensors``), so a resumed run, or a study run that
starts from a copy of them, reads them back instead of training the explorers again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from nlhf_core.llm.batches import EncodedTask
from nlhf_core.llm.config import TrainingConfig
from nlhf_core.llm.judges import JudgeFn, PreferenceModelJudge
from nlhf_core.llm.pairs import pairs_path, sample_pairs
from nlhf_core.llm.runner import Runner
from nlhf_core.llm.scorers import train_preference_model

Pairs = dict[str, torch.Tensor]
#: ``explore(stage_name, judge) -> policy``: trains the explorer of one round (the trainer's self-play loop).
Explore = Callable[[str, JudgeFn], nn.Module]


@dataclass(frozen=True)
class Feedback:
    """The labelled pairs of every round, and the ones the reward model is fitted on."""

    preference_pairs: Pairs
    reward_pairs: Pairs
    rounds: int


def concat(parts: list[Pairs]) -> Pairs:
    """The rounds' pairs joined, key by key, in round order."""
    return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}


def collect_feedback(
    config: TrainingConfig, runner: Runner, encoded: EncodedTask, sft: nn.Module, explore: Explore
) -> Feedback:
    """Every round's pairs (read back when saved), training each later round's explorer when its pairs are missing.

    Args:
        config: the run's settings (``data.rounds``, ``data.pairs``, ``data.reward_pairs``).
        runner: the run (checkpoints, device).
        encoded: the tokenized task.
        sft: the SFT model ``mu``.
        explore: trains one round's explorer against a judge (see :data:`Explore`).

    Returns:
        The :class:`Feedback` (pairs on the run's device).
    """
    parts = [sample_pairs(config, runner, encoded, sft)]
    for k in range(2, config.data.rounds + 1):
        if pairs_path(runner, k).exists():
            parts.append(sample_pairs(config, runner, encoded, sft, round_index=k))
            continue
        # Fit the preference model on the rounds so far, move a self-play policy to its pi*_tau, draw from both.
        model, _ = train_preference_model(
            config, runner, encoded, concat(parts), name=f"preference-model-round-{k - 1}"
        )
        judge = PreferenceModelJudge(model, encoded.codec, runner.runtime.device)
        explorer = explore(f"self-play-explorer-round-{k}", judge)
        parts.append(sample_pairs(config, runner, encoded, sft, explorer=explorer, round_index=k))
    joined = concat(parts)
    return Feedback(joined, parts[0] if config.data.reward_pairs == "sft" else joined, len(parts))
