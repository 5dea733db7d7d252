"""Reading and writing games: lossless round trips and clear messages for broken files."""

from __future__ import annotations

import base64
import json
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlhf_core.errors import GameValidationError
from nlhf_core.games.csv_format import game_to_csv
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.io import game_from_dict, game_to_json, load_game, parse_game, save_game
from nlhf_core.games.links import MAX_LINK_CHARS, game_from_link
from nlhf_core.games.presets import open_game
from nlhf_core.games.validation import MAX_RESPONSES
from tests.helpers import one_sentence, preference_matrices

label_text = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\r\n\t\x00"),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(lambda s: s and s.isprintable())
)


@given(preference_matrices(max_n=7), st.data())
def test_json_and_csv_round_trip_exactly(tmp_path_factory, P, data):
    labels = data.draw(st.lists(label_text, min_size=len(P), max_size=len(P), unique=True))
    game = PreferenceGame.from_matrix(P, labels, name="g", story='a story, with "quotes"')
    folder = tmp_path_factory.mktemp("rt")
    for suffix in (".json", ".csv"):
        path = folder / f"game{suffix}"
        save_game(game, path)
        back = load_game(path)
        np.testing.assert_array_equal(back.matrix, game.matrix)  # bit for bit
        assert back.labels == game.labels
    assert load_game(folder / "game.json") == game  # name and story too


def test_contextual_json_round_trip(tmp_path):
    game = PreferenceGame.from_contexts(
        [np.full((2, 2), 0.5), [[0.5, 0.25], [0.75, 0.5]]], ["a", "b"], ["p", "q"], [0.3, 0.7], name="ctx"
    )
    save_game(game, tmp_path / "ctx.json")
    assert load_game(tmp_path / "ctx.json") == game
    with pytest.raises(GameValidationError, match=r"save games with contexts as \.json"):
        save_game(game, tmp_path / "ctx.csv")


def test_csv_with_only_the_upper_triangle_is_completed():
    text = ",rock,paper,scissors\nrock,,0,1\npaper,,,0\nscissors,,,\n"
    game = parse_game(text, "csv")
    np.testing.assert_array_equal(game.matrix, [[0.5, 0, 1], [1, 0.5, 0], [0, 1, 0.5]])


def test_json_alternatives_bradley_terry_and_upper_triangle():
    bt = game_from_dict({"labels": ["a", "b"], "bradley_terry_scores": [1.0, 0.0]})
    assert bt.matrix[0, 1] == pytest.approx(1 / (1 + np.exp(-1)))
    ut = game_from_dict({"labels": ["a", "b", "c"], "upper_triangle": [0.2, 0.3, 0.4]})
    assert ut.matrix[2, 1] == pytest.approx(0.6)


def test_csv_text_is_readable():
    game = PreferenceGame.from_matrix([[0.5, 0.25], [0.75, 0.5]], ["x, with comma", "y"])
    text = game_to_csv(game)
    assert text.splitlines()[0] == ',"x, with comma",y'
    assert parse_game(text, "csv") == game
    assert json.loads(game_to_json(game))["matrix"] == [[0.5, 0.25], [0.75, 0.5]]


