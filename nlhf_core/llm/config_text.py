"""A configuration as text: TOML that round-trips through :func:`~nlhf_core.llm.config.load_config`
(each key's help as a comment, as written to a run's ``config.toml``) and the ``--help-config`` listing."""

from __future__ import annotations

import json
from typing import Any

from nlhf_core.llm.config import SECTIONS, TrainingConfig
from nlhf_core.llm.settings import field_specs


def toml_value(value: Any) -> str:
    """``value`` (a bool, number, string or list of them) written as a TOML literal, e.g. ``true`` or ``["a", "b"]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


def to_toml(config: TrainingConfig) -> str:
    """The configuration as TOML, with each key's help as a comment (round-trips through :func:`load_config`)."""
    lines = []
    for name, cls in SECTIONS.items():
        lines.append(f"[{name}]")
        section = getattr(config, name)
        for spec in field_specs(cls):
            lines.append(f"{spec.name} = {toml_value(getattr(section, spec.name))}  # {spec.param.description}")
        lines.append("")
    return "\n".join(lines)


def help_config() -> str:
    """Every setting with its default and help, one per line (``nlhf train --help-config``)."""
    return "\n".join(
        f"{name}.{spec.name} = {toml_value(spec.default)}    {spec.param.description}"
        for name, cls in SECTIONS.items()
        for spec in field_specs(cls)
    )
