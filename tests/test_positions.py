"""Positions found by text search must equal LibCST's PositionProvider wherever they apply."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from fastlint.python.model import walk
from fastlint.python.module import PythonModule

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PYTHON_FILES = sorted(p for p in FIXTURES.rglob("*.py") if "never_execute" not in p.parts)


def _module(text: str) -> PythonModule:
    return PythonModule("x.py", text, cst.parse_module(text), "x", False)


@pytest.mark.parametrize("path", PYTHON_FILES, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_text_positions_match_position_provider(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        module = _module(text)
    except cst.ParserSyntaxError:
        pytest.skip("fixture is deliberately unparseable")
    expected = MetadataWrapper(module.tree, unsafe_skip_copy=True).resolve(PositionProvider)
    checked = 0
    for node in walk(module.tree, lambda n: isinstance(n, cst.BaseExpression)):
        located = module._locate_by_text(node)
        if located is None:
            continue
        want = expected[node]
        assert (located.line, located.column, located.end_line, located.end_column) == (
            want.start.line,
            want.start.column + 1,
            want.end.line,
            want.end.column + 1,
        ), module.code(node)
        checked += 1
    assert checked or not text.strip()


def test_repeated_code_falls_back_to_the_position_provider() -> None:
    module = _module("import time\n\ndef f():\n    time.sleep(1)\n    time.sleep(1)\n")
    calls = walk(module.tree, lambda n: isinstance(n, cst.Call))
    assert [module.location(call).line for call in calls] == [4, 5]


def test_multi_line_code_is_not_matched_against_a_shallower_twin() -> None:
    # Detached, the nested call renders with only its own relative indentation, which is exactly
    # the module-level twin's text: a text search would put the finding on line 6.
    source = "def f(x):\n    if x:\n        g(\n            1,\n        )\ng(\n    1,\n)\n"
    module = _module(source)
    nested = walk(module.tree, lambda n: isinstance(n, cst.Call))[0]
    assert module.location(nested).line == 3


def test_starred_element_owns_a_comma_its_range_excludes() -> None:
    module = _module("import os\n\ndef f(items):\n    os.system((*items, 'x'))\n")
    starred = walk(module.tree, lambda n: isinstance(n, cst.StarredElement))[0]
    assert module._locate_by_text(starred) is None
    assert module.location(starred).end_column == 22  # `*items` (columns 16-21), not the comma
