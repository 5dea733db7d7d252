"""Tokenizers, policies and scoring models: the tiny built-in GPT-2 or any local Hugging Face causal LM.

The built-in default needs nothing downloaded: a word-level tokenizer built in code
(``tokenizers.models.WordLevel`` wrapped in ``transformers.PreTrainedTokenizerFast``) and a
``GPT2LMHeadModel`` built from a ``GPT2Config``. ``model.source`` may instead name a local
directory holding any ``AutoModelForCausalLM`` and its tokenizer, or a LoRA adapter folder
(:mod:`nlhf_core.llm.lora`), (loaded with
``local_files_only=True``; ``HF_HUB_OFFLINE`` is set so nothing is fetched).

The preference model and the reward model are small transformers (a ``GPT2Model`` backbone and a
scalar head) that read token ids of the policy's tokenizer:

* reward model ``r(x, y) = head(h_last(x, y, EOS))`` trained with the Bradley–Terry loss;
* preference model ``P(y ≻ y' | x) = sigmoid(f(x, y, y') - f(x, y', y))`` with
  ``f = head(h_last(x, y, EOS, y', EOS))``; the difference makes it antisymmetric, so
  ``P(y ≻ y') + P(y' ≻ y) = 1`` and ``P(y ≻ y) = 1/2`` exactly, as a preference must be.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nlhf_core.errors import ParameterError
from nlhf_core.llm.config import ModelConfig
from nlhf_core.llm.lora import is_adapter_dir, load_adapter_model, tokenizer_dir

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PAD, UNK, SEP, EOS = "[PAD]", "[UNK]", "[SEP]", "[EOS]"
#: Positions of the tiny models (prompt + response, or prompt + two responses for the preference model).
TINY_POSITIONS = 64


@dataclass
class Codec:
    """Text <-> token ids for prompts and responses (one per run, shared by every model).

    A prompt is encoded as ``tokens(prompt) + [SEP]`` (built-in tokenizer) or
    ``tokens(prompt + "\\n")`` (a Hugging Face tokenizer); a response is ``tokens(" " + text) + [EOS]``.
    """

    tokenizer: Any
    eos_id: int
    pad_id: int
    builtin: bool

    @property
    def vocab_size(self) -> int:
        return len(self.tokenizer)

    def prompt_ids(self, prompt: str) -> list[int]:
        if self.builtin:
            return [*self.tokenizer.encode(prompt, add_special_tokens=False), self.tokenizer.sep_token_id]
        return self.tokenizer.encode(prompt + "\n", add_special_tokens=False)

    def response_ids(self, text: str) -> list[int]:
        prefix = "" if self.builtin else " "
        return [*self.tokenizer.encode(prefix + text, add_special_tokens=False), self.eos_id]

    def decode(self, ids: Sequence[int]) -> str:
        """Raw text of a response: the tokens before the first EOS, without padding (and without the
        space :meth:`response_ids` puts first), whitespace as generated; the inverse of :meth:`response_ids`."""
        ids = list(ids)
        if self.eos_id in ids:
            ids = ids[: ids.index(self.eos_id)]
        ids = [i for i in ids if i != self.pad_id or self.pad_id == self.eos_id]
        text = self.tokenizer.decode(ids, skip_special_tokens=False)
        if self.builtin:  # words joined by single spaces
            return " ".join(text.split())
        return text[1:] if text.startswith(" ") else text

    def decode_batch(self, responses: torch.Tensor) -> list[str]:
        return [self.decode(row) for row in responses.tolist()]


def build_word_tokenizer(words: Sequence[str]) -> Codec:
    """A word-level tokenizer over ``words`` (deduplicated, order kept) plus ``[PAD] [UNK] [SEP] [EOS]``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab: dict[str, int] = {}
    for word in (PAD, UNK, SEP, EOS, *words):
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=PAD, unk_token=UNK, sep_token=SEP, eos_token=EOS)
    return Codec(fast, eos_id=vocab[EOS], pad_id=vocab[PAD], builtin=True)


def _check_dir(source: str) -> Path:
    path = Path(source).expanduser()
    if is_adapter_dir(path):  # a LoRA adapter folder: its base model with the adapter merged in
        return path
    if not path.is_dir() or not (path / "config.json").is_file():
        raise ParameterError(
            f"model.source {source!r} is neither 'tiny' nor a local Hugging Face model directory with a "
            f"config.json; give 'tiny' or the path of a saved model."
        )
    return path


def load_codec(source: str, words: Sequence[str]) -> Codec:
    """The tokenizer of ``source``: built in code for ``'tiny'``, else the directory's own tokenizer."""
    if source == "tiny":
        return build_word_tokenizer(words)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir(_check_dir(source)), local_files_only=True)
    if tok.eos_token_id is None:
        raise ParameterError(f"The tokenizer in {source!r} has no EOS token; pick a model whose tokenizer defines one.")
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    return Codec(tok, eos_id=tok.eos_token_id, pad_id=pad, builtin=False)


