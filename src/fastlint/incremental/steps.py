"""A run through the speed layer: the engine's steps, with the result cache around them and the
Python files checked in worker processes.

The engine (:mod:`fastlint.engine`) does not know any of this happens. Here a run

1. answers from the run cache when nothing changed (:mod:`fastlint.incremental`, without
   importing LibCST or any rule);
2. otherwise (:func:`run`) loads the project with the engine, and takes from the per-file store
   (:mod:`fastlint.incremental.store`) the findings of every Python file whose entry still
   holds, and the kept answers that still hold;
3. installs the recorder (:mod:`fastlint.incremental.tracking`) as the Python front end's read
   hook, runs the project rules and checks the other Python files, in this process or in
   forked workers (:mod:`fastlint.incremental.workers`), each check in a frame that records
   what its findings were computed from;
4. stores the fresh entries and answers, and finalizes with the engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from fastlint import engine, registry
from fastlint.config import Settings
from fastlint.context import LintContext
from fastlint.discovery import SourceFile
from fastlint.incremental import workers
from fastlint.incremental.store import FileEntry, FileStore
from fastlint.incremental.tracking import (
    Part,
    Persisted,
    Recorder,
    Token,
    reads_of,
    take_fresh,
)
from fastlint.python import reads
from fastlint.python.module import PythonModule
from fastlint.python.project import NameTable, Project
from fastlint.result import LintResult
from fastlint.suppressions import Suppressions

Answers = dict[str, dict[str, Persisted]]  # table name → key → a kept answer


def run(
    paths: Sequence[Path],
    settings: Settings,
    root: Path,
    cwd: Path,
    sources: list[SourceFile],
    progress: Callable[[int, int], None] | None,
    jobs: int | None,
    store: FileStore | None,
    given: Mapping[Path, str] | None = None,
) -> LintResult:
    """A run that the run cache did not answer (``store``: the per-file store, or None;
    ``given``: texts that stand in for files on disk)."""
    recorder = Recorder()
    previous = reads.install(recorder)
    try:
        with engine.collector_paused():
            return _steps(
                paths, settings, root, cwd, sources, progress, jobs, store, recorder, given
            )
    finally:
        reads.install(previous)


def _steps(
    paths: Sequence[Path],
    settings: Settings,
    root: Path,
    cwd: Path,
    sources: list[SourceFile],
    progress: Callable[[int, int], None] | None,
    jobs: int | None,
    store: FileStore | None,
    recorder: Recorder,
    given: Mapping[Path, str] | None,
) -> LintResult:
    clock = engine.PhaseClock()
    loaded = engine.load(paths, settings, root=root, cwd=cwd, files=sources, given=given)
    ctx = loaded.ctx
    texts = loaded.python_texts
    raw = list(loaded.raw)
    reused: dict[str, FileEntry] = {}
    if store is not None:
        registry.all_rules()  # the rules' text tests (Spelling) must be known
        candidates = store.reusable(texts)
        for name, table in store.seeds(texts).items():
            for key, (raw_value, read) in table.items():
                ctx.project.hand_in(name, key, raw_value, read)
        reused = _still_holding(ctx, store, recorder, candidates, texts)
        for path in _reported(ctx) & reused.keys():
            raw.extend(reused[path].diagnostics)  # its findings come from the cache
    clock.lap("load")
    raw.extend(engine.run_project_rules(ctx))
    clock.lap("project rules")
    answers: Answers = {}
    _keep(answers, _fresh_answers(ctx.project))  # what the project rules computed
    fresh: dict[str, FileEntry] = {}
    known: dict[str, Suppressions] = {}
    modules = engine.python_targets(ctx, skip=reused.keys())
    for module, outcome in _check(ctx, modules, jobs, recorder, progress):
        raw.extend(outcome.checked.diagnostics)
        if outcome.checked.suppressions is not None:
            known[module.path] = outcome.checked.suppressions
        if outcome.checked.finished:
            _keep(answers, outcome.answers)
            fresh[module.path] = FileEntry.of(
                module.path,
                outcome.parts,
                outcome.spellings,
                outcome.used,
                outcome.checked.diagnostics,
            )
    clock.lap("check")
    if store is not None:
        store.update(texts, reused.keys(), fresh, answers)
    result = engine.result(loaded, raw, known)
    result.cache_report = CacheReport(_reported(ctx) & reused.keys(), fresh, known)
    clock.lap("finish")
    result.timings = clock.laps
    return result


@dataclass
class CacheReport:
    """What a run took from the per-file store and what it checked (for ``-v`` and tests)."""

    reused: set[str]  # reported files whose findings came from the store
    checked: dict[str, FileEntry]  # files checked, with the entry each left
    suppressions: dict[str, Suppressions]  # markers read by whoever checked a file


def _still_holding(
    ctx: LintContext,
    store: FileStore,
    recorder: Recorder,
    candidates: dict[str, FileEntry],
    texts: dict[str, str],
) -> dict[str, FileEntry]:
    """The entries (whose file, reads and spellings are unchanged) whose answers still hold.
    An answer the store cannot vouch for (it was computed from something that changed) is
    computed now, for a file this run reports on, and the entry holds if it came out the same:
    an edit inside a helper that leaves its call chain as it was re-checks no file that goes
    through it. Other files' entries are kept only on answers the store vouches for."""
    reported = _reported(ctx)
    holding = {}
    for path, entry in candidates.items():
        unsure = [
            (token, digest)
            for token, digest in entry.answers.items()
            if not store.answer_holds(token, digest, texts)
        ]
        if not unsure or (
            path in reported
            and all(_same_answer(ctx.project, recorder, token, digest) for token, digest in unsure)
        ):
            holding[path] = entry
    return holding


