"""The ``pairs`` stage: response pairs sampled from the SFT model and labelled by simulated annotators.

``data.pairs`` pairs ``(y, y')`` with ``y, y' ~ mu(.|x)`` and ``x ~ rho``, labelled
``1[y ≻ y']`` with probability ``P_noisy(x)[cat(y), cat(y')]`` from the annotators of
:mod:`nlhf_core.feedback.annotators` (the true extended game with label noise ``data.noise``).
A fraction ``data.corrupt`` of the responses gets one token replaced at random, so the judges learn
that malformed text loses (otherwise RLHF finds unseen garbage that the reward model over-scores).

With ``data.rounds > 1`` (:mod:`nlhf_core.llm.rounds`) round ``k >= 2`` draws ``data.pairs`` more, each
side of a pair from the current NLHF policy or from the SFT model with probability 1/2 each (on-policy
feedback, as the feedback lab's adaptive rounds), into ``data/pairs-round-k.safetensors``.

Every rank computes the same pairs (chunk ``k`` of 256 draws from the generator ``(seed, "pairs", k)``);
rank 0 saves them to ``RUN/data/pairs.safetensors`` with its SHA-256 in ``RUN/checksums.json``; a resumed
run checks the file against it before reading it back (altered labels would silently change every later stage).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from nlhf_core.feedback.annotators import AnnotatorPopulation
from nlhf_core.llm.batches import EncodedTask
from nlhf_core.llm.config import TrainingConfig
from nlhf_core.llm.run_directory import verify_artifact, write_artifact
from nlhf_core.llm.runner import Runner
from nlhf_core.llm.runtime import as_os_error, generator
from nlhf_core.llm.sampling import sample

#: Tensors of the labelled pairs: prompt index, both responses with their masks, the label and ``P_true``.
PAIR_KEYS = ("context", "ya", "ma", "yb", "mb", "label", "p_true")
CHUNK = 256
#: The pairs' file inside the run directory.
PAIRS = "data/pairs.safetensors"


def pairs_file(round_index: int = 1) -> str:
    """``data/pairs.safetensors`` (round 1) or ``data/pairs-round-k.safetensors`` (round ``k >= 2``), relative to
    the run directory."""
    return PAIRS if round_index == 1 else f"data/pairs-round-{round_index}.safetensors"


def pairs_path(runner: Runner, round_index: int = 1) -> Path:
    """The pairs' file of a round in the run directory (:func:`pairs_file`)."""
    return runner.run_dir / pairs_file(round_index)


def sample_pairs(
    config: TrainingConfig,
    runner: Runner,
    encoded: EncodedTask,
    sft: nn.Module,
    *,
    explorer: nn.Module | None = None,
    round_index: int = 1,
) -> dict[str, torch.Tensor]:
    """The labelled pairs of one round (sampled once, then read back from :func:`pairs_path`), on the run's device.

    Round 1 draws both responses from ``sft``; with an ``explorer`` (round ``k >= 2``) each response comes from
    the explorer or from ``sft`` with probability 1/2.
    """
    from safetensors.torch import load_file

    device = runner.runtime.device
    name = pairs_file(round_index)
    stage = "pairs" if round_index == 1 else f"pairs-round-{round_index}"
    if (runner.run_dir / name).exists():
        fix = "delete it and resume to sample the pairs again from the run's seed, or start a new --out directory"
        path = verify_artifact(runner.run_dir, name, fix)
        return {k: v.to(device) for k, v in load_file(str(path)).items()}
    count, length, codec = config.data.pairs, config.task.max_new_tokens, encoded.codec
    task = encoded.task
    noisy = AnnotatorPopulation.of(task.extended_game(), noise=config.data.noise).group_matrices()[0]
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in PAIR_KEYS}
    sft.eval()
    sources = [sft] if explorer is None else [sft, explorer.eval()]
    for k in range((count + CHUNK - 1) // CHUNK):
        # Sample: prompts x ~ rho and two responses (from mu, or from mu or the explorer), padded, some corrupted.
        size = min(CHUNK, count - k * CHUNK)
        rng = generator(config.run.seed, stage, k)
        contexts = encoded.draw_contexts(rng, size)
        prompts = encoded.prompts(contexts, device)
        responses = []
        for _ in range(2):
            drawn = []
            for model in sources:
                with runner.runtime.autocast():
                    y, mask = sample(
                        model,
                        prompts.ids,
                        prompts.mask,
                        max_new_tokens=length,
                        eos_id=codec.eos_id,
                        pad_id=codec.pad_id,
                        generator=rng,
                    )
                pad = length - y.shape[1]
                drawn.append((nn.functional.pad(y, (0, pad), value=codec.pad_id), nn.functional.pad(mask, (0, pad))))
            y, mask = drawn[0]
            if explorer is not None:  # each row from the explorer with probability 1/2
                pick = (torch.rand(size, generator=rng) < 0.5).to(y.device)[:, None]
                y, mask = torch.where(pick, drawn[1][0], y), torch.where(pick, drawn[1][1], mask)
            responses.append(corrupt(y, mask, rng, config.data.corrupt, encoded))
        # Label: the annotators prefer y with probability P_noisy[x, cat(y), cat(y')].
        first = [task.parse(t) for t in codec.decode_batch(responses[0][0])]
        second = [task.parse(t) for t in codec.decode_batch(responses[1][0])]
        p_true = torch.tensor(noisy[contexts, first, second], dtype=torch.float32)
        label = (torch.rand(size, generator=rng) < p_true).float()
        values = (torch.tensor(contexts), *responses[0], *responses[1], label, p_true)
        for key, v in zip(PAIR_KEYS, values, strict=True):
            parts[key].append(v.cpu())
    data = {k: torch.cat(v) for k, v in parts.items()}
    if runner.runtime.main:
        write_artifact(runner.run_dir, name, lambda tmp: _save(data, tmp))
    runner.barrier()
    return {k: v.to(device) for k, v in data.items()}


def _save(tensors: dict[str, torch.Tensor], path: Path) -> None:
    from safetensors.torch import save_file

    try:
        save_file(tensors, str(path))
    except Exception as err:  # safetensors reports a failed write (disk full, read-only) as its own error type
        raise as_os_error(err, path) from None


def corrupt(
    y: torch.Tensor, mask: torch.Tensor, rng: torch.Generator, fraction: float, encoded: EncodedTask
) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace one random token of a ``fraction`` of the responses by a random token.

    Near misses (``maybe medium``, ``short``, a missing EOS) teach the judges that text which is
    almost an answer still loses; the mask is recomputed up to the first EOS.
    """
    codec = encoded.codec
    B, T = y.shape
    bad = torch.rand(B, generator=rng) < fraction
    pos = (torch.rand(B, generator=rng) * mask.sum(dim=1).clamp(min=1).cpu()).long().clamp(max=T - 1)
    tok = torch.randint(0, codec.vocab_size, (B,), generator=rng)
    y = y.clone()
    rows = torch.nonzero(bad).squeeze(-1)
    y[rows.to(y.device), pos[rows].to(y.device)] = tok[rows].to(y.device)
    eos = (y == codec.eos_id).long()
    before = eos.cumsum(dim=1) - eos  # EOS seen strictly before this position
    mask = (before == 0).long()
    return torch.where(mask.bool(), y, torch.full_like(y, codec.pad_id)), mask
