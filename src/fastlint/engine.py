"""Parse each file once, run the rules that apply, apply suppressions, collect diagnostics."""

from __future__ import annotations

import ast
import gc
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate
from pathlib import Path
from typing import Any, Callable

import libcst as cst

from fastlint import registry, workers
from fastlint.config import Settings
from fastlint.diagnostics import Diagnostic, Location, Severity
from fastlint.discovery import FileKind, SourceFile, discover, find_project_root
from fastlint.file_cache import FileEntry, FileStore
from fastlint.python import tracking
from fastlint.python.module import PythonModule, module_name_for, take_parsed
from fastlint.python.parsing import parse_python
from fastlint.python.project import NameTable, Project, Seeds
from fastlint.python.tracking import Part, Persisted, Token
from fastlint.reading import UnreadableFile, max_file_size, read_text
from fastlint.result import LintResult
from fastlint.rules.base import FileRule, ProjectRule, PythonRule
from fastlint.suppressions import Suppressions, parse_suppressions, suppression_findings


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


# LibCST's native parser overflows its stack (a segfault: no traceback, no report) on brackets
# nested ~2,000 deep, and takes minutes on chains of a few thousand operators (`1+1+...`,
# `a.b.b...`, `x[1][1]...`). CPython's parser refuses both cheaply, so a file that looks
# suspicious (deep brackets, very long lines) is screened with it before LibCST sees it.
_BRACKET_STEP = {ord("("): 1, ord("["): 1, ord("{"): 1, ord(")"): -1, ord("]"): -1, ord("}"): -1}
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKET_STEP)
_LONG_LINE = 2000  # characters
_MAX_BRACKETS = 200  # CPython's own limit ("too many nested parentheses")
_MAX_EXPRESSION_DEPTH = 400  # LibCST needs ~1 s at this depth; real code stays below 50


def _bracket_depth(text: str) -> int:
    """Deepest bracket nesting, counting brackets in strings too (an over-estimate)."""
    brackets = text.encode("utf-8", "surrogatepass").translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def _has_long_line(text: str) -> bool:
    # Splitting is ten times faster than searching for r"[^\n]{2000}" (0.02 s vs 0.19 s on
    # prefect's 865 files), and every file checked is screened.
    return len(text) >= _LONG_LINE and max(map(len, text.split("\n"))) >= _LONG_LINE


def _too_deep_for_libcst(text: str) -> bool:
    naive_depth = _bracket_depth(text)
    if naive_depth <= _MAX_BRACKETS // 2 and not _has_long_line(text):
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "\d" on Python 3.12+
            tree = ast.parse(text)
    except SyntaxError as error:
        # Not CPython's grammar (newer syntax, or broken): trust the bracket count alone.
        return "too many nested" in str(error.msg) or naive_depth > _MAX_BRACKETS
    except (RecursionError, MemoryError):
        return True
    except ValueError:
        return False
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest > _MAX_EXPRESSION_DEPTH


def _parse_guarded(text: str) -> cst.Module:
    """The LibCST tree, or UnreadableFile saying why the file cannot have one."""
    if _too_deep_for_libcst(text):
        raise UnreadableFile("expression nesting too deep for the parser", text=text)
    try:
        return parse_python(text)
    except RecursionError:
        raise UnreadableFile("expression nesting too deep for the parser", text=text) from None
    except Exception as error:  # libcst.ParserSyntaxError and friends
        reason, location = _syntax_error(text, error)
        raise UnreadableFile(reason, location, text) from None


def _cpython_parses(text: str) -> bool:
    """Whether a module no rule needs parsed is fine as it is: CPython parses it, and LibCST
    would not choke on its nesting. Otherwise LibCST parses it, to report FL000 the usual way
    (or find that it can, after all: grammar newer than this interpreter)."""
    if _too_deep_for_libcst(text):
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _module_name(source: SourceFile) -> tuple[str, bool]:
    return module_name_for(tuple(source.relpath.split("/")))


