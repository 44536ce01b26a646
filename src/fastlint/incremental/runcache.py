"""A run-level result cache: an unchanged project is reported without parsing anything.

The key covers everything a run's output depends on: fastlint's version and cache format, the
Python and parser versions, the effective settings, the working folder and, for every file the
run reads, its path, kind, whether it is reported on, and a hash of its bytes. A hit returns the
stored diagnostics, deployment summary and source snippets; any difference is a miss and a full
run, whose result is stored for next time.

A run that misses re-checks only what changed: each Python file's findings are also kept
per file, with the modules they were computed from (:mod:`fastlint.file_cache`), and a miss
reuses every entry that still holds. The cache is plain JSON, never pickle: a corrupt or
foreign file is discarded, never trusted, and a cache folder that cannot be written is
silently skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from fastlint import __version__
from fastlint.config import Settings
from fastlint.diagnostics import Diagnostic
from fastlint.discovery import SourceFile, discover, find_project_root
from fastlint.reading import UnreadableFile, max_file_size, read_bytes
from fastlint.result import LintResult

if TYPE_CHECKING:
    from fastlint.file_cache import FileStore

CACHE_FORMAT = 1
DEFAULT_FOLDER = ".fastlint_cache"
KEEP_RUNS = 16  # run entries kept; older ones are removed when a run stores its result
_DEPENDENCIES = ("libcst", "dockerfile-parse")


def _versions() -> list[str]:
    found = [__version__, str(CACHE_FORMAT), "{}.{}".format(*sys.version_info[:2])]
    for name in _DEPENDENCIES:
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=?")
    return found


def run_key(paths: Sequence[Path], settings: Settings, root: Path, cwd: Path) -> str:
    """The hash of everything a run over ``paths`` depends on."""
    return _run_key(discover(paths, root, settings.all_excludes, cwd), settings, root, cwd)


def _seeded(settings: Settings, root: Path, cwd: Path) -> hashlib._Hash:
    """A hash of what every result depends on besides the files: versions, settings, folders."""
    digest = hashlib.sha256()
    for part in (*_versions(), settings.fingerprint(), str(root), str(cwd)):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return digest


def _run_key(sources: list[SourceFile], settings: Settings, root: Path, cwd: Path) -> str:
    digest = _seeded(settings, root, cwd)
    max_size = max_file_size(settings)
    for source in sources:
        digest.update(
            f"{source.relpath}\0{source.display}\0{source.kind.value}\0{source.report}\0".encode(
                "utf-8", "surrogateescape"
            )
        )
        digest.update(_content_key(source.path, max_size))
    return digest.hexdigest()


def _content_key(path: Path, max_size: int) -> bytes:
    """The file's content hash or, for a file the run skips unread (a pipe would block
    forever; a file over max-file-size), the reason its FL000 will give."""
    try:
        return hashlib.sha256(read_bytes(path, max_size)).digest()
    except UnreadableFile as error:
        return f"unreadable:{error.reason}".encode("utf-8", "surrogateescape")


def _entry_path(folder: Path, paths: Sequence[Path], cwd: Path) -> Path:
    """One entry per (working folder, targets): ``fastlint app/`` and ``fastlint .`` coexist."""
    targets = "\0".join(sorted(str(p) for p in paths))
    name = hashlib.sha256(f"{cwd}\0{targets}".encode("utf-8", "surrogateescape")).hexdigest()
    return folder / f"run-{name[:24]}.json"


def load(entry: Path, key: str) -> LintResult | None:
    """The stored result for ``key``, or None; a corrupt or foreign entry is removed."""
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        _discard(entry)
        return None
    try:
        if data["format"] != CACHE_FORMAT or data["key"] != key:
            return None  # another version or a changed project: the next store overwrites it
        result = data["result"]
        diagnostics = [Diagnostic.from_dict(item) for item in result["diagnostics"]]
        files = int(result["files"])
        deployment = result["deployment"]
        texts = result["sources"]
        if not isinstance(texts, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in texts.items()
        ):
            raise TypeError("sources")
        if deployment is not None and not isinstance(deployment, dict):
            raise TypeError("deployment")
    except (KeyError, TypeError, ValueError):
        _discard(entry)
        return None
    return LintResult(
        diagnostics=diagnostics, files=files, texts=texts, cached_deployment=deployment
    )


def store(entry: Path, key: str, result: LintResult) -> None:
    """Write ``result`` atomically; a folder that cannot be written is skipped silently."""
    document = {
        "format": CACHE_FORMAT,
        "key": key,
        "result": {
            "diagnostics": [d.to_dict() for d in result.diagnostics],
            "files": result.files,
            "deployment": result.deployment_summary(),
            "sources": result.sources(),
        },
    }
    try:
        _prepare_folder(entry.parent)
        handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(document))  # dumps: C encoder; dump streams in Python
        os.replace(temporary, entry)
    except OSError:
        return
    _prune(entry.parent, keep=entry)


def _prune(folder: Path, keep: Path) -> None:
    """Drop all but the newest run entries: pre-commit adds one per set of staged files."""
    try:
        entries = [(path.stat().st_mtime, path) for path in folder.glob("run-*.json")]
    except OSError:
        return
    entries.sort(reverse=True)
    for _, path in entries[KEEP_RUNS:]:
        if path != keep:
            _discard(path)


def _prepare_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Created by fastlint: its result cache is not source.\n*\n")


def _discard(entry: Path) -> None:
    with contextlib.suppress(OSError):
        entry.unlink()


def cached_lint(
    paths: Sequence[Path],
    settings: Settings,
    *,
    cache_dir: Path | None,
    cwd: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    jobs: int | None = None,
) -> LintResult:
    """``engine.lint`` behind the run cache (``cache_dir`` None: no cache). The number of
    ``jobs`` is not part of any key: the findings are the same for any."""
    paths = list(paths) or [Path(".")]
    cwd = (cwd or Path.cwd()).resolve()
    root = find_project_root(paths[0]).resolve()
    if cache_dir is None:
        return _lint(paths, settings, root, cwd, progress, jobs)
    folder = cache_dir if cache_dir.is_absolute() else cwd / cache_dir
    sources = discover(paths, root, settings.all_excludes, cwd)
    key = _run_key(sources, settings, root, cwd)
    entry = _entry_path(folder, paths, cwd)
    cached = load(entry, key)
    if cached is not None:
        return cached
    files = _file_store(folder, sources, settings, root, cwd)
    result = _lint(paths, settings, root, cwd, progress, jobs, files)
    store(entry, key, result)
    files.save()
    return result


def _file_store(
    folder: Path, sources: list[SourceFile], settings: Settings, root: Path, cwd: Path
) -> FileStore:
    """The project's per-file entries. One store per working folder and root, so that
    ``fastlint .`` and pre-commit's ``fastlint a.py`` share it; its key covers what every
    entry depends on besides the files themselves: versions, settings and the file list."""
    from fastlint.file_cache import FileStore

    digest = _seeded(settings, root, cwd)
    for source in sources:
        digest.update(f"{source.display}\0{source.kind.value}\0".encode("utf-8", "surrogateescape"))
    where = hashlib.sha256(f"{cwd}\0{root}".encode("utf-8", "surrogateescape")).hexdigest()
    return FileStore(folder / f"files-{where[:24]}.json", digest.hexdigest())


def _lint(
    paths: Sequence[Path],
    settings: Settings,
    root: Path,
    cwd: Path,
    progress: Callable[[int, int], None] | None,
    jobs: int | None,
    files: FileStore | None = None,
) -> LintResult:
    from fastlint.engine import lint  # LibCST and every rule: imported only on a cache miss

    return lint(paths, settings, root=root, cwd=cwd, progress=progress, store=files, jobs=jobs)


def default_cache_dir(paths: Sequence[Path]) -> Path:
    """``.fastlint_cache/`` at the project root of the first path."""
    first = next(iter(paths), Path("."))
    return find_project_root(first) / DEFAULT_FOLDER
