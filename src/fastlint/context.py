"""What rules may read: the settings, every loaded unit by kind, and the cross-file models."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from fastlint.config import Settings
from fastlint.discovery import FileKind, SourceFile
from fastlint.python.project import Project


@dataclass
class LintContext:
    root: Path
    settings: Settings
    files: list[SourceFile]
    units: dict[FileKind, list[Any]] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)  # display paths reported as FL000
    templates: set[str] = field(default_factory=set)  # display paths of Jinja templates, skipped

    def units_of(self, kind: FileKind) -> list[Any]:
        return self.units.get(kind, [])

    @cached_property
    def project(self) -> Project:
        """The project's Python modules, with cross-module lookups."""
        return Project(self.units_of(FileKind.PYTHON))

    @cached_property
    def deployment(self) -> Any:
        """The deployment model (:mod:`fastlint.deploy.model`), built on first use."""
        from fastlint.deploy.model import build_deployment

        return build_deployment(self)
