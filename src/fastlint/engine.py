"""The pipeline: discover → read and load → project rules → check each Python file → finalize.

It parses each file once, runs the rules that apply, applies suppressions and collects the
diagnostics. It never forks and never caches: the speed layer (:mod:`fastlint.incremental`)
wraps these steps from outside, choosing which files to check and where, and the engine does
not know it is there. :func:`lint` runs the steps in order, in this process.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Callable

from fastlint import registry
from fastlint.config import Settings
from fastlint.context import LintContext
from fastlint.diagnostics import Diagnostic, Location, Severity
from fastlint.discovery import (
    FileKind,
    SourceFile,
    discover,
    find_project_root,
    has_jinja_markers,
)
from fastlint.python.loading import cpython_parses, deferred_python, empty_python, load_python
from fastlint.python.module import PythonModule
from fastlint.reading import TextUnit, UnreadableFile, max_file_size, read_text
from fastlint.result import LintResult
from fastlint.rules.base import FileRule, ProjectRule, PythonRule
from fastlint.suppressions import Suppressions, parse_suppressions, suppression_findings


def _load_dockerfile(source: SourceFile, text: str, root: Path) -> Any:
    from fastlint.docker import load_dockerfile

    return load_dockerfile(source, text)


def _load_compose(source: SourceFile, text: str, root: Path) -> Any:
    from fastlint.deploy.compose import load_compose

    return load_compose(source, text)


def _load_kubernetes(source: SourceFile, text: str, root: Path) -> Any:
    from fastlint.deploy.kubernetes import load_kubernetes

    return load_kubernetes(source, text)


def _load_workflow(source: SourceFile, text: str, root: Path) -> Any:
    from fastlint.deploy.builds import load_workflow

    return load_workflow(source, text)


# Python files the rules check are not here: they are parsed by their own check (see
# PythonChecks), in whichever process checks them.
LOADERS: dict[FileKind, Callable[[SourceFile, str, Path], Any]] = {
    FileKind.GUNICORN: lambda source, text, root: load_python(source, text),
    FileKind.DOCKERFILE: _load_dockerfile,
    FileKind.SHELL: lambda source, text, root: TextUnit(source, text),
    FileKind.PROCFILE: lambda source, text, root: TextUnit(source, text),
    FileKind.COMPOSE: _load_compose,
    FileKind.KUBERNETES: _load_kubernetes,
    FileKind.MAKEFILE: lambda source, text, root: TextUnit(source, text),
    FileKind.WORKFLOW: _load_workflow,
}


def _load(source: SourceFile, text: str, root: Path) -> Any:
    """Run the file's front end; a crash in it (a fastlint bug) is one FL000, not a dead run."""
    try:
        return LOADERS[source.kind](source, text, root)
    except Exception as error:
        raise _as_unreadable(error, text) from None


def _as_unreadable(error: Exception, text: str) -> UnreadableFile:
    if isinstance(error, UnreadableFile):
        return error
    if isinstance(error, RecursionError):
        return UnreadableFile("expression nesting too deep to analyse", text=text)
    return UnreadableFile(
        f"internal error reading the file: {error!r}; please report it", text=text
    )


# ---------------------------------------------------------------------------- loading


@dataclass
class Loaded:
    """A project read and loaded: the context rules see, the FL000 of files that could not be
    read, and the text of every file read (for suppressions and source snippets)."""

    ctx: LintContext
    raw: list[Diagnostic]
    texts: dict[str, tuple[FileKind, str]]
    python_texts: dict[str, str]  # display path → text of every Python file read

    @property
    def reportable(self) -> dict[str, str]:
        """Display path → path from the root, of every file the run reports on (templates
        are skipped)."""
        return {
            source.display: source.relpath
            for source in self.ctx.files
            if source.report and source.display not in self.ctx.templates
        }


