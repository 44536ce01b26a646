"""One pass over a LibCST module that records what every Python rule asks about.

The pass collects scopes and their bindings, functions, classes and call sites. Names are
resolved lazily, on demand, to *paths*: dotted strings such as ``requests.get``. A call is written
``()``, so ``client = httpx.Client()`` makes ``client.get`` resolve to ``httpx.Client().get`` and
``db = SessionLocal()`` (with ``SessionLocal = sessionmaker(...)``) resolves to
``sqlalchemy.orm.sessionmaker()()``. Paths that start with a project module are made canonical
across modules by :class:`fastlint.python.project.Project`.

No LibCST metadata provider runs here: positions are computed only for nodes that get reported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Callable, Union

import libcst as cst

Literal = Union[str, int, float, bool, None, tuple, list, dict]


class _Unknown:
    """The value of an expression the model cannot evaluate statically."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class TupleItem(cst.Subscript):
    """Item ``index`` of ``value`` unpacked into ``arity`` targets: ``SessionLocal, engine =
    init_db(url)`` binds ``SessionLocal`` to ``init_db(url)[0]`` (of 2). Made by the model, never
    parsed: a plain subscript to everything that does not know it (so it resolves to no path),
    while the analyses that follow factories read what item ``index`` of the call is."""

    index: int = 0
    arity: int = 0


def unpacked_items(
    target: cst.BaseExpression, value: cst.BaseExpression
) -> list[tuple[cst.BaseExpression, TupleItem]]:
    """``(target, item)`` for each element of a tuple or list target ``a, b = value``; none for
    a literal value (``a, b = x, y``: not followed), a starred or a nested target."""
    if not isinstance(target, (cst.Tuple, cst.List)) or isinstance(value, (cst.Tuple, cst.List)):
        return []
    if not all(isinstance(element, cst.Element) for element in target.elements):
        return []  # a starred target: items counted from the end are not followed
    elements = [element.value for element in target.elements]
    arity = len(elements)
    # A nested target (``(a, b), c = ...``) is left unknown: _bind_target binds it so.
    return [(element, _item_of(value, index, arity)) for index, element in enumerate(elements)]


def _item_of(value: cst.BaseExpression, index: int, arity: int) -> TupleItem:
    slice_ = [cst.SubscriptElement(cst.Index(cst.Integer(str(index))))]
    return TupleItem(value=value, slice=slice_, index=index, arity=arity)


# ---------------------------------------------------------------------------- bindings


@dataclass
class Binding:
    """What a name is bound to in one scope.

    ``kind`` is one of ``import`` (``path`` is the imported path), ``def`` / ``class`` (``path``
    is the definition's path), ``value`` (``value`` is the assigned expression, resolved in
    ``scope``), ``param`` (``annotation`` is the annotation expression, if any) or ``unknown``
    (loop targets, conflicting assignments, ``global``: never resolved).
    """

    kind: str
    path: str | None = None
    value: cst.BaseExpression | None = None
    annotation: cst.BaseExpression | None = None
    scope: Scope | None = None
    node: cst.CSTNode | None = None


@dataclass(eq=False)
class Scope:
    kind: str  # "module", "function", "class", "lambda", "comprehension"
    parent: Scope | None
    bindings: dict[str, Binding] = field(default_factory=dict)
    function: FunctionInfo | None = None
    declared: set[str] = field(default_factory=set)  # names with an annotated declaration

    def bind(self, name: str, binding: Binding) -> None:
        if name in self.declared:
            return  # the declared type stands for every value assigned
        old = self.bindings.get(name)
        if old is None:
            self.bindings[name] = binding
            return
        if _same_binding(old, binding):
            return
        # Two different values for one name: precision first, the name is unknown.
        self.bindings[name] = Binding("unknown", node=binding.node)

    def lookup(self, name: str) -> Binding | None:
        """The binding that ``name`` has when read in this scope (class scopes are skipped
        from nested functions, as Python does)."""
        scope: Scope | None = self
        first = True
        while scope is not None:
            if (first or scope.kind != "class") and name in scope.bindings:
                return scope.bindings[name]
            first = False
            scope = scope.parent
        return None


def _same_binding(a: Binding, b: Binding) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind in ("import", "def", "class"):
        return a.path == b.path
    if a.kind == "value" and a.value is not None and b.value is not None:
        return a.value.deep_equals(b.value)
    return False


# ---------------------------------------------------------------------------- records


@dataclass(eq=False)
class Param:
    name: str
    annotation: cst.BaseExpression | None
    default: cst.BaseExpression | None
    node: cst.Param


@dataclass(eq=False)
class CallSite:
    node: cst.Call
    scope: Scope
    function: FunctionInfo | None  # innermost def/lambda containing the call, None at module level
    awaited: bool  # the call is the direct operand of ``await``
    after_yield: bool  # a ``yield`` of the same function comes earlier in source order
    in_main_block: bool  # inside ``if __name__ == "__main__":`` at module level
    in_with_item: bool  # the call is a ``with``/``async with`` item: its context manager closes it
    statement: cst.CSTNode | None = None  # the simple statement the call belongs to


