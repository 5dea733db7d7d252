"""Open your own data for a run (``[dataset]``): check every file, build the tokenizer, set the lengths.

:func:`open_dataset` runs before the run directory is touched, so a bad file (malformed JSON with
its line number, a missing field, an empty prompt) or lengths that cannot fit the model are refused
with one sentence and nothing is written. The built-in ``tiny`` model's word-level vocabulary is
built from every word of the data given (prompts, SFT and preference data, in file order).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from nlhf_core.errors import ParameterError
from nlhf_core.llm.config import TrainingConfig
from nlhf_core.llm.datafiles import RecordFile
from nlhf_core.llm.models import TINY_POSITIONS, load_codec
from nlhf_core.llm.prompts import (
    Encoder,
    ExampleCorpus,
    PairPrompts,
    PromptTask,
    ScorerCodec,
    check_pair,
    check_prompt,
    check_sft,
    load_pairs,
    record_words,
)

#: Context of a model whose config names none.
UNBOUNDED = 1 << 30


@dataclass
class OwnData:
    """The free-form task of a run: prompts with their split, and the optional SFT corpus and preference pairs.

    ``cut`` counts the SFT examples and preference pairs whose prompt or response was truncated.
    """

    task: PromptTask
    corpus: ExampleCorpus | None
    pairs: dict[str, torch.Tensor] | None
    pair_prompts: PairPrompts | None
    cut_pairs: int

    def record(self) -> dict[str, object]:
        """How much of the data the run uses (the ``data`` record of ``metrics.jsonl``)."""
        return {
            "stage": "data",
            "step": 0,
            "train_prompts": len(self.task.train_rows),
            "eval_prompts": len(self.task.eval_rows),
            "sft_examples": len(self.corpus.file) if self.corpus is not None else 0,
            "preference_pairs": int(self.pairs["label"].shape[0]) if self.pairs is not None else 0,
            "truncated_pairs": self.cut_pairs,
        }

    def check_requirements(self, config: TrainingConfig) -> None:
        """A judge for the NLHF methods and the evaluation, and preference data for RLHF's reward model."""
        judge = config.policy.judge
        if judge == "oracle":
            raise ParameterError(
                "policy.judge = 'oracle' needs the category task's true preferences; with your own prompts give a "
                "judge module:callable, or preference data (--pairs-data) for policy.judge = 'preference-model'."
            )
        if judge == "preference-model" and (self.pairs is None or config.preference_model.steps == 0):
            raise ParameterError(
                "policy.judge is 'preference-model' but no preference model is trained (it needs --pairs-data and "
                "preference_model.steps > 0); give preference data or a judge module:callable."
            )
        if "rlhf" in config.policy.methods and (self.pairs is None or config.reward_model.steps == 0):
            raise ParameterError(
                "RLHF needs a reward model, trained on preference data; give --pairs-data (with reward_model.steps "
                "> 0) or drop 'rlhf' from policy.methods."
            )


def model_context(source: str) -> int:
    """Positions the policy can attend to: the tiny model's, or the ``config.json``'s of a local model."""
    if source == "tiny":
        return TINY_POSITIONS
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(Path(source).expanduser(), local_files_only=True)
    for key in ("max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length", "seq_length"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return UNBOUNDED


def open_dataset(config: TrainingConfig) -> OwnData:
    """Check and open the files of ``config.dataset`` (see the module docstring)."""
    data = config.dataset
    prompts = RecordFile(data.prompts, check_prompt, "prompts")
    sft = RecordFile(data.sft, check_sft, "SFT data") if data.sft else None
    pairs = RecordFile(data.pairs, check_pair, "preference data") if data.pairs else None
    words: dict[str, None] = {}
    if config.model.source == "tiny":
        for file in (prompts, sft, pairs):
            for record in file or ():
                words.update(dict.fromkeys(record_words(record)))
    codec = load_codec(config.model.source, list(words))
    length = config.task.max_new_tokens
    context = model_context(config.model.source)
    if length >= context:
        raise ParameterError(
            f"task.max_new_tokens = {length} leaves no room for a prompt in the model's context of {context} "
            f"positions; lower task.max_new_tokens."
        )
    scorer_budget = TINY_POSITIONS - 2 * (length + 1)
    if pairs is not None and scorer_budget < 1:
        raise ParameterError(
            f"The preference model reads a prompt and two responses of up to task.max_new_tokens = {length} "
            f"tokens in {TINY_POSITIONS} positions; lower task.max_new_tokens below {TINY_POSITIONS // 2 - 1}."
        )
    encoder = Encoder(codec, context - length, context, data.chat_template == "auto")
    scorer_codec = ScorerCodec(codec.tokenizer, codec.eos_id, codec.pad_id, codec.builtin, max(1, scorer_budget))
    task = PromptTask.split(prompts, encoder, scorer_codec, config.run.seed, data.eval_fraction, data.eval_max)
    corpus = ExampleCorpus(sft, encoder) if sft is not None else None
    if pairs is None:
        return OwnData(task, corpus, None, None, 0)
    tensors, pair_prompts, cut = load_pairs(pairs, scorer_codec, encoder, length, config.run.seed)
    return OwnData(task, corpus, tensors, pair_prompts, cut)
