"""One step of policy optimization for a shard: draw prompts, sample and judge responses, and the loss.

:func:`sample_shard` draws prompts ``x ~ rho`` and the method's rollout (responses ``y ~ pi`` and the
signal ``s(x, y)``, Munos et al. 2024, Section 7) with dropout off, in generation chunks;
:func:`policy_loss` is the regularized policy-gradient surrogate of a (micro-)batch,
``-sum_t log pi(y_t|.) [s - tau sum_{s>=t} log(pi/mu)(y_s|.)]``
(:func:`~nlhf_core.policy_gradient.losses.regularized_pg_loss`), with its sampled ``KL(pi || mu)``.
"""

from __future__ import annotations

import torch
from torch import nn

from nlhf_core.llm.batches import PromptBatch, TrainingTask
from nlhf_core.llm.config import TrainingConfig
from nlhf_core.llm.methods import METHODS, Players, Rollout, join_rollouts, missing_eos
from nlhf_core.llm.optim import sampling_mode
from nlhf_core.llm.runner import Runner
from nlhf_core.llm.sampling import Batch, Warp, token_logprobs
from nlhf_core.policy_gradient.losses import regularized_pg_loss, sequence_kl_estimate


def rows_of(prompts: PromptBatch, index: slice) -> PromptBatch:
    """The prompts ``index`` of a batch (a generation chunk; the left padding of the whole batch is kept)."""
    return PromptBatch(
        prompts.contexts[index], prompts.ids[index], prompts.mask[index], prompts.texts[index],
        prompts.token_lists[index],
    )  # fmt: skip


def sample_shard(
    method: str,
    config: TrainingConfig,
    runner: Runner,
    encoded: TrainingTask,
    players: Players,
    rng: torch.Generator,
) -> tuple[PromptBatch, Rollout, torch.Tensor]:
    """A shard's prompts, their rollout (sampled in chunks of ``compute.generation_batch_size`` prompts, dropout
    off) and the training signal (less ``sampling.missing_eos_penalty`` for responses cut without EOS)."""
    runtime, sampling = runner.runtime, config.sampling
    per_shard = config.policy.batch_size // runtime.shards
    chunk = config.compute.generation_batch_size or per_shard
    prompts = encoded.draw_prompts(rng, per_shard, runtime.device)
    sampling_mode(players.policy)
    with runtime.autocast():
        if chunk >= per_shard:
            parts = [METHODS[method].rollout(prompts, players, rng)]
        else:
            parts = [
                METHODS[method].rollout(rows_of(prompts, slice(i, i + chunk)), players, rng)
                for i in range(0, per_shard, chunk)
            ]
    rollout = join_rollouts(parts, encoded.codec.pad_id)
    signal = rollout.signal
    if sampling.missing_eos_penalty > 0:
        missing = missing_eos(rollout, encoded.codec.eos_id, players.stops)
        signal = signal - sampling.missing_eos_penalty * missing.float()
    return prompts, rollout, signal


def policy_loss(
    model: nn.Module, reference: nn.Module, batch: Batch, signal: torch.Tensor, warp: Warp, tau: float
) -> tuple[torch.Tensor, float]:
    """The regularized policy-gradient surrogate of a (micro-)batch and its sampled ``KL(pi || mu)``.

    ``log pi`` is taken under the sampling law ``warp``, ``log mu`` at the same temperature.
    """
    logp = finite(token_logprobs(model, batch, warp))
    with torch.no_grad():
        ref_logp = finite(token_logprobs(reference, batch, warp.temperature_only()))
    mask = batch.response_mask.float()
    loss = regularized_pg_loss(logp, ref_logp, mask, signal, tau)
    return loss, float(sequence_kl_estimate(logp, ref_logp, mask))


def finite(logp: torch.Tensor) -> torch.Tensor:
    """``logp`` with ``-inf`` (a token outside a top-k/top-p set by a rounding difference between the cached
    sampling pass and this one) replaced by 0, so one such token cannot turn the loss into NaN."""
    return torch.where(torch.isfinite(logp), logp, torch.zeros_like(logp))
