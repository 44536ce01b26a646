"""What SQLAlchemy / SQLModel objects a name holds: session factories, sessions, engines,
connections, sync or async, through imports, aliases and modules.

The database rules ask one question, :func:`kind_of`: "what is this expression?" The answer is a
:class:`DbKind` such as ``session`` (sync) or ``factory`` (async). Unlike a plain path, the answer
reads the *defining call*: ``sessionmaker(bind=engine, class_=AsyncSession)`` makes async sessions
although its path is the sync ``sqlalchemy.orm.sessionmaker``. Names are followed through
assignments, ``with ... as``, imports of project modules, parameters annotated with a session class
(also ``Annotated[Session, Depends(get_db)]`` and aliases of it) and ``Depends(get_db)`` defaults,
where ``get_db`` yields or returns a session.

:func:`find_engines` lists every ``create_engine`` / ``create_async_engine`` call with its pool
settings, for the deployment rules' pool arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastlint.python.catalogue import BlockingLeaf
from fastlint.python.model import (
    Binding,
    CallSite,
    ClassInfo,
    FunctionInfo,
    Scope,
    TupleItem,
    has_star_kwargs,
    keyword,
    positional,
    self_assignments,
)
from fastlint.python.module import PythonModule
from fastlint.python.project import register_answers
from fastlint.python.reach import Reaches
from fastlint.python.reads import Memo, Spelling

if TYPE_CHECKING:
    from fastlint.python.project import Project


@dataclass(frozen=True)
class DbKind:
    """What an expression holds. ``role`` is one of ``factory`` (``sessionmaker()``),
    ``scoped`` (``scoped_session()``: a registry that proxies session methods), ``session``,
    ``engine``, ``connection``; the ``*_class`` / ``*_fn`` roles name the classes and constructor
    functions themselves (``Session``, ``sessionmaker``)."""

    role: str
    is_async: bool

    @property
    def label(self) -> str:
        names = {
            "session": "Session",
            "scoped": "scoped_session",
            "engine": "Engine",
            "connection": "Connection",
            "factory": "sessionmaker",
        }
        name = names.get(self.role, self.role)
        return f"Async{name}" if self.is_async and self.role != "factory" else name


# ---------------------------------------------------------------------------- catalogue

_SYNC, _ASYNC = False, True

# Canonical third-party paths → (role, is_async). Several spellings of one object each.
PATHS: dict[str, tuple[str, bool]] = {
    **dict.fromkeys(
        (
            "sqlalchemy.orm.Session",
            "sqlalchemy.orm.session.Session",
            "sqlmodel.Session",
            "sqlmodel.orm.session.Session",
        ),
        ("session_class", _SYNC),
    ),
    **dict.fromkeys(
        (
            "sqlalchemy.ext.asyncio.AsyncSession",
            "sqlalchemy.ext.asyncio.session.AsyncSession",
            "sqlmodel.ext.asyncio.session.AsyncSession",
        ),
        ("session_class", _ASYNC),
    ),
    **dict.fromkeys(
        ("sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"),
        ("factory_fn", _SYNC),
    ),
    **dict.fromkeys(
        (
            "sqlalchemy.ext.asyncio.async_sessionmaker",
            "sqlalchemy.ext.asyncio.session.async_sessionmaker",
        ),
        ("factory_fn", _ASYNC),
    ),
    **dict.fromkeys(
        ("sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session"),
        ("scoped_fn", _SYNC),
    ),
    **dict.fromkeys(
        (
            "sqlalchemy.ext.asyncio.async_scoped_session",
            "sqlalchemy.ext.asyncio.scoping.async_scoped_session",
        ),
        ("scoped_fn", _ASYNC),
    ),
    **dict.fromkeys(
        (
            "sqlalchemy.create_engine",
            "sqlalchemy.engine.create_engine",
            "sqlalchemy.engine.create.create_engine",
            "sqlmodel.create_engine",
        ),
        ("engine_fn", _SYNC),
    ),
    **dict.fromkeys(
        (
            "sqlalchemy.ext.asyncio.create_async_engine",
            "sqlalchemy.ext.asyncio.engine.create_async_engine",
        ),
        ("engine_fn", _ASYNC),
    ),
    **dict.fromkeys(
        ("sqlalchemy.Engine", "sqlalchemy.engine.Engine", "sqlalchemy.engine.base.Engine"),
        ("engine_class", _SYNC),
    ),
    **dict.fromkeys(
        ("sqlalchemy.ext.asyncio.AsyncEngine", "sqlalchemy.ext.asyncio.engine.AsyncEngine"),
        ("engine_class", _ASYNC),
    ),
    # encode/databases: an async query interface with its own pool; never blocks the loop.
    "databases.Database": ("engine_class", _ASYNC),
    **dict.fromkeys(
        (
            "sqlalchemy.Connection",
            "sqlalchemy.engine.Connection",
            "sqlalchemy.engine.base.Connection",
        ),
        ("connection_class", _SYNC),
    ),
    **dict.fromkeys(
        (
            "sqlalchemy.ext.asyncio.AsyncConnection",
            "sqlalchemy.ext.asyncio.engine.AsyncConnection",
        ),
        ("connection_class", _ASYNC),
    ),
}

# What calling something of a role gives.
_CALL_RESULT = {
    "session_class": "session",
    "factory_fn": "factory",
    "scoped_fn": "scoped",
    "engine_fn": "engine",
    "engine_class": "engine",
    "connection_class": "connection",
    "factory": "session",
    "scoped": "session",
}
# Methods that hand out a new object: (receiver role, method) → result role.
_METHOD_RESULT = {
    ("engine", "connect"): "connection",
    ("engine", "begin"): "connection",
    ("engine", "raw_connection"): "connection",
    ("factory", "begin"): "session",  # ``with SessionLocal.begin() as db``
}

# Methods that wait for the database (network round trip or pool checkout). ``add``, ``delete``,
# ``expunge`` and ``begin`` on a session only change in-memory state and stay silent.
_SESSION_IO = frozenset(
    {
        "query",
        "execute",
        "exec",  # SQLModel
        "scalars",
        "scalar",
        "get",
        "get_one",
        "merge",
        "refresh",
        "flush",
        "commit",
        "rollback",
        "close",
        "connection",
        "bulk_save_objects",
        "bulk_insert_mappings",
        "bulk_update_mappings",
    }
)
BLOCKING_METHODS: dict[str, frozenset[str]] = {
    "session": _SESSION_IO,
    "scoped": _SESSION_IO | {"remove"},
    # ``dispose()`` only closes idle pooled connections (shutdown code): not worth a finding.
    "engine": frozenset({"connect", "begin", "execute", "raw_connection"}),
    "connection": frozenset(
        {"execute", "exec_driver_sql", "scalar", "scalars", "commit", "rollback", "close"}
    ),
}
_ALL_BLOCKING = frozenset().union(*BLOCKING_METHODS.values())

DEPENDS = frozenset(
    {
        "fastapi.Depends",
        "fastapi.Security",
        "fastapi.params.Depends",
        "fastapi.params.Security",
        "fastapi.param_functions.Depends",
        "fastapi.param_functions.Security",
    }
)
CONTEXT_MANAGER_DECORATORS = frozenset(
    {"contextlib.contextmanager", "contextlib.asynccontextmanager"}
)
NULL_POOL = frozenset(
    {"sqlalchemy.pool.NullPool", "sqlalchemy.NullPool", "sqlalchemy.pool.impl.NullPool"}
)
DEFAULT_POOL_SIZE = 5
DEFAULT_MAX_OVERFLOW = 10
_MAX_DEPTH = 16


# ---------------------------------------------------------------------------- resolution


class _Resolver:
    """Memoised :func:`kind_of` for one project (one lint run)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        # Memo tables (see fastlint.python.reads). A key asked for again while it is being
        # computed is a cycle, and its answer there is "unknown" (None).
        # Keyed by node identity; the node is kept in the value so its id cannot be reused.
        self.memo: Memo[tuple[int, int], tuple[cst.CSTNode | None, DbKind | None]] = Memo()
        self.provided: Memo[int, DbKind | None] = Memo()
        self.items: Memo[tuple[int, int, int], DbKind | None] = Memo()
        self.classes: Memo[str, DbKind | None] = Memo()
        self.attributes: Memo[tuple[str, str], DbKind | None] = Memo()
        self.assigned: Memo[str, dict[str, list[tuple[cst.BaseExpression, Scope, bool]]]] = Memo()
        # Answers by path, kept across runs. An answer is computed from the depth at which
        # it was first asked (the search is cut at _MAX_DEPTH), like the tables above.
        self._depth = 0
        self.paths = project.answers(
            "db-kind", _encode_kind, _decode_kind, self._path_kind_at_depth, cycle=None
        )
        self.provided_at = project.answers(
            "db-provided", _encode_kind, _decode_kind, self._provided_at_depth, cycle=None
        )

    def kind(
        self, module: PythonModule, expr: cst.BaseExpression, scope: Scope, depth: int = 0
    ) -> DbKind | None:
        key = (id(expr), id(scope))
        if depth > _MAX_DEPTH and key not in self.memo:
            return None
        return self.memo.get(
            key, self._kept_kind, module, expr, scope, depth + 1, cycle=(None, None)
        )[1]

    def _kept_kind(
        self, module: PythonModule, expr: cst.BaseExpression, scope: Scope, depth: int
    ) -> tuple[cst.CSTNode, DbKind | None]:
        return expr, self._kind(module, expr, scope, depth)

    def _kind(
        self, module: PythonModule, expr: cst.BaseExpression, scope: Scope, depth: int
    ) -> DbKind | None:
        if isinstance(expr, cst.Await):
            return self.kind(module, expr.expression, scope, depth)
        if isinstance(expr, cst.Name):
            binding = scope.lookup(expr.value)
            return None if binding is None else self.binding_kind(module, binding, depth)
        if isinstance(expr, cst.Attribute):
            path = _static_path(module, expr, scope)
            if path is not None:
                return self.path_kind(path, depth)
            owner = _self_class(expr.value, scope)
            return None if owner is None else self.attribute_kind(owner, expr.attr.value, depth)
        if isinstance(expr, cst.Call):
            return self.call_kind(module, expr, scope, depth)
        if isinstance(expr, TupleItem):
            return self.item_kind(module, expr, scope, depth)
        if isinstance(expr, cst.Subscript):
            return self.registry_kind(module, expr, scope, depth)
        return None

    def item_kind(
        self, module: PythonModule, item: TupleItem, scope: Scope, depth: int
    ) -> DbKind | None:
        """``SessionLocal, engine = init_db(url)``: item ``index`` of what the project function
        ``init_db`` returns (also awaited)."""
        source = item.value.expression if isinstance(item.value, cst.Await) else item.value
        if not isinstance(source, cst.Call):
            return None
        how = f"item{item.index}/{item.arity}"
        return self._provided_by(module, source.func, scope, depth, how)

    def registry_kind(
        self, module: PythonModule, expr: cst.Subscript, scope: Scope, depth: int
    ) -> DbKind | None:
        """``ENGINES["main"]`` in a dict literal of engines: the kind all its values agree on."""
        items = module.model.registry_items(expr, scope)
        kinds = [self.kind(module, value, value_scope, depth) for value, value_scope in items or ()]
        return kinds[0] if kinds and all(kind == kinds[0] for kind in kinds) else None

    def attribute_kind(self, owner: ClassInfo, attr: str, depth: int) -> DbKind | None:
        """``self.db`` in a method: what the class's methods assign to ``self.db`` (or its
        class-level annotation, as in a dataclass) when they all agree; else unknown."""
        return self.attributes.get(
            (owner.path, attr), self._attribute_kind, owner, attr, depth, cycle=None
        )

    def _attribute_kind(self, owner: ClassInfo, attr: str, depth: int) -> DbKind | None:
        module = self.project.module_of_path(owner.path)
        kinds: list[DbKind | None] = []
        assigned = self.assigned.get(owner.path, _attribute_values, owner)
        if module is not None:
            for value, scope, is_annotation in assigned.get(attr, []):
                found = self.kind(module, value, scope, depth)
                kinds.append(_instance(found) if is_annotation else found)
        return kinds[0] if kinds and all(k == kinds[0] for k in kinds) else None

    def path_kind(self, path: str, depth: int) -> DbKind | None:
        """A module-level name of a project module, or a third-party path."""
        if depth > _MAX_DEPTH and path not in self.paths:
            return None
        self._depth = depth
        return self.paths.ask(path)

    def _path_kind_at_depth(self, path: str) -> DbKind | None:
        return self._path_kind(path, self._depth)

    def _path_kind(self, path: str, depth: int) -> DbKind | None:
        definition = self.project.definition_of(path)
        if definition is not None and definition[1].kind != "class":
            return self.binding_kind(definition[0], definition[1], depth + 1)
        canonical = self.project.canonical(path)
        known = PATHS.get(canonical)
        if known is not None:
            return DbKind(*known)
        return self.class_kind(canonical)

    def class_kind(self, path: str) -> DbKind | None:
        """A project subclass of a session class (``class TenantSession(Session)``)."""
        return self.classes.get(path, self._class_kind, path, cycle=None)

    def _class_kind(self, path: str) -> DbKind | None:
        class_info = self.project.class_at(path)
        if class_info is not None and class_info.bases:
            for spelling, (role, is_async) in PATHS.items():
                if role == "session_class" and self.project.subclasses_path(class_info, spelling):
                    return DbKind(role, is_async)
        return None

    def binding_kind(self, module: PythonModule, binding: Binding, depth: int) -> DbKind | None:
        if binding.kind == "value" and binding.value is not None and binding.scope is not None:
            return self.kind(module, binding.value, binding.scope, depth)
        if binding.kind == "import" and binding.path is not None:
            return self.path_kind(binding.path, depth + 1)
        if binding.kind == "class" and binding.path is not None:
            return self.class_kind(binding.path)
        if binding.kind == "param" and binding.scope is not None:
            return self.param_kind(module, binding, depth)
        return None

    def param_kind(self, module: PythonModule, binding: Binding, depth: int) -> DbKind | None:
        """``db: Session``, ``db: Annotated[Session, Depends(get_db)]``, ``db=Depends(get_db)``."""
        assert binding.scope is not None
        default = binding.node.default if isinstance(binding.node, cst.Param) else None
        if binding.annotation is not None:
            declared, marker = self.unwrap(module, binding.annotation, binding.scope, depth)
            if declared is not None:
                instance = _instance(self.kind(module, declared[0], declared[1], depth))
                if instance is not None:
                    return instance
            if marker is not None:
                return self.depends_kind(marker[0], marker[1], marker[2], depth)
        if default is not None:
            return self.depends_kind(module, default, binding.scope, depth)
        return None

    def unwrap(
        self, module: PythonModule, annotation: cst.BaseExpression, scope: Scope, depth: int
    ) -> tuple[
        tuple[cst.BaseExpression, Scope] | None,
        tuple[PythonModule, cst.BaseExpression, Scope] | None,
    ]:
        """(declared type, Depends marker) of an annotation: through ``Annotated[...]``,
        ``Optional[...]`` and a module-level alias such as ``SessionDep = Annotated[...]``.
        The type is returned with the scope (in ``module``) it must be read in."""
        for _ in range(_MAX_DEPTH):
            if isinstance(annotation, cst.Subscript) and annotation.slice:
                head = annotation.value
                name = head.attr.value if isinstance(head, cst.Attribute) else None
                if isinstance(head, cst.Name):
                    name = head.value
                items = [
                    element.slice.value
                    for element in annotation.slice
                    if isinstance(element.slice, cst.Index)
                ]
                if not items or name not in ("Annotated", "Optional"):
                    return None, None
                marker = None
                if name == "Annotated":
                    for extra in items[1:]:
                        if isinstance(extra, cst.Call):
                            marker = (module, extra, scope)
                inner, inner_marker = self.unwrap(module, items[0], scope, depth + 1)
                return inner, inner_marker or marker
            if isinstance(annotation, cst.BinaryOperation) and isinstance(
                annotation.operator, cst.BitOr
            ):  # ``Session | None``
                annotation = annotation.left
                continue
            if isinstance(annotation, cst.Name):
                binding = scope.lookup(annotation.value)
                target = self._alias_target(module, binding)
                if target is not None:
                    module, annotation, scope = target
                    continue
            return (annotation, scope), None
        return None, None

    def _alias_target(
        self, module: PythonModule, binding: Binding | None
    ) -> tuple[PythonModule, cst.BaseExpression, Scope] | None:
        """The subscript a type alias name stands for (``SessionDep = Annotated[...]``)."""
        if binding is not None and binding.kind == "import" and binding.path:
            definition = self.project.definition_of(binding.path)
            if definition is None:
                return None
            module, binding = definition
        if (
            binding is not None
            and binding.kind == "value"
            and isinstance(binding.value, cst.Subscript)
            and binding.scope is not None
        ):
            return module, binding.value, binding.scope
        return None

    def depends_kind(
        self, module: PythonModule, expr: cst.BaseExpression, scope: Scope, depth: int
    ) -> DbKind | None:
        """What ``Depends(provider)`` injects: the provider's session/engine/connection."""
        if not isinstance(expr, cst.Call):
            return None
        if self.project.resolve(module, expr.func, scope) not in DEPENDS:
            return None
        provider = positional(expr, 0) or keyword(expr, "dependency")
        if provider is None:
            return None
        found = self.kind(module, provider, scope, depth)
        if found is not None:  # ``Depends(SessionLocal)``: FastAPI calls the provider
            return _called(found)
        return self._provided_by(module, provider, scope, depth, "dependency")

    def call_kind(
        self, module: PythonModule, call: cst.Call, scope: Scope, depth: int
    ) -> DbKind | None:
        func = call.func
        if isinstance(func, cst.Attribute):
            receiver = self.kind(module, func.value, scope, depth)
            if receiver is not None:
                role = _METHOD_RESULT.get((receiver.role, func.attr.value))
                return None if role is None else DbKind(role, receiver.is_async)
        callee = self.kind(module, func, scope, depth)
        if callee is not None:
            if callee.role == "factory_fn" and not callee.is_async:
                return DbKind("factory", self._async_class_kwarg(module, call, scope, depth))
            return _called(callee)
        return self._provided_by(module, func, scope, depth, "call")

    def _provided_by(
        self,
        module: PythonModule,
        expr: cst.BaseExpression,
        scope: Scope,
        depth: int,
        how: str,
    ) -> DbKind | None:
        """What calling the project function ``expr`` names hands out (by its path, kept
        across runs): ``how`` is ``call``, ``dependency`` (what FastAPI injects) or
        ``item<index>/<arity>`` (one item of the tuple it returns)."""
        path = self.project.resolve(module, expr, scope)
        if path is None:
            return None
        key = f"{how}:{path}"
        self._depth = depth
        return self.provided_at.ask(key)

    def _provided_at_depth(self, key: str) -> DbKind | None:
        """``call:<path>`` / ``dependency:<path>`` / ``item<index>/<arity>:<path>``: what the
        function at path hands out."""
        how, _, path = key.partition(":")
        function = self.project.function_at(path)
        if function is None:
            return None
        if how.startswith("item"):
            index, _, arity = how[len("item") :].partition("/")
            return self.provides_item(function, int(index), int(arity), self._depth)
        return self.provides(function, self._depth, as_dependency=how == "dependency")

    def _async_class_kwarg(
        self, module: PythonModule, call: cst.Call, scope: Scope, depth: int
    ) -> bool:
        """``sessionmaker(bind=engine, class_=AsyncSession)`` makes AsyncSessions."""
        class_ = keyword(call, "class_")
        if class_ is None:
            return False
        found = self.kind(module, class_, scope, depth)
        return found is not None and found.is_async

    def provides(self, function: FunctionInfo, depth: int, as_dependency: bool) -> DbKind | None:
        """The session/engine/connection a project function hands out: what a generator
        yields (as a dependency or a ``@contextmanager``), else what it returns."""
        key = id(function) * 2 + as_dependency
        return self.provided.get(key, self._provides, function, depth, as_dependency, cycle=None)

    def _provides(self, function: FunctionInfo, depth: int, as_dependency: bool) -> DbKind | None:
        module = self.project.module_of(function)
        result = None
        if module is not None and not function.is_lambda:
            if function.is_generator:
                if as_dependency or self._is_context_manager(module, function):
                    values = [y.value for y in function.yields]
                else:
                    values = []
            else:
                values = [r.value for r in function.returns]
            for value in values:
                if not isinstance(value, cst.BaseExpression):
                    continue  # a bare return or yield, or ``yield from``
                found = _instance(self.kind(module, value, function.scope, depth))
                if found is not None:
                    result = found
                    break
        return result

    def provides_item(
        self, function: FunctionInfo, index: int, arity: int, depth: int
    ) -> DbKind | None:
        """Item ``index`` of the ``arity``-tuple a project function returns:
        ``return sessionmaker(bind=engine), engine``, else its annotation
        ``-> tuple[sessionmaker, Engine]``. A return of another shape says nothing."""
        key = (id(function), index, arity)
        return self.items.get(key, self._provides_item, function, index, arity, depth, cycle=None)

    def _provides_item(
        self, function: FunctionInfo, index: int, arity: int, depth: int
    ) -> DbKind | None:
        module = self.project.module_of(function)
        if module is None or function.is_lambda or function.is_generator:
            return None
        for ret in function.returns:
            elements = _tuple_elements(ret.value)
            if elements is not None and len(elements) == arity:
                found = _instance(self.kind(module, elements[index], function.scope, depth))
                if found is not None:
                    return found
        declared = _tuple_elements(function.return_annotation)
        if declared is None or len(declared) != arity:
            return None
        return self.annotated_kind(module, declared[index], function.outer_scope, depth)

    def annotated_kind(
        self, module: PythonModule, annotation: cst.BaseExpression, scope: Scope, depth: int
    ) -> DbKind | None:
        """The object an annotation declares: ``Session`` a session, ``sessionmaker`` a factory
        of sync sessions, ``sessionmaker[AsyncSession]`` one of async sessions."""
        argument = None
        if isinstance(annotation, cst.Subscript) and len(annotation.slice) == 1:
            inner = annotation.slice[0].slice
            argument = inner.value if isinstance(inner, cst.Index) else None
            annotation = annotation.value
        found = self.kind(module, annotation, scope, depth)
        if found is None or found.role not in ("factory_fn", "scoped_fn"):
            return _instance(found)
        is_async = found.is_async
        if argument is not None:
            made = self.kind(module, argument, scope, depth)
            if made is None or made.role != "session_class":
                return None
            is_async = made.is_async
        return DbKind(found.role[: -len("_fn")], is_async)

    def _is_context_manager(self, module: PythonModule, function: FunctionInfo) -> bool:
        scope = function.outer_scope
        return any(
            self.project.resolve(module, decorator, scope) in CONTEXT_MANAGER_DECORATORS
            for decorator in function.decorators
        )


