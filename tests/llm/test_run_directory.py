"""The run directory (issue 18, item 8): one process at a time, torn metrics lines, checksummed artifacts,
filesystem failures and damaged checkpoints, each answered with one sentence naming the file or folder and a fix
that works (the tests follow the advice and check that the run then finishes).

Every run is the tiny pipeline ``TINY`` (SFT, 64 labelled pairs, a preference model, Nash-MD-PG judged by it),
a few seconds in process.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from nlhf_core.cli.main import main  # noqa: E402
from nlhf_core.errors import ParameterError  # noqa: E402
from nlhf_core.llm import resolve_config, run_training  # noqa: E402
from nlhf_core.llm.checkpoints import latest_checkpoint  # noqa: E402
from nlhf_core.llm.run_directory import RunDirectoryError, RunLock, parse_metrics  # noqa: E402
from nlhf_core.llm.runner import Stopped  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY = [
    "sft.steps=4",
    "sft.batch_size=8",
    "data.pairs=64",
    "preference_model.steps=2",
    "preference_model.batch_size=16",
    "preference_model.n_layer=1",
    "reward_model.steps=0",
    "policy.steps=6",
    "policy.batch_size=8",
    "policy.eval_every=3",
    "policy.judge='preference-model'",
    "policy.methods=['nash-md-pg']",
    "run.checkpoint_every=1",
    "eval.sampled_pairs=0",
]
SETS = [x for s in TINY for x in ("--set", s)]


def train(out: Path, *extra: str) -> list[str]:
    """``nlhf train`` arguments for the tiny run into ``out``."""
    return ["train", "--config", "smoke", *SETS, "--out", str(out), "--quiet", *extra]


def cli(capsys, argv: list[str]) -> tuple[int, str]:
    """Exit code and stderr of ``nlhf ARGV`` run in this process."""
    code = main(argv)
    return code, capsys.readouterr().err


def one_sentence(code: int, err: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err and err.count("\n") == 1, err
    return err


def weights(run: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return {
        f"{p.parent.name}/{p.name}/{k}": v
        for p in sorted(run.glob("checkpoints/*/*.safetensors"))
        for k, v in load_file(str(p)).items()
    }


def same_weights(run: Path, reference: dict[str, torch.Tensor]) -> bool:
    mine = weights(run)
    return mine.keys() == reference.keys() and all(torch.equal(mine[k], reference[k]) for k in reference)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """The uninterrupted tiny run."""
    out = tmp_path_factory.mktemp("finished") / "run"
    run_training(resolve_config("smoke", TINY), out)
    return out


@pytest.fixture(scope="module")
def stopped(tmp_path_factory) -> Path:
    """The tiny run stopped (checkpointed) after step 3 of Nash-MD-PG; tests copy it."""
    out = tmp_path_factory.mktemp("stopped") / "run"
    stop = threading.Event()

    def on_record(record: dict) -> None:
        if record["stage"] == "nash-md-pg" and record["step"] == 3:
            stop.set()

    with pytest.raises(Stopped):
        run_training(resolve_config("smoke", TINY), out, callback=on_record, stop_event=stop)
    return out


@pytest.fixture
def run_copy(tmp_path):
    def copy(source: Path) -> Path:
        out = tmp_path / "run"
        shutil.copytree(source, out)
        return out

    return copy


# ---------------------------------------------------------------------------------------------- 1. the lock
HOLDER = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from nlhf_core.llm.run_directory import RunLock\n"
    "RunLock.acquire(Path(sys.argv[1]))\n"
    "print('held', flush=True)\n"
    "time.sleep(120)\n"
)


def hold(out: Path) -> subprocess.Popen:
    """Another process holding ``out``'s lock (what a running ``nlhf train`` holds), until killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_a_run_directory_in_use_is_refused_and_a_killed_holder_blocks_nothing(stopped, run_copy, capsys):
    out = run_copy(stopped)
    before = (out / "metrics.jsonl").read_bytes()
    holder = hold(out)
    try:
        for argv in (train(out, "--resume"), train(out)):  # a resume or a fresh run, same sentence
            err = one_sentence(*cli(capsys, argv))
            assert f"{out} is in use by another training process (PID {holder.pid})" in err
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(30)
    assert (out / "metrics.jsonl").read_bytes() == before  # the refused runs wrote nothing
    assert main(train(out, "--resume")) == 0  # the kernel dropped the killed holder's lock
    records = [(r["stage"], r["step"]) for r in parse_metrics(out / "metrics.jsonl") if r["stage"] == "nash-md-pg"]
    assert records == [("nash-md-pg", s) for s in range(1, 7)]  # each step logged once: no second writer


