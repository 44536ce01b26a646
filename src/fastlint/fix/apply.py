"""The fix loop: lint a scratch copy of the project, apply the chosen fixes, lint again.

Edits that overlap wait for a later pass (at most :data:`MAX_PASSES`). Every file a pass
changed is parsed again (Python: LibCST, and CPython's compiler when the original compiled);
a fix whose result does not parse is dropped and reported, never written. The real files are
written at the end, each atomically (a temporary file renamed over it), keeping its
permissions, line endings and byte-order mark; a file no fix applies to is never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import libcst as cst

from fastlint.config import Settings
from fastlint.diagnostics import Diagnostic
from fastlint.discovery import FileKind, SourceFile
from fastlint.fix.base import Edit, Fix, Source, fixes_for
from fastlint.result import LintResult

MAX_PASSES = 10
BOM = "\ufeff"

Lint = Callable[[Sequence[Path], Path, Path], LintResult]  # (targets, root, cwd) → result


@dataclass
class Applied:
    path: str  # display path
    rel: str  # path from the project root
    code: str
    line: int
    title: str
    safe: bool


@dataclass
class FixOutcome:
    applied: list[Applied] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # fixes whose result did not parse
    before: dict[str, str] = field(default_factory=dict)  # display path → text, changed files
    after: dict[str, str] = field(default_factory=dict)
    real_paths: dict[str, Path] = field(default_factory=dict)  # display path → file
    passes: int = 0


def choose(diagnostic: Diagnostic, source: Source, unsafe: bool) -> Fix | None:
    """The first fix offered that the run allows."""
    for fix in fixes_for(diagnostic, source):
        if fix.safe or unsafe:
            return fix
    return None


def fix_project(
    result: LintResult,
    targets: Sequence[Path],
    settings: Settings,
    lint: Lint,
    *,
    unsafe: bool,
) -> FixOutcome:
    """Fix what ``result`` (a lint of ``targets`` without the cache) found, in a scratch copy
    of its files; the real files are not written here (see :func:`write_back`)."""
    outcome = FixOutcome()
    if result.context is None:
        return outcome
    ctx = result.context
    root = ctx.root
    with tempfile.TemporaryDirectory(prefix="fastlint-fix-") as scratch_name:
        scratch = Path(scratch_name)
        by_rel: dict[str, SourceFile] = {}
        originals: dict[str, bytes] = {}  # what was linted, to tell what the fixes changed
        for source_file in ctx.files:
            copy = scratch / source_file.relpath
            copy.parent.mkdir(parents=True, exist_ok=True)
            try:
                originals[source_file.relpath] = source_file.path.read_bytes()
            except OSError:
                continue
            copy.write_bytes(originals[source_file.relpath])
            by_rel[source_file.relpath] = source_file
        scratch_targets = [_moved(Path(t), root, scratch) for t in targets]
        cwd = Path.cwd().resolve()
        scratch_cwd = _moved(cwd, root, scratch) if _inside(cwd, root) else scratch
        rejected: set[tuple[str, str, int, str]] = set()
        stalled: set[tuple[str, str]] = set()  # (file, code) whose fixes stopped helping
        current = result
        for _ in range(MAX_PASSES):
            files = current.context.files if current.context is not None else []
            rel_of = {f.display: f.relpath for f in files}
            counts = _counts(current, rel_of)
            applied = len(outcome.applied)
            changed = _one_pass(
                current, rel_of, by_rel, scratch, settings, unsafe, rejected, stalled, outcome
            )
            outcome.passes += 1
            if not changed:
                break
            current = lint(scratch_targets, scratch, scratch_cwd)
            # A fix that leaves as many findings of its code in its file as before would only
            # be offered again, and again: no more fixes for that code in that file.
            files = current.context.files if current.context is not None else []
            now = _counts(current, {f.display: f.relpath for f in files})
            for done in outcome.applied[applied:]:
                key = (done.rel, done.code)
                if now[key] >= counts[key]:
                    stalled.add(key)
        for rel, source_file in by_rel.items():
            before = _decoded(originals[rel])
            after = _read(scratch / rel)
            if before is not None and after is not None and before != after:
                outcome.before[source_file.display] = before
                outcome.after[source_file.display] = after
                outcome.real_paths[source_file.display] = source_file.path
    return outcome


def _counts(result: LintResult, rel_of: dict[str, str]) -> Counter[tuple[str, str]]:
    return Counter((rel_of.get(d.path, d.path), d.code) for d in result.diagnostics)


def _decoded(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _moved(path: Path, root: Path, scratch: Path) -> Path:
    resolved = path.resolve()
    return scratch / resolved.relative_to(root) if _inside(resolved, root) else scratch


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _one_pass(
    result: LintResult,
    rel_of: dict[str, str],
    by_rel: dict[str, SourceFile],
    scratch: Path,
    settings: Settings,
    unsafe: bool,
    rejected: set[tuple[str, str, int, str]],
    stalled: set[tuple[str, str]],
    outcome: FixOutcome,
) -> bool:
    """Apply one round of non-overlapping fixes in the scratch copy; whether any applied."""
    chosen: dict[str, list[tuple[Diagnostic, Fix]]] = {}
    sources: dict[str, Source] = {}
    for diagnostic in result.diagnostics:
        rel = rel_of.get(diagnostic.path)
        if rel is None or rel not in by_rel or not settings.is_fixable(diagnostic.code):
            continue
        if (rel, diagnostic.code) in stalled:
            continue
        if rel not in sources:
            text = _read(scratch / rel)
            if text is None:
                continue
            sources[rel] = Source(diagnostic.path, by_rel[rel].kind, text.removeprefix(BOM))
        fix = choose(diagnostic, sources[rel], unsafe)
        if fix is not None and (rel, diagnostic.code, diagnostic.line, fix.title) not in rejected:
            chosen.setdefault(rel, []).append((diagnostic, fix))
    any_applied = False
    for rel, candidates in chosen.items():
        source = sources[rel]
        accepted: list[tuple[Diagnostic, Fix]] = []
        edits: list[Edit] = []
        for diagnostic, fix in candidates:
            if any(new.overlaps(old) for new in fix.edits for old in edits):
                continue  # the next pass, on the text this one leaves
            accepted.append((diagnostic, fix))
            edits.extend(fix.edits)
        text = _apply(source.text, edits)
        if not _parses(source.kind, source.text, text):
            text, accepted = _one_by_one(source, accepted, rejected, rel, outcome)
        if text == source.text:
            continue
        had_bom = (_read(scratch / rel) or "").startswith(BOM)
        (scratch / rel).write_bytes(((BOM if had_bom else "") + text).encode("utf-8"))
        any_applied = True
        for diagnostic, fix in accepted:
            outcome.applied.append(
                Applied(
                    by_rel[rel].display, rel, diagnostic.code, diagnostic.line, fix.title, fix.safe
                )
            )
    return any_applied


def _one_by_one(
    source: Source,
    accepted: list[tuple[Diagnostic, Fix]],
    rejected: set[tuple[str, str, int, str]],
    rel: str,
    outcome: FixOutcome,
) -> tuple[str, list[tuple[Diagnostic, Fix]]]:
    """Together the fixes broke the file: keep each that parses on top of the others kept. One
    that parses alone waits for the next pass (``await asyncio.sleep`` and turning the same
    function into a plain ``def`` each parse, not both); one that does not is dropped."""
    kept: list[tuple[Diagnostic, Fix]] = []
    edits: list[Edit] = []
    text = source.text
    for diagnostic, fix in accepted:
        trial = _apply(source.text, [*edits, *fix.edits])
        if _parses(source.kind, source.text, trial):
            kept.append((diagnostic, fix))
            edits.extend(fix.edits)
            text = trial
        elif _parses(source.kind, source.text, _apply(source.text, list(fix.edits))):
            continue  # the next pass, on the text this one leaves
        else:
            rejected.add((rel, diagnostic.code, diagnostic.line, fix.title))
            outcome.dropped.append(
                f"{source.path}:{diagnostic.line}: {diagnostic.code} fix '{fix.title}' dropped: "
                "the file would not parse"
            )
    return text, kept


def _apply(text: str, edits: list[Edit]) -> str:
    unique = sorted(set(edits), key=lambda edit: (edit.start, edit.end))
    pieces = []
    position = 0
    for edit in unique:
        pieces.append(text[position : edit.start])
        pieces.append(edit.replacement)
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)


def _parses(kind: FileKind, before: str, after: str) -> bool:
    if kind in (FileKind.PYTHON, FileKind.GUNICORN):
        try:
            cst.parse_module(after)
        except Exception:
            return False
        return not _compiles(before) or _compiles(after)
    if kind is FileKind.DOCKERFILE:
        return _exec_forms_are_json(after)
    return True


def _compiles(text: str) -> bool:
    """CPython's compiler accepts it (``await`` outside ``async def`` is caught here, not by
    the parser); nothing is run."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<fastlint-fix>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


