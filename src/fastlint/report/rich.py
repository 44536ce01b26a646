"""The default, human report: findings grouped by file with a source snippet and caret,
then a per-code summary table and, when known, the deployment model.

Rich is imported here only, and this module only when ``--format rich`` is chosen.
"""

from __future__ import annotations

import re
import textwrap
from collections import defaultdict
from typing import Any

from rich import box
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from fastlint.diagnostics import Diagnostic, Severity
from fastlint.report.base import (
    Reporter,
    ReportInput,
    console_for,
    counts_by_code,
    most_severe_code,
    totals_line,
)

SEVERITY_STYLES = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "bold yellow",
    Severity.INFO: "bold cyan",
}
_MAX_SNIPPET_LINES = 4  # a finding spanning a whole function shows its first lines only
_TAB_SIZE = 4


class RichReporter(Reporter):
    def write(self, report: ReportInput) -> None:
        console = console_for(self.stream, self.color)
        if report.statistics:
            # --statistics: the counts instead of the findings, as in every format.
            if report.diagnostics:
                console.print(summary_table(report.diagnostics))
            self._close(console, report)
            return
        by_path: dict[str, list[Diagnostic]] = defaultdict(list)
        for diagnostic in report.diagnostics:
            by_path[diagnostic.path].append(diagnostic)
        for path, diagnostics in by_path.items():
            console.print(Text(path, style="bold underline"))
            lines = _source_lines(report.sources.get(path))
            for diagnostic in diagnostics:
                width = console.width if self.color else None
                for part in finding_parts(diagnostic, lines, width):
                    # Plain output never wraps: one message per line stays greppable and
                    # carets stay under the characters they mark.
                    console.print(part, soft_wrap=not self.color)
                console.print()
        if not self.quiet and not report.compact and report.diagnostics:
            console.print(summary_table(report.diagnostics))
        self._close(console, report)

    def _close(self, console: Any, report: ReportInput) -> None:
        """Totals, the page to read first and (unless compact) the deployment model."""
        if self.quiet:
            return
        style = "bold" if report.diagnostics else "bold green"
        console.print(Text(totals_line(report), style=style))
        code = most_severe_code(report.diagnostics)
        if code is not None:
            console.print(Text(f"Why and how to fix: fastlint --explain {code}", style="dim"))
        if report.deployment and not report.compact and not report.statistics:
            console.print(deployment_panel(report.deployment))
            units = report.deployment.get("units")
            if isinstance(units, list) and units:
                console.print(units_table(units))


def _source_lines(text: str | None) -> list[str]:
    return text.splitlines() if text is not None else []


def finding_parts(diagnostic: Diagnostic, lines: list[str], width: int | None = None) -> list[Text]:
    """Header, message, snippet with carets and fix hint of one finding, in print order;
    with a ``width`` (a terminal) the message wraps under its first character."""
    style = SEVERITY_STYLES[diagnostic.severity]
    head = Text()
    head.append(f"{diagnostic.path}:{diagnostic.line}:{diagnostic.column}: ", style="bold")
    head.append(diagnostic.severity.value, style=style)
    head.append(" ")
    head.append(diagnostic.code, style="bold")
    head.append(f" {diagnostic.name}", style="dim")
    message = diagnostic.message
    if width is not None:
        message = "\n".join(textwrap.wrap(message, max(width - 2, 20)))
    parts = [head, Text(textwrap.indent(message, "  "))]
    for line in snippet(diagnostic, lines, style):
        line.no_wrap, line.overflow = True, "ellipsis"
        parts.append(line)
    if diagnostic.fix and not repeats_message(diagnostic.fix, diagnostic.message):
        fix = Text()
        fix.append("  = fix: ", style="bold green")
        fix.append(diagnostic.fix)
        parts.append(fix)
    return parts


_WORD = re.compile(r"[a-z0-9_]+")
# Words that say how to change something rather than what: "remove X" repeats a message that
# ends "...; drop X" as much as "X" alone does.
_VERBS_AND_GLUE = frozenset(
    (  # noqa: SIM905  (a word list reads best as words)
        "a an and as at by for from in into it of on or the to with add use remove move set pass "
        "drop put write replace make call switch keep run"
    ).split()
)


def repeats_message(fix: str, message: str) -> bool:
    """Whether the fix hint says nothing the message does not already say: at least half of
    its content words appear in the message (whose last clause is, by house style, the fix)."""
    said = set(_WORD.findall(message.lower()))
    words = [w for w in _WORD.findall(fix.lower()) if w not in _VERBS_AND_GLUE]
    if not words:
        return True
    return sum(word in said for word in words) * 2 >= len(words)