def _encode_kind(kind: DbKind | None) -> object:
    return None if kind is None else [kind.role, kind.is_async]


def _decode_kind(raw: object) -> DbKind | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 2:
        raise TypeError("expected [role, is_async]")
    role, is_async = raw
    if not isinstance(role, str) or not isinstance(is_async, bool):
        raise TypeError("expected [role, is_async]")
    return DbKind(role, is_async)


def _called(kind: DbKind) -> DbKind | None:
    """What calling an object of ``kind`` gives: ``SessionLocal()`` is a session."""
    role = _CALL_RESULT.get(kind.role)
    return None if role is None else DbKind(role, kind.is_async)


def _instance(kind: DbKind | None) -> DbKind | None:
    """The object a value of ``kind`` is used as: a class annotation means an instance."""
    if kind is None:
        return None
    if kind.role.endswith("_class"):
        return DbKind(kind.role[: -len("_class")], kind.is_async)
    if kind.role.endswith("_fn"):
        return None
    return kind


def _tuple_elements(expr: cst.BaseExpression | None) -> list[cst.BaseExpression] | None:
    """The items of a tuple display (``a, b``) or a tuple annotation (``tuple[A, B]``,
    ``Tuple[A, B]``); None for anything else, a starred item or ``tuple[A, ...]``."""
    if isinstance(expr, cst.Tuple):
        if not all(isinstance(element, cst.Element) for element in expr.elements):
            return None
        return [element.value for element in expr.elements]
    if isinstance(expr, cst.Subscript):
        head = expr.value
        name = head.attr.value if isinstance(head, cst.Attribute) else getattr(head, "value", "")
        items = [element.slice for element in expr.slice]
        if name not in ("tuple", "Tuple") or not all(isinstance(i, cst.Index) for i in items):
            return None
        values = [item.value for item in items if isinstance(item, cst.Index)]
        return None if any(isinstance(v, cst.Ellipsis) for v in values) else values
    return None


