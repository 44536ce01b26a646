"""Where the app runs code: per request, once at startup/shutdown, once on first use, in a
thread, or never (code the app does not serve).

This is the one place rules ask. Per request: route handlers (decorators, ``add_api_route``
with functions or bound methods, Starlette ``Route``/``APIRoute`` objects), dependencies
(``Depends``/``Security``, also ``Annotated`` and instances' ``__call__``), middleware
(``@app.middleware``, ``BaseHTTPMiddleware.dispatch``, ``add_middleware`` classes), exception
handlers, background tasks, and every project function they call
(:func:`per_request_functions`). Once: lifespan functions and startup/shutdown handlers
(:func:`lifecycle_phase`) and the coroutines only they await. On the event loop at all
(:func:`call_context`): only the body of an ``async def`` runs on the loop; nested
``def``/``lambda``/``class`` bodies are their own functions in the model, so
``CallSite.function`` (the innermost one) decides. Sync ``def`` routes and dependencies run in
FastAPI's threadpool and functions *passed* to a thread offloader run in a worker thread, so
neither is on the loop.

:func:`placement` answers for one function, cheapest question first: a project with no app (a
library) has everything per request; a module's own scripts, commands, migrations and worker
tasks are never served (:func:`_never_served_in`); coroutines only lifespan code awaits run at
startup or shutdown. Whatever cannot be placed counts as per request: losing a real finding is
worse than keeping an honest one. :func:`runs_once` tells a call made once per process (behind
``lru_cache``, an ``if _x is None:`` global, a cache-hit ``return``) from one made every time,
and :func:`request_chain` prefers a blocking chain that runs every time.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastlint.python import reads
from fastlint.python.blocking import call_graph
from fastlint.python.callgraph import (
    CallGraph,
    Chain,
    FunctionFacts,
    _decode_chain,
    _encode_chain,
    resolve_callee,
)
from fastlint.python.frameworks import (
    APP_CLASSES,
    app_class,
    framework_class,
    instance_class,
    is_app_or_router_instance,
)
from fastlint.python.model import (
    CallSite,
    ClassInfo,
    FunctionInfo,
    Scope,
    dotted,
    keyword,
    positional,
    walk,
)
from fastlint.python.project import register_answers
from fastlint.python.reach import absolute_import, scan_imports
from fastlint.python.reads import AnswerTable, Spelling, as_is, string, string_map
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
    """When the call runs on an event loop: ``REQUEST``, ``STARTUP``, ``SHUTDOWN``, or
    ``NEVER`` (a loop of code the app never serves); None when not on a loop at all.

    A coroutine the serving picture does not place (registered dynamically, passed through
    data, or in a project with no app, such as a library) counts as per request: losing a
    real finding is worse than keeping an honest one."""
    function = site.function
    if function is None or not function.is_async:
        return None
    if site.scope.kind == "class":
        return None  # a class body inside a coroutine: treated as its own context, like a def
    phase = lifecycle_phase(project, function)
    if phase == "lifespan":
        return SHUTDOWN if site.after_yield else STARTUP
    if phase is not None:
        return phase
    return placement(project, function)[0]


def placement(project: Project, function: FunctionInfo) -> tuple[str, str]:
    """(``REQUEST`` / ``STARTUP`` / ``SHUTDOWN`` / ``NEVER``, why) for a function, from the
    serving picture; a plain answer, so a file's findings depend on it and not on every module
    the picture read."""
    phase, _, why = _placements(project).ask(function.path).partition(":")
    return phase, why


def _placements(project: Project) -> AnswerTable[str]:
    return project.answers("placement", as_is, string, lambda path: _place(project, path))


register_answers("placement", lambda project, name: _placements(project))


def _place(project: Project, path: str) -> str:
    """Worked out lazily, cheapest question first: whether the project has an app, whether the
    function's own module runs it outside the app (a script, a command, a migration, a worker
    task), whether only lifespan/startup code reaches it. The per-request walk, which reads
    most route code, runs only to confirm a startup-only coroutine."""
    function = project.function_at(path)
    module = project.module_of(function) if function is not None else None
    if function is None or module is None or not _has_app(project):
        return REQUEST
    never = _never_served_in(project, module)
    if path in never:
        return f"{NEVER}:{never[path]}"
    outside = _outside_app(project).get(module.path)
    if outside is not None:
        return f"{NEVER}:{outside}"
    lifecycle = _lifecycle_reach(project)
    phase = lifecycle.get(path)
    if phase is None or path in _per_request_coroutines(project):
        return REQUEST
    return phase


def _never_served_in(project: Project, module: PythonModule) -> dict[str, str]:
    """The module's own never-served code: what its script/command/migration/worker roots run
    within the module, less what other (non-test) modules import and what its own routes
    reach."""
    return project.memo("never-served").get(module.path, _find_never_served, project, module)


def _find_never_served(project: Project, module: PythonModule) -> dict[str, str]:
    roots = _unserved_roots_in(project, module)
    if not roots:
        return {}
    graph = call_graph(project)
    within: set[PythonModule | None] = {module}
    never = _walk_graph(project, graph, roots, only_async=True, within=within)
    if _ROOT_SPELLING(module):
        served = _roots_in(project, module)
        for path in _walk_graph(project, graph, served, within=within):
            never.pop(path, None)
    for path in _imported_elsewhere(project, within, set(never)):
        never.pop(path, None)
    return never


def _lifecycle_reach(project: Project) -> dict[str, str]:
    """Coroutines that lifespan/startup/shutdown code awaits, at any depth → the phase."""
    return project.memo("lifecycle-reach").get(None, _find_lifecycle_reach, project)


def _find_lifecycle_reach(project: Project) -> dict[str, str]:
    graph = call_graph(project)
    startup: list[_Root] = []
    shutdown: list[_Root] = []
    for path, phase in _lifecycle(project).ask("").items():
        function = project.function_at(path)
        facts = graph.facts(function) if function is not None else None
        for edge in facts.edges if facts is not None else ():
            callee = project.function_at(edge.callee)
            if callee is None or not callee.is_async:
                continue
            late = phase == SHUTDOWN or (phase == "lifespan" and edge.site.after_yield)
            (shutdown if late else startup).append(_Root(callee, ""))
    found = {path: SHUTDOWN for path in _walk_graph(project, graph, shutdown, only_async=True)}
    found.update((path, STARTUP) for path in _walk_graph(project, graph, startup, only_async=True))
    return found


def _per_request_coroutines(project: Project) -> set[str]:
    """Coroutines routes, dependencies and middleware await, at any depth."""
    return project.memo("per-request-coroutines").get(None, _find_per_request_coroutines, project)


def _find_per_request_coroutines(project: Project) -> set[str]:
    roots = [root for root in _roots(project) if root.function.is_async]
    return set(_walk_graph(project, call_graph(project), roots, only_async=True))


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
    "lifecycle",
    r"lifespan\s*=",
    r"on_startup\s*=",
    r"on_shutdown\s*=",
    r"on_event\s*\(",
    r"add_event_handler\s*\(",
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
            elif path.endswith(".add_event_handler") and is_app_or_router_instance(
                path[: -len(".add_event_handler")]
            ):
                event = positional(site.node, 0)
                value = module.model.literal(event, site.scope) if event is not None else None
                if value in (STARTUP, SHUTDOWN):
                    handler = positional(site.node, 1)
                    _record(project, module, site, handler, str(value), phases)
    return phases


# A call can register a lifecycle function only if it is spelt with one of these, as the
# callee (``app.on_event(...)``) or a keyword: resolving every call of a module would read
# every module it imports.
_REGISTERING_NAMES = frozenset(
    {"on_event", "add_event_handler", "lifespan", "on_startup", "on_shutdown"}
)


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
    r"@[^\n]*\.\s*(?:{})\s*\(".format(
        "|".join(sorted(_ROUTE_METHODS | {"middleware", "exception_handler"}))
    ),
    r"add_(?:{})\b".format(
        "|".join(sorted(n[4:] for n in _ADD_ROUTE | {"add_middleware", "add_exception_handler"}))
    ),
    r"def\s+dispatch\b",
    r"Route\s*\(",
    r"add_task\b",
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
        names = _depends_names(module)
        for call, scope in _depends_candidates(module):
            if (
                not _spelt_as(call, names)
                or project.resolve(module, call.func, scope) not in DEPENDS
            ):
                continue
            target = positional(call, 0) or keyword(call, "dependency")
            function = _function_or_init(project, module, target, scope)
            if function is None and isinstance(target, cst.Call):
                function = _instance_call(project, module, target, scope)
            if function is not None:
                found[function.path] = function
    return found


def _instance_call(
    project: Project, module: PythonModule, call: cst.Call, scope: Scope
) -> FunctionInfo | None:
    """``Depends(RoleChecker("admin"))``: FastAPI calls the instance, so its ``__call__``."""
    resolved = project.resolve(module, call.func, scope)
    class_info = project.class_at(resolved) if resolved else None
    return None if class_info is None else project.method_of(class_info, "__call__")


def _depends_names(module: PythonModule) -> frozenset[str]:
    """Names ``Depends``/``Security`` go by in the module, aliases included: only calls spelt
    with one are resolved (resolving every call would read every module it imports)."""
    aliases = {
        name
        for name, binding in module.model.scope.bindings.items()
        if binding.kind == "import" and (binding.path or "").rsplit(".", 1)[-1] in _DEPENDS_WORDS
    }
    return frozenset(aliases | _DEPENDS_WORDS)


_DEPENDS_WORDS = frozenset({"Depends", "Security"})


def _spelt_as(call: cst.Call, names: frozenset[str]) -> bool:
    func = call.func
    if isinstance(func, cst.Name):
        return func.value in names
    return isinstance(func, cst.Attribute) and func.attr.value in names


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
    handlers, dependencies, middleware, and what they call. Cached functions end the walk; a
    function reached only through a call made once is told by :func:`reached_once`."""
    return _per_request_walk(project)[0]


