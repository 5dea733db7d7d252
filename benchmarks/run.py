"""One runner for every side-by-side benchmark: ``python -m benchmarks.run`` (``make bench``).

Each comparison is a module of this package listed in :data:`SECTIONS` that defines

* ``TITLE`` (str) and ``PACKAGES`` (distribution names whose versions the results record);
* ``run(quick: bool) -> dict`` — JSON-serializable results, with a ``"targets"`` list of
  ``{"target", "measured", "met"}`` rows (may be empty);
* ``render(result: dict) -> str`` — the section's Markdown body.

A listed module that does not exist yet is skipped (so a section can be added by dropping in
its file), and a section that raises is reported as failed without stopping the others.
Results go to ``benchmarks/results.md`` and ``benchmarks/results.json``.

Usage: ``python -m benchmarks.run [--only exact dynamics ...] [--quick] [--out DIR]``; ``--only`` reruns
those sections and keeps the others' stored results in ``results.json``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

# One BLAS/OpenMP thread for every contender, set before NumPy loads: the machine is shared, and a
# multi-threaded BLAS on oversubscribed cores slows dense factorizations 10-50× at random
# (HiGHS, ECOS and Gambit run single-threaded anyway). Export these variables to override.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from .common import load_average, machine, versions  # noqa: E402

HERE = Path(__file__).resolve().parent

#: Section key -> module in this package, in the order they run and appear.
SECTIONS = {
    "exact": "bench_exact",
    "regularized": "bench_regularized",
    "dynamics": "bench_dynamics",
    "lm": "bench_lm",  # the language-model trainer against TRL's NashMDTrainer (added with nlhf_core/llm)
    "study": "bench_study",  # the tabular study of the paper's comparison (issue 16)
}
BASE_PACKAGES = ("nlhf-explorer", "numpy", "scipy", "torch")


def load_section(key: str):
    """The section module for ``key``, or None when its file is not there yet."""
    name = f"{__package__ or 'benchmarks'}.{SECTIONS[key]}"
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)


def run_sections(keys: list[str], quick: bool) -> dict:
    report = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine(),
        "load_average_start": load_average(),
        "threads": {v: os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
        "sections": {},
    }
    packages = list(BASE_PACKAGES)
    for key in keys:
        module = load_section(key)
        if module is None:
            print(f"[{key}] skipped: benchmarks/{SECTIONS[key]}.py is not there", flush=True)
            continue
        packages += [p for p in getattr(module, "PACKAGES", ()) if p not in packages]
        print(f"[{key}] {module.TITLE} ...", flush=True)
        start = time.perf_counter()
        entry = {"title": module.TITLE, "load_average_start": load_average()}
        try:
            entry["result"] = module.run(quick=quick)
            entry["status"] = "ok"
        except Exception:
            entry["status"] = "failed"
            entry["error"] = traceback.format_exc(limit=4)
            print(entry["error"], flush=True)
        entry["seconds"] = time.perf_counter() - start
        entry["load_average_end"] = load_average()
        report["sections"][key] = entry
    report["versions"] = versions(packages)
    report["load_average_end"] = load_average()
    return report


def render(report: dict, modules: dict) -> str:
    m = report["machine"]
    vers = ", ".join(f"{k} {v}" for k, v in report["versions"].items())
    lines = [
        "# Benchmarks against peer libraries",
        "",
        f"Generated {report['generated']} by `make bench` (`python -m benchmarks.run"
        f"{' --quick' if report['quick'] else ''}`). Machine: {m['cpu']}, {m['cpus']} CPUs, "
        f"{m['memory_gib']} GiB, {m['platform']}, Python {m['python']}. Versions: {vers}.",
        "",
        "Every comparison runs in one process on the same inputs (peers that may run for long go to a forked "
        "child with a time limit); ours and the peers alternate within each repeat, so the load of this shared "
        "machine hits both alike; the times are medians. Load averages (1, 5, 15 min) are shown per section. "
        f"BLAS threads: {report['threads'].get('OPENBLAS_NUM_THREADS')} for every contender (the machine is shared "
        "with other jobs; a multi-threaded BLAS on oversubscribed cores gives erratic times).",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for entry in report["sections"].values():
        for t in (entry.get("result") or {}).get("targets", []):
            lines.append(f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |")
    missed = [
        t for e in report["sections"].values() for t in (e.get("result") or {}).get("targets", []) if not t["met"]
    ]
    if missed:
        lines += ["", "**Closing note on the targets not reached:**", ""]
        lines += [f"- {t['target']}: {t.get('why') or t['measured']}" for t in missed]
    for key, entry in report["sections"].items():
        lines += [
            "",
            f"## {entry['title']}",
            "",
            f"Load average at start {entry['load_average_start']}, at end {entry['load_average_end']}; "
            f"section ran {entry['seconds']:.0f} s"
            + (
                f" (run {entry['generated']}{', --quick' if entry.get('quick') else ''})."
                if "generated" in entry
                else "."
            ),
            "",
        ]
        if entry["status"] != "ok":
            lines += ["The section failed:", "", "```", entry["error"].rstrip(), "```"]
            continue
        lines.append(modules[key].render(entry["result"]).rstrip())
    return "\n".join(lines) + "\n"


def merge_reports(old: dict, new: dict) -> dict:
    """``--only``: keep the sections of ``old`` that were not rerun (with their own load averages and date).

    Sections keep the order of :data:`SECTIONS`; versions are the union (the new run's win). A quick
    rerun of some sections does not make the stored full runs of the others quick, so ``quick`` is
    kept from ``old`` unless every section was rerun.
    """
    if old.get("quick") != new["quick"] and set(new["sections"]) != set(old.get("sections", {})):
        print("note: merging a --quick run with stored full runs (or the reverse); results.md says which", flush=True)
    for entry in old.get("sections", {}).values():
        entry.setdefault("generated", old.get("generated"))
    for entry in new["sections"].values():
        entry["generated"], entry["quick"] = new["generated"], new["quick"]
    sections = {**old.get("sections", {}), **new["sections"]}
    merged = {**new, "sections": {k: sections[k] for k in SECTIONS if k in sections}}
    merged["versions"] = {**old.get("versions", {}), **new["versions"]}
    merged["quick"] = new["quick"] if set(new["sections"]) >= set(old.get("sections", {})) else old.get("quick")
    return merged


def _retarget(module, result: dict) -> list[dict]:
    """Recompute a section's target rows from its stored results (for ``--render-only``)."""
    if "main" in result:  # the language-model section: targets from its whole result
        return module.targets(result)
    if "rows" in result:
        extra = {"classes": result["classes"]} if "classes" in result else {}
        return module.targets(result["rows"], **extra)
    if "cost" in result:
        return module.targets(result["cost"])
    return result.get("targets", [])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Side-by-side benchmarks against peer libraries.")
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), help="run only these sections")
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run, about a minute)")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for results.md and results.json")
    parser.add_argument("--render-only", action="store_true", help="rewrite results.md from results.json, no runs")
    args = parser.parse_args(argv)
    if args.render_only:
        report = json.loads((args.out / "results.json").read_text())
        for key, entry in report["sections"].items():
            if entry["status"] == "ok" and hasattr(load_section(key), "targets"):
                entry["result"]["targets"] = _retarget(load_section(key), entry["result"])
        modules = {key: load_section(key) for key in report["sections"]}
        (args.out / "results.json").write_text(json.dumps(report, indent=1, default=float) + "\n")
        (args.out / "results.md").write_text(render(report, modules))
        return
    keys = args.only or list(SECTIONS)
    report = run_sections(keys, args.quick)
    previous = args.out / "results.json"
    if args.only and previous.exists():
        report = merge_reports(json.loads(previous.read_text()), report)
    modules = {key: load_section(key) for key in report["sections"]}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=1, default=float) + "\n")
    (args.out / "results.md").write_text(render(report, modules))
    print(f"wrote {args.out / 'results.md'} and {args.out / 'results.json'}", flush=True)


if __name__ == "__main__":
    main()
