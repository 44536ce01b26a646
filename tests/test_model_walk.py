"""The model's own walk over LibCST trees (fastlint.python.model.children), against LibCST's.

The walk reads dataclass fields directly instead of LibCST's visitor machinery, so nothing but
these tests keeps it visiting the nodes LibCST visits, in LibCST's (source) order. Positions found
by counting equal nodes (python/module.py) rely on that order: with a match case's guard walked
after its body, a finding in the guard was reported on a lambda in the body.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from fastlint.python import model
from fastlint.python.module import PythonModule
from fastlint.python.parsing import parse_python

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# What the walk leaves out of LibCST's traversal, with everything under it: whitespace and
# comments, punctuation, operators (their node's type says which) and the ``async`` keyword (its
# node's field does). Every other node LibCST visits, the walk visits, in the same order.
NOT_WALKED = (
    cst.BaseParenthesizableWhitespace,
    cst.EmptyLine,
    cst.TrailingWhitespace,
    cst.Newline,
    cst.Comment,
    cst.LeftParen,
    cst.RightParen,
    cst.LeftSquareBracket,
    cst.RightSquareBracket,
    cst.LeftCurlyBrace,
    cst.RightCurlyBrace,
    cst.Comma,
    cst.Semicolon,
    cst.Colon,
    cst.Dot,
    cst.AssignEqual,
    cst.BaseAugOp,
    cst.BaseBinaryOp,
    cst.BaseBooleanOp,
    cst.BaseCompOp,
    cst.BaseUnaryOp,
    cst.Asynchronous,
)

# Every node type, written so that the walk's order matters: the same call or name on both
# sides of a field LibCST declares out of source order (a case's guard and body, a type alias's
# parameters and value, a keyword and its value, a def's annotations and body). It must parse
# with every LibCST pyproject.toml allows.
GRAMMAR = '''\
"""Module docstring."""
from __future__ import annotations

import os.path as osp, sys
from . import sibling
from ..pkg.sub import (a as b, c)
from mod import *

CONSTANT: int = 1
x = y = z = 0
x += 1; y -= 2; z *= 3; x /= 4; x //= 5; x %= 6; x **= 7; x @= m; x >>= 1; x <<= 1
x &= 1; x |= 1; x ^= 1
a, *rest = b, *more = items
t = (1,); s = {1, *others}; l = [1, *others]; d = {"k": v, **others}; e = ()
n = -a + ~b * c / d % e - f @ g << h >> i & j | k ^ l ** m // +n
cmp = a < b <= c > d >= e == f != g in h not in i is j is not k
logic = not a and b or c
cond = (f(x) if f(x) else f(x))
sl = seq[1:2, ::3, ...][lower:][:upper:step]
attr = obj.attr.sub(arg)[0].call(*args, key=key, **kwargs)
strings = "a" 'b' u"s" """triple"""; raw = rb"\\x00"
walrus = [y := f(x), y ** 2]
if (n := len(a)) > 10: pass
fs = f"{a!r:>{width}} {b=} {'nested'} {c:{fill}{align}}"
fs2 = f'{"quote" + x["key"]}' + f"{x:{y}.{z}f}" + f"{f(x)!s}" + f"{f(x)}"
fs3 = f"{f"{inner}"}" + f"{'\\n'.join(parts)}" + f"{x["key"]}"
lam = lambda p, /, q=f(x), *r, s, t=f(x), **u: (p, q, r, s, t, u)
gen = (i for i in range(3) if i if i > 0 for j in i)
setc = {k for k in ks}; dictc = {k: v for k, v in d.items() if v}; listc = [i for i in a]
del a[0], b.c
assert x, "message"
print(*args, sep="", **kw)


def plain(a, b: T = f(x), /, c: T = f(x), *args: T, d: T, e: T = f(x), **kw: T) -> T:
    global global_value
    inner = 1

    def nested():
        nonlocal inner
        inner += 1

    return (yield from nested())


@decorator
@decorator_factory(1, key=2)
@obj.attribute.decorator
async def coroutine(session, *, timeout=lambda: 10) -> T:
    async with session.begin() as tx, lock:
        async for row in tx.stream():
            yield await row.fetch()
    values = [await v async for v in aiter() if await v]
    gen = (v async for v in aiter())
    await something(lambda: time.sleep(1))
    with (open(p) as fh, ctx() as c2):
        data = fh.read()
    for i, (j, k) in enumerate(pairs):
        continue
    else:
        pass
    while not done:
        break
    else:
        pass
    try:
        raise ValueError("x") from error
    except (TypeError, KeyError) as err:
        raise
    except ValueError:
        pass
    else:
        pass
    finally:
        cleanup()
    try:
        pass
    except* OSError as group:
        pass
    except* (ValueError, TypeError):
        pass


@dataclass(frozen=True)
class Model(Base, metaclass=Meta, **options):
    """Class docstring."""

    field: int = 0

    @property
    def value(self) -> int:
        return self.field

    class Inner:
        pass


async def matcher(command, time):
    match command:
        case 1 if time.sleep(1):
            f = lambda: time.sleep(1)
        case [Point(x=0, y=0), *rest] | {"k": v, **others} if rest:
            pass
        case Point(1, 2, x=3, y=Point(a, b)):
            pass
        case {"key": [1, 2, *_], 1: value, None: other}:
            pass
        case (first, second) | [first, second, _]:
            pass
        case str() | None | True | False | 1 | -2 | 3.0 | 1 + 2j | "s" "t" as captured:
            pass
        case Color.RED | mod.Color.GREEN:
            pass
        case {**rest}:
            pass
        case _:
            pass
    match (a, b):
        case (x, y) if x > y:
            x


type Alias = int
type Generic[T] = list[T]
type Bounded[T: (int, str), *Ts, **P] = Callable[P, tuple[T, *Ts]]
type Same[T: T] = T
type Defaulted[T = int] = list[T]


def generic[T: int, *Ts, **P](a: T, *args: *Ts, **kwargs: P.kwargs) -> T:
    return a


class Container[T, U: str = "s"](Base[T], key=f(x)):
    def method[V](self, v: V) -> V:
        return v


async def handle():
    try:
        pass
    except ValueError, TypeError:
        pass
    try:
        pass
    except* ValueError, TypeError:
        pass
'''

# Grammar only newer LibCSTs parse, by the node type that holds it: tested where the installed
# LibCST has that type.
NEWER_GRAMMAR = {
    "TemplatedString": 't = t"{a!r:>{w}} {b=} {f(x)}" + f(x)\n',
    "LazyImport": "lazy import os.path as p\nlazy from ..pkg import (a as b, c)\n",
    "StarredDictComp": "d = {**f(x) for x in xs}\n",
}


def _sources() -> dict[str, str]:
    sources = {"grammar": GRAMMAR}
    for type_name, text in NEWER_GRAMMAR.items():
        if hasattr(cst, type_name):
            sources[f"newer grammar: {type_name}"] = text
    for path in sorted(FIXTURES.rglob("*.py")):
        sources[path.relative_to(FIXTURES).as_posix()] = path.read_text(encoding="utf-8")
    return sources


SOURCES = _sources()


def _tree(name: str) -> cst.Module:
    """The parsed source; the grammar samples must parse with every LibCST allowed."""
    try:
        return parse_python(SOURCES[name])
    except cst.ParserSyntaxError:
        if name.startswith(("grammar", "newer grammar")):
            raise
        pytest.skip("fixture is deliberately unparseable")


class _LibCSTOrder(cst.CSTVisitor):
    """LibCST's own traversal: every node it visits but NOT_WALKED, with its position."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.visited: list[tuple[cst.CSTNode, str]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, NOT_WALKED):
            return False
        self.visited.append((node, _where(node, self.get_metadata(PositionProvider, node))))
        return True


