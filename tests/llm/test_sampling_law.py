"""The law sampled from and the log-probs of the loss: selective log-softmax, logits at response positions only,
temperature / top-k / top-p against an exact enumeration, stop strings."""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from nlhf_core.llm.config import ModelConfig  # noqa: E402
from nlhf_core.llm.models import build_policy, build_word_tokenizer  # noqa: E402
from nlhf_core.llm.sampling import (  # noqa: E402
    Batch,
    Warp,
    left_pad,
    right_pad,
    sample,
    selective_log_softmax,
    stop_strings_check,
    token_logprobs,
)


@pytest.fixture(scope="module")
def tiny():
    """A GPT-2 over 7 tokens ([PAD] [UNK] [SEP] [EOS] a b c) with peaked logits, so every filter removes tokens."""
    torch.set_num_threads(1)
    codec = build_word_tokenizer(["a", "b", "c"])
    torch.manual_seed(3)
    model = build_policy(ModelConfig(n_layer=1, n_head=2, n_embd=16), codec).eval()
    with torch.no_grad():
        model.transformer.wte.weight.mul_(6.0)  # tied with the LM head: logits spread over several nats
    return codec, model


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_selective_log_softmax_equals_the_naive_computation(dtype):
    g = torch.Generator().manual_seed(0)
    logits = (torch.randn(19, 5, 311, generator=g) * 4).to(dtype)
    index = torch.randint(0, 311, (19, 5), generator=g)
    naive = torch.log_softmax(logits.float(), dim=-1).gather(-1, index[..., None]).squeeze(-1)
    fast = selective_log_softmax(logits, index, rows_per_chunk=4)
    assert fast.dtype == torch.float32
    assert torch.allclose(fast, naive, atol=1e-5)


def test_token_logprobs_keep_only_response_logits_and_equal_the_full_forward(tiny):
    codec, model = tiny
    prompts = [codec.prompt_ids("a b"), codec.prompt_ids("c")]
    responses = [codec.response_ids("b"), codec.response_ids("a c a")]
    p_ids, p_mask = left_pad(prompts, codec.pad_id, "cpu")
    r_ids, r_mask = right_pad(responses, codec.pad_id, "cpu")
    batch = Batch(p_ids, p_mask, r_ids, r_mask)
    fast = token_logprobs(model, batch)
    # the naive computation: every position's logits, the full log-softmax, then the response positions
    ids, mask = torch.cat([p_ids, r_ids], 1), torch.cat([p_mask, r_mask], 1)
    pos = (mask.cumsum(1) - 1).clamp(min=0)
    with torch.no_grad():
        full = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits
    L, T = p_ids.shape[1], r_ids.shape[1]
    naive = torch.log_softmax(full[:, L - 1 : L + T - 1], -1).gather(-1, r_ids[..., None]).squeeze(-1) * r_mask
    assert torch.allclose(fast, naive, atol=1e-6)


def test_warp_keeps_top_k_and_the_nucleus():
    logits = torch.log(torch.tensor([[0.5, 0.2, 0.15, 0.1, 0.05]]))
    assert torch.isfinite(Warp(top_k=2)(logits)).tolist() == [[True, True, False, False, False]]
    # mass before each token: 0, .5, .7, .85, .95 -> top_p = 0.8 keeps the first three (0.85 >= 0.8 drops the 4th)
    assert torch.isfinite(Warp(top_p=0.8)(logits)).tolist() == [[True, True, True, False, False]]
    assert torch.allclose(Warp(temperature=0.5)(logits), logits * 2)


WARPS = [Warp(), Warp(temperature=0.6), Warp(temperature=1.4, top_k=3), Warp(temperature=0.8, top_p=0.7)]


@pytest.mark.parametrize("warp", WARPS, ids=["plain", "temperature", "top-k", "top-p"])
def test_sampled_law_equals_the_log_probs_by_exact_enumeration(tiny, warp):
    """Every response of at most 2 tokens: exp(sum of token_logprobs) sums to 1 and equals the frequency with
    which sample() draws it (20,000 draws; each frequency within 4.5 standard errors + 0.002)."""
    codec, model = tiny
    V, eos = codec.vocab_size, codec.eos_id
    sequences = [[eos]] + [[a, b] for a, b in itertools.product(range(V), repeat=2) if a != eos]
    prompt = codec.prompt_ids("b a")
    p_ids, p_mask = left_pad([prompt] * len(sequences), codec.pad_id, "cpu")
    r_ids, r_mask = right_pad(sequences, codec.pad_id, "cpu")
    with torch.no_grad():
        exact = token_logprobs(model, Batch(p_ids, p_mask, r_ids, r_mask), warp).sum(1).exp()
    assert float(exact.sum()) == pytest.approx(1.0, abs=1e-5)
    if warp.top_k or warp.top_p < 1:
        assert bool((exact == 0).any())  # the filters make some responses impossible
    n = 20_000
    ids, mask = left_pad([prompt] * n, codec.pad_id, "cpu")
    y, m = sample(
        model, ids, mask, max_new_tokens=2, eos_id=eos, pad_id=codec.pad_id,
        generator=torch.Generator().manual_seed(11), warp=warp,
    )  # fmt: skip
    rows = zip(y.tolist(), m.tolist(), strict=True)
    drawn = [tuple(t for t, k in zip(row, keep, strict=True) if k) for row, keep in rows]
    counts = {tuple(s): 0 for s in sequences}
    for s in drawn:
        counts[s] += 1
    freq = torch.tensor([counts[tuple(s)] / n for s in sequences], dtype=torch.float64)
    p = exact.double()
    assert bool(((freq - p).abs() <= 4.5 * (p * (1 - p) / n).sqrt() + 2e-3).all())


def test_stop_strings_end_a_response_after_the_completing_token(tiny):
    codec, model = tiny
    ids, mask = left_pad([codec.prompt_ids("a")] * 64, codec.pad_id, "cpu")
    stop = stop_strings_check(codec.decode, ["b"])
    y, m = sample(
        model, ids, mask, max_new_tokens=6, eos_id=codec.eos_id, pad_id=codec.pad_id,
        generator=torch.Generator().manual_seed(0), stop=stop,
    )  # fmt: skip
    b = codec.tokenizer.convert_tokens_to_ids("b")
    hit = 0
    for row, keep in zip(y.tolist(), m.tolist(), strict=True):
        kept = [t for t, k in zip(row, keep, strict=True) if k]
        if b in kept:
            hit += 1
            assert kept.index(b) == len(kept) - 1  # nothing after the token that completed the stop string
    assert hit > 0
    assert stop_strings_check(codec.decode, []) is None
