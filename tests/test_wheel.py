"""A freshly built wheel carries the rule pages: ``fastlint --explain`` works when installed.

The editable install used for development reads ``rules/`` from the checkout, so only a real
wheel proves that the pages ship (hatchling force-includes ``rules/`` as
``fastlint/_rule_pages/``). When hatchling is installed the wheel is built without build
isolation, so the test needs no network; otherwise ``build`` fetches hatchling and the test
skips if it cannot. The wheel is installed with ``--no-index --no-deps``: dependencies come
from the running environment through a ``.pth`` line (which, unlike a site dir, does not run
the checkout's editable-install hook, so ``fastlint`` itself can only come from the wheel).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from fixture_support import REPO

from fastlint.pages import code_blocks

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("build") is None,
    reason="needs 'build' (pip install '.[test]') to build a wheel",
)


def _run(
    args: list[str], cwd: Path, timeout: int = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COLUMNS")}
    env["NO_COLOR"] = "1"
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check:
        assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _build_wheel(dist: Path) -> Path:
    command = [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist)]
    if importlib.util.find_spec("hatchling") is not None:
        _run([*command, "--no-isolation"], cwd=REPO, timeout=180)
    else:
        isolated = _run(command, cwd=REPO, timeout=300, check=False)
        if isolated.returncode != 0:
            pytest.skip("hatchling is not installed and could not be fetched to build the wheel")
    (wheel,) = dist.glob("fastlint-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the built wheel; returns its bin folder."""
    base = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(base / "dist")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=base
    ).stdout.strip()
    Path(site, "_fastlint_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            # The outer environment may already have fastlint installed (CI installs it with
            # 'pip install .'); through the .pth line pip would see it and skip the install.
            "--ignore-installed",
            "--quiet",
            str(wheel),
        ],
        cwd=base,
    )
    return python.parent


def test_explain_reads_pages_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    where = _run(
        [str(installed / "python"), "-c", "import fastlint.pages as p; print(p.pages_dir())"],
        cwd=tmp_path,
    ).stdout.strip()
    assert where.endswith(os.path.join("fastlint", "_rule_pages")), where
    assert not where.startswith(str(REPO))

    code = "FL403" if (REPO / "rules" / "FL403.md").exists() else "FL000"
    page = (REPO / "rules" / f"{code}.md").read_text(encoding="utf-8")
    output = _run([str(installed / "fastlint"), "--explain", code], cwd=tmp_path).stdout
    title = page.splitlines()[0].lstrip("# ").strip()
    assert title in output
    example_line = next(
        line for line in code_blocks(page, "Example")[0].body.splitlines() if line.strip()
    )
    assert example_line.strip() in output


def test_wheel_ships_every_page(installed: Path, tmp_path: Path) -> None:
    listed = _run(
        [
            str(installed / "python"),
            "-c",
            "import fastlint.pages as p; print(' '.join(p.page_paths()))",
        ],
        cwd=tmp_path,
    ).stdout.split()
    assert listed == sorted(p.stem for p in (REPO / "rules").glob("FL*.md"))
