"""Per-file cache entries: after any edit, a run that reuses entries reports exactly what a
run without the cache reports, and it re-checks only the files whose findings could change."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import pytest
from fixture_support import FIXTURES, write

from fastlint import incremental
from fastlint.config import Settings, build_settings, read_table
from fastlint.engine import lint
from fastlint.incremental import workers
from fastlint.incremental.store import FORMAT, FileStore

# The fixture projects with cross-file findings (call chains, sessions, app surface, deployment).
PROJECTS = [
    FIXTURES / "demo",
    FIXTURES / "projects" / "app_surface_multimodule",
    FIXTURES / "projects" / "db_multimodule",
    FIXTURES / "projects" / "event_loop_chain",
    FIXTURES / "projects" / "event_loop_factories",
    FIXTURES / "projects" / "deploy_pool_math",
]


def _settings(root: Path) -> Settings:
    config = root / "pyproject.toml"
    return build_settings(read_table(config) if config.exists() else {})


_DEF_LINE = re.compile(r"^(?P<indent>[ ]*)(?:async[ ]+)?def[ ]+\w+\(.*\).*:[ ]*$", re.M)


def _edits(text: str) -> dict[str, str]:
    """Edits that change what a module defines, calls and imports; edits inside function
    bodies only (a blocking call added, a call renamed); and a comment, which changes
    nothing another file's findings can read."""
    lines = text.splitlines(keepends=True)
    return {
        "emptied": "",
        "first half": "".join(lines[: len(lines) // 2]),  # often a syntax error: FL000
        "sync→async": text.replace("def ", "async def ").replace("async async", "async"),
        "comment": text + "\n# edited: nothing but a comment\n",
        "bodies block": _DEF_LINE.sub(
            lambda m: f"{m.group(0)}\n{m.group('indent')}    import time; time.sleep(0)", text
        ),
        "calls renamed": text.replace(".sleep(", ".monotonic(").replace("requests.", "rq."),
    }


def _incremental(root: Path, folder: Path) -> tuple[list[dict[str, object]], set[str]]:
    """A cached run that misses the run-level entry, so per-file entries answer."""
    for entry in folder.glob("run-*.json"):
        entry.unlink()
    result = incremental.lint([root], _settings(root), cache_dir=folder, cwd=root)
    assert result.context is not None
    return [d.to_dict() for d in result.diagnostics], set(result.cache_report.checked)


def _uncached(root: Path) -> list[dict[str, object]]:
    result = lint([root], _settings(root), root=root, cwd=root)
    return [d.to_dict() for d in result.diagnostics]


@pytest.mark.parametrize("source", PROJECTS, ids=[p.name for p in PROJECTS])
def test_after_any_edit_reused_entries_give_the_uncached_result(source: Path, tmp_path) -> None:
    root = tmp_path / source.name
    shutil.copytree(source, root)
    folder = tmp_path / "cache"
    files = sorted(p for p in root.rglob("*.py"))
    _incremental(root, folder)
    rechecked_some_not_all = False
    for path in files:
        original = path.read_text()
        for name, edited in _edits(original).items():
            if edited == original:
                continue
            path.write_text(edited)
            reused, checked = _incremental(root, folder)
            assert reused == _uncached(root), f"{path.relative_to(root)} {name}"
            rechecked_some_not_all |= 0 < len(checked) < len(files)
        path.write_text(original)
    assert rechecked_some_not_all  # the entries were really reused


@pytest.mark.parametrize("source", PROJECTS, ids=[p.name for p in PROJECTS])
@pytest.mark.parametrize("seed", [1, 2])
def test_after_a_sequence_of_edits_and_partial_runs_the_cache_agrees(
    source: Path, seed: int, tmp_path: Path
) -> None:
    """Edits pile up without being undone, and pre-commit-style runs over a few files share
    the store with whole runs: the kept entries and answers each run leaves must still give
    exactly the uncached result, whatever came before."""
    root = tmp_path / source.name
    shutil.copytree(source, root)
    project_file = root / "pyproject.toml"
    if not project_file.exists():  # so a run over some files finds the same project root
        project_file.write_text(f"[project]\nname = '{source.name}'\n")
    folder = tmp_path / "cache"
    files = sorted(p for p in root.rglob("*.py"))
    originals = {path: path.read_text() for path in files}
    settings = _settings(root)
    pick = random.Random(seed)
    _incremental(root, folder)
    for step in range(10):
        path = pick.choice(files)
        edits = {**_edits(path.read_text()), "restored": originals[path]}
        name = pick.choice(sorted(edits))
        path.write_text(edits[name])
        where = f"step {step}: {path.relative_to(root)} {name}"
        if pick.random() < 0.4:  # a pre-commit run: the edited file and two others
            staged = sorted({path, *pick.sample(files, min(2, len(files)))})
            result = incremental.lint(staged, settings, cache_dir=folder, cwd=root)
            fresh = lint(staged, settings, root=root, cwd=root)
            assert result.diagnostics == fresh.diagnostics, where
        else:
            assert _incremental(root, folder)[0] == _uncached(root), where


def test_an_edit_rechecks_the_file_and_the_files_whose_findings_read_it(tmp_path) -> None:
    root = write(
        tmp_path / "svc",
        {
            "pyproject.toml": "[project]\nname = 'svc'\n",
            "app/__init__.py": "",
            "app/main.py": (
                "from fastapi import FastAPI\nfrom app.rates import fetch_rates\n"
                "app = FastAPI(openapi_url=None)\n"
                "@app.get('/rates')\nasync def rates():\n    return fetch_rates()\n"
            ),
            "app/rates.py": "import requests\ndef fetch_rates():\n    return requests.get('u')\n",
            "app/admin.py": "import time\nasync def pause():\n    time.sleep(1)\n",
        },
    )
    folder = tmp_path / "cache"
    before, checked = _incremental(root, folder)
    assert {d["code"] for d in before} == {"FL101", "FL102"}
    assert checked == {"app/__init__.py", "app/main.py", "app/rates.py", "app/admin.py"}

    (root / "app" / "rates.py").write_text("def fetch_rates():\n    return 1\n")
    after, checked = _incremental(root, folder)
    assert checked == {"app/main.py", "app/rates.py"}  # main.py's FL102 read rates.py
    assert [d["code"] for d in after] == ["FL101"]

    (root / "app" / "admin.py").write_text("import time\nasync def pause():\n    pass\n")
    after, checked = _incremental(root, folder)
    assert checked == {"app/admin.py"}
    assert after == []


RATES = (
    "import requests\n"
    "TIMEOUT = 5\n"
    "def fetch_rates():\n"
    "    return requests.get('u', timeout=TIMEOUT)\n"
    "def unused():\n"
    "    return 1\n"
)


def _two_modules(tmp_path: Path) -> Path:
    """``main.py``'s FL102 finding reads ``rates.fetch_rates``'s body; nothing reads
    ``rates.unused``."""
    return write(
        tmp_path / "svc",
        {
            "pyproject.toml": "[project]\nname = 'svc'\n",
            "app/__init__.py": "",
            "app/main.py": (
                "from app.rates import fetch_rates\nasync def rates():\n    return fetch_rates()\n"
            ),
            "app/rates.py": RATES,
        },
    )


@pytest.mark.parametrize(
    ("edited", "rechecked"),
    [
        # Comments and formatting are not syntax: no other file's findings can change.
        (RATES + "# a comment\n\n\n", {"app/rates.py"}),
        (RATES.replace("'u', timeout", "'u',  timeout"), {"app/rates.py"}),
        # Inside a function nobody's findings read.
        (RATES.replace("return 1", "return 2"), {"app/rates.py"}),
        # Inside the function main.py's finding goes through: main.py is re-checked when the
        # chain's answer changes (the blocking call gone), not when it comes out the same.
        (RATES.replace("requests.get(", "dict("), {"app/rates.py", "app/main.py"}),
        (RATES.replace("timeout=TIMEOUT", "timeout=1"), {"app/rates.py"}),
        # Module-level statements: only those binding a name the finding went through.
        (RATES.replace("TIMEOUT = 5", "TIMEOUT = 6"), {"app/rates.py"}),
        (
            RATES.replace("import requests", "import httpx as requests"),
            {"app/rates.py", "app/main.py"},
        ),
        (RATES.replace("def unused()", "def unused(x=1)"), {"app/rates.py"}),
        (RATES.replace("def fetch_rates()", "def fetch_rates(x=1)"), {"app/rates.py"}),
        (
            RATES.replace("def fetch_rates()", "async def fetch_rates()"),
            {"app/rates.py", "app/main.py"},
        ),
        (RATES + "def added():\n    return 3\n", {"app/rates.py"}),
    ],
    ids=[
        "comment",
        "formatting",
        "unread body",
        "read body, new answer",
        "read body, same answer",
        "unread constant",
        "read import",
        "unread signature",
        "read signature, same answer",
        "read signature, new answer",
        "function added",
    ],
)
def test_an_edit_rechecks_the_files_that_read_the_changed_part(
    tmp_path: Path, edited: str, rechecked: set[str]
) -> None:
    root = _two_modules(tmp_path)
    folder = tmp_path / "cache"
    before, _ = _incremental(root, folder)
    assert [(d["path"], d["code"]) for d in before] == [("app/main.py", "FL102")]
    (root / "app" / "rates.py").write_text(edited)
    after, checked = _incremental(root, folder)
    assert checked == rechecked
    assert after == _uncached(root)


ORIGINS = "ORIGINS = ['*']\nTIMEOUT = 5\n"


def test_an_edit_rechecks_what_read_the_module_when_its_earlier_text_is_gone(
    tmp_path: Path,
) -> None:
    # main.py's FL401 reads ORIGINS from origins.py directly (a constant, not a kept answer).
    root = write(
        tmp_path / "svc",
        {
            "pyproject.toml": "[project]\nname = 'svc'\n",
            "app/__init__.py": "",
            "app/origins.py": ORIGINS,
            "app/main.py": (
                "from fastapi import FastAPI\n"
                "from fastapi.middleware.cors import CORSMiddleware\n"
                "from app.origins import ORIGINS\n"
                "app = FastAPI(openapi_url=None)\n"
                "app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)\n"
            ),
        },
    )
    folder = tmp_path / "cache"
    before, _ = _incremental(root, folder)
    assert [(d["path"], d["code"]) for d in before] == [("app/main.py", "FL401")]
    (sources,) = folder.glob("files-*-sources")
    kept = list(sources.iterdir())
    assert [path.read_text() for path in kept] == [ORIGINS]  # main.py's entry reads origins.py
    kept[0].write_text(ORIGINS.replace("5", "6"))  # not what its name says
    (root / "app" / "origins.py").write_text(ORIGINS + "# a comment\n")
    _, checked = _incremental(root, folder)
    assert checked == {"app/origins.py", "app/main.py"}
    assert [path.read_text() for path in sources.iterdir()] == [ORIGINS + "# a comment\n"]
    for path in sources.iterdir():
        path.unlink()
    (root / "app" / "origins.py").write_text(ORIGINS)
    _, checked = _incremental(root, folder)
    assert checked == {"app/origins.py", "app/main.py"}
    (root / "app" / "origins.py").write_text(ORIGINS + "# a comment\n")  # with its text kept
    _, checked = _incremental(root, folder)
    assert checked == {"app/origins.py"}


def _chain_of_helpers(tmp_path: Path) -> Path:
    """``main.py``'s coroutine reaches ``time.sleep`` through helpers in two other modules."""
    return write(
        tmp_path / "svc",
        {
            "pyproject.toml": "[project]\nname = 'svc'\n",
            "app/__init__.py": "",
            "app/main.py": (
                "from app.services import refresh\nasync def handler():\n    refresh()\n"
            ),
            "app/services.py": "from app.store import save\ndef refresh():\n    save()\n",
            "app/store.py": "import time\ndef save():\n    time.sleep(1)\n",
        },
    )


def _loaded(result: object) -> set[str]:
    context = result.context  # type: ignore[attr-defined]
    return {module.path for module in context.project.modules if module.is_loaded}


def test_a_recheck_answers_cross_module_questions_from_kept_answers(tmp_path: Path) -> None:
    root = _chain_of_helpers(tmp_path)
    folder = tmp_path / "cache"
    before, _ = _incremental(root, folder)
    assert [(d["path"], d["code"]) for d in before] == [("app/main.py", "FL102")]
    main = root / "app" / "main.py"
    main.write_text(main.read_text() + "# edited\n")
    for entry in folder.glob("run-*.json"):
        entry.unlink()
    result = incremental.lint([root], _settings(root), cache_dir=folder, cwd=root)
    assert set(result.cache_report.checked) == {"app/main.py"}  # type: ignore[union-attr]
    # The chain through services.py and store.py came from the kept answers: neither parsed.
    assert _loaded(result) == {"app/main.py"}
    assert [d.to_dict() for d in result.diagnostics] == _uncached(root)


def test_kept_answers_that_read_a_changed_part_are_computed_again(tmp_path: Path) -> None:
    root = _chain_of_helpers(tmp_path)
    folder = tmp_path / "cache"
    _incremental(root, folder)
    (root / "app" / "store.py").write_text("import time\ndef save():\n    time.time()\n")
    main = root / "app" / "main.py"
    main.write_text(main.read_text() + "# edited\n")
    after, checked = _incremental(root, folder)
    assert after == _uncached(root) == []
    assert checked == {"app/main.py", "app/store.py"}


def test_project_rules_parse_only_modules_whose_kept_answer_says_they_matter(
    tmp_path: Path,
) -> None:
    # Both modules spell "uvicorn" and "workers"; only run.py calls uvicorn.run(workers=...).
    root = write(
        tmp_path / "svc",
        {
            "pyproject.toml": "[project]\nname = 'svc'\n",
            "app/__init__.py": "",
            "app/run.py": (
                "import os\nimport uvicorn\nuvicorn.run('app:app', workers=os.cpu_count())\n"
            ),
            "app/docs.py": '"""Run uvicorn with more workers in production."""\nworkers = 4\n',
            "app/api.py": "async def ping():\n    return 1\n",  # a coroutine: checked, so parsed
        },
    )
    folder = tmp_path / "cache"
    before, _ = _incremental(root, folder)
    assert [(d["path"], d["code"]) for d in before] == [("app/run.py", "FL601")]
    (root / "app" / "api.py").write_text("async def ping():\n    return 2\n")
    for entry in folder.glob("run-*.json"):
        entry.unlink()
    result = incremental.lint([root], _settings(root), cache_dir=folder, cwd=root)
    assert _loaded(result) == {"app/api.py", "app/run.py"}  # not docs.py
    assert [d.to_dict() for d in result.diagnostics] == before


@pytest.mark.skipif(not workers.can_fork(), reason="worker processes need os.fork")
@pytest.mark.parametrize("source", PROJECTS, ids=[p.name for p in PROJECTS])
def test_workers_hand_in_the_kept_answers_one_process_keeps(source: Path, tmp_path) -> None:
    def kept(jobs: int) -> dict[str, object]:
        folder = tmp_path / f"cache-{jobs}"
        settings = _settings(source)
        incremental.lint([source], settings, cache_dir=folder, cwd=source, jobs=jobs)
        (store,) = folder.glob("files-*.json")
        return json.loads(store.read_text())["queries"]  # type: ignore[no-any-return]

    assert kept(2) == kept(1)


def test_pre_commit_runs_share_the_entries_of_whole_runs(tmp_path) -> None:
    root = write(
        tmp_path / "svc",
        {
            "pyproject.toml": "[project]\nname = 'svc'\n",
            "app/a.py": "import time\nasync def a():\n    time.sleep(1)\n",
            "app/b.py": "import time\nasync def b():\n    time.sleep(1)\n",
        },
    )
    folder = tmp_path / "cache"
    settings = _settings(root)
    incremental.lint([root], settings, cache_dir=folder, cwd=root)
    (root / "app" / "b.py").write_text("import time\nasync def b():\n    time.sleep(2)\n")
    staged = incremental.lint(
        [root / "app" / "a.py", root / "app" / "b.py"], settings, cache_dir=folder, cwd=root
    )
    assert staged.context is not None
    assert staged.cache_report.reused == {"app/a.py"}
    assert set(staged.cache_report.checked) == {"app/b.py"}
    assert [(d.path, d.code) for d in staged.diagnostics] == [
        ("app/a.py", "FL101"),
        ("app/b.py", "FL101"),
    ]


def test_a_settings_change_starts_the_store_afresh(tmp_path) -> None:
    root = write(tmp_path / "svc", {"app.py": "import time\nasync def a():\n    time.sleep(1)\n"})
    folder = tmp_path / "cache"
    incremental.lint([root], build_settings({}), cache_dir=folder, cwd=root)
    quiet = build_settings({"ignore": ["FL101"]})
    result = incremental.lint([root], quiet, cache_dir=folder, cwd=root)
    assert result.context is not None and result.cache_report.reused == set()
    assert result.diagnostics == []


@pytest.mark.parametrize(
    "body",
    [
        None,  # not JSON
        {"format": 1},
        {"format": 1, "digests": [], "spellings": {}, "entries": {}},
        {"format": FORMAT, "digests": {}, "spellings": {}, "entries": {}, "answers": []},
        {
            "format": FORMAT,
            "digests": {},
            "spellings": {},
            "entries": {},
            "answers": [],
            "queries": {"readsets": [], "tables": {"canonical": [["a", "b", 7]]}},
        },
        {
            "format": FORMAT,
            "digests": {"app.py": "0"},
            "spellings": {},
            "entries": {
                "app.py": {"reads": {}, "spellings": [], "answers": [3], "diagnostics": []}
            },
            "answers": [["canonical", "x", "d"]],
            "queries": {"readsets": [], "tables": {}},
        },
    ],
    ids=["not JSON", "old", "old, empty", "no queries", "no such reads", "no such answer"],
)
def test_a_corrupt_store_is_discarded_not_trusted(tmp_path, body: dict | None) -> None:
    root = write(tmp_path / "svc", {"app.py": "import time\nasync def a():\n    time.sleep(1)\n"})
    folder = tmp_path / "cache"
    incremental.lint([root], build_settings({}), cache_dir=folder, cwd=root)
    (store,) = folder.glob("files-*.json")
    key = json.loads(store.read_text())["key"]
    for run in folder.glob("run-*.json"):
        run.unlink()  # force a miss of the run-level entry
    # The right key over a broken body: nothing of it may be used.
    store.write_text("not json" if body is None else json.dumps({**body, "key": key}))
    result = incremental.lint([root], build_settings({}), cache_dir=folder, cwd=root)
    assert result.context is not None and result.cache_report.reused == set()
    assert [d.code for d in result.diagnostics] == ["FL101"]
    assert FileStore(store, key).entries.keys() == {"app.py"}  # rewritten


def test_an_entry_whose_diagnostics_are_malformed_is_not_used(tmp_path) -> None:
    root = write(tmp_path / "svc", {"app.py": "import time\nasync def a():\n    time.sleep(1)\n"})
    folder = tmp_path / "cache"
    incremental.lint([root], build_settings({}), cache_dir=folder, cwd=root)
    (store,) = folder.glob("files-*.json")
    document = json.loads(store.read_text())
    document["entries"]["app.py"]["diagnostics"] = [{"code": "FL101"}]
    store.write_text(json.dumps(document))
    assert FileStore(store, document["key"]).entries == {}
    assert not store.exists()


@pytest.mark.skipif(not workers.can_fork(), reason="worker processes need os.fork")
@pytest.mark.parametrize("source", PROJECTS, ids=[p.name for p in PROJECTS])
def test_workers_record_the_same_reads_as_one_process(source: Path) -> None:
    # A worker computes its shared memos afresh and in another order than one process does;
    # what each file's findings read (what its cache entry keeps) must not depend on that.
    def checked(jobs: int) -> dict[str, tuple[object, ...]]:
        settings = _settings(source)
        result = incremental.lint([source], settings, cache_dir=None, cwd=source, jobs=jobs)
        assert result.cache_report is not None
        return {
            path: (
                entry.reads,
                entry.spellings,
                entry.answers,
                [d.to_dict() for d in entry.diagnostics],
            )
            for path, entry in result.cache_report.checked.items()
        }

    one = checked(1)
    assert any(reads or answers for reads, _, answers, _ in one.values())  # cross-file
    assert checked(3) == one
