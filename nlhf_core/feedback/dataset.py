"""A dataset of pairwise comparisons (who compared what, in which context, who won) and its lossless CSV form.

Written by the simulated annotators (:mod:`nlhf_core.feedback.annotators`) and read back from files; formula-like
names are neutralized on export and restored on import (:mod:`nlhf_core.games.csv_cells`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nlhf_core.errors import GameValidationError, ParameterError
from nlhf_core.games.csv_cells import escape_cell, unescape_cell
from nlhf_core.games.csv_format import separator_problem
from nlhf_core.params import check_seed


@dataclass(frozen=True)
class ComparisonDataset:
    """Pairwise comparisons: row ``k`` says that in context ``context[k]`` the annotator group
    ``group[k]`` compared ``first[k]`` with ``second[k]`` and preferred ``first`` iff ``first_wins[k]``."""

    labels: tuple[str, ...]
    contexts: tuple[str, ...]
    context: np.ndarray
    first: np.ndarray
    second: np.ndarray
    first_wins: np.ndarray
    group: np.ndarray
    group_names: tuple[str, ...] = ("everyone",)

    def __len__(self) -> int:
        return len(self.first)

    @property
    def num_contexts(self) -> int:
        return max(1, len(self.contexts))

    def take(self, rows: np.ndarray) -> ComparisonDataset:
        """The dataset restricted to ``rows``.

        Args:
            rows: row indices (or a boolean mask) into the dataset.

        Returns:
            A new dataset holding those rows, same labels, contexts and group names.
        """
        return ComparisonDataset(
            self.labels,
            self.contexts,
            self.context[rows],
            self.first[rows],
            self.second[rows],
            self.first_wins[rows],
            self.group[rows],
            self.group_names,
        )

    def split(self, held_out: float, seed: int = 0) -> tuple[ComparisonDataset, ComparisonDataset]:
        """Random train / held-out split (seeded).

        Args:
            held_out: the fraction of rows held out, in ``[0, 1)``.
            seed: seed of the random permutation (a non-negative integer).

        Returns:
            ``(train, held_out)``; each keeps the original row order.

        Raises:
            ParameterError: ``held_out`` outside ``[0, 1)`` (NaN included) or a negative seed.
        """
        if not 0.0 <= held_out < 1.0:  # also refuses NaN
            raise ParameterError(
                f"held_out = {held_out!r} must be the fraction in [0, 1) of the comparisons kept to score the models; "
                f"e.g. 0.2."
            )
        order = np.random.default_rng(check_seed(seed)).permutation(len(self))
        cut = round(len(self) * (1.0 - held_out))
        return self.take(np.sort(order[:cut])), self.take(np.sort(order[cut:]))

    def win_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """``(wins, comparisons)`` of shape ``(C, n, n)``: ``wins[x, i, j]`` times ``i`` beat ``j``."""
        n, C = len(self.labels), self.num_contexts
        cell = (self.context * n + self.first) * n + self.second  # bincount: ~10× faster than np.add.at
        swapped = (self.context * n + self.second) * n + self.first
        wins = np.bincount(cell, weights=self.first_wins, minlength=C * n * n)
        wins = (wins + np.bincount(swapped, weights=1.0 - self.first_wins, minlength=C * n * n)).reshape(C, n, n)
        total = wins + np.swapaxes(wins, -1, -2)
        return wins, total

    def to_csv(self) -> str:
        """CSV with ``context, first, second, winner, group`` (labels, not indices).

        Names that a spreadsheet would run as formulas get a leading apostrophe
        (:mod:`nlhf_core.games.csv_cells`); :meth:`from_csv` removes it.
        """
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["context", "first", "second", "winner", "group"])
        ctx_names = self.contexts or ("",)
        for x, i, j, w, g in zip(self.context, self.first, self.second, self.first_wins, self.group, strict=True):
            cells = (
                ctx_names[x],
                self.labels[i],
                self.labels[j],
                self.labels[i] if w else self.labels[j],
                self.group_names[g],
            )
            writer.writerow([escape_cell(cell) for cell in cells])
        return buf.getvalue()

    @classmethod
    def from_csv(cls, text: str, labels: Sequence[str], contexts: Sequence[str] = ()) -> ComparisonDataset:
        """Read :meth:`to_csv`'s format for a game with these labels (and contexts).

        Args:
            text: the file's contents.
            labels: the game's response labels.
            contexts: the game's context names (``()`` for a plain game, whose rows have an empty context).

        Returns:
            The dataset (group names in order of first appearance).

        Raises:
            GameValidationError: a non-comma separator, a wrong header, a row without 5 fields, an
                unknown context or response, or a winner that is not one of the pair.
        """
        problem = separator_problem(text, "The comparison file")
        if problem:
            raise GameValidationError(problem)
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or [c.strip() for c in rows[0]] != ["context", "first", "second", "winner", "group"]:
            raise GameValidationError(
                "A comparison file starts with the header context,first,second,winner,group; re-save it from the "
                "Feedback lab or `nlhf feedback simulate`."
            )
        index = {label: k for k, label in enumerate(labels)}
        ctx_index = {c: k for k, c in enumerate(contexts or ("",))}
        groups: dict[str, int] = {}
        cols: list[list[int]] = [[], [], [], [], []]
        for line, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != 5:
                raise GameValidationError(f"Line {line} of the comparison file has {len(row)} fields, not 5.")
            ctx, a, b, winner, group = (unescape_cell(cell.strip()) for cell in row)
            for value, table, what in ((ctx, ctx_index, "context"), (a, index, "response"), (b, index, "response")):
                if value not in table:
                    raise GameValidationError(f"Line {line} names an unknown {what} {value!r}; use the game's names.")
            if winner not in (a, b):
                raise GameValidationError(f"Line {line}: the winner {winner!r} is neither {a!r} nor {b!r}.")
            cols[0].append(ctx_index[ctx])
            cols[1].append(index[a])
            cols[2].append(index[b])
            cols[3].append(1 if winner == a else 0)
            cols[4].append(groups.setdefault(group, len(groups)))
        arrays = [np.array(c, dtype=np.int64) for c in cols]
        return cls(
            tuple(labels),
            tuple(contexts),
            arrays[0],
            arrays[1],
            arrays[2],
            arrays[3].astype(float),
            arrays[4],
            tuple(groups) or ("everyone",),
        )
