"""fastlint.python.parsing: the faster node constructors build exactly LibCST's trees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from fastlint.python.parsing import parse_python

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# Grammar the fixtures may not cover: every statement and most expression nodes.
GRAMMAR = """\
from __future__ import annotations
import os.path as p, sys
from . import x
from ..a.b import (c as d, e)
@decorator(1, *args, key=value, **kw)
async def f(a, /, b: int = 1, *c, d, e=2, **f) -> "T":
    global g
    nonlocal_ = lambda x, *y, z=1, **w: (x, y)
    async with a as (b, c), d:
        async for i, *j in k:
            yield await m[1:2, ::3, ...]
    return (yield from n)
class C(B, metaclass=M):
    x: int = 1
    def m(self):
        nonlocal y
while not a and b or c:
    if a is not b: break
    elif a in b: continue
    else: pass
for i in range(10): del a[i], b.c
else: raise E("x") from None
try:
    assert x, "msg"
except (A, B) as e:
    x += 1; y **= 2; z //= 3; w @= m; q >>= 1; r <<= 1; s ^= 1; t |= 1; u &= 1; v %= 1
finally:
    print(f"{a!r:>{w}} {b=}", rb"\\x00", u"s", 'q' "implicit")
try: pass
except* C: pass
with open(p) as fh: data = {**d, "k": v}; comp = {k: v for k, v in x.items() if k}
match command:
    case [Point(x=0, y=0), *rest] | {"k": v, **others} if rest: pass
    case str() | None | 1 | -2j | "s" as s: pass
    case _: pass
s = {1, 2}; t = (1,); l = [i async for i in a]; g = (i for i in a)
y = a if b else c; z = not a; n = -a + ~b * c / d % e - f @ g << h >> i & j | k ^ l
(w := 10) and x < y <= z > v >= u != t == s
type Alias[T] = list[T]
def generic[T: int, *Ts, **P](a: T) -> T: ...
"""


def _corpus() -> dict[str, str]:
    texts = {"grammar": GRAMMAR}
    for path in sorted(FIXTURES.rglob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        texts[str(path.relative_to(FIXTURES))] = text
    return texts


# Each text's tree, every field shown (LibCST's repr), or the parse error.
DUMPS = """
def dumps(texts, parse):
    dumped = {}
    for name, text in texts.items():
        try:
            dumped[name] = repr(parse(text))
        except Exception as error:
            dumped[name] = type(error).__name__ + ": " + str(error)
    return dumped
"""


def test_direct_constructors_are_installed_by_a_parse() -> None:
    parse_python("x = 1\n")
    for cls in (cst.Name, cst.Call, cst.SimpleWhitespace, cst.FunctionDef, cst.Module):
        assert cls.__init__.__code__.co_filename.startswith("<fastlint"), cls


def test_trees_are_those_of_libcsts_own_constructors(tmp_path: Path) -> None:
    """The same texts parsed in a process where LibCST keeps its dataclass constructors give
    trees whose every field (``repr`` shows them all) is the same."""
    texts = _corpus()
    assert len(texts) > 50
    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps(texts), encoding="utf-8")
    script = (
        "import json, sys\n"
        "import fastlint.python.parsing as parsing\n"
        "parsing._installed = True  # as if installed: LibCST's own constructors stay\n"
        "import libcst\n"
        "assert libcst.Name.__init__.__code__.co_filename == '<string>'\n"
        "texts = json.load(open(sys.argv[1], encoding='utf-8'))\n"
        f"{DUMPS}\n"
        "json.dump(dumps(texts, parsing.parse_python), sys.stdout)\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", script, str(corpus)],
        capture_output=True,
        text=True,
        cwd=root,
        check=True,
    )
    theirs = json.loads(done.stdout)
    namespace: dict[str, object] = {}
    exec(DUMPS, namespace)
    ours = namespace["dumps"](texts, parse_python)  # type: ignore[operator]
    assert cst.Name.__init__.__code__.co_filename.startswith("<fastlint")
    assert ours["grammar"].startswith("Module(")
    assert sum(dump.startswith("Module(") for dump in ours.values()) > 50
    assert ours == theirs


def test_hand_built_nodes_behave_as_before() -> None:
    parse_python("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")  # still validated
    with pytest.raises(TypeError):
        cst.Name()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        cst.Name("a", unknown=1)  # type: ignore[call-arg]
    first, second = cst.BitAnd(), cst.BitAnd()
    assert first.whitespace_before is not second.whitespace_before  # a factory per node
    expression = cst.BinaryOperation(cst.Name("a"), first, cst.Name("b"))
    assert cst.Module(body=[]).code_for_node(expression) == "a & b"
    with pytest.raises(AttributeError):
        expression.left = cst.Name("c")  # type: ignore[misc]  # still frozen


def test_only_constructors_dataclasses_generated_are_replaced() -> None:
    from dataclasses import dataclass, field

    from libcst._add_slots import add_slots

    from fastlint.python.parsing import _direct_constructor

    @add_slots
    @dataclass(frozen=True)
    class Generated:
        a: int
        b: tuple = ()
        c: list = field(default_factory=list)

    @add_slots
    @dataclass(frozen=True)
    class HandWritten:
        a: int

        def __init__(self, a: int) -> None:
            object.__setattr__(self, "a", a * 2)

    init = _direct_constructor(Generated)
    assert init is not None
    built = Generated.__new__(Generated)
    init(built, 1)
    assert (built.a, built.b, built.c) == (1, (), [])
    assert _direct_constructor(HandWritten) is None
    assert _direct_constructor(cst.BaseExpression) is None  # abstract: no fields of its own


def test_blanks_and_line_ends_are_shared_within_parsed_trees_only() -> None:
    """Equal whitespace leaves of a parsed tree are one object (memory), the code they render
    is the same, and trees built by hand get objects of their own."""
    import libcst as cst

    from fastlint.python.parsing import parse_python

    text = "x = f( a ,  b )\nif x :\n    y  = 1  # c\n"
    tree = parse_python(text)
    assert tree.code == text and tree.deep_equals(cst.parse_module(text))
    assign = tree.body[0].body[0]
    assert isinstance(assign, cst.Assign)
    target = assign.targets[0]
    assert target.whitespace_before_equal is target.whitespace_after_equal
    assert cst.SimpleWhitespace(" ") is not cst.SimpleWhitespace(" ")
    assert cst.Newline() is not cst.Newline()
    assert parse_python("z = 1\n").deep_equals(cst.parse_module("z = 1\n"))