def _where(node: cst.CSTNode, code_range: object) -> str:
    start, end = code_range.start, code_range.end  # type: ignore[attr-defined]
    return f"{type(node).__name__} {start.line}:{start.column}-{end.line}:{end.column}"


def _walked(node: cst.CSTNode) -> list[cst.CSTNode]:
    """Every node under ``node`` by the model's children(), depth first, parents first."""
    found = [node]
    for child in model.children(node):
        found.extend(_walked(child))
    return found


def _libcst_order(tree: cst.Module) -> tuple[list[tuple[cst.CSTNode, str]], dict]:
    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
    order = _LibCSTOrder()
    wrapper.visit(order)
    return order.visited, wrapper.resolve(PositionProvider)


@pytest.mark.parametrize("name", SOURCES)
def test_walk_visits_what_libcst_visits_in_its_order(name: str) -> None:
    tree = _tree(name)
    expected, positions = _libcst_order(tree)
    walked = _walked(tree)
    # Compared by type and position first, for a readable difference; then by identity.
    assert [_where(node, positions[node]) for node in walked] == [where for _, where in expected]
    assert all(ours is theirs for ours, (theirs, _) in zip(walked, expected))


def _public_node_types() -> set[type]:
    return {
        cls
        for cls in vars(cst).values()
        if isinstance(cls, type) and issubclass(cls, cst.CSTNode) and not inspect.isabstract(cls)
    }


