"""--fix, --unsafe-fixes, --diff and --add-noqa.

Every fixture root is fixed with every fix (safe and unsafe): each changed file still parses
(Python: compiles), re-linting finds no finding that was not there before and none that still
has a fix, and fixing again changes nothing. Each fix offered for a fixture finding also
parses when applied alone. Golden projects in ``tests/fix_golden/<case>/before`` must become
``after`` exactly (comments and formatting kept); FASTLINT_REGENERATE=1 rewrites ``after``.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixture_support import FIXTURES, fixture_roots

from fastlint.cli import cli
from fastlint.config import build_settings, read_table
from fastlint.discovery import FileKind
from fastlint.engine import lint
from fastlint.fix.apply import _apply, _parses, fix_project, write_back
from fastlint.fix.base import FIXERS, Source
from fastlint.result import LintResult

GOLDEN = Path(__file__).parent / "fix_golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
ROOTS = fixture_roots()
ROOT_IDS = [root.relative_to(FIXTURES).as_posix() for root in ROOTS]


def _settings(root: Path):  # type: ignore[no-untyped-def]
    config = root / "pyproject.toml"
    return build_settings(read_table(config) if config.exists() else {})


def _lint(root: Path) -> LintResult:
    return lint([root], _settings(root), root=root, cwd=root)


def _fix(root: Path, unsafe: bool = True) -> tuple[LintResult, list[str]]:
    """Fix ``root`` in place; (the lint before, the paths changed)."""
    settings = _settings(root)
    before = lint([root], settings, root=root, cwd=root)
    cwd = Path.cwd()
    os.chdir(root)
    try:
        outcome = fix_project(
            before,
            [root],
            settings,
            lambda paths, r, c: lint(paths, settings, root=r, cwd=c),
            unsafe=unsafe,
        )
        assert not write_back(outcome)
    finally:
        os.chdir(cwd)
    assert not outcome.dropped, outcome.dropped
    return before, sorted(outcome.after)


def _python_paths(root: Path) -> list[str]:
    return [path.relative_to(root).as_posix() for path in root.rglob("*.py")]


def _compiles(path: Path) -> bool:
    try:
        compile(path.read_text(encoding="utf-8-sig"), str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return False
    return True


def _by_code(result: LintResult) -> Counter[tuple[str, str]]:
    return Counter((d.path, d.code) for d in result.diagnostics)


@pytest.mark.parametrize("root", ROOTS, ids=ROOT_IDS)
def test_fixing_a_fixture_root(root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "root"
    shutil.copytree(root, copy, symlinks=True)
    compiled = {path for path in _python_paths(copy) if _compiles(copy / path)}
    before, changed = _fix(copy)
    after = _lint(copy)
    for path in changed:
        # Grammar newer than this interpreter (a fixture with PEP 695 aliases on 3.11) does not
        # compile before or after: it must still compile if it did.
        if path.endswith(".py") and path in compiled:
            text = (copy / path).read_text(encoding="utf-8-sig")
            compile(text, path, "exec", dont_inherit=True)  # compiled, never run
    grown = _by_code(after) - _by_code(before)
    assert not grown, f"new findings after fixing: {dict(grown)}"
    sources = {d.path: (copy / d.path).read_text(encoding="utf-8-sig") for d in after.diagnostics}
    kinds = {f.display: f.kind for f in after.context.files} if after.context else {}
    still = [
        f"{d.path}:{d.line}: {d.code}"
        for d in after.diagnostics
        if d.code in FIXERS and _offers(d, Source(d.path, kinds[d.path], sources[d.path]))
    ]
    assert not still, f"findings that still have a fix: {still}"
    if changed:
        assert any(_by_code(before)[key] > _by_code(after)[key] for key in _by_code(before))
    _, again = _fix(copy)
    assert again == [], "a second --fix changed files"


def _offers(diagnostic, source: Source) -> bool:  # type: ignore[no-untyped-def]
    return bool(FIXERS[diagnostic.code](diagnostic, source))


@pytest.mark.parametrize("root", ROOTS, ids=ROOT_IDS)
def test_each_fix_alone_parses(root: Path) -> None:
    result = _lint(root)
    kinds = {f.display: f.kind for f in result.context.files} if result.context else {}
    for diagnostic in result.diagnostics:
        if diagnostic.code not in FIXERS:
            continue
        text = (root / diagnostic.path).read_text(encoding="utf-8-sig")
        source = Source(diagnostic.path, kinds[diagnostic.path], text)
        for fix in FIXERS[diagnostic.code](diagnostic, source):
            after = _apply(text, list(fix.edits))
            assert after != text
            assert _parses(source.kind, text, after), f"{diagnostic.path}: {fix.title}"


# ---------------------------------------------------------------------------- golden files


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, tmp_path: Path) -> None:
    work = tmp_path / case
    shutil.copytree(GOLDEN / case / "before", work)
    _fix(work)
    expected = GOLDEN / case / "after"
    if os.environ.get("FASTLINT_REGENERATE"):
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(work, expected)
    assert _files(work) == _files(expected)
    # The fixed project has nothing left that a fix could handle, and fixing is idempotent.
    _, again = _fix(work)
    assert again == []


# ---------------------------------------------------------------------------- the command


def _project(tmp_path: Path) -> Path:
    shutil.copytree(GOLDEN / "fl101_sleep" / "before", tmp_path / "p")
    return tmp_path / "p"


def test_safe_fix_in_place_keeps_the_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    (root / "app.py").chmod(0o640)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, ["--fix", "--show-fixes", "--no-cache", "."])
    assert result.exit_code == 0, result.output
    assert "await asyncio.sleep(0.5)" in (root / "app.py").read_text()
    assert stat.S_IMODE((root / "app.py").stat().st_mode) == 0o640
    assert "app.py:13: FL101" in result.output


def test_unsafe_fixes_need_the_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(GOLDEN / "fl101_make_sync" / "before", tmp_path / "p")
    monkeypatch.chdir(tmp_path / "p")
    before = Path("app.py").read_bytes()
    result = CliRunner().invoke(cli, ["--fix", "--no-cache", "--format", "concise", "."])
    assert result.exit_code == 1  # the finding remains
    assert Path("app.py").read_bytes() == before
    result = CliRunner().invoke(cli, ["--fix", "--unsafe-fixes", "--no-cache", "."])
    assert result.exit_code == 0
    assert "\ndef status()" in Path("app.py").read_text()


def test_diff_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    monkeypatch.chdir(root)
    before = (root / "app.py").read_bytes()
    result = CliRunner().invoke(cli, ["--diff", "--no-cache", "."])
    assert result.exit_code == 1
    assert "-    time.sleep(0.5)  # half a second" in result.output
    assert "+    await asyncio.sleep(0.5)  # half a second" in result.output
    assert (root / "app.py").read_bytes() == before
    (root / "app.py").write_text("x = 1\n")
    assert CliRunner().invoke(cli, ["--diff", "--no-cache", "."]).exit_code == 0


def test_exit_non_zero_on_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(_project(tmp_path))
    result = CliRunner().invoke(cli, ["--fix", "--exit-non-zero-on-fix", "--no-cache", "."])
    assert result.exit_code == 1
    result = CliRunner().invoke(cli, ["--fix", "--exit-non-zero-on-fix", "--no-cache", "."])
    assert result.exit_code == 0  # nothing left to fix, nothing fixed


def test_unfixable_and_suppressed_findings_are_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    monkeypatch.chdir(root)
    (root / "pyproject.toml").write_text('[tool.fastlint]\nunfixable = ["FL1"]\n')
    before = (root / "app.py").read_bytes()
    CliRunner().invoke(cli, ["--fix", "--no-cache", "."])
    assert (root / "app.py").read_bytes() == before
    (root / "pyproject.toml").unlink()
    text = before.decode().replace("# half a second", "# noqa: FL101")
    (root / "app.py").write_text(text)
    CliRunner().invoke(cli, ["--fix", "--no-cache", "."])
    assert (root / "app.py").read_text() == text


def test_add_noqa_then_nothing_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(FIXTURES / "demo", tmp_path / "demo")
    monkeypatch.chdir(tmp_path / "demo")
    result = CliRunner().invoke(cli, ["--add-noqa", "--no-cache", "."])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["--no-cache", "--format", "concise", "."])
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(cli, ["--add-noqa", "--no-cache", "."])
    assert "Added 0 noqa directives" in again.output


def test_fixable_config_is_validated() -> None:
    assert not build_settings({"fixable": ["FL5"]}).is_fixable("FL101")
    assert build_settings({"fixable": ["FL5"]}).is_fixable("FL501")
    assert not build_settings({"unfixable": ["FL501"]}).is_fixable("FL501")
    with pytest.raises(ValueError, match="fixable"):
        build_settings({"fixable": ["XX1"]})


def test_a_fix_that_breaks_parsing_is_dropped(tmp_path: Path) -> None:
    text = "async def f():\n    pass\n"
    assert not _parses(FileKind.PYTHON, text, "def f():\n    await g()\n")
    assert _parses(FileKind.PYTHON, "async def f(:\n", "def f(:\n") is False
    assert not _parses(FileKind.DOCKERFILE, "", 'CMD ["a", b]\n')


def _titles(tmp_path: Path, body: str) -> dict[int, list[str]]:
    """Line → titles of the fixes offered for each FL1xx finding in a one-file project."""
    (tmp_path / "app.py").write_text(body, encoding="utf-8")
    result = lint([tmp_path], build_settings({}), root=tmp_path, cwd=tmp_path)
    source = Source("app.py", FileKind.PYTHON, body)
    return {
        d.line: [fix.title for fix in FIXERS[d.code](d, source)]
        for d in result.diagnostics
        if d.code.startswith("FL1")
    }


ROUTE = """\
import asyncio
import requests
from fastapi import FastAPI

