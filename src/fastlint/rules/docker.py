"""Container rules that need only the Dockerfile: who the service runs as, what ships in it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastlint.diagnostics import Severity
from fastlint.discovery import FileKind
from fastlint.docker.images import (
    DATABASE_DAEMONS,
    entrypoint_drops_root,
    full_python_underneath,
    is_full_python_image,
    is_toolchain_package,
    package_name,
    runs_as_nonroot,
    test_runner_base,
)
from fastlint.docker.model import DockerfileModel, Stage, is_dynamic, substitute
from fastlint.docker.packages import package_changes
from fastlint.registry import register
from fastlint.rules import catalog
from fastlint.rules.base import FileRule, ProjectRule

if TYPE_CHECKING:
    from fastlint.context import LintContext

ROOT_USERS = frozenset({"root", "0"})


def not_the_service(unit: DockerfileModel, stage: Stage) -> str | None:
    """Why an image is clearly not the deployed service (its findings drop to info), or None:
    a browser-test runner base, or a project generator's template (placeholders in its path
    or base image)."""
    runner = test_runner_base(stage.root_base)
    if runner is not None:
        return f"it is built on {runner}, a browser-test runner image"
    daemon = _database_daemon(stage)
    if daemon is not None:
        return f"it runs {daemon}, a database or broker server"
    if any(mark in text for text in (unit.source.relpath, stage.root_base) for mark in _TEMPLATE):
        return "it is a project template (its path or base image holds template placeholders)"
    return None


_TEMPLATE = ("{{", "{%", "<%", "__PROJECT_NAME__")


def _database_daemon(stage: Stage) -> str | None:
    """The database or broker server an image starts through its base image's entrypoint
    (``CMD ["postgres", ...]``), or None."""
    command = stage.cmd
    if stage.entrypoint is not None or command is None or command.is_shell_form:
        return None
    name = command.argv[0].rsplit("/", 1)[-1] if command.argv else ""
    return name if name in DATABASE_DAEMONS else None


def _base_entrypoint_drops_root(stage: Stage) -> bool:
    """An official database image (postgres, mysql, redis...) whose own ENTRYPOINT, kept by
    the Dockerfile, switches to the image's unprivileged user before its server runs."""
    if stage.entrypoint is not None:
        return False  # the Dockerfile replaced the entrypoint that drops root
    command = stage.cmd.process_argv if stage.cmd is not None else None
    return entrypoint_drops_root(stage.root_base, command)


def _downgraded(reason: str | None) -> tuple[Severity | None, str]:
    if reason is None:
        return None, ""
    return Severity.INFO, f" Reported as info: {reason}, so probably not the service."


def _describe_stage(stage: Stage) -> str:
    return f"stage '{stage.name}'" if stage.name else f"stage {stage.index}"


def _deployed_stages(unit: DockerfileModel, ctx: LintContext) -> list[Stage]:
    """The stages of ``unit`` that ship: a ``--target`` / compose ``build.target`` selects
    them, else the final stage (the deployment model knows which)."""
    deployment = ctx.deployment
    if deployment is not None and hasattr(deployment, "deployed_stages"):
        return list(deployment.deployed_stages(unit))
    return [] if unit.final_stage is None else [unit.final_stage]


def _why_not_the_service(unit: DockerfileModel, stage: Stage, ctx: LintContext) -> str | None:
    """:func:`not_the_service`, or a start command that only copies files and exits."""
    reason = not_the_service(unit, stage)
    if reason is None and ctx.deployment is not None:
        command = ctx.deployment.one_shot(stage)
        if command is not None:
            reason = f"its start command only copies files ({command}) and exits"
    return reason


def _runs_in_production(unit: DockerfileModel, ctx: LintContext) -> bool:
    deployment = ctx.deployment
    return deployment is not None and deployment.runs_in_production(unit)


def _is_alias(unit: DockerfileModel, ctx: LintContext) -> bool:
    """A symbolic link to another Dockerfile of the project: reported once, at the target."""
    return unit.path in getattr(ctx.deployment, "aliases", ())


def _overrides_to_nonroot(deployed: Any) -> bool:
    """A compose ``user:`` / Kubernetes ``runAsUser`` that is not root, or ``runAsNonRoot``."""
    user = deployed.user
    if user is not None:
        return user.known and str(user.value).lower() not in ROOT_USERS
    return deployed.run_as_non_root is not None


