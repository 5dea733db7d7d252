"""Run under ``torchrun`` by tests/llm/test_fsdp.py: one training run, optionally stopped after a given step.

``python -m tests.llm.torchrun_driver OUT STAGE STEP RESUME OVERRIDE...``: trains the smoke config with the
overrides into OUT; when STAGE is not ``-``, rank 0's callback sets the stop event after step STEP of
STAGE (the stop vote makes every rank checkpoint and stop there) and the process exits with code 3.
RESUME = ``1`` continues the run in OUT.
"""

from __future__ import annotations

import sys
import threading

from nlhf_core.llm import resolve_config, run_training
from nlhf_core.llm.runner import Stopped

STOPPED = 3


def main(argv: list[str]) -> int:
    out, stage, step, resume, *overrides = argv
    stop = threading.Event()

    def stop_at(record: dict) -> None:
        if record.get("stage") == stage and record.get("step") == int(step):
            stop.set()

    try:
        run_training(resolve_config("smoke", overrides), out, resume=resume == "1", callback=stop_at, stop_event=stop)
    except Stopped:
        return STOPPED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
