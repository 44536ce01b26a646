"""The run cache: a hit skips analysis entirely, any change is a miss, bad entries are dropped."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastlint import engine, incremental
from fastlint.cli import cli
from fastlint.config import default_settings
from fastlint.discovery import discover
from fastlint.incremental import runcache

APP = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\nversion = '0'\n")
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


def _run(project: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.chdir(project)
    result = CliRunner().invoke(cli, ["--format", "json", "--exit-zero", *args, "."])
    assert result.exit_code == 0, result.output
    return result.exit_code, result.output


def _codes(output: str) -> list[str]:
    return [d["code"] for d in json.loads(output)["diagnostics"]]


def _forbid_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cache hit must not run the engine")

    monkeypatch.setattr(incremental, "run", fail)


def test_warm_run_reuses_the_result_without_analysing(project: Path, monkeypatch) -> None:
    _, cold = _run(project, monkeypatch)
    assert (project / ".fastlint_cache" / ".gitignore").read_text().splitlines()[-1] == "*"
    _forbid_analysis(monkeypatch)
    _, warm = _run(project, monkeypatch)
    assert warm == cold
    assert _codes(warm) == ["FL101"]


def test_a_changed_file_is_a_miss(project: Path, monkeypatch) -> None:
    _run(project, monkeypatch)
    (project / "app.py").write_text(APP.replace("time.sleep(1)", "await asyncio.sleep(1)"))
    _, output = _run(project, monkeypatch)
    assert _codes(output) == []


def test_a_new_file_is_a_miss(project: Path, monkeypatch) -> None:
    _run(project, monkeypatch)
    (project / "other.py").write_text(APP)
    _, output = _run(project, monkeypatch)
    assert _codes(output) == ["FL101", "FL101"]


def test_changed_settings_are_a_miss(project: Path, monkeypatch) -> None:
    _run(project, monkeypatch)
    _, output = _run(project, monkeypatch, "--ignore", "FL101")
    assert _codes(output) == []


def test_no_cache_writes_nothing(project: Path, monkeypatch) -> None:
    _run(project, monkeypatch, "--no-cache")
    assert not (project / ".fastlint_cache").exists()


def test_cache_dir_option(project: Path, monkeypatch, tmp_path_factory) -> None:
    elsewhere = tmp_path_factory.mktemp("cache")
    _run(project, monkeypatch, "--cache-dir", str(elsewhere))
    assert list(elsewhere.glob("run-*.json"))
    assert not (project / ".fastlint_cache").exists()


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"format": 1}',
        "KEY",  # replaced by a well-formed entry with a broken diagnostic below
    ],
)
def test_corrupt_entries_are_discarded_not_trusted(project: Path, monkeypatch, content) -> None:
    _run(project, monkeypatch)
    (entry,) = (project / ".fastlint_cache").glob("run-*.json")
    if content == "KEY":
        data = json.loads(entry.read_text())
        data["result"]["diagnostics"][0]["severity"] = "catastrophic"
        content = json.dumps(data)
    entry.write_text(content)
    _, output = _run(project, monkeypatch)
    assert _codes(output) == ["FL101"]
    assert json.loads(entry.read_text())["format"] == runcache.CACHE_FORMAT  # rewritten


def test_an_entry_for_another_project_state_is_not_used(project: Path, monkeypatch) -> None:
    _run(project, monkeypatch)
    (entry,) = (project / ".fastlint_cache").glob("run-*.json")
    data = json.loads(entry.read_text())
    data["result"]["diagnostics"] = []  # what a foreign or stale entry could claim
    data["key"] = "0" * 64
    entry.write_text(json.dumps(data))
    _, output = _run(project, monkeypatch)
    assert _codes(output) == ["FL101"]


def test_an_unwritable_cache_never_fails_the_run(project: Path, monkeypatch) -> None:
    blocker = project / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    _, output = _run(project, monkeypatch, "--cache-dir", str(blocker / "cache"))
    assert _codes(output) == ["FL101"]


def test_hit_keeps_snippets_and_deployment(project: Path) -> None:
    (project / "Procfile").write_text("web: uvicorn app:app --reload\n")
    folder = project / ".cache"
    settings = default_settings()
    cold = incremental.lint([project], settings, cache_dir=folder, cwd=project)
    warm = incremental.lint([project], settings, cache_dir=folder, cwd=project)
    assert warm.context is None  # nothing was parsed
    assert warm.diagnostics == cold.diagnostics
    assert warm.sources() == cold.sources() and "app.py" in warm.sources()
    assert warm.deployment_summary() == cold.deployment_summary() is not None


def test_engine_results_carry_what_the_cache_stores(project: Path) -> None:
    result = engine.lint([project], default_settings(), root=project, cwd=project)
    assert result.sources() == {"app.py": APP}


def test_a_warm_json_run_imports_neither_libcst_nor_rich(project: Path) -> None:
    """Start-up stays light: a cache hit needs no parser, no rule implementation and no
    terminal renderer (``-X importtime`` lists every module the process imported)."""
    import subprocess
    import sys

    command = [sys.executable, "-X", "importtime", "-m", "fastlint", "--format", "json", "."]
    subprocess.run(command, cwd=project, capture_output=True, timeout=120)  # fills the cache
    warm = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120)
    assert warm.returncode == 1 and json.loads(warm.stdout)["diagnostics"]
    imported = {line.split("|")[-1].strip() for line in warm.stderr.splitlines() if "|" in line}
    assert "fastlint.incremental.runcache" in imported
    assert not {name for name in imported if name.split(".")[0] in ("libcst", "rich")}
    assert "fastlint.engine" not in imported


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_does_not_block_the_cache_key(project: Path) -> None:
    """The cache hashes every file before the engine's own guards run: a FIFO named like a
    source file must be skipped there too, not read (which blocks forever)."""
    import os
    import subprocess
    import sys

    os.mkfifo(project / "pipe.py")
    command = [sys.executable, "-m", "fastlint", "--format", "json", "."]
    completed = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=60)
    codes = {(d["code"], d["path"]) for d in json.loads(completed.stdout)["diagnostics"]}
    assert ("FL000", "pipe.py") in codes and ("FL101", "app.py") in codes


def test_a_file_over_max_file_size_is_not_read_for_the_key(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "dump.py").write_text("x = 1\n" * 10)
    settings = default_settings()
    assert len(APP) < 55 < len("x = 1\n" * 10)
    small = replace(settings, options={**settings.options, "max-file-size": 55})
    read = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or original(self))

    def key() -> str:
        sources = discover([project], project, small.all_excludes, project)
        return runcache.run_key(sources, small, project, project)

    first = key()
    assert "app.py" in read and "dump.py" not in read
    (project / "dump.py").write_text("x = 2\n" * 11)  # a new size is a new key
    assert key() != first


def test_old_run_entries_are_pruned(project: Path) -> None:
    folder = project / ".fastlint_cache"
    folder.mkdir()
    for index in range(runcache.KEEP_RUNS + 5):
        old = folder / f"run-old{index:02d}.json"
        old.write_text("{}")
        os.utime(old, (1_000_000 + index, 1_000_000 + index))
    incremental.lint([project], default_settings(), cache_dir=folder, cwd=project)
    runs = sorted(p.name for p in folder.glob("run-*.json"))
    assert len(runs) == runcache.KEEP_RUNS
    assert "run-old00.json" not in runs  # the oldest go first
    assert f"run-old{runcache.KEEP_RUNS + 4:02d}.json" in runs
    assert any(not name.startswith("run-old") for name in runs)  # this run's entry is kept


def test_the_key_covers_fastlints_own_source(project: Path, tmp_path_factory) -> None:
    """Editing a message in an installed fastlint (or upgrading from git without a version
    bump) must not answer from entries its old code made."""
    package = tmp_path_factory.mktemp("package") / "fastlint"
    (package / "rules").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "rules" / "event_loop.py").write_text("MESSAGE = 'blocks the event loop'\n")
    before = runcache.source_digest(package)
    assert runcache.source_digest(package) == before
    (package / "rules" / "event_loop.py").write_text("MESSAGE = 'blocks the loop'\n")
    assert runcache.source_digest(package) != before
    (package / "rules" / "new.py").write_text("")
    assert len({before, runcache.source_digest(package)}) == 2


def test_the_key_changes_with_the_source_digest(project: Path, monkeypatch) -> None:
    settings = default_settings()
    sources = discover([project], project, settings.all_excludes, project)
    runcache._versions.cache_clear()
    first = runcache.run_key(sources, settings, project, project)
    runcache._versions.cache_clear()
    monkeypatch.setattr(runcache, "source_digest", lambda package=None: "edited")
    try:
        assert runcache.run_key(sources, settings, project, project) != first
    finally:
        runcache._versions.cache_clear()
