"""Training faults (issue 10): kill -9 at any moment, during a checkpoint write, damaged or tampered files.

The run resumes from the last complete checkpoint and ends bit for bit where an uninterrupted run ends;
a truncated, modified or malicious checkpoint is refused with one sentence and never loaded.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from nlhf_core.cli.main import main  # noqa: E402
from nlhf_core.llm import resolve_config, run_training  # noqa: E402
from nlhf_core.llm.checkpoints import CheckpointError, latest_checkpoint, sha256  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# SFT, then Nash-MD-PG against the oracle; a checkpoint after every policy step, so a kill often lands in a write.
MICRO = [
    "sft.steps=20",
    "sft.batch_size=16",
    "policy.steps=24",
    "policy.batch_size=16",
    "policy.eval_every=8",
    "policy.judge='oracle'",
    "policy.methods=['nash-md-pg']",
    "preference_model.steps=0",
    "reward_model.steps=0",
    "run.checkpoint_every=1",
    "eval.sampled_pairs=0",
]


def weights(run: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return {
        f"{p.parent.name}/{p.name}/{k}": v
        for p in sorted(run.glob("checkpoints/*/*.safetensors"))
        for k, v in load_file(str(p)).items()
    }


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> dict[str, torch.Tensor]:
    """The uninterrupted run's final parameters."""
    out = tmp_path_factory.mktemp("straight") / "run"
    run_training(resolve_config("smoke", MICRO), out)
    return weights(out)


def train_command(out: Path, *extra: str) -> list[str]:
    sets = [item for s in MICRO for item in ("--set", s)]
    return [sys.executable, "-m", "nlhf_core.cli", "train", "--config", "smoke", *sets, "--out", str(out), *extra]


def kill_when(out: Path, stage: str, step: int, timeout: float = 240.0) -> None:
    """Start a training process and SIGKILL it once ``metrics.jsonl`` shows ``stage`` at ``step``."""
    proc = subprocess.Popen(
        [*train_command(out), "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + timeout
    metrics = out / "metrics.jsonl"
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if metrics.exists():
                lines = metrics.read_text(encoding="utf-8").splitlines()
                if any(f'"stage": "{stage}"' in line and f'"step": {step},' in line for line in lines):
                    break
            time.sleep(0.01)
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.stderr.read()!r}"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize(("stage", "step"), [("sft", 7), ("nash-md-pg", 11)])
def test_kill_9_then_resume_ends_where_an_uninterrupted_run_ends(tmp_path, straight, stage, step):
    out = tmp_path / "run"
    kill_when(out, stage, step)
    leftovers = list(out.glob("checkpoints/*/step-*.tmp"))  # a write the kill interrupted, if it landed in one
    assert main(["train", "--config", "smoke", *[x for s in MICRO for x in ("--set", s)], "--out", str(out),
                 "--resume", "--quiet"]) == 0  # fmt: skip
    resumed = weights(out)
    assert resumed.keys() == straight.keys()
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)
    assert not any(p.exists() for p in leftovers) or leftovers == []


def test_a_half_written_checkpoint_is_ignored(damaged_run, straight):
    """What a kill in the middle of a checkpoint write leaves (a ``.tmp`` folder with a truncated file) is skipped."""
    out, _ = damaged_run
    stage = out / "checkpoints" / "nash-md-pg"
    last = latest_checkpoint(stage)
    torn = stage / f"step-{int(last.name.split('-')[1]) + 1:07d}.tmp"
    torn.mkdir(exist_ok=True)
    data = (last / "model.safetensors").read_bytes()
    (torn / "model.safetensors").write_bytes(data[: len(data) // 3])
    run_training(resolve_config("smoke", MICRO), out, resume=True)
    resumed = weights(out)
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)


@pytest.fixture(scope="module")
def killed(tmp_path_factory) -> Path:
    """One run killed inside Nash-MD-PG; each test damages its own copy."""
    out = tmp_path_factory.mktemp("killed") / "run"
    kill_when(out, "nash-md-pg", 9)
    return out


@pytest.fixture
def damaged_run(killed, tmp_path) -> tuple[Path, Path]:
    out = tmp_path / "run"
    shutil.copytree(killed, out)
    return out, latest_checkpoint(out / "checkpoints" / "nash-md-pg")


def resume_error(out: Path, capsys) -> str:
    code = main(["train", "--config", "smoke", *[x for s in MICRO for x in ("--set", s)], "--out", str(out),
                 "--resume", "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and err.count("\n") == 1
    return err


def test_truncated_checkpoint_is_refused_with_one_sentence(damaged_run, capsys):
    out, last = damaged_run
    path = last / "model.safetensors"
    path.write_bytes(path.read_bytes()[:100])
    err = resume_error(out, capsys)
    assert "model.safetensors" in err and "damaged" in err and "delete the folder" in err


def test_modified_weights_are_refused(damaged_run, capsys):
    out, last = damaged_run
    path = last / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # one flipped bit pattern in a weight: still a valid file, but not ours
    path.write_bytes(bytes(data))
    assert "checksum does not match" in resume_error(out, capsys)


class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


MARKER = Path("/tmp/nlhf-pickle-payload-ran")


def test_a_malicious_state_file_is_never_unpickled(damaged_run, capsys):
    """Even with a matching checksum (an attacker rewrote the manifest), weights_only=True refuses the pickle."""
    MARKER.unlink(missing_ok=True)
    out, last = damaged_run
    state = last / "state.pt"
    state.write_bytes(pickle.dumps({"step": Payload()}))
    manifest = json.loads((last / "manifest.json").read_text())
    manifest["files"]["state.pt"] = sha256(state)
    (last / "manifest.json").write_text(json.dumps(manifest))
    err = resume_error(out, capsys)
    assert "state.pt" in err and "unreadable" in err
    assert not MARKER.exists()


def test_checkpoint_error_is_an_nlhf_error():
    from nlhf_core.errors import NLHFError

    assert issubclass(CheckpointError, NLHFError)
