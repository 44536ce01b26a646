"""The ``fastlint`` command: parse options, call the engine, pick a reporter. No analysis here."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn

import click

from fastlint import __version__
from fastlint.report import FORMATS

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _split_codes(values: tuple[str, ...]) -> list[str] | None:
    if not values:
        return None
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


def _fail(message: str) -> NoReturn:
    """One line on stderr, exit 2: usage errors, bad config, unknown codes, missing paths."""
    one_line = " ".join(message.split())
    click.echo(f"fastlint: error: {one_line}", err=True)
    sys.exit(EXIT_USAGE)


def _use_color(choice: str, stream: IO[str]) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return hasattr(stream, "isatty") and stream.isatty()


class _Command(click.Command):
    """Click's own usage errors (bad option, bad choice) become one line and exit 2, like every
    other error, instead of a usage block."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.ClickException as error:
            message = error.format_message()
            if isinstance(error, click.UsageError):
                message = _with_env_source(message.rstrip(".")) + "; see 'fastlint --help'"
            _fail(message)
        except click.Abort:
            click.echo("fastlint: interrupted", err=True)
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else EXIT_CLEAN)


def _with_env_source(message: str) -> str:
    """Say when a bad --format came from FASTLINT_FORMAT: the user typed no option."""
    if "'--format'" in message and os.environ.get("FASTLINT_FORMAT"):
        return message + " (from the FASTLINT_FORMAT environment variable)"
    return message