def load_python(source: SourceFile, text: str, root: Path) -> PythonModule:
    tree = _parse_guarded(text)
    try:
        return PythonModule(source.display, text, tree, *_module_name(source))
    except RecursionError:
        raise UnreadableFile("expression nesting too deep to analyse", text=text) from None


def _deferred_python(source: SourceFile, text: str) -> PythonModule:
    return PythonModule.deferred(
        source.display, text, *_module_name(source), lambda: _parse_guarded(text)
    )


def _empty_python(source: SourceFile, text: str) -> PythonModule:
    return PythonModule.empty(source.display, text, *_module_name(source))


def _syntax_error(text: str, error: Exception) -> tuple[str, Location]:
    """Reason and place of a parse failure. CPython's own message and position are far more
    precise than LibCST's ("'(' was never closed" at the bracket), so ask it too; LibCST's
    words remain when CPython cannot say (grammar newer than this interpreter). When CPython
    accepts the file, the code is fine and the failure is LibCST's: the reason says so."""
    cpython_accepts = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
        cpython_accepts = True
    except SyntaxError as cpython:
        if cpython.lineno:
            line = cpython.lineno
            column = max(cpython.offset or 1, 1)
            return f"syntax error: {cpython.msg}", Location(line, column, line, column)
    except Exception:  # RecursionError, MemoryError, ValueError: keep LibCST's account
        pass
    line = getattr(error, "raw_line", 1) or 1
    column = (getattr(error, "raw_column", 0) or 0) + 1
    message = getattr(error, "message", None) or (str(error).splitlines() or ["?"])[0]
    message = message.splitlines()[0].rstrip(".") if message.strip() else repr(error)
    where = Location(line, column, line, column)
    if cpython_accepts:
        return f"LibCST, the parser fastlint uses, fails on this valid Python ({message})", where
    return f"syntax error: {message}", where


def _load_dockerfile(source: SourceFile, text: str, root: Path) -> Any:
    from fastlint.docker import load_dockerfile

    return load_dockerfile(source, text)


# Python files the rules check are not here: they are parsed by their own check (see
# check_python_files), in whichever process checks them.
LOADERS: dict[FileKind, Callable[[SourceFile, str, Path], Any]] = {
    FileKind.GUNICORN: load_python,
    FileKind.DOCKERFILE: _load_dockerfile,
    FileKind.SHELL: lambda source, text, root: TextUnit(source, text),
    FileKind.PROCFILE: lambda source, text, root: TextUnit(source, text),
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


# ---------------------------------------------------------------------------- context


@dataclass
class LintContext:
    """Everything rules may read: settings, every loaded unit by kind, cross-file models."""

    root: Path
    settings: Settings
    files: list[SourceFile]
    units: dict[FileKind, list[Any]] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)  # display paths reported as FL000
    reused: set[str] = field(default_factory=set)  # Python files answered by the file cache
    checked: dict[str, Checked] = field(default_factory=dict)  # Python files the rules checked
    seeds: Seeds = field(default_factory=dict)  # kept persistent-memo entries that still hold
    # Persistent-memo entries computed this run, by memo name, for the file cache.
    queries: dict[str, dict[str, Persisted]] = field(default_factory=dict)
    # Suppression markers already read (by the worker that checked the file).
    suppressions: dict[str, Suppressions] = field(default_factory=dict)

    def units_of(self, kind: FileKind) -> list[Any]:
        return self.units.get(kind, [])

    @cached_property
    def project(self) -> Project:
        return Project(self.units_of(FileKind.PYTHON), self.seeds)

    def keep_queries(self, fresh: dict[str, dict[str, Persisted]]) -> None:
        for name, entries in fresh.items():
            table = self.queries.setdefault(name, {})
            for key, entry in entries.items():
                table.setdefault(key, entry)

    @cached_property
    def deployment(self) -> Any:
        from fastlint.deploy.model import build_deployment

        return build_deployment(self)


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


