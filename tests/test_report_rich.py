"""The default human report: grouping, snippets and carets, colour switch, quiet, summary."""

from __future__ import annotations

import re
from dataclasses import replace

from report_samples import render, sample_report

from fastlint.diagnostics import Severity
from fastlint.report.rich import _caret_span

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _caret_under(output: str, source_line: str) -> str:
    """The characters of ``source_line`` (as printed) that the next caret line marks."""
    lines = output.splitlines()
    index = next(i for i, line in enumerate(lines) if line.endswith(source_line))
    shown, carets = lines[index], lines[index + 1]
    return "".join(ch for ch, mark in zip(shown, carets.ljust(len(shown))) if mark == "^")


def test_plain_output_has_no_ansi_and_groups_by_file() -> None:
    output = render("rich", sample_report())
    assert not ANSI.search(output)
    headers = [
        line for line in output.splitlines() if line in ("app.py", "dir, with: comma/Dockerfile")
    ]
    assert headers == ["app.py", "dir, with: comma/Dockerfile"]
    assert "app.py:3:21: warning FL403 debug-enabled" in output
    # Rich markup characters in messages are printed, not interpreted.
    assert "second [debug] finding" in output


def test_color_output_styles_severity() -> None:
    output = render("rich", sample_report(), color=True)
    assert ANSI.search(output)
    assert "\x1b[1;31merror" in output  # bold red
    assert "\x1b[1;33mwarning" in output  # bold yellow
    assert "FL401" in ANSI.sub("", output)


def test_caret_marks_the_reported_columns() -> None:
    output = render("rich", sample_report())
    assert _caret_under(output, "3 | app = FastAPI(debug=True)") == "True"


def test_caret_follows_tab_expansion() -> None:
    # Line 6 is "\t\tdebug=True)"; columns 3..13 are "debug=True".
    output = render("rich", sample_report())
    block = output[output.index("app.py:6:3:") :]
    assert _caret_under(block, "6 |         debug=True)") == "debug=True"
    assert _caret_span("\t\tdebug=True)", 3, 13) == (8, 10)


def test_multi_line_span_marks_each_line() -> None:
    output = render("rich", sample_report())
    block = output[output.index("app.py:5:6:") : output.index("app.py:6:3:")]
    assert _caret_under(block, "5 |     x = FastAPI(") == "FastAPI("
    assert _caret_under(block, "6 |         debug=True)") == "debug=True)"  # end column 14


def test_caret_span_clamps_out_of_range_columns() -> None:
    assert _caret_span("abc", 1, 1) == (0, 1)  # empty range still shows one caret
    assert _caret_span("abc", 2, 99) == (1, 2)
    assert _caret_span("", 5, 9) == (0, 1)


def test_finding_without_source_has_no_snippet() -> None:
    output = render("rich", sample_report(sources={}))
    assert " | " not in output
    assert "app.py:3:21: warning FL403" in output


def test_summary_table_and_totals() -> None:
    output = render("rich", sample_report())
    assert re.search(r"2\s+FL403\s+warning\s+debug-enabled", output)
    assert re.search(r"1\s+FL401\s+error\s+cors-wildcard", output)
    assert "Found 4 findings (1 error, 2 warnings, 1 info) in 2 of 3 files." in output
    # The page to read first is the most severe code's, not the most frequent one's.
    assert "Why and how to fix: fastlint --explain FL401" in output


def test_summary_lists_every_severity_a_code_was_reported_with() -> None:
    report = sample_report()
    report.diagnostics[0] = replace(report.diagnostics[0], severity=Severity.ERROR)
    assert re.search(r"FL403\s+error/warning", render("rich", report))


def test_quiet_prints_findings_only() -> None:
    output = render("rich", sample_report(deployment={"workers": 4}), quiet=True)
    assert "app.py:3:21:" in output
    assert "Found 4 findings" not in output
    assert "Findings by rule" not in output
    assert "Deployment" not in output


def test_statistics_keeps_the_table_when_quiet() -> None:
    output = render("rich", sample_report(statistics=True), quiet=True)
    assert re.search(r"2\s+FL403\s+warning\s+debug-enabled", output)


def test_statistics_are_the_counts_instead_of_the_findings() -> None:
    output = render("rich", sample_report(statistics=True, deployment={"workers": 4}))
    assert "app.py:3:21" not in output
    assert re.search(r"1\s+FL401\s+error\s+cors-wildcard", output)
    assert "Found 4 findings" in output
    assert "Deployment" not in output


def test_fix_line_only_when_it_adds_to_the_message() -> None:
    from fastlint.report.rich import repeats_message

    report = sample_report()
    output = render("rich", report)
    assert "= fix: remove debug=True" not in output  # the message already says "debug off"
    first = report.diagnostics[0]
    report.diagnostics[0] = replace(first, fix="read it from settings.debug")
    assert "  = fix: read it from settings.debug" in render("rich", report)
    message = "Gunicorn runs its sync worker; pass -k uvicorn_worker.UvicornWorker."
    assert repeats_message("-k uvicorn_worker.UvicornWorker", message)
    assert repeats_message("remove --reload / reload=True", "remove reload from the command")
    assert not repeats_message("allow_origins=settings.cors_origins", "list the exact origins")


def test_compact_run_has_no_table_and_no_deployment_panel() -> None:
    report = sample_report(deployment={"workers": 4}, compact=True)
    output = render("rich", report)
    assert "app.py:3:21:" in output
    assert "Findings by rule" not in output and "Deployment" not in output
    assert "Found 4 findings (1 error, 2 warnings, 1 info) in 2 of 3 files." in output
    assert "Deployment" in render("rich", sample_report(deployment={"workers": 4}))


def test_snippet_has_no_empty_gutter_line() -> None:
    lines = render("rich", sample_report()).splitlines()
    assert not [line for line in lines if line.strip() == "|"]


def test_clean_run() -> None:
    output = render("rich", sample_report(diagnostics=[], files=1))
    assert output.strip() == "No findings in 1 file."
    assert render("rich", sample_report(diagnostics=[]), quiet=True) == ""


def test_deployment_panel_renders_any_keys() -> None:
    deployment = {
        "start_command": "gunicorn app.main:app -k uvicorn.workers.UvicornWorker",
        "start_file": "Dockerfile",
        "workers": 4,
        "worker_class": None,
        "preload": False,
        "connections": {"per_process": 15, "total": 60, "limit": 100},
        "bind": ["0.0.0.0:8000", "[::]:8000"],
    }
    output = render("rich", sample_report(deployment=deployment))
    assert "Deployment" in output
    panel = output[output.index("Deployment") :]
    assert re.search(r"Start command\s+gunicorn app\.main:app -k uvicorn\.workers", panel)
    assert re.search(r"Workers\s+4", panel)
    assert re.search(r"Worker class\s+unknown", panel)
    assert re.search(r"Preload\s+no", panel)
    assert "per process: 15" in panel and "limit: 100" in panel
    assert "0.0.0.0:8000, [::]:8000" in panel
