"""The ``fastlint`` command: options, exit codes, one-line errors (CliRunner and subprocess)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fixture_support import write

from fastlint import __version__
from fastlint.cli import cli

DEBUG_APP = "from fastapi import FastAPI\n\napp = FastAPI(debug=True, openapi_url=None)\n"
CORS_APP = (
    "from fastapi import FastAPI\n"
    "from fastapi.middleware.cors import CORSMiddleware\n\n"
    "app = FastAPI(openapi_url=None)\n"
    'app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)\n'
)
CLEAN_APP = "from fastapi import FastAPI\n\napp = FastAPI(openapi_url=None)\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small project (pyproject at its root) that is also the working directory."""
    write(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'demo'\n",
            "app/main.py": DEBUG_APP,
            "app/cors.py": CORS_APP,
            "app/clean.py": CLEAN_APP,
        },
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FASTLINT_FORMAT", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


def runner() -> CliRunner:
    """A runner that keeps stderr apart (click 8.1 mixes it in unless told; 8.2 dropped the
    switch and always keeps it apart)."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return runner().invoke(cli, list(args), env=env, catch_exceptions=False)


def findings(result: Result) -> list[tuple[str, int, str]]:
    """(path, line, code) of each concise output line."""
    found = []
    for line in result.stdout.splitlines():
        path, number, _column, rest = line.split(":", 3)
        found.append((path, int(number), rest.split()[0]))
    return found


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fastlint: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# ---------------------------------------------------------------------------- basics


def test_default_path_is_the_working_folder(project: Path) -> None:
    result = run("--format", "concise")
    assert result.exit_code == 1
    assert findings(result) == [("app/cors.py", 5, "FL401"), ("app/main.py", 3, "FL403")]


def test_clean_project_exits_zero_and_prints_no_findings(project: Path) -> None:
    result = run("--format", "concise", "app/clean.py")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"fastlint {__version__}"


def test_help_exits_zero() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "--fail-on" in result.stdout and "--explain" in result.stdout


def test_folder_named_rules_is_linted_not_a_subcommand(project: Path) -> None:
    write(project, {"rules/app.py": DEBUG_APP})
    result = run("--format", "concise", "rules")
    assert result.exit_code == 1
    assert findings(result) == [("rules/app.py", 3, "FL403")]


def test_several_paths(project: Path) -> None:
    result = run("--format", "concise", "app/main.py", "app/cors.py")
    assert [code for _, _, code in findings(result)] == ["FL401", "FL403"]


# ---------------------------------------------------------------------------- formats


def test_format_from_environment(project: Path) -> None:
    result = run(env={"FASTLINT_FORMAT": "json"})
    document = json.loads(result.stdout)
    assert document["summary"]["by_code"] == {"FL401": 1, "FL403": 1}


def test_format_option_beats_environment(project: Path) -> None:
    result = run("--format", "concise", env={"FASTLINT_FORMAT": "json"})
    assert findings(result)[0][2] == "FL401"


def test_bad_format_in_environment_names_the_variable(project: Path) -> None:
    result = run(env={"FASTLINT_FORMAT": "xml"})
    assert_one_line_error(result, "FASTLINT_FORMAT", "xml")


@pytest.mark.parametrize("fmt", ["rich", "concise", "json", "sarif", "github"])
def test_every_format_runs(project: Path, fmt: str) -> None:
    result = run("--format", fmt, "--color", "never")
    assert result.exit_code == 1
    assert "FL403" in result.stdout
    assert "\x1b[" not in result.stdout


def test_output_file(project: Path) -> None:
    result = run("--format", "json", "--output", "report.json")
    assert result.exit_code == 1
    assert result.stdout == ""
    document = json.loads((project / "report.json").read_text(encoding="utf-8"))
    assert len(document["diagnostics"]) == 2


def test_output_file_in_missing_folder_is_one_line_error(project: Path) -> None:
    result = run("--format", "json", "--output", "missing/report.json")
    assert_one_line_error(result, "missing/report.json")


def test_statistics_concise(project: Path) -> None:
    result = run("--format", "concise", "--statistics")
    lines = result.stdout.splitlines()
    assert len(lines) == 2  # one count line per code, instead of the findings (as ruff)
    assert lines[0].split() == ["1", "FL401", "cors-wildcard"]
    assert lines[1].split() == ["1", "FL403", "debug-enabled"]
    assert result.exit_code == 1  # the exit code still reflects the findings


def test_statistics_rich_shows_counts(project: Path) -> None:
    result = run("--format", "rich", "--statistics", "--quiet", "--color", "never")
    assert "FL401" in result.stdout and "cors-wildcard" in result.stdout


# ---------------------------------------------------------------------------- colour


def test_color_always_emits_ansi(project: Path) -> None:
    result = run("--format", "rich", "--color", "always")
    assert "\x1b[" in result.stdout


def test_no_color_env_turns_colour_off(project: Path) -> None:
    result = run("--format", "rich", env={"NO_COLOR": "1"})
    assert "\x1b[" not in result.stdout
    assert "FL403" in result.stdout


def test_auto_colour_is_off_when_not_a_terminal(project: Path) -> None:
    result = run("--format", "rich", "--color", "auto")
    assert "\x1b[" not in result.stdout


def test_output_file_never_has_colour(project: Path) -> None:
    run("--format", "rich", "--color", "always", "--output", "report.txt")
    text = (project / "report.txt").read_text(encoding="utf-8")
    assert "FL403" in text and "\x1b[" not in text


def test_quiet_drops_the_summary(project: Path) -> None:
    loud = run("--format", "rich", "--color", "never")
    quiet = run("--format", "rich", "--color", "never", "--quiet")
    assert "Found 2 findings" in loud.stdout
    assert "Found 2 findings" not in quiet.stdout
    assert "FL403" in quiet.stdout
    assert quiet.exit_code == 1


# ---------------------------------------------------------------------------- selection


@pytest.mark.parametrize(
    ("args", "codes"),
    [
        (["--select", "FL403"], ["FL403"]),
        (["--select", "FL4"], ["FL401", "FL403"]),
        (["--select", "FL401,FL403"], ["FL401", "FL403"]),
        (["--select", "fl401, fl403"], ["FL401", "FL403"]),
        (["--select", "FL401", "--select", "FL403"], ["FL401", "FL403"]),
        (["--ignore", "FL401"], ["FL403"]),
        (["--ignore", "FL4"], []),
        (["--select", "FL401", "--extend-select", "FL403"], ["FL401", "FL403"]),
        (["--select", "ALL", "--ignore", "FL403"], ["FL401"]),
    ],
)
def test_select_ignore_extend(project: Path, args: list[str], codes: list[str]) -> None:
    result = run("--format", "concise", *args)
    assert [code for _, _, code in findings(result)] == codes
    assert result.exit_code == (1 if codes else 0)


@pytest.mark.parametrize("option", ["--select", "--ignore", "--extend-select"])
def test_unknown_code_is_a_usage_error(project: Path, option: str) -> None:
    result = run("--format", "concise", option, "FL999")
    assert_one_line_error(result, option, "FL999")


def test_non_fastlint_selector_is_rejected(project: Path) -> None:
    assert_one_line_error(run("--select", "E501"), "E501")


def test_cli_select_overrides_config_select_and_ignore(project: Path) -> None:
    write(project, {"pyproject.toml": '[tool.fastlint]\nselect = ["FL401"]\nignore = ["FL403"]\n'})
    assert [c for _, _, c in findings(run("--format", "concise"))] == ["FL401"]
    result = run("--format", "concise", "--select", "FL403")
    assert [c for _, _, c in findings(result)] == ["FL403"]


# ---------------------------------------------------------------------------- exit codes


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ([], 1),
        (["--fail-on", "info"], 1),
        (["--fail-on", "warning"], 1),
        (["--fail-on", "error"], 1),  # FL401 with credentials is an error
        (["--fail-on", "ERROR"], 1),
        (["--exit-zero"], 0),
        (["--ignore", "FL401", "--fail-on", "error"], 0),  # only a warning left
        (["--ignore", "FL401", "--fail-on", "warning"], 1),
    ],
)
def test_fail_on_and_exit_zero(project: Path, args: list[str], code: int) -> None:
    assert run("--format", "concise", *args).exit_code == code


def test_fail_on_from_config(project: Path) -> None:
    write(project, {"pyproject.toml": '[tool.fastlint]\nfail-on = "error"\nignore = ["FL401"]\n'})
    assert run("--format", "concise").exit_code == 0
    assert run("--format", "concise", "--fail-on", "warning").exit_code == 1


def test_exit_zero_still_prints_findings(project: Path) -> None:
    result = run("--format", "concise", "--exit-zero")
    assert len(findings(result)) == 2


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--bogus"], "--bogus"),
        (["--format", "xml"], "xml"),
        (["--fail-on", "fatal"], "fatal"),
        (["--color", "sometimes"], "sometimes"),
        (["--explain"], "--explain"),
        (["does-not-exist"], "does-not-exist"),
        (["--config", "missing.toml"], "missing.toml"),
        (["--explain", "FL999"], "FL999"),
        (["--jobs", "0"], "--jobs"),
        (["-j", "two"], "two"),
    ],
)
def test_usage_errors_are_one_line_exit_2(project: Path, args: list[str], fragment: str) -> None:
    assert_one_line_error(run(*args), fragment)


def test_broken_symlink_path_is_a_usage_error(project: Path) -> None:
    (project / "gone.py").symlink_to(project / "nowhere.py")
    assert_one_line_error(run("gone.py"), "gone.py")


def test_bad_config_is_one_line_exit_2(project: Path) -> None:
    write(project, {"pyproject.toml": "[tool.fastlint]\nselekt = ['FL401']\n"})
    assert_one_line_error(run(), "selekt")


def test_invalid_toml_is_one_line_exit_2(project: Path) -> None:
    write(project, {"pyproject.toml": "[tool.fastlint\nselect = \n"})
    assert_one_line_error(run(), "pyproject.toml")


# ---------------------------------------------------------------------------- config, exclude


def test_config_option_overrides_discovered_pyproject(project: Path) -> None:
    write(
        project,
        {
            "pyproject.toml": '[tool.fastlint]\nselect = ["FL401"]\n',
            "other.toml": '[tool.fastlint]\nselect = ["FL403"]\n',
        },
    )
    result = run("--format", "concise", "--config", "other.toml")
    assert [c for _, _, c in findings(result)] == ["FL403"]


def test_config_file_may_be_a_bare_table(project: Path) -> None:
    write(project, {"fastlint.toml": 'select = ["FL403"]\n'})
    result = run("--format", "concise", "--config", "fastlint.toml")
    assert [c for _, _, c in findings(result)] == ["FL403"]


def test_exclude_repeatable(project: Path) -> None:
    result = run("--format", "concise", "--exclude", "app/cors.py", "--exclude", "main.py")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_exclude_adds_to_config_exclude(project: Path) -> None:
    write(project, {"pyproject.toml": '[tool.fastlint]\nexclude = ["app/cors.py"]\n'})
    assert [c for _, _, c in findings(run("--format", "concise"))] == ["FL403"]
    assert run("--format", "concise", "--exclude", "app/main.py").stdout == ""


# ---------------------------------------------------------------------------- rule pages


def test_list_rules_prints_every_registered_rule() -> None:
    from fastlint import registry

    result = run("--list-rules", "--color", "never")
    assert result.exit_code == 0
    for meta in registry.all_metas():
        assert meta.code in result.stdout


def test_explain_prints_the_page(project: Path) -> None:
    result = run("--explain", "fl403", "--color", "never")
    assert result.exit_code == 0
    assert "debug-enabled" in result.stdout
    assert "Why it matters in production" in result.stdout


# ---------------------------------------------------------------------------- real processes


def _subprocess(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FASTLINT_FORMAT", "NO_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "fastlint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_python_dash_m(project: Path) -> None:
    done = _subprocess("--format", "concise", cwd=project)
    assert done.returncode == 1
    assert "app/main.py:3:" in done.stdout
    assert done.stderr == ""


def test_python_dash_m_exit_zero_and_output_file(project: Path) -> None:
    # The console entry point leaves with os._exit: the file and the exit code must survive it.
    done = _subprocess("--format", "json", "--output", "report.json", "--exit-zero", cwd=project)
    assert done.returncode == 0
    report = json.loads((project / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["diagnostics"] >= 1


def test_python_dash_m_usage_error_has_no_traceback(project: Path) -> None:
    done = _subprocess("--select", "FL9", cwd=project)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "fastlint: error: '--select': unknown rule code or prefix 'FL9'"
    ]


def test_cli_module_does_not_import_the_engine_at_start_up() -> None:
    code = (
        "import sys, fastlint.cli; "
        "heavy = [m for m in ('libcst', 'rich', 'fastlint.engine', 'dockerfile_parse') "
        "if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- README


README = Path(__file__).resolve().parent.parent / "README.md"
RULE_TABLE_START = "<!-- rule-table:start"
RULE_TABLE_END = "<!-- rule-table:end -->"


def rule_table_markdown() -> str:
    """The README's rule table, generated from the registry."""
    from fastlint import registry

    rows = ["| Code | Name | Severity | Front end | Summary |", "|---|---|---|---|---|"]
    for meta in registry.all_metas():
        rows.append(
            f"| [{meta.code}](rules/{meta.code}.md) | {meta.name} | {meta.severity.value} "
            f"| {meta.front_end} | {meta.summary} |"
        )
    return "\n".join(rows)