@dataclass(eq=False)
class FunctionInfo:
    """A ``def`` or ``lambda``: its signature, its own scope and what its body holds."""

    name: str
    qualname: str  # "Svc.run", "outer.<locals>.inner", "<lambda>"
    path: str  # module path + qualname, e.g. "app.services.Svc.run"
    is_async: bool
    is_lambda: bool
    outer_scope: Scope  # where decorators, defaults and annotations are evaluated
    parent: FunctionInfo | None
    class_info: ClassInfo | None  # set when the function is a method
    node: cst.FunctionDef | cst.Lambda
    scope: Scope  # the function's own scope
    return_annotation: cst.BaseExpression | None = None
    params: list[Param] = field(default_factory=list)
    decorators: list[cst.BaseExpression] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    is_generator: bool = False
    yields: list[cst.Yield] = field(default_factory=list)
    returns: list[cst.Return] = field(default_factory=list)


@dataclass(eq=False)
class ClassInfo:
    """A class: its bases, its methods and its statement."""

    name: str
    path: str
    scope: Scope  # the scope the class is defined in
    node: cst.ClassDef
    bases: list[cst.BaseExpression] = field(default_factory=list)
    methods: dict[str, FunctionInfo] = field(default_factory=dict)


# ---------------------------------------------------------------------------- the model

# What ``registry[key] = value`` stores: (key, None when dynamic; value, None when not followed;
# the scope the statement is in).
_Write = tuple[Union[str, None], Union[cst.BaseExpression, None], Scope]


