"""The Dockerfile front end: stages, substitution, start commands, COPY mapping, inheritance."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastlint.discovery import FileKind, SourceFile
from fastlint.docker import DockerfileModel, load_dockerfile, resolve, substitute
from fastlint.docker.images import (
    is_full_python_image,
    is_toolchain_package,
    parse_image,
    runs_as_nonroot,
)
from fastlint.docker.model import is_dynamic
from fastlint.docker.packages import package_changes
from fastlint.reading import UnreadableFile


def load(text: str, relpath: str = "Dockerfile") -> DockerfileModel:
    source = SourceFile(Path("/project") / relpath, relpath, relpath, FileKind.DOCKERFILE, True)
    return load_dockerfile(source, text)


# ---------------------------------------------------------------------------- substitution


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$A", "1"),
        ("${A}", "1"),
        ("x${A}y", "x1y"),
        ("${MISSING:-d}", "d"),
        ("${MISSING-d}", "d"),
        ("${EMPTY:-d}", "d"),
        ("${EMPTY-d}", ""),
        ("${A:+alt}", "alt"),
        ("${MISSING:+alt}", ""),
        ("${MISSING:-${A}}", "1"),
        ("$MISSING", "$MISSING"),
        ("${MISSING}", "${MISSING}"),
        ("\\$A", "$A"),
        ("cost: 5$", "cost: 5$"),
    ],
)
def test_substitute(text: str, expected: str) -> None:
    assert substitute(text, {"A": "1", "EMPTY": ""}) == expected


def test_resolve_is_none_when_a_variable_has_no_value() -> None:
    assert resolve("${UID}", {}) is None
    assert resolve("${UID:-10001}", {}) == "10001"
    assert resolve("$UID:$GID", {"UID": "1"}) is None
    assert is_dynamic(substitute("$UID", {})) and not is_dynamic(substitute("$UID", {"UID": "1"}))


# ---------------------------------------------------------------------------- stages


def test_stages_names_parents_and_global_args() -> None:
    model = load(
        "ARG PY=3.12\n"
        "FROM python:${PY} AS Builder\n"
        "RUN pip wheel . -w /wheels\n"
        "FROM --platform=linux/amd64 python:${PY}-slim\n"
        "FROM builder AS release\n"
    )
    builder, runtime, release = model.stages
    assert model.args == {"PY": "3.12"}
    assert (builder.index, builder.name, builder.base_image, builder.base) == (
        0,
        "builder",
        "python:${PY}",
        "python:3.12",
    )
    assert runtime.name is None and runtime.base == "python:3.12-slim" and runtime.parent is None
    assert release.parent is builder and release.root_base == "python:3.12"
    assert model.final_stage is release
    assert [stage.index for stage in release.ancestry] == [2, 0]
    assert model.stage_named("BUILDER") is builder and model.stage_named("1") is runtime


def test_lines_are_one_based_and_continuations_are_joined() -> None:
    model = load(
        "FROM python:3.12-slim\n"
        "# a comment\n"
        "RUN apt-get update \\\n"
        "    # a comment inside the RUN\n"
        "    && apt-get install -y curl\n"
        "USER app\n"
    )
    keywords = [(ins.keyword, ins.line, ins.end_line) for ins in model.instructions]
    assert keywords == [
        ("FROM", 1, 1),
        ("COMMENT", 2, 2),
        ("RUN", 3, 5),
        ("COMMENT", 4, 4),
        ("USER", 6, 6),
    ]
    run = model.instructions[2]
    assert "apt-get install -y curl" in run.value and run.location.line == 3


def test_env_and_arg_values_with_defaults() -> None:
    model = load(
        "ARG BASE=python:3.12-slim\n"
        "FROM $BASE\n"
        "ARG BASE\n"
        "ARG APP_UID=10001\n"
        "ENV HOME_DIR=/home/app PATH=/home/app/.local/bin:$PATH\n"
        'ENV GREETING="hello world" WORKERS=${WEB_CONCURRENCY:-4}\n'
        "ENV LEGACY value with spaces\n"
        "USER ${APP_UID}:${APP_GID:-10001}\n"
    )
    stage = model.final_stage
    assert stage is not None
    assert stage.args == {"BASE": "python:3.12-slim", "APP_UID": "10001"}
    assert stage.env == {
        "HOME_DIR": "/home/app",
        "PATH": "/home/app/.local/bin:$PATH",
        "GREETING": "hello world",
        "WORKERS": "4",
        "LEGACY": "value with spaces",
    }
    assert stage.user == "10001:10001"
    assert stage.user_instruction is not None and stage.user_instruction.line == 8


def test_env_overrides_arg_of_the_same_name() -> None:
    model = load("FROM alpine\nARG WHO=root\nENV WHO=app\nUSER $WHO\n")
    assert model.final_stage is not None and model.final_stage.user == "app"


def test_arg_scope_ends_with_the_stage() -> None:
    model = load("FROM alpine AS a\nARG UID=10001\nFROM a\nUSER ${UID}\n")
    assert model.final_stage is not None and model.final_stage.user == "${UID}"


# ---------------------------------------------------------------------------- start commands


def test_exec_form() -> None:
    model = load('FROM python:3.12-slim\nCMD ["uvicorn", "app.main:app", "--port", "$PORT"]\n')
    cmd = model.final_stage.cmd if model.final_stage else None
    assert cmd is not None and cmd.form == "exec" and not cmd.is_shell_form
    assert cmd.argv == ["uvicorn", "app.main:app", "--port", "$PORT"]  # Docker does not expand
    assert cmd.process_argv == cmd.argv and cmd.line == 2


def test_shell_form() -> None:
    model = load("FROM python:3.12-slim\nENTRYPOINT exec gunicorn 'app.main:app' -w \"$W\"\n")
    entry = model.final_stage.entrypoint if model.final_stage else None
    assert entry is not None and entry.form == "shell"
    assert entry.argv == ["exec", "gunicorn", "app.main:app", "-w", "$W"]
    assert entry.process_argv == ["/bin/sh", "-c", entry.raw]


@pytest.mark.parametrize("cmd", ['[uvicorn, "app:app"]', '["uvicorn", 1]', '["unterminated'])
def test_invalid_json_is_shell_form_like_docker(cmd: str) -> None:
    model = load(f"FROM python:3.12-slim\nCMD {cmd}\n")
    start = model.final_stage.cmd if model.final_stage else None
    assert start is not None and start.form == "shell" and start.raw == cmd


# ---------------------------------------------------------------------------- inheritance


def test_inherits_user_env_workdir_and_commands_from_parent_stage() -> None:
    model = load(
        "FROM python:3.12-slim AS base\n"
        "ENV PORT=8000\n"
        "WORKDIR /app\n"
        "USER app\n"
        'CMD ["uvicorn", "main:app"]\n'
        "FROM base\n"
        "ENV EXTRA=1\n"
        "WORKDIR src\n"
    )
    base, final = model.stages
    assert final.parent is base
    assert final.env == {"PORT": "8000", "EXTRA": "1"} and base.env == {"PORT": "8000"}
    assert final.user == "app" and final.user_instruction is base.user_instruction
    assert final.workdir == "/app/src"
    assert final.cmd is base.cmd


def test_entrypoint_resets_an_inherited_cmd() -> None:
    model = load('FROM alpine AS base\nCMD ["serve"]\nFROM base\nENTRYPOINT ["/entrypoint.sh"]\n')
    final = model.final_stage
    assert final is not None and final.cmd is None and final.entrypoint is not None


def test_external_base_inherits_nothing() -> None:
    model = load("FROM alpine AS builder\nUSER build\nFROM python:3.12-slim\n")
    final = model.final_stage
    assert final is not None and final.user is None and final.parent is None


# ---------------------------------------------------------------------------- COPY


def test_copy_mapping_back_to_build_context() -> None:
    model = load(
        "FROM python:3.12-slim AS build\n"
        "COPY scripts/ /opt/scripts/\n"
        "FROM python:3.12-slim\n"
        "WORKDIR /app\n"
        "COPY --chown=app:app docker/entrypoint.sh /entrypoint.sh\n"
        "COPY requirements.txt pyproject.toml ./\n"
        "COPY . .\n"
        'COPY ["gunicorn.conf.py", "/etc/gunicorn/"]\n'
        "COPY --from=build /opt/scripts/start.sh /start.sh\n"
    )
    final = model.final_stage
    assert final is not None
    entry, reqs, everything, gconf, from_build = final.copies
    assert entry.sources == ["docker/entrypoint.sh"] and entry.destination == "/entrypoint.sh"
    assert entry.from_stage is None and entry.line == 5
    assert reqs.absolute_destination == "/app/"
    assert gconf.sources == ["gunicorn.conf.py"]
    assert from_build.from_stage == "build" and from_build.source_stage is model.stages[0]
    assert final.sources_for("/entrypoint.sh") == ["docker/entrypoint.sh"]
    assert final.sources_for("/app/requirements.txt")[0] == "requirements.txt"
    assert final.sources_for("/app/app/main.py") == ["app/main.py"]
    assert final.sources_for("/etc/gunicorn/gunicorn.conf.py") == ["gunicorn.conf.py"]
    assert final.sources_for("/start.sh") == ["scripts/start.sh"]
    assert everything.workdir == "/app"


def test_copy_substitutes_variables() -> None:
    model = load("FROM alpine\nARG APP=/srv/app\nCOPY main.py ${APP}/main.py\n")
    final = model.final_stage
    assert final is not None and final.sources_for("/srv/app/main.py") == ["main.py"]


# ---------------------------------------------------------------------------- odd input


def test_heredoc_body_belongs_to_its_run() -> None:
    model = load("FROM alpine\nRUN <<EOF\napk add gcc\nUSER root\nEOF\nUSER app\n")
    keywords = [(ins.keyword, ins.line, ins.end_line) for ins in model.instructions]
    assert keywords == [("FROM", 1, 1), ("RUN", 2, 5), ("USER", 6, 6)]
    assert "apk add gcc" in model.instructions[1].value
    assert model.final_stage is not None and model.final_stage.user == "app"


def test_instructions_before_from_and_empty_input() -> None:
    assert load("").stages == [] and load("").final_stage is None
    model = load("RUN echo hi\nARG X=1\nFROM scratch AS\n")
    assert len(model.stages) == 1 and model.stages[0].name is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "FROM python:3.12-slim AS a",
                "FROM a",
                "FROM $X",
                "ARG X",
                "ARG X=${Y:-",
                'ENV A="x',
                "USER ${",
                "CMD [",
                'CMD ["a", ',
                "COPY",
                "COPY --from= a",
                "RUN <<EOF",
                "EOF",
                "RUN a \\",
                "# c",
                "WORKDIR",
                "ENTRYPOINT",
                "",
            ]
        ),
        max_size=12,
    )
)
def test_front_end_never_raises(lines: list[str]) -> None:
    """Only a file Docker refuses outright is refused, as UnreadableFile (its FL000)."""
    try:
        model = load("\n".join(lines) + "\n")
    except UnreadableFile:
        return
    for stage in model.stages:
        stage.sources_for("/app/x")


# ---------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("relpath", "development"),
    [
        ("Dockerfile", False),
        ("docker/api.Dockerfile", False),
        ("Dockerfile.dev", True),
        ("dev.Dockerfile", True),
        ("Dockerfile.test", True),
        (".devcontainer/Dockerfile", True),
        ("Dockerfile.prod", False),
        ("devops/Dockerfile", False),
    ],
)
def test_development_dockerfiles(relpath: str, development: bool) -> None:
    assert load("FROM alpine\n", relpath).is_development is development


# ---------------------------------------------------------------------------- images, packages


def test_parse_image() -> None:
    assert parse_image("docker.io/library/python:3.12-slim@sha256:ab") == parse_image(
        "python:3.12-slim@sha256:ab"
    )
    image = parse_image("localhost:5000/team/api")
    assert (image.repository, image.tag) == ("localhost:5000/team/api", "latest")


@pytest.mark.parametrize(
    ("image", "nonroot"),
    [
        ("gcr.io/distroless/python3-debian12:nonroot", True),
        ("gcr.io/distroless/python3-debian12:debug-nonroot", True),
        ("gcr.io/distroless/python3-debian12", False),
        ("gcr.io/distroless/python3-debian12:debug", False),
        ("cgr.dev/chainguard/python:latest-dev", True),
        ("python:3.12-slim", False),
        ("registry.access.redhat.com/ubi9/python-311:latest", True),
    ],
)
def test_nonroot_images(image: str, nonroot: bool) -> None:
    assert runs_as_nonroot(image) is nonroot


def test_user_listed_nonroot_images() -> None:
    assert runs_as_nonroot("registry.example.com/py:3.12", ("registry.example.com/py:*",))
    assert not runs_as_nonroot("registry.example.com/node:20", ("registry.example.com/py:*",))


@pytest.mark.parametrize(
    ("image", "full"),
    [
        ("python", True),
        ("python:3.12", True),
        ("python:3.12-bookworm", True),
        ("docker.io/library/python:3.11.9", True),
        ("python:3.12-slim", False),
        ("python:3.12-slim-bookworm", False),
        ("python:3.12-alpine3.20", False),
        ("pypy:3.10", False),
    ],
)
def test_full_python_image(image: str, full: bool) -> None:
    assert is_full_python_image(image) is full


@pytest.mark.parametrize(
    ("script", "kept"),
    [
        ("apt-get update && apt-get install -y --no-install-recommends gcc=4:12 curl", ["gcc"]),
        ("apt-get -o Dpkg::Options::=--force-confold install -y libpq-dev", ["libpq-dev"]),
        ("apk add --no-cache --virtual .deps gcc musl-dev && pip i x && apk del .deps", []),
        ("apk add -t .deps gcc; apk del .deps", []),
        ("apt-get install -y gcc libffi-dev && apt-get purge -y gcc", ["libffi-dev"]),
        (
            "dnf install -y gcc-c++ python3-devel.x86_64 && dnf clean all",
            ["gcc-c++", "python3-devel"],
        ),
        ('yum groupinstall -y "Development Tools"', ["development tools"]),
        ("apt-get install -y make cmake git curl libpq5", []),
        ("apt-get install -y $PACKAGES", []),
        ("echo apt-get install gcc", []),
        (
            "apt-mark auto '.*' && apt-get install -y gcc && apt-get purge -y --auto-remove",
            [],
        ),
    ],
)
def test_package_changes_toolchain_kept(script: str, kept: list[str]) -> None:
    from fastlint.docker.images import package_name

    found = [package_name(p) for p in package_changes(script).kept() if is_toolchain_package(p)]
    assert found == kept


def test_variables_at_a_line_and_run_flags() -> None:
    model = load(
        "FROM alpine AS base\n"
        "ENV DEPS=gcc\n"
        "RUN --mount=type=cache,target=/root/.cache apk add $DEPS\n"
        "ENV DEPS=libpq\n"
        "FROM base\n"
        "ARG EXTRA=curl\n"
    )
    base, final = model.stages
    run = base.instructions_of("RUN")[0]
    assert run.flags == {"mount": "type=cache,target=/root/.cache"}
    assert run.arguments == "apk add $DEPS"
    assert base.variables_at(run.line) == {"DEPS": "gcc"}
    assert base.variables_at(1) == {} and base.variables == {"DEPS": "libpq"}
    assert final.variables_at(6) == {"DEPS": "libpq"}
    assert final.variables_at(7) == {"DEPS": "libpq", "EXTRA": "curl"}
    assert final.variables_at(3) == {"DEPS": "gcc"}  # a line of the parent stage


@pytest.mark.parametrize(
    ("lines", "argv"),
    [
        ('CMD ["uvicorn", "main:app"]', ["uvicorn", "main:app"]),
        (
            'ENTRYPOINT ["/entrypoint.sh"]\nCMD ["gunicorn", "main:app"]',
            ["/entrypoint.sh", "gunicorn", "main:app"],
        ),
        (
            "ENTRYPOINT /entrypoint.sh\nCMD gunicorn main:app",
            ["/bin/sh", "-c", "/entrypoint.sh"],
        ),
        (
            'ENTRYPOINT ["tini", "--"]\nCMD uvicorn main:app',
            ["tini", "--", "/bin/sh", "-c", "uvicorn main:app"],
        ),
        ("RUN true", None),
    ],
)
def test_process_argv_combines_entrypoint_and_cmd(lines: str, argv: list[str] | None) -> None:
    final = load(f"FROM alpine\n{lines}\n").final_stage
    assert final is not None and final.process_argv == argv


def test_final_stage_skips_trailing_test_stages() -> None:
    model = load("FROM alpine AS base\nFROM base AS runtime\nFROM base AS unit-tests\n")
    assert model.final_stage is model.stages[1]
    only_dev = load("FROM alpine AS dev\n")
    assert only_dev.final_stage is only_dev.stages[0]


# ---------------------------------------------------------------------------- not a Dockerfile


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello world\nthis is prose\n", "no FROM instruction (line 1 starts with 'hello')"),
        ("# a comment\nARG VERSION=1\nRUN make\n", "no FROM instruction"),
        ("FROM\nRUN pip install app\n", "FROM names no image"),
        ("FROM --platform=linux/amd64\nCMD app\n", "FROM names no image"),
        ("FROM python:3.12 AS base\nFROM\n", "FROM names no image"),
    ],
)
def test_a_file_docker_refuses_is_unreadable(text: str, reason: str) -> None:
    with pytest.raises(UnreadableFile) as raised:
        load(text)
    assert reason in raised.value.reason
    assert raised.value.text == text  # suppression comments in it still count


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty: nothing to judge, nothing to report
        "# only a comment\n",
        "ARG BASE=python:3.12\nFROM ${BASE}\n",
        "FROM --platform=$BUILDPLATFORM python:3.12 AS build\n",
        "from python:3.12\nrun pip install app\n",  # keywords are case-insensitive
    ],
)
def test_a_real_dockerfile_is_read(text: str) -> None:
    load(text)
