"""``[tool.fastlint]`` → a frozen :class:`Settings`; every configuration error is raised here.

Precedence: built-in defaults < ``pyproject.toml`` (or ``--config FILE``) < command-line options.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastlint import registry
from fastlint.diagnostics import Severity
from fastlint.discovery import matches_glob

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib


class ConfigError(ValueError):
    """Bad configuration: the CLI prints the message on one line and exits 2. Messages quote
    the user's values, which may hold line breaks: those are written as escapes."""

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))


@dataclass(frozen=True)
class Settings:
    enabled: frozenset[str]
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    fail_on: Severity = Severity.INFO
    severity: Mapping[str, Severity] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    fixable: frozenset[str] | None = None  # None: every code
    unfixable: frozenset[str] = frozenset()

    @property
    def all_excludes(self) -> tuple[str, ...]:
        return self.exclude + self.extend_exclude

    def is_enabled(self, code: str) -> bool:
        return code in self.enabled

    def is_fixable(self, code: str) -> bool:
        """Whether ``--fix`` may fix findings of ``code`` (``fixable`` / ``unfixable``)."""
        allowed = self.fixable is None or code in self.fixable
        return allowed and code not in self.unfixable

    def severity_for(self, code: str, default: Severity) -> Severity:
        return self.severity.get(code, default)

    def ignored_in(self, relpath: str, code: str) -> bool:
        """Whether ``per-file-ignores`` turns ``code`` off for the file at ``relpath``; a glob
        naming a folder (``tests`` or ``tests/``) covers everything below it."""
        for glob, codes in self.per_file_ignores:
            if code in codes and _covers_path(relpath, glob):
                return True
        return False

    def fingerprint(self) -> str:
        """A stable text of everything that changes results (for the cache key)."""
        return repr(
            (
                sorted(self.enabled),
                self.per_file_ignores,
                sorted((k, v.value) for k, v in self.severity.items()),
                sorted((k, repr(v)) for k, v in self.options.items()),
            )
        )


def _covers_path(relpath: str, glob: str) -> bool:
    parts = relpath.split("/")
    return any(matches_glob("/".join(parts[:depth]), glob) for depth in range(1, len(parts) + 1))


@dataclass
class Overrides:
    """What the command line says; None means "not given"."""

    select: Sequence[str] | None = None
    ignore: Sequence[str] | None = None
    extend_select: Sequence[str] | None = None
    exclude: Sequence[str] | None = None
    fail_on: str | None = None


_KEYS = {
    "select": list,
    "ignore": list,
    "extend-select": list,
    "exclude": list,
    "extend-exclude": list,
    "per-file-ignores": dict,
    "fail-on": str,
    "severity": dict,
    "options": dict,
    "fixable": list,
    "unfixable": list,
}

_TYPE_NAMES = {list: "a list of strings", dict: "a table", str: "a string"}


def find_config(start: Path) -> Path | None:
    """The ``pyproject.toml`` of the project ``start`` belongs to: the nearest one at or above
    ``start``, not looking past a folder holding ``.git`` (the project root). The file may have
    no ``[tool.fastlint]`` table; then the defaults apply."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            return pyproject
        if (candidate / ".git").exists():
            return None
    return None


def read_table(path: Path) -> dict[str, Any]:
    """The ``[tool.fastlint]`` table of a pyproject file (or a bare fastlint TOML file)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not valid UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    if path.name == "pyproject.toml" or "tool" in data:
        tool = data.get("tool", {})
        table = tool.get("fastlint", {}) if isinstance(tool, dict) else {}
    else:
        table = data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.fastlint] must be a table")
    return table


def table_warnings(path: Path | None) -> list[str]:
    """Tables of a pyproject file that look like a misspelt ``[tool.fastlint]`` (and so are
    silently not read): ``[tool.fast-lint]``, ``[tools.fastlint]``, a top-level ``[fastlint]``.
    Errors are left to :func:`read_table`; a bare config file (``--config``) has no tables."""
    if path is None or path.name != "pyproject.toml":
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    found: list[str] = []
    for key, value in data.items():
        if not isinstance(value, dict):
            continue
        if key != "tool" and _looks_like("fastlint", key):
            found.append(key)
        elif key != "tool" and _looks_like("tool", key) and "fastlint" in value:
            found.append(f"{key}.fastlint")
    tool = data.get("tool")
    if isinstance(tool, dict):
        for key, value in tool.items():
            if key != "fastlint" and isinstance(value, dict) and _looks_like("fastlint", key):
                found.append(f"tool.{key}")
    return [f"{path}: [{name}] is not read; did you mean [tool.fastlint]?" for name in found]


def _looks_like(wanted: str, key: str) -> bool:
    import difflib

    squashed = key.lower().replace("-", "").replace("_", "").strip()
    return squashed == wanted or difflib.SequenceMatcher(None, squashed, wanted).ratio() >= 0.8


def _codes(values: Any, key: str) -> set[str]:
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"'{key}' must be a list of rule codes")
    codes: set[str] = set()
    for value in values:
        try:
            codes |= registry.expand(value)
        except registry.UnknownRuleError as error:
            raise ConfigError(f"'{key}': {error}") from None
    return codes


