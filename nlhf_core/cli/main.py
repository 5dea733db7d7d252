"""The ``nlhf`` command line: JSON for scripts, readable tables for people.

Contract: ``GAME`` is a ``.csv``, a ``.json`` or ``preset:NAME``; with ``--json`` every command
prints one JSON object on stdout; errors go to stderr as one sentence with a non-zero exit
(2 for bad input, 1 for an internal error) and never a traceback (set ``NLHF_DEBUG=1`` to see one).

Each command is one module of this package with ``add_parser(subparsers)`` and ``run(args)``;
adding a command means writing that module and listing it in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Protocol

from nlhf_core.cli import (
    algorithms,
    compare,
    equilibrium,
    feedback,
    pg,
    presets,
    rlhf,
    solve,
    study,
    sweep,
    train,
)
from nlhf_core.cli.arguments import EXIT_BAD_INPUT, CommandParser, Subparsers
from nlhf_core.errors import NLHFError

EXIT_INTERNAL = 1


class Command(Protocol):
    """What every command module provides."""

    def add_parser(self, subparsers: Subparsers) -> None:
        """Register the command (its name, help and arguments) on the ``nlhf`` subparsers."""

    def run(self, args: argparse.Namespace) -> None:
        """Carry the command out; bad input raises an :class:`~nlhf_core.errors.NLHFError`."""


#: The commands, in the order ``nlhf --help`` lists them.
COMMANDS: dict[str, Command] = {
    "presets": presets,
    "algorithms": algorithms,
    "equilibrium": equilibrium,
    "solve": solve,
    "rlhf": rlhf,
    "compare": compare,
    "sweep": sweep,
    "feedback": feedback,
    "train": train,
    "study": study,
    "pg": pg,
}


def build_parser() -> argparse.ArgumentParser:
    """The ``nlhf`` argument parser: one subcommand per module in :data:`COMMANDS`."""
    parser = CommandParser(
        prog="nlhf",
        description="Nash Learning from Human Feedback: preference games, equilibria and solvers.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    subparsers.required = True
    for command in COMMANDS.values():
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nlhf`` console script.

    Args:
        argv: the arguments after ``nlhf`` (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0, 2 for bad input (one sentence on stderr), 1 for an internal error, 130 on Ctrl-C.
    """
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command].run(args)
    except NLHFError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError:
        print(
            "error: this input needs more memory than the machine has; use a smaller game or fewer samples.",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # one sentence, never a traceback, unless debugging
        if os.environ.get("NLHF_DEBUG"):
            raise
        print(
            f"error: internal error ({type(err).__name__}: {err}); please report it with the command "
            f"you ran (NLHF_DEBUG=1 shows the traceback).",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return 0


if __name__ == "__main__":
    sys.exit(main())
