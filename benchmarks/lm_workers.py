"""The two trainers of the language-model benchmark, each run in its own process: ``python -m benchmarks.lm_workers``.

Both trainers load the same inputs from one folder (written once by :func:`prepare` for the tiny GPT-2,
or :func:`prepare_smollm2` for SmolLM2-135M-Instruct). :func:`run_worker` starts a fresh interpreter per
run (not a fork), so the peak resident memory ``ru_maxrss`` it reports is that run's own. Each worker
also clocks the end of every training step (wall ``perf_counter`` and the process's CPU time
``process_time``; ours through the trainer's metrics callback, TRL's through a ``TrainerCallback``):
the window from the end of the first step to the end of the last is the steady-state per-step cost,
free of both trainers' first-step warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import load_average

ENV = {
    "TRL_EXPERIMENTAL_SILENCE": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "WANDB_DISABLED": "true",
    "WANDB_MODE": "disabled",
    "TOKENIZERS_PARALLELISM": "false",
    "CUDA_VISIBLE_DEVICES": "",
    "OMP_NUM_THREADS": "1",
}

LIMIT_S = 1800.0


# ---------------------------------------------------------------------------- shared inputs
def prepare(folder: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """Write the policy, tokenizer, reward model and prompts that both trainers load."""
    import torch
    from transformers import GPT2ForSequenceClassification, GPT2LMHeadModel

    from nlhf_core.games.presets import open_game
    from nlhf_core.llm.models import build_word_tokenizer, tiny_gpt2_config
    from nlhf_core.llm.task import AnswerTask

    task = AnswerTask.from_game(open_game("preset:two-prompts"), "answer me", ["maybe", "surely"])
    codec = build_word_tokenizer(task.words())
    cfg = tiny_gpt2_config(codec.vocab_size, settings["n_layer"], settings["n_head"], settings["n_embd"])
    cfg.eos_token_id, cfg.pad_token_id, cfg.bos_token_id = codec.eos_id, codec.pad_id, None
    torch.manual_seed(settings["seed"])
    policy = GPT2LMHeadModel(cfg)
    policy.generation_config.eos_token_id = codec.eos_id
    policy.generation_config.pad_token_id = codec.pad_id
    policy.generation_config.bos_token_id = None
    policy.save_pretrained(folder / "policy")
    codec.tokenizer.save_pretrained(folder / "policy")
    cfg.num_labels = 1
    torch.manual_seed(settings["seed"] + 1)
    GPT2ForSequenceClassification(cfg).save_pretrained(folder / "reward")
    codec.tokenizer.save_pretrained(folder / "reward")
    inputs = {"prompts": list(task.prompts), "weights": [float(w) for w in task.weights], "vocab": codec.vocab_size}
    (folder / "inputs.json").write_text(json.dumps(inputs))
    return inputs


class RewardJudge:
    """Our judge plug-in around the shared reward model: ``P(a ≻ b | x) = sigmoid(r(x, a) - r(x, b))``.

    Reads the folder from ``NLHF_BENCH_LM_DIR``; encodes ``prompt`` then ``response + EOS`` with the
    shared tokenizer, right-padded, and scores both sides in one forward pass.
    """

    def __init__(self) -> None:
        from transformers import AutoTokenizer, GPT2ForSequenceClassification

        folder = Path(os.environ["NLHF_BENCH_LM_DIR"]) / "reward"
        self.tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.model = GPT2ForSequenceClassification.from_pretrained(folder, local_files_only=True).eval()
        self.model.requires_grad_(False)

    def __call__(self, prompts: list[str], a: list[str], b: list[str]) -> Any:
        import torch

        eos, pad = self.tok.eos_token_id, self.tok.pad_token_id
        texts = [f"{p} {r}" for p, r in zip(prompts + prompts, a + b, strict=True)]
        rows = [[*ids, eos] for ids in self.tok(texts, add_special_tokens=False)["input_ids"]]
        width = max(len(r) for r in rows)
        ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
        with torch.no_grad():
            r = self.model(input_ids=ids, attention_mask=(ids != pad).long()).logits[:, 0]
        n = len(prompts)
        return torch.sigmoid(r[:n] - r[n:]).numpy()


def prepare_smollm2(folder: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """Inputs of the SmolLM2 comparison: the converted model, the chat prompts and the category-task file."""
    from transformers import AutoTokenizer

    from .lm_smol import chat_prompts, write_task
    from .smollm2 import ensure_converted

    policy = ensure_converted()
    prompts = chat_prompts(AutoTokenizer.from_pretrained(policy, local_files_only=True))
    inputs = {
        "policy": str(policy),
        "prompts": prompts,
        "weights": [1.0] * len(prompts),
        "task": str(write_task(folder, prompts)),
    }
    (folder / "inputs.json").write_text(json.dumps(inputs))
    return inputs


# ---------------------------------------------------------------------------- workers (own processes)
def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _window(ticks: list[tuple[float, float]]) -> dict[str, Any]:
    """Wall and CPU seconds from the end of the first step to the end of the last (``len(ticks) - 1`` steps)."""
    if len(ticks) < 2:
        return {}
    return {"window_steps": len(ticks) - 1, "window_s": ticks[-1][0] - ticks[0][0], "cpu_s": ticks[-1][1] - ticks[0][1]}


def worker_ours(folder: Path, s: dict[str, Any]) -> dict[str, Any]:
    import torch

    from nlhf_core.llm.api import run_training

    torch.set_num_threads(s["threads"])
    os.environ["NLHF_BENCH_LM_DIR"] = str(folder)
    inputs = json.loads((folder / "inputs.json").read_text())
    smol = s.get("model") == "smollm2"
    task: dict[str, Any] = {"max_new_tokens": s["max_new_tokens"], "hedges": ["maybe", "surely"]}
    if smol:
        task["game"] = inputs["task"]
    config = {
        "run": {"seed": s["seed"], "device": "cpu", "precision": "fp32", "threads": s["threads"]},
        "task": task,
        "model": {"source": inputs["policy"] if smol else str(folder / "policy")},
        "sft": {"steps": 0},
        "preference_model": {"steps": 0},
        "reward_model": {"steps": 0},
        "policy": {
            "methods": ["nash-md-pg"],
            "judge": "benchmarks.lm_smol:ShorterJudge" if smol else "benchmarks.lm_workers:RewardJudge",
            "steps": s["steps"],
            "batch_size": s["batch_size"],
            "lr": s["lr"],
            "tau": s["tau"],
            "beta": s["beta"],
            "eval_every": max(1, s["steps"]),
        },
        "eval": {"sampled_pairs": 0},
    }
    ticks: list[tuple[float, float]] = []

    def tick(record: dict[str, Any]) -> None:
        if record.get("stage") == "nash-md-pg":
            ticks.append(_clock())

    before = _peak_mib()
    with tempfile.TemporaryDirectory() as out:
        summary = run_training(config, Path(out) / "run", callback=tick)
    timing = summary.timing["nash-md-pg"]
    return {"seconds": timing["seconds"], "steps": timing["steps"], "rss_after_imports_mib": before, **_window(ticks)}


def _trl_models(folder: Path, s: dict[str, Any], inputs: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    """Tokenizer, policy, reference and reward function of TRL's run, each loaded from disk."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2ForSequenceClassification

    path = Path(inputs["policy"]) if s.get("model") == "smollm2" else folder / "policy"
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    ref = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    if s.get("model") == "smollm2":
        from .lm_smol import ShorterRewardModel

        return tok, model, ref, ShorterRewardModel(tok)
    return tok, model, ref, GPT2ForSequenceClassification.from_pretrained(folder / "reward", local_files_only=True)