def lint(
    paths: Sequence[Path],
    settings: Settings,
    *,
    root: Path | None = None,
    cwd: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    store: FileStore | None = None,
    jobs: int | None = None,
) -> LintResult:
    """Lint ``paths``. ``jobs`` is how many processes check Python files (None: as many as
    the machine and the amount of code make worthwhile); the output is the same for any."""
    # A run builds millions of small, acyclic LibCST objects that the cyclic garbage collector
    # would rescan again and again (a quarter of parse time, measured); it runs once at the end.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _lint(paths, settings, root=root, cwd=cwd, progress=progress, store=store, jobs=jobs)
    finally:
        if collecting:
            gc.enable()


def _lint(
    paths: Sequence[Path],
    settings: Settings,
    *,
    root: Path | None,
    cwd: Path | None,
    progress: Callable[[int, int], None] | None,
    store: FileStore | None,
    jobs: int | None,
) -> LintResult:
    paths = list(paths) or [Path(".")]
    root = (root or find_project_root(paths[0])).resolve()
    files = discover(paths, root, settings.all_excludes, cwd)
    ctx = LintContext(root=root, settings=settings, files=files)
    raw: list[Diagnostic] = []
    texts: dict[str, tuple[FileKind, str]] = {}
    max_size = max_file_size(settings)
    read: list[str | UnreadableFile] = []
    for source in files:
        try:
            read.append(read_text(source, max_size))
        except UnreadableFile as error:
            read.append(error)
    python_texts = {
        source.display: text
        for source, text in zip(files, read)
        if source.kind is FileKind.PYTHON and isinstance(text, str)
    }
    candidates: dict[str, FileEntry] = {}
    if store is not None:
        registry.all_rules()  # the rules' text tests (Spelling) must be known to check entries
        candidates = store.reusable(python_texts)
        ctx.seeds = store.seeds(python_texts)

    for source, text in zip(files, read):
        try:
            if isinstance(text, UnreadableFile):
                raise text
            if source.kind is FileKind.PYTHON:
                # Parsed by its check, or when another check needs it as context.
                unit = _deferred_python(source, text)
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
                    ctx.units.setdefault(source.kind, []).append(_empty_python(source, error.text))
        else:
            texts[source.display] = (source.kind, text)
            ctx.units.setdefault(source.kind, []).append(unit)

    reusable: dict[str, FileEntry] = {}
    if store is not None:
        reusable = _still_holding(ctx, store, candidates, python_texts)
        for source in files:
            if source.report and source.display in reusable and source.display in python_texts:
                ctx.reused.add(source.display)  # its findings come from the cache
                raw.extend(reusable[source.display].diagnostics)

    raw.extend(run_rules(ctx, jobs=jobs, progress=progress))
    if store is not None:
        store.update(python_texts, reusable.keys(), _fresh_entries(ctx), ctx.queries)
    reportable = {source.display: source.relpath for source in files if source.report}
    # A project rule that crashed has no file to blame: its FL000 names the project (".").
    diagnostics = finalize(raw, settings, texts, {**reportable, ".": "."}, ctx.suppressions)
    return LintResult(
        diagnostics=diagnostics,
        files=len(reportable),
        context=ctx,
        texts={path: text for path, (_, text) in texts.items()},
    )


def _still_holding(
    ctx: LintContext, store: FileStore, candidates: dict[str, FileEntry], texts: dict[str, str]
) -> dict[str, FileEntry]:
    """The entries (whose file, parts and spellings are unchanged) whose answers still hold.
    An answer the store cannot vouch for (it was computed from something that changed) is
    computed now, for a file this run reports on, and the entry holds if it came out the same:
    an edit inside a helper that leaves its call chain as it was re-checks no file that goes
    through it. Other files' entries are kept only on answers the store vouches for."""
    reported = {source.display for source in ctx.files if source.report}
    holding = {}
    for path, entry in candidates.items():
        unsure = [
            (token, digest)
            for token, digest in entry.answers.items()
            if not store.answer_holds(token, digest, texts)
        ]
        if not unsure or (
            path in reported and all(_same_answer(ctx, token, digest) for token, digest in unsure)
        ):
            holding[path] = entry
    return holding


