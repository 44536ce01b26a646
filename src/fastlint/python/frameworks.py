"""Canonical paths of the FastAPI / Starlette objects rules look for.

Paths come from :meth:`fastlint.python.project.Project.resolve`: ``app = FastAPI()`` makes ``app``
resolve to ``fastapi.FastAPI()``, and ``from app.core import app`` in another module resolves to
the same path. :func:`instance_class` answers "is this an application or router object?", also
through project subclasses (``class Api(FastAPI)``) and factories (``app = create_app()``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastlint.python.project import register_answers
from fastlint.python.reads import AnswerTable, as_is, optional_string

if TYPE_CHECKING:
    from fastlint.python.project import Project

# Every spelling of the application and router classes, mapped to one name.
APP_CLASSES = {
    "fastapi.FastAPI": "fastapi.FastAPI",
    "fastapi.applications.FastAPI": "fastapi.FastAPI",
    "starlette.applications.Starlette": "starlette.Starlette",
}
ROUTER_CLASSES = {
    "fastapi.APIRouter": "fastapi.APIRouter",
    "fastapi.routing.APIRouter": "fastapi.APIRouter",
    "starlette.routing.Router": "starlette.Router",
}
CORS_MIDDLEWARE = frozenset(
    {
        "fastapi.middleware.cors.CORSMiddleware",
        "starlette.middleware.cors.CORSMiddleware",
    }
)
# ``Middleware(cls, **options)`` entries of ``FastAPI(middleware=[...])``.
MIDDLEWARE_ENTRY = frozenset({"starlette.middleware.Middleware", "fastapi.middleware.Middleware"})

_FRAMEWORK_CLASSES = {**APP_CLASSES, **ROUTER_CLASSES}
_MAX_DEPTH = 5


def app_class(path: str | None) -> str | None:
    """``fastapi.FastAPI`` / ``starlette.Starlette`` when ``path`` names an application class."""
    return None if path is None else APP_CLASSES.get(path)


def framework_class(project: Project, path: str | None) -> str | None:
    """The canonical FastAPI / Starlette / router class ``path`` names: one of the classes
    itself, or a project class deriving from one (``class Api(FastAPI)`` → ``fastapi.FastAPI``)."""
    if path is None:
        return None
    if path in _FRAMEWORK_CLASSES:
        return _FRAMEWORK_CLASSES[path]
    return _framework_classes(project).ask(path)


def _framework_classes(project: Project) -> AnswerTable[str | None]:
    return project.answers(
        "framework-class",
        as_is,
        optional_string,
        lambda path: _project_framework_class(project, path),
    )


def _project_framework_class(project: Project, path: str) -> str | None:
    class_info = project.class_at(path)
    if class_info is None:
        return None
    for spelling, canonical in _FRAMEWORK_CLASSES.items():
        if project.subclasses_path(class_info, spelling):
            return canonical
    return None


def instance_class(project: Project, path: str | None) -> str | None:
    """The canonical framework class when ``path`` is an application or router *instance*.

    ``fastapi.FastAPI()`` → ``fastapi.FastAPI``; ``app.factory.create_app()`` →
    ``fastapi.FastAPI`` when ``create_app`` returns one (or is annotated ``-> FastAPI``).
    """
    if path is None or not path.endswith("()"):
        return None
    return _instance_classes(project).ask(path)


def _instance_classes(project: Project) -> AnswerTable[str | None]:
    return project.answers(
        "instance-class", as_is, optional_string, lambda path: _instance_class(project, path, 0)
    )


def _instance_class(project: Project, path: str | None, depth: int) -> str | None:
    if path is None or not path.endswith("()") or depth > _MAX_DEPTH:
        return None
    callee = path[:-2]
    found = framework_class(project, callee)
    if found is not None or "()" in callee:
        return found
    function = project.function_at(callee)
    if function is None or function.is_lambda:
        return None
    module = project.module_of(function)
    if module is None:
        return None
    if function.return_annotation is not None:
        annotated = framework_class(
            project, project.resolve(module, function.return_annotation, function.outer_scope)
        )
        if annotated is not None:
            return annotated
    for statement in function.returns:
        if statement.value is None:
            continue
        returned = project.resolve(module, statement.value, function.scope)
        found = _instance_class(project, returned, depth + 1)
        if found is not None:
            return found
    return None


def is_app_or_router_instance(path: str | None) -> bool:
    """Whether ``path`` is an instance of an application or router (``fastapi.FastAPI()``)."""
    if path is None or not path.endswith("()"):
        return False
    cls = path[:-2]
    return cls in APP_CLASSES or cls in ROUTER_CLASSES


register_answers("framework-class", lambda project, name: _framework_classes(project))
register_answers("instance-class", lambda project, name: _instance_classes(project))
