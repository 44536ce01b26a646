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
    assert len(lines) == 5  # four findings and the totals


def test_a_multi_line_span_has_no_columns() -> None:
    # GitHub ignores columns unless the span is on one line; leave them out rather than lie.
    line = render("github", sample_report()).splitlines()[1]
    assert line.startswith("::error file=app.py,line=5,endLine=6,title=fastlint FL401::")


def test_closing_notice_carries_the_totals() -> None:
    # GitHub shows only the first annotations of a step: the totals come last, on their own.
    last = render("github", sample_report()).splitlines()[-1]
    assert last == (
        "::notice title=fastlint::Found 4 findings (1 error, 2 warnings, 1 info) in 2 of 3 files."
    )
    clean = render("github", sample_report(diagnostics=[], files=7))
    assert clean == "::notice title=fastlint::No findings in 7 files.\n"
    assert "::notice title=fastlint" not in render("github", sample_report(), quiet=True)


def test_paths_are_relative_to_the_repository_root() -> None:
    # Run from svc/app in a repository at /repo: GitHub needs svc/app/main.py, not main.py.
    report = sample_report(repo_root="/repo", cwd="/repo/svc/app")
    lines = render("github", report).splitlines()
    assert lines[0].startswith("::warning file=svc/app/app.py,line=3,")
    outside = sample_report(repo_root="/repo", cwd="/elsewhere")
    assert render("github", outside).splitlines()[0].startswith("::warning file=/elsewhere/app.py,")


def test_severity_picks_the_command() -> None:
    commands = [line.split(" ", 1)[0] for line in render("github", sample_report()).splitlines()]
    assert commands == ["::warning", "::error", "::warning", "::notice", "::notice"]


def test_message_escapes_percent_and_newlines() -> None:
    error_line = render("github", sample_report()).splitlines()[1]
    assert error_line.endswith("::100%25 wildcard: any site, with credentials%0Asecond line")


def test_property_escapes_colon_and_comma() -> None:
    notice = render("github", sample_report()).splitlines()[3]
    assert notice.startswith("::notice file=dir%2C with%3A comma/Dockerfile,line=2,col=1,")


def test_escape_functions() -> None:
    assert escape_data("50%\r\nok: a,b") == "50%25%0D%0Aok: a,b"
    assert escape_property("50%\r\nok: a,b") == "50%25%0D%0Aok%3A a%2Cb"


def test_statistics_are_the_counts_instead_of_the_annotations() -> None:
    lines = render("github", sample_report(statistics=True)).splitlines()
    assert [line.split() for line in lines] == [
        ["2", "FL403", "debug-enabled"],
        ["1", "FL401", "cors-wildcard"],
        ["1", "FL501", "docker-root"],
    ]
