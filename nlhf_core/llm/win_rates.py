"""Win-rate matrices of trained policies: exact under the true game, and under the learned preference model.

* **True game (exact).** Every policy's answer-category distribution ``a_x`` is exact (teacher
  forcing, :mod:`nlhf_core.llm.evaluation`), hence so is ``W[A, B] = P(A ≻ B) = sum_x rho(x) a_x^T
  P_ext(x) b_x``, with ``W + W^T = 1`` and ``W[A, A] = 1/2``.
* **Learned preference model.** The same formula with ``P_ext`` replaced by the preference model's
  category matrix ``Q(x)[i, j] = sigmoid(f(x, a_i, a_j) - f(x, a_j, a_i))`` over the valid answers
  (antisymmetric by construction, so ``Q + Q^T = 1``); the malformed category keeps its true row (it
  loses to every answer and ties itself) because malformed text is a set of strings with no single
  model score.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nlhf_core.games.metrics import context_win_rate
from nlhf_core.llm.config import TrainingConfig
from nlhf_core.llm.summary import TrainingSummary
from nlhf_core.llm.task import AnswerTask


def distributions(summary: TrainingSummary) -> dict[str, np.ndarray]:
    """``(C, n+1)`` exact answer distributions of every policy of a run."""
    prompts, labels, answers = summary.prompts, summary.labels, summary.answer_distributions
    assert prompts is not None and labels is not None and answers is not None, "a category-task summary"
    return {m: np.array([[d[x][lab] for lab in labels] for x in prompts], dtype=float) for m, d in answers.items()}


def win_matrix(dists: Sequence[np.ndarray], P: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``W[a, b] = sum_x rho(x) d_a(x)^T P(x) d_b(x)``, made exactly complementary (``W + W^T = 1``).

    ``P`` is ``(C, k, k)`` with ``P + P^T = 1`` per context; the upper triangle is computed and
    the lower one set to ``1 - W^T`` so rounding never breaks the identity; the diagonal is 1/2.
    """
    D = np.stack(dists)  # (M, C, k)
    W = context_win_rate(P, D[:, None], D[None, :], rho)
    upper = np.triu(W, 1)
    W = upper + np.tril(1.0 - upper.T, -1)
    np.fill_diagonal(W, 0.5)
    return W


def preference_model_matrices(run_dir: Path, config: TrainingConfig, task: AnswerTask) -> np.ndarray | None:
    """``(C, n+1, n+1)``: the trained preference model's ``P(i ≻ j | x)`` on the valid answers, true malformed rows.

    ``None`` when the run trained no preference model (``preference_model.steps = 0``). The weights are
    verified against the stage's checksums first (a damaged or modified file raises ``CheckpointError``).
    """
    folder = run_dir / "checkpoints" / "preference-model"
    if not (folder / "model.safetensors").exists():
        return None
    import torch

    from nlhf_core.llm.checkpoints import load_final
    from nlhf_core.llm.judges import PreferenceModelJudge
    from nlhf_core.llm.models import PreferenceModel, load_codec

    codec = load_codec(config.model.source, task.words())
    size = config.preference_model
    model = PreferenceModel(codec.vocab_size, size.n_layer, size.n_embd, codec.eos_id, codec.pad_id)
    if load_final(folder, {"model": model}) is None:  # weights without done.json: the stage never finished
        return None
    model.eval()
    judge = PreferenceModelJudge(model, codec, torch.device("cpu"))
    n = task.n
    Q = task.extended_matrices().copy()
    for c, prompt in enumerate(task.prompts):
        a = [task.answers[i] for i in range(n) for _ in range(n)]
        b = [task.answers[j] for _ in range(n) for j in range(n)]
        Q[c, :n, :n] = np.asarray(judge([prompt] * (n * n), a, b), dtype=float).reshape(n, n)
    return Q


def reward_model_rewards(run_dir: Path, config: TrainingConfig, task: AnswerTask) -> np.ndarray | None:
    """``(C, n)``: the trained reward model's ``r(x, a_i)`` for every prompt and valid answer, centred per prompt
    (a reward is defined up to a constant per prompt; ``summary.json``'s ``rlhf.rewards`` are centred alike).

    ``None`` when the run trained no reward model.
    """
    path = run_dir / "checkpoints" / "reward-model" / "model.safetensors"
    if not path.exists():
        return None
    import torch

    from nlhf_core.llm.models import RewardModel, load_codec, pack
    from nlhf_core.llm.runtime import load_weights

    codec = load_codec(config.model.source, task.words())
    size = config.preference_model  # the reward model has the preference model's size
    model = RewardModel(codec.vocab_size, size.n_layer, size.n_embd, codec.eos_id, codec.pad_id)
    load_weights(model, path)
    model.eval()
    ids, mask = pack([codec.response_ids(a) for a in task.answers], codec.pad_id, torch.device("cpu"))
    with torch.no_grad():
        rows = [model([codec.prompt_ids(p)] * task.n, ids, mask).float().numpy() for p in task.prompts]
    rewards = np.asarray(rows, dtype=float)
    return rewards - rewards.mean(axis=1, keepdims=True)
