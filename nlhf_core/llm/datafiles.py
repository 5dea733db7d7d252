"""Record files of your own data: JSON Lines, Parquet, Arrow and Hugging Face ``datasets`` directories.

A :class:`RecordFile` is opened once, checked record by record, and then read by row index on
demand, so a training run never holds the whole file in memory:

* ``.jsonl`` (or ``.json`` with one object per line): one pass records the byte offset of every
  non-blank line (8 bytes a row); a row is read back by seeking to it;
* ``.arrow`` (Arrow IPC stream or file) and a directory written by ``datasets``'s ``save_to_disk``
  (its ``state.json`` names the ``.arrow`` shards; a ``DatasetDict`` folder uses its ``train``
  split): memory-mapped by ``pyarrow``, as ``datasets`` itself does;
* ``.parquet``: read by ``pyarrow`` (the columns are held in Arrow memory, not as Python objects).

``datasets`` is not needed: ``pyarrow`` (installed with ``streamlit`` and ``pandas``) reads its files.
Opening checks every record with the caller's ``check`` (which raises :class:`DataError` with the
line or row number), so bad data is refused before a run writes anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlhf_core.errors import NLHFError

#: ``check(record, where)`` raises :class:`DataError` naming ``where`` (e.g. "line 3 of p.jsonl").
Check = Callable[[Mapping[str, Any], str], None]
JSONL = (".jsonl", ".json", ".ndjson")


class DataError(NLHFError):
    """A data file (prompts, SFT or preference data) is missing, unreadable or has a bad record."""


class RecordFile:
    """Rows of a data file, read by index (see the module docstring).

    Args:
        path: the file or ``datasets`` directory.
        check: validates one record; called for every record when the file is opened.
        what: what the file holds, for messages (e.g. "prompts").
    """

    def __init__(self, path: str | Path, check: Check, what: str) -> None:
        self.path = Path(path).expanduser()
        self.what = what
        self._offsets: np.ndarray | None = None
        self._table: Any = None
        if not self.path.exists():
            raise DataError(f"The {what} file {str(self.path)!r} does not exist; check the path.")
        if self.path.is_dir() or self.path.suffix.lower() in (".arrow", ".parquet"):
            self._table = _read_table(self.path)
            self._check_table(check)
        elif self.path.suffix.lower() in JSONL:
            self._offsets = self._index_jsonl(check)
        else:
            raise DataError(
                f"The {what} file {self.path.name!r} is not .jsonl, .parquet, .arrow or a datasets directory; "
                f"convert it to JSON Lines with one object per line."
            )
        if len(self) == 0:
            raise DataError(f"The {what} file {self.path.name!r} holds no records; give at least one.")

    def __len__(self) -> int:
        return len(self._offsets) if self._offsets is not None else int(self._table.num_rows)

    def rows(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        """The records at ``indices`` (in that order)."""
        if self._offsets is None:
            return [dict(r) for r in self._table.take(list(indices)).to_pylist()]
        out = []
        with open(self.path, "rb") as f:
            for i in indices:
                f.seek(int(self._offsets[i]))
                out.append(json.loads(f.readline()))
        return out

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Every record in file order (streamed)."""
        if self._offsets is None:
            for batch in self._table.to_batches(max_chunksize=4096):
                yield from batch.to_pylist()
            return
        with open(self.path, "rb") as f:
            for line in f:
                if line.strip():
                    yield json.loads(line)

    def _index_jsonl(self, check: Check) -> np.ndarray:
        offsets: list[int] = []
        name = self.path.name
        with open(self.path, "rb") as f:
            position = 0
            for number, line in enumerate(f, start=1):
                start, position = position, position + len(line)
                if not line.strip():
                    continue
                where = f"line {number} of {name}"
                try:
                    record = json.loads(line)
                except UnicodeDecodeError:
                    raise DataError(f"{_cap(where)} is not UTF-8 text; save the file as UTF-8.") from None
                except json.JSONDecodeError as err:
                    if not offsets and line.lstrip().startswith(b"["):
                        raise DataError(
                            f"{name} holds a JSON array; write one JSON object per line (JSON Lines) instead."
                        ) from None
                    raise DataError(
                        f"{_cap(where)} is not valid JSON ({err.msg} at column {err.colno}); fix it."
                    ) from None
                if not isinstance(record, dict):
                    raise DataError(f"{_cap(where)} is not a JSON object; write one object per line, e.g. {{...}}.")
                check(record, where)
                offsets.append(start)
        return np.asarray(offsets, dtype=np.int64)

    def _check_table(self, check: Check) -> None:
        row = 0
        for batch in self._table.to_batches(max_chunksize=4096):
            for record in batch.to_pylist():
                row += 1
                check(record, f"row {row} of {self.path.name}")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _read_table(path: Path) -> Any:
    """An Arrow table of a ``.parquet``/``.arrow`` file or a ``datasets`` directory (memory-mapped where possible)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(f"Reading {path.name!r} needs pyarrow; install it or convert the data to JSON Lines.") from None
    try:
        if path.is_file() and path.suffix.lower() == ".parquet":
            return pq.read_table(path)
        files = [path] if path.is_file() else _dataset_files(path)
        return pa.concat_tables([_read_arrow(pa, f) for f in files])
    except (OSError, pa.ArrowException) as err:
        raise DataError(f"Cannot read {path.name!r} as Arrow/Parquet data ({err}); check the file.") from None


def _read_arrow(pa: Any, path: Path) -> Any:
    source = pa.memory_map(str(path))
    try:
        return pa.ipc.open_stream(source).read_all()
    except pa.ArrowInvalid:
        return pa.ipc.open_file(pa.memory_map(str(path))).read_all()


def _dataset_files(folder: Path) -> list[Path]:
    """The ``.arrow`` shards of a ``save_to_disk`` folder (a ``DatasetDict`` folder: its ``train`` split)."""
    splits = folder / "dataset_dict.json"
    if splits.is_file():
        names = json.loads(splits.read_text(encoding="utf-8")).get("splits", [])
        if "train" not in names and len(names) != 1:
            raise DataError(
                f"The datasets folder {folder.name!r} has the splits {names} but no 'train'; save one split."
            )
        folder = folder / ("train" if "train" in names else names[0])
    state = folder / "state.json"
    if state.is_file():
        files = [folder / f["filename"] for f in json.loads(state.read_text(encoding="utf-8")).get("_data_files", [])]
    else:
        files = sorted(folder.glob("*.arrow"))
    if not files:
        raise DataError(f"The folder {folder.name!r} holds no .arrow files; give a datasets save_to_disk folder.")
    return files