def _same_answer(ctx: LintContext, token: tuple[str, str], digest: str) -> bool:
    try:
        return ctx.project.answer_digest(*token) == digest
    except Exception:  # RecursionError or an analysis bug: not the same, so re-checked
        return False


def _fresh_entries(ctx: LintContext) -> dict[str, FileEntry]:
    return {
        path: FileEntry.of(
            path, checked.modules, checked.spellings, checked.answers, checked.diagnostics
        )
        for path, checked in ctx.checked.items()
    }


def run_rules(
    ctx: LintContext,
    *,
    jobs: int | None = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[Diagnostic]:
    """Every enabled rule: project rules and non-Python file rules here, then each Python
    file's checks (:func:`check_python_files`), which may run in worker processes."""
    sink: list[Diagnostic] = []
    # An FL000 file is in the project as an empty module (imports of it resolve no further),
    # but no file rule checks it: its FL000 says so.
    reportable = {source.display for source in ctx.files if source.report} - ctx.unreadable
    for code, rule_cls in registry.all_rules().items():
        if not ctx.settings.is_enabled(code) or _is_python_rule(rule_cls):
            continue
        rule = rule_cls(ctx.settings.options, sink)
        if isinstance(rule, FileRule):
            for unit in ctx.units_of(rule.kind):
                if unit.path in reportable:
                    _guarded(rule, lambda r=rule, u=unit: r.check(u, ctx), sink, unit)
        elif isinstance(rule, ProjectRule):
            _guarded(rule, lambda r=rule: r.check(ctx), sink, None)
    modules = [
        unit
        for unit in ctx.units_of(FileKind.PYTHON)
        if unit.path in reportable and unit.path not in ctx.reused
    ]
    # What the project rules computed; workers forked below start with nothing to hand in.
    ctx.keep_queries(ctx.project.take_fresh())
    for module, checked in check_python_files(ctx, modules, jobs, progress):
        sink.extend(checked.diagnostics)
        if checked.suppressions is not None:
            ctx.suppressions[module.path] = checked.suppressions
        if checked.cacheable:
            ctx.checked[module.path] = checked
            ctx.keep_queries(checked.queries)
    return sink


def _is_python_rule(rule_cls: type) -> bool:
    return issubclass(rule_cls, FileRule) and rule_cls.kind is FileKind.PYTHON


# ---------------------------------------------------------------------------- Python checks


@dataclass
class Checked:
    """One Python file's check, as plain data (it may come from a worker process): its raw
    findings and, for the file cache, the modules and text tests they were computed from."""

    diagnostics: list[Diagnostic]
    modules: list[Part] = field(default_factory=list)  # (module, part) pairs read
    spellings: list[str] = field(default_factory=list)
    answers: dict[Token, str] = field(default_factory=dict)  # persistent answers used
    # Persistent-memo entries the check computed (a worker's memos die with it).
    queries: dict[str, dict[str, Persisted]] = field(default_factory=dict)
    cacheable: bool = True  # False when the check never finished (its worker died)
    parsed: list[str] = field(default_factory=list)  # modules it parsed: for the scheduler
    tables: dict[str, NameTable] = field(default_factory=dict)  # for the other workers
    # Its suppression markers, when it has findings: read by the worker, in parallel, rather
    # than by main once every worker is done.
    suppressions: Suppressions | None = None


class PythonChecks:
    """Every enabled Python rule over one file at a time, each in a tracking frame."""

    def __init__(self, ctx: LintContext) -> None:
        self.ctx = ctx
        self.sink: list[Diagnostic] = []
        self.rules = [
            rule_cls(ctx.settings.options, self.sink)
            for code, rule_cls in registry.all_rules().items()
            if ctx.settings.is_enabled(code) and _is_python_rule(rule_cls)
        ]
        self._last_shared = 0.0

    def __call__(self, module: PythonModule) -> Checked:
        self.sink.clear()
        take_parsed()  # parsed before this check (by main, before the fork): not its doing
        with tracking.frame() as reads:  # the pre-filters' answers count for the entry too
            rules = [rule for rule in self.rules if self._applies(rule, module)]
        if rules or not _cpython_parses(module.text):
            failure = module.load()  # parse it now: a file that has no tree is one FL000
            if failure is not None:
                return Checked([_unreadable(module.path, _as_unreadable(failure, module.text))])
        for rule in rules:
            with tracking.frame() as found:
                _guarded(rule, lambda r=rule: r.check(module, self.ctx), self.sink, module)
            reads.add(found)
        modules, spellings, answers = reads.resolved()
        queries = self.ctx.project.take_fresh()
        return Checked(
            list(self.sink),
            sorted(modules),
            sorted(spellings),
            answers,
            queries,
            parsed=take_parsed(),
            tables=self.ctx.project.take_unshared_tables(),
            suppressions=parse_suppressions(FileKind.PYTHON, module.text) if self.sink else None,
        )

    def share_tables_now(self) -> None:
        """Mid-check, at most every 0.2 s: the name tables worked out so far, for the other
        workers (a check that parses much of the project can run for seconds)."""
        now = time.monotonic()
        if now - self._last_shared < 0.2:
            return
        self._last_shared = now
        tables = self.ctx.project.take_unshared_tables()
        if tables:
            workers.share_now(({}, tables))

    def learn(self, lesson: Lesson) -> None:
        """What another worker worked out while checking a file (see :func:`_lesson`)."""
        queries, tables = lesson
        self.ctx.project.learn(queries)
        self.ctx.project.learn_tables(tables)

    def _applies(self, rule: FileRule, module: PythonModule) -> bool:
        """Whether ``rule`` could find anything in ``module``; a pre-filter that crashes (a
        fastlint bug) lets the rule run, and the check reports what it finds."""
        if not isinstance(rule, PythonRule):
            return True
        try:
            return rule.applies_to(module, self.ctx)
        except Exception:
            return True


def check_python_files(
    ctx: LintContext,
    modules: list[PythonModule],
    jobs: int | None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[tuple[PythonModule, Checked]]:
    """Each module's :class:`Checked`, from this process or from ``jobs`` forked workers.

    A worker checks a file exactly as this process would: it holds the same project, parses
    the file and, lazily, the modules its checks read. So the findings do not depend on the
    number of workers (the determinism tests compare them).
    """
    checks = PythonChecks(ctx)
    weights = [len(module.text) for module in modules]
    if jobs is None:
        jobs = workers.default_jobs(sum(weights))
    jobs = min(jobs, len(modules)) if workers.can_fork() else 1
    if jobs <= 1:
        answers = workers.map_in_process(modules, checks, _unfinished)
    else:
        index_of = {module.path: index for index, module in enumerate(modules)}

        def parsed_files(checked: Checked) -> list[int]:
            return [index_of[path] for path in checked.parsed if path in index_of]

        ctx.project.on_table = checks.share_tables_now
        answers = workers.map_in_workers(
            modules,
            weights,
            jobs,
            checks,
            _unfinished,
            share=_lesson,
            learn=checks.learn,
            affinity=parsed_files,
        )
    for done, (index, checked) in enumerate(answers, start=1):
        yield modules[index], checked
        if progress is not None:
            progress(done, len(modules))


Lesson = tuple[dict[str, dict[str, Persisted]], dict[str, NameTable]]


def _lesson(checked: Checked) -> Lesson | None:
    """What the other workers learn from a file's check: the cross-module answers (canonical
    paths, call chains) and the modules' name tables it worked out, so they need not parse
    the modules behind them."""
    if not checked.queries and not checked.tables:
        return None
    return checked.queries, checked.tables


def _unfinished(module: PythonModule, why: str) -> Checked:
    """The answer for a file whose check never finished (not cached: a crash or the OOM
    killer says nothing certain about the file)."""
    message = f"{why} while checking this file, so no rule checked it; please report it."
    return Checked([_fl000(module.path, message)], cacheable=False)


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
    from dataclasses import replace

    return replace(diagnostic, severity=severity)
