"""The parametric algorithms' registry: names, parameters, targets (no torch import, so the CLI stays fast)."""

from __future__ import annotations

from dataclasses import dataclass

from nlhf_core.algorithms.registry import ParamSpec
from nlhf_core.errors import ParameterError

#: Largest response set whose Nash-MD-PG stationary point is solved for (a dense root find).
MAX_STATIONARY_SIZE = 200


@dataclass(frozen=True)
class PGAlgorithm:
    """A parametric algorithm: which alternative response it compares against and which signal it uses."""

    name: str
    title: str
    summary: str
    alternative: str  # "mixture", "ema", "self" or "none"
    signal: str  # "preference" or "reward"
    target: str
    citation: str
    latex: str

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "summary": self.summary,
            "kind": "parametric",
            "params": [p.as_dict() for p in pg_params(self)],
            "target": self.target,
            "iterate": "last",
            "queries_per_iteration": "batch_size",
            "citation": self.citation,
        }


PG_ALGORITHMS: dict[str, PGAlgorithm] = {
    a.name: a
    for a in (
        PGAlgorithm(
            "nash-md-pg",
            "Nash-MD-PG",
            "Policy gradient against an alternative drawn from the geometric mixture of the policy and the reference.",
            "mixture",
            "preference",
            "pi ∝ mu exp(P pi_beta / tau) with pi_beta ∝ pi^(1-beta) mu^beta (pi*_tau at beta = 0)",
            "Munos et al. 2024, Section 7 (Nash-MD-PG)",
            r"y\sim\pi,\quad y'\sim\pi^{1-\beta}\mu^{\beta},\quad s=P(y\succ y')-\tfrac12",
        ),
        PGAlgorithm(
            "nash-ema-pg",
            "Nash-EMA-PG",
            "Policy gradient against the policy at an exponential moving average of past parameters.",
            "ema",
            "preference",
            "pi*_tau (the regularized Nash)",
            "Munos et al. 2024, Section 7 (Nash-EMA-PG)",
            r"y'\sim\pi_{\bar\theta},\quad \bar\theta\leftarrow\beta\bar\theta+(1-\beta)\theta",
        ),
        PGAlgorithm(
            "self-play-pg",
            "Self-play PG (online IPO)",
            "Policy gradient against a copy of the current policy (beta = 0); online IPO has the same fixed point.",
            "self",
            "preference",
            "pi*_tau (the regularized Nash)",
            "Munos et al. 2024, Section 7 (beta = 0); Calandriello et al. 2024 (online IPO)",
            r"y\sim\pi,\quad y'\sim\pi,\quad s=P(y\succ y')-\tfrac12",
        ),
        PGAlgorithm(
            "rlhf-pg",
            "RLHF PG",
            "Policy gradient on a Bradley–Terry reward with a KL penalty to the reference.",
            "none",
            "reward",
            "pi ∝ mu exp(r / tau) (the RLHF optimum)",
            "Munos et al. 2024, Section 8 (RLHF baseline); Ouyang et al. 2022",
            r"y\sim\pi,\quad s=r(y)-b",
        ),
    )
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


def pg_params(algo: PGAlgorithm) -> tuple[ParamSpec, ...]:
    """The parameters of one parametric algorithm."""
    if algo.alternative == "mixture":
        return (*COMMON_PARAMS[:1], BETA_MIXTURE, BETA_SCHEDULE, FEEDBACK, *COMMON_PARAMS[1:])
    if algo.alternative == "ema":
        return (*COMMON_PARAMS[:1], BETA_EMA, FEEDBACK, *COMMON_PARAMS[1:])
    if algo.signal == "preference":
        return (*COMMON_PARAMS[:1], FEEDBACK, *COMMON_PARAMS[1:])
    return COMMON_PARAMS


def get_pg_algorithm(name: str) -> PGAlgorithm:
    """The parametric algorithm called ``name``, or a :class:`ParameterError` listing them."""
    key = str(name).strip().lower()
    if key not in PG_ALGORITHMS:
        raise ParameterError(f"There is no parametric algorithm {name!r}; choose one of {', '.join(PG_ALGORITHMS)}.")
    return PG_ALGORITHMS[key]
