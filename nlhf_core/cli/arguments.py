"""Arguments several ``nlhf`` commands share, and the parsing of the ones argparse cannot type.

Library errors name the library's parameters; the helpers here put the command-line flag in
front of them, so ``nlhf sweep --eta 1:2`` reports ``--eta '1:2' ...``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TypeAlias, TypeVar

from nlhf_core.algorithms.sweep import parse_grid
from nlhf_core.errors import ParameterError

#: Exit status for bad input (argparse's own errors included); 1 is kept for internal errors.
EXIT_BAD_INPUT = 2


class CommandParser(argparse.ArgumentParser):
    """argparse with one-sentence errors and exit code 2: the parser of ``nlhf`` and of each command."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"error: {message[0].upper()}{message[1:]}; see `{self.prog} --help`.\n")


#: What ``CommandParser.add_subparsers`` returns; every command module registers itself on it.
Subparsers: TypeAlias = "argparse._SubParsersAction[CommandParser]"

GAME_HELP = "a .csv or .json file, or preset:NAME (see `nlhf presets`)"
SAMPLING_HELP = "pairs shown to annotators: uniform (default), reference, or a policy/pair-matrix file"
REFERENCE_HELP = "reference policy: 'uniform' (default) or a file"


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """``--json``: print one JSON object on stdout instead of tables (every command has it)."""
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def add_game_argument(parser: argparse.ArgumentParser, help: str = GAME_HELP) -> None:
    """The positional ``GAME``: a ``.csv``/``.json`` file or ``preset:NAME`` (read with ``open_game``)."""
    parser.add_argument("game", metavar="GAME", help=help)


def add_reference_argument(parser: argparse.ArgumentParser, help: str = REFERENCE_HELP) -> None:
    """``--reference REF``: the reference policy ``mu``, ``'uniform'`` or a file."""
    parser.add_argument("--reference", metavar="REF", help=help)


def add_baseline_arguments(parser: argparse.ArgumentParser) -> None:
    """``GAME``, ``--tau`` (required), ``--sampling`` and ``--reference``: what an RLHF baseline is computed from."""
    add_game_argument(parser)
    parser.add_argument("--tau", type=float, required=True, help="KL-regularization strength")
    parser.add_argument("--sampling", metavar="S", help=SAMPLING_HELP)
    add_reference_argument(parser)


def add_param_argument(parser: argparse.ArgumentParser, help: str = "any other solver parameter") -> None:
    """``--param NAME=VALUE`` (repeatable): any parameter without a flag of its own; read with :func:`parse_params`."""
    parser.add_argument("--param", action="append", metavar="NAME=VALUE", help=help)


def add_iterations_argument(parser: argparse.ArgumentParser, default: int, what: str = "number of iterations") -> None:
    """``--iterations/-n``: how long each solver runs."""
    parser.add_argument("--iterations", "-n", type=int, default=default, help=f"{what} (default {default})")


def add_config_arguments(parser: argparse.ArgumentParser, *, out_help: str, set_help: str) -> None:
    """``--config``, ``--out``, ``--set`` and ``--game``: how ``train`` and ``study`` pick their settings."""
    parser.add_argument(
        "--config", "-c", metavar="NAME|FILE.toml", help="built-in config (default, smoke) or a TOML file"
    )
    parser.add_argument("--out", "-o", metavar="DIR", help=out_help)
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help=set_help)
    parser.add_argument("--game", help=f"shortcut for --set task.game=... ({GAME_HELP})")


def parse_params(items: Sequence[str] | None) -> list[tuple[str, str]]:
    """The ``--param NAME=VALUE`` items as ``(name, value)`` pairs, stripped.

    Args:
        items: the repeated ``--param`` values (None when the flag was not given).

    Returns:
        One pair per item, in order; the values stay text (the registry validates them).

    Raises:
        ParameterError: an item has no ``=`` or no name.
    """
    out = []
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--param {item!r} is not NAME=VALUE; write e.g. --param eta=0.5.")
        out.append((key.strip(), value.strip()))
    return out


def parse_grid_flag(text: str, name: str) -> list[float]:
    """``--NAME a:b:k`` as the grid :func:`~nlhf_core.algorithms.sweep.parse_grid` reads, errors naming the flag.

    Args:
        text: the flag's value, ``"a:b:k"`` or one number.
        name: the flag without its dashes (``eta`` or ``tau``).

    Returns:
        The grid's values.

    Raises:
        ParameterError: the value is not a grid; the message starts with ``--NAME 'text'``.
    """
    return parse_grid(text, what=f"--{name}")


Number = TypeVar("Number", int, float)


def parse_numbers(text: str | None, kind: Callable[[str], Number], what: str) -> list[Number] | None:
    """``--WHAT a,b,c`` as numbers read by ``kind`` (None when the flag was not given)."""
    if text is None:
        return None
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ParameterError(
            f"--{what} {text!r} is not a comma-separated list of numbers; e.g. --{what} 0,1."
        ) from None