def tiny_gpt2_config(vocab_size: int, n_layer: int, n_head: int, n_embd: int) -> Any:
    from transformers import GPT2Config

    return GPT2Config(
        vocab_size=vocab_size,
        n_positions=TINY_POSITIONS,
        n_layer=n_layer,
        n_head=n_head,
        n_embd=n_embd,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=0,
        eos_token_id=0,
    )


def build_policy(model: ModelConfig, codec: Codec) -> nn.Module:
    """A fresh policy: the tiny GPT-2 (``model.source = 'tiny'``) or the pretrained local model."""
    if model.source == "tiny":
        from transformers import GPT2LMHeadModel

        return GPT2LMHeadModel(tiny_gpt2_config(codec.vocab_size, model.n_layer, model.n_head, model.n_embd))
    from transformers import AutoModelForCausalLM

    path = _check_dir(model.source)
    if is_adapter_dir(path):
        return load_adapter_model(path)
    return AutoModelForCausalLM.from_pretrained(path, local_files_only=True)


class Scorer(nn.Module):
    """A small GPT-2 backbone with a scalar head read at the last real token of each (right-padded) row."""

    def __init__(self, vocab_size: int, n_layer: int, n_embd: int) -> None:
        super().__init__()
        from transformers import GPT2Model

        self.backbone = GPT2Model(tiny_gpt2_config(vocab_size, n_layer, 2, n_embd))
        self.head = nn.Linear(n_embd, 1)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.backbone(input_ids=ids, attention_mask=mask).last_hidden_state
        last = mask.long().sum(dim=1) - 1
        h = hidden[torch.arange(ids.shape[0], device=ids.device), last]
        return self.head(h.float()).squeeze(-1)


def _strip(row: list[int], r_mask: list[int], eos_id: int) -> list[int]:
    """Response tokens without padding and with exactly one trailing EOS (a truncated response gets one)."""
    ids = [t for t, m in zip(row, r_mask, strict=True) if m]
    if ids and ids[-1] == eos_id:
        return ids
    return [*ids, eos_id]


def pack(rows: list[list[int]], pad_id: int, device: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad lists of ids into ``(ids, mask)``."""
    from nlhf_core.llm.sampling import right_pad

    return right_pad(rows, pad_id, device)


class RewardModel(nn.Module):
    """``r(x, y)``: Bradley–Terry reward of a response (Munos et al. 2024, Section 2, the RLHF baseline)."""

    def __init__(self, vocab_size: int, n_layer: int, n_embd: int, eos_id: int, pad_id: int) -> None:
        super().__init__()
        self.scorer = Scorer(vocab_size, n_layer, n_embd)
        self.eos_id, self.pad_id = eos_id, pad_id

    def forward(self, prompts: list[list[int]], responses: torch.Tensor, r_mask: torch.Tensor) -> torch.Tensor:
        pairs = zip(responses.tolist(), r_mask.tolist(), strict=True)
        rows = [p + _strip(y, m, self.eos_id) for p, (y, m) in zip(prompts, pairs, strict=True)]
        ids, mask = pack(rows, self.pad_id, responses.device)
        return self.scorer(ids, mask)


class PreferenceModel(nn.Module):
    """``P(y ≻ y' | x) = sigmoid(f(x, y, y') - f(x, y', y))``: antisymmetric by construction.

    ``forward`` returns the logit ``f(x, y, y') - f(x, y', y)`` (both orders go through one batched pass).
    """

    def __init__(self, vocab_size: int, n_layer: int, n_embd: int, eos_id: int, pad_id: int) -> None:
        super().__init__()
        self.scorer = Scorer(vocab_size, n_layer, n_embd)
        self.eos_id, self.pad_id = eos_id, pad_id

    def forward(
        self, prompts: list[list[int]], ya: torch.Tensor, ma: torch.Tensor, yb: torch.Tensor, mb: torch.Tensor
    ) -> torch.Tensor:
        a = [_strip(y, m, self.eos_id) for y, m in zip(ya.tolist(), ma.tolist(), strict=True)]
        b = [_strip(y, m, self.eos_id) for y, m in zip(yb.tolist(), mb.tolist(), strict=True)]
        rows = [p + u + v for p, u, v in zip(prompts, a, b, strict=True)]
        rows += [p + v + u for p, u, v in zip(prompts, a, b, strict=True)]
        ids, mask = pack(rows, self.pad_id, ya.device)
        f = self.scorer(ids, mask)
        half = len(prompts)
        return f[:half] - f[half:]
