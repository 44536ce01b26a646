"""Small records shared by the deploy front ends: where something is written, and a setting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libcst as cst

from fastlint.diagnostics import Location
from fastlint.python.model import UNKNOWN
from fastlint.python.module import PythonModule


@dataclass(frozen=True, eq=False)
class Site:
    """Where a fact is written: a line of a Dockerfile / script / Procfile, or a Python node."""

    path: str  # display path
    line: int = 1
    text: str = ""  # the line's text (for the end column)
    module: PythonModule | None = None
    node: cst.CSTNode | None = None

    @property
    def location(self) -> Location:
        if self.module is not None and self.node is not None:
            return self.module.location(self.node)
        first = self.text.splitlines()[0].rstrip() if self.text else ""
        return Location.at_line(self.line, first)

    def label(self) -> str:
        """``path:line`` for summaries."""
        return f"{self.path}:{self.location.line}"


@dataclass(frozen=True, eq=False)
class Setting:
    """A server setting as written somewhere, statically evaluated.

    ``value`` is UNKNOWN when it depends on something fastlint cannot see (an unset variable,
    a settings object). ``cpu`` marks a value computed from the CPU count; ``cpu_fallback`` one
    that uses the CPU count only when an environment variable (``variables``) is unset;
    ``cpu_site`` is that CPU count call and ``cpu_chain`` the names it reaches the setting
    through (``cores → default_web_concurrency``), where the fix goes.
    """

    name: str  # gunicorn's setting name: workers, worker_class, accesslog, errorlog, reload ...
    value: Any
    site: Site
    source: str  # "command line", "gunicorn.conf.py", "GUNICORN_CMD_ARGS", "WEB_CONCURRENCY"...
    text: str = ""  # as written
    cpu: bool = False
    cpu_fallback: bool = False
    variables: tuple[str, ...] = ()
    cpu_site: Site | None = None  # the CPU count call (Python) the value comes from
    cpu_chain: tuple[str, ...] = ()  # the names between that call and this setting

    @property
    def known(self) -> bool:
        return self.value is not UNKNOWN

    @property
    def is_literal(self) -> bool:
        """A constant written in place: not from the CPU count or an environment variable."""
        return self.known and not (self.cpu or self.cpu_fallback or self.variables)

    def as_int(self) -> int | None:
        value = self.value
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        return None
