"""Batched sampling from a policy or from the token-level geometric mixture, and teacher-forced log-probs.

**Token-level mixture (Nash-MD-PG's alternative, Munos et al. 2024, Section 7).** At every step
the next token is drawn from ::

    pi_beta(. | x, y_<t) = softmax((1 - beta) * logits_pi(. | x, y_<t) + beta * logits_mu(. | x, y_<t))

i.e. ``∝ pi(.|x,y_<t)^(1-beta) mu(.|x,y_<t)^beta``. The *sequence-level* mixture of the theory is
``pi(y|x)^(1-beta) mu(y|x)^beta / Z(x)``; the two differ because the token-level version
renormalizes at every prefix: ``prod_t pi_beta(y_t|.) = pi(y)^(1-beta) mu(y)^beta / prod_t Z_t(x, y_<t)``,
and the per-prefix normalizers ``Z_t`` depend on the prefix. They agree when responses are one token,
or when ``beta`` is 0 (self-play, ``y' ~ pi``) or 1 (the best response to ``mu``).

Both models keep their own KV cache (``past_key_values``), so each step feeds one new token per
row to each model: ``O(T)`` token evaluations per sequence, not ``O(T^2)``. :func:`sample` with
``use_cache=False`` re-encodes the whole prefix at every step; it is the reference implementation
the tests compare against (same seed → identical sequences).

**Sampling law.** Responses are drawn from the *warped* next-token law of :class:`Warp`: logits
divided by the temperature, then restricted to the ``top_k`` most likely tokens and to the nucleus
of mass ``top_p``, renormalized. :func:`token_logprobs` with the same warp returns exactly the
log-probabilities of that law, so the policy gradient is taken for the distribution actually sampled.
A response ends at EOS, at ``max_new_tokens``, or (with ``stop``) after the token that completes a
stop string.

Prompts are left-padded (attention mask and explicit position ids), so one batch may mix prompts
of different lengths. Randomness comes only from the ``torch.Generator`` passed in (uniforms drawn
on the CPU, then inverse-CDF sampling), so draws are reproducible on any device.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, overload

import torch
from torch import nn

from nlhf_core.llm.sharding import all_finished, is_sharded


@dataclass
class Batch:
    """Left-padded prompts ``(B, L)`` and right-padded responses ``(B, T)`` with their masks."""

    prompt_ids: torch.Tensor
    prompt_mask: torch.Tensor
    responses: torch.Tensor
    response_mask: torch.Tensor

    def rows(self, index: slice) -> Batch:
        """The batch of rows ``index`` (a micro-batch)."""
        return Batch(self.prompt_ids[index], self.prompt_mask[index], self.responses[index], self.response_mask[index])


def left_pad(
    rows: Sequence[Sequence[int]], pad_id: int, device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-pad token lists into ``(ids, mask)`` of shape ``(B, L)``."""
    width = max(len(r) for r in rows)
    ids = torch.tensor([[pad_id] * (width - len(r)) + list(r) for r in rows], dtype=torch.long)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], dtype=torch.long)
    return ids.to(device), mask.to(device)


