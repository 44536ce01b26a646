"""The base class every reporter shares."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from fastlint.diagnostics import Diagnostic

if TYPE_CHECKING:
    from rich.console import Console

_PLAIN_WIDTH = 120  # files and pipes have no width; wide enough that tables are not squeezed


@dataclass
class ReportInput:
    """What a reporter receives: the sorted diagnostics and run facts."""

    diagnostics: list[Diagnostic]
    files: int
    version: str
    statistics: bool = False
    deployment: dict[str, Any] | None = None
    sources: dict[str, str] = field(default_factory=dict)  # display path → text, for snippets


class Reporter:
    """Writes one report; ``color`` is decided by the CLI (TTY, NO_COLOR, --color).

    ``quiet`` (set by the CLI after construction) asks for findings only, no summary; formats
    without a summary ignore it.
    """

    quiet = False

    def __init__(self, stream: IO[str], color: bool = False) -> None:
        self.stream = stream
        self.color = color

    def write(self, report: ReportInput) -> None:
        raise NotImplementedError


def counts_by_code(diagnostics: list[Diagnostic]) -> list[tuple[str, str, int]]:
    """(code, name, count) per code, most frequent first, then by code: the statistics."""
    counts = Counter(d.code for d in diagnostics)
    names = {d.code: d.name for d in diagnostics}
    return [
        (code, names[code], count)
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def console_for(stream: IO[str], color: bool) -> Console:
    """A Rich console on ``stream``: ANSI styles only when ``color``; otherwise plain text,
    as wide as the terminal if there is one, else $COLUMNS or 120 columns."""
    from rich.console import Console

    if color:
        return Console(file=stream, force_terminal=True, highlight=False, emoji=False)
    width = None
    if not (hasattr(stream, "isatty") and stream.isatty()):
        columns = os.environ.get("COLUMNS", "")
        width = max(int(columns), 40) if columns.isdigit() else _PLAIN_WIDTH
    return Console(
        file=stream,
        force_terminal=False,
        no_color=True,
        color_system=None,
        highlight=False,
        emoji=False,
        width=width,
    )