_EXEC_FORM = re.compile(r"^\s*(?:CMD|ENTRYPOINT|RUN|SHELL)\s+(\[.*\])\s*$", re.I | re.M)


def _exec_forms_are_json(text: str) -> bool:
    for match in _EXEC_FORM.finditer(text):
        try:
            words = json.loads(match.group(1))
        except ValueError:
            return False
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            return False
    return True


# ---------------------------------------------------------------------------- writing


def write_back(outcome: FixOutcome) -> list[str]:
    """Write each changed file in place; the paths that could not be written, with why."""
    problems = []
    written: dict[Path, str] = {}  # a symbolic link and its target are one file
    for display, after in outcome.after.items():
        path = Path(os.path.realpath(outcome.real_paths[display]))
        if path in written:
            if written[path] != after:
                problems.append(f"{display}: fixed differently through another name; not written")
            continue
        written[path] = after
        if _read(path) != outcome.before[display]:
            problems.append(f"{display}: changed while fastlint was fixing it; not written")
            continue
        try:
            write_atomically(path, after)
        except OSError as error:
            problems.append(f"{display}: cannot write: {error.strerror or error}")
    return problems


def write_atomically(path: Path, text: str) -> None:
    """A temporary file in the same folder, renamed over ``path``: a reader sees the old file
    or the new one, never half of it. Permissions (and, where allowed, owner) are kept."""
    info = path.stat()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, info.st_mode & 0o7777)
        if hasattr(os, "chown"):
            # Not ours to give away: the file stays ours, with the same mode.
            with contextlib.suppress(OSError):
                os.chown(temporary, info.st_uid, info.st_gid)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
