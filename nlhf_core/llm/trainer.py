"""The pipeline: SFT → sampled pairs labelled by annotators → preference and reward models → policy optimization.

:func:`train` reads top to bottom; each stage is checkpointed under ``RUN/checkpoints/<stage>/``
and resumed exactly (the bookkeeping is in :mod:`nlhf_core.llm.runner`):

1. ``sft`` (:func:`train_sft`): the policy learns the task's corpus (answers drawn from a skewed
   distribution per prompt, or your SFT data) by maximum likelihood; it becomes the reference ``mu``
   and the initialization.
2. ``pairs`` (:mod:`nlhf_core.llm.pairs`): ``data.pairs`` pairs ``(y, y')`` from ``mu``, labelled by
   simulated annotators (with your own prompts: your preference data, when given); with ``data.rounds > 1``
   more rounds from the current NLHF policy too (:mod:`nlhf_core.llm.rounds`).
3. ``preference-model`` and ``reward-model`` (:mod:`nlhf_core.llm.scorers`), trained on the same pairs.
4. One policy per method of ``policy.methods`` (:func:`optimize_policy`), all starting at ``mu``,
   trained with the paper's estimator :func:`nlhf_core.policy_gradient.losses.regularized_pg_loss`
   (Munos et al. 2024, Section 7)::

       loss gradient = -sum_t grad log pi(y_t|.) [signal - tau sum_{s>=t} log(pi/mu)(y_s|.)],  y ~ pi

   where each method (:mod:`nlhf_core.llm.methods`) supplies the responses and their signal.
5. Exact evaluation under the true game (:mod:`nlhf_core.llm.evaluation`), or with your own prompts
   judged estimates on held-out prompts (:mod:`nlhf_core.llm.judged`); every policy saved under
   ``RUN/models/`` (:mod:`nlhf_core.llm.export`), ``summary.json`` and ``report.md``.

The task is the category task of ``[task]`` (answers of a preference game, exactly checkable) or,
with ``dataset.prompts`` set, your own prompts (:mod:`nlhf_core.llm.dataset`); both are checked
before the run directory is touched.

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

from nlhf_core.files import atomic_write_text
from nlhf_core.games.presets import open_game
from nlhf_core.llm.batches import CategoryCorpus, EncodedTask, SFTCorpus, TokenizedPrompts, TrainingTask
from nlhf_core.llm.config import TrainingConfig
from nlhf_core.llm.dataset import OwnData, open_dataset
from nlhf_core.llm.evaluation import Evaluator
from nlhf_core.llm.export import save_policies
from nlhf_core.llm.hf_judges import HFRewardModel, hf_judge
from nlhf_core.llm.judged import JudgedEvaluator, preference_pair_stats
from nlhf_core.llm.judges import JudgeFn, import_callable, methods_judge
from nlhf_core.llm.lora import AdapterDisabled, attach_lora
from nlhf_core.llm.methods import METHODS, Players, update_ema
from nlhf_core.llm.models import Codec, PreferenceModel, build_policy, load_codec
from nlhf_core.llm.optim import enable_gradient_checkpointing, micro_batches, training_mode
from nlhf_core.llm.policy_step import policy_loss, sample_shard
from nlhf_core.llm.preflight import check_category_lengths, check_requirements, check_shards
from nlhf_core.llm.prompts import PromptTask
from nlhf_core.llm.report import write_report
from nlhf_core.llm.rounds import Explore, collect_feedback
from nlhf_core.llm.run_directory import filesystem_error
from nlhf_core.llm.runner import Callback, Runner, Stopped
from nlhf_core.llm.runtime import generator, init_seed, seed_everything
from nlhf_core.llm.sampling import Batch, Warp, sequence_batch, token_logprobs
from nlhf_core.llm.scorers import train_preference_model, train_reward_model
from nlhf_core.llm.summary import ModelQuality, ReferenceRecord, SetupRecord, StepRecord, TrainingSummary
from nlhf_core.llm.task import AnswerTask

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

    Raises:
        RunDirectoryError: the directory is in use by another process, modified or damaged, or a file operation
            in it failed (read-only folder, permission denied, disk full): one sentence with the fix.
    """
    started = time.perf_counter()
    own = open_dataset(config) if config.dataset.prompts else None
    encoded: EncodedTask | PromptTask
    if own is None:
        task = AnswerTask.from_game(open_game(config.task.game), config.task.prompt, config.task.hedges)
        encoded = EncodedTask.of(task, load_codec(config.model.source, task.words()))
        check_category_lengths(config, encoded)
    else:
        encoded = own.task
    check_requirements(config, own)
    external_judge: JudgeFn | None = None
    if config.policy.judge not in ("oracle", "preference-model") and not config.policy.judge.startswith("hf-"):
        external_judge = import_callable(config.policy.judge)
    runner = None
    try:
        runner = Runner.open(
            config, Path(run_dir), resume=resume, callback=callback, stop_event=stop_event, progress=progress
        )
        return _pipeline(config, runner, resume, started, encoded, own, external_judge)
    except (ConnectionError, TimeoutError):  # the process group's sockets, not the run directory
        raise
    except OSError as err:
        raise filesystem_error(err, Path(run_dir)) from None
    finally:
        if runner is not None:
            runner.close()  # releases the run directory's lock


