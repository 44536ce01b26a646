"""Rule metadata and lookup by code or prefix.

Rule classes register themselves with :func:`register` when their module is imported;
:func:`all_rules` imports the rule package once so every rule is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastlint.diagnostics import Severity


class UnknownRuleError(ValueError):
    """A selector names no rule."""


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


# FL000 is reported by the engine, not by a rule class.
PARSE_ERROR = RuleMeta(
    code="FL000",
    name="unreadable-file",
    severity=Severity.ERROR,
    front_end="any",
    summary="A file could not be read or parsed, so no other rule checked it.",
)

_RULES: dict[str, Any] = {}
_ENGINE_OPTIONS: dict[str, Option] = {}


def register(rule_cls: Any) -> Any:
    """Class decorator: add a rule class to the registry (codes are unique)."""
    code = rule_cls.meta.code
    if code in _RULES or code == PARSE_ERROR.code:
        raise RuntimeError(f"rule code {code} registered twice")
    _RULES[code] = rule_cls
    return rule_cls


def engine_option(option: Option) -> Option:
    """Declare an option the engine itself reads (e.g. max-file-size)."""
    _ENGINE_OPTIONS[option.name] = option
    return option


def _load() -> None:
    import fastlint.rules  # noqa: F401  (imports every rule module)


def all_rules() -> dict[str, Any]:
    """Every registered rule class by code, sorted by code."""
    _load()
    return dict(sorted(_RULES.items()))


def all_metas() -> list[RuleMeta]:
    return [PARSE_ERROR] + [cls.meta for cls in all_rules().values()]


def meta_for(code: str) -> RuleMeta:
    if code == PARSE_ERROR.code:
        return PARSE_ERROR
    rules = all_rules()
    if code not in rules:
        raise UnknownRuleError(f"unknown rule code '{code}'")
    return rules[code].meta


def known_options() -> dict[str, Option]:
    """Every option any rule or the engine declares, by name."""
    options = dict(_ENGINE_OPTIONS)
    for cls in all_rules().values():
        for option in cls.meta.options:
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
