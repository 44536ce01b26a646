"""FL201: startup/shutdown handlers → one ``@asynccontextmanager`` lifespan.

Offered only when the whole picture is in one module and plain: the app is built there at
module level (``app = FastAPI(...)`` or ``Starlette(...)``, without ``lifespan=`` or
``**kwargs``), and every handler registered on it is a module-level function, registered at
module level with ``on_startup=[...]`` / ``on_shutdown=[...]``, ``@app.on_event("...")`` as its
only decorator, or ``app.add_event_handler("...", handler)``. Any other registration on the
same app (``app.router.add_event_handler``, ``app.on_event("startup")(f)``, one inside a
function) and there is no fix: moving some handlers and not others would change their order.

The lifespan runs the startup handlers in the order Starlette would (the constructor's list,
then the registrations in source order), yields, then runs the shutdown handlers; sync ones
are called, async ones awaited. Unsafe: an exception in a startup handler now fails the
lifespan, and the handlers no longer run for an app mounted inside another.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from fastlint.diagnostics import Diagnostic
from fastlint.fix.base import Fix, Source, fixes
from fastlint.fix.python import node_edit, with_keyword, without_keyword

_APPS = ("FastAPI", "Starlette")
_EVENTS = {"startup": "on_startup", "shutdown": "on_shutdown"}


@fixes("FL201")
def fix_on_event(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    call = source.node_at(diagnostic, cst.Call)
    if call is None:
        expression = source.node_at(diagnostic, cst.BaseExpression)  # type: ignore[type-abstract]
        call = (
            next((a for a in source.ancestors(expression) if isinstance(a, cst.Call)), None)
            if expression
            else None
        )
    if call is None:
        return []
    name = _app_name(source, call)
    if name is None:
        return []
    plan = _Plan.make(source.tree, name)
    if plan is None:
        return []
    new_module = plan.rewrite(source.tree)
    if new_module is None:
        return []
    return [
        Fix(
            f"move the handlers of '{name}' into a lifespan",
            (node_edit(source, source.tree, new_module),),
            safe=False,
        )
    ]


def _app_name(source: Source, call: cst.Call) -> str | None:
    """The module-level name of the app a finding's call registers on, or constructs."""
    func = call.func
    if (
        isinstance(func, cst.Attribute)
        and isinstance(func.value, cst.Name)
        and func.attr.value in ("on_event", "add_event_handler")
    ):
        return func.value.value
    parent = source.parents.get(call)
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        target = parent.targets[0].target
        if isinstance(target, cst.Name):
            return target.value
    return None


