"""``concise``: one stable line per finding; statistics appended as count/code/name rows."""

from __future__ import annotations

from report_samples import render, sample_report


def test_one_line_per_finding_in_order() -> None:
    lines = render("concise", sample_report()).splitlines()
    assert lines[0] == (
        "app.py:3:21: FL403 [warning] FastAPI(debug=True) leaks tracebacks; turn debug off."
    )
    assert lines[1].startswith("app.py:5:6: FL401 [error] 100% wildcard")
    assert lines[-1] == "dir, with: comma/Dockerfile:2:1: FL501 [info] CMD runs as root."


def test_color_and_quiet_change_nothing() -> None:
    plain = render("concise", sample_report())
    assert render("concise", sample_report(), color=True, quiet=True) == plain
    assert "\x1b[" not in plain


def test_statistics_rows_most_frequent_first() -> None:
    output = render("concise", sample_report(statistics=True))
    tail = output.splitlines()[-3:]
    assert [row.split() for row in tail] == [
        ["2", "FL403", "debug-enabled"],
        ["1", "FL401", "cors-wildcard"],
        ["1", "FL501", "docker-root"],
    ]


def test_clean_run_prints_nothing() -> None:
    assert render("concise", sample_report(diagnostics=[])) == ""
