"""The pipeline: SFT → sampled pairs labelled by annotators → preference and reward models → policy optimization.

:func:`train` reads top to bottom; each stage is checkpointed under ``RUN/checkpoints/<stage>/``
and resumed exactly (the bookkeeping is in :mod:`nlhf_core.llm.runner`):

1. ``sft`` (:func:`train_sft`): the policy learns the task's corpus (answers drawn from a skewed
   distribution per prompt) by maximum likelihood; it becomes the reference ``mu`` and the initialization.
2. ``pairs`` (:mod:`nlhf_core.llm.pairs`): ``data.pairs`` pairs ``(y, y')`` from ``mu``, labelled by
   simulated annotators; with ``data.rounds > 1`` more rounds from the current NLHF policy too
   (:mod:`nlhf_core.llm.rounds`).
3. ``preference-model`` and ``reward-model`` (:mod:`nlhf_core.llm.scorers`), trained on the same pairs.
4. One policy per method of ``policy.methods`` (:func:`optimize_policy`), all starting at ``mu``,
   trained with the paper's estimator :func:`nlhf_core.policy_gradient.losses.regularized_pg_loss`
   (Munos et al. 2024, Section 7)::

       loss gradient = -sum_t grad log pi(y_t|.) [signal - tau sum_{s>=t} log(pi/mu)(y_s|.)],  y ~ pi

   where each method (:mod:`nlhf_core.llm.methods`) supplies the responses and their signal.
5. Exact evaluation under the true game (:mod:`nlhf_core.llm.evaluation`): ``summary.json`` and ``report.md``.

Every step draws ``run.shards`` shards of the batch, each from its own generator
``(seed, stage, step, shard)``; under ``torchrun`` rank ``r`` takes shards ``r, r + W, ...`` and
DDP averages the gradients, so any number of processes gives the same global batch and, up to
floating-point summation order, the same parameters.
"""

from __future__ import annotations

import copy
import threading
import time
from pathlib import Path

import torch
from torch import nn

from nlhf_core.errors import ParameterError
from nlhf_core.files import atomic_write_text
from nlhf_core.games.presets import open_game
from nlhf_core.llm.batches import EncodedTask
from nlhf_core.llm.config import BATCHED, TrainingConfig
from nlhf_core.llm.evaluation import Evaluator
from nlhf_core.llm.judges import JudgeFn, OracleJudge, PreferenceModelJudge, import_callable
from nlhf_core.llm.methods import METHODS, Players, update_ema
from nlhf_core.llm.models import PreferenceModel, build_policy, load_codec
from nlhf_core.llm.report import write_report
from nlhf_core.llm.rounds import collect_feedback
from nlhf_core.llm.runner import Callback, Runner, Stopped
from nlhf_core.llm.runtime import generator, init_seed, seed_everything
from nlhf_core.llm.sampling import Batch, sequence_batch, token_logprobs
from nlhf_core.llm.scorers import train_preference_model, train_reward_model
from nlhf_core.llm.summary import ModelQuality, ReferenceRecord, SetupRecord, StepRecord, TrainingSummary
from nlhf_core.llm.task import AnswerTask
from nlhf_core.policy_gradient.losses import regularized_pg_loss, sequence_kl_estimate

__all__ = ["Stopped", "optimize_policy", "train", "train_sft"]