class ModuleModel:
    """Facts about one module; built by :func:`build_model`."""

    def __init__(self, name: str, tree: cst.Module, is_package: bool) -> None:
        self.name = name
        self.tree = tree
        self.is_package = is_package
        self.scope = Scope("module", None)
        self.functions: list[FunctionInfo] = []  # every def and lambda, nested ones included
        self.classes: list[ClassInfo] = []
        self.calls: list[CallSite] = []
        # The statements under ``if __name__ == "__main__":``.
        self.main_block: list[cst.BaseStatement] = []
        # Modules whose public names ``from M import *`` at module level brings in.
        self.star_imports: list[str] = []
        # ``target[key] = value`` statements, with the scope they are in (see registry_items).
        self.item_writes: list[tuple[cst.Subscript, Scope, cst.BaseExpression]] = []
        self._writes_by_binding: dict[int, list[_Write]] = {}
        self._writes_indexed = False
        self._resolving: set[int] = set()

    def calls_named(self, names: frozenset[str]) -> list[CallSite]:
        """The calls whose callee's name (``f(...)``, ``x.f(...)``) or one of whose keywords is
        in ``names``."""
        return [site for site in self.calls if _spelt_with(site.node, names)]

    def decorated_by(self, decorator: cst.Call) -> FunctionInfo | None:
        """The function ``decorator`` decorates."""
        for function in self.functions:
            if any(item is decorator for item in function.decorators):
                return function
        return None

    # -- lookups ------------------------------------------------------------

    def function_by_qualname(self, qualname: str) -> FunctionInfo | None:
        for function in self.functions:
            if function.qualname == qualname:
                return function
        return None

    def class_by_name(self, name: str) -> ClassInfo | None:
        for class_info in self.classes:
            if class_info.name == name and class_info.scope is self.scope:
                return class_info
        return None

    def module_binding(self, name: str) -> Binding | None:
        return self.scope.bindings.get(name)

    def exports(self, name: str) -> bool:
        """Whether ``from this_module import *`` brings ``name`` in: it is in a literal
        ``__all__``, or, with no ``__all__``, it does not start with an underscore."""
        declared = self.scope.bindings.get("__all__")
        if declared is None:
            return not name.startswith("_")
        names = self.literal(declared.value) if declared.value is not None else UNKNOWN
        if isinstance(names, (list, tuple)):
            return name in names
        return not name.startswith("_")  # __all__ built dynamically: assume it follows the rule

    # -- resolution -----------------------------------------------------------

    def resolve(self, expr: cst.BaseExpression, scope: Scope) -> str | None:
        """The dotted path an expression refers to, or None when it cannot be known."""
        if isinstance(expr, cst.Name):
            return self.resolve_name(expr.value, scope)
        if isinstance(expr, cst.Attribute):
            base = self.resolve(expr.value, scope)
            return None if base is None else f"{base}.{expr.attr.value}"
        if isinstance(expr, cst.Call):
            func = self.resolve(expr.func, scope)
            return None if func is None else f"{func}()"
        if isinstance(expr, cst.Await):
            return self.resolve(expr.expression, scope)
        if isinstance(expr, cst.Subscript):
            items = self.registry_items(expr, scope)
            if items is not None:
                # ``SERVICES["users"]``: the one class every value it may be is an instance of.
                paths = {self.resolve(value, value_scope) for value, value_scope in items}
                return paths.pop() if len(paths) == 1 else None
        if isinstance(expr, cst.Subscript) and _string_key(expr):
            # client["db"]["users"]: an item of a container, spelt ``[]`` in paths so that
            # catalogue patterns match it as one name (``pymongo.MongoClient().[].[].find``).
            base = self.resolve(expr.value, scope)
            return None if base is None else f"{base}.[]"
        return None

    def resolve_name(self, name: str, scope: Scope) -> str | None:
        binding = scope.lookup(name)
        if binding is None:
            return f"builtins.{name}" if name in _BUILTINS else None
        return self.resolve_binding(binding)

    def resolve_binding(self, binding: Binding) -> str | None:
        if binding.kind in ("import", "def", "class"):
            return binding.path
        if binding.kind == "value" and binding.value is not None and binding.scope is not None:
            key = id(binding)
            if key in self._resolving:
                return None
            self._resolving.add(key)
            try:
                return self.resolve(binding.value, binding.scope)
            finally:
                self._resolving.discard(key)
        if binding.kind == "param" and binding.annotation is not None and binding.scope:
            annotation = unwrap_annotation(binding.annotation)
            if annotation is None:
                return None
            resolved = self.resolve(annotation, binding.scope)
            return None if resolved is None else f"{resolved}()"
        if binding.kind == "param" and isinstance(binding.node, cst.Param) and binding.scope:
            # def fetch(url, client=http_client): the module-level object, unless a caller
            # passes another (annotated parameters are judged by their annotation above).
            default = binding.node.default
            if isinstance(default, (cst.Name, cst.Attribute)):
                return self.resolve(default, binding.scope)
        return None

    def registry_items(
        self, expr: cst.Subscript, scope: Scope
    ) -> list[tuple[cst.BaseExpression, Scope]] | None:
        """The values ``registry[key]`` may be, each with the scope to read it in, when
        ``registry`` names (also through ``alias = registry``) a dict literal whose keys are all
        literal strings: the value under a literal ``key``, or every value for a dynamic key, and
        what ``registry[key] = value`` stores anywhere in the module under that key (or under a
        dynamic one). None when the name is no such dict, or when ``registry.update(...)`` /
        ``setdefault(...)`` changes it in ways not followed."""
        if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
            return None
        chain = self._dict_bindings(expr.value, scope)
        if not chain:
            return None
        index = expr.slice[0].slice.value
        key = index.evaluated_value if isinstance(index, cst.SimpleString) else None
        dictionary = chain[-1]
        assert dictionary.value is not None and dictionary.scope is not None
        entries: list[_Write] = [
            (name, value, dictionary.scope) for name, value in string_keyed(dictionary.value) or ()
        ]
        for binding in chain:
            entries.extend(self._writes_to(binding))
        found: list[tuple[cst.BaseExpression, Scope]] = []
        for entry_key, value, value_scope in entries:
            if key is None or entry_key is None or entry_key == key:
                if value is None:
                    return None
                found.append((value, value_scope))
        return found

    def _dict_bindings(self, expr: cst.BaseExpression, scope: Scope) -> list[Binding]:
        """The bindings from the name ``expr`` to a dict literal with literal string keys
        (``registry = SERVICES``, then ``SERVICES = {...}``); empty when it is no such dict."""
        chain: list[Binding] = []
        for _ in range(8):
            if not isinstance(expr, cst.Name):
                return []
            binding = scope.lookup(expr.value)
            if binding is None or binding.kind != "value" or binding.scope is None:
                return []
            chain.append(binding)
            value = binding.value
            if isinstance(value, cst.Dict):
                return chain if string_keyed(value) is not None else []
            if value is None:
                return []
            expr, scope = value, binding.scope
        return []

    def _writes_to(self, binding: Binding) -> list[_Write]:
        """What the module stores into the dict ``binding`` holds: (key, or None for a dynamic
        one; value, or None for ``update`` / ``setdefault``; scope)."""
        if not self._writes_indexed:
            self._writes_indexed = True
            for target, scope, value in self.item_writes:
                holder = _written_binding(target.value, scope)
                if holder is not None:
                    index = target.slice[0].slice if len(target.slice) == 1 else None
                    key = None
                    if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
                        evaluated = index.value.evaluated_value
                        key = evaluated if isinstance(evaluated, str) else None
                    entry: _Write = (key, value, scope)
                    self._writes_by_binding.setdefault(id(holder), []).append(entry)
            for site in self.calls_named(_DICT_MUTATORS):
                func = site.node.func
                if isinstance(func, cst.Attribute) and func.attr.value in _DICT_MUTATORS:
                    holder = _written_binding(func.value, site.scope)
                    if holder is not None:
                        entry = (None, None, site.scope)  # not followed
                        self._writes_by_binding.setdefault(id(holder), []).append(entry)
        return self._writes_by_binding.get(id(binding), [])

    def literal(self, expr: cst.BaseExpression, scope: Scope | None = None) -> object:
        """Evaluate literals, containers of literals and names bound to them; else UNKNOWN."""
        return _evaluate(expr, scope or self.scope, self, set())


# Builtins whose calls rules care about; other unbound names resolve to None.
_BUILTINS = frozenset({"open", "input", "print", "len", "int", "str", "bool", "float", "range"})