@click.command(cls=_Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "--output-format",
    "fmt",
    type=click.Choice(FORMATS, case_sensitive=False),
    envvar="FASTLINT_FORMAT",
    default="rich",
    show_default=True,
    help="Output format (env FASTLINT_FORMAT).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report to FILE instead of standard output.",
)
@click.option(
    "--select",
    multiple=True,
    metavar="CODES",
    help="Only these codes or prefixes, e.g. FL1,FL401 (ALL for every rule).",
)
@click.option("--ignore", multiple=True, metavar="CODES", help="Turn off these codes or prefixes.")
@click.option(
    "--extend-select",
    multiple=True,
    metavar="CODES",
    help="Add codes or prefixes to the selection.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info"], case_sensitive=False),
    help="Lowest severity that makes the exit code 1 (default: info).",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read [tool.fastlint] from FILE instead of the nearest pyproject.toml.",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help="Skip paths matching GLOB, on top of the configured excludes (repeatable).",
)
@click.option(
    "--statistics",
    is_flag=True,
    help="Print the number of findings per code instead of the findings.",
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"], case_sensitive=False),
    default="auto",
    show_default=True,
    help="Colour output (NO_COLOR is respected).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary.")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Do not read or write the result cache (.fastlint_cache/ at the project root).",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep the result cache in DIR instead of .fastlint_cache/ at the project root.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    metavar="N",
    help="Check Python files in N processes (default: the CPUs this process may use, when the "
    "project is big enough to gain from them). The findings are the same for any N.",
)
# ---- fixing (issue 20) ----
@click.option("--fix", is_flag=True, help="Apply safe fixes in place, then report what remains.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff: unsafe fixes too.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--show-fixes", is_flag=True, help="With --fix: list what was fixed.")
@click.option(
    "--exit-non-zero-on-fix", is_flag=True, help="With --fix: exit 1 if anything was fixed."
)
@click.option("--add-noqa", is_flag=True, help="Add '# noqa: CODE' for every current finding.")
@click.option(
    "--list-rules",
    is_flag=True,
    help="List the rules (those --select/--ignore leave; --format json for JSON) and exit.",
)
@click.option(
    "--explain",
    metavar="CODE",
    help="Show the documentation page of a rule (code or name) and exit.",
)
# ---- inspection and editor options (issue 21) ----
@click.option(
    "--stdin-filename",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="PATH",
    help="Lint standard input as the file PATH (give '-' as the path); the rest of the "
    "project is read from disk.",
)
@click.option(
    "--show-settings",
    is_flag=True,
    help="Print the resolved settings and the file they came from, and exit.",
)
@click.option(
    "--show-files",
    is_flag=True,
    help="Print each file that would be checked, with its kind, and exit.",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Say on stderr which config was read, the time each phase took and the cache hits.",
)
@click.version_option(
    __version__, "--version", prog_name="fastlint", message="%(prog)s %(version)s"
)
def cli(
    paths: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    fail_on: str | None,
    exit_zero: bool,
    config_file: Path | None,
    exclude: tuple[str, ...],
    statistics: bool,
    color: str,
    quiet: bool,
    no_cache: bool,
    cache_dir: Path | None,
    jobs: int | None,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    show_fixes: bool,
    exit_non_zero_on_fix: bool,
    add_noqa: bool,
    list_rules: bool,
    explain: str | None,
    stdin_filename: Path | None,
    show_settings: bool,
    show_files: bool,
    verbose: bool,
) -> None:
    """Lint a FastAPI service for production-readiness problems.

    PATHS are files or folders (default: the current folder).
    """
    from fastlint import registry
    from fastlint.config import ConfigError, Overrides, load_settings

    color = color.lower()
    fmt = fmt.lower()
    if list_rules:
        _list_rules(fmt, color, select, ignore, extend_select)
        return
    if explain is not None:
        code = _rule_code(explain)
        from fastlint.pages import print_page

        try:
            print_page(code, color=_use_color(color, sys.stdout))
        except (registry.UnknownRuleError, LookupError) as error:
            _fail(str(error))
        return

    stdin_text = _read_stdin(paths, stdin_filename)
    if stdin_text is not None:
        assert stdin_filename is not None
        paths = (stdin_filename,)
    for path in paths:
        if stdin_text is not None:
            break  # the file named for stdin need not exist (an unsaved buffer)
        if path.is_symlink() and not path.exists():
            _fail(f"path is a broken symbolic link: {path}")
        if not path.exists():
            _fail(f"path does not exist: {path}")
    if statistics and fmt == "sarif":
        _fail("--statistics has no SARIF form (SARIF lists findings); use --format json")
    targets = list(paths) or [Path(".")]
    overrides = Overrides(
        select=_split_codes(select),
        ignore=_split_codes(ignore),
        extend_select=_split_codes(extend_select),
        exclude=list(exclude) or None,
        fail_on=fail_on.lower() if fail_on else None,
    )
    try:
        settings, config_path = load_settings(config_file, targets[0], overrides)
    except ConfigError as error:
        _fail(str(error))
    _warn_about_settings(settings, config_path, overrides)
    if show_settings:
        from fastlint.report.run_facts import settings_text

        click.echo(settings_text(settings, config_path, targets, fmt), nl=False)
        return
    if show_files:
        from fastlint.report.run_facts import files_text

        unsaved = [stdin_filename] if stdin_filename is not None else []
        click.echo(files_text(targets, settings, fmt, unsaved), nl=False)
        return

    fixed_something = False
    if fix or diff or add_noqa:
        if add_noqa and (fix or diff):
            _fail("--add-noqa cannot be combined with --fix or --diff")
        options = _FixOptions(fix, unsafe_fixes, diff, show_fixes, exit_non_zero_on_fix, add_noqa)
        ended, changed = _apply_fixes(targets, settings, options, jobs)
        if ended is not None:
            sys.exit(ended)
        fixed_something = changed and exit_non_zero_on_fix

    started = time.perf_counter()
    from fastlint.incremental import default_cache_dir, lint

    texts = None
    if stdin_text is not None:
        assert stdin_filename is not None
        # The result cache keys files by their bytes on disk, which stdin replaces: no cache.
        texts = {stdin_filename: stdin_text}
        cache_dir = None
    elif no_cache:
        cache_dir = None
    elif cache_dir is None:
        cache_dir = default_cache_dir(targets)
    result = lint(
        targets,
        settings,
        cache_dir=cache_dir,
        progress=_progress_callback(quiet),
        jobs=jobs,
        texts=texts,
    )
    linted = time.perf_counter()
    _warn_about_what_was_skipped(paths, result.files, settings, result.templates)
    compact = not verbose and bool(paths) and not any(path.is_dir() for path in paths)
    _write_report(result, fmt, output, color, statistics, quiet, targets[0], compact)
    if verbose:
        from fastlint.report.run_facts import verbose_lines

        timings = {**result.timings, "report": time.perf_counter() - linted}
        timings["total"] = time.perf_counter() - started
        lines = verbose_lines(config_path, targets, result, timings, cache_dir)
        for line in lines:
            click.echo(f"fastlint: {line}", err=True)
    if exit_zero:
        sys.exit(EXIT_CLEAN)
    failing = [d for d in result.diagnostics if d.severity.rank >= settings.fail_on.rank]
    if failing:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_FINDINGS if fixed_something else EXIT_CLEAN)


# ---------------------------------------------------------------------------- fixing


@dataclass(frozen=True)
class _FixOptions:
    fix: bool
    unsafe: bool
    diff: bool
    show: bool
    exit_non_zero: bool
    add_noqa: bool


