"""Which files fastlint reads, how it classifies them, and what it reports on."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from fixture_support import write

from fastlint.config import build_settings
from fastlint.discovery import FileKind, SourceFile, classify, discover, find_project_root
from fastlint.engine import lint

DEBUG_APP = "from fastapi import FastAPI\n\napp = FastAPI(debug=True, openapi_url=None)\n"


def relpaths(files: list[SourceFile], report_only: bool = False) -> list[str]:
    return [f.relpath for f in files if f.report or not report_only]


def found(root: Path, *paths: str, exclude: tuple[str, ...] = ()) -> list[str]:
    targets = [root / p for p in paths] or [root]
    return relpaths(discover(targets, root, exclude, cwd=root))


# ---------------------------------------------------------------------------- classification


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("main.py", FileKind.PYTHON),
        ("MAIN.PY", FileKind.PYTHON),
        ("gunicorn.conf.py", FileKind.GUNICORN),
        ("gunicorn_conf.py", FileKind.GUNICORN),
        ("gunicorn_config.py", FileKind.GUNICORN),
        ("Dockerfile", FileKind.DOCKERFILE),
        ("dockerfile", FileKind.DOCKERFILE),
        ("Dockerfile.prod", FileKind.DOCKERFILE),
        ("Dockerfile-dev", FileKind.DOCKERFILE),
        ("api.Dockerfile", FileKind.DOCKERFILE),
        ("api.dockerfile", FileKind.DOCKERFILE),
        ("Containerfile", FileKind.DOCKERFILE),
        ("Containerfile.worker", FileKind.DOCKERFILE),
        ("worker.containerfile", FileKind.DOCKERFILE),
        ("Procfile", FileKind.PROCFILE),
        ("Procfile.dev", FileKind.PROCFILE),
        ("entrypoint.sh", FileKind.SHELL),
        ("start.bash", FileKind.SHELL),
        ("Dockerfile.dockerignore", None),
        ("Dockerfile.md", None),
        ("Dockerfile.j2", None),
        ("Dockerfile.sh", FileKind.SHELL),
        (".dockerignore", None),
        ("README.md", None),
        ("main.pyc", None),
        ("stubs.pyi", None),
        ("docker-compose.yml", FileKind.COMPOSE),
        ("compose.yaml", FileKind.COMPOSE),
        ("compose.override.yaml", FileKind.COMPOSE),
        ("docker-compose.prod.yml", FileKind.COMPOSE),
        ("compose.yaml.bak", None),
        ("my-compose.yml", None),
        ("config.yaml", None),  # YAML without apiVersion + kind is not a deployment file
        ("Makefile", FileKind.MAKEFILE),
        ("docker.mk", FileKind.MAKEFILE),
    ],
)
def test_classify_by_name(tmp_path: Path, name: str, kind: FileKind | None) -> None:
    path = tmp_path / name
    path.write_text("x\n", encoding="utf-8")
    assert classify(path) == kind


def test_workflows_are_read_for_their_builds_only(tmp_path: Path) -> None:
    path = tmp_path / ".github" / "workflows" / "ci.yml"
    path.parent.mkdir(parents=True)
    path.write_text("apiVersion: v1\nkind: Pod\n", encoding="utf-8")  # even if it looks like one
    assert classify(path) is FileKind.WORKFLOW
    assert classify(tmp_path / "ci.yml") is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("apiVersion: apps/v1\nkind: Deployment\n", FileKind.KUBERNETES),
        ("# a comment\n---\nkind: Service\napiVersion: v1\n", FileKind.KUBERNETES),
        ("{{- if .Values.enabled }}\napiVersion: v1\nkind: Pod\n", FileKind.KUBERNETES),
        ("apiVersion: v2\nname: chart\n", None),  # Chart.yaml: no kind
        ("on: push\njobs:\n  build:\n    kind: x\n", None),  # a CI workflow
        ("spec:\n  apiVersion: v1\n  kind: Pod\n", None),  # not top level
    ],
)
def test_kubernetes_is_recognised_by_api_version_and_kind(
    tmp_path: Path, text: str, kind: FileKind | None
) -> None:
    path = tmp_path / "deploy" / "anything.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    assert classify(path) == kind


@pytest.mark.parametrize(
    ("first_line", "kind"),
    [
        ("#!/bin/sh", FileKind.SHELL),
        ("#!/bin/bash -e", FileKind.SHELL),
        ("#! /bin/sh", FileKind.SHELL),
        ("#!/usr/bin/env bash", FileKind.SHELL),
        ("#!/usr/bin/env -S bash -eu", FileKind.SHELL),
        ("#!/usr/bin/dash", FileKind.SHELL),
        ("#!/usr/bin/env python3", None),
        ("#!/bin/shell-like", None),
        ("echo no shebang", None),
    ],
)
def test_classify_by_shebang(tmp_path: Path, first_line: str, kind: FileKind | None) -> None:
    path = tmp_path / "docker-entrypoint"
    path.write_text(first_line + "\necho hi\n", encoding="utf-8")
    assert classify(path) == kind


def test_shebang_only_counts_without_an_extension(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    assert classify(path) is None


# ---------------------------------------------------------------------------- skipped folders


def test_skips_tool_and_build_folders(tmp_path: Path) -> None:
    skipped = [".git", "node_modules", "__pycache__", ".tox", ".mypy_cache"]
    files = {f"{folder}/x.py": "" for folder in skipped}
    files.update({"build/lib/app/x.py": "", "dist/pkg/y.py": "", "build/static/app.js": ""})
    files.update({"app/main.py": "", "app/node_modules/y.py": "", "pkg.egg-info/z.py": ""})
    write(tmp_path, files)
    assert found(tmp_path) == ["app/main.py"]


def test_reads_a_python_package_called_build(tmp_path: Path) -> None:
    """onyx's ``onyx/server/features/build/`` is a feature (a namespace package), not output."""
    write(
        tmp_path,
        {
            "app/features/build/api.py": "",
            "app/features/build/db/models.py": "",
            "app/dist/__init__.py": "",
            "build/lib/app/x.py": "",
        },
    )
    assert found(tmp_path) == [
        "app/dist/__init__.py",
        "app/features/build/api.py",
        "app/features/build/db/models.py",
    ]


