"""One suppression syntax in every file kind: ``# noqa`` and ``# fastlint: ignore[...]``."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastlint.config import build_settings
from fastlint.discovery import FileKind
from fastlint.engine import lint
from fastlint.suppressions import parse_suppressions

HEADER = "from fastapi import FastAPI\n\n"
DEBUG = "app = FastAPI(debug=True, openapi_url=None)"


def lint_file(tmp_path: Path, name: str, text: str, hygiene: bool = False) -> list[tuple[int, str]]:
    """Findings as (line, code); without ``hygiene``, FL001/FL002 (judged by their own tests
    below) are left out, so a marker naming a code beside the one it suppresses is fine."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    table = {} if hygiene else {"ignore": ["FL001", "FL002"]}
    result = lint([path], build_settings(table), root=tmp_path, cwd=tmp_path)
    return [(d.line, d.code) for d in result.diagnostics]


def lint_python(tmp_path: Path, body: str) -> list[tuple[int, str]]:
    return lint_file(tmp_path, "app.py", HEADER + body)


# ---------------------------------------------------------------------------- Python, end to end


def test_unsuppressed_finding(tmp_path: Path) -> None:
    assert lint_python(tmp_path, DEBUG + "\n") == [(3, "FL403")]


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa",
        "# NOQA",
        "#noqa",
        "# noqa: FL403",
        "# noqa:FL403",
        "# noqa: FL401, FL403",
        "# noqa: E501,FL403",
        "# noqa: FL4",
        "# fastlint: ignore",
        "# fastlint: ignore[FL403]",
        "# fastlint: ignore[FL401,FL403]",
        "# fastlint: ignore[FL401, FL403]",
        "# type: ignore  # noqa: FL403",
        "# fastlint: ignore[fl403] because the admin app is internal",
    ],
)
def test_python_line_suppression(tmp_path: Path, comment: str) -> None:
    assert lint_python(tmp_path, f"{DEBUG}  {comment}\n") == []


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa: FL401",
        "# noqa: E501",  # another linter's code is not a blanket noqa
        "# fastlint: ignore[FL401]",
        "# no qa",
        "# fastlint: ignore-file",  # not in the first comment block
    ],
)
def test_python_markers_that_do_not_suppress(tmp_path: Path, comment: str) -> None:
    assert lint_python(tmp_path, f"{DEBUG}  {comment}\n") == [(3, "FL403")]


def test_noqa_on_another_line_does_not_count(tmp_path: Path) -> None:
    body = f"x = 1  # noqa\n{DEBUG}\ny = 2  # noqa: FL403\n"
    assert lint_python(tmp_path, body) == [(4, "FL403")]


def test_noqa_inside_a_string_is_not_a_comment(tmp_path: Path) -> None:
    body = 'app = FastAPI(debug=True, openapi_url=None, title="# noqa")\n'
    assert lint_python(tmp_path, body) == [(3, "FL403")]
    docstring = f'{DEBUG}; doc = """\n# noqa: FL403\n"""\n'
    assert lint_python(tmp_path, docstring) == [(3, "FL403")]


def test_multi_line_statement_first_line_counts(tmp_path: Path) -> None:
    body = "app = FastAPI(  # noqa: FL403\n    debug=True,\n    openapi_url=None,\n)\n"
    assert lint_python(tmp_path, body) == []


def test_multi_line_statement_reported_line_counts(tmp_path: Path) -> None:
    body = "app = FastAPI(\n    debug=True,  # noqa: FL403\n    openapi_url=None,\n)\n"
    assert lint_python(tmp_path, body) == []


def test_multi_line_statement_last_line_counts(tmp_path: Path) -> None:
    body = "app = FastAPI(\n    debug=True,\n    openapi_url=None,\n)  # noqa: FL403\n"
    assert lint_python(tmp_path, body) == []


def test_comment_line_ignore_covers_a_multi_line_statement(tmp_path: Path) -> None:
    body = "# fastlint: ignore[FL403]\napp = FastAPI(\n    debug=True,\n    openapi_url=None,\n)\n"
    assert lint_python(tmp_path, body) == []


def test_multi_line_statement_unrelated_inner_line_does_not_count(tmp_path: Path) -> None:
    body = "app = FastAPI(\n    debug=True,\n    openapi_url=None,  # noqa: FL403\n)\n"
    found = lint_python(tmp_path, body)
    assert [code for _, code in found] == ["FL403"]


def test_comment_line_ignore_applies_to_the_next_line(tmp_path: Path) -> None:
    body = f"# fastlint: ignore[FL403]\n{DEBUG}\n{DEBUG}\n"
    assert lint_python(tmp_path, body) == [(5, "FL403")]


