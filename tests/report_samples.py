"""A small, fixed report for the reporter tests: several files, severities and tricky text."""

from __future__ import annotations

import io
from typing import Any

from fastlint.diagnostics import Diagnostic, Severity
from fastlint.report import get_reporter
from fastlint.report.base import ReportInput

APP = (
    "from fastapi import FastAPI\n"
    "\n"
    "app = FastAPI(debug=True)\n"
    "if True:\n"
    "\tx = FastAPI(\n"
    "\t\tdebug=True)\n"
)
DOCKERFILE = "FROM python:3.12-slim\nCMD uvicorn app:app\n"


def diag(
    code: str,
    severity: Severity,
    path: str,
    span: tuple[int, int, int, int],
    message: str,
    fix: str | None = None,
    name: str = "some-rule",
) -> Diagnostic:
    line, column, end_line, end_column = span
    return Diagnostic(code, name, severity, path, line, column, end_line, end_column, message, fix)


def sample_diagnostics() -> list[Diagnostic]:
    """Sorted like the engine sorts them (path, line, column, code)."""
    found = [
        diag(
            "FL403",
            Severity.WARNING,
            "app.py",
            (3, 21, 3, 25),
            "FastAPI(debug=True) leaks tracebacks; turn debug off.",
            fix="remove debug=True",
            name="debug-enabled",
        ),
        # A tab-indented, two-line span: carets must follow the tab expansion.
        diag(
            "FL403",
            Severity.WARNING,
            "app.py",
            (6, 3, 6, 13),
            "second [debug] finding",
            name="debug-enabled",
        ),
        diag(
            "FL401",
            Severity.ERROR,
            "app.py",
            (5, 6, 6, 14),
            "100% wildcard: any site, with credentials\nsecond line",
            name="cors-wildcard",
        ),
        diag(
            "FL501",
            Severity.INFO,
            "dir, with: comma/Dockerfile",
            (2, 1, 2, 20),
            "CMD runs as root.",
            name="docker-root",
        ),
    ]
    return sorted(found, key=Diagnostic.sort_key)


def sample_report(**changes: Any) -> ReportInput:
    values: dict[str, Any] = {
        "diagnostics": sample_diagnostics(),
        "files": 3,
        "version": "9.9.9",
        "sources": {"app.py": APP, "dir, with: comma/Dockerfile": DOCKERFILE},
    }
    values.update(changes)
    return ReportInput(**values)


def render(fmt: str, report: ReportInput, color: bool = False, quiet: bool = False) -> str:
    stream = io.StringIO()
    reporter = get_reporter(fmt)(stream, color=color)
    reporter.quiet = quiet
    reporter.write(report)
    return stream.getvalue()