app = FastAPI(openapi_url=None)


@app.get("/")
async def route(url: str) -> object:
    await asyncio.sleep(0)
"""


def test_to_thread_only_where_the_work_moves(tmp_path: Path) -> None:
    body = ROUTE + (
        "    requests.get(url, *[], **{})\n"  # 11: offered
        "    with requests.Session() as session:\n"  # 12: a with item
        "        pass\n"
        "    text = open(url).read()\n"  # 14: the read stays on the loop
        "    handlers = [lambda: requests.get(url)]\n"  # 15: no await in a lambda
        "    return [requests.get(u) for u in [url]]\n"  # 16: nor in a comprehension
    )
    titles = _titles(tmp_path, body)
    assert titles[11] == ["run requests.get() in a thread: await asyncio.to_thread(...)"]
    for line in (14,):
        assert titles.get(line, []) == [], line
    assert all(not titles.get(line) for line in (12, 15, 16))


def test_a_route_that_awaits_nothing_becomes_def_before_to_thread(tmp_path: Path) -> None:
    body = ROUTE.replace("    await asyncio.sleep(0)\n", "") + "    return requests.get(url)\n"
    (offered,) = _titles(tmp_path, body).values()
    assert offered[0] == "make 'route' a plain def (FastAPI runs it in its threadpool)"
    assert offered[1].startswith("run requests.get() in a thread")


@pytest.mark.parametrize(
    ("kind", "text", "codes", "expected"),
    [
        (FileKind.PYTHON, "x = 1\n", {"FL403"}, "x = 1  # noqa: FL403\n"),
        (FileKind.PYTHON, "x = 1  # noqa: E501\n", {"FL403"}, "x = 1  # noqa: E501, FL403\n"),
        (
            FileKind.PYTHON,
            "x = 1  # fastlint: ignore[FL401] why\n",
            {"FL403"},
            "x = 1  # fastlint: ignore[FL401, FL403] why\n",
        ),
        (FileKind.PYTHON, "x = 1  # noqa\n", {"FL403"}, "x = 1  # noqa\n"),
        (
            FileKind.PYTHON,
            'x = f(\n    "a",\n)\n',
            {"FL403"},
            'x = f(\n    "a",\n)  # noqa: FL403\n',
        ),
        (
            FileKind.DOCKERFILE,
            "FROM python:3.12\n# noqa: FL503\nRUN a\n",
            {"FL501"},
            "FROM python:3.12\n# noqa: FL503, FL501\nRUN a\n",
        ),
        (FileKind.DOCKERFILE, "FROM a\n  RUN b\n", {"FL503"}, "FROM a\n  # noqa: FL503\n  RUN b\n"),
        (
            FileKind.SHELL,
            "gunicorn a \\\n  -w 4\n",
            {"FL604"},
            "# noqa: FL604\ngunicorn a \\\n  -w 4\n",
        ),
        (FileKind.PROCFILE, "web: gunicorn a\n", {"FL602"}, "web: gunicorn a  # noqa: FL602\n"),
    ],
)
def test_add_noqa_places_and_merges_markers(
    kind: FileKind, text: str, codes: set[str], expected: str
) -> None:
    from fastlint.fix.noqa import with_markers

    line = 3 if kind is FileKind.DOCKERFILE and "RUN a" in text else 2 if "RUN b" in text else 1
    if kind is FileKind.PYTHON and text.startswith("x = f("):
        line = 2
    new, count = with_markers(Source("f", kind, text), {line: codes})
    assert new == expected
    assert count == 1


def test_to_thread_for_a_call_in_an_argument_but_not_for_an_offloaded_result(
    tmp_path: Path,
) -> None:
    body = ROUTE + (
        "    print(requests.get(url))\n"  # 11: an argument: wrapped where it is
        "    await asyncio.to_thread(requests.get(url))\n"  # 12: the result is offloaded
    )
    titles = _titles(tmp_path, body)
    assert titles[11] == ["run requests.get() in a thread: await asyncio.to_thread(...)"]
    assert titles[12] == []


def test_a_fix_that_does_not_remove_its_finding_is_not_applied_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastlint.fix import base

    def useless(diagnostic, source):  # type: ignore[no-untyped-def]
        return [base.Fix("a comment", (base.Edit(0, 0, "# touched\n"),), safe=True)]

    monkeypatch.setitem(base.FIXERS, "FL403", useless)
    (tmp_path / "app.py").write_text(
        "from fastapi import FastAPI\n\napp = FastAPI(debug=True, openapi_url=None)\n"
    )
    _, changed = _fix(tmp_path)
    assert changed == ["app.py"]
    assert (tmp_path / "app.py").read_text().count("# touched") == 1
