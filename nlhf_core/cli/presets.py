"""``nlhf presets``: the built-in games, each with the story that explains its preferences."""

from __future__ import annotations

import argparse

from nlhf_core.cli.arguments import Subparsers, add_json_flag
from nlhf_core.cli.output import emit_json
from nlhf_core.games.presets import list_presets


def add_parser(subparsers: Subparsers) -> None:
    """Register ``presets`` on the ``nlhf`` subparsers."""
    parser = subparsers.add_parser("presets", help="list the preset games")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> None:
    """Print every preset: ``preset:NAME``, its size and contexts, and its story."""
    presets = list_presets()
    if args.json:
        emit_json(
            {
                "presets": [
                    {"name": p.name, "labels": list(p.labels), "contexts": list(p.contexts), "story": p.story}
                    for p in presets
                ]
            }
        )
        return
    for p in presets:
        ctx = f", contexts: {', '.join(p.contexts)}" if p.contexts else ""
        print(f"preset:{p.name}  ({len(p.labels)} responses{ctx})")
        print(f"    {p.story}\n")
