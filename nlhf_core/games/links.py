"""Whole games in shareable links: deflated JSON in URL-safe base64, with limits checked before decoding.

A link holds at most :data:`MAX_LINK_CHARS` characters and inflates to at most
:data:`MAX_LINK_BYTES`; larger games are shared as files. The decoded game goes through the same
validation as a file (:func:`~nlhf_core.games.io.game_from_dict`), which checks the response count
before any ``n × n`` work.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib

from nlhf_core.errors import GameValidationError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.io import game_from_dict, game_to_dict

#: Longest link text decoded (characters), and the most it may inflate to (bytes).
MAX_LINK_CHARS = 200_000
MAX_LINK_BYTES = 4 * 1024 * 1024


def game_to_link(game: PreferenceGame) -> str:
    """URL-safe text holding the whole game (deflated JSON in base64), for shareable links.

    Args:
        game: the game to encode.

    Returns:
        Base64url text without padding, decoded by :func:`game_from_link`.
    """
    raw = json.dumps(game_to_dict(game), separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def game_from_link(text: str) -> PreferenceGame:
    """Inverse of :func:`game_to_link`; a damaged or oversized link raises one sentence.

    Args:
        text: the link's game parameter, as written by :func:`game_to_link`.

    Returns:
        The validated game.

    Raises:
        GameValidationError: the text is empty, damaged, longer than :data:`MAX_LINK_CHARS` or
            inflates past :data:`MAX_LINK_BYTES`, or holds an invalid game.
    """
    damaged = "The game in this link is damaged or incomplete; copy the whole link again, or pick a preset."
    too_large = (
        "The game in this link is larger than a link can carry ({what}); share large games as a file "
        "(download the game, then upload it) instead."
    )
    if not isinstance(text, str) or not text:
        raise GameValidationError(damaged)
    if len(text) > MAX_LINK_CHARS:
        raise GameValidationError(too_large.format(what=f"{len(text):,} characters, limit {MAX_LINK_CHARS:,}"))
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_LINK_BYTES)
        if inflater.unconsumed_tail:
            raise GameValidationError(too_large.format(what=f"it expands to more than {MAX_LINK_BYTES // 2**20} MiB"))
        data = json.loads(raw.decode())
    except (binascii.Error, ValueError, zlib.error, UnicodeDecodeError, RecursionError):
        raise GameValidationError(damaged) from None
    return game_from_dict(data)
