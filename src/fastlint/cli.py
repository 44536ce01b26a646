"""The ``fastlint`` command: parse options, call the engine, pick a reporter. No analysis here."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
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

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
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
@click.option("--statistics", is_flag=True, help="Print the number of findings per code.")
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
@click.option("--fix", is_flag=True, help="Apply safe fixes in place, then report what remains.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff: unsafe fixes too.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--show-fixes", is_flag=True, help="With --fix: list what was fixed.")
@click.option(
    "--exit-non-zero-on-fix", is_flag=True, help="With --fix: exit 1 if anything was fixed."
)
@click.option("--add-noqa", is_flag=True, help="Add '# noqa: CODE' for every current finding.")
@click.option("--list-rules", is_flag=True, help="List every rule and exit.")
@click.option("--explain", metavar="CODE", help="Show the documentation page of a rule and exit.")
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
) -> None:
    """Lint a FastAPI service for production-readiness problems.

    PATHS are files or folders (default: the current folder).
    """
    from fastlint import registry
    from fastlint.config import ConfigError, Overrides, load_settings

    color = color.lower()
    if list_rules:
        from fastlint.pages import print_rule_table

        print_rule_table(color=_use_color(color, sys.stdout))
        return
    if explain is not None:
        code = explain.strip().upper()
        try:
            registry.meta_for(code)
        except registry.UnknownRuleError as error:
            _fail(f"{error} (see 'fastlint --list-rules')")
        from fastlint.pages import print_page

        try:
            print_page(code, color=_use_color(color, sys.stdout))
        except (registry.UnknownRuleError, LookupError) as error:
            _fail(str(error))
        return

    for path in paths:
        if path.is_symlink() and not path.exists():
            _fail(f"path is a broken symbolic link: {path}")
        if not path.exists():
            _fail(f"path does not exist: {path}")
    targets = list(paths) or [Path(".")]
    overrides = Overrides(
        select=_split_codes(select),
        ignore=_split_codes(ignore),
        extend_select=_split_codes(extend_select),
        exclude=list(exclude) or None,
        fail_on=fail_on.lower() if fail_on else None,
    )
    try:
        settings, _ = load_settings(config_file, targets[0], overrides)
    except ConfigError as error:
        _fail(str(error))

    from fastlint.cache import cached_lint, default_cache_dir

    fixed_something = False
    if fix or diff or add_noqa:
        if add_noqa and (fix or diff):
            _fail("--add-noqa cannot be combined with --fix or --diff")
        options = _FixOptions(fix, unsafe_fixes, diff, show_fixes, exit_non_zero_on_fix, add_noqa)
        ended, changed = _apply_fixes(targets, settings, options, jobs)
        if ended is not None:
            sys.exit(ended)
        fixed_something = changed and exit_non_zero_on_fix
    if no_cache:
        cache_dir = None
    elif cache_dir is None:
        cache_dir = default_cache_dir(targets)
    result = cached_lint(
        targets, settings, cache_dir=cache_dir, progress=_progress_callback(quiet), jobs=jobs
    )
    _write_report(result, fmt, output, color, statistics, quiet)
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
    from fastlint.engine import lint
    from fastlint.fix.apply import fix_project, write_back

    result = lint(targets, settings, jobs=jobs)
    if options.add_noqa:
        from fastlint.fix.noqa import add_noqa

        added, problems = add_noqa(result)
        for problem in problems:
            click.echo(f"fastlint: {problem}", err=True)
        click.echo(f"Added {added} noqa directive{'s' if added != 1 else ''}.", err=True)
        return EXIT_CLEAN, added > 0

    def relint(paths: Any, root: Path, cwd: Path) -> Any:
        return lint(paths, settings, root=root, cwd=cwd, jobs=jobs)

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
    result: Any, fmt: str, output: Path | None, color: str, statistics: bool, quiet: bool
) -> None:
    from fastlint.report import get_reporter
    from fastlint.report.base import ReportInput

    report = ReportInput(
        diagnostics=result.diagnostics,
        files=result.files,
        version=__version__,
        statistics=statistics,
        deployment=result.deployment_summary(),
        sources=result.sources(),
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
