"""The four policy-optimization methods: a batch of prompts in, responses and their training signal out.

Every method samples ``y ~ pi(.|x)`` for each prompt and returns a signal ``s(x, y)`` that the
trainer plugs into the one estimator of the paper (Munos et al. 2024, Section 7),
:func:`nlhf_core.policy_gradient.losses.regularized_pg_loss`::

    loss gradient = -sum_t grad log pi(y_t|.) [s(x, y) - tau sum_{s>=t} log(pi/mu)(y_s|.)]

They differ only in ``s``:

* :func:`rlhf`: ``s = r(x, y) - b`` with the reward model ``r`` (trained, or a Hugging Face
  classifier) and ``b`` the leave-one-out mean reward of the other responses to the same prompt in
  the batch (Section 8's RLHF baseline);
* :func:`self_play`: ``s = P(y ≻ y' | x) - 1/2`` with ``y' ~ pi`` (online IPO's fixed point);
* :func:`nash_md_pg`: the same with ``y'`` from the token-level mixture
  ``softmax((1 - beta) logits_pi + beta logits_mu)`` (:mod:`nlhf_core.llm.sampling`);
* :func:`nash_ema_pg`: the same with ``y'`` from the policy at EMA parameters
  ``theta_ema <- b theta_ema + (1 - b) theta`` (:func:`update_ema`).

``P(y ≻ y' | x)`` comes from the run's judge (oracle, preference model or a plug-in), and the
``1/2`` is a baseline (``E[P(y ≻ y')] = 1/2`` when ``y'`` has the law of ``y``). :data:`METHODS`
maps the names of ``policy.methods`` to these functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from nlhf_core.llm.batches import PromptBatch
from nlhf_core.llm.judges import JudgeFn, call_judge
from nlhf_core.llm.models import Codec
from nlhf_core.llm.sampling import StopCheck, Warp, sample, stop_strings_check
from nlhf_core.policy_gradient.losses import leave_one_out_baseline


@dataclass(frozen=True)
class Players:
    """The models one step plays with.

    Attributes:
        policy: ``pi``, the model being trained (sampled without gradients).
        reference: ``mu``, the SFT model (Nash-MD-PG's mixture partner).
        codec: the tokenizer (EOS and padding ids, decoding).
        max_new_tokens: longest sampled response.
        beta: Nash-MD-PG's mixture coefficient.
        judge: ``P(a ≻ b | x)`` for the preference methods (None for RLHF).
        reward_model: ``r(x, y)`` for RLHF (None otherwise).
        ema: the policy at EMA parameters, Nash-EMA-PG's opponent (None otherwise).
        warp: the sampling law (temperature, top-k, top-p) of every response (None: the model's softmax).
        stops: stop strings that end a response after the token completing one.
    """

    policy: nn.Module
    reference: nn.Module
    codec: Codec
    max_new_tokens: int
    beta: float = 0.0
    judge: JudgeFn | None = None
    reward_model: nn.Module | None = None
    ema: nn.Module | None = None
    warp: Warp | None = None
    stops: tuple[str, ...] = ()

    @property
    def stop(self) -> StopCheck | None:
        return stop_strings_check(self.codec.decode, self.stops)

    def sample(
        self,
        model: nn.Module,
        prompts: PromptBatch,
        generator: torch.Generator,
        *,
        reference: nn.Module | None = None,
        beta: float = 0.0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Responses ``(B, T)`` and their mask from ``model`` (or its token-level mixture with ``reference``)."""
        return sample(
            model,
            prompts.ids,
            prompts.mask,
            max_new_tokens=self.max_new_tokens,
            eos_id=self.codec.eos_id,
            pad_id=self.codec.pad_id,
            generator=generator,
            reference=reference,
            beta=beta,
            warp=self.warp,
            stop=self.stop,
        )


@dataclass(frozen=True)
class Rollout:
    """Responses ``y ~ pi`` to a batch of prompts and their training signal.

    Attributes:
        responses, mask: ``(B, T)`` token ids and 1 on each response's tokens up to its EOS.
        texts: the decoded responses.
        signal: ``(B,)`` float32, the ``s(x, y)`` of the estimator.
        alternatives: the opponent's responses ``y'`` (preference methods; None for RLHF).
    """

    responses: torch.Tensor
    mask: torch.Tensor
    texts: list[str]
    signal: torch.Tensor
    alternatives: torch.Tensor | None = None


def join_rollouts(parts: list[Rollout], pad_id: int) -> Rollout:
    """The rollouts of consecutive chunks of prompts as one (responses right-padded to the longest)."""
    if len(parts) == 1:
        return parts[0]
    width = max(part.responses.shape[1] for part in parts)

    def padded(x: torch.Tensor, value: int) -> torch.Tensor:
        return nn.functional.pad(x, (0, width - x.shape[1]), value=value)

    alternatives = None
    if all(part.alternatives is not None for part in parts):
        alt = [part.alternatives for part in parts if part.alternatives is not None]
        alt_width = max(a.shape[1] for a in alt)
        alternatives = torch.cat([nn.functional.pad(a, (0, alt_width - a.shape[1]), value=pad_id) for a in alt])
    return Rollout(
        torch.cat([padded(part.responses, pad_id) for part in parts]),
        torch.cat([padded(part.mask, 0) for part in parts]),
        [text for part in parts for text in part.texts],
        torch.cat([part.signal for part in parts]),
        alternatives,
    )


def missing_eos(rollout: Rollout, eos_id: int, stops: tuple[str, ...] = ()) -> torch.Tensor:
    """``(B,)`` bool: responses that ran to ``max_new_tokens`` without EOS or a stop string."""
    has_eos = ((rollout.responses == eos_id) & rollout.mask.bool()).any(dim=1)
    stopped = torch.tensor([any(s in text for s in stops) for text in rollout.texts], device=has_eos.device)
    return ~(has_eos | stopped)


def rlhf(prompts: PromptBatch, players: Players, generator: torch.Generator) -> Rollout:
    """``s_i = r(x_i, y_i) - b_i``, ``b_i`` the mean reward of the other responses to the same prompt.

    The leave-one-out baseline does not depend on ``y_i``, so the estimator stays unbiased; within a
    prompt's group of ``k >= 2`` responses the signals sum to zero (a lone response keeps ``r``).
    """
    assert players.reward_model is not None, "rlhf needs players.reward_model"
    responses, mask = players.sample(players.policy, prompts, generator)
    texts = players.codec.decode_batch(responses)
    with torch.no_grad():
        score_texts = getattr(players.reward_model, "score", None)  # a Hugging Face reward model reads the texts
        if callable(score_texts):
            rewards = score_texts(prompts.texts, texts).float().to(responses.device)
        else:
            rewards = players.reward_model(prompts.token_lists, responses, mask).float()
    contexts = torch.tensor(prompts.contexts, device=rewards.device)
    signal = rewards - leave_one_out_baseline(rewards, contexts)
    return Rollout(responses, mask, texts, signal)


def self_play(prompts: PromptBatch, players: Players, generator: torch.Generator) -> Rollout:
    """``s = P(y ≻ y' | x) - 1/2`` with ``y'`` a second draw from the policy itself."""
    return _against(players.policy, None, 0.0, prompts, players, generator)


def nash_md_pg(prompts: PromptBatch, players: Players, generator: torch.Generator) -> Rollout:
    """``s = P(y ≻ y' | x) - 1/2`` with ``y'`` from ``softmax((1 - beta) logits_pi + beta logits_mu)``.

    At ``beta = 0`` the alternative is the policy itself (self-play); at ``beta = 1`` the reference.
    """
    return _against(players.policy, players.reference, players.beta, prompts, players, generator)


def nash_ema_pg(prompts: PromptBatch, players: Players, generator: torch.Generator) -> Rollout:
    """``s = P(y ≻ y' | x) - 1/2`` with ``y'`` from the policy at EMA parameters (``players.ema``)."""
    assert players.ema is not None, "nash_ema_pg needs players.ema"
    return _against(players.ema, None, 0.0, prompts, players, generator)


def _against(
    opponent: nn.Module,
    reference: nn.Module | None,
    beta: float,
    prompts: PromptBatch,
    players: Players,
    generator: torch.Generator,
) -> Rollout:
    """``y ~ pi``, then ``y'`` from ``opponent`` (mixed with ``reference`` by ``beta``), judged: ``P(y ≻ y') - 1/2``."""
    assert players.judge is not None, "the preference methods need players.judge"
    responses, mask = players.sample(players.policy, prompts, generator)
    texts = players.codec.decode_batch(responses)
    alternatives, _ = players.sample(opponent, prompts, generator, reference=reference, beta=beta)
    prob = call_judge(players.judge, prompts.texts, texts, players.codec.decode_batch(alternatives))
    signal = torch.tensor(prob, dtype=torch.float32, device=prompts.ids.device) - 0.5
    return Rollout(responses, mask, texts, signal, alternatives)


def update_ema(ema: nn.Module, policy: nn.Module, decay: float) -> None:
    """Nash-EMA-PG's opponent after a step: ``theta_ema <- decay theta_ema + (1 - decay) theta``."""
    with torch.no_grad():
        for average, current in zip(ema.parameters(), policy.parameters(), strict=True):
            whole = current.full_tensor() if hasattr(current, "full_tensor") else current  # FSDP: gather the shards
            average.mul_(decay).add_(whole.detach(), alpha=1.0 - decay)


Method = Callable[[PromptBatch, Players, torch.Generator], Rollout]


@dataclass(frozen=True)
class MethodSpec:
    """A method and what the trainer must provide for it.

    ``signal`` is ``"reward"`` (RLHF: the reward model, ``rlhf.tau`` and ``rlhf.lr``) or
    ``"preference"`` (a judge, ``policy.tau`` and ``policy.lr``); ``alternative`` names where ``y'``
    comes from: ``"none"``, ``"self"``, ``"mixture"`` or ``"ema"`` (an EMA copy is trained alongside).
    """

    rollout: Method
    signal: str
    alternative: str

    @property
    def responses_per_prompt(self) -> int:
        """Sampled responses per prompt and step: ``y`` and, for the preference methods, ``y'``."""
        return 1 if self.alternative == "none" else 2


#: The methods by name, in the order :data:`nlhf_core.llm.config.METHODS` lists them.
METHODS: dict[str, MethodSpec] = {
    "rlhf": MethodSpec(rlhf, "reward", "none"),
    "self-play": MethodSpec(self_play, "preference", "self"),
    "nash-md-pg": MethodSpec(nash_md_pg, "preference", "mixture"),
    "nash-ema-pg": MethodSpec(nash_ema_pg, "preference", "ema"),
}
