"""What a deployment's server runs, as far as the app's Python says: whether a worker class is
an ASGI one, whether the served target is an ASGI app, and where ``uvicorn.run(workers=...)``
starts worker processes from Python."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastlint.python.frameworks import app_class, instance_class
from fastlint.python.model import CallSite, keyword
from fastlint.python.module import PythonModule
from fastlint.python.project import Project, register_answers
from fastlint.python.reads import AnswerTable, as_is, boolean

if TYPE_CHECKING:
    from fastlint.deploy.model import Server

# Worker classes, by every spelling Gunicorn accepts.
DEPRECATED_WORKERS = {
    "uvicorn.workers.UvicornWorker": "uvicorn_worker.UvicornWorker",
    "uvicorn.workers.UvicornH11Worker": "uvicorn_worker.UvicornH11Worker",
}
ASGI_WORKERS = frozenset(
    {"uvicorn_worker.UvicornWorker", "uvicorn_worker.UvicornH11Worker", *DEPRECATED_WORKERS}
)
WSGI_WORKERS = frozenset(
    {
        "sync",
        "gthread",
        "gevent",
        "eventlet",
        "tornado",
        "gunicorn.workers.sync.SyncWorker",
        "gunicorn.workers.gthread.ThreadWorker",
        "gunicorn.workers.ggevent.GeventWorker",
        "gunicorn.workers.geventlet.EventletWorker",
        "gunicorn.workers.gtornado.TornadoWorker",
        "egg:gunicorn#sync",
        "egg:gunicorn#gthread",
        "egg:gunicorn#gevent",
        "egg:gunicorn#eventlet",
    }
)


def worker_class_kind(project: Project, name: Any) -> str:
    """``asgi``, ``wsgi`` or ``unknown`` for a worker class setting's value."""
    if not isinstance(name, str):
        return "unknown"
    if name in ASGI_WORKERS:
        return "asgi"
    if name in WSGI_WORKERS:
        return "wsgi"
    class_info = project.class_at(name)
    if class_info is not None and any(
        project.subclasses_path(class_info, base) for base in ASGI_WORKERS
    ):
        return "asgi"
    return "unknown"


def serves_asgi(project: Project, server: Server) -> bool:
    """Whether the server's target is a FastAPI/Starlette app (or unresolvable in a FastAPI
    project)."""
    target = server.app
    if not target or ":" not in target:
        return is_fastapi_project(project)
    module_name, _, attribute = target.partition(":")
    module = project.find_module(module_name)
    attribute = attribute.strip()
    is_call = attribute.endswith(")")
    name = attribute.split("(", 1)[0].strip()
    if module is None or not name.isidentifier():
        return is_fastapi_project(project)
    path = project.canonical(f"{module.name}.{name}")
    if is_call or server.factory:
        path += "()"
    if instance_class(project, path) is not None:
        return True
    if path.startswith(_WSGI_FRAMEWORKS):
        return False  # Flask, Django...: Gunicorn's default worker is right for them
    return is_fastapi_project(project)  # could not follow it: judge by the project


_WSGI_FRAMEWORKS = ("flask.", "django.", "falcon.", "pyramid.", "bottle.", "werkzeug.")


def is_fastapi_project(project: Project) -> bool:
    """Whether any module constructs a FastAPI/Starlette app."""
    return _fastapi_project(project).ask("")


def _fastapi_project(project: Project) -> AnswerTable[bool]:
    """One answer (key ``""``): whether any module constructs a FastAPI/Starlette app."""
    return project.answers(
        "fastapi-project", as_is, boolean, lambda key: _constructs_an_app(project)
    )


register_answers("fastapi-project", lambda project, name: _fastapi_project(project))


def _constructs_an_app(project: Project) -> bool:
    for module in project.modules:
        if "FastAPI" not in module.text and "Starlette" not in module.text:
            continue
        for call in module.model.calls:
            if app_class(project.resolve(module, call.node.func, call.scope)) is not None:
                return True
    return False


def _uvicorn_runs(project: Project, module: PythonModule, name: str) -> list[CallSite]:
    """``uvicorn.run(..., <name>=...)`` calls in ``module``."""
    return [
        call
        for call in module.model.calls_named(frozenset({name}))
        if keyword(call.node, name) is not None
        and project.resolve(module, call.node.func, call.scope) == "uvicorn.run"
    ]


def uvicorn_runs_with_workers(project: Project) -> list[tuple[PythonModule, CallSite]]:
    """``uvicorn.run(..., workers=...)`` calls anywhere in the project, by module."""
    return uvicorn_runs_with(project, "workers")


def uvicorn_runs_with(project: Project, name: str) -> list[tuple[PythonModule, CallSite]]:
    """``uvicorn.run(..., <name>=...)`` calls anywhere in the project (``name``: one of
    :data:`_KEYWORDS`), by module."""
    runs = _uvicorn_runners(project, name)
    found: list[tuple[PythonModule, CallSite]] = []
    for module in project.modules:
        if "uvicorn" not in module.text or not _KEYWORDS[name].search(module.text):
            continue  # no call could pass the keyword: not parsed for this question
        if not runs.ask(module.path):
            continue  # the usual answer, which a cached run has without parsing the module
        found.extend((module, call) for call in _uvicorn_runs(project, module, name))
    return found


def _uvicorn_runners(project: Project, name: str) -> AnswerTable[bool]:
    """Module path → whether it calls ``uvicorn.run(..., <name>=...)``."""

    def runs(path: str) -> bool:
        module = next((m for m in project.modules if m.path == path), None)
        return module is not None and bool(_uvicorn_runs(project, module, name))

    return project.answers(f"uvicorn-run-{name}", as_is, boolean, runs)


# ``workers=`` as written in a call: blanks, line breaks, continuations and comments may come
# before the "=" (``==`` is no keyword). Prose about workers and **options do not count.
_KEYWORDS = {
    name: re.compile(name + r"(?:\s|\\\n|#[^\n]*)*=(?!=)") for name in ("workers", "reload")
}


def _register(name: str) -> None:
    register_answers(f"uvicorn-run-{name}", lambda project, table: _uvicorn_runners(project, name))


for _name in _KEYWORDS:
    _register(_name)
