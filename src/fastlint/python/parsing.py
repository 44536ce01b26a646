"""Parsing Python with LibCST, and the two things fastlint does to make it cheaper.

Parsing is most of a cold run's time, and most of parsing is not the native parser but the
Python side building one frozen dataclass per node. Two parts of that are work whose result a
parse never needs:

- validation: every node checks itself in ``__post_init__``; on the parser's own output the
  checks find nothing (see :func:`_parser_output_trusted`);
- storing fields: a frozen dataclass's generated ``__init__`` stores each field with
  ``object.__setattr__(self, name, value)``, a generic attribute lookup per field of every node.
  LibCST's nodes keep their fields in slots, and the same constructor storing each field through
  its slot's own descriptor does exactly the same, faster (see :func:`_direct_constructor`).

Both leave LibCST's behaviour as it is for every tree built outside :func:`parse_python`, and
both step aside on a LibCST whose classes are not shaped as expected.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import MemberDescriptorType
from typing import Callable

import libcst as cst


def parse_python(text: str) -> cst.Module:
    """Parse with LibCST's native parser, which accepts grammar newer than the interpreter."""
    _install_direct_constructors()
    with _parser_output_trusted(), _whitespace_shared():
        return cst.parse_module(text)


def _node_classes(root: type) -> Iterator[type]:
    cls: type
    for cls in root.__subclasses__():
        yield cls
        yield from _node_classes(cls)


# ---------------------------------------------------------------------------- validation

# Every LibCST node validates itself when constructed (``CSTNode.__post_init__``), the parser's
# output included. Those checks exist for trees built by hand; on the parser's own output they
# find nothing, cost an eighth of the parse, and, where they are wrong, turn valid code into a
# parse failure (LibCST issue #1061: ``() if 0 else(lambda:())`` raises TypeError). So while
# the parser builds a tree, validation is off. Only when the base class alone defines the hook:
# a LibCST whose nodes define their own would keep it.
_VALIDATE = cst.CSTNode.__dict__.get("__post_init__")
_CAN_SKIP_VALIDATION = _VALIDATE is not None and not any(
    "__post_init__" in vars(cls) for cls in _node_classes(cst.CSTNode)
)


def _skip_validation(node: cst.CSTNode) -> None:
    pass


@contextmanager
def _parser_output_trusted() -> Iterator[None]:
    if not _CAN_SKIP_VALIDATION:
        yield
        return
    cst.CSTNode.__post_init__ = _skip_validation  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        cst.CSTNode.__post_init__ = _VALIDATE  # type: ignore[method-assign,assignment]


# ---------------------------------------------------------------------------- shared leaves

# Nearly half of a parsed tree's nodes are SimpleWhitespace (the blanks around each token:
# 42% of the nodes of 200 of onyx's modules) and many of the rest Newline, each holding nothing
# but a short string. Nodes are immutable, so while the parser builds a tree, equal ones of
# these two kinds are one object: on 600 of onyx's modules the trees take a quarter less
# memory, which is what bounds a worker's peak on a large project. (Sharing punctuation too,
# commas and dots with the same blanks around them, saved 3 MB more of 44: not worth a key
# per node.) What relies on a node's identity still works for every other node: the
# positions of findings (a position map keyed by node, never asked about whitespace) and our
# own walks. Trees built outside parse_python are untouched.
_SHARED_LEAVES = (cst.SimpleWhitespace, cst.Newline)
_MAX_SHARED_VALUE = 64  # characters: long runs of blanks are rare, and stay unshared


def _shared_new(cls: type, value: object = None, *args: object, **kwargs: object) -> object:
    if not _sharing:
        return object.__new__(cls)
    if "value" in kwargs:
        value = kwargs["value"]
    if value is not None and (not isinstance(value, str) or len(value) > _MAX_SHARED_VALUE):
        return object.__new__(cls)
    return _shared((cls, value), cls)


# Punctuation and line ends built only of shared leaves (a comma with the same blanks around
# it, a line end without a comment) are shared too: by the identity of those leaves.
def _shared(key: tuple[object, ...], cls: type) -> object:
    found = _SHARED.get(key)
    if found is None:
        found = _SHARED[key] = object.__new__(cls)
        _shared_ids.add(id(found))
    return found


