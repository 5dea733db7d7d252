"""Exact and regularized Nash equilibria of preference games, with certificates.

* :mod:`.nash` — the exact Nash equilibrium (Munos et al. 2024, Section 3), unique or the
  maximum-entropy one, its support decided exactly (:mod:`.certify`);
* :mod:`.regularized` — the regularized equilibrium ``pi*_tau`` (Eq. 2, Proposition 1);
* :mod:`.interior_point`, :mod:`.entropic_path` — the numerical kernels both rely on.
"""

from nlhf_core.equilibria.common import NASH_TOLERANCE, REGULARIZED_GAP_TOLERANCE, TAU_MAX, TAU_MIN, check_tau
from nlhf_core.equilibria.nash import NashEquilibrium, nash_equilibrium
from nlhf_core.equilibria.regularized import RegularizedNash, regularized_nash

__all__ = [
    "NASH_TOLERANCE",
    "REGULARIZED_GAP_TOLERANCE",
    "TAU_MAX",
    "TAU_MIN",
    "NashEquilibrium",
    "RegularizedNash",
    "check_tau",
    "nash_equilibrium",
    "regularized_nash",
]
