"""The pipeline: SFT → sampled pairs labelled by annotators → preference and reward models → policy optimization.

Stages, each checkpointed under ``RUN/checkpoints/<stage>/`` and resumed exactly:

1. ``sft``: the policy learns the task's corpus (answers drawn from a skewed distribution per
   prompt) by maximum likelihood; it becomes the reference ``mu`` and the initialization.
2. ``pairs``: ``data.pairs`` pairs ``(y, y')`` sampled from ``mu``, labelled by the simulated
   annotators of :mod:`nlhf_core.feedback.annotators` (Bernoulli of the true ``P_ext``, with label noise); a
   fraction ``data.corrupt`` of responses gets one token replaced at random so the judges learn that
   malformed text loses (otherwise RLHF finds unseen garbage that the reward model over-scores).
3. ``preference-model`` (BCE on ``sigmoid(f(x,y,y') - f(x,y',y))``) and ``reward-model``
   (Bradley–Terry loss ``-log sigmoid(r(y_w) - r(y_l))``) on the same pairs (10 % held out).
4. One policy per method, all starting at ``mu``, trained with the paper's estimator
   :func:`nlhf_core.policy_gradient.losses.regularized_pg_loss` (Munos et al. 2024, Section 7)::

       loss gradient = -sum_t grad log pi(y_t|.) [signal - tau sum_{s>=t} log(pi/mu)(y_s|.)],  y ~ pi

   - ``nash-md-pg``: ``signal = P(y ≻ y'|x) - 1/2``, ``y'`` from the token-level mixture
     ``softmax((1-beta) logits_pi + beta logits_mu)`` (:mod:`nlhf_core.llm.sampling`);
   - ``self-play``: the same with ``beta = 0`` (``y' ~ pi``);
   - ``nash-ema-pg``: ``y'`` from the policy with EMA parameters ``theta_ema <- b theta_ema + (1-b) theta``;
   - ``rlhf``: ``signal = r(x, y) - b`` from the reward model, with ``b`` the leave-one-out mean reward of
     the other responses to the same prompt in the shard; KL strength ``rlhf.tau``, learning rate ``rlhf.lr``.

Every step draws ``run.shards`` shards of the batch, each from its own generator
``(seed, stage, step, shard)``; under ``torchrun`` rank ``r`` takes shards ``r, r + W, ...`` and
DDP averages the gradients, so any number of processes gives the same global batch and, up to
floating-point summation order, the same parameters.
"""

from __future__ import annotations

import contextlib
import copy
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nlhf_core.errors import ParameterError
from nlhf_core.feedback.annotators import AnnotatorPopulation
from nlhf_core.games.presets import open_game
from nlhf_core.llm import config as cfgmod
from nlhf_core.llm.checkpoints import latest_checkpoint, load_checkpoint, load_final, write_checkpoint, write_final
from nlhf_core.llm.evaluation import Evaluator
from nlhf_core.llm.judges import OracleJudge, PreferenceModelJudge, call_judge, import_callable
from nlhf_core.llm.models import PreferenceModel, RewardModel, build_policy, load_codec
from nlhf_core.llm.runtime import (
    Runtime,
    atomic_write_json,
    atomic_write_text,
    generator,
    rng_state,
    seed_everything,
    set_rng_state,
    setup_runtime,
    unwrap,
)
from nlhf_core.llm.sampling import Batch, left_pad, sample, sequence_batch, token_logprobs
from nlhf_core.llm.task import AnswerTask
from nlhf_core.policy_gradient.losses import regularized_pg_loss, sequence_kl_estimate

Callback = Callable[[dict[str, Any]], None]
HELD_OUT = 0.1
WARMUP = 10


class Stopped(Exception):
    """The run was asked to stop; every stage's progress is checkpointed and ``--resume`` continues it."""


