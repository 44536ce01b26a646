"""What share of findings has a fix, and does fixing everything hold up? (Not run by CI.)

    python benchmarks/fix_share.py fixtures/demo /path/to/project ...

For each project (copied to a temporary folder first; the original is never written): the
findings, how many have a safe fix and how many only an unsafe one (as ``--fix`` sees them on
the first pass), then ``--fix --unsafe-fixes`` on the copy and a fresh lint: findings that
are new (by file and code), and any changed Python file that does not compile.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from fastlint.config import load_settings
from fastlint.engine import lint
from fastlint.fix.apply import choose, fix_project, write_back
from fastlint.fix.base import Source


def measure(project: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / project.name
        shutil.copytree(project, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        settings, _ = load_settings(None, copy)
        before = lint([copy], settings, root=copy, cwd=copy, jobs=1)
        kinds = {f.display: f.kind for f in before.context.files} if before.context else {}
        safe = unsafe = 0
        unfixed: Counter[str] = Counter()
        for diagnostic in before.diagnostics:
            text = before.texts.get(diagnostic.path)
            if text is None or diagnostic.path not in kinds:
                continue
            fix = choose(diagnostic, Source(diagnostic.path, kinds[diagnostic.path], text), True)
            if fix is not None and fix.safe:
                safe += 1
            elif fix is not None:
                unsafe += 1
            else:
                unfixed[diagnostic.code] += 1
        outcome = fix_project(
            before,
            [copy],
            settings,
            lambda paths, root, cwd: lint(paths, settings, root=root, cwd=cwd, jobs=1),
            unsafe=True,
        )
        problems = write_back(outcome)
        after = lint([copy], settings, root=copy, cwd=copy, jobs=1)
        new = Counter((d.path, d.code) for d in after.diagnostics) - Counter(
            (d.path, d.code) for d in before.diagnostics
        )
        broken = []
        for path in outcome.after:
            if path.endswith(".py"):
                try:
                    compile(outcome.after[path].lstrip("\ufeff"), path, "exec", dont_inherit=True)
                except SyntaxError as error:
                    broken.append(f"{path}: {error}")
        return {
            "findings": len(before.diagnostics),
            "safe": safe,
            "unsafe": unsafe,
            "applied": len(outcome.applied),
            "files changed": len(outcome.after),
            "remaining": len(after.diagnostics),
            "no fix": dict(unfixed),
            "new": dict(new),
            "not compiling": broken,
            "dropped": outcome.dropped,
            "write problems": problems,
        }


def main() -> None:
    totals: Counter[str] = Counter()
    unfixed: Counter[str] = Counter()
    for argument in sys.argv[1:]:
        result = measure(Path(argument).resolve())
        print(Path(argument).name, result, flush=True)
        for key in ("findings", "safe", "unsafe", "applied", "remaining"):
            totals[key] += int(result[key])  # type: ignore[call-overload]
        unfixed.update(result["no fix"])  # type: ignore[arg-type]
    if totals["findings"]:
        share = (totals["safe"] + totals["unsafe"]) / totals["findings"]
        print(f"total {dict(totals)}; with a fix: {share:.0%}; no fix: {dict(unfixed)}")


if __name__ == "__main__":
    main()
