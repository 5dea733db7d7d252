"""The free-form task: your own prompts (and optional SFT and preference data) in tokens.

Records (see :mod:`nlhf_core.llm.datafiles` for the file formats):

* prompts: ``{"prompt": "..."}`` or a chat ``{"messages": [{"role": "user", "content": "..."}, ...]}``;
* SFT data (``dataset.sft``): a prompt plus ``"response"``;
* preference data (``dataset.pairs``): a prompt plus ``"chosen"`` and ``"rejected"`` (strings, or
  message lists whose last content is taken).

**Encoding.** The policy reads a prompt through the tokenizer's chat template when it has one
(``dataset.chat_template = "auto"``, with the generation prompt), else as ``BOS + text + "\\n"``;
the built-in word-level tokenizer uses ``text + [SEP]`` as in the category task. Judges receive the
prompt as text (a chat's single user message, or ``role: content`` lines). The preference and reward
models (small built-in transformers) read ``text`` through :class:`ScorerCodec`.

**Too long.** A prompt that does not leave ``task.max_new_tokens`` positions of the model's context
is truncated *from the left* (its start is dropped; the policy sees the end of the prompt, where
the question usually is); every step record counts them (``truncated``). An SFT response is cut on
the right to what fits after its prompt; a preference-data response to ``task.max_new_tokens`` tokens.

**Split.** A permutation drawn from ``run.seed`` holds out ``dataset.eval_fraction`` of the prompts
(at most ``dataset.eval_max``) for evaluation; training draws prompts uniformly from the rest, by
row index, so prompts are read from the file as they are needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from nlhf_core.llm.batches import PromptBatch
from nlhf_core.llm.datafiles import DataError, RecordFile
from nlhf_core.llm.models import Codec
from nlhf_core.llm.sampling import left_pad

#: A prompt: plain text or a list of chat messages ``{"role", "content"}``.
Prompt = str | list[dict[str, str]]


def _text_field(record: Mapping[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if isinstance(value, list) and value and isinstance(value[-1], Mapping):
        value = value[-1].get("content")
    if not isinstance(value, str):
        raise DataError(f"{_cap(where)} has no text field {key!r}; give it a string, e.g. {{{key!r}: '...'}}.")
    if not value.strip():
        raise DataError(f"{_cap(where)} has an empty {key!r}; give it text or remove the line.")
    return value


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def prompt_of(record: Mapping[str, Any], where: str = "a record") -> Prompt:
    """The prompt of a record: ``record["prompt"]`` or its ``messages`` (checked: non-empty text)."""
    if "messages" in record and "prompt" not in record:
        messages = record["messages"]
        ok = isinstance(messages, list) and len(messages) > 0
        ok = ok and all(isinstance(m, Mapping) and isinstance(m.get("content"), str) for m in messages)
        if not ok:
            raise DataError(
                f"{_cap(where)} has 'messages' that are not a list of {{'role': ..., 'content': '...'}}; fix them."
            )
        if not any(m["content"].strip() for m in messages):
            raise DataError(f"{_cap(where)} has an empty prompt; give it text or remove the line.")
        return [{"role": str(m.get("role", "user")), "content": m["content"]} for m in messages]
    if "prompt" not in record:
        raise DataError(
            f"{_cap(where)} has no 'prompt' or 'messages' field; write e.g. {{\"prompt\": \"...\"}} on each line."
        )
    value = record["prompt"]
    if not isinstance(value, str):
        raise DataError(f"{_cap(where)} has a 'prompt' that is not a string; give the prompt as text.")
    if not value.strip():
        raise DataError(f"{_cap(where)} has an empty prompt; give it text or remove the line.")
    return value


def check_prompt(record: Mapping[str, Any], where: str) -> None:
    prompt_of(record, where)


def check_sft(record: Mapping[str, Any], where: str) -> None:
    prompt_of(record, where)
    _text_field(record, "response", where)


def check_pair(record: Mapping[str, Any], where: str) -> None:
    prompt_of(record, where)
    _text_field(record, "chosen", where)
    _text_field(record, "rejected", where)


def prompt_text(prompt: Prompt) -> str:
    """What a judge reads: the text, a chat's lone user message, or ``role: content`` lines."""
    if isinstance(prompt, str):
        return prompt
    if len(prompt) == 1:
        return prompt[0]["content"]
    return "\n".join(f"{m['role']}: {m['content']}" for m in prompt)


