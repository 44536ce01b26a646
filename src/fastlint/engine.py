"""Parse each file once, run the rules that apply, apply suppressions, collect diagnostics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from fastlint import registry
from fastlint.config import Settings
from fastlint.diagnostics import Diagnostic, Location, Severity
from fastlint.discovery import FileKind, SourceFile, discover, find_project_root
from fastlint.python.module import PythonModule, module_name_for, parse_python
from fastlint.python.project import Project
from fastlint.registry import Option, engine_option
from fastlint.rules.base import FileRule, ProjectRule
from fastlint.suppressions import Suppressions, parse_suppressions

MAX_FILE_SIZE = engine_option(
    Option(
        "max-file-size",
        int,
        2_000_000,
        "Files larger than this many bytes are skipped with FL000 (generated code, data dumps).",
    )
)


class UnreadableFile(Exception):
    """A file fastlint cannot read or parse; becomes one FL000 diagnostic."""

    def __init__(self, reason: str, location: Location | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.location = location or Location(1, 1, 1, 1)


@dataclass
class TextUnit:
    """A line-oriented file (shell script, Procfile) as read: front ends parse it further."""

    source: SourceFile
    text: str

    @property
    def path(self) -> str:
        return self.source.display

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()


# ---------------------------------------------------------------------------- reading


def read_text(source: SourceFile, max_size: int) -> str:
    """The file's text, or UnreadableFile saying why not (too big, binary, not UTF-8, gone)."""
    try:
        size = source.path.stat().st_size
        if size > max_size:
            raise UnreadableFile(
                f"file is {size:,} bytes, over max-file-size ({max_size:,}); skipped"
            )
        data = source.path.read_bytes()
    except UnreadableFile:
        raise
    except FileNotFoundError:
        raise UnreadableFile("file disappeared while fastlint was running") from None
    except PermissionError:
        raise UnreadableFile("permission denied reading the file") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UnreadableFile(f"cannot read the file: {reason}") from None
    if b"\x00" in data:
        raise UnreadableFile("file contains NUL bytes (binary?); skipped")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UnreadableFile(
            f"file is not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})",
            Location(line, 1, line, 1),
        ) from None


def load_python(source: SourceFile, text: str, root: Path) -> PythonModule:
    try:
        tree = parse_python(text)
    except RecursionError:
        raise UnreadableFile("expression nesting too deep for the parser") from None
    except Exception as error:  # libcst.ParserSyntaxError and friends
        line = getattr(error, "raw_line", 1) or 1
        column = (getattr(error, "raw_column", 0) or 0) + 1
        message = getattr(error, "message", None) or str(error).splitlines()[0]
        raise UnreadableFile(
            f"syntax error: {message}", Location(line, column, line, column)
        ) from None
    name, is_package = module_name_for(tuple(source.relpath.split("/")))
    try:
        return PythonModule(source.display, text, tree, name, is_package)
    except RecursionError:
        raise UnreadableFile("expression nesting too deep to analyse") from None


def _load_dockerfile(source: SourceFile, text: str, root: Path) -> Any:
    from fastlint.docker import load_dockerfile

    return load_dockerfile(source, text)


LOADERS: dict[FileKind, Callable[[SourceFile, str, Path], Any]] = {
    FileKind.PYTHON: load_python,
    FileKind.GUNICORN: load_python,
    FileKind.DOCKERFILE: _load_dockerfile,
    FileKind.SHELL: lambda source, text, root: TextUnit(source, text),
    FileKind.PROCFILE: lambda source, text, root: TextUnit(source, text),
}


# ---------------------------------------------------------------------------- context


@dataclass
class LintContext:
    """Everything rules may read: settings, every loaded unit by kind, cross-file models."""

    root: Path
    settings: Settings
    files: list[SourceFile]
    units: dict[FileKind, list[Any]] = field(default_factory=dict)

    def units_of(self, kind: FileKind) -> list[Any]:
        return self.units.get(kind, [])

    @cached_property
    def project(self) -> Project:
        return Project(self.units_of(FileKind.PYTHON))

    @cached_property
    def deployment(self) -> Any:
        from fastlint.deploy.model import build_deployment

        return build_deployment(self)


@dataclass
class LintResult:
    diagnostics: list[Diagnostic]
    files: int
    context: LintContext | None = None

    @property
    def deployment(self) -> Any:
        return None if self.context is None else self.context.deployment


def _unreadable(source: SourceFile, error: UnreadableFile) -> Diagnostic:
    location = error.location
    return Diagnostic(
        code=registry.PARSE_ERROR.code,
        name=registry.PARSE_ERROR.name,
        severity=Severity.ERROR,
        path=source.display,
        line=location.line,
        column=location.column,
        end_line=location.end_line,
        end_column=location.end_column,
        message=f"{error.reason}; no other rule checked this file.",
    )


def lint(
    paths: Sequence[Path],
    settings: Settings,
    *,
    root: Path | None = None,
    cwd: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LintResult:
    paths = list(paths) or [Path(".")]
    root = (root or find_project_root(paths[0])).resolve()
    files = discover(paths, root, settings.all_excludes, cwd)
    ctx = LintContext(root=root, settings=settings, files=files)
    raw: list[Diagnostic] = []
    texts: dict[str, tuple[FileKind, str]] = {}
    max_size = int(settings.options.get(MAX_FILE_SIZE.name, MAX_FILE_SIZE.default))

    for index, source in enumerate(files):
        try:
            text = read_text(source, max_size)
            unit = LOADERS[source.kind](source, text, root)
        except UnreadableFile as error:
            if source.report:
                raw.append(_unreadable(source, error))
        else:
            texts[source.display] = (source.kind, text)
            ctx.units.setdefault(source.kind, []).append(unit)
        if progress is not None:
            progress(index + 1, len(files))

    raw.extend(run_rules(ctx))
    reportable = {source.display: source.relpath for source in files if source.report}
    diagnostics = finalize(raw, settings, texts, reportable)
    return LintResult(diagnostics=diagnostics, files=len(reportable), context=ctx)


def run_rules(ctx: LintContext) -> list[Diagnostic]:
    sink: list[Diagnostic] = []
    for code, rule_cls in registry.all_rules().items():
        if not ctx.settings.is_enabled(code):
            continue
        rule = rule_cls(ctx.settings.options, sink)
        if isinstance(rule, FileRule):
            for unit in ctx.units_of(rule.kind):
                if unit.source.report if hasattr(unit, "source") else True:
                    _guarded(rule, lambda r=rule, u=unit: r.check(u, ctx), sink, unit)
        elif isinstance(rule, ProjectRule):
            _guarded(rule, lambda r=rule: r.check(ctx), sink, None)
    return sink


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
    sink.append(
        Diagnostic(
            registry.PARSE_ERROR.code,
            registry.PARSE_ERROR.name,
            Severity.ERROR,
            str(path),
            1,
            1,
            1,
            1,
            f"{reason}; please report it. Other rules still ran.",
        )
    )


def finalize(
    raw: list[Diagnostic],
    settings: Settings,
    texts: dict[str, tuple[FileKind, str]],
    reportable: dict[str, str],
) -> list[Diagnostic]:
    """Select, re-severity, suppress, de-duplicate and sort."""
    suppressions: dict[str, Suppressions] = {}
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
            if suppressions[diagnostic.path].suppresses(diagnostic.code, diagnostic.line):
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
    return sorted(kept.values(), key=Diagnostic.sort_key)


def _with_severity(diagnostic: Diagnostic, severity: Severity) -> Diagnostic:
    from dataclasses import replace

    return replace(diagnostic, severity=severity)
