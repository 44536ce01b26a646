"""Rule modules. Importing this package registers every rule; add a module to ``RULE_MODULES``."""

from __future__ import annotations

import importlib

RULE_MODULES = (
    "fastlint.rules.app_surface",
    "fastlint.rules.event_loop",
    "fastlint.rules.database",
    "fastlint.rules.docker",
    "fastlint.rules.deploy",
)

for _name in RULE_MODULES:
    importlib.import_module(_name)
