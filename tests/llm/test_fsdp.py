"""FSDP2 (``run.parallel = "fsdp"``) under ``torchrun`` with 2 CPU processes (gloo): the same weights as one
process with the same global batch, checkpoints in the same files, and a stopped run that resumes exactly.

The sharding helpers that need no process group (block finder, meta skeleton, optimizer-state numbering)
are tested in one process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from safetensors import safe_open  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

from nlhf_core.llm import resolve_config, run_training  # noqa: E402
from nlhf_core.llm.config import ModelConfig  # noqa: E402
from nlhf_core.llm.runtime import GatheredWeights  # noqa: E402
from nlhf_core.llm.sharding import blocks, materialize, meta_skeleton  # noqa: E402

ROOT = Path(__file__).parents[2]
# SFT, then Nash-EMA-PG (its EMA opponent is checkpointed with it) against the oracle; 2 shards per step.
FSDP = [
    "sft.steps=6",
    "sft.batch_size=16",
    "policy.steps=6",
    "policy.batch_size=16",
    "policy.eval_every=3",
    "policy.judge='oracle'",
    "policy.methods=['nash-ema-pg']",
    "preference_model.steps=0",
    "reward_model.steps=0",
    "run.checkpoint_every=2",
    "eval.sampled_pairs=0",
    "run.shards=2",
    "compute.micro_batch_size=4",
]


def _torchrun(out: Path, overrides: list[str], *, stop: tuple[str, int] | None = None, resume: bool = False) -> int:
    stage, step = stop or ("-", 0)
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "tests.llm.torchrun_driver", str(out), stage, str(step), "1" if resume else "0", *overrides,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=400, env=env, cwd=ROOT)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # torchrun reports a child's exit code 3 as 1
    return proc.returncode


def _weights(run: Path, stage: str, name: str = "model") -> dict[str, torch.Tensor]:
    return load_file(str(run / "checkpoints" / stage / f"{name}.safetensors"))


@pytest.mark.slow
def test_fsdp_two_processes_match_one_process_and_resume_exactly(tmp_path):
    """FSDP (2 ranks) = one process with the same global batch within 1e-5 (observed: 3e-7 after SFT, 2e-6
    after the policy stage: only the order of floating-point sums differs, in the reduce-scatter's average);
    the files are the same (names, tied-weight metadata); a run stopped mid-stage between checkpoints and
    resumed under FSDP ends bit for bit where the uninterrupted FSDP run ends (optimizer moments, RNG
    states and the EMA opponent restored)."""
    overrides = [*FSDP, "run.parallel='fsdp'"]
    run_training(resolve_config("smoke", FSDP), tmp_path / "one")
    assert _torchrun(tmp_path / "fsdp", overrides) == 0
    for stage, name in (("sft", "model"), ("nash-ema-pg", "model"), ("nash-ema-pg", "ema")):
        a, b = _weights(tmp_path / "one", stage, name), _weights(tmp_path / "fsdp", stage, name)
        assert a.keys() == b.keys()
        assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-5, (stage, name)
        metadata = []
        for run in ("one", "fsdp"):
            with safe_open(str(tmp_path / run / "checkpoints" / stage / f"{name}.safetensors"), "pt") as f:
                metadata.append(f.metadata())
        assert metadata[0] == metadata[1]  # the tied embedding recorded the same way

    # Stop after step 3 of 6 (checkpoint at step 3 on the stop; one at step 2 before it), then resume.
    assert _torchrun(tmp_path / "stopped", overrides, stop=("nash-ema-pg", 3)) == 1
    stage_dir = tmp_path / "stopped" / "checkpoints" / "nash-ema-pg"
    assert (stage_dir / "step-0000003" / "state.pt").is_file() and not (stage_dir / "done.json").exists()
    state = torch.load(stage_dir / "step-0000003" / "state.pt", weights_only=True)
    assert sorted(state["optimizer"]["state"]) == list(range(len(state["optimizer"]["state"])))  # torch's numbering
    assert _torchrun(tmp_path / "stopped", overrides, resume=True) == 0
    for name in ("model", "ema"):
        a, b = _weights(tmp_path / "fsdp", "nash-ema-pg", name), _weights(tmp_path / "stopped", "nash-ema-pg", name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name


def test_the_blocks_sharded_are_the_transformer_blocks():
    from nlhf_core.llm.models import Scorer, build_policy, build_word_tokenizer

    codec = build_word_tokenizer(["a", "b"])
    policy = build_policy(ModelConfig(n_layer=3, n_head=2, n_embd=16), codec)
    assert [type(b).__name__ for b in blocks(policy)] == ["GPT2Block"] * 3
    assert len(blocks(Scorer(codec.vocab_size, 2, 16))) == 2
    plain = torch.nn.Sequential(torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)]))
    assert len(blocks(plain)) == 2  # no _no_split_modules: the members of the ModuleLists


def test_a_meta_skeleton_is_rebuilt_with_the_gathered_weights_and_its_ties():
    from nlhf_core.llm.models import build_policy, build_word_tokenizer

    policy = build_policy(ModelConfig(n_layer=1, n_head=2, n_embd=16), build_word_tokenizer(["a", "b"]))
    skeleton = meta_skeleton(policy)
    assert all(p.is_meta for p in skeleton.parameters())
    state = {k: v.clone() + 1.0 for k, v in policy.state_dict().items() if k != "lm_head.weight"}
    rebuilt = materialize(skeleton, GatheredWeights(state, {"lm_head.weight": "transformer.wte.weight"}))
    assert rebuilt.lm_head.weight is rebuilt.transformer.wte.weight  # still tied
    for name, p in rebuilt.named_parameters():
        assert torch.equal(p, policy.get_parameter(name) + 1.0)
    ids = torch.tensor([[1, 2]])
    assert rebuilt(input_ids=ids).logits.shape == policy(input_ids=ids).logits.shape
