"""Hostile files: each becomes one FL000 for that file and nothing is lost for the others.

Every test lints a small project holding the hostile file next to ``good.py``, whose findings
must be exactly what ``good.py`` produces on its own.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from fastlint import engine, incremental
from fastlint.cli import cli
from fastlint.config import default_settings
from fastlint.diagnostics import Diagnostic
from fastlint.discovery import FileKind, SourceFile
from fastlint.engine import lint
from fastlint.incremental import workers
from fastlint.python import loading
from fastlint.python.module import PythonModule

GOOD = (
    "from fastapi import FastAPI\n"
    "\n"
    "app = FastAPI(debug=True)\n"
    "\n"
    "\n"
    "def handler():\n"
    '    return "ok"\n'
)


def run(root: Path, **options: object) -> list[Diagnostic]:
    return lint([root], default_settings(**options), root=root, cwd=root).diagnostics


def findings(diagnostics: list[Diagnostic], path: str) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in diagnostics if d.path == path]


@pytest.fixture(scope="module")
def good_alone(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[int, str]]:
    root = tmp_path_factory.mktemp("good")
    (root / "good.py").write_text(GOOD)
    found = findings(run(root), "good.py")
    assert found, "good.py must produce findings for the comparison to mean anything"
    assert all(code != "FL000" for _, code in found)
    return found


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "good.py").write_text(GOOD)
    return tmp_path


def assert_one_fl000(
    diagnostics: list[Diagnostic], path: str, good: list[tuple[int, str]], reason: str
) -> Diagnostic:
    """Exactly one FL000 for ``path``, naming ``reason``; good.py's findings all still there."""
    mine = [d for d in diagnostics if d.path == path]
    assert [d.code for d in mine] == ["FL000"], mine
    assert reason in mine[0].message
    assert findings(diagnostics, "good.py") == good
    return mine[0]


# ---------------------------------------------------------------------------- size and nesting


def test_file_over_max_file_size_is_skipped(project: Path, good_alone: list) -> None:
    (project / "big.py").write_text("x = 1\n" * 100)  # 600 bytes; good.py is smaller
    diagnostics = run(project, **{"max-file-size": 300})
    assert_one_fl000(diagnostics, "big.py", good_alone, "max-file-size")


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("x = " + "(" * 5000 + "1" + ")" * 5000 + "\n", id="parens-5000"),
        pytest.param("x = " + "[" * 3000 + "]" * 3000 + "\n", id="lists-3000"),
        pytest.param("x = f" + "(" * 2500 + ")" * 2500 + "\n", id="calls-2500"),
        pytest.param("x = " + "+".join(["1"] * 100_000) + "\n", id="plus-100k"),
        pytest.param("x = a" + ".b" * 20_000 + "\n", id="attributes-20k"),
        pytest.param("x = " + "not " * 20_000 + "a\n", id="not-20k"),
    ],
)
def test_deeply_nested_expression(project: Path, good_alone: list, source: str) -> None:
    # Without the screen in python.loading, LibCST segfaults (brackets) or runs for minutes.
    (project / "deep.py").write_text(source)
    assert_one_fl000(run(project), "deep.py", good_alone, "nesting too deep")


@pytest.mark.parametrize(
    ("text", "long"),
    [
        ("x = 1\n" + "y" * 1999 + "\n", False),
        ("x = 1\n" + "y" * 2000 + "\n", True),
        ("x = 1\n" + "y" * 2000, True),  # the last line, without a line break
        ("x = 1\r\n" * 2000, False),
        ("", False),
    ],
)
def test_a_line_long_enough_to_screen(text: str, long: bool) -> None:
    # A chain of a few thousand operators has no brackets: its line length gets it screened.
    assert loading._has_long_line(text) is long


def test_moderately_nested_code_is_still_linted(project: Path) -> None:
    # Deep but legal: CPython accepts 150 brackets, so fastlint must lint it, not skip it.
    body = "x = " + "(" * 150 + "1" + ")" * 150 + "\n"
    (project / "nested.py").write_text(GOOD + body)
    diagnostics = run(project)
    assert findings(diagnostics, "nested.py") == findings(diagnostics, "good.py")


# ---------------------------------------------------------------------------- encodings, bytes


def test_non_utf8_file(project: Path, good_alone: list) -> None:
    (project / "latin1.py").write_bytes(b"# comment\nname = 'caf\xe9'\n")
    found = assert_one_fl000(run(project), "latin1.py", good_alone, "not valid UTF-8")
    assert found.line == 2


