"""Read a training run's metrics records (as logged to ``metrics.jsonl`` or a job's callback) for live views.

No torch here: the app imports this while a job trains in another thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Stages in pipeline order (policy methods follow the configured order).
PIPELINE_STAGES = ("setup", "sft", "reference", "preference-model", "reward-model")


@dataclass
class RunProgress:
    """What a live view shows about a run.

    Attributes:
        stage, step: the latest record's stage and step.
        curves: ``curves[stage][metric] = (steps, values)`` for every numeric metric.
        distributions: ``distributions[method] = (step, (prompts, answers + malformed))`` latest exact
            answer distribution of each policy method; ``history[method]`` all of them in order.
        reference, regularized_nash: ``(prompts, answers + malformed)`` arrays (None until logged).
        labels, prompts: answer labels (the last one is ``malformed``) and prompt texts.
        samples: the latest few ``[prompt, response]`` pairs of each policy method.
    """

    stage: str = ""
    step: int = 0
    curves: dict[str, dict[str, tuple[list[int], list[float]]]] = field(default_factory=dict)
    distributions: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict)
    history: dict[str, list[np.ndarray]] = field(default_factory=dict)
    reference: np.ndarray | None = None
    regularized_nash: np.ndarray | None = None
    labels: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    samples: dict[str, list[list[str]]] = field(default_factory=dict)
    tau: float | None = None


def read_progress(records: Iterable[Mapping[str, Any]]) -> RunProgress:
    """Fold records in order into a :class:`RunProgress` (later records win)."""
    out = RunProgress()
    for record in records:
        stage, step = str(record.get("stage", "")), int(record.get("step", 0))
        out.stage, out.step = stage, step
        if stage == "reference":
            out.labels = list(record["labels"])
            out.prompts = list(record["prompts"])
            out.reference = np.asarray(record["reference_distribution"], dtype=float)
            out.regularized_nash = np.asarray(record["regularized_nash"], dtype=float)
            out.tau = float(record["tau"])
            continue
        if "distribution" in record:
            out.distributions[stage] = (step, np.asarray(record["distribution"], dtype=float))
            out.history.setdefault(stage, []).append(out.distributions[stage][1])
        if "samples" in record:
            out.samples[stage] = [list(pair) for pair in record["samples"]]
        for key, value in record.items():
            if key in ("stage", "step") or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            steps, values = out.curves.setdefault(stage, {}).setdefault(key, ([], []))
            steps.append(step)
            values.append(float(value))
    return out


def valid_share(distribution: np.ndarray) -> np.ndarray:
    """``(prompts, answers)``: the answer distribution given a well-formed answer (malformed mass removed)."""
    valid = np.asarray(distribution, dtype=float)[..., :-1]
    total = valid.sum(axis=-1, keepdims=True)
    return np.divide(valid, total, out=np.full_like(valid, 1.0 / valid.shape[-1]), where=total > 0)
