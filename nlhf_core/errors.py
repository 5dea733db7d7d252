"""Error types whose message is one sentence that names the problem and the fix.

The command line and the app show ``str(error)`` to the user as it is, so every
message raised with these classes must be a complete, polite sentence.
"""

from __future__ import annotations


class NLHFError(ValueError):
    """Base class for every user-facing error of ``nlhf_core``."""


class GameValidationError(NLHFError):
    """A preference game (matrix, labels, contexts or file) is not valid."""


class PolicyError(NLHFError):
    """A policy, reference or initial distribution is not a valid probability vector."""


class ParameterError(NLHFError):
    """A solver parameter (``tau``, ``eta``, iterations, ...) is out of its valid range."""


class SolverError(NLHFError):
    """A solver could not certify its answer; the message says what to try instead."""


class BudgetError(NLHFError):
    """A request would compute longer than the app allows; the message says what to lower."""
