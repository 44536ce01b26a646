"""Procfile: ``name: command`` lines (Heroku, Dokku, foreman, honcho)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)\s*:\s*(?P<command>.*\S)\s*$")


@dataclass(frozen=True)
class ProcfileEntry:
    name: str  # process type: web, worker, release ...
    command: str  # a shell command line (run with ``sh -c``)
    line: int  # 1-based


def procfile_entries(unit: Any) -> list[ProcfileEntry]:
    """The process types of a Procfile unit, in order; comments and blank lines skipped."""
    entries: list[ProcfileEntry] = []
    for number, raw in enumerate(unit.lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ENTRY.match(stripped)
        if match:
            entries.append(ProcfileEntry(match.group("name"), match.group("command"), number))
    return entries