def record_words(record: Mapping[str, Any]) -> list[str]:
    """Every word of a record's prompt and responses (the vocabulary of the built-in tokenizer)."""
    texts = [prompt_text(prompt_of(record))]
    texts += [_text_field(record, k, "a record") for k in ("response", "chosen", "rejected") if k in record]
    return [w for t in texts for w in t.split()]


@dataclass
class ScorerCodec(Codec):
    """The policy's tokenizer as the small scoring models read prompts: plain text, left-truncated to ``budget``."""

    budget: int = 0

    def prompt_ids(self, prompt: str) -> list[int]:
        ids = super().prompt_ids(prompt)
        return ids[-self.budget :] if 0 < self.budget < len(ids) else ids


@dataclass(frozen=True)
class Encoder:
    """Prompts and responses in the policy's tokens (chat template or BOS, left truncation to ``budget``)."""

    codec: Codec
    budget: int
    context: int
    chat: bool

    @property
    def uses_template(self) -> bool:
        return self.chat and not self.codec.builtin and bool(getattr(self.codec.tokenizer, "chat_template", None))

    def prompt(self, prompt: Prompt) -> tuple[list[int], bool]:
        """Token ids of a prompt and whether it was truncated from the left."""
        ids = self._full(prompt)
        if len(ids) > self.budget:
            return ids[-self.budget :], True
        return ids, False

    def _full(self, prompt: Prompt) -> list[int]:
        codec, tok = self.codec, self.codec.tokenizer
        if codec.builtin:
            return codec.prompt_ids(prompt_text(prompt))
        if self.uses_template:
            messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
            text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            return list(tok.encode(text, add_special_tokens=False))
        ids = list(tok.encode(prompt_text(prompt) + "\n", add_special_tokens=False))
        bos = tok.bos_token_id
        return [bos, *ids] if bos is not None and (not ids or ids[0] != bos) else ids

    def response(self, text: str, room: int) -> tuple[list[int], bool]:
        """Token ids of a response with EOS, cut on the right to ``room`` tokens; whether it was cut."""
        if self.uses_template:
            ids = [*self.codec.tokenizer.encode(text, add_special_tokens=False), self.codec.eos_id]
        else:
            ids = self.codec.response_ids(text)
        return (ids[:room], True) if len(ids) > room else (ids, False)


@dataclass
class PromptTask:
    """Your prompts with their held-out split, encoded on demand (a :class:`~nlhf_core.llm.batches.TrainingTask`).

    Attributes:
        file: the prompts.
        encoder: the policy's encoding.
        scorer_codec: the scoring models' encoding.
        train_rows, eval_rows: row indices of the training and held-out prompts.
    """

    file: RecordFile
    encoder: Encoder
    scorer_codec: ScorerCodec
    train_rows: np.ndarray
    eval_rows: np.ndarray

    @classmethod
    def split(
        cls, file: RecordFile, encoder: Encoder, scorer_codec: ScorerCodec, seed: int, fraction: float, most: int
    ) -> PromptTask:
        """Hold out ``round(fraction * N)`` prompts (at least 1, at most ``most``) chosen by ``seed``."""
        count = len(file)
        if count < 2:
            raise DataError(
                f"The prompts file {file.path.name!r} holds {count} prompt; give at least two (one is held out)."
            )
        held = min(most, max(1, round(fraction * count)), count - 1)
        order = np.random.default_rng([seed, 17]).permutation(count)
        return cls(file, encoder, scorer_codec, np.sort(order[held:]), np.sort(order[:held]))

    @property
    def codec(self) -> Codec:
        return self.encoder.codec

    def batch(self, rows: Sequence[int], device: torch.device) -> PromptBatch:
        """The prompts at ``rows`` as a :class:`PromptBatch` (``contexts`` are the row indices)."""
        prompts = [prompt_of(r) for r in self.file.rows(rows)]
        encoded = [self.encoder.prompt(p) for p in prompts]
        ids, mask = left_pad([e[0] for e in encoded], self.codec.pad_id, device)
        texts = [prompt_text(p) for p in prompts]
        scorer = [self.scorer_codec.prompt_ids(t) for t in texts]
        return PromptBatch([int(r) for r in rows], ids, mask, texts, scorer, sum(e[1] for e in encoded))

    def draw_prompts(self, generator: torch.Generator, size: int, device: torch.device) -> PromptBatch:
        """``size`` training prompts drawn uniformly with replacement."""
        picks = torch.randint(0, len(self.train_rows), (size,), generator=generator).tolist()
        return self.batch([int(self.train_rows[i]) for i in picks], device)

    def response_stats(self, texts: list[str], responses: torch.Tensor) -> dict[str, float]:
        """``{"unfinished": fraction of responses that reached task.max_new_tokens without EOS}``."""
        finished = (responses == self.codec.eos_id).any(dim=1).float()
        return {"unfinished": float(1.0 - finished.mean())}


