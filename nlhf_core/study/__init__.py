"""Comparison studies: methods trained over seeds, compared by pairwise win rates with intervals.

* :mod:`.results` — the engine-neutral result (:class:`StudyResult`), Student-t intervals and the
  ``study.json`` / ``study.csv`` / ``study_cells.csv`` / ``study.md`` writers.
"""

from nlhf_core.study.results import IntervalMatrix, StudyResult, markdown_table, t_interval, write_results

__all__ = ["IntervalMatrix", "StudyResult", "markdown_table", "t_interval", "write_results"]
