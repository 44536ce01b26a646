"""The JSON report on fixtures/ is byte-identical across runs, hash seeds, job counts and caches.

Each run is a fresh interpreter with its own PYTHONHASHSEED, so set or dict ordering that leaks
into the output shows up here. Variants for ``--jobs`` and the cache switch on by themselves once
the command line has those options; add new ones to ``variants()``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_support import FIXTURES, REPO

from fastlint.cli import cli

OPTIONS = {name for param in cli.params for name in getattr(param, "opts", [])}


def run_json(config: Path, *extra: str, seed: str = "0") -> bytes:
    """fastlint --format json over fixtures/ in a fresh interpreter; the report's bytes."""
    env = {**os.environ, "PYTHONHASHSEED": seed}
    command = [sys.executable, "-m", "fastlint", "fixtures", "--format", "json", "--quiet"]
    completed = subprocess.run(
        [*command, "--config", str(config), *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert completed.returncode in (0, 1), completed.stderr.decode()
    assert completed.stdout.startswith(b"{")
    return completed.stdout


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The repository's own [tool.fastlint] excludes the deliberately bad fixtures; lint them all.
    path = tmp_path_factory.mktemp("config") / "fastlint.toml"
    path.write_text("# all defaults\n")
    return path


@pytest.fixture(scope="module")
def reference(config: Path) -> bytes:
    return run_json(config, seed="1")


def variants(cache_dir: Path) -> list[tuple[str, ...]]:
    """Option sets that must not change the report (plain runs: the hash-seed test)."""
    found: list[tuple[str, ...]] = []
    if "--jobs" in OPTIONS:
        found += [("--jobs", "1"), ("--jobs", "2")]
    if "--no-cache" in OPTIONS:
        found.append(("--no-cache",))
    if "--cache-dir" in OPTIONS:
        # Twice: the first run fills the cache (cold), the second reads it (warm).
        found += [("--cache-dir", str(cache_dir))] * 2
    return found


def test_reference_run_covers_the_fixtures(reference: bytes) -> None:
    import json

    report = json.loads(reference)
    assert report["summary"]["files"] >= len([p for p in FIXTURES.rglob("*.py")]) // 2
    assert report["diagnostics"], "fixtures/ must produce findings"


def test_same_bytes_with_another_hash_seed(config: Path, reference: bytes) -> None:
    assert run_json(config, seed="2") == reference


def test_same_bytes_in_every_variant(config: Path, reference: bytes, tmp_path: Path) -> None:
    found = variants(tmp_path / "cache")
    if not found:
        pytest.skip("no --jobs or cache options yet")
    for extra in found:
        assert run_json(config, *extra, seed="3") == reference, f"differs with {extra}"
