"""Walk the given paths and classify the files fastlint reads."""

from __future__ import annotations

import enum
import fnmatch
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


class FileKind(str, enum.Enum):
    PYTHON = "python"
    DOCKERFILE = "dockerfile"
    GUNICORN = "gunicorn"
    SHELL = "shell"
    PROCFILE = "procfile"
    COMPOSE = "compose"  # docker-compose / compose files, by name
    KUBERNETES = "kubernetes"  # YAML with top-level apiVersion and kind, wherever it lives
    # Read only for the Dockerfile stages they build (docker build --target): never reported.
    MAKEFILE = "makefile"
    WORKFLOW = "workflow"  # .github/workflows/*.yml


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    relpath: str  # POSIX, relative to the project root: what globs and module names use
    display: str  # POSIX, relative to the working directory when possible: what reports show
    kind: FileKind
    report: bool  # False for files read only as project context
    # Under a cookiecutter/copier folder whose name is a Jinja expression (``{{cookiecutter.
    # project_slug}}/``): not code until the template is rendered, so skipped and counted.
    template: bool = False


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
        ".hypothesis",
        ".venv",
        "venv",
        ".eggs",
        "site-packages",
    }
)

GUNICORN_NAMES = frozenset(
    {"gunicorn.conf.py", "gunicorn_conf.py", "gunicorn_config.py", "gunicorn.config.py"}
)

# Files named like a Dockerfile that are not one: BuildKit's per-Dockerfile ignore file,
# documentation, backups and templates (a Jinja template is not valid Dockerfile syntax).
_NOT_DOCKERFILE_SUFFIXES = (
    ".dockerignore",
    ".md",
    ".rst",
    ".txt",
    ".json",
    ".yml",
    ".yaml",
    ".bak",
    ".orig",
    ".swp",
    ".j2",
    ".jinja",
    ".jinja2",
    ".tmpl",
    ".tpl",
    ".template",
    ".sh",
    ".bash",
    ".log",
)
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh", "zsh"})


def classify(path: Path) -> FileKind | None:
    """The front end that reads ``path``, by name (and shebang for extension-less scripts)."""
    name = path.name
    lower = name.lower()
    if name in GUNICORN_NAMES:
        return FileKind.GUNICORN
    if lower.endswith(".py"):
        return FileKind.PYTHON
    if _is_dockerfile_name(lower):
        return FileKind.DOCKERFILE
    if lower == "procfile" or lower.startswith("procfile."):
        return FileKind.PROCFILE
    if lower.endswith((".sh", ".bash")):
        return FileKind.SHELL
    if "." not in name and _has_shell_shebang(path):
        return FileKind.SHELL
    if lower in ("makefile", "gnumakefile") or lower.endswith(".mk"):
        return FileKind.MAKEFILE
    if lower.endswith((".yml", ".yaml")):
        if path.parent.name == "workflows" and path.parent.parent.name == ".github":
            return FileKind.WORKFLOW
        if _COMPOSE_NAME.match(lower):
            return FileKind.COMPOSE
        if _looks_like_kubernetes(path):
            return FileKind.KUBERNETES
    return None


# compose.yaml, docker-compose.yml, compose.override.yaml, docker-compose.prod.yml...
_COMPOSE_NAME = re.compile(r"^(docker-)?compose(\.[\w-]+)*\.ya?ml$")
# A Kubernetes object: top-level apiVersion and kind (Helm templates included; the loader skips
# those with Go templates). Other YAML (CI workflows, app configs, Chart.yaml) has not both.
_API_VERSION = re.compile(rb"^apiVersion:[ \t]*\S", re.M)
_KIND = re.compile(rb"^kind:[ \t]*\S", re.M)
_SNIFF_BYTES = 65_536


def _looks_like_kubernetes(path: Path) -> bool:
    try:
        if not os.path.isfile(path):  # a FIFO named *.yaml would block the read
            return False
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    return bool(_API_VERSION.search(head)) and bool(_KIND.search(head))


def _is_dockerfile_name(lower: str) -> bool:
    if lower.endswith(_NOT_DOCKERFILE_SUFFIXES):
        return False
    for base in ("dockerfile", "containerfile"):
        if lower == base or lower.startswith((base + ".", base + "-", base + "_")):
            return True
        if lower.endswith("." + base):
            return True
    return False


