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

# Both method families register themselves in nlhf_core.registry when imported; importing them here
# makes nlhf_core.registry.list_algorithms() complete whichever module a program imports first.
import nlhf_core.algorithms
import nlhf_core.policy_gradient.registry  # noqa: F401  (the policy-gradient methods; no torch)
from nlhf_core.games.game import PreferenceGame

__version__ = "0.1.0"
__all__ = ["PreferenceGame", "__version__"]