def reached_once(project: Project, path: str) -> bool:
    """Whether the walk reached the per-request function at ``path`` through a call made once
    (``if _engine is None: _engine = build_engine()``): checked along the path the walk
    took, only for the functions a rule reports on."""
    parents = _per_request_walk(project)[1]
    step = parents.get(path)
    while step is not None:
        caller, site = step
        module = project.module_of(caller)
        if module is not None and runs_once(project, module, site, objects=True):
            return True
        step = parents.get(caller.path)
    return False


_Parents = dict[str, tuple[FunctionInfo, CallSite]]


def _per_request_walk(project: Project) -> tuple[dict[str, str], _Parents]:
    return project.memo("per-request").get(None, _find_per_request, project)


def _find_per_request(project: Project) -> tuple[dict[str, str], _Parents]:
    found: dict[str, str] = {}
    parents: _Parents = {}
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
            if callee is None or callee.path in found:
                continue
            parents.setdefault(callee.path, (function, site))
            queue.append(_Root(callee, f"called from {function.name}(), {root.why}"))
    return found, parents


def _roots(project: Project) -> list[_Root]:
    roots: list[_Root] = []
    for module in project.modules:
        if _ROOT_SPELLING(module):
            roots.extend(_roots_in(project, module))
    roots.extend(_Root(f, f"{f.name} is a dependency") for f in dependencies(project).values())
    return roots