class Trainer:
    """Runs the whole pipeline into ``out_dir``; see :func:`nlhf_core.llm.api.run_training`."""

    def __init__(
        self,
        config: dict[str, Any],
        out_dir: str | Path,
        *,
        resume: bool = False,
        callback: Callback | None = None,
        stop_event: threading.Event | None = None,
        progress: bool = False,
    ) -> None:
        self.cfg = cfgmod.validate(config)
        self.dir = Path(out_dir)
        self.resume = resume
        self.callback = callback
        self.stop = stop_event or threading.Event()
        self.progress = progress
        self.timing: dict[str, dict[str, float]] = {}

    # ------------------------------------------------------------------ setup
    def _prepare_dir(self) -> None:
        stored = self.dir / "config.toml"
        if stored.exists():
            if not self.resume:
                raise ParameterError(
                    f"{self.dir} already holds a run; pass --resume to continue it or choose a new --out directory."
                )
            old = cfgmod.load_config(stored)
            diff = [f"{s}.{k}" for s in old for k in old[s] if old[s][k] != self.cfg[s][k]]
            if diff:
                raise ParameterError(
                    f"The run in {self.dir} was started with different settings ({', '.join(diff)}); resume it "
                    f"with the same config or start a new --out directory."
                )
        self.rt.barrier()  # every rank has looked before rank 0 writes
        if self.rt.main:
            self.dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(stored, cfgmod.to_toml(self.cfg))
        self.rt.barrier()

    def _setup(self) -> None:
        c = self.cfg
        self.rt: Runtime = setup_runtime(c["run"])
        self._prepare_dir()
        seed_everything(c["run"]["seed"])
        self.task = AnswerTask.from_game(open_game(c["task"]["game"]), c["task"]["prompt"], c["task"]["hedges"])
        self.codec = load_codec(c["model"]["source"], self.task.words())
        self.prompt_ids = [self.codec.prompt_ids(p) for p in self.task.prompts]
        self.answer_ids = [self.codec.response_ids(a) for a in self.task.answers]
        self.rho = torch.tensor(self.task.weights, dtype=torch.float64)
        shards, world = self.rt.shards, self.rt.world
        for section in ("sft", "policy", "preference_model", "reward_model"):
            if c[section]["batch_size"] % shards:
                raise ParameterError(
                    f"Setting '{section}.batch_size' = {c[section]['batch_size']} is not a multiple of the {shards} "
                    f"data shards (one per process unless run.shards is set); make it divisible."
                )
        self.local_shards = list(range(self.rt.rank, shards, world))
        judge = c["policy"]["judge"]
        nlhf = [m for m in c["policy"]["methods"] if m != "rlhf"]
        if judge == "preference-model" and nlhf and c["preference_model"]["steps"] == 0:
            raise ParameterError(
                "policy.judge is 'preference-model' but preference_model.steps is 0; train it or use "
                "policy.judge = 'oracle'."
            )
        if "rlhf" in c["policy"]["methods"] and c["reward_model"]["steps"] == 0:
            raise ParameterError("RLHF needs a reward model but reward_model.steps is 0; train it or drop 'rlhf'.")
        self.external_judge = None
        if judge not in ("oracle", "preference-model"):
            self.external_judge = import_callable(judge)

    def log(self, record: dict[str, Any]) -> None:
        record = {k: (float(v) if isinstance(v, np.floating | torch.Tensor) else v) for k, v in record.items()}
        if self.rt.main:
            with open(self.dir / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
            if self.callback is not None:
                self.callback(record)

    def _should_stop(self) -> bool:
        flag = self.stop.is_set()
        if self.rt.distributed:
            t = torch.tensor([1.0 if flag else 0.0], device=self.rt.device)
            torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
            flag = bool(t.item() > 0)
        return flag

    # ------------------------------------------------------------------ generic loop
    def _loop(
        self,
        stage: str,
        module: nn.Module,
        section: dict[str, Any],
        step_fn: Callable[[nn.Module, int], dict[str, Any]],
        *,
        extras: dict[str, nn.Module] | None = None,
        after_step: Callable[[], None] | None = None,
        eval_fn: Callable[[], dict[str, Any]] | None = None,
        decay: bool = True,
        samples_per_step: int = 0,
    ) -> dict[str, Any]:
        """Train ``module`` for ``section['steps']`` steps with checkpoints, exact resume, stop and progress."""
        extras = extras or {}
        ck = self.dir / "checkpoints" / stage
        steps, every = section["steps"], self.cfg["run"]["checkpoint_every"]
        modules = {"model": module, **extras}
        finished = load_final(ck, modules)
        if finished is not None:
            return finished
        model: nn.Module = module
        if self.rt.distributed:
            ids = [self.rt.device.index] if self.rt.device.type == "cuda" else None
            model = nn.parallel.DistributedDataParallel(module, device_ids=ids)
        opt = torch.optim.AdamW(module.parameters(), lr=section["lr"], weight_decay=0.0)

        def schedule(s: int) -> float:
            warm = min(1.0, (s + 1) / WARMUP)
            return warm * (max(0.0, 1.0 - s / max(1, steps)) if decay else 1.0)

        sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
        start = 0
        latest = latest_checkpoint(ck) if self.resume else None
        if latest is not None:
            state = load_checkpoint(latest, modules)
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            set_rng_state(state["rng"])
            start = int(state["step"])

        def checkpoint(step: int) -> None:
            if self.rt.main:
                state = {
                    "step": step,
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "rng": rng_state(),
                }
                write_checkpoint(ck, step, modules, state)
            self.rt.barrier()

        from tqdm.auto import tqdm

        bar = tqdm(
            total=steps,
            initial=start,
            desc=stage,
            disable=not (self.progress and self.rt.main),
            file=sys.stderr,
            leave=False,
            dynamic_ncols=True,
        )
        t0, record = time.perf_counter(), {}
        for step in range(start, steps):
            module.train()
            opt.zero_grad(set_to_none=True)
            record = {"stage": stage, "step": step + 1, "lr": sched.get_last_lr()[0], **step_fn(model, step)}
            opt.step()
            sched.step()
            if after_step is not None:
                after_step()
            if eval_fn is not None and ((step + 1) % self.cfg["policy"]["eval_every"] == 0 or step + 1 == steps):
                module.eval()
                record.update(eval_fn())
            self.log(record)
            bar.update(1)
            bar.set_postfix({k: f"{v:.3g}" for k, v in record.items() if k in ("loss", "win_vs_sft", "kl_to_nash")})
            stop = self._should_stop()  # every rank takes part in the vote, every step
            if step + 1 < steps and ((step + 1) % every == 0 or stop):
                checkpoint(step + 1)
                if stop:
                    bar.close()
                    raise Stopped(f"stopped in stage {stage!r} after step {step + 1}")
        bar.close()
        seconds = time.perf_counter() - t0
        ran = steps - start
        timing = {
            "steps": ran,
            "seconds": seconds,
            "steps_per_s": ran / seconds if seconds > 0 else 0.0,
            "samples_per_s": ran * samples_per_step / seconds if seconds > 0 else 0.0,
        }
        done = {"stage": stage, "timing": timing, "final": record}
        if self.rt.main:
            write_final(ck, modules, done)
        self.rt.barrier()
        return done

    def _scale(self) -> float:
        """Per-shard loss factor: DDP averages over ranks, so ``world / shards`` gives the mean over all shards."""
        return self.rt.world / self.rt.shards

    def _sync(self, model: nn.Module, k: int) -> contextlib.AbstractContextManager:
        if self.rt.distributed and k < len(self.local_shards) - 1:
            return model.no_sync()
        return contextlib.nullcontext()

    def _contexts(self, g: torch.Generator, size: int) -> list[int]:
        return torch.multinomial(self.rho, size, replacement=True, generator=g).tolist()

    def _prompts(self, ctx: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        return left_pad([self.prompt_ids[c] for c in ctx], self.codec.pad_id, self.rt.device)

    # ------------------------------------------------------------------ stages
    def _new_policy(self) -> nn.Module:
        torch.manual_seed(cfgmod_seed(self.cfg, "policy-init"))
        return build_policy(self.cfg["model"], self.codec).to(self.rt.device)

    def _sft(self) -> nn.Module:
        c = self.cfg["sft"]
        policy = self._new_policy()
        if self.cfg["model"]["source"] != "tiny" and c["steps"] == 0:
            return policy
        dist = torch.tensor(self.task.sft_distribution(c["answer_weights"], c["skew"]))
        per = c["batch_size"] // self.rt.shards

        def step_fn(model: nn.Module, step: int) -> dict[str, float]:
            total = 0.0
            for k, shard in enumerate(self.local_shards):
                g = generator(self.cfg["run"]["seed"], "sft", step, shard)
                ctx = self._contexts(g, per)
                ans = [int(torch.multinomial(dist[x], 1, generator=g)) for x in ctx]
                batch = sequence_batch(
                    [self.prompt_ids[x] for x in ctx],
                    [self.answer_ids[a] for a in ans],
                    self.codec.pad_id,
                    self.rt.device,
                )
                with self._sync(model, k), self.rt.autocast():
                    loss = -token_logprobs(model, batch).sum(dim=1).mean()
                    (loss * self._scale()).backward()
                total += loss.item() / len(self.local_shards)
            return {"loss": total}

        self.timing["sft"] = self._loop("sft", policy, c, step_fn, samples_per_step=c["batch_size"])["timing"]
        return policy

    def _pairs(self, sft: nn.Module) -> dict[str, torch.Tensor]:
        """``data.pairs`` labelled pairs from the SFT model (computed identically on every rank, saved once)."""
        from safetensors.torch import load_file, save_file

        path = self.dir / "data" / "pairs.safetensors"
        if path.exists():
            return {k: v.to(self.rt.device) for k, v in load_file(str(path)).items()}
        N, T, chunk = self.cfg["data"]["pairs"], self.cfg["task"]["max_new_tokens"], 256
        noisy = AnnotatorPopulation.of(self.task.extended_game(), noise=self.cfg["data"]["noise"]).group_matrices()[0]
        parts: dict[str, list[torch.Tensor]] = {k: [] for k in ("context", "ya", "ma", "yb", "mb", "label", "p_true")}
        sft.eval()
        for k in range((N + chunk - 1) // chunk):
            size = min(chunk, N - k * chunk)
            g = generator(self.cfg["run"]["seed"], "pairs", k)
            ctx = self._contexts(g, size)
            p_ids, p_mask = self._prompts(ctx)
            ys = []
            for _ in range(2):
                with self.rt.autocast():
                    y, m = sample(
                        sft,
                        p_ids,
                        p_mask,
                        max_new_tokens=T,
                        eos_id=self.codec.eos_id,
                        pad_id=self.codec.pad_id,
                        generator=g,
                    )
                pad = T - y.shape[1]
                y, m = nn.functional.pad(y, (0, pad), value=self.codec.pad_id), nn.functional.pad(m, (0, pad))
                ys.append(self._corrupt(y, m, g))
            ca = [self.task.parse(t) for t in self.codec.decode_batch(ys[0][0])]
            cb = [self.task.parse(t) for t in self.codec.decode_batch(ys[1][0])]
            p = torch.tensor(noisy[ctx, ca, cb], dtype=torch.float32)
            label = (torch.rand(size, generator=g) < p).float()
            for key, v in zip(parts, (torch.tensor(ctx), *ys[0], *ys[1], label, p), strict=True):
                parts[key].append(v.cpu())
        data = {k: torch.cat(v) for k, v in parts.items()}
        if self.rt.main:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_file(data, str(path.with_name("pairs.tmp")))
            path.with_name("pairs.tmp").replace(path)
        self.rt.barrier()
        return {k: v.to(self.rt.device) for k, v in data.items()}

    def _corrupt(self, y: torch.Tensor, m: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Replace one random token of a fraction ``data.corrupt`` of the responses by a random token.

        Near misses (``maybe medium``, ``short``, a missing EOS) teach the judges that text which is
        almost an answer still loses; the mask is recomputed up to the first EOS.
        """
        B, T = y.shape
        bad = torch.rand(B, generator=g) < self.cfg["data"]["corrupt"]
        pos = (torch.rand(B, generator=g) * m.sum(dim=1).clamp(min=1).cpu()).long().clamp(max=T - 1)
        tok = torch.randint(0, self.codec.vocab_size, (B,), generator=g)
        y = y.clone()
        rows = torch.nonzero(bad).squeeze(-1)
        y[rows.to(y.device), pos[rows].to(y.device)] = tok[rows].to(y.device)
        eos = (y == self.codec.eos_id).long()
        before = eos.cumsum(dim=1) - eos  # EOS seen strictly before this position
        m = (before == 0).long()
        return torch.where(m.bool(), y, torch.full_like(y, self.codec.pad_id)), m

    def _scorer_stage(self, kind: str, data: dict[str, torch.Tensor]) -> tuple[nn.Module, dict[str, Any]]:
        """Train the preference model (``kind='preference-model'``) or the reward model on the labelled pairs."""
        section = self.cfg["preference_model" if kind == "preference-model" else "reward_model"]
        pm_cfg = self.cfg["preference_model"]
        torch.manual_seed(cfgmod_seed(self.cfg, kind))
        cls = PreferenceModel if kind == "preference-model" else RewardModel
        model = cls(self.codec.vocab_size, pm_cfg["n_layer"], pm_cfg["n_embd"], self.codec.eos_id, self.codec.pad_id)
        model = model.to(self.rt.device)
        N = data["label"].shape[0]
        n_train = N - max(1, round(HELD_OUT * N))
        per = section["batch_size"] // self.rt.shards

        def logits(m: nn.Module, idx: torch.Tensor) -> torch.Tensor:
            prompts = [self.prompt_ids[int(c)] for c in data["context"][idx]]
            if kind == "preference-model":
                return m(prompts, data["ya"][idx], data["ma"][idx], data["yb"][idx], data["mb"][idx])
            r = m(
                prompts + prompts,
                torch.cat([data["ya"][idx], data["yb"][idx]]),
                torch.cat([data["ma"][idx], data["mb"][idx]]),
            )
            return r[: len(prompts)] - r[len(prompts) :]

        def step_fn(m: nn.Module, step: int) -> dict[str, float]:
            total = 0.0
            for k, shard in enumerate(self.local_shards):
                g = generator(self.cfg["run"]["seed"], kind, step, shard)
                idx = torch.randint(0, n_train, (per,), generator=g).to(self.rt.device)
                with self._sync(m, k), self.rt.autocast():
                    z = logits(m, idx)
                    loss = nn.functional.binary_cross_entropy_with_logits(z.float(), data["label"][idx])
                    (loss * self._scale()).backward()
                total += loss.item() / len(self.local_shards)
            return {"loss": total}

        done = self._loop(kind, model, section, step_fn, samples_per_step=section["batch_size"])
        self.timing[kind] = done["timing"]
        model.eval()
        with torch.no_grad(), self.rt.autocast():
            held = torch.arange(n_train, N, device=self.rt.device)
            prob = torch.sigmoid(logits(model, held).float())
        label, truth = data["label"][held], data["p_true"][held]
        quality = {
            "held_out_pairs": int(N - n_train),
            "held_out_accuracy": float(((prob > 0.5).float() == label).float().mean()),
            "held_out_log_likelihood": float(
                (label * torch.log(prob.clamp_min(1e-9)) + (1 - label) * torch.log((1 - prob).clamp_min(1e-9))).mean()
            ),
            "mean_abs_error_vs_true_preference": float((prob - truth).abs().mean()),
        }
        return model, quality

    def _judge(self, pm: nn.Module | None) -> Callable:
        judge = self.cfg["policy"]["judge"]
        if judge == "oracle":
            return OracleJudge(self.task)
        if judge == "preference-model":
            return PreferenceModelJudge(pm, self.codec, self.rt.device)
        return self.external_judge

    def _method(
        self, method: str, sft: nn.Module, ref: nn.Module, judge: Callable, rm: nn.Module | None, evaluator: Evaluator
    ) -> nn.Module:
        p = self.cfg["policy"]
        policy = self._new_policy()
        policy.load_state_dict(sft.state_dict())
        ema = copy.deepcopy(policy).requires_grad_(False) if method == "nash-ema-pg" else None
        tau = self.cfg["rlhf"]["tau"] if method == "rlhf" else p["tau"]
        T, per = self.cfg["task"]["max_new_tokens"], p["batch_size"] // self.rt.shards

        def step_fn(model: nn.Module, step: int) -> dict[str, Any]:
            pol = unwrap(model)
            stats = {"loss": 0.0, "signal": 0.0, "kl": 0.0, "malformed": 0.0}
            for k, shard in enumerate(self.local_shards):
                g = generator(self.cfg["run"]["seed"], method, step, shard)
                ctx = self._contexts(g, per)
                p_ids, p_mask = self._prompts(ctx)
                kw = {"max_new_tokens": T, "eos_id": self.codec.eos_id, "pad_id": self.codec.pad_id, "generator": g}
                with self.rt.autocast():
                    y, ym = sample(pol, p_ids, p_mask, **kw)
                    texts = self.codec.decode_batch(y)
                    if method == "rlhf":
                        with torch.no_grad():
                            r = rm([self.prompt_ids[x] for x in ctx], y, ym).float()
                        signal = r - loo_baseline(r, torch.tensor(ctx, device=r.device))
                    else:
                        alt = {
                            "self-play": (pol, None, 0.0),
                            "nash-md-pg": (pol, ref, p["beta"]),
                            "nash-ema-pg": (ema, None, 0.0),
                        }[method]
                        y2, _ = sample(alt[0], p_ids, p_mask, reference=alt[1], beta=alt[2], **kw)
                        prompts = [self.task.prompts[x] for x in ctx]
                        prob = call_judge(judge, prompts, texts, self.codec.decode_batch(y2))
                        signal = torch.tensor(prob, dtype=torch.float32, device=self.rt.device) - 0.5
                batch = Batch(p_ids, p_mask, y, ym)
                with self._sync(model, k), self.rt.autocast():
                    logp = token_logprobs(model, batch)
                    with torch.no_grad():
                        ref_logp = token_logprobs(ref, batch)
                    mask = ym.float()
                    loss = regularized_pg_loss(logp, ref_logp, mask, signal, tau)
                    (loss * self._scale()).backward()
                share = 1.0 / len(self.local_shards)
                stats["loss"] += loss.item() * share
                stats["signal"] += float(signal.mean()) * share
                stats["kl"] += float(sequence_kl_estimate(logp, ref_logp, mask)) * share
                stats["malformed"] += sum(self.task.parse(t) == self.task.n for t in texts) / per * share
            stats["samples"] = [[self.task.prompts[x], t] for x, t in zip(ctx[:4], texts[:4], strict=True)]
            return stats

        def ema_update() -> None:
            with torch.no_grad():
                for e, q in zip(ema.parameters(), policy.parameters(), strict=True):
                    e.mul_(p["ema_beta"]).add_(q.detach(), alpha=1.0 - p["ema_beta"])

        done = self._loop(
            method,
            policy,
            {**p, "lr": self.cfg["rlhf"]["lr"]} if method == "rlhf" else p,
            step_fn,
            extras={"ema": ema} if ema is not None else None,
            after_step=ema_update if ema is not None else None,
            eval_fn=lambda: evaluator.step_metrics(policy, method),
            decay=False,
            samples_per_step=2 * p["batch_size"] if method != "rlhf" else p["batch_size"],
        )
        self.timing[method] = done["timing"]
        policy.eval()
        return policy

    # ------------------------------------------------------------------ main
    def run(self) -> dict[str, Any]:
        """Run (or resume) every stage; returns the summary also written to ``summary.json``."""
        started = time.perf_counter()
        self._setup()
        c = self.cfg
        self.log(
            {
                "stage": "setup",
                "step": 0,
                "device": str(self.rt.device),
                "world_size": self.rt.world,
                "resume": self.resume,
            }
        )
        sft = self._sft()
        sft.eval()
        ref = copy.deepcopy(sft).requires_grad_(False)
        evaluator = Evaluator(self, ref)
        self.log(  # what live views draw the policies against: mu (the SFT model) and the exact pi*_tau
            {
                "stage": "reference",
                "step": 0,
                "labels": list(self.task.labels_ext),
                "prompts": list(self.task.prompts),
                "reference_distribution": evaluator.mu.tolist(),
                "regularized_nash": evaluator.nash.tolist(),
                "tau": evaluator.tau,
            }
        )
        methods = c["policy"]["methods"]
        need_pm = c["preference_model"]["steps"] > 0
        need_rm = "rlhf" in methods
        pm = rm = None
        quality: dict[str, Any] = {}
        if need_pm or need_rm:
            data = self._pairs(sft)
            quality["pairs"] = evaluator.pair_stats(data)
            if need_pm:
                pm, quality["preference_model"] = self._scorer_stage("preference-model", data)
            if need_rm:
                rm, quality["reward_model"] = self._scorer_stage("reward-model", data)
                evaluator.set_reward_model(rm)
        judge = self._judge(pm)
        policies = {"sft": sft}
        for method in methods:
            policies[method] = self._method(method, sft, ref, judge, rm, evaluator)
        summary = evaluator.summary(policies, rm, quality, self.timing, time.perf_counter() - started)
        if self.rt.main:
            atomic_write_json(self.dir / "summary.json", summary)
            from nlhf_core.llm.report import write_report

            write_report(self.dir, summary)
        self.log({"stage": "done", "step": 0, "wall_time_s": summary["wall_time_s"]})
        self.rt.barrier()
        return summary


def loo_baseline(values: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """Leave-one-out mean of ``values`` over the other rows of the same group (prompt); 0 for a lone row.

    Independent of the row's own sample, so ``signal = r - baseline`` keeps the gradient unbiased.
    """
    onehot = nn.functional.one_hot(groups, int(groups.max()) + 1).to(values.dtype)
    sums, counts = onehot.T @ values, onehot.sum(dim=0)
    others = (counts[groups] - 1).clamp(min=1)
    return torch.where(counts[groups] > 1, (sums[groups] - values) / others, torch.zeros_like(values))


def cfgmod_seed(cfg: dict[str, Any], what: str) -> int:
    """Seed of a model's initialization (same on every rank)."""
    from nlhf_core.llm.runtime import derived_seed

    return derived_seed(cfg["run"]["seed"], what) % (1 << 62)
