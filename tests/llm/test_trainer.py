"""The language-model pipeline end to end: CLI smoke run, learning direction, resume, judges, DDP.

Seeds are fixed (run.seed = 0) and every margin is stated next to its assertion. The numbers
observed on a 2-core CPU when the margins were set are in the comments.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from nlhf_core.cli.main import main  # noqa: E402
from nlhf_core.llm import TrainingJob, resolve_config, run_training  # noqa: E402
from nlhf_core.llm.config import ModelConfig  # noqa: E402
from nlhf_core.llm.runner import Stopped  # noqa: E402

METHODS = ["sft", "rlhf", "self-play", "nash-md-pg", "nash-ema-pg"]
CALLS = {"pairs": 0}

# A small run for mechanics (resume, judges): SFT, then one method against the oracle, no PM/RM.
TINY = [
    "sft.steps=16",
    "sft.batch_size=16",
    "policy.steps=12",
    "policy.batch_size=16",
    "policy.eval_every=4",
    "policy.judge='oracle'",
    "policy.methods=['nash-ema-pg']",
    "preference_model.steps=0",
    "reward_model.steps=0",
    "run.checkpoint_every=5",
    "eval.sampled_pairs=0",
]


def length_judge(prompts, responses_a, responses_b):
    """A plug-in judge for the tests: the response with fewer words wins, ties are 1/2."""
    CALLS["pairs"] += len(prompts)
    return [0.5 + 0.5 * np.sign(len(b.split()) - len(a.split())) for a, b in zip(responses_a, responses_b, strict=True)]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> tuple[Path, dict]:
    """`nlhf train --config smoke --out DIR`, the CI command, run once for every test that reads it."""
    out = tmp_path_factory.mktemp("smoke") / "run"
    assert main(["train", "--config", "smoke", "--out", str(out), "--quiet"]) == 0
    return out, json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_smoke_cli_writes_the_run_directory(smoke):
    out, summary = smoke
    for name in ("config.toml", "metrics.jsonl", "summary.json", "report.md", "data/pairs.safetensors"):
        assert (out / name).is_file(), name
    for stage in ("sft", "preference-model", "reward-model", *METHODS[1:]):
        assert (out / "checkpoints" / stage / "model.safetensors").is_file(), stage
    for policy in METHODS:  # every policy as a Hugging Face model directory (weights, config.json, tokenizer)
        assert {"config.json", "model.safetensors", "tokenizer.json"} <= {
            p.name for p in (out / "models" / policy).iterdir()
        }
    leftovers = [*out.glob("checkpoints/*/state.pt"), *out.glob("checkpoints/*/step-*")]
    assert not leftovers  # finished stages keep only their final weights
    assert summary["methods"] == METHODS
    for key in (
        "kl_to_regularized_nash",
        "answer_distributions",
        "reference_distribution",
        "regularized_nash",
        "wall_time_s",
        "steps_per_s",
        "samples_per_s",
    ):
        assert key in summary, key


def test_smoke_win_rate_matrix_is_complementary(smoke):
    W = smoke[1]["win_rates"]
    assert set(W) == set(METHODS)
    for a in METHODS:
        assert W[a][a] == 0.5
        for b in METHODS:
            assert W[a][b] + W[b][a] == pytest.approx(1.0, abs=1e-12)
            assert 0.0 <= W[a][b] <= 1.0
            # 64 sampled responses per pair, scored by the true P: within 0.15 of the exact value (std about 0.03)
            assert abs(smoke[1]["sampled_win_rates"][a][b] - W[a][b]) < 0.15


def test_nash_md_pg_beats_the_sft_model(smoke):
    """Margin 0.05 above 1/2 for the exact win rate (observed 0.596); the sampled estimate is above 1/2 too."""
    summary = smoke[1]
    assert summary["win_rates"]["nash-md-pg"]["sft"] > 0.55
    assert summary["sampled_win_rates"]["nash-md-pg"]["sft"] > 0.5
    for method in ("self-play", "nash-ema-pg"):  # observed 0.59, 0.59
        assert summary["win_rates"][method]["sft"] > 0.53


def test_rlhf_moves_to_the_reward_models_kl_optimum(smoke):
    """KL(pi_RM || pi) over valid answers falls by a factor of at least 4 (observed 1.11 -> 0.08)."""
    kl = smoke[1]["rlhf"]["kl_to_reward_optimum"]
    assert kl["rlhf"] < kl["sft"] / 4


@pytest.fixture(scope="module")
def condorcet(tmp_path_factory) -> dict:
    """The smoke config on 'condorcet-winner' with a uniform SFT corpus; NLHF judged by the oracle (the true game,
    i.e. a preference model with unlimited data), so its target is exactly the tabular regularized Nash."""
    overrides = [
        "task.game='preset:condorcet-winner'",
        "sft.answer_weights='uniform'",
        "policy.methods=['rlhf', 'nash-md-pg']",
        "policy.judge='oracle'",
        "preference_model.steps=0",
        "eval.sampled_pairs=0",
    ]
    return run_training(resolve_config("smoke", overrides), tmp_path_factory.mktemp("condorcet") / "run")


def test_kl_to_the_tabular_regularized_nash_falls(condorcet):
    """KL(Nash_tau || pi) of Nash-MD-PG falls by a factor of at least 2 from the SFT model (observed 0.27 -> 0.08)."""
    kl = condorcet.kl_to_regularized_nash
    assert kl["nash-md-pg"] < kl["sft"] / 2


def test_condorcet_winner_nash_md_pg_beats_rlhf_head_to_head(condorcet):
    """The Bradley–Terry reward model ranks b above the Condorcet winner a (b crushes c), so RLHF moves to b while
    Nash-MD-PG moves to a, which beats b 55 % of the time. Margin: Nash-MD-PG wins with probability > 0.51
    (observed 0.526)."""
    rewards = condorcet.rlhf["rewards"]["answer me"]
    assert rewards["b"] > rewards["a"]  # the reward model misranks the Condorcet winner
    assert condorcet.win_rates["nash-md-pg"]["rlhf"] > 0.51


def _weights(run: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    out = {}
    for path in sorted(run.glob("checkpoints/*/*.safetensors")):
        for key, value in load_file(str(path)).items():
            out[f"{path.parent.name}/{path.name}/{key}"] = value
    return out


def test_interrupt_and_resume_gives_bitwise_identical_parameters(tmp_path):
    """Stop in SFT (through the background-job API), resume, stop inside Nash-EMA-PG (between checkpoints),
    resume again: every saved tensor (policy, EMA opponent, reference) equals the uninterrupted run's bit for bit."""
    config = resolve_config("smoke", TINY)
    straight = run_training(config, tmp_path / "a")

    job = TrainingJob(config, tmp_path / "b")
    job.stop()  # already set: the run checkpoints after its first step and stops
    job.start().join(120)
    assert job.status == "stopped" and job.records and job.records[-1]["stage"] == "sft"

    stop = threading.Event()

    def stop_at(record):
        if record["stage"] == "nash-ema-pg" and record["step"] == 7:
            stop.set()

    with pytest.raises(Stopped):
        run_training(config, tmp_path / "b", resume=True, callback=stop_at, stop_event=stop)
    assert list((tmp_path / "b" / "checkpoints" / "nash-ema-pg").rglob("state.pt"))  # mid-stage checkpoint
    job = TrainingJob(config, tmp_path / "b", resume=True).start()
    job.join(120)
    assert job.status == "finished", job.error
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert a.keys() == b.keys() and any("ema.safetensors" in k for k in a)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert job.summary["win_rates"] == straight.win_rates  # the job reports the JSON form, the API the dataclass


