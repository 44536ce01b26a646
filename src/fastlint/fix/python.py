"""Fixes in Python code, built with LibCST: the node a finding names is changed and printed
back, so everything around it (comments, blank lines, formatting) stays as written."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m

from fastlint.diagnostics import Diagnostic
from fastlint.fix.base import Edit, Fix, Source, fixes

ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "trace", "api_route", "websocket"}
)
_SCOPES_WITHOUT_AWAIT = (
    cst.Lambda,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
    cst.ClassDef,
    cst.Parameters,  # defaults and annotations are evaluated outside the body
    cst.Decorator,
    cst.Annotation,
)


def node_edit(source: Source, old: cst.CSTNode, new: cst.CSTNode) -> Edit:
    """Replace ``old`` by ``new`` in the module and return the change as one edit (the
    smallest span that differs): indentation of nested code comes out right at any depth."""
    after = source.tree.deep_replace(old, new)
    assert isinstance(after, cst.Module)
    return text_change(source.text, after.code)


def text_change(before: str, after: str) -> Edit:
    start = 0
    limit = min(len(before), len(after))
    while start < limit and before[start] == after[start]:
        start += 1
    end_before, end_after = len(before), len(after)
    while (
        end_before > start and end_after > start and before[end_before - 1] == after[end_after - 1]
    ):
        end_before -= 1
        end_after -= 1
    return Edit(start, end_before, after[start:end_after])


def import_edit(source: Source, module: str) -> Edit | None:
    """``import MODULE`` added before the module's first import (after the docstring and
    ``from __future__`` imports), or None when the module already imports it."""
    body = source.tree.body
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Import) and any(
                    m.matches(alias, m.ImportAlias(name=m.Name(module), asname=None))
                    for alias in small.names
                ):
                    return None  # (``import asyncio, os`` too)
    anchor: cst.CSTNode | None = None
    for index, statement in enumerate(body):
        if index == 0 and m.matches(
            statement, m.SimpleStatementLine(body=[m.Expr(m.SimpleString())])
        ):
            continue
        if m.matches(
            statement, m.SimpleStatementLine(body=[m.ImportFrom(module=m.Name("__future__"))])
        ):
            continue
        anchor = statement
        break
    line = f"import {module}{source.newline}"
    if anchor is None:
        return Edit(len(source.text), len(source.text), line)
    start, _ = source.span(anchor)
    is_import = m.matches(anchor, m.SimpleStatementLine(body=[m.Import() | m.ImportFrom()]))
    return Edit(start, start, line if is_import else line + source.newline)


def _function_of(source: Source, node: cst.CSTNode) -> cst.FunctionDef | None:
    """The function whose body runs ``node``, or None when a lambda, comprehension or class
    body sits between them (``await`` is not allowed, or means something else, there)."""
    for ancestor in source.ancestors(node):
        if isinstance(ancestor, cst.FunctionDef):
            return ancestor
        if isinstance(ancestor, _SCOPES_WITHOUT_AWAIT):
            return None
    return None


class _AsyncUse(cst.CSTVisitor):
    """Finds await / async for / async with in a function body, not in nested functions."""

    def __init__(self) -> None:
        self.found = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Await(self, node: cst.Await) -> None:
        self.found = True

    def visit_For(self, node: cst.For) -> None:
        if node.asynchronous is not None:
            self.found = True

    def visit_With(self, node: cst.With) -> None:
        if node.asynchronous is not None:
            self.found = True

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if node.asynchronous is not None:
            self.found = True

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found = True  # an async generator would become a sync one


def _awaits_nothing(function: cst.FunctionDef) -> bool:
    visitor = _AsyncUse()
    function.body.visit(visitor)
    return not visitor.found


def _is_route(function: cst.FunctionDef) -> bool:
    """Decorated with ``@app.get(...)``, ``@router.post(...)`` and the like."""
    for decorator in function.decorators:
        call = decorator.decorator
        if (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and call.func.attr.value in ROUTE_METHODS
        ):
            return True
    return False


def _make_sync(source: Source, function: cst.FunctionDef) -> Fix:
    new = function.with_changes(asynchronous=None)
    name = function.name.value
    return Fix(
        f"make '{name}' a plain def (FastAPI runs it in its threadpool)",
        (node_edit(source, function, new),),
        safe=False,
    )


def _needs_parentheses(source: Source, call: cst.Call) -> bool:
    """``await x`` binds looser than ``.attr``, ``[i]`` and ``(...)`` after it."""
    parent = source.parents.get(call)
    return (
        (isinstance(parent, cst.Attribute) and parent.value is call)
        or (isinstance(parent, cst.Subscript) and parent.value is call)
        or (isinstance(parent, cst.Call) and parent.func is call)
    )


def _awaited(source: Source, call: cst.Call, new_call: cst.Call) -> cst.Await:
    lpar: Sequence[cst.LeftParen] = call.lpar
    rpar: Sequence[cst.RightParen] = call.rpar
    if not lpar and _needs_parentheses(source, call):
        lpar, rpar = [cst.LeftParen()], [cst.RightParen()]
    return cst.Await(expression=new_call.with_changes(lpar=(), rpar=()), lpar=lpar, rpar=rpar)


def _to_thread(source: Source, call: cst.Call) -> Fix:
    # The function goes first, laid out like the arguments: on its own line if they are.
    between: cst.BaseParenthesizableWhitespace = cst.SimpleWhitespace(" ")
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        between = call.whitespace_before_args
    function = cst.Arg(call.func, comma=cst.Comma(whitespace_after=between))
    if not call.args:
        function = cst.Arg(call.func)
    new_call = cst.Call(
        func=cst.Attribute(cst.Name("asyncio"), cst.Name("to_thread")),
        args=[function, *call.args],
        whitespace_before_args=call.whitespace_before_args,
    )
    edits = [node_edit(source, call, _awaited(source, call, new_call))]
    added = import_edit(source, "asyncio")
    if added is not None:
        edits.append(added)
    return Fix(
        f"run {source.code(call.func)}() in a thread: await asyncio.to_thread(...)",
        tuple(edits),
        safe=False,
    )


_OFFLOADERS = frozenset(
    {"to_thread", "run_in_executor", "run_in_threadpool", "run_sync", "add_task"}
)


def _offloaded_result(source: Source, call: cst.Call) -> bool:
    """``to_thread(time.sleep(1))``: the call's result is handed over as the function to run,
    so the call itself must be handed over instead (the message says how); wrapping it in a
    second thread would not be the fix. A call in another argument is fine to wrap."""
    arg = source.parents.get(call)
    outer = source.parents.get(arg) if isinstance(arg, cst.Arg) else None
    if not isinstance(outer, cst.Call) or _called_name(outer) not in _OFFLOADERS:
        return False
    positional = [a for a in outer.args if a.keyword is None and not a.star]
    function_slot = 1 if _called_name(outer) == "run_in_executor" else 0
    return len(positional) > function_slot and positional[function_slot] is arg


def _called_name(call: cst.Call) -> str | None:
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    return func.attr.value if isinstance(func, cst.Attribute) else None


def _async_sleep(source: Source, call: cst.Call) -> Fix:
    new_call = call.with_changes(func=cst.Attribute(cst.Name("asyncio"), cst.Name("sleep")))
    edits = [node_edit(source, call, _awaited(source, call, new_call))]
    added = import_edit(source, "asyncio")
    if added is not None:
        edits.append(added)
    return Fix("await asyncio.sleep() instead of time.sleep()", tuple(edits), safe=True)


@fixes("FL101", "FL102", "FL103")
def fix_blocking_call(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    """time.sleep → await asyncio.sleep (safe). Otherwise, in a route that awaits nothing, make
    it a plain def; else run the call in a thread with asyncio.to_thread (both unsafe)."""
    call = source.node_at(diagnostic, cst.Call)
    if call is None:
        return []
    function = _function_of(source, call)
    if function is None or function.asynchronous is None:
        return []
    parent = source.parents.get(call)
    if isinstance(parent, cst.Await) or _offloaded_result(source, call):
        return []
    with_item = isinstance(parent, cst.WithItem) and parent.item is call
    offered = []
    sleep = diagnostic.code == "FL101" and "asyncio.sleep" in (diagnostic.fix or "")
    if sleep:
        offered.append(_async_sleep(source, call))
    if _is_route(function) and _awaits_nothing(function):
        offered.append(_make_sync(source, function))
    # A context manager made in a thread would still enter and exit on the loop; and a session
    # call whose result is used further (db.query(User).filter(...).first()) builds a query
    # that runs later, on the loop: moving only the first call would hide the finding, not
    # fix it.
    # The same for a file opened and read in one expression (open(path).read()).
    chained = _needs_parentheses(source, call) and (
        diagnostic.code == "FL103" or _called_name(call) == "open"
    )
    if not sleep and not with_item and not chained:
        offered.append(_to_thread(source, call))
    return offered


# ---------------------------------------------------------------------------- FL301


def _closes(statement: cst.BaseStatement, name: str) -> bool:
    close = m.Call(func=m.Attribute(value=m.Name(name), attr=m.Name("close")), args=[])
    return m.matches(
        statement, m.SimpleStatementLine(body=[m.Expr(value=close | m.Await(expression=close))])
    )


@fixes("FL301")
def fix_session_without_finally(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    """``db = Factory()`` … ``db.close()`` in one block → the code between them in
    ``try:``, the close in ``finally:`` (safe: the success path runs exactly as before)."""
    call = source.node_at(diagnostic, cst.Call)
    if call is None:
        return []
    assign = source.parents.get(call)
    if isinstance(assign, cst.Assign) and len(assign.targets) == 1:
        target = assign.targets[0].target
    elif isinstance(assign, cst.AnnAssign):
        target = assign.target
    else:
        return []
    line = source.parents.get(assign)
    block = source.parents.get(line) if line is not None else None
    if not isinstance(target, cst.Name) or not isinstance(block, cst.IndentedBlock):
        return []
    statements = list(block.body)
    first = statements.index(line) + 1  # type: ignore[arg-type]
    close = next(
        (i for i in range(first, len(statements)) if _closes(statements[i], target.value)), None
    )
    if close is None or close == first:
        return []
    between = statements[first:close]
    closing = statements[close]
    if len(between) == 1 and isinstance(between[0], cst.Try) and between[0].finalbody is None:
        guarded = between[0].with_changes(
            finalbody=cst.Finally(body=cst.IndentedBlock(body=[closing]))
        )
    else:
        guarded = cst.Try(
            body=cst.IndentedBlock(body=between),
            finalbody=cst.Finally(body=cst.IndentedBlock(body=[closing])),
        )
    new_block = block.with_changes(body=[*statements[:first], guarded, *statements[close + 1 :]])
    return [
        Fix(
            f"close {target.value} in a finally block",
            (node_edit(source, block, new_block),),
            safe=True,
        )
    ]


# ---------------------------------------------------------------------------- arguments


def keyword_arg(call: cst.Call, name: str) -> cst.Arg | None:
    return next((arg for arg in call.args if arg.keyword and arg.keyword.value == name), None)


def with_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """The call with ``name=value`` set: its value replaced, or the argument appended in the
    call's own layout (one line, or one argument a line with a trailing comma)."""
    present = keyword_arg(call, name)
    if present is not None:
        return call.with_deep_changes(present, value=value)
    new = cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        between = (
            args[-2].comma.whitespace_after
            if len(args) > 1 and isinstance(args[-2].comma, cst.Comma)
            else call.whitespace_before_args
        )
        if isinstance(between, cst.SimpleWhitespace) and not between.value:
            between = cst.SimpleWhitespace(" ")
        args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=between))
        new = new.with_changes(comma=last.comma)
    else:
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return call.with_changes(args=[*args, new])


