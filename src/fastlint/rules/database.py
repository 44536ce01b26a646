"""Database rules: sync sessions on the event loop, sessions that leak, engines per request.

What a name holds (session factory, session, engine, connection; sync or async) comes from
:mod:`fastlint.python.sqla`; this module only decides what is wrong with it. Importing it also
plugs sync SQLAlchemy calls into the call graph, so FL102 chains see through helpers that take a
sync session and query with it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastlint.diagnostics import Severity
from fastlint.python import callgraph
from fastlint.python.callgraph import resolve_callee
from fastlint.python.execution import REQUEST, call_context
from fastlint.python.frameworks import instance_class, is_app_or_router_instance
from fastlint.python.model import CallSite, FunctionInfo, Scope, keyword, positional, walk
from fastlint.python.module import PythonModule
from fastlint.python.reach import ASYNC_DEF
from fastlint.python.sqla import (
    DEPENDS,
    REACHES_SQLALCHEMY,
    blocking_leaf,
    engine_constructor,
    opened_kind,
    sync_db_call,
    uses_sqlalchemy,
)
from fastlint.python.tracking import Spelling
from fastlint.registry import register
from fastlint.rules import catalog
from fastlint.rules.base import PythonRule

if TYPE_CHECKING:
    from fastlint.engine import LintContext
    from fastlint.python.project import Project

if blocking_leaf not in callgraph.LEAF_CLASSIFIERS:
    callgraph.LEAF_CLASSIFIERS.append(blocking_leaf)


# ---------------------------------------------------------------------------- FL103


@register
class SyncDbSessionInAsync(PythonRule):
    meta = catalog.FL103
    needs = ASYNC_DEF

    def check(self, unit: PythonModule, ctx: LintContext) -> None:
        project = ctx.project
        if not uses_sqlalchemy(project):
            return
        for function in unit.model.functions:
            if not function.is_async:
                continue
            calls = [
                found
                for found in (sync_db_call(project, unit, site) for site in function.calls)
                if found is not None
            ]
            if not calls:
                continue
            # One finding per coroutine, at the first blocking call: the fix (a sync def or an
            # AsyncSession) is made once for the whole function.
            first = calls[0]
            extra = len(calls) - 1
            more = f" ({extra} more such call{'s' if extra > 1 else ''} below)" if extra else ""
            label = first.kind.label
            name = function.name
            async_api = (
                "AsyncSession"
                if first.kind.role in ("session", "scoped")
                else "create_async_engine (AsyncEngine)"
            )
            if call_context(project, unit, first.site) == REQUEST:
                self.report(
                    unit,
                    first.site.node,
                    f"{first.text} on a synchronous SQLAlchemy {label} blocks the event loop "
                    f"inside 'async def {name}'{more}. Every other request waits while the "
                    f"database answers. Make '{name}' a plain 'def' (FastAPI runs it in a "
                    f"threadpool) or switch to {async_api} and 'await' its calls.",
                    fix=f"declare '{name}' with 'def', or use {async_api}",
                )
            else:
                self.report(
                    unit,
                    first.site.node,
                    f"{first.text} on a synchronous SQLAlchemy {label} blocks the event loop "
                    f"inside 'async def {name}'{more} while the app starts or stops. It runs "
                    "once, but nothing else is served meanwhile. Run it with 'await "
                    f"asyncio.to_thread(...)' or use {async_api}.",
                    severity=Severity.WARNING,
                )


# ---------------------------------------------------------------------------- FL301


@register
class SessionWithoutFinally(PythonRule):
    meta = catalog.FL301
    needs = REACHES_SQLALCHEMY

    def check(self, unit: PythonModule, ctx: LintContext) -> None:
        if not uses_sqlalchemy(ctx.project):
            return
        for function in unit.model.functions:
            if function.is_lambda:
                continue
            if function.is_generator and _is_pytest_fixture(ctx.project, unit, function):
                continue  # pytest resumes fixtures for teardown even when the test fails
            for site in function.calls:
                if site.in_with_item:
                    continue
                kind = opened_kind(ctx.project, unit, site.node, site.scope)
                if kind is None:
                    continue
                problem = _leak(function, site.node, site.statement)
                if problem is None:
                    continue
                if problem[0] == "returned" and function.path not in dependencies(ctx.project):
                    # A helper returning a session may be used as ``with new_session() as db``
                    # by its callers; only FastAPI is known never to close what it is given.
                    continue
                how, name = problem
                with_ = "async with" if function.is_async else "with"
                self.report(
                    unit,
                    site.node,
                    _leak_message(unit, function, site.node, how, name),
                    fix=f"{with_} {unit.code(site.node)} as {name}: ...",
                )


def _is_pytest_fixture(project: Project, module: PythonModule, function: FunctionInfo) -> bool:
    return any(
        path.startswith(("pytest.fixture", "pytest_asyncio.fixture"))
        for path in _decorator_paths(project, module, function)
    )


def _decorator_paths(project: Project, module: PythonModule, function: FunctionInfo) -> list[str]:
    """Canonical paths of a function's decorators, without a trailing call (``lru_cache()``)."""
    scope = function.outer_scope
    paths = []
    for decorator in function.decorators:
        path = project.resolve(module, decorator, scope) or ""
        paths.append(path[:-2] if path.endswith("()") else path)
    return paths


