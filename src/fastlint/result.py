"""What a run produced: diagnostics, file count, and what reports need besides.

Kept apart from :mod:`fastlint.engine` so a result read back from the cache needs no LibCST.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastlint.diagnostics import Diagnostic

if TYPE_CHECKING:
    from fastlint.context import LintContext


@dataclass
class LintResult:
    diagnostics: list[Diagnostic]
    files: int
    templates: int = 0  # Jinja template files skipped (cookiecutter/copier), not counted in files
    context: LintContext | None = None  # None when the result comes from the cache
    texts: dict[str, str] = field(default_factory=dict)  # display path → text, files read
    cached_deployment: dict[str, Any] | None = None  # set when the result comes from a cache
    # What the speed layer did (:class:`fastlint.incremental.steps.CacheReport`), when it ran.
    cache_report: Any = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (--verbose)

    @property
    def deployment(self) -> Any:
        return None if self.context is None else self.context.deployment

    def deployment_summary(self) -> dict[str, Any] | None:
        """The deployment model as plain data (what reports and the cache carry)."""
        if self.context is None:
            return self.cached_deployment
        deployment = self.context.deployment
        return None if deployment is None else deployment.to_dict()

    def sources(self) -> dict[str, str]:
        """Text of each file that has a finding, for source snippets in reports."""
        paths = {d.path for d in self.diagnostics}
        return {path: text for path, text in self.texts.items() if path in paths}
