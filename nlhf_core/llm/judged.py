"""Evaluation of the free-form task: judged win rates on held-out prompts, sampled KL, lengths, examples.

There are no true preferences over free text, so every number here is an *estimate*. Each policy
(the reference ``sft`` included) answers every held-out prompt ``x_i`` once, ``y_i ~ pi(.|x_i)``,
drawn from the generator ``(run.seed, "eval", policy)``, so all pairings share the same responses.
For policies ``a`` and ``b`` the run's judge ``J`` scores each prompt in both orders, which cancels
a judge's preference for the first (or second) position::

    p_i = ( J(x_i, y^a_i, y^b_i) + 1 - J(x_i, y^b_i, y^a_i) ) / 2,    win_rates[a][b] = mean_i p_i

with the normal 95 % interval ``mean ± 1.96 s / sqrt(n)`` (clipped to [0, 1]) and
``win_rates[b][a] = 1 - win_rates[a][b]``. The KL to the reference is the Monte-Carlo estimate
``KL(pi || mu) ≈ mean_i sum_t log(pi / mu)(y_t | x_i, y_<t)`` with ``y ~ pi`` (the quantity the
methods' ``tau`` regularizes, Munos et al. 2024, Eq. 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nlhf_core.llm.batches import PromptBatch
from nlhf_core.llm.config import TrainingConfig
from nlhf_core.llm.judges import JudgeFn, call_judge
from nlhf_core.llm.prompts import PromptTask
from nlhf_core.llm.runtime import Runtime, generator
from nlhf_core.llm.sampling import Batch, sample, token_logprobs
from nlhf_core.llm.summary import Example, ModelQuality, PairStats, StageTiming, StepRecord, TrainingSummary

#: Prompts sampled per forward pass, prompts judged at each training-time evaluation, examples reported.
CHUNK, STEP_PROMPTS, EXAMPLES = 64, 64, 3
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Samples:
    """One response per held-out prompt: token ids ``(N, T)``, their mask, and the texts."""

    responses: torch.Tensor
    mask: torch.Tensor
    texts: list[str]


def mean_interval(values: np.ndarray) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean and its normal 95 % interval ``mean ± 1.96 s / sqrt(n)``, clipped to [0, 1]."""
    mean = float(values.mean())
    half = Z95 * float(values.std(ddof=1)) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return mean, float(max(0.0, mean - half)), float(min(1.0, mean + half))


def preference_pair_stats(pairs: dict[str, torch.Tensor]) -> PairStats:
    """How many preference pairs, and how often the chosen response was shown first (no categories here)."""
    label = pairs["label"].float()
    return {"count": int(label.shape[0]), "first_wins_fraction": float(label.mean()), "category_frequencies": {}}