def _apply_fixes(
    targets: list[Path], settings: Any, options: _FixOptions, jobs: int | None
) -> tuple[int | None, bool]:
    """--fix / --diff / --add-noqa: (the exit code when the run ends here (--diff,
    --add-noqa), or None to go on and report what remains; whether a file was changed)."""
    from fastlint.fix.apply import fix_project, write_back
    from fastlint.incremental import lint

    result = lint(targets, settings, cache_dir=None, jobs=jobs)
    if options.add_noqa:
        from fastlint.fix.noqa import add_noqa

        added, problems = add_noqa(result)
        for problem in problems:
            click.echo(f"fastlint: {problem}", err=True)
        click.echo(f"Added {added} noqa directive{'s' if added != 1 else ''}.", err=True)
        return EXIT_CLEAN, added > 0

    def relint(paths: Any, root: Path, cwd: Path) -> Any:
        return lint(paths, settings, cache_dir=None, root=root, cwd=cwd, jobs=jobs)

    outcome = fix_project(result, targets, settings, relint, unsafe=options.unsafe)
    for dropped in outcome.dropped:
        click.echo(f"fastlint: {dropped}", err=True)
    count = len(outcome.applied)
    if options.diff:
        import difflib

        for path in sorted(outcome.after):
            sys.stdout.writelines(
                difflib.unified_diff(
                    outcome.before[path].splitlines(keepends=True),
                    outcome.after[path].splitlines(keepends=True),
                    fromfile=f"a/{path}",
                    tofile=f"b/{path}",
                )
            )
        click.echo(f"Would fix {count} finding{'s' if count != 1 else ''}.", err=True)
        return (EXIT_FINDINGS if outcome.after else EXIT_CLEAN), False
    for problem in write_back(outcome):
        click.echo(f"fastlint: {problem}", err=True)
    if options.show and outcome.applied:
        click.echo(f"Fixed {count} finding{'s' if count != 1 else ''}:", err=True)
        for applied in sorted(outcome.applied, key=lambda a: (a.path, a.line, a.code)):
            unsafe = "" if applied.safe else " (unsafe)"
            click.echo(
                f"  {applied.path}:{applied.line}: {applied.code} {applied.title}{unsafe}", err=True
            )
    elif outcome.applied:
        click.echo(f"Fixed {count} finding{'s' if count != 1 else ''}.", err=True)
    return None, bool(outcome.after)


