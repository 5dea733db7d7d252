"""What a run reports: the typed ``summary.json`` and the metrics records of ``metrics.jsonl``.

No torch here, so front ends can read finished runs cheaply. :class:`TrainingSummary` is written by
:meth:`TrainingSummary.to_json` with the keys in the order below and read back by
:meth:`TrainingSummary.from_dict`.

* The category task: win rates are exact under the true preferences,
  ``win_rates[a][b] = P(a ≻ b) = sum_x rho(x) a_x^T P_ext(x) b_x`` with ``W + W^T = 1`` (Munos et al.
  2024, Section 2, with the malformed category added); distributions are per prompt and per answer label.
* The free-form task (your own prompts, ``task = "prompts"``): ``win_rates`` under the same keys are
  *estimates*, the run's judge on sampled responses to held-out prompts, with 95 % intervals
  (``win_rate_intervals``), a sampled KL to the reference, response lengths and examples; the
  category-only keys are absent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any, TypedDict

#: ``{prompt: {label: probability}}``.
ByPrompt = dict[str, dict[str, float]]
#: ``{row method: {column method: value}}``.
Matrix = dict[str, dict[str, float]]


class StageTiming(TypedDict):
    """Wall-clock cost of one stage (as run in the process that finished it)."""

    steps: int
    seconds: float
    steps_per_s: float
    samples_per_s: float


class PairStats(TypedDict):
    """The labelled pairs: how many, how often the first response won, and the answer categories sampled."""

    count: int
    first_wins_fraction: float
    category_frequencies: dict[str, float]


class ScorerQuality(TypedDict):
    """Held-out quality of the preference model or the reward model on the 10 % of pairs kept aside."""

    held_out_pairs: int
    held_out_accuracy: float
    held_out_log_likelihood: float
    mean_abs_error_vs_true_preference: float


class ModelQuality(TypedDict, total=False):
    """What was learned from the pairs (a key is absent when that stage did not run)."""

    pairs: PairStats
    preference_model: ScorerQuality
    reward_model: ScorerQuality


class RLHFTargets(TypedDict):
    """The reward model's rewards (centred per prompt), its KL-optimum and every policy's KL to that optimum."""

    tau: float
    rewards: ByPrompt
    reward_optimum: ByPrompt
    kl_to_reward_optimum: dict[str, float]


@dataclass
class TrainingSummary:
    """Everything ``summary.json`` holds, in its key order.

    Attributes:
        methods: ``sft`` then the trained methods, the rows and columns of every matrix.
        labels, prompts: answer labels (the last one is ``malformed``) and prompt texts.
        tau, beta, judge: the NLHF methods' KL strength, Nash-MD-PG mixture coefficient and judge.
        win_rates: exact ``P(row ≻ column)`` under the true preferences.
        sampled_win_rates: the same estimated from ``eval.sampled_pairs`` sampled responses (None when off).
        win_rate_vs_sft, kl_to_regularized_nash, malformed_mass: per method; the KL is
            ``sum_x rho(x) KL(pi*_tau(x) || pi(x))`` to the extended game's regularized Nash (Eq. 2).
        answer_distributions, reference_distribution, regularized_nash: exact distributions per prompt.
        models: held-out quality of the pairs, preference model and reward model.
        rlhf: the reward model's targets (None when RLHF was not trained; then absent from the JSON).
        timing, wall_time_s, steps_per_s, samples_per_s: cost per stage, in total and of policy optimization.
        device, world_size: where it ran.
        task: ``"prompts"`` for the free-form task (None, and absent from the JSON, for the category task).
        eval_prompts: free-form: how many held-out prompts were judged.
        win_rate_intervals: free-form: 95 % interval ``[low, high]`` of each win rate.
        kl_to_reference: free-form: sampled ``KL(pi || sft)``, the mean over held-out prompts of
            ``sum_t log(pi / sft)(y_t | x, y_<t)`` with ``y ~ pi``.
        mean_response_length, unfinished_fraction: free-form: tokens before EOS, and the share of
            responses that reached ``task.max_new_tokens`` without EOS.
        examples: free-form: a few held-out prompts with every policy's response.
    """

    methods: list[str]
    labels: list[str] | None
    prompts: list[str] | None
    tau: float
    beta: float
    judge: str
    win_rates: Matrix
    sampled_win_rates: Matrix | None
    win_rate_vs_sft: dict[str, float]
    kl_to_regularized_nash: dict[str, float] | None
    malformed_mass: dict[str, float] | None
    answer_distributions: dict[str, ByPrompt] | None
    reference_distribution: ByPrompt | None
    regularized_nash: ByPrompt | None
    models: ModelQuality
    rlhf: RLHFTargets | None
    timing: dict[str, StageTiming]
    wall_time_s: float
    steps_per_s: float | None
    samples_per_s: float | None
    device: str
    world_size: int
    task: str | None = None
    eval_prompts: int | None = None
    win_rate_intervals: dict[str, dict[str, list[float]]] | None = None
    kl_to_reference: dict[str, float] | None = None
    mean_response_length: dict[str, float] | None = None
    unfinished_fraction: dict[str, float] | None = None
    examples: list[Example] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``summary.json`` (keys that do not apply to the task, None here, left out)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        for key in OMITTED_WHEN_NONE:
            if out[key] is None:
                del out[key]
        return out

    def to_json(self) -> str:
        """``summary.json``'s text: the object indented by 2, keys in field order, and a final newline."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingSummary:
        """Read back what :meth:`to_dict` wrote (e.g. a finished run's ``summary.json``).

        Args:
            data: the parsed JSON object; keys a summary does not have are ignored, missing ones are None.

        Returns:
            The summary.
        """
        values: dict[str, Any] = {f.name: data.get(f.name) for f in fields(cls)}
        return cls(**values)


class Example(TypedDict):
    """A held-out prompt and each policy's sampled response to it."""

    prompt: str
    responses: dict[str, str]


#: Keys written only when they apply (``sampled_win_rates`` stays, as ``null`` when the sampled check is off).
OMITTED_WHEN_NONE = (
    "labels", "prompts", "kl_to_regularized_nash", "malformed_mass", "answer_distributions",
    "reference_distribution", "regularized_nash", "rlhf", "task", "eval_prompts", "win_rate_intervals",
    "kl_to_reference", "mean_response_length", "unfinished_fraction", "examples",
)  # fmt: skip


class SetupRecord(TypedDict):
    """First record of a run (``stage = "setup"``)."""

    stage: str
    step: int
    device: str
    world_size: int
    resume: bool


class ReferenceRecord(TypedDict):
    """What live views draw the policies against: ``mu`` (the SFT model) and the exact ``pi*_tau``."""

    stage: str
    step: int
    labels: list[str]
    prompts: list[str]
    reference_distribution: list[list[float]]
    regularized_nash: list[list[float]]
    tau: float


class StepRecord(TypedDict, total=False):
    """One training step of a stage: always ``stage``, ``step``, ``lr`` and ``loss``; policy stages add
    ``signal``, ``kl``, ``malformed`` and a few ``samples``, and at evaluations the exact metrics
    ``win_vs_sft``, ``kl_to_nash``, ``malformed_mass``, ``distribution`` (and ``kl_to_rm_optimum`` for RLHF)."""

    stage: str
    step: int
    lr: float
    loss: float
    signal: float
    kl: float
    malformed: float
    samples: list[list[str]]
    win_vs_sft: float
    kl_to_nash: float
    malformed_mass: float
    distribution: list[list[float]]
    kl_to_rm_optimum: float
    unfinished: float
    truncated: int
    kl_to_sft: float
