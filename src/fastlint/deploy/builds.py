"""Where images are built with a ``--target``: the Dockerfile stage that gets deployed.

``docker build --target runtime`` picks a stage out of a multi-stage Dockerfile; so do the
``target:`` of a GitHub Actions ``docker/build-push-action`` step and a compose ``build.target``
(read by the compose front end). This module finds those builds in shell scripts, Makefile
recipes and GitHub Actions workflows, as (Dockerfile path, target) pairs relative to the folder
the command runs in. Nothing is run; a target or path that holds a variable is not followed.
A workflow that is not valid YAML is simply not read: it is not a deployment file.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field

from fastlint.deploy.yamlfile import YamlNode, load_documents
from fastlint.discovery import SourceFile
from fastlint.reading import UnreadableFile

_VALUE_OPTIONS = frozenset(
    {
        "-t",
        "--tag",
        "--build-arg",
        "--platform",
        "--label",
        "--cache-from",
        "--cache-to",
        "--secret",
        "--ssh",
        "--network",
        "--progress",
        "--output",
        "-o",
        "--build-context",
    }
)


@dataclass(frozen=True)
class Build:
    dockerfile: str  # relative to the folder the build runs in (posix, normalised)
    target: str  # lower case, as Docker compares stage names


def docker_build_target(words: list[str]) -> Build | None:
    """The Dockerfile and ``--target`` of a ``docker build`` / ``docker buildx build`` /
    ``podman build`` command; the Dockerfile defaults to ``<context>/Dockerfile``."""
    if len(words) < 2 or words[0].rsplit("/", 1)[-1] not in ("docker", "podman"):
        return None
    rest = words[1:]
    if rest[0] == "buildx":
        rest = rest[1:]
    if rest[:2] == ["image", "build"]:
        rest = rest[1:]
    if not rest or rest[0] != "build":
        return None
    rest = rest[1:]
    target = dockerfile = None
    context = "."
    index = 0
    while index < len(rest):
        word = rest[index]
        name, equals, value = word.partition("=")
        if name in ("--target", "-f", "--file"):
            if not equals:
                index += 1
                value = rest[index] if index < len(rest) else ""
            if name == "--target":
                target = value
            else:
                dockerfile = value
        elif word.startswith("-"):
            if not equals and word in _VALUE_OPTIONS:
                index += 1
        else:
            context = word
        index += 1
    path = dockerfile or posixpath.join(context, "Dockerfile")
    if not target or _dynamic(target) or _dynamic(path):
        return None
    return Build(posixpath.normpath(path), target.lower())


def _dynamic(text: str) -> bool:
    return "$" in text or "{{" in text


def command_builds(script: str) -> list[Build]:
    """``docker build --target`` commands in shell text (``&&``, ``;`` and ``|`` separate
    commands; ``\\`` continues a line)."""
    builds = []
    for command in re.split(r"&&|\|\||[;|\n]", script.replace("\\\n", " ")):
        try:
            words = shlex.split(command, comments=True)
        except ValueError:
            continue
        found = docker_build_target(words)
        if found is not None:
            builds.append(found)
    return builds


def makefile_builds(text: str) -> list[Build]:
    """Builds in a Makefile's recipes (tab-indented lines; ``@``/``-`` prefixes dropped)."""
    recipes = []
    for line in text.replace("\\\n", " ").splitlines():
        if line.startswith("\t"):
            recipes.append(line.strip().lstrip("@-+"))
    return command_builds("\n".join(recipes))


@dataclass(eq=False)
class Workflow:
    """A GitHub Actions workflow, kept only for the images it builds."""

    source: SourceFile
    text: str
    builds: list[Build] = field(default_factory=list)  # relative to the repository root

    @property
    def path(self) -> str:
        return self.source.display


def load_workflow(source: SourceFile, text: str) -> Workflow:
    workflow = Workflow(source, text)
    try:
        documents = load_documents(text)
    except UnreadableFile:
        return workflow  # not a deployment file: never reported
    for document in documents:
        for job in (document.get("jobs") or YamlNode({}, 1)).items():
            for step in (job[1].get("steps") or YamlNode([], 1)).elements():
                workflow.builds.extend(_step_builds(step))
    return workflow


def _step_builds(step: YamlNode) -> list[Build]:
    uses = step.text("uses") or ""
    if uses.startswith("docker/build-push-action@"):
        target = step.text("with", "target")
        context = step.text("with", "context") or "."
        dockerfile = step.text("with", "file") or posixpath.join(context, "Dockerfile")
        if target and not _dynamic(target) and not _dynamic(dockerfile):
            return [Build(posixpath.normpath(dockerfile), target.lower())]
        return []
    run = step.text("run")
    return command_builds(run) if run else []


__all__ = [
    "Build",
    "Workflow",
    "command_builds",
    "docker_build_target",
    "load_workflow",
    "makefile_builds",
]
