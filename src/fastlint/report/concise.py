"""``path:line:col: CODE [severity] message``, one finding a line (editors and grep parse it)."""

from __future__ import annotations

from fastlint.report.base import Reporter, ReportInput, statistics_lines


class ConciseReporter(Reporter):
    def write(self, report: ReportInput) -> None:
        if report.statistics:
            self.stream.writelines(statistics_lines(report.diagnostics))
            return
        for d in report.diagnostics:
            self.stream.write(
                f"{d.path}:{d.line}:{d.column}: {d.code} [{d.severity.value}] {d.message}\n"
            )


REPORTER = ConciseReporter
