"""Linting some files of a project (pre-commit passes the staged ones) reads the rest as
context, parses only the modules the findings depend on, and reports exactly what a whole-project
run reports for those files."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_support import fixture_files, lint_root, write

from fastlint import engine
from fastlint.config import build_settings, read_table
from fastlint.discovery import FileKind
from fastlint.engine import lint
from fastlint.incremental.steps import Outcome, RecordedChecks
from fastlint.incremental.tracking import Recorder
from fastlint.python import reads

PYTHON_FIXTURES = [(root, path) for root, path in fixture_files() if path.suffix == ".py"]


@pytest.mark.parametrize(
    ("root", "path"),
    PYTHON_FIXTURES,
    ids=[str(path.relative_to(root.parent)) for root, path in PYTHON_FIXTURES],
)
def test_one_file_run_reports_what_the_whole_run_reports(root: Path, path: Path) -> None:
    config = root / "pyproject.toml"
    settings = build_settings(read_table(config) if config.exists() else {})
    rel = path.relative_to(root).as_posix()
    alone = lint([path], settings, root=root, cwd=root).diagnostics
    whole = [d for d in lint_root(root) if d.path == rel]
    assert alone == whole


SERVICE = {
    "pyproject.toml": "[project]\nname = 'svc'\n",
    "app/__init__.py": "",
    "app/main.py": (
        "from fastapi import FastAPI\n"
        "from app.rates import fetch_rates\n"
        "app = FastAPI(openapi_url=None)\n"
        "@app.get('/rates')\n"
        "async def rates():\n"
        "    return fetch_rates()\n"
    ),
    "app/rates.py": (
        "from app.http import get_json\n"
        "def fetch_rates():\n"
        "    return get_json('https://rates.example')\n"
    ),
    "app/http.py": (
        "import requests\ndef get_json(url):\n    return requests.get(url, timeout=5).json()\n"
    ),
    # Context the finding does not depend on: never parsed, and its syntax error unreported.
    "app/reports.py": "import requests\ndef nightly():\n    return requests.get('x', timeout=5)\n",
    "app/broken.py": "def oops(:\n",
    "app/admin.py": "import time\ndef pause():\n    time.sleep(1)\n",
}


def modules_by_path(result) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {unit.path: unit for unit in result.context.units_of(FileKind.PYTHON)}


def test_a_one_file_run_parses_only_what_its_findings_depend_on(tmp_path: Path) -> None:
    write(tmp_path, SERVICE)
    result = lint([tmp_path / "app/main.py"], build_settings({}), root=tmp_path, cwd=tmp_path)
    assert [(d.code, d.path, d.line) for d in result.diagnostics] == [("FL102", "app/main.py", 6)]
    assert "rates.fetch_rates() → http.get_json() → requests.get" in result.diagnostics[0].message
    loaded = {path for path, unit in modules_by_path(result).items() if unit.is_loaded}
    assert loaded == {"app/main.py", "app/rates.py", "app/http.py"}


@pytest.fixture
def recorder():  # type: ignore[no-untyped-def]
    recorder = Recorder()
    previous = reads.install(recorder)
    yield recorder
    reads.install(previous)


def _checks(root: Path, recorder: Recorder) -> tuple[RecordedChecks, dict[str, object]]:
    """A worker's checks over a freshly loaded project (reporting on one empty file)."""
    loaded = engine.load([root / "app/__init__.py"], build_settings({}), root=root, cwd=root)
    modules = {unit.path: unit for unit in loaded.ctx.units_of(FileKind.PYTHON)}
    return RecordedChecks(loaded.ctx, recorder), modules


def test_answers_learned_from_another_worker_stand_in_for_parsing(
    tmp_path: Path, recorder: Recorder
) -> None:
    # What a worker learns from another's checks (the cross-module answers they computed)
    # gives the same finding for main.py without parsing the modules of its call chain.
    write(tmp_path, SERVICE)
    first_checks, first_modules = _checks(tmp_path, recorder)
    first = first_checks(first_modules["app/main.py"])  # type: ignore[arg-type]
    assert first.answers
    checks, modules = _checks(tmp_path, recorder)
    checks.learn((first.answers, {}))
    checked = checks(modules["app/main.py"])  # type: ignore[arg-type]
    assert [(d.code, d.line, d.message) for d in checked.checked.diagnostics] == [
        (d.code, d.line, d.message) for d in first.checked.diagnostics
    ]
    assert [d.code for d in checked.checked.diagnostics] == ["FL102"]
    loaded = {path for path, unit in modules.items() if unit.is_loaded}  # type: ignore[attr-defined]
    assert loaded == {"app/main.py"}
    assert checked.parsed == ["app/main.py"]