def test_skips_any_virtualenv_by_its_pyvenv_cfg(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "env-3.12/pyvenv.cfg": "home = /usr\n",
            "env-3.12/lib/site.py": "",
            ".venv/lib/x.py": "",
            "app.py": "",
        },
    )
    assert found(tmp_path) == ["app.py"]


def test_finds_every_kind_in_a_stable_order(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12\n",
            "Procfile": "web: gunicorn app:app\n",
            "gunicorn.conf.py": "workers = 2\n",
            "scripts/entrypoint.sh": "#!/bin/sh\n",
            "scripts/start": "#!/bin/bash\n",
            "app/main.py": "",
            "README.md": "",
        },
    )
    files = discover([tmp_path], tmp_path, cwd=tmp_path)
    assert [(f.relpath, f.kind) for f in files] == [
        ("Dockerfile", FileKind.DOCKERFILE),
        ("Procfile", FileKind.PROCFILE),
        ("app/main.py", FileKind.PYTHON),
        ("gunicorn.conf.py", FileKind.GUNICORN),
        ("scripts/entrypoint.sh", FileKind.SHELL),
        ("scripts/start", FileKind.SHELL),
    ]
    assert all(f.report for f in files)


# ---------------------------------------------------------------------------- .gitignore


def test_gitignore_patterns(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".gitignore": (
                "# comment\n"
                "generated/\n"  # a folder anywhere
                "*_pb2.py\n"  # a name anywhere
                "/local.py\n"  # anchored to the root
                "docs/**/*.py\n"  # ** crosses folders
                "secret*.py\n"
                "!secret_ok.py\n"  # re-included
            ),
            "app/main.py": "",
            "app/generated/models.py": "",
            "app/api_pb2.py": "",
            "local.py": "",
            "app/local.py": "",  # not at the root: kept
            "docs/a/b/example.py": "",
            "secret_key.py": "",
            "secret_ok.py": "",
        },
    )
    assert found(tmp_path) == ["app/local.py", "app/main.py", "secret_ok.py"]


def test_gitignore_dir_only_pattern_keeps_files_of_that_name(tmp_path: Path) -> None:
    write(tmp_path, {".gitignore": "tmp/\n", "tmp/x.py": "", "app/tmp": "#!/bin/sh\n"})
    assert found(tmp_path) == ["app/tmp"]


def test_nested_gitignore_applies_below_its_folder(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".gitignore": "*.gen.py\n",
            "service/.gitignore": "/scratch.py\n!keep.gen.py\n",
            "service/scratch.py": "",
            "service/keep.gen.py": "",
            "service/other.gen.py": "",
            "scratch.py": "",  # the nested rule is anchored to service/
        },
    )
    assert found(tmp_path) == ["scratch.py", "service/keep.gen.py"]
    # Walking only the subfolder still honours both files.
    assert found(tmp_path, "service") == ["service/keep.gen.py"]


def test_gitignore_above_the_project_root_in_the_same_repository(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, {".gitignore": "ignored_here/\n"})
    project = tmp_path / "services" / "api"
    write(project, {"pyproject.toml": "", "app.py": "", "ignored_here/x.py": ""})
    assert find_project_root(project / "app.py") == project
    assert found(project) == ["app.py"]


# ---------------------------------------------------------------------------- excludes


def test_exclude_globs(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/main.py": "",
            "app/migrations/0001.py": "",
            "scripts/seed.py": "",
            "tests/test_app.py": "",
        },
    )
    assert found(tmp_path, exclude=("migrations", "scripts/*.py", "./tests/")) == ["app/main.py"]