def _pipeline(
    config: TrainingConfig,
    runner: Runner,
    resume: bool,
    started: float,
    encoded: EncodedTask | PromptTask,
    own: OwnData | None,
    external_judge: JudgeFn | None,
) -> TrainingSummary:
    """Every stage of :func:`train` in order, in the run directory ``runner`` holds."""
    seed_everything(config.run.seed)
    check_shards(config, runner)
    runtime = runner.runtime
    hf = hf_judge(config.policy.judge, encoded.codec, runtime.device)  # hf-reward:DIR or hf-pairwise:DIR
    external_judge = hf if hf is not None else external_judge
    outside_reward = None  # reward_model.source = DIR: RLHF's reward from a Hugging Face classifier
    if config.reward_model.source != "trained":
        outside_reward = HFRewardModel(config.reward_model.source, encoded.codec, runtime.device)
    setup: SetupRecord = {
        "stage": "setup", "step": 0, "device": str(runtime.device), "world_size": runtime.world, "resume": resume
    }  # fmt: skip
    runner.log(setup)
    if own is not None:
        runner.log(own.record())

    # SFT: the policy learns the corpus; frozen, it is the reference mu of every later stage (no copy).
    corpus = _sft_corpus(config, encoded, own)
    sft = train_sft(config, runner, encoded.codec, corpus)
    sft.eval()
    reference = sft.requires_grad_(False)
    exact: Evaluator | None = None
    if isinstance(encoded, EncodedTask):
        exact = Evaluator(encoded, reference, runtime, config.policy.tau)
        runner.log(_reference_record(encoded.task, exact))

    # Feedback: labelled pairs (sampled from mu, or your preference data), the preference model and the reward model.
    def explore(stage_name: str, round_judge: JudgeFn) -> nn.Module:  # a feedback round's self-play explorer
        assert exact is not None, "feedback rounds run on the category task"
        return optimize_policy(
            "self-play", config, runner, encoded, sft=sft, reference=reference, judge=round_judge,
            reward_model=None, evaluator=exact, stage_name=stage_name, steps=config.data.explore_steps,
        )  # fmt: skip

    preference_model, reward_model, quality = _feedback_models(config, runner, encoded, own, sft, exact, explore)
    if outside_reward is not None:
        reward_model = outside_reward
        if exact is not None:
            exact.set_reward_model(outside_reward, config.rlhf.tau)

    # Policy optimization: one policy per method, each starting at mu.
    oracle_task = encoded.task if isinstance(encoded, EncodedTask) else None
    judge = methods_judge(
        config.policy.judge, oracle_task, encoded.scorer_codec, preference_model, runtime.device, external_judge
    )
    evaluator: Evaluator | JudgedEvaluator
    if exact is not None:
        evaluator = exact
    else:
        assert isinstance(encoded, PromptTask) and judge is not None  # check_requirements asked for a judge
        evaluator = JudgedEvaluator(encoded, reference, runtime, config, judge)
    methods, policies = config.policy.methods, {"sft": sft}
    for method in methods:
        policies[method] = optimize_policy(
            method, config, runner, encoded, sft=sft, reference=reference, judge=judge,
            reward_model=reward_model, evaluator=evaluator,
        )  # fmt: skip

    # Evaluation (exact for the category task, judged for your prompts); models/, summary.json and report.md.
    summary = evaluator.summarize(policies, quality, runner.timing, time.perf_counter() - started, config)
    if runtime.main:
        trained = {m: policies[m] for m in methods}
        sft_trained = corpus is not None and (config.model.source == "tiny" or config.sft.steps > 0)
        save_policies({"sft": sft, **trained} if sft_trained else trained, encoded.codec, runner.run_dir)
        atomic_write_text(runner.run_dir / "summary.json", summary.to_json())
        write_report(runner.run_dir, summary.to_dict())
    runner.log({"stage": "done", "step": 0, "wall_time_s": summary.wall_time_s})
    runner.barrier()
    return summary


