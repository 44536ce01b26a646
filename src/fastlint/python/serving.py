"""Where the app runs code: per request, once at startup/shutdown, or in a thread.

This is the one place rules ask. Per request: route handlers (decorators and
``add_api_route``), dependencies (``Depends``/``Security``), middleware (``@app.middleware``,
``BaseHTTPMiddleware.dispatch``, ``add_middleware`` classes) and every project function they
call (:func:`per_request_functions`). Once: lifespan functions and startup/shutdown handlers
(:func:`lifecycle_phase`). On the event loop at all (:func:`call_context`): only the body of
an ``async def`` runs on the loop; nested ``def``/``lambda``/``class`` bodies are their own
functions in the model, so ``CallSite.function`` (the innermost one) decides. Sync ``def``
routes and dependencies run in FastAPI's threadpool and functions *passed* to a thread
offloader run in a worker thread, so neither is on the loop. Lifespan code (and
startup/shutdown handlers) runs once, which makes a blocking call there a warning rather than
an error.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastlint.python.callgraph import resolve_callee
from fastlint.python.frameworks import app_class, instance_class, is_app_or_router_instance
from fastlint.python.model import CallSite, FunctionInfo, Scope, keyword, positional, walk
from fastlint.python.project import register_answers
from fastlint.python.reads import AnswerTable, Spelling, as_is, string_map
from fastlint.python.sqla import DEPENDS

if TYPE_CHECKING:
    from fastlint.python.module import PythonModule
    from fastlint.python.project import Project

REQUEST = "request"
STARTUP = "startup"
SHUTDOWN = "shutdown"

# Calls that run a callable they receive in a worker thread (the callable's position).
OFFLOADERS: dict[str, int] = {
    "asyncio.to_thread": 0,
    "anyio.to_thread.run_sync": 0,
    "starlette.concurrency.run_in_threadpool": 0,
    "fastapi.concurrency.run_in_threadpool": 0,
    "asyncer.asyncify": 0,
    "fastapi.BackgroundTasks().add_task": 0,
    "starlette.background.BackgroundTasks().add_task": 0,
    "starlette.background.BackgroundTask": 0,
    "fastapi.background.BackgroundTasks().add_task": 0,
}
_RUN_IN_EXECUTOR = ".run_in_executor"  # loop.run_in_executor(executor, fn, *args): position 1

_ASYNC_CONTEXT_MANAGERS = frozenset(
    {"contextlib.asynccontextmanager", "fastapi.concurrency.asynccontextmanager"}
)


def offloader_name(path: str | None) -> str | None:
    """The user-facing name of a thread offloader, or None when ``path`` is not one."""
    if path is None:
        return None
    if path in OFFLOADERS:
        return path.replace("()", "")
    if path.endswith(_RUN_IN_EXECUTOR):
        return "loop.run_in_executor"
    return None


def call_context(project: Project, module: PythonModule, site: CallSite) -> str | None:
    """``REQUEST``, ``STARTUP`` or ``SHUTDOWN`` when the call runs on the event loop, else None."""
    function = site.function
    if function is None or not function.is_async:
        return None
    if site.scope.kind == "class":
        return None  # a class body inside a coroutine: treated as its own context, like a def
    phase = lifecycle_phase(project, function)
    if phase is None:
        return REQUEST
    if phase == "lifespan":
        return SHUTDOWN if site.after_yield else STARTUP
    return phase


def lifecycle_phase(project: Project, function: FunctionInfo) -> str | None:
    """``lifespan`` for a lifespan function, ``startup`` / ``shutdown`` for event handlers."""
    phases = _lifecycle(project).ask("")
    if function.path in phases:
        return phases[function.path]
    if _looks_like_lifespan(project, function):
        return "lifespan"
    return None


def _looks_like_lifespan(project: Project, function: FunctionInfo) -> bool:
    """An ``@asynccontextmanager`` async generator taking the app: a lifespan defined for an
    app built elsewhere. Other async context managers run per request and stay errors."""
    if not (function.is_async and function.is_generator and function.params):
        return False
    module = project.module_of(function)
    if module is None:
        return False
    decorated = any(
        project.resolve(module, decorator, function.outer_scope) in _ASYNC_CONTEXT_MANAGERS
        for decorator in function.decorators
    )
    if not decorated:
        return False
    first = function.params[0]
    if first.name in ("app", "application"):
        return True
    if first.annotation is None:
        return False
    return app_class(project.resolve(module, first.annotation, module.model.scope)) is not None


# ``lifespan=`` / ``on_startup=`` / ``on_shutdown=`` keywords, or an ``on_event(`` call.
_LIFECYCLE_SPELLING = Spelling(
    "lifecycle", r"lifespan\s*=", r"on_startup\s*=", r"on_shutdown\s*=", r"on_event\s*\("
)


def _lifecycle(project: Project) -> AnswerTable[dict[str, str]]:
    """One answer (key ``""``): every lifecycle function's path → its phase."""
    return project.answers(
        "lifecycle", as_is, string_map, lambda key: _find_lifecycle_functions(project)
    )


