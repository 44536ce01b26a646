"""Module parts: what reading the model charges, and the digests the result cache compares.

The cache keeps another file's findings across an edit when every part they read has the same
digest before and after it. So the parts the model charges must be parts the digests know (a
name mismatch would let a stale finding through), and a digest must change exactly when its
part's syntax does.
"""

from __future__ import annotations

import sys

import libcst as cst
import pytest
from fixture_support import fixture_files

from fastlint.discovery import FileKind, classify
from fastlint.python import tracking
from fastlint.python.fingerprint import Fingerprint, calls_part
from fastlint.python.model import build_model
from fastlint.python.tracking import INTERFACE, TEXT, WHOLE

SHAPES = """\
import typing
from typing import overload

if typing.TYPE_CHECKING:
    def hinted() -> None: ...
else:
    def hinted(): return None

try:
    import ujson as json
except ImportError:
    def load(): return None

class Outer:
    limit = 3
    handler = lambda self: None

    class Inner:
        async def run(self):
            def helper():
                class Local:
                    def method(self): return 1
                return Local
            return helper

    if limit:
        def guarded(self): return 1

    @overload
    def get(self, x: int) -> int: ...
    @overload
    def get(self, x: str) -> str: ...
    def get(self, x): return x

with open("x") as handle:
    def inside_with(): pass

for item in ():
    def inside_for(): pass

while False:
    def inside_while(): pass
"""


def fingerprint(text: str) -> dict[str, str] | None:
    """The digests of the interface and of every top-level function."""
    found = Fingerprint.of(text)
    return None if found is None else found.parts


def _model(text: str, path: str = "m.py"):  # type: ignore[no-untyped-def]
    return build_model(cst.parse_module(text), "m", False, path)


def _parts(text: str) -> set[str]:
    """The part names the model charges for function bodies."""
    model = _model(text)
    return {function.part[1] for function in model._functions if function.part is not None}


def test_the_parts_the_model_charges_are_the_parts_the_digests_know() -> None:
    digests = fingerprint(SHAPES)
    assert digests is not None
    assert _parts(SHAPES) == digests.keys()
    assert _parts(SHAPES) == {
        INTERFACE,  # the lambda at class level
        "hinted",
        "load",
        "Outer.Inner.run",  # helper, Local and Local.method are inside it
        "Outer.guarded",
        "Outer.get",  # three defs, one part
        "inside_with",
        "inside_for",
        "inside_while",
    }


@pytest.mark.skipif(sys.version_info < (3, 10), reason="match needs Python 3.10")
def test_defs_in_match_cases_are_top_level_too() -> None:
    text = (
        "match x:\n    case 1:\n        def one(): pass\n    case _:\n        def other(): pass\n"
    )
    digests = fingerprint(text)
    assert digests is not None
    assert _parts(text) | {INTERFACE} == digests.keys() == {INTERFACE, "one", "other"}


@pytest.mark.parametrize(
    ("root", "path"),
    [(root, path) for root, path in fixture_files() if classify(path) is FileKind.PYTHON],
    ids=lambda value: value.name if hasattr(value, "name") else str(value),
)
def test_every_fixture_module_charges_parts_its_digests_know(root, path) -> None:  # type: ignore[no-untyped-def]
    text = path.read_text(encoding="utf-8")
    digests = fingerprint(text)
    try:
        tree = cst.parse_module(text)
    except cst.ParserSyntaxError:
        assert digests is None  # both parsers refuse it
        return
    if digests is None:
        return  # valid for LibCST only (newer grammar): the cache treats it as changed
    model = build_model(tree, "m", False, "m.py")
    charged = {function.part[1] for function in model._functions if function.part is not None}
    assert charged <= digests.keys()


def test_comments_and_formatting_do_not_change_any_digest() -> None:
    text = "import os\n\ndef f(a, b):\n    return os.path.join(a, b)\n"
    reformatted = (
        "# header\nimport os  # why\n\n\n"
        "def f(a,\n      b):\n    # explain\n    return os.path.join(\n        a, b)\n"
    )
    assert fingerprint(text) == fingerprint(reformatted)


