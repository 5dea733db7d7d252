"""Hugging Face sequence classifiers as RLHF's reward and as judges; judges see the raw response text.

Every model is a tiny random GPT2ForSequenceClassification built from a GPT2Config and saved to a
temporary folder (nothing downloaded); each probability is checked against single-row forward passes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from nlhf_core.errors import ParameterError  # noqa: E402
from nlhf_core.games.presets import get_preset  # noqa: E402
from nlhf_core.llm import resolve_config, run_training  # noqa: E402
from nlhf_core.llm.hf_judges import HFRewardModel, PairwiseJudge, RewardJudge, hf_judge  # noqa: E402
from nlhf_core.llm.models import Codec, build_word_tokenizer, load_codec  # noqa: E402
from nlhf_core.llm.task import AnswerTask  # noqa: E402

TASK = AnswerTask.from_game(get_preset("two-prompts"), hedges=["maybe", "surely"])


def save_classifier(folder: Path, tokenizer, num_labels: int, vocab_size: int | None = None, seed: int = 0) -> Path:
    """A random GPT-2 sequence classifier with ``num_labels`` outputs and ``tokenizer``, saved to ``folder``."""
    from transformers import GPT2Config, GPT2ForSequenceClassification

    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=vocab_size or len(tokenizer), n_positions=64, n_layer=1, n_head=2, n_embd=16,
        num_labels=num_labels, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    GPT2ForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def codec() -> Codec:
    return build_word_tokenizer(TASK.words())


@pytest.fixture(scope="module")
def reward_dir(tmp_path_factory, codec) -> Path:
    return save_classifier(tmp_path_factory.mktemp("rm"), codec.tokenizer, 1)


def _single_logits(folder: Path, first: str, second: str) -> torch.Tensor:
    """One unpadded row through the saved model: the independent reference computation."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    with torch.no_grad():
        return model(**tok(first, second, return_tensors="pt")).logits[0].float()


PROMPTS = ["tell a joke", "tell a joke", "state a fact"]
A = ["maybe short", "surely long", "maybe short surely"]
B = ["surely long", "surely long", "maybe"]


def test_reward_judge_is_bradley_terry_of_the_rewards(reward_dir, codec):
    rm = HFRewardModel(str(reward_dir), codec)
    rewards = rm.score(PROMPTS, A)
    expected = torch.stack([_single_logits(reward_dir, x, y)[0] for x, y in zip(PROMPTS, A, strict=True)])
    assert torch.allclose(rewards, expected, atol=1e-5)  # padding in the batch changes nothing
    judge = hf_judge(f"hf-reward:{reward_dir}", codec)
    assert isinstance(judge, RewardJudge)
    p = judge(PROMPTS, A, B)
    r_b = torch.stack([_single_logits(reward_dir, x, y)[0] for x, y in zip(PROMPTS, B, strict=True)])
    assert np.allclose(p, torch.sigmoid(expected - r_b).numpy(), atol=1e-6)
    assert np.allclose(p + judge(PROMPTS, B, A), 1.0, atol=1e-6)
    assert p[1] == pytest.approx(0.5)  # the same response against itself


def test_reward_model_reads_the_policy_token_ids_like_the_trained_one(reward_dir, codec):
    """The RewardModel interface (prompt ids, response ids, mask) gives the rewards of the decoded texts."""
    rm = HFRewardModel(str(reward_dir), codec)
    from nlhf_core.llm.sampling import right_pad

    y, m = right_pad([codec.response_ids(t) for t in A], codec.pad_id, "cpu")
    by_ids = rm([codec.prompt_ids(x) for x in PROMPTS], y, m)
    assert torch.allclose(by_ids, rm.score(PROMPTS, A), atol=1e-6)


