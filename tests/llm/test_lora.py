"""LoRA through peft: only adapters train, the reference is the base model (adapters off, no copy), saved policies
load back as an adapter or a merged model, an adapter folder is a valid model.source, and DDP = one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from safetensors.torch import load_file  # noqa: E402

from nlhf_core.games.presets import get_preset  # noqa: E402
from nlhf_core.llm import resolve_config, run_training  # noqa: E402
from nlhf_core.llm.config import LoraConfig, ModelConfig  # noqa: E402
from nlhf_core.llm.lora import AdapterDisabled, attach_lora, is_lora, save_policy  # noqa: E402
from nlhf_core.llm.models import build_policy, build_word_tokenizer, load_codec  # noqa: E402
from nlhf_core.llm.task import AnswerTask  # noqa: E402

TASK = AnswerTask.from_game(get_preset("two-prompts"), hedges=["maybe", "surely"])
SMALL = ModelConfig(n_layer=1, n_head=2, n_embd=16)
LORA = [
    "sft.steps=8", "sft.batch_size=8", "policy.steps=4", "policy.batch_size=8", "policy.eval_every=4",
    "policy.judge='oracle'", "policy.methods=['nash-md-pg']", "preference_model.steps=0", "reward_model.steps=0",
    "eval.sampled_pairs=0", "lora.rank=4", "lora.alpha=8", "policy.lr=0.05",
]  # fmt: skip


@pytest.fixture(scope="module")
def codec():
    torch.set_num_threads(1)
    return build_word_tokenizer(TASK.words())


def _logits(model, codec) -> torch.Tensor:
    ids = torch.tensor([codec.prompt_ids(TASK.prompts[0]) + codec.response_ids(TASK.answers[1])])
    with torch.no_grad():
        return model(input_ids=ids).logits


def _trained_lora(codec):
    torch.manual_seed(0)
    base = build_policy(SMALL, codec).eval()
    before = _logits(base, codec)
    policy = attach_lora(base, LoraConfig(rank=4, alpha=8, targets=["c_attn"]))
    with torch.no_grad():  # B starts at 0; give the adapters a value, as training would
        for name, p in policy.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    return policy.eval(), before


def test_only_adapters_train_and_the_reference_is_the_base_model(codec):
    policy, before = _trained_lora(codec)
    trainable = [n for n, p in policy.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    reference = AdapterDisabled(policy).requires_grad_(False)
    assert list(reference.parameters()) == []  # a view, not a copy
    assert any(p.requires_grad for p in policy.parameters())  # freezing the view left the adapters trainable
    assert torch.allclose(_logits(reference, codec), before, atol=1e-6)  # mu = the base model exactly
    assert not torch.allclose(_logits(policy, codec), before, atol=1e-3)  # the adapters change the policy


def test_saved_policy_loads_as_an_adapter_and_as_a_merged_model(tmp_path, codec):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    policy, _ = _trained_lora(codec)
    want = _logits(policy, codec)
    merged = AutoModelForCausalLM.from_pretrained(save_policy(policy, tmp_path / "merged"))
    assert not is_lora(merged) and torch.allclose(_logits(merged, codec), want, atol=1e-5)
    torch.manual_seed(0)
    base = build_policy(SMALL, codec)
    adapter = PeftModel.from_pretrained(base, save_policy(policy, tmp_path / "adapter", merged=False))
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    assert torch.allclose(_logits(adapter.eval(), codec), want, atol=1e-5)
    assert is_lora(policy)  # saving merged worked on a copy


def test_an_adapter_folder_is_a_model_source(tmp_path, codec):
    policy, _ = _trained_lora(codec)
    want = _logits(policy, codec)
    torch.manual_seed(0)
    base_dir = tmp_path / "base"
    build_policy(SMALL, codec).save_pretrained(base_dir)
    codec.tokenizer.save_pretrained(base_dir)
    save_policy(policy, tmp_path / "adapter", merged=False)
    config_path = tmp_path / "adapter" / "adapter_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config_path.write_text(json.dumps({**config, "base_model_name_or_path": str(base_dir)}), encoding="utf-8")
    source = ModelConfig(source=str(tmp_path / "adapter"))
    loaded = build_policy(source, load_codec(source.source, []))
    assert not is_lora(loaded)  # merged into the base
    assert torch.allclose(_logits(loaded.eval(), codec), want, atol=1e-5)
    assert load_codec(source.source, []).vocab_size == codec.vocab_size  # the base model's tokenizer


def _strip_lora_names(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    base = {k.replace("base_model.model.", "").replace(".base_layer", ""): v for k, v in weights.items()}
    return {k: v for k, v in base.items() if "lora_" not in k}


def test_a_lora_run_trains_only_the_adapters(tmp_path):
    summary = run_training(resolve_config("smoke", LORA), tmp_path / "run")
    assert summary.methods == ["sft", "nash-md-pg"]
    sft = load_file(str(tmp_path / "run" / "checkpoints" / "sft" / "model.safetensors"))
    policy = load_file(str(tmp_path / "run" / "checkpoints" / "nash-md-pg" / "model.safetensors"))
    frozen = _strip_lora_names(policy)
    assert frozen.keys() == sft.keys()
    assert all(torch.equal(frozen[k], sft[k]) for k in sft)  # every base weight is the SFT weight, bit for bit
    lora_b = [v for k, v in policy.items() if "lora_B" in k]
    assert lora_b and any(float(v.abs().max()) > 0 for v in lora_b)  # the adapters moved (B starts at 0)
    from transformers import AutoModelForCausalLM

    saved = AutoModelForCausalLM.from_pretrained(tmp_path / "run" / "models" / "nash-md-pg")  # adapters merged
    assert not is_lora(saved) and "lora_" not in " ".join(saved.state_dict())
    assert summary.win_rates["nash-md-pg"]["sft"] != pytest.approx(0.5, abs=1e-6)


@pytest.mark.slow
def test_torchrun_two_processes_match_one_process_with_lora_and_micro_batches(tmp_path):
    """DDP (gloo, 2 ranks) = one process with the same global batch (run.shards = 2), with LoRA adapters,
    gradient clipping, generation chunks and training micro-batches of 2 rows: adapters equal within 1e-5."""
    overrides = [*LORA, "run.shards=2", "compute.micro_batch_size=2", "compute.generation_batch_size=2"]
    run_training(resolve_config("smoke", overrides), tmp_path / "one")
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "nlhf_core.cli",
        "train", "--config", "smoke", "--out", str(tmp_path / "two"), "--quiet",
        *[a for o in overrides for a in ("--set", o)],
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=400, env=env, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stderr[-2000:]
    two = json.loads((tmp_path / "two" / "summary.json").read_text(encoding="utf-8"))
    assert two["world_size"] == 2
    for stage in ("sft", "nash-md-pg"):
        a = load_file(str(tmp_path / "one" / "checkpoints" / stage / "model.safetensors"))
        b = load_file(str(tmp_path / "two" / "checkpoints" / stage / "model.safetensors"))
        assert a.keys() == b.keys()
        assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-5, stage


def test_a_lora_run_stopped_and_resumed_ends_bit_for_bit_where_a_straight_run_ends(tmp_path):
    """LoRA with Nash-EMA-PG (its opponent is a LoRA copy too): stop mid-stage between checkpoints, resume."""
    import threading

    from nlhf_core.llm.runner import Stopped

    overrides = [*LORA, "policy.methods=['nash-ema-pg']", "policy.steps=6", "run.checkpoint_every=2"]
    config = resolve_config("smoke", overrides)
    run_training(config, tmp_path / "a")
    stop = threading.Event()

    def stop_at(record):
        if record["stage"] == "nash-ema-pg" and record["step"] == 3:
            stop.set()

    with pytest.raises(Stopped):
        run_training(config, tmp_path / "b", callback=stop_at, stop_event=stop)
    run_training(config, tmp_path / "b", resume=True)
    for name in ("model", "ema"):
        a = load_file(str(tmp_path / "a" / "checkpoints" / "nash-ema-pg" / f"{name}.safetensors"))
        b = load_file(str(tmp_path / "b" / "checkpoints" / "nash-ema-pg" / f"{name}.safetensors"))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