@pytest.mark.parametrize(
    ("edited", "changed"),
    [
        ("import os\nX = 1\ndef f():\n    return 2\ndef g():\n    return os.sep\n", {"f"}),
        ("import os\nX = 1\ndef f():\n    return 1\ndef g():\n    return os.pathsep\n", {"g"}),
        ("import os\nX = 2\ndef f():\n    return 1\ndef g():\n    return os.sep\n", {""}),
        ("import sys\nX = 1\ndef f():\n    return 1\ndef g():\n    return os.sep\n", {""}),
        (
            "import os\nX = 1\nasync def f():\n    return 1\ndef g():\n    return os.sep\n",
            {"", "f"},
        ),
        ("import os\nX = 1\ndef f(y):\n    return 1\ndef g():\n    return os.sep\n", {"", "f"}),
        ("import os\nX = 1\ndef g():\n    return os.sep\n", {"", "f"}),
    ],
    ids=["f body", "g body", "constant", "import", "async", "signature", "removed"],
)
def test_an_edit_changes_the_digest_of_the_parts_it_touches(edited: str, changed: set[str]) -> None:
    text = "import os\nX = 1\ndef f():\n    return 1\ndef g():\n    return os.sep\n"
    before, after = fingerprint(text), fingerprint(edited)
    assert before is not None and after is not None
    parts = before.keys() | after.keys()
    assert {part for part in parts if before.get(part) != after.get(part)} == changed


def test_text_cpython_cannot_parse_has_no_digest() -> None:
    assert fingerprint("def f(:\n") is None
    assert fingerprint("x = (" * 300 + ")" * 300) is None


def test_reading_the_model_charges_the_part_read() -> None:
    text = (
        "import requests\n"
        "class Client:\n"
        "    def __init__(self):\n"
        "        self.http = requests.Session()\n"
        "    def get(self):\n"
        "        def inner():\n"
        "            return self.http.get('u')\n"
        "        return inner()\n"
        "def helper():\n"
        "    return 1\n"
    )
    model = _model(text)

    def charged(read) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
        with tracking.frame() as reads:
            read()
        return reads.modules

    with tracking.frame():
        helper = model.function_by_qualname("helper")
        inner = model.function_by_qualname("Client.get.<locals>.inner")
        client = model.class_by_name("Client")
    assert helper is not None and inner is not None and client is not None
    assert charged(lambda: model.function_by_qualname("helper")) == {("m.py", "name:helper")}
    assert charged(lambda: model.function_by_qualname("helper.<locals>.x")) == {
        ("m.py", "name:helper"),
        ("m.py", "helper"),
    }
    assert charged(lambda: model.class_by_name("Client")) == {("m.py", "name:Client")}
    assert charged(lambda: model.module_binding("requests")) == {("m.py", "name:requests")}
    assert charged(lambda: model.module_binding("absent")) == {("m.py", "name:absent")}
    assert charged(lambda: (helper.params, helper.decorators, helper.is_async)) == set()
    assert charged(lambda: helper.calls) == {("m.py", "helper")}
    assert charged(lambda: helper.scope) == {("m.py", "helper")}
    assert charged(lambda: inner.returns) == {("m.py", "Client.get")}  # the outermost def
    assert charged(lambda: client.bases) == {("m.py", "name:Client")}
    assert charged(lambda: client.node) == {
        ("m.py", "name:Client"),
        ("m.py", "Client.__init__"),
        ("m.py", "Client.get"),
    }
    assert charged(lambda: model.calls) == {("m.py", WHOLE)}
    assert charged(lambda: model.functions) == {("m.py", WHOLE)}
    assert charged(lambda: model.main_block) == {("m.py", INTERFACE)}
    # A lookup charges the names it reads at module level, not the function scopes it passes.
    scope = inner.scope
    assert charged(lambda: scope.lookup("requests")) == {("m.py", "name:requests")}
    assert charged(lambda: scope.lookup("self")) == set()


def test_a_model_without_a_path_charges_nothing() -> None:
    model = build_model(cst.parse_module("def f():\n    g()\n"), "m")
    with tracking.frame() as reads:
        assert model.functions[0].calls
        assert model.calls
    assert reads.modules == set()


def test_a_scan_of_named_calls_reads_those_calls_and_the_parts_they_are_in() -> None:
    text = (
        "from fastapi import FastAPI\n"
        "app = FastAPI(lifespan=None)\n"
        "def build():\n"
        "    return FastAPI(on_startup=[])\n"
        "def other():\n"
        "    return len([])\n"
        "class Holder:\n"
        "    app = FastAPI(lifespan=None)\n"
    )
    model = _model(text)
    names = frozenset({"lifespan", "on_startup", "on_event"})
    with tracking.frame() as reads:
        sites = model.calls_named(names)
    assert [site.function.name if site.function else None for site in sites] == [
        None,
        "build",
        None,
    ]
    # A call at module level reads what its names resolve to (a lookup charges those); one
    # in a function, that function's body; one in a class body, the statements around it.
    assert reads.modules == {("m.py", calls_part(names)), ("m.py", "build"), ("m.py", INTERFACE)}


