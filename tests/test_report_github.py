"""``github``: workflow-command annotations with GitHub's escaping rules."""

from __future__ import annotations

from report_samples import render, sample_report

from fastlint.report.github import escape_data, escape_property


def test_annotation_per_finding_with_position_and_title() -> None:
    lines = render("github", sample_report()).splitlines()
    assert lines[0] == (
        "::warning file=app.py,line=3,col=21,endLine=3,endColumn=25,title=fastlint FL403"
        "::FastAPI(debug=True) leaks tracebacks; turn debug off."
    )
    assert len(lines) == 4


def test_severity_picks_the_command() -> None:
    commands = [line.split(" ", 1)[0] for line in render("github", sample_report()).splitlines()]
    assert commands == ["::warning", "::error", "::warning", "::notice"]


def test_message_escapes_percent_and_newlines() -> None:
    error_line = render("github", sample_report()).splitlines()[1]
    assert error_line.endswith("::100%25 wildcard: any site, with credentials%0Asecond line")


def test_property_escapes_colon_and_comma() -> None:
    notice = render("github", sample_report()).splitlines()[3]
    assert notice.startswith("::notice file=dir%2C with%3A comma/Dockerfile,line=2,col=1,")


def test_escape_functions() -> None:
    assert escape_data("50%\r\nok: a,b") == "50%25%0D%0Aok: a,b"
    assert escape_property("50%\r\nok: a,b") == "50%25%0D%0Aok%3A a%2Cb"


def test_statistics_follow_the_annotations() -> None:
    lines = render("github", sample_report(statistics=True)).splitlines()
    assert len(lines) == 7
    assert lines[4].split() == ["2", "FL403", "debug-enabled"]
