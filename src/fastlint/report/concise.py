"""``path:line:col: CODE [severity] message``, one finding a line."""

from __future__ import annotations

from fastlint.report.base import Reporter, ReportInput


class ConciseReporter(Reporter):
    def write(self, report: ReportInput) -> None:
        for d in report.diagnostics:
            self.stream.write(
                f"{d.path}:{d.line}:{d.column}: {d.code} [{d.severity.value}] {d.message}\n"
            )


REPORTER = ConciseReporter
