"""``json``: the documented schema, stable key order, deployment only when known."""

from __future__ import annotations

import json

from report_samples import render, sample_diagnostics, sample_report

from fastlint.diagnostics import Diagnostic

DIAGNOSTIC_KEYS = [
    "code",
    "name",
    "severity",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "message",
    "fix",
]


def test_document_shape() -> None:
    document = json.loads(render("json", sample_report()))
    assert list(document) == ["version", "diagnostics", "summary"]
    assert document["version"] == "9.9.9"
    assert document["summary"] == {
        "files": 3,
        "files_with_findings": 2,
        "templates_skipped": 0,
        "diagnostics": 4,
        "by_code": {"FL401": 1, "FL403": 2, "FL501": 1},
    }
    first = document["diagnostics"][0]
    assert list(first) == DIAGNOSTIC_KEYS
    assert first == {
        "code": "FL403",
        "name": "debug-enabled",
        "severity": "warning",
        "path": "app.py",
        "line": 3,
        "column": 21,
        "end_line": 3,
        "end_column": 25,
        "message": "FastAPI(debug=True) leaks tracebacks; turn debug off.",
        "fix": "remove debug=True",
    }
    assert document["diagnostics"][1]["fix"] is None


def test_round_trip() -> None:
    document = json.loads(render("json", sample_report()))
    assert [Diagnostic.from_dict(d) for d in document["diagnostics"]] == sample_diagnostics()


def test_deployment_included_only_when_known() -> None:
    deployment = {"server": "gunicorn", "workers": 4}
    document = json.loads(render("json", sample_report(deployment=deployment)))
    assert document["deployment"] == deployment
    assert "deployment" not in json.loads(render("json", sample_report()))


def test_clean_run() -> None:
    document = json.loads(render("json", sample_report(diagnostics=[], files=2)))
    assert document["diagnostics"] == []
    assert document["summary"] == {
        "files": 2,
        "files_with_findings": 0,
        "templates_skipped": 0,
        "diagnostics": 0,
        "by_code": {},
    }


def test_statistics_are_the_counts_instead_of_the_findings() -> None:
    document = json.loads(render("json", sample_report(statistics=True)))
    assert document == [
        {"code": "FL403", "name": "debug-enabled", "count": 2, "severities": ["warning"]},
        {"code": "FL401", "name": "cors-wildcard", "count": 1, "severities": ["error"]},
        {"code": "FL501", "name": "docker-root", "count": 1, "severities": ["info"]},
    ]