def _sft_corpus(config: TrainingConfig, encoded: EncodedTask | PromptTask, own: OwnData | None) -> SFTCorpus | None:
    """The category task's answer corpus, your SFT data, or None (no SFT stage)."""
    if isinstance(encoded, EncodedTask):
        weights = encoded.task.sft_distribution(config.sft.answer_weights, config.sft.skew)
        return CategoryCorpus(encoded, torch.tensor(weights))
    return own.corpus if own is not None else None


def _feedback_models(
    config: TrainingConfig,
    runner: Runner,
    encoded: EncodedTask | PromptTask,
    own: OwnData | None,
    sft: nn.Module,
    evaluator: Evaluator | None,
    explore: Explore,
) -> tuple[PreferenceModel | None, nn.Module | None, ModelQuality]:
    """The labelled pairs (sampled from ``sft`` and labelled by the annotators, in ``data.rounds`` rounds whose
    later ones also draw from an ``explore``-d self-play policy; or your preference data), then the preference
    model and the reward model when the run needs them, with their held-out quality."""
    need_preference_model = config.preference_model.steps > 0 and (own is None or own.pairs is not None)
    trained_reward = config.reward_model.source == "trained"
    need_reward_model = trained_reward and any(METHODS[m].signal == "reward" for m in config.policy.methods)
    quality: ModelQuality = {}
    if not (need_preference_model or need_reward_model):
        return None, None, quality
    device = runner.runtime.device
    pair_prompts: TokenizedPrompts
    if isinstance(encoded, EncodedTask):
        feedback = collect_feedback(config, runner, encoded, sft, explore)
        pairs, reward_pairs, pair_prompts = feedback.preference_pairs, feedback.reward_pairs, encoded
    else:
        assert own is not None and own.pairs is not None and own.pair_prompts is not None
        pairs, pair_prompts = {k: v.to(device) for k, v in own.pairs.items()}, own.pair_prompts
        reward_pairs = pairs
    quality["pairs"] = evaluator.pair_stats(pairs) if evaluator is not None else preference_pair_stats(pairs)
    preference_model = reward_model = None
    if need_preference_model:
        preference_model, quality["preference_model"] = train_preference_model(config, runner, pair_prompts, pairs)
    if need_reward_model:
        reward_model, quality["reward_model"] = train_reward_model(config, runner, pair_prompts, reward_pairs)
        if evaluator is not None:
            evaluator.set_reward_model(reward_model, config.rlhf.tau)
    return preference_model, reward_model, quality


