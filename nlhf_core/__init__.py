"""NLHF Explorer's library: Nash learning from human feedback on preference games.

Modules (see README.md and ../shared/DESIGN.md):

* :mod:`nlhf_core.games` / :mod:`nlhf_core.game_io` — preference games, validation, files;
* :mod:`nlhf_core.presets` — named example games with stories;
* :mod:`nlhf_core.metrics` — win rates, exploitability, regularized gap, KL;
* :mod:`nlhf_core.equilibria` — exact Nash and regularized Nash equilibria with certificates;
* :mod:`nlhf_core.algorithms` — Nash-MD and its peers on one engine, sweeps;
* :mod:`nlhf_core.rlhf` / :mod:`nlhf_core.comparison` — Bradley–Terry baselines, head to head;
* :mod:`nlhf_core.plotting` — Plotly figures; :mod:`nlhf_core.cli` — the ``nlhf`` command.
"""

from .games import PreferenceGame

__version__ = "0.1.0"
__all__ = ["PreferenceGame", "__version__"]
