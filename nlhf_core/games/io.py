"""Reading and writing preference games as CSV or JSON, losslessly.

Formats (see docs/architecture.md, "The command line contract"):

* **CSV**: the first row holds the column labels (its first cell is ignored), every
  other row starts with its row label; rows and columns list the same labels in the
  same order. Cells of the strict lower triangle (and the diagonal) may all be left
  blank, in which case they are completed as ``1 - P.T`` (and 1/2). One context only.
* **JSON**: ``{"labels": [...], "matrix": [[...]]}``; for contextual games ``"matrix"``
  is a list of matrices and ``"contexts"``/``"weights"`` name and weigh them. Optional
  ``"name"`` and ``"story"``. Instead of ``"matrix"`` a file may give
  ``"bradley_terry_scores"`` (one score per label) or ``"upper_triangle"`` (flat list).

Numbers are written with ``repr`` so loading a saved game gives back exactly the same
floats. Every malformed file raises :class:`~nlhf_core.errors.GameValidationError` with
one sentence naming the problem and the fix.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from nlhf_core.errors import GameValidationError
from nlhf_core.games.csv_format import game_from_csv, game_to_csv
from nlhf_core.games.game import PreferenceGame

#: Largest game file read, in bytes.
MAX_FILE_BYTES = 256 * 1024 * 1024
#: Largest uploaded game file (the Streamlit server's own cap is in .streamlit/config.toml).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

_KNOWN_KEYS = {
    "labels",
    "matrix",
    "contexts",
    "weights",
    "name",
    "story",
    "bradley_terry_scores",
    "upper_triangle",
    "format",
}


def load_game(spec: str | Path) -> PreferenceGame:
    """Load a game from a ``.csv`` or ``.json`` file (for ``preset:NAME`` too, use ``presets.open_game``).

    Args:
        spec: the file's path.

    Returns:
        The validated game.
    """
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise GameValidationError(
            f"Cannot tell the format of {path.name!r}; use a .csv or .json file, or preset:NAME (see `nlhf presets`)."
        )
    if not path.is_file():
        raise GameValidationError(
            f"There is no file {str(path)!r}; check the path, or use preset:NAME (see `nlhf presets`)."
        )
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise GameValidationError(
            f"The file {path.name!r} is {size / 2**20:.0f} MiB, more than the limit of "
            f"{MAX_FILE_BYTES // 2**20} MiB; use a smaller game."
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise GameValidationError(f"The file {path.name!r} is not UTF-8 text; save it as UTF-8 CSV or JSON.") from None
    return parse_game(text, "csv" if suffix == ".csv" else "json")


def parse_game(text: str, fmt: str) -> PreferenceGame:
    """Parse a game from the text of a CSV or JSON file (``fmt`` is ``"csv"`` or ``"json"``).

    Args:
        text: the file's contents.
        fmt: ``"csv"`` or ``"json"``.

    Returns:
        The validated game.

    Raises:
        GameValidationError: an unknown format, malformed text, or an invalid game.
    """
    if fmt == "csv":
        return game_from_csv(text)
    if fmt == "json":
        return game_from_dict(_parse_json(text))
    raise GameValidationError(f"Unknown game format {fmt!r}; use 'csv' or 'json'.")


def game_from_upload(name: str, data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> PreferenceGame:
    """A game from an uploaded file's name and bytes (what the app's uploader hands over).

    The format follows the extension (``.json``, else CSV); the bytes must be UTF-8 (a byte-order
    mark is allowed) and at most ``max_bytes`` long. Anything else raises one sentence.

    Args:
        name: the uploaded file's name (its extension picks the format; its stem names an unnamed game).
        data: the file's bytes.
        max_bytes: the largest upload accepted, in bytes.

    Returns:
        The validated game, named after the file when it carries no name.

    Raises:
        GameValidationError: the file is too large, not UTF-8, or not a valid game (the message starts
            with the file name).
    """
    shown = repr(str(name)[:80])
    if len(data) > max_bytes:
        raise GameValidationError(
            f"The file {shown} is larger than {max_bytes / 2**20:g} MiB ({len(data):,} bytes, the limit is "
            f"{max_bytes:,}); upload a smaller game."
        )
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GameValidationError(f"The file {shown} is not UTF-8 text; save it as UTF-8 CSV or JSON.") from None
    try:
        game = parse_game(text, "json" if str(name).lower().endswith(".json") else "csv")
    except GameValidationError as err:
        raise GameValidationError(f"{str(name)[:80]}: {err}") from None
    return game.with_meta(name=game.name or str(name).rsplit(".", 1)[0][:80])


def save_game(game: PreferenceGame, path: str | Path) -> None:
    """Write a game to ``path`` (format from its suffix: ``.json`` or ``.csv``).

    Args:
        game: the game to write (a contextual game needs ``.json``).
        path: the file to (over)write; its suffix picks the format.

    Raises:
        GameValidationError: the suffix is neither ``.json`` nor ``.csv``, or a contextual game is
            saved as CSV.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(game_to_json(game), encoding="utf-8")
    elif suffix == ".csv":
        path.write_text(game_to_csv(game), encoding="utf-8")
    else:
        raise GameValidationError(f"Cannot tell the format of {path.name!r}; save to a .csv or .json file.")


