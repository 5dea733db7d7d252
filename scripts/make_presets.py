"""Regenerate the preset games in nlhf_core/games/preset_data/ (run: python scripts/make_presets.py).

The JSON files are the source the library reads; this script documents where every
number comes from and rewrites them identically.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np

from nlhf_core.feedback.annotators import AnnotatorGroup, AnnotatorPopulation
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.io import save_game

OUT = Path(__file__).resolve().parents[1] / "nlhf_core" / "games" / "preset_data"
#: Study defaults (reference, temperatures, data) stored next to the presets that have them.
STUDY_OUT = OUT / "study-defaults"

# The paper's comparison (issue 16): groups of annotators with transitive rankings, mixed 5 : 3 : 1.
PAPER_LABELS = ["insightful", "polished", "stock", "witty"]
PAPER_GROUPS = [
    ("group 1", ["insightful", "polished", "stock", "witty"], 5),
    ("group 2", ["witty", "insightful", "polished", "stock"], 3),
    ("group 3", ["polished", "stock", "witty", "insightful"], 1),
]
# SFT writes the stock answer 70 % of the time, the witty one 20 %, the polished and the insightful 5 % each.
PAPER_STUDY = {
    "settings": {
        "sft.answer_weights": [0.05, 0.05, 0.7, 0.2],
        "policy.tau": 0.1,
        "rlhf.tau": 0.3,
        "data.pairs": 10000,
        "data.noise": 0.0,
    },
    "betas": [0.125, 0.25, 0.5, 0.75, 1.0],
    "seeds": 50,
    "groups": [{"name": n, "ranking": r, "weight": w} for n, r, w in PAPER_GROUPS],
}
PAPER_STORY = (
    "Built the way the paper's data was (Munos et al. 2024, Table 1): three groups of annotators, each with a "
    "transitive ranking, mixed 5 : 3 : 1. Group 1 ranks insightful > polished > stock > witty, group 2 witty > "
    "insightful > polished > stock, group 3 polished > stock > witty > insightful, so 'insightful' beats every "
    "answer head to head (8/9, 8/9, 5/9) and is the Nash equilibrium. The SFT model writes its stock answer 70% "
    "of the time, the witty one 20% and the insightful one only 5%; 'polished' is the stock answer improved, "
    "which every group prefers to it. A Bradley–Terry reward fitted on pairs from SFT orders answers by how often "
    "they beat SFT, so it ranks 'polished' first (it beats the stock answer 9/9), and RLHF (tau_R = 0.3) puts 83% "
    "on it. With tau = 0.1 the exact table shows the paper's findings: (a) Nash-MD-PG with beta = 0.5 beats RLHF "
    "0.583, because it best-responds to the regularized Nash at temperature tau/(1 - beta), an opponent still "
    "full of the stock answer, and the best response to that is mostly 'insightful', which beats 'polished' 8/9; "
    "(b) self-play ties RLHF (0.502): against its own insightful-heavy play 'polished' has lost its edge (it "
    "loses to 'insightful' like the stock answer does) while 'witty', the one answer that holds up against "
    "'insightful', stays, so its stock and witty mass loses to RLHF's 'polished'; the win rate against RLHF rises "
    "with beta and falls again as the opponent nears SFT, until the best response to SFT (beta = 1) tilts SFT "
    "along the reward's own order, only less sharply than RLHF, and loses to it (0.479); (c) every method beats "
    "SFT. The window is narrow: the findings hold for tau in about [0.091, 0.107], tau_R in about [0.20, 0.49] "
    "and label noise below 0.03 (noise eps acts on the NLHF methods as tau -> tau/(1 - 2 eps); lowering tau "
    "to 0.1 (1 - 2 eps) restores them up to eps = 0.1); with 10,000 labelled pairs from SFT they hold in 46 of 50 "
    "seeds."
)


def dice_matrix(faces: list[list[int]]) -> list[list[float]]:
    """P(die i shows a higher face than die j), from the faces (ties impossible here)."""
    n = len(faces)
    P = [[0.5] * n for _ in range(n)]
    for i, j in itertools.permutations(range(n), 2):
        wins = sum(a > b for a in faces[i] for b in faces[j])
        P[i][j] = wins / (len(faces[i]) * len(faces[j]))
    return P


def annotator_mixture(rankings: list[list[int]], weights: list[float], n: int) -> list[float]:
    """Upper triangle of the aggregate of annotator groups with transitive rankings."""
    upper = []
    for i in range(n):
        for j in range(i + 1, n):
            upper.append(sum(w for r, w in zip(rankings, weights, strict=True) if r.index(i) < r.index(j)))
    return upper


def presets() -> list[PreferenceGame]:
    games = []
    games.append(
        PreferenceGame.from_upper_triangle(
            [0.0, 1.0, 0.0],
            ["rock", "paper", "scissors"],
            name="rock-paper-scissors",
            story=(
                "Rock blunts scissors, scissors cut paper, paper wraps rock: every response loses to "
                "another one, so no single answer is best. The only policy nobody can beat is the "
                "uniform mix (1/3, 1/3, 1/3). A Bradley–Terry reward model cannot represent this "
                "cycle at all: the best fit gives every response the same score. Watch Nash-MD spiral "
                "into the centre of the simplex while plain self-play circles around it."
            ),
        )
    )
    games.append(
        PreferenceGame.from_upper_triangle(
            [0.3, 0.9, 0.46],
            ["rock", "paper", "scissors"],
            name="biased-cycle",
            story=(
                "A lopsided cycle: rock beats scissors 90% of the time, paper beats rock 70%, and "
                "scissors only just beat paper (54%). The Nash equilibrium is (1/16, 10/16, 5/16): "
                "each response's weight is proportional to the margin of the match-up it is *not* in "
                "(rock gets the thin 4% scissors-over-paper margin). Intuition says 'play rock, it "
                "wins big', yet rock gets the least mass: a rock-heavy opponent is punished by paper."
            ),
        )
    )
    games.append(
        PreferenceGame.from_bradley_terry(
            [2.0, 1.2, 0.4, -1.0],
            ["concise and correct", "correct", "verbose", "wrong"],
            name="bradley-terry",
            story=(
                "Preferences generated by a reward: P(a ≻ b) = sigmoid(r(a) - r(b)) with rewards "
                "2.0, 1.2, 0.4 and -1.0. Preferences are transitive, 'concise and correct' beats "
                "everything, and a Bradley–Terry fit recovers the rewards exactly. Here NLHF and RLHF "
                "agree: both concentrate on the best answer as tau shrinks. A baseline to compare the "
                "cyclic games with."
            ),
        )
    )
    games.append(
        PreferenceGame.from_upper_triangle(
            [0.55, 0.55, 0.99],
            ["a", "b", "c"],
            name="condorcet-winner",
            story=(
                "Response a beats b and c head to head (55% each), so a is a Condorcet winner and the "
                "unique Nash equilibrium. But b crushes c 99% of the time, and a Bradley–Terry model "
                "fitted to all pairs rewards that big margin: it scores b above a, so RLHF puts most "
                "of its mass on b, a policy that a beats in a direct comparison. NLHF picks the answer "
                "people prefer head to head; the reward model picks the one with the most impressive "
                "wins."
            ),
        )
    )
    games.append(
        PreferenceGame.from_upper_triangle(
            annotator_mixture([[0, 1, 2], [1, 2, 0], [2, 0, 1]], [1 / 3, 1 / 3, 1 / 3], 3),
            ["A", "B", "C"],
            name="condorcet-paradox",
            story=(
                "Three equally large groups of annotators, each perfectly consistent: group 1 ranks "
                "A > B > C, group 2 ranks B > C > A, group 3 ranks C > A > B. Yet the population "
                "prefers A to B, B to C and C to A, each 2 to 1: the Condorcet paradox. Transitive "
                "individuals can add up to a cyclic crowd, which no single reward can describe; the "
                "Nash equilibrium is the uniform mix."
            ),
        )
    )
    eps = 0.1
    games.append(
        PreferenceGame.from_matrix(
            [
                [0.5, 1 / 3 + eps / 2, 2 / 3 + eps / 4],
                [2 / 3 - eps / 2, 0.5, 1 / 3 - eps / 4],
                [1 / 3 - eps / 4, 2 / 3 + eps / 4, 0.5],
            ],
            ["y1", "y2", "y3"],
            name="paper-three-annotators",
            story=(
                "The example of Section 3.2 of the paper, with eps = 0.1: a fraction 1/3 - eps of "
                "annotators prefers y2 to y1, 1/3 + eps/2 prefers y1 to y3, 1/3 + eps/2 prefers y3 to "
                "y2, and all other comparisons are ties. The Nash equilibrium (1/3 + eps/2, "
                "1/3 + eps/2, 1/3 - eps) moves smoothly with eps, while the reward model's optimum "
                "jumps from y1 to y2 when eps changes sign, and even depends on which pairs were "
                "shown to annotators (uniform pairs rank y1 first, pairs drawn from (0.6, 0.2, 0.2) "
                "rank y2 first)."
            ),
        )
    )
    rng = np.random.default_rng(2024)
    upper = rng.integers(0, 2, size=36).astype(float).tolist()
    games.append(
        PreferenceGame.from_upper_triangle(
            upper,
            [f"r{i + 1}" for i in range(9)],
            name="random-tournament",
            story=(
                "Nine responses and a coin flip for every pair decides who always wins (seed 2024). "
                "Tournaments like this have a unique Nash equilibrium with an odd number of "
                "responses in its support (Fisher and Ryan, 1995), usually far from the response "
                "with the most wins. A good first test for solvers: no ties, no hidden structure."
            ),
        )
    )
    rng = np.random.default_rng(7)
    upper = np.round(rng.uniform(0.05, 0.95, size=66), 3).tolist()
    games.append(
        PreferenceGame.from_upper_triangle(
            upper,
            [f"y{i + 1}" for i in range(12)],
            name="random-preferences",
            story=(
                "Twelve responses with random preference probabilities between 0.05 and 0.95 (seed "
                "7): the kind of messy, partly cyclic game a learned preference model produces. "
                "About half of the responses end up in the Nash support; watch the heat map of the "
                "policy over time to see which ones survive."
            ),
        )
    )
    games.append(
        PreferenceGame.from_upper_triangle(
            [0.5, 0.0, 1.0, 0.0, 1.0, 0.0],
            ["rock", "stone", "paper", "scissors"],
            name="clone-rps",
            story=(
                "Rock, paper, scissors with a clone: 'stone' behaves exactly like rock. Any split of "
                "1/3 between rock and stone is a Nash equilibrium, so the equilibrium is not unique. "
                "The explorer reports the maximum-entropy one, (1/6, 1/6, 1/3, 1/3), which is also "
                "where the regularized equilibrium with a uniform reference goes as tau shrinks. "
                "Clones are why 'the' Nash of a preference model can depend on how answers are "
                "grouped."
            ),
        )
    )
    games.append(
        PreferenceGame.from_bradley_terry(
            [0.0, math.log(9.0), math.log(2.0)],
            ["y1", "y2", "y3"],
            name="paper-elo",
            story=(
                "The appendix example of the paper: Elo (Bradley–Terry) scores 0, log 9 and log 2, "
                "so preferences are perfectly transitive and y2 is the best answer. Restrict "
                "policies to pi(y1) = 2 pi(y2): maximizing expected Elo then gives (2/3, 1/3, 0), "
                "while maximizing preference gives (0, 0, 1), which beats it head to head with "
                "probability 50/99. Even an exact reward model can disagree with the preference "
                "optimum once the policy class is limited."
            ),
        )
    )
    games.append(
        PreferenceGame.from_matrix(
            dice_matrix([[2, 4, 9], [1, 6, 8], [3, 5, 7]]),
            ["die {2,4,9}", "die {1,6,8}", "die {3,5,7}"],
            name="nontransitive-dice",
            story=(
                "Three fair dice with faces {2,4,9}, {1,6,8} and {3,5,7} (from the paper's "
                "appendix). Each die beats the next with probability 5/9 and the last beats the "
                "first: a cycle made of dice that all have the same average, 5. The Nash "
                "equilibrium is the uniform mix; any die you pick can be beaten by another."
            ),
        )
    )
    games.append(
        PreferenceGame.from_contexts(
            [
                [[0.5, 0.3, 0.7], [0.7, 0.5, 0.3], [0.3, 0.7, 0.5]],
                [[0.5, 0.8, 0.9], [0.2, 0.5, 0.6], [0.1, 0.4, 0.5]],
            ],
            ["short", "medium", "long"],
            ["tell a joke", "state a fact"],
            [0.5, 0.5],
            name="two-prompts",
            story=(
                "One policy, two prompts. For 'tell a joke' the three answer lengths form a cycle "
                "(taste differs), so the best policy mixes them; for 'state a fact' short answers "
                "beat everything. The equilibrium is computed per prompt and metrics are averaged "
                "with the prompt weights rho(x) = (1/2, 1/2): a miniature of how prompts enter NLHF."
            ),
        )
    )
    population = AnnotatorPopulation(
        tuple(AnnotatorGroup.from_ranking(n, PAPER_LABELS, r, w) for n, r, w in PAPER_GROUPS)
    )
    games.append(population.aggregate(name="paper-comparison", story=PAPER_STORY))
    return games


def study_defaults() -> dict[str, dict]:
    """The study defaults of each preset that has them (``assets/presets/study-defaults/NAME.json``)."""
    return {"paper-comparison": PAPER_STUDY}


def study_defaults_json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for game in presets():
        save_game(game, OUT / f"{game.name}.json")
        print("wrote", game.name)
    STUDY_OUT.mkdir(parents=True, exist_ok=True)
    for name, data in study_defaults().items():
        (STUDY_OUT / f"{name}.json").write_text(study_defaults_json(data), encoding="utf-8")
        print("wrote study defaults of", name)


if __name__ == "__main__":
    main()
