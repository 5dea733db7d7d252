"""The README's Python examples run as written: ``>>>`` blocks as doctests, the others as scripts."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)
#: Blocks that train a language model take minutes: they run with the slow tests.
SLOW = ("run_training", "TrainingJob")


def _cases() -> list:
    return [
        pytest.param(i, block, marks=[pytest.mark.slow] if any(s in block for s in SLOW) else [], id=f"block{i + 1}")
        for i, block in enumerate(BLOCKS)
    ]


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 2 and any(">>>" in block for block in BLOCKS)


@pytest.mark.parametrize(("index", "block"), _cases())
def test_readme_example_runs(index, block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write run directories write them here
    namespace: dict = {}
    for earlier in BLOCKS[:index]:  # later examples reuse names from earlier ones, as a reader would
        if not any(s in earlier for s in SLOW):
            _run(earlier, namespace)
    _run(block, namespace)


def _run(block: str, namespace: dict) -> None:
    if ">>>" not in block:
        exec(compile(block, str(README), "exec"), namespace)
        return
    test = doctest.DocTestParser().get_doctest(block, namespace, "README", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test, clear_globs=False)
    namespace.update(test.globs)  # DocTest works on a copy of the namespace
    assert runner.failures == 0, f"{runner.failures} README example(s) gave another output"
