"""Parametric NLHF: Nash-MD-PG and its peers as policy-gradient estimators (Munos et al. 2024, Section 7).

* :mod:`.losses` — the estimator as a surrogate loss on per-token log-probabilities (shared
  with the language-model trainer);
* :mod:`.policies` — the sample/log-prob interface and a torch softmax over features;
* :mod:`.estimators` — the algorithms (alternative response, signal), sampled and exact losses,
  and their stationary points;
* :mod:`.training` — the training loop with metrics against the exact solutions.
"""

from .estimators import PG_ALGORITHMS, PGAlgorithm, get_pg_algorithm, pg_params, stationary_point
from .losses import regularized_pg_loss, reward_to_go, sequence_kl_estimate
from .policies import FeatureSoftmaxPolicy, SamplingPolicy, geometric_mixture, one_hot_features, random_features
from .training import PGRun, resolve_pg_params, train_policy_gradient

__all__ = [
    "PG_ALGORITHMS",
    "FeatureSoftmaxPolicy",
    "PGAlgorithm",
    "PGRun",
    "SamplingPolicy",
    "geometric_mixture",
    "get_pg_algorithm",
    "one_hot_features",
    "pg_params",
    "random_features",
    "regularized_pg_loss",
    "resolve_pg_params",
    "reward_to_go",
    "sequence_kl_estimate",
    "stationary_point",
    "train_policy_gradient",
]
