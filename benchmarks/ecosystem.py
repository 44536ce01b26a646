"""Run fastlint on pinned real FastAPI projects and score it against hand labels. Not run by CI.

    python benchmarks/ecosystem.py                    # lint every checkout, print the tables
    python benchmarks/ecosystem.py --against main     # ... and what changed since git rev main
    python benchmarks/ecosystem.py --mirrors /work/.mirror   # first (re)create the checkouts
    python benchmarks/ecosystem.py --project onyx --unlabelled   # findings nobody judged yet

The projects are listed, pinned by commit, in ``benchmarks/ecosystem/manifest.json``; their code
is never committed here. Checkouts live outside the repository (``--checkouts``, default
``/work/eco-checkouts``), one folder per project named after it. ``--mirrors DIR`` makes the
missing ones from bare git mirrors (``DIR/<owner>+<name>/repo``, the layout the session's
``fetch`` tool leaves) by writing out the pinned commit's tree, skipping blobs the mirror lacks
(snapshots leave out files of 4 MiB and more).

Findings are stored per fastlint revision and project as JSON under
``benchmarks/.cache/ecosystem/src-<tree>/`` (gitignored), named by the git tree id of the
revision's ``src/``; stored findings of a clean tree are reused unless ``--rerun``.
``--against REV`` runs git revision REV's ``src/`` (``git archive``, first on PYTHONPATH, this
environment's dependencies) and prints the findings that are new and gone per project and rule.
``benchmarks/ecosystem/labels.jsonl`` holds one verdict per finding (TP, FP or debatable) and
the real problems fastlint misses (``miss``); with them the script prints precision
TP / (TP + FP) and recall found / (found + missed) per rule and family.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MANIFEST = HERE / "ecosystem" / "manifest.json"
LABELS = HERE / "ecosystem" / "labels.jsonl"
STORE = HERE / ".cache" / "ecosystem"
DEFAULT_CHECKOUTS = Path("/work/eco-checkouts")
COMMIT_MARKER = ".ecosystem-commit"  # written into each checkout: the commit it holds
VERDICTS = ("TP", "FP", "debatable", "miss")

# Rule families by the code's first digit, as the README's rule table groups them.
FAMILIES = {
    "0": "FL0 unreadable files",
    "1": "FL1 event loop",
    "2": "FL2 lifecycle",
    "3": "FL3 database",
    "4": "FL4 app surface",
    "5": "FL5 containers",
    "6": "FL6 server processes",
}


# ------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Project:
    name: str
    repo: str  # owner/name on GitHub
    commit: str
    category: str  # large, boilerplate or small
    lint: str = "."  # the folder fastlint is run on, relative to the repository root
    python_lines: int = 0  # lines of *.py under ``lint`` at ``commit``
    note: str = ""


Key = tuple[str, str, int, str]  # project, path from the repository root, line, code


@dataclass(frozen=True)
class Finding:
    project: str
    path: str
    line: int
    code: str
    message: str = ""

    @property
    def key(self) -> Key:
        return (self.project, self.path, self.line, self.code)


@dataclass(frozen=True)
class Label:
    project: str
    path: str
    line: int
    code: str
    verdict: str
    why: str

    @property
    def key(self) -> Key:
        return (self.project, self.path, self.line, self.code)


def load_manifest(path: Path = MANIFEST) -> list[Project]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Project(**entry) for entry in data["projects"]]


def parse_labels(lines: Iterable[str]) -> list[Label]:
    """Labels from JSON lines; blank lines are skipped, a bad verdict or a key given twice is an
    error (two verdicts for one finding would make the scores depend on order)."""
    labels: list[Label] = []
    seen: set[Key] = set()
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        entry = json.loads(text)
        label = Label(
            project=entry["project"],
            path=entry["path"],
            line=int(entry["line"]),
            code=entry["code"],
            verdict=entry["verdict"],
            why=entry["why"],
        )
        if label.verdict not in VERDICTS:
            raise ValueError(f"labels line {number}: verdict {label.verdict!r} not in {VERDICTS}")
        if label.key in seen:
            raise ValueError(f"labels line {number}: {label.key} labelled twice")
        seen.add(label.key)
        labels.append(label)
    return labels


def load_labels(path: Path = LABELS) -> list[Label]:
    if not path.exists():
        return []
    return parse_labels(path.read_text(encoding="utf-8").splitlines())


def findings_from_report(project: Project, report: Mapping[str, object]) -> list[Finding]:
    """fastlint's JSON report (paths relative to the folder it ran in) → findings keyed by the
    path from the repository root."""
    prefix = "" if project.lint in ("", ".") else project.lint.strip("/") + "/"
    diagnostics = report.get("diagnostics", [])
    assert isinstance(diagnostics, list)
    return sorted(
        {
            Finding(
                project=project.name,
                path=prefix + str(d["path"]).replace(os.sep, "/").removeprefix("./"),
                line=int(d["line"]),
                code=str(d["code"]),
                message=str(d.get("message", "")),
            )
            for d in diagnostics
        },
        key=lambda f: f.key,
    )


# ----------------------------------------------------------------------------- scoring


@dataclass
class Tally:
    """Counts for one rule (or family): judged findings and the real problems not found."""

    tp: int = 0  # reported, and a real problem (labelled TP, or a labelled miss now found)
    fp: int = 0
    debatable: int = 0
    unlabelled: int = 0  # reported, nobody judged it yet
    missed: int = 0  # real problems not reported: misses, and TP labels no longer reported

    def add(self, other: Tally) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.debatable += other.debatable
        self.unlabelled += other.unlabelled
        self.missed += other.missed

    @property
    def precision(self) -> float | None:
        judged = self.tp + self.fp
        return self.tp / judged if judged else None

    @property
    def recall(self) -> float | None:
        real = self.tp + self.missed
        return self.tp / real if real else None


@dataclass
class Scores:
    by_code: dict[str, Tally] = field(default_factory=dict)
    unlabelled: list[Finding] = field(default_factory=list)
    now_found: list[Label] = field(default_factory=list)  # misses fastlint reports now
    lost: list[Label] = field(default_factory=list)  # TP labels fastlint no longer reports

    def by_family(self) -> dict[str, Tally]:
        families: dict[str, Tally] = {}
        for code, tally in sorted(self.by_code.items()):
            families.setdefault(family_of(code), Tally()).add(tally)
        return families

    def total(self) -> Tally:
        whole = Tally()
        for tally in self.by_code.values():
            whole.add(tally)
        return whole


def family_of(code: str) -> str:
    digit = code[2:3]
    return FAMILIES.get(digit, f"FL{digit}")


def score(
    findings: Iterable[Finding], labels: Iterable[Label], projects: Iterable[str] | None = None
) -> Scores:
    """Match findings with labels by (project, path, line, code). Labels of projects not in
    ``projects`` (when given) are left out, so a run on part of the set scores that part."""
    wanted = set(projects) if projects is not None else None
    by_key = {label.key: label for label in labels if wanted is None or label.project in wanted}
    scores = Scores()
    reported: set[Key] = set()

    def tally(code: str) -> Tally:
        return scores.by_code.setdefault(code, Tally())

    for finding in findings:
        reported.add(finding.key)
        label = by_key.get(finding.key)
        if label is None:
            tally(finding.code).unlabelled += 1
            scores.unlabelled.append(finding)
        elif label.verdict == "FP":
            tally(finding.code).fp += 1
        elif label.verdict == "debatable":
            tally(finding.code).debatable += 1
        else:
            tally(finding.code).tp += 1
            if label.verdict == "miss":
                scores.now_found.append(label)
    for key, label in by_key.items():
        if key in reported or label.verdict not in ("TP", "miss"):
            continue
        tally(label.code).missed += 1
        if label.verdict == "TP":
            scores.lost.append(label)
    return scores


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def scores_table(scores: Scores) -> str:
    """Markdown: one row per rule, then one per family, then the whole set."""
    header = [
        "| rule | TP | FP | debatable | missed | precision | recall |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    def row(name: str, t: Tally) -> str:
        unlabelled = f" (+{t.unlabelled} unlabelled)" if t.unlabelled else ""
        return (
            f"| {name}{unlabelled} | {t.tp} | {t.fp} | {t.debatable} | {t.missed} "
            f"| {percent(t.precision)} | {percent(t.recall)} |"
        )

    rows = [row(code, tally) for code, tally in sorted(scores.by_code.items())]
    rows += [row(f"**{name}**", tally) for name, tally in scores.by_family().items()]
    rows.append(row("**all rules**", scores.total()))
    return "\n".join(header + rows)


# -------------------------------------------------------------------------------- diff


def diff(
    before: Iterable[Finding], after: Iterable[Finding]
) -> dict[tuple[str, str], tuple[list[Finding], list[Finding]]]:
    """(project, code) → (new findings, gone findings), by key; only pairs that changed."""
    old = {f.key: f for f in before}
    new = {f.key: f for f in after}
    changes: dict[tuple[str, str], tuple[list[Finding], list[Finding]]] = defaultdict(
        lambda: ([], [])
    )
    for key in sorted(new.keys() - old.keys()):
        changes[(key[0], key[3])][0].append(new[key])
    for key in sorted(old.keys() - new.keys()):
        changes[(key[0], key[3])][1].append(old[key])
    return dict(sorted(changes.items()))


def diff_report(
    changes: Mapping[tuple[str, str], tuple[list[Finding], list[Finding]]],
    labels: Iterable[Label],
    before: str,
    after: str,
) -> str:
    """The changes, each finding with its label's verdict when it has one."""
    if not changes:
        return f"No finding changed between {before} and {after}."
    verdicts = {label.key: label.verdict for label in labels}
    lines = [
        f"| project | rule | new in {after} | gone since {before} |",
        "|---|---|---:|---:|",
    ]
    for (project, code), (added, removed) in changes.items():
        lines.append(f"| {project} | {code} | {len(added)} | {len(removed)} |")
    lines.append("")
    for (project, code), (added, removed) in changes.items():
        for sign, found in (("+", added), ("-", removed)):
            for f in found:
                verdict = verdicts.get(f.key, "unlabelled")
                lines.append(f"{sign} {project} {f.path}:{f.line} {code} [{verdict}] {f.message}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- checkouts


def python_lines(root: Path) -> int:
    """Lines of every *.py file under ``root`` (what ``wc -l`` counts)."""
    return sum(path.read_bytes().count(b"\n") for path in root.rglob("*.py") if path.is_file())


def mirror_of(mirrors: Path, repo: str) -> Path:
    owner, name = repo.split("/")
    for candidate in (mirrors / f"{owner}+{name}" / "repo", mirrors / f"{owner}+{name}"):
        if (candidate / "objects").is_dir():
            return candidate
    raise SystemExit(f"ecosystem: no mirror of {repo} under {mirrors} (fetch github:{repo})")


def write_tree(git_dir: Path, commit: str, target: Path) -> int:
    """Write ``commit``'s files from a bare repository into ``target``; returns how many blobs
    the repository lacked (large files left out of a snapshot). Symlinks and submodules are
    skipped: nothing fastlint needs, and a link could point outside the checkout."""
    git = ["git", "--git-dir", str(git_dir)]
    listing = subprocess.run(
        [*git, "ls-tree", "-r", "-z", commit], capture_output=True, check=True
    ).stdout.decode()
    entries = []
    for item in listing.split("\0"):
        if not item:
            continue
        meta, path = item.split("\t", 1)
        mode, kind, sha = meta.split()
        if kind == "blob" and mode in ("100644", "100755"):
            entries.append((sha, path, mode))
    request = "".join(f"{sha}\n" for sha, _, _ in entries).encode()
    output = subprocess.run(
        [*git, "cat-file", "--batch"], input=request, capture_output=True, check=True
    ).stdout
    missing = 0
    stream = io.BytesIO(output)
    for _sha, path, mode in entries:
        header = stream.readline().decode().split()
        if len(header) < 3 or header[1] != "blob":  # "<sha> missing"
            missing += 1
            continue
        data = stream.read(int(header[2]))
        stream.read(1)  # the newline after each object
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
        if mode == "100755":
            destination.chmod(0o755)
    (target / COMMIT_MARKER).write_text(commit + "\n", encoding="utf-8")
    return missing


def ensure_checkout(project: Project, checkouts: Path, mirrors: Path | None) -> Path | None:
    """The project's checkout (made from its mirror when missing and mirrors are given), or
    None when there is none."""
    target = checkouts / project.name
    marker = target / COMMIT_MARKER
    if marker.exists():
        held = marker.read_text(encoding="utf-8").strip()
        if held != project.commit:
            raise SystemExit(
                f"ecosystem: {target} holds {held}, the manifest pins {project.commit}; "
                "remove it and pass --mirrors to make it again"
            )
        return target
    if target.exists():
        raise SystemExit(f"ecosystem: {target} exists but has no {COMMIT_MARKER}; remove it")
    if mirrors is None:
        return None
    git_dir = mirror_of(mirrors, project.repo)
    print(f"ecosystem: writing {project.repo}@{project.commit[:10]} to {target}", file=sys.stderr)
    target.mkdir(parents=True)
    missing = write_tree(git_dir, project.commit, target)
    if missing:
        print(f"ecosystem: {project.name}: {missing} large files absent", file=sys.stderr)
    return target


# ----------------------------------------------------------------------------- running


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def source_tree(revision: str) -> str:
    """The id of ``revision``'s ``src/`` tree: runs are stored by it, so a commit that only
    touches labels, tests or docs reuses the findings of the one before."""
    return git("rev-parse", "--short=12", f"{revision}:src")


def this_revision() -> tuple[str, bool]:
    """This worktree's ``src/`` tree id and whether the files differ from it."""
    dirty = bool(git("status", "--porcelain", "--", "src"))
    return source_tree("HEAD"), dirty


def run_project(project: Project, checkout: Path, source: Path) -> dict[str, object]:
    """fastlint from ``source`` (a folder holding the ``fastlint`` package) on one checkout."""
    environment = {**os.environ, "PYTHONPATH": str(source)}
    command = [sys.executable, "-m", "fastlint", ".", "--format", "json"]
    command += ["--no-cache", "--exit-zero", "--quiet"]
    start = time.perf_counter()
    done = subprocess.run(
        command, cwd=checkout / project.lint, capture_output=True, text=True, env=environment
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"ecosystem: fastlint failed on {project.name}:\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    return {
        "project": project.name,
        "commit": project.commit,
        "seconds": round(seconds, 2),
        "files": report.get("summary", {}).get("files"),
        "findings": [
            {"path": f.path, "line": f.line, "code": f.code, "message": f.message}
            for f in findings_from_report(project, report)
        ],
    }


def stored_findings(data: Mapping[str, object]) -> list[Finding]:
    entries = data["findings"]
    assert isinstance(entries, list)
    return [Finding(project=str(data["project"]), **entry) for entry in entries]


def lint_all(
    projects: Sequence[Project],
    checkouts: Path,
    source: Path,
    revision: str,
    reuse: bool,
) -> dict[str, dict[str, object]]:
    """Each project's stored run for ``revision``, running fastlint where there is none."""
    folder = STORE / revision
    folder.mkdir(parents=True, exist_ok=True)
    runs: dict[str, dict[str, object]] = {}
    for project in projects:
        stored = folder / f"{project.name}.json"
        if reuse and stored.exists():
            data = json.loads(stored.read_text(encoding="utf-8"))
            if data.get("commit") == project.commit:
                runs[project.name] = data
                continue
        checkout = checkouts / project.name
        print(f"ecosystem: {revision}: linting {project.name} ...", file=sys.stderr)
        data = run_project(project, checkout, source)
        stored.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        runs[project.name] = data
    return runs


def revision_source(revision: str, scratch: Path) -> tuple[str, Path]:
    """git ``revision``'s ``src/`` written under ``scratch``, and that tree's id."""
    sha = source_tree(revision)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision, "src"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as handle:
        handle.extractall(scratch, members=[m for m in handle.getmembers() if m.isfile()])
    source = scratch / "src"
    where = subprocess.run(
        [sys.executable, "-c", "import fastlint; print(fastlint.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(source)},
    ).stdout.strip()
    if not Path(where).resolve().is_relative_to(source.resolve()):
        raise SystemExit(f"ecosystem: {revision}'s code did not shadow the installed one ({where})")
    return sha, source


def projects_table(
    projects: Sequence[Project],
    runs: Mapping[str, Mapping[str, object]],
    labels: Sequence[Label] = (),
) -> str:
    """One row per project: its size, the run, and its own precision and recall."""
    rows = [
        "| project | category | lines | files | seconds | precision | recall | findings by rule |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for project in projects:
        data = runs.get(project.name)
        if data is None:
            rows.append(f"| {project.name} | {project.category} | | | | | | no checkout |")
            continue
        findings = stored_findings(data)
        counts = Counter(f.code for f in findings)
        by_rule = ", ".join(f"{code} {n}" for code, n in sorted(counts.items())) or "none"
        whole = score(findings, labels, [project.name]).total()
        rows.append(
            f"| {project.name} | {project.category} | {project.python_lines:,} "
            f"| {data['files']} | {data['seconds']} | {percent(whole.precision)} "
            f"| {percent(whole.recall)} | {by_rule} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkouts", type=Path, default=DEFAULT_CHECKOUTS)
    parser.add_argument("--mirrors", type=Path, help="make missing checkouts from these mirrors")
    parser.add_argument("--against", metavar="REV", help="also run git REV and print the diff")
    parser.add_argument("--project", action="append", help="only this project (repeatable)")
    parser.add_argument("--rerun", action="store_true", help="ignore stored findings")
    parser.add_argument("--unlabelled", action="store_true", help="list unjudged findings")
    parser.add_argument("--count-lines", action="store_true", help="recount lines, then stop")
    args = parser.parse_args()

    projects = load_manifest()
    if args.project:
        unknown = set(args.project) - {p.name for p in projects}
        if unknown:
            raise SystemExit(f"ecosystem: not in the manifest: {', '.join(sorted(unknown))}")
        projects = [p for p in projects if p.name in args.project]
    present = [p for p in projects if ensure_checkout(p, args.checkouts, args.mirrors)]
    for absent in sorted({p.name for p in projects} - {p.name for p in present}):
        print(f"ecosystem: no checkout of {absent} (pass --mirrors)", file=sys.stderr)
    if args.count_lines:
        for p in present:
            print(f"{p.name}: {python_lines(args.checkouts / p.name / p.lint):,} lines")
        return

    revision, dirty = this_revision()
    name = f"src-{revision}-dirty" if dirty else f"src-{revision}"
    runs = lint_all(present, args.checkouts, REPO / "src", name, reuse=not dirty and not args.rerun)
    findings = [f for data in runs.values() for f in stored_findings(data)]
    labels = load_labels()
    commit = git("rev-parse", "--short=12", "HEAD")
    print(f"## fastlint {commit} ({name}) on {len(present)} projects\n")
    print(projects_table(projects, runs, labels))
    scores = score(findings, labels, [p.name for p in present])
    print(f"\n## Precision and recall ({time.strftime('%Y-%m-%d', time.gmtime())})\n")
    print(scores_table(scores))
    for title, entries in (("misses now found", scores.now_found), ("TPs lost", scores.lost)):
        if entries:
            print(f"\n{title}:")
            for label in entries:
                print(f"  {label.project} {label.path}:{label.line} {label.code} {label.why}")
    if scores.unlabelled:
        print(f"\n{len(scores.unlabelled)} findings have no label", end="")
        print(":" if args.unlabelled else " (--unlabelled lists them)")
        if args.unlabelled:
            for f in scores.unlabelled:
                print(f"  {f.project} {f.path}:{f.line} {f.code} {f.message}")

    if args.against:
        with tempfile.TemporaryDirectory(prefix="fastlint-eco-rev-") as scratch:
            sha, source = revision_source(args.against, Path(scratch))
            theirs = lint_all(present, args.checkouts, source, f"src-{sha}", reuse=not args.rerun)
        before = [f for data in theirs.values() for f in stored_findings(data)]
        print(f"\n## Changes from {args.against} (src-{sha}) to {name}\n")
        print(diff_report(diff(before, findings), labels, f"src-{sha}", name))


if __name__ == "__main__":
    main()
