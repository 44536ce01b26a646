"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Every registered rule is described in ``tool.driver.rules`` (so a viewer can show a rule's help
even for rules with no result in this run); each rule's help is its page from ``rules/``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastlint import pages, registry
from fastlint.diagnostics import Diagnostic, Severity
from fastlint.registry import RuleMeta
from fastlint.report.base import Reporter, ReportInput

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


class SarifReporter(Reporter):
    def write(self, report: ReportInput) -> None:
        json.dump(sarif_log(report), self.stream, indent=2)
        self.stream.write("\n")


def sarif_log(report: ReportInput) -> dict[str, Any]:
    metas = registry.all_metas()
    index = {meta.code: position for position, meta in enumerate(metas)}
    driver: dict[str, Any] = {
        "name": "fastlint",
        "version": report.version,
        "semanticVersion": report.version,
        "rules": [rule_descriptor(meta) for meta in metas],
    }
    if pages.home_url() is not None:
        driver["informationUri"] = pages.home_url()
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        # Columns count code points (LibCST and the line-based front ends), not UTF-16 units.
        "columnKind": "unicodeCodePoints",
        "results": [_result(d, index) for d in report.diagnostics],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def rule_descriptor(meta: RuleMeta) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": meta.code,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "defaultConfiguration": {"level": LEVELS[meta.severity]},
        "properties": {"tags": ["fastlint", meta.front_end], "precision": "high"},
    }
    help_uri = pages.page_url(meta.code)
    if help_uri is not None:
        descriptor["helpUri"] = help_uri
    try:
        page = pages.load_page(meta.code)
    except LookupError:  # a rule without a page still gets a usable descriptor
        descriptor["fullDescription"] = {"text": meta.summary}
        descriptor["help"] = {"text": meta.summary, "markdown": meta.summary}
        return descriptor
    what = page.sections.get("What it does") or meta.summary
    descriptor["fullDescription"] = {"text": _unwrap(what), "markdown": what}
    descriptor["help"] = {"text": page.text, "markdown": page.text}
    return descriptor


def _unwrap(markdown: str) -> str:
    """Join the hard-wrapped lines of each paragraph: viewers wrap plain text themselves."""
    paragraphs = [" ".join(p.split()) for p in markdown.split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def _result(diagnostic: Diagnostic, index: dict[str, int]) -> dict[str, Any]:
    region: dict[str, int] = {
        "startLine": max(diagnostic.line, 1),
        "startColumn": max(diagnostic.column, 1),
    }
    if diagnostic.end_line >= diagnostic.line:
        region["endLine"] = diagnostic.end_line
        end_column = diagnostic.end_column
        if diagnostic.end_line == diagnostic.line:
            end_column = max(end_column, region["startColumn"])
        region["endColumn"] = max(end_column, 1)
    result: dict[str, Any] = {
        "ruleId": diagnostic.code,
        "level": LEVELS[diagnostic.severity],
        "message": {"text": diagnostic.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(diagnostic.path),
                    "region": region,
                }
            }
        ],
    }
    if diagnostic.code in index:
        result["ruleIndex"] = index[diagnostic.code]
    if diagnostic.fix:
        result["properties"] = {"fix": diagnostic.fix}
    return result


def artifact_location(path: str) -> dict[str, str]:
    """A display path as a URI reference (spaces, ``#``, ``%`` escaped). Relative paths are
    relative to the working directory, which code scanning treats as the checkout root."""
    posix = path.replace("\\", "/")
    if posix.startswith("/"):
        return {"uri": "file://" + quote(posix, safe="/")}
    return {"uri": quote(posix, safe="/"), "uriBaseId": "%SRCROOT%"}


REPORTER = SarifReporter