def _self_class(expr: cst.BaseExpression, scope: Scope) -> ClassInfo | None:
    """The class when ``expr`` is the ``self`` parameter of one of its methods (also read from
    a nested function or lambda inside the method)."""
    if not isinstance(expr, cst.Name):
        return None
    holder: Scope | None = scope
    while holder is not None and expr.value not in holder.bindings:
        holder = holder.parent
    method = holder.function if holder is not None else None
    if method is None or method.class_info is None or not method.params:
        return None
    binding = holder.bindings[expr.value] if holder is not None else None
    if binding is None or binding.node is not method.params[0].node:
        return None  # not the first parameter, or rebound
    return method.class_info


def _attribute_values(owner: ClassInfo) -> dict[str, list[tuple[cst.BaseExpression, Scope, bool]]]:
    """attribute → (expression, scope to read it in, is an annotation) for every
    ``self.<attr> = value`` in the class's methods and every class-level ``attr: Type``
    annotation; one pass over the class."""
    found: dict[str, list[tuple[cst.BaseExpression, Scope, bool]]] = {}
    body = owner.node.body
    for statement in body.body if isinstance(body, cst.IndentedBlock) else []:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                entry = (small.annotation.annotation, owner.scope, True)
                found.setdefault(small.target.value, []).append(entry)
    for attribute, value, scope in self_assignments(owner):
        if isinstance(value, cst.Name) and value.value == "None":
            continue  # ``self.db = None`` before it is opened says nothing
        found.setdefault(attribute, []).append((value, scope, False))
    return found