def train(
    config: TrainingConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    callback: Callback | None = None,
    stop_event: threading.Event | None = None,
    progress: bool = False,
) -> TrainingSummary:
    """Run (or resume) every stage into ``run_dir``; returns the summary also written to ``summary.json``.

    Args:
        config: the validated settings.
        run_dir: the run directory (a used one needs ``resume=True`` and the same settings).
        resume: continue from the checkpoints in ``run_dir``.
        callback: receives every metrics record as it is logged (rank 0).
        stop_event: when set, the run checkpoints after the current step and raises :class:`Stopped`.
        progress: show progress bars on stderr.

    Returns:
        The run's :class:`~nlhf_core.llm.summary.TrainingSummary`.
    """
    started = time.perf_counter()
    runner = Runner.open(
        config, Path(run_dir), resume=resume, callback=callback, stop_event=stop_event, progress=progress
    )
    seed_everything(config.run.seed)
    task = AnswerTask.from_game(open_game(config.task.game), config.task.prompt, config.task.hedges)
    encoded = EncodedTask.of(task, load_codec(config.model.source, task.words()))
    _check_requirements(config, runner)
    external_judge = None
    if config.policy.judge not in ("oracle", "preference-model"):
        external_judge = import_callable(config.policy.judge)
    runtime = runner.runtime
    setup: SetupRecord = {
        "stage": "setup", "step": 0, "device": str(runtime.device), "world_size": runtime.world, "resume": resume
    }  # fmt: skip
    runner.log(setup)

    # SFT: the policy learns the corpus; a frozen copy is the reference mu of every later stage.
    sft = train_sft(config, runner, encoded)
    sft.eval()
    reference = copy.deepcopy(sft).requires_grad_(False)
    evaluator = Evaluator(encoded, reference, runtime, config.policy.tau)
    targets: ReferenceRecord = {  # what live views draw the policies against: mu (the SFT model) and pi*_tau
        "stage": "reference",
        "step": 0,
        "labels": list(task.labels_ext),
        "prompts": list(task.prompts),
        "reference_distribution": evaluator.mu.tolist(),
        "regularized_nash": evaluator.nash.tolist(),
        "tau": evaluator.tau,
    }
    runner.log(targets)

    # Feedback: labelled pairs from mu, then the preference model (the judge) and the reward model (RLHF).
    methods = config.policy.methods
    need_preference_model = config.preference_model.steps > 0
    need_reward_model = any(METHODS[m].signal == "reward" for m in methods)
    preference_model = reward_model = None
    quality: ModelQuality = {}
    if need_preference_model or need_reward_model:
        # data.rounds > 1: later rounds draw pairs from a self-play policy against the model fitted so far, too.
        def explore(stage_name: str, round_judge: JudgeFn) -> nn.Module:
            return optimize_policy(
                "self-play", config, runner, encoded, sft=sft, reference=reference, judge=round_judge,
                reward_model=None, evaluator=evaluator, stage_name=stage_name, steps=config.data.explore_steps,
            )  # fmt: skip

        feedback = collect_feedback(config, runner, encoded, sft, explore)
        quality["pairs"] = evaluator.pair_stats(feedback.preference_pairs)
        if need_preference_model:
            preference_model, quality["preference_model"] = train_preference_model(
                config, runner, encoded, feedback.preference_pairs
            )
        if need_reward_model:
            reward_model, quality["reward_model"] = train_reward_model(config, runner, encoded, feedback.reward_pairs)
            evaluator.set_reward_model(reward_model, config.rlhf.tau)

    # Policy optimization: one policy per method, each starting at mu.
    judge = _judge(config, encoded, preference_model, runtime.device, external_judge)
    policies = {"sft": sft}
    for method in methods:
        policies[method] = optimize_policy(
            method, config, runner, encoded, sft=sft, reference=reference, judge=judge,
            reward_model=reward_model, evaluator=evaluator,
        )  # fmt: skip

    # Evaluation: exact win rates and distances under the true game; summary.json and report.md.
    summary = evaluator.summarize(policies, quality, runner.timing, time.perf_counter() - started, config)
    if runtime.main:
        atomic_write_text(runner.run_dir / "summary.json", summary.to_json())
        write_report(runner.run_dir, summary.to_dict())
    runner.log({"stage": "done", "step": 0, "wall_time_s": summary.wall_time_s})
    runner.barrier()
    return summary


