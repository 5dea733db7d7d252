"""What a training run checks before it starts: lengths that fit the models, batches that split into shards,
and the models and data the chosen methods need. Each problem is one sentence naming the setting and the fix,
raised before the run directory is touched (the shard check, which needs the launch, right after)."""

from __future__ import annotations

from nlhf_core.errors import ParameterError
from nlhf_core.llm.batches import EncodedTask
from nlhf_core.llm.config import BATCHED, TrainingConfig
from nlhf_core.llm.dataset import OwnData, model_context
from nlhf_core.llm.methods import METHODS
from nlhf_core.llm.models import TINY_POSITIONS
from nlhf_core.llm.runner import Runner


def check_category_lengths(config: TrainingConfig, encoded: EncodedTask) -> None:
    """The longest prompt plus ``task.max_new_tokens`` must fit the policy's context (and, with two responses, the
    preference model's)."""
    context = model_context(config.model.source)
    longest = max(len(ids) for ids in encoded.prompt_ids)
    if longest + config.task.max_new_tokens > context:
        raise ParameterError(
            f"A prompt of {longest} tokens plus task.max_new_tokens = {config.task.max_new_tokens} exceeds the "
            f"model's context of {context} positions; lower task.max_new_tokens or shorten the prompts."
        )
    pair_length = longest + 2 * (config.task.max_new_tokens + 1)  # what the preference model reads
    if config.preference_model.steps > 0 and pair_length > TINY_POSITIONS:
        raise ParameterError(
            f"The preference model reads a prompt and two responses ({pair_length} tokens) in {TINY_POSITIONS} "
            f"positions; lower task.max_new_tokens or set preference_model.steps = 0."
        )


def check_shards(config: TrainingConfig, runner: Runner) -> None:
    """Batch sizes that split into the shards of this launch."""
    shards = runner.runtime.shards
    for name in BATCHED:
        batch_size = getattr(config, name).batch_size
        if batch_size % shards:
            raise ParameterError(
                f"Setting '{name}.batch_size' = {batch_size} is not a multiple of the {shards} "
                f"data shards (one per process unless run.shards is set); make it divisible."
            )


def check_requirements(config: TrainingConfig, own: OwnData | None) -> None:
    """The models and data the chosen methods (and, for your prompts, the evaluation) need."""
    methods = config.policy.methods
    uses_judge = any(METHODS[m].signal == "preference" for m in methods)
    uses_reward = any(METHODS[m].signal == "reward" for m in methods)
    if own is not None:
        own.check_requirements(config)
        return
    if config.policy.judge == "preference-model" and uses_judge and config.preference_model.steps == 0:
        raise ParameterError(
            "policy.judge is 'preference-model' but preference_model.steps is 0; train it or use "
            "policy.judge = 'oracle'."
        )
    if uses_reward and config.reward_model.source == "trained" and config.reward_model.steps == 0:
        raise ParameterError(
            "RLHF needs a reward model but reward_model.steps is 0; train it, give reward_model.source, or drop 'rlhf'."
        )