@pytest.mark.parametrize(
    ("edited", "same"),
    [
        ("app = FastAPI(lifespan=None)  # comment\ndef other():\n    return 2\n", True),
        ("app = FastAPI(lifespan=None)\nx = FastAPI()\ndef other():\n    return len([])\n", True),
        ("app = FastAPI(lifespan=make)\ndef other():\n    return len([])\n", False),
        ("app = FastAPI(lifespan=None)\ndef other():\n    app.on_event('startup')\n", False),
    ],
    ids=["elsewhere", "another call", "the call", "a new call"],
)
def test_the_named_calls_digest_changes_with_those_calls_only(edited: str, same: bool) -> None:
    text = "app = FastAPI(lifespan=None)\ndef other():\n    return len([])\n"
    part = calls_part(["lifespan", "on_event"])
    before, after = Fingerprint.of(text), Fingerprint.of(edited)
    assert before is not None and after is not None
    assert (before.digest(part) == after.digest(part)) is same


def test_the_whole_module_digest_is_its_syntax() -> None:
    text = "import os\ndef f():\n    return os.sep\n"
    base = Fingerprint.of(text)
    assert base is not None
    for edited, same in [
        (text + "# comment\n", True),
        ("import os\n\n\ndef f():  # why\n    return os.sep\n", True),
        (text.replace("os.sep", "os.pathsep"), False),
        (text + "def g():\n    pass\n", False),
    ]:
        other = Fingerprint.of(edited)
        assert other is not None
        assert (base.digest(WHOLE) == other.digest(WHOLE)) is same, edited


def test_quoting_another_modules_source_reads_its_text() -> None:
    from fastlint.python.module import PythonModule

    module = PythonModule("m.py", "x = f( 1 )\n", cst.parse_module("x = f( 1 )\n"), "m", False)
    binding = module.model.module_binding("x")
    assert binding is not None and binding.value is not None
    with tracking.frame() as reads:
        assert module.code(binding.value) == "f( 1 )"
    assert reads.modules == {("m.py", TEXT)}


NAMES = (
    "import os\n"
    "from typing import Optional as Opt\n"
    "LIMIT = 3\n"
    "if os.environ.get('X'):\n"
    "    MODE = 'x'\n"
    "else:\n"
    "    MODE = 'y'\n"
    "class Service(Base):\n"
    "    retries = 2\n"
    "    def run(self):\n"
    "        return LIMIT\n"
    "def helper(a=1):\n"
    "    return MODE\n"
)


@pytest.mark.parametrize(
    ("edited", "changed"),
    [
        (NAMES.replace("LIMIT = 3", "LIMIT = 4"), {"LIMIT"}),
        (NAMES.replace("'y'", "'z'"), {"MODE"}),  # both branches bind it: one statement
        (NAMES.replace("Optional as Opt", "Optional as Maybe"), {"Opt", "Maybe"}),
        (NAMES.replace("retries = 2", "retries = 3"), {"Service", "retries"}),
        # A statement counts for every name stored in it (a class's attributes too): more than
        # the model binds at module level, which only costs a re-check.
        (NAMES.replace("Service(Base)", "Service(Other)"), {"Service", "retries"}),
        (NAMES.replace("def run(self)", "async def run(self)"), {"Service", "retries"}),
        (NAMES.replace("helper(a=1)", "helper(a=2)"), {"helper", "a"}),
        (NAMES.replace("return MODE", "return LIMIT"), set()),  # a body: not a name's part
        (NAMES + "def added():\n    pass\n", {"added"}),
    ],
    ids=["value", "branch", "alias", "class attribute", "base", "method", "default", "body", "new"],
)
def test_a_name_digest_changes_with_the_statements_binding_it(
    edited: str, changed: set[str]
) -> None:
    before, after = Fingerprint.of(NAMES), Fingerprint.of(edited)
    assert before is not None and after is not None
    names = {"os", "Opt", "Maybe", "LIMIT", "MODE", "Service", "retries", "helper", "a", "added"}
    moved = {
        name for name in names if before.digest(f"name:{name}") != after.digest(f"name:{name}")
    }
    assert moved == changed