def _check_requirements(config: TrainingConfig, runner: Runner) -> None:
    """Batch sizes that split into the shards of this launch, and the models the chosen methods need."""
    shards = runner.runtime.shards
    for name in BATCHED:
        batch_size = getattr(config, name).batch_size
        if batch_size % shards:
            raise ParameterError(
                f"Setting '{name}.batch_size' = {batch_size} is not a multiple of the {shards} "
                f"data shards (one per process unless run.shards is set); make it divisible."
            )
    methods = config.policy.methods
    uses_judge = any(METHODS[m].signal == "preference" for m in methods)
    if config.policy.judge == "preference-model" and uses_judge and config.preference_model.steps == 0:
        raise ParameterError(
            "policy.judge is 'preference-model' but preference_model.steps is 0; train it or use "
            "policy.judge = 'oracle'."
        )
    if any(METHODS[m].signal == "reward" for m in methods) and config.reward_model.steps == 0:
        raise ParameterError("RLHF needs a reward model but reward_model.steps is 0; train it or drop 'rlhf'.")


def _judge(
    config: TrainingConfig,
    encoded: EncodedTask,
    preference_model: PreferenceModel | None,
    device: torch.device,
    plug_in: JudgeFn | None,
) -> JudgeFn | None:
    """The NLHF methods' judge: the plug-in named by ``policy.judge``, the true game, or the preference model."""
    if plug_in is not None:
        return plug_in
    if config.policy.judge == "oracle":
        return OracleJudge(encoded.task)
    if preference_model is None:  # only RLHF is trained: no method asks a judge
        return None
    return PreferenceModelJudge(preference_model, encoded.codec, device)


def new_policy(config: TrainingConfig, encoded: EncodedTask, device: torch.device) -> nn.Module:
    """A freshly initialized policy (seeded by ``(run.seed, "policy-init")``, the same on every rank)."""
    torch.manual_seed(init_seed(config.run.seed, "policy-init"))
    return build_policy(config.model, encoded.codec).to(device)


def train_sft(config: TrainingConfig, runner: Runner, encoded: EncodedTask) -> nn.Module:
    """Maximum likelihood on the corpus: ``x ~ rho``, answer ``a ~ sft_distribution(x)``, loss ``-log pi(a | x)``.

    A pretrained ``model.source`` with ``sft.steps = 0`` is used as it is.
    """
    settings, runtime = config.sft, runner.runtime
    policy = new_policy(config, encoded, runtime.device)
    if config.model.source != "tiny" and settings.steps == 0:
        return policy
    corpus = torch.tensor(encoded.task.sft_distribution(settings.answer_weights, settings.skew))
    per_shard = settings.batch_size // runtime.shards
    stage = runner.stage("sft", policy, steps=settings.steps, lr=settings.lr)
    if stage.done is not None:
        return policy
    for step in stage.steps():
        lr = stage.start_step()
        total = 0.0
        for shard, sync in runner.shards(stage.model):
            # Sample: prompts x ~ rho and one answer per prompt from the corpus distribution.
            rng = generator(config.run.seed, "sft", step, shard)
            contexts = encoded.draw_contexts(rng, per_shard)
            answers = [int(torch.multinomial(corpus[x], 1, generator=rng)) for x in contexts]
            batch = sequence_batch(
                [encoded.prompt_ids[x] for x in contexts],
                [encoded.answer_ids[a] for a in answers],
                encoded.codec.pad_id,
                runtime.device,
            )
            # Loss: the answers' negative log-likelihood, scaled so the update is the mean over all shards.
            with sync, runtime.autocast():
                loss = -token_logprobs(stage.model, batch).sum(dim=1).mean()
                (loss * runner.shard_loss_scale).backward()
            total += loss.item() / len(runner.local_shards)
        # Step, then log and checkpoint.
        stage.optimizer_step()
        stage.end_step(step, {"stage": "sft", "step": step + 1, "lr": lr, "loss": total})
    stage.finish(samples_per_step=settings.batch_size)
    return policy


