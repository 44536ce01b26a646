"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request.

``::error file=app/main.py,line=3,col=7,endLine=3,endColumn=20,title=fastlint FL403::message``
"""

from __future__ import annotations

from fastlint.diagnostics import Diagnostic, Severity
from fastlint.report.base import Reporter, ReportInput, counts_by_code

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


class GithubReporter(Reporter):
    def write(self, report: ReportInput) -> None:
        for diagnostic in report.diagnostics:
            self.stream.write(annotation(diagnostic) + "\n")
        if report.statistics:
            # Plain lines land in the job log beside the annotations.
            for code, name, count in counts_by_code(report.diagnostics):
                self.stream.write(f"{count:>5}  {code}  {name}\n")


def annotation(diagnostic: Diagnostic) -> str:
    properties = {
        "file": diagnostic.path,
        "line": str(diagnostic.line),
        "col": str(diagnostic.column),
        "endLine": str(diagnostic.end_line),
        "endColumn": str(diagnostic.end_column),
        "title": f"fastlint {diagnostic.code}",
    }
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
