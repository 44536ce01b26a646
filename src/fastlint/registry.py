"""Rule metadata and lookup by code or prefix.

Rule metadata is data in :mod:`fastlint.rules.catalog`, readable without importing any rule
implementation. Rule classes register themselves with :func:`register` when their module is
imported; :func:`all_rules` imports them all.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fastlint.diagnostics import Severity
from fastlint.rulemeta import Option, RuleMeta
from fastlint.rules import catalog

__all__ = ["PARSE_ERROR", "Option", "RuleMeta", "UnknownRuleError"]


class UnknownRuleError(ValueError):
    """A selector names no rule."""


# FL000 is reported by the engine, not by a rule class.
PARSE_ERROR = RuleMeta(
    code="FL000",
    name="unreadable-file",
    severity=Severity.ERROR,
    front_end="any",
    summary="A file could not be read or parsed, so no other rule checked it.",
)

# FL001 and FL002 are reported by the engine too, from the suppression markers it reads.
UNUSED_SUPPRESSION = RuleMeta(
    code="FL001",
    name="unused-suppression",
    severity=Severity.WARNING,
    front_end="any",
    summary="A # noqa / # fastlint: ignore names a code that suppressed nothing there.",
)
INVALID_SUPPRESSION = RuleMeta(
    code="FL002",
    name="invalid-suppression",
    severity=Severity.WARNING,
    front_end="any",
    summary="A suppression names an unknown or misspelt code, or no code after its colon.",
)
ENGINE_METAS = (PARSE_ERROR, UNUSED_SUPPRESSION, INVALID_SUPPRESSION)

_RULES: dict[str, Any] = {}


def register(rule_cls: Any) -> Any:
    """Class decorator: add a rule class to the registry (codes are unique, and the class's
    meta must be its entry in the catalog)."""
    code = rule_cls.meta.code
    if code in _RULES or any(code == meta.code for meta in ENGINE_METAS):
        raise RuntimeError(f"rule code {code} registered twice")
    if _catalog().get(code) is not rule_cls.meta:
        raise RuntimeError(f"rule {code}'s meta is not its entry in fastlint.rules.catalog")
    _RULES[code] = rule_cls
    return rule_cls


@cache
def _catalog() -> dict[str, RuleMeta]:
    return {meta.code: meta for meta in catalog.RULES}


def all_rules() -> dict[str, Any]:
    """Every rule class by code, sorted by code (imports the rule implementations)."""
    from fastlint.rules import load

    load()
    missing = sorted(set(_catalog()) - set(_RULES))
    if missing:
        raise RuntimeError(f"no rule class for {', '.join(missing)} in the catalog")
    return dict(sorted(_RULES.items()))


def all_metas() -> list[RuleMeta]:
    """FL000-FL002 and every rule's metadata, by code, without importing any rule
    implementation."""
    return [*ENGINE_METAS, *sorted(_catalog().values(), key=lambda meta: meta.code)]


def meta_for(code: str) -> RuleMeta:
    for meta in ENGINE_METAS:
        if code == meta.code:
            return meta
    metas = _catalog()
    if code not in metas:
        raise UnknownRuleError(f"unknown rule code '{code}'")
    return metas[code]


def known_options() -> dict[str, Option]:
    """Every option any rule or the engine declares, by name."""
    options = {option.name: option for option in catalog.ENGINE_OPTIONS}
    for meta in catalog.RULES:
        for option in meta.options:
            options[option.name] = option
    return options


def expand(selector: str) -> set[str]:
    """Codes matched by a code or prefix (``FL1``, ``FL101``, ``ALL``); raise on no match."""
    selector = selector.strip().upper()
    codes = [meta.code for meta in all_metas()]
    if selector == "ALL":
        return set(codes)
    matched = {code for code in codes if code.startswith(selector)}
    if not selector.startswith("FL") or not matched:
        raise UnknownRuleError(f"unknown rule code or prefix '{selector}'")
    return matched