@dataclass(frozen=True)
class ExampleCorpus:
    """SFT examples of ``dataset.sft`` drawn uniformly with replacement (implements ``SFTCorpus``)."""

    file: RecordFile
    encoder: Encoder

    def draw(self, generator: torch.Generator, size: int) -> tuple[list[list[int]], list[list[int]], int]:
        picks = torch.randint(0, len(self.file), (size,), generator=generator).tolist()
        prompts, responses, cut = [], [], 0
        for record in self.file.rows(picks):
            ids, short = self.encoder.prompt(prompt_of(record))
            reply, clipped = self.encoder.response(record["response"], self.encoder.context - len(ids))
            prompts.append(ids)
            responses.append(reply)
            cut += short or clipped
        return prompts, responses, cut


@dataclass(frozen=True)
class PairPrompts:
    """The prompts of the preference data as the scoring models read them (implements ``TokenizedPrompts``)."""

    codec: Codec
    prompt_ids: list[list[int]]


def load_pairs(
    file: RecordFile, codec: ScorerCodec, encoder: Encoder, length: int, seed: int
) -> tuple[dict[str, torch.Tensor], PairPrompts, int]:
    """The preference data as the tensors of :data:`nlhf_core.llm.pairs.PAIR_KEYS`, their prompts, and cuts.

    Each pair is shown in a random order (``label = 1`` when ``chosen`` comes first, drawn from
    ``seed``); responses are cut to ``length`` tokens and right-padded. There are no true preferences
    here, so ``p_true`` is the label itself.
    """
    flips = np.random.default_rng([seed, 18]).random(len(file)) < 0.5
    prompts: list[list[int]] = []
    rows: dict[str, list[list[int]]] = {"a": [], "b": []}
    cut = 0
    for k, record in enumerate(file):
        prompts.append(codec.prompt_ids(prompt_text(prompt_of(record))))
        good, c1 = encoder.response(_text_field(record, "chosen", "a record"), length)
        bad, c2 = encoder.response(_text_field(record, "rejected", "a record"), length)
        first, second = (bad, good) if flips[k] else (good, bad)
        rows["a"].append(first)
        rows["b"].append(second)
        cut += c1 + c2
    ya, ma = _pad(rows["a"], codec.pad_id, length)
    yb, mb = _pad(rows["b"], codec.pad_id, length)
    label = torch.tensor(~flips, dtype=torch.float32)
    pairs = {
        "context": torch.arange(len(prompts)), "ya": ya, "ma": ma, "yb": yb, "mb": mb, "label": label,
        "p_true": label.clone(),
    }  # fmt: skip
    return pairs, PairPrompts(codec, prompts), cut


def _pad(rows: list[list[int]], pad_id: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return ids, mask
