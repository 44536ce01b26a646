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


def assert_text_positions_match(module: PythonModule) -> int:
    """Every expression the text search locates is where PositionProvider puts it."""
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
    return checked


@pytest.mark.parametrize("path", PYTHON_FILES, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_text_positions_match_position_provider(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        module = _module(text)
    except cst.ParserSyntaxError:
        pytest.skip("fixture is deliberately unparseable")
    assert assert_text_positions_match(module) or not text.strip()


# Code that occurs more than once, with look-alikes a text search must not count: the name
# inside a longer name, inside an f-string (one string token), in a comment or a docstring,
# the tail of a longer dotted chain, a multi-line call whose first line other calls share.
REPEATED = {
    "names": (
        '"""kind of thing"""\n'
        "kinds = 1\n"
        'label = f"{kind}." if not kind.endswith(".") else kind  # kind\n'
        "def f(kind=kind):\n"
        "    return x.kind, kind\n"
    ),
    "dotted": (
        "def f(self, result):\n"
        "    print(self.result.stdout)\n"
        "    print(result.stdout)\n"
        "    return result.stdout\n"
    ),
    "multi-line-calls": (
        "def f():\n    emit(\n        1,\n    )\n    emit(\n        2,\n    )\nemit(\n    1,\n)\n"
    ),
    "strings": (
        'ORIGINS = ["*"]  # "*" is every origin\nALSO = "*"\nHELP = "use \\"*\\" with care"\n'
    ),
    "calls": (
        "import time\n\n"
        "def f():\n"
        "    time.sleep(1)  # time.sleep(1) blocks\n"
        "    time.sleep(1)\n"
        '    log("time.sleep(1)")\n'
    ),
}


@pytest.mark.parametrize("source", REPEATED.values(), ids=REPEATED.keys())
def test_repeated_code_is_located_by_counting_equal_nodes(source: str) -> None:
    module = _module(source)
    assert assert_text_positions_match(module)
    repeated = [
        node
        for node in walk(module.tree, lambda n: isinstance(n, cst.BaseExpression))
        if module.text.count(module.code(node).partition("\n")[0]) > 1
    ]
    assert repeated
    unlocated = [module.code(node) for node in repeated if module._locate_by_text(node) is None]
    if "{kind}" in source:
        # To the tokenizer an f-string is one string token, so the code holds one ``kind``
        # fewer than the tree: those fall back to the position pass (as does ``f``, which an
        # f-string's prefix spells too).
        assert set(unlocated) <= {"kind", "f"}
    else:
        assert not unlocated


def test_repeated_code_needs_no_position_pass() -> None:
    module = _module("import time\n\ndef f():\n    time.sleep(1)\n    time.sleep(1)\n")
    calls = walk(module.tree, lambda n: isinstance(n, cst.Call))
    assert [module.location(call).line for call in calls] == [4, 5]
    assert "_positions" not in module.__dict__
    assert "_string_and_comment_spans" not in module.__dict__  # nor a tokenizer pass


def test_the_tokenizer_runs_only_when_strings_or_comments_repeat_the_code() -> None:
    module = _module("import time\n\ndef f():\n    time.sleep(1)  # time.sleep(1)\n")
    (call,) = walk(module.tree, lambda n: isinstance(n, cst.Call))
    assert module.location(call).column == 5
    assert "_string_and_comment_spans" in module.__dict__


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
