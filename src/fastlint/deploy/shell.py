"""Shell scripts (entrypoints, start scripts): their simple commands, split once per script."""

from __future__ import annotations

from typing import Any

from fastlint.deploy.commands import SimpleCommand, split_script

_CACHE_ATTRIBUTE = "_fastlint_commands"


def script_commands(unit: Any) -> list[SimpleCommand]:
    """Every simple command of a script unit (a ``TextUnit``), cached on the unit."""
    cached = getattr(unit, _CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = split_script(unit.text)
        setattr(unit, _CACHE_ATTRIBUTE, cached)
    return list(cached)


def line_text(unit: Any, line: int) -> str:
    """The text of a 1-based line of a line-oriented unit ("" when out of range)."""
    lines = unit.lines
    return lines[line - 1] if 0 < line <= len(lines) else ""