def _roots_in(project: Project, module: PythonModule) -> list[_Root]:
    """The per-request roots a module registers itself (dependencies aside)."""
    roots: list[_Root] = []
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
        if isinstance(func, cst.Name) or (
            isinstance(func, cst.Attribute) and func.attr.value in _ROUTE_CLASS_NAMES
        ):
            roots.extend(_route_object(project, module, site))
        if not isinstance(func, cst.Attribute):
            continue
        if func.attr.value in _ADD_ROUTE:
            target = keyword(site.node, "endpoint") or positional(site.node, 1)
            endpoint = _endpoint(project, module, target, site)
            if endpoint is not None:
                roots.append(_Root(endpoint, f"{endpoint.name} is a route handler"))
        elif func.attr.value == "add_task":
            task = _endpoint(project, module, positional(site.node, 0), site)
            if task is not None:
                roots.append(_Root(task, f"{task.name} is a background task"))
        elif func.attr.value == "add_middleware":
            roots.extend(_middleware_methods(project, module, site))
        elif func.attr.value == "add_exception_handler":
            target = positional(site.node, 1) or keyword(site.node, "handler")
            handler = _function_or_init(project, module, target, site.scope)
            if handler is not None:
                roots.append(_Root(handler, f"{handler.name} is an exception handler"))
    return roots


# Route objects: ``Route("/", endpoint)`` (Starlette), ``APIRoute("/", endpoint)``.
_ROUTE_CLASSES = frozenset(
    {
        "starlette.routing.Route",
        "starlette.routing.WebSocketRoute",
        "fastapi.routing.APIRoute",
        "fastapi.routing.APIWebSocketRoute",
    }
)
_ROUTE_CLASS_NAMES = frozenset(path.rsplit(".", 1)[1] for path in _ROUTE_CLASSES)


def _route_object(project: Project, module: PythonModule, site: CallSite) -> list[_Root]:
    func = site.node.func
    name = func.value if isinstance(func, cst.Name) else getattr(func, "attr", None)
    if getattr(name, "value", name) not in _ROUTE_CLASS_NAMES:
        return []
    if project.resolve(module, func, site.scope) not in _ROUTE_CLASSES:
        return []
    target = keyword(site.node, "endpoint") or positional(site.node, 1)
    endpoint = _endpoint(project, module, target, site)
    return [] if endpoint is None else [_Root(endpoint, f"{endpoint.name} is a route handler")]


def _endpoint(
    project: Project, module: PythonModule, target: cst.BaseExpression | None, site: CallSite
) -> FunctionInfo | None:
    """The project function an endpoint argument names, also a bound method of the class the
    call is written in (``router.add_api_route("/x", self.list_items)``)."""
    found = _function_or_init(project, module, target, site.scope)
    if found is not None or not isinstance(target, cst.Attribute):
        return found
    method = site.function
    if (
        method is None
        or method.class_info is None
        or not method.params
        or not isinstance(target.value, cst.Name)
        or target.value.value != method.params[0].name
    ):
        return None
    return project.method_of(method.class_info, target.attr.value)


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
    if method not in _ROUTE_METHODS and method not in _OTHER_HANDLERS:
        return None
    owner = project.resolve(module, decorator.func.value, scope)
    if not is_app_or_router_instance(owner) and instance_class(project, owner) is None:
        return None
    return _OTHER_HANDLERS.get(method, "a route handler")


_OTHER_HANDLERS = {"middleware": "middleware", "exception_handler": "an exception handler"}


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


# ---------------------------------------------------------------------------- the picture

NEVER = "never"  # run by code the app never serves: a script, CLI command, migration, worker


def _walk_graph(
    project: Project,
    graph: CallGraph,
    roots: Iterable[_Root],
    only_async: bool = False,
    within: set[PythonModule | None] | None = None,
) -> dict[str, str]:
    """The functions the roots run, through the call graph's edges → why; ``only_async``:
    into coroutines only; ``within``: only into these modules."""
    found: dict[str, str] = {}
    queue = deque(roots)
    while queue:
        root = queue.popleft()
        function = root.function
        if function.path in found:
            continue
        if within is not None and project.module_of(function) not in within:
            continue
        found[function.path] = root.why
        facts = graph.facts(function)
        for edge in facts.edges if facts is not None else ():
            if edge.callee in found:
                continue
            callee = project.function_at(edge.callee)
            if callee is not None and (callee.is_async or not only_async):
                queue.append(_Root(callee, root.why))
    return found


