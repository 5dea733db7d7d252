"""The ``preference-model`` and ``reward-model`` stages: two judges learned from the same labelled pairs.

Both fit ``P(label = 1) = sigmoid(z)`` by binary cross-entropy on the first 90 % of the pairs and
report their quality on the last 10 %:

* preference model: ``z = f(x, y, y') - f(x, y', y)`` (:class:`~nlhf_core.llm.models.PreferenceModel`,
  antisymmetric by construction), the judge of the NLHF methods;
* reward model: ``z = r(x, y) - r(x, y')``, i.e. the Bradley–Terry loss ``-log sigmoid(r(y_w) - r(y_l))``
  (:class:`~nlhf_core.llm.models.RewardModel`), the signal of RLHF.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch
from torch import nn

from nlhf_core.llm.batches import TokenizedPrompts
from nlhf_core.llm.config import PreferenceModelConfig, RewardModelConfig, TrainingConfig
from nlhf_core.llm.models import PreferenceModel, RewardModel
from nlhf_core.llm.runner import Runner
from nlhf_core.llm.runtime import generator, init_seed
from nlhf_core.llm.summary import ScorerQuality

#: Fraction of the pairs held out to measure the judges.
HELD_OUT = 0.1

Pairs = dict[str, torch.Tensor]
Scorer = TypeVar("Scorer", PreferenceModel, RewardModel)
PairLogits = Callable[[nn.Module, list[list[int]], Pairs, torch.Tensor], torch.Tensor]


def preference_logits(model: nn.Module, prompts: list[list[int]], pairs: Pairs, idx: torch.Tensor) -> torch.Tensor:
    """``f(x, y, y') - f(x, y', y)`` for the pairs ``idx``."""
    return model(prompts, pairs["ya"][idx], pairs["ma"][idx], pairs["yb"][idx], pairs["mb"][idx])


def reward_margin_logits(model: nn.Module, prompts: list[list[int]], pairs: Pairs, idx: torch.Tensor) -> torch.Tensor:
    """``r(x, y) - r(x, y')`` for the pairs ``idx`` (both sides in one batch)."""
    r = model(
        prompts + prompts,
        torch.cat([pairs["ya"][idx], pairs["yb"][idx]]),
        torch.cat([pairs["ma"][idx], pairs["mb"][idx]]),
    )
    return r[: len(prompts)] - r[len(prompts) :]


def train_preference_model(
    config: TrainingConfig,
    runner: Runner,
    encoded: TokenizedPrompts,
    pairs: Pairs,
    name: str = "preference-model",
) -> tuple[PreferenceModel, ScorerQuality]:
    """The trained preference model and its held-out quality (stage ``name``; earlier rounds use their own)."""
    section = config.preference_model
    return _fit(name, PreferenceModel, section, preference_logits, config, runner, encoded, pairs)


def train_reward_model(
    config: TrainingConfig, runner: Runner, encoded: TokenizedPrompts, pairs: Pairs
) -> tuple[RewardModel, ScorerQuality]:
    """The trained reward model (the preference model's size) and its held-out quality."""
    return _fit("reward-model", RewardModel, config.reward_model, reward_margin_logits, config, runner, encoded, pairs)


def _fit(
    name: str,
    model_class: type[Scorer],
    section: PreferenceModelConfig | RewardModelConfig,
    logits: PairLogits,
    config: TrainingConfig,
    runner: Runner,
    encoded: TokenizedPrompts,
    pairs: Pairs,
) -> tuple[Scorer, ScorerQuality]:
    """Train ``model_class`` on the pairs as stage ``name`` (one loop: sample, loss, step, log and checkpoint)."""
    runtime, codec, size = runner.runtime, encoded.codec, config.preference_model
    torch.manual_seed(init_seed(config.run.seed, name))
    model = model_class(codec.vocab_size, size.n_layer, size.n_embd, codec.eos_id, codec.pad_id).to(runtime.device)
    count = pairs["label"].shape[0]
    n_train = count - max(1, round(HELD_OUT * count))
    per_shard = section.batch_size // runtime.shards

    def prompts_of(idx: torch.Tensor) -> list[list[int]]:
        return [encoded.prompt_ids[int(c)] for c in pairs["context"][idx]]

    stage = runner.stage(name, model, steps=section.steps, lr=section.lr)
    if stage.done is None:
        for step in stage.steps():
            lr = stage.start_step()
            total = 0.0
            for shard, sync in runner.shards(stage.model):
                # Sample: a minibatch of training pairs, uniformly with replacement.
                rng = generator(config.run.seed, name, step, shard)
                idx = torch.randint(0, n_train, (per_shard,), generator=rng).to(runtime.device)
                # Loss: cross-entropy of sigmoid(z) against the labels, scaled so the update is the mean over shards.
                with sync, runtime.autocast():
                    z = logits(stage.model, prompts_of(idx), pairs, idx)
                    loss = nn.functional.binary_cross_entropy_with_logits(z.float(), pairs["label"][idx])
                    (loss * runner.shard_loss_scale).backward()
                total += loss.item() / len(runner.local_shards)
            # Step, then log and checkpoint.
            stage.optimizer_step()
            stage.end_step(step, {"stage": name, "step": step + 1, "lr": lr, "loss": total})
        stage.finish(samples_per_step=section.batch_size)
    trained = stage.trained  # under FSDP, the model rebuilt whole from its shards
    assert isinstance(trained, model_class)
    model = trained
    model.eval()
    return model, _held_out_quality(model, logits, prompts_of, pairs, n_train, runner)


@torch.no_grad()
def _held_out_quality(
    model: nn.Module,
    logits: PairLogits,
    prompts_of: Callable[[torch.Tensor], list[list[int]]],
    pairs: Pairs,
    n_train: int,
    runner: Runner,
) -> ScorerQuality:
    """Accuracy, log-likelihood of the labels and ``mean |P - P_true|`` on the held-out pairs."""
    count = pairs["label"].shape[0]
    with runner.runtime.autocast():
        held = torch.arange(n_train, count, device=runner.runtime.device)
        prob = torch.sigmoid(logits(model, prompts_of(held), pairs, held).float())
    label, truth = pairs["label"][held], pairs["p_true"][held]
    log_likelihood = label * torch.log(prob.clamp_min(1e-9)) + (1 - label) * torch.log((1 - prob).clamp_min(1e-9))
    return {
        "held_out_pairs": int(count - n_train),
        "held_out_accuracy": float(((prob > 0.5).float() == label).float().mean()),
        "held_out_log_likelihood": float(log_likelihood.mean()),
        "mean_abs_error_vs_true_preference": float((prob - truth).abs().mean()),
    }
