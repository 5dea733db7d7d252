"""Judges: who says ``P(y ≻ y' | x)`` during training and evaluation.

A judge is any callable ``judge(prompts, responses_a, responses_b) -> probabilities`` taking three
equally long lists of strings (the raw response texts) and returning one probability per row that
``a`` is preferred to ``b``. These kinds plug in through ``policy.judge``:

* ``"oracle"``: the true game (exact ``P_ext[x, cat(a), cat(b)]``, malformed included);
* ``"preference-model"``: the pairwise preference model trained on the labelled pairs;
* ``"hf-reward:DIR"`` / ``"hf-pairwise:DIR"``: a Hugging Face sequence classifier
  (:mod:`nlhf_core.llm.hf_judges`);
* ``"package.module:name"``: any importable callable (an LLM judge of your own); ``name`` may be a
  factory that is called once with no arguments if it is a class.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

import numpy as np
import torch

from nlhf_core.errors import ParameterError
from nlhf_core.llm.models import Codec, PreferenceModel
from nlhf_core.llm.task import AnswerTask

#: ``judge(prompts, responses_a, responses_b) -> P(a ≻ b | x)`` per row.
JudgeFn = Callable[[Sequence[str], Sequence[str], Sequence[str]], "Sequence[float] | np.ndarray"]


class OracleJudge:
    """The true preferences: ``P_ext(x)[cat(a), cat(b)]`` from the task's extended game."""

    def __init__(self, task: AnswerTask) -> None:
        self.task = task
        self.P = task.extended_matrices()

    def __call__(self, prompts: Sequence[str], responses_a: Sequence[str], responses_b: Sequence[str]) -> np.ndarray:
        ctx = [self.task.context_of(p) for p in prompts]
        a = [self.task.parse(t) for t in responses_a]
        b = [self.task.parse(t) for t in responses_b]
        return self.P[ctx, a, b]


class PreferenceModelJudge:
    """A trained :class:`~nlhf_core.llm.models.PreferenceModel` behind the text interface."""

    def __init__(self, model: PreferenceModel, codec: Codec, device: torch.device | str = "cpu") -> None:
        self.model, self.codec, self.device = model, codec, device

    @torch.no_grad()
    def __call__(self, prompts: Sequence[str], responses_a: Sequence[str], responses_b: Sequence[str]) -> np.ndarray:
        from nlhf_core.llm.models import pack

        p_ids = [self.codec.prompt_ids(p) for p in prompts]
        ya, ma = pack([self.codec.response_ids(t) for t in responses_a], self.codec.pad_id, self.device)
        yb, mb = pack([self.codec.response_ids(t) for t in responses_b], self.codec.pad_id, self.device)
        return torch.sigmoid(self.model(p_ids, ya, ma, yb, mb)).float().cpu().numpy()


def import_callable(path: str) -> JudgeFn:
    """Import ``"package.module:name"`` (or ``"package.module.name"``) and return the callable."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ParameterError(
            f"policy.judge {path!r} is not 'oracle', 'preference-model', 'hf-reward:DIR', 'hf-pairwise:DIR' or an "
            f"import path like 'mypkg.judges:score'."
        )
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise ParameterError(f"Cannot import the judge {path!r} ({err}); check the module path and name.") from None
    if isinstance(obj, type):
        obj = obj()
    if not callable(obj):
        raise ParameterError(f"The judge {path!r} is not callable; give a function judge(prompts, a, b).")
    return obj


def call_judge(judge: JudgeFn, prompts: Sequence[str], a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Call a judge and check what it returns: one probability in [0, 1] per row.

    Each kind of bad answer (not numbers, the wrong count, NaN or infinity, outside [0, 1]) raises
    :class:`~nlhf_core.errors.ParameterError` with its own sentence; the run's last checkpoint stays, so
    the run resumes once the judge is fixed.
    """
    try:
        answer = judge(list(prompts), list(a), list(b))
    except Exception as err:  # the judge is the user's code: report it in one sentence, never a traceback
        raise ParameterError(f"The judge raised {type(err).__name__} ({err}); fix it and resume the run.") from None
    try:
        out = np.asarray(answer, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ParameterError(
            "The judge returned something that is not a list of numbers; return one probability per pair."
        ) from None
    if out.shape[0] != len(prompts):
        raise ParameterError(
            f"The judge returned {out.shape[0]} values for {len(prompts)} pairs; return one probability per pair."
        )
    if not np.all(np.isfinite(out)):
        raise ParameterError(
            f"The judge returned NaN or infinity for {int((~np.isfinite(out)).sum())} of {len(prompts)} pairs; "
            f"return a probability in [0, 1] for every pair."
        )
    if np.any((out < 0) | (out > 1)):
        worst = float(out[np.argmax(np.maximum(out - 1, -out))])
        raise ParameterError(
            f"The judge returned {worst:g}, outside [0, 1]; return probabilities (e.g. apply a sigmoid to scores)."
        )
    return out


def methods_judge(
    judge_setting: str,
    oracle_task: AnswerTask | None,
    scorer_codec: Codec,
    preference_model: PreferenceModel | None,
    device: torch.device,
    plug_in: JudgeFn | None,
) -> JudgeFn | None:
    """The NLHF methods' judge: the plug-in named by ``policy.judge``, the true game, or the preference model.

    Args:
        judge_setting: the ``policy.judge`` setting (``"oracle"``, ``"preference-model"`` or a plug-in's name).
        oracle_task: the category task (None for your own prompts, which have no true game).
        scorer_codec: the tokenizer the preference model reads.
        preference_model: the trained preference model, or None when none was trained.
        device: where the preference model runs.
        plug_in: the imported plug-in judge (or a Hugging Face judge), when the setting names one.

    Returns:
        The judge, or None when no method asks one (only RLHF is trained).
    """
    if plug_in is not None:
        return plug_in
    if judge_setting == "oracle" and oracle_task is not None:
        return OracleJudge(oracle_task)
    if preference_model is None:  # only RLHF is trained: no method asks a judge
        return None
    return PreferenceModelJudge(preference_model, scorer_codec, device)
