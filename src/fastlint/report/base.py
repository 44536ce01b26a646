"""The base class every reporter shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from fastlint.diagnostics import Diagnostic


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
    """Writes one report; ``color`` is decided by the CLI (TTY, NO_COLOR, --color)."""

    def __init__(self, stream: IO[str], color: bool = False) -> None:
        self.stream = stream
        self.color = color

    def write(self, report: ReportInput) -> None:
        raise NotImplementedError
