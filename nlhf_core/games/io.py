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

import base64
import binascii
import csv
import io
import json
import math
import re
import zlib
from pathlib import Path
from typing import Any

from nlhf_core.errors import GameValidationError
from nlhf_core.games.csv_cells import escape_cell, unescape_cell
from nlhf_core.games.game import PreferenceGame

#: Largest game file read, in bytes.
MAX_FILE_BYTES = 256 * 1024 * 1024
#: Largest shared-link game, in characters of the URL parameter and bytes once inflated.
MAX_LINK_CHARS = 200_000
MAX_LINK_BYTES = 4 * 1024 * 1024
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
        return _parse_csv(text)
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
def game_to_csv(game: PreferenceGame) -> str:
    """CSV text of a plain game (labels in the first row and column, ``repr`` floats).

    Labels that a spreadsheet would run as a formula are written with a leading apostrophe
    (:func:`~nlhf_core.games.csv_cells.escape_cell`); the reader removes it, so the game round-trips.

    Args:
        game: a plain (single-context) game.

    Returns:
        The CSV text, one header row and one row per response.

    Raises:
        GameValidationError: the game has contexts (save it as JSON).
    """
    if game.num_contexts != 1 or game.has_contexts:
        raise GameValidationError("CSV holds a single matrix; save games with contexts as .json.")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["", *(escape_cell(label) for label in game.labels)])
    for label, row in zip(game.labels, game.matrix, strict=True):
        # ``+ 0.0`` writes a negative zero as 0.0, so no cell starts with "-"
        writer.writerow([escape_cell(label), *(repr(float(v) + 0.0) for v in row)])
    return buf.getvalue()


def separator_problem(text: str, what: str = "The CSV") -> str | None:
    """One sentence when a CSV's first line is separated by something other than commas.

    Spreadsheets in many locales save semicolon-separated "CSV" (with decimal commas), and text
    editors tabs; read as comma-separated, such a line is one cell and every later check would
    name the wrong cause.

    Args:
        text: the file's text.
        what: how the message names the file.

    Returns:
        The message, or None when the first line has commas (or no other separator).
    """
    first = next((line for line in text.splitlines() if line.strip()), "")
    for sep, name in ((";", "semicolons (';')"), ("\t", "tabs")):
        if first.count(sep) > first.count(","):
            if re.search(r"\d,\d", text):
                return (
                    f"{what} seems to separate its values with {name} and to write commas as decimal points; "
                    f"save it as comma-separated values with decimal points (0.5, not 0,5)."
                )
            return f"{what} seems to separate its values with {name}, not commas; save it as comma-separated values."
    return None


def _trailing_separator(rows: list[list[str]]) -> bool:
    """Whether every data row (and the header, if it has one) ends with an empty cell."""
    body = rows[1:]
    return bool(body) and all(len(r) > 2 and not r[-1].strip() for r in body)


def _parse_csv(text: str) -> PreferenceGame:
    if not text.strip():
        raise GameValidationError("The CSV file is empty; give a header row of labels and one row per response.")
    problem = separator_problem(text)
    if problem:
        raise GameValidationError(problem)
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    except csv.Error as err:
        raise GameValidationError(
            f"The CSV is malformed ({err}); re-save it as plain comma-separated values."
        ) from None
    if not rows:
        raise GameValidationError("The CSV file has no values; give a header row of labels and one row per response.")
    if _trailing_separator(rows):
        raise GameValidationError(
            "Every row of the CSV ends with a comma, which adds an empty last column; remove the trailing commas."
        )
    header, body = rows[0], rows[1:]
    col_labels = [unescape_cell(c.strip()) for c in header[1:]]
    n = len(col_labels)
    if n == 0:
        raise GameValidationError(
            "The CSV header has no labels; put the response labels in the first row, after an empty first cell."
        )
    if len(body) != n:
        raise GameValidationError(
            f"The CSV header names {n} responses but {len(body)} rows follow; give one row "
            f"per response, in the header's order."
        )
    row_labels = []
    cells: list[list[str]] = []
    for i, row in enumerate(body):
        label = unescape_cell(row[0].strip()) if row else ""
        if label != col_labels[i]:
            raise GameValidationError(
                f"CSV row {i + 1} is labelled {label!r} but column {i + 1} is "
                f"{col_labels[i]!r}; list the same labels in the same order in the first "
                f"row and the first column."
            )
        values = [c.strip() for c in row[1:]]
        if len(values) != n:
            raise GameValidationError(
                f"CSV row {label!r} has {len(values)} values but there are {n} columns; give one value per response."
            )
        row_labels.append(label)
        cells.append(values)
    lower_blank = all(cells[i][j] == "" for i in range(n) for j in range(i + 1))
    matrix: list[list[Any]] = []
    for i in range(n):
        out_row: list[Any] = []
        for j in range(n):
            text_cell = cells[i][j]
            if lower_blank and j <= i:
                out_row.append(0.5)  # completed below as 1 - P.T
                continue
            if text_cell == "":
                raise GameValidationError(
                    f"Cell ({row_labels[i]}, {col_labels[j]}) is blank; enter a probability "
                    f"between 0 and 1 (or leave the whole lower triangle blank)."
                )
            try:
                out_row.append(float(text_cell))
            except ValueError:
                out_row.append(text_cell)  # named by the matrix check
        matrix.append(out_row)
    if lower_blank and n > 1:
        return PreferenceGame.from_upper_triangle(matrix, col_labels)
    return PreferenceGame.from_matrix(matrix, col_labels)


# ---------------------------------------------------------------------- shared links
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