def _leak(
    function: FunctionInfo, call: cst.Call, statement: cst.CSTNode | None
) -> tuple[str, str] | None:
    """(how it leaks, the variable name) or None when the session is closed or handed over."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None  # nested in another expression: whoever receives it owns it
    small = statement.body[0]
    if isinstance(small, cst.Return) and _is_call(small.value, call):
        return "returned", "db"
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Yield):
        return ("yielded", "db") if _is_call(small.value.value, call) else None
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target: cst.BaseExpression = small.targets[0].target
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        target = small.target
    else:
        return None
    if not _is_call(small.value, call) or not isinstance(target, cst.Name):
        return None  # ``self.db = SessionLocal()``: stored for later, closed elsewhere
    name = target.value
    body = function.node
    assert isinstance(body, cst.FunctionDef)
    if _handed_over(body, name):
        return None
    if not function.is_generator and any(_is_name(r.value, name) for r in function.returns):
        return "returned", name
    guards = [try_ for try_ in _tries(body) if _closes(try_.finalbody, name)]
    if function.is_generator:
        unguarded = [y for y in function.yields if not any(_contains(t.body, y) for t in guards)]
        return ("yielded", name) if unguarded else None
    return None if guards else ("unclosed", name)


def _leak_message(
    unit: PythonModule, function: FunctionInfo, call: cst.Call, how: str, name: str
) -> str:
    opened = unit.code(call)
    what = "connection" if isinstance(call.func, cst.Attribute) else "session"
    with_ = "async with" if function.is_async else "with"
    close = f"await {name}.close()" if function.is_async else f"{name}.close()"
    fname = function.name
    if how == "yielded":
        return (
            f"{fname}() yields the {what} from {opened} outside try/finally or {with_}. When the "
            f"endpoint raises, FastAPI throws the error in at the yield and the cleanup never "
            f"runs, so the connection is never returned and the pool runs dry ('QueuePool limit "
            f"reached'). Write '{with_} {opened} as {name}: yield {name}' or 'try: yield {name}' "
            f"with 'finally: {close}'."
        )
    if how == "returned":
        return (
            f"Dependency {fname}() returns an open {what} from {opened}, and FastAPI never closes "
            f"a returned value. Each request checks out a pooled connection that stays out until "
            f"garbage collection, so the pool runs dry under load. Make it a generator "
            f"dependency: '{with_} {opened} as {name}: yield {name}'."
        )
    return (
        f"{fname}() opens {opened} but does not close it in 'finally' or a '{with_}' block. "
        f"If anything in between raises, the connection is never returned to the pool, which "
        f"runs dry under errors. Use '{with_} {opened} as {name}:' or close it in 'finally:'."
    )


def _is_call(value: cst.BaseExpression | None, call: cst.Call) -> bool:
    return value is call or (isinstance(value, cst.Await) and value.expression is call)


def _is_name(value: cst.BaseExpression | None, name: str) -> bool:
    return isinstance(value, cst.Name) and value.value == name


def _tries(body: cst.FunctionDef) -> list[cst.Try]:
    return [
        node
        for node in walk(body.body, lambda n: isinstance(n, cst.Try))
        if isinstance(node, cst.Try)
    ]


def _closes(finalbody: cst.Finally | None, name: str) -> bool:
    """A ``finally`` that calls ``name.close()`` (awaited or not) or hands ``name`` to a cleanup
    helper (``close_session(db)``)."""
    if finalbody is None:
        return False

    def closing(node: cst.CSTNode) -> bool:
        if not isinstance(node, cst.Call):
            return False
        func = node.func
        if isinstance(func, cst.Attribute) and _is_name(func.value, name):
            return func.attr.value == "close"
        return any(_is_name(arg.value, name) for arg in node.args)

    return bool(walk(finalbody, closing))


def _contains(tree: cst.CSTNode, target: cst.CSTNode) -> bool:
    return bool(walk(tree, lambda n: n is target))


# Calls that take ownership of a session passed to them: ExitStack registration and friends.
_OWNING_CALLS = frozenset(
    {
        "closing",
        "aclosing",
        "enter_context",
        "enter_async_context",
        "push",
        "push_async_exit",
        "callback",
        "push_async_callback",
    }
)


def _handed_over(body: cst.FunctionDef, name: str) -> bool:
    """The session is closed by something else: ``with name:``, ``closing(name)``, an ExitStack
    (``enter_context(name)`` / ``callback(name.close)``), a closure, or stored on an object."""
    for item in walk(body.body, lambda n: isinstance(n, cst.WithItem)):
        assert isinstance(item, cst.WithItem)
        if _mentions(item.item, name):
            return True  # ``with db:``, ``with closing(db)``, ``with manage(db) as s``
    for node in walk(body.body, lambda n: isinstance(n, cst.Call)):
        assert isinstance(node, cst.Call)
        func = node.func
        method = func.attr.value if isinstance(func, cst.Attribute) else None
        callee = func.value if isinstance(func, cst.Name) else method
        if callee in _OWNING_CALLS and any(_mentions(arg.value, name) for arg in node.args):
            return True
    for node in walk(body.body, lambda n: isinstance(n, (cst.FunctionDef, cst.Lambda))):
        if _mentions(node, name):
            return True  # a closure closes it later (a cleanup callback)
    for node in walk(body.body, lambda n: isinstance(n, (cst.Assign, cst.AnnAssign))):
        targets = (
            [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        )
        value = node.value
        stored = any(isinstance(t, (cst.Attribute, cst.Subscript)) for t in targets)
        if stored and value is not None and _is_name(value, name):
            return True  # ``request.state.db = db``: closed where it is stored
    return False


def _mentions(tree: cst.CSTNode, name: str) -> bool:
    return bool(walk(tree, lambda n: isinstance(n, cst.Name) and n.value == name))


# ---------------------------------------------------------------------------- FL302


@register
class EnginePerRequest(PythonRule):
    meta = catalog.FL302
    needs = REACHES_SQLALCHEMY

    def check(self, unit: PythonModule, ctx: LintContext) -> None:
        if not uses_sqlalchemy(ctx.project):
            return
        reached: dict[str, str] | None = None
        for site in unit.model.calls:
            if site.function is None:
                continue
            is_async = engine_constructor(ctx.project, unit, site)
            if is_async is None:
                continue
            if reached is None:
                reached = per_request_functions(ctx.project)
            why = reached.get(site.function.path)
            if why is None or _created_once(site.function, site.node, site.statement):
                continue
            ctor = "create_async_engine" if is_async else "create_engine"
            self.report(
                unit,
                site.node,
                f"{ctor}() runs on every request ({why}) and builds a new connection pool "
                "each time. Old pools keep their connections open until garbage collection, so "
                "the database runs out of connections under load. Create the engine once at "
                "module level or in the lifespan and reuse it.",
                fix="move the engine to module level (or the lifespan) and import it",
            )


def _created_once(function: FunctionInfo, call: cst.Call, statement: cst.CSTNode | None) -> bool:
    """A lazily initialised engine: assigned to a ``global``, or created under a guard such as
    ``if _engine is None:`` / ``if url not in _engines:`` / ``if not hasattr(...)``."""
    body = function.node
    if not isinstance(body, cst.FunctionDef):
        return False
    declared = {
        item.name.value
        for node in walk(body.body, lambda n: isinstance(n, (cst.Global, cst.Nonlocal)))
        for item in node.names  # type: ignore[attr-defined]
    }
    if isinstance(statement, cst.SimpleStatementLine) and declared:
        for small in statement.body:
            if isinstance(small, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value in declared for t in small.targets
            ):
                return True
    for node in walk(body.body, lambda n: isinstance(n, cst.If)):
        assert isinstance(node, cst.If)
        if _is_lazy_guard(node.test) and _contains(node.body, call):
            return True
    return False


def _is_lazy_guard(test: cst.BaseExpression) -> bool:
    def guard(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Name) and node.value == "None":
            return True
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return True
        return isinstance(node, cst.ComparisonTarget) and isinstance(node.operator, cst.NotIn)

    return bool(walk(test, guard))


_ROUTE_METHODS = frozenset(
    {
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "trace",
        "api_route",
        "route",
        "websocket",
        "websocket_route",
    }
)
_ADD_ROUTE = frozenset({"add_api_route", "add_route", "add_api_websocket_route"})
_CACHES = frozenset(
    {"functools.lru_cache", "functools.cache", "async_lru.alru_cache", "cachetools.cached"}
)
_BASE_HTTP_MIDDLEWARE = (
    "starlette.middleware.base.BaseHTTPMiddleware",
    "fastapi.middleware.base.BaseHTTPMiddleware",
)
# A module can hold a per-request root only if its text spells one: a route or middleware
# decorator (``@<owner>.get(``), an ``add_api_route``/``add_middleware`` call, or a ``dispatch``
# method. Other modules are skipped unparsed; the walk still reaches them through calls.
_ROOT_SPELLING = Spelling(
    "per-request-root",
    r"@[^\n]*\.\s*(?:{})\s*\(".format("|".join(sorted(_ROUTE_METHODS | {"middleware"}))),
    r"add_(?:{})\b".format("|".join(sorted(n[4:] for n in _ADD_ROUTE | {"add_middleware"}))),
    r"def\s+dispatch\b",
)
_DEPENDS_SPELLING = Spelling("depends", "Depends", "Security")


def dependencies(project: Project) -> dict[str, FunctionInfo]:
    """Every project function FastAPI calls as a dependency: passed to ``Depends(...)`` or
    ``Security(...)`` anywhere (a class dependency counts as its ``__init__``)."""
    return project.memo("dependencies").get(None, _find_dependencies, project)


def _find_dependencies(project: Project) -> dict[str, FunctionInfo]:
    found = {}
    for module in project.modules:
        if not _DEPENDS_SPELLING(module):
            continue
        for call, scope in _depends_candidates(module):
            if project.resolve(module, call.func, scope) not in DEPENDS:
                continue
            target = positional(call, 0) or keyword(call, "dependency")
            function = _function_or_init(project, module, target, scope)
            if function is not None:
                found[function.path] = function
    return found


def _depends_candidates(module: PythonModule) -> list[tuple[cst.Call, Scope]]:
    """Every call in the module with the scope to resolve it in: the model's call sites, plus
    the calls inside parameter annotations (``db: Annotated[Session, Depends(get_db)]``),
    which the model does not record."""
    found = [(site.node, site.scope) for site in module.model.calls]
    for function in module.model.functions:
        scope = function.outer_scope
        for param in function.params:
            if param.annotation is None:
                continue
            for node in walk(param.annotation, lambda n: isinstance(n, cst.Call)):
                assert isinstance(node, cst.Call)
                found.append((node, scope))
    return found


def _function_or_init(
    project: Project, module: PythonModule, target: cst.BaseExpression | None, scope: Scope
) -> FunctionInfo | None:
    if target is None:
        return None
    resolved = project.resolve(module, target, scope)
    return None if resolved is None else project.function_or_init(resolved)


@dataclass
class _Root:
    function: FunctionInfo
    why: str


def per_request_functions(project: Project) -> dict[str, str]:
    """Path of every project function that runs per request → why (for messages): route
    handlers, dependencies, middleware, and what they call. Cached functions end the walk."""
    return project.memo("per-request").get(None, _find_per_request, project)


def _find_per_request(project: Project) -> dict[str, str]:
    found: dict[str, str] = {}
    queue = deque(_roots(project))
    while queue:
        root = queue.popleft()
        function = root.function
        if function.path in found:
            continue
        module = project.module_of(function)
        if module is None or _is_cached(project, module, function):
            continue
        found[function.path] = root.why
        for site in function.calls:
            callee = resolve_callee(project, module, site)
            if callee is not None and callee.path not in found:
                queue.append(_Root(callee, f"called from {function.name}(), {root.why}"))
    return found


def _roots(project: Project) -> list[_Root]:
    roots: list[_Root] = []
    for module in project.modules:
        if not _ROOT_SPELLING(module):
            continue
        for function in module.model.functions:
            scope = function.outer_scope
            for decorator in function.decorators:
                kind = _decorator_kind(project, module, decorator, scope)
                if kind is not None:
                    roots.append(_Root(function, f"{function.name} is {kind}"))
        for class_info in module.model.classes:
            if any(project.subclasses_path(class_info, base) for base in _BASE_HTTP_MIDDLEWARE):
                dispatch = class_info.methods.get("dispatch")
                if dispatch is not None:
                    roots.append(_Root(dispatch, f"{class_info.name}.dispatch is middleware"))
        for site in module.model.calls:
            func = site.node.func
            if not isinstance(func, cst.Attribute):
                continue
            if func.attr.value in _ADD_ROUTE:
                target = keyword(site.node, "endpoint") or positional(site.node, 1)
                function = _function_or_init(project, module, target, site.scope)
                if function is not None:
                    roots.append(_Root(function, f"{function.name} is a route handler"))
            elif func.attr.value == "add_middleware":
                roots.extend(_middleware_methods(project, module, site))
    roots.extend(_Root(f, f"{f.name} is a dependency") for f in dependencies(project).values())
    return roots


def _middleware_methods(project: Project, module: PythonModule, site: CallSite) -> list[_Root]:
    """``app.add_middleware(TenantMiddleware)``: its ``dispatch`` / ``__call__`` run per request
    (its ``__init__`` runs once, when the app is built)."""
    target = positional(site.node, 0) or keyword(site.node, "middleware_class")
    resolved = project.resolve(module, target, site.scope) if target is not None else None
    class_info = project.class_at(resolved) if resolved else None
    if class_info is None:
        return []
    roots = []
    for name in ("dispatch", "__call__"):
        method = project.method_of(class_info, name)
        if method is not None:
            roots.append(_Root(method, f"{class_info.name}.{name} is middleware"))
    return roots


def _decorator_kind(
    project: Project, module: PythonModule, decorator: cst.BaseExpression, scope: Scope
) -> str | None:
    """'a route handler' / 'middleware' for ``@app.get(...)`` / ``@app.middleware("http")``."""
    if not (isinstance(decorator, cst.Call) and isinstance(decorator.func, cst.Attribute)):
        return None
    method = decorator.func.attr.value
    if method not in _ROUTE_METHODS and method != "middleware":
        return None
    owner = project.resolve(module, decorator.func.value, scope)
    if not is_app_or_router_instance(owner) and instance_class(project, owner) is None:
        return None
    return "middleware" if method == "middleware" else "a route handler"


def _is_cached(project: Project, module: PythonModule, function: FunctionInfo) -> bool:
    return any(path in _CACHES for path in _decorator_paths(project, module, function))
