"""NLHF Explorer's library: Nash learning from human feedback on preference games.

The packages follow the data flow (``docs/architecture.md``):

* :mod:`nlhf_core.games` — preference games, files and links, presets, policies, metrics;
* :mod:`nlhf_core.equilibria` — exact Nash and regularized Nash equilibria with certificates;
* :mod:`nlhf_core.algorithms` — Nash-MD and its peers on one engine, trajectories, sweeps;
* :mod:`nlhf_core.baselines` — Bradley–Terry rewards, RLHF/DPO, IPO, the head-to-head comparison;
* :mod:`nlhf_core.feedback` — simulated annotators, fitted preference and reward models;
* :mod:`nlhf_core.policy_gradient` — Nash-MD-PG and its peers on parametric policies (PyTorch);
* :mod:`nlhf_core.llm` — the language-model trainer;
* :mod:`nlhf_core.viz` — every figure (the only layer that imports Plotly);
* :mod:`nlhf_core.cli` — the ``nlhf`` command.
"""

# The policy-gradient family registers itself in nlhf_core.registry when imported (the tabular one comes
# with nlhf_core.algorithms below): list_algorithms() is then complete whatever a program imports first.
from typing import Any

import nlhf_core.policy_gradient.registry  # noqa: F401  (no torch)
from nlhf_core.algorithms import run_algorithm
from nlhf_core.baselines.bradley_terry import fit_bradley_terry
from nlhf_core.baselines.comparison import compare_solutions
from nlhf_core.equilibria import nash_equilibrium, regularized_nash
from nlhf_core.errors import NLHFError
from nlhf_core.games.game import PreferenceGame
from nlhf_core.games.io import load_game, save_game
from nlhf_core.games.presets import get_preset, open_game, preset_names

__version__ = "0.1.0"
#: What the README teaches. The PyTorch-backed names load on first use, so ``import nlhf_core`` stays light.
__all__ = [
    "NLHFError",
    "PreferenceGame",
    "TrainingJob",
    "__version__",
    "compare_solutions",
    "fit_bradley_terry",
    "get_preset",
    "load_game",
    "nash_equilibrium",
    "open_game",
    "preset_names",
    "regularized_nash",
    "run_algorithm",
    "run_training",
    "save_game",
    "train_policy_gradient",
]
_LAZY = {
    "train_policy_gradient": "nlhf_core.policy_gradient",
    "run_training": "nlhf_core.llm",
    "TrainingJob": "nlhf_core.llm",
}


def __getattr__(name: str) -> Any:
    """Import the PyTorch-backed entry points only when they are first used."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nlhf_core' has no attribute {name!r}")
