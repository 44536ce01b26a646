"""Rule modules. Importing this package registers every rule; add a module to ``RULE_MODULES``."""

from __future__ import annotations

import importlib

RULE_MODULES = ("fastlint.rules.app_surface",)

for _name in RULE_MODULES:
    importlib.import_module(_name)
