"""What a rule is, as data: its metadata and its options (see :mod:`fastlint.rules.catalog`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastlint.diagnostics import Severity


@dataclass(frozen=True)
class Option:
    """A rule option read from ``[tool.fastlint.options]``."""

    name: str
    type: type | tuple[type, ...]
    default: Any
    help: str


@dataclass(frozen=True)
class RuleMeta:
    code: str
    name: str
    severity: Severity
    front_end: str
    summary: str
    options: tuple[Option, ...] = field(default=())