def _static_path(module: PythonModule, expr: cst.BaseExpression, scope: Scope) -> str | None:
    """``db.SessionLocal`` → ``app.db.SessionLocal`` when ``db`` is an imported module or name;
    None when the base is a value (an instance attribute, a call)."""
    if isinstance(expr, cst.Name):
        binding = scope.lookup(expr.value)
        if binding is not None and binding.kind in ("import", "class") and binding.path:
            return binding.path
        return None
    if isinstance(expr, cst.Attribute):
        base = _static_path(module, expr.value, scope)
        return None if base is None else f"{base}.{expr.attr.value}"
    return None


def resolver(project: Project) -> _Resolver:
    return project.memo("sqla-resolver").get(None, _Resolver, project)


register_answers("db-kind", lambda project, name: resolver(project))
register_answers("db-provided", lambda project, name: resolver(project))


_SQLALCHEMY_SPELLING = Spelling("sqlalchemy", "sqlalchemy", "sqlmodel", "databases")
# A call can resolve to an engine constructor (PATHS) only in a module that spells one, or that
# imports a name spelt with "engine" (a project module re-exporting it as ``make_engine``).
_ENGINE_SPELLING = Spelling(
    "engine-constructor",
    r"create_(?:async_)?engine",
    r"engine_from_config",
    r"import[^\n(]*engine",
    r"import\s*\([^)]*engine",
)
# The rules' pre-filter: every SQLAlchemy object is reached through imports from a module
# that spells one of these.
REACHES_SQLALCHEMY = Reaches(_SQLALCHEMY_SPELLING)


