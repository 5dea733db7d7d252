"""Shared inputs of the SmolLM2 comparison: real chat prompts, one judge for both trainers, the task file.

The judge prefers shorter answers: ``P(a ≻ b | x) = sigmoid((words(b) - words(a)) / SCALE)`` with
``words`` the number of whitespace-separated words of the response. It is a Bradley–Terry judge with
reward ``r(y) = -words(y) / SCALE``, so TRL 1.13's ``NashMDTrainer`` (which only takes a reward model,
``reward_funcs``, and forms ``sigmoid(r(y) - r(y'))``) gets exactly the same judge as
:class:`ShorterJudge` through :class:`ShorterRewardModel`, a module with the reward-model interface
TRL reads (``getattr(model, model.base_model_prefix)(...)`` then ``model.score``). It decodes the token
ids it receives (prompt and response, padding masked) and counts words; the prompt's words are the same
for ``y`` and ``y'`` (the prompt ends in a newline), so the difference is the responses' alone.

Prompts are :data:`QUESTIONS` in SmolLM2's chat template (with its default system turn). The benchmark gives
them to our trainer as the contexts of a game whose preferences are never used (the judge is the plug-in
above; the category evaluation is not read), so both trainers see exactly the same templated text; the slow
test (``tests/llm/test_smollm2.py``) trains on them as your-own-prompts data instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

#: Words per unit of reward: four words shorter is ``sigmoid(1) = 0.73`` preferred.
SCALE = 4.0
QUESTIONS = (
    "What is the capital of France?",
    "Give me a tip for sleeping better.",
    "Why is the sky blue?",
    "Name three fruits that are red.",
    "How do I boil an egg?",
    "What does a cat eat?",
    "Explain what a computer is.",
    "What is the tallest mountain on Earth?",
    "Suggest a name for a pet dog.",
    "How many days are in a week?",
    "What is photosynthesis?",
    "Write a greeting for a birthday card.",
    "What is the opposite of hot?",
    "Why do we need water?",
    "Tell me something about the Moon.",
    "How can I learn to swim?",
)


def words(text: str) -> int:
    """Number of whitespace-separated words of ``text``."""
    return len(text.split())


def shorter_probability(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """``P(a ≻ b) = sigmoid((words(b) - words(a)) / SCALE)`` per row."""
    diff = np.array([words(y) - words(z) for y, z in zip(b, a, strict=True)], dtype=float)
    return 1.0 / (1.0 + np.exp(-diff / SCALE))


class ShorterJudge:
    """Our judge plug-in (``policy.judge = "benchmarks.lm_smol:ShorterJudge"``): shorter answers win."""

    def __call__(self, prompts: Sequence[str], a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        return shorter_probability(a, b)


class ShorterRewardModel:
    """The same judge for TRL: reward ``-words(decode(ids)) / SCALE`` behind the reward-model interface.

    ``get_reward`` (``trl.experimental.utils``) calls ``getattr(model, model.base_model_prefix)`` with the
    token ids and reads ``model.score(output.last_hidden_state)`` at the last non-padding position; here
    every position of a row carries that row's reward.
    """

    base_model_prefix = "backbone"

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def backbone(self, input_ids: Any, attention_mask: Any, **_: Any) -> SimpleNamespace:
        """``last_hidden_state`` ``(B, T, 1)``: each row's reward ``-words(text) / SCALE`` at every position."""
        import torch

        rows = [ids[mask.bool()].tolist() for ids, mask in zip(input_ids, attention_mask, strict=True)]
        texts = self.tokenizer.batch_decode(rows, skip_special_tokens=False)
        reward = torch.tensor([-words(t) / SCALE for t in texts], dtype=torch.float32)
        return SimpleNamespace(last_hidden_state=reward[:, None, None].expand(len(rows), input_ids.shape[1], 1))

    def score(self, hidden: Any) -> Any:
        return hidden


def chat_prompts(tokenizer: Any) -> list[str]:
    """:data:`QUESTIONS` in the tokenizer's chat template, whitespace collapsed as the category task stores them."""
    from benchmarks.smollm2 import chat_prompt

    return [" ".join(chat_prompt(tokenizer, q).split()) for q in QUESTIONS]


def write_task(folder: Path, prompts: Sequence[str]) -> Path:
    """A game file whose contexts are ``prompts`` (two answers, all preferences 1/2: never used)."""
    game = {
        "name": "smollm2-prompts",
        "labels": ["yes", "no"],
        "contexts": list(prompts),
        "weights": [1.0] * len(prompts),
        "matrix": [[[0.5, 0.5], [0.5, 0.5]] for _ in prompts],
    }
    path = folder / "smollm2-task.json"
    path.write_text(json.dumps(game))
    return path
