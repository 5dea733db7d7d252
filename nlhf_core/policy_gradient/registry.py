"""The policy-gradient family of the method registry: names, parameters, targets (no torch import).

The four methods share the names of the language-model trainer: ``nash-md-pg``,
``nash-ema-pg``, ``self-play`` and ``rlhf`` (the last two were ``self-play-pg`` and ``rlhf-pg``,
which still resolve as aliases). Each is one choice of the alternative response ``y'`` and of
the signal (Munos et al. 2024, Section 7); :mod:`.estimators` dispatches on those fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from nlhf_core.params import ParamSpec
from nlhf_core.registry import MethodSpec, get_algorithm, list_algorithms, register

FAMILY = "policy-gradient"


@dataclass(frozen=True, kw_only=True)
class PolicyGradientSpec(MethodSpec):
    """A parametric method (family ``"policy-gradient"``): its alternative response and its signal.

    Attributes (besides :class:`~nlhf_core.registry.MethodSpec`'s):
        alternative: where ``y'`` comes from — ``"mixture"`` (``pi^(1-beta) mu^beta``), ``"ema"``
            (the policy at averaged parameters), ``"self"`` (``pi`` itself) or ``"none"``.
        signal: ``"preference"`` (``P(y ≻ y') - 1/2``) or ``"reward"`` (``r(y) - b``).
    """

    family: ClassVar[str] = FAMILY

    alternative: str
    signal: str

    def mixture_weight(self, params: Mapping[str, Any]) -> Any:
        """``beta``, the reference's weight in the alternative ``pi^(1-beta) mu^beta``; None without one.

        None too when ``beta_schedule`` anneals it. Nash-MD-PG with ``beta`` mixes like tabular
        Nash-MD with ``eta tau = beta`` (their stationary points agree).

        Args:
            params: validated parameters (``beta`` and possibly ``beta_schedule``).

        Returns:
            ``beta``, or None.
        """
        if self.alternative != "mixture" or params.get("beta_schedule", "constant") != "constant":
            return None
        return params["beta"]

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly description (the keys of a tabular entry where they apply)."""
        return {
            "name": self.name,
            "title": self.title,
            "summary": self.summary,
            "kind": "parametric",
            "params": [p.as_dict() for p in self.params],
            "target": self.target,
            "iterate": "last",
            "queries_per_iteration": "batch_size",
            "citation": self.citation,
            "family": self.family,
        }


COMMON_PARAMS = (
    ParamSpec("tau", 0.1, "KL-regularization strength", low=1e-3, high=1e3, log_scale=True),
    ParamSpec("steps", 1000, "Number of gradient steps", kind="int", low=1, high=200_000),
    ParamSpec("batch_size", 64, "Sampled (context, response) pairs per step", kind="int", low=1, high=65_536),
    ParamSpec("lr", 1.0, "Learning rate of the optimizer", low=1e-5, high=10.0, log_scale=True),
    ParamSpec("optimizer", "sgd", "Torch optimizer", kind="choice", choices=("sgd", "adam")),
    ParamSpec(
        "lr_schedule",
        "linear",
        "Learning-rate schedule (linear decays to 0)",
        kind="choice",
        choices=("constant", "linear", "cosine"),
    ),
    ParamSpec(
        "gradient",
        "sampled",
        "Sampled estimator, or the exact expectation",
        kind="choice",
        choices=("sampled", "exact"),
    ),
    ParamSpec(
        "features",
        "one-hot",
        "Policy features: tabular one-hot or shared random features",
        kind="choice",
        choices=("one-hot", "random"),
    ),
    ParamSpec("feature_dim", 8, "Dimension of the random features", kind="int", low=1, high=4096),
    ParamSpec("seed", 0, "Seed of the sampling and the random features", kind="int", low=0, high=2**31 - 1),
)
TAU, TRAINING = COMMON_PARAMS[0], COMMON_PARAMS[1:]
BETA_MIXTURE = ParamSpec("beta", 0.125, "Mixture coefficient of the alternative pi^(1-beta) mu^beta", low=0.0, high=1.0)
BETA_EMA = ParamSpec("beta", 0.99, "EMA coefficient of the opponent's parameters", low=0.0, high=0.99999)
BETA_SCHEDULE = ParamSpec(
    "beta_schedule",
    "constant",
    "Constant beta, or beta annealed linearly to 0 (reaches pi*_tau)",
    kind="choice",
    choices=("constant", "linear"),
)
FEEDBACK = ParamSpec(
    "feedback",
    "probability",
    "Signal: the preference probability, or a sampled 0/1 judgement",
    kind="choice",
    choices=("probability", "bernoulli"),
)

NASH_MD_PG = register(
    PolicyGradientSpec(
        name="nash-md-pg",
        title="Nash-MD-PG",
        summary=(
            "Policy gradient against an alternative drawn from the geometric mixture of the policy and the reference."
        ),
        params=(TAU, BETA_MIXTURE, BETA_SCHEDULE, FEEDBACK, *TRAINING),
        alternative="mixture",
        signal="preference",
        target="pi ∝ mu exp(P pi_beta / tau) with pi_beta ∝ pi^(1-beta) mu^beta (pi*_tau at beta = 0)",
        citation="Munos et al. 2024, Section 7 (Nash-MD-PG)",
        latex=r"y\sim\pi,\quad y'\sim\pi^{1-\beta}\mu^{\beta},\quad s=P(y\succ y')-\tfrac12",
    )
)
NASH_EMA_PG = register(
    PolicyGradientSpec(
        name="nash-ema-pg",
        title="Nash-EMA-PG",
        summary="Policy gradient against the policy at an exponential moving average of past parameters.",
        params=(TAU, BETA_EMA, FEEDBACK, *TRAINING),
        alternative="ema",
        signal="preference",
        target="pi*_tau (the regularized Nash)",
        citation="Munos et al. 2024, Section 7 (Nash-EMA-PG)",
        latex=r"y'\sim\pi_{\bar\theta},\quad \bar\theta\leftarrow\beta\bar\theta+(1-\beta)\theta",
    )
)
SELF_PLAY = register(
    PolicyGradientSpec(
        name="self-play",
        aliases=("self-play-pg",),
        title="Self-play PG (online IPO)",
        summary="Policy gradient against a copy of the current policy (beta = 0); online IPO has the same fixed point.",
        params=(TAU, FEEDBACK, *TRAINING),
        alternative="self",
        signal="preference",
        target="pi*_tau (the regularized Nash)",
        citation="Munos et al. 2024, Section 7 (beta = 0); Calandriello et al. 2024 (online IPO)",
        latex=r"y\sim\pi,\quad y'\sim\pi,\quad s=P(y\succ y')-\tfrac12",
    )
)
RLHF = register(
    PolicyGradientSpec(
        name="rlhf",
        aliases=("rlhf-pg",),
        title="RLHF PG",
        summary="Policy gradient on a Bradley–Terry reward with a KL penalty to the reference.",
        params=COMMON_PARAMS,
        alternative="none",
        signal="reward",
        target="pi ∝ mu exp(r / tau) (the RLHF optimum)",
        citation="Munos et al. 2024, Section 8 (RLHF baseline); Ouyang et al. 2022",
        latex=r"y\sim\pi,\quad s=r(y)-b",
    )
)


def get_pg_algorithm(name: str) -> PolicyGradientSpec:
    """The policy-gradient method called ``name`` (or a former name): the registry's entry, typed.

    Args:
        name: a registered policy-gradient method name or alias (any case), e.g. ``"nash-md-pg"``.

    Returns:
        Its :class:`PolicyGradientSpec`.

    Raises:
        ParameterError: unknown name, or a method of another family (the message lists the choices).
    """
    return cast(PolicyGradientSpec, get_algorithm(name, family=FAMILY))


def pg_algorithms() -> list[PolicyGradientSpec]:
    """The policy-gradient methods, in listing order."""
    return cast(list[PolicyGradientSpec], list_algorithms(FAMILY))