@pytest.mark.parametrize(
    "header",
    [
        "# fastlint: ignore-file\n",
        "# fastlint: ignore-file[FL403]\n",
        "# fastlint: ignore-file[FL4]\n",
        "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n\n# fastlint: ignore-file[FL403]\n",
        "# Licence header\n# fastlint: ignore-file[FL401, FL403]\n",
    ],
)
def test_ignore_file_in_first_comment_block(tmp_path: Path, header: str) -> None:
    assert lint_file(tmp_path, "app.py", header + HEADER + DEBUG + "\n") == []


def test_ignore_file_for_other_code_keeps_findings(tmp_path: Path) -> None:
    text = "# fastlint: ignore-file[FL401]\n" + HEADER + DEBUG + "\n"
    assert lint_file(tmp_path, "app.py", text) == [(4, "FL403")]


def test_ignore_file_after_code_is_not_honoured(tmp_path: Path) -> None:
    text = HEADER + "# fastlint: ignore-file\n" + DEBUG + "\n"
    assert lint_file(tmp_path, "app.py", text) == [(4, "FL403")]


def test_ignore_file_works_on_a_file_that_does_not_parse(tmp_path: Path) -> None:
    """A templated .py file the parser rejects can still be silenced from inside."""
    assert lint_file(tmp_path, "tpl.py", "def broken(:\n") == [(1, "FL000")]
    assert lint_file(tmp_path, "tpl.py", "# fastlint: ignore-file\ndef broken(:\n") == []


def test_suppression_in_crlf_file(tmp_path: Path) -> None:
    second = DEBUG.replace("app =", "api =")  # a rebound draft `app` would not be served
    text = (HEADER + DEBUG + "  # noqa: FL403\n" + second + "\n").replace("\n", "\r\n")
    (tmp_path / "app.py").write_bytes(text.encode())
    result = lint([tmp_path / "app.py"], build_settings({}), root=tmp_path, cwd=tmp_path)
    assert [(d.line, d.code) for d in result.diagnostics] == [(4, "FL403")]


def test_python_suppressions_survive_grammar_the_tokenizer_rejects() -> None:
    # An unterminated triple-quoted string makes tokenize fail: the scanner takes over and
    # still skips the strings' markers while seeing the real comment.
    text = 'x = 1  # noqa: FL101\ns = "# noqa: FL102"\nt = """\n# noqa: FL103\n'
    suppressions = parse_suppressions(FileKind.PYTHON, text)
    assert suppressions.suppresses("FL101", 1)
    assert not suppressions.suppresses("FL102", 2)
    assert not suppressions.suppresses("FL103", 4)


# ---------------------------------------------------------------------------- line files


def test_dockerfile_comment_line_suppresses_next_instruction_and_continuations() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"  # 1
        "FROM python:3.12-slim\n"  # 2
        "# fastlint: ignore[FL503]\n"  # 3
        "\n"  # 4
        "RUN apt-get update && \\\n"  # 5
        "    # a comment inside the continuation\n"  # 6
        "    apt-get install -y gcc\n"  # 7
        "RUN echo next\n"  # 8
    )
    suppressions = parse_suppressions(FileKind.DOCKERFILE, text)
    assert suppressions.suppresses("FL503", 5)
    assert suppressions.suppresses("FL503", 7)
    assert not suppressions.suppresses("FL503", 8)
    assert not suppressions.suppresses("FL501", 5)
    assert not suppressions.suppresses("FL503", 2)


def test_dockerfile_escape_directive_and_heredoc() -> None:
    text = (
        "# escape=`\n"  # 1
        "FROM mcr.microsoft.com/windows\n"  # 2
        "# noqa: FL503\n"  # 3
        "RUN one `\n"  # 4
        "    two\n"  # 5
        "# fastlint: ignore\n"  # 6
        "RUN <<EOF\n"  # 7
        "apt-get install -y gcc\n"  # 8
        "EOF\n"  # 9
        "CMD run\n"  # 10
    )
    suppressions = parse_suppressions(FileKind.DOCKERFILE, text)
    assert suppressions.suppresses("FL503", 5)
    assert suppressions.suppresses("FL501", 8)
    assert suppressions.suppresses("FL501", 9)
    assert not suppressions.suppresses("FL501", 10)


def test_dockerfile_ignore_file_only_in_first_comment_block() -> None:
    head = parse_suppressions(FileKind.DOCKERFILE, "# fastlint: ignore-file[FL5]\nFROM x\n")
    assert head.suppresses("FL501", 2) and not head.suppresses("FL601", 2)
    late = parse_suppressions(FileKind.DOCKERFILE, "FROM x\n# fastlint: ignore-file\nUSER a\n")
    assert not late.suppresses("FL501", 1)


def test_dockerfile_end_to_end(tmp_path: Path) -> None:
    base = (
        "FROM python:3.12-slim\n"
        "RUN apt-get update && \\\n"
        "    apt-get install -y gcc\n"
        'CMD ["uvicorn", "app:app"]\n'
    )
    assert lint_file(tmp_path, "Dockerfile", base) == [(1, "FL501"), (2, "FL503")]
    lines = base.splitlines(keepends=True)
    marked = ["# fastlint: ignore[FL501]\n", lines[0], "# noqa: FL503\n", *lines[1:]]
    assert lint_file(tmp_path, "Dockerfile", "".join(marked)) == []


