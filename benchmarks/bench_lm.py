"""Language-model trainer: our Nash-MD-PG against TRL's ``NashMDTrainer`` on the same tiny model and CPU.

One section of ``python -m benchmarks.run``. Both trainers get the same inputs, written once to a
temporary folder with ``save_pretrained``:

* the policy: a tiny GPT-2 (``nlhf_core.llm.models.tiny_gpt2_config``; random initialization, one
  seed) with the word-level tokenizer our code builds for the default task
  (``preset:two-prompts``); each trainer loads its own copy, and its own reference copy, from disk;
* the judge: one tiny ``GPT2ForSequenceClassification`` reward model ``r(x, y)``. TRL takes it as
  ``reward_funcs`` and scores ``P(y ≻ y') = sigmoid(r(y) - r(y'))`` from token ids; ours plugs the
  same model in through ``policy.judge = "benchmarks.bench_lm:RewardJudge"`` (text in, the same
  probability out);
* the same prompts drawn with the task's prompt weights, batch size, ``max_new_tokens``, number of
  steps, KL strength (``tau`` = TRL ``beta``), mixture coefficient (``beta`` = TRL
  ``mixture_coef``), learning rate (AdamW), temperature 1, fp32 on the CPU and one torch thread.

Each run is a fresh ``python -m benchmarks.bench_lm --worker ...`` process (not a fork), so its
peak resident memory ``ru_maxrss`` is its own; nothing is subtracted from either figure (the
memory after imports and model loading is recorded too). The trainers alternate over the repeats
and the figures are medians. Samples/s counts generated completions: per step each trainer
generates ``batch`` completions from the policy and ``batch`` from the mixture, so
``2 × batch × steps / seconds`` for both; seconds are the training loop only (our stage timer in
``summary.json``, which includes one exact evaluation at the last step; TRL's ``trainer.train()``), model
loading and setup excluded for both. An extra setting at 32 new tokens shows how the gap grows with the
length, and one cProfile run of each trainer splits its loop into phases for the closing note.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import load_average

TITLE = "Language-model trainer: Nash-MD-PG vs TRL NashMDTrainer"
PACKAGES = ("torch", "transformers", "trl", "accelerate")
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
SETTINGS = {
    "n_layer": 2,
    "n_head": 2,
    "n_embd": 64,
    "batch_size": 64,
    "max_new_tokens": 8,
    "steps": 40,
    "tau": 0.1,
    "beta": 0.125,
    "lr": 1e-3,
    "threads": 1,
    "seed": 0,
}
QUICK = {"batch_size": 16, "steps": 4}
LONG = {"max_new_tokens": 32, "steps": 10}
REPEATS, LONG_REPEATS, QUICK_REPEATS = 5, 3, 1
LIMIT_S = 900.0
SPEED_TARGET = 3.0


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


# ---------------------------------------------------------------------------- workers (own processes)
def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def worker_ours(folder: Path, s: dict[str, Any]) -> dict[str, Any]:
    import torch

    from nlhf_core.llm.api import run_training

    torch.set_num_threads(s["threads"])
    os.environ["NLHF_BENCH_LM_DIR"] = str(folder)
    config = {
        "run": {"seed": s["seed"], "device": "cpu", "precision": "fp32", "threads": s["threads"]},
        "task": {"max_new_tokens": s["max_new_tokens"], "hedges": ["maybe", "surely"]},
        "model": {"source": str(folder / "policy")},
        "sft": {"steps": 0},
        "preference_model": {"steps": 0},
        "reward_model": {"steps": 0},
        "policy": {
            "methods": ["nash-md-pg"],
            "judge": "benchmarks.bench_lm:RewardJudge",
            "steps": s["steps"],
            "batch_size": s["batch_size"],
            "lr": s["lr"],
            "tau": s["tau"],
            "beta": s["beta"],
            "eval_every": max(1, s["steps"]),
        },
        "eval": {"sampled_pairs": 0},
    }
    before = _peak_mib()
    with tempfile.TemporaryDirectory() as out:
        summary = run_training(config, Path(out) / "run")
    timing = summary.timing["nash-md-pg"]
    return {"seconds": timing["seconds"], "steps": timing["steps"], "rss_after_imports_mib": before}


def worker_trl(folder: Path, s: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2ForSequenceClassification
    from trl.experimental.nash_md import NashMDConfig, NashMDTrainer

    torch.set_num_threads(s["threads"])
    inputs = json.loads((folder / "inputs.json").read_text())
    tok = AutoTokenizer.from_pretrained(folder / "policy", local_files_only=True)
    load = {"local_files_only": True}
    model = AutoModelForCausalLM.from_pretrained(folder / "policy", **load)
    ref = AutoModelForCausalLM.from_pretrained(folder / "policy", **load)
    reward = GPT2ForSequenceClassification.from_pretrained(folder / "reward", **load)
    rng = np.random.default_rng(s["seed"])
    weights = np.asarray(inputs["weights"]) / sum(inputs["weights"])
    drawn = rng.choice(len(inputs["prompts"]), size=s["batch_size"] * s["steps"], p=weights)
    dataset = Dataset.from_dict({"prompt": [inputs["prompts"][i] for i in drawn]})
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
            max_length=64,
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
        )
        trainer = NashMDTrainer(
            model=model, ref_model=ref, reward_funcs=reward, args=args, train_dataset=dataset, processing_class=tok
        )
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "steps": trainer.state.global_step, "rss_after_imports_mib": before}


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
LOOP = {"ours": ("nlhf_core/llm/trainer.py", "_loop"), "trl": ("transformers/trainer.py", "train")}


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
    """One trainer run in a fresh interpreter; its own ``ru_maxrss`` is its peak memory."""
    env = {**os.environ, **ENV, "NLHF_BENCH_LM_DIR": str(folder)}
    cmd = [sys.executable, "-m", "benchmarks.bench_lm", "--worker", name, "--dir", str(folder)]
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
    out["status"], out["load_average"] = "ok", load
    return out


# ---------------------------------------------------------------------------- section
def _median(runs: list[dict], key: str) -> float | None:
    vals = [r[key] for r in runs if r["status"] == "ok"]
    return statistics.median(vals) if vals else None


def measure(folder: Path, settings: dict[str, Any], repeats: int, label: str) -> dict[str, Any]:
    """Alternate the two trainers ``repeats`` times (fresh process each); medians per trainer."""
    runs: dict[str, list[dict]] = {"ours": [], "trl": []}
    for r in range(repeats):
        for name in ("ours", "trl") if r % 2 == 0 else ("trl", "ours"):
            e = run_worker(name, folder, settings)
            runs[name].append(e)
            text = (
                f"{e['samples_per_s']:.1f} completions/s, {e['seconds']:.2f} s, peak {e['peak_rss_mib']:.0f} MiB"
                if e["status"] == "ok"
                else f"{e['status']}: {e['error']}"
            )
            print(f"lm {label} {name} repeat {r + 1}: {text}", flush=True)
    keys = ("samples_per_s", "seconds", "peak_rss_mib", "rss_after_imports_mib")
    summary = {name: {k: _median(v, k) for k in keys} for name, v in runs.items()}
    return {"settings": settings, "repeats": repeats, "runs": runs, "summary": summary}


def paired(block: dict) -> dict[str, float | None]:
    """Robust views of a noisy shared machine: the median of the per-repeat ratios (the two runs of a repeat
    are adjacent in time, so they see similar load) and the ratio of each trainer's fastest run."""
    pairs = [
        o["samples_per_s"] / t["samples_per_s"]
        for o, t in zip(block["runs"]["ours"], block["runs"]["trl"], strict=False)
        if o["status"] == "ok" and t["status"] == "ok"
    ]
    best = {
        k: max((r["samples_per_s"] for r in v if r["status"] == "ok"), default=None) for k, v in block["runs"].items()
    }
    return {
        "median_paired_ratio": statistics.median(pairs) if pairs else None,
        "best_ratio": best["ours"] / best["trl"] if best["ours"] and best["trl"] else None,
    }


