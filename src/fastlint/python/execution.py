"""Where a call runs: on the event loop per request, once at startup/shutdown, or in a thread.

Only the body of an ``async def`` runs on the loop; nested ``def``/``lambda``/``class`` bodies
are their own functions in the model, so ``CallSite.function`` (the innermost one) decides. Sync
``def`` routes and dependencies run in FastAPI's threadpool and functions *passed* to a thread
offloader run in a worker thread, so neither is on the loop. Lifespan code (and startup/shutdown
handlers) runs once, which makes a blocking call there a warning rather than an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from fastlint.python.frameworks import app_class, is_app_or_router_instance
from fastlint.python.model import CallSite, FunctionInfo, keyword, positional, walk
from fastlint.python.project import register_memo
from fastlint.python.tracking import PersistentMemo, Spelling, as_is, string_map

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


def _lifecycle(project: Project) -> PersistentMemo[dict[str, str]]:
    """One answer (key ``""``): every lifecycle function's path → its phase."""
    return project.persistent(
        "lifecycle", as_is, string_map, lambda key: _find_lifecycle_functions(project)
    )


register_memo("lifecycle", lambda project, name: _lifecycle(project))


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
