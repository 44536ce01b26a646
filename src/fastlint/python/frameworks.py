"""Canonical paths of the FastAPI / Starlette objects rules look for."""

from __future__ import annotations

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


def app_class(path: str | None) -> str | None:
    """``fastapi.FastAPI`` / ``starlette.Starlette`` when ``path`` names an application class."""
    return None if path is None else APP_CLASSES.get(path)


def is_app_or_router_instance(path: str | None) -> bool:
    """Whether ``path`` is an instance of an application or router (``fastapi.FastAPI()``)."""
    if path is None or not path.endswith("()"):
        return False
    cls = path[:-2]
    return cls in APP_CLASSES or cls in ROUTER_CLASSES