def _ratio(block: dict) -> float | None:
    ours, trl = block["summary"]["ours"]["samples_per_s"], block["summary"]["trl"]["samples_per_s"]
    return ours / trl if ours and trl else None


def explain_speed(result: dict) -> str:
    """The closing note for a missed speed target, from the measured ratio and both profiles."""
    ratio, prof = _ratio(result["main"]), result.get("profile") or {}
    s = result["main"]["settings"]
    text = f"ours reaches {ratio:.2f}× TRL's completions/s, {SPEED_TARGET / ratio:.2f}× short of {SPEED_TARGET:g}×. "
    robust = paired(result["main"])
    loads = [r["load_average"][0] for v in result["main"]["runs"].values() for r in v if r.get("load_average")]
    if robust["median_paired_ratio"] and loads:
        text += (
            f"The shared machine's load (1-minute average {min(loads)}–{max(loads)} on 2 cores) moves single runs a "
            f"lot, but no view comes near {SPEED_TARGET:g}×: median of the per-repeat ratios "
            f"{robust['median_paired_ratio']:.2f}×, fastest run of each {robust['best_ratio']:.2f}×. "
        )
    if "ours" in prof and "trl" in prof and prof["ours"].get("profile") and prof["trl"].get("profile"):
        po, pt = prof["ours"]["profile"], prof["trl"]["profile"]
        steps = s["steps"]
        phase_o = list(po["phases"].values())
        phase_t = list(pt["phases"].values())
        text += (
            f"Profile (cProfile, one {steps}-step run each, seconds of the loop ours / TRL: {po['loop_s']:.1f} / "
            f"{pt['loop_s']:.1f}): sampling {phase_o[0]:.1f} / {phase_t[0]:.1f}, judge {phase_o[1]:.1f} / "
            f"{phase_t[1]:.1f}, log-probs {phase_o[2]:.1f} / {phase_t[2]:.1f}, backward {phase_o[3]:.1f} / "
            f"{phase_t[3]:.1f}. Both run the tiny GPT-2 about equally often "
            f"({po['gpt2_forwards'] / steps:.0f} vs {pt['gpt2_forwards'] / steps:.0f} forward passes per step on "
            f"{s['batch_size']} rows); at this size a pass costs largely fixed per-call overhead (transformers' Python "
            "module stack, op dispatch) rather than arithmetic, the same in both"
            + (
                f" (at most {po['torch_builtin_s']:.1f} s of our {po['loop_s']:.1f} s loop are spent inside torch's "
                "built-in calls, ops, dispatch and autograd together, counted over the whole process)"
                if "torch_builtin_s" in po
                else ""
            )
            + ". Our lead is the KV-cached token-level mixture (TRL's mixture wrapper turns the cache off and "
            "re-encodes the prefix at every token) and a leaner loop than `generate()` plus the HF Trainer. "
            + (
                f"It grows with the generation length ({_ratio(result['long']):.2f}× at "
                f"{result['long']['settings']['max_new_tokens']} new tokens), as TRL's uncached mixture costs "
                "O(T^2) token positions. "
                if result.get("long") and _ratio(result["long"])
                else ""
            )
            + "At this length 3× needs a cheaper pass (a lean sampler that bypasses the transformers module "
            "stack, or torch.compile) or fewer passes (y and y' drawn in one batched policy pass saves 8 of the "
            "~28 per step): changes to nlhf_core.llm.sampling, not made here."
        )
    return text