def _imported_elsewhere(
    project: Project, homes: set[PythonModule | None], paths: set[str]
) -> set[str]:
    """Which of the top-level functions at ``paths`` a module other than ``homes`` imports
    (``from scripts.sync import discover``, or the module and then ``sync.discover``): a
    script module's function that other code imports is shared code, which the app may run
    through calls fastlint cannot follow."""
    found: set[str] = set()
    index = _import_index(project)
    keys: dict[str, list[str]] = {}  # module name → the index keys that import from it
    for path in paths:
        function = project.function_at(path)
        module = project.module_of(function) if function is not None else None
        if function is None or module is None or function.qualname != function.name:
            continue
        name = function.name
        if module.name not in keys:
            keys[module.name] = [
                key for key in index if _same_module(module.name, key.rpartition(":")[0] or key)
            ]
        for key in keys[module.name]:
            for importer, what in index[key]:
                if importer in homes:
                    continue
                if what == name or (what == "" and name in importer.text):
                    found.add(path)
    return found


def _import_index(project: Project) -> dict[str, list[tuple[PythonModule, str]]]:
    """What the project's non-test modules import, read from their text: ``module`` → the
    importers with ``""`` (the module itself), and ``module:`` + nothing for names imported
    from it, keyed ``base:name`` → importers with the name."""
    return project.memo("import-index").get(None, _build_import_index, project)


def _build_import_index(project: Project) -> dict[str, list[tuple[PythonModule, str]]]:
    index: dict[str, list[tuple[PythonModule, str]]] = {}
    for module in project.modules:
        if module.is_test_code:
            continue  # tests import a script's functions to test them, not to serve them
        reads.hook.read(module.path, reads.IMPORTS)
        for dots, written, imported in scan_imports(module.text):
            base = absolute_import(module, dots, written)
            if base is None:
                continue
            if imported is None:
                index.setdefault(base, []).append((module, ""))
                continue
            for name in imported:
                index.setdefault(f"{base}:{name}", []).append((module, name))
                index.setdefault(f"{base}.{name}", []).append((module, ""))
    return index


def _same_module(home: str, imported: str) -> bool:
    """``imported`` names module ``home`` (also from a parent folder: ``app.cli`` for
    ``svc.app.cli``)."""
    return home == imported or home.endswith("." + imported)


# A module that builds an app spells its class.
_APP_SPELLING = Spelling("app-constructor", r"FastAPI\s*\(", r"Starlette\s*\(")
_APP_NAMES = ("FastAPI", "Starlette")


def _has_app(project: Project) -> bool:
    """Whether the project builds a FastAPI or Starlette app (not a library)."""
    return bool(project.memo("has-app").get(None, _find_app, project))


def _find_app(project: Project) -> bool:
    for module in project.modules:
        if module.is_test_code or not _APP_SPELLING(module):
            continue
        for site in module.model.calls:
            name = _last_name(site.node.func)
            if name is None or not name.endswith(_APP_NAMES):
                continue  # ``FastAPI(...)``, or a subclass such as ``NormalizedFastAPI(...)``
            path = project.resolve(module, site.node.func, site.scope)
            if framework_class(project, path) in APP_CLASSES.values():
                return True
    return False


# Calls that run a coroutine on an event loop of their own (the coroutine's position).
_OWN_LOOP_RUNNERS = frozenset({"asyncio.run", "anyio.run", "trio.run", "uvloop.run"})
_RUN_UNTIL_COMPLETE = ".run_until_complete"
# Modules that can hold code run outside the app: they spell one of these.
_UNSERVED_SPELLING = Spelling(
    "unserved-root",
    r"asyncio\.run\b",
    r"anyio\.run\b",
    r"trio\.run\b",
    r"uvloop\.run\b",
    r"run_until_complete",
    r"alembic",
    r"WorkerSettings",
    r"@[\w.]*command\b",
    r"@[\w.]*task\b",
    r"__main__",
)
_RUNNER_NAMES = frozenset({"run", "run_until_complete"})
_ARQ_SETTINGS = ("functions", "on_startup", "on_shutdown", "on_job_start", "on_job_end")


def _unserved_roots_in(project: Project, module: PythonModule) -> list[_Root]:
    """Functions the module runs outside the served app: coroutines it hands to
    ``asyncio.run`` (a loop of their own) and code it calls under ``if __name__ ==
    "__main__":``, both when defined in the module; every function of an Alembic module;
    Celery tasks, click/typer commands and arq worker hooks."""
    roots: list[_Root] = []
    if module.is_test_code or not _UNSERVED_SPELLING(module):
        return roots
    if _imports_alembic(module):
        return [_Root(f, "an Alembic migration") for f in module.model.functions]
    for site in module.model.calls:
        if not (site.in_main_block or _spelt_as(site.node, _RUNNER_NAMES)):
            continue  # resolving every call would read every module this one imports
        path = project.resolve(module, site.node.func, site.scope)
        if path in _OWN_LOOP_RUNNERS or (path or "").endswith(_RUN_UNTIL_COMPLETE):
            target = positional(site.node, 0)
            if isinstance(target, cst.Call):
                target = target.func
            function = _function_or_init(project, module, target, site.scope)
            if function is not None and _defined_in(project, function, module):
                roots.append(_Root(function, f"run by {offloader_text(path)}"))
        elif site.in_main_block:
            function = resolve_callee(project, module, site, path)
            if function is not None and _defined_in(project, function, module):
                roots.append(_Root(function, "run as a script"))
    for function in module.model.functions:
        for decorator in function.decorators:
            if _last_name(decorator) not in _WORKER_DECORATOR_NAMES:
                continue
            path = project.resolve(module, decorator, function.outer_scope) or ""
            why = _worker_decorator(path[:-2] if path.endswith("()") else path)
            if why is not None:
                roots.append(_Root(function, why))
    for class_info in module.model.classes:
        if class_info.name.endswith("WorkerSettings"):
            roots.extend(_arq_hooks(project, module, class_info))
    return roots