def test_readme_has_the_two_set_up_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "pip install . && fastlint fixtures/demo" in text
    assert "pip install '.[test]' && pytest" in text


def test_readme_documents_every_option() -> None:
    text = README.read_text(encoding="utf-8")
    for param in cli.params:
        for name in param.opts:
            if name.startswith("--") and name != "--help":
                assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), name


def test_readme_rule_table_matches_the_registry() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n", text.index(RULE_TABLE_START)) + 1
    table = text[start : text.index(RULE_TABLE_END)].strip()
    assert table == rule_table_markdown(), (
        "README rule table is stale; replace it with:\n" + rule_table_markdown()
    )


def test_readme_config_example_is_valid() -> None:
    from fastlint import config

    text = README.read_text(encoding="utf-8")
    start = text.index("\n", text.index("```toml")) + 1
    example = text[start : text.index("```", start)]
    table = config.tomllib.loads(example)["tool"]["fastlint"]
    settings = config.build_settings(table)
    assert "FL604" not in settings.enabled
    assert settings.fail_on.value == "warning"


def test_ci_script_installs_as_the_readme_says() -> None:
    script = README.parent / ".ci" / "run"
    assert os.access(script, os.X_OK)
    text = script.read_text(encoding="utf-8")
    assert "set -euo pipefail" in text
    assert "pip install .\n" in text
    assert "pip install '.[test]'\n" in text
    assert "fastlint fixtures/demo" in text
    assert "\npytest" in text


# ---------------------------------------------------------------------------- pre-commit style


def test_changed_files_respect_config_excludes(project: Path) -> None:
    """pre-commit passes changed files one by one: excluded ones stay excluded."""
    write(
        project,
        {
            "pyproject.toml": '[tool.fastlint]\nexclude = ["legacy"]\n',
            "legacy/old.py": DEBUG_APP,
            "README.md": "# docs\n",
        },
    )
    result = run("--format", "concise", "legacy/old.py", "README.md", "app/clean.py")
    assert result.exit_code == 0
    assert result.stdout == ""
    result = run("--format", "concise", "legacy/old.py", "app/main.py")
    assert findings(result) == [("app/main.py", 3, "FL403")]


def test_changed_file_in_a_subfolder_uses_the_project_config(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project, {"pyproject.toml": '[tool.fastlint]\nignore = ["FL403"]\n'})
    monkeypatch.chdir(project / "app")
    result = run("--format", "concise", "main.py", "cors.py")
    assert findings(result) == [("cors.py", 5, "FL401")]
