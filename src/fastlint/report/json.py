"""Machine-readable JSON: every diagnostic plus a summary (and the deployment model)."""

from __future__ import annotations

import json
from collections import Counter

from fastlint.report.base import Reporter, ReportInput


class JsonReporter(Reporter):
    def write(self, report: ReportInput) -> None:
        by_code = Counter(d.code for d in report.diagnostics)
        document = {
            "version": report.version,
            "diagnostics": [d.to_dict() for d in report.diagnostics],
            "summary": {
                "files": report.files,
                "diagnostics": len(report.diagnostics),
                "by_code": dict(sorted(by_code.items())),
            },
        }
        if report.deployment is not None:
            document["deployment"] = report.deployment
        json.dump(document, self.stream, indent=2, sort_keys=False)
        self.stream.write("\n")


REPORTER = JsonReporter
