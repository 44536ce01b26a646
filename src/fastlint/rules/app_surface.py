"""FastAPI application-surface rules: lifecycle hooks, CORS, exposed docs, debug mode.

Every rule here starts from the same question, answered by the shared model: is this call made on
(or constructing) a FastAPI / Starlette application or router? Names are resolved through imports,
aliases, project modules, subclasses and factories (:mod:`fastlint.python.frameworks`), so an
unrelated object that happens to have an ``on_event`` method is never flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from fastlint.diagnostics import Severity
from fastlint.python.defaults import Default, unset_default
from fastlint.python.frameworks import (
    APP_CLASSES,
    CORS_MIDDLEWARE,
    MIDDLEWARE_ENTRY,
    framework_class,
    instance_class,
)
from fastlint.python.model import (
    UNKNOWN,
    CallSite,
    FunctionInfo,
    has_star_kwargs,
    keyword,
    positional,
    walk,
)
from fastlint.python.module import PythonModule
from fastlint.python.reach import Mentions, Reaches
from fastlint.python.reads import Spelling
from fastlint.python.serving import dead_instance, probe_only_app
from fastlint.registry import register
from fastlint.rules import catalog
from fastlint.rules.base import PythonRule

if TYPE_CHECKING:
    from fastlint.context import LintContext

_APPS = frozenset(APP_CLASSES.values())


def _constructed_class(unit: PythonModule, site: CallSite, ctx: LintContext) -> str | None:
    """The canonical framework class when ``site`` constructs an application or router."""
    return framework_class(ctx.project, ctx.project.resolve(unit, site.node.func, site.scope))


def _method_call(unit: PythonModule, site: CallSite, ctx: LintContext) -> tuple[str, str] | None:
    """(canonical class, method name) when ``site`` calls a method of an application or router
    instance: ``app.on_event(...)``, ``router.add_event_handler(...)``, ``app.router.on_event``."""
    func = site.node.func
    if not isinstance(func, cst.Attribute):
        return None
    owner = ctx.project.resolve(unit, func.value, site.scope)
    if owner is not None and owner.endswith("().router"):
        owner = owner[: -len(".router")]  # app.router is the application's own Router
    cls = instance_class(ctx.project, owner)
    return None if cls is None else (cls, func.attr.value)


def _short(cls: str) -> str:
    return cls.rsplit(".", 1)[-1]


# ---------------------------------------------------------------------------- FL201


# Where a lifespan goes: handlers registered on a router belong to the application's lifespan.
_APP_OF = {"starlette.Starlette": "Starlette", "starlette.Router": "Starlette"}
_EVENT_METHODS = frozenset({"on_event", "add_event_handler"})
_EVENT_KEYWORDS = ("on_startup", "on_shutdown")
_DEPRECATED_WHY = (
    "Starlette 1.0 removed it (FastAPI only keeps it deprecated), and such handlers silently "
    "stop running as soon as the app is also given a lifespan=."
)
_IGNORED_WHY = (
    "The app is created with lifespan=, so Starlette never calls on_event/on_startup handlers "
    "and whatever they set up is missing in production, with nothing logged."
)
_LIFESPAN_FIX = (
    "move the code into an @asynccontextmanager lifespan (startup before its yield, shutdown "
    "after) and pass FastAPI(lifespan=lifespan)"
)


def _constructor_with_lifespan(
    unit: PythonModule, site: CallSite, ctx: LintContext, owner: cst.BaseExpression
) -> bool:
    """Whether the application ``owner`` names was constructed with a ``lifespan=``, in this
    module (``app = FastAPI(lifespan=...)``) or in the project module it is imported from."""
    if isinstance(owner, cst.Attribute) and owner.attr.value == "router":
        owner = owner.value
    binding = site.scope.lookup(owner.value) if isinstance(owner, cst.Name) else None
    module = unit
    if binding is None or binding.kind == "import":
        path = unit.model.resolve(owner, site.scope)  # e.g. "app.core.app"
        definition = ctx.project.definition_of(path) if path else None
        if definition is None:
            return False
        module, binding = definition
    if binding.kind != "value" or not isinstance(binding.value, cst.Call) or binding.scope is None:
        return False
    call = binding.value
    cls = framework_class(ctx.project, ctx.project.resolve(module, call.func, binding.scope))
    return cls in _APPS and _passes_lifespan(call)


def _passes_lifespan(call: cst.Call) -> bool:
    lifespan = keyword(call, "lifespan")
    return lifespan is not None and not (
        isinstance(lifespan, cst.Name) and lifespan.value == "None"
    )


@register
class OnEventHandler(PythonRule):
    meta = catalog.FL201
    needs = Mentions("on_(?:event|startup|shutdown)", "add_event_handler")

    def check(self, unit: PythonModule, ctx: LintContext) -> None:
        for site in unit.model.calls:
            # Names first, resolution (which may parse other modules) only for candidates.
            func = site.node.func
            if isinstance(func, cst.Attribute) and func.attr.value in _EVENT_METHODS:
                method = _method_call(unit, site, ctx)
                if method is not None:
                    self._report_method(unit, site, ctx, method[0])
                    continue
            if not any(keyword(site.node, name) is not None for name in _EVENT_KEYWORDS):
                continue
            cls = _constructed_class(unit, site, ctx)
            if cls is not None and not dead_instance(unit, site):
                self._report_constructor(unit, site, cls)

    def _report_method(
        self, unit: PythonModule, site: CallSite, ctx: LintContext, cls: str
    ) -> None:
        func = site.node.func
        assert isinstance(func, cst.Attribute)
        event = positional(site.node, 0)
        event_name = unit.model.literal(event, site.scope) if event is not None else UNKNOWN
        what = f"a '{event_name}' handler" if isinstance(event_name, str) else "an event handler"
        registers = f"{unit.code(func)}() registers {what}"
        if cls in _APPS and _constructor_with_lifespan(unit, site, ctx, func.value):
            self.report(
                unit,
                site.node,
                f"{registers} that never runs. {_IGNORED_WHY} "
                "Move the code into the lifespan function (startup before its yield, shutdown "
                "after it).",
                severity=Severity.ERROR,
                fix="move the code into the app's lifespan function",
            )
            return
        self.report(
            unit,
            site.node,
            f"{registers} with the deprecated event API. {_DEPRECATED_WHY} Move the code into a "
            "lifespan context manager (startup before its yield, shutdown after) and pass "
            f"{_APP_OF.get(cls, 'FastAPI')}(lifespan=lifespan).",
            fix=_LIFESPAN_FIX,
        )

    def _report_constructor(self, unit: PythonModule, site: CallSite, cls: str) -> None:
        ignored = cls in _APPS and _passes_lifespan(site.node)
        for name in _EVENT_KEYWORDS:
            value = keyword(site.node, name)
            if value is None or unit.model.literal(value, site.scope) in (None, [], ()):
                continue  # nothing registered: on_startup=None / on_startup=[]
            if ignored and cls == "starlette.Starlette":
                self.report(
                    unit,
                    value,
                    f"Starlette(lifespan=..., {name}=...) fails at import: Starlette asserts that "
                    "an app uses either lifespan or on_startup/on_shutdown, never both. The "
                    "service crashes before serving a request (and under python -O the handlers "
                    "are silently ignored). Call them from the lifespan function instead.",
                    severity=Severity.ERROR,
                    fix="move the code into the app's lifespan function",
                )
                continue
            if ignored:
                self.report(
                    unit,
                    value,
                    f"{_short(cls)}({name}=...) handlers never run. {_IGNORED_WHY} Call them from "
                    "the lifespan function instead (startup before its yield, shutdown after it).",
                    severity=Severity.ERROR,
                    fix="move the code into the app's lifespan function",
                )
                continue
            self.report(
                unit,
                value,
                f"{_short(cls)}({name}=...) registers handlers with the deprecated event API. "
                f"{_DEPRECATED_WHY} Move them into a lifespan context manager (startup before its "
                f"yield, shutdown after) and pass {_short(cls)}(lifespan=lifespan).",
                fix=_LIFESPAN_FIX,
            )


# ---------------------------------------------------------------------------- FL401


_CORS_FIX = "allow_origins=settings.cors_origins (explicit https://app.example.com entries)"
# Origins no sane allow-list admits: a regex that fully matches them admits any website.
_PROBE_ORIGINS = ("https://attacker.invalid", "http://evil-site.test:8080")


def _cors_options(unit: PythonModule, site: CallSite, ctx: LintContext) -> cst.Call | None:
    """The call carrying CORSMiddleware's options, when ``site`` configures CORSMiddleware:
    ``app.add_middleware(CORSMiddleware, ...)``, ``Middleware(CORSMiddleware, ...)`` or
    ``CORSMiddleware(app, ...)`` (wrapping an ASGI app by hand)."""
    call = site.node
    resolved = ctx.project.resolve(unit, call.func, site.scope)
    if resolved in CORS_MIDDLEWARE:
        return call
    # Any receiver's add_middleware(): the CORSMiddleware class itself is the strong signal
    # (``def setup(app): app.add_middleware(CORSMiddleware, ...)`` leaves ``app`` untyped).
    func = call.func
    adds_middleware = isinstance(func, cst.Attribute) and func.attr.value == "add_middleware"
    if adds_middleware or resolved in MIDDLEWARE_ENTRY:
        first = positional(call, 0) or keyword(call, "middleware_class") or keyword(call, "cls")
        if first is not None and ctx.project.resolve(unit, first, site.scope) in CORS_MIDDLEWARE:
            return call
    return None


def _origin_strings(
    unit: PythonModule, site: CallSite, ctx: LintContext, expr: cst.BaseExpression
) -> Iterator[tuple[cst.BaseExpression, str]]:
    """(node to report, origin) for each origin known statically; dynamic values yield nothing.

    Elements of a list written in the call are reported on themselves; a constant is reported on
    the argument that names it.
    """
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        for element in expr.elements:
            if isinstance(element, cst.Element):
                value = ctx.project.literal(unit, element.value, site.scope)
                if isinstance(value, str):
                    yield element.value, value
        return
    value = ctx.project.literal(unit, expr, site.scope)
    if isinstance(value, str):
        yield expr, value  # a bare "*" is a sequence containing "*" to Starlette
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, str):
                yield expr, item


def _echoed_origin(unit: PythonModule, function: FunctionInfo) -> cst.CSTNode | None:
    """The value assigned to ``headers["Access-Control-Allow-Origin"]`` in a function that
    also sets ``Access-Control-Allow-Credentials: true``, when the value is the request's
    Origin header and the function never compares it with anything (no allow-list)."""
    if function.is_lambda:
        return None
    headers = {
        key: value
        for key, value in _header_assignments(function.node.body)
        if key in ("access-control-allow-origin", "access-control-allow-credentials")
    }
    origin = headers.get("access-control-allow-origin")
    credentials = headers.get("access-control-allow-credentials")
    if origin is None or credentials is None:
        return None
    if unit.model.literal(credentials, function.scope) not in ("true", True):
        return None
    source = origin
    if isinstance(origin, cst.Name):
        binding = function.scope.lookup(origin.value)
        if binding is None or binding.kind != "value" or binding.value is None:
            return None
        source = binding.value
    text = unit.code(source).lower()
    if "origin" not in text or "headers" not in text or _compares_origin(function, origin):
        return None
    return origin


def _header_assignments(body: cst.CSTNode) -> Iterator[tuple[str, cst.BaseExpression]]:
    for node in walk(body, lambda node: isinstance(node, cst.Assign), into_expressions=False):
        assert isinstance(node, cst.Assign)
        for target in node.targets:
            item = target.target
            if isinstance(item, cst.Subscript) and len(item.slice) == 1:
                index = item.slice[0].slice
                if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
                    key = index.value.evaluated_value
                    if isinstance(key, str):
                        yield key.lower(), node.value


def _compares_origin(function: FunctionInfo, origin: cst.BaseExpression) -> bool:
    """Whether the function compares the echoed value (``origin in ALLOWED``, ``==``)."""
    name = origin.value if isinstance(origin, cst.Name) else None
    for node in walk(function.node.body, lambda node: isinstance(node, cst.Comparison)):
        assert isinstance(node, cst.Comparison)
        left = node.left
        if name is not None and isinstance(left, cst.Name) and left.value == name:
            return True
        if name is None:
            return True  # something is compared: give the benefit of the doubt
    return False


def _unset(
    unit: PythonModule, site: CallSite, ctx: LintContext, expr: cst.BaseExpression
) -> Default | None:
    """What ``expr`` is when the variable or setting it reads is unset (None: not such a read)."""
    if ctx.project.literal(unit, expr, site.scope) is not UNKNOWN:
        return None  # a literal: reported as such
    return unset_default(ctx.project, unit, expr, site.scope)


def _default_is(
    unit: PythonModule, site: CallSite, ctx: LintContext, expr: cst.BaseExpression, value: object
) -> bool:
    default = _unset(unit, site, ctx, expr)
    return default is not None and default.value is value


def _admits_any(origins: object) -> bool:
    if isinstance(origins, str):
        return origins == "*" or "*" in [item.strip() for item in origins.split(",")]
    return isinstance(origins, (list, tuple)) and "*" in origins


def _matches_any_origin(pattern: str) -> bool:
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    return all(compiled.fullmatch(origin) for origin in _PROBE_ORIGINS)


def _glob_as_regex(origin: str) -> str:
    return re.escape(origin).replace(r"\*", "[a-z0-9-]+")


@register
class CorsWildcard(PythonRule):
    meta = catalog.FL401
    # allow_origins= or allow_origin_regex=, or the header written by hand
    needs = Mentions("allow_origin", "Access-Control-Allow-Origin", "access-control-allow-origin")

    def check(self, unit: PythonModule, ctx: LintContext) -> None:
        for site in unit.model.calls:
            options = _cors_options(unit, site, ctx)
            if options is not None:
                self._check_options(unit, site, ctx, options)
        for function in unit.model.functions:
            echoed = _echoed_origin(unit, function)
            if echoed is not None:
                self.report(
                    unit,
                    echoed,
                    "This middleware copies the request's Origin into "
                    "Access-Control-Allow-Origin and sends Access-Control-Allow-Credentials: "
                    "true, which admits every origin with credentials: any web page a signed-in "
                    "user visits can call this API with their cookies and read the responses. "
                    "Echo the Origin only when it is in an allow-list, or use CORSMiddleware "
                    "with explicit allow_origins.",
                    severity=Severity.ERROR,
                    fix="if origin in settings.cors_origins: set the header",
                )

    def _check_options(
        self, unit: PythonModule, site: CallSite, ctx: LintContext, options: cst.Call
    ) -> None:
        credentials_arg = keyword(options, "allow_credentials")
        credentials = credentials_arg is not None and (
            ctx.project.literal(unit, credentials_arg, site.scope) is True
            or _default_is(unit, site, ctx, credentials_arg, True)
        )
        origins = keyword(options, "allow_origins")
        default = None if origins is None else _unset(unit, site, ctx, origins)
        if default is not None and _admits_any(default.value):
            assert origins is not None
            self._report_any_origin(
                unit,
                origins,
                f"When {default.variable} is unset, allow_origins is {default.value!r}, which "
                "admits every origin",
                credentials,
                lower=True,
            )
        elif origins is not None:
            wildcard_reported = False
            for node, origin in _origin_strings(unit, site, ctx, origins):
                if origin == "*" and not wildcard_reported:
                    wildcard_reported = True
                    self._report_any_origin(
                        unit, node, "allow_origins=['*'] admits every origin", credentials
                    )
                elif "*" in origin and origin != "*":
                    self._report_glob(unit, node, origin)
        regex = keyword(options, "allow_origin_regex")
        if regex is not None:
            pattern = ctx.project.literal(unit, regex, site.scope)
            if isinstance(pattern, str) and _matches_any_origin(pattern):
                self._report_any_origin(
                    unit, regex, f"allow_origin_regex={pattern!r} matches every origin", credentials
                )

    def _report_any_origin(
        self,
        unit: PythonModule,
        node: cst.CSTNode,
        what: str,
        credentials: bool,
        lower: bool = False,
    ) -> None:
        """``lower``: the wildcard is a default (a variable left unset), one severity lower."""
        if credentials:
            self.report(
                unit,
                node,
                f"{what}, and allow_credentials=True makes Starlette echo that Origin back with "
                "Access-Control-Allow-Credentials. Any web page a signed-in user visits can then "
                "call this API with their cookies and read the authenticated responses. "
                "List the exact front-end origins, from settings, in allow_origins"
                + (" (with no wildcard default)." if lower else "."),
                severity=Severity.WARNING if lower else Severity.ERROR,
                fix=_CORS_FIX,
            )
            return
        self.report(
            unit,
            node,
            f"{what}: any website can read this API's responses from a visitor's browser, "
            "and the day someone adds allow_credentials=True it becomes an account-takeover hole. "
            "List the front-end origins that need access (from settings); keep a wildcard only "
            "for a deliberately public API.",
            severity=Severity.INFO if lower else Severity.WARNING,
            fix=_CORS_FIX,
        )

    def _report_glob(self, unit: PythonModule, node: cst.CSTNode, origin: str) -> None:
        regex = _glob_as_regex(origin)
        self.report(
            unit,
            node,
            f"{origin!r} in allow_origins is compared literally, not as a pattern. "
            "No browser ever sends that Origin, so requests from those front ends fail with CORS "
            f"errors in production. Use allow_origin_regex=r'{regex}' instead.",
            severity=Severity.WARNING,
            fix=f"allow_origin_regex=r'{regex}'",
        )


# ---------------------------------------------------------------------------- FL402


@register
class DocsExposed(PythonRule):
    meta = catalog.FL402
    # FastAPI itself, through any chain of project imports (an alias re-exported by a module)
    needs = Reaches(Spelling("fastapi-class", "FastAPI"))

    def check(self, unit: PythonModule, ctx: LintContext) -> None:
        for site in unit.model.calls:
            resolved = ctx.project.resolve(unit, site.node.func, site.scope)
            if not _plain_fastapi(ctx, resolved):
                continue
            if has_star_kwargs(site.node):
                continue  # FastAPI(**config): the options are built elsewhere
            if dead_instance(unit, site) or probe_only_app(ctx.project, unit, site):
                continue  # never served, or its schema holds nothing but a health probe
            openapi_url = keyword(site.node, "openapi_url")
            if openapi_url is None:
                what = (
                    "FastAPI() serves its OpenAPI schema at /openapi.json in every environment "
                    "(docs_url=None and redoc_url=None do not turn that off)."
                )
                self._report(unit, site.node.func, what)
                continue
            value = ctx.project.literal(unit, openapi_url, site.scope)
            if isinstance(value, str) and value:
                what = f"openapi_url={value!r} serves the OpenAPI schema in every environment."
                self._report(unit, openapi_url, what)
            elif _always_text(openapi_url):
                what = (
                    f"openapi_url={unit.code(openapi_url)} always has text in it, so it is never "
                    "None: the OpenAPI schema is served in every environment."
                )
                self._report(unit, openapi_url, what)
            else:
                default = _unset(unit, site, ctx, openapi_url)
                if default is not None and isinstance(default.value, str) and default.value:
                    what = (
                        f"When {default.variable} is unset, openapi_url is {default.value!r} and "
                        "the OpenAPI schema is served."
                    )
                    self._report(unit, openapi_url, what, Severity.INFO)

    def _report(
        self,
        unit: PythonModule,
        node: cst.CSTNode,
        what: str,
        severity: Severity | None = None,
    ) -> None:
        self.report(
            unit,
            node,
            f"{what} The schema maps every route, parameter and model, including internal and "
            "admin endpoints, for anyone probing production. "
            "Drive it from settings: "
            "openapi_url='/openapi.json' if settings.expose_docs else None.",
            severity=severity,
            fix="openapi_url='/openapi.json' if settings.expose_docs else None",
        )


def _plain_fastapi(ctx: LintContext, path: str | None) -> bool:
    """FastAPI itself, or a project subclass that keeps FastAPI's constructor (one that
    defines ``__init__`` may set its own openapi_url default). Asked only for paths spelt like
    a class, and answered by path, so another module is parsed only for a FastAPI subclass."""
    if APP_CLASSES.get(path or "") == "fastapi.FastAPI":
        return True
    if path is None or not path.rpartition(".")[2].lstrip("_")[:1].isupper():
        return False  # not spelt like a class: no need to ask (42k calls on a large project)
    if framework_class(ctx.project, path) != "fastapi.FastAPI":
        return False
    class_info = ctx.project.class_at(path)
    if class_info is None:
        return False
    init = ctx.project.method_of(class_info, "__init__")
    return init is None


def _always_text(expr: cst.BaseExpression) -> bool:
    """An f-string or a concatenation with literal text: never None, never empty."""
    if isinstance(expr, cst.FormattedString):
        return any(isinstance(part, cst.FormattedStringText) and part.value for part in expr.parts)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return any(
            (isinstance(side, cst.SimpleString) and side.evaluated_value) or _always_text(side)
            for side in (expr.left, expr.right)
        )
    return isinstance(expr, cst.ConcatenatedString)


# ---------------------------------------------------------------------------- FL403


@register
class DebugEnabled(PythonRule):
    meta = catalog.FL403
    needs = Mentions("debug")

    def check(self, unit: PythonModule, ctx: LintContext) -> None:
        for site in unit.model.calls:
            debug = keyword(site.node, "debug")
            if debug is None:
                continue  # a name test first: resolving may parse other modules
            cls = _constructed_class(unit, site, ctx)
            if cls not in _APPS or dead_instance(unit, site):
                continue
            default = _unset(unit, site, ctx, debug)
            if default is not None and default.value is True:
                self.report(
                    unit,
                    debug,
                    f"When {default.variable} is unset, {_short(cls)}(debug=...) is True and "
                    "answers every unhandled exception with the full traceback: file paths, "
                    "source lines and exception messages for any client that triggers an error. "
                    "Make the default False and turn debug on explicitly for local runs.",
                    severity=Severity.INFO,
                    fix="default the setting to False",
                )
            elif ctx.project.literal(unit, debug, site.scope) is True:
                shown = unit.code(debug)
                value = "" if shown == "True" else f" ({shown} is True)"
                self.report(
                    unit,
                    debug,
                    f"{_short(cls)}(debug={shown}){value} answers every unhandled exception with "
                    "the full traceback. Any client that triggers an error reads file paths, "
                    "source lines and exception messages (often with queries, URLs or secrets). "
                    "Leave debug off in production and drive it from settings for local runs.",
                    fix="remove debug=True or set it from an environment-driven setting",
                )
