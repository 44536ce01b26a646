"""Fixes: ``--fix``, ``--unsafe-fixes``, ``--diff`` and ``--add-noqa``.

One fixer per rule code (:data:`fastlint.fix.base.FIXERS`), each a function of a finding and
its file's text; :mod:`fastlint.fix.apply` runs them over a scratch copy of the project until
nothing more applies, then writes the changed files back.
"""

from __future__ import annotations

from fastlint.fix import deploy, lifespan, python, suppressions  # noqa: F401  (registers the fixers)
from fastlint.fix.base import FIXERS, Edit, Fix, Source, fixes_for

__all__ = ["FIXERS", "Edit", "Fix", "Source", "fixes_for"]
