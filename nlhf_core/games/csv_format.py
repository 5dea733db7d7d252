"""Preference games as CSV: the writer, the reader, and the sentence for a file with the wrong separator.

The first row holds the column labels (its first cell is ignored), every other row starts with its
row label; rows and columns list the same labels in the same order. Cells of the strict lower
triangle (and the diagonal) may all be left blank, in which case they are completed as ``1 - P.T``
(and 1/2). One context only. Labels are neutralized against spreadsheet formula injection on
export (:mod:`nlhf_core.games.csv_cells`) and read back losslessly.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from nlhf_core.errors import GameValidationError
from nlhf_core.games.csv_cells import escape_cell, unescape_cell
from nlhf_core.games.game import PreferenceGame


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


def game_from_csv(text: str) -> PreferenceGame:
    """Read a game written as CSV (the format of :func:`game_to_csv`, the lower triangle optional).

    Args:
        text: the file's text.

    Returns:
        The validated game (one context).

    Raises:
        GameValidationError: an empty file, a wrong separator, mismatched labels, or a cell that is not
            a probability; the sentence names the row and column.
    """
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
