"""Deployed units across files: symlinked Dockerfiles, stage selection, the JSON units."""

from __future__ import annotations

from pathlib import Path

from fastlint.config import build_settings
from fastlint.engine import lint


def _lint(root: Path) -> list[tuple[str, int, str]]:
    result = lint([root], build_settings({}), root=root, cwd=root)
    return [(d.path, d.line, d.code) for d in result.diagnostics]


def test_a_symlinked_dockerfile_is_reported_once_at_its_real_path(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile.prod").write_text(
        'FROM python:3.12-slim\nCMD ["uvicorn", "app:app", "--reload"]\n'
    )
    (tmp_path / "Dockerfile").symlink_to("docker/Dockerfile.prod")
    assert _lint(tmp_path) == [
        ("docker/Dockerfile.prod", 1, "FL501"),
        ("docker/Dockerfile.prod", 2, "FL502"),
    ]


def test_compose_building_through_the_link_builds_the_target(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile.prod").write_text(
        'FROM python:3.12-slim AS runtime\nUSER 10001\nCMD ["uvicorn", "app:app"]\n'
        "FROM runtime AS admin\nUSER root\n"
    )
    (tmp_path / "Dockerfile").symlink_to("docker/Dockerfile.prod")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  api:\n    build: {context: ., target: runtime}\n"
    )
    assert _lint(tmp_path) == []  # the admin stage is not what compose deploys


def test_every_unit_is_in_the_json_summary(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.12-slim\nUSER 10001\nCMD ["uvicorn", "app:app"]\n'
    )
    (tmp_path / "Procfile").write_text("web: uvicorn app:app --workers 2\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  api:\n    build: .\n    cpus: '0.5'\n    deploy: {replicas: 4}\n"
    )
    result = lint([tmp_path], build_settings({}), root=tmp_path, cwd=tmp_path)
    units = {u["unit"]: u for u in result.deployment_summary()["units"]}
    assert set(units) == {"Dockerfile final stage", "Procfile 'web'", "compose.yaml service 'api'"}
    api = units["compose.yaml service 'api'"]
    assert (api["cpu_limit"], api["replicas"], api["user"]) == (0.5, 4, "10001")
    assert api["start_command"] == "uvicorn app:app"
    assert units["Procfile 'web'"]["workers"] == 2


def test_the_rich_report_lists_every_unit(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from fastlint.report.rich import units_table

    (tmp_path / "Procfile").write_text("web: uvicorn app:app\nworker: celery -A app worker\n")
    (tmp_path / "k8s.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: api}\nspec:\n  containers:\n"
        "    - name: api\n      image: ghcr.io/acme/api:1\n"
        "      resources: {limits: {cpu: 250m}}\n"
    )
    result = lint([tmp_path], build_settings({}), root=tmp_path, cwd=tmp_path)
    console = Console(file=io.StringIO(), width=200)
    console.print(units_table(result.deployment_summary()["units"]))
    text = console.file.getvalue()
    assert "Procfile 'web'" in text and "Procfile 'worker'" in text
    assert "k8s.yaml Pod/api container 'api'" in text and "0.25" in text


def test_suppressions_in_yaml_files(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  api:\n"
        "    image: ghcr.io/acme/api:1\n"
        "    # fastlint: ignore[FL502] a debugging service, never started in production\n"
        "    command: uvicorn app:app --reload\n"
        "  admin:\n"
        "    image: ghcr.io/acme/api:1\n"
        "    command: uvicorn app:app --reload --port 8001  # noqa: FL502\n"
        "  other:\n"
        "    image: ghcr.io/acme/api:1\n"
        "    command: uvicorn app:app --reload --port 8002  # noqa: FL501\n"
    )
    # FL501 is not reported on that line, so its marker is unused (FL001) and FL502 stands.
    assert _lint(tmp_path) == [("compose.yaml", 11, "FL502"), ("compose.yaml", 11, "FL001")]


def test_proxy_trust_from_a_gunicorn_config_and_a_unix_socket(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nUSER 10001\n"
        'CMD ["gunicorn", "-k", "uvicorn_worker.UvicornWorker", "--access-logfile", "-",'
        ' "app:app"]\n'
    )
    (tmp_path / "gunicorn.conf.py").write_text('forwarded_allow_ips = "*"\n')
    (tmp_path / "Procfile").write_text(
        "web: uvicorn app:app --uds /tmp/app.sock --forwarded-allow-ips '*'\n"
    )
    assert _lint(tmp_path) == [("gunicorn.conf.py", 1, "FL404")]
