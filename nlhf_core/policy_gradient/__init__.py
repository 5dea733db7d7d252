"""Parametric NLHF: Nash-MD-PG and its peers as policy-gradient estimators (Munos et al. 2024, Section 7).

* :mod:`.losses` — the estimator as a surrogate loss on per-token log-probabilities (shared
  with the language-model trainer);
* :mod:`.policies` — the sample/log-prob interface and a torch softmax over features;
* :mod:`.registry` — the methods' entries in the one registry (:mod:`nlhf_core.registry`):
  ``nash-md-pg``, ``nash-ema-pg``, ``self-play``, ``rlhf``, their parameters and targets (no torch);
* :mod:`.estimators` — alternative responses, sampled and exact losses, stationary points;
* :mod:`.training` — the training loop with metrics against the exact solutions.

Names are imported lazily so that ``import nlhf_core.policy_gradient`` does not load torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "PolicyGradientSpec": "registry",
    "get_pg_algorithm": "registry",
    "pg_algorithms": "registry",
    "stationary_point": "estimators",
    "leave_one_out_baseline": "losses",
    "regularized_pg_loss": "losses",
    "reward_to_go": "losses",
    "sequence_kl_estimate": "losses",
    "FeatureSoftmaxPolicy": "policies",
    "SamplingPolicy": "policies",
    "geometric_mixture": "policies",
    "one_hot_features": "policies",
    "random_features": "policies",
    "PGRun": "training",
    "resolve_pg_params": "training",
    "train_policy_gradient": "training",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
