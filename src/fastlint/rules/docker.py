"""Container rules that need only the Dockerfile: who the service runs as, what ships in it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastlint.discovery import FileKind
from fastlint.docker.images import (
    is_full_python_image,
    is_toolchain_package,
    package_name,
    runs_as_nonroot,
)
from fastlint.docker.model import DockerfileModel, Stage, is_dynamic, substitute
from fastlint.docker.packages import package_changes
from fastlint.registry import register
from fastlint.rules import catalog
from fastlint.rules.base import FileRule

if TYPE_CHECKING:
    from fastlint.context import LintContext

ROOT_USERS = frozenset({"root", "0"})


def _describe_stage(stage: Stage) -> str:
    return f"stage '{stage.name}'" if stage.name else f"stage {stage.index}"


@register
class ContainerRunsAsRoot(FileRule):
    kind = FileKind.DOCKERFILE
    meta = catalog.FL501

    def check(self, unit: DockerfileModel, ctx: LintContext) -> None:
        final = unit.final_stage
        if final is None or unit.is_development:
            return
        if final.user_instruction is not None:
            self._check_user(unit, final)
            return
        base = final.root_base
        extra = tuple(self.option("nonroot-base-images"))
        if is_dynamic(base) or runs_as_nonroot(base, extra):
            return  # unknown base (FROM $IMAGE), or one that ships a non-root default user
        add_user = "adduser -D app" if "alpine" in base.lower() else "useradd --create-home app"
        self.report(
            unit.path,
            final.from_instruction.location,
            f"The final stage (FROM {final.base_image}) never sets USER, so the service runs as "
            "root. "
            "Any code-execution bug then owns the container: it can rewrite the app's code, read "
            "every mounted secret, and turns a container escape into root on the host. "
            f"Create a user and switch to it before CMD: `RUN {add_user}` then `USER app` "
            "(or a numeric `USER 10001`).",
            fix=f"add `RUN {add_user}` and `USER app` to the final stage",
        )

    def _check_user(self, unit: DockerfileModel, final: Stage) -> None:
        instruction = final.user_instruction
        assert instruction is not None
        user = final.user or ""
        if is_dynamic(user):
            return  # USER $APP_UID with no default: decided at build time
        name = user.split(":", 1)[0].strip().lower()
        if name not in ROOT_USERS:
            return
        written = instruction.value.strip()
        shown = f"`USER {written}`"
        if written != user:
            shown += f" (which resolves to '{user}' from its ARG/ENV default)"
        if instruction not in final.instructions:
            shown += f" in {_describe_stage_of(unit, instruction)}"
        self.report(
            unit.path,
            instruction.location,
            f"{shown} is the last USER of the final image, so the service runs as root. "
            "Any code-execution bug then owns the container: it can rewrite the app's code, read "
            "every mounted secret, and turns a container escape into root on the host. "
            "Do the root-only steps first, then switch to an unprivileged user "
            "(`USER app` or a numeric `USER 10001`) before CMD.",
            fix="end the final stage with `USER app` (or a numeric UID)",
        )


def _describe_stage_of(unit: DockerfileModel, instruction: object) -> str:
    for stage in unit.stages:
        if instruction in stage.instructions:
            return f"{_describe_stage(stage)} (the final stage is built FROM it)"
    return "a parent stage"


@register
class BuildToolchainInFinalImage(FileRule):
    kind = FileKind.DOCKERFILE
    meta = catalog.FL503

    def check(self, unit: DockerfileModel, ctx: LintContext) -> None:
        final = unit.final_stage
        if final is None or unit.is_development:
            return
        chain = final.ancestry  # FROM builder: whatever builder installed is in the final image
        bottom = chain[-1]
        if is_full_python_image(bottom.base):
            image = bottom.base
            self.report(
                unit.path,
                bottom.from_instruction.location,
                f"The final image is based on `{image}`, the full Debian image with gcc, headers "
                "and ~1 GB of build tools. "
                "Every pull and cold start moves that weight, and every tool is CVE surface to "
                "patch. "
                f"Build in a `{image}` builder stage if you need compilers and base the final "
                f"stage on `{_slim(image)}`.",
                fix=f"use `{_slim(image)}` for the final stage",
            )
        for stage in reversed(chain):
            for instruction in stage.instructions_of("RUN"):
                script = substitute(instruction.arguments, stage.variables_at(instruction.line))
                kept = [p for p in package_changes(script).kept() if is_toolchain_package(p)]
                if not kept:
                    continue
                names = ", ".join(dict.fromkeys(package_name(p) for p in kept))
                where = ""
                if stage is not final:
                    where = f" (in {_describe_stage(stage)}, which the final stage is built FROM)"
                self.report(
                    unit.path,
                    instruction.location,
                    f"This RUN{where} installs {names} into the final image. "
                    "Compilers and headers add hundreds of MB to every pull and cold start, and "
                    "CVEs to patch in tools production never runs. "
                    "Build wheels in a builder stage and COPY only the installed packages into a "
                    "-slim final stage (or remove them in the same RUN).",
                    fix="move the toolchain into a builder stage",
                )


def _slim(image: str) -> str:
    repository, _, tag = image.rpartition(":")
    if not repository or "/" in tag:
        return "python:3-slim"
    version = tag.split("-", 1)[0]
    if not version or not version[0].isdigit():
        return "python:3-slim"
    return f"{repository}:{version}-slim"