# ---------------------------------------------------------------------- JSON
def game_to_dict(game: PreferenceGame) -> dict[str, Any]:
    """Plain-Python form of a game (what the JSON file holds).

    Args:
        game: the game to convert.

    Returns:
        ``{"name"?, "story"?, "labels", "contexts"?, "weights"?, "matrix"}``; ``"matrix"`` is an
        ``n × n`` nested list for a plain game, a ``C × n × n`` one for a contextual game.
    """
    out: dict[str, Any] = {}
    if game.name:
        out["name"] = game.name
    if game.story:
        out["story"] = game.story
    out["labels"] = list(game.labels)
    if game.has_contexts:
        out["contexts"] = list(game.contexts)
        out["weights"] = [float(w) for w in game.weights]
        out["matrix"] = game.matrices.tolist()
    else:
        out["matrix"] = game.matrix.tolist()
    return out


def game_to_json(game: PreferenceGame) -> str:
    """JSON text of a game, one matrix row per line; floats round-trip exactly (``repr``).

    Args:
        game: the game to write.

    Returns:
        The JSON text of :func:`game_to_dict`, ending with a newline.
    """
    lines = ["{"]
    items = list(game_to_dict(game).items())
    for k, (key, value) in enumerate(items):
        comma = "," if k < len(items) - 1 else ""
        if key == "matrix":
            lines.append(f'  "matrix": {_json_nested(value, 2)}{comma}')
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _json_nested(value: list[Any], indent: int) -> str:
    """A matrix (or list of matrices) with one row per line."""
    if value and isinstance(value[0], list) and value[0] and isinstance(value[0][0], list):
        pad = " " * (indent + 2)
        inner = f",\n{pad}".join(_json_nested(m, indent + 2) for m in value)
        return f"[\n{pad}{inner}\n{' ' * indent}]"
    pad = " " * (indent + 2)
    rows = f",\n{pad}".join(json.dumps(row) for row in value)
    return f"[\n{pad}{rows}\n{' ' * indent}]"


def _parse_json(text: str) -> Any:
    if not text.strip():
        raise GameValidationError('The JSON file is empty; give {"labels": [...], "matrix": [[...]]}.')
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise GameValidationError(
            f"The JSON is malformed at line {err.lineno}, column {err.colno} ({err.msg}); "
            f"fix the file or re-save it from the app."
        ) from None
    except RecursionError:
        raise GameValidationError(
            'The JSON is nested too deeply to be a preference game; give {"labels": [...], "matrix": [[...]]}.'
        ) from None


def _reject_constant(name: str) -> float:
    # JSON has no NaN/Infinity; Python writes them anyway. Read them so the matrix check
    # can name the exact cell, instead of failing on the whole file.
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[name]


def game_from_dict(data: Any) -> PreferenceGame:
    """Build a game from the plain-Python form written by :func:`game_to_dict`.

    Args:
        data: a mapping with ``labels`` and one of ``matrix``, ``bradley_terry_scores`` or
            ``upper_triangle`` (and optionally ``contexts``, ``weights``, ``name``, ``story``).

    Returns:
        The validated game.

    Raises:
        GameValidationError: ``data`` is not a mapping, has an unknown key, no or two matrix sources,
            contexts without a full matrix, or describes an invalid game.
    """
    if not isinstance(data, dict):
        raise GameValidationError(
            f'The JSON holds a {type(data).__name__}, not an object; give {{"labels": [...], "matrix": [[...]]}}.'
        )
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise GameValidationError(
            f"The JSON has an unknown key {unknown[0]!r}; use labels, matrix, contexts, "
            f"weights, name, story, bradley_terry_scores or upper_triangle."
        )
    name = _optional_text(data, "name")
    story = _optional_text(data, "story")
    labels = data.get("labels")
    sources = [k for k in ("matrix", "bradley_terry_scores", "upper_triangle") if k in data]
    if not sources:
        raise GameValidationError('The JSON has no "matrix"; give {"labels": [...], "matrix": [[...]]}.')
    if len(sources) > 1:
        raise GameValidationError(f"The JSON gives both {sources[0]!r} and {sources[1]!r}; keep only one of them.")
    source = sources[0]
    if "contexts" in data or "weights" in data:
        if source != "matrix":
            raise GameValidationError('A game with contexts needs one full matrix per context under "matrix".')
        return PreferenceGame.from_contexts(
            data["matrix"],
            labels,
            data.get("contexts"),
            data.get("weights"),
            name=name,
            story=story,
        )
    if source == "bradley_terry_scores":
        return PreferenceGame.from_bradley_terry(data[source], labels, name=name, story=story)
    if source == "upper_triangle":
        return PreferenceGame.from_upper_triangle(data[source], labels, name=name, story=story)
    return PreferenceGame.from_matrix(data["matrix"], labels, name=name, story=story)


def _optional_text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise GameValidationError(f'The JSON field "{key}" must be text.')
    return value


# ---------------------------------------------------------------------- CSV
