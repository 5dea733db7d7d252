"""Whole runs on your own prompts (issue 17): the acceptance command, saved models, preference data, bad
input refused before anything is written, a NaN judge stopping a run that then resumes, context limits.

Seeds are fixed (run.seed = 0); margins and the figures observed on a 2-core CPU are in the comments.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from nlhf_core.errors import ParameterError  # noqa: E402
from nlhf_core.llm import resolve_config, run_training  # noqa: E402
from tests.cli.runner import assert_refused, run_cli  # noqa: E402
from tests.llm.test_own_data import JUDGE, QUICK, STATE, make_data, write_jsonl  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[Path, Path, Path]:
    return make_data(tmp_path_factory.mktemp("data"))


def _overrides(data, *extra: str) -> list[str]:
    return [*QUICK, f"dataset.prompts='{data[0]}'", f"dataset.sft='{data[1]}'", f"policy.judge='{JUDGE}'", *extra]


def _loads(folder: Path) -> str:
    """Load a saved policy with the Auto classes and greedily continue one prompt; returns the text."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    ids = tokenizer("describe cats [SEP]", return_tensors="pt", add_special_tokens=False)
    out = model.generate(**ids, max_new_tokens=5, do_sample=False)
    return tokenizer.decode(out[0])


def test_quick_run_on_your_prompts_writes_estimates_and_loadable_models(data, tmp_path, capsys):
    """The acceptance command at tiny sizes (a few seconds): summary keys, report wording, models/."""
    out = tmp_path / "D"
    code, stdout, stderr = run_cli(
        capsys, "train", "--prompts", str(data[0]), "--sft-data", str(data[1]), "--judge", JUDGE,
        "--set", 'policy.methods=["nash-md-pg"]', *[a for o in QUICK for a in ("--set", o)], "--out", str(out),
        "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    assert "win vs SFT (judged, 95% interval)" in stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["task"] == "prompts" and summary["methods"] == ["sft", "nash-md-pg"]
    assert summary["eval_prompts"] == 20  # 10 % of 200 prompts
    W, CI = summary["win_rates"], summary["win_rate_intervals"]
    assert W["nash-md-pg"]["sft"] + W["sft"]["nash-md-pg"] == pytest.approx(1.0) and W["sft"]["sft"] == 0.5
    low, high = CI["nash-md-pg"]["sft"]
    assert low <= W["nash-md-pg"]["sft"] <= high
    assert summary["kl_to_reference"]["sft"] == 0.0  # the reference against itself
    for key in ("answer_distributions", "kl_to_regularized_nash", "regularized_nash", "labels"):
        assert key not in summary, key  # category-only keys are absent, not faked
    assert len(summary["examples"]) == 3 and set(summary["examples"][0]["responses"]) == {"sft", "nash-md-pg"}
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "exact" not in report.lower() and "true preferences" not in report
    assert "held-out prompts" in report and "95 % interval" in report
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    data_record = next(r for r in records if r["stage"] == "data")
    assert data_record["train_prompts"] == 180 and data_record["sft_examples"] == 200
    assert all("truncated" in r for r in records if r["stage"] == "nash-md-pg")
    for name in ("sft", "nash-md-pg"):
        assert (out / "models" / name / "config.json").is_file()
        assert _loads(out / "models" / name).startswith("describe cats [SEP]")
    # a saved policy is a model.source like any Hugging Face directory: train it further on the same prompts
    again = resolve_config(None, _overrides(data, f"model.source='{out / 'models' / 'nash-md-pg'}'", "sft.steps=0"))
    summary_again = run_training(again, tmp_path / "again")
    assert summary_again.methods == ["sft", "nash-md-pg"] and summary_again.eval_prompts == 20


def test_python_api_and_toml_keys_take_the_same_data(data, tmp_path):
    config = resolve_config({"dataset": {"prompts": str(data[0])}, "policy": {"judge": JUDGE}}, QUICK)
    summary = run_training(config, tmp_path / "api")
    assert summary.task == "prompts" and "sft" not in [p.name for p in (tmp_path / "api" / "models").iterdir()]
    assert not (tmp_path / "api" / "checkpoints" / "sft").exists()  # no SFT data: no SFT stage


def test_preference_data_trains_the_preference_and_reward_models(data, tmp_path):
    """With --pairs-data the preference model is the judge and RLHF gets its reward model."""
    config = resolve_config(
        None,
        _overrides(
            data, f"dataset.pairs='{data[2]}'", "policy.judge='preference-model'",
            "policy.methods=['rlhf', 'nash-md-pg']", "preference_model.steps=30", "reward_model.steps=30",
            "preference_model.batch_size=32", "reward_model.batch_size=32", "preference_model.n_embd=32",
        ),
    )  # fmt: skip
    summary = run_training(config, tmp_path / "pm")
    models = summary.models
    assert models["pairs"]["count"] == 200
    # the chosen response comes first in about half the pairs (order drawn from run.seed)
    assert 0.35 < models["pairs"]["first_wins_fraction"] < 0.65
    assert models["preference_model"]["held_out_pairs"] == 20
    assert models["preference_model"]["held_out_accuracy"] > 0.7  # "happy" marks the chosen one (observed 1.0)
    assert set(summary.win_rates) == {"sft", "rlhf", "nash-md-pg"}


# ---------------------------------------------------------------- bad input


def test_bad_data_is_refused_in_one_sentence_and_nothing_is_written(data, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a"}\n{"prompt": "b",}\n', encoding="utf-8")
    out = tmp_path / "never"
    assert_refused(capsys, ["train", "--prompts", str(bad), "--judge", JUDGE, "--out", str(out)], "Line 2 of bad.jsonl")
    sft = write_jsonl(tmp_path / "s.jsonl", [{"prompt": "a", "response": "b"}, {"prompt": "c"}])
    assert_refused(
        capsys, ["train", "--prompts", str(data[0]), "--sft-data", str(sft), "--judge", JUDGE, "--out", str(out)],
        "Line 2 of s.jsonl has no text field 'response'",
    )  # fmt: skip
    assert_refused(
        capsys, ["train", "--prompts", str(data[0]), "--out", str(out)],
        "policy.judge is 'preference-model' but no preference model is trained",
    )  # fmt: skip
    assert_refused(
        capsys, ["train", "--prompts", str(data[0]), "--judge", "oracle", "--out", str(out)],
        "'oracle' needs the category task",
    )  # fmt: skip
    assert_refused(
        capsys, ["train", "--prompts", str(data[0]), "--judge", JUDGE, "--methods", "rlhf", "--out", str(out)],
        "RLHF needs a reward model, trained on preference data",
    )  # fmt: skip
    assert not out.exists()


def test_responses_longer_than_the_context_are_refused_for_both_tasks(data, tmp_path):
    with pytest.raises(ParameterError, match="leaves no room for a prompt in the model's context of 64"):
        run_training(resolve_config(None, _overrides(data, "task.max_new_tokens=64")), tmp_path / "a")
    with pytest.raises(ParameterError, match="exceeds the model's context of 64 positions"):
        run_training(resolve_config("smoke", ["task.max_new_tokens=62", "policy.judge='oracle'"]), tmp_path / "b")
    with pytest.raises(ParameterError, match="The preference model reads a prompt and two responses"):
        run_training(resolve_config("smoke", ["task.max_new_tokens=40"]), tmp_path / "d")
    with pytest.raises(ParameterError, match=r"lower task\.max_new_tokens below 31"):
        run_training(resolve_config(None, _overrides(data, f"dataset.pairs='{data[2]}'", "task.max_new_tokens=40")),
                     tmp_path / "c")  # fmt: skip
    assert not any((tmp_path / name).exists() for name in "abcd")


def test_prompts_longer_than_the_context_are_truncated_and_counted(tmp_path):
    """Chat prompts train too (the tiny model reads the user's message)."""
    long = " ".join(f"w{i}" for i in range(100))
    chat = {"messages": [{"role": "user", "content": "short one"}]}
    prompts = write_jsonl(tmp_path / "p.jsonl", [{"prompt": long}] * 4 + [chat] * 4)
    config = resolve_config(
        {"dataset": {"prompts": str(prompts), "eval_fraction": 0.25}}, [*QUICK, f"policy.judge='{JUDGE}'"]
    )
    run_training(config, tmp_path / "run")
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    counts = [r["truncated"] for r in records if r["stage"] == "nash-md-pg"]
    assert len(counts) == 3 and sum(counts) > 0 and all(0 <= c <= 8 for c in counts)


def test_a_judge_returning_nan_stops_the_run_and_it_resumes_once_fixed(data, tmp_path):
    config = resolve_config(None, _overrides(data, "policy.judge='tests.llm.test_own_data:sometimes_nan'"))
    STATE["broken"] = True
    try:
        with pytest.raises(ParameterError, match="The judge returned NaN or infinity for 8 of 8 pairs"):
            run_training(config, tmp_path / "run")
    finally:
        STATE["broken"] = False
    assert (tmp_path / "run" / "checkpoints" / "sft" / "done.json").is_file()  # SFT finished and stays
    assert not (tmp_path / "run" / "summary.json").exists() and not (tmp_path / "run" / "models").exists()
    summary = run_training(config, tmp_path / "run", resume=True)
    assert summary.methods == ["sft", "nash-md-pg"] and (tmp_path / "run" / "models" / "nash-md-pg").is_dir()


# ---------------------------------------------------------------- learning


@pytest.mark.slow
def test_acceptance_nash_md_pg_learns_toward_the_judge(tmp_path, capsys):
    """`nlhf train --prompts P --sft-data S --judge mod:fn --set policy.methods=["nash-md-pg"] --out D`: the judged
    win rate against SFT on 50 held-out prompts is well above 1/2 (margin: its 95 % interval's low end > 0.6)."""
    prompts, sft, _ = make_data(tmp_path)
    out = tmp_path / "D"
    code, _, stderr = run_cli(
        capsys, "train", "--prompts", str(prompts), "--sft-data", str(sft), "--judge", JUDGE,
        "--set", 'policy.methods=["nash-md-pg"]', "--set", "dataset.eval_fraction=0.25", "--set", "sft.steps=100",
        "--set", "sft.batch_size=32", "--set", "policy.steps=60", "--set", "policy.batch_size=32",
        "--set", "task.max_new_tokens=6", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["eval_prompts"] == 50
    assert summary["win_rates"]["nash-md-pg"]["sft"] > 0.65
    assert summary["win_rate_intervals"]["nash-md-pg"]["sft"][0] > 0.6
    assert _loads(out / "models" / "nash-md-pg").startswith("describe cats [SEP]")


def test_a_stopped_run_resumes_to_the_same_parameters(data, tmp_path):
    """Stop after the first Nash-MD-PG step (checkpoint), resume: the saved policy equals an uninterrupted run's."""
    from safetensors.torch import load_file

    from nlhf_core.llm.runner import Stopped

    config = resolve_config(None, _overrides(data))
    run_training(config, tmp_path / "whole")
    stop = threading.Event()

    def on_record(record: dict) -> None:
        if record["stage"] == "nash-md-pg" and record["step"] == 1:
            stop.set()

    with pytest.raises(Stopped):
        run_training(config, tmp_path / "split", callback=on_record, stop_event=stop)
    run_training(config, tmp_path / "split", resume=True)
    whole = load_file(str(tmp_path / "whole" / "models" / "nash-md-pg" / "model.safetensors"))
    split = load_file(str(tmp_path / "split" / "models" / "nash-md-pg" / "model.safetensors"))
    assert whole.keys() == split.keys() and all(torch.equal(whole[k], split[k]) for k in whole)


def test_a_chat_model_directory_trains_through_its_template(data, tmp_path):
    """A local Hugging Face model whose tokenizer has a chat template: prompts and SFT responses go through it."""
    from nlhf_core.llm.config import ModelConfig
    from nlhf_core.llm.models import build_policy, build_word_tokenizer
    from tests.llm.test_own_data import TOPICS, VERBS, WORDS

    words = [w for text in (*VERBS, *TOPICS, *WORDS, "user assistant :") for w in text.split()]
    codec = build_word_tokenizer(words)
    codec.tokenizer.chat_template = (
        "{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} {% endfor %}assistant :"
    )
    build_policy(ModelConfig(n_layer=1, n_head=2, n_embd=32), codec).save_pretrained(tmp_path / "chat")
    codec.tokenizer.save_pretrained(tmp_path / "chat")
    config = resolve_config(None, _overrides(data, f"model.source='{tmp_path / 'chat'}'"))
    from nlhf_core.llm.dataset import open_dataset

    encoder = open_dataset(config).task.encoder
    ids, _ = encoder.prompt("describe cats")
    assert encoder.uses_template and encoder.codec.tokenizer.convert_ids_to_tokens(ids) == [
        "user",
        ":",
        "describe",
        "cats",
        "assistant",
        ":",
    ]
    summary = run_training(config, tmp_path / "run")
    assert summary.methods == ["sft", "nash-md-pg"]
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    prompt = next(r for r in records if r["stage"] == "nash-md-pg")["samples"][0][0]
    assert prompt.split()[0] in {v.split()[0] for v in VERBS}  # the judge reads the text, not the template
    from transformers import AutoTokenizer

    saved = AutoTokenizer.from_pretrained(tmp_path / "run" / "models" / "nash-md-pg")
    assert saved.chat_template == codec.tokenizer.chat_template  # the saved model keeps its template


@pytest.mark.slow
def test_torchrun_two_processes_match_one_process_on_your_prompts(data, tmp_path):
    """`torchrun --nproc_per_node 2` (gloo) on your prompts and one process with run.shards = 2: the same
    parameters within 1e-5 (both read the same rows; only the order of floating-point sums differs)."""
    import os
    import subprocess
    import sys

    from safetensors.torch import load_file

    overrides = _overrides(data, "run.shards=2")
    run_training(resolve_config(None, overrides), tmp_path / "one")
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "nlhf_core.cli",
        "train", "--out", str(tmp_path / "two"), "--quiet", *[a for o in overrides for a in ("--set", o)],
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=400, env=env, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((tmp_path / "two" / "summary.json").read_text(encoding="utf-8"))["world_size"] == 2
    a = load_file(str(tmp_path / "one" / "models" / "nash-md-pg" / "model.safetensors"))
    b = load_file(str(tmp_path / "two" / "models" / "nash-md-pg" / "model.safetensors"))
    assert a.keys() == b.keys() and max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-5
