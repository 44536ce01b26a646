""".ci/lowest.py: the constraints .ci/run installs to test pyproject.toml's dependency floors."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("lowest", REPO / ".ci" / "lowest.py")
assert _spec is not None and _spec.loader is not None
lowest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lowest)


def test_each_requirement_is_pinned_to_its_floor_with_its_marker() -> None:
    assert lowest.constraints(
        [
            "libcst>=1.8.4",
            "tomli>=2.0; python_version < '3.11'",
            "PyYAML[libyaml] >= 6.0.1, <7",
            "dockerfile_parse (>=2.0)",
        ]
    ) == [
        "libcst==1.8.4",
        "tomli==2.0; python_version < '3.11'",
        "PyYAML==6.0.1",
        "dockerfile_parse==2.0",
    ]


@pytest.mark.parametrize(
    "requirement", ["rich", "rich<14", "rich==13.0", "rich>=13,>=14", "x @ https://e.org/x.whl"]
)
def test_a_requirement_without_exactly_one_floor_is_refused(requirement: str) -> None:
    with pytest.raises(ValueError, match=r"floor|cannot read"):
        lowest.constraints([requirement])


def test_every_runtime_dependency_of_the_project_has_a_floor() -> None:
    """So a dependency added without one fails here, not only in CI's second run."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = lowest.constraints(project["dependencies"])
    assert len(pins) == len(project["dependencies"])
    assert all("==" in pin for pin in pins)
