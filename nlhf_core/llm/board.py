"""TensorBoard event files next to ``metrics.jsonl`` (``RUN/tensorboard/``), when TensorBoard is installed.

Every numeric value of a metrics record is written as the scalar ``<stage>/<key>`` at the record's
step (rank 0 only). ``torch.utils.tensorboard`` needs the ``tensorboard`` package; without it
:func:`open_board` returns a board that writes nothing, and training is unaffected.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

FOLDER = "tensorboard"


class Board:
    """Writes the numeric values of metrics records as TensorBoard scalars (a no-op without a writer)."""

    def __init__(self, writer: Any = None) -> None:
        self.writer = writer

    @property
    def active(self) -> bool:
        return self.writer is not None

    def write(self, record: Mapping[str, Any]) -> None:
        """Add ``<stage>/<key>`` = value at ``step`` for every number of ``record`` (flushed at once)."""
        if self.writer is None:
            return
        stage, step = str(record.get("stage", "")), int(record.get("step", 0))
        for key, value in record.items():
            if key in ("stage", "step") or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            self.writer.add_scalar(f"{stage}/{key}", float(value), step)
        self.writer.flush()

    def close(self) -> None:
        """Flush and close the writer (idempotent)."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def open_board(run_dir: Path, enabled: bool = True) -> Board:
    """A :class:`Board` writing to ``run_dir/tensorboard`` if TensorBoard is importable, else a silent one."""
    if not enabled:
        return Board()
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # torch.utils.tensorboard raises ImportError when the tensorboard package is absent
        return Board()
    return Board(SummaryWriter(log_dir=str(run_dir / FOLDER)))
