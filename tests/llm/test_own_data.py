"""Training on your own prompts (issue 17): data files, the held-out split, encoding, judged evaluation,
saved model directories, and one sentence for each kind of bad input with nothing half-written.

The judges here are plain functions of this module, named by import path as a user would.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from nlhf_core.errors import ParameterError  # noqa: E402
from nlhf_core.llm.datafiles import DataError, RecordFile  # noqa: E402
from nlhf_core.llm.judged import mean_interval  # noqa: E402
from nlhf_core.llm.judges import call_judge  # noqa: E402
from nlhf_core.llm.models import build_word_tokenizer  # noqa: E402
from nlhf_core.llm.prompts import Encoder, PromptTask, ScorerCodec, check_prompt, check_sft  # noqa: E402

TOPICS = ["cats", "dogs", "rain", "music", "trees", "coffee", "boats", "stars", "bread", "snow", "maps", "clocks"]
VERBS = ["tell me about", "describe", "write about", "say something on"]
WORDS = ["good", "fine", "nice", "ok", "bad", "plain", "sunny", "quiet", "happy"]
#: Small sizes for the mechanics (a few seconds); the learning test uses more steps.
QUICK = [
    "sft.steps=6",
    "sft.batch_size=8",
    "policy.steps=3",
    "policy.batch_size=8",
    "policy.eval_every=3",
    "policy.methods=['nash-md-pg']",
    "task.max_new_tokens=5",
    "model.n_embd=32",
    "run.checkpoint_every=2",
]
JUDGE = "tests.llm.test_own_data:prefers_happy"
STATE = {"broken": False}


def prefers_happy(prompts, responses_a, responses_b):
    """``P(a ≻ b) = 1`` when only ``a`` says "happy", 0 when only ``b`` does, else 1/2."""
    return [
        0.5 + 0.5 * (("happy" in a.split()) - ("happy" in b.split()))
        for a, b in zip(responses_a, responses_b, strict=True)
    ]


def sometimes_nan(prompts, responses_a, responses_b):
    """NaN while ``STATE["broken"]`` (a judge with a bug), else :func:`prefers_happy`."""
    if STATE["broken"]:
        return [float("nan")] * len(prompts)
    return prefers_happy(prompts, responses_a, responses_b)


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def make_data(folder: Path, count: int = 200, seed: int = 0) -> tuple[Path, Path, Path]:
    """Prompts, SFT examples (3 random words and the topic; "happy" in about 30 %) and preference pairs."""
    rng = random.Random(seed)
    prompts = [{"prompt": f"{rng.choice(VERBS)} {rng.choice(TOPICS)}"} for _ in range(count)]
    sft = []
    for _ in range(count):
        topic = rng.choice(TOPICS)
        sft.append(
            {"prompt": f"{rng.choice(VERBS)} {topic}", "response": " ".join(rng.choices(WORDS, k=3)) + f" {topic}"}
        )
    pairs = [
        {
            "prompt": f"describe {t}",
            "chosen": f"happy {rng.choice(WORDS)} {t}",
            "rejected": f"{rng.choice(WORDS[:8])} {t}",
        }
        for t in rng.choices(TOPICS, k=count)
    ]
    return (
        write_jsonl(folder / "P.jsonl", prompts),
        write_jsonl(folder / "S.jsonl", sft),
        write_jsonl(folder / "pairs.jsonl", pairs),
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[Path, Path, Path]:
    return make_data(tmp_path_factory.mktemp("data"))


# ---------------------------------------------------------------- data files


def test_jsonl_rows_are_read_back_by_index(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"p{i}"} for i in range(5)])
    path.write_text(path.read_text() + "\n\n", encoding="utf-8")  # blank lines are skipped
    file = RecordFile(path, check_prompt, "prompts")
    assert len(file) == 5
    assert [r["prompt"] for r in file.rows([3, 0, 3])] == ["p3", "p0", "p3"]
    assert [r["prompt"] for r in file] == [f"p{i}" for i in range(5)]
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # a byte-order mark is skipped
    assert RecordFile(path, check_prompt, "prompts").rows([0])[0]["prompt"] == "p0"


def test_parquet_arrow_and_datasets_folders_are_read(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"prompt": ["a b", "c d", "e f"], "other": [1, 2, 3]})
    pq.write_table(table, tmp_path / "p.parquet")
    dataset = tmp_path / "ds" / "train"  # what datasets.DatasetDict.save_to_disk writes
    dataset.mkdir(parents=True)
    with (
        pa.OSFile(str(dataset / "data-00000-of-00001.arrow"), "wb") as sink,
        pa.ipc.new_stream(sink, table.schema) as w,
    ):
        w.write_table(table)
    (dataset / "state.json").write_text(json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}))
    (tmp_path / "ds" / "dataset_dict.json").write_text(json.dumps({"splits": ["train"]}))
    for path in (tmp_path / "p.parquet", tmp_path / "ds", dataset, dataset / "data-00000-of-00001.arrow"):
        file = RecordFile(path, check_prompt, "prompts")
        assert len(file) == 3 and file.rows([2, 0])[0]["prompt"] == "e f", path


@pytest.mark.parametrize(
    ("lines", "check", "expected"),
    [
        (['{"prompt": "a"}', '{"prompt": "b"', '{"prompt": "c"}'], check_prompt, "Line 2 of d.jsonl is not valid JSON"),
        (['{"prompt": "a"}', "[1, 2]"], check_prompt, "Line 2 of d.jsonl is not a JSON object"),
        (['{"prompt": "a"}', '{"text": "b"}'], check_prompt, "Line 2 of d.jsonl has no 'prompt' or 'messages' field"),
        (['{"prompt": "a"}', "", '{"prompt": "   "}'], check_prompt, "Line 3 of d.jsonl has an empty prompt"),
        (['{"messages": []}'], check_prompt, "Line 1 of d.jsonl has 'messages' that are not a list"),
        (['{"prompt": 3}'], check_prompt, "Line 1 of d.jsonl has a 'prompt' that is not a string"),
        (['{"prompt": "a"}'], check_sft, "Line 1 of d.jsonl has no text field 'response'"),
        (['{"prompt": "a", "response": ""}'], check_sft, "Line 1 of d.jsonl has an empty 'response'"),
        ([], check_prompt, "holds no records"),
        (["[", '{"prompt": "a"}', "]"], check_prompt, "d.jsonl holds a JSON array; write one JSON object per line"),
    ],
)
def test_bad_records_are_refused_with_their_line_number(tmp_path, lines, check, expected):
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=expected):
        RecordFile(path, check, "prompts")


def test_missing_and_unknown_files_are_refused(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        RecordFile(tmp_path / "nope.jsonl", check_prompt, "prompts")
    (tmp_path / "p.txt").write_text("hello\n")
    with pytest.raises(DataError, match="convert it to JSON Lines"):
        RecordFile(tmp_path / "p.txt", check_prompt, "prompts")


# ---------------------------------------------------------------- split and encoding


def _task(path: Path, seed: int, budget: int = 60) -> PromptTask:
    file = RecordFile(path, check_prompt, "prompts")
    codec = build_word_tokenizer([w for r in file for w in r["prompt"].split()])
    scorer = ScorerCodec(codec.tokenizer, codec.eos_id, codec.pad_id, codec.builtin, 10)
    return PromptTask.split(file, Encoder(codec, budget, 64, True), scorer, seed, 0.1, 15)


def test_the_held_out_split_is_disjoint_deterministic_and_capped(data):
    a, b, c = _task(data[0], 0), _task(data[0], 0), _task(data[0], 1)
    assert len(a.eval_rows) == 15 and len(a.train_rows) == 185  # 10 % of 200 is 20, capped at eval_max = 15
    assert set(a.eval_rows).isdisjoint(a.train_rows) and len(set(a.eval_rows) | set(a.train_rows)) == 200
    assert np.array_equal(a.eval_rows, b.eval_rows) and not np.array_equal(a.eval_rows, c.eval_rows)
    drawn = a.draw_prompts(torch.Generator().manual_seed(0), 500, torch.device("cpu"))
    assert set(drawn.contexts) <= set(a.train_rows.tolist())  # training never sees a held-out prompt


def test_long_prompts_are_cut_from_the_left_and_counted(tmp_path):
    words = [f"w{i}" for i in range(30)]
    path = write_jsonl(tmp_path / "p.jsonl", [{"prompt": " ".join(words)}, {"prompt": "w1 w2"}, {"prompt": "w3"}])
    task = _task(path, 0, budget=8)
    batch = task.batch([0, 1, 2], torch.device("cpu"))
    assert batch.truncated == 1
    kept = task.codec.tokenizer.convert_ids_to_tokens(batch.ids[0].tolist())
    assert kept == [*words[-7:], "[SEP]"]  # the end of the prompt (and its separator) is kept
    assert batch.token_lists[0] == task.scorer_codec.prompt_ids(" ".join(words))[-10:]


def test_chat_template_and_bos_for_tokenizers_that_have_them():
    codec = build_word_tokenizer(["hi", "there", "user", "assistant", "<s>", "|"])
    codec.builtin = False  # behave as a Hugging Face tokenizer
    tok = codec.tokenizer
    tok.add_special_tokens({"bos_token": "<s>"})
    plain = Encoder(codec, 60, 64, True)
    ids, cut = plain.prompt("hi there")
    assert not cut and ids[0] == tok.bos_token_id  # no template: BOS + text
    tok.chat_template = "{% for m in messages %}{{ m['role'] }} | {{ m['content'] }} {% endfor %}assistant |"
    ids, _ = Encoder(codec, 60, 64, True).prompt([{"role": "user", "content": "hi there"}])
    assert tok.convert_ids_to_tokens(ids) == ["user", "|", "hi", "there", "assistant", "|"]
    ids, _ = Encoder(codec, 60, 64, False).prompt("hi there")  # dataset.chat_template = "off"
    assert ids[0] == tok.bos_token_id


# ---------------------------------------------------------------- judge answers and intervals


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ([0.5, float("nan")], "returned NaN or infinity for 1 of 2 pairs"),
        ([0.5, 1.5], "returned 1.5, outside \\[0, 1\\]"),
        ([-0.25, 0.5], "returned -0.25, outside \\[0, 1\\]"),
        ([0.5], "returned 1 values for 2 pairs"),
        (["yes", "no"], "not a list of numbers"),
    ],
)
def test_bad_judge_answers_get_one_sentence_each(answer, expected):
    with pytest.raises(ParameterError, match=expected):
        call_judge(lambda p, a, b: answer, ["x", "y"], ["a", "b"], ["c", "d"])


def test_a_judge_that_raises_is_reported_in_one_sentence():
    def broken(p, a, b):
        raise KeyError("score")

    with pytest.raises(ParameterError, match="The judge raised KeyError"):
        call_judge(broken, ["x"], ["a"], ["b"])


def test_mean_interval_is_the_normal_95_percent_interval():
    values = np.array([0.0, 1.0, 1.0, 1.0])
    mean, low, high = mean_interval(values)
    half = 1.959963984540054 * np.std(values, ddof=1) / 2.0
    assert mean == 0.75 and low == pytest.approx(0.75 - half) and high == 1.0  # clipped at 1