BROKEN = [
    ("csv", "", r"The CSV file is empty"),
    ("csv", ",a,b\na,0.5,0.5\n", r"names 2 responses but 1 rows follow"),
    ("csv", ",a,b\na,0.5,0.5\nc,0.5,0.5\n", r"row 2 is labelled 'c' but column 2 is 'b'"),
    ("csv", ",a,b\na,0.5,0.5,0.1\nb,0.5,0.5\n", r"row 'a' has 3 values but there are 2 columns"),
    ("csv", ",a,b\na,0.5,\nb,0.5,0.5\n", r"Cell \(a, b\) is blank"),
    ("csv", ",a,b\na,0.5,=A1+1\nb,0.5,0.5\n", r"Cell \(a, b\) is '=A1\+1', not a number"),
    ("csv", ",a,b\na,0.5,nan\nb,0.5,0.5\n", r"Cell \(a, b\) is NaN"),
    ("csv", ",,\n", r"has no values"),
    ("csv", "x\na,0.5\n", r"header has no labels"),
    ("json", "", r"The JSON file is empty"),
    ("json", '{"labels": ["a"], ', r"malformed at line 1, column"),
    ("json", "[1, 2]", r"holds a list, not an object"),
    ("json", '{"labels": ["a"]}', r"has no \"matrix\""),
    ("json", '{"labels": ["a"], "matrix": [[0.5]], "colour": 1}', r"unknown key 'colour'"),
    ("json", '{"labels": ["a","b"], "matrix": [[0.5, NaN], [0.5, 0.5]]}', r"Cell \(a, b\) is NaN"),
    ("json", "[" * 100000 + "]" * 100000, r"nested too deeply"),
    ("json", '{"labels": "ab", "matrix": [[0.5]]}', r"labels must be a list of names"),
    ("json", '{"name": 3, "labels": ["a"], "matrix": [[0.5]]}', r"field \"name\" must be text"),
    (
        "json",
        '{"labels": ["a"], "matrix": [[0.5]], "bradley_terry_scores": [1]}',
        r"gives both 'matrix' and 'bradley_terry_scores'",
    ),
]


@pytest.mark.parametrize(("fmt", "text", "pattern"), BROKEN)
def test_broken_files_get_one_clear_sentence(fmt, text, pattern):
    with pytest.raises(GameValidationError, match=pattern) as err:
        parse_game(text, fmt)
    assert one_sentence(str(err.value)), str(err.value)


def test_load_game_paths(tmp_path):
    with pytest.raises(GameValidationError, match=r"no file .*missing.csv"):
        load_game(tmp_path / "missing.csv")
    (tmp_path / "game.txt").write_text("x")
    with pytest.raises(GameValidationError, match=r"use a .csv or .json file"):
        load_game(tmp_path / "game.txt")
    (tmp_path / "latin1.csv").write_bytes(",\xe9\n\xe9,0.5\n".encode("latin-1"))
    with pytest.raises(GameValidationError, match="not UTF-8"):
        load_game(tmp_path / "latin1.csv")
    assert open_game("preset:rock-paper-scissors").n == 3
    with pytest.raises(GameValidationError, match="no preset 'nope'"):
        open_game("preset:nope")


def test_byte_order_mark_is_accepted(tmp_path):
    (tmp_path / "bom.csv").write_bytes("\ufeff,a,b\na,0.5,0.25\nb,0.75,0.5\n".encode())
    assert load_game(tmp_path / "bom.csv").labels == ("a", "b")


def test_open_game_reads_presets_and_files(tmp_path):
    game = open_game("preset:biased-cycle")
    save_game(game, tmp_path / "g.csv")
    assert open_game(tmp_path / "g.csv").matrix.tolist() == game.matrix.tolist()


# ---------------------------------------------------------------------- size bombs: checked before any n × n work
def _link_of(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


@pytest.mark.parametrize("scores", [3_001, 8_000, 28_000, 300_000])
def test_a_short_bradley_terry_link_cannot_allocate_the_matrix(scores):
    """A link of a few hundred characters naming thousands of scores is refused before the n × n matrix exists."""
    link = _link_of({"labels": [f"y{i}" for i in range(scores)], "bradley_terry_scores": [0] * scores})
    bare = _link_of({"bradley_terry_scores": [0] * scores})
    assert len(bare) < 2_000  # a short link...
    for text in (link, bare):
        tracemalloc.start()
        with pytest.raises(GameValidationError) as err:
            game_from_link(text)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        one_sentence(str(err.value))
        if len(text) > MAX_LINK_CHARS:  # the labels alone make it too long for a link: said so, not "damaged"
            assert "larger than a link can carry" in str(err.value)
        else:
            assert f"{scores} responses, more than the limit of {MAX_RESPONSES}" in str(err.value)
        # ...never costs more than a small multiple of its own decoded size (the matrix would be 8·n² bytes).
        assert peak < 40 * 8 * scores + 2**20


def test_bradley_terry_scores_at_the_limit_are_accepted():
    game = PreferenceGame.from_bradley_terry(np.linspace(-2, 2, 50))
    assert game.n == 50 and np.allclose(game.matrix + game.matrix.T, 1)