def right_pad(
    rows: Sequence[Sequence[int]], pad_id: int, device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token lists into ``(ids, mask)`` of shape ``(B, T)``."""
    width = max(len(r) for r in rows)
    ids = torch.tensor([list(r) + [pad_id] * (width - len(r)) for r in rows], dtype=torch.long)
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], dtype=torch.long)
    return ids.to(device), mask.to(device)


@dataclass(frozen=True)
class Warp:
    """The sampling law built from logits: ``softmax(filter(logits / temperature))``.

    ``filter`` keeps the ``top_k`` largest logits (0: all) and the smallest set of most likely
    tokens whose probability reaches ``top_p`` (1: all; the most likely token is always kept);
    the other logits become ``-inf``.
    """

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0

    @property
    def identity(self) -> bool:
        return self.temperature == 1.0 and self.top_k == 0 and self.top_p >= 1.0

    def temperature_only(self) -> Warp:
        """The same temperature without the filters (the reference's law in the KL term)."""
        return Warp(self.temperature)

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        """Warped float32 logits (``-inf`` outside the kept set)."""
        out = logits.float()
        if self.temperature != 1.0:
            out = out / self.temperature
        if self.top_k == 0 and self.top_p >= 1.0:
            return out
        removed = torch.zeros_like(out, dtype=torch.bool)
        if 0 < self.top_k < out.shape[-1]:
            kth = torch.topk(out, self.top_k, dim=-1).values[..., -1:]
            removed |= out < kth
        if self.top_p < 1.0:
            candidates = out.masked_fill(removed, -torch.inf)
            sorted_logits, order = torch.sort(candidates, dim=-1, descending=True, stable=True)
            probs = torch.softmax(sorted_logits, dim=-1)
            mass_before = probs.cumsum(dim=-1) - probs
            removed |= torch.zeros_like(removed).scatter(-1, order, mass_before >= self.top_p)
        return out.masked_fill(removed, -torch.inf)


#: ``stop(tokens (B, t)) -> (B,)`` bool: the rows whose response now ends with a completed stop string.
StopCheck = Callable[[torch.Tensor], torch.Tensor]


def stop_strings_check(decode: Callable[[Sequence[int]], str], strings: Sequence[str]) -> StopCheck | None:
    """A :data:`StopCheck` that fires when the decoded response contains one of ``strings`` (None if there are none)."""
    if not strings:
        return None

    def check(tokens: torch.Tensor) -> torch.Tensor:
        hits = [any(stop in decode(row) for stop in strings) for row in tokens.tolist()]
        return torch.tensor(hits, dtype=torch.bool, device=tokens.device)

    return check


def _positions(mask: torch.Tensor) -> torch.Tensor:
    return (mask.long().cumsum(dim=1) - 1).clamp(min=0)


def _draw(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One token per row from ``softmax(logits)`` by inverse CDF with uniforms from ``generator`` (CPU)."""
    probs = torch.softmax(logits.float(), dim=-1)
    cdf = probs.cumsum(dim=-1)
    u = torch.rand(logits.shape[0], 1, generator=generator, dtype=torch.float32).to(logits.device)
    u = u * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).clamp(max=logits.shape[-1] - 1).squeeze(-1)


def _inner_parameters(model: nn.Module) -> Mapping[str, inspect.Parameter]:
    """Parameters of the causal LM's ``forward`` inside ``model`` (under DDP, peft or an adapter view)."""
    inner: object = model
    for _ in range(4):  # DDP -> peft model -> adapter view -> the transformers model (FSDP keeps the class)
        if isinstance(inner, nn.parallel.DistributedDataParallel):
            inner = inner.module
        elif hasattr(inner, "get_base_model"):
            inner = inner.get_base_model()
        else:
            break
    forward = getattr(inner, "forward", None)
    return inspect.signature(forward).parameters if forward is not None else {}


def _cache_argument(model: nn.Module) -> str:
    """Name of the KV-cache argument: ``cache`` (transformers >= 5.2x) or ``past_key_values`` (older models)."""
    return "cache" if "cache" in _inner_parameters(model) else "past_key_values"


def mixture_logits(logits_pi: torch.Tensor, logits_mu: torch.Tensor | None, beta: float) -> torch.Tensor:
    """``(1 - beta) * logits_pi + beta * logits_mu`` (just ``logits_pi`` when there is no reference or beta = 0)."""
    if logits_mu is None or beta == 0.0:
        return logits_pi.float()
    return (1.0 - beta) * logits_pi.float() + beta * logits_mu.float()


@overload
def sample(
    policy: nn.Module,
    prompt_ids: torch.Tensor,
    prompt_mask: torch.Tensor,
    *,
    max_new_tokens: int,
    eos_id: int,
    pad_id: int,
    generator: torch.Generator,
    reference: nn.Module | None = None,
    beta: float = 0.0,
    use_cache: bool = True,
    warp: Warp | None = None,
    stop: StopCheck | None = None,
    return_logits: Literal[False] = False,
) -> tuple[torch.Tensor, torch.Tensor]: ...


@overload
def sample(
    policy: nn.Module,
    prompt_ids: torch.Tensor,
    prompt_mask: torch.Tensor,
    *,
    max_new_tokens: int,
    eos_id: int,
    pad_id: int,
    generator: torch.Generator,
    reference: nn.Module | None = None,
    beta: float = 0.0,
    use_cache: bool = True,
    warp: Warp | None = None,
    stop: StopCheck | None = None,
    return_logits: Literal[True],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]: ...


@torch.no_grad()
def sample(
    policy: nn.Module,
    prompt_ids: torch.Tensor,
    prompt_mask: torch.Tensor,
    *,
    max_new_tokens: int,
    eos_id: int,
    pad_id: int,
    generator: torch.Generator,
    reference: nn.Module | None = None,
    beta: float = 0.0,
    use_cache: bool = True,
    warp: Warp | None = None,
    stop: StopCheck | None = None,
    return_logits: bool = False,
) -> tuple[torch.Tensor, torch.Tensor] | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Sample responses ``(B, T)`` from ``pi`` (``reference=None`` or ``beta=0``) or the token-level mixture.

    Returns ``(responses, mask)`` where ``mask`` is 1 on the tokens of each response up to and
    including its EOS or the token completing a stop string (later positions hold ``pad_id``); with
    ``return_logits`` also the warped logits ``(B, T, V)`` that each token was drawn from
    (``softmax`` of them is the law of the draw). ``warp`` (default: none) is applied after mixing.
    """
    models = [policy] if reference is None or beta <= 0.0 else [policy, reference]  # pi, and mu when mixing
    use_mu = len(models) == 2
    B = prompt_ids.shape[0]
    device = prompt_ids.device
    ids, mask = prompt_ids, prompt_mask
    caches: list = [None, None]
    out = torch.full((B, max_new_tokens), pad_id, dtype=torch.long, device=device)
    out_mask = torch.zeros((B, max_new_tokens), dtype=torch.long, device=device)
    finished = torch.zeros(B, dtype=torch.bool, device=device)
    seen_logits: list[torch.Tensor] = []
    step_input, step_pos = ids, _positions(mask)
    sharded = any(is_sharded(m) for m in models)  # its forwards are collectives: every rank runs as many
    for t in range(max_new_tokens):
        idle = sharded and bool(finished.all())  # only keeping pace with ranks whose rows still sample
        if use_cache:
            logits = []
            for k, model in enumerate(models):
                res = model(
                    input_ids=step_input,
                    attention_mask=mask,
                    position_ids=step_pos,
                    use_cache=True,
                    **{_cache_argument(model): caches[k]},
                )
                caches[k] = getattr(res, "cache", None) or getattr(res, "past_key_values", None)
                logits.append(res.logits[:, -1, :])
        else:
            full_ids = torch.cat([ids, out[:, :t]], dim=1)
            logits = [
                m(input_ids=full_ids, attention_mask=mask, position_ids=_positions(mask), use_cache=False).logits[:, -1]
                for m in models
            ]
        if idle:
            token = torch.full((B,), pad_id, dtype=torch.long, device=device)  # no draw: the generator stays put
        else:
            token = _next_token(logits, use_mu, beta, warp, generator, finished, pad_id, seen_logits, return_logits)
            out[:, t] = token
            out_mask[:, t] = (~finished).long()
            finished = finished | (token == eos_id)
            if stop is not None:
                finished = finished | (stop(out[:, : t + 1]) & out_mask[:, t].bool())
        mask = torch.cat([mask, torch.ones((B, 1), dtype=mask.dtype, device=device)], dim=1)
        step_input = token[:, None]
        step_pos = _positions(mask)[:, -1:]
        if all_finished(finished, sharded):
            break
    if return_logits:
        return out, out_mask, torch.stack(seen_logits, dim=1)
    return out, out_mask


def _next_token(
    logits: list[torch.Tensor],
    use_mu: bool,
    beta: float,
    warp: Warp | None,
    generator: torch.Generator,
    finished: torch.Tensor,
    pad_id: int,
    seen_logits: list[torch.Tensor],
    keep: bool,
) -> torch.Tensor:
    """One draw from the (mixed, warped) logits; finished rows get ``pad_id``; with ``keep`` the logits are kept."""
    mixed = mixture_logits(logits[0], logits[1] if use_mu else None, beta)
    if warp is not None and not warp.identity:
        mixed = warp(mixed)
    token = _draw(mixed, generator)
    if keep:
        seen_logits.append(mixed)
    return torch.where(finished, torch.full_like(token, pad_id), token)


def _keeps_logits(model: nn.Module) -> bool:
    """Whether the causal LM inside ``model`` takes ``logits_to_keep`` (the LM head on the last positions only)."""
    return "logits_to_keep" in _inner_parameters(model)


def selective_log_softmax(logits: torch.Tensor, index: torch.Tensor, rows_per_chunk: int = 8) -> torch.Tensor:
    """``log_softmax(logits, -1).gather(-1, index)`` without materializing the full log-softmax.

    ``log p(i) = logits[i] - logsumexp(logits)``: one gather and one ``logsumexp`` per row chunk,
    in float32 (so bf16 logits lose no precision), ``O(chunk * T * V)`` extra memory instead of ``O(B * T * V)``.

    Args:
        logits: ``(B, T, V)`` in any float dtype.
        index: ``(B, T)`` token ids.

    Returns:
        ``(B, T)`` float32 log-probabilities.
    """
    picked = logits.gather(-1, index[..., None]).squeeze(-1).float()
    norms = [torch.logsumexp(chunk.float(), dim=-1) for chunk in logits.split(rows_per_chunk, dim=0)]
    return picked - torch.cat(norms, dim=0)


def token_logprobs(model: nn.Module, batch: Batch, warp: Warp | None = None) -> torch.Tensor:
    """Teacher-forced ``log pi(y_t | x, y_<t)`` for every response token, ``(B, T)`` (0 on padding).

    One forward pass over ``[prompt, response]`` whose LM head runs only at the ``T`` positions
    that predict response tokens (``logits_to_keep`` when the model takes it), then
    :func:`selective_log_softmax`. With ``warp`` the log-probs are those of the warped law
    (:class:`Warp`) that :func:`sample` draws from (``-inf`` for a token outside its kept set).
    Keeps the graph when called with gradients on.
    """
    T = batch.responses.shape[1]
    ids = torch.cat([batch.prompt_ids, batch.responses], dim=1)
    mask = torch.cat([batch.prompt_mask, batch.response_mask], dim=1)
    extra = {"logits_to_keep": T + 1} if _keeps_logits(model) else {}
    logits = model(input_ids=ids, attention_mask=mask, position_ids=_positions(mask), use_cache=False, **extra).logits
    logits = logits[:, -(T + 1) : -1, :]  # position L - 1 + t predicts response token t
    if warp is not None and not warp.identity:
        logits = warp(logits)
    logp = selective_log_softmax(logits, batch.responses)
    return torch.where(batch.response_mask.bool(), logp, torch.zeros_like(logp))


def sequence_batch(
    prompts: Sequence[Sequence[int]], responses: Sequence[Sequence[int]], pad_id: int, device: torch.device | str
) -> Batch:
    """A :class:`Batch` from token lists (responses right-padded)."""
    p_ids, p_mask = left_pad(prompts, pad_id, device)
    r_ids, r_mask = right_pad(responses, pad_id, device)
    return Batch(p_ids, p_mask, r_ids, r_mask)
