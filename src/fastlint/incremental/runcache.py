"""A run-level result cache: an unchanged project is reported without parsing anything.

The key covers everything a run's output depends on: fastlint's version, a digest of its own
installed source (so an edited or upgraded install never answers with old messages), the cache
format, the Python version and the versions of the libraries fastlint depends on, the effective
settings, the working folder and, for every file the run reads, its path, kind, whether it is
reported on, and a hash of its bytes. A hit returns the stored diagnostics, deployment summary
and source snippets; any difference is a miss and a full run, whose result is stored for next
time.

A run that misses re-checks only what changed: each Python file's findings are also kept
per file, with the modules they were computed from (:mod:`fastlint.incremental.store`), and a
miss reuses every entry that still holds. The cache is plain JSON, never pickle: a corrupt or
foreign file is discarded, never trusted, and a cache folder that cannot be written is
silently skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from functools import cache
from importlib import metadata
from pathlib import Path

from fastlint import __version__
from fastlint.config import Settings
from fastlint.diagnostics import Diagnostic
from fastlint.discovery import SourceFile, find_project_root
from fastlint.reading import UnreadableFile, max_file_size, read_bytes
from fastlint.result import LintResult

CACHE_FORMAT = 1
DEFAULT_FOLDER = ".fastlint_cache"
KEEP_RUNS = 16  # run entries kept; older ones are removed when a run stores its result
# What fastlint reads with when fastlint's own metadata is not installed (a source checkout on
# PYTHONPATH); otherwise its declared dependencies are asked.
_DEPENDENCIES = ("libcst", "dockerfile-parse", "click", "rich", "tomli")


@cache
def _versions() -> tuple[str, ...]:
    found = [__version__, str(CACHE_FORMAT), "{}.{}".format(*sys.version_info[:2])]
    found.append(f"source={source_digest()}")
    for name in _dependency_names():
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=?")
    return tuple(found)


def _dependency_names() -> list[str]:
    try:
        requirements = metadata.requires("fastlint") or []
    except metadata.PackageNotFoundError:
        return list(_DEPENDENCIES)
    names = set()
    for requirement in requirements:
        if "extra ==" in requirement:
            continue  # the test extras do not change a finding
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        if match:
            names.add(match.group(0).lower())
    return sorted(names)


_PACKAGE = Path(__file__).resolve().parent.parent


def source_digest(package: Path = _PACKAGE) -> str:
    """A digest of every Python file of the fastlint package as installed: what the findings,
    their messages and this cache's layout were computed by."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def seeded(settings: Settings, root: Path, cwd: Path) -> hashlib._Hash:
    """A hash of what every result depends on besides the files: versions, settings, folders."""
    digest = hashlib.sha256()
    for part in (*_versions(), settings.fingerprint(), str(root), str(cwd)):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return digest


def run_key(sources: list[SourceFile], settings: Settings, root: Path, cwd: Path) -> str:
    """The hash of everything a run over ``sources`` depends on."""
    digest = seeded(settings, root, cwd)
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


def entry_path(folder: Path, paths: Sequence[Path], cwd: Path) -> Path:
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
        templates = int(result.get("templates", 0))
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
        diagnostics=diagnostics,
        files=files,
        templates=templates,
        texts=texts,
        cached_deployment=deployment,
    )


def store(entry: Path, key: str, result: LintResult) -> None:
    """Write ``result`` atomically; a folder that cannot be written is skipped silently."""
    document = {
        "format": CACHE_FORMAT,
        "key": key,
        "result": {
            "diagnostics": [d.to_dict() for d in result.diagnostics],
            "files": result.files,
            "templates": result.templates,
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


def default_cache_dir(paths: Sequence[Path]) -> Path:
    """``.fastlint_cache/`` at the project root of the first path."""
    first = next(iter(paths), Path("."))
    return find_project_root(first) / DEFAULT_FOLDER
