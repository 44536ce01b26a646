"""Print pip constraints that pin each runtime dependency to the floor pyproject.toml allows.

    python .ci/lowest.py > lowest.txt && pip install -c lowest.txt '.[test]'

.ci/run installs the project that way into a second virtualenv and runs the suite there, so
every ``>=`` floor in ``[project] dependencies`` is a version the suite passes with; the floors
are read from pyproject.toml each run, so a dependency added there is covered at once. Every
runtime dependency must have exactly one floor: without one, "the lowest allowed version" is
whatever the package index held first, which nobody tests.

Needs only the standard library (tomli below Python 3.11, which fastlint itself requires).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"

# A PEP 508 requirement without a URL: name, optional [extras], specifiers, optional ; marker.
_REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*"
    r"\(?(?P<specifiers>[^;()]*)\)?\s*(?:;\s*(?P<marker>.+))?$"
)


def constraints(dependencies: list[str]) -> list[str]:
    """``name==floor`` (with the requirement's marker) for each dependency."""
    lines = []
    for requirement in dependencies:
        match = _REQUIREMENT.match(requirement)
        if match is None or "@" in requirement:
            raise ValueError(f"cannot read the requirement {requirement!r}")
        specifiers = [s.strip() for s in match["specifiers"].split(",") if s.strip()]
        floors = [s[2:].strip() for s in specifiers if s.startswith(">=")]
        if len(floors) != 1:
            raise ValueError(f"{requirement!r} needs exactly one floor (>=VERSION)")
        marker = f"; {match['marker'].strip()}" if match["marker"] else ""
        lines.append(f"{match['name']}=={floors[0]}{marker}")
    return lines


def main() -> int:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    try:
        lines = constraints(project.get("dependencies", []))
    except ValueError as error:
        print(f"{PYPROJECT.name}: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