@register
class ContainerRunsAsRoot(ProjectRule):
    meta = catalog.FL501

    def check(self, ctx: LintContext) -> None:
        deployment = ctx.deployment
        for unit in ctx.units_of(FileKind.DOCKERFILE):
            if unit.is_development or _is_alias(unit, ctx):
                continue
            if unit.in_test_folder and not _runs_in_production(unit, ctx):
                continue  # tests/.../Dockerfile: a mock server for the test suite
            for stage in _deployed_stages(unit, ctx):
                runners = deployment.units_running(stage) if deployment is not None else []
                if runners and all(_overrides_to_nonroot(r) for r in runners):
                    continue  # every deployment of it sets a non-root user
                if deployment is not None and deployment.drops_root(stage) is not None:
                    continue  # its entrypoint execs the command through gosu/su-exec as a user
                if _base_entrypoint_drops_root(stage):
                    continue  # FROM postgres: the image's entrypoint runs postgres as postgres
                self._check_stage(unit, stage, _why_not_the_service(unit, stage, ctx))
        reported: set[tuple[str, int]] = set()  # an overlay merged over a service shares its user
        for deployed in getattr(ctx.deployment, "units", []):
            self._check_override(deployed, reported)

    def _check_override(self, deployed: Any, reported: set[tuple[str, int]]) -> None:
        user = deployed.user
        if user is None or not user.known or deployed.development is not None:
            return
        where = (user.site.path, user.site.line)
        if where in reported:
            return
        reported.add(where)
        if str(user.value).lower() not in ROOT_USERS:
            return
        written = "user: " if deployed.kind == "compose" else "runAsUser: "
        self.report(
            user.site.path,
            user.site.location,
            f"`{written}{user.text}` makes {deployed.name} run as root, whatever the image's "
            "USER says. Any code-execution bug then owns the container: it can rewrite the "
            "app's code, read every mounted secret, and turns a container escape into root on "
            'the host. Set a non-root UID (`user: "10001"`, `runAsUser: 10001`) or drop the '
            "override so the image's USER applies.",
            fix="set a non-root UID",
        )

    def _check_stage(self, unit: DockerfileModel, final: Stage, reason: str | None) -> None:
        if final.user_instruction is not None:
            self._check_user(unit, final, reason)
            return
        base = final.root_base
        extra = tuple(self.option("nonroot-base-images"))
        if is_dynamic(base) or runs_as_nonroot(base, extra):
            return  # unknown base (FROM $IMAGE), or one that ships a non-root default user
        add_user = "adduser -D app" if "alpine" in base.lower() else "useradd --create-home app"
        which = (
            "The final stage"
            if final is unit.final_stage
            else f"The deployed {_describe_stage(final)}"
        )
        severity, downgrade = _downgraded(reason)
        self.report(
            unit.path,
            final.from_instruction.location,
            f"{which} (FROM {final.base_image}) never sets USER, so the service runs as "
            "root. "
            "Any code-execution bug then owns the container: it can rewrite the app's code, read "
            "every mounted secret, and turns a container escape into root on the host. "
            f"Create a user and switch to it before CMD: `RUN {add_user}` then `USER app` "
            "(or a numeric `USER 10001`)." + downgrade,
            severity=severity,
            fix=f"add `RUN {add_user}` and `USER app` to the final stage",
        )

    def _check_user(self, unit: DockerfileModel, final: Stage, reason: str | None) -> None:
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
        image = "final image" if final is unit.final_stage else f"deployed {_describe_stage(final)}"
        severity, downgrade = _downgraded(reason)
        self.report(
            unit.path,
            instruction.location,
            f"{shown} is the last USER of the {image}, so the service runs as root. "
            "Any code-execution bug then owns the container: it can rewrite the app's code, read "
            "every mounted secret, and turns a container escape into root on the host. "
            "Do the root-only steps first, then switch to an unprivileged user "
            "(`USER app` or a numeric `USER 10001`) before CMD." + downgrade,
            severity=severity,
            fix="end the final stage with `USER app` (or a numeric UID)",
        )