def without_keyword(call: cst.Call, name: str) -> cst.Call:
    args = list(call.args)
    present = keyword_arg(call, name)
    if present is None:
        return call
    index = args.index(present)
    del args[index]
    if index > 0:
        # The previous argument takes this one's comma, and with it any comment after it.
        args[index - 1] = args[index - 1].with_changes(comma=present.comma)
    elif args and isinstance(present.comma, cst.Comma):
        return call.with_changes(args=args, whitespace_before_args=present.comma.whitespace_after)
    return call.with_changes(args=args)


def call_at(diagnostic: Diagnostic, source: Source) -> cst.Call | None:
    """The call a finding names: the node itself, or the call of a keyword argument."""
    call = source.node_at(diagnostic, cst.Call)
    if call is not None:
        return call
    for kind in (cst.BaseExpression, cst.Arg):
        node = source.node_at(diagnostic, kind)
        if node is not None:
            for ancestor in source.ancestors(node):
                if isinstance(ancestor, cst.Call):
                    return ancestor
    return None


@fixes("FL402")
def fix_docs_exposed(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    call = call_at(diagnostic, source)
    written = keyword_arg(call, "openapi_url") if call is not None else None
    if call is None or (written is None and any(arg.star for arg in call.args)):
        return []  # **kwargs may already hold openapi_url
    if written is not None and isinstance(written.value, (cst.Call, cst.Name, cst.Attribute)):
        return []  # read from settings or the environment: the default is theirs to change
    new = with_keyword(call, "openapi_url", cst.Name("None"))
    return [Fix("openapi_url=None (no schema, no docs)", (node_edit(source, call, new),), False)]


@fixes("FL403")
def fix_debug_enabled(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    call = call_at(diagnostic, source)
    written = keyword_arg(call, "debug") if call is not None else None
    if call is None or written is None:
        return []
    if isinstance(written.value, (cst.Call, cst.Attribute, cst.Comparison, cst.BooleanOperation)):
        return []  # read from settings or the environment: the default is theirs to change
    new = without_keyword(call, "debug")
    return [Fix("remove debug=... (off by default)", (node_edit(source, call, new),), False)]


# ---------------------------------------------------------------------------- settings


def _expression_at(diagnostic: Diagnostic, source: Source) -> cst.BaseExpression | None:
    return source.node_at(diagnostic, cst.BaseExpression)  # type: ignore[type-abstract]


def _web_concurrency(fallback: str) -> cst.BaseExpression:
    return cst.parse_expression(f'int(os.environ.get("WEB_CONCURRENCY", "{fallback}"))')


def _with_os(source: Source, edit: Edit, title: str) -> Fix:
    edits = [edit]
    added = import_edit(source, "os")
    if added is not None:
        edits.append(added)
    return Fix(title, tuple(edits), safe=False)


def python_cpu_count_fix(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    if diagnostic.fix != "read the worker count from WEB_CONCURRENCY":
        return []
    call = _expression_at(diagnostic, source)
    value = None if call is None else _whole_value(source, call)
    if value is None:
        return []
    edit = node_edit(source, value, _web_concurrency("2"))
    return [_with_os(source, edit, 'int(os.environ.get("WEB_CONCURRENCY", "2"))')]


def _whole_value(source: Source, node: cst.BaseExpression) -> cst.BaseExpression | None:
    """The whole value a CPU count call sits in: ``workers = <value>`` or
    ``uvicorn.run(workers=<value>)`` (the finding is at the call, the fix replaces the count)."""
    value = node
    for ancestor in source.ancestors(node):
        if isinstance(ancestor, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            return value if ancestor.value is value else None
        if isinstance(ancestor, cst.Arg):
            return value if ancestor.keyword is not None else None
        if not isinstance(ancestor, cst.BaseExpression):
            return None
        value = ancestor
    return None


def python_hard_coded_workers_fix(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    value = _expression_at(diagnostic, source)
    if not isinstance(value, cst.Integer):
        return []
    edit = node_edit(source, value, _web_concurrency(value.value))
    return [_with_os(source, edit, f'int(os.environ.get("WEB_CONCURRENCY", "{value.value}"))')]


def python_log_to_stdout_fix(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    value = _expression_at(diagnostic, source)
    if isinstance(value, cst.SimpleString):
        quote = value.quote
        new: cst.BaseExpression = cst.SimpleString(f"{value.prefix}{quote}-{quote}")
    elif isinstance(value, cst.Name) and value.value == "None":
        new = cst.SimpleString('"-"')
    else:
        return []
    return [Fix('log to stdout: "-"', (node_edit(source, value, new),), safe=True)]


def python_asgi_worker_fix(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    value = _expression_at(diagnostic, source)
    if not isinstance(value, cst.SimpleString):
        return []
    new = cst.SimpleString(f"{value.prefix}{value.quote}uvicorn_worker.UvicornWorker{value.quote}")
    return [
        Fix(
            'worker_class = "uvicorn_worker.UvicornWorker" (needs the uvicorn-worker package)',
            (node_edit(source, value, new),),
            safe=False,
        )
    ]
