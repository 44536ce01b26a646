"""FastAPI application-surface rules: lifecycle hooks, CORS, exposed docs, debug mode."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastlint.diagnostics import Severity
from fastlint.python.frameworks import app_class
from fastlint.python.model import keyword
from fastlint.python.module import PythonModule
from fastlint.registry import RuleMeta, register
from fastlint.rules.base import PythonRule

if TYPE_CHECKING:
    from fastlint.engine import LintContext


@register
class DebugEnabled(PythonRule):
    meta = RuleMeta(
        code="FL403",
        name="debug-enabled",
        severity=Severity.WARNING,
        front_end="python",
        summary="FastAPI/Starlette app created with debug=True.",
    )

    def check(self, unit: PythonModule, ctx: LintContext) -> None:
        for site in unit.model.calls:
            cls = app_class(ctx.project.resolve(unit, site.node.func, site.scope))
            if cls is None:
                continue
            debug = keyword(site.node, "debug")
            if debug is not None and unit.model.literal(debug, site.scope) is True:
                name = cls.rsplit(".", 1)[-1]
                self.report(
                    unit,
                    debug,
                    f"{name}(debug=True) returns tracebacks with source and local values to any "
                    "client that triggers an error; leave debug off in production and drive it "
                    "from settings for local runs.",
                    fix="remove debug=True or set it from an environment-driven setting",
                )