class _Plan:
    def __init__(
        self, name: str, statement: cst.SimpleStatementLine, constructor: cst.Call
    ) -> None:
        self.name = name
        self.statement = statement
        self.constructor = constructor
        self.startup: list[str] = []
        self.shutdown: list[str] = []
        self.decorated: set[cst.FunctionDef] = set()
        self.removed: set[cst.SimpleStatementLine] = set()
        self.functions: dict[str, cst.FunctionDef] = {}

    @classmethod
    def make(cls, module: cst.Module, name: str) -> _Plan | None:
        constructor = None
        statement = None
        for item in module.body:
            if isinstance(item, cst.SimpleStatementLine) and m.matches(
                item, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(m.Name(name))])])
            ):
                value = item.body[0].value  # type: ignore[attr-defined]
                if statement is not None or not _is_app_call(value):
                    return None
                constructor, statement = value, item
        if constructor is None or statement is None:
            return None
        if any(arg.star for arg in constructor.args) or _keyword(constructor, "lifespan"):
            return None
        plan = cls(name, statement, constructor)
        for item in module.body:
            if isinstance(item, cst.FunctionDef):
                if item.name.value in plan.functions:
                    return None
                plan.functions[item.name.value] = item
        for event, keyword in _EVENTS.items():
            value = _keyword(constructor, keyword)
            if value is None:
                continue
            if not isinstance(value, cst.List) or not all(
                isinstance(e, cst.Element) and isinstance(e.value, cst.Name) for e in value.elements
            ):
                return None
            plan.handlers(event).extend(e.value.value for e in value.elements)  # type: ignore[attr-defined]
        registrations = 0
        for item in module.body:
            found, handler = _registration(item, name)
            if found is None:
                continue
            if found not in _EVENTS or handler is None:
                return None
            plan.handlers(found).append(handler)
            if isinstance(item, cst.FunctionDef):
                plan.decorated.add(item)
            else:
                plan.removed.add(item)  # type: ignore[arg-type]
            registrations += 1
        if not plan.startup and not plan.shutdown:
            return None
        if any(h not in plan.functions for h in [*plan.startup, *plan.shutdown]):
            return None
        # Every mention of the event API on this app must be one of those registrations.
        mentions = len(
            m.findall(
                module,
                m.Attribute(
                    value=m.Name(name), attr=m.Name("on_event") | m.Name("add_event_handler")
                ),
            )
        )
        mentions += len(
            m.findall(
                module, m.Attribute(value=m.Attribute(value=m.Name(name), attr=m.Name("router")))
            )
        )
        if mentions != registrations:
            return None
        return plan

    def handlers(self, event: str) -> list[str]:
        return self.startup if event == "startup" else self.shutdown

    def rewrite(self, module: cst.Module) -> cst.Module | None:
        taken = {n.value for n in m.findall(module, m.Name()) if isinstance(n, cst.Name)}
        lifespan = next((c for c in ("lifespan", f"{self.name}_lifespan") if c not in taken), None)
        if lifespan is None:
            return None
        body: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] = []
        first_import = next(
            (
                i
                for i, s in enumerate(module.body)
                if m.matches(s, m.SimpleStatementLine(body=[m.Import() | m.ImportFrom()]))
                and not m.matches(
                    s, m.SimpleStatementLine(body=[m.ImportFrom(module=m.Name("__future__"))])
                )
            ),
            None,
        )
        needs_import = not m.findall(
            module,
            m.ImportFrom(
                module=m.Name("contextlib"),
                names=[
                    m.ZeroOrMore(),
                    m.ImportAlias(name=m.Name("asynccontextmanager"), asname=None),
                    m.ZeroOrMore(),
                ],
            ),
        )
        if first_import is None and needs_import:
            return None
        for index, item in enumerate(module.body):
            if index == first_import and needs_import:
                added = cst.parse_statement("from contextlib import asynccontextmanager\n")
                body.append(added.with_changes(leading_lines=item.leading_lines))
                item = item.with_changes(leading_lines=[])
            if item in self.removed:
                # Its comments stay, on their own lines where it was.
                carried.extend(line for line in item.leading_lines if line.comment is not None)
                comment = item.trailing_whitespace.comment  # type: ignore[union-attr]
                if comment is not None:
                    carried.append(cst.EmptyLine(comment=comment))
                continue
            if carried:
                item = item.with_changes(leading_lines=[*item.leading_lines, *carried])
                carried = []
            if item is self.statement:
                body.append(self._lifespan(lifespan, bool(index)))
                item = self._constructed(item, lifespan)
            elif item in self.decorated:
                item = item.with_changes(decorators=[])
            body.append(item)
        if carried:  # the last statement was removed: its comments end the module
            carried = [cst.EmptyLine(), cst.EmptyLine(), *carried]
        return module.with_changes(body=body, footer=[*carried, *module.footer])

    def _constructed(
        self, statement: cst.SimpleStatementLine, lifespan: str
    ) -> cst.SimpleStatementLine:
        call = self.constructor
        for keyword in _EVENTS.values():
            call = without_keyword(call, keyword)
        call = with_keyword(call, "lifespan", cst.Name(lifespan))
        assign = statement.body[0].with_changes(value=call)
        comments = [line for line in statement.leading_lines if line.comment is not None]
        return statement.with_changes(
            body=[assign], leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *comments]
        )

    def _lifespan(self, name: str, after_something: bool) -> cst.FunctionDef:
        def run(handler: str) -> str:
            asynchronous = self.functions[handler].asynchronous is not None
            return f"    {'await ' if asynchronous else ''}{handler}()\n"

        constructed = self.constructor.func
        annotation = f": {constructed.value}" if isinstance(constructed, cst.Name) else ""
        code = (
            "@asynccontextmanager\n"
            f"async def {name}(app{annotation}):\n"
            + "".join(run(h) for h in self.startup)
            + "    yield\n"
            + "".join(run(h) for h in self.shutdown)
        )
        function = cst.parse_statement(code)
        assert isinstance(function, cst.FunctionDef)
        return function.with_changes(
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()] if after_something else []
        )


def _is_app_call(value: cst.BaseExpression) -> bool:
    if not isinstance(value, cst.Call):
        return False
    func = value.func
    name = (
        func.value
        if isinstance(func, cst.Name)
        else func.attr.value
        if isinstance(func, cst.Attribute)
        else ""
    )
    return name in _APPS


def _keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    return next((arg.value for arg in call.args if arg.keyword and arg.keyword.value == name), None)


def _registration(item: cst.BaseStatement, app: str) -> tuple[str | None, str | None]:
    """(event, handler) when ``item`` registers a handler on ``app`` in a form the fix moves;
    (event, None) for a registration it cannot move; (None, None) otherwise."""
    if isinstance(item, cst.FunctionDef):
        for decorator in item.decorators:
            call = decorator.decorator
            if m.matches(
                call, m.Call(func=m.Attribute(value=m.Name(app), attr=m.Name("on_event")))
            ):
                event = _literal(call.args[0].value) if call.args else None  # type: ignore[attr-defined]
                if event is None or len(item.decorators) != 1:
                    return "?", None
                return event, item.name.value
        return None, None
    pattern = m.SimpleStatementLine(
        body=[m.Expr(m.Call(func=m.Attribute(value=m.Name(app), attr=m.Name("add_event_handler"))))]
    )
    if not m.matches(item, pattern):
        return None, None
    call = item.body[0].value  # type: ignore[attr-defined]
    if len(call.args) != 2 or not isinstance(call.args[1].value, cst.Name):
        return "?", None
    event = _literal(call.args[0].value)
    return (event or "?"), call.args[1].value.value


def _literal(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None
