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

from typing import Any

import numpy as np
import torch
from torch import nn

from nlhf_core.baselines.bradley_terry import kl_regularized_optimum
from nlhf_core.equilibria import regularized_nash
from nlhf_core.llm.runtime import generator
from nlhf_core.llm.sampling import sample, sequence_batch, token_logprobs

FLOOR = 1e-12


def _kl(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row-wise ``KL(p || q)`` with ``0 log 0 = 0``."""
    p = np.asarray(p, dtype=float)
    q = np.maximum(np.asarray(q, dtype=float), FLOOR)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(np.maximum(p, FLOOR)) - np.log(q)), 0.0)
    return terms.sum(axis=-1)


class Evaluator:
    """Exact answer distributions, win rates and distances to the tabular targets for one run."""

    def __init__(self, trainer: Any, reference: nn.Module) -> None:
        self.t = trainer
        task = trainer.task
        C, n = len(task.prompts), task.n
        self.batch = sequence_batch(
            [trainer.prompt_ids[c] for c in range(C) for _ in range(n)],
            [trainer.answer_ids[i] for _ in range(C) for i in range(n)],
            trainer.codec.pad_id,
            trainer.rt.device,
        )
        self.rho = task.weights
        self.mu = self.distribution(reference)
        self.tau = trainer.cfg["policy"]["tau"]
        self.nash = regularized_nash(task.extended_game(), self.tau, reference=self.mu).policy.reshape(C, n + 1)
        self.rewards: np.ndarray | None = None
        self.rm_optimum: np.ndarray | None = None

    @torch.no_grad()
    def distribution(self, model: nn.Module) -> np.ndarray:
        """``(C, n+1)`` exact answer-category distribution (last column: malformed)."""
        task = self.t.task
        C, n = len(task.prompts), task.n
        with self.t.rt.autocast():
            lp = token_logprobs(model, self.batch).double().sum(dim=1)
        p = torch.exp(lp).reshape(C, n).cpu().numpy()
        out = np.concatenate([p, np.maximum(1.0 - p.sum(axis=1, keepdims=True), FLOOR)], axis=1)
        return out / out.sum(axis=1, keepdims=True)

    def kl_to_nash(self, d: np.ndarray) -> float:
        return float(self.rho @ _kl(self.nash, d))

    def _valid(self, d: np.ndarray) -> np.ndarray:
        v = d[:, : self.t.task.n]
        return v / v.sum(axis=1, keepdims=True)

    @torch.no_grad()
    def set_reward_model(self, rm: nn.Module) -> None:
        """Rewards of every valid answer and the RLHF target ``pi ∝ mu_valid exp(r / tau_rlhf)``."""
        n = self.t.task.n
        prompts = [self.t.prompt_ids[c] for c in range(len(self.t.task.prompts)) for _ in range(n)]
        with self.t.rt.autocast():
            r = rm(prompts, self.batch.responses, self.batch.response_mask).float().cpu().numpy()
        self.rewards = r.reshape(-1, n).astype(float)
        self.rewards -= self.rewards.mean(axis=1, keepdims=True)
        self.rm_optimum = kl_regularized_optimum(self.rewards, self.t.cfg["rlhf"]["tau"], self._valid(self.mu))

    def kl_to_rm_optimum(self, d: np.ndarray) -> float:
        return float(self.rho @ _kl(self.rm_optimum, self._valid(d)))

    def step_metrics(self, policy: nn.Module, method: str) -> dict[str, Any]:
        """Exact true metrics of ``policy`` (floats) and its answer distribution per prompt (a nested list)."""
        d = self.distribution(policy)
        out = {
            "win_vs_sft": self.t.task.win_rate(d, self.mu),
            "kl_to_nash": self.kl_to_nash(d),
            "malformed_mass": float(self.rho @ d[:, -1]),
            "distribution": d.tolist(),  # (prompts, answers + malformed): the LM lab draws it on the simplex
        }
        if method == "rlhf" and self.rm_optimum is not None:
            out["kl_to_rm_optimum"] = self.kl_to_rm_optimum(d)
        return out

    def pair_stats(self, data: dict[str, torch.Tensor]) -> dict[str, Any]:
        n = self.t.task.n
        cats = [self.t.task.parse(s) for key in ("ya", "yb") for s in self.t.codec.decode_batch(data[key])]
        freq = np.bincount(cats, minlength=n + 1) / len(cats)
        return {
            "count": int(data["label"].shape[0]),
            "first_wins_fraction": float(data["label"].float().mean()),
            "category_frequencies": dict(zip(self.t.task.labels_ext, map(float, freq), strict=True)),
        }

    def _by_prompt(self, d: np.ndarray, labels: tuple[str, ...] | None = None) -> dict[str, dict[str, float]]:
        labels = labels or self.t.task.labels_ext
        return {
            x: dict(zip(labels, map(float, row), strict=True)) for x, row in zip(self.t.task.prompts, d, strict=True)
        }

    @torch.no_grad()
    def sampled_win_rate(self, a: nn.Module, b: nn.Module, key: tuple[str, str], size: int) -> float:
        """Mean true ``P_ext(cat(y) ≻ cat(y'))`` over ``size`` prompts with ``y ~ a``, ``y' ~ b``."""
        t = self.t
        g = generator(t.cfg["run"]["seed"], "eval", *key)
        ctx = t._contexts(g, size)
        p_ids, p_mask = t._prompts(ctx)
        kw = {
            "max_new_tokens": t.cfg["task"]["max_new_tokens"],
            "eos_id": t.codec.eos_id,
            "pad_id": t.codec.pad_id,
            "generator": g,
        }
        with t.rt.autocast():
            ya, _ = sample(a, p_ids, p_mask, **kw)
            yb, _ = sample(b, p_ids, p_mask, **kw)
        P = t.task.extended_matrices()
        ca = [t.task.parse(s) for s in t.codec.decode_batch(ya)]
        cb = [t.task.parse(s) for s in t.codec.decode_batch(yb)]
        return float(P[ctx, ca, cb].mean())

    def summary(
        self,
        policies: dict[str, nn.Module],
        rm: nn.Module | None,
        quality: dict[str, Any],
        timing: dict[str, dict[str, float]],
        wall: float,
    ) -> dict[str, Any]:
        names = list(policies)
        dists = {m: self.distribution(policies[m]) for m in names}
        W = {a: {b: self.t.task.win_rate(dists[a], dists[b]) for b in names} for a in names}
        for a in names:  # exact complementarity despite rounding: W + W^T = 1
            for b in names:
                if a < b:
                    W[b][a] = 1.0 - W[a][b]
            W[a][a] = 0.5
        size = self.t.cfg["eval"]["sampled_pairs"]
        sampled: dict[str, dict[str, float]] = {a: {a: 0.5} for a in names}
        if size > 0:
            for i, a in enumerate(names):
                for b in names[i + 1 :]:
                    w = self.sampled_win_rate(policies[a], policies[b], (a, b), size)
                    sampled[a][b], sampled[b][a] = w, 1.0 - w
        methods = [m for m in names if m != "sft"]
        policy_steps = sum(timing[m]["steps"] for m in methods if m in timing)
        policy_secs = sum(timing[m]["seconds"] for m in methods if m in timing)
        policy_samples = sum(timing[m]["samples_per_s"] * timing[m]["seconds"] for m in methods if m in timing)
        out: dict[str, Any] = {
            "methods": names,
            "labels": list(self.t.task.labels_ext),
            "prompts": list(self.t.task.prompts),
            "tau": self.tau,
            "beta": self.t.cfg["policy"]["beta"],
            "judge": self.t.cfg["policy"]["judge"],
            "win_rates": W,
            "sampled_win_rates": sampled if size > 0 else None,
            "win_rate_vs_sft": {m: W[m]["sft"] for m in names},
            "kl_to_regularized_nash": {m: self.kl_to_nash(dists[m]) for m in names},
            "malformed_mass": {m: float(self.rho @ dists[m][:, -1]) for m in names},
            "answer_distributions": {m: self._by_prompt(dists[m]) for m in names},
            "reference_distribution": self._by_prompt(self.mu),
            "regularized_nash": self._by_prompt(self.nash),
            "models": quality,
        }
        if self.rewards is not None:
            labels = self.t.task.game.labels
            out["rlhf"] = {
                "tau": self.t.cfg["rlhf"]["tau"],
                "rewards": self._by_prompt(self.rewards, labels),
                "reward_optimum": self._by_prompt(self.rm_optimum, labels),
                "kl_to_reward_optimum": {m: self.kl_to_rm_optimum(dists[m]) for m in names},
            }
        out.update(
            {
                "timing": timing,
                "wall_time_s": wall,
                "steps_per_s": policy_steps / policy_secs if policy_secs > 0 else None,
                "samples_per_s": policy_samples / policy_secs if policy_secs > 0 else None,
                "device": str(self.t.rt.device),
                "world_size": self.t.rt.world,
            }
        )
        return out