register_answers("lifecycle", lambda project, name: _lifecycle(project))


def _find_lifecycle_functions(project: Project) -> dict[str, str]:
    """Functions passed as ``lifespan=`` / ``on_startup=`` / ``on_shutdown=`` to an app or router,
    and functions decorated with ``@app.on_event("startup" | "shutdown")``."""
    phases: dict[str, str] = {}
    for module in project.modules:
        if not _LIFECYCLE_SPELLING(module):
            continue  # without parsing it: every registration below is spelt like this
        for site in module.model.calls_named(_REGISTERING_NAMES):
            path = project.resolve(module, site.node.func, site.scope)
            if path is None:
                continue
            if app_class(path) is not None or _is_router_class(path):
                _record(project, module, site, keyword(site.node, "lifespan"), "lifespan", phases)
                for name, phase in (("on_startup", STARTUP), ("on_shutdown", SHUTDOWN)):
                    handlers = keyword(site.node, name)
                    if isinstance(handlers, (cst.List, cst.Tuple)):
                        for element in handlers.elements:
                            _record(project, module, site, element.value, phase, phases)
            elif path.endswith(".on_event") and is_app_or_router_instance(
                path[: -len(".on_event")]
            ):
                event = positional(site.node, 0)
                value = module.model.literal(event, site.scope) if event is not None else None
                if value in (STARTUP, SHUTDOWN):
                    _record_decorated(module, site, str(value), phases)
    return phases


# A call can register a lifecycle function only if it is spelt with one of these, as the
# callee (``app.on_event(...)``) or a keyword: resolving every call of a module would read
# every module it imports.
_REGISTERING_NAMES = frozenset({"on_event", "lifespan", "on_startup", "on_shutdown"})


def _is_router_class(path: str) -> bool:
    return path in ("fastapi.APIRouter", "fastapi.routing.APIRouter", "starlette.routing.Router")


def _record(
    project: Project,
    module: PythonModule,
    site: CallSite,
    value: cst.BaseExpression | None,
    phase: str,
    phases: dict[str, str],
) -> None:
    if value is None:
        return
    target = project.resolve(module, value, site.scope)
    function = project.function_at(target) if target else None
    if function is not None:
        phases[function.path] = phase


def _record_decorated(
    module: PythonModule, site: CallSite, phase: str, phases: dict[str, str]
) -> None:
    """The function whose decorator is the ``@app.on_event(...)`` call ``site``."""
    function = module.model.decorated_by(site.node)
    if function is not None:
        phases[function.path] = phase


def offloader_receiving(project: Project, module: PythonModule, site: CallSite) -> str | None:
    """The offloader that receives this call's *result* as its callable argument, as in
    ``await asyncio.to_thread(time.sleep(1))`` (the call already ran on the loop)."""
    statement = site.statement
    if statement is None:
        return None
    for node in walk(statement, lambda n: isinstance(n, cst.Call)):
        assert isinstance(node, cst.Call)
        if node is site.node:
            continue
        name = offloader_name(project.resolve(module, node.func, site.scope))
        if name is None:
            continue
        position = 1 if name == "loop.run_in_executor" else 0
        if positional(node, position) is site.node:
            return name
    return None


# ---------------------------------------------------------------------------- per request


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
                endpoint = _function_or_init(project, module, target, site.scope)
                if endpoint is not None:
                    roots.append(_Root(endpoint, f"{endpoint.name} is a route handler"))
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
    return any(path in _CACHES for path in decorator_paths(project, module, function))


def decorator_paths(project: Project, module: PythonModule, function: FunctionInfo) -> list[str]:
    """Canonical paths of a function's decorators, without a trailing call (``lru_cache()``)."""
    scope = function.outer_scope
    paths = []
    for decorator in function.decorators:
        path = project.resolve(module, decorator, scope) or ""
        paths.append(path[:-2] if path.endswith("()") else path)
    return paths