def test_explicit_folder_is_walked_even_if_excluded(tmp_path: Path) -> None:
    write(tmp_path, {"fixtures/bad.py": "", "app.py": ""})
    assert found(tmp_path, exclude=("fixtures",)) == ["app.py"]
    assert found(tmp_path, "fixtures", exclude=("fixtures",)) == ["fixtures/bad.py"]


# ---------------------------------------------------------------------------- symlinks


def test_symlinked_dockerfile_inside_the_root_is_read(tmp_path: Path) -> None:
    write(tmp_path, {"docker/Dockerfile.prod": "FROM python:3.12\n"})
    (tmp_path / "Dockerfile").symlink_to("docker/Dockerfile.prod")
    files = discover([tmp_path], tmp_path, cwd=tmp_path)
    assert [(f.relpath, f.kind) for f in files] == [
        ("Dockerfile", FileKind.DOCKERFILE),
        ("docker/Dockerfile.prod", FileKind.DOCKERFILE),
    ]


def test_symlinks_out_of_the_root_are_not_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"secret.py": "", "lib/mod.py": ""})
    root = write(tmp_path / "project", {"app.py": ""})
    (root / "linked.py").symlink_to(outside / "secret.py")
    (root / "lib").symlink_to(outside / "lib", target_is_directory=True)
    assert found(root) == ["app.py"]


def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    write(tmp_path, {"app/main.py": ""})
    (tmp_path / "app" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "self").symlink_to("self")  # a link to itself
    result: list[list[str]] = []
    worker = threading.Thread(target=lambda: result.append(found(tmp_path)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "discovery hangs on a symlink loop"
    assert result == [["app/main.py"]]


# ---------------------------------------------------------------------------- explicit files


def test_explicit_files_are_reported_and_the_project_is_context(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": "",
            "app/main.py": "",
            "app/routes.py": "",
            "Dockerfile": "FROM python:3.12\n",
        },
    )
    files = discover([tmp_path / "app" / "routes.py"], tmp_path, cwd=tmp_path)
    assert relpaths(files) == ["Dockerfile", "app/main.py", "app/routes.py"]
    assert relpaths(files, report_only=True) == ["app/routes.py"]


def test_explicit_unknown_files_are_dropped_without_walking(tmp_path: Path) -> None:
    write(tmp_path, {"README.md": "", "app.py": ""})
    assert found(tmp_path, "README.md") == []


def test_explicit_file_excluded_by_config_or_gitignore_is_skipped(tmp_path: Path) -> None:
    """pre-commit passes changed files: the project's excludes must still apply."""
    write(
        tmp_path,
        {
            ".gitignore": "generated/\n",
            "app/main.py": "",
            "migrations/0001.py": "",
            "generated/api.py": "",
            "build/lib/x.py": "",
        },
    )
    paths = [
        tmp_path / "app/main.py",
        tmp_path / "migrations/0001.py",
        tmp_path / "generated/api.py",
        tmp_path / "build/lib/x.py",
    ]
    files = discover(paths, tmp_path, ("migrations",), cwd=tmp_path)
    assert relpaths(files, report_only=True) == ["app/main.py"]


def test_project_root_is_the_nearest_pyproject_or_git(tmp_path: Path) -> None:
    write(tmp_path, {"repo/pyproject.toml": "", "repo/app/api/routes.py": ""})
    (tmp_path / "other" / ".git").mkdir(parents=True)
    assert find_project_root(tmp_path / "repo/app/api/routes.py") == tmp_path / "repo"
    assert find_project_root(tmp_path / "repo/app") == tmp_path / "repo"
    assert find_project_root(tmp_path / "other") == tmp_path / "other"


def test_explicit_file_findings_only_but_context_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": "",
            "app/main.py": DEBUG_APP,
            "app/other.py": DEBUG_APP,
        },
    )
    monkeypatch.chdir(tmp_path / "app")
    result = lint([Path("other.py")], build_settings({}))
    assert [(d.path, d.code) for d in result.diagnostics] == [("other.py", "FL403")]
    assert result.files == 1
    loaded = sorted(unit.path for unit in result.context.units[FileKind.PYTHON])
    assert loaded == ["main.py", "other.py"]  # display paths, relative to the working folder


def test_display_paths_are_relative_to_the_working_folder(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "", "app/main.py": ""})
    files = discover([tmp_path], tmp_path, cwd=tmp_path / "app")
    assert [(f.relpath, f.display) for f in files] == [("app/main.py", "main.py")]
    outside = discover([tmp_path], tmp_path, cwd=tmp_path.parent / "elsewhere")
    assert outside[0].display == os.path.relpath(
        tmp_path / "app/main.py", tmp_path.parent / "elsewhere"
    )


def test_paths_from_two_projects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"one/pyproject.toml": "", "one/a.py": "", "two/pyproject.toml": ""})
    write(tmp_path, {"two/b.py": ""})
    monkeypatch.chdir(tmp_path)
    files = discover([Path("one"), Path("two")], tmp_path / "one")
    assert [f.display for f in files] == ["one/a.py", "two/b.py"]
    assert all(f.report for f in files)