def _reference_record(task: AnswerTask, evaluator: Evaluator) -> ReferenceRecord:
    """What live views draw the policies against: mu (the SFT model) and pi*_tau."""
    return {
        "stage": "reference",
        "step": 0,
        "labels": list(task.labels_ext),
        "prompts": list(task.prompts),
        "reference_distribution": evaluator.mu.tolist(),
        "regularized_nash": evaluator.nash.tolist(),
        "tau": evaluator.tau,
    }


def new_policy(config: TrainingConfig, codec: Codec, device: torch.device) -> nn.Module:
    """A freshly initialized policy (seeded by ``(run.seed, "policy-init")``, the same on every rank)."""
    torch.manual_seed(init_seed(config.run.seed, "policy-init"))
    return build_policy(config.model, codec).to(device)


def train_sft(config: TrainingConfig, runner: Runner, codec: Codec, corpus: SFTCorpus | None) -> nn.Module:
    """Maximum likelihood on the corpus (``x ~ rho`` and answer ``a ~ sft_distribution(x)`` for the category
    task, your SFT examples otherwise): loss ``-log pi(a | x)``.

    A pretrained ``model.source`` with ``sft.steps = 0``, or a run without SFT data, is used as it is.
    """
    settings, runtime = config.sft, runner.runtime
    policy = new_policy(config, codec, runtime.device)
    if corpus is None or (config.model.source != "tiny" and settings.steps == 0):
        return policy
    if config.compute.gradient_checkpointing:
        enable_gradient_checkpointing(policy)
    per_shard = settings.batch_size // runtime.shards
    stage = runner.stage("sft", policy, steps=settings.steps, lr=settings.lr)
    if stage.done is not None:
        return policy
    for step in stage.steps():
        lr = stage.start_step()
        total, truncated = 0.0, 0
        for shard, sync in runner.shards(stage.model):
            # Sample: prompts and one response each from the corpus.
            rng = generator(config.run.seed, "sft", step, shard)
            prompts, responses, cut = corpus.draw(rng, per_shard)
            truncated += cut
            batch = sequence_batch(prompts, responses, codec.pad_id, runtime.device)
            # Loss: the answers' negative log-likelihood, accumulated over micro-batches and scaled so the
            # update is the mean over all shards.
            training_mode(policy, config.compute)
            micro_size = config.compute.micro_batch_size
            for rows, weight, micro_sync in micro_batches(per_shard, micro_size, stage.model, sync):
                with micro_sync, runtime.autocast():
                    loss = -token_logprobs(stage.model, batch.rows(rows)).sum(dim=1).mean()
                    (loss * runner.shard_loss_scale * weight).backward()
                total += loss.item() * weight / len(runner.local_shards)
        # Step, then log and checkpoint.
        stage.optimizer_step()
        record: StepRecord = {"stage": "sft", "step": step + 1, "lr": lr, "loss": total}
        if truncated:
            record["truncated"] = truncated
        stage.end_step(step, record)
    stage.finish(samples_per_step=settings.batch_size)
    return stage.trained


