"""Exact evaluation of language-model policies against the tabular theory.

The answer distribution of a policy is computed *exactly* by teacher forcing: for prompt ``x``
and valid answer ``i`` (token sequence ``a_i`` ending in EOS), ``pi(i | x) = prod_t pi(a_{i,t} | x, a_{i,<t})``
(zero variance, one batched forward pass); the malformed category gets ``1 - sum_i pi(i | x)``.
From those ``(C, n+1)`` distributions:

* win rate ``P(A ≻ B) = sum_x rho(x) a_x^T P_ext(x) b_x`` (exact; ``W + W^T = 1``);
* ``KL(pi*_tau || pi)`` averaged over prompts, where ``pi*_tau`` is the regularized Nash of the
  extended game with the SFT model's distribution as reference (Munos et al. 2024, Eq. 2 and
  Theorem 1's direction of the KL);
* for RLHF, the reward model's KL-optimum ``pi ∝ mu exp(r / tau)`` (Section 2) restricted to the
  valid answers (``mu`` and the policy conditioned on a valid answer; malformed text is a set of
  sequences with no single reward) and ``KL(optimum || pi_valid)``.

A sampled check is added: responses drawn from two policies, categories parsed from the text and
scored with the true ``P_ext`` (``eval.sampled_pairs`` per pair of methods).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nlhf_core.baselines.bradley_terry import kl_regularized_optimum
from nlhf_core.equilibria import regularized_nash
from nlhf_core.games.metrics import kl_divergence
from nlhf_core.llm.batches import EncodedTask
from nlhf_core.llm.config import TrainingConfig
from nlhf_core.llm.runtime import Runtime, generator
from nlhf_core.llm.sampling import sample, sequence_batch, token_logprobs
from nlhf_core.llm.summary import (
    ByPrompt,
    ModelQuality,
    PairStats,
    RLHFTargets,
    StageTiming,
    StepRecord,
    TrainingSummary,
)

FLOOR = 1e-12


class Evaluator:
    """Exact answer distributions, win rates and distances to the tabular targets for one run.

    Args:
        encoded: the task and its tokenizer.
        reference: ``mu``, the SFT model.
        runtime: the device and precision to evaluate on.
        tau: the NLHF methods' KL strength (of the regularized Nash target).
    """

    def __init__(self, encoded: EncodedTask, reference: nn.Module, runtime: Runtime, tau: float) -> None:
        self.encoded, self.task, self.runtime = encoded, encoded.task, runtime
        C, n = len(self.task.prompts), self.task.n
        self.batch = sequence_batch(
            [encoded.prompt_ids[c] for c in range(C) for _ in range(n)],
            [encoded.answer_ids[i] for _ in range(C) for i in range(n)],
            encoded.codec.pad_id,
            runtime.device,
        )
        self.rho = self.task.weights
        self.mu = self.distribution(reference)
        self.tau = tau
        self.nash = regularized_nash(self.task.extended_game(), tau, reference=self.mu).policy.reshape(C, n + 1)
        self.rewards: np.ndarray | None = None
        self.rm_optimum: np.ndarray | None = None
        self.rlhf_tau: float | None = None

    @torch.no_grad()
    def distribution(self, model: nn.Module) -> np.ndarray:
        """``(C, n+1)`` exact answer-category distribution (last column: malformed)."""
        C, n = len(self.task.prompts), self.task.n
        with self.runtime.autocast():
            lp = token_logprobs(model, self.batch).double().sum(dim=1)
        p = torch.exp(lp).reshape(C, n).cpu().numpy()
        out = np.concatenate([p, np.maximum(1.0 - p.sum(axis=1, keepdims=True), FLOOR)], axis=1)
        return out / out.sum(axis=1, keepdims=True)

    def kl_to_nash(self, d: np.ndarray) -> float:
        """``sum_x rho(x) KL(pi*_tau(x) || d(x))``."""
        return float(self.rho @ kl_divergence(self.nash, d))

    def _valid(self, d: np.ndarray) -> np.ndarray:
        v = d[:, : self.task.n]
        return v / v.sum(axis=1, keepdims=True)

    @torch.no_grad()
    def set_reward_model(self, reward_model: nn.Module, tau: float) -> None:
        """Rewards of every valid answer and the RLHF target ``pi ∝ mu_valid exp(r / tau)`` (``tau = rlhf.tau``)."""
        n = self.task.n
        prompts = [self.encoded.prompt_ids[c] for c in range(len(self.task.prompts)) for _ in range(n)]
        with self.runtime.autocast():
            r = reward_model(prompts, self.batch.responses, self.batch.response_mask).float().cpu().numpy()
        self.rewards = r.reshape(-1, n).astype(float)
        self.rewards -= self.rewards.mean(axis=1, keepdims=True)
        self.rlhf_tau = tau
        self.rm_optimum = kl_regularized_optimum(self.rewards, tau, self._valid(self.mu))

    def kl_to_rm_optimum(self, d: np.ndarray) -> float:
        """``sum_x rho(x) KL(optimum(x) || d_valid(x))`` to the reward model's KL-optimum (``set_reward_model``)."""
        assert self.rm_optimum is not None, "call set_reward_model first"
        return float(self.rho @ kl_divergence(self.rm_optimum, self._valid(d)))

    def step_metrics(self, policy: nn.Module, method: str) -> StepRecord:
        """Exact true metrics of ``policy`` (floats) and its answer distribution per prompt (a nested list)."""
        d = self.distribution(policy)
        out: StepRecord = {
            "win_vs_sft": self.task.win_rate(d, self.mu),
            "kl_to_nash": self.kl_to_nash(d),
            "malformed_mass": float(self.rho @ d[:, -1]),
            "distribution": d.tolist(),  # (prompts, answers + malformed): the LM lab draws it on the simplex
        }
        if method == "rlhf" and self.rm_optimum is not None:
            out["kl_to_rm_optimum"] = self.kl_to_rm_optimum(d)
        return out

    def pair_stats(self, pairs: dict[str, torch.Tensor]) -> PairStats:
        """How many labelled pairs, how often the first response won, and the categories sampled."""
        n, decode = self.task.n, self.encoded.codec.decode_batch
        cats = [self.task.parse(s) for key in ("ya", "yb") for s in decode(pairs[key])]
        freq = np.bincount(cats, minlength=n + 1) / len(cats)
        return {
            "count": int(pairs["label"].shape[0]),
            "first_wins_fraction": float(pairs["label"].float().mean()),
            "category_frequencies": dict(zip(self.task.labels_ext, map(float, freq), strict=True)),
        }

    def _by_prompt(self, d: np.ndarray, labels: tuple[str, ...] | None = None) -> ByPrompt:
        labels = labels or self.task.labels_ext
        return {x: dict(zip(labels, map(float, row), strict=True)) for x, row in zip(self.task.prompts, d, strict=True)}

    @torch.no_grad()
    def sampled_win_rate(
        self, a: nn.Module, b: nn.Module, key: tuple[str, str], size: int, seed: int, max_new_tokens: int
    ) -> float:
        """Mean true ``P_ext(cat(y) ≻ cat(y'))`` over ``size`` prompts with ``y ~ a``, ``y' ~ b``."""
        rng = generator(seed, "eval", *key)
        contexts = self.encoded.draw_contexts(rng, size)
        prompts = self.encoded.prompts(contexts, self.runtime.device)
        codec = self.encoded.codec
        with self.runtime.autocast():
            ya, yb = (
                sample(
                    model, prompts.ids, prompts.mask, max_new_tokens=max_new_tokens, eos_id=codec.eos_id,
                    pad_id=codec.pad_id, generator=rng,
                )[0]
                for model in (a, b)
            )  # fmt: skip
        P = self.task.extended_matrices()
        first = [self.task.parse(s) for s in codec.decode_batch(ya)]
        second = [self.task.parse(s) for s in codec.decode_batch(yb)]
        return float(P[contexts, first, second].mean())

    def summarize(
        self,
        policies: dict[str, nn.Module],
        quality: ModelQuality,
        timing: dict[str, StageTiming],
        wall_time_s: float,
        config: TrainingConfig,
    ) -> TrainingSummary:
        """The run's :class:`~nlhf_core.llm.summary.TrainingSummary` (``policies`` starts with ``sft``)."""
        names = list(policies)
        dists = {m: self.distribution(policies[m]) for m in names}
        W = {a: {b: self.task.win_rate(dists[a], dists[b]) for b in names} for a in names}
        for a in names:  # exact complementarity despite rounding: W + W^T = 1
            for b in names:
                if a < b:
                    W[b][a] = 1.0 - W[a][b]
            W[a][a] = 0.5
        size = config.eval.sampled_pairs
        sampled: dict[str, dict[str, float]] = {a: {a: 0.5} for a in names}
        if size > 0:
            for i, a in enumerate(names):
                for b in names[i + 1 :]:
                    w = self.sampled_win_rate(
                        policies[a], policies[b], (a, b), size, config.run.seed, config.task.max_new_tokens
                    )
                    sampled[a][b], sampled[b][a] = w, 1.0 - w
        methods = [m for m in names if m != "sft"]
        policy_steps = sum(timing[m]["steps"] for m in methods if m in timing)
        policy_secs = sum(timing[m]["seconds"] for m in methods if m in timing)
        policy_samples = sum(timing[m]["samples_per_s"] * timing[m]["seconds"] for m in methods if m in timing)
        return TrainingSummary(
            methods=names,
            labels=list(self.task.labels_ext),
            prompts=list(self.task.prompts),
            tau=self.tau,
            beta=config.policy.beta,
            judge=config.policy.judge,
            win_rates=W,
            sampled_win_rates=sampled if size > 0 else None,
            win_rate_vs_sft={m: W[m]["sft"] for m in names},
            kl_to_regularized_nash={m: self.kl_to_nash(dists[m]) for m in names},
            malformed_mass={m: float(self.rho @ dists[m][:, -1]) for m in names},
            answer_distributions={m: self._by_prompt(dists[m]) for m in names},
            reference_distribution=self._by_prompt(self.mu),
            regularized_nash=self._by_prompt(self.nash),
            models=quality,
            rlhf=self._rlhf_targets(dists),
            timing=timing,
            wall_time_s=wall_time_s,
            steps_per_s=policy_steps / policy_secs if policy_secs > 0 else None,
            samples_per_s=policy_samples / policy_secs if policy_secs > 0 else None,
            device=str(self.runtime.device),
            world_size=self.runtime.world,
        )

    def _rlhf_targets(self, dists: dict[str, np.ndarray]) -> RLHFTargets | None:
        if self.rewards is None or self.rm_optimum is None or self.rlhf_tau is None:
            return None
        labels = self.task.game.labels
        targets: RLHFTargets = {
            "tau": self.rlhf_tau,
            "rewards": self._by_prompt(self.rewards, labels),
            "reward_optimum": self._by_prompt(self.rm_optimum, labels),
            "kl_to_reward_optimum": {m: self.kl_to_rm_optimum(dists[m]) for m in dists},
        }
        return targets
