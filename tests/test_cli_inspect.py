"""Issue 21: what a run checked and why (warnings, --show-settings, --show-files, --verbose),
stdin for editors, ruff's option habits, and CI paths relative to the repository root."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_support import write
from test_cli import CLEAN_APP, DEBUG_APP, findings, run

from fastlint import registry


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'demo'\n",
            "app/main.py": DEBUG_APP,
            "app/clean.py": CLEAN_APP,
            "Dockerfile": 'FROM python:3.12-slim\nUSER app\nCMD ["uvicorn", "app.main:app"]\n',
        },
    )
    monkeypatch.chdir(tmp_path)
    for name in ("FASTLINT_FORMAT", "NO_COLOR", "PRE_COMMIT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def warnings(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [line for line in result.stderr.splitlines() if line.startswith("fastlint: warning:")]


# ---------------------------------------------------------------------------- honest empty runs


def test_empty_folder_warns_and_exits_zero(project: Path) -> None:
    (project / "empty").mkdir()
    result = run("empty", "--no-cache")
    assert result.exit_code == 0
    assert warnings(result) == ["fastlint: warning: no files to check under empty"]


def test_empty_folder_among_others_is_named(project: Path) -> None:
    write(project, {"docs/notes.md": "# notes\n"})
    result = run("app", "docs", "--format", "concise", "--no-cache")
    assert findings(result) == [("app/main.py", 3, "FL403")]
    assert warnings(result) == ["fastlint: warning: no files to check under docs"]


def test_folder_of_files_fastlint_does_not_read_warns(project: Path) -> None:
    write(project, {"docs/notes.md": "# notes\n", "docs/logo.svg": "<svg/>\n"})
    result = run("docs", "--no-cache")
    assert result.exit_code == 0
    assert warnings(result) == ["fastlint: warning: no files to check under docs"]


def test_passed_file_fastlint_does_not_read_is_named(project: Path) -> None:
    write(project, {"notes.md": "# notes\n"})
    result = run("notes.md", "app/main.py", "--format", "concise", "--no-cache")
    assert findings(result) == [("app/main.py", 3, "FL403")]
    assert warnings(result) == [
        "fastlint: warning: notes.md is not a file fastlint reads (Python, Dockerfiles, "
        "Gunicorn configs, shell scripts, Procfiles); skipped"
    ]


def test_under_pre_commit_unread_files_pass_quietly(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hook's file filter lets extension-less names through (LICENSE): expected, not news.
    write(project, {"LICENSE": "MIT\n"})
    monkeypatch.setenv("PRE_COMMIT", "1")
    result = run("LICENSE", "app/clean.py", "--no-cache")
    assert result.exit_code == 0 and warnings(result) == []


def test_folder_named_like_a_python_file(project: Path) -> None:
    (project / "x.py").mkdir()
    result = run("x.py", "--no-cache")
    assert result.exit_code == 0
    assert warnings(result) == ["fastlint: warning: no files to check under x.py"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_named_pipe_is_named_and_never_opened(project: Path) -> None:
    os.mkfifo(project / "pipe")
    os.mkfifo(project / "app" / "fifo")  # inside a walked folder: must not block the walk
    result = run("pipe", "--no-cache")
    assert result.exit_code == 0
    assert warnings(result) == [
        "fastlint: warning: pipe is not a regular file (a pipe, socket or device); skipped"
    ]
    assert run("app", "--format", "concise", "--no-cache").exit_code == 1


def test_excluded_file_alone_says_so(project: Path) -> None:
    write(project, {"pyproject.toml": '[tool.fastlint]\nexclude = ["app/main.py"]\n'})
    result = run("app/main.py", "--no-cache")
    assert result.exit_code == 0
    assert warnings(result) == [
        "fastlint: warning: app/main.py is excluded (exclude settings, .gitignore or a "
        "skipped folder)"
    ]


@pytest.mark.parametrize(
    ("args", "config", "where"),
    [
        (["--select", ""], "", "--select is empty"),
        ([], "[tool.fastlint]\nselect = []\n", "select is empty in "),
    ],
)
def test_empty_selection_warns(project: Path, args: list[str], config: str, where: str) -> None:
    if config:
        write(project, {"pyproject.toml": config})
    result = run(*args, "--no-cache")
    assert result.exit_code == 0
    (warning,) = warnings(result)
    assert where in warning and "no rules are selected" in warning


@pytest.mark.parametrize(
    "table", ["tool.fast-lint", "tool.fastlnt", "tool.FastLint", "tools.fastlint", "fastlint"]
)
def test_misspelt_table_warns(project: Path, table: str) -> None:
    write(project, {"pyproject.toml": f'[project]\nname = "x"\n[{table}]\nignore = ["FL403"]\n'})
    result = run("--no-cache", "--format", "concise")
    assert findings(result) == [("app/main.py", 3, "FL403")]  # the table was not read
    (warning,) = warnings(result)
    assert "is not read; did you mean [tool.fastlint]?" in warning


def test_other_tools_tables_do_not_warn(project: Path) -> None:
    write(
        project,
        {"pyproject.toml": "[tool.ruff]\nfix = true\n[tool.fastapi]\nx = 1\n[tool.fastlint]\n"},
    )
    assert warnings(run("--no-cache")) == []


def test_text_in_a_dockerfile_is_fl000(project: Path) -> None:
    write(project, {"Dockerfile": "Build with make docker, see docs/deploy.md\n"})
    result = run("--format", "concise", "--no-cache")
    assert ("Dockerfile", 1, "FL000") in findings(result)
    assert "FL501" not in result.stdout


# ---------------------------------------------------------------------------- show settings/files


def test_show_settings_names_the_file_and_the_resolved_values(project: Path) -> None:
    write(project, {"pyproject.toml": '[tool.fastlint]\nignore = ["FL6"]\nfail-on = "warning"\n'})
    result = run("--show-settings", "--extend-select", "FL601")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert f"config-file: {project.resolve() / 'pyproject.toml'}" in lines
    assert "fail-on: warning" in lines
    select = next(line for line in lines if line.startswith("select: "))
    assert "FL601" in select and "FL602" not in select
    assert "  max-db-connections = 100" in lines  # defaults shown too
    data = json.loads(run("--show-settings", "--format", "json").stdout)
    assert data["config_file"] == str(project.resolve() / "pyproject.toml")
    assert data["options"]["assumed-cpus"] == 4


def test_show_files_lists_kinds_and_respects_excludes(project: Path) -> None:
    write(project, {"Procfile": "web: uvicorn app.main:app\n", "legacy/old.py": "x = 1\n"})
    write(project, {"pyproject.toml": '[tool.fastlint]\nexclude = ["legacy"]\n'})
    result = run("--show-files")
    assert result.exit_code == 0
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows == [
        ["dockerfile", "Dockerfile"],
        ["procfile", "Procfile"],
        ["python", "app/clean.py"],
        ["python", "app/main.py"],
    ]
    data = json.loads(run("--show-files", "--format", "json", "app/main.py").stdout)
    assert data == [{"path": "app/main.py", "kind": "python"}]


def test_verbose_names_config_timings_and_cache(project: Path) -> None:
    first = run("-v", "--format", "concise")
    lines = first.stderr.splitlines()
    assert f"fastlint: config: {project.resolve() / 'pyproject.toml'}" in lines
    assert any(line.startswith("fastlint: cache: 0 of 2 Python files' findings") for line in lines)
    timings = next(line for line in lines if line.startswith("fastlint: timings: "))
    for phase in ("load", "project rules", "check", "report", "total"):
        assert f"{phase} " in timings
    second = run("--verbose", "--format", "concise")
    assert any("cache: hit" in line for line in second.stderr.splitlines())
    assert "cache: off" in run("-v", "--no-cache").stderr


# ---------------------------------------------------------------------------- stdin


def test_stdin_is_linted_as_the_named_file(project: Path) -> None:
    result = runner_with_input(CLEAN_APP, "--stdin-filename", "app/main.py", "-")
    assert result.exit_code == 0 and result.stdout == ""  # the buffer, not the file on disk
    result = runner_with_input(DEBUG_APP, "--stdin-filename", "app/clean.py", "-")
    assert findings(result) == [("app/clean.py", 3, "FL403")]


def test_stdin_file_need_not_exist_and_sees_the_project(project: Path) -> None:
    write(project, {"app/helpers.py": "import time\n\ndef pause():\n    time.sleep(1)\n"})
    source = "from app.helpers import pause\n\nasync def handler():\n    pause()\n"
    result = runner_with_input(source, "--stdin-filename", "app/new_module.py", "-")
    assert findings(result) == [("app/new_module.py", 4, "FL102")]  # cross-file, from disk


def test_stdin_dockerfile_by_name(project: Path) -> None:
    result = runner_with_input("FROM python:3.12-slim\n", "--stdin-filename", "Dockerfile", "-")
    assert findings(result) == [("Dockerfile", 1, "FL501")]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-"], "needs --stdin-filename"),
        (["--stdin-filename", "a.py", "-", "app"], "cannot be combined"),
        (["--stdin-filename", "a.py", "app"], "needs '-' as the path"),
    ],
)
def test_stdin_usage_errors(project: Path, args: list[str], fragment: str) -> None:
    result = runner_with_input("x = 1\n", *args)
    assert result.exit_code == 2 and fragment in result.stderr


def runner_with_input(text: str, *args: str):  # type: ignore[no-untyped-def]
    from test_cli import runner

    from fastlint.cli import cli

    return runner().invoke(cli, ["--format", "concise", *args], input=text)


# ---------------------------------------------------------------------------- ruff habits


def test_output_format_is_an_alias_of_format(project: Path) -> None:
    assert run("--output-format", "concise").stdout == run("--format", "concise").stdout


@pytest.mark.parametrize("name", ["debug-enabled", "FL403", "fl403", " Debug-Enabled "])
def test_explain_by_code_or_name(name: str) -> None:
    result = run("--explain", name, "--color", "never")
    assert result.exit_code == 0 and "# FL403" not in result.stdout
    assert "debug-enabled" in result.stdout


def test_explain_prints_urls_when_not_a_terminal() -> None:
    result = run("--explain", "FL403", "--color", "never")
    assert "(https://fastapi.tiangolo.com/" in result.stdout


def test_explain_unknown_name_is_one_line_error() -> None:
    result = run("--explain", "no-such-rule")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "fastlint: error: unknown rule code or name 'no-such-rule' (see 'fastlint --list-rules')"
    )


def test_list_rules_json_and_select() -> None:
    rows = json.loads(run("--list-rules", "--format", "json").stdout)
    assert [row["code"] for row in rows] == [meta.code for meta in registry.all_metas()]
    assert set(rows[0]) == {"code", "name", "severity", "front_end", "summary", "url"}
    picked = json.loads(run("--list-rules", "--format", "json", "--select", "FL4").stdout)
    assert [row["code"] for row in picked] == ["FL401", "FL402", "FL403", "FL404"]
    table = run("--list-rules", "--select", "FL5", "--ignore", "FL502", "--color", "never").stdout
    assert "FL501" in table and "FL503" in table and "FL502" not in table and "FL101" not in table


def test_statistics_with_sarif_is_a_usage_error(project: Path) -> None:
    result = run("--statistics", "--format", "sarif")
    assert result.exit_code == 2 and "--statistics has no SARIF form" in result.stderr


def test_statistics_mean_the_same_in_every_format(project: Path) -> None:
    counts = {}
    for fmt in ("concise", "github", "rich"):
        result = run("--statistics", "--format", fmt, "--color", "never", "--no-cache")
        rows = [line.split() for line in result.stdout.splitlines()]
        counts[fmt] = [row[:2] for row in rows if row[1:2] == ["FL403"]]
    rows = json.loads(run("--statistics", "--format", "json", "--no-cache").stdout)
    assert [[str(row["count"]), row["code"]] for row in rows] == [["1", "FL403"]]
    assert counts == {fmt: [["1", "FL403"]] for fmt in counts}


# ---------------------------------------------------------------------------- CI paths


def test_ci_paths_are_relative_to_the_repository_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"svc/app/main.py": DEBUG_APP, "svc/pyproject.toml": "[project]\nname='s'\n"})
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path / "svc" / "app")
    github = run("--format", "github", "--no-cache").stdout.splitlines()
    assert github[0].startswith("::warning file=svc/app/main.py,line=3,col=")
    sarif = json.loads(run("--format", "sarif", "--no-cache").stdout)["runs"][0]
    location = sarif["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "svc/app/main.py", "uriBaseId": "%SRCROOT%"}
    root = tmp_path.resolve().as_posix()
    assert sarif["originalUriBaseIds"]["%SRCROOT%"]["uri"] == f"file://{root}/"
    # Other formats stay relative to the working folder.
    assert findings(run("--format", "concise", "--no-cache")) == [("main.py", 3, "FL403")]


def test_without_git_the_project_root_anchors_ci_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"svc/app/main.py": DEBUG_APP, "svc/pyproject.toml": "[project]\nname='s'\n"})
    monkeypatch.chdir(tmp_path / "svc" / "app")
    github = run("--format", "github", "--no-cache").stdout.splitlines()
    assert github[0].startswith("::warning file=app/main.py,")


# ---------------------------------------------------------------------------- compact output


def test_files_passed_give_compact_output(project: Path) -> None:
    write(project, {"Procfile": "web: gunicorn app.main:app -k uvicorn_worker.UvicornWorker\n"})
    whole = run("--no-cache", "--color", "never").stdout
    assert "Deployment" in whole and "Findings by rule" in whole
    files = run("app/main.py", "Procfile", "--no-cache", "--color", "never").stdout
    assert "Deployment" not in files and "Findings by rule" not in files
    assert "Found " in files
    asked = run("app/main.py", "Procfile", "-v", "--no-cache", "--color", "never").stdout
    assert "Deployment" in asked


def test_real_process_reads_stdin(project: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("FASTLINT_FORMAT", "NO_COLOR")}
    done = subprocess.run(
        [sys.executable, "-m", "fastlint", "--format", "concise", "--stdin-filename", "x.py", "-"],
        cwd=project,
        env=env,
        input=DEBUG_APP,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout.startswith("x.py:3:")