def worker_trl(folder: Path, s: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl.experimental.nash_md import NashMDConfig, NashMDTrainer

    torch.set_num_threads(s["threads"])
    inputs = json.loads((folder / "inputs.json").read_text())
    tok, model, ref, reward = _trl_models(folder, s, inputs)
    rng = np.random.default_rng(s["seed"])
    weights = np.asarray(inputs["weights"]) / sum(inputs["weights"])
    drawn = rng.choice(len(inputs["prompts"]), size=s["batch_size"] * s["steps"], p=weights)
    # Our codec encodes a Hugging Face tokenizer's prompt as tokens(prompt + "\n"): the same ids here.
    suffix = "\n" if s.get("model") == "smollm2" else ""
    dataset = Dataset.from_dict({"prompt": [inputs["prompts"][i] + suffix for i in drawn]})
    ticks: list[tuple[float, float]] = []

    class Tick(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            ticks.append(_clock())

    before = _peak_mib()
    with tempfile.TemporaryDirectory() as out:
        args = NashMDConfig(
            output_dir=out,
            per_device_train_batch_size=s["batch_size"],
            gradient_accumulation_steps=1,
            max_steps=s["steps"],
            learning_rate=s["lr"],
            lr_scheduler_type="constant_with_warmup",
            warmup_steps=10,
            beta=s["tau"],
            mixture_coef=s["beta"],
            max_new_tokens=s["max_new_tokens"],
            max_length=512 if s.get("model") == "smollm2" else 64,
            temperature=1.0,
            use_cpu=True,
            bf16=False,
            fp16=False,
            report_to="none",
            save_strategy="no",
            logging_steps=max(1, s["steps"]),
            disable_tqdm=True,
            dataloader_num_workers=0,
            seed=s["seed"],
            **(
                {"gradient_checkpointing": s["trl_gradient_checkpointing"]} if "trl_gradient_checkpointing" in s else {}
            ),
        )
        trainer = NashMDTrainer(
            model=model, ref_model=ref, reward_funcs=reward, args=args, train_dataset=dataset, processing_class=tok
        )
        trainer.add_callback(Tick())
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "steps": trainer.state.global_step,
        "rss_after_imports_mib": before,
        "gradient_checkpointing": bool(args.gradient_checkpointing),
        **_window(ticks),
    }


#: Phases of one training step: label, then (file path part, function name) for ours and for TRL, whose
#: cumulative profile time the phase is ("~" marks a C method matched by name).
PHASES = (
    (
        "sampling y ~ pi and y' ~ mixture (ours: `sample`, KV cache; TRL: `_generate_completions`)",
        ("nlhf_core/llm/sampling.py", "sample"),
        ("nash_md_trainer.py", "_generate_completions"),
    ),
    (
        "judge (ours: `call_judge`, text in; TRL: `_compute_rewards`, token ids in)",
        ("nlhf_core/llm/judges.py", "call_judge"),
        ("nash_md_trainer.py", "_compute_rewards"),
    ),
    (
        "log-probs of y under policy and reference",
        ("nlhf_core/llm/sampling.py", "token_logprobs"),
        ("nash_md_trainer.py", "_compute_logprobs"),
    ),
    ("backward", ("~", "run_backward"), ("~", "run_backward")),
    ("optimizer step (AdamW)", ("torch/optim/adam", "step"), ("torch/optim/adam", "step")),
)
LOOP = {"ours": ("nlhf_core/llm/trainer.py", "optimize_policy"), "trl": ("transformers/trainer.py", "train")}


def profile_phases(name: str, stats: Any) -> dict[str, Any]:
    """Seconds per phase, total loop seconds and GPT-2 forward passes from a ``pstats.Stats``."""
    import inspect

    from transformers import GPT2Model

    first = inspect.unwrap(GPT2Model.forward).__code__.co_firstlineno

    def cumulative(suffix: str, func: str) -> float:
        def hit(k: tuple) -> bool:
            return (func in k[2]) if suffix == "~" else (k[2] == func and suffix in k[0].replace("\\", "/"))

        return sum(v[3] for k, v in stats.stats.items() if hit(k))

    forwards = sum(v[1] for k, v in stats.stats.items() if k[0].endswith("modeling_gpt2.py") and k[1] == first)
    # Own time of torch's built-in (C++) functions: the arithmetic, the autograd engine and the
    # dispatch of each op; the rest of the loop is Python (transformers' module stack, the trainer).
    torch_c = sum(v[2] for k, v in stats.stats.items() if k[0] == "~" and ("torch" in k[2] or "_EngineBase" in k[2]))
    return {
        "loop_s": cumulative(*LOOP[name]),
        "torch_builtin_s": torch_c,
        "phases": {label: cumulative(*(ours if name == "ours" else trl)) for label, ours, trl in PHASES},
        "gpt2_forwards": int(forwards),
    }


def _worker_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=("ours", "trl"), required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--settings", required=True)
    parser.add_argument("--profile", action="store_true", help="run under cProfile and report the phases")
    args = parser.parse_args(argv)
    settings = json.loads(args.settings)
    fn = worker_ours if args.worker == "ours" else worker_trl
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        result = prof.runcall(fn, args.dir, settings)
        result["profile"] = profile_phases(args.worker, pstats.Stats(prof))
    else:
        result = fn(args.dir, settings)
    result["peak_rss_mib"] = _peak_mib()
    result["torch_threads"] = __import__("torch").get_num_threads()  # what the loop ran with, checked at its end
    print("RESULT " + json.dumps(result), flush=True)


def run_worker(name: str, folder: Path, settings: dict[str, Any], profile: bool = False) -> dict[str, Any]:
    """One trainer run in a fresh interpreter; its own ``ru_maxrss`` is its peak memory.

    Args:
        name: ``"ours"`` or ``"trl"``.
        folder: the inputs written by :func:`prepare` or :func:`prepare_smollm2`.
        settings: the block's settings (batch, steps, lengths, ...).
        profile: run under cProfile and add the phases.

    Returns:
        The worker's figures with ``status`` (``ok``, ``failed``, ``gave up``), ``samples_per_s`` and the
        load average at the start and the end of the run.
    """
    env = {**os.environ, **ENV, "NLHF_BENCH_LM_DIR": str(folder)}
    cmd = [sys.executable, "-m", "benchmarks.lm_workers", "--worker", name, "--dir", str(folder)]
    cmd += ["--settings", json.dumps(settings)] + (["--profile"] if profile else [])
    root = Path(__file__).resolve().parent.parent
    load = load_average()
    try:
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=LIMIT_S)
    except subprocess.TimeoutExpired:
        return {"status": "gave up", "error": f"no answer within {LIMIT_S:g} s", "load_average": load}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"status": "failed", "error": " | ".join(tail)[:400], "load_average": load}
    out = json.loads(lines[-1][len("RESULT ") :])
    out["samples_per_s"] = 2 * settings["batch_size"] * out["steps"] / out["seconds"]
    if out.get("window_steps"):
        out["window_samples_per_s"] = 2 * settings["batch_size"] * out["window_steps"] / out["window_s"]
        out["cpu_per_step_s"] = out["cpu_s"] / out["window_steps"]
    out["status"], out["load_average"], out["load_average_end"] = "ok", load, load_average()
    return out


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