def snippet(diagnostic: Diagnostic, lines: list[str], style: str = "") -> list[Text]:
    """The reported source lines, each followed by a caret line under the reported columns."""
    first = diagnostic.line
    if not lines or not 1 <= first <= len(lines):
        return []
    last = min(max(diagnostic.end_line, first), len(lines), first + _MAX_SNIPPET_LINES - 1)
    gutter = len(str(last))
    rendered: list[Text] = []
    for number in range(first, last + 1):
        raw = lines[number - 1]
        start = diagnostic.column if number == first else _first_non_space(raw)
        end = diagnostic.end_column if number == diagnostic.end_line else len(raw) + 1
        source = _gutter(f"  {number:>{gutter}} | ")
        source.append(raw.expandtabs(_TAB_SIZE))
        rendered.append(source)
        left, width = _caret_span(raw, start, end)
        caret = _gutter(f"  {'':>{gutter}} | ")
        caret.append(" " * left + "^" * width, style=style)
        rendered.append(caret)
    if last < diagnostic.end_line:
        rendered.append(_gutter(f"  {'':>{gutter}} | ..."))
    return rendered


def _gutter(text: str) -> Text:
    line = Text()
    line.append(text, style="blue")
    return line


def _first_non_space(line: str) -> int:
    return len(line) - len(line.lstrip()) + 1


def _caret_span(line: str, start: int, end: int) -> tuple[int, int]:
    """(spaces before the caret, caret width) for 1-based columns [start, end) of ``line``,
    measured after tab expansion so the caret sits under the characters it marks."""
    start = min(max(start, 1), len(line) + 1)
    end = min(max(end, start + 1), len(line) + 1)
    left = len(line[: start - 1].expandtabs(_TAB_SIZE))
    right = len(line[: end - 1].expandtabs(_TAB_SIZE))
    return left, max(right - left, 1)


def summary_table(diagnostics: list[Diagnostic]) -> Table:
    """Count, severity and name per code; most frequent first."""
    severities: dict[str, set[Severity]] = defaultdict(set)
    for diagnostic in diagnostics:
        severities[diagnostic.code].add(diagnostic.severity)
    table = Table(
        title="Findings by rule", title_justify="left", box=box.SIMPLE_HEAD, highlight=False
    )
    table.add_column("Count", justify="right")
    table.add_column("Code")
    table.add_column("Severity")
    table.add_column("Name")
    for code, name, count in counts_by_code(diagnostics):
        ordered = sorted(severities[code], key=lambda s: -s.rank)
        severity = Text()
        for index, level in enumerate(ordered):
            if index:
                severity.append("/")
            severity.append(level.value, style=SEVERITY_STYLES[level])
        table.add_row(str(count), code, severity, name)
    return table


def deployment_panel(deployment: dict[str, Any]) -> Panel:
    """The deployment model as key/value rows; nested values are flattened one level down."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in deployment.items():
        if key != "units":  # a table of its own, below
            grid.add_row(_label(key), _value_text(value))
    return Panel(grid, title="Deployment", title_align="left", expand=False)


# Columns of the units table: (title, key of a unit's summary).
_UNIT_COLUMNS = (
    ("Unit", "unit"),
    ("Image / stage", "stage"),
    ("Start command", "start_command"),
    ("Workers", "workers"),
    ("CPU limit", "cpu_limit"),
    ("Replicas", "replicas"),
    ("User", "user"),
)


def units_table(units: list[Any]) -> Table:
    """Every deployed unit (Dockerfile stage, Procfile process, compose service, Kubernetes
    container) on one row, with what decides its process count and privileges."""
    table = Table(title="Deployed units", title_justify="left", header_style="bold")
    for title, _ in _UNIT_COLUMNS:
        table.add_column(title, overflow="fold")
    for unit in units:
        if not isinstance(unit, dict):
            continue
        cells = []
        for _, key in _UNIT_COLUMNS:
            value = unit.get(key)
            if key == "stage" and value is None:
                value = unit.get("image")
            text = "-" if value is None else _format_value(value)
            if key == "unit" and unit.get("development"):
                text += " (development)"
            cells.append(text)
        table.add_row(*cells)
    return table


def _label(key: Any) -> str:
    text = str(key).replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def _value_text(value: Any) -> Text:
    return Text(_format_value(value))


def _format_value(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return "\n".join(f"{_label(k).lower()}: {_format_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if not value:
            return "none"
        if all(not isinstance(item, (dict, list, tuple)) for item in value):
            return ", ".join(_format_value(item) for item in value)
        return "\n".join(_format_value(item) for item in value)
    return str(value)


REPORTER = RichReporter