def targets(result: dict) -> list[dict]:
    main = result["main"]["summary"]
    ours, trl = main["ours"], main["trl"]
    if ours["samples_per_s"] is None or trl["samples_per_s"] is None:
        return [
            {
                "target": f"LM: >= {SPEED_TARGET:g}× TRL NashMDTrainer samples/s",
                "measured": "not measured",
                "met": False,
                "why": "a trainer failed; see the language-model section",
            }
        ]
    ratio = _ratio(result["main"])
    mem = ours["peak_rss_mib"] / trl["peak_rss_mib"]
    return [
        {
            "target": f"LM: >= {SPEED_TARGET:g}× TRL NashMDTrainer samples/s (equal settings)",
            "measured": f"{ratio:.2f}× ({ours['samples_per_s']:.0f} vs {trl['samples_per_s']:.0f} completions/s)",
            "met": ratio >= SPEED_TARGET,
            "why": "" if ratio >= SPEED_TARGET else explain_speed(result),
        },
        {
            "target": "LM: peak memory <= TRL NashMDTrainer's",
            "measured": f"{ours['peak_rss_mib']:.0f} vs {trl['peak_rss_mib']:.0f} MiB ({mem:.2f}×)",
            "met": mem <= 1.0,
            "why": "" if mem <= 1.0 else "see the peak and after-loading memory in the language-model section",
        },
    ]


def run(quick: bool = False) -> dict:
    settings = {**SETTINGS, **(QUICK if quick else {})}
    repeats = QUICK_REPEATS if quick else REPEATS
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="nlhf-bench-lm-") as tmp:
        folder = Path(tmp)
        prepare(folder, settings)
        result["main"] = measure(folder, settings, repeats, "main")
        if not quick:
            result["long"] = measure(folder, {**settings, **LONG}, LONG_REPEATS, "long")
        result["profile"] = {name: run_worker(name, folder, settings, profile=True) for name in ("ours", "trl")}
    result["targets"] = targets(result)
    return result


def _block_rows(block: dict, label: str) -> list[str]:
    names = {"ours": "ours `nash-md-pg` (`nlhf_core.llm`)", "trl": "TRL `experimental.nash_md.NashMDTrainer`"}
    lines = []
    for key in ("ours", "trl"):
        e = block["summary"][key]
        runs = ", ".join(
            f"{r['samples_per_s']:.0f}" if r["status"] == "ok" else r["status"] for r in block["runs"][key]
        )
        if e["samples_per_s"] is None:
            err = next((r["error"] for r in block["runs"][key] if r["status"] != "ok"), "")
            lines.append(f"| {label} | {names[key]} | failed: `{err[:150]}` | | | |")
            continue
        lines.append(
            f"| {label} | {names[key]} | {e['samples_per_s']:.1f} | {e['seconds']:.2f} "
            f"| {e['peak_rss_mib']:.0f} ({e['rss_after_imports_mib']:.0f}) | {runs} |"
        )
    return lines


