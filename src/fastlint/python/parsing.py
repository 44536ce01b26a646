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
from collections.abc import Iterator
from contextlib import contextmanager
from types import MemberDescriptorType
from typing import Callable

import libcst as cst


def parse_python(text: str) -> cst.Module:
    """Parse with LibCST's native parser, which accepts grammar newer than the interpreter."""
    _install_direct_constructors()
    with _parser_output_trusted():
        return cst.parse_module(text)


def _node_classes(root: type) -> Iterator[type]:
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
    cst.CSTNode.__post_init__ = _skip_validation  # type: ignore[method-assign]
    try:
        yield
    finally:
        cst.CSTNode.__post_init__ = _VALIDATE  # type: ignore[method-assign]


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


class _Factory:
    """The default of a parameter whose field has a ``default_factory``."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def _direct_constructor(cls: type) -> Callable[..., None] | None:
    """An ``__init__`` for the node class ``cls`` that does what its dataclass ``__init__``
    does (same parameters and defaults, a factory called for a missing argument, then
    ``__post_init__``), storing each field through its slot. None when ``cls`` is not a slotted
    dataclass whose every field is a slot of its own, or when the result's parameters differ
    from those of the ``__init__`` it would replace.

    The function is compiled from text, as :mod:`dataclasses` compiles the original: the text
    holds nothing but LibCST's field names, which are identifiers."""
    own = vars(cls)
    if "__init__" not in own or "__slots__" not in own or not dataclasses.is_dataclass(cls):
        return None
    fields = dataclasses.fields(cls)
    if any(not field.init for field in fields):
        return None
    if not all(isinstance(own.get(field.name), MemberDescriptorType) for field in fields):
        return None
    namespace: dict[str, object] = {"_FACTORY": _FACTORY}
    parameters, lines = [], []
    for index, field in enumerate(fields):
        name = field.name
        namespace[f"_set{index}"] = own[name].__set__
        value = name
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
    lines.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(parameters)}):\n" + "\n".join(lines) + "\n"
    exec(compile(source, f"<fastlint: {cls.__name__}.__init__>", "exec"), namespace)
    init = namespace["__init__"]
    assert callable(init)
    return init if _same_parameters(init, own["__init__"]) else None


def _same_parameters(new: Callable[..., None], old: Callable[..., None]) -> bool:
    """Same names, kinds and defaults, in order (the same default object; a factory's
    placeholder by what it shows)."""

    def shape(function: Callable[..., None]) -> list[tuple[str, object, object]]:
        return [
            (parameter.name, parameter.kind, _default_key(parameter.default))
            for parameter in inspect.signature(function).parameters.values()
        ]

    return shape(new) == shape(old)


def _default_key(default: object) -> object:
    if default is inspect.Parameter.empty or repr(default) == "<factory>":
        return repr(default)
    return id(default)
