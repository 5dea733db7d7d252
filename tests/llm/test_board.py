"""TensorBoard scalars next to metrics.jsonl when TensorBoard is installed; nothing (and no failure) otherwise."""

from __future__ import annotations

import importlib.util

from nlhf_core.llm.board import FOLDER, Board, open_board


class FakeWriter:
    def __init__(self) -> None:
        self.scalars: list[tuple[str, float, int]] = []
        self.flushes = 0

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        self.scalars.append((tag, value, step))

    def flush(self) -> None:
        self.flushes += 1


def test_numbers_of_a_record_become_stage_scalars():
    writer = FakeWriter()
    Board(writer).write({"stage": "nash-md-pg", "step": 7, "loss": 0.25, "kl": 1, "done": True, "samples": [["a"]]})
    assert writer.scalars == [("nash-md-pg/loss", 0.25, 7), ("nash-md-pg/kl", 1.0, 7)]
    assert writer.flushes == 1


def test_without_tensorboard_nothing_is_written(tmp_path):
    installed = importlib.util.find_spec("tensorboard") is not None
    board = open_board(tmp_path)
    assert board.active == installed
    board.write({"stage": "sft", "step": 1, "loss": 1.0})
    board.close()
    assert (tmp_path / FOLDER).exists() == installed
    assert not open_board(tmp_path / "other", enabled=False).active  # ranks other than 0 never write