def test_a_name_table_learned_from_another_worker_resolves_other_names(
    tmp_path: Path, recorder: Recorder
) -> None:
    # one.py resolves compat.fetch; two.py asks for compat.clock, a question one.py's check
    # never asked. The name table it worked out for compat.py answers it: not parsed again.
    files = {
        "pyproject.toml": "[project]\nname = 'svc'\n",
        "app/__init__.py": "",
        "app/compat.py": "from requests import get as fetch\nimport time as clock\n",
        "app/one.py": "from app import compat\nasync def a():\n    compat.fetch('u', timeout=5)\n",
        "app/two.py": "from app import compat\nasync def b():\n    compat.clock.sleep(1)\n",
    }
    write(tmp_path, files)
    one_checks, one_modules = _checks(tmp_path, recorder)
    first = one_checks(one_modules["app/one.py"])  # type: ignore[arg-type]
    assert [(d.code, d.line) for d in first.checked.diagnostics] == [("FL101", 3)]
    lesson = (first.answers, first.tables)
    assert "app/compat.py" in lesson[1]

    def check_two(learn: bool) -> Outcome:
        checks, modules = _checks(tmp_path, recorder)
        if learn:
            checks.learn(lesson)
        return checks(modules["app/two.py"])  # type: ignore[arg-type]

    alone, learned = check_two(learn=False), check_two(learn=True)
    assert [(d.code, d.line) for d in learned.checked.diagnostics] == [("FL101", 3)]
    assert [d.message for d in learned.checked.diagnostics] == [
        d.message for d in alone.checked.diagnostics
    ]
    assert sorted(alone.parsed) == ["app/compat.py", "app/two.py"]
    assert learned.parsed == ["app/two.py"]
    assert learned.parts == alone.parts  # charged the same reads: the cache sees no change


def test_a_check_names_the_modules_it_parsed(tmp_path: Path, recorder: Recorder) -> None:
    # A worker reports them, and main gives it those files next (it has their trees).
    write(tmp_path, SERVICE)
    checks, modules = _checks(tmp_path, recorder)
    checked = checks(modules["app/main.py"])  # type: ignore[arg-type]
    assert sorted(checked.parsed) == ["app/http.py", "app/main.py", "app/rates.py"]
    assert checks(modules["app/rates.py"]).parsed == []  # type: ignore[arg-type]


def test_a_whole_run_reports_everything_and_parses_what_the_rules_need(tmp_path: Path) -> None:
    write(tmp_path, SERVICE)
    result = lint([tmp_path], build_settings({}), root=tmp_path, cwd=tmp_path)
    assert ("FL000", "app/broken.py") in {(d.code, d.path) for d in result.diagnostics}
    loaded = {path for path, unit in modules_by_path(result).items() if unit.is_loaded}
    # main.py for itself, rates.py and http.py as its context, broken.py to report it; no rule
    # could report anything in the others (no coroutine, no FastAPI, no SQLAlchemy, ...).
    assert loaded == {"app/main.py", "app/rates.py", "app/http.py", "app/broken.py"}


def check_failing_import_is_an_empty_module(root: Path, dependency: str) -> None:
    """``app/dep.py`` (``dependency``) fails to load; ``app/main.py`` imports ``helper`` from
    it. Reported (FL000) or context only (silent), it is an empty module in the project: nothing
    resolves through it, and the importer's findings are the same either way."""
    write(
        root,
        {
            "app/__init__.py": "",
            "app/dep.py": dependency,
            "app/main.py": (
                "from app.dep import helper\n"
                "import time\n"
                "async def handler():\n"
                "    helper()\n"
                "    time.sleep(1)\n"
            ),
        },
    )
    settings = build_settings({})
    alone = lint([root / "app/main.py"], settings, root=root, cwd=root)
    whole = lint([root], settings, root=root, cwd=root)
    assert [(d.code, d.line) for d in alone.diagnostics] == [("FL101", 5)]
    assert [d for d in whole.diagnostics if d.path == "app/main.py"] == alone.diagnostics
    assert ("FL000", "app/dep.py") in {(d.code, d.path) for d in whole.diagnostics}
    assert "app/dep.py" in {unit.path for unit in whole.context.units_of(FileKind.PYTHON)}


def test_a_module_that_does_not_parse_is_an_empty_module(tmp_path: Path) -> None:
    check_failing_import_is_an_empty_module(tmp_path, "import requests\ndef helper(:\n")


def test_a_module_too_deep_to_model_is_an_empty_module_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model pass can hit the recursion limit on a file that parses."""
    from fastlint.python import module as module_py

    real = module_py.build_model

    def build_model(tree, name, is_package=False):  # type: ignore[no-untyped-def]
        if name == "app.dep" and tree.body:
            raise RecursionError
        return real(tree, name, is_package)

    monkeypatch.setattr(module_py, "build_model", build_model)
    check_failing_import_is_an_empty_module(  # a coroutine, so its own check parses it
        tmp_path, "import time\ndef helper():\n    time.sleep(1)\nasync def idle():\n    pass\n"
    )
