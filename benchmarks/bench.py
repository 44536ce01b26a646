"""Time fastlint against its peers on a large real codebase (prefect 3.9.1). Not run by CI.

    python benchmarks/bench.py                 # 3 runs of each tool, Markdown table on stdout
    python benchmarks/bench.py --runs 5 --install-flake8
    python benchmarks/bench.py --against REV   # cold runs of this code and of git REV in pairs
    python benchmarks/bench.py --differential  # cached vs --no-cache, 2 workers vs 1, after edits

The sdist is fetched once into benchmarks/.cache/ (gitignored) with
``pip download --no-deps --no-binary :all:`` and unpacked there. Each timed command runs under a
fresh wrapper process that reports the command's wall time and the peak RSS of its process tree
(``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``: the largest single process, not a sum).
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
PIP_DOWNLOAD = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
PACKAGE, VERSION = "prefect", "3.9.1"
ONE_FILE = "src/prefect/flows.py"  # a large module with async code and helper chains


def append_comment(text: str, run: int) -> str:
    return text + f"\n# fastlint benchmark edit {run}\n"


def append_constant(text: str, run: int) -> str:
    return text + f"\nFASTLINT_BENCHMARK_EDIT = {run}\n"


def first_statement_of(
    function: str, statement: str = "_benchmark_edit = {run}"
) -> Callable[[str, int], str]:
    """An edit inside one top-level function's body: a statement before its first one."""

    def edit(text: str, run: int) -> str:
        tree = ast.parse(text)
        (found,) = [
            node
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function
        ]
        first = found.body[0]
        lines = text.splitlines(keepends=True)
        lines.insert(first.lineno - 1, " " * first.col_offset + statement.format(run=run) + "\n")
        return "".join(lines)

    return edit


# Edited between warm runs: a module few findings read, and one that 55 files' findings read,
# by a comment (nothing another file's findings read), inside one function's body (read by the
# findings of 3 files), and in its interface (read by all 55).
EDITS = (
    ("src/prefect/cli/deploy/_core.py", "a comment", append_comment),
    ("src/prefect/flows.py", "a comment", append_comment),
    ("src/prefect/flows.py", "a body", first_statement_of("load_flow_from_entrypoint")),
    ("src/prefect/flows.py", "a module constant", append_constant),
)

# Runs ``argv`` with output discarded; prints wall and CPU seconds (user + system, all processes:
# the fairer number on a busy machine), peak child RSS (KiB) and the exit code.
WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({"wall": wall, "cpu": cpu, "rss_kib": usage.ru_maxrss, "code": code}))
"""


# A fixed piece of work to read the machine's speed by: LibCST parsing the tree's 20 largest
# files, in a fresh process. On a shared machine the same cold run varies by a third from one
# quarter of an hour to the next; timing this before and after says which kind of hour it was.
YARDSTICK = """
import pathlib, sys, time
import libcst
files = sorted(pathlib.Path(sys.argv[1]).rglob("*.py"), key=lambda p: -p.stat().st_size)[:20]
texts = [path.read_text(encoding="utf-8") for path in files]
start = time.process_time()
for text in texts:
    libcst.parse_module(text)