def uses_sqlalchemy(project: Project) -> bool:
    """Whether any module mentions SQLAlchemy, SQLModel or databases: the rules' cheap gate."""
    return project.memo("uses-sqlalchemy").get(None, _uses_sqlalchemy, project)


def _uses_sqlalchemy(project: Project) -> bool:
    return any(_SQLALCHEMY_SPELLING(module) for module in project.modules)


def kind_of(
    project: Project, module: PythonModule, expr: cst.BaseExpression, scope: Scope
) -> DbKind | None:
    """What SQLAlchemy object ``expr`` (read in ``scope`` of ``module``) holds, if any."""
    return resolver(project).kind(module, expr, scope)


def provides(project: Project, function: FunctionInfo) -> DbKind | None:
    """What a dependency function (generator or not) hands out."""
    return resolver(project).provides(function, 0, as_dependency=True)


# ---------------------------------------------------------------------------- blocking calls


@dataclass(frozen=True)
class SyncDbCall:
    """A call that waits on the database through a synchronous SQLAlchemy object."""

    site: CallSite
    receiver: str  # source text of the object, e.g. ``db``
    method: str
    kind: DbKind

    @property
    def text(self) -> str:
        return f"{self.receiver}.{self.method}()"


def sync_db_call(project: Project, module: PythonModule, site: CallSite) -> SyncDbCall | None:
    """``db.query(...)`` where ``db`` is a sync Session / Engine / Connection; None otherwise
    (also when the call is awaited: whatever the annotation says, the object is async)."""
    func = site.node.func
    if site.awaited or not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    if method not in _ALL_BLOCKING or not uses_sqlalchemy(project):
        return None
    found = kind_of(project, module, func.value, site.scope)
    if found is None or found.is_async or method not in BLOCKING_METHODS.get(found.role, ()):
        return None
    return SyncDbCall(site, module.code(func.value), method, found)