def _strings(values: Any, key: str) -> tuple[str, ...]:
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"'{key}' must be a list of strings")
    return tuple(values)


def _check_types(table: Mapping[str, Any]) -> None:
    for key, value in table.items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(f"unknown key '{key}' in [tool.fastlint] (known keys: {known})")
        expected = _KEYS[key]
        if not isinstance(value, expected):
            raise ConfigError(f"'{key}' must be {_TYPE_NAMES[expected]}")


def _options(table: Mapping[str, Any]) -> dict[str, Any]:
    if not table:
        return {}
    known = registry.known_options()
    options: dict[str, Any] = {}
    for name, value in table.items():
        if name not in known:
            raise ConfigError(
                f"unknown option '{name}' in [tool.fastlint.options] "
                f"(known: {', '.join(sorted(known))})"
            )
        option = known[name]
        expected = option.type if isinstance(option.type, tuple) else (option.type,)
        if float in expected and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in expected:
            raise ConfigError(f"option '{name}' must be {_describe(expected)}")
        if not isinstance(value, expected):
            raise ConfigError(f"option '{name}' must be {_describe(expected)}")
        if isinstance(value, list) and not all(isinstance(item, str) for item in value):
            raise ConfigError(f"option '{name}' must be a list of strings")
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            raise ConfigError(f"option '{name}' must not be negative")
        options[name] = value
    return options


def _describe(types: tuple[type, ...]) -> str:
    names = {
        int: "an integer",
        str: "a string",
        list: "a list of strings",
        bool: "true or false",
        float: "a number",
    }
    return " or ".join(names.get(t, t.__name__) for t in types)


def build_settings(table: Mapping[str, Any], overrides: Overrides | None = None) -> Settings:
    """Merge a ``[tool.fastlint]`` table with command-line overrides; raise ConfigError."""
    overrides = overrides or Overrides()
    _check_types(table)
    all_codes = {meta.code for meta in registry.all_metas()}

    # Each layer (the file, then the command line) works like ruff's: its ``select`` starts
    # over, ``extend-select`` adds, ``ignore`` removes. So ``--select FL101`` shows FL101 even
    # when the file ignores it, and ``--ignore`` always has the last word.
    enabled = set(all_codes)
    layers = (
        (table.get("select"), table.get("extend-select"), table.get("ignore"), ""),
        (overrides.select, overrides.extend_select, overrides.ignore, "--"),
    )
    for select, extend, ignore, prefix in layers:
        if select is not None:
            enabled = _codes(select, f"{prefix}select")
        if extend is not None:
            enabled |= _codes(extend, f"{prefix}extend-select")
        if ignore is not None:
            enabled -= _codes(ignore, f"{prefix}ignore")

    per_file: list[tuple[str, frozenset[str]]] = []
    for glob, codes in table.get("per-file-ignores", {}).items():
        per_file.append((glob, frozenset(_codes(codes, f"per-file-ignores.{glob!r}"))))

    severities: dict[str, Severity] = {}
    for code, level in table.get("severity", {}).items():
        if not isinstance(level, str):
            raise ConfigError(f"'severity.{code}' must be a string (error, warning, info)")
        try:
            parsed = Severity.parse(level)
        except ValueError as error:
            raise ConfigError(f"'severity.{code}': {error}") from None
        for expanded in _codes([code], f"severity.{code}"):
            severities[expanded] = parsed

    fail_on_text = overrides.fail_on or table.get("fail-on", "info")
    try:
        fail_on = Severity.parse(fail_on_text)
    except ValueError as error:
        raise ConfigError(f"'fail-on': {error}") from None

    exclude = _strings(table.get("exclude", []), "exclude")
    if overrides.exclude:
        exclude = exclude + tuple(overrides.exclude)
    return Settings(
        enabled=frozenset(enabled),
        exclude=exclude,
        extend_exclude=_strings(table.get("extend-exclude", []), "extend-exclude"),
        per_file_ignores=tuple(per_file),
        fail_on=fail_on,
        severity=severities,
        options=_options(table.get("options", {})),
        fixable=frozenset(_codes(table["fixable"], "fixable")) if "fixable" in table else None,
        unfixable=frozenset(_codes(table.get("unfixable", []), "unfixable")),
    )


def load_settings(
    config_file: Path | None, start: Path, overrides: Overrides | None = None
) -> tuple[Settings, Path | None]:
    """Settings for a run from ``--config`` or the pyproject found upward from ``start``."""
    path = config_file if config_file is not None else find_config(start)
    table = read_table(path) if path is not None else {}
    try:
        return build_settings(table, overrides), path
    except ConfigError as error:
        message = str(error)
        if path is None or message.startswith("'--"):
            raise
        raise ConfigError(f"{path}: {message}") from None


def default_settings(**options: Any) -> Settings:
    """All rules on, no config file: what tests and API users start from."""
    return build_settings({"options": options} if options else {})