def _new_spaced(
    cls: type, whitespace_before: object = None, whitespace_after: object = None
) -> object:
    """Commas, dots, colons and '=': shared when both blanks are shared leaves."""
    if _sharing and id(whitespace_before) in _shared_ids and id(whitespace_after) in _shared_ids:
        return _shared((cls, id(whitespace_before), id(whitespace_after)), cls)
    return object.__new__(cls)


def _new_line_end(
    cls: type, whitespace: object = None, comment: object = None, newline: object = None
) -> object:
    """A line end without a comment."""
    if (
        _sharing
        and comment is None
        and id(whitespace) in _shared_ids
        and id(newline) in _shared_ids
    ):
        return _shared((cls, id(whitespace), id(newline)), cls)
    return object.__new__(cls)


def _new_empty_line(
    cls: type,
    indent: object = True,
    whitespace: object = None,
    comment: object = None,
    newline: object = None,
) -> object:
    """A blank line without a comment."""
    if (
        _sharing
        and comment is None
        and id(whitespace) in _shared_ids
        and id(newline) in _shared_ids
    ):
        return _shared((cls, indent is True, id(whitespace), id(newline)), cls)
    return object.__new__(cls)


def _new_parenthesized(
    cls: type,
    first_line: object = None,
    empty_lines: object = (),
    indent: object = False,
    last_line: object = None,
) -> object:
    """A line break inside brackets, with no blank or comment line in it."""
    if (
        _sharing
        and not empty_lines
        and id(first_line) in _shared_ids
        and id(last_line) in _shared_ids
    ):
        return _shared((cls, id(first_line), indent is True, id(last_line)), cls)
    return object.__new__(cls)


# Punctuation and line ends built only of shared leaves (a comma with the same blanks around
# it, a line end without a comment) are shared too, by the identity of those leaves; each kind
# has its own constructor step, with its fields' names, since it runs for most nodes parsed.
_SHARED_PUNCTUATION: dict[type, Callable[..., object]] = {
    cst.Comma: _new_spaced,
    cst.Dot: _new_spaced,
    cst.Colon: _new_spaced,
    cst.AssignEqual: _new_spaced,
    cst.TrailingWhitespace: _new_line_end,
    cst.EmptyLine: _new_empty_line,
    cst.ParenthesizedWhitespace: _new_parenthesized,
}
_PUNCTUATION_FIELDS = {
    _new_spaced: ["whitespace_before", "whitespace_after"],
    _new_line_end: ["whitespace", "comment", "newline"],
    _new_empty_line: ["indent", "whitespace", "comment", "newline"],
    _new_parenthesized: ["first_line", "empty_lines", "indent", "last_line"],
}


_SHARED: dict[tuple[object, ...], object] = {}  # kept for the process: ids stay unique
_shared_ids: set[int] = set()
_CAN_SHARE = (
    all("__new__" not in vars(cls) for cls in (*_SHARED_LEAVES, *_SHARED_PUNCTUATION))
    and all([f.name for f in dataclasses.fields(cls)] == ["value"] for cls in _SHARED_LEAVES)
    and all(
        [f.name for f in dataclasses.fields(cls)] == _PUNCTUATION_FIELDS[new]
        for cls, new in _SHARED_PUNCTUATION.items()
    )
)
_sharing = False


@contextmanager
def _whitespace_shared() -> Iterator[None]:
    """Share equal leaves while the block parses. The classes keep the ``__new__`` once given
    (CPython does not restore a type's own allocation when it is deleted), which makes new
    objects as before outside the block."""
    global _sharing
    if not _CAN_SHARE:
        yield
        return
    kinds: list[tuple[type, Callable[..., object]]] = [
        *((cls, _shared_new) for cls in _SHARED_LEAVES),
        *_SHARED_PUNCTUATION.items(),
    ]
    for cls, new in kinds:
        if vars(cls).get("__new__") is not new:
            cls.__new__ = new  # type: ignore[assignment]
    _sharing = True
    try:
        yield
    finally:
        _sharing = False


# ---------------------------------------------------------------------------- constructors

_installed = False