@register
class RunAsNonRootUnverifiable(ProjectRule):
    meta = catalog.FL505

    def check(self, ctx: LintContext) -> None:
        for deployed in getattr(ctx.deployment, "units", []):
            site = deployed.run_as_non_root
            if site is None:
                continue
            problem = _non_root_problem(deployed)
            if problem is None:
                continue
            self.report(
                site.path,
                site.location,
                f"`runAsNonRoot: true` on {deployed.name}, but {problem}: the kubelet refuses to "
                "start the container (CreateContainerConfigError), so the rollout never "
                "becomes ready. Give the image a numeric `USER 10001` or set a numeric "
                "`runAsUser: 10001` in the securityContext.",
                fix="set runAsUser: 10001 (or a numeric USER in the image)",
            )


def _non_root_problem(deployed: Any) -> str | None:
    """Why the kubelet cannot verify the container runs as non-root (None: it can, or we
    cannot tell)."""
    user = deployed.user
    if user is not None:
        if not user.known:
            return None
        value = str(user.value)
        return (
            '`runAsUser: 0` is root ("container\'s runAsUser breaks non-root policy")'
            if (value == "0")
            else None
        )
    image_user = deployed.image_user
    if image_user is None:
        return None
    where = (
        f"`USER {image_user}` ({deployed.image_user_site.label()})"
        if deployed.image_user_site is not None
        else f"the default user of the image {deployed.image}, '{image_user}',"
    )
    if image_user.lower() in ROOT_USERS:
        return f'{where} is root ("container has runAsNonRoot and image will run as root")'
    if not image_user.isdigit():
        return (
            f"{where} is a user name, which the kubelet cannot check without a UID "
            '("container has runAsNonRoot and image has non-numeric user, cannot verify user '
            'is non-root")'
        )
    return None


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
        if unit.is_development or _is_alias(unit, ctx):
            return
        reported: set[int] = set()  # two deployed stages may share a parent stage's RUN
        for stage in _deployed_stages(unit, ctx):
            self._check_stage(unit, stage, reported)

    def _check_stage(self, unit: DockerfileModel, final: Stage, reported: set[int]) -> None:
        severity, downgrade = _downgraded(not_the_service(unit, final))
        chain = final.ancestry  # FROM builder: whatever builder installed is in the final image
        bottom = chain[-1]
        full = _full_python(bottom.base)
        if full is not None and bottom.from_instruction.line not in reported:
            reported.add(bottom.from_instruction.line)
            image, slim = full
            self.report(
                unit.path,
                bottom.from_instruction.location,
                f"The final image is based on {image}, the full Debian image with gcc, headers "
                "and ~1 GB of build tools. "
                "Every pull and cold start moves that weight, and every tool is CVE surface to "
                "patch. "
                f"Build in a `{bottom.base}` builder stage if you need compilers and base the "
                f"final stage on `{slim}`." + downgrade,
                severity=severity,
                fix=f"use `{slim}` for the final stage",
            )
        for stage in reversed(chain):
            for instruction in stage.instructions_of("RUN"):
                script = substitute(instruction.arguments, stage.variables_at(instruction.line))
                kept = [p for p in package_changes(script).kept() if is_toolchain_package(p)]
                if not kept or instruction.line in reported:
                    continue
                reported.add(instruction.line)
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
                    "-slim final stage (or remove them in the same RUN)." + downgrade,
                    severity=severity,
                    fix="move the toolchain into a builder stage",
                )


def _full_python(base: str) -> tuple[str, str] | None:
    """(how the image is named in the message, its -slim alternative) when ``base`` is the
    full python image or a well-known base built on it; None otherwise."""
    if is_full_python_image(base):
        return f"`{base}`", _slim(base)
    underneath = full_python_underneath(base)
    if underneath is None:
        return None
    repository, _, tag = base.rpartition(":")
    version = re.match(r"python\d+\.\d+", tag) if repository else None
    slim = f"{repository}:{version.group(0)}-slim" if version else f"{base} (a -slim tag)"
    return f"`{base}`, which is built on `{underneath}`", slim


def _slim(image: str) -> str:
    repository, _, tag = image.rpartition(":")
    if not repository or "/" in tag:
        return "python:3-slim"
    version = tag.split("-", 1)[0]
    if not version or not version[0].isdigit():
        return "python:3-slim"
    return f"{repository}:{version}-slim"