@pytest.mark.parametrize("num_labels", [1, 2])
def test_pairwise_judge_is_symmetrized(tmp_path, codec, num_labels):
    folder = save_classifier(tmp_path / "pair", codec.tokenizer, num_labels, seed=4)
    judge = hf_judge(f"hf-pairwise:{folder}", codec)
    assert isinstance(judge, PairwiseJudge)
    sep = judge.separator

    def p_single(x: str, a: str, b: str) -> float:
        z = _single_logits(folder, x, a + sep + b)
        return float(torch.sigmoid(z[0]) if num_labels == 1 else torch.softmax(z, 0)[1])

    p = judge(PROMPTS, A, B)
    expected = [0.5 * (p_single(x, a, b) + 1 - p_single(x, b, a)) for x, a, b in zip(PROMPTS, A, B, strict=True)]
    assert np.allclose(p, expected, atol=1e-5)
    assert np.allclose(p + judge(PROMPTS, B, A), 1.0, atol=1e-6)
    assert judge(PROMPTS, A, A) == pytest.approx([0.5] * 3)
    raw = judge.win_probability(PROMPTS, A, B).numpy()
    assert not np.allclose(raw + judge.win_probability(PROMPTS, B, A).numpy(), 1.0, atol=1e-4)  # needed symmetrizing


def test_bad_reward_models_are_one_sentence(tmp_path, codec):
    mismatched = save_classifier(tmp_path / "small", codec.tokenizer, 1, vocab_size=5)
    with pytest.raises(ParameterError, match=r"tokens but its model embeds only 5; the tokenizer does not match"):
        HFRewardModel(str(mismatched), codec)
    three = save_classifier(tmp_path / "three", codec.tokenizer, 3)
    with pytest.raises(ParameterError, match=r"has 3 output labels; it needs 1"):
        HFRewardModel(str(three), codec)
    with pytest.raises(ParameterError, match=r"is not a local Hugging Face model directory"):
        hf_judge(f"hf-pairwise:{tmp_path / 'absent'}", codec)
    (tmp_path / "bare").mkdir()
    from transformers import GPT2Config, GPT2ForSequenceClassification

    GPT2ForSequenceClassification(GPT2Config(n_layer=1, n_embd=8, n_head=2, num_labels=1)).save_pretrained(
        tmp_path / "bare"
    )
    with pytest.raises(ParameterError, match=r"has no readable tokenizer"):
        HFRewardModel(str(tmp_path / "bare"), codec)


def _byte_level_codec(folder: Path) -> Codec:
    """A byte-level BPE tokenizer trained in code (keeps every space and newline), loaded as a model directory's."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(["maybe short  answer\n surely long"] * 20, vocab_size=300, special_tokens=["<eos>"])
    fast = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<eos>")
    fast.save_pretrained(folder)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    return load_codec(str(folder), [])


def test_judges_receive_the_raw_response_text(tmp_path):
    codec = _byte_level_codec(tmp_path / "bpe")
    assert not codec.builtin
    for text in ["maybe  short", "surely\nlong ", " answer", "short"]:
        assert codec.decode(codec.response_ids(text)) == text  # spaces and newlines as generated


def test_rlhf_with_an_outside_reward_model_and_a_reward_judge(tmp_path, reward_dir):
    base = [
        "sft.steps=4", "sft.batch_size=8", "policy.steps=2", "policy.batch_size=8", "policy.eval_every=2",
        "preference_model.steps=0", "reward_model.steps=0", "eval.sampled_pairs=0",
    ]  # fmt: skip
    rlhf = [*base, "policy.methods=['rlhf']", f"reward_model.source='{reward_dir}'"]
    summary = run_training(resolve_config("smoke", rlhf), tmp_path / "rlhf")
    assert summary.methods == ["sft", "rlhf"] and summary.rlhf is not None
    assert not (tmp_path / "rlhf" / "checkpoints" / "reward-model").exists()  # nothing trained: the outside model
    nash = [*base, "policy.methods=['nash-md-pg']", f"policy.judge='hf-reward:{reward_dir}'"]
    summary = run_training(resolve_config("smoke", nash), tmp_path / "nash")
    assert summary.judge == f"hf-reward:{reward_dir}"
    with pytest.raises(ParameterError, match="not a local Hugging Face model directory"):
        run_training(
            resolve_config("smoke", [*base, "policy.judge='hf-pairwise:/nowhere'", "policy.methods=['self-play']"]),
            tmp_path / "bad",
        )