def _has_shell_shebang(path: Path) -> bool:
    """``#!/bin/sh``, ``#! /usr/bin/env bash``, ``#!/usr/bin/env -S bash -e`` and so on."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return False  # opening a named pipe would wait for a writer forever
        with path.open("rb") as handle:
            head = handle.read(128)
    except OSError:
        return False
    if not head.startswith(b"#!"):
        return False
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if words and os.path.basename(words[0]) == "env":
        words = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
    return bool(words) and os.path.basename(words[0]) in _SHELLS


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``pyproject.toml`` or ``.git``."""
    start = Path(os.path.abspath(start))
    folder = start if start.is_dir() else start.parent
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file() or (candidate / ".git").exists():
            return candidate
    return folder


def find_repository_root(start: Path) -> Path:
    """The repository's top level (the nearest folder at or above ``start`` holding ``.git``),
    else the project root: where CI formats anchor their paths."""
    project = find_project_root(start)
    for candidate in (project, *project.parents):
        if (candidate / ".git").exists():
            return candidate
    return project


# ---------------------------------------------------------------------------- ignore rules


def _glob_to_regex(pattern: str) -> str:
    """A .gitignore glob as a regex over a POSIX path relative to the .gitignore's folder."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("/.*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                out.append(re.escape(char))
                i += 1
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
        elif char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class _IgnoreRule:
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


class GitIgnore:
    """One ``.gitignore`` file: globs, ``dir/``, ``/anchored``, ``**``, ``!negation``."""

    def __init__(self, base: Path, text: str) -> None:
        self.base = base
        self._prefix = base.as_posix().rstrip("/") + "/"
        self.rules: list[_IgnoreRule] = []
        for raw in text.splitlines():
            line = raw.rstrip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            if negated or line.startswith("\\"):  # "\#" and "\!" escape a leading char
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            # A slash at the start or in the middle anchors the pattern to this folder;
            # otherwise it matches a name at any depth.
            anchored = "/" in line
            line = line.lstrip("/")
            if not line:
                continue
            body = _glob_to_regex(line)
            regex = body if anchored else f"(?:.*/)?{body}"
            self.rules.append(_IgnoreRule(re.compile(f"^{regex}$"), negated, dir_only))

    @classmethod
    def read(cls, folder: Path) -> GitIgnore | None:
        try:
            text = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        ignore = cls(folder, text)
        return ignore if ignore.rules else None

    def decision(self, path: str, is_dir: bool) -> bool | None:
        """For an absolute POSIX ``path``: True (ignored), False (re-included by ``!``), or
        None (no rule matched, or the path is not below this file's folder)."""
        if not path.startswith(self._prefix):
            return None
        rel = path[len(self._prefix) :]
        result: bool | None = None
        for rule in self.rules:
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match(rel):
                result = not rule.negated
        return result


def _ignored(path: str, is_dir: bool, ignores: Sequence[GitIgnore]) -> bool:
    """Whether the innermost ``.gitignore`` with an opinion ignores ``path``."""
    for ignore in reversed(ignores):
        decision = ignore.decision(path, is_dir)
        if decision is not None:
            return decision
    return False


def _ancestor_ignores(root: Path) -> list[GitIgnore]:
    """``.gitignore`` files from the repository top (the folder holding ``.git``) down to
    ``root``; when no ``.git`` is found above, only ``root``'s own."""
    chain = [root]
    for parent in root.parents:
        if (chain[-1] / ".git").exists():
            break
        chain.append(parent)
    else:
        chain = [root]
    ignores = [GitIgnore.read(folder) for folder in reversed(chain)]
    return [ignore for ignore in ignores if ignore is not None]


def _normalise_glob(glob: str) -> str:
    glob = glob.strip().replace("\\", "/")
    while glob.startswith("./"):
        glob = glob[2:]
    return glob.rstrip("/")


def matches_glob(relpath: str, glob: str) -> bool:
    """``exclude`` / ``per-file-ignores`` matching: a glob over the path from the project root
    (``*`` crosses folders, as in ruff), a trailing match (``migrations/*.py``), or a name."""
    return _excluded_by_globs(relpath, (glob,))


def _excluded_by_globs(relpath: str, globs: Sequence[str]) -> bool:
    if not globs:
        return False
    parts = relpath.split("/")
    for glob in globs:
        glob = _normalise_glob(glob)
        if not glob:
            continue
        if fnmatch.fnmatchcase(relpath, glob):
            return True
        # Matched from the right, part by part (PurePath.match): "migrations", "api/*.py".
        glob_parts = glob.split("/")
        if len(glob_parts) <= len(parts) and all(
            fnmatch.fnmatchcase(part, pattern)
            for part, pattern in zip(parts[-len(glob_parts) :], glob_parts)
        ):
            return True
    return False


def _is_skipped_dir(name: str, folder: str) -> bool:
    return (
        (name in SKIP_DIRS and not (name in _OUTPUT_DIRS and _holds_python(folder)))
        or name.endswith(".egg-info")
        or os.path.exists(os.path.join(folder, "pyvenv.cfg"))  # any virtualenv, whatever its name
        or os.path.isdir(os.path.join(folder, "conda-meta"))  # a conda environment
    )


def is_template_path(relpath: str) -> bool:
    """A path with a Jinja expression in a folder or file name (cookiecutter, copier)."""
    return "{{" in relpath or "{%" in relpath


_JINJA_MARKER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")


def has_jinja_markers(text: str) -> bool:
    """Text holding ``{{ ... }}`` or ``{% ... %}``: a Jinja template, if it is not valid code."""
    return ("{{" in text or "{%" in text) and _JINJA_MARKER.search(text) is not None


# Build output folders, skipped unless they are a Python package of the project (a feature
# called ``build``): setuptools puts its copies one level down (``build/lib/``), and ``dist/``
# holds archives.
_OUTPUT_DIRS = frozenset({"build", "dist"})


def _holds_python(folder: str) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(entry.name.endswith(".py") and entry.is_file() for entry in entries)
    except OSError:
        return False


# ---------------------------------------------------------------------------- walking


def _display(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        try:
            return Path(os.path.relpath(path, cwd)).as_posix()
        except ValueError:  # another drive on Windows
            return path.as_posix()


def _relpath(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix().lstrip("/")


def absolute_path(path: Path) -> Path:
    """An absolute path with its folders resolved (like the root) but a final symlink kept as
    the link, so a symlinked Dockerfile shows under its own name."""
    absolute = Path(os.path.abspath(path))
    return Path(os.path.realpath(absolute.parent)) / absolute.name


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def discover(
    paths: Sequence[Path],
    root: Path,
    exclude: Sequence[str] = (),
    cwd: Path | None = None,
    unsaved: Sequence[Path] = (),
) -> list[SourceFile]:
    """Files under ``root`` that fastlint reads, in a stable order.

    Folders given in ``paths`` are walked (the folder itself is never excluded: naming it is
    asking for it). Files given explicitly, as pre-commit does, are reported on unless the
    configuration or ``.gitignore`` excludes them, and then the whole project is read as context
    (not reported on) so cross-file rules see every module. ``unsaved`` files count as files
    even when they are not on disk (their text comes from stdin).
    """
    cwd = (cwd or Path.cwd()).resolve()
    root = root.resolve()
    ignores = _ancestor_ignores(root)
    explicit_files: list[Path] = []
    walk_roots: list[Path] = []
    unsaved_files = {absolute_path(path) for path in unsaved}
    for given in paths:
        absolute = absolute_path(given)
        if absolute.is_dir():
            walk_roots.append(absolute.resolve())
        elif (
            (absolute.is_file() or absolute in unsaved_files)
            and classify(absolute) is not None
            and not _explicit_file_excluded(absolute, root, exclude, ignores)
        ):
            explicit_files.append(absolute)

    display = _Display(root, cwd)
    found: dict[str, SourceFile] = {}

    def add(path: str, rel: str, report: bool) -> None:
        previous = found.get(path)
        if previous is not None and (previous.report or not report):
            return
        absolute = Path(path)
        kind = classify(absolute)
        if kind is not None:
            template = is_template_path(rel)
            found[path] = SourceFile(absolute, rel, display(path, rel), kind, report, template)

    for folder in walk_roots:
        for path, rel in _walk(folder, root, exclude, ignores):
            add(path, rel, report=True)
    if explicit_files:
        # Project context for cross-file rules; files already found keep their report flag.
        for path, rel in _walk(root, root, exclude, ignores):
            add(path, rel, report=False)
        for explicit in explicit_files:
            add(str(explicit), _relpath(explicit, root), report=True)
    return sorted(found.values(), key=lambda source: source.relpath)


class _Display:
    """Display paths (relative to the working folder) from root-relative ones, cheaply."""

    def __init__(self, root: Path, cwd: Path) -> None:
        self.cwd = cwd
        self.root = root.as_posix().rstrip("/") + "/"
        try:
            self.prefix: str | None = root.relative_to(cwd).as_posix()
        except ValueError:
            self.prefix = None

    def __call__(self, path: str, rel: str) -> str:
        if self.prefix is not None and path.startswith(self.root):
            return rel if self.prefix == "." else f"{self.prefix}/{rel}"
        return _display(Path(path), self.cwd)


def _explicit_file_excluded(
    path: Path, root: Path, exclude: Sequence[str], ignores: Sequence[GitIgnore]
) -> bool:
    """Config excludes, skipped folders and .gitignore apply to explicitly given files too, so
    a pre-commit run agrees with ``fastlint .`` (ruff calls this force-exclude)."""
    if not _inside(path, root):
        return False
    relpath = _relpath(path, root)
    parts = relpath.split("/")
    for depth in range(1, len(parts) + 1):
        if _excluded_by_globs("/".join(parts[:depth]), exclude):
            return True
    folder = root
    chain = list(ignores)
    for part in parts[:-1]:
        folder = folder / part
        if _is_skipped_dir(part, str(folder)) or _ignored(folder.as_posix(), True, chain):
            return True
        nested = GitIgnore.read(folder)
        if nested is not None:
            chain.append(nested)
    return _ignored(path.as_posix(), False, chain)


def _walk(
    folder: Path, root: Path, exclude: Sequence[str], ignores: Sequence[GitIgnore]
) -> Iterator[tuple[str, str]]:
    """(absolute path, path relative to ``root``) of the files below ``folder``.

    Symlinked folders are never followed (no loops, no escaping the root; what they point to
    inside the root is walked anyway); a symlinked file is read when it points inside ``root``
    (a symlinked Dockerfile is common), and a broken or looping link is yielded so the reader
    reports it as FL000. Paths stay strings here: pathlib is the slow part of a big walk."""
    start_rel = "" if folder == root else _relpath(folder, root)
    stack = [(str(folder), start_rel, _ignores_down_to(folder, root, ignores))]
    while stack:
        current, current_rel, chain = stack.pop()
        try:
            entries = sorted(os.scandir(current), key=lambda entry: entry.name)
        except OSError:
            continue  # unreadable folder: nothing we can lint in it
        subfolders: list[tuple[str, str]] = []
        for entry in entries:
            rel = f"{current_rel}/{entry.name}" if current_rel else entry.name
            try:
                is_link = entry.is_symlink()
                is_dir = not is_link and entry.is_dir()
            except OSError:
                continue
            if is_dir:
                if not (
                    _is_skipped_dir(entry.name, entry.path)
                    or _excluded_by_globs(rel, exclude)
                    or _ignored(entry.path, True, chain)
                ):
                    subfolders.append((entry.path, rel))
                continue
            if _excluded_by_globs(rel, exclude) or _ignored(entry.path, False, chain):
                continue
            if is_link and not _link_target_allowed(Path(entry.path), root):
                continue
            yield entry.path, rel
        for sub, sub_rel in reversed(subfolders):
            nested = GitIgnore.read(Path(sub))
            stack.append((sub, sub_rel, [*chain, nested] if nested is not None else chain))


def _link_target_allowed(path: Path, root: Path) -> bool:
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return classify(path) is not None  # broken or looping: FL000 says so
    return target.is_file() and _inside(target, root)


def _ignores_down_to(folder: Path, root: Path, ignores: Sequence[GitIgnore]) -> list[GitIgnore]:
    """The ignore chain for a walk that starts in ``folder``: nested ``.gitignore`` files
    between ``root`` and ``folder`` apply too."""
    chain = list(ignores)
    if folder == root:
        return chain
    if not _inside(folder, root):
        own = GitIgnore.read(folder)
        return [*chain, own] if own is not None else chain
    current = root
    for part in folder.relative_to(root).parts:
        current = current / part
        nested = GitIgnore.read(current)
        if nested is not None:
            chain.append(nested)
    return chain
