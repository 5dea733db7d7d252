"""One sentence on a finished run: who beats whom under the true preferences, and why.

The *who* is the run's exact head-to-head table (``summary.json``'s ``win_rates``): the NLHF method that
does best against RLHF and RLHF itself (or, without RLHF, the best method and SFT). The *why* is read off
the answer distributions: each side's favourite answer, its mass, and how often the one favourite beats the
other under the true preferences, ``sum_x rho(x) P(x)[i, j]`` — plus, for RLHF, the answer its reward model
ranks first (RLHF tilts the SFT model towards it, Munos et al. 2024, Section 2), and whether every trained
policy beats SFT. No torch: front ends call it on a finished run's JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: How methods are named in prose.
DISPLAY = {"sft": "SFT", "rlhf": "RLHF", "self-play": "self-play", "nash-md-pg": "Nash-MD-PG",
           "nash-ema-pg": "Nash-EMA-PG"}  # fmt: skip
#: Win rates this close to 1/2 are called a tie (they show as 0.50).
TIE = 0.005


def _name(method: str, beta: float | None) -> str:
    if method == "nash-md-pg" and beta is not None:
        return f"Nash-MD-PG (β = {beta:g})"
    return DISPLAY.get(method, method)


def _answer_mass(summary: Mapping[str, Any], method: str, labels: Sequence[str], rho: np.ndarray) -> np.ndarray:
    """``sum_x rho(x) d_method(x)`` over the valid answers."""
    by_prompt = summary["answer_distributions"][method]
    D = np.array([[by_prompt[x][lab] for lab in labels] for x in summary["prompts"]], dtype=float)
    return rho @ D


def verdict(summary: Mapping[str, Any], matrices: np.ndarray, weights: Sequence[float] | np.ndarray) -> str:
    """The sentence for a finished run.

    Args:
        summary: the run's ``summary.json`` object (``methods``, ``win_rates``, ``answer_distributions``,
            ``labels``, ``prompts``, ``beta`` and, when RLHF ran, ``rlhf.rewards``).
        matrices: ``(C, n, n)`` the true preferences over the ``n`` valid answers, one per prompt.
        weights: ``rho``, the prompts' weights.

    Returns:
        One sentence (plain text; answer labels in single quotes).
    """
    methods, W = list(summary["methods"]), summary["win_rates"]
    labels = [lab for lab in summary["labels"] if lab != "malformed"]
    rho = np.asarray(weights, dtype=float)
    P = np.einsum("c,cij->ij", rho, np.asarray(matrices, dtype=float))
    beta = summary.get("beta")
    trained = [m for m in methods if m != "sft"]
    if not trained:
        return "Only the SFT model was trained; choose a method to compare it with."
    nlhf = [m for m in trained if m != "rlhf"]
    if "rlhf" in trained and nlhf:
        best = max(nlhf, key=lambda m: W[m]["rlhf"])
        pair = (best, "rlhf") if W[best]["rlhf"] >= 0.5 else ("rlhf", best)
    else:
        best = max(trained, key=lambda m: W[m]["sft"])
        pair = (best, "sft") if W[best]["sft"] >= 0.5 else ("sft", best)
    a, b = pair
    p = float(W[a][b])
    head = (
        f"{_name(a, beta)} and {_name(b, beta)} tie ({p:.3f})"
        if abs(p - 0.5) < TIE
        else f"{_name(a, beta)} beats {_name(b, beta)} {p:.3f} of the time"
    )
    ma, mb = _answer_mass(summary, a, labels, rho), _answer_mass(summary, b, labels, rho)
    ia, ib = int(np.argmax(ma)), int(np.argmax(mb))
    why = f"{_name(a, beta)} puts {ma[ia]:.0%} on '{labels[ia]}' and {_name(b, beta)} {mb[ib]:.0%} on '{labels[ib]}'"
    if ia != ib:
        why += f", and '{labels[ia]}' beats '{labels[ib]}' {P[ia, ib]:.2f} of the time under the true preferences"
    else:
        why += ", the same answer, so the rest of their answers decides"
    rewards = (summary.get("rlhf") or {}).get("rewards")
    if "rlhf" in pair and rewards:
        r = rho @ np.array([[rewards[x][lab] for lab in labels] for x in summary["prompts"]], dtype=float)
        why += f" (RLHF follows its reward model, which ranks '{labels[int(np.argmax(r))]}' first)"
    losers = [m for m in trained if W[m]["sft"] <= 0.5]
    tail = (
        "every trained policy beats SFT"
        if not losers
        else "SFT beats or ties " + ", ".join(_name(m, beta) for m in losers)
    )
    return f"{head}: {why}; {tail}."
