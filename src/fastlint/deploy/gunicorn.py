"""Read a Gunicorn config file statically, and evaluate server settings written in Python.

A ``gunicorn.conf.py`` is Python that Gunicorn executes; fastlint never does. The engine already
parsed it with the Python front end (a :class:`~fastlint.python.module.PythonModule`); this module
walks its top-level assignments in order and evaluates each value with :func:`evaluate`, which
understands literals, names assigned earlier, ``os.environ.get`` / ``os.getenv`` /
``os.environ[...]`` (with defaults), ``int()`` / ``float()`` / ``str()``, ``min`` / ``max``,
arithmetic and the CPU count functions. Anything else is UNKNOWN, and rules stay silent on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import libcst as cst

from fastlint.deploy.facts import Setting, Site
from fastlint.python.model import UNKNOWN, Scope
from fastlint.python.module import PythonModule

if TYPE_CHECKING:
    from fastlint.python.project import Project

CPU_COUNT_FUNCTIONS = frozenset(
    {
        "multiprocessing.cpu_count",
        "os.cpu_count",
        "os.process_cpu_count",
        "psutil.cpu_count",
    }
)
_GETENV = frozenset({"os.getenv", "os.environ.get"})
_ENVIRON = "os.environ"
_CONVERSIONS = {"builtins.int": int, "builtins.float": float, "builtins.str": str}


@dataclass(frozen=True)
class Value:
    """An evaluated expression and what it was computed from (see :class:`Setting`)."""

    value: Any
    cpu: bool = False
    cpu_fallback: bool = False
    variables: tuple[str, ...] = ()
    cpu_site: Site | None = None  # the CPU count call it comes from (maybe in another module)
    cpu_chain: tuple[str, ...] = ()  # the names it travelled through from that call, in order

    def with_value(self, value: Any) -> Value:
        return replace(self, value=value)

    def as_fallback(self, variable: str) -> Value:
        """This value used only when ``variable`` is unset."""
        return replace(
            self,
            cpu=False,
            cpu_fallback=self.cpu or self.cpu_fallback,
            variables=(variable, *self.variables),
        )

    def through(self, name: str) -> Value:
        """This value read through the name ``name`` (a step of its CPU count's chain)."""
        if self.cpu_site is None or name in self.cpu_chain:
            return self
        return replace(self, cpu_chain=(*self.cpu_chain, name))


def _merge(value: Any, *parts: Value) -> Value:
    variables: list[str] = []
    for part in parts:
        variables.extend(name for name in part.variables if name not in variables)
    # The chain reported is the first CPU count's: a decided count before a possible one.
    origin = next((p for p in parts if p.cpu), None) or next(
        (p for p in parts if p.cpu_fallback), None
    )
    return Value(
        value,
        cpu=any(part.cpu for part in parts),
        cpu_fallback=any(part.cpu_fallback for part in parts),
        variables=tuple(variables),
        cpu_site=None if origin is None else origin.cpu_site,
        cpu_chain=() if origin is None else origin.cpu_chain,
    )


@dataclass
class Evaluator:
    """Evaluates expressions of one module against a known environment and CPU count."""

    module: PythonModule
    env: Mapping[str, str | None]
    cpus: int
    project: Project | None = None  # to follow names imported from the project's modules
    names: dict[str, Value] = field(default_factory=dict)  # module-level names, in order
    _depth: int = 0

    def evaluate(self, expr: cst.BaseExpression, scope: Scope | None = None) -> Value:
        scope = scope or self.module.model.scope
        if self._depth > 30:
            return Value(UNKNOWN)
        self._depth += 1
        try:
            return self._evaluate(expr, scope)
        finally:
            self._depth -= 1

    def _evaluate(self, expr: cst.BaseExpression, scope: Scope) -> Value:
        model = self.module.model
        if isinstance(expr, cst.Name):
            if scope is model.scope and expr.value in self.names:
                return self.names[expr.value].through(expr.value)
            binding = scope.lookup(expr.value)
            if binding is not None and binding.kind == "value" and binding.value is not None:
                return self.evaluate(binding.value, binding.scope).through(expr.value)
            if binding is not None and binding.kind == "import" and binding.path is not None:
                imported = self._imported(binding.path)
                if imported is not None:
                    return imported.through(expr.value)
            return Value(model.literal(expr, scope))
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
            inner = self.evaluate(expr.expression, scope)
            number = inner.value
            ok = isinstance(number, (int, float)) and not isinstance(number, bool)
            return inner.with_value(-number if ok else UNKNOWN)
        if isinstance(expr, cst.BinaryOperation):
            return self._binary(expr, scope)
        if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or):
            return self._or(expr, scope)
        if isinstance(expr, cst.IfExp):
            # Chosen at run time: a CPU count in either branch is only a possibility.
            body, orelse = self.evaluate(expr.body, scope), self.evaluate(expr.orelse, scope)
            merged = _merge(UNKNOWN, body, orelse)
            return replace(merged, cpu=False, cpu_fallback=merged.cpu or merged.cpu_fallback)
        if isinstance(expr, cst.Call):
            return self._call(expr, scope)
        if isinstance(expr, cst.Subscript):
            return self._subscript(expr, scope)
        if isinstance(expr, cst.Attribute):
            path = model.resolve(expr, scope)
            if path is None or path.endswith("()"):
                return Value(UNKNOWN)
            imported = self._imported(path)  # ``config.WORKERS`` of a project module
            return Value(path) if imported is None else imported.through(self.module.code(expr))
        return Value(model.literal(expr, scope))

    def _imported(self, path: str) -> Value | None:
        """The value of a module-level name of another project module (``from app.config
        import WORKERS``), evaluated there; None when it is not a plain assignment."""
        found = None if self.project is None else self.project.definition_of(path)
        if found is None:
            return None
        module, binding = found
        if module is self.module or binding.kind != "value" or binding.value is None:
            return None
        other = Evaluator(module, self.env, self.cpus, self.project, _depth=self._depth)
        return other.evaluate(binding.value, binding.scope)

    def _binary(self, expr: cst.BinaryOperation, scope: Scope) -> Value:
        left, right = self.evaluate(expr.left, scope), self.evaluate(expr.right, scope)
        a, b = left.value, right.value
        result: Any = UNKNOWN
        numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
        operator = type(expr.operator)
        try:
            if numbers:
                if operator is cst.Add:
                    result = a + b
                elif operator is cst.Subtract:
                    result = a - b
                elif operator is cst.Multiply:
                    result = a * b
                elif operator is cst.FloorDivide and b:
                    result = a // b
                elif operator is cst.Divide and b:
                    result = a / b
                elif operator is cst.Modulo and b:
                    result = a % b
            elif operator is cst.Add and isinstance(a, str) and isinstance(b, str):
                result = a + b
        except (ArithmeticError, ValueError):
            result = UNKNOWN
        return _merge(result, left, right)

    def _or(self, expr: cst.BooleanOperation, scope: Scope) -> Value:
        left, right = self.evaluate(expr.left, scope), self.evaluate(expr.right, scope)
        if left.value is UNKNOWN and left.variables:
            # ``os.getenv("WEB_CONCURRENCY") or cpu_count()``: the right side is the fallback.
            fallback = right
            for name in reversed(left.variables):
                fallback = fallback.as_fallback(name)
            return replace(fallback, value=UNKNOWN)
        if left.value is UNKNOWN:
            return _merge(UNKNOWN, left, right)
        return left if left.value else _merge(right.value, left, right)

    def _subscript(self, expr: cst.Subscript, scope: Scope) -> Value:
        if self.module.model.resolve(expr.value, scope) != _ENVIRON or len(expr.slice) != 1:
            return Value(UNKNOWN)
        index = expr.slice[0].slice
        if not isinstance(index, cst.Index):
            return Value(UNKNOWN)
        name = self.evaluate(index.value, scope).value
        return self._environment(name, None)

    def _environment(self, name: Any, default: Value | None) -> Value:
        if not isinstance(name, str):
            return Value(UNKNOWN)
        if name in self.env:
            value = self.env[name]
            return Value(UNKNOWN if value is None else value, variables=(name,))
        if default is None:
            return Value(UNKNOWN, variables=(name,))
        return default.as_fallback(name)

    def _call(self, call: cst.Call, scope: Scope) -> Value:
        model = self.module.model
        path = model.resolve(call.func, scope)
        args = [arg for arg in call.args if arg.keyword is None and not arg.star]
        if path in CPU_COUNT_FUNCTIONS:
            return self._cpu_count(call)
        if path == "builtins.len" and len(args) == 1 and isinstance(args[0].value, cst.Call):
            measured = model.resolve(args[0].value.func, scope)
            if measured == "os.sched_getaffinity":
                return self._cpu_count(call)
        if path in _GETENV and args:
            name = self.evaluate(args[0].value, scope).value
            default = self.evaluate(args[1].value, scope) if len(args) > 1 else None
            return self._environment(name, default)
        if path in _CONVERSIONS and len(args) == 1:
            inner = self.evaluate(args[0].value, scope)
            return inner.with_value(_convert(_CONVERSIONS[path], inner.value))
        if _is_builtin(call.func, scope, ("min", "max")) and args:
            values = [self.evaluate(arg.value, scope) for arg in args]
            numbers = [v.value for v in values]
            known = all(isinstance(n, (int, float)) for n in numbers)
            pick = min if getattr(call.func, "value", "") == "min" else max
            return _merge(pick(numbers) if known else UNKNOWN, *values)
        if path in ("math.ceil", "math.floor") and len(args) == 1:
            inner = self.evaluate(args[0].value, scope)
            number = inner.value
            if isinstance(number, (int, float)) and not isinstance(number, bool):
                return inner.with_value(
                    int(-(-number // 1)) if path == "math.ceil" else int(number // 1)
                )
            return inner.with_value(UNKNOWN)
        # Any other call: its value is unknown, but what it is computed from still counts.
        parts = [self.evaluate(arg.value, scope) for arg in call.args]
        return _merge(UNKNOWN, *parts) if parts else Value(UNKNOWN)

    def _cpu_count(self, call: cst.Call) -> Value:
        site = Site(self.module.path, module=self.module, node=call)
        return Value(self.cpus, cpu=True, cpu_site=site)


def _is_builtin(func: cst.BaseExpression, scope: Scope, names: tuple[str, ...]) -> bool:
    return isinstance(func, cst.Name) and func.value in names and scope.lookup(func.value) is None


def _convert(kind: type, value: Any) -> Any:
    if value is UNKNOWN or value is None:
        return UNKNOWN
    try:
        if kind is int and isinstance(value, str):
            return int(value.strip())
        return kind(value)
    except (TypeError, ValueError):
        return UNKNOWN


# ---------------------------------------------------------------------------- config files


@dataclass
class GunicornConfig:
    """The settings a Gunicorn config file assigns at module level, in order."""

    module: PythonModule
    settings: dict[str, Setting] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return self.module.path

    def get(self, name: str) -> Setting | None:
        return self.settings.get(name)


def read_config(
    module: PythonModule,
    env: Mapping[str, str | None],
    cpus: int,
    project: Project | None = None,
) -> GunicornConfig:
    """Evaluate the module-level assignments of a Gunicorn config (never executing it)."""
    config = GunicornConfig(module)
    evaluator = Evaluator(module, env, cpus, project)
    source = module.path.rsplit("/", 1)[-1]
    for statement in module.tree.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                _assign(config, evaluator, small, source)
        elif not isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            _assign_at_run_time(config, evaluator, statement, source)
    return config


def _assign_at_run_time(
    config: GunicornConfig, evaluator: Evaluator, statement: cst.CSTNode, source: str
) -> None:
    """Assignments inside if/try/with/for: which one runs is decided at run time, so the value
    is unknown; a CPU count in any branch is kept as a possibility (``cpu_fallback``)."""
    module = config.module
    assigned: set[str] = set()
    shown: dict[str, cst.CSTNode] = {}  # per name: the assignment that uses the CPU count
    for node in _assignments_in(statement):
        value_node = getattr(node, "value", None)
        value = evaluator.evaluate(value_node) if value_node is not None else Value(UNKNOWN)
        for target in _targets(node):
            name = target.value
            parts = [value, evaluator.names[name]] if name in assigned else [value]
            merged = _merge(UNKNOWN, *parts)
            merged = replace(merged, cpu=False, cpu_fallback=merged.cpu or merged.cpu_fallback)
            evaluator.names[name] = merged
            assigned.add(name)
            if value.cpu or name not in shown:
                shown[name] = node
            config.settings[name] = Setting(
                name,
                UNKNOWN,
                Site(module.path, module=module, node=shown[name]),
                source,
                text=module.code(shown[name]).strip(),
                cpu_fallback=merged.cpu_fallback,
                variables=merged.variables,
                cpu_site=merged.cpu_site,
                cpu_chain=merged.cpu_chain,
            )


def _assign(
    config: GunicornConfig, evaluator: Evaluator, small: cst.BaseSmallStatement, source: str
) -> None:
    module = config.module
    value_node: cst.BaseExpression | None = None
    if isinstance(small, (cst.Assign, cst.AnnAssign)):
        value_node = small.value
    elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
        operation = cst.BinaryOperation(
            left=small.target,
            operator=_AUG_OPERATORS.get(type(small.operator), cst.Add)(),
            right=small.value,
        )
        value_node = operation
    if value_node is None:
        return
    value = evaluator.evaluate(value_node)
    for target in _targets(small):
        evaluator.names[target.value] = value
        shown = small.value if isinstance(small, (cst.Assign, cst.AugAssign)) else value_node
        config.settings[target.value] = Setting(
            name=target.value,
            value=value.value,
            site=Site(module.path, module=module, node=shown if shown is not None else target),
            source=source,
            text=module.code(shown) if shown is not None else "",
            cpu=value.cpu,
            cpu_fallback=value.cpu_fallback,
            variables=value.variables,
            cpu_site=value.cpu_site,
            cpu_chain=value.cpu_chain,
        )


_AUG_OPERATORS: dict[type, type] = {
    cst.AddAssign: cst.Add,
    cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply,
    cst.FloorDivideAssign: cst.FloorDivide,
}


def _targets(node: cst.CSTNode) -> list[cst.Name]:
    if isinstance(node, cst.Assign):
        return [t.target for t in node.targets if isinstance(t.target, cst.Name)]
    if isinstance(node, (cst.AnnAssign, cst.AugAssign)) and isinstance(node.target, cst.Name):
        return [node.target]
    return []


def _assignments_in(statement: cst.CSTNode) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []

    class _Collector(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_Assign(self, node: cst.Assign) -> None:
            found.append(node)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            found.append(node)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            found.append(node)

    statement.visit(_Collector())
    return found