# Dict methods that store values a registry lookup does not follow.
_DICT_MUTATORS = frozenset({"update", "setdefault"})


def string_keyed(value: cst.BaseExpression) -> list[tuple[str, cst.BaseExpression]] | None:
    """``(key, value)`` of a dict display whose keys are all literal strings; else None."""
    if not isinstance(value, cst.Dict):
        return None
    found = []
    for element in value.elements:
        key_node = element.key if isinstance(element, cst.DictElement) else None
        if not isinstance(key_node, cst.SimpleString):
            return None
        key = key_node.evaluated_value
        if not isinstance(key, str):
            return None
        found.append((key, element.value))
    return found


def _written_binding(expr: cst.BaseExpression, scope: Scope) -> Binding | None:
    return scope.lookup(expr.value) if isinstance(expr, cst.Name) else None


def _spelt_with(call: cst.Call, names: frozenset[str]) -> bool:
    func = call.func
    callee = func.attr if isinstance(func, cst.Attribute) else func
    if isinstance(callee, cst.Name) and callee.value in names:
        return True
    return any(arg.keyword is not None and arg.keyword.value in names for arg in call.args)


def _string_key(expr: cst.Subscript) -> bool:
    """``x["name"]``: one subscript, a plain string."""
    if len(expr.slice) != 1:
        return False
    index = expr.slice[0].slice
    return isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString)


def unwrap_annotation(annotation: cst.BaseExpression) -> cst.BaseExpression | None:
    """``Annotated[Session, Depends(x)]`` → ``Session``; ``Optional[X]`` → ``X``."""
    if isinstance(annotation, cst.Subscript) and annotation.slice:
        head = annotation.value
        name = head.attr.value if isinstance(head, cst.Attribute) else getattr(head, "value", "")
        first = annotation.slice[0].slice
        if name in ("Annotated", "Optional") and isinstance(first, cst.Index):
            return unwrap_annotation(first.value)
        if name == "Union":
            members = [
                item.slice.value for item in annotation.slice if isinstance(item.slice, cst.Index)
            ]
            return _only_not_none(members)
        if name in _CONTAINERS:
            return None
        # A generic project class, ``Store[Payload]``: an instance of ``Store``.
        return head if isinstance(head, (cst.Name, cst.Attribute)) else None
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return _only_not_none(_union_members(annotation))  # ``Client | None``
    if isinstance(annotation, (cst.SimpleString, cst.ConcatenatedString)):
        return None
    return annotation


# Subscripted annotations that are not an instance of their head's class in any useful sense.
_CONTAINERS = frozenset(
    {
        "list",
        "List",
        "dict",
        "Dict",
        "set",
        "Set",
        "frozenset",
        "FrozenSet",
        "tuple",
        "Tuple",
        "type",
        "Type",
        "Sequence",
        "Mapping",
        "Iterable",
        "Iterator",
        "Generator",
        "AsyncIterator",
        "AsyncGenerator",
        "Callable",
        "Awaitable",
        "Coroutine",
        "Literal",
        "ClassVar",
        "Final",
        "Union",
        "MutableMapping",
        "MutableSequence",
        "Collection",
    }
)


