"""The task in tokens, and a batch of prompts drawn from it.

:class:`EncodedTask` is the task of a run with its tokenizer: the prompt and answer token ids and
the prompt weights ``rho``. A step draws prompts ``x ~ rho`` with its own generator and gets a
:class:`PromptBatch` (the contexts, the left-padded token ids and the texts), which is what every
policy-optimization method of :mod:`nlhf_core.llm.methods` takes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nlhf_core.llm.models import Codec
from nlhf_core.llm.sampling import left_pad
from nlhf_core.llm.task import AnswerTask


@dataclass(frozen=True)
class PromptBatch:
    """``B`` prompts: context indices, left-padded ids ``(B, L)`` with their mask, and the prompt texts."""

    contexts: list[int]
    ids: torch.Tensor
    mask: torch.Tensor
    texts: list[str]
    token_lists: list[list[int]]

    def __len__(self) -> int:
        return len(self.contexts)


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
