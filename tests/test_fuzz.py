"""Hostile and broken input (issue 10): every parser answers with a game or one sentence, fast.

Parsers fuzzed: uploads (bytes + file name), CSV and JSON text, shared-link game parameters and
policy text. "One sentence" means an :class:`NLHFError` whose message is a single line ending with
a full stop; anything else (another exception, a hang past Hypothesis' deadline) fails the test.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nlhf_core.algorithms import run_algorithm
from nlhf_core.algorithms.export import trajectory_to_csv
from nlhf_core.errors import NLHFError
from nlhf_core.feedback.annotators import AnnotatorGroup, AnnotatorPopulation, ComparisonDataset, simulate_comparisons
from nlhf_core.games.csv_cells import escape_cell, unescape_cell
from nlhf_core.games.csv_format import game_to_csv
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.io import MAX_UPLOAD_BYTES, game_from_upload, parse_game
from nlhf_core.games.links import game_from_link, game_to_link
from nlhf_core.games.policies import policy_from_text
from nlhf_core.viz import preference_heatmap, simplex_animation

FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
HOSTILE_CELLS = [
    "0.5", "0.3", "0.7", "1", "0", "", " ", "nan", "NaN", "inf", "-inf", "1e309", "-0", "0x1p-2", "=1+1",
    "@SUM(A1)", "+0.5", "-0.5", "=cmd|' /C calc'!A0", '"0.5"', "0,5", "½", "٠٫٥", "<script>alert(1)</script>",
    "1e-400", "\u202e0.5",
]  # fmt: skip
HOSTILE_LABELS = [
    "a", "b", "c", "<b>bold</b>", "<img src=x onerror=alert(1)>", "=HYPERLINK()", "**x**", "$x$", "[x](javascript:1)",
    "日本語", "emoji 🎲", "a", " ", "", "\u200b", "\ud7ff", "x" * 250, "&amp;", "'quote\"",
]  # fmt: skip


def check_outcome(parse) -> PreferenceGame | None:
    """Run a parser; a refusal must be one NLHFError sentence, a success a valid game."""
    try:
        game = parse()
    except NLHFError as err:
        message = str(err)
        assert message and "\n" not in message and message.rstrip().endswith("."), message
        return None
    P = game.matrices
    assert np.all(np.isfinite(P)) and np.all((P >= 0) & (P <= 1))
    np.testing.assert_allclose(P + np.swapaxes(P, -1, -2), 1.0, atol=1e-9)
    return game


@FUZZ
@given(st.binary(max_size=3000), st.sampled_from(["game.csv", "game.json", "GAME.JSON", "noext", "x.csv.exe"]))
def test_uploads_of_arbitrary_bytes(data, name):
    check_outcome(lambda: game_from_upload(name, data))


@FUZZ
@given(st.text(max_size=2000), st.sampled_from(["csv", "json"]))
def test_arbitrary_text(text, fmt):
    check_outcome(lambda: parse_game(text, fmt))


@FUZZ
@given(st.data())
def test_csv_grids_of_hostile_cells(data):
    n = data.draw(st.integers(1, 5))
    labels = data.draw(st.lists(st.sampled_from(HOSTILE_LABELS), min_size=n, max_size=n))
    cells = st.lists(st.sampled_from(HOSTILE_CELLS), min_size=n, max_size=n + 1)
    rows = [["", *labels]] + [[labels[i % n], *data.draw(cells)] for i in range(data.draw(st.integers(0, n + 1)))]
    text = "\n".join(",".join(json.dumps(c) if "," in c or '"' in c else c for c in row) for row in rows)
    check_outcome(lambda: parse_game(text, "csv"))


JSON_KEYS = ["labels", "matrix", "contexts", "weights", "name", "story", "upper_triangle", "bradley_terry_scores", "x"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.sampled_from(HOSTILE_LABELS),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.sampled_from(JSON_KEYS), children, max_size=6),
    max_leaves=40,
)  # fmt: skip


@FUZZ
@given(JSON_VALUES)
def test_json_documents_of_any_shape(value):
    text = json.dumps(value, allow_nan=True)
    check_outcome(lambda: parse_game(text, "json"))


@FUZZ
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=%", max_size=500))
def test_link_parameters_of_any_text(text):
    check_outcome(lambda: game_from_link(text))


@FUZZ
@given(st.integers(0, 10_000), st.integers(0, 255))
def test_damaged_links(position, byte):
    link = game_to_link(PreferenceGame.from_upper_triangle([0.3, 0.9, 0.46], ["rock", "paper", "scissors"]))
    k = position % len(link)
    damaged = link[:k] + chr(byte) + link[k + 1 :]
    check_outcome(lambda: game_from_link(damaged))
    check_outcome(lambda: game_from_link(link[:k]))


@FUZZ
@given(st.text(max_size=200))
def test_policy_text(text):
    try:
        p = policy_from_text(text, ["a", "b", "c"])
    except NLHFError as err:
        assert "\n" not in str(err) and str(err).endswith(".")
        return
    assert np.all(p >= 0) and abs(p.sum() - 1) < 1e-12


def test_deep_and_huge_inputs_are_refused_quickly():
    for text in ("[" * 200_000, '{"labels":' * 50_000, "[" * 10 + "]" * 10):
        assert check_outcome(lambda t=text: parse_game(t, "json")) is None
    huge = b"," * (MAX_UPLOAD_BYTES + 1)
    with pytest.raises(NLHFError, match="larger than 5 MiB"):
        game_from_upload("big.csv", huge)
    with pytest.raises(NLHFError, match="not UTF-8"):
        game_from_upload("latin.csv", "é".encode("latin-1"))
    wide = ",".join(f"y{i}" for i in range(3001))
    assert check_outcome(lambda: parse_game(f",{wide}\n", "csv")) is None


def test_formula_cells_are_data_not_formulas():
    text = ",a,b\na,0.5,=1-0.5\nb,0.5,0.5\n"
    with pytest.raises(NLHFError, match="not a number"):
        parse_game(text, "csv")
    game = PreferenceGame.from_matrix([[0.5, 0.4], [0.6, 0.5]], ["=SUM(A1)", "@x"])
    assert game_to_csv(game).splitlines()[0] == ",'=SUM(A1),'@x"  # a spreadsheet shows them as text
    assert parse_game(game_to_csv(game), "csv").labels == ("=SUM(A1)", "@x")


# ---------------------------------------------------------------------- CSV formula injection (issue 18)
FORMULA_PREFIXES = ["", "=", "+", "-", "@", "'", "''", "'=", "'+", "'-", "'@", "=HYPERLINK(", "-1", "+1", "@SUM("]
# Labels of any text (a prefix a spreadsheet would run, then anything); invalid ones are refused by the game.
ANY_LABEL = st.builds(lambda prefix, rest: prefix + rest, st.sampled_from(FORMULA_PREFIXES), st.text(max_size=12))
DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cells_of(text: str) -> list[str]:
    """Every cell of a CSV text, as a spreadsheet would read it."""
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def valid_labels(labels: list[str]) -> list[str] | None:
    try:
        return list(PreferenceGame.from_matrix(np.full((len(labels), len(labels)), 0.5), labels).labels)
    except NLHFError:
        return None


@FUZZ
@given(st.lists(ANY_LABEL, min_size=1, max_size=5, unique=True), st.data())
def test_game_csv_neutralizes_formulas_and_round_trips(labels, data):
    labels = valid_labels(labels)
    assume(labels is not None)
    n = len(labels)
    upper = data.draw(st.lists(st.floats(0, 1), min_size=n * (n - 1) // 2, max_size=n * (n - 1) // 2))
    game = PreferenceGame.from_upper_triangle(upper, labels) if n > 1 else PreferenceGame.from_matrix([[0.5]], labels)
    text = game_to_csv(game)
    assert not [c for c in cells_of(text) if c.startswith(DANGEROUS_STARTS)]
    back = parse_game(text, "csv")
    assert back.labels == game.labels
    np.testing.assert_array_equal(back.matrix, game.matrix)


@FUZZ
@given(
    st.lists(ANY_LABEL, min_size=2, max_size=4, unique=True), st.lists(ANY_LABEL, min_size=2, max_size=2, unique=True)
)
def test_dataset_and_trajectory_csvs_neutralize_formulas(labels, contexts):
    labels, contexts = valid_labels(labels), valid_labels(contexts)
    assume(labels is not None and contexts is not None and len(labels) >= 2)
    n = len(labels)
    game = PreferenceGame.from_contexts([np.full((n, n), 0.5)] * 2, labels, contexts)
    population = AnnotatorPopulation((AnnotatorGroup("=cmd|' /C calc'!A0", game), AnnotatorGroup("'plain", game)))
    dataset = simulate_comparisons(population, 40, seed=1)
    text = dataset.to_csv()
    assert not [c for c in cells_of(text) if c.startswith(DANGEROUS_STARTS)]
    back = ComparisonDataset.from_csv(text, game.labels, game.contexts)
    for name in ("context", "first", "second", "first_wins"):
        np.testing.assert_array_equal(getattr(back, name), getattr(dataset, name))
    assert [back.group_names[g] for g in back.group] == [dataset.group_names[g] for g in dataset.group]
    traj = run_algorithm("nash-md", game, iterations=3)
    rows = list(csv.reader(io.StringIO(trajectory_to_csv(traj, game))))
    text_cells = rows[0] + [row[2] for row in rows[1:]]  # header and context column; the rest are numbers
    assert not [c for c in text_cells if c.startswith(DANGEROUS_STARTS)]
    assert [unescape_cell(c) for c in rows[0][3 : 3 + n]] == list(game.labels)
    assert {unescape_cell(row[2]) for row in rows[1:]} == set(game.contexts)


@pytest.mark.parametrize(
    "label", ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "'quote", "''", "'=x", "'", "plain", "a=b"]
)
def test_escape_marks_only_what_it_must_and_reads_back(label):
    written = escape_cell(label)
    assert unescape_cell(written) == label
    assert not written.startswith(DANGEROUS_STARTS)
    assert written == label or written == "'" + label
    if label in ("'quote", "'", "plain", "a=b"):
        assert written == label  # files without formulas are written (and were read) unchanged
    assert escape_cell("\tx") == "'\tx" and escape_cell("\rx") == "'\rx"


def test_html_in_labels_is_escaped_in_figures():
    labels = ["<b>bold</b>", "<img src=x onerror=alert(1)>", "a & b"]
    game = PreferenceGame.from_upper_triangle([0.3, 0.9, 0.46], labels)
    heat = preference_heatmap(game.labels, game.matrix)
    assert list(heat["data"][0]["x"]) == ["&lt;b&gt;bold&lt;/b&gt;", "&lt;img src=x onerror=alert(1)&gt;", "a &amp; b"]
    spec = simplex_animation(game.labels, np.full((2, 3), 1 / 3), [0, 1], {})
    titles = [spec["layout"]["ternary"][k]["title"]["text"] for k in ("aaxis", "baxis", "caxis")]
    assert all("<" not in t for t in titles)
