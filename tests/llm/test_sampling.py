"""Token-level mixture sampler: logits equal the formula, cached == uncached, teacher-forced log-probs."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from nlhf_core.games.presets import get_preset  # noqa: E402
from nlhf_core.llm.config import ModelConfig  # noqa: E402
from nlhf_core.llm.models import build_policy, build_word_tokenizer  # noqa: E402
from nlhf_core.llm.sampling import Batch, left_pad, mixture_logits, sample, token_logprobs  # noqa: E402
from nlhf_core.llm.task import AnswerTask  # noqa: E402

MODEL = ModelConfig(n_layer=2, n_head=2, n_embd=32)


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(1)  # tiny matrices: more threads only add contention on a shared CPU
    task = AnswerTask.from_game(get_preset("two-prompts"), hedges=["maybe", "surely"])
    codec = build_word_tokenizer(task.words())
    torch.manual_seed(0)
    pi = build_policy(MODEL, codec).eval()
    torch.manual_seed(1)
    mu = build_policy(MODEL, codec).eval()
    # prompts of different lengths in one batch exercise the left padding
    rows = [codec.prompt_ids(task.prompts[k % 2]) for k in range(24)]
    rows[3] = codec.prompt_ids("tell")
    ids, mask = left_pad(rows, codec.pad_id, "cpu")
    return task, codec, pi, mu, ids, mask


def _sample(setup, seed, **kw):
    _, codec, pi, _, ids, mask = setup
    g = torch.Generator().manual_seed(seed)
    return sample(pi, ids, mask, max_new_tokens=5, eos_id=codec.eos_id, pad_id=codec.pad_id, generator=g, **kw)


@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0])
def test_cached_and_uncached_sampling_give_identical_sequences(setup, beta):
    mu = setup[3]
    y1, m1, l1 = _sample(setup, 7, reference=mu, beta=beta, use_cache=True, return_logits=True)
    y2, m2, l2 = _sample(setup, 7, reference=mu, beta=beta, use_cache=False, return_logits=True)
    assert torch.equal(y1, y2) and torch.equal(m1, m2)
    assert torch.allclose(l1, l2, atol=1e-4)


def test_mixture_logits_equal_the_formula(setup):
    """Each token was drawn from softmax((1-beta) logits_pi + beta logits_mu) at its prefix (teacher-forced check)."""
    _, _, pi, mu, ids, mask = setup
    beta = 0.25
    y, m, mixed = _sample(setup, 3, reference=mu, beta=beta, return_logits=True)
    full = torch.cat([ids, y], dim=1)
    fmask = torch.cat([mask, torch.ones_like(y)], dim=1)
    pos = (fmask.cumsum(1) - 1).clamp(min=0)
    L, T = ids.shape[1], mixed.shape[1]
    with torch.no_grad():
        lp = pi(input_ids=full, attention_mask=fmask, position_ids=pos).logits[:, L - 1 : L - 1 + T]
        lm = mu(input_ids=full, attention_mask=fmask, position_ids=pos).logits[:, L - 1 : L - 1 + T]
    expected = (1 - beta) * lp + beta * lm
    real = m[:, :T].bool()
    assert torch.allclose(mixed[real], expected[real], atol=1e-4)
    assert torch.allclose(mixture_logits(lp, lm, beta), expected)
    assert torch.equal(mixture_logits(lp, lm, 0.0), lp)


def test_beta_zero_is_sampling_from_the_policy(setup):
    mu = setup[3]
    a, _ = _sample(setup, 11)
    b, _ = _sample(setup, 11, reference=mu, beta=0.0)
    assert torch.equal(a, b)


def test_responses_stop_at_eos_and_mask_covers_it(setup):
    codec = setup[1]
    y, m = _sample(setup, 5)
    for row, mrow in zip(y.tolist(), m.tolist(), strict=True):
        if codec.eos_id in row:
            k = row.index(codec.eos_id)
            assert mrow[: k + 1] == [1] * (k + 1) and all(v == 0 for v in mrow[k + 1 :])
            assert all(t == codec.pad_id for t in row[k + 1 :])


def test_token_logprobs_sum_to_the_sequence_probability(setup):
    """Exact answer probabilities by teacher forcing: the full distribution over short sequences sums to 1."""
    task, codec, pi, _, _, _ = setup
    import itertools

    V = codec.vocab_size
    prompt = codec.prompt_ids(task.prompts[0])
    seqs = [list(s) for s in itertools.product(range(V), repeat=2)]  # every length-2 continuation
    ids, mask = left_pad([prompt] * len(seqs), codec.pad_id, "cpu")
    r = torch.tensor(seqs)
    with torch.no_grad():
        lp = token_logprobs(pi, Batch(ids, mask, r, torch.ones_like(r))).sum(1)
    assert torch.exp(lp.double()).sum().item() == pytest.approx(1.0, abs=1e-4)
