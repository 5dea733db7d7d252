"""Each policy-optimization method returns the signal its docstring states, on a tiny untrained model.

The expected values are computed independently: the leave-one-out baseline by a Python loop, the
preference signal from the true game's matrix, and every alternative response by sampling the
model it should come from with the same generator.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from nlhf_core.games.presets import get_preset  # noqa: E402
from nlhf_core.llm import config as cfgmod  # noqa: E402
from nlhf_core.llm.batches import EncodedTask  # noqa: E402
from nlhf_core.llm.judges import OracleJudge  # noqa: E402
from nlhf_core.llm.methods import (  # noqa: E402
    METHODS,
    Players,
    nash_ema_pg,
    nash_md_pg,
    rlhf,
    self_play,
    update_ema,
)
from nlhf_core.llm.models import RewardModel, build_policy, build_word_tokenizer  # noqa: E402
from nlhf_core.llm.sampling import sample  # noqa: E402
from nlhf_core.llm.task import AnswerTask  # noqa: E402

MODEL = cfgmod.ModelConfig(n_layer=1, n_head=2, n_embd=32)
CONTEXTS = [0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0]
LENGTH = 4


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(1)
    task = AnswerTask.from_game(get_preset("two-prompts"), hedges=["maybe", "surely"])
    codec = build_word_tokenizer(task.words())
    encoded = EncodedTask.of(task, codec)
    models = []
    for seed in range(3):
        torch.manual_seed(seed)
        models.append(build_policy(MODEL, codec).eval())
    torch.manual_seed(3)
    reward_model = RewardModel(codec.vocab_size, 1, 32, codec.eos_id, codec.pad_id).eval()
    players = Players(
        models[0], models[1], codec, LENGTH, beta=0.3, judge=OracleJudge(task), reward_model=reward_model, ema=models[2]
    )
    return encoded, players


def draw(model, prompts, players, g, reference=None, beta=0.0):
    return sample(
        model, prompts.ids, prompts.mask, max_new_tokens=LENGTH, eos_id=players.codec.eos_id,
        pad_id=players.codec.pad_id, generator=g, reference=reference, beta=beta,
    )[0]  # fmt: skip


def rng(seed: int = 7) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_rlhf_signal_is_reward_minus_the_other_responses_mean(setup):
    encoded, players = setup
    prompts = encoded.prompts([*CONTEXTS, 0, 0, 1], "cpu")
    rollout = rlhf(prompts, players, rng())
    assert torch.equal(rollout.responses, draw(players.policy, prompts, players, rng()))
    assert rollout.alternatives is None
    with torch.no_grad():
        rewards = players.reward_model(prompts.token_lists, rollout.responses, rollout.mask).tolist()
    for i, x in enumerate(prompts.contexts):
        others = [rewards[j] for j, y in enumerate(prompts.contexts) if y == x and j != i]
        assert float(rollout.signal[i]) == pytest.approx(rewards[i] - sum(others) / len(others), abs=1e-5)
    for x in (0, 1):  # the signals of each prompt group sum to zero
        assert sum(float(s) for s, y in zip(rollout.signal, prompts.contexts, strict=True) if y == x) == pytest.approx(
            0.0, abs=1e-5
        )


def test_rlhf_keeps_the_reward_of_a_prompt_asked_once(setup):
    encoded, players = setup
    prompts = encoded.prompts([0, 0, 0, 1], "cpu")
    rollout = rlhf(prompts, players, rng())
    with torch.no_grad():
        lone = players.reward_model(prompts.token_lists[3:], rollout.responses[3:], rollout.mask[3:])
    assert float(rollout.signal[3]) == pytest.approx(float(lone[0]), abs=1e-5)


def shorter_wins(prompts, responses_a, responses_b):
    """A judge whose verdicts vary on random text: the response with fewer words wins, ties are 1/2."""
    return [0.5 + 0.5 * ((len(b.split()) > len(a.split())) - (len(b.split()) < len(a.split())))
            for a, b in zip(responses_a, responses_b, strict=True)]  # fmt: skip


@pytest.mark.parametrize("method", [self_play, nash_md_pg, nash_ema_pg])
def test_preference_signal_is_the_judged_probability_minus_a_half(setup, method):
    encoded, players = setup
    prompts = encoded.prompts(CONTEXTS, "cpu")
    rollout = method(prompts, players, rng())  # the oracle judge: P_ext[x, cat(y), cat(y')]
    task = encoded.task
    P = task.extended_matrices()
    first = [task.parse(t) for t in rollout.texts]
    second = [task.parse(t) for t in players.codec.decode_batch(rollout.alternatives)]
    expected = torch.tensor(P[prompts.contexts, first, second], dtype=torch.float32) - 0.5
    assert torch.equal(rollout.signal, expected)
    assert rollout.texts == players.codec.decode_batch(rollout.responses)
    plug_in = Players(players.policy, players.reference, players.codec, LENGTH, players.beta, shorter_wins,
                      ema=players.ema)  # fmt: skip
    rollout = method(prompts, plug_in, rng())
    alternatives = players.codec.decode_batch(rollout.alternatives)
    expected = torch.tensor(shorter_wins(prompts.texts, rollout.texts, alternatives)) - 0.5
    assert torch.equal(rollout.signal, expected)
    assert set(rollout.signal.tolist()) <= {-0.5, 0.0, 0.5} and rollout.signal.abs().sum() > 0


def _alternatives_drawn_after_y(model, encoded, players, reference=None, beta=0.0):
    prompts = encoded.prompts(CONTEXTS, "cpu")
    g = rng()
    draw(players.policy, prompts, players, g)  # y ~ pi first, from the same generator
    return draw(model, prompts, players, g, reference, beta)


def test_self_play_draws_its_alternative_from_the_policy(setup):
    encoded, players = setup
    rollout = self_play(encoded.prompts(CONTEXTS, "cpu"), players, rng())
    assert torch.equal(rollout.alternatives, _alternatives_drawn_after_y(players.policy, encoded, players))


def test_nash_md_pg_with_beta_zero_draws_its_alternative_from_the_policy(setup):
    encoded, players = setup
    prompts = encoded.prompts(CONTEXTS, "cpu")
    at_zero = Players(players.policy, players.reference, players.codec, LENGTH, beta=0.0, judge=players.judge)
    rollout = nash_md_pg(prompts, at_zero, rng())
    assert torch.equal(rollout.alternatives, _alternatives_drawn_after_y(players.policy, encoded, players))
    assert torch.equal(rollout.alternatives, self_play(prompts, at_zero, rng()).alternatives)


def test_nash_md_pg_with_beta_one_draws_its_alternative_from_the_reference(setup):
    encoded, players = setup
    at_one = Players(players.policy, players.reference, players.codec, LENGTH, beta=1.0, judge=players.judge)
    rollout = nash_md_pg(encoded.prompts(CONTEXTS, "cpu"), at_one, rng())
    from_reference = _alternatives_drawn_after_y(players.reference, encoded, players)
    assert torch.equal(rollout.alternatives, from_reference)
    assert not torch.equal(from_reference, _alternatives_drawn_after_y(players.policy, encoded, players))


def test_nash_md_pg_draws_from_the_token_level_mixture(setup):
    encoded, players = setup
    rollout = nash_md_pg(encoded.prompts(CONTEXTS, "cpu"), players, rng())
    mixture = _alternatives_drawn_after_y(players.policy, encoded, players, players.reference, players.beta)
    assert torch.equal(rollout.alternatives, mixture)


def test_nash_ema_pg_draws_its_alternative_from_the_ema_policy(setup):
    encoded, players = setup
    rollout = nash_ema_pg(encoded.prompts(CONTEXTS, "cpu"), players, rng())
    assert torch.equal(rollout.alternatives, _alternatives_drawn_after_y(players.ema, encoded, players))


def test_update_ema_is_the_convex_combination():
    ema, policy = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    before = [p.detach().clone() for p in ema.parameters()]
    update_ema(ema, policy, 0.9)
    for new, old, current in zip(ema.parameters(), before, policy.parameters(), strict=True):
        assert torch.allclose(new, 0.9 * old + 0.1 * current)


def test_the_registry_lists_the_configured_methods():
    assert tuple(METHODS) == cfgmod.METHODS
    assert {name: spec.responses_per_prompt for name, spec in METHODS.items()} == {
        "rlhf": 1,
        "self-play": 2,
        "nash-md-pg": 2,
        "nash-ema-pg": 2,
    }
    assert [name for name, spec in METHODS.items() if spec.signal == "reward"] == ["rlhf"]
