"""Training as practitioners expect: accumulation = one batch, schedules, clipping, dropout modes, checkpointing."""

from __future__ import annotations

import contextlib
import math

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from nlhf_core.llm.config import ComputeConfig, ModelConfig, OptimConfig  # noqa: E402
from nlhf_core.llm.models import build_policy, build_word_tokenizer  # noqa: E402
from nlhf_core.llm.optim import (  # noqa: E402
    build_optimizer,
    clip_gradients,
    enable_gradient_checkpointing,
    lr_factor,
    micro_batches,
    sampling_mode,
    training_mode,
)
from nlhf_core.llm.sampling import Batch, left_pad, right_pad, token_logprobs  # noqa: E402
from nlhf_core.policy_gradient.losses import regularized_pg_loss  # noqa: E402


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(1)
    codec = build_word_tokenizer(["a", "b", "c", "d"])
    torch.manual_seed(0)
    model = build_policy(ModelConfig(n_layer=2, n_head=2, n_embd=16), codec)
    g = torch.Generator().manual_seed(1)
    prompts = [codec.prompt_ids(" ".join("abcd"[: 1 + k % 4])) for k in range(7)]
    responses = [torch.randint(4, codec.vocab_size, (1 + k % 3,), generator=g).tolist() for k in range(7)]
    p_ids, p_mask = left_pad(prompts, codec.pad_id, "cpu")
    r_ids, r_mask = right_pad(responses, codec.pad_id, "cpu")
    signal = torch.randn(7, generator=g)
    return codec, model, Batch(p_ids, p_mask, r_ids, r_mask), signal


def _gradient(model, batch, signal, micro: int) -> dict[str, torch.Tensor]:
    model.zero_grad(set_to_none=True)
    with torch.no_grad():
        ref = token_logprobs(model, batch) + 0.1  # any fixed reference
    for rows, weight, sync in micro_batches(batch.responses.shape[0], micro, model, contextlib.nullcontext()):
        part = batch.rows(rows)
        with sync:
            loss = regularized_pg_loss(
                token_logprobs(model, part), ref[rows], part.response_mask.float(), signal[rows], 0.2
            )
            (loss * weight).backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("micro", [1, 3, 4])
def test_accumulated_micro_batches_give_the_gradient_of_one_batch(setup, micro):
    _, model, batch, signal = setup
    model.eval()
    whole, accumulated = _gradient(model, batch, signal, 0), _gradient(model, batch, signal, micro)
    assert whole.keys() == accumulated.keys()
    for name in whole:
        assert torch.allclose(whole[name], accumulated[name], atol=1e-6, rtol=1e-5), name


def test_micro_batches_cover_every_row_once_with_weights_summing_to_one():
    parts = list(micro_batches(10, 4, torch.nn.Linear(1, 1), contextlib.nullcontext()))
    assert [(s.start, s.stop) for s, _, _ in parts] == [(0, 4), (4, 8), (8, 10)]
    assert sum(w for _, w, _ in parts) == pytest.approx(1.0)


def test_schedules():
    opt = OptimConfig(warmup_steps=4)
    assert [lr_factor(s, 100, opt, decay=False) for s in range(5)] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert lr_factor(50, 100, opt, decay=True) == pytest.approx(0.5)  # default: linear decay for SFT and judges
    cosine = OptimConfig(warmup_steps=0, schedule="cosine")
    assert lr_factor(0, 100, cosine, True) == 1.0
    assert lr_factor(50, 100, cosine, True) == pytest.approx(0.5)
    assert lr_factor(100, 100, cosine, True) == pytest.approx(0.0, abs=1e-12)
    assert lr_factor(25, 100, cosine, False) == pytest.approx((1 + math.cos(math.pi / 4)) / 2)
    linear = OptimConfig(warmup_steps=0, schedule="linear")
    assert lr_factor(75, 100, linear, decay=False) == pytest.approx(0.25)
    assert lr_factor(75, 100, OptimConfig(warmup_steps=0, schedule="constant"), decay=True) == 1.0


def test_optimizer_settings_and_clipping(setup):
    _, model, batch, signal = setup
    opt = build_optimizer(model, 0.01, OptimConfig(betas=[0.8, 0.95], weight_decay=0.1))
    group = opt.param_groups[0]
    assert group["betas"] == (0.8, 0.95) and group["weight_decay"] == 0.1
    _gradient(model, batch, signal * 100, 0)
    before = clip_gradients(model, 0.0)  # 0: only measure
    assert before > 0.5
    assert clip_gradients(model, 0.5) == pytest.approx(before, rel=1e-5)
    after = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters() if p.grad is not None]))
    assert float(after) == pytest.approx(0.5, rel=1e-4)
    model.requires_grad_(False).lm_head.requires_grad_(True)  # only trainable parameters reach the optimizer
    try:
        assert len(build_optimizer(model, 0.01, OptimConfig()).param_groups[0]["params"]) == 1
    finally:
        model.requires_grad_(True)


