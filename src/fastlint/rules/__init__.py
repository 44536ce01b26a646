"""Rule modules. Their metadata lives in :mod:`fastlint.rules.catalog` (cheap to import);
:func:`load` imports the implementations, which register their classes. Add a module to
``RULE_MODULES`` and its rules' metadata to the catalog."""

from __future__ import annotations

import importlib

RULE_MODULES = (
    "fastlint.rules.app_surface",
    "fastlint.rules.event_loop",
    "fastlint.rules.database",
    "fastlint.rules.docker",
    "fastlint.rules.deploy",
)


def load() -> None:
    """Import every rule module (each registers its rule classes once)."""
    for name in RULE_MODULES:
        importlib.import_module(name)