def _defined_in(project: Project, function: FunctionInfo, module: PythonModule) -> bool:
    """A script's own coroutine: one imported from elsewhere is shared code the app may run
    too, through calls fastlint cannot follow."""
    return project.module_of(function) is module


def offloader_text(path: str | None) -> str:
    return "loop.run_until_complete" if path and path.endswith(_RUN_UNTIL_COMPLETE) else str(path)


def _imports_alembic(module: PythonModule) -> bool:
    """An Alembic ``env.py`` or migration script (it sets ``revision``)."""
    if "alembic" not in module.text:
        return False
    is_migration = module.name.rsplit(".", 1)[-1] == "env" or (
        module.model.module_binding("revision") is not None
    )
    return is_migration and any(
        binding.kind == "import" and (binding.path or "").startswith("alembic")
        for binding in module.model.scope.bindings.values()
    )


_WORKER_DECORATOR_NAMES = frozenset({"task", "shared_task", "command", "group"})


def _last_name(decorator: cst.BaseExpression) -> str | None:
    node = decorator.func if isinstance(decorator, cst.Call) else decorator
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return node.value if isinstance(node, cst.Name) else None


def _worker_decorator(path: str) -> str | None:
    if path == "celery.shared_task" or (path.startswith("celery.") and path.endswith(".task")):
        return "a Celery task"
    if path.startswith(("click.", "typer.", "asyncclick.")):
        return "a command-line command"
    return None


def _arq_hooks(project: Project, module: PythonModule, class_info: ClassInfo) -> list[_Root]:
    """``class WorkerSettings: functions = [...]; on_startup = startup`` (arq)."""
    roots = []
    body = class_info.node.body
    for statement in body.body if isinstance(body, cst.IndentedBlock) else ():
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
                continue
            target = small.targets[0].target
            if not (isinstance(target, cst.Name) and target.value in _ARQ_SETTINGS):
                continue
            values = (
                [element.value for element in small.value.elements]
                if isinstance(small.value, (cst.List, cst.Tuple))
                else [small.value]
            )
            for value in values:
                function = _function_or_init(project, module, value, class_info.scope)
                if function is not None:
                    roots.append(_Root(function, "an arq worker function"))
    return roots


# ---------------------------------------------------------------------------- run once


def runs_once(
    project: Project, module: PythonModule, site: CallSite, objects: bool = False
) -> bool:
    """Whether the call runs once per process (or per cache key), not on every call of its
    function: the function is ``@lru_cache``/``@cache`` wrapped, or the call sits in a lazy
    initialisation (``if _x is None: _x = make()`` on a module global, or after an early
    ``return`` of what a function stores in a module-level cache). ``objects``: also an
    attribute of an object other than ``self`` or the request (``if rt.engine is None:
    rt.engine = build()``), for engines, which nobody builds once per request on purpose."""
    function = site.function
    if function is None or function.is_lambda:
        return False
    if _is_cached(project, module, function):
        return True
    node = function.node
    assert isinstance(node, cst.FunctionDef)
    # Asked for every call in the function: worked out once per function.
    stored = project.memo("stored-globals").get(function.path, _stored_globals, module, function)
    if not objects:
        # ``if order.charge_id is None: order.charge_id = charge()`` runs once per order,
        # which may well be once per request: only an engine is safely one per object.
        stored = {name for name in stored if "." not in name}
    if not stored:
        return False
    return _lazily_guarded(node.body, site.node, stored, False)


def _stored_globals(module: PythonModule, function: FunctionInfo) -> set[str]:
    """Module-level names the function assigns (``global _x``) or stores into
    (``_CACHE[key] = value``); ``cls`` for a store into a class attribute's container."""
    node = function.node
    assert isinstance(node, cst.FunctionDef)
    declared = {
        item.name.value
        for found in walk(node.body, lambda n: isinstance(n, cst.Global))
        for item in found.names  # type: ignore[attr-defined]
    }
    stored = set()
    for found in walk(node.body, lambda n: isinstance(n, (cst.Assign, cst.AugAssign))):
        targets = (
            [t.target for t in found.targets] if isinstance(found, cst.Assign) else [found.target]  # type: ignore[attr-defined]
        )
        for target in targets:
            if isinstance(target, cst.Name) and target.value in declared:
                stored.add(target.value)
            elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
                name = target.value.value
                local = function.scope.bindings.get(name)
                if local is None and module.model.module_binding(name) is not None:
                    stored.add(name)
            elif isinstance(target, cst.Subscript) and _is_class_attribute(target.value):
                stored.add("cls")  # ``cls._engines[key] = engine``: shared by the process
            elif (
                isinstance(target, cst.Attribute)
                and isinstance(target.value, cst.Name)
                and target.value.value not in _PER_REQUEST_OWNERS
            ):
                # ``runtime.engine = build()`` on an object from a registry; not ``self``
                # (an instance may be made per request) nor the request's own state.
                stored.add(f"{target.value.value}.{target.attr.value}")
    if walk(node.body, _adds_log_handler):
        stored.add("handlers")  # a logger configured once: ``if logger.handlers: return``
    return stored


_PER_REQUEST_OWNERS = frozenset({"self", "request", "websocket", "scope", "state"})


def _adds_log_handler(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "addHandler"
    )


def _is_class_attribute(node: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.value.value == "cls"
    )


