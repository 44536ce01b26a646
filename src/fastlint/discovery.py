"""Walk the given paths and classify the files fastlint reads."""

from __future__ import annotations

import enum
import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath


class FileKind(str, enum.Enum):
    PYTHON = "python"
    DOCKERFILE = "dockerfile"
    GUNICORN = "gunicorn"
    SHELL = "shell"
    PROCFILE = "procfile"


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    relpath: str  # POSIX, relative to the project root: what globs and module names use
    display: str  # POSIX, relative to the working directory when possible: what reports show
    kind: FileKind
    report: bool  # False for files read only as project context


SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        "build",
        "dist",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".fastlint_cache",
        ".venv",
        "venv",
        ".eggs",
    }
)

GUNICORN_NAMES = frozenset(
    {"gunicorn.conf.py", "gunicorn_conf.py", "gunicorn_config.py", "gunicorn.config.py"}
)
_SHELL_SHEBANGS = (
    b"#!/bin/sh",
    b"#!/bin/bash",
    b"#!/usr/bin/env sh",
    b"#!/usr/bin/env bash",
    b"#!/bin/dash",
    b"#!/usr/bin/env dash",
    b"#!/bin/ash",
)


def classify(path: Path) -> FileKind | None:
    """The front end that reads ``path``, by name (and shebang for extension-less scripts)."""
    name = path.name
    lower = name.lower()
    if name in GUNICORN_NAMES:
        return FileKind.GUNICORN
    if lower.endswith(".py"):
        return FileKind.PYTHON
    if (
        name in ("Dockerfile", "Containerfile")
        or name.startswith(("Dockerfile.", "Containerfile."))
        or lower.endswith((".dockerfile", ".containerfile"))
    ):
        return FileKind.DOCKERFILE
    if name == "Procfile" or name.startswith("Procfile."):
        return FileKind.PROCFILE
    if lower.endswith((".sh", ".bash")):
        return FileKind.SHELL
    if "." not in name and _has_shell_shebang(path):
        return FileKind.SHELL
    return None


def _has_shell_shebang(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(32)
    except OSError:
        return False
    return head.startswith(_SHELL_SHEBANGS)


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``pyproject.toml`` or ``.git``."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file() or (candidate / ".git").exists():
            return candidate
    return folder


class _GitIgnore:
    """The .gitignore syntax projects use: globs, ``dir/``, ``/anchored``, ``!negation``."""

    def __init__(self, root: Path) -> None:
        self.rules: list[tuple[str, bool, bool, bool]] = []  # pattern, negated, dir_only, anchored
        try:
            text = (root / ".gitignore").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            line = line[1:] if negated else line
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            anchored = "/" in line
            line = line.lstrip("/")
            if line:
                self.rules.append((line, negated, dir_only, anchored))

    def ignores(self, relpath: str, is_dir: bool) -> bool:
        ignored = False
        name = relpath.rsplit("/", 1)[-1]
        for pattern, negated, dir_only, anchored in self.rules:
            if dir_only and not is_dir:
                continue
            target = relpath if anchored else name
            if fnmatch.fnmatchcase(target, pattern) or (
                anchored and fnmatch.fnmatchcase(relpath, pattern + "/**")
            ):
                ignored = not negated
        return ignored


def _matches_any(relpath: str, globs: Sequence[str]) -> bool:
    pure = PurePosixPath(relpath)
    for glob in globs:
        glob = glob.rstrip("/")
        if fnmatch.fnmatchcase(relpath, glob) or pure.match(glob):
            return True
        # A glob naming a folder excludes everything below it.
        if fnmatch.fnmatchcase(relpath, glob + "/*") or relpath.startswith(glob + "/"):
            return True
    return False


def _display(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        try:
            return Path(os.path.relpath(path, cwd)).as_posix()
        except ValueError:
            return path.as_posix()


def discover(
    paths: Sequence[Path],
    root: Path,
    exclude: Sequence[str] = (),
    cwd: Path | None = None,
) -> list[SourceFile]:
    """Files under ``root`` that fastlint reads, in a stable order.

    Folders given in ``paths`` are walked; files given explicitly (as pre-commit does) are
    reported on even if excluded by name, while the rest of the project is still read as
    context so cross-file rules see the whole picture.
    """
    cwd = (cwd or Path.cwd()).resolve()
    root = root.resolve()
    explicit_files: set[Path] = set()
    walk_roots: list[Path] = []
    for given in paths:
        resolved = given.resolve() if not given.is_symlink() else given.absolute()
        if given.is_file():
            explicit_files.add(resolved)
        elif given.is_dir():
            walk_roots.append(resolved)

    context_only = bool(explicit_files) and not walk_roots
    found: dict[Path, SourceFile] = {}
    gitignore = _GitIgnore(root)

    def add(path: Path, report: bool) -> None:
        kind = classify(path)
        if kind is None and path in explicit_files:
            kind = FileKind.PYTHON if path.suffix == ".py" else None
        if kind is None:
            return
        relpath = _relpath(path, root)
        found[path] = SourceFile(path, relpath, _display(path, cwd), kind, report)

    for folder in walk_roots or ([root] if context_only else []):
        for path in _walk(folder, root, exclude, gitignore):
            add(path, report=not context_only and _within_any(path, walk_roots))
    for path in explicit_files:
        add(path, report=True)
    return [found[path] for path in sorted(found, key=lambda p: _relpath(p, root))]


def _within_any(path: Path, folders: Iterable[Path]) -> bool:
    return any(path == folder or folder in path.parents for folder in folders)


def _relpath(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix().lstrip("/")


def _walk(
    folder: Path, root: Path, exclude: Sequence[str], gitignore: _GitIgnore
) -> Iterable[Path]:
    """Files below ``folder``; symlinked folders are never followed, symlinked files only when
    they point inside ``root`` (a symlinked Dockerfile is common)."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        current = Path(dirpath)
        kept = []
        for dirname in sorted(dirnames):
            child = current / dirname
            rel = _relpath(child, root)
            if (
                dirname in SKIP_DIRS
                or dirname.endswith(".egg-info")
                or child.is_symlink()
                or (child / "pyvenv.cfg").exists()
                or _matches_any(rel, exclude)
                or gitignore.ignores(rel, is_dir=True)
            ):
                continue
            kept.append(dirname)
        dirnames[:] = kept
        for filename in sorted(filenames):
            path = current / filename
            rel = _relpath(path, root)
            if _matches_any(rel, exclude) or gitignore.ignores(rel, is_dir=False):
                continue
            if path.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    yield path  # a dangling link or loop: the reader reports it as FL000
                    continue
                if target != root and root not in target.parents:
                    continue
            yield path
