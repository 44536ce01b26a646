"""Machine-readable JSON: every diagnostic plus a summary (and the deployment model);
with ``--statistics``, the list of per-code counts instead."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from fastlint.report.base import Reporter, ReportInput, statistics_records


class JsonReporter(Reporter):
    def write(self, report: ReportInput) -> None:
        document: Any
        if report.statistics:
            document = statistics_records(report.diagnostics)
        else:
            document = _document(report)
        json.dump(document, self.stream, indent=2, sort_keys=False)
        self.stream.write("\n")


def _document(report: ReportInput) -> dict[str, Any]:
    by_code = Counter(d.code for d in report.diagnostics)
    document: dict[str, Any] = {
        "version": report.version,
        "diagnostics": [d.to_dict() for d in report.diagnostics],
        "summary": {
            "files": report.files,
            "files_with_findings": len({d.path for d in report.diagnostics}),
            "templates_skipped": report.templates,
            "diagnostics": len(report.diagnostics),
            "by_code": dict(sorted(by_code.items())),
        },
    }
    if report.deployment is not None:
        document["deployment"] = report.deployment
    return document


REPORTER = JsonReporter