def _union_members(annotation: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return [*_union_members(annotation.left), *_union_members(annotation.right)]
    return [annotation]


def _only_not_none(members: list[cst.BaseExpression]) -> cst.BaseExpression | None:
    """The one member of a union that is not None (``Client | None``), else None."""
    others = [m for m in members if not (isinstance(m, cst.Name) and m.value == "None")]
    return unwrap_annotation(others[0]) if len(others) == 1 else None


def _evaluate(expr: cst.BaseExpression, scope: Scope, model: ModuleModel, seen: set[int]) -> object:
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = expr.evaluated_value
        return value if isinstance(value, str) else UNKNOWN
    if isinstance(expr, cst.Integer):
        return int(expr.value.replace("_", ""), 0)
    if isinstance(expr, cst.Float):
        return float(expr.value.replace("_", ""))
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = _evaluate(expr.expression, scope, model, seen)
        return (
            -inner if isinstance(inner, (int, float)) and not isinstance(inner, bool) else UNKNOWN
        )
    if isinstance(expr, cst.Name):
        if expr.value in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[expr.value]
        binding = scope.lookup(expr.value)
        if binding is None or binding.kind != "value" or binding.value is None:
            return UNKNOWN
        if id(binding) in seen or binding.scope is None:
            return UNKNOWN
        return _evaluate(binding.value, binding.scope, model, seen | {id(binding)})
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        items = []
        for element in expr.elements:
            if not isinstance(element, cst.Element):
                return UNKNOWN
            item = _evaluate(element.value, scope, model, seen)
            if item is UNKNOWN:
                return UNKNOWN
            items.append(item)
        return items if isinstance(expr, cst.List) else tuple(items)
    return UNKNOWN


# ---------------------------------------------------------------------------- the pass


def build_model(tree: cst.Module, name: str, is_package: bool = False) -> ModuleModel:
    """The model of ``tree``."""
    model = ModuleModel(name, tree, is_package)
    fast_visit(tree, _ModelBuilder(model))
    return model


def _relative_base(module: str, is_package: bool, level: int) -> str:
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    return ".".join(parts)


def dotted(expr: cst.BaseExpression) -> str | None:
    """``a.b.c`` as text; None for anything but names and attributes."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        base = dotted(expr.value)
        return None if base is None else f"{base}.{expr.attr.value}"
    return None


class _ModelBuilder(cst.CSTVisitor):
    def __init__(self, model: ModuleModel) -> None:
        self.model = model
        self.scope = model.scope
        self.function_stack: list[FunctionInfo] = []
        self.class_stack: list[ClassInfo] = []
        self.qual_stack: list[str] = []
        self.await_targets: set[int] = set()
        self.with_items: set[int] = set()
        self.seen_yield: list[bool] = []
        self.main_depth = 0
        self.statement_stack: list[cst.CSTNode] = []

    # -- helpers --------------------------------------------------------------

    @property
    def function(self) -> FunctionInfo | None:
        return self.function_stack[-1] if self.function_stack else None

    def _qualname(self, name: str) -> str:
        return ".".join([*self.qual_stack, name])

    def _path(self, qualname: str) -> str:
        return f"{self.model.name}.{qualname}" if self.model.name else qualname

    def _bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            if value is None:
                self.scope.bind(target.value, Binding("unknown", node=target))
            else:
                self.scope.bind(
                    target.value, Binding("value", value=value, scope=self.scope, node=target)
                )
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value, None)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, None)

    # -- statements -----------------------------------------------------------

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statement_stack.append(node)

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self.statement_stack.pop()

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self.scope.bind(alias.asname.name.value, Binding("import", path=full, node=node))
            else:
                head = full.split(".")[0]
                self.scope.bind(head, Binding("import", path=head, node=node))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = dotted(node.module) if node.module is not None else ""
        level = len(node.relative)
        if level:
            base = _relative_base(self.model.name, self.model.is_package, level)
            module = ".".join(part for part in (base, module) if part)
        if isinstance(node.names, cst.ImportStar):
            if self.scope is self.model.scope and module:
                self.model.star_imports.append(module)
            return
        for alias in node.names:
            name = dotted(alias.name) or ""
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            path = f"{module}.{name}" if module else name
            self.scope.bind(local, Binding("import", path=path, node=node))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            items = unpacked_items(target.target, node.value)
            if not items:
                self._bind_target(target.target, node.value)
            for element, item in items:
                self._bind_target(element, item)
            if isinstance(target.target, cst.Subscript):
                self.model.item_writes.append((target.target, self.scope, node.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and self.scope.kind == "function":
            # ``client: Client | None = None``: the declared type holds whatever is assigned
            # later (a later plain assignment does not make the name unknown).
            name = node.target.value
            self.scope.bindings[name] = Binding(
                "param", annotation=node.annotation.annotation, scope=self.scope, node=node
            )
            self.scope.declared.add(name)
        elif node.value is not None:
            self._bind_target(node.target, node.value)
        elif isinstance(node.target, cst.Name) and self.scope.kind == "function":
            self.scope.bind(
                node.target.value,
                Binding("param", annotation=node.annotation.annotation, scope=self.scope),
            )

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.scope.bind(node.target.value, Binding("unknown", node=node))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, node.value)

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, None)

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self.scope.bind(item.name.value, Binding("unknown", node=node))

    visit_Nonlocal = visit_Global  # type: ignore[assignment]

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.scope.bind(node.name.name.value, Binding("unknown", node=node))

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            if isinstance(item.item, cst.Call):
                self.with_items.add(id(item.item))
            if item.asname is not None:
                self._bind_target(item.asname.name, item.item)

    def visit_If(self, node: cst.If) -> None:
        if self.scope is self.model.scope and _is_main_test(node.test):
            self.main_depth += 1
            if isinstance(node.body, cst.IndentedBlock):
                self.model.main_block.extend(node.body.body)

    def leave_If(self, original_node: cst.If) -> None:
        if self.scope is self.model.scope and _is_main_test(original_node.test):
            self.main_depth -= 1

    # -- definitions ----------------------------------------------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        qualname = self._qualname(node.name.value)
        info = ClassInfo(
            name=node.name.value,
            path=self._path(qualname),
            scope=self.scope,
            node=node,
            bases=[arg.value for arg in node.bases],
        )
        self.model.classes.append(info)
        self.scope.bind(node.name.value, Binding("class", path=info.path, node=node))
        self.class_stack.append(info)
        self.qual_stack.append(node.name.value)
        self.scope = Scope("class", self.scope)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        assert self.scope.parent is not None
        self.scope = self.scope.parent
        self.qual_stack.pop()
        self.class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        enclosing_class = self.class_stack[-1] if self.scope.kind == "class" else None
        qualname = self._qualname(node.name.value)
        self._enter_function(
            node=node,
            name=node.name.value,
            qualname=qualname,
            is_async=node.asynchronous is not None,
            params=node.params,
            class_info=enclosing_class,
            decorators=[decorator.decorator for decorator in node.decorators],
        )
        self.qual_stack.extend([node.name.value, "<locals>"])

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.qual_stack.pop()
        self.qual_stack.pop()
        self._leave_function()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._enter_function(
            node=node,
            name="<lambda>",
            qualname=self._qualname("<lambda>"),
            is_async=False,
            params=node.params,
            class_info=None,
            decorators=[],
        )

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._leave_function()

    def _enter_function(
        self,
        *,
        node: cst.FunctionDef | cst.Lambda,
        name: str,
        qualname: str,
        is_async: bool,
        params: cst.Parameters,
        class_info: ClassInfo | None,
        decorators: list[cst.BaseExpression],
    ) -> None:
        # Decorators and defaults are evaluated in the enclosing scope, before the body runs;
        # LibCST visits them as children, so they are recorded while still in the outer scope
        # only if we bind first and switch scopes here. Defaults matter (Depends(...)), so
        # calls inside them are attributed to the enclosing scope by _visit_outer_parts.
        function_scope = Scope("lambda" if isinstance(node, cst.Lambda) else "function", self.scope)
        info = FunctionInfo(
            name=name,
            qualname=qualname,
            path=self._path(qualname),
            is_async=is_async,
            is_lambda=isinstance(node, cst.Lambda),
            outer_scope=self.scope,
            parent=self.function,
            class_info=class_info,
            node=node,
            scope=function_scope,
            return_annotation=(
                node.returns.annotation
                if isinstance(node, cst.FunctionDef) and node.returns is not None
                else None
            ),
            decorators=decorators,
        )
        function_scope.function = info
        all_params = [
            *params.posonly_params,
            *params.params,
            *params.kwonly_params,
            *(p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)),
        ]
        for param in all_params:
            info.params.append(
                Param(
                    name=param.name.value,
                    annotation=param.annotation.annotation if param.annotation else None,
                    default=param.default,
                    node=param,
                )
            )
            function_scope.bindings[param.name.value] = Binding(
                "param",
                annotation=param.annotation.annotation if param.annotation else None,
                scope=self.scope,
                node=param,
            )
        if isinstance(node, cst.FunctionDef):
            kind = "def"
            self.scope.bind(name, Binding(kind, path=info.path, node=node))
            if class_info is not None:
                class_info.methods[name] = info
        self.model.functions.append(info)
        # Decorators and parameter defaults run in the enclosing scope: visit them now, then
        # keep LibCST from visiting them again inside the function's scope.
        outer_function = self.function
        for decorator in decorators:
            fast_visit(decorator, _OuterPartVisitor(self, outer_function))
        for param in all_params:
            if param.default is not None:
                fast_visit(param.default, _OuterPartVisitor(self, outer_function))
        self.function_stack.append(info)
        self.seen_yield.append(False)
        self.scope = function_scope

    def _leave_function(self) -> None:
        assert self.scope.parent is not None
        self.scope = self.scope.parent
        self.function_stack.pop()
        self.seen_yield.pop()

    def visit_Decorator(self, node: cst.Decorator) -> bool:
        return False  # already visited in the enclosing scope

    def visit_Param(self, node: cst.Param) -> bool:
        return False  # defaults already visited in the enclosing scope; annotations hold no calls

    # -- expressions ----------------------------------------------------------

    def visit_Await(self, node: cst.Await) -> None:
        if isinstance(node.expression, cst.Call):
            self.await_targets.add(id(node.expression))

    def visit_Yield(self, node: cst.Yield) -> None:
        function = self.function
        if function is not None and not function.is_lambda:
            function.is_generator = True
            function.yields.append(node)
            self.seen_yield[-1] = True

    def visit_Return(self, node: cst.Return) -> None:
        if self.function is not None:
            self.function.returns.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        self.record_call(node, self.function)

    def record_call(self, node: cst.Call, function: FunctionInfo | None) -> None:
        site = CallSite(
            node=node,
            scope=self.scope
            if function is self.function
            else (function.scope if function else None) or self.model.scope,
            function=function,
            awaited=id(node) in self.await_targets,
            after_yield=bool(self.seen_yield and self.seen_yield[-1]) and function is self.function,
            in_main_block=self.main_depth > 0 and function is None,
            in_with_item=id(node) in self.with_items,
            statement=self.statement_stack[-1] if self.statement_stack else None,
        )
        self.model.calls.append(site)
        if function is not None:
            function.calls.append(site)


class _OuterPartVisitor(cst.CSTVisitor):
    """Visits a decorator or default value, attributing calls to the enclosing function."""

    def __init__(self, builder: _ModelBuilder, function: FunctionInfo | None) -> None:
        self.builder = builder
        self.function = function

    def visit_Call(self, node: cst.Call) -> None:
        self.builder.record_call(node, self.function)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _is_main_test(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    left, right = test.left, test.comparisons[0].comparator
    names = {getattr(left, "value", None), getattr(right, "value", None)}
    strings = {side.evaluated_value for side in (left, right) if isinstance(side, cst.SimpleString)}
    return "__name__" in names and "__main__" in strings


# ------------------------------------------------------------------- small helpers for rules


def keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    """The value passed to keyword ``name`` in ``call``, if any."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def positional(call: cst.Call, index: int) -> cst.BaseExpression | None:
    """The ``index``-th positional argument of ``call`` (no star args before it), if any."""
    position = 0
    for arg in call.args:
        if arg.keyword is not None or arg.star:
            if arg.star:
                return None
            continue
        if position == index:
            return arg.value
        position += 1
    return None


def has_star_kwargs(call: cst.Call) -> bool:
    return any(arg.star == "**" for arg in call.args)


def self_assignments(class_info: ClassInfo) -> list[tuple[str, cst.BaseExpression, Scope]]:
    """``(attribute, value, method scope)`` for every ``self.<attribute> = value`` (or annotated
    assignment with a value) in the class's methods, ``self`` being each method's first
    parameter."""
    found: list[tuple[str, cst.BaseExpression, Scope]] = []
    for method in class_info.methods.values():
        if not method.params:
            continue
        receiver = method.params[0].name
        for node in walk(method.node.body, _is_assignment, into_expressions=False):
            if isinstance(node, cst.Assign):
                targets = [target.target for target in node.targets]
            else:
                targets = [node.target]  # type: ignore[attr-defined]
            value = node.value  # type: ignore[attr-defined]
            if value is None:
                continue
            pairs: list[tuple[cst.BaseExpression, cst.BaseExpression]] = [
                (target, value) for target in targets
            ]
            for target in targets:
                pairs.extend(unpacked_items(target, value))  # self.a, self.b = make()
            for written, assigned in pairs:
                if (
                    isinstance(written, cst.Attribute)
                    and isinstance(written.value, cst.Name)
                    and written.value.value == receiver
                ):
                    found.append((written.attr.value, assigned, method.scope))
    return found


def _is_assignment(node: cst.CSTNode) -> bool:
    return type(node) in (cst.Assign, cst.AnnAssign)


def walk(
    node: cst.CSTNode | Sequence[cst.CSTNode],
    predicate: Callable[[cst.CSTNode], bool],
    *,
    into_expressions: bool = True,
) -> list[cst.CSTNode]:
    """Nodes under ``node`` (inclusive; or under each node of a sequence) for which
    ``predicate`` holds, in source order. Whitespace and punctuation nodes are not visited;
    nor, when ``into_expressions`` is False, what is inside an expression (no statement is:
    a search for statements skips most of the tree)."""
    found: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [node] if isinstance(node, cst.CSTNode) else list(reversed(node))
    while stack:
        current = stack.pop()
        if predicate(current):
            found.append(current)
        if into_expressions or not _is_expression(type(current)):
            stack.extend(reversed(children(current)))
    return found


_EXPRESSION_TYPES: dict[type, bool] = {}


def _is_expression(node_type: type) -> bool:
    found = _EXPRESSION_TYPES.get(node_type)
    if found is None:
        found = _EXPRESSION_TYPES[node_type] = issubclass(node_type, cst.BaseExpression)
    return found


# ---------------------------------------------------------------------------- fast traversal
#
# LibCST's own ``node.visit(visitor)`` rebuilds every node it passes (it is built for
# transformers) and visits every whitespace and punctuation node: on real projects that costs
# more than parsing. Rules only read the tree, so we walk dataclass fields directly, skipping
# trivia, and call the same ``visit_X`` / ``leave_X`` methods a CSTVisitor would. The walk
# visits nodes in LibCST's own order, which is source order (tests/test_model_walk.py compares
# the two): positions found by counting equal nodes (python/module.py) depend on it.

# Fields that hold only whitespace, comments, punctuation or keywords, never a name or an
# expression (fields named ``whitespace*`` too). ``relative`` holds an import's leading dots,
# ``asynchronous`` the ``async`` keyword: rules read those from the field
# (``len(node.relative)``, ``node.asynchronous is not None``), never from the walk.
_TRIVIA_FIELDS = frozenset(
    {
        "leading_lines",
        "lines_after_decorators",
        "lpar",
        "rpar",
        "header",
        "footer",
        "comma",
        "semicolon",
        "newline",
        "trailing_whitespace",
        "equal",
        "colon",
        "first_colon",
        "second_colon",
        "star_tok",
        "dot",
        "relative",
        "asynchronous",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "operator",
    }
)
# The same trivia by type, for a field the names above miss.
_TRIVIA_TYPES = (
    cst.BaseParenthesizableWhitespace,
    cst.EmptyLine,
    cst.TrailingWhitespace,
    cst.Newline,
    cst.Comment,
    cst.Asynchronous,
    cst.AssignEqual,
    cst.Colon,
    cst.Comma,
    cst.Dot,
    cst.Semicolon,
    cst.LeftParen,
    cst.RightParen,
    cst.LeftSquareBracket,
    cst.RightSquareBracket,
    cst.LeftCurlyBrace,
    cst.RightCurlyBrace,
    cst.BaseAugOp,
    cst.BaseBinaryOp,
    cst.BaseBooleanOp,
    cst.BaseCompOp,
    cst.BaseUnaryOp,
)

# Node types whose dataclass fields are not in source order (``f(x=x)``: an Arg's value comes
# before its keyword), by name (some exist only in newer LibCST), with the order in which
# their syntactic fields appear in source. Fields missing from a LibCST are left out.
_SOURCE_ORDER: dict[str, tuple[str, ...]] = {
    "Arg": ("keyword", "value"),
    "ClassDef": ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    "ExceptHandler": ("type", "name", "body"),
    "ExceptStarHandler": ("type", "name", "body"),
    "FunctionDef": ("decorators", "name", "type_parameters", "params", "returns", "body"),
    "IfExp": ("body", "test", "orelse"),
    "MatchCase": ("pattern", "guard", "body"),
    "Parameters": (
        "posonly_params",
        "posonly_ind",
        "params",
        "star_arg",
        "kwonly_params",
        "star_kwarg",
    ),
    "TypeAlias": ("name", "type_parameters", "value"),
}
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(node_type: type) -> tuple[str, ...]:
    """The fields of ``node_type`` that may hold a syntactic node, in source order."""
    names = _FIELD_NAMES.get(node_type)
    if names is None:
        in_class_order = [
            f.name
            for f in dataclasses.fields(node_type)
            if f.name not in _TRIVIA_FIELDS and not f.name.startswith("whitespace")
        ]
        order = _SOURCE_ORDER.get(node_type.__name__, ())
        # A field the table does not name (a newer LibCST's) keeps its class order, last.
        names = tuple(name for name in order if name in in_class_order) + tuple(
            name for name in in_class_order if name not in order
        )
        _FIELD_NAMES[node_type] = names
    return names


# What a field value is, by its concrete type: isinstance() against LibCST's abstract base
# classes is slow, and the answer never changes for a type.
_SKIP, _NODE, _SEQUENCE = 0, 1, 2
_VALUE_KINDS: dict[type, int] = {list: _SEQUENCE, tuple: _SEQUENCE}


def _value_kind(value_type: type) -> int:
    kind = _VALUE_KINDS.get(value_type)
    if kind is None:
        is_node = issubclass(value_type, cst.CSTNode) and not issubclass(value_type, _TRIVIA_TYPES)
        kind = _NODE if is_node else _SKIP
        _VALUE_KINDS[value_type] = kind
    return kind


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The syntactic children of ``node`` (no whitespace, comments, punctuation or keywords),
    in source order."""
    node_type = type(node)
    if node_type in _LEAVES:
        return []
    fields = _FIELD_GETTERS.get(node_type)
    if fields is None:
        fields = _FIELD_GETTERS[node_type] = _field_getter(_field_names(node_type))
    return _syntactic_nodes(fields(node))


# :func:`children` was once in field order, with this for source order; both are one now.
children_in_source_order = children


# Node types that never hold a syntactic node (their fields are text and parentheses): a
# third of all nodes are names.
_LEAVES = frozenset(
    {cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis}
)


# Per node type, a function reading its syntactic fields in one call (operator.attrgetter
# fetches them all in C: a third of the time of a getattr per field), in source order.
_FIELD_GETTERS: dict[type, Callable[[cst.CSTNode], tuple[Any, ...]]] = {}


def _field_getter(names: tuple[str, ...]) -> Callable[[cst.CSTNode], tuple[Any, ...]]:
    if not names:
        return lambda node: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda node: (one(node),)
    return attrgetter(*names)


def _syntactic_nodes(values: Iterable[Any]) -> list[cst.CSTNode]:
    """The syntactic nodes among field values (a node, a list or tuple of nodes, or other)."""
    # The hottest loop of a run (every node of every parsed module): _value_kind inlined.
    found: list[cst.CSTNode] = []
    kinds = _VALUE_KINDS
    for value in values:
        kind = kinds.get(type(value))
        if kind is None:
            kind = _value_kind(type(value))
        if kind == _NODE:
            found.append(value)
        elif kind == _SEQUENCE:  # LibCST's sequences hold nodes, never sequences
            found.extend(_syntactic_nodes(value))
    return found


_DISPATCH: dict[type, dict[type, tuple[Callable | None, Callable | None]]] = {}


def fast_visit(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """Visit ``node`` like ``node.visit(visitor)`` for a read-only visitor, much faster:
    ``visit_X`` returning False skips the children; ``leave_X`` is always called."""
    handlers = _DISPATCH.get(type(visitor))
    if handlers is None:
        handlers = _DISPATCH[type(visitor)] = {}
    _visit(node, visitor, handlers)


def _visit(
    node: cst.CSTNode,
    visitor: cst.CSTVisitor,
    handlers: dict[type, tuple[Callable | None, Callable | None]],
) -> None:
    node_type = type(node)
    found = handlers.get(node_type)
    if found is None:
        name = node_type.__name__
        found = handlers[node_type] = (
            getattr(type(visitor), f"visit_{name}", None),
            getattr(type(visitor), f"leave_{name}", None),
        )
    enter, leave = found
    if enter is None or enter(visitor, node) is not False:
        for child in children(node):
            _visit(child, visitor, handlers)
    if leave is not None:
        leave(visitor, node)
