"""Rule base classes.

A rule is a small class with a :class:`~fastlint.registry.RuleMeta` and one ``check`` method.
File rules receive one parsed unit of their front end; project rules receive the whole
:class:`~fastlint.context.LintContext` (cross-file facts, the deployment model). Rules never read
or parse files themselves: they ask the shared models, and report through :meth:`Rule.report`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Union

import libcst as cst

from fastlint.diagnostics import Diagnostic, Location, Severity
from fastlint.discovery import FileKind
from fastlint.python.module import PythonModule
from fastlint.python.reach import Gate
from fastlint.registry import RuleMeta

if TYPE_CHECKING:
    from fastlint.context import LintContext

Where = Union[cst.CSTNode, Location]


class Rule:
    meta: ClassVar[RuleMeta]

    def __init__(self, options: dict[str, Any], sink: list[Diagnostic]) -> None:
        self._options = options
        self._sink = sink

    def option(self, name: str) -> Any:
        """The configured value of one of this rule's declared options (or its default)."""
        for option in self.meta.options:
            if option.name == name:
                return self._options.get(name, option.default)
        raise KeyError(f"{self.meta.code} declares no option '{name}'")

    def report(
        self,
        file: PythonModule | str,
        where: Where,
        message: str,
        *,
        severity: Severity | None = None,
        fix: str | None = None,
    ) -> None:
        """Report a finding in ``file`` (a Python module, or a display path) at a node or range."""
        if isinstance(file, PythonModule):
            path = file.path
            location = where if isinstance(where, Location) else file.location(where)
        else:
            path = file
            assert isinstance(where, Location), "non-Python findings need a Location"
            location = where
        self._sink.append(
            Diagnostic(
                code=self.meta.code,
                name=self.meta.name,
                severity=severity or self.meta.severity,
                path=path,
                line=location.line,
                column=location.column,
                end_line=location.end_line,
                end_column=location.end_column,
                message=message,
                fix=fix,
            )
        )


class FileRule(Rule):
    """Checks one file of ``kind`` at a time; ``unit`` is what that front end produced."""

    kind: ClassVar[FileKind]

    def check(self, unit: Any, ctx: LintContext) -> None:
        raise NotImplementedError


class PythonRule(FileRule):
    kind = FileKind.PYTHON
    # Production-readiness rules skip test code (a blocking call in an async test, a throwaway
    # FastAPI(debug=True) in a conftest); a rule that is about tests sets this to True.
    checks_test_code: ClassVar[bool] = False
    # What a module must show for this rule to find anything in it (None: every module may):
    # a cheap, sound pre-filter over its text and imports. A module no rule admits is not
    # parsed for itself (see fastlint.python.reach).
    needs: ClassVar[Gate | None] = None

    def applies_to(self, unit: PythonModule, ctx: LintContext) -> bool:
        if unit.is_test_code and not self.checks_test_code:
            return False
        return self.needs is None or self.needs.admits(unit, ctx.project)

    def check(self, unit: PythonModule, ctx: LintContext) -> None:
        raise NotImplementedError


class ProjectRule(Rule):
    """Runs once per lint with every file's facts (call graph, deployment model)."""

    def check(self, ctx: LintContext) -> None:
        raise NotImplementedError
