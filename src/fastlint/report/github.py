"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request.

``::error file=app/main.py,line=3,col=7,endLine=3,endColumn=20,title=fastlint FL403::message``

Paths are relative to the repository root (GitHub resolves them against the checkout, not the
step's working folder). A closing ``::notice`` carries the totals: GitHub shows only the first
annotations of a step, so the count must not depend on them.
"""

from __future__ import annotations

from fastlint.diagnostics import Diagnostic, Severity
from fastlint.report.base import Reporter, ReportInput, statistics_lines, totals_line

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


class GithubReporter(Reporter):
    def write(self, report: ReportInput) -> None:
        if report.statistics:
            # Plain lines land in the job log.
            self.stream.writelines(statistics_lines(report.diagnostics))
            return
        for diagnostic in report.diagnostics:
            self.stream.write(annotation(diagnostic, report.repo_path(diagnostic.path)) + "\n")
        if not self.quiet:
            self.stream.write(f"::notice title=fastlint::{escape_data(totals_line(report))}\n")


def annotation(diagnostic: Diagnostic, path: str | None = None) -> str:
    properties = {"file": path if path is not None else diagnostic.path}
    properties["line"] = str(diagnostic.line)
    # GitHub's rule: columns only for a one-line span (it drops them otherwise).
    one_line = diagnostic.end_line <= diagnostic.line
    if one_line:
        properties["col"] = str(diagnostic.column)
    properties["endLine"] = str(max(diagnostic.end_line, diagnostic.line))
    if one_line:
        properties["endColumn"] = str(max(diagnostic.end_column, diagnostic.column))
    properties["title"] = f"fastlint {diagnostic.code}"
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    command = COMMANDS[diagnostic.severity]
    return f"::{command} {rendered}::{escape_data(diagnostic.message)}"


def escape_data(text: str) -> str:
    """Escape a command's message (GitHub's toolkit: ``%``, CR and LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: the message escapes plus ``:`` and ``,``, which delimit
    properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


REPORTER = GithubReporter