def load(
    paths: Sequence[Path],
    settings: Settings,
    *,
    root: Path | None = None,
    cwd: Path | None = None,
    files: list[SourceFile] | None = None,
    given: Mapping[Path, str] | None = None,
) -> Loaded:
    """Discover the files under ``paths`` (or take ``files``, discovered already), read them
    and run each one's front end. ``given`` (absolute path → text) replaces reading those
    files from disk: an editor's unsaved buffer, given on stdin; such a file need not exist.
    Python files are parsed later: by their own check, or when another check needs them as
    context."""
    paths = list(paths) or [Path(".")]
    root = (root or find_project_root(paths[0])).resolve()
    given = given or {}
    if files is None:
        files = discover(paths, root, settings.all_excludes, cwd, unsaved=list(given))
    ctx = LintContext(root=root, settings=settings, files=files)
    raw: list[Diagnostic] = []
    texts: dict[str, tuple[FileKind, str]] = {}
    python_texts: dict[str, str] = {}
    max_size = max_file_size(settings)
    for source in files:
        if source.template:
            ctx.templates.add(source.display)
            continue
        try:
            text = given[source.path] if source.path in given else read_text(source, max_size)
            if source.kind is FileKind.PYTHON and is_jinja_template(text):
                ctx.templates.add(source.display)
                continue
            if source.kind is FileKind.PYTHON:
                python_texts[source.display] = text
                unit = deferred_python(source, text)
            else:
                unit = _load(source, text, root)
        except UnreadableFile as error:
            if source.report:
                raw.append(_unreadable(source.display, error))
                ctx.unreadable.add(source.display)
            if error.text is not None:
                texts[source.display] = (source.kind, error.text)
                if source.kind is FileKind.PYTHON:
                    # Imports of it still resolve to it, as when it is context only.
                    ctx.units.setdefault(source.kind, []).append(empty_python(source, error.text))
        else:
            texts[source.display] = (source.kind, text)
            ctx.units.setdefault(source.kind, []).append(unit)
    return Loaded(ctx, raw, texts, python_texts)


# ---------------------------------------------------------------------------- rules


def is_jinja_template(text: str) -> bool:
    """A Python file that is a Jinja template (cookiecutter, copier): it holds Jinja markers
    and is not valid Python until rendered. Valid Python with ``{{`` in a string is code."""
    return has_jinja_markers(text) and not cpython_parses(text)


def run_project_rules(ctx: LintContext) -> list[Diagnostic]:
    """Every enabled project rule, and every enabled file rule of a non-Python kind."""
    sink: list[Diagnostic] = []
    reportable = _checkable(ctx)
    for code, rule_cls in registry.all_rules().items():
        if not ctx.settings.is_enabled(code) or _is_python_rule(rule_cls):
            continue
        rule = rule_cls(ctx.settings.options, sink)
        if isinstance(rule, FileRule):
            for unit in ctx.units_of(rule.kind):
                if unit.path in reportable:
                    _guarded(rule, partial(rule.check, unit, ctx), sink, unit)
        elif isinstance(rule, ProjectRule):
            _guarded(rule, partial(rule.check, ctx), sink, None)
    return sink


def python_targets(ctx: LintContext, skip: Iterable[str] = ()) -> list[PythonModule]:
    """The Python modules the run reports on (less ``skip``), in discovery order."""
    reportable = _checkable(ctx) - set(skip)
    return [unit for unit in ctx.units_of(FileKind.PYTHON) if unit.path in reportable]


def _checkable(ctx: LintContext) -> set[str]:
    # An FL000 file is in the project as an empty module (imports of it resolve no further),
    # but no file rule checks it: its FL000 says so.
    return {source.display for source in ctx.files if source.report} - ctx.unreadable


def _is_python_rule(rule_cls: type) -> bool:
    return issubclass(rule_cls, FileRule) and rule_cls.kind is FileKind.PYTHON