def render(result: dict) -> str:
    main = result["main"]
    s = main["settings"]
    lines = [
        f"Tiny GPT-2 ({s['n_layer']} layers, {s['n_head']} heads, width {s['n_embd']}, the word-level vocabulary of "
        f"the default task), the task's two prompts, batch {s['batch_size']} prompts, {s['steps']} steps, KL "
        f"strength {s['tau']:g}, mixture coefficient {s['beta']:g}, AdamW lr {s['lr']:g}, temperature 1, fp32, CPU, "
        f"{s['threads']} torch thread; the judge of both is one tiny GPT-2 reward model, `P = sigmoid(r(y) - r(y'))` "
        "(TRL: `reward_funcs`; ours: `policy.judge = benchmarks.bench_lm:RewardJudge`). Each run is a fresh process "
        f"that loads the same saved model and tokenizer; medians of {main['repeats']} alternating runs. "
        "Completions/s = generated completions per second of the training loop, policy and mixture alike "
        "(`2 × batch × steps / seconds`; setup and model loading excluded for both). Peak RSS = the process's "
        "`ru_maxrss` at its end, nothing subtracted from either (in parentheses: after imports and loading).",
        "",
        "| new tokens | trainer | completions/s | loop seconds | peak RSS MiB (after loading) | runs (completions/s) |",
        "|---|---|---|---|---|---|",
    ]
    lines += _block_rows(main, str(s["max_new_tokens"]))
    if "long" in result:
        ls = result["long"]["settings"]
        lines += _block_rows(result["long"], f"{ls['max_new_tokens']} (extra: {ls['steps']} steps)")
    ratio = _ratio(main)
    if ratio:
        o, t = main["summary"]["ours"], main["summary"]["trl"]
        lines += [
            "",
            f"Ours / TRL at {s['max_new_tokens']} new tokens: {ratio:.2f}× the completions/s, "
            f"{o['peak_rss_mib'] / t['peak_rss_mib']:.2f}× the peak memory (ratio of medians; median of the "
            f"per-repeat ratios {paired(main)['median_paired_ratio']:.2f}×, fastest run of each "
            f"{paired(main)['best_ratio']:.2f}×)."
            + (
                f" At {result['long']['settings']['max_new_tokens']} new tokens: {_ratio(result['long']):.2f}×."
                if "long" in result and _ratio(result["long"])
                else ""
            ),
        ]
    loads = [r["load_average"][0] for b in (main, result.get("long")) if b for v in b["runs"].values() for r in v]
    if loads:
        lines += ["", f"1-minute load average at the start of the runs: {min(loads)}–{max(loads)} (2 shared cores)."]
    threads = sorted(
        {
            r["torch_threads"]
            for b in (main, result.get("long"))
            if b
            for v in b["runs"].values()
            for r in v
            if "torch_threads" in r
        }
    )
    if threads:
        lines[-1] += f" torch threads read at the end of every run: {', '.join(map(str, threads))}."
    prof = result.get("profile") or {}
    if all(prof.get(k, {}).get("profile") for k in ("ours", "trl")):
        lines += [
            "",
            f"Profile of one {s['steps']}-step run of each (cProfile, cumulative seconds; GPT-2 forward passes "
            "counted over policy, reference and reward model):",
            "",
            "| phase | ours | TRL |",
            "|---|---|---|",
        ]
        po, pt = prof["ours"]["profile"], prof["trl"]["profile"]
        for label, _, _ in PHASES:
            lines.append(f"| {label} | {po['phases'].get(label, 0.0):.2f} | {pt['phases'].get(label, 0.0):.2f} |")
        lines.append(f"| training loop | {po['loop_s']:.2f} | {pt['loop_s']:.2f} |")
        if "torch_builtin_s" in po and "torch_builtin_s" in pt:
            lines.append(
                "| own time of torch's built-in calls (ops, autograd engine; whole process, so it includes "
                f"model loading) | {po['torch_builtin_s']:.2f} | {pt['torch_builtin_s']:.2f} |"
            )
        lines.append(
            f"| GPT-2 forward passes per step | {po['gpt2_forwards'] / s['steps']:.1f} "
            f"| {pt['gpt2_forwards'] / s['steps']:.1f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