def test_shell_comment_line_and_trailing_marker() -> None:
    text = (
        "#!/bin/sh\n"  # 1
        "# fastlint: ignore[FL601]\n"  # 2
        "exec gunicorn app:app \\\n"  # 3
        "    --workers 4\n"  # 4
        "echo '# noqa: FL602'\n"  # 5: inside quotes, not a marker
        "uvicorn app:app  # noqa: FL603\n"  # 6
    )
    suppressions = parse_suppressions(FileKind.SHELL, text)
    assert suppressions.suppresses("FL601", 3)
    assert suppressions.suppresses("FL601", 4)
    assert not suppressions.suppresses("FL602", 5)
    assert suppressions.suppresses("FL603", 6)
    assert not suppressions.suppresses("FL601", 6)


def test_shell_heredoc_is_one_command() -> None:
    text = "# fastlint: ignore[FL601]\ncat <<'EOF' > conf\nline\nEOF\necho after\n"
    suppressions = parse_suppressions(FileKind.SHELL, text)
    assert [suppressions.suppresses("FL601", n) for n in range(2, 6)] == [True] * 3 + [False]


def test_procfile_comment_line_suppresses_next_process_only() -> None:
    text = (
        "# fastlint: ignore-file[FL605]\n"
        "# fastlint: ignore[FL601]\n"
        "web: uvicorn app:app\n"
        "worker: celery worker\n"
    )
    suppressions = parse_suppressions(FileKind.PROCFILE, text)
    assert suppressions.suppresses("FL601", 3)
    assert not suppressions.suppresses("FL601", 4)
    assert suppressions.suppresses("FL605", 4)


def test_markers_accumulate_over_several_comment_lines() -> None:
    text = "# fastlint: ignore[FL501]\n# noqa: FL502\nUSER root\n"
    suppressions = parse_suppressions(FileKind.DOCKERFILE, text)
    assert suppressions.suppresses("FL501", 3) and suppressions.suppresses("FL502", 3)


def test_gunicorn_config_uses_python_comments() -> None:
    text = 'workers = 4  # noqa: FL604\nbind = "0.0.0.0:8000 # noqa"\n'
    suppressions = parse_suppressions(FileKind.GUNICORN, text)
    assert suppressions.suppresses("FL604", 1)
    assert not suppressions.suppresses("FL604", 2)


# ---------------------------------------------------------------------------- FL001 / FL002


@pytest.mark.parametrize(
    "comment",
    [
        "# noqa: FL1O1",
        "# noqa: FL999",
        "# noqa:",
        "# fastlint: ignore[]",
        "# noqa: FL",
        "# noqa: E5O1",
    ],
)
def test_an_invalid_marker_never_suppresses_everything(tmp_path: Path, comment: str) -> None:
    found = lint_file(tmp_path, "app.py", f"{HEADER}{DEBUG}  {comment}\n", hygiene=True)
    assert (3, "FL403") in found


@pytest.mark.parametrize(
    "comment", ["# noqa: B008 FL403", "# noqa: B008,FL403", "# noqa: B008, FL403"]
)
def test_codes_separated_by_spaces_or_commas(tmp_path: Path, comment: str) -> None:
    assert lint_file(tmp_path, "app.py", f"{HEADER}{DEBUG}  {comment}\n", hygiene=True) == []


def test_unused_code_in_a_dockerfile_comment_line(tmp_path: Path) -> None:
    text = 'FROM python:3.12-slim\nUSER app\n# noqa: FL503\nCMD ["uvicorn", "app:app"]\n'
    assert lint_file(tmp_path, "Dockerfile", text, hygiene=True) == [(3, "FL001")]


def test_unused_code_of_an_unselected_rule_is_not_reported(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1  # noqa: FL101\n", encoding="utf-8")
    settings = build_settings({"select": ["FL4", "FL001"]})
    result = lint([tmp_path], settings, root=tmp_path, cwd=tmp_path)
    assert result.diagnostics == []
    result = lint([tmp_path], build_settings({}), root=tmp_path, cwd=tmp_path)
    assert [(d.line, d.code, d.column) for d in result.diagnostics] == [(1, "FL001", 16)]


def test_unused_ignore_file_code(tmp_path: Path) -> None:
    text = "# fastlint: ignore-file[FL501]\nx = 1\n"
    assert lint_file(tmp_path, "app.py", text, hygiene=True) == [(1, "FL001")]


def test_no_unused_suppression_in_a_file_that_does_not_parse(tmp_path: Path) -> None:
    text = "def broken(:\n    x = 1  # noqa: FL101\n"
    assert lint_file(tmp_path, "app.py", text, hygiene=True) == [(1, "FL000")]
