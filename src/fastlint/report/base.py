"""The base class every reporter shares."""

from __future__ import annotations

import os
import posixpath
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from fastlint.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from rich.console import Console

_PLAIN_WIDTH = 120  # files and pipes have no width; wide enough that tables are not squeezed


@dataclass
class ReportInput:
    """What a reporter receives: the sorted diagnostics and run facts."""

    diagnostics: list[Diagnostic]
    files: int
    version: str
    templates: int = 0  # Jinja template files skipped
    statistics: bool = False  # --statistics: the number of findings per code instead of them
    deployment: dict[str, Any] | None = None
    sources: dict[str, str] = field(default_factory=dict)  # display path → text, for snippets
    # Where CI formats anchor their paths: the repository's top level (else the project root)
    # and the working folder that display paths are relative to, both absolute POSIX paths.
    # None: display paths are used as they are.
    repo_root: str | None = None
    cwd: str | None = None
    compact: bool = False  # files passed (pre-commit, editors): no per-code table or panel

    def repo_path(self, display: str) -> str:
        """``display`` relative to the repository root, which GitHub maps to its files;
        a path outside the repository stays absolute."""
        if self.repo_root is None or self.cwd is None:
            return display
        absolute = posixpath.normpath(posixpath.join(self.cwd, display.replace("\\", "/")))
        relative = posixpath.relpath(absolute, self.repo_root)
        return absolute if relative == ".." or relative.startswith("../") else relative


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


def statistics_lines(diagnostics: list[Diagnostic]) -> list[str]:
    """``    2  FL403  debug-enabled``: the plain-text form of ``--statistics``."""
    return [f"{count:>5}  {code}  {name}\n" for code, name, count in counts_by_code(diagnostics)]


def statistics_records(diagnostics: list[Diagnostic]) -> list[dict[str, Any]]:
    """The ``--statistics`` rows as data (JSON), most frequent first."""
    severities: dict[str, set[str]] = {}
    for diagnostic in diagnostics:
        severities.setdefault(diagnostic.code, set()).add(diagnostic.severity.value)
    return [
        {"code": code, "name": name, "count": count, "severities": sorted(severities[code])}
        for code, name, count in counts_by_code(diagnostics)
    ]


def severity_counts(diagnostics: list[Diagnostic]) -> str:
    """``3 errors, 1 warning``: the findings per severity, most severe first."""
    by_severity = Counter(d.severity for d in diagnostics)
    return ", ".join(
        f"{by_severity[level]} {level.value}{'s' if by_severity[level] != 1 else ''}"
        for level in (Severity.ERROR, Severity.WARNING, Severity.INFO)
        if by_severity[level]
    )


def totals_line(report: ReportInput) -> str:
    """``Found 20 findings (11 errors, 6 warnings, 3 infos) in 9 of 15 files.``"""
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    skipped = (
        f" ({report.templates} template file{'s' if report.templates != 1 else ''} skipped)"
        if report.templates
        else ""
    )
    if not report.diagnostics:
        return f"No findings in {files}.{skipped}"
    total = len(report.diagnostics)
    with_findings = len({d.path for d in report.diagnostics})
    return (
        f"Found {total} finding{'s' if total != 1 else ''} "
        f"({severity_counts(report.diagnostics)}) in {with_findings} of {files}.{skipped}"
    )


def most_severe_code(diagnostics: list[Diagnostic]) -> str | None:
    """The code to read about first: the most severe, then the most frequent, then the lowest."""
    if not diagnostics:
        return None
    ranks: dict[str, int] = {}
    for diagnostic in diagnostics:
        ranks[diagnostic.code] = max(ranks.get(diagnostic.code, 0), diagnostic.severity.rank)
    counts = Counter(d.code for d in diagnostics)
    return min(ranks, key=lambda code: (-ranks[code], -counts[code], code))


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