print(time.process_time() - start)
"""


def yardstick(tree: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", YARDSTICK, str(tree)], capture_output=True, text=True
    )
    return f"{float(done.stdout):.2f} s" if done.returncode == 0 else "failed"


@dataclass
class Measurement:
    label: str
    command: list[str]
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def ok(self) -> bool:
        return bool(self.walls) and all(code in (0, 1) for code in self.codes)


def fetch_tree(cache: Path) -> Path:
    """The unpacked sdist, downloading and unpacking it the first time."""
    cache.mkdir(parents=True, exist_ok=True)
    tree = cache / f"{PACKAGE}-{VERSION}"
    if tree.is_dir():
        return tree
    archive = cache / f"{PACKAGE}-{VERSION}.tar.gz"
    if not archive.exists():
        print(f"downloading {PACKAGE}=={VERSION} sdist into {cache} ...", file=sys.stderr)
        subprocess.run(
            [*PIP_DOWNLOAD, f"{PACKAGE}=={VERSION}", "--dest", str(cache)],
            check=True,
        )
    with tarfile.open(archive) as handle:
        members = [m for m in handle.getmembers() if m.isfile() or m.isdir()]
        handle.extractall(cache, members=members)  # regular files and folders only
    return tree


def tree_size(tree: Path) -> tuple[int, int]:
    files = [p for p in tree.rglob("*.py") if p.is_file()]
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    return len(files), lines


# Timed commands run as a user's would: with Python's bytecode cache. Some machines (this
# project's among them) set PYTHONDONTWRITEBYTECODE, which makes every run compile fastlint
# again (about 0.2 s of each warm run here).
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_wrapped(command: list[str], cwd: Path, env: dict[str, str]) -> dict[str, float]:
    """One run of ``command`` under :data:`WRAPPER`: its wall, CPU, peak RSS and exit code."""
    completed = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    result: dict[str, float] = json.loads(completed.stdout)
    return result


def time_command(measurement: Measurement, runs: int, cwd: Path) -> Measurement:
    for _ in range(runs):
        result = run_wrapped(measurement.command, cwd, ENVIRONMENT)
        measurement.walls.append(result["wall"])
        measurement.cpus.append(result["cpu"])
        measurement.rss_kib.append(result["rss_kib"])
        measurement.codes.append(result["code"])
    return measurement


def time_after_edit(
    measurement: Measurement,
    edited: Path,
    edit: Callable[[str, int], str],
    runs: int,
    cwd: Path,
) -> Measurement:
    """Warm runs after one file changed: each run primes the cache on the original tree, then
    applies ``edit`` (different in each run, so no run entry answers it) and is timed."""
    original = edited.read_bytes()
    try:
        for run in range(runs):
            edited.write_bytes(original)
            time_command(Measurement("prime", measurement.command), 1, cwd)
            edited.write_text(edit(original.decode(), run), encoding="utf-8")
            time_command(measurement, 1, cwd)
    finally:
        edited.write_bytes(original)
    return measurement


def fastlint_help(fastlint: list[str]) -> str:
    return subprocess.run([*fastlint, "--help"], capture_output=True, text=True).stdout


def version_of(command: list[str]) -> str:
    try:
        out = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"


def find_flake8(install: bool, scratch: Path) -> tuple[list[str] | None, str]:
    """A flake8 that has flake8-async, or None and why not."""
    candidates = [Path(sys.executable).with_name("flake8"), shutil.which("flake8")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            versions = subprocess.run(
                [str(candidate), "--version"], capture_output=True, text=True
            ).stdout
            if "flake8-async" in versions or "flake8_async" in versions:
                return [str(candidate)], _flake8_versions(versions)
    if not install:
        return None, "not installed (flake8 + flake8-async; pass --install-flake8)"
    venv = scratch / "flake8-venv"
    print("installing flake8 + flake8-async into a temporary venv ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "flake8", "flake8-async"],
        check=True,
    )
    flake8 = str(venv / "bin" / "flake8")
    versions = subprocess.run([flake8, "--version"], capture_output=True, text=True).stdout
    return [flake8], _flake8_versions(versions)


def _flake8_versions(text: str) -> str:
    """`7.5.0 (flake8-async: 26.8.1, ...) CPython` → `flake8 7.5.0, flake8-async 26.8.1`."""
    flake8 = re.match(r"\s*([\d.]+)", text)
    plugin = re.search(r"flake8[-_]async: ([\d.]+)", text)
    return (
        f"flake8 {flake8.group(1) if flake8 else '?'}, "
        f"flake8-async {plugin.group(1) if plugin else '?'}"
    )


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPU": cpu,
        "cores": f"{usable} usable ({os.cpu_count()} online)",
        "Python": platform.python_version(),
        "OS": platform.platform(),
        # Other work on the machine inflates wall times; CPU seconds are steadier.
        "load average (1 min) at the end": f"{os.getloadavg()[0]:.1f}",
    }


def markdown(
    measurements: list[Measurement], ruff_median: float | None, info: dict[str, str]
) -> str:
    rows = [
        "| tool | median wall (s) | min wall (s) | CPU (s) | runs | x ruff | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measurements:
        if not m.walls:
            rows.append(f"| {m.label} | {m.note or 'n/a'} | | | | | |")
            continue
        ratio = f"{m.median / ruff_median:,.0f}x" if ruff_median else "?"
        status = "" if m.ok else f" (exit {sorted(set(m.codes))})"
        note = f" ({m.note})" if m.note else ""
        rows.append(
            f"| {m.label}{note}{status} | {m.median:.2f} | {min(m.walls):.2f} "
            f"| {statistics.median(m.cpus):.2f} | {len(m.walls)} "
            f"| {ratio} | {max(m.rss_kib) / 1024:.0f} |"
        )
    facts = [f"- {key}: {value}" for key, value in info.items()]
    return "\n".join([*rows, "", *facts])


def compare_with(revision: str, pairs: int, tree: Path) -> str:
    """Cold runs of this code and of git ``revision`` back to back, ``pairs`` times, which of
    the two goes first alternating. On a machine whose speed drifts from one minute to the
    next, the ratio of two neighbouring runs says more than two tables taken an hour apart.
    The other revision runs from its ``src/`` (``git archive``) put first on PYTHONPATH, with
    the dependencies installed here."""
    source = subprocess.run(
        ["git", "-C", str(HERE.parent), "archive", revision, "src"],
        capture_output=True,
        check=True,
    ).stdout
    command = [sys.executable, "-m", "fastlint", ".", "--format", "json", "--quiet"]
    command += ["--exit-zero", "--no-cache"]
    rows = [
        f"| pair | {revision} wall (s) | this wall (s) | this / {revision} wall | CPU ratio |",
        "|---:|---:|---:|---:|---:|",
    ]
    walls: list[float] = []
    cpus: list[float] = []
    with tempfile.TemporaryDirectory(prefix="fastlint-bench-rev-") as scratch:
        with tarfile.open(fileobj=io.BytesIO(source)) as handle:
            handle.extractall(scratch, members=[m for m in handle.getmembers() if m.isfile()])
        theirs = {**ENVIRONMENT, "PYTHONPATH": str(Path(scratch) / "src")}
        where = subprocess.run(
            [sys.executable, "-c", "import fastlint; print(fastlint.__file__)"],
            capture_output=True,
            text=True,
            check=True,
            env=theirs,
        ).stdout
        if not Path(where.strip()).is_relative_to(Path(scratch)):
            sys.exit(f"bench: {revision}'s code did not shadow the installed fastlint ({where})")
        for pair in range(pairs):
            order = [("this", ENVIRONMENT), ("other", theirs)]
            if pair % 2:
                order.reverse()
            runs = {name: run_wrapped(command, tree, env) for name, env in order}
            walls.append(runs["this"]["wall"] / runs["other"]["wall"])
            cpus.append(runs["this"]["cpu"] / runs["other"]["cpu"])
            rows.append(
                f"| {pair + 1} | {runs['other']['wall']:.2f} | {runs['this']['wall']:.2f} "
                f"| {walls[-1]:.3f} | {cpus[-1]:.3f} |"
            )
    rows += [
        "",
        f"- this / {revision}, cold wall: median {statistics.median(walls):.3f}, "
        f"mean {statistics.mean(walls):.3f}; CPU: median {statistics.median(cpus):.3f}",
        f"- tree: {PACKAGE} {VERSION}; date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC",
    ]
    return "\n".join(rows)


def differential(tree: Path) -> bool:
    """The speed layer's differential checks on a real tree: the findings (JSON, byte for byte)
    of one process and of two workers, of a cold and a warm run, and after each edit of
    :data:`EDITS` and of a pre-commit run over one edited file, of a cached run and of
    ``--no-cache``. Prints one line a check; True when all agree."""
    base = [sys.executable, "-m", "fastlint", "--format", "json", "--exit-zero"]

    def findings(*args: str) -> str:
        done = subprocess.run(
            [*base, *args], cwd=tree, capture_output=True, text=True, env=ENVIRONMENT
        )
        if done.returncode != 0:
            sys.exit(f"bench: fastlint {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    agreed = True

    def check(what: str, one: str, other: str, before: str | None = None) -> None:
        nonlocal agreed
        same = one == other
        agreed &= same
        found = json.loads(one)["diagnostics"]
        note = f"{len(found)} findings"
        if before is not None:
            changed = [d for d in found if d not in json.loads(before)["diagnostics"]]
            note += f", {len(changed)} new or changed by the edit"
        print(f"{'same' if same else 'DIFFERENT'}: {what} ({note})", flush=True)

    with tempfile.TemporaryDirectory(prefix="fastlint-differential-") as scratch:
        cache = ["--cache-dir", str(Path(scratch) / "cache")]
        cold = findings(".", "--no-cache", "--jobs", "1")
        check("--jobs 1 vs --jobs 2, cold", cold, findings(".", "--no-cache", "--jobs", "2"))
        findings(".", *cache)
        check("cold vs warm", cold, findings(".", *cache))
        blocking = first_statement_of("load_flow_from_entrypoint", "import time; time.sleep(1)")
        edits = [(path, what, edit, ".") for path, what, edit in EDITS]
        # A helper many coroutines call starts blocking: their findings must change.
        edits.append(("src/prefect/flows.py", "a blocking call in a body", blocking, "."))
        edits.append((ONE_FILE, "a comment (pre-commit run)", append_comment, ONE_FILE))
        for run, (path, what, edit, target) in enumerate(edits):
            edited = tree / path
            if not edited.exists():
                continue  # another tree than prefect: its edits do not apply
            original = edited.read_bytes()
            try:
                findings(".", *cache)  # the store as the unedited tree leaves it
                before = findings(target, *cache)
                edited.write_text(edit(original.decode(), run), encoding="utf-8")
                cached = findings(target, *cache)
                uncached = findings(target, "--no-cache")
                check(f"{what} in {path}: cached vs --no-cache", cached, uncached, before)
            finally:
                edited.write_bytes(original)
    return agreed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool (default 3)")
    parser.add_argument("--flake8-runs", type=int, default=1, help="flake8 takes minutes")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache", help="download folder")
    parser.add_argument("--install-flake8", action="store_true", help="into a temporary venv")
    parser.add_argument("--skip-flake8", action="store_true")
    parser.add_argument(
        "--against", metavar="REV", help="only compare cold runs with git REV, in pairs"
    )
    parser.add_argument("--pairs", type=int, default=10, help="pairs for --against")
    parser.add_argument(
        "--differential", action="store_true", help="only check cached/worker runs agree"
    )
    parser.add_argument(
        "--tree",
        type=Path,
        help="a project to run on instead of prefect (--against, --differential)",
    )
    args = parser.parse_args()

    tree = args.tree.resolve() if args.tree else fetch_tree(args.cache)
    if args.differential:
        sys.exit(0 if differential(tree) else 1)
    if args.against:
        print(compare_with(args.against, args.pairs, tree))
        return
    files, lines = tree_size(tree)
    fastlint = [sys.executable, "-m", "fastlint"]
    help_text = fastlint_help(fastlint)
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    base = [*fastlint, ".", "--format", "json", "--quiet", "--exit-zero"]

    before = yardstick(tree)
    with tempfile.TemporaryDirectory(prefix="fastlint-bench-") as scratch_name:
        scratch = Path(scratch_name)
        measurements: list[Measurement] = []
        if "--no-cache" in help_text:
            cold = Measurement("fastlint cold", [*base, "--no-cache"])
        else:
            cold = Measurement("fastlint", base, note="no cache yet")
        measurements.append(time_command(cold, args.runs, tree))
        if "--jobs" in help_text and "--no-cache" in help_text:
            # The default above uses every CPU this process may use; this is one process.
            serial = Measurement("fastlint cold, --jobs 1", [*cold.command, "--jobs", "1"])
            measurements.append(time_command(serial, args.runs, tree))
        if "--cache-dir" in help_text:
            warm = Measurement("fastlint warm", [*base, "--cache-dir", str(scratch / "cache")])
            time_command(Measurement("prime", warm.command), 1, tree)
            measurements.append(time_command(warm, args.runs, tree))
            for path, what, edit in EDITS:
                edited = Measurement(f"fastlint warm, {what} in {path} edited", warm.command)
                measurements.append(time_after_edit(edited, tree / path, edit, args.runs, tree))
        else:
            measurements.append(Measurement("fastlint warm", [], note="no cache yet"))

        # A pre-commit run: one staged file reported, the rest of the tree read as context.
        one_file = [*fastlint, ONE_FILE, "--format", "json", "--quiet", "--exit-zero"]
        if "--cache-dir" in help_text:
            # As pre-commit runs it day to day: the store a whole run left, the file edited.
            staged = Measurement(
                f"fastlint {ONE_FILE} (pre-commit, cached, a comment added)",
                [*one_file, "--cache-dir", str(scratch / "cache")],
            )
            measurements.append(
                time_after_edit(staged, tree / ONE_FILE, append_comment, args.runs, tree)
            )
        if "--no-cache" in help_text:
            one_file.append("--no-cache")
        measurements.append(
            time_command(
                Measurement(f"fastlint {ONE_FILE} (pre-commit, no cache)", one_file),
                args.runs,
                tree,
            )
        )

        ruff_median = None
        if ruff:
            ruff_cmd = [ruff, "check", "--select", "ASYNC,FAST", "--no-cache", "--exit-zero", "."]
            ruff_m = time_command(
                Measurement("ruff check --select ASYNC,FAST", ruff_cmd), args.runs, tree
            )
            measurements.append(ruff_m)
            ruff_median = ruff_m.median
        else:
            measurements.append(Measurement("ruff", [], note="not installed"))

        if args.skip_flake8:
            measurements.append(Measurement("flake8 --select ASYNC", [], note="skipped"))
        else:
            flake8, flake8_version = find_flake8(args.install_flake8, scratch)
            if flake8 is None:
                measurements.append(Measurement("flake8 --select ASYNC", [], note=flake8_version))
            else:
                command = [*flake8, "--select", "ASYNC", "--exit-zero", "."]
                measurements.append(
                    time_command(
                        Measurement("flake8 --select ASYNC", command, note=flake8_version),
                        args.flake8_runs,
                        tree,
                    )
                )

    info = machine_info()
    info["yardstick (LibCST parse of the 20 largest files, CPU) before / after"] = (
        f"{before} / {yardstick(tree)}"
    )
    info["tree"] = f"{PACKAGE} {VERSION} sdist: {files} .py files, {lines:,} lines"
    info["fastlint"] = version_of(fastlint)
    if ruff:
        info["ruff"] = version_of([ruff])
    info["date"] = time.strftime("%Y-%m-%d", time.gmtime())
    print(markdown(measurements, ruff_median, info))


if __name__ == "__main__":
    main()