def _progress_callback(quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return None
    from fastlint.report.progress import ProgressBar

    return ProgressBar()


def _write_report(
    result: Any,
    fmt: str,
    output: Path | None,
    color: str,
    statistics: bool,
    quiet: bool,
    first_target: Path,
    compact: bool,
) -> None:
    from fastlint.discovery import find_repository_root
    from fastlint.report import get_reporter
    from fastlint.report.base import ReportInput

    report = ReportInput(
        diagnostics=result.diagnostics,
        files=result.files,
        templates=result.templates,
        version=__version__,
        statistics=statistics,
        deployment=result.deployment_summary(),
        sources=result.sources(),
        repo_root=find_repository_root(first_target).as_posix(),
        cwd=Path.cwd().resolve().as_posix(),
        compact=compact,
    )
    reporter_class = get_reporter(fmt)
    if output is not None:
        try:
            with output.open("w", encoding="utf-8") as stream:
                reporter = reporter_class(stream, color=False)
                reporter.quiet = quiet
                reporter.write(report)
        except OSError as error:
            _fail(f"cannot write {output}: {error.strerror or error}")
        return
    reporter = reporter_class(sys.stdout, color=_use_color(color, sys.stdout))
    reporter.quiet = quiet
    reporter.write(report)


# ---------------------------------------------------------------------------- issue 21 blocks:
# rules and pages, stdin, warnings for runs that check less than asked


def _rule_code(text: str) -> str:
    """The code ``--explain`` names: a code (any case) or a rule name."""
    from fastlint import registry

    wanted = text.strip()
    for meta in registry.all_metas():
        if wanted.upper() == meta.code or wanted.lower() == meta.name:
            return meta.code
    _fail(f"unknown rule code or name '{wanted}' (see 'fastlint --list-rules')")


def _list_rules(
    fmt: str,
    color: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
) -> None:
    """``--list-rules``: the rules a run with these --select/--ignore options would use."""
    from fastlint import registry
    from fastlint.config import ConfigError, Overrides, build_settings

    overrides = Overrides(
        select=_split_codes(select),
        ignore=_split_codes(ignore),
        extend_select=_split_codes(extend_select),
    )
    try:
        enabled = build_settings({}, overrides).enabled
    except ConfigError as error:
        _fail(str(error))
    metas = [meta for meta in registry.all_metas() if meta.code in enabled]
    if fmt == "json":
        import json

        from fastlint.pages import page_url

        rows = [
            {
                "code": meta.code,
                "name": meta.name,
                "severity": meta.severity.value,
                "front_end": meta.front_end,
                "summary": meta.summary,
                "url": page_url(meta.code),
            }
            for meta in metas
        ]
        click.echo(json.dumps(rows, indent=2))
    elif fmt in ("concise", "github"):
        for meta in metas:
            click.echo(f"{meta.code} {meta.name} [{meta.severity.value}] {meta.summary}")
    else:
        from fastlint.pages import print_rule_table

        print_rule_table(color=_use_color(color, sys.stdout), metas=metas)


def _read_stdin(paths: tuple[Path, ...], stdin_filename: Path | None) -> str | None:
    """The text to lint from stdin (``--stdin-filename PATH -``), or None when not asked."""
    dash = [path for path in paths if str(path) == "-"]
    if not dash and (stdin_filename is None or paths):
        if stdin_filename is not None:
            _fail("--stdin-filename needs '-' as the path (stdin) and no other paths")
        return None
    if stdin_filename is None:
        _fail("reading stdin ('-') needs --stdin-filename PATH: the name picks the file kind")
    if len(paths) > len(dash) or len(dash) > 1:
        _fail("'-' (stdin) cannot be combined with other paths")
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _fail("standard input is not valid UTF-8")


def _warn(message: str) -> None:
    click.echo(f"fastlint: warning: {message}", err=True)


def _warn_about_settings(settings: Any, config_path: Path | None, overrides: Any) -> None:
    from fastlint.config import table_warnings

    for message in table_warnings(config_path):
        _warn(message)
    if not settings.enabled:
        where = (
            "--select is empty" if overrides.select == [] else f"select is empty in {config_path}"
        )
        if overrides.select is None and config_path is None:
            where = "the selection is empty"
        _warn(f"no rules are selected ({where}); nothing will be reported")


def _warn_about_what_was_skipped(
    paths: tuple[Path, ...], checked: int, settings: Any, templates: int = 0
) -> None:
    """Say why a path given on the command line was not checked, as ruff does, so a green run
    that checked nothing does not look like a clean project."""
    from fastlint.discovery import classify

    # pre-commit's file filter is deliberately loose (extension-less names, any text file):
    # files it passes that fastlint does not read are expected there.
    under_pre_commit = os.environ.get("PRE_COMMIT") == "1"
    for path in paths:
        if path.is_dir():
            if not checked or (len(paths) > 1 and not _has_files_to_check(path, settings)):
                skipped = (
                    f" ({templates} template file{'s' if templates != 1 else ''} skipped)"
                    if templates and len(paths) == 1
                    else ""
                )
                _warn(f"no files to check under {path}{skipped}")
        elif path.exists() and not path.is_file():
            _warn(f"{path} is not a regular file (a pipe, socket or device); skipped")
        elif classify(path) is None:
            if not under_pre_commit or not checked:
                _warn(f"{path} is not a file fastlint reads ({_KINDS}); skipped")
        elif not checked:
            _warn(f"{path} is excluded (exclude settings, .gitignore or a skipped folder)")
    if not paths and not checked:
        _warn("no files to check under the current folder")


_KINDS = "Python, Dockerfiles, Gunicorn configs, shell scripts, Procfiles"


def _has_files_to_check(folder: Path, settings: Any) -> bool:
    """Whether a run over ``folder`` alone would check a file (one of several paths given:
    the run's own count cannot tell which path its files came from)."""
    from fastlint.discovery import discover, find_project_root

    return bool(discover([folder], find_project_root(folder), settings.all_excludes))


def main() -> None:
    """Console entry point: run the command, then leave without tearing the heap down.

    A run over a large project leaves millions of small syntax-tree objects; a normal
    interpreter exit spends a final garbage collection and then frees them one by one, which
    measured 10-15 s on prefect 3.9.1 after the report was already written. The cyclic
    collector stays off for the whole (short-lived) process, and the process exits as soon as
    its output is flushed. In-process callers (``cli`` under click's test runner, ``lint()``)
    are not affected.
    """
    gc.disable()
    try:
        cli.main(prog_name="fastlint")
        code = EXIT_CLEAN
    except SystemExit as exit_:
        code = _exit_status(exit_.code)
    _flush_and_exit(code)


def _exit_status(code: object) -> int:
    if code is None:
        return EXIT_CLEAN
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") prints the message and exits 1
    return 1


def _flush_and_exit(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (fastlint . | head) must not raise here.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
