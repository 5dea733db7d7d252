"""What the app's LM lab asks of the trainer: a config from a few choices, and the run directory as a zip.

App code (it was nlhf_core/llm/lab.py): the library keeps only what any caller of the trainer needs.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from nlhf_core.llm.config import BUILTIN

#: Model sizes offered in the lab: (layers, heads, width) of the tiny GPT-2.
MODEL_SIZES = {"tiny": (2, 2, 64), "small": (4, 4, 128)}
#: Budgets: the built-in config each starts from.
BUDGETS = {"quick": "smoke", "full": "default"}
_SCALED = {
    "sft": ("steps",),
    "data": ("pairs", "explore_steps"),
    "preference_model": ("steps",),
    "reward_model": ("steps",),
    "policy": ("steps", "eval_every"),
}
#: The preset the lab opens on, and its best mixture coefficient (the tabular study's beta peak).
DEFAULT_PRESET, DEFAULT_BETA = "paper-comparison", 0.5


def lab_config(
    game: str,
    *,
    size: str = "tiny",
    budget: str = "quick",
    methods: list[str] | None = None,
    tau: float = 0.1,
    beta: float = 0.125,
    judge: str = "preference-model",
    seed: int = 0,
    scale: float = 1.0,
) -> dict[str, Any]:
    """A config mapping (overrides of the defaults) for :func:`nlhf_core.llm.api.run_training`.

    ``game`` is ``preset:NAME`` or a game file; ``scale`` multiplies every step count and the number
    of pairs (at least 1 each), e.g. 0.2 for a very slow machine or a demo.
    """
    layers, heads, width = MODEL_SIZES[size]
    cfg: dict[str, dict[str, Any]] = {k: dict(v) for k, v in BUILTIN[BUDGETS[budget]].items()}
    preset_settings(cfg, game)
    cfg.setdefault("task", {})["game"] = game
    cfg["model"] = {"n_layer": layers, "n_head": heads, "n_embd": width}
    policy = cfg.setdefault("policy", {})
    policy.update({"tau": float(tau), "beta": float(beta), "judge": judge})
    if methods is not None:
        policy["methods"] = list(methods)
    cfg.setdefault("run", {})["seed"] = int(seed)
    if scale != 1.0:
        from nlhf_core.llm.config import defaults

        base = defaults()
        for section, keys in _SCALED.items():
            for key in keys:
                value = cfg.get(section, {}).get(key, base[section][key])
                cfg.setdefault(section, {})[key] = max(1, round(value * scale))
    return cfg


def preset_settings(cfg: dict[str, dict[str, Any]], game: str) -> None:
    """Lay a preset's own language-model settings (a built-in config named like it, e.g. ``paper-comparison``:
    its answers, SFT weights, feedback rounds and RLHF's tau) over ``cfg``, keeping the budget's step counts and
    pair count; the explorer of a later feedback round trains for half the policy steps."""
    name = game.removeprefix("preset:") if game.startswith("preset:") else ""
    own = BUILTIN.get(name) if name not in BUDGETS.values() else None
    if not own:
        return
    budget_steps = cfg.get("policy", {}).get("steps", 250)
    for section in ("task", "sft", "data", "rlhf"):
        keep = {k: v for k, v in own.get(section, {}).items() if k not in ("pairs", "steps", "explore_steps")}
        cfg.setdefault(section, {}).update(keep)
    if own.get("data", {}).get("rounds", 1) > 1:
        cfg["data"]["explore_steps"] = max(1, budget_steps // 2)


def zip_run_dir(path: str | Path) -> bytes:
    """The run directory (config, metrics, checkpoints, summary, report) as zip bytes."""
    root = Path(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(root.rglob("*")):
            if file.is_file() and not file.name.endswith(".tmp"):
                archive.write(file, file.relative_to(root.parent))
    return buffer.getvalue()