def _lazily_guarded(
    suite: cst.BaseSuite, target: cst.CSTNode, stored: set[str], early_return: bool
) -> bool:
    """Whether ``target``, inside ``suite``, runs only when a cache is empty."""
    if not isinstance(suite, cst.IndentedBlock):
        return early_return
    for statement in suite.body:
        if not _contains(statement, target):
            early_return = early_return or _is_cache_hit_return(statement)
            continue
        if early_return:
            return True
        if (
            isinstance(statement, cst.If)
            and _contains(statement.body, target)
            and is_lazy_guard(statement.test)
            and _mentions_stored(statement.test, stored)
        ):
            return True
        for inner in _suites(statement):
            if _contains(inner, target):
                return _lazily_guarded(inner, target, stored, early_return)
        return False
    return False


def _is_cache_hit_return(statement: cst.BaseStatement) -> bool:
    """``if cached is not None: return cached`` / ``if key in _CACHE: return _CACHE[key]`` /
    ``if logger.handlers: return logger``."""
    if not isinstance(statement, cst.If) or statement.orelse is not None:
        return False
    body = statement.body
    if not isinstance(body, cst.IndentedBlock) or len(body.body) != 1:
        return False
    only = body.body[0]
    if not (
        isinstance(only, cst.SimpleStatementLine)
        and len(only.body) == 1
        and isinstance(only.body[0], cst.Return)
    ):
        return False
    test = statement.test
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        # ``if rt.engine is not None and rt.factory is not None: return``: all built already
        return _is_filled(test.left) and _is_filled(test.right)
    if only.body[0].value is not None and _is_filled(test):
        return True
    # ``if logger.handlers: return logger``: logging's loggers live as long as the process.
    return isinstance(test, cst.Attribute) and test.attr.value == "handlers"


def _is_filled(test: cst.BaseExpression) -> bool:
    """``x is not None`` / ``key in cache``."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _is_filled(test.left) and _is_filled(test.right)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        return isinstance(test.comparisons[0].operator, (cst.IsNot, cst.In))
    return False


def is_lazy_guard(test: cst.BaseExpression) -> bool:
    """``x is None``, ``not x``, ``key not in cache``, ``not hasattr(...)``."""

    def guard(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Name) and node.value == "None":
            return True
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return True
        return isinstance(node, cst.ComparisonTarget) and isinstance(node.operator, cst.NotIn)

    return bool(walk(test, guard))


def _mentions_stored(tree: cst.CSTNode, stored: set[str]) -> bool:
    """The test reads a stored name (``_client``) or attribute (``runtime.engine``)."""

    def reads(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Name):
            return node.value in stored
        return isinstance(node, cst.Attribute) and dotted(node) in stored

    return bool(walk(tree, reads))


def _suites(statement: cst.BaseStatement) -> list[cst.BaseSuite]:
    """The blocks directly inside a compound statement."""
    found: list[cst.BaseSuite] = []
    if isinstance(statement, cst.If):
        found.append(statement.body)
        orelse = statement.orelse
        if isinstance(orelse, cst.If):
            found.extend(_suites(orelse))
        elif orelse is not None:
            found.append(orelse.body)
    elif isinstance(statement, (cst.With, cst.For, cst.While)):
        found.append(statement.body)
        if not isinstance(statement, cst.With) and statement.orelse is not None:
            found.append(statement.orelse.body)
    elif isinstance(statement, cst.Try):
        found.append(statement.body)
        found.extend(handler.body for handler in statement.handlers)
        if statement.orelse is not None:
            found.append(statement.orelse.body)
        if statement.finalbody is not None:
            found.append(statement.finalbody.body)
    return found


def _contains(tree: cst.CSTNode, target: cst.CSTNode) -> bool:
    return bool(walk(tree, lambda n: n is target))


# ---------------------------------------------------------------------------- chains


def request_chain(project: Project, graph: CallGraph, path: str) -> tuple[Chain | None, bool]:
    """How calling the sync project function ``path`` blocks, preferring a path that runs on
    every call, and whether the only paths found run once (a cache, a lazy global). A plain
    answer, like the graph's own chains."""
    return _request_chains(project, graph.extra_patterns).ask(path)


REQUEST_CHAINS = "request-chain:"  # + the extra blocking-call patterns, joined by NUL


def _request_chains(
    project: Project, patterns: tuple[str, ...]
) -> AnswerTable[tuple[Chain | None, bool]]:
    return project.answers(
        REQUEST_CHAINS + "\0".join(patterns),
        _encode_request_chain,
        _decode_request_chain,
        lambda path: _request_chain(project, call_graph(project, patterns), path),
    )


def _encode_request_chain(answer: tuple[Chain | None, bool]) -> object:
    return [_encode_chain(answer[0]), answer[1]]


def _decode_request_chain(raw: object) -> tuple[Chain | None, bool]:
    if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[1], bool)):
        raise TypeError("expected [chain, once]")
    return _decode_chain(raw[0]), raw[1]


def _patterns(name: str) -> tuple[str, ...]:
    joined = name[len(REQUEST_CHAINS) :]
    return tuple(joined.split("\0")) if joined else ()


register_answers(REQUEST_CHAINS, lambda project, name: _request_chains(project, _patterns(name)))