def test_null_bytes(project: Path, good_alone: list) -> None:
    (project / "binary.py").write_bytes(b"x = 1\n\x00\x00\x00\n")
    assert_one_fl000(run(project), "binary.py", good_alone, "NUL")


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda text: "\ufeff" + text, id="bom"),
        pytest.param(lambda text: text.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda text: text.replace("    ", "\t"), id="tabs"),
        pytest.param(lambda text: "\ufeff" + text.replace("\n", "\r\n"), id="bom-crlf"),
    ],
)
def test_same_findings_whatever_the_encoding_details(
    project: Path, good_alone: list, transform: object
) -> None:
    (project / "variant.py").write_bytes(transform(GOOD).encode("utf-8"))  # type: ignore[operator]
    diagnostics = run(project)
    assert findings(diagnostics, "variant.py") == good_alone
    assert findings(diagnostics, "good.py") == good_alone


@pytest.mark.parametrize("name", ["Dockerfile", "Procfile", "entrypoint.sh", "gunicorn.conf.py"])
def test_non_utf8_in_every_file_kind(project: Path, good_alone: list, name: str) -> None:
    (project / name).write_bytes(b"#!/bin/sh\n\xff\xfe bad\n")
    assert_one_fl000(run(project), name, good_alone, "not valid UTF-8")


# ---------------------------------------------------------------------------- the file system


