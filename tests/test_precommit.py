"""The pre-commit hook manifest: valid, and it hands fastlint exactly the files it reads."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from fastlint.discovery import classify

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / ".pre-commit-hooks.yaml"

READ_BY_FASTLINT = [
    "app/main.py",
    "gunicorn.conf.py",
    "Dockerfile",
    "docker/Dockerfile.prod",
    "api.dockerfile",
    "Containerfile",
    "Procfile",
    "Procfile.dev",
    "scripts/entrypoint.sh",
    "scripts/docker-entrypoint",  # shell by its shebang
    "docker-compose.yml",
    "compose.override.yaml",
    "deploy/k8s/api.yaml",  # a Kubernetes manifest by its apiVersion + kind
    ".github/workflows/ci.yml",  # for the Dockerfile stages it builds
]
NOT_READ = ["README.md", "pyproject.toml", "static/logo.png"]


def _pre_commit_command() -> list[str]:
    executable = shutil.which("pre-commit")
    if executable:
        return [executable]
    pytest.importorskip("pre_commit")
    return [sys.executable, "-m", "pre_commit"]


def test_manifest_validates() -> None:
    done = subprocess.run(
        [*_pre_commit_command(), "validate-manifest", str(MANIFEST)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _hook() -> dict[str, object]:
    clientlib = pytest.importorskip("pre_commit.clientlib")
    (hook,) = clientlib.load_manifest(str(MANIFEST))
    return hook


def test_hook_shape() -> None:
    hook = _hook()
    assert hook["id"] == "fastlint"
    assert hook["language"] == "python"
    assert hook["entry"] == "fastlint"
    assert {"python", "dockerfile", "shell"} <= set(hook["types_or"])  # type: ignore[arg-type]
    # One process per commit: each would read the whole project and share the result cache.
    assert hook["require_serial"] is True


def test_hook_selects_what_fastlint_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = pytest.importorskip("pre_commit.commands.run")
    hook = _hook()
    for name in READ_BY_FASTLINT + NOT_READ:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".png"):
            path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
        elif name.endswith("docker-entrypoint"):
            path.write_text("#!/bin/sh\nexec gunicorn app.main:app\n")
        elif name.endswith("api.yaml"):
            path.write_text("apiVersion: apps/v1\nkind: Deployment\n")
        else:
            path.write_text("x\n")
    monkeypatch.chdir(tmp_path)
    classifier = run.Classifier(READ_BY_FASTLINT + NOT_READ)
    selected = set(classifier.filenames_for_hook(SimpleNamespace(**hook)))
    assert selected >= set(READ_BY_FASTLINT)
    assert not selected & {"static/logo.png", "README.md"}
    # Whatever else gets through, fastlint itself ignores it.
    assert all(classify(tmp_path / name) is None for name in selected - set(READ_BY_FASTLINT))