def _request_chain(project: Project, graph: CallGraph, path: str) -> tuple[Chain | None, bool]:
    chain = graph.chain(path)
    if chain is None or not _chain_runs_once(project, graph, chain):
        return chain, False
    other = _chain_avoiding_once(project, graph, path, "error") or _chain_avoiding_once(
        project, graph, path, "warning"
    )
    return (other, False) if other is not None else (chain, True)


def _facts(
    project: Project, graph: CallGraph, path: str
) -> tuple[PythonModule, FunctionFacts] | None:
    function = project.function_at(path)
    module = project.module_of(function) if function is not None else None
    facts = graph.facts(function) if function is not None else None
    return None if module is None or facts is None else (module, facts)


def _chain_runs_once(project: Project, graph: CallGraph, chain: Chain) -> bool:
    for index, step in enumerate(chain.steps):
        found = _facts(project, graph, step)
        if found is None:
            return False
        module, facts = found
        function = project.function_at(step)
        if function is not None and _is_cached(project, module, function):
            return True
        if index + 1 < len(chain.steps):
            sites = [e.site for e in facts.edges if e.callee == chain.steps[index + 1]]
        else:
            sites = [s.site for s in facts.leaves if s.leaf == chain.leaf]
        if sites and all(runs_once(project, module, site) for site in sites):
            return True
    return False


def _chain_avoiding_once(
    project: Project, graph: CallGraph, path: str, severity: str
) -> Chain | None:
    """The shortest chain to a ``severity`` leaf through calls that run every time."""
    start = _facts(project, graph, path)
    if start is None or not start[1].can_block_caller:
        return None
    queue: deque[tuple[PythonModule, FunctionFacts, tuple[FunctionFacts, ...]]] = deque(
        [(*start, ())]
    )
    seen = {path}
    while queue:
        module, facts, above = queue.popleft()
        function = project.function_at(facts.path)
        if function is None or _is_cached(project, module, function):
            continue
        steps = (*above, facts)
        for leaf_site in facts.leaves:
            if leaf_site.leaf.severity == severity and not runs_once(
                project, module, leaf_site.site
            ):
                return Chain(
                    tuple(f.path for f in steps), tuple(f.label for f in steps), leaf_site.leaf
                )
        for edge in facts.edges:
            if edge.site.awaited or edge.callee in seen or runs_once(project, module, edge.site):
                continue
            seen.add(edge.callee)
            callee = _facts(project, graph, edge.callee)
            if callee is not None and callee[1].can_block_caller:
                queue.append((*callee, steps))
    return None


# ---------------------------------------------------------------- which app instances count


def _module_binding(module: PythonModule, site: CallSite) -> tuple[int, str] | None:
    """(index among the module's top-level statements, name) for ``name = FastAPI(...)``
    written at module level, else None."""
    statement = site.statement
    if site.function is not None or not isinstance(statement, cst.SimpleStatementLine):
        return None
    small = statement.body[0] if len(statement.body) == 1 else None
    if not isinstance(small, cst.Assign) or small.value is not site.node:
        return None
    if len(small.targets) != 1 or not isinstance(small.targets[0].target, cst.Name):
        return None
    body = module.tree.body
    index = next((i for i, top in enumerate(body) if top is statement), None)
    return None if index is None else (index, small.targets[0].target.value)


def _names(tree: cst.CSTNode, name: str) -> list[cst.Name]:
    found = walk(tree, lambda n: isinstance(n, cst.Name) and n.value == name)
    return [node for node in found if isinstance(node, cst.Name)]