def blocking_leaf(project: Project, module: PythonModule, site: CallSite) -> BlockingLeaf | None:
    """A leaf classifier (:mod:`fastlint.python.blocking`): sync SQLAlchemy calls block."""
    found = sync_db_call(project, module, site)
    if found is None:
        return None
    return BlockingLeaf(
        category="sync DB session",
        description=f"{found.text} on a synchronous SQLAlchemy {found.kind.label}",
        suggestion="use AsyncSession and await its calls",
    )


def opened_kind(
    project: Project, module: PythonModule, call: cst.Call, scope: Scope
) -> DbKind | None:
    """The session or connection this call itself opens and the caller must close:
    ``SessionLocal()``, ``Session(engine)``, ``engine.connect()``, ``engine.raw_connection()``.
    Not ``scoped_session`` registries (closed by ``remove()``), not ``.begin()`` (a context
    manager that closes itself), not project helpers (checked where they open it)."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in ("connect", "raw_connection"):
        receiver = kind_of(project, module, func.value, scope)
        if receiver is not None and receiver.role == "engine":
            return DbKind("connection", receiver.is_async)
        return None
    callee = kind_of(project, module, func, scope)
    if callee is not None and callee.role in ("factory", "session_class"):
        return DbKind("session", callee.is_async)
    return None


# ---------------------------------------------------------------------------- engines


@dataclass(frozen=True)
class EngineFact:
    """One ``create_engine`` / ``create_async_engine`` call and its pool settings.

    ``pool_size`` / ``max_overflow`` are SQLAlchemy's defaults (5 and 10) when the keyword is
    absent, the literal value when it is a literal or a module constant, and None when dynamic
    (settings, env vars, ``**kwargs``). ``max_overflow=-1`` means unlimited overflow.
    ``null_pool`` is True for ``poolclass=NullPool`` (no pooling: one connection per checkout).
    ``url`` is the literal URL when it is one. ``function`` is the function the call is in
    (None at module level, where the engine is one pool per process).
    """

    module: PythonModule
    node: cst.Call
    is_async: bool
    pool_size: int | None
    max_overflow: int | None
    null_pool: bool
    url: str | None = None
    function: FunctionInfo | None = None


def find_engines(project: Project, module_level: bool = False) -> list[EngineFact]:
    """Every engine the project creates, in module order; with ``module_level``, only those
    created when their module is imported (one pool per process). Resolving only the calls at
    module level is far cheaper: most calls are in functions, and resolving one can mean
    parsing the modules behind its imports."""
    facts: list[EngineFact] = []
    if not uses_sqlalchemy(project):
        return facts
    for module in project.modules:
        if not _ENGINE_SPELLING(module):
            continue  # every constructor in PATHS is *engine*: skip the module unparsed
        for site in module.model.calls:
            if module_level and site.function is not None:
                continue
            is_async = engine_constructor(project, module, site)
            if is_async is not None:
                facts.append(_engine_fact(project, module, site, is_async))
    return facts


def _engine_fact(
    project: Project, module: PythonModule, site: CallSite, is_async: bool
) -> EngineFact:
    call = site.node
    star = has_star_kwargs(call)

    def integer(name: str, default: int) -> int | None:
        value = keyword(call, name)
        if value is None:
            return None if star else default
        literal = _literal(project, module, value, site.scope)
        return literal if isinstance(literal, int) and not isinstance(literal, bool) else None

    poolclass = keyword(call, "poolclass")
    null_pool = (
        poolclass is not None and project.resolve(module, poolclass, site.scope) in NULL_POOL
    )
    url_expr = positional(call, 0) or keyword(call, "url")
    url = None
    if url_expr is not None:
        literal = _literal(project, module, url_expr, site.scope)
        url = literal if isinstance(literal, str) else None
    return EngineFact(
        module=module,
        node=call,
        is_async=is_async,
        pool_size=integer("pool_size", DEFAULT_POOL_SIZE),
        max_overflow=integer("max_overflow", DEFAULT_MAX_OVERFLOW),
        null_pool=null_pool,
        url=url,
        function=site.function,
    )


def _literal(
    project: Project, module: PythonModule, expr: cst.BaseExpression, scope: Scope
) -> object:
    """A literal or (project-wide, when the project supports it) an imported constant."""
    evaluate = getattr(project, "literal", None)
    return evaluate(module, expr, scope) if evaluate else module.model.literal(expr, scope)


def engine_constructor(project: Project, module: PythonModule, site: CallSite) -> bool | None:
    """Whether the call creates an async engine (True), a sync one (False), or none (None)."""
    path = project.resolve(module, site.node.func, site.scope)
    known = PATHS.get(path or "")
    return known[1] if known is not None and known[0] == "engine_fn" else None


__all__ = [
    "DbKind",
    "EngineFact",
    "SyncDbCall",
    "blocking_leaf",
    "engine_constructor",
    "find_engines",
    "kind_of",
    "opened_kind",
    "provides",
    "sync_db_call",
    "uses_sqlalchemy",
]
