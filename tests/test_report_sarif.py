"""``sarif``: valid SARIF 2.1.0 (checked against the schema shipped beside the tests, no
network) carrying every rule with its page as help, in the shape code scanning ingests.

The schema file is the SARIF 2.1.0 JSON schema (release 2.1.0-rtm.5, the version SchemaStore
and GitHub's upload validation use), copied unchanged from the npm package @microsoft/jest-sarif.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from report_samples import render, sample_report

from fastlint import pages, registry
from fastlint.cli import cli

SCHEMA = Path(__file__).resolve().parent / "sarif-schema-2.1.0-rtm.5.json"


@cache
def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def _assert_valid(document: dict[str, Any]) -> None:
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def _run(report: Any = None) -> dict[str, Any]:
    return json.loads(render("sarif", report or sample_report()))


def test_validates_against_the_sarif_schema() -> None:
    _assert_valid(_run())
    _assert_valid(_run(sample_report(diagnostics=[])))


def test_schema_rejects_a_broken_log() -> None:
    # Guards the guard: the validator really checks the structure.
    document = _run()
    document["runs"][0]["results"][0]["level"] = "fatal"
    assert list(_validator().iter_errors(document))


def test_driver_lists_every_registered_rule() -> None:
    run = _run()["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "fastlint"
    assert driver["version"] == "9.9.9"
    # No repository URL is published yet, so no link is invented.
    assert "informationUri" not in driver
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == [meta.code for meta in registry.all_metas()]
    for rule, meta in zip(driver["rules"], registry.all_metas()):
        assert rule["name"] == meta.name
        assert rule["shortDescription"]["text"] == meta.summary
        assert "helpUri" not in rule
        assert rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["fullDescription"]["text"]


def test_links_appear_once_the_package_names_its_repository(monkeypatch) -> None:
    monkeypatch.setattr(pages, "home_url", lambda: "https://example.org/fastlint")
    driver = _run()["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://example.org/fastlint"
    assert driver["rules"][0]["helpUri"] == "https://example.org/fastlint/blob/main/rules/FL000.md"


def test_rule_help_is_the_rule_page() -> None:
    rules = {rule["id"]: rule for rule in _run()["runs"][0]["tool"]["driver"]["rules"]}
    page = pages.load_page("FL000")
    assert rules["FL000"]["help"]["markdown"] == page.text
    assert rules["FL000"]["defaultConfiguration"]["level"] == "error"
    # The plain-text description joins the page's hard-wrapped lines.
    assert "\n" not in rules["FL000"]["fullDescription"]["text"].split("\n\n")[0]


def test_results_carry_rule_level_message_and_region() -> None:
    run = _run()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["FL403", "FL401", "FL403", "FL501"]
    assert [r["level"] for r in results] == ["warning", "error", "warning", "note"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    first = results[0]
    assert first["message"]["text"] == "FastAPI(debug=True) leaks tracebacks; turn debug off."
    assert first["properties"] == {"fix": "remove debug=True"}
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "app.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 3, "startColumn": 21, "endLine": 3, "endColumn": 25}
    assert run["columnKind"] == "unicodeCodePoints"


def test_uri_is_escaped_relative_posix() -> None:
    results = _run()["runs"][0]["results"]
    uri = results[-1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "dir%2C%20with%3A%20comma/Dockerfile"


def test_unknown_codes_get_no_rule_index() -> None:
    report = sample_report()
    from dataclasses import replace

    report.diagnostics[0] = replace(report.diagnostics[0], code="FL999")
    result = _run(report)["runs"][0]["results"][0]
    assert "ruleIndex" not in result
    _assert_valid(_run(report))


@pytest.mark.parametrize("source", ["def broken(:\n", "x = 1\n"])
def test_cli_sarif_output_is_valid(tmp_path: Path, source: str, monkeypatch: Any) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (tmp_path / "app.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [".", "--format", "sarif"])
    document = json.loads(result.output)
    _assert_valid(document)
    codes = [r["ruleId"] for r in document["runs"][0]["results"]]
    assert codes == (["FL000"] if "broken" in source else [])


def test_paths_are_relative_to_the_repository_root_named_as_srcroot() -> None:
    document = _run(sample_report(repo_root="/repo", cwd="/repo/svc/app"))
    _assert_valid(document)
    run = document["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///repo/"}}
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "svc/app/app.py", "uriBaseId": "%SRCROOT%"}


def _fingerprints(report: Any) -> list[str]:
    return [r["partialFingerprints"]["fastlint/v1"] for r in _run(report)["runs"][0]["results"]]


def test_fingerprints_survive_lines_moving_but_not_other_changes() -> None:
    from report_samples import APP, DOCKERFILE

    def with_app(text: str) -> Any:
        return sample_report(sources={"app.py": text, "dir, with: comma/Dockerfile": DOCKERFILE})

    before = _fingerprints(sample_report())
    assert len(set(before)) == len(before)
    # Two lines added above every finding in app.py: same fingerprints.
    shifted = with_app("import os\n\n" + APP)
    shifted.diagnostics[:] = [
        replace(d, line=d.line + 2, end_line=d.end_line + 2) if d.path == "app.py" else d
        for d in shifted.diagnostics
    ]
    assert _fingerprints(shifted) == before
    # The reported line's text changed: a new fingerprint for that finding only.
    edited = with_app(APP.replace("debug=True)\n", "debug=True )\n", 1))
    assert _fingerprints(edited) == before  # whitespace does not count
    edited = with_app(APP.replace("app = FastAPI", "api = FastAPI"))
    changed = _fingerprints(edited)
    assert changed[0] != before[0] and changed[1:] == before[1:]


def test_same_code_on_identical_lines_is_told_apart_by_occurrence() -> None:
    report = sample_report(sources={"app.py": "x = FastAPI(debug=True)\n" * 6})
    report.diagnostics[:] = [replace(d, code="FL403") for d in report.diagnostics[:3]]
    prints = _fingerprints(report)
    assert [p.rsplit(":", 1)[1] for p in prints] == ["1", "2", "3"]
    assert len({p.rsplit(":", 1)[0] for p in prints}) == 1


def test_security_rules_carry_a_security_severity() -> None:
    rules = {rule["id"]: rule for rule in _run()["runs"][0]["tool"]["driver"]["rules"]}
    for code in ("FL401", "FL402", "FL403", "FL501"):
        properties = rules[code]["properties"]
        assert 0.0 < float(properties["security-severity"]) <= 10.0
        assert "security" in properties["tags"]
    for code in ("FL101", "FL303", "FL000"):
        assert "security-severity" not in rules[code]["properties"]
