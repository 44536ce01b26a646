"""Reporters: each turns a finished run into text; ``REPORTERS`` keys are --format choices."""

from __future__ import annotations

import importlib
from typing import Callable

from fastlint.report.base import Reporter

_MODULES = {
    "rich": "fastlint.report.rich",
    "concise": "fastlint.report.concise",
    "json": "fastlint.report.json",
    "sarif": "fastlint.report.sarif",
    "github": "fastlint.report.github",
}

FORMATS = tuple(_MODULES)


def get_reporter(name: str) -> Callable[..., Reporter]:
    """The reporter class for a ``--format`` name; imported lazily to keep start-up light."""
    module = importlib.import_module(_MODULES[name])
    return module.REPORTER
