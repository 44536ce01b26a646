"""Read expectations written in fixture files and lint fixture roots once per test session.

Markers (see STYLE.md): ``# expect: FL101`` at the end of the reported line (several codes:
``# expect: FL101, FL102``; a severity: ``FL401[error]``); a comment line ``# expect-next: FL501``
before the reported instruction or line; ``# todo-expect: FL101`` for a known gap (the test fails
once the gap is fixed). Whole projects may add ``expected.txt`` with ``path:line: CODE`` lines.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastlint import registry
from fastlint.config import build_settings, find_config, read_table
from fastlint.diagnostics import Diagnostic
from fastlint.discovery import classify
from fastlint.engine import lint

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"

_MARKER = re.compile(r"#\s*(?P<kind>todo-expect|expect-next|expect)\s*:\s*(?P<codes>[^#]*)")
# A comment word followed by a colon; if it is close to a marker keyword it must be one exactly.
_COMMENT_WORD = re.compile(r"#\s*(?P<word>[A-Za-z][\w-]*)\s*:")
_KEYWORDS = ("expect", "expect-next", "todo-expect")
_CODE = re.compile(r"^(?P<code>FL\d{3})(?:\[(?P<severity>error|warning|info)\])?$")


class MarkerError(ValueError):
    pass


@dataclass(frozen=True)
class Expectation:
    line: int
    code: str
    severity: str | None
    todo: bool


def fixture_roots() -> list[Path]:
    """Each lint root: ``fixtures/<group>/`` and each ``fixtures/projects/<name>/``."""
    roots: list[Path] = []
    for group in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        if group.name == "projects":
            roots.extend(sorted(p for p in group.iterdir() if p.is_dir()))
        else:
            roots.append(group)
    return roots


def fixture_files() -> list[tuple[Path, Path]]:
    """(root, file) for every file fastlint reads under the fixture roots."""
    found = []
    for root in fixture_roots():
        for path in sorted(root.rglob("*")):
            if path.is_file() and classify(path) is not None and "__pycache__" not in path.parts:
                if path.is_symlink() and root in path.resolve().parents:
                    continue  # the same file as its target, whose findings it shares
                found.append((root, path))
    return found


def _next_content_line(lines: list[str], index: int) -> int:
    for follow in range(index + 1, len(lines)):
        stripped = lines[follow].strip()
        if stripped and not stripped.startswith("#"):
            return follow + 1
    raise MarkerError(f"expect-next on line {index + 1} has no line after it")


def _looks_like_marker(line: str) -> bool:
    for word_match in _COMMENT_WORD.finditer(line):
        word = word_match.group("word").lower()
        if word in _KEYWORDS or difflib.get_close_matches(word, _KEYWORDS, cutoff=0.7):
            return True
    return False


def parse_expectations(path: Path) -> list[Expectation]:
    known = {meta.code for meta in registry.all_metas()}
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    expectations: list[Expectation] = []
    for index, line in enumerate(lines):
        match = _MARKER.search(line)
        if not match and _looks_like_marker(line):
            raise MarkerError(f"{path}:{index + 1}: malformed expectation marker: {line.strip()}")
        if not match:
            continue
        kind = match.group("kind")
        target = _next_content_line(lines, index) if kind == "expect-next" else index + 1
        codes = [c.strip() for c in match.group("codes").split(",") if c.strip()]
        if not codes:
            raise MarkerError(f"{path}:{index + 1}: marker without a code")
        for text in codes:
            code_match = _CODE.match(text)
            if not code_match:
                raise MarkerError(f"{path}:{index + 1}: '{text}' is not a rule code")
            code = code_match.group("code")
            if code not in known:
                raise MarkerError(f"{path}:{index + 1}: {code} is not a registered rule")
            expectations.append(
                Expectation(target, code, code_match.group("severity"), kind == "todo-expect")
            )
    return expectations


def parse_expected_txt(root: Path) -> dict[str, list[Expectation]]:
    """``expected.txt``: ``relative/path:LINE: CODE`` lines for cross-file findings."""
    table: dict[str, list[Expectation]] = {}
    expected = root / "expected.txt"
    if not expected.exists():
        return table
    for number, raw in enumerate(expected.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"^(?P<path>[^:]+):(?P<line>\d+):\s*(?P<code>\S+)$", line)
        code_match = _CODE.match(match.group("code")) if match else None
        if not match or not code_match:
            raise MarkerError(f"{expected}:{number}: expected 'path:line: CODE', got '{raw}'")
        table.setdefault(match.group("path"), []).append(
            Expectation(
                int(match.group("line")),
                code_match.group("code"),
                code_match.group("severity"),
                False,
            )
        )
    return table


@cache
def lint_root(root: Path) -> tuple[Diagnostic, ...]:
    """Lint a fixture root as its own project (its pyproject's [tool.fastlint] applies)."""
    config = root / "pyproject.toml"
    table = read_table(config) if config.exists() else {}
    settings = build_settings(table)
    result = lint([root], settings, root=root, cwd=root)
    return tuple(result.diagnostics)


def compare(path: Path, root: Path) -> tuple[list[str], list[str], list[str]]:
    """(missing, unexpected, fixed_todos) for one fixture file, as readable lines."""
    rel = path.relative_to(root).as_posix()
    expectations = parse_expectations(path) + parse_expected_txt(root).get(rel, [])
    actual = [d for d in lint_root(root) if d.path == rel]
    want = Counter((e.line, e.code) for e in expectations if not e.todo)
    todo = {(e.line, e.code) for e in expectations if e.todo}
    got = Counter((d.line, d.code) for d in actual)
    missing = [f"{rel}:{line}: {code}" for (line, code) in sorted((want - got).elements())]
    unexpected_keys = got - want
    fixed = [f"{rel}:{line}: {code}" for (line, code) in sorted(todo & set(unexpected_keys))]
    unexpected = [
        f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}"
        for d in actual
        if (d.line, d.code) in unexpected_keys and (d.line, d.code) not in todo
    ]
    for expectation in expectations:
        if expectation.severity and not expectation.todo:
            matching = [
                d for d in actual if (d.line, d.code) == (expectation.line, expectation.code)
            ]
            if matching and all(d.severity.value != expectation.severity for d in matching):
                missing.append(
                    f"{rel}:{expectation.line}: {expectation.code} should be "
                    f"{expectation.severity}, is {matching[0].severity.value}"
                )
    return missing, unexpected, fixed


def write(root: Path, files: dict[str, str]) -> Path:
    """Write a small project: relative path → text. Returns ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


__all__ = ["find_config"]
