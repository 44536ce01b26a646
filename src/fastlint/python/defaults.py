"""What a value read from the environment or a settings class is when nobody sets it.

A value from ``os.getenv`` or a ``BaseSettings`` field is dynamic, and rules stay quiet about it;
but its *default* is what production runs the day the variable is forgotten. :func:`unset_default`
evaluates an expression under that assumption: ``os.getenv("CORS_ORIGINS", "*").split(",")``
is ``["*"]`` when ``CORS_ORIGINS`` is unset, ``os.environ.get("DEBUG") or True`` is ``True``,
``settings.debug`` is the field's default. A variable with no default (``os.environ["X"]``, a
required field) gives None: there is no unsafe value to report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastlint.python.model import UNKNOWN, keyword, positional

if TYPE_CHECKING:
    from fastlint.python.model import ClassInfo, Scope
    from fastlint.python.module import PythonModule
    from fastlint.python.project import Project


@dataclass(frozen=True)
class Default:
    """``value``: what the expression is when ``variable`` (an environment variable or a
    settings field, as users set it: ``CORS_ORIGINS``) is unset."""

    value: object
    variable: str


_GETENV = frozenset({"os.getenv", "os.environ.get"})
_SETTINGS_BASES = (
    "pydantic_settings.BaseSettings",
    "pydantic_settings.main.BaseSettings",
    "pydantic.BaseSettings",
    "pydantic.v1.BaseSettings",
)
_STRING_METHODS = frozenset({"lower", "upper", "strip", "casefold"})
_MAX_DEPTH = 8


def unset_default(
    project: Project, module: PythonModule, expr: cst.BaseExpression, scope: Scope
) -> Default | None:
    """What ``expr`` is when the environment variable or setting it reads is unset; None
    when it reads none, has no default, or the default is not a literal."""
    return _default(project, module, expr, scope, 0)


def _default(
    project: Project, module: PythonModule, expr: cst.BaseExpression, scope: Scope, depth: int
) -> Default | None:
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, cst.Name):
        return _through_name(project, module, expr.value, scope, depth)
    if isinstance(expr, cst.Call):
        return _call_default(project, module, expr, scope, depth)
    if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or):
        return _or_default(project, module, expr, scope, depth)
    if isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1:
        return _comparison_default(project, module, expr, scope, depth)
    if isinstance(expr, cst.Attribute):
        return _settings_field(project, module, expr, scope)
    return None


def _through_name(
    project: Project, module: PythonModule, name: str, scope: Scope, depth: int
) -> Default | None:
    binding = scope.lookup(name)
    if binding is None:
        return None
    if binding.kind == "value" and binding.value is not None and binding.scope is not None:
        return _default(project, module, binding.value, binding.scope, depth + 1)
    if binding.kind == "import" and binding.path is not None:
        definition = project.definition_of(binding.path)
        if definition is None:
            return None
        target, found = definition
        if found.kind == "value" and found.value is not None and found.scope is not None:
            return _default(project, target, found.value, found.scope, depth + 1)
    return None


def _call_default(
    project: Project, module: PythonModule, call: cst.Call, scope: Scope, depth: int
) -> Default | None:
    path = project.resolve(module, call.func, scope)
    if path in _GETENV:
        variable = _literal(project, module, positional(call, 0), scope)
        fallback = positional(call, 1) or keyword(call, "default")
        if not isinstance(variable, str) or fallback is None:
            return None
        value = _literal(project, module, fallback, scope)
        return None if value is UNKNOWN else Default(value, variable)
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    inner = _default(project, module, func.value, scope, depth + 1)
    if inner is None or not isinstance(inner.value, str):
        return None
    method = func.attr.value
    if method in _STRING_METHODS and not call.args:
        return Default(getattr(inner.value, method)(), inner.variable)
    if method == "split":
        separator = _literal(project, module, positional(call, 0), scope) if call.args else None
        if separator is None or isinstance(separator, str):
            return Default(inner.value.split(separator), inner.variable)
    return None


def _or_default(
    project: Project, module: PythonModule, expr: cst.BooleanOperation, scope: Scope, depth: int
) -> Default | None:
    """``os.environ.get("DEBUG") or True``: the right side when the variable is unset."""
    left = expr.left
    variable: str | None = None
    if isinstance(left, cst.Call) and project.resolve(module, left.func, scope) in _GETENV:
        name = _literal(project, module, positional(left, 0), scope)
        fallback = positional(left, 1) or keyword(left, "default")
        fallback_value = None if fallback is None else _literal(project, module, fallback, scope)
        if isinstance(name, str) and not fallback_value:
            variable = name
    if variable is None:
        inner = _default(project, module, left, scope, depth + 1)
        if inner is None or inner.value:
            return inner
        variable = inner.variable
    value = _literal(project, module, expr.right, scope)
    return None if value is UNKNOWN else Default(value, variable)


def _comparison_default(
    project: Project, module: PythonModule, expr: cst.Comparison, scope: Scope, depth: int
) -> Default | None:
    """``os.getenv("DEBUG", "true").lower() == "true"`` (also ``!=``, ``in``, ``not in``)."""
    inner = _default(project, module, expr.left, scope, depth + 1)
    if inner is None:
        return None
    target = expr.comparisons[0]
    other = _literal(project, module, target.comparator, scope)
    if other is UNKNOWN:
        return None
    operator = target.operator
    try:
        if isinstance(operator, cst.Equal):
            return Default(inner.value == other, inner.variable)
        if isinstance(operator, cst.NotEqual):
            return Default(inner.value != other, inner.variable)
        if isinstance(operator, cst.In) and isinstance(other, (list, tuple, str)):
            return Default(inner.value in other, inner.variable)
        if isinstance(operator, cst.NotIn) and isinstance(other, (list, tuple, str)):
            return Default(inner.value not in other, inner.variable)
    except TypeError:
        return None
    return None


def _literal(
    project: Project, module: PythonModule, expr: cst.BaseExpression | None, scope: Scope
) -> object:
    return UNKNOWN if expr is None else project.literal(module, expr, scope)


# ---------------------------------------------------------------------------- settings classes


def _settings_field(
    project: Project, module: PythonModule, expr: cst.Attribute, scope: Scope
) -> Default | None:
    """``settings.cors_origins`` where ``settings`` is a ``BaseSettings`` subclass instance
    (``Settings()``, or what a ``get_settings()`` factory returns) and the field has a literal
    default."""
    owner = project.resolve(module, expr.value, scope)
    if owner is None or not owner.endswith("()"):
        return None
    class_info = _settings_class(project, owner[:-2])
    if class_info is None:
        return None
    return _field_default(project, class_info, expr.attr.value, 0)


def _settings_class(project: Project, path: str) -> ClassInfo | None:
    class_info = project.class_at(path)
    if class_info is None:
        function = project.function_at(path)  # a factory: get_settings() -> Settings
        if function is None or function.return_annotation is None:
            return None
        module = project.module_of(function)
        annotation = function.return_annotation
        resolved = (
            None if module is None else project.resolve(module, annotation, function.outer_scope)
        )
        class_info = None if resolved is None else project.class_at(resolved)
        if class_info is None:
            return None
    if any(project.subclasses_path(class_info, base) for base in _SETTINGS_BASES):
        return class_info
    return None


def _field_default(
    project: Project, class_info: ClassInfo, name: str, depth: int
) -> Default | None:
    module = project.module_of_path(class_info.path)
    if module is None or depth > 5:
        return None
    body = class_info.node.body
    for statement in body.body if isinstance(body, cst.IndentedBlock) else ():
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if (
                isinstance(small, cst.AnnAssign)
                and isinstance(small.target, cst.Name)
                and small.target.value == name
            ):
                return _field_value(project, module, small.value, name, class_info)
    for base in class_info.bases:
        base_path = project.resolve(module, base, class_info.scope)
        parent = None if base_path is None else project.class_at(base_path)
        if parent is not None:
            found = _field_default(project, parent, name, depth + 1)
            if found is not None:
                return found
    return None


def _field_value(
    project: Project,
    module: PythonModule,
    value: cst.BaseExpression | None,
    name: str,
    class_info: ClassInfo,
) -> Default | None:
    if value is None:
        return None  # a required field: the app does not start without it
    variable = _env_prefix(project, module, class_info) + name.upper()
    if isinstance(value, cst.Call) and (
        project.resolve(module, value.func, class_info.scope) or ""
    ).endswith(".Field"):
        alias = keyword(value, "alias") or keyword(value, "validation_alias")
        alias_value = None if alias is None else project.literal(module, alias, class_info.scope)
        if isinstance(alias_value, str):
            variable = alias_value
        value = keyword(value, "default") or positional(value, 0)
        if value is None:
            return None
    literal = project.literal(module, value, class_info.scope)
    return None if literal is UNKNOWN or literal is Ellipsis else Default(literal, variable)


def _env_prefix(project: Project, module: PythonModule, class_info: ClassInfo) -> str:
    """``model_config = SettingsConfigDict(env_prefix="APP_")`` (or ``class Config:
    env_prefix = ...``): the prefix of every field's variable, upper-cased as pydantic matches
    it case-insensitively."""
    body = class_info.node.body
    for statement in body.body if isinstance(body, cst.IndentedBlock) else ():
        if isinstance(statement, cst.ClassDef) and statement.name.value == "Config":
            inner = statement.body
            for line in inner.body if isinstance(inner, cst.IndentedBlock) else ():
                for small in getattr(line, "body", ()):
                    if isinstance(small, cst.Assign) and _targets(small, "env_prefix"):
                        prefix = project.literal(module, small.value, class_info.scope)
                        return prefix.upper() if isinstance(prefix, str) else ""
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, (cst.Assign, cst.AnnAssign)) and _targets(small, "model_config"):
                config = small.value
                option = keyword(config, "env_prefix") if isinstance(config, cst.Call) else None
                prefix = (
                    None if option is None else project.literal(module, option, class_info.scope)
                )
                return prefix.upper() if isinstance(prefix, str) else ""
    return ""


def _targets(statement: cst.Assign | cst.AnnAssign, name: str) -> bool:
    targets = (
        [target.target for target in statement.targets]
        if isinstance(statement, cst.Assign)
        else [statement.target]
    )
    return any(isinstance(target, cst.Name) and target.value == name for target in targets)