@dataclass
class Checked:
    """One Python file's check, as plain data: its raw findings and, when it has any, its
    suppression markers (read by whoever checked the file)."""

    diagnostics: list[Diagnostic]
    suppressions: Suppressions | None = None
    finished: bool = True  # False when the check never finished (a crash outside any rule)


class PythonChecks:
    """Every enabled Python rule over one file at a time."""

    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        self.sink: list[Diagnostic] = []
        self.rules = [
            rule_cls(ctx.settings.options, self.sink)
            for code, rule_cls in registry.all_rules().items()
            if ctx.settings.is_enabled(code) and _is_python_rule(rule_cls)
        ]

    def __call__(self, module: PythonModule) -> Checked:
        self.sink.clear()
        rules = [rule for rule in self.rules if self._applies(rule, module)]
        if rules or not cpython_parses(module.text):
            failure = module.load()  # parse it now: a file that has no tree is one FL000
            if failure is not None:
                return Checked([_unreadable(module.path, _as_unreadable(failure, module.text))])
        for rule in rules:
            _guarded(rule, partial(rule.check, module, self.ctx), self.sink, module)
        suppressions = parse_suppressions(FileKind.PYTHON, module.text) if self.sink else None
        return Checked(list(self.sink), suppressions)

    def _applies(self, rule: FileRule, module: PythonModule) -> bool:
        """Whether ``rule`` could find anything in ``module``; a pre-filter that crashes (a
        fastlint bug) lets the rule run, and the check reports what it finds."""
        if not isinstance(rule, PythonRule):
            return True
        try:
            return rule.applies_to(module, self.ctx)
        except Exception:
            return True


def unfinished(module: PythonModule, why: str) -> Checked:
    """The answer for a file whose check never finished (a crash outside any rule, or a worker
    process that died): one FL000 that says so."""
    message = f"{why} while checking this file, so no rule checked it; please report it."
    return Checked([_fl000(module.path, message)], finished=False)


# ---------------------------------------------------------------------------- the run


def lint(
    paths: Sequence[Path],
    settings: Settings,
    *,
    root: Path | None = None,
    cwd: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    given: Mapping[Path, str] | None = None,
) -> LintResult:
    """Lint ``paths`` in this process, every step in order (``given``: see :func:`load`)."""
    clock = PhaseClock()
    with collector_paused():
        loaded = load(paths, settings, root=root, cwd=cwd, given=given)
        clock.lap("load")
        raw = [*loaded.raw, *run_project_rules(loaded.ctx)]
        clock.lap("project rules")
        checks = PythonChecks(loaded.ctx)
        modules = python_targets(loaded.ctx)
        known: dict[str, Suppressions] = {}
        for done, module in enumerate(modules, start=1):
            checked = check_one(checks, module)
            raw.extend(checked.diagnostics)
            if checked.suppressions is not None:
                known[module.path] = checked.suppressions
            if progress is not None:
                progress(done, len(modules))
        clock.lap("check")
        found = result(loaded, raw, known)
        clock.lap("finish")
        found.timings = clock.laps
        return found


def check_one(checks: PythonChecks, module: PythonModule) -> Checked:
    """``checks(module)``; a crash outside any rule is that file's FL000, not a dead run."""
    try:
        return checks(module)
    except Exception as error:
        return unfinished(module, f"internal error {type(error).__name__}: {error}")


def result(
    loaded: Loaded, raw: list[Diagnostic], known: dict[str, Suppressions] | None = None
) -> LintResult:
    """The run's result: ``raw`` findings finalized (``known``: suppression markers read
    already, by path)."""
    # A project rule that crashed has no file to blame: its FL000 names the project (".").
    reportable = {**loaded.reportable, ".": "."}
    diagnostics = finalize(raw, loaded.ctx.settings, loaded.texts, reportable, known)
    return LintResult(
        diagnostics=diagnostics,
        files=len(loaded.reportable),
        templates=len(loaded.ctx.templates & {s.display for s in loaded.ctx.files if s.report}),
        context=loaded.ctx,
        texts={path: text for path, (_, text) in loaded.texts.items()},
    )