def test_unreadable_file(project: Path, good_alone: list, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root ignores chmod, so the permission error is simulated where the engine reads.
    (project / "secret.py").write_text("x = 1\n")
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "secret.py":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert_one_fl000(run(project), "secret.py", good_alone, "permission denied")


def test_file_deleted_during_the_run(
    project: Path, good_alone: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_discover = engine.discover

    def discover_then_delete(*args: object, **kwargs: object) -> list[SourceFile]:
        files = real_discover(*args, **kwargs)  # type: ignore[arg-type]
        gone = project / "gone.py"
        return [*files, SourceFile(gone, "gone.py", "gone.py", FileKind.PYTHON, True)]

    monkeypatch.setattr(engine, "discover", discover_then_delete)
    assert_one_fl000(run(project), "gone.py", good_alone, "disappeared")


def test_directory_symlink_loop_is_not_followed(project: Path, good_alone: list) -> None:
    (project / "pkg").mkdir()
    (project / "pkg" / "loop").symlink_to(project, target_is_directory=True)
    (project / "pkg" / "self").symlink_to(project / "pkg" / "self", target_is_directory=True)
    diagnostics = run(project)
    assert [(d.path, d.line, d.code) for d in diagnostics] == [
        ("good.py", line, code) for line, code in good_alone
    ]


def test_file_symlink_to_itself(project: Path, good_alone: list) -> None:
    (project / "self.py").symlink_to(project / "self.py")
    assert_one_fl000(run(project), "self.py", good_alone, "loop")


def test_dangling_symlink(project: Path, good_alone: list) -> None:
    (project / "dangling.py").symlink_to(project / "nowhere.py")
    assert_one_fl000(run(project), "dangling.py", good_alone, "broken symbolic link")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_does_not_hang(project: Path, good_alone: list) -> None:
    os.mkfifo(project / "pipe.py")
    assert_one_fl000(run(project), "pipe.py", good_alone, "not a regular file")


# ---------------------------------------------------------------------------- crashing rules


def test_crashing_file_rule_becomes_one_fl000(
    project: Path, good_alone: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastlint.rules.app_surface import DebugEnabled

    def boom(self: object, unit: object, ctx: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(DebugEnabled, "check", boom)
    diagnostics = run(project)
    good = [d for d in diagnostics if d.path == "good.py"]
    crashed = [d for d in good if d.code == "FL000"]
    assert len(crashed) == 1
    assert "internal error in FL403" in crashed[0].message and "boom" in crashed[0].message
    others = [(d.line, d.code) for d in good if d.code != "FL000"]
    assert others == [(line, code) for line, code in good_alone if code != "FL403"]


def test_crashing_project_rule_is_reported_not_swallowed(
    project: Path, good_alone: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastlint import registry
    from fastlint.rules.base import ProjectRule

    project_rule = next(
        cls for cls in registry.all_rules().values() if issubclass(cls, ProjectRule)
    )

    def boom(self: object, ctx: object) -> None:
        raise KeyError("deployment")

    monkeypatch.setattr(project_rule, "check", boom)
    diagnostics = run(project)
    crashed = [d for d in diagnostics if d.code == "FL000"]
    assert len(crashed) == 1, diagnostics
    assert f"internal error in {project_rule.meta.code}" in crashed[0].message
    assert findings(diagnostics, "good.py") == good_alone


def test_crashing_loader_becomes_one_fl000(
    project: Path, good_alone: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bug in a front end (here: the Dockerfile model) must not take the whole run down.
    (project / "Dockerfile").write_text("FROM python:3.12-slim\n")

    def broken_loader(source: SourceFile, text: str, root: Path) -> object:
        raise IndexError("front end bug")

    monkeypatch.setitem(engine.LOADERS, FileKind.DOCKERFILE, broken_loader)
    assert_one_fl000(run(project), "Dockerfile", good_alone, "front end bug")


# ---------------------------------------------------------------------------- parallel workers


def _die_on(monkeypatch: pytest.MonkeyPatch, doomed: set[str], how: str) -> None:
    """Make the worker that starts checking a ``doomed`` file die, without any exception the
    engine could catch. Workers are forked, so they run the patched method."""
    real_load = PythonModule.load

    def load_or_die(module: PythonModule) -> Exception | None:
        if Path(module.path).name in doomed:
            if how == "exit":
                os._exit(70)
            os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer does
        return real_load(module)

    monkeypatch.setattr(PythonModule, "load", load_or_die)


@pytest.mark.skipif(not workers.can_fork(), reason="worker processes need os.fork")
@pytest.mark.parametrize("how, why", [("exit", "exited with code 70"), ("kill", "SIGKILL")])
@pytest.mark.parametrize(
    "doomed",
    [
        pytest.param({"a_first.py"}, id="first-of-a-slice"),
        pytest.param({"other3.py"}, id="middle-of-a-slice"),
        pytest.param({"zz_last.py"}, id="last-file"),
        pytest.param({"other1.py", "other2.py", "other6.py"}, id="three-in-two-slices"),
    ],
)
def test_worker_process_that_dies(
    project: Path,
    good_alone: list,
    monkeypatch: pytest.MonkeyPatch,
    doomed: set[str],
    how: str,
    why: str,
) -> None:
    names = ["a_first.py", "zz_last.py", *(f"other{index}.py" for index in range(8))]
    for name in names:
        (project / name).write_text(GOOD)
    _die_on(monkeypatch, doomed, how)
    settings = default_settings()
    diagnostics = incremental.lint(
        [project], settings, cache_dir=None, cwd=project, jobs=2
    ).diagnostics
    for name in names:
        if name in doomed:
            died = [d for d in diagnostics if d.path == name]
            assert [d.code for d in died] == ["FL000"], died
            assert why in died[0].message and "while checking this file" in died[0].message
        else:
            assert findings(diagnostics, name) == good_alone, name
    assert findings(diagnostics, "good.py") == good_alone


@pytest.mark.skipif(not workers.can_fork(), reason="worker processes need os.fork")
def test_a_file_whose_worker_died_is_not_cached(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A crash says nothing certain about the file (the OOM killer may strike anywhere): the
    # next run checks it again instead of replaying the FL000.
    cached_lint = incremental.lint
    (project / "other.py").write_text(GOOD)
    cache = tmp_path_factory.mktemp("cache")
    with monkeypatch.context() as patched:
        _die_on(patched, {"other.py"}, "kill")
        first = cached_lint([project], default_settings(), cache_dir=cache, cwd=project, jobs=2)
    assert [d.code for d in first.diagnostics if d.path == "other.py"] == ["FL000"]
    (project / "good.py").write_text(GOOD + "\n")  # a miss, served from per-file entries
    again = cached_lint([project], default_settings(), cache_dir=cache, cwd=project, jobs=1)
    assert findings(again.diagnostics, "other.py") == findings(again.diagnostics, "good.py")
    assert "FL000" not in {d.code for d in again.diagnostics}


@pytest.mark.skipif(not workers.can_fork(), reason="worker processes need os.fork")
def test_hostile_files_in_workers(project: Path, good_alone: list) -> None:
    # The per-file screens (nesting, syntax, BOM, NUL) hold in a worker as in-process.
    hostile = {
        "deep.py": "x = " + "(" * 3000 + ")" * 3000 + "\n",
        "broken.py": "def f(:\n",
        "nul.py": "x = 1\0\n",
        "bom.py": "\ufeff" + GOOD,
    }
    for name, text in hostile.items():
        (project / name).write_text(text, encoding="utf-8")
    serial = incremental.lint([project], default_settings(), cache_dir=None, cwd=project, jobs=1)
    parallel = incremental.lint([project], default_settings(), cache_dir=None, cwd=project, jobs=2)
    assert parallel.diagnostics == serial.diagnostics
    assert {d.path for d in serial.diagnostics if d.code == "FL000"} >= {"deep.py", "broken.py"}
    assert findings(parallel.diagnostics, "good.py") == good_alone


# ---------------------------------------------------------------------------- the command line


def test_command_line_reports_hostile_files_and_exits_1(project: Path) -> None:
    import json

    from click.testing import CliRunner

    (project / "deep.py").write_text("x = " + "(" * 3000 + ")" * 3000 + "\n")
    (project / "latin1.py").write_bytes(b"x = '\xe9'\n")
    (project / "Dockerfile").write_bytes(b"\x00\x01")
    result = CliRunner().invoke(cli, [str(project), "--format", "json", "--quiet"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    fl000 = sorted(Path(d["path"]).name for d in report["diagnostics"] if d["code"] == "FL000")
    assert fl000 == ["Dockerfile", "deep.py", "latin1.py"]
