"""``path:line:col: CODE [severity] message``, one finding a line (editors and grep parse it)."""

from __future__ import annotations

from fastlint.report.base import Reporter, ReportInput, counts_by_code


class ConciseReporter(Reporter):
    def write(self, report: ReportInput) -> None:
        for d in report.diagnostics:
            self.stream.write(
                f"{d.path}:{d.line}:{d.column}: {d.code} [{d.severity.value}] {d.message}\n"
            )
        if report.statistics:
            for code, name, count in counts_by_code(report.diagnostics):
                self.stream.write(f"{count:>5}  {code}  {name}\n")


REPORTER = ConciseReporter
