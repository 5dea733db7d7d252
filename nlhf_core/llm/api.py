"""Public entry points: run the pipeline in this thread, or as a background job with progress and cancel.

``run_training(config, out_dir, callback=..., stop_event=...)`` runs (or, with ``resume=True``,
continues) the whole pipeline and returns its :class:`~nlhf_core.llm.summary.TrainingSummary`.
:class:`TrainingJob` wraps it in a daemon thread for interactive front ends (a Streamlit page keeps
the job in ``st.session_state`` and polls :attr:`TrainingJob.records` from a fragment):
``job.start()``, ``job.stop()`` (checkpoints and stops at the next step; start a new job with
``resume=True`` to continue), ``job.status``, ``job.result``, ``job.summary``, ``job.error``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from nlhf_core.llm.config import TrainingConfig, apply_overrides, defaults, load_config, merge
from nlhf_core.llm.summary import TrainingSummary

ConfigSpec = str | Path | Mapping[str, Any] | TrainingConfig | None


def resolve_config(config: ConfigSpec = None, overrides: Iterable[str] = ()) -> TrainingConfig:
    """A validated config from a built-in name, a ``.toml`` path, a mapping of overrides of the defaults,
    a :class:`~nlhf_core.llm.config.TrainingConfig`, or ``None`` (the default); ``overrides`` are applied last.

    Args:
        config: the configuration in any of the forms above.
        overrides: ``section.key=value`` strings (TOML literals), applied after ``config``.

    Returns:
        The validated :class:`~nlhf_core.llm.config.TrainingConfig`.

    Raises:
        ParameterError: an unknown config name, key or section, or a value out of range (one sentence).
    """
    if isinstance(config, TrainingConfig):
        return TrainingConfig.from_mapping(apply_overrides(config.to_dict(), overrides))
    if isinstance(config, Mapping):
        return TrainingConfig.from_mapping(apply_overrides(merge(defaults(), config), overrides))
    return load_config(config, overrides)


def run_training(
    config: ConfigSpec,
    out_dir: str | Path,
    *,
    resume: bool = False,
    callback: Callable[[dict[str, Any]], None] | None = None,
    stop_event: threading.Event | None = None,
    progress: bool = False,
) -> TrainingSummary:
    """Run the pipeline into ``out_dir`` and return the summary (also in ``out_dir/summary.json``).

    ``callback`` receives every metrics record (a dict with ``stage`` and ``step``) as it is logged;
    setting ``stop_event`` makes the run checkpoint and raise :class:`~nlhf_core.llm.runner.Stopped`.

    Args:
        config: a built-in name, a ``.toml`` path, a mapping of overrides or a ``TrainingConfig``
            (:func:`resolve_config`).
        out_dir: the run directory (a used one needs ``resume=True`` and the same settings).
        resume: continue from the checkpoints in ``out_dir``.
        callback: receives every metrics record as it is logged (rank 0).
        stop_event: when set, the run checkpoints after the current step and stops.
        progress: show progress bars on stderr.

    Returns:
        The run's :class:`~nlhf_core.llm.summary.TrainingSummary`.

    Raises:
        ParameterError: bad settings or data (one sentence, before the run directory is touched).
        RunDirectoryError: the directory is in use, modified, damaged, or a file operation in it failed.
    """
    from nlhf_core.llm.trainer import train

    return train(
        resolve_config(config), out_dir, resume=resume, callback=callback, stop_event=stop_event, progress=progress
    )


class TrainingJob:
    """A training run in a background thread, with a thread-safe record list and a stop event."""

    def __init__(self, config: ConfigSpec, out_dir: str | Path, *, resume: bool = False):
        self.config = resolve_config(config)
        self.out_dir = Path(out_dir)
        self.resume = resume
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self.result: TrainingSummary | None = None
        self.error: str | None = None
        self.status = "created"
        self._thread: threading.Thread | None = None

    @property
    def summary(self) -> dict[str, Any] | None:
        """The finished run's summary as its JSON object (what ``summary.json`` holds), or None."""
        return None if self.result is None else self.result.to_dict()

    def _on_record(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._records.append(record)

    @property
    def records(self) -> list[dict[str, Any]]:
        """A copy of every metrics record logged so far."""
        with self._lock:
            return list(self._records)

    def _run(self) -> None:
        from nlhf_core.errors import NLHFError
        from nlhf_core.llm.runner import Stopped

        self.status = "running"
        try:
            self.result = run_training(
                self.config, self.out_dir, resume=self.resume, callback=self._on_record, stop_event=self.stop_event
            )
            self.status = "finished"
        except Stopped:
            self.status = "stopped"
        except NLHFError as err:
            self.error, self.status = str(err), "failed"
        except Exception as err:  # reported to the page, never raised into it
            self.error, self.status = f"{type(err).__name__}: {err}", "failed"

    def start(self) -> TrainingJob:
        self._thread = threading.Thread(target=self._run, name="nlhf-train", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to checkpoint and stop after its current step."""
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the job's thread to end.

        Args:
            timeout: the most seconds to wait (``None``: until it ends).
        """
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