def _rebinds(statement: cst.CSTNode, name: str) -> bool:
    """A top-level ``name = ...`` that does not read ``name`` on its right-hand side."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    if not isinstance(small, (cst.Assign, cst.AnnAssign)) or small.value is None:
        return False
    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
    bound = any(isinstance(t, cst.Name) and t.value == name for t in targets)
    return bound and not _names(small.value, name)


def dead_instance(module: PythonModule, site: CallSite) -> bool:
    """``app = FastAPI()`` rebound by a later top-level ``app = FastAPI(...)`` before any code
    reads it: the first instance is never served, so it is judged once, at the second."""
    binding = _module_binding(module, site)
    if binding is None:
        return False
    index, name = binding
    for statement in module.tree.body[index + 1 :]:
        if _rebinds(statement, name):
            return True
        if _names(statement, name):
            return False  # read (a route, a middleware, an import-time use) before rebinding
    return False


# A route that answers a load balancer's or an orchestrator's probe.
_PROBE_PATH = re.compile(
    r"/(?:health|healthz|healthcheck|health[-_]check|livez|readyz|ready|readiness|live|"
    r"liveness|ping|alive|heartbeat)/?",
    re.IGNORECASE,
)
_ROUTE_DECORATORS = frozenset(
    {"get", "head", "options", "api_route", "route", "post", "put", "patch", "delete"}
)
# What an app may do besides answering probes and still expose nothing in its schema.
_HARMLESS_USES = frozenset(
    {
        "add_middleware",
        "middleware",
        "exception_handler",
        "add_exception_handler",
        "on_event",
        "state",
        "title",
        "version",
    }
)


def probe_only_app(project: Project, module: PythonModule, site: CallSite) -> bool:
    """An app built at module level that only answers health probes (``/health``,
    ``/healthz``, ``/ready``, ``/ping``…), like the side app a worker container runs for its
    liveness check: every use of its name in the module is a probe route or a harmless
    setting, no other module imports it, and it has at least one probe route."""
    binding = _module_binding(module, site)
    if binding is None:
        return False
    _, name = binding
    probes = 0
    decorators: set[int] = set()
    for function in module.model.functions:
        for decorator in function.decorators:
            if not (isinstance(decorator, cst.Call) and isinstance(decorator.func, cst.Attribute)):
                continue
            receiver = decorator.func.value
            if not (isinstance(receiver, cst.Name) and receiver.value == name):
                continue
            if decorator.func.attr.value not in _ROUTE_DECORATORS:
                continue
            path = positional(decorator, 0) or keyword(decorator, "path")
            text = path.evaluated_value if isinstance(path, cst.SimpleString) else None
            if not isinstance(text, str) or not _PROBE_PATH.fullmatch(text):
                return False
            probes += 1
            decorators.add(id(receiver))
    if probes == 0:
        return False
    uses = walk(module.tree, lambda n: isinstance(n, cst.Attribute) and _is_name_of(n.value, name))
    attributes = {id(node.value) for node in uses if isinstance(node, cst.Attribute)}
    harmless = {
        id(node.value)
        for node in uses
        if isinstance(node, cst.Attribute) and node.attr.value in _HARMLESS_USES
    }
    for node in _names(module.tree, name):
        if id(node) in decorators or id(node) in harmless:
            continue
        if id(node) in attributes or not _binds(module, node):
            return False  # include_router, mount, add_api_route, passed to a function…
    index = _import_index(project)
    return not index.get(f"{module.name}:{name}")


def _is_name_of(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _binds(module: PythonModule, node: cst.Name) -> bool:
    """``node`` is the target of a top-level ``name = ...``."""
    for statement in module.tree.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and any(t.target is node for t in small.targets):
                return True
    return False


# ---------------------------------------------------------------- modules only the outside imports


# A module that may serve: it registers routes, dependencies or middleware, builds or wires
# an app. Such a module, and whatever it imports, is never judged "outside the app".
_WIRING_SPELLING = Spelling("app-wiring", r"include_router\b", r"\.mount\s*\(")
# An entry module that starts a server in its own process (``uvicorn.run(app)``) runs what it
# imports in the app's process: not evidence of code outside the app.
_RUNNER_SPELLING = Spelling("server-runner", r"uvicorn", r"hypercorn", r"granian", r"gunicorn")
# Folders that hold command-line entry points by convention; a module in one that nothing
# imports is such an entry (a terminal UI, a click group loaded by name).
_COMMAND_FOLDERS = frozenset({"cli", "scripts", "script", "bin", "tools", "commands", "management"})


def _outside_app(project: Project) -> dict[str, str]:
    """Modules that only code the app never runs imports, each with why: a terminal UI's
    services that only ``cli/`` modules import, down from entry modules that nothing imports
    and that run commands or scripts (they spell a command decorator, ``asyncio.run``,
    ``__main__``…, or sit in a ``cli/``/``scripts/``-like folder), and do not start a server
    in their own process. Positive evidence only: a module nothing imports that is not such
    an entry, and one that a module which may serve imports (directly, or through the
    packages its import runs), is not outside."""
    return project.memo("outside-app").get(None, _find_outside_app, project)


def _find_outside_app(project: Project) -> dict[str, str]:
    if not _has_app(project):
        return {}
    graph = project.import_graph
    modules = [module for module in project.modules if not module.is_test_code]
    importers: dict[str, set[str]] = {module.path: set() for module in modules}
    imports: dict[str, set[str]] = {}
    above = {module.path: _packages_above(project, module) for module in graph.by_path.values()}
    for module in modules:
        reads.hook.read(module.path, reads.IMPORTS)
        targets = graph.targets(module)
        reached = set(targets)
        for target in targets:  # importing a.b.c runs a/__init__ and a/b/__init__
            reached.update(above[target])
        reached.discard(module.path)
        imports[module.path] = reached
        for target in reached:
            if target in importers:
                importers[target].add(module.path)
    by_path = {module.path: module for module in modules}
    serving = {
        path
        for path, module in by_path.items()
        if _ROOT_SPELLING(module)
        or _APP_SPELLING(module)
        or _DEPENDS_SPELLING(module)
        or _WIRING_SPELLING(module)
    }
    entries = {
        path
        for path in by_path
        if path not in serving
        and not importers[path]
        and not _RUNNER_SPELLING(by_path[path])
        and (_UNSERVED_SPELLING(by_path[path]) or _COMMAND_FOLDERS & set(path.split("/")[:-1]))
    }
    # Greatest set of modules whose importers are all in it, holding no serving module.
    inside = {
        path for path in by_path if path not in serving and (importers[path] or path in entries)
    }
    queue = deque(inside)
    while queue:
        path = queue.popleft()
        if path not in inside:
            continue
        if any(importer not in inside for importer in importers[path]):
            inside.discard(path)
            queue.extend(target for target in imports[path] if target in inside)
    # Keep what an entry module's imports lead to.
    found: dict[str, str] = {}
    walk_queue = deque(sorted(entries & inside))
    for entry in walk_queue:
        found[entry] = f"only {entry}, which runs outside the app, leads to it"
    while walk_queue:
        path = walk_queue.popleft()
        for target in sorted(imports[path]):
            if target in inside and target not in found:
                found[target] = found[path]
                walk_queue.append(target)
    return found


def _packages_above(project: Project, module: PythonModule) -> list[str]:
    parts = module.name.split(".")
    found = []
    for end in range(1, len(parts)):
        package = project.by_name.get(".".join(parts[:end]))
        if package is not None:
            found.append(package.path)
    return found