class PhaseClock:
    """Seconds spent in each phase of a run, for ``--verbose``."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.laps[phase] = self.laps.get(phase, 0.0) + now - self._last
        self._last = now


class collector_paused:
    """Pause Python's cyclic garbage collector for the block. A run builds millions of small,
    acyclic LibCST objects that the collector would rescan again and again (a quarter of
    parse time, measured); it runs once at the end."""

    def __enter__(self) -> None:
        self.collecting = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc_info: object) -> None:
        if self.collecting:
            gc.enable()


def _unreadable(path: str, error: UnreadableFile) -> Diagnostic:
    return _fl000(path, f"{error.reason}; no other rule checked this file.", error.location)


_FILE_START = Location(1, 1, 1, 1)


def _fl000(path: str, message: str, location: Location = _FILE_START) -> Diagnostic:
    return Diagnostic(
        code=registry.PARSE_ERROR.code,
        name=registry.PARSE_ERROR.name,
        severity=Severity.ERROR,
        path=path,
        line=location.line,
        column=location.column,
        end_line=location.end_line,
        end_column=location.end_column,
        message=message,
    )


def _guarded(rule: Any, call: Callable[[], None], sink: list[Diagnostic], unit: Any) -> None:
    """A rule that crashes must not hide other findings: it becomes one FL000 diagnostic."""
    try:
        call()
    except RecursionError:
        _internal(rule, unit, sink, "expression nesting too deep to analyse")
    except Exception as error:
        _internal(rule, unit, sink, f"internal error in {rule.meta.code}: {error!r}")


def _internal(rule: Any, unit: Any, sink: list[Diagnostic], reason: str) -> None:
    path = getattr(unit, "path", None) or "."
    sink.append(_fl000(str(path), f"{reason}; please report it. Other rules still ran."))


def finalize(
    raw: list[Diagnostic],
    settings: Settings,
    texts: dict[str, tuple[FileKind, str]],
    reportable: dict[str, str],
    known: dict[str, Suppressions] | None = None,
) -> list[Diagnostic]:
    """Select, re-severity, suppress, de-duplicate and sort. ``known``: files' suppression
    markers read already (the rest are read here)."""
    suppressions: dict[str, Suppressions] = dict(known or {})
    kept: dict[tuple[Any, ...], Diagnostic] = {}
    for diagnostic in raw:
        if diagnostic.path not in reportable or not settings.is_enabled(diagnostic.code):
            continue
        if settings.ignored_in(reportable[diagnostic.path], diagnostic.code):
            continue
        if diagnostic.path in texts:
            if diagnostic.path not in suppressions:
                kind, text = texts[diagnostic.path]
                suppressions[diagnostic.path] = parse_suppressions(kind, text)
            if suppressions[diagnostic.path].suppresses(
                diagnostic.code, diagnostic.line, diagnostic.end_line
            ):
                continue
        severity = settings.severity_for(diagnostic.code, diagnostic.severity)
        if severity is not diagnostic.severity:
            diagnostic = _with_severity(diagnostic, severity)
        key = (
            diagnostic.path,
            diagnostic.line,
            diagnostic.column,
            diagnostic.code,
            diagnostic.message,
        )
        kept.setdefault(key, diagnostic)
    # FL001 / FL002: markers that suppressed nothing, or name no rule (after every finding),
    # except in files some rule could not check (FL000).
    unchecked = {d.path for d in raw if d.code == registry.PARSE_ERROR.code}
    for hygiene in suppression_findings(texts, reportable, suppressions, settings, unchecked):
        kept.setdefault((hygiene.path, hygiene.line, hygiene.column, hygiene.code), hygiene)
    return sorted(kept.values(), key=Diagnostic.sort_key)


def _with_severity(diagnostic: Diagnostic, severity: Severity) -> Diagnostic:
    return replace(diagnostic, severity=severity)
