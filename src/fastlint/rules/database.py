"""Database rules: sync sessions on the event loop, sessions that leak, engines per request.

What a name holds (session factory, session, engine, connection; sync or async) comes from
:mod:`fastlint.python.sqla`; this module only decides what is wrong with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from fastlint.diagnostics import Severity
from fastlint.python.model import CallSite, FunctionInfo, keyword, positional, walk
from fastlint.python.module import PythonModule
from fastlint.python.reach import ASYNC_DEF
from fastlint.python.serving import (
    NEVER,
    REQUEST,
    call_context,
    decorator_paths,
    dependencies,
    is_lazy_guard,
    per_request_functions,
    placement,
    reached_once,
)
from fastlint.python.sqla import (
    REACHES_SQLALCHEMY,
    engine_constructor,
    opened_kind,
    sync_db_call,
    uses_sqlalchemy,
)
from fastlint.registry import register
from fastlint.rules import catalog
from fastlint.rules.base import PythonRule

if TYPE_CHECKING:
    from fastlint.context import LintContext
    from fastlint.python.project import Project

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
            phase = call_context(project, unit, first.site)
            if phase == NEVER and not self.option("report-unserved-async"):
                continue
            if phase == REQUEST:
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
                when = (
                    "in code the app never serves (a script, command or worker), where it "
                    "stalls everything else on that event loop."
                    if phase == NEVER
                    else "while the app starts or stops. It runs once, but nothing else is "
                    "served meanwhile."
                )
                self.report(
                    unit,
                    first.site.node,
                    f"{first.text} on a synchronous SQLAlchemy {label} blocks the event loop "
                    f"inside 'async def {name}'{more} {when} Run it with 'await "
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
                if kind is None or _borrows_connection(ctx.project, unit, function, site):
                    continue
                problem = _leak(function, site.node, site.statement)
                if problem is None:
                    continue
                if problem[0] in _RETURNED and function.path not in dependencies(ctx.project):
                    # A helper returning a session (or a repository holding it) hands it to
                    # its caller, which may close it (``with new_session() as db``); only
                    # FastAPI is known never to close what a dependency returns.
                    continue
                if placement(ctx.project, function)[0] == NEVER:
                    continue  # a script or command: its session lives as long as the process
                how, name = problem
                with_ = "async with" if kind.is_async else "with"
                self.report(
                    unit,
                    site.node,
                    _leak_message(unit, function, site.node, how, name, kind.is_async),
                    fix=f"{with_} {unit.code(site.node)} as {name}: ...",
                )


_RETURNED = ("returned", "wrapped")


def _borrows_connection(
    project: Project, module: PythonModule, function: FunctionInfo, site: CallSite
) -> bool:
    """A session bound to a connection someone else owns (``Session(bind=op.get_bind())`` in
    a migration, ``Session(bind=connection)`` in an event listener, ``Session(bind=
    session.connection())``): closing it or not returns nothing to a pool."""
    bind = keyword(site.node, "bind") or positional(site.node, 0)
    if isinstance(bind, cst.Call) and isinstance(bind.func, cst.Attribute):
        method = bind.func.attr.value
        if method == "connection":
            return True
        if method == "get_bind":
            return (project.resolve(module, bind.func, site.scope) or "").startswith("alembic.")
        return False
    if not isinstance(bind, cst.Name):
        return False
    for param in function.params:
        if param.name != bind.value:
            continue
        if param.name in _CONNECTION_NAMES:
            return True
        annotation = param.annotation
        resolved = project.resolve(module, annotation, function.outer_scope) if annotation else None
        return (resolved or "").endswith(".Connection")
    return False


_CONNECTION_NAMES = frozenset({"connection", "conn"})


def _is_pytest_fixture(project: Project, module: PythonModule, function: FunctionInfo) -> bool:
    return any(
        path.startswith(("pytest.fixture", "pytest_asyncio.fixture"))
        for path in decorator_paths(project, module, function)
    )


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
        yielded = small.value.value
        if isinstance(yielded, cst.From):
            return None  # ``yield from``: the other generator owns what it yields
        return ("yielded", "db") if _is_call(yielded, call) else None
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
    if not function.is_generator and any(_wraps(r.value, name) for r in function.returns):
        return "wrapped", name
    guards = [try_ for try_ in _tries(body) if _closes(try_.finalbody, name)]
    if function.is_generator:
        unguarded = [y for y in function.yields if not any(_contains(t.body, y) for t in guards)]
        return ("yielded", name) if unguarded else None
    return None if guards else ("unclosed", name)


def _leak_message(
    unit: PythonModule, function: FunctionInfo, call: cst.Call, how: str, name: str, is_async: bool
) -> str:
    opened = unit.code(call)
    what = "connection" if isinstance(call.func, cst.Attribute) else "session"
    with_ = "async with" if is_async else "with"
    close = f"await {name}.close()" if is_async else f"{name}.close()"
    fname = function.name
    if how == "yielded":
        return (
            f"{fname}() yields the {what} from {opened} outside try/finally or {with_}. When the "
            f"endpoint raises, FastAPI throws the error in at the yield and the cleanup never "
            f"runs, so the connection is never returned and the pool runs dry ('QueuePool limit "
            f"reached'). Write '{with_} {opened} as {name}: yield {name}' or 'try: yield {name}' "
            f"with 'finally: {close}'."
        )
    if how == "wrapped":
        return (
            f"Dependency {fname}() returns an object holding an open {what} from {opened}, and "
            f"FastAPI never closes a returned value. Each request checks out a pooled "
            f"connection that stays out until garbage collection, so the pool runs dry under "
            f"load. Make it a generator dependency: '{with_} {opened} as {name}: yield ...'."
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
        assert isinstance(node, (cst.Assign, cst.AnnAssign))
        targets = (
            [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        )
        value = node.value
        stored = any(isinstance(t, (cst.Attribute, cst.Subscript)) for t in targets)
        if stored and value is not None and _is_name(value, name):
            return True  # ``request.state.db = db``: closed where it is stored
    return False


def _wraps(value: cst.BaseExpression | None, name: str) -> bool:
    """``return Repository(db)`` / ``return Service(repo=Repo(db))``: the session is handed to
    an object the function returns, which owns it from then on (``return db.query(...)``
    does not count: that returns a result, and the session stays open)."""
    if value is None:
        return False
    calls = walk(value, lambda n: isinstance(n, cst.Call))
    return any(
        _is_name(arg.value, name)
        for call in calls
        if isinstance(call, cst.Call)
        for arg in call.args
    )


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
            if reached_once(ctx.project, site.function.path):
                continue  # built behind a lazy guard in a caller, e.g. get_engine()
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
        if is_lazy_guard(node.test) and _contains(node.body, call):
            return True
    return False
