"""The task in tokens, and a batch of prompts drawn from it.

:class:`EncodedTask` is the category task of a run with its tokenizer: the prompt and answer token
ids and the prompt weights ``rho``. A step draws prompts ``x ~ rho`` with its own generator and gets
a :class:`PromptBatch` (the contexts, the left-padded token ids and the texts), which is what every
policy-optimization method of :mod:`nlhf_core.llm.methods` takes. The free-form task of your own
prompts (:class:`nlhf_core.llm.prompts.PromptTask`) offers the same :class:`TrainingTask` interface.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from nlhf_core.llm.models import Codec
from nlhf_core.llm.sampling import left_pad
from nlhf_core.llm.task import AnswerTask


@dataclass(frozen=True)
class PromptBatch:
    """``B`` prompts: context indices, left-padded ids ``(B, L)`` with their mask, and the prompt texts.

    ``token_lists`` are the prompts as the scoring models (reward and preference model) read them;
    ``truncated`` counts the prompts cut from the left to fit the model's context.
    """

    contexts: list[int]
    ids: torch.Tensor
    mask: torch.Tensor
    texts: list[str]
    token_lists: list[list[int]]
    truncated: int = 0

    def __len__(self) -> int:
        return len(self.contexts)


class TokenizedPrompts(Protocol):
    """Prompts in tokens as the scoring models read them (what the preference and reward model stages need)."""

    @property
    def codec(self) -> Codec: ...

    @property
    def prompt_ids(self) -> Sequence[list[int]]: ...


class SFTCorpus(Protocol):
    """Draws SFT examples: ``(prompt ids, response ids, count of truncated examples)``."""

    def draw(self, generator: torch.Generator, size: int) -> tuple[list[list[int]], list[list[int]], int]: ...


class TrainingTask(Protocol):
    """What the policy-optimization loop needs of a task (the category task or your own prompts)."""

    @property
    def codec(self) -> Codec: ...

    @property
    def scorer_codec(self) -> Codec: ...

    def draw_prompts(self, generator: torch.Generator, size: int, device: torch.device) -> PromptBatch: ...

    def response_stats(self, texts: list[str], responses: torch.Tensor) -> dict[str, float]: ...


@dataclass(frozen=True)
class CategoryCorpus:
    """The category task's SFT corpus: ``x ~ rho``, then answer ``a ~ distribution[x]``."""

    encoded: EncodedTask
    distribution: torch.Tensor

    def draw(self, generator: torch.Generator, size: int) -> tuple[list[list[int]], list[list[int]], int]:
        contexts = self.encoded.draw_contexts(generator, size)
        answers = [int(torch.multinomial(self.distribution[x], 1, generator=generator)) for x in contexts]
        prompts = [self.encoded.prompt_ids[x] for x in contexts]
        return prompts, [self.encoded.answer_ids[a] for a in answers], 0


@dataclass(frozen=True)
class EncodedTask:
    """A task with its tokenizer: prompt and answer token ids, and the prompt distribution ``rho``."""

    task: AnswerTask
    codec: Codec
    prompt_ids: list[list[int]]
    answer_ids: list[list[int]]
    context_weights: torch.Tensor

    @classmethod
    def of(cls, task: AnswerTask, codec: Codec) -> EncodedTask:
        """Encode every prompt and answer of ``task`` with ``codec``."""
        return cls(
            task,
            codec,
            [codec.prompt_ids(p) for p in task.prompts],
            [codec.response_ids(a) for a in task.answers],
            torch.tensor(task.weights, dtype=torch.float64),
        )

    def draw_contexts(self, generator: torch.Generator, size: int) -> list[int]:
        """``size`` prompt indices ``x ~ rho`` (with replacement)."""
        return torch.multinomial(self.context_weights, size, replacement=True, generator=generator).tolist()

    def prompts(self, contexts: list[int], device: torch.device) -> PromptBatch:
        """The :class:`PromptBatch` of the given prompt indices, on ``device``."""
        token_lists = [self.prompt_ids[x] for x in contexts]
        ids, mask = left_pad(token_lists, self.codec.pad_id, device)
        return PromptBatch(list(contexts), ids, mask, [self.task.prompts[x] for x in contexts], token_lists)

    def draw_prompts(self, generator: torch.Generator, size: int, device: torch.device) -> PromptBatch:
        """``size`` prompts ``x ~ rho`` as a :class:`PromptBatch` on ``device``."""
        return self.prompts(self.draw_contexts(generator, size), device)

    @property
    def scorer_codec(self) -> Codec:
        """The tokenizer of the preference and reward models (the policy's)."""
        return self.codec

    def response_stats(self, texts: list[str], responses: torch.Tensor) -> dict[str, float]:
        """``{"malformed": fraction of responses that are no valid answer}``."""
        return {"malformed": sum(self.task.parse(t) == self.task.n for t in texts) / len(texts)}
