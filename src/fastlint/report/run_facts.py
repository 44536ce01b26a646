"""What a run is set up to do, for people checking it: ``--show-settings``, ``--show-files``
and the ``--verbose`` lines (config file, phase timings, cache hits)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastlint.config import Settings
from fastlint.discovery import discover, find_project_root, find_repository_root
from fastlint.registry import known_options


def settings_data(settings: Settings, config: Path | None, targets: Sequence[Path]) -> dict:
    """The resolved settings as plain data: every value a run uses, defaults included."""
    first = targets[0] if targets else Path(".")
    options = {name: option.default for name, option in sorted(known_options().items())}
    options.update(settings.options)
    return {
        "config_file": str(config.resolve()) if config is not None else None,
        "project_root": str(find_project_root(first)),
        "repository_root": str(find_repository_root(first)),
        "select": sorted(settings.enabled),
        "exclude": list(settings.exclude),
        "extend_exclude": list(settings.extend_exclude),
        "per_file_ignores": {glob: sorted(codes) for glob, codes in settings.per_file_ignores},
        "fail_on": settings.fail_on.value,
        "severity": {code: level.value for code, level in sorted(settings.severity.items())},
        "options": options,
    }


def settings_text(
    settings: Settings, config: Path | None, targets: Sequence[Path], fmt: str
) -> str:
    data = settings_data(settings, config, targets)
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    if data["config_file"] is None:
        data["config_file"] = "none (built-in defaults)"
    lines = []
    for key, value in data.items():
        label = key.replace("_", "-")
        if isinstance(value, dict):
            lines.append(f"{label}:" if value else f"{label}: (none)")
            lines.extend(f"  {name} = {_plain(item)}" for name, item in value.items())
        else:
            lines.append(f"{label}: {_plain(value)}")
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) if value else "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def files_text(
    targets: Sequence[Path], settings: Settings, fmt: str, unsaved: Sequence[Path] = ()
) -> str:
    """Each file a run over ``targets`` reports on, with its kind; context-only files (read
    for cross-file rules when files are passed) are not listed."""
    root = find_project_root(targets[0] if targets else Path("."))
    sources = discover(targets, root, settings.all_excludes, unsaved=unsaved)
    checked = [source for source in sources if source.report]
    if fmt == "json":
        rows = [{"path": source.display, "kind": source.kind.value} for source in checked]
        return json.dumps(rows, indent=2) + "\n"
    width = max((len(source.kind.value) for source in checked), default=0)
    return "".join(f"{source.kind.value:<{width}}  {source.display}\n" for source in checked)


def verbose_lines(
    config: Path | None,
    targets: Sequence[Path],
    result: Any,
    timings: dict[str, float],
    cache_dir: Path | None,
) -> list[str]:
    first = targets[0] if targets else Path(".")
    lines = [
        f"config: {config.resolve() if config is not None else 'none (built-in defaults)'}",
        f"project root: {find_project_root(first)}",
    ]
    if cache_dir is None:
        lines.append("cache: off")
    elif result.context is None:
        lines.append(f"cache: hit, the whole result came from {cache_dir}")
    elif result.cache_report is not None:
        report = result.cache_report
        python = sum(
            1 for source in result.context.files if source.report and source.kind.value == "python"
        )
        lines.append(
            f"cache: {len(report.reused)} of {python} Python files' findings reused from "
            f"{cache_dir}, {len(report.checked)} checked"
        )
    phases = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in timings.items())
    lines.append(f"timings: {phases}")
    return lines
