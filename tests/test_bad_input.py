"""FL000: a file fastlint cannot read or parse is one diagnostic, and the run goes on."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastlint.cli import cli
from fastlint.config import build_settings
from fastlint.diagnostics import Diagnostic, Severity
from fastlint.engine import lint

DEBUG_APP = "from fastapi import FastAPI\n\napp = FastAPI(debug=True, openapi_url=None)\n"


def lint_tree(root: Path, files: dict[str, bytes | str], **options: object) -> list[Diagnostic]:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
    settings = build_settings({"options": options} if options else {})
    return lint([root], settings, root=root, cwd=root).diagnostics


def only_fl000(diagnostics: list[Diagnostic], path: str) -> Diagnostic:
    """The single FL000 of ``path``, after checking the good file's finding survived."""
    assert ("good.py", 3, "FL403") in [(d.path, d.line, d.code) for d in diagnostics]
    mine = [d for d in diagnostics if d.path == path]
    assert [d.code for d in mine] == ["FL000"], mine
    assert mine[0].severity is Severity.ERROR
    assert mine[0].name == "unreadable-file"
    return mine[0]


def test_syntax_error(tmp_path: Path) -> None:
    diagnostics = lint_tree(
        tmp_path, {"good.py": DEBUG_APP, "bad.py": "x = 1\ndef broken(:\n    pass\n"}
    )
    error = only_fl000(diagnostics, "bad.py")
    assert "syntax error" in error.message
    assert error.line == 2


@pytest.mark.parametrize(
    "source",
    [
        # Python 3.14 (PEP 758): except without parentheses.
        "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
        # Python 3.12 (PEP 695): type parameters and the type statement.
        "type Pair = tuple[int, int]\n\ndef first[T](items: list[T]) -> T:\n    return items[0]\n",
        # Python 3.11: except*.
        "try:\n    pass\nexcept* ValueError:\n    pass\n",
        # Python 3.10: match statement.
        "match command:\n    case [x, y]:\n        pass\n    case _:\n        pass\n",
    ],
)
def test_newer_grammar_parses(tmp_path: Path, source: str) -> None:
    diagnostics = lint_tree(tmp_path, {"good.py": DEBUG_APP, "new.py": source})
    assert [(d.path, d.code) for d in diagnostics] == [("good.py", "FL403")]


def test_valid_code_libcst_validation_rejects_parses(tmp_path: Path) -> None:
    # LibCST issue #1061: its node validation raises TypeError on this valid expression. The
    # parser's output is not re-validated, so the file is checked like any other.
    source = "import time\n\nx = () if 0 else(lambda:())\n\nasync def f():\n    time.sleep(1)\n"
    diagnostics = lint_tree(tmp_path, {"good.py": DEBUG_APP, "odd.py": source})
    assert [(d.path, d.line, d.code) for d in diagnostics] == [
        ("good.py", 3, "FL403"),
        ("odd.py", 6, "FL101"),
    ]


def test_parser_failure_on_valid_python_is_not_called_a_syntax_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastlint.python import loading

    real_parse = loading.parse_python

    def parse(text: str) -> object:
        if "odd" in text:
            raise TypeError("super(type, obj): obj must be an instance or subtype of type")
        return real_parse(text)

    monkeypatch.setattr(loading, "parse_python", parse)
    odd = "async def odd():\n    pass\n"  # a coroutine: a rule needs it parsed
    diagnostics = lint_tree(tmp_path, {"good.py": DEBUG_APP, "odd.py": odd})
    message = only_fl000(diagnostics, "odd.py").message
    assert "syntax error" not in message
    assert "LibCST, the parser fastlint uses, fails on this valid Python (super(type" in message


def test_parse_leaves_node_validation_on(tmp_path: Path) -> None:
    import libcst as cst

    from fastlint.python.parsing import parse_python

    parse_python("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")  # a hand-built node is still validated after a parse...
    with pytest.raises(cst.ParserSyntaxError):
        parse_python("def broken(:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")  # ...and after a parse that failed


def test_not_utf8(tmp_path: Path) -> None:
    diagnostics = lint_tree(
        tmp_path, {"good.py": DEBUG_APP, "latin1.py": b"x = 1\nname = '\xe9t\xe9'\n"}
    )
    error = only_fl000(diagnostics, "latin1.py")
    assert "UTF-8" in error.message
    assert error.line == 2


def test_binary_file_with_nul_bytes(tmp_path: Path) -> None:
    diagnostics = lint_tree(tmp_path, {"good.py": DEBUG_APP, "blob.py": b"\x00\x01\x02binary"})
    assert "NUL" in only_fl000(diagnostics, "blob.py").message


def test_unreadable_file_by_permissions(tmp_path: Path) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode; see the monkeypatched test")
    (tmp_path / "secret.py").write_text("x = 1\n")
    (tmp_path / "secret.py").chmod(0)
    try:
        diagnostics = lint_tree(tmp_path, {"good.py": DEBUG_APP})
    finally:
        (tmp_path / "secret.py").chmod(0o644)
    assert "permission denied" in only_fl000(diagnostics, "secret.py").message


def test_unreadable_file_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "secret.py":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    diagnostics = lint_tree(tmp_path, {"good.py": DEBUG_APP, "secret.py": "x = 1\n"})
    assert "permission denied" in only_fl000(diagnostics, "secret.py").message


def test_over_max_file_size(tmp_path: Path) -> None:
    big = "x = 1\n" * 200
    diagnostics = lint_tree(
        tmp_path, {"good.py": DEBUG_APP, "big.py": big}, **{"max-file-size": 1000}
    )
    assert "max-file-size" in only_fl000(diagnostics, "big.py").message


