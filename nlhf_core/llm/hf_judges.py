"""Hugging Face sequence-classification models as RLHF's reward and as judges of the NLHF methods.

* :class:`HFRewardModel`: a local ``AutoModelForSequenceClassification`` directory with
  ``num_labels = 1``; its logit on ``(prompt, response)`` is the reward ``r(x, y)``. It is RLHF's
  signal with ``reward_model.source = DIR`` (the Bradley–Terry baseline of Munos et al. 2024, Section 2).
* :class:`RewardJudge` (``policy.judge = "hf-reward:DIR"``): the Bradley–Terry preference of a reward
  model, ``P(a ≻ b | x) = sigmoid(r(x, a) - r(x, b))``.
* :class:`PairwiseJudge` (``policy.judge = "hf-pairwise:DIR"``): a sequence classifier that reads the
  prompt and both responses; ``p(a, b)`` is its probability that ``a`` wins (``sigmoid`` of one logit,
  or ``softmax`` index 1 of two). Symmetrized, ``P(a ≻ b) = (p(a, b) + 1 - p(b, a)) / 2``, so
  ``P(a ≻ b) + P(b ≻ a) = 1`` as the game of Section 3 requires.

Inputs: with a chat template, the model's own template over ``[user: prompt, assistant: response]``;
otherwise the text pair ``(prompt, response)`` (pairwise: ``(prompt, a + SEP + b)``, ``SEP`` the
tokenizer's separator token or a blank line), truncated to the model's positions. Judges see the
raw response text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nlhf_core.errors import ParameterError
from nlhf_core.llm.models import Codec

REWARD_PREFIX, PAIRWISE_PREFIX = "hf-reward:", "hf-pairwise:"
#: Files of which a saved tokenizer has at least one.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "tokenizer.model")
#: Rows per forward pass of a scoring model.
CHUNK = 64


class HFClassifier:
    """A local sequence-classification model and its tokenizer, checked once when loaded."""

    def __init__(self, source: str, labels: tuple[int, ...], role: str, device: torch.device | str = "cpu") -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = Path(source).expanduser()
        if not path.is_dir() or not (path / "config.json").is_file():
            raise ParameterError(
                f"The {role} {source!r} is not a local Hugging Face model directory with a config.json; "
                f"give the folder a sequence-classification model was saved to."
            )
        no_tokenizer = ParameterError(
            f"The {role} in {source!r} has no readable tokenizer; save its tokenizer with "
            f"tokenizer.save_pretrained into the same folder."
        )
        if not any((path / name).is_file() for name in TOKENIZER_FILES):
            raise no_tokenizer
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError):
            raise no_tokenizer from None
        model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True)
        if model.config.num_labels not in labels:
            want = " or ".join(map(str, labels))
            raise ParameterError(
                f"The {role} in {source!r} has {model.config.num_labels} output labels; it needs {want} "
                f"(AutoModelForSequenceClassification with num_labels={labels[0]})."
            )
        rows = model.get_input_embeddings().num_embeddings
        if len(self.tokenizer) > rows:
            raise ParameterError(
                f"The tokenizer in {source!r} has {len(self.tokenizer)} tokens but its model embeds only {rows}; "
                f"the tokenizer does not match the {role}: save the model with the tokenizer it was trained with."
            )
        if self.tokenizer.pad_token_id is None:
            if self.tokenizer.eos_token_id is None:
                raise ParameterError(
                    f"The tokenizer of the {role} in {source!r} has neither a padding nor an EOS token; "
                    f"set tokenizer.pad_token and save it again."
                )
            self.tokenizer.pad_token = self.tokenizer.eos_token
        model.config.pad_token_id = self.tokenizer.pad_token_id
        self.tokenizer.padding_side = "right"
        self.model = model.to(device).eval().requires_grad_(False)
        self.device = device
        config = model.config
        positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
        self.max_length = int(min(positions or 1 << 30, self.tokenizer.model_max_length))

    def _encode(self, first: Sequence[str], second: Sequence[str]) -> dict[str, torch.Tensor]:
        tok = self.tokenizer
        if getattr(tok, "chat_template", None):
            texts = [
                tok.apply_chat_template(
                    [{"role": "user", "content": x}, {"role": "assistant", "content": y}], tokenize=False
                )
                for x, y in zip(first, second, strict=True)
            ]
            enc = tok(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        else:
            enc = tok(
                list(first), list(second), padding=True, truncation=True, max_length=self.max_length,
                return_tensors="pt",
            )  # fmt: skip
        return {k: v.to(self.device) for k, v in enc.items() if k in ("input_ids", "attention_mask")}

    @torch.no_grad()
    def logits(self, first: Sequence[str], second: Sequence[str]) -> torch.Tensor:
        """``(N, num_labels)`` float32 logits of the text pairs, in chunks of :data:`CHUNK` rows."""
        out = [
            self.model(**self._encode(first[i : i + CHUNK], second[i : i + CHUNK])).logits.float()
            for i in range(0, len(first), CHUNK)
        ]
        return torch.cat(out) if out else torch.zeros((0, self.model.config.num_labels))


class HFRewardModel(nn.Module):
    """``r(x, y)``: the single logit of a sequence-classification model (``reward_model.source = DIR``).

    ``forward`` takes the policy's token ids (the interface of
    :class:`~nlhf_core.llm.models.RewardModel`) and decodes them with ``codec``; :meth:`score`
    takes texts directly.
    """

    def __init__(self, source: str, codec: Codec, device: torch.device | str = "cpu") -> None:
        super().__init__()
        self.classifier = HFClassifier(source, (1,), "reward model", device)
        self.codec = codec

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> torch.Tensor:
        """``(N,)`` float32 rewards of the raw texts."""
        return self.classifier.logits(prompts, responses)[:, 0]

    def forward(self, prompts: list[list[int]], responses: torch.Tensor, r_mask: torch.Tensor) -> torch.Tensor:
        tok = self.codec.tokenizer
        prompt_texts = [tok.decode(ids, skip_special_tokens=True).strip() for ids in prompts]
        return self.score(prompt_texts, self.codec.decode_batch(responses)).to(responses.device)


class RewardJudge:
    """Bradley–Terry judge of a reward model: ``P(a ≻ b | x) = sigmoid(r(x, a) - r(x, b))``."""

    def __init__(self, reward: HFRewardModel) -> None:
        self.reward = reward

    def __call__(self, prompts: Sequence[str], responses_a: Sequence[str], responses_b: Sequence[str]) -> np.ndarray:
        r = self.reward.score([*prompts, *prompts], [*responses_a, *responses_b])
        n = len(prompts)
        return torch.sigmoid(r[:n] - r[n:]).cpu().numpy()


class PairwiseJudge:
    """A pairwise classifier, symmetrized: ``P(a ≻ b) = (p(a, b) + 1 - p(b, a)) / 2``."""

    def __init__(self, source: str, device: torch.device | str = "cpu") -> None:
        self.classifier = HFClassifier(source, (1, 2), "pairwise judge", device)
        sep = self.classifier.tokenizer.sep_token
        self.separator = f" {sep} " if sep else "\n\n"

    def win_probability(self, prompts: Sequence[str], first: Sequence[str], second: Sequence[str]) -> torch.Tensor:
        """``p(a, b)``: the classifier's probability that the first response wins (not symmetrized)."""
        pairs = [a + self.separator + b for a, b in zip(first, second, strict=True)]
        z = self.classifier.logits(prompts, pairs)
        return torch.sigmoid(z[:, 0]) if z.shape[1] == 1 else torch.softmax(z, dim=1)[:, 1]

    def __call__(self, prompts: Sequence[str], responses_a: Sequence[str], responses_b: Sequence[str]) -> np.ndarray:
        n = len(prompts)
        p = self.win_probability([*prompts, *prompts], [*responses_a, *responses_b], [*responses_b, *responses_a])
        return (0.5 * (p[:n] + 1.0 - p[n:])).cpu().numpy()


def hf_judge(spec: str, codec: Codec, device: torch.device | str = "cpu") -> RewardJudge | PairwiseJudge | None:
    """The judge named by ``policy.judge`` = ``hf-reward:DIR`` or ``hf-pairwise:DIR`` (None for other values)."""
    if spec.startswith(REWARD_PREFIX):
        return RewardJudge(HFRewardModel(spec[len(REWARD_PREFIX) :], codec, device))
    if spec.startswith(PAIRWISE_PREFIX):
        return PairwiseJudge(spec[len(PAIRWISE_PREFIX) :], device)
    return None