def optimize_policy(
    method: str,
    config: TrainingConfig,
    runner: Runner,
    encoded: TrainingTask,
    *,
    sft: nn.Module,
    reference: nn.Module,
    judge: JudgeFn | None,
    reward_model: nn.Module | None,
    evaluator: Evaluator | JudgedEvaluator,
    stage_name: str | None = None,
    steps: int | None = None,
) -> nn.Module:
    """Train one policy from ``sft`` with ``method`` (a key of :data:`~nlhf_core.llm.methods.METHODS`).

    RLHF uses ``rlhf.tau`` and ``rlhf.lr``, the NLHF methods ``policy.tau`` and ``policy.lr``; the
    learning rate follows ``optim.schedule`` (constant after the warm-up by default). Responses are
    sampled (in chunks of ``compute.generation_batch_size`` prompts) with dropout off and the
    ``[sampling]`` law; the loss runs in micro-batches of ``compute.micro_batch_size`` rows whose
    gradients accumulate. With ``lora.rank > 0`` only LoRA adapters train and ``reference`` is replaced by
    the policy with its adapters disabled. ``stage_name`` and ``steps`` (default: the method's name and
    ``policy.steps``) let a helper policy, such as a feedback round's explorer, train as its own stage.
    Returns the trained policy in evaluation mode.
    """
    spec, settings, runtime, compute = METHODS[method], config.policy, runner.runtime, config.compute
    name, total = stage_name or method, settings.steps if steps is None else steps
    tau, lr = (config.rlhf.tau, config.rlhf.lr) if spec.signal == "reward" else (settings.tau, settings.lr)
    policy = new_policy(config, encoded.codec, runtime.device)
    policy.load_state_dict(sft.state_dict())
    if compute.gradient_checkpointing:
        enable_gradient_checkpointing(policy)
    if config.lora.rank > 0:  # adapters train; mu is the same model with them off (exactly the SFT model)
        policy = attach_lora(policy, config.lora)
        reference = AdapterDisabled(policy)
    ema = copy.deepcopy(policy).requires_grad_(False).eval() if spec.alternative == "ema" else None
    sampling = config.sampling
    warp = Warp(sampling.temperature, sampling.top_k, sampling.top_p)
    players = Players(
        policy, reference, encoded.codec, config.task.max_new_tokens, beta=settings.beta,
        judge=judge, reward_model=reward_model, ema=ema, warp=warp, stops=tuple(sampling.stop),
    )  # fmt: skip
    per_shard = settings.batch_size // runtime.shards
    extras = {"ema": ema} if ema is not None else None
    stage = runner.stage(name, policy, steps=total, lr=lr, decay=False, extras=extras)
    if stage.done is None:
        for step in stage.steps():
            lr_now = stage.start_step()
            stats = {"loss": 0.0, "signal": 0.0, "kl": 0.0}
            share, truncated = 1.0 / len(runner.local_shards), 0
            for shard, sync in runner.shards(stage.model):
                # Sample and judge (dropout off): prompts x ~ rho, responses y ~ pi and their signal s(x, y).
                rng = generator(config.run.seed, name, step, shard)
                prompts, rollout, signal = sample_shard(method, config, runner, encoded, players, rng)
                truncated += prompts.truncated
                # Loss: the regularized policy-gradient surrogate (per-token KL to mu), accumulated over
                # micro-batches and scaled to the mean over shards.
                batch = Batch(prompts.ids, prompts.mask, rollout.responses, rollout.mask)
                training_mode(policy, compute)
                for rows, weight, micro_sync in micro_batches(per_shard, compute.micro_batch_size, stage.model, sync):
                    with micro_sync, runtime.autocast():
                        loss, kl = policy_loss(stage.model, reference, batch.rows(rows), signal[rows], warp, tau)
                        (loss * runner.shard_loss_scale * weight).backward()
                    stats["loss"] += loss.item() * weight * share
                    stats["kl"] += kl * weight * share
                stats["signal"] += float(rollout.signal.mean()) * share
                for key, value in encoded.response_stats(rollout.texts, rollout.responses).items():
                    stats[key] = stats.get(key, 0.0) + value * share
            # Step: the policy, then Nash-EMA-PG's opponent.
            stage.optimizer_step()
            if ema is not None:
                update_ema(ema, policy, settings.ema_beta)
            record: StepRecord = {"stage": name, "step": step + 1, "lr": lr_now, **stats}  # type: ignore[typeddict-item]
            record["samples"] = [list(pair) for pair in zip(prompts.texts[:4], rollout.texts[:4], strict=True)]
            if isinstance(encoded, PromptTask):
                record["truncated"] = truncated
            # Evaluate every policy.eval_every steps and at the end (exactly for the category task); log, checkpoint.
            if (step + 1) % settings.eval_every == 0 or step + 1 == total:
                policy.eval()
                record.update(evaluator.step_metrics(policy, method))
            stage.end_step(step, record)
        stage.finish(samples_per_step=spec.responses_per_prompt * settings.batch_size)
    policy = stage.trained
    policy.eval()
    return policy