def test_byte_order_mark_is_fine(tmp_path: Path) -> None:
    diagnostics = lint_tree(tmp_path, {"good.py": DEBUG_APP, "bom.py": b"\xef\xbb\xbf" + b"x=1\n"})
    assert [(d.path, d.code) for d in diagnostics] == [("good.py", "FL403")]
    with_bom = lint_tree(tmp_path, {"good.py": "\ufeff" + DEBUG_APP})
    assert [(d.line, d.column, d.code) for d in with_bom] == [(3, 21, "FL403")]


def test_crlf_line_endings_are_fine(tmp_path: Path) -> None:
    diagnostics = lint_tree(tmp_path, {"good.py": DEBUG_APP.replace("\n", "\r\n")})
    assert [(d.line, d.column, d.code) for d in diagnostics] == [(3, 21, "FL403")]


def test_empty_file_is_fine(tmp_path: Path) -> None:
    diagnostics = lint_tree(tmp_path, {"good.py": DEBUG_APP, "empty.py": ""})
    assert [d.path for d in diagnostics] == ["good.py"]


def test_nesting_too_deep_is_one_fl000_not_a_crash(tmp_path: Path) -> None:
    deep = "x = " + "(" * 3000 + "1" + ")" * 3000 + "\n"
    diagnostics = lint_tree(tmp_path, {"good.py": DEBUG_APP, "deep.py": deep})
    assert "too deep" in only_fl000(diagnostics, "deep.py").message


def test_non_utf8_dockerfile(tmp_path: Path) -> None:
    diagnostics = lint_tree(tmp_path, {"good.py": DEBUG_APP, "Dockerfile": b"FROM x\n# \xff\n"})
    assert "UTF-8" in only_fl000(diagnostics, "Dockerfile").message


def test_broken_symlink(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").symlink_to(tmp_path / "docker" / "missing")
    diagnostics = lint_tree(tmp_path, {"good.py": DEBUG_APP})
    assert "broken symbolic link" in only_fl000(diagnostics, "Dockerfile").message


def test_symlink_loop_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").symlink_to("b.py")
    (tmp_path / "b.py").symlink_to("a.py")
    diagnostics = lint_tree(tmp_path, {"good.py": DEBUG_APP})
    assert "loop" in only_fl000(diagnostics, "a.py").message
    assert "loop" in only_fl000(diagnostics, "b.py").message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    result: list[list[Diagnostic]] = []
    worker = threading.Thread(
        target=lambda: result.append(lint_tree(tmp_path, {"good.py": DEBUG_APP})), daemon=True
    )
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "reading a named pipe blocked the run"
    assert "not a regular file" in only_fl000(result[0], "pipe.py").message


def test_context_only_files_do_not_report_fl000(tmp_path: Path) -> None:
    """With explicit files (pre-commit), a broken file elsewhere is context, not a finding."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "broken.py").write_text("def broken(:\n")
    (tmp_path / "good.py").write_text(DEBUG_APP)
    result = lint([tmp_path / "good.py"], build_settings({}), cwd=tmp_path)
    assert [(d.path, d.code) for d in result.diagnostics] == [("good.py", "FL403")]


def test_cli_reports_fl000_and_other_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "good.py").write_text(DEBUG_APP)
    (tmp_path / "bad.py").write_bytes(b"\xff\xfe garbage")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["--format", "concise", "."])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("bad.py:1:1: FL000 [error] file is not valid UTF-8")
    assert lines[1].startswith("good.py:3:21: FL403")
    assert "Traceback" not in result.output


def test_fl000_can_be_ignored_per_file(tmp_path: Path) -> None:
    (tmp_path / "tpl.py").write_text("{{ jinja }}\ndef (:\n")
    settings = build_settings({"per-file-ignores": {"tpl.py": ["FL000"]}})
    assert lint([tmp_path], settings, root=tmp_path, cwd=tmp_path).diagnostics == []


# ---------------------------------------------------------------------------- templates

TEMPLATE_FILES = {
    # A cookiecutter project folder: not code until rendered, whatever it holds.
    "{{cookiecutter.project_slug}}/app/main.py": (
        "from fastapi import FastAPI\napp = FastAPI(debug=True)\n"
    ),
    "{{cookiecutter.project_slug}}/Dockerfile": "FROM {{ cookiecutter.base_image }}\n",
    # A copier template file outside such a folder: Jinja that is not valid Python.
    "hooks/post_gen_project.py": (
        "{% if cookiecutter.use_db == 'y' %}\nimport sqlalchemy\n{% endif %}\n"
        "NAME = '{{ cookiecutter.project_slug }}'\n"
    ),
}


def test_template_files_are_skipped_and_counted_never_fl000(tmp_path: Path) -> None:
    files = {
        **TEMPLATE_FILES,
        # Valid Python with braces in strings is code, and a real syntax error stays FL000.
        "good.py": DEBUG_APP,
        "format.py": "TEMPLATE = f'{{literal}} {{ x }}'\n",
        "bad.py": "x = 1\ndef broken(:\n    pass\n",
    }
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    result = lint([tmp_path], build_settings({}), root=tmp_path, cwd=tmp_path)
    found = sorted((d.path, d.code) for d in result.diagnostics)
    assert found == [("bad.py", "FL000"), ("good.py", "FL403")]
    assert result.templates == 3
    assert result.files == 3


def test_a_clean_template_repository_exits_zero(tmp_path: Path) -> None:
    for name, content in TEMPLATE_FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    outcome = CliRunner().invoke(cli, [str(tmp_path), "--no-cache", "--format", "concise"])
    assert outcome.exit_code == 0, outcome.output
    assert "3 template files skipped" in outcome.output