def _reported(ctx: LintContext) -> set[str]:
    """The Python files (and others) the run reports on and could read."""
    return {source.display for source in ctx.files if source.report} - ctx.unreadable


def _same_answer(project: Project, recorder: Recorder, token: Token, digest: str) -> bool:
    try:
        table = project.answer_table(token[0])
        if table is None:
            return False
        table.ask(token[1])
        return recorder.digest(table, token[1]) == digest
    except Exception:  # RecursionError or an analysis bug: not the same, so re-checked
        return False


def _fresh_answers(project: Project) -> Answers:
    """The answers computed since the last call, by table name, ready to keep."""
    fresh = {name: take_fresh(table) for name, table in project.answer_tables.items()}
    return {name: entries for name, entries in fresh.items() if entries}


def _keep(answers: Answers, fresh: Answers) -> None:
    for name, entries in fresh.items():
        table = answers.setdefault(name, {})
        for key, entry in entries.items():
            table.setdefault(key, entry)


# ---------------------------------------------------------------------------- Python checks


@dataclass
class Outcome:
    """One Python file's check with what the speed layer needs besides, as plain data (it may
    come from a worker process)."""

    checked: engine.Checked
    parts: list[Part] = field(default_factory=list)  # (module, what) pairs read
    spellings: list[str] = field(default_factory=list)
    used: dict[Token, str] = field(default_factory=dict)  # answers used → their digests
    answers: Answers = field(default_factory=dict)  # answers the check computed
    parsed: list[str] = field(default_factory=list)  # modules it parsed: for the scheduler
    tables: dict[str, NameTable] = field(default_factory=dict)  # for the other workers


class RecordedChecks:
    """The engine's checks, each in a frame of the recorder."""

    def __init__(self, ctx: LintContext, recorder: Recorder) -> None:
        self.ctx = ctx
        self.recorder = recorder
        self.checks = engine.PythonChecks(ctx)

    def __call__(self, module: PythonModule) -> Outcome:
        self.recorder.take_parsed()  # parsed before this check (by main, before a fork)
        with self.recorder.frame() as found:
            checked = engine.check_one(self.checks, module)
        parts, spellings, used = found.resolved()
        return Outcome(
            checked,
            sorted(parts),
            sorted(spellings),
            used,
            _fresh_answers(self.ctx.project),
            parsed=self.recorder.take_parsed(),
            tables=_settled(self.ctx.project.take_unshared_tables()),
        )

    def learn(self, lesson: Lesson) -> None:
        """What another worker worked out while checking a file (see :func:`_lesson`)."""
        answers, tables = lesson
        project = self.ctx.project
        for name, entries in answers.items():
            for key, (raw, parts, spellings, used) in entries.items():
                project.hand_in(name, key, raw, reads_of(parts, spellings, used))
        project.learn_tables(tables)


def _settled(tables: dict[str, NameTable]) -> dict[str, NameTable]:
    """The name tables no entry of which was worked out under a cycle answer (those depend on
    the order of work, so they are not passed on)."""
    return {
        path: table
        for path, table in tables.items()
        if not any(read is not None and read.pending for _, read in table.values())
    }


Lesson = tuple[Answers, dict[str, NameTable]]


def _lesson(outcome: Outcome) -> Lesson | None:
    """What the other workers learn from a file's check: the answers (canonical paths, call
    chains) and the modules' name tables it worked out, so they need not parse the modules
    behind them."""
    if not outcome.answers and not outcome.tables:
        return None
    return outcome.answers, outcome.tables


def _check(
    ctx: LintContext,
    modules: list[PythonModule],
    jobs: int | None,
    recorder: Recorder,
    progress: Callable[[int, int], None] | None,
) -> Iterator[tuple[PythonModule, Outcome]]:
    """Each module's :class:`Outcome`, from this process or from ``jobs`` forked workers. A
    worker checks a file exactly as this process would: it holds the same project, parses the
    file and, lazily, the modules its checks read. So the findings do not depend on the number
    of workers (the determinism tests compare them)."""
    checks = RecordedChecks(ctx, recorder)
    weights = [len(module.text) for module in modules]
    if jobs is None:
        jobs = workers.default_jobs(sum(weights))
    jobs = min(jobs, len(modules)) if workers.can_fork() else 1
    if jobs <= 1:
        outcomes = workers.map_in_process(modules, checks, _unfinished)
    else:
        index_of = {module.path: index for index, module in enumerate(modules)}

        def parsed_files(outcome: Outcome) -> list[int]:
            return [index_of[path] for path in outcome.parsed if path in index_of]

        outcomes = workers.map_in_workers(
            modules,
            weights,
            jobs,
            checks,
            _unfinished,
            share=_lesson,
            learn=checks.learn,
            affinity=parsed_files,
        )
    for done, (index, outcome) in enumerate(outcomes, start=1):
        yield modules[index], outcome
        if progress is not None:
            progress(done, len(modules))


def _unfinished(module: PythonModule, why: str) -> Outcome:
    """A file whose check never finished: its worker died (a crash in the native parser, the
    OOM killer), which says nothing certain about the file, so nothing of it is kept."""
    return Outcome(engine.unfinished(module, why))