def optimize_policy(
    method: str,
    config: TrainingConfig,
    runner: Runner,
    encoded: EncodedTask,
    *,
    sft: nn.Module,
    reference: nn.Module,
    judge: JudgeFn | None,
    reward_model: nn.Module | None,
    evaluator: Evaluator,
    stage_name: str | None = None,
    steps: int | None = None,
) -> nn.Module:
    """Train one policy from ``sft`` with ``method`` (a key of :data:`~nlhf_core.llm.methods.METHODS`).

    RLHF uses ``rlhf.tau`` and ``rlhf.lr``, the NLHF methods ``policy.tau`` and ``policy.lr``; the
    learning rate is constant after the warm-up. ``stage_name`` and ``steps`` (default: the method's
    name and ``policy.steps``) let a helper policy, such as a feedback round's explorer, train as its
    own stage. Returns the trained policy in evaluation mode.
    """
    spec, settings, runtime = METHODS[method], config.policy, runner.runtime
    name, total = stage_name or method, settings.steps if steps is None else steps
    tau, lr = (config.rlhf.tau, config.rlhf.lr) if spec.signal == "reward" else (settings.tau, settings.lr)
    policy = new_policy(config, encoded, runtime.device)
    policy.load_state_dict(sft.state_dict())
    ema = copy.deepcopy(policy).requires_grad_(False) if spec.alternative == "ema" else None
    players = Players(
        policy, reference, encoded.codec, config.task.max_new_tokens, beta=settings.beta,
        judge=judge, reward_model=reward_model, ema=ema,
    )  # fmt: skip
    per_shard = settings.batch_size // runtime.shards
    extras = {"ema": ema} if ema is not None else None
    stage = runner.stage(name, policy, steps=total, lr=lr, decay=False, extras=extras)
    if stage.done is None:
        for step in stage.steps():
            lr_now = stage.start_step()
            stats = {"loss": 0.0, "signal": 0.0, "kl": 0.0, "malformed": 0.0}
            share = 1.0 / len(runner.local_shards)
            for shard, sync in runner.shards(stage.model):
                # Sample and judge: prompts x ~ rho, responses y ~ pi and their signal s(x, y).
                rng = generator(config.run.seed, name, step, shard)
                prompts = encoded.prompts(encoded.draw_contexts(rng, per_shard), runtime.device)
                with runtime.autocast():
                    rollout = spec.rollout(prompts, players, rng)
                # Loss: the regularized policy-gradient surrogate (per-token KL to mu), scaled to the mean over shards.
                batch = Batch(prompts.ids, prompts.mask, rollout.responses, rollout.mask)
                with sync, runtime.autocast():
                    logp = token_logprobs(stage.model, batch)
                    with torch.no_grad():
                        ref_logp = token_logprobs(reference, batch)
                    mask = rollout.mask.float()
                    loss = regularized_pg_loss(logp, ref_logp, mask, rollout.signal, tau)
                    (loss * runner.shard_loss_scale).backward()
                stats["loss"] += loss.item() * share
                stats["signal"] += float(rollout.signal.mean()) * share
                stats["kl"] += float(sequence_kl_estimate(logp, ref_logp, mask)) * share
                malformed = sum(encoded.task.parse(t) == encoded.task.n for t in rollout.texts)
                stats["malformed"] += malformed / per_shard * share
            # Step: the policy, then Nash-EMA-PG's opponent.
            stage.optimizer_step()
            if ema is not None:
                update_ema(ema, policy, settings.ema_beta)
            record: StepRecord = {
                "stage": name, "step": step + 1, "lr": lr_now, "loss": stats["loss"], "signal": stats["signal"],
                "kl": stats["kl"], "malformed": stats["malformed"],
                "samples": [list(pair) for pair in zip(prompts.texts[:4], rollout.texts[:4], strict=True)],
            }  # fmt: skip
            # Evaluate exactly every policy.eval_every steps and at the end; log and checkpoint.
            if (step + 1) % settings.eval_every == 0 or step + 1 == total:
                policy.eval()
                record.update(evaluator.step_metrics(policy, method))
            stage.end_step(step, record)
        stage.finish(samples_per_step=spec.responses_per_prompt * settings.batch_size)
    policy.eval()
    return policy