def _dropout_model(codec):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=codec.vocab_size, n_positions=32, n_layer=2, n_head=2, n_embd=16)
    config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = 0.5
    return GPT2LMHeadModel(config)


def test_dropout_is_off_while_sampling_and_as_configured_or_off_in_the_gradient_step(setup):
    codec, _, batch, _ = setup
    model = _dropout_model(codec)

    def twice() -> bool:
        with torch.no_grad():
            return torch.equal(token_logprobs(model, batch), token_logprobs(model, batch))

    sampling_mode(model)
    assert twice()  # deterministic: no dropout while sampling and scoring
    training_mode(model, ComputeConfig())
    assert not twice()  # the model's own dropout in the gradient step
    training_mode(model, ComputeConfig(dropout="off"))
    assert twice()
    enable_gradient_checkpointing(model)
    training_mode(model, ComputeConfig(dropout="off"))
    assert twice()  # still no dropout, and the checkpointing layers stay in training mode
    assert any(m.training for m in model.modules() if getattr(m, "gradient_checkpointing", False))


def test_gradient_checkpointing_gives_the_same_gradient(setup):
    codec, model, batch, signal = setup
    plain = _gradient(model.eval(), batch, signal, 0)
    checkpointed_model = build_policy(ModelConfig(n_layer=2, n_head=2, n_embd=16), codec)
    checkpointed_model.load_state_dict(model.state_dict())
    enable_gradient_checkpointing(checkpointed_model)
    training_mode(checkpointed_model, ComputeConfig(dropout="off"))
    checkpointed = _gradient(checkpointed_model, batch, signal, 0)
    for name in plain:
        assert torch.allclose(plain[name], checkpointed[name], atol=1e-6), name


def test_missing_eos_and_joined_rollouts():
    from nlhf_core.llm.methods import Rollout, join_rollouts, missing_eos

    eos, pad = 3, 0
    first = Rollout(
        torch.tensor([[5, eos, pad], [5, 6, 7]]), torch.tensor([[1, 1, 0], [1, 1, 1]]), ["x", "x y ###"],
        torch.tensor([0.1, 0.2]),
    )  # fmt: skip
    second = Rollout(torch.tensor([[5, 6]]), torch.tensor([[1, 1]]), ["x y"], torch.tensor([0.3]))
    joined = join_rollouts([first, second], pad)
    assert joined.responses.tolist() == [[5, eos, pad], [5, 6, 7], [5, 6, pad]]
    assert joined.mask.tolist() == [[1, 1, 0], [1, 1, 1], [1, 1, 0]]
    assert joined.texts == ["x", "x y ###", "x y"] and joined.signal.tolist() == pytest.approx([0.1, 0.2, 0.3])
    assert missing_eos(joined, eos).tolist() == [False, True, True]
    assert missing_eos(joined, eos, ("###",)).tolist() == [False, False, True]  # a stop string ends a response


def test_a_run_in_micro_batches_ends_where_one_batch_ends(tmp_path):
    """The whole pipeline (SFT and a policy) with micro-batches of 3 rows (batches of 8: 3 + 3 + 2) ends within 1e-5
    of the same run in one batch (they differ only by floating-point summation order)."""
    from safetensors.torch import load_file

    from nlhf_core.llm import resolve_config, run_training

    base = [
        "sft.steps=6", "sft.batch_size=8", "policy.steps=3", "policy.batch_size=8", "policy.eval_every=3",
        "policy.judge='oracle'", "policy.methods=['self-play']", "preference_model.steps=0", "reward_model.steps=0",
        "eval.sampled_pairs=0",
    ]  # fmt: skip
    run_training(resolve_config("smoke", base), tmp_path / "one")
    run_training(resolve_config("smoke", [*base, "compute.micro_batch_size=3"]), tmp_path / "micro")
    for stage in ("sft", "self-play"):
        a = load_file(str(tmp_path / "one" / "checkpoints" / stage / "model.safetensors"))
        b = load_file(str(tmp_path / "micro" / "checkpoints" / stage / "model.safetensors"))
        assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-5, stage
