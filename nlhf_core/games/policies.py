"""Policies over a game's responses: validation, the uniform policy, and policy files.

A policy is a probability vector over the ``n`` responses, one per context: the library
always holds a game's policies as ``(C, n)`` arrays, ``C = 1`` for a plain game
(:func:`context_rows`); only what is printed or saved drops the context axis of a plain
game (:func:`plain_view`). User-facing inputs are accepted as ``"uniform"``, a
list of numbers, a ``{label: probability}`` mapping, or a file (JSON list/mapping, or
CSV/text of numbers or ``label,probability`` lines). Every problem raises
:class:`~nlhf_core.errors.PolicyError` with one sentence naming it and the fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nlhf_core.errors import PolicyError
from nlhf_core.games.validation import format_apart

if TYPE_CHECKING:
    from nlhf_core.games.game import PreferenceGame

#: A policy's probabilities must add up to 1 within this tolerance (then renormalized).
SUM_TOLERANCE = 1e-6


def uniform(n: int) -> np.ndarray:
    """The uniform policy over ``n`` responses.

    Args:
        n: number of responses (>= 1).

    Returns:
        The vector ``(n,)`` with every entry ``1/n``.
    """
    return np.full(n, 1.0 / n)


def as_policy(
    spec: Any,
    labels: Sequence[str],
    *,
    what: str = "policy",
    full_support: bool = False,
) -> np.ndarray:
    """Validate one policy over ``labels`` and return it as a float vector summing to 1.

    ``spec`` is None/``"uniform"``, a sequence of ``n`` numbers, a ``{label: p}`` mapping,
    or a path to a policy file. With ``full_support`` every probability must be > 0.

    Args:
        spec: the policy as given (see above).
        labels: the game's ``n`` response labels (a mapping's keys and messages use them).
        what: how the policy is named in messages.
        full_support: require every probability to be > 0 (references of KL terms).

    Returns:
        The policy, shape ``(n,)``; renormalized when its sum is within :data:`SUM_TOLERANCE` of 1.

    Raises:
        PolicyError: a missing or unreadable file, unknown or missing labels, the wrong number of
            entries, an entry outside ``[0, 1]``, a sum away from 1, or a zero under ``full_support``.
    """
    n = len(labels)
    if spec is None or (isinstance(spec, str) and spec.strip().lower() == "uniform"):
        return uniform(n)
    if isinstance(spec, str | Path):
        spec = read_policy_file(spec, what)
    if isinstance(spec, Mapping):
        spec = _from_mapping(spec, labels, what)
    try:
        p = np.asarray(spec, dtype=float)
    except (TypeError, ValueError):
        raise PolicyError(f"The {what} must be a list of {n} probabilities (one per response); got {spec!r}.") from None
    if p.ndim != 1 or p.size != n:
        raise PolicyError(
            f"The {what} has {p.size} probabilities but the game has {n} responses; give one "
            f"per response ({_label_list(labels)})."
        )
    return _check_probabilities(p, labels, what, full_support)


def as_context_policies(
    spec: Any,
    game: PreferenceGame,
    *,
    what: str = "policy",
    full_support: bool = False,
) -> np.ndarray:
    """Policies of shape ``(C, n)``: one spec for every context, or one per context.

    A ``(C, n)`` array or a ``{context: policy}`` mapping gives one policy per context;
    anything :func:`as_policy` accepts is used for every context.

    Args:
        spec: one policy for all contexts, a ``(C, n)`` table, or ``{context: policy}``.
        game: the game the policies are over.
        what: how the policy is named in messages.
        full_support: require every probability to be > 0.

    Returns:
        The policies, shape ``(C, n)`` (``C = 1`` for a plain game).

    Raises:
        PolicyError: a context without a policy, the wrong number of rows, or any problem
            :func:`as_policy` reports (named with its context).
    """
    C = game.num_contexts
    if isinstance(spec, Mapping) and game.has_contexts and set(spec) <= set(game.contexts):
        missing = [c for c in game.contexts if c not in spec]
        if missing:
            raise PolicyError(f"The {what} gives nothing for context {missing[0]!r}; give one policy per context.")
        return np.stack(
            [
                as_policy(spec[c], game.labels, what=f"{what} of context {c!r}", full_support=full_support)
                for c in game.contexts
            ]
        )
    if not isinstance(spec, str | Path | Mapping | type(None)):
        arr = np.asarray(spec, dtype=object)
        if arr.ndim == 2:
            if arr.shape[0] != C:
                raise PolicyError(
                    f"The {what} has {arr.shape[0]} rows but the game has {C} context(s); give "
                    f"one policy per context, or a single policy for all."
                )
            return np.stack(
                [
                    as_policy(list(row), game.labels, what=f"{what} of context {k + 1}", full_support=full_support)
                    for k, row in enumerate(arr)
                ]
            )
    single = as_policy(spec, game.labels, what=what, full_support=full_support)
    return np.broadcast_to(single, (C, game.n)).copy()


def context_rows(policy: Any, game: PreferenceGame) -> np.ndarray:
    """A game's policy in the library's shape ``(C, n)`` (``C = 1`` for a plain game).

    Args:
        policy: ``(C, n)``, or a plain game's ``(n,)`` (as printed, or as an exact
            equilibrium of a plain game returns it).
        game: the game the policy is over.

    Returns:
        A float array of shape ``(game.num_contexts, game.n)``.
    """
    return np.reshape(np.asarray(policy, dtype=float), (game.num_contexts, game.n))


def plain_view(policies: np.ndarray, game: PreferenceGame) -> np.ndarray:
    """Policies ``(..., C, n)`` as printed and saved: a plain game's drop the context axis, ``(..., n)``.

    Args:
        policies: one policy ``(C, n)`` or a stack ``(..., C, n)``.
        game: the game they are over.

    Returns:
        ``policies`` itself for a contextual game; ``policies[..., 0, :]`` for a plain one.
    """
    policies = np.asarray(policies)
    return policies if game.has_contexts else policies[..., 0, :]


def as_reference(spec: Any, game: PreferenceGame) -> np.ndarray:
    """Reference policy ``mu`` of shape ``(C, n)``; every probability must be positive.

    Args:
        spec: the reference as given (anything :func:`as_context_policies` accepts; None is uniform).
        game: the game the reference is over.

    Returns:
        ``mu`` of shape ``(C, n)``, every entry positive.

    Raises:
        PolicyError: an invalid policy, or a response given probability 0.
    """
    return as_context_policies(spec, game, what="reference policy", full_support=True)


def read_policy_file(path: str | Path, what: str = "policy") -> Any:
    """Read a policy file: JSON (list, or mapping label -> p, or ``{"policy": ...}``) or CSV/text.

    Args:
        path: the policy file (``.json``, else read as CSV/text).
        what: how the policy is named in messages.

    Returns:
        The raw policy (a list of numbers or a ``{label: p}`` mapping), for :func:`as_policy` to validate.

    Raises:
        PolicyError: the file is missing, over 16 MiB, not UTF-8, invalid JSON, holds a token that
            is not a number, or mixes ``label,probability`` lines with bare numbers.
    """
    path = Path(path)
    if not path.is_file():
        raise PolicyError(
            f"There is no {what} file {str(path)!r}; give 'uniform' or the path of a file with "
            f"one probability per response."
        )
    if path.stat().st_size > 16 * 2**20:
        raise PolicyError(f"The {what} file {path.name!r} is larger than 16 MiB; it cannot be a policy.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise PolicyError(f"The {what} file {path.name!r} is not UTF-8 text.") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            raise PolicyError(
                f"The {what} file {path.name!r} is not valid JSON; give a list such as [0.2, 0.3, 0.5]."
            ) from None
        if isinstance(data, Mapping) and "policy" in data:
            data = data["policy"]
        return data
    return _parse_policy_text(text, path.name, what)


def _parse_policy_text(text: str, name: str, what: str) -> Any:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    pairs: dict[str, float] = {}
    numbers: list[float] = []
    for ln in lines:
        parts = [p.strip() for p in ln.replace("\t", ",").split(",") if p.strip()]
        if len(parts) == 2 and not _is_number(parts[0]) and _is_number(parts[1]):
            pairs[parts[0]] = float(parts[1])
            continue
        for token in (t for p in parts for t in p.split()):
            if not _is_number(token):
                raise PolicyError(
                    f"The {what} file {name!r} contains {token!r}, which is not a number; give "
                    f"one probability per response."
                )
            numbers.append(float(token))
    if pairs and numbers:
        raise PolicyError(f"The {what} file {name!r} mixes 'label,probability' lines with bare numbers; use one style.")
    return pairs if pairs else numbers


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _from_mapping(spec: Mapping[Any, Any], labels: Sequence[str], what: str) -> list[Any]:
    unknown = [k for k in spec if k not in labels]
    if unknown:
        raise PolicyError(
            f"The {what} names {unknown[0]!r}, which is not a response of this game; use the "
            f"labels {_label_list(labels)}."
        )
    missing = [k for k in labels if k not in spec]
    if missing:
        raise PolicyError(f"The {what} gives no probability for {missing[0]!r}; give one for every response.")
    return [spec[k] for k in labels]


def _check_probabilities(p: np.ndarray, labels: Sequence[str], what: str, full_support: bool) -> np.ndarray:
    bad = ~np.isfinite(p)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise PolicyError(f"The {what} gives {labels[k]!r} probability {p[k]}; enter a number between 0 and 1.")
    bad = (p < 0) | (p > 1)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise PolicyError(
            f"The {what} gives {labels[k]!r} probability {p[k]:g}; probabilities must be between 0 and 1."
        )
    total = float(p.sum())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise PolicyError(
            f"The {what} adds up to {format_apart(total, 1.0)}, not 1; rescale it so the probabilities sum to 1."
        )
    if full_support and (p <= 0).any():
        k = int(np.flatnonzero(p <= 0)[0])
        raise PolicyError(
            f"The {what} gives {labels[k]!r} probability 0, but every response needs positive "
            f"probability here (KL regularization and geometric mixtures cannot revive a zero); "
            f"mix in a little uniform mass."
        )
    return p if abs(total - 1.0) <= 1e-12 else p / total  # keep exact input when already normalized


def _label_list(labels: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(labels[:limit])
    return shown + (", ..." if len(labels) > limit else "")


def policy_to_text(p: np.ndarray) -> str:
    """Comma-separated probabilities (shortest exact form), for links.

    Args:
        p: a policy of any shape (flattened).

    Returns:
        ``"p1,p2,..."`` with each float in its ``repr`` form (round-trips exactly).
    """
    return ",".join(repr(float(v)) for v in np.ravel(p))


def policy_from_text(text: str, labels: Sequence[str], what: str = "policy") -> np.ndarray:
    """Parse :func:`policy_to_text` (or ``"uniform"``) and validate it as a policy.

    Args:
        text: ``"uniform"`` or comma-separated probabilities.
        labels: the game's ``n`` response labels.
        what: how the policy is named in messages.

    Returns:
        The policy, shape ``(n,)``.

    Raises:
        PolicyError: a token that is not a number, the wrong count, or an invalid policy.
    """
    if text.strip().lower() == "uniform":
        return uniform(len(labels))
    return as_policy([t.strip() for t in text.split(",")], labels, what=what)


def weights_from_text(text: str, labels: Sequence[str], what: str = "reference μ") -> np.ndarray:
    """A full-support policy from positive weights typed as text, normalized: ``μ(y) = w_y / Σ w``.

    Args:
        text: one weight per response, separated by commas or semicolons (e.g. ``"5, 70, 20, 5"``).
        labels: the game's response labels (their number is the number of weights expected).
        what: how the policy is named in error messages.

    Returns:
        The normalized policy ``(n,)``, every entry positive.

    Raises:
        PolicyError: a token that is not a number, the wrong number of weights, or a weight that is not
            positive and finite (a zero would be a response the reference never writes, which no
            KL-regularized method can revive).
    """
    tokens = [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]
    bad = next((t for t in tokens if not _is_number(t)), None)
    if bad is not None:
        raise PolicyError(f"The {what} contains {bad!r}, which is not a number; give comma-separated weights.")
    weights = np.array([float(t) for t in tokens])
    if len(weights) != len(labels) or not np.all(np.isfinite(weights)) or (weights <= 0).any():
        raise PolicyError(
            f"Give the {what} as {len(labels)} positive weights, one per response ({_label_list(labels)}); a zero "
            "would be a response the reference never writes, which no KL-regularized method can revive."
        )
    return weights / weights.sum()