def test_the_lock_is_held_for_the_whole_run_and_released_at_its_end(tmp_path):
    out = tmp_path / "run"
    refusals = []

    def on_record(record: dict) -> None:  # while the run logs, a second claim on its directory is refused
        if record["stage"] in ("sft", "nash-md-pg", "done"):
            with pytest.raises(RunDirectoryError, match=rf"in use by another training process \(PID {os.getpid()}\)"):
                RunLock.acquire(out)
            refusals.append(record["stage"])

    run_training(resolve_config("smoke", TINY), out, callback=on_record)
    assert set(refusals) == {"sft", "nash-md-pg", "done"}
    RunLock.acquire(out).release()  # released when the run returned
    with pytest.raises(ParameterError, match="already holds a run"):
        run_training(resolve_config("smoke", TINY), out)
    RunLock.acquire(out).release()  # and when it failed


@pytest.mark.slow
def test_a_killed_trainer_does_not_block_its_resume(finished, tmp_path, capsys):
    """The real holder: an `nlhf train` process; refused while it runs, resumable once it is killed with -9."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "nlhf_core.cli", *train(out, "--set", "policy.steps=60")]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not any(r["stage"] == "nash-md-pg" for r in parse_metrics(out / "metrics.jsonl")):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        err = one_sentence(*cli(capsys, train(out, "--resume", "--set", "policy.steps=60")))
        assert f"(PID {proc.pid})" in err
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    assert main(train(out, "--resume", "--set", "policy.steps=60")) == 0


@pytest.mark.slow
def test_under_torchrun_every_rank_refuses_a_held_directory(tmp_path):
    """Only rank 0 takes the lock; it tells the other rank, so both exit with the sentence instead of waiting."""
    out = tmp_path / "run"
    holder = hold(out)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
           "nlhf_core.cli", *train(out, "--set", "run.shards=2")]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, cwd=ROOT)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(30)
    assert proc.returncode != 0
    sentence = f"{out} is in use by another training process (PID {holder.pid})"
    assert sentence in proc.stderr, proc.stderr[-3000:]  # and no rank waited for the other


# ---------------------------------------------------------------------------------------------- 2. metrics log
def test_a_torn_last_metrics_line_is_dropped_on_resume(stopped, run_copy, caplog):
    out = run_copy(stopped)
    metrics = out / "metrics.jsonl"
    complete = metrics.read_bytes()
    torn_line = b'{"stage": "nash-md-pg", "step": 4, "lr": 0.00'  # killed mid-write
    metrics.write_bytes(complete + torn_line)
    lines = complete.count(b"\n")
    assert len(parse_metrics(metrics)) == lines  # the reader skips it
    with caplog.at_level("WARNING", logger="nlhf_core.llm.run_directory"):
        run_training(resolve_config("smoke", TINY), out, resume=True)
    torn = [r.getMessage() for r in caplog.records if "torn last line" in r.getMessage()]
    assert len(torn) == 1 and f"(line {lines + 1}, {len(torn_line)} bytes," in torn[0]
    assert metrics.read_bytes().startswith(complete)  # truncated to the last complete record, then appended to
    assert (out / "report.md").exists() and (out / "figures.html").exists()
    assert all(line for line in metrics.read_text().splitlines())


def test_a_complete_last_record_missing_its_newline_is_kept(stopped, run_copy):
    out = run_copy(stopped)
    metrics = out / "metrics.jsonl"
    metrics.write_bytes(metrics.read_bytes().rstrip(b"\n"))
    count = len(parse_metrics(metrics))
    run_training(resolve_config("smoke", TINY), out, resume=True)
    lines = metrics.read_text().splitlines()
    assert len(lines) > count and all(json.loads(line) for line in lines)


def test_an_invalid_metrics_line_in_the_middle_names_its_number(stopped, run_copy, capsys):
    out = run_copy(stopped)
    metrics = out / "metrics.jsonl"
    lines = metrics.read_text().splitlines(keepends=True)
    lines[2] = "not json\n"
    metrics.write_text("".join(lines))
    err = one_sentence(*cli(capsys, train(out, "--resume")))
    assert f"Line 3 of {metrics} is not a valid metrics record; delete that line" in err
    with pytest.raises(RunDirectoryError, match="Line 3 of"):
        parse_metrics(metrics)
    del lines[2]  # the advice works
    metrics.write_text("".join(lines))
    assert main(train(out, "--resume")) == 0


# ---------------------------------------------------------------------------------------------- 3. checksums
def test_altered_pairs_are_refused_and_regenerated_once_deleted(finished, run_copy, capsys):
    from safetensors.torch import load_file, save_file

    out = run_copy(finished)
    pairs = out / "data" / "pairs.safetensors"
    original = pairs.read_bytes()
    data = load_file(str(pairs))
    data["label"] = 1.0 - data["label"]  # the inverted labels of the issue
    save_file(data, str(pairs))
    err = one_sentence(*cli(capsys, train(out, "--resume")))
    assert f"{pairs} does not match the checksum recorded when the run wrote it" in err
    assert "delete it and resume to sample the pairs again" in err
    pairs.unlink()  # the advice: the pairs are drawn again from the run's seed, identical to the first ones
    assert main(train(out, "--resume")) == 0
    assert pairs.read_bytes() == original


def test_a_modified_config_is_refused(finished, run_copy, capsys):
    out = run_copy(finished)
    config = out / "config.toml"
    config.write_text(config.read_text().replace("seed = 0", "seed = 1"))
    for argv in (train(out, "--resume", "--seed", "1"), ["train", "--out", str(out), "--resume"]):
        err = one_sentence(*cli(capsys, argv))
        assert f"{config} does not match the checksum" in err and "restore it or start a new --out" in err


def test_an_artifact_without_a_recorded_checksum_is_refused(finished, run_copy, capsys):
    out = run_copy(finished)
    recorded = json.loads((out / "checksums.json").read_text())
    del recorded["data/pairs.safetensors"]
    (out / "checksums.json").write_text(json.dumps(recorded))
    err = one_sentence(*cli(capsys, train(out, "--resume")))
    assert "pairs.safetensors has no recorded checksum" in err
    (out / "checksums.json").write_text("{not json")
    err = one_sentence(*cli(capsys, train(out, "--resume")))
    assert "checksums.json is damaged" in err


def test_a_modified_done_record_is_refused(finished, run_copy, capsys):
    out = run_copy(finished)
    done = out / "checkpoints" / "sft" / "done.json"
    record = json.loads(done.read_text())
    record["timing"]["steps"] = 1000
    done.write_text(json.dumps(record))
    err = one_sentence(*cli(capsys, train(out, "--resume")))
    assert f"{done} is modified (its own checksum does not match)" in err


# ---------------------------------------------------------------------------------------------- 4. filesystem
@pytest.mark.parametrize(
    ("code", "fix"),
    [(errno.EROFS, "choose an --out directory on a writable disk"), (errno.EACCES, "writable (or choose another")],
)
def test_a_read_only_out_is_one_sentence(tmp_path, monkeypatch, capsys, code, fix):
    out = tmp_path / "run"
    out.mkdir()
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):
        if str(path).startswith(str(out)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    err = one_sentence(*cli(capsys, train(out)))
    assert f"A file operation in the run directory {out} failed ({os.strerror(code)}: {out / '.lock'})" in err
    assert fix in err


def test_an_out_inside_a_file_is_one_sentence(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    err = one_sentence(*cli(capsys, train(tmp_path / "file" / "run")))
    assert "(Not a directory:" in err


def test_a_checkpoint_folder_made_read_only_mid_run(finished, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):  # nash-md-pg's folder refuses new entries from its 3rd checkpoint on
        if self.parent.name == "nash-md-pg" and self.name >= "step-0000003":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    err = one_sentence(*cli(capsys, train(out)))
    assert f"(Permission denied: {out / 'checkpoints' / 'nash-md-pg' / 'step-0000003.tmp'})" in err
    assert f"make {out} and the folders in it writable" in err
    monkeypatch.undo()  # made writable again: the run resumes and ends where the uninterrupted one ends
    assert main(train(out, "--resume")) == 0
    assert same_weights(out, weights(finished))


def test_a_full_disk_mid_run_is_one_sentence_and_the_run_resumes(finished, tmp_path, monkeypatch, capsys):
    import nlhf_core.llm.checkpoints as checkpoints

    out = tmp_path / "run"
    real_save = checkpoints.save_state
    calls = []

    def full_disk(state, path):
        calls.append(path)
        if len(calls) == 5:
            path.write_bytes(b"half a state")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # what write() raises: no file name
        return real_save(state, path)

    monkeypatch.setattr(checkpoints, "save_state", full_disk)
    err = one_sentence(*cli(capsys, train(out)))
    assert f"failed (No space left on device: {out}); free some disk space, then resume the run" in err
    monkeypatch.undo()
    assert main(train(out, "--resume")) == 0
    assert same_weights(out, weights(finished))


def test_write_failures_of_the_libraries_are_os_errors(tmp_path):
    """safetensors words a failed write as ``... (os error N)``; torch.save's own is replaced by Python's write."""
    from nlhf_core.llm.pairs import _save
    from nlhf_core.llm.runtime import as_os_error, save_state

    err = as_os_error(Exception("Error while serializing: I/O error: No space left on device (os error 28)"), tmp_path)
    assert isinstance(err, OSError) and err.errno == errno.ENOSPC and err.filename == str(tmp_path)
    with pytest.raises(OSError) as raised:
        _save({"a": torch.zeros(2)}, tmp_path / "missing" / "x.safetensors")
    assert raised.value.errno == errno.ENOENT
    (tmp_path / "state.pt.tmp").mkdir()  # torch.save would raise a RuntimeError here
    with pytest.raises(IsADirectoryError):
        save_state({"step": 1}, tmp_path / "state.pt")


# ---------------------------------------------------------------------------------------------- 5. advice
def test_a_damaged_checkpoint_advises_only_what_exists(finished, stopped, run_copy, capsys):
    out = run_copy(stopped)
    stage = out / "checkpoints" / "nash-md-pg"
    last = latest_checkpoint(stage)
    assert last is not None and [p.name for p in stage.iterdir()] == [last.name]  # only the latest is kept
    state = last / "state.pt"
    good = state.read_bytes()
    state.write_bytes(good[:50])
    err = one_sentence(*cli(capsys, train(out, "--resume")))
    assert f"delete the folder {last} to train the stage 'nash-md-pg' again from its first step" in err
    state.write_bytes(good)
    kept = stage / "step-0000002"  # with an earlier complete checkpoint, that one is named
    shutil.copytree(last, kept)
    (last / "manifest.json").unlink()
    err = one_sentence(*cli(capsys, train(out, "--resume")))
    assert f"delete the folder {last} to resume from the kept checkpoint {kept}" in err
    shutil.rmtree(last)  # following the advice
    assert main(train(out, "--resume")) == 0
    assert same_weights(out, weights(finished))


def test_a_damaged_final_checkpoint_advises_training_that_stage_again(finished, run_copy, capsys):
    out = run_copy(finished)
    stage = out / "checkpoints" / "sft"
    model = stage / "model.safetensors"
    model.write_bytes(model.read_bytes()[:-4])
    err = one_sentence(*cli(capsys, train(out, "--resume")))
    assert f"delete the folder {stage} to train the stage 'sft' again from its first step" in err
    shutil.rmtree(stage)
    assert main(train(out, "--resume")) == 0
    assert same_weights(out, weights(finished))


def test_the_study_reads_a_preference_model_only_once_verified(finished, run_copy):
    from nlhf_core.games.presets import open_game
    from nlhf_core.llm.checkpoints import CheckpointError
    from nlhf_core.llm.task import AnswerTask
    from nlhf_core.llm.win_rates import preference_model_matrices

    config = resolve_config("smoke", TINY)
    task = AnswerTask.from_game(open_game(config.task.game), config.task.prompt, config.task.hedges)
    out = run_copy(finished)
    Q = preference_model_matrices(out, config, task)
    assert Q is not None and Q.shape == (len(task.prompts), task.n + 1, task.n + 1)
    model = out / "checkpoints" / "preference-model" / "model.safetensors"
    data = bytearray(model.read_bytes())
    data[-3] ^= 0x01
    model.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum does not match"):
        preference_model_matrices(out, config, task)
