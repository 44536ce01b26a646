"""Every fixture file is a test: its markers must match what fastlint reports, exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_support import FIXTURES, MarkerError, compare, fixture_files, parse_expectations

FILES = fixture_files()


@pytest.mark.parametrize(
    ("root", "path"), FILES, ids=[p.relative_to(FIXTURES).as_posix() for _, p in FILES]
)
def test_fixture(root: Path, path: Path) -> None:
    missing, unexpected, fixed = compare(path, root)
    problems = []
    if missing:
        problems.append("expected but not reported:\n  " + "\n  ".join(missing))
    if unexpected:
        problems.append("reported but not expected:\n  " + "\n  ".join(unexpected))
    if fixed:
        problems.append("todo-expect now reported; promote to expect:\n  " + "\n  ".join(fixed))
    assert not problems, "\n".join(problems)


def test_misspelt_marker_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1  # exepct: FL101\n")
    with pytest.raises(MarkerError):
        parse_expectations(bad)


def test_unknown_code_marker_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1  # expect: FL999\n")
    with pytest.raises(MarkerError):
        parse_expectations(bad)


def test_expect_next_points_at_next_instruction(tmp_path: Path) -> None:
    docker = tmp_path / "Dockerfile"
    docker.write_text("FROM python:3.12-slim\n# expect-next: FL403\n\nCMD run\n")
    (expectation,) = parse_expectations(docker)
    assert (expectation.line, expectation.code) == (4, "FL403")


def test_every_fixture_group_has_files() -> None:
    assert FILES, "no fixtures found"