class _Recorder(cst.CSTVisitor):
    """Records every visit_X / leave_X that fast_visit calls (set below for every type)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, cst.CSTNode]] = []


def _recording(event: str) -> Callable[[_Recorder, cst.CSTNode], None]:
    def record(self: _Recorder, node: cst.CSTNode) -> None:
        self.events.append((event, node))

    return record


for _type in _public_node_types():
    setattr(_Recorder, f"visit_{_type.__name__}", _recording("visit"))
    setattr(_Recorder, f"leave_{_type.__name__}", _recording("leave"))


class _LibCSTEvents(cst.CSTVisitor):
    """LibCST's own visit and leave calls, but for NOT_WALKED nodes."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, cst.CSTNode]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, NOT_WALKED):
            return False
        self.events.append(("visit", node))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if not isinstance(original_node, NOT_WALKED):
            self.events.append(("leave", original_node))


def test_fast_visit_calls_visit_and_leave_as_libcst_does() -> None:
    tree = parse_python(GRAMMAR)
    recorder, expected = _Recorder(), _LibCSTEvents()
    model.fast_visit(tree, recorder)
    tree.visit(expected)
    assert [(event, type(node)) for event, node in recorder.events] == [
        (event, type(node)) for event, node in expected.events
    ]
    assert all(ours is theirs for (_, ours), (_, theirs) in zip(recorder.events, expected.events))


class _TypesSeen(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.types: set[type] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.types.add(type(node))
        return True


def test_the_sources_hold_every_node_type_of_the_installed_libcst() -> None:
    """So a node type a newer LibCST adds (and may declare out of source order) is tested
    once it is given a line in GRAMMAR or NEWER_GRAMMAR."""
    seen = _TypesSeen()
    for text in SOURCES.values():
        try:
            parse_python(text).visit(seen)
        except cst.ParserSyntaxError:
            continue
    missing = sorted(cls.__name__ for cls in _public_node_types() - seen.types)
    assert not missing


def test_grammar_positions_found_by_text_are_libcsts() -> None:
    """The text search locates expressions by counting equal nodes in walk order; on the
    grammar sample (the fixtures are in test_positions.py) it must agree with LibCST."""
    tree = parse_python(GRAMMAR)
    module = PythonModule("grammar.py", GRAMMAR, tree, "grammar", False)
    positions = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    located = 0
    for node in _walked(tree):
        if not isinstance(node, cst.BaseExpression):
            continue
        found = module._locate_by_text(node)
        if found is None:
            continue
        want = positions[node]
        where = (found.line, found.column - 1, found.end_line, found.end_column - 1)
        assert where == (want.start.line, want.start.column, want.end.line, want.end.column), (
            module.code(node)
        )
        located += 1
    assert located > 500


def test_leaf_types_hold_no_syntactic_node() -> None:
    """children() answers [] for these types without reading their fields: each field must be
    trivia (parentheses) or the token's text."""
    for leaf in model._LEAVES:
        fields = {field.name: field for field in dataclasses.fields(leaf)}
        syntactic = set(fields) - model._TRIVIA_FIELDS
        assert syntactic <= {"value"}, leaf
        if "value" in fields:
            assert fields["value"].type in ("str", str), leaf


def test_children_of_a_leaf_and_of_a_call() -> None:
    call = cst.parse_expression("f(x, 'y', 1, 2.0, 3j, ...)")
    assert isinstance(call, cst.Call)
    assert [type(child) for child in model.children(call)] == [cst.Name] + [cst.Arg] * 6
    values = [arg.value for arg in call.args]
    assert [type(value) for value in values] == [
        cst.Name,
        cst.SimpleString,
        cst.Integer,
        cst.Float,
        cst.Imaginary,
        cst.Ellipsis,
    ]
    assert all(model.children(value) == [] for value in values)
