"""The speed layer: the result cache, the per-file store, worker processes and the recorder
that tells what each file's findings were computed from. It wraps :mod:`fastlint.engine` from
outside; neither the engine nor any rule imports anything from here.

:func:`lint` is the run the command line makes. A run the result cache answers imports neither
LibCST nor any rule: :mod:`fastlint.incremental.steps` (and the engine) only on a miss.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Callable

from fastlint.config import Settings
from fastlint.discovery import absolute_path, discover, find_project_root
from fastlint.incremental import runcache
from fastlint.result import LintResult


def lint(
    paths: Sequence[Path],
    settings: Settings,
    *,
    cache_dir: Path | None,
    cwd: Path | None = None,
    root: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    jobs: int | None = None,
    texts: Mapping[Path, str] | None = None,
) -> LintResult:
    """Lint ``paths`` behind the result cache (``cache_dir`` None: no cache), checking Python
    files in ``jobs`` processes (None: as many as the machine and the amount of code make
    worthwhile). The findings are the same for any ``jobs`` and with or without a cache.
    ``root``: the project root (default: found from the first path).
    ``texts`` (path → text) stands in for those files on disk, as an editor's unsaved buffer;
    the result cache keys files by their bytes on disk, so such a run uses none."""
    paths = list(paths) or [Path(".")]
    cwd = (cwd or Path.cwd()).resolve()
    root = (root or find_project_root(paths[0])).resolve()
    given = {absolute_path(path): text for path, text in (texts or {}).items()}
    sources = discover(paths, root, settings.all_excludes, cwd, unsaved=list(given))
    if cache_dir is None or given:
        return run(paths, settings, root, cwd, sources, progress, jobs, None, given)
    folder = cache_dir if cache_dir.is_absolute() else cwd / cache_dir
    key = runcache.run_key(sources, settings, root, cwd)
    entry = runcache.entry_path(folder, paths, cwd)
    cached = runcache.load(entry, key)
    if cached is not None:
        return cached
    from fastlint.incremental.store import FileStore

    store = FileStore.for_project(folder, sources, settings, root, cwd)
    result = run(paths, settings, root, cwd, sources, progress, jobs, store)
    runcache.store(entry, key, result)
    store.save()
    return result


def run(*args: object, **kwargs: object) -> LintResult:
    """:func:`fastlint.incremental.steps.run`, imported on a cache miss only."""
    from fastlint.incremental.steps import run as run_steps

    return run_steps(*args, **kwargs)  # type: ignore[arg-type]


def default_cache_dir(paths: Sequence[Path]) -> Path:
    """``.fastlint_cache/`` at the project root of the first path."""
    return runcache.default_cache_dir(paths)
