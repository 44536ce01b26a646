"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Every registered rule is described in ``tool.driver.rules`` (so a viewer can show a rule's help
even for rules with no result in this run); each rule's help is its page from ``rules/``.
Paths are relative to the repository root, named in ``originalUriBaseIds`` as ``%SRCROOT%``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any
from urllib.parse import quote

from fastlint import pages, registry
from fastlint.diagnostics import Diagnostic, Severity
from fastlint.registry import RuleMeta
from fastlint.report.base import Reporter, ReportInput

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
FINGERPRINT_KEY = "fastlint/v1"

# GitHub code scanning ranks security alerts by this CVSS-like score (as a string): 7.0-8.9 is
# "high", 4.0-6.9 "medium". Only the rules whose finding is an exposure get one.
SECURITY_SEVERITY = {
    "FL401": "7.5",  # CORS: any web page reads authenticated responses
    "FL402": "5.3",  # the API's schema and docs served in production
    "FL403": "6.5",  # tracebacks with code and values sent to clients
    "FL404": "6.5",  # client IP and scheme taken from headers anyone can send
    "FL501": "7.0",  # code execution in the service owns the container as root
}


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
    run: dict[str, Any] = {"tool": {"driver": driver}}
    if report.repo_root is not None:
        root = report.repo_root.rstrip("/") + "/"
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": "file://" + quote(root, safe="/")}}
    # Columns count code points (LibCST and the line-based front ends), not UTF-16 units.
    run["columnKind"] = "unicodeCodePoints"
    fingerprints = _fingerprints(report)
    run["results"] = [
        _result(d, index, report.repo_path(d.path), print_)
        for d, print_ in zip(report.diagnostics, fingerprints)
    ]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def rule_descriptor(meta: RuleMeta) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": meta.code,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "defaultConfiguration": {"level": LEVELS[meta.severity]},
        "properties": {"tags": ["fastlint", meta.front_end], "precision": "high"},
    }
    if meta.code in SECURITY_SEVERITY:
        descriptor["properties"]["tags"].append("security")
        descriptor["properties"]["security-severity"] = SECURITY_SEVERITY[meta.code]
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


def _fingerprints(report: ReportInput) -> list[str]:
    """A fingerprint per result that survives lines moving: the rule, the repository path and
    the reported line's text (whitespace removed), plus which occurrence of that triple it is."""
    seen: Counter[str] = Counter()
    prints = []
    for diagnostic in report.diagnostics:
        lines = (report.sources.get(diagnostic.path) or "").splitlines()
        text = lines[diagnostic.line - 1] if 1 <= diagnostic.line <= len(lines) else ""
        key = "\0".join((diagnostic.code, report.repo_path(diagnostic.path), "".join(text.split())))
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        seen[digest] += 1
        prints.append(f"{digest}:{seen[digest]}")
    return prints


def _result(
    diagnostic: Diagnostic, index: dict[str, int], path: str, fingerprint: str
) -> dict[str, Any]:
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
                    "artifactLocation": artifact_location(path),
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if diagnostic.code in index:
        result["ruleIndex"] = index[diagnostic.code]
    if diagnostic.fix:
        result["properties"] = {"fix": diagnostic.fix}
    return result


def artifact_location(path: str) -> dict[str, str]:
    """A path as a URI reference (spaces, ``#``, ``%`` escaped). Relative paths are relative
    to ``%SRCROOT%``, the repository root."""
    posix = path.replace("\\", "/")
    if posix.startswith("/"):
        return {"uri": "file://" + quote(posix, safe="/")}
    return {"uri": quote(posix, safe="/"), "uriBaseId": "%SRCROOT%"}


REPORTER = SarifReporter
