"""Named example games, each with a one-paragraph story (data in ``preset_data/*.json`` beside this module).

The files are written by ``scripts/make_presets.py``, which documents where every number
comes from; :func:`get_preset` reads and validates them like any user file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nlhf_core.errors import GameValidationError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.io import load_game

PRESET_DIR = Path(__file__).resolve().parent / "preset_data"

#: Display order; the first one is the app's landing game.
PRESET_ORDER = (
    "biased-cycle",
    "rock-paper-scissors",
    "condorcet-winner",
    "condorcet-paradox",
    "paper-three-annotators",
    "bradley-terry",
    "paper-elo",
    "paper-comparison",
    "nontransitive-dice",
    "clone-rps",
    "random-tournament",
    "random-preferences",
    "two-prompts",
)


@dataclass(frozen=True)
class PresetInfo:
    """Summary of one preset for listings."""

    name: str
    story: str
    labels: tuple[str, ...]
    contexts: tuple[str, ...]


def preset_names() -> list[str]:
    """Preset names in display order (files not in the order list come last, sorted)."""
    on_disk = sorted(p.stem for p in PRESET_DIR.glob("*.json"))
    return [n for n in PRESET_ORDER if n in on_disk] + [n for n in on_disk if n not in PRESET_ORDER]


def open_game(source: str | Path) -> PreferenceGame:
    """The game named by ``source``: ``preset:NAME`` or the path of a ``.csv``/``.json`` file.

    Args:
        source: what the command line's ``GAME`` argument and the trainer's ``task.game`` accept.

    Returns:
        The preset, or the game read by :func:`~nlhf_core.games.io.load_game`.
    """
    text = str(source)
    if text.startswith("preset:"):
        return get_preset(text[len("preset:") :])
    return load_game(source)


@cache
def get_preset(name: str) -> PreferenceGame:
    """The preset game called ``name`` (games are immutable, so the cache is shared safely)."""
    key = name.strip().lower()
    if key not in preset_names():
        raise GameValidationError(f"There is no preset {name!r}; choose one of {', '.join(preset_names())}.")
    return load_game(PRESET_DIR / f"{key}.json").with_meta(name=key)


def list_presets() -> list[PresetInfo]:
    """Every preset with its story."""
    out = []
    for name in preset_names():
        game = get_preset(name)
        out.append(PresetInfo(name, game.story, game.labels, game.contexts))
    return out
