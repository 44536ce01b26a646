"""The rules' per-file pre-filters (``PythonRule.needs``): a module no rule could report on is
not parsed for itself, and that changes no finding."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_support import fixture_roots, write

from fastlint import incremental, registry
from fastlint.config import build_settings, read_table
from fastlint.discovery import FileKind
from fastlint.engine import lint
from fastlint.python.project import Project
from fastlint.python.reach import scan_imports
from fastlint.python.sqla import REACHES_SQLALCHEMY
from fastlint.rules.base import PythonRule


def _lint(root: Path, paths: list[Path] | None = None):  # type: ignore[no-untyped-def]
    config = root / "pyproject.toml"
    settings = build_settings(read_table(config) if config.exists() else {})
    return lint(paths or [root], settings, root=root, cwd=root)


def _loaded(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {unit.path for unit in result.context.units_of(FileKind.PYTHON) if unit.is_loaded}


ROOTS = fixture_roots()


@pytest.mark.parametrize("root", ROOTS, ids=[root.name for root in ROOTS])
def test_prefilters_change_no_finding(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    filtered = _lint(root)
    for rule in registry.all_rules().values():
        if issubclass(rule, PythonRule):
            monkeypatch.setattr(rule, "needs", None)
    unfiltered = _lint(root)
    assert filtered.diagnostics == unfiltered.diagnostics
    assert _loaded(filtered) <= _loaded(unfiltered)


def test_every_python_rule_has_a_prefilter() -> None:
    # A rule without one makes every module of every project parse: say why if one must.
    missing = [
        code
        for code, rule in registry.all_rules().items()
        if issubclass(rule, PythonRule) and rule.needs is None
    ]
    assert missing == []


# ---------------------------------------------------------------------------- import scan


def test_scan_finds_every_form_of_import() -> None:
    text = (
        "import os, app.db as database\n"
        "from . import models\n"
        "from ..core.settings import (\n    Settings,  # the class\n    get_settings,\n)\n"
        "from app.compat import *\n"
        "x = 1; import late\n"
        "if TYPE_CHECKING:\n    from app.types import Thing\n"
        "import a, \\\n    b\n"
        "from app.helpers \\\n    import tidy\n"
    )
    found = set(scan_imports(text))
    assert {
        (0, "os", None),
        (0, "app.db", None),
        (1, "", ("models",)),
        (2, "core.settings", ("Settings", "class", "get_settings", "the")),
        (0, "app.compat", ("*",)),
        (0, "late", None),
        (0, "app.types", ("Thing",)),
        (0, "a", None),
        (0, "b", None),
    } <= {(dots, module, tuple(sorted(names)) if names else names) for dots, module, names in found}
    assert (0, "app.helpers", ("tidy",)) in found
    assert (1, "x", ("y",)) in set(scan_imports("from.x import y\n"))
    assert (0, "ujson", None) in set(scan_imports("try: import ujson as json\n"))


def test_scan_ignores_comments_and_text_without_imports() -> None:
    assert scan_imports("# from app.db import SessionLocal\nx = 'important'\n") == ()


def test_scan_finds_imports_inside_what_only_looks_like_one() -> None:
    # Prose that reads "from ... import (" up to a far ")" is no statement; the imports
    # on the lines it spans still count.
    text = "# data from a import (see below\nfrom app.db import Session\nimport httpx\n)\n"
    assert set(scan_imports(text)) == {(0, "app.db", ("Session",)), (0, "httpx", None)}
    assert scan_imports("xfrom a import b\nreimport c\n") == ()
    assert set(scan_imports("x = 1; import os\n")) == {(0, "os", None)}


# ---------------------------------------------------------------------------- reach


FASTAPI_ALIAS = {
    "app/__init__.py": "",
    # FastAPI renamed and re-exported twice: main.py never spells it.
    "app/compat.py": "from fastapi import FastAPI as Application\n",
    "app/factory.py": "from .compat import Application\n",
    "app/main.py": "from app.factory import Application as Maker\napp = Maker()\n",
    "app/tools.py": "def add(a, b):\n    return a + b\n",
}


def test_a_name_reexported_through_project_modules_is_still_checked(tmp_path: Path) -> None:
    result = _lint(write(tmp_path, FASTAPI_ALIAS))
    assert [(d.code, d.path, d.line) for d in result.diagnostics] == [("FL402", "app/main.py", 2)]
    assert "app/tools.py" not in _loaded(result)  # nothing reaches FastAPI or SQLAlchemy from it


def _project(root: Path):  # type: ignore[no-untyped-def]
    """A fresh project over ``root``'s modules (the run's own has answered every question)."""
    modules = _lint(root).context.project.modules
    return Project(modules), {module.path: module for module in modules}


@pytest.mark.parametrize("first", ["app/a.py", "app/b.py"])
def test_reach_through_an_import_cycle_does_not_depend_on_who_asks_first(
    tmp_path: Path, first: str
) -> None:
    root = write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": "from app.b import thing\n",
            "app/b.py": "from app.a import other\nfrom app.c import Session\n",
            "app/c.py": "from sqlalchemy.orm import Session\n",
            "app/d.py": "from app.e import x\n",
            "app/e.py": "from app.d import y\n",
        },
    )
    project, modules = _project(root)
    order = [first, *(path for path in ("app/a.py", "app/b.py") if path != first)]
    assert [project.reaches(REACHES_SQLALCHEMY.test, modules[path]) for path in order] == [
        True,
        True,
    ]
    assert not project.reaches(REACHES_SQLALCHEMY.test, modules["app/d.py"])
    assert not project.reaches(REACHES_SQLALCHEMY.test, modules["app/e.py"])


def test_relative_and_package_imports_reach(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/db/__init__.py": "",
            "svc/db/session.py": "import sqlalchemy\n",
            "svc/api/__init__.py": "",
            "svc/api/rel.py": "from ..db import session\n",
            "svc/api/plain.py": "import svc.db\n",  # svc.db.session.X resolves through it
            "svc/api/star.py": "from svc.db import *\n",
            "svc/api/alone.py": "from svc.api import rel as _unused_name_is_enough\n",
            "svc/api/none.py": "from svc import VERSION\n",
        },
    )
    project, modules = _project(root)
    reaching = {
        path for path, module in modules.items() if project.reaches(REACHES_SQLALCHEMY.test, module)
    }
    assert reaching == {
        "svc/db/session.py",
        "svc/api/rel.py",
        "svc/api/plain.py",
        "svc/api/star.py",
        "svc/api/alone.py",
    }


# ---------------------------------------------------------------------------- bad input


def test_a_module_no_rule_needs_is_still_reported_when_it_does_not_parse(tmp_path: Path) -> None:
    root = write(tmp_path, {"ok.py": "VALUE = 1\n", "broken.py": "def oops(:\n"})
    result = _lint(root)
    assert [(d.code, d.path) for d in result.diagnostics] == [("FL000", "broken.py")]
    assert "ok.py" not in _loaded(result)


# ---------------------------------------------------------------------------- result cache


SESSIONS = {
    "pyproject.toml": "[project]\nname = 'svc'\n",
    "app/__init__.py": "",
    "app/real.py": "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker()\n",
    "app/db.py": "SessionLocal = None\n",
    "app/repo.py": (
        "from app.db import SessionLocal\n"
        "def work():\n"
        "    db = SessionLocal()\n"
        "    db.execute('select 1')\n"
    ),
}


def test_a_cached_module_is_checked_again_when_an_import_elsewhere_lets_a_rule_in(
    tmp_path: Path,
) -> None:
    root = write(tmp_path / "svc", SESSIONS)
    settings = build_settings({})
    folder = tmp_path / "cache"
    first = incremental.lint([root], settings, cache_dir=folder, cwd=root)
    assert first.diagnostics == []
    assert "app/repo.py" not in _loaded(first)  # nothing it imports leads to SQLAlchemy
    (root / "app" / "db.py").write_text("from app.real import SessionLocal\n")
    second = incremental.lint([root], settings, cache_dir=folder, cwd=root)
    fresh = lint([root], settings, root=root, cwd=root)
    assert [(d.code, d.path) for d in second.diagnostics] == [("FL301", "app/repo.py")]
    assert second.diagnostics == fresh.diagnostics
