"""The YAML front end: safe loading with lines, compose services, Kubernetes workloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastlint.config import build_settings
from fastlint.deploy.builds import Build, docker_build_target, load_workflow, makefile_builds
from fastlint.deploy.compose import interpolate, load_compose
from fastlint.deploy.kubernetes import load_kubernetes, parse_cpu
from fastlint.deploy.yamlfile import MAX_YAML_BYTES, load_documents
from fastlint.discovery import FileKind, SourceFile
from fastlint.engine import lint
from fastlint.reading import UnreadableFile


def _source(name: str, kind: FileKind) -> SourceFile:
    return SourceFile(Path(name), name, name, kind, True)


# ---------------------------------------------------------------------------- loading


def test_nodes_keep_lines_and_merge_keys() -> None:
    (document,) = load_documents(
        "base: &base\n  image: app\n  user: '1000'\nweb:\n  <<: *base\n  user: root\n"
    )
    web = document.get("web")
    assert web is not None
    assert web.text("image") == "app"  # merged from the anchor
    assert web.text("user") == "root"  # written in the mapping: wins over the merge
    assert web.key_line("user") == 6
    assert web.key_line("image") == 2  # where the merged key is written


def test_tags_are_never_constructed() -> None:
    # A SafeLoader would refuse this tag, a full Loader would run it; the composer keeps it.
    (document,) = load_documents("cmd: !!python/object/apply:os.system ['touch /tmp/pwned']\n")
    node = document.get("cmd")
    assert node is not None and node.tag == "python/object/apply:os.system"


def test_an_alias_bomb_is_refused() -> None:
    lines = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for index, name in enumerate("bcdef"):
        previous = "abcdef"[index]
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    with pytest.raises(UnreadableFile, match="alias"):
        load_documents("\n".join(lines) + "\n")


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(UnreadableFile, match=r"recursive|nested"):
        load_documents("a: &a [*a]\n")


@pytest.mark.parametrize("loader", ["libyaml", "python"])
def test_deep_nesting_is_refused(loader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from fastlint.deploy import yamlfile

    if loader == "python":
        monkeypatch.setattr(yamlfile, "_Loader", yaml.SafeLoader)
    with pytest.raises(UnreadableFile):
        load_documents("a: " + "[" * 5000 + "]" * 5000 + "\n")


def test_a_huge_file_is_refused() -> None:
    with pytest.raises(UnreadableFile, match="too large"):
        load_documents("x: " + "y" * MAX_YAML_BYTES + "\n")


def test_invalid_yaml_names_its_line() -> None:
    with pytest.raises(UnreadableFile) as caught:
        load_documents("services:\n  web:\n    command: [unclosed\n")
    assert caught.value.location.line == 3


# ---------------------------------------------------------------------------- compose


def test_compose_interpolation_takes_defaults_only() -> None:
    assert interpolate("${WORKERS:-4}") == "4"
    assert interpolate("${WORKERS-4}") == "4"
    assert interpolate("${WORKERS}") == "${WORKERS}"  # the shell running compose decides
    assert interpolate("$$HOME") == "$HOME"


def test_compose_service_fields() -> None:
    compose = load_compose(
        _source("compose.yaml", FileKind.COMPOSE),
        "services:\n"
        "  web:\n"
        "    build: {context: ., target: runtime}\n"
        "    command: gunicorn 'app.main:app' -w 4\n"
        "    environment: [WEB_CONCURRENCY=3, FROM_SHELL]\n"
        "    env_file: .env\n"
        "    user: '10001'\n"
        "    cpus: 1.5\n"
        "    volumes: ['./app:/app/app', 'data:/data']\n",
    )
    (web,) = compose.services
    assert web.build is not None and web.build.target == "runtime"
    assert web.command is not None and web.command.words == ("gunicorn", "app.main:app", "-w", "4")
    assert web.command.line == 4
    assert web.environment["WEB_CONCURRENCY"].text == "3"
    assert web.environment["FROM_SHELL"].text is None
    assert web.env_files == [".env"]
    assert web.user is not None and web.user.text == "10001"
    assert web.cpus is not None and web.cpus.text == "1.5"
    assert web.bind_sources == ["./app"]


@pytest.mark.parametrize(
    ("name", "development"),
    [
        ("compose.yaml", False),
        ("docker-compose.prod.yml", False),
        ("docker-compose.dev.yml", True),
        ("compose.override.yaml", True),
        ("compose.local.yaml", True),
    ],
)
def test_development_compose_files_by_name(name: str, development: bool) -> None:
    compose = load_compose(_source(name, FileKind.COMPOSE), "services: {}\n")
    assert (compose.development_reason is not None) is development


# ---------------------------------------------------------------------------- Kubernetes


def test_kubernetes_container_settings() -> None:
    manifest = load_kubernetes(
        _source("k8s/api.yaml", FileKind.KUBERNETES),
        "apiVersion: batch/v1\n"
        "kind: CronJob\n"
        "metadata: {name: nightly}\n"
        "spec:\n"
        "  jobTemplate:\n"
        "    spec:\n"
        "      template:\n"
        "        spec:\n"
        "          securityContext: {runAsNonRoot: true, runAsUser: 0}\n"
        "          containers:\n"
        "            - name: job\n"
        "              image: ghcr.io/acme/job:1\n"
        "              args: [report]\n"
        "              securityContext: {runAsUser: 1000}\n"
        "              env:\n"
        "                - {name: A, value: '1'}\n"
        "                - name: B\n"
        "                  valueFrom: {secretKeyRef: {name: s, key: b}}\n"
        "              resources: {limits: {cpu: 250m}}\n",
    )
    (workload,) = manifest.workloads
    (container,) = workload.containers
    assert workload.label == "CronJob/nightly"
    assert container.args is not None and container.args.words == ("report",)
    assert container.run_as_user is not None and container.run_as_user.text == "1000"
    assert container.run_as_non_root is not None and container.run_as_non_root.text == "true"
    assert container.env["A"].text == "1" and container.env["B"].text is None
    assert parse_cpu(container.cpu_limit.text if container.cpu_limit else None) == 0.25


@pytest.mark.parametrize(
    ("path", "text", "templated"),
    [
        ("chart/templates/pod.yaml", "apiVersion: v1\nkind: Pod\nspec: {{ .Values.x }}\n", True),
        ("k8s/pod.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  {{- toYaml .Values }}\n", True),
        # Go templates inside a string of a plain manifest (Prometheus annotations): still read.
        ("k8s/rule.yaml", 'apiVersion: v1\nkind: Pod\nmetadata: {name: "{{ $x }}"}\n', False),
    ],
)
def test_go_templates_are_skipped_not_parsed(path: str, text: str, templated: bool) -> None:
    manifest = load_kubernetes(_source(path, FileKind.KUBERNETES), text)
    assert manifest.templated is templated
    assert bool(manifest.workloads) is not templated


@pytest.mark.parametrize(
    ("text", "cpus"), [("2", 2.0), ("500m", 0.5), ("'1.5'", 1.5), ("0", None), ("x", None)]
)
def test_cpu_quantities(text: str, cpus: float | None) -> None:
    assert parse_cpu(text) == cpus


# ---------------------------------------------------------------------------- stage targets


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("docker build --target runtime -t app .", ("Dockerfile", "runtime")),
        ("docker buildx build --target=prod -f docker/Dockerfile .", ("docker/Dockerfile", "prod")),
        (
            "docker build -t app --build-arg X=1 services/api --target api",
            ("services/api/Dockerfile", "api"),
        ),
        ("docker build -t app .", None),
        ("docker run --target x", None),
        ("docker build --target $STAGE .", None),
    ],
)
def test_docker_build_target(command: str, expected: tuple[str, str] | None) -> None:
    found = docker_build_target(command.split())
    assert (None if found is None else (found.dockerfile, found.target)) == expected


def test_makefile_recipes_and_workflow_steps_name_targets() -> None:
    makefile = "IMAGE = api\nbuild:\n\t@docker build \\\n\t  --target runtime -t $(IMAGE) .\n"
    assert makefile_builds(makefile) == [Build("Dockerfile", "runtime")]
    workflow = load_workflow(
        _source(".github/workflows/ci.yml", FileKind.WORKFLOW),
        "jobs:\n"
        "  image:\n"
        "    steps:\n"
        "      - uses: docker/build-push-action@v6\n"
        "        with: {context: services/api, target: prod}\n"
        "      - run: docker build -f docker/Dockerfile --target web . && echo done\n"
        "      - uses: docker/build-push-action@v6\n"
        "        with: {target: '${{ matrix.stage }}'}\n",
    )
    assert workflow.builds == [
        Build("services/api/Dockerfile", "prod"),
        Build("docker/Dockerfile", "web"),
    ]


def test_a_workflow_that_is_not_yaml_is_not_reported() -> None:
    workflow = load_workflow(_source(".github/workflows/x.yml", FileKind.WORKFLOW), "a: [\n")
    assert workflow.builds == []


def test_a_script_building_a_target_picks_the_deployed_stage(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.12-slim AS runtime\nUSER 10001\nCMD ["uvicorn", "app:app"]\n'
        "FROM runtime AS admin\nUSER root\n"
    )
    settings = build_settings({})
    before = lint([tmp_path], settings, root=tmp_path, cwd=tmp_path)
    assert [d.code for d in before.diagnostics] == ["FL501"]  # the last stage, by default
    (tmp_path / "build.sh").write_text("#!/bin/sh\ndocker build --target runtime -t api .\n")
    after = lint([tmp_path], settings, root=tmp_path, cwd=tmp_path)
    assert [d.code for d in after.diagnostics] == []
    units = after.deployment_summary()["units"]
    assert [u["stage"] for u in units] == ["Dockerfile stage 'runtime'"]