def _install_direct_constructors() -> None:
    """Give each LibCST node class :func:`_direct_constructor`'s ``__init__``, once per
    process, on the first parse (a warm run, which parses nothing, does not pay for it).
    Measured on prefect's 40 largest files: parsing takes 7-9% less CPU."""
    global _installed
    if _installed:
        return
    _installed = True
    for cls in set(_node_classes(cst.CSTNode)):
        init = _direct_constructor(cls)
        if init is not None:
            cls.__init__ = init  # type: ignore[misc]


# Identifiers repeat throughout a project (self, db, session, request...): each Name's text is
# one shared string rather than a copy per occurrence.
# Short strings and numbers repeat too (dict keys, status codes).
_INTERNED_FIELDS = frozenset(
    {(cst.Name, "value"), (cst.SimpleString, "value"), (cst.Integer, "value")}
)
_MAX_INTERNED = 40  # characters: a long string is rarely written twice


def _intern_text(value: object) -> object:
    if type(value) is str and len(value) <= _MAX_INTERNED:
        return sys.intern(value)
    return value


class _Factory:
    """The default of a parameter whose field has a ``default_factory``."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def _direct_constructor(cls: type) -> Callable[..., None] | None:
    """An ``__init__`` for the node class ``cls`` that does what its dataclass ``__init__``
    does (same parameters and defaults, a factory called for a missing argument, then
    ``__post_init__`` if the class has one), storing each field through its slot. None when
    ``cls`` is not a slotted dataclass whose every field is a slot of its own, when its
    ``__init__`` is not the one dataclasses generated, or when the result's parameters differ
    from it.

    The function is compiled from text, as :mod:`dataclasses` compiles the original: the text
    holds nothing but LibCST's field names, which are identifiers."""
    own = vars(cls)
    if "__init__" not in own or "__slots__" not in own or not dataclasses.is_dataclass(cls):
        return None
    if getattr(own["__init__"], "__code__", None) is None:
        return None
    if own["__init__"].__code__.co_filename != "<string>":
        return None  # written by hand, not generated by dataclasses: it may do more
    fields = dataclasses.fields(cls)
    if any(not field.init for field in fields):
        return None
    if not all(isinstance(own.get(field.name), MemberDescriptorType) for field in fields):
        return None
    namespace: dict[str, object] = {"_FACTORY": _FACTORY, "_intern": _intern_text}
    parameters, lines = [], []
    for index, field in enumerate(fields):
        name = field.name
        namespace[f"_set{index}"] = own[name].__set__
        value = f"_intern({name})" if (cls, name) in _INTERNED_FIELDS else name
        if field.default is not dataclasses.MISSING:
            namespace[f"_default{index}"] = field.default
            parameters.append(f"{name}=_default{index}")
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"_factory{index}"] = field.default_factory
            parameters.append(f"{name}=_FACTORY")
            value = f"_factory{index}() if {name} is _FACTORY else {name}"
        else:
            parameters.append(name)
        lines.append(f"    _set{index}(self, {value})")
    if hasattr(cls, "__post_init__"):  # as dataclasses does
        lines.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(parameters)}):\n" + "\n".join(lines) + "\n"
    exec(compile(source, f"<fastlint: {cls.__name__}.__init__>", "exec"), namespace)
    init = namespace["__init__"]
    assert callable(init)
    return init if _same_parameters(init, own["__init__"]) else None


def _same_parameters(new: Callable[..., None], old: Callable[..., None]) -> bool:
    """Same parameters (names, kinds, in order) and the same default objects (a factory's
    placeholder by what it shows). Read off the code objects: ``inspect.signature`` was
    half of the installation's time."""
    ours, theirs = new.__code__, old.__code__
    if getattr(old, "__kwdefaults__", None):
        return False
    counts = ("co_argcount", "co_posonlyargcount", "co_kwonlyargcount")
    if any(getattr(ours, count) != getattr(theirs, count) for count in counts):
        return False
    if (ours.co_flags ^ theirs.co_flags) & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        return False
    if ours.co_varnames[: ours.co_argcount] != theirs.co_varnames[: theirs.co_argcount]:
        return False
    defaults, their_defaults = new.__defaults__ or (), getattr(old, "__defaults__", None) or ()
    return len(defaults) == len(their_defaults) and all(
        a is b or repr(a) == repr(b) == "<factory>" for a, b in zip(defaults, their_defaults)
    )