def test_resume_refuses_other_settings_and_fresh_runs_refuse_used_directories(tmp_path):
    from nlhf_core.errors import ParameterError

    config = resolve_config("smoke", [*TINY, "policy.steps=2", "sft.steps=2"])
    run_training(config, tmp_path / "r")
    with pytest.raises(ParameterError, match="already holds a run"):
        run_training(config, tmp_path / "r")
    other = resolve_config("smoke", [*TINY, "policy.steps=3", "sft.steps=2"])
    with pytest.raises(ParameterError, match=r"different settings \(policy\.steps\)"):
        run_training(other, tmp_path / "r", resume=True)


def test_judge_plug_in_by_import_path(tmp_path):
    CALLS["pairs"] = 0
    config = resolve_config(
        "smoke",
        [
            *TINY,
            "policy.judge='tests.llm.test_trainer:length_judge'",
            "policy.methods=['self-play']",
            "policy.steps=3",
            "sft.steps=4",
        ],
    )
    summary = run_training(config, tmp_path / "j")
    assert CALLS["pairs"] == 3 * 16  # every sampled pair of every step went through the plug-in
    assert summary.judge == "tests.llm.test_trainer:length_judge"


def test_a_local_hugging_face_model_directory_trains(tmp_path):
    """model.source may name any saved causal LM + tokenizer (here the tiny GPT-2 and the word tokenizer, saved with
    save_pretrained and loaded back through AutoModelForCausalLM / AutoTokenizer with local_files_only)."""
    from nlhf_core.games.presets import get_preset
    from nlhf_core.llm.models import build_policy, build_word_tokenizer
    from nlhf_core.llm.task import AnswerTask

    task = AnswerTask.from_game(get_preset("two-prompts"), hedges=["maybe", "surely"])
    codec = build_word_tokenizer(task.words())
    build_policy(ModelConfig(n_layer=1, n_head=2, n_embd=32), codec).save_pretrained(tmp_path / "hf")
    codec.tokenizer.save_pretrained(tmp_path / "hf")
    overrides = [
        *TINY,
        f"model.source='{tmp_path / 'hf'}'",
        "sft.steps=4",
        "policy.steps=2",
        "policy.methods=['nash-md-pg']",
    ]
    summary = run_training(resolve_config("smoke", overrides), tmp_path / "run")
    assert summary.methods == ["sft", "nash-md-pg"]
    assert summary.win_rates["nash-md-pg"]["sft"] + summary.win_rates["sft"]["nash-md-pg"] == pytest.approx(1)
    with pytest.raises(Exception, match="neither 'tiny' nor a local Hugging Face model directory"):
        run_training(resolve_config("smoke", [*TINY, f"model.source='{tmp_path / 'nope'}'"]), tmp_path / "bad")


@pytest.mark.slow
def test_torchrun_two_processes_match_one_process(tmp_path):
    """`torchrun --nproc_per_node 2` (gloo) and one process with the same global batch (run.shards = 2) give the
    same parameters within 1e-5 (they differ only by the order of floating-point sums in the gradient average)."""
    overrides = [*TINY, "sft.steps=6", "policy.steps=4", "policy.methods=['nash-md-pg']", "run.shards=2"]
    single = run_training(resolve_config("smoke", overrides), tmp_path / "one")
    args = [a for o in overrides for a in ("--set", o)]
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "nlhf_core.cli",
        "train",
        "--config",
        "smoke",
        "--out",
        str(tmp_path / "two"),
        "--quiet",
        *args,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stderr[-2000:]
    two = json.loads((tmp_path / "two" / "summary.json").read_text(encoding="utf-8"))
    assert two["world_size"] == 2 and single.world_size == 1
    a, b = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert a.keys() == b.keys()
    worst = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert worst < 1e-5