class JudgedEvaluator:
    """Estimates on the held-out prompts of a :class:`~nlhf_core.llm.prompts.PromptTask` (see the module docstring).

    Args:
        task: the prompts and their split.
        reference: ``mu``, the SFT model (the initial policy when there is no SFT stage).
        runtime: the device and precision.
        config: the run's settings (``run.seed``, ``task.max_new_tokens``, ``policy.tau``).
        judge: the run's judge.
    """

    def __init__(
        self, task: PromptTask, reference: nn.Module, runtime: Runtime, config: TrainingConfig, judge: JudgeFn
    ) -> None:
        self.task, self.reference, self.runtime, self.config, self.judge = task, reference, runtime, config, judge
        self.prompts = task.batch(task.eval_rows.tolist(), runtime.device)
        self.reference_samples = self.sample(reference, "sft")
        self.tau = config.policy.tau

    def _rows(self, start: int, stop: int) -> PromptBatch:
        p = self.prompts
        ids, mask = p.ids[start:stop], p.mask[start:stop]
        keep = int(mask.sum(dim=0).nonzero()[0]) if mask.any() else 0  # drop columns that are padding in every row
        return PromptBatch(p.contexts[start:stop], ids[:, keep:], mask[:, keep:], p.texts[start:stop], [])

    @torch.no_grad()
    def sample(self, model: nn.Module, name: str, count: int | None = None) -> Samples:
        """One response of ``model`` to each of the first ``count`` held-out prompts (all by default)."""
        count = len(self.prompts) if count is None else min(count, len(self.prompts))
        codec, length = self.task.codec, self.config.task.max_new_tokens
        rng = generator(self.config.run.seed, "eval", name)
        parts: list[tuple[torch.Tensor, torch.Tensor]] = []
        for start in range(0, count, CHUNK):
            rows = self._rows(start, min(count, start + CHUNK))
            with self.runtime.autocast():
                y, m = sample(
                    model, rows.ids, rows.mask, max_new_tokens=length, eos_id=codec.eos_id, pad_id=codec.pad_id,
                    generator=rng,
                )  # fmt: skip
            pad = length - y.shape[1]
            parts.append((nn.functional.pad(y, (0, pad), value=codec.pad_id), nn.functional.pad(m, (0, pad))))
        responses, mask = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
        return Samples(responses, mask, codec.decode_batch(responses))

    def judged(self, a: Samples, b: Samples) -> np.ndarray:
        """Per prompt ``(J(x, a, b) + 1 - J(x, b, a)) / 2`` (both orders)."""
        n = len(a.texts)
        texts = self.prompts.texts[:n]
        forward = call_judge(self.judge, texts, a.texts, b.texts[:n])
        backward = call_judge(self.judge, texts, b.texts[:n], a.texts)
        return (forward + 1.0 - backward) / 2.0

    @torch.no_grad()
    def log_ratios(self, model: nn.Module, samples: Samples) -> np.ndarray:
        """Per prompt ``sum_t log(pi / mu)(y_t | x, y_<t)`` for the sampled ``y``."""
        out = []
        for start in range(0, len(samples.texts), CHUNK):
            stop = min(len(samples.texts), start + CHUNK)
            rows = self._rows(start, stop)
            batch = Batch(rows.ids, rows.mask, samples.responses[start:stop], samples.mask[start:stop])
            with self.runtime.autocast():
                diff = token_logprobs(model, batch).double() - token_logprobs(self.reference, batch).double()
            out.append(diff.sum(dim=1).cpu().numpy())
        return np.concatenate(out)

    def lengths(self, samples: Samples) -> tuple[float, float]:
        """Mean tokens before EOS, and the share of responses without EOS."""
        finished = (samples.responses == self.task.codec.eos_id).any(dim=1)
        tokens = samples.mask.sum(dim=1) - finished.long()
        return float(tokens.double().mean()), float(1.0 - finished.double().mean())

    def step_metrics(self, policy: nn.Module, method: str) -> StepRecord:
        """Judged win rate against ``sft`` and sampled KL to it, on the first held-out prompts."""
        mine = self.sample(policy, method, STEP_PROMPTS)
        reference = Samples(
            self.reference_samples.responses[: len(mine.texts)],
            self.reference_samples.mask[: len(mine.texts)],
            self.reference_samples.texts[: len(mine.texts)],
        )
        return {
            "win_vs_sft": float(self.judged(mine, reference).mean()),
            "kl_to_sft": float(self.log_ratios(policy, mine).mean()),
        }

    def set_reward_model(self, reward_model: nn.Module, tau: float) -> None:
        """Nothing to precompute: free text has no answer set to score exactly."""

    def summarize(
        self,
        policies: dict[str, nn.Module],
        quality: ModelQuality,
        timing: dict[str, StageTiming],
        wall_time_s: float,
        config: TrainingConfig,
    ) -> TrainingSummary:
        """The run's summary with judged win rates (see the module docstring); ``policies`` starts with ``sft``."""
        names = list(policies)
        samples = {m: self.reference_samples if m == "sft" else self.sample(policies[m], m) for m in names}
        W: dict[str, dict[str, float]] = {a: {a: 0.5} for a in names}
        bounds: dict[str, dict[str, list[float]]] = {a: {a: [0.5, 0.5]} for a in names}
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                mean, low, high = mean_interval(self.judged(samples[a], samples[b]))
                W[a][b], W[b][a] = mean, 1.0 - mean
                bounds[a][b], bounds[b][a] = [low, high], [1.0 - high, 1.0 - low]
        kl = {m: float(self.log_ratios(policies[m], samples[m]).mean()) for m in names}
        lengths = {m: self.lengths(samples[m]) for m in names}
        examples: list[Example] = [
            {"prompt": self.prompts.texts[i], "responses": {m: samples[m].texts[i] for m in names}}
            for i in range(min(EXAMPLES, len(self.prompts)))
        ]
        methods = [m for m in names if m != "sft"]
        steps = sum(timing[m]["steps"] for m in methods if m in timing)
        secs = sum(timing[m]["seconds"] for m in methods if m in timing)
        drawn = sum(timing[m]["samples_per_s"] * timing[m]["seconds"] for m in methods if m in timing)
        return TrainingSummary(
            methods=names, labels=None, prompts=None, tau=self.tau, beta=config.policy.beta,
            judge=config.policy.judge, win_rates=W, sampled_win_rates=None,
            win_rate_vs_sft={m: W[m]["sft"] for m in names}, kl_to_regularized_nash=None, malformed_mass=None,
            answer_distributions=None, reference_distribution=None, regularized_nash=None, models=quality,
            rlhf=None, timing=timing, wall_time_s=wall_time_s, steps_per_s=steps / secs if secs > 0 else None,
            samples_per_s=drawn / secs if secs > 0 else None, device=str(self.runtime.device),
            world_size=self.runtime.world, task="prompts", eval_prompts=len(self.prompts), win_rate_intervals=bounds,
            kl_to_reference=kl, mean_response_length={m: lengths[m][0] for m in names},
            unfinished_fraction={m: lengths[m][1] for m in names}, examples=examples,
        )  # fmt: skip
