"""The project-wide deployment model: how the service is started, and with which settings.

:func:`build_deployment` follows every start command of the project to the server it runs:

- the final stage of each Dockerfile: ``ENTRYPOINT`` and ``CMD`` combined as Docker does, through
  init wrappers (tini, dumb-init), ``sh -c "..."``, entrypoint scripts of the project (a container
  path is mapped back to the source file through the stage's ``COPY``/``ADD`` and ``WORKDIR``),
  ``exec "$@"`` and ``python app/main.py`` / ``python -m app.main`` into ``uvicorn.run(...)``;
- each Procfile entry;
- shell scripts no Dockerfile or Procfile reaches (read as "may be a start command": they feed
  configuration rules, not the container rules).

For each server it records the effective settings with where each is written (command line >
``GUNICORN_CMD_ARGS`` > the config file Gunicorn loads > ``WEB_CONCURRENCY`` > defaults), and
where the PID 1 chain lost ``exec`` (signals). The Docker and Python front ends are only read.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable

from fastlint.deploy.builds import docker_build_target, makefile_builds
from fastlint.deploy.commands import (
    SimpleCommand,
    Word,
    copies_and_exits,
    expand,
    positional_args,
    split_script,
)
from fastlint.deploy.compose import merge
from fastlint.deploy.facts import Setting, Site
from fastlint.deploy.gunicorn import Evaluator, GunicornConfig, read_config
from fastlint.deploy.kubernetes import parse_cpu
from fastlint.deploy.procfile import procfile_entries
from fastlint.deploy.servers import (
    SERVER_COMMANDS,
    WORKER_COMMANDS,
    parse_server_args,
    split_gunicorn_cmd_args,
    worker_name,
)
from fastlint.deploy.shell import line_text, script_commands
from fastlint.discovery import FileKind
from fastlint.docker.images import KnownBase, known_base, parse_image, runs_as_nonroot
from fastlint.docker.model import in_test_folder
from fastlint.python.model import UNKNOWN, keyword, positional
from fastlint.python.module import PythonModule
from fastlint.rules.catalog import DEFAULT_ASSUMED_CPUS, DEFAULT_MAX_DB_CONNECTIONS

if TYPE_CHECKING:
    from fastlint.context import LintContext


_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
_INITS = frozenset({"tini", "tini-static", "dumb-init", "catatonit", "s6-overlay", "init"})
_RUNNERS = frozenset({"poetry", "pipenv", "pdm", "hatch", "rye", "uv"})
_INSTRUMENTERS = frozenset({"opentelemetry-instrument", "ddtrace-run", "sentry-run"})
# Wrappers that run a command as another user, with their options that take a value.
_SWITCH_VALUES: dict[str, frozenset[str]] = {
    "gosu": frozenset(),
    "su-exec": frozenset(),
    "setpriv": frozenset(
        {"--reuid", "--regid", "--groups", "--securebits", "--pdeathsig", "--selinux-label"}
        | {"--apparmor-profile", "--inh-caps", "--ambient-caps", "--bounding-set", "--rlimit"}
    ),
    "runuser": frozenset(
        {"-u", "--user", "-g", "--group", "-G", "--supp-group", "-s", "--shell", "-c"}
        | {"--command", "-w", "--whitelist-environment"}
    ),
    "su": frozenset(
        {"-c", "--command", "-s", "--shell", "-g", "--group", "-G", "--supp-group", "-w"}
        | {"--whitelist-environment"}
    ),
    "chroot": frozenset({"--userspec", "--groups"}),
}
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_PATH_DIRS = ("/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin")
_MAX_DEPTH = 12


# ---------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Arg:
    """One word of a command line and where it is written; ``shell`` words get expanded."""

    word: str
    site: Site
    substitutions: tuple[str, ...] = ()
    shell: bool = True


@dataclass
class Server:
    """An ASGI server process the project starts (or may start)."""

    kind: str  # gunicorn, uvicorn, fastapi, hypercorn, granian, daphne
    site: Site  # where the server command (or uvicorn.run call) is written
    command: str  # the command as written, for summaries
    origin: str  # "dockerfile", "procfile", "script"
    start: Site  # the start command that leads here (CMD/ENTRYPOINT line, Procfile line, script)
    production: bool  # started by a production Dockerfile's final stage or a Procfile
    in_container: bool
    app: str | None = None  # "module:attr" target as written (None when unknown)
    factory: bool = False
    settings: dict[str, Setting] = field(default_factory=dict)  # effective, by gunicorn name
    written: list[Setting] = field(default_factory=list)  # every setting written for it
    config: GunicornConfig | None = None
    config_state: str = "none"  # "loaded", "none" (no config file), "unknown" (could not tell)
    dev_site: Site | None = None  # `fastapi dev`, start-reload.sh
    lost_exec: Site | None = None  # where a shell runs the server as a child (signals)
    init: bool = False  # tini / dumb-init supervises
    via: tuple[Site, ...] = ()
    unit: Unit | None = None  # the deployed unit that starts it (None: a standalone script)
    worker: str | None = None  # a task-queue worker instead ("Celery worker"): not a server
    base_image: str | None = None  # a well-known base image whose own start command this is
    # Variables its environment sets (values may be unknown); ANY_VARIABLE when an env_file or
    # envFrom may set any of them.
    environment: frozenset[str] = frozenset()

    @property
    def workers(self) -> Setting | None:
        return self.settings.get("workers")

    def setting(self, name: str) -> Setting | None:
        return self.settings.get(name)


@dataclass(eq=False)
class Unit:
    """One deployed thing that starts processes: a Dockerfile stage's own CMD, a compose
    service, a Kubernetes container, a Procfile process. Its settings override the image's."""

    kind: str  # "dockerfile", "compose", "kubernetes", "procfile"
    name: str  # for messages: "compose.yaml service 'web'"
    site: Site  # where the unit is defined
    image: str | None = None  # as written (compose/Kubernetes image, or the stage's base)
    dockerfile: str | None = None  # display path of the Dockerfile it is built from
    stage: Any = None  # fastlint.docker.Stage, when known
    stage_reason: str = ""  # how the stage was picked ("build.target 'runtime'", ...)
    image_user: str | None = None  # the image's user: "root", a name or UID; None: unknown
    image_user_site: Site | None = None  # its USER line (None: the base image's default)
    user: Setting | None = None  # compose user: / Kubernetes runAsUser (overrides the image's)
    run_as_non_root: Site | None = None  # Kubernetes runAsNonRoot: true
    cpus: Setting | None = None  # CPU limit (value: float)
    replicas: Setting | None = None  # value: int; source says where it comes from
    development: str | None = None  # why this unit is for development only
    publishes_ports: bool | None = None  # compose: ports published on the host (None: unknown)
    proxied: str | None = None  # why only a proxy in front can reach it (None: cannot tell)
    drops_to: Site | None = None  # where the start command switches to a non-root user (gosu)
    servers: list[Server] = field(default_factory=list)

    @property
    def cpu_count(self) -> float | None:
        value = None if self.cpus is None else self.cpus.value
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    @property
    def replica_count(self) -> int | None:
        value = None if self.replicas is None else self.replicas.value
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def to_dict(self, deployment: Deployment) -> dict[str, Any]:
        result: dict[str, Any] = {"unit": self.name, "defined_at": self.site.label()}
        if self.dockerfile is not None:
            stage = self.stage
            name = (
                f"stage '{stage.name}'"
                if getattr(stage, "name", None)
                else f"stage {getattr(stage, 'index', '?')}"
            )
            result["stage"] = f"{self.dockerfile} {name}"
            if self.stage_reason:
                result["stage_reason"] = self.stage_reason
        elif self.image:
            result["image"] = self.image
        effective = self.user.value if self.user is not None and self.user.known else None
        result["user"] = effective or self.image_user
        if self.run_as_non_root is not None:
            result["run_as_non_root"] = True
        if self.cpus is not None:
            cpus = self.cpu_count
            result["cpu_limit"] = int(cpus) if cpus is not None and cpus.is_integer() else cpus
            result["cpu_limit_source"] = f"{self.cpus.source} ({self.cpus.site.label()})"
        if self.replicas is not None:
            result["replicas"] = self.replica_count
            result["replicas_source"] = f"{self.replicas.source} ({self.replicas.site.label()})"
        if self.development:
            result["development"] = self.development
        server = next(iter(self.servers), None)
        if server is not None:
            worker_class = server.setting("worker_class")
            result["start_command"] = server.command
            result["server"] = server.kind
            result["worker_class"] = (
                _shown(worker_class)
                if worker_class is not None
                else ("sync" if server.kind == "gunicorn" else None)
            )
            result["workers"] = deployment.worker_count(server)
            result["workers_source"] = _source(server.workers, deployment.cpus)
        else:
            result["start_command"] = None
        return result


@dataclass
class Deployment:
    servers: list[Server]
    configs: list[GunicornConfig]  # every Gunicorn config read (standalone ones included)
    loaded_configs: set[str]  # paths of configs some server loads
    cpus: int
    max_db_connections: int
    engines: list[Any] = field(default_factory=list)  # fastlint.python.sqla.EngineFact
    units: list[Unit] = field(default_factory=list)
    targets: dict[str, list[Any]] = field(default_factory=dict)  # Dockerfile path → stages
    skipped_templates: list[str] = field(default_factory=list)  # Helm templates not read
    aliases: set[str] = field(default_factory=set)  # symlinked Dockerfiles (read at the target)
    # Task-queue workers (Celery, taskiq...) the deployment starts: only their PID 1 is judged.
    workers: list[Server] = field(default_factory=list)

    def units_running(self, stage: Any) -> list[Unit]:
        """Compose services and Kubernetes containers (not for development) that run an
        image of ``stage``: where the image is really deployed, with their own overrides."""
        return [
            unit
            for unit in self.units
            if unit.kind in ("compose", "kubernetes")
            and unit.stage is stage
            and unit.development is None
        ]

    def runs_in_production(self, dockerfile: Any) -> bool:
        """A compose service or Kubernetes container not for development runs an image built
        from ``dockerfile`` (a compose file under ``tests/`` starts test fixtures)."""
        return any(
            unit.kind in ("compose", "kubernetes")
            and unit.dockerfile == dockerfile.path
            and unit.development is None
            and not in_test_folder(unit.site.path)
            for unit in self.units
        )

    def one_shot(self, stage: Any) -> str | None:
        """The file command (``cp``) an image's start command only runs before it exits: the
        container fills a volume and stops, it serves nothing. None for anything else."""
        argv = stage.process_argv
        return None if argv is None else copies_and_exits(argv)

    def drops_root(self, stage: Any) -> Site | None:
        """Where the image's own start command switches to a non-root user before the service
        runs (``exec gosu app "$@"`` in its entrypoint script), or None."""
        for unit in self.units:
            if unit.kind == "dockerfile" and unit.stage is stage and unit.drops_to is not None:
                return unit.drops_to
        return None

    def deployed_stages(self, dockerfile: Any) -> list[Any]:
        """The stages of a Dockerfile that are deployed: those a compose ``build.target`` or a
        ``docker build --target`` selects, else its final stage."""
        selected = self.targets.get(dockerfile.path)
        if selected:
            return selected
        final = dockerfile.final_stage
        return [] if final is None else [final]

    @property
    def primary(self) -> Server | None:
        """The server the deployment summary describes: production start commands first."""
        for server in self.servers:
            if server.production:
                return server
        return self.servers[0] if self.servers else None

    def worker_count(self, server: Server) -> int | None:
        """Processes serving requests (CPU counts evaluated at ``cpus``); None when unknown."""
        setting = server.workers
        if setting is None:
            return 1
        return setting.as_int()

    def engines_for(self, server: Server | None) -> list[Any]:
        """The engines a server's processes open: those under the folder of its start file
        (one service of a monorepo), or every engine when none is there (docker/Dockerfile)."""
        if server is None:
            return list(self.engines)
        folder = posixpath.dirname(server.start.path)
        if not folder:
            return list(self.engines)
        inside = [e for e in self.engines if e.module.path.startswith(folder + "/")]
        return inside or list(self.engines)

    def pool_per_process(
        self, server: Server | None = None
    ) -> tuple[int | None, list[tuple[Any, int]]]:
        """Σ pool_size + max_overflow over a server's engines, and each engine's share; None
        when a pool is dynamic or unlimited (``max_overflow=-1``)."""
        parts: list[tuple[Any, int]] = []
        for engine in self.engines_for(server):
            if engine.null_pool:
                parts.append((engine, 0))
                continue
            if engine.pool_size is None or engine.max_overflow is None or engine.max_overflow < 0:
                return None, parts
            parts.append((engine, engine.pool_size + engine.max_overflow))
        return sum(share for _, share in parts), parts

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary of the primary server: flat, deterministic, panel-friendly."""
        primary = self.primary
        per_process, _ = self.pool_per_process(primary)
        result: dict[str, Any] = {}
        if primary is not None:
            workers = self.worker_count(primary)
            worker_class = primary.setting("worker_class")
            result.update(
                {
                    "start_command": primary.command,
                    "start_file": primary.site.label(),
                    "via": _via(primary),
                    "server": primary.kind,
                    "app": primary.app,
                    "worker_class": _shown(worker_class)
                    if worker_class is not None
                    else ("sync" if primary.kind == "gunicorn" else None),
                    "worker_class_source": _source(worker_class, self.cpus),
                    "workers": workers,
                    "workers_source": _source(primary.workers, self.cpus),
                }
            )
        else:
            result["start_command"] = None
        if self.engines:
            result["pool_per_process"] = per_process
            engines = self.engines_for(primary)
            result["pool_engines"] = [_engine_text(engine) for engine in engines]
            total = None
            if primary is not None and per_process is not None:
                workers = self.worker_count(primary)
                total = None if workers is None else workers * per_process
            result["total_connections"] = total
            result["max_db_connections"] = self.max_db_connections
        others = [s for s in self.servers if s is not primary]
        if others:
            result["other_servers"] = [f"{s.command} ({s.site.label()})" for s in others]
        if self.units:
            result["units"] = [unit.to_dict(self) for unit in self.units]
        if self.skipped_templates:
            count = len(self.skipped_templates)
            result["skipped_templates"] = (
                f"{count} Helm template{'s' if count > 1 else ''} with Go templates, not read "
                f"({', '.join(self.skipped_templates[:3])}{', ...' if count > 3 else ''})"
            )
        return result


def _via(server: Server) -> list[str]:
    """The files the start command passes through before the server, in order."""
    labels = [server.start.label(), *(site.label() for site in server.via)]
    own = server.site.label()
    return [
        label for index, label in enumerate(labels) if label != own and label not in labels[:index]
    ]


def _number(value: Any) -> str:
    if value is UNKNOWN:
        return "?"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _shown(setting: Setting | None) -> Any:
    if setting is None or setting.value is UNKNOWN:
        return None
    return setting.value


def _source(setting: Setting | None, cpus: int) -> str:
    if setting is None:
        return "default"
    text = f"{setting.source} ({setting.site.label()})"
    if setting.text and setting.text.strip("\"'") != str(setting.value):
        text = f"{setting.text} in {text}"
    if setting.cpu or setting.cpu_fallback:
        text += f", evaluated at assumed-cpus {cpus}"
    return text


def _engine_text(engine: Any) -> str:
    where = f"{engine.module.path}:{engine.module.location(engine.node).line}"
    if engine.null_pool:
        return f"{where} NullPool"
    size = "?" if engine.pool_size is None else engine.pool_size
    overflow = "?" if engine.max_overflow is None else engine.max_overflow
    return f"{where} pool_size={size} max_overflow={overflow}"


# ---------------------------------------------------------------------------- building


def build_deployment(ctx: LintContext) -> Deployment | None:
    """The deployment model of the project, or None when it has no deployment files."""
    kinds = (
        FileKind.DOCKERFILE,
        FileKind.PROCFILE,
        FileKind.SHELL,
        FileKind.GUNICORN,
        FileKind.COMPOSE,
        FileKind.KUBERNETES,
    )
    if not any(ctx.units_of(kind) for kind in kinds):
        return None
    options = ctx.settings.options
    cpus = _positive(options.get("assumed-cpus"), DEFAULT_ASSUMED_CPUS)
    limit = _positive(options.get("max-db-connections"), DEFAULT_MAX_DB_CONNECTIONS)
    builder = _Builder(ctx, cpus)
    builder.run()
    deployment = Deployment(
        servers=builder.servers,
        configs=builder.all_configs(),
        loaded_configs=set(builder.loaded),
        cpus=cpus,
        max_db_connections=limit,
        units=builder.units,
        targets=builder.targets,
        skipped_templates=builder.skipped_templates,
        aliases=set(builder.aliases),
        workers=builder.workers,
    )
    for server in builder.servers:
        if server.unit is not None:
            server.unit.servers.append(server)
    deployment.engines = _engines(ctx)
    return deployment


def _positive(value: Any, default: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )


def _engines(ctx: LintContext) -> list[Any]:
    try:
        from fastlint.python.sqla import find_engines
    except ImportError:  # the database front end is optional for the deployment model
        return []
    # Only engines built when a module is imported are one pool per process; an engine built
    # inside a function (per request, or cached by a factory) cannot be counted statically.
    return find_engines(ctx.project, module_level=True)


@dataclass
class _Run:
    """The state a command runs in."""

    env: dict[str, str | None]
    env_sites: dict[str, Site]
    cwd: str | None  # container working directory, or a project folder (relpath) outside one
    locate: Callable[[str, str | None], Any]  # (path, cwd) → project unit or None
    origin: str
    start: Site
    production: bool
    in_container: bool
    pid1: bool = True  # this process receives the container's signals
    on_path: bool = True  # the container's main command, or what its shells end by running
    lost_exec: Site | None = None
    init: bool = False
    via: tuple[Site, ...] = ()
    depth: int = 0
    base: KnownBase | None = None  # a well-known base image under the stage: its start script
    base_image: str | None = None  # that base as written
    env_words: dict[str, Word] = field(default_factory=dict)  # set by scripts, with CPU flags
    unit: Unit | None = None

    def child(self, **changes: Any) -> _Run:
        values = dict(self.__dict__)
        values.update(changes)
        values["depth"] = self.depth + 1
        return _Run(**values)


class _Builder:
    def __init__(self, ctx: LintContext, cpus: int) -> None:
        self.ctx = ctx
        self.cpus = cpus
        self.servers: list[Server] = []
        self.workers: list[Server] = []
        self.loaded: list[str] = []
        self.units: list[Unit] = []
        self.targets: dict[str, list[Any]] = {}
        self.skipped_templates: list[str] = []
        self.visited_scripts: set[str] = set()
        self._configs: dict[str, GunicornConfig] = {}
        self.by_relpath: dict[str, Any] = {}
        units_by_display: dict[str, Any] = {}
        for kind in FileKind:
            for unit in ctx.units_of(kind):
                units_by_display[unit.path] = unit
        self.relpath_of: dict[str, str] = {}
        for source in ctx.files:
            unit = units_by_display.get(source.display)
            if unit is not None:
                self.by_relpath[source.relpath] = unit
                self.relpath_of[source.display] = source.relpath
        self.aliases = _symlinked_dockerfiles(ctx)
        for source in ctx.files:  # a build naming the link builds the target
            target = self.aliases.get(source.display)
            if target is not None and target in units_by_display:
                self.by_relpath[source.relpath] = units_by_display[target]

    # -- entry points -----------------------------------------------------------

    def run(self) -> None:
        self._select_targets()
        for dockerfile in self.ctx.units_of(FileKind.DOCKERFILE):
            if dockerfile.path in self.aliases:
                continue  # the same file as another Dockerfile: one unit, at its real path
            for stage in self.deployed_stages(dockerfile):
                self._dockerfile(dockerfile, stage)
        for procfile in self.ctx.units_of(FileKind.PROCFILE):
            self._procfile(procfile)
        for compose in self.ctx.units_of(FileKind.COMPOSE):
            for service in compose.services:
                self._compose_service(compose, self._merged(compose, service))
        for manifest in self.ctx.units_of(FileKind.KUBERNETES):
            if manifest.templated:
                self.skipped_templates.append(manifest.path)
            for workload in manifest.workloads:
                for container in workload.containers:
                    self._container(manifest, workload, container)
        for script in self.ctx.units_of(FileKind.SHELL):
            if script.path not in self.visited_scripts:
                self._standalone_script(script)

    def all_configs(self) -> list[GunicornConfig]:
        for module in self.ctx.units_of(FileKind.GUNICORN):
            if module.path not in self._configs:
                self._configs[module.path] = read_config(module, {}, self.cpus, self.ctx.project)
        return [self._configs[path] for path in sorted(self._configs)]

    # -- which Dockerfile stages are deployed -------------------------------------------

    def _select_targets(self) -> None:
        """Stages picked by a compose ``build.target`` or ``docker build --target`` in a
        script: those are deployed instead of the Dockerfile's final stage."""
        for compose in self.ctx.units_of(FileKind.COMPOSE):
            for service in compose.services:
                found = self._built_dockerfile(compose, service)
                if found is not None and service.build is not None and service.build.target:
                    self._add_target(*found)
        for script in self.ctx.units_of(FileKind.SHELL):
            builds = [docker_build_target(command.words) for command in script_commands(script)]
            self._built_targets(script, [b for b in builds if b is not None], relative=True)
        for makefile in self.ctx.units_of(FileKind.MAKEFILE):
            self._built_targets(makefile, makefile_builds(makefile.text), relative=True)
        for workflow in self.ctx.units_of(FileKind.WORKFLOW):
            self._built_targets(workflow, workflow.builds, relative=False)

    def _built_targets(self, unit: Any, builds: list[Any], relative: bool) -> None:
        """Select the stages ``builds`` name; a path is tried from the project root and, for
        a script or Makefile (run from its folder, usually), from the file's folder."""
        folder = posixpath.dirname(self.relpath_of.get(unit.path, unit.path))
        for build in builds:
            for base in ("", folder) if relative else ("",):
                dockerfile = self.by_relpath.get(
                    posixpath.normpath(posixpath.join(base, build.dockerfile))
                )
                stage = getattr(dockerfile, "stage_named", lambda name: None)(build.target)
                if stage is not None:
                    self._add_target(dockerfile, stage)
                    break

    def _add_target(self, dockerfile: Any, stage: Any) -> None:
        stages = self.targets.setdefault(dockerfile.path, [])
        if stage not in stages:
            stages.append(stage)

    def deployed_stages(self, dockerfile: Any) -> list[Any]:
        selected = self.targets.get(dockerfile.path)
        if selected:
            return list(selected)
        final = getattr(dockerfile, "final_stage", None)
        return [] if final is None else [final]

    def _built_dockerfile(self, compose: Any, service: Any) -> tuple[Any, Any] | None:
        """(Dockerfile model, stage) a compose service builds; None for an image-only service
        or a Dockerfile outside the project."""
        build = service.build
        if build is None or "$" in build.context + build.dockerfile:
            return None
        context = posixpath.normpath(posixpath.join(compose.folder, build.context))
        path = posixpath.normpath(posixpath.join(context, build.dockerfile))
        dockerfile = self.by_relpath.get(path)
        if dockerfile is None or not hasattr(dockerfile, "stages") or not dockerfile.stages:
            return None
        if build.target:
            stage = dockerfile.stage_named(build.target)
            return None if stage is None else (dockerfile, stage)
        return dockerfile, dockerfile.stages[-1]  # docker builds the last stage

    # -- units --------------------------------------------------------------------------

    def _dockerfile(self, model: Any, stage: Any) -> None:
        targeted = stage in self.targets.get(model.path, [])
        unit = self._new_unit(
            "dockerfile",
            f"{model.path} " + (f"stage '{stage.name}'" if stage.name else "final stage"),
            Site(model.path, stage.from_instruction.line, stage.from_instruction.content),
            model,
            stage,
            "selected with --target" if targeted else "",
        )
        if getattr(model, "is_development", False):
            unit.development = f"{posixpath.basename(model.path)} is named for development"
        entry = _start_args(model.path, stage.entrypoint) if stage.entrypoint else None
        cmd = _start_args(model.path, stage.cmd) if stage.cmd else None
        start = stage.start_command.instruction if stage.start_command else None
        self._start_image(
            unit,
            model,
            stage,
            entry,
            cmd,
            {},
            Site(model.path, start.line, start.content) if start else Site(model.path, 1),
            origin="dockerfile",
        )

    def _new_unit(
        self, kind: str, name: str, site: Site, model: Any = None, stage: Any = None, why: str = ""
    ) -> Unit:
        unit = Unit(kind, name, site)
        if stage is not None:
            unit.dockerfile, unit.stage, unit.stage_reason = model.path, stage, why
            unit.image = stage.root_base
            unit.image_user, unit.image_user_site = _stage_user(model.path, stage)
        self.units.append(unit)
        return unit

    def _start_image(
        self,
        unit: Unit,
        model: Any,
        stage: Any,
        entry: list[Arg] | None,
        cmd: list[Arg] | None,
        overrides: dict[str, tuple[str | None, Site]],
        start: Site,
        origin: str,
        init: bool = False,
    ) -> None:
        """Follow what a container of ``stage`` (None: an image not built here) runs:
        ``entry`` + ``cmd`` argv as Docker combines them, with ``overrides`` on its env."""
        env: dict[str, str | None] = {}
        env_sites: dict[str, Site] = {}
        if stage is not None:
            # A value still naming a variable (ENV W=${WORKERS}, no default) is unknown.
            env = {name: None if "$" in value else value for name, value in stage.env.items()}
            env_sites = _env_sites(model.path, stage)
        for name, (value, site) in overrides.items():
            env[name], env_sites[name] = value, site
        if stage is not None:
            folder = posixpath.dirname(self.relpath_of.get(model.path, model.path))

            def locate(path: str, cwd: str | None) -> Any:
                return self._locate_in_image(stage, folder, path, cwd)

            cwd: str | None = stage.workdir or "/"
        else:
            project_folder = posixpath.dirname(self.relpath_of.get(unit.site.path, unit.site.path))

            def locate(path: str, cwd: str | None) -> Any:
                return self._locate_in_project(path, project_folder)

            cwd = None
        run = _Run(
            env=env,
            env_sites=env_sites,
            cwd=cwd,
            locate=locate,
            origin=origin,
            start=start,
            production=unit.development is None,
            in_container=True,
            init=init,
            base=known_base(stage.root_base) if stage is not None else None,
            base_image=stage.root_base if stage is not None else None,
            unit=unit,
        )
        args: list[Arg] = []
        if entry is not None:
            args.extend(entry)
            # A shell-form ENTRYPOINT ignores CMD and any command given at run time.
            image_shell_form = stage is not None and entry is not None and stage.entrypoint
            if cmd is not None and not (
                image_shell_form
                and stage.entrypoint.form == "shell"
                and entry[0].site.path == model.path
            ):
                args.extend(cmd)
        elif cmd is not None:
            args.extend(cmd)
            if stage is not None and _python_entrypoint(stage.root_base) and args:
                first = args[0].word
                if first.startswith("-") or first.endswith(".py"):
                    args.insert(0, Arg("python3", args[0].site, shell=False))
        elif stage is not None and run.base is not None and entry is None and cmd is None:
            # No CMD/ENTRYPOINT of its own (nor an override): the base image's CMD runs.
            root = stage.ancestry[-1].from_instruction
            args = [Arg(run.base.start, Site(model.path, root.line, root.content), shell=False)]
        if args:
            self._argv(args, run)

    def _merged(self, compose: Any, service: Any) -> Any:
        """A service of an overlay file (``compose.override.yml``, ``compose.prod.yml``) merged
        over the same service of the folder's base ``compose.yaml``: ``docker compose`` is run
        with both, and the overlay alone often neither builds nor names an image."""
        base = self._base_of(compose)
        for candidate in getattr(base, "services", []):
            if candidate.name == service.name:
                return merge(candidate, service, base.path)
        return service

    def _base_of(self, compose: Any) -> Any:
        """The ``compose.yaml`` / ``docker-compose.yml`` an overlay file in its folder is merged
        over (None for a base file, or without one)."""
        if _BASE_COMPOSE.match(posixpath.basename(compose.source.relpath).lower()):
            return None
        for base in self.ctx.units_of(FileKind.COMPOSE):
            name = posixpath.basename(base.source.relpath).lower()
            if base is not compose and base.folder == compose.folder and _BASE_COMPOSE.match(name):
                return base
        return None

    def _compose_service(self, compose: Any, service: Any) -> None:
        found = self._built_dockerfile(compose, service)
        model, stage = found if found is not None else (None, None)
        why = f"build.target '{service.build.target}'" if found and service.build.target else ""
        over = f" (over {service.overlays})" if service.overlays else ""
        unit = self._new_unit(
            "compose",
            f"{compose.path} service '{service.name}'{over}",
            service.site,
            model,
            stage,
            why or ("the last stage" if found else ""),
        )
        if service.image is not None and stage is None:
            unit.image = service.image.text
            unit.image_user = _image_default_user(service.image.text)
        unit.development = compose.development_reason or self._mounts_source(compose, service)
        if model is not None and getattr(model, "is_development", False):
            unit.development = f"it builds {posixpath.basename(model.path)}"
        if service.user is not None:
            unit.user = _user_setting(service.user.text, service.user.site, "user")
        unit.cpus = _number_setting("cpus", service.cpus, float)
        unit.replicas = _number_setting("replicas", service.replicas, int)
        unit.publishes_ports = service.publishes_ports
        others = [
            other
            for file in (compose, self._base_of(compose))
            for other in getattr(file, "services", [])
            if other.name != service.name
        ]
        if not service.publishes_ports and any(other.publishes_ports for other in others):
            unit.proxied = (
                f"service '{service.name}' publishes no port; only the other services of "
                f"{compose.path} reach it"
            )
        overrides = {name: (value.text, value.site) for name, value in service.environment.items()}
        if service.env_files:
            _unknown_from_files(overrides, service.site)

        # Compose's entrypoint: replaces the image's ENTRYPOINT and drops its CMD, as Docker does.
        entry, cmd = _overridden_argv(model, stage, service.entrypoint, service.command)
        spec = service.command or service.entrypoint
        start = spec.site if spec is not None else service.site
        if spec is None and model is not None and stage is not None and stage.start_command:
            instruction = stage.start_command.instruction
            start = Site(model.path, instruction.line, instruction.content)
        self._start_image(
            unit, model, stage, entry, cmd, overrides, start, "compose", init=service.init
        )

    def _mounts_source(self, compose: Any, service: Any) -> str | None:
        """A bind mount of the project's source over the image: a live-editing dev setup."""
        for source in service.bind_sources:
            if source.startswith(("/", "~")):
                continue
            folder = posixpath.normpath(posixpath.join(compose.folder, source))
            prefix = "" if folder == "." else folder + "/"
            if any(path.startswith(prefix) and path.endswith(".py") for path in self.by_relpath):
                return f"service '{service.name}' mounts the source tree ({source}) over the image"
        return None

    def _container(self, manifest: Any, workload: Any, container: Any) -> None:
        image = container.image.text if container.image is not None else None
        model, stage, why = self._image_stage(image)
        unit = self._new_unit(
            "kubernetes",
            f"{manifest.path} {workload.label} container '{container.name}'",
            manifest.site(container.line),
            model,
            stage,
            why,
        )
        if stage is None:
            unit.image = image
            unit.image_user = _image_default_user(image)
        if container.run_as_user is not None:
            unit.user = _user_setting(
                container.run_as_user.text,
                manifest.site(container.run_as_user.line),
                "runAsUser",
            )
        if container.run_as_non_root is not None and container.run_as_non_root.text == "true":
            unit.run_as_non_root = manifest.site(container.run_as_non_root.line)
        limit = container.cpu_limit
        if limit is not None:
            cpus = parse_cpu(limit.text)
            unit.cpus = Setting(
                "cpus",
                UNKNOWN if cpus is None else cpus,
                manifest.site(limit.line),
                "resources.limits.cpu",
                text=limit.text or "",
            )
        unit.replicas = self._replicas(manifest, workload)
        overrides = {
            name: (value.text, manifest.site(value.line)) for name, value in container.env.items()
        }
        if container.env_from:
            _unknown_from_files(overrides, manifest.site(container.line))

        # command: replaces the image's ENTRYPOINT (and drops its CMD); args: replaces the CMD.
        entry, cmd = _overridden_argv(model, stage, container.command, container.args)
        spec = container.command or container.args
        start = manifest.site(spec.line) if spec is not None else manifest.site(container.line)
        self._start_image(unit, model, stage, entry, cmd, overrides, start, "kubernetes")

    def _replicas(self, manifest: Any, workload: Any) -> Setting | None:
        for other in self.ctx.units_of(FileKind.KUBERNETES):
            for scaler in other.autoscalers:
                if scaler.target_kind == workload.kind and scaler.target_name == workload.name:
                    written = scaler.max_replicas
                    if written is not None and (written.text or "").isdigit():
                        return Setting(
                            "replicas",
                            int(written.text or "0"),
                            other.site(written.line),
                            f"HorizontalPodAutoscaler {scaler.name} maxReplicas",
                            text=written.text or "",
                        )
        if workload.kind == "DaemonSet":
            return None  # one per node: not in the manifest
        written = workload.replicas
        if written is None:
            return Setting("replicas", 1, manifest.site(workload.line), "the default")
        count = int(written.text) if (written.text or "").isdigit() else UNKNOWN
        return Setting(
            "replicas", count, manifest.site(written.line), "replicas", text=written.text or ""
        )

    def _image_stage(self, image: str | None) -> tuple[Any, Any, str]:
        """The Dockerfile stage a Kubernetes image is built from: a compose service that builds
        and tags the same image, or else the project's only deployed Dockerfile stage."""
        if not image or "$" in image:
            return None, None, ""
        for compose in self.ctx.units_of(FileKind.COMPOSE):
            for service in compose.services:
                if service.image is not None and _same_image(service.image.text, image):
                    found = self._built_dockerfile(compose, service)
                    if found is not None:
                        return found[0], found[1], f"{compose.path} builds {image}"
        if _public_image(image):
            return None, None, ""
        candidates = [
            (model, stage)
            for model in self.ctx.units_of(FileKind.DOCKERFILE)
            if not getattr(model, "is_development", False)
            for stage in self.deployed_stages(model)
        ]
        if len(candidates) == 1:
            model, stage = candidates[0]
            return model, stage, "the project's only Dockerfile"
        return None, None, ""

    def _procfile(self, unit: Any) -> None:
        folder = posixpath.dirname(self.relpath_of.get(unit.path, unit.path))
        for entry in procfile_entries(unit):
            site = Site(unit.path, entry.line, line_text(unit, entry.line))
            deployed = self._new_unit("procfile", f"{unit.path} '{entry.name}'", site)
            run = _Run(
                unit=deployed,
                env={},
                env_sites={},
                cwd=folder,
                locate=lambda path, cwd: self._locate_in_project(path, cwd),
                origin="procfile",
                start=site,
                production=True,
                in_container=True,
                pid1=False,  # the platform signals every process of the dyno
            )
            commands = split_script(entry.command, entry.line)
            self._shell(commands, run, _always(site), [])

    def _standalone_script(self, unit: Any) -> None:
        folder = posixpath.dirname(self.relpath_of.get(unit.path, unit.path))
        run = _Run(
            env={},
            env_sites={},
            cwd=folder,
            locate=lambda path, cwd: self._locate_in_project(path, cwd),
            origin="script",
            start=Site(unit.path, 1, line_text(unit, 1)),
            production=False,
            in_container=False,
            pid1=False,
        )
        before = len(self.servers)
        self._script(unit, run, [])
        # A script that starts a reloader is a developer tool, not a deployment.
        started = self.servers[before:]
        if any(s.dev_site is not None or _truthy(s.setting("reload")) for s in started):
            del self.servers[before:]

    # -- locating files ---------------------------------------------------------------

    def _locate_in_image(self, stage: Any, folder: str, path: str, cwd: str | None) -> Any:
        candidates = [path] if "/" in path else [posixpath.join(d, path) for d in _PATH_DIRS]
        if "/" not in path or not path.startswith("/"):
            candidates.insert(0, posixpath.join(cwd or "/", path))
        for container_path in candidates:
            for source in stage.sources_for(posixpath.normpath(container_path)):
                for relpath in (posixpath.join(folder, source) if folder else source, source):
                    unit = self.by_relpath.get(posixpath.normpath(relpath))
                    if unit is not None:
                        return unit
        return None

    def _locate_in_project(self, path: str, cwd: str | None) -> Any:
        if path.startswith("/"):
            return None
        for base in (cwd or "", ""):
            unit = self.by_relpath.get(posixpath.normpath(posixpath.join(base, path)))
            if unit is not None:
                return unit
        return None

    # -- commands ---------------------------------------------------------------------

    def _expand(
        self, arg: Arg, env: dict[str, str | None], origins: dict[str, Word] | None = None
    ) -> Word:
        if not arg.shell:
            return Word(value=None if "$" in arg.word else arg.word, raw=arg.word)
        return expand(arg.word, env, arg.substitutions, self.cpus, origins)

    def _argv(self, args: list[Arg], run: _Run) -> None:
        """Follow one process's argv to the server it runs (if any)."""
        if run.depth > _MAX_DEPTH:
            return
        while args:
            first = self._expand(args[0], run.env).value
            if first is None:
                return
            name = first.rsplit("/", 1)[-1]
            rest = args[1:]
            if name in _INITS:
                run = run.child(init=True)
                args = _drop_options(rest, run, self)
            elif name == "env":
                run = run.child(env=dict(run.env), env_sites=dict(run.env_sites))
                args = rest
                while args:
                    word = self._expand(args[0], run.env).value or ""
                    if word.startswith("-"):
                        args = args[1:]
                    elif re.match(r"^[A-Za-z_]\w*=", word):
                        key, _, value = word.partition("=")
                        run.env[key] = value
                        run.env_sites[key] = args[0].site
                        args = args[1:]
                    else:
                        break
            elif name in _SWITCH_VALUES:
                user, command = self._switch_user(name, rest, run)
                drops = user is None or (user != "" and user.lower() not in ("root", "0"))
                if drops and run.on_path and run.unit is not None and run.unit.drops_to is None:
                    run.unit.drops_to = args[0].site  # the service runs as that user, not root
                args = command
            elif name in _RUNNERS and rest and self._expand(rest[0], run.env).value == "run":
                args = _drop_options(rest[1:], run, self)
            elif name in _INSTRUMENTERS:
                args = _drop_options(rest, run, self)
            elif name == "newrelic-admin" and len(rest) > 1:
                args = rest[1:]
            elif name == "exec":
                args = rest
            else:
                break
        if not args:
            return
        first = self._expand(args[0], run.env).value or ""
        name = first.rsplit("/", 1)[-1]
        rest = args[1:]
        if name in _SHELLS:
            self._shell_process(rest, run, bash=name == "bash")
        elif _PYTHON.match(name):
            self._python_process(rest, run, args[0].site)
        elif name in SERVER_COMMANDS:
            self._server(SERVER_COMMANDS[name], args[0], rest, run)
        elif name in WORKER_COMMANDS:
            self._worker(name, args[0], rest, run)
        elif run.base is not None and name in ("start-reload.sh", "start.sh"):
            unit = run.locate(first, run.cwd)  # the project's own start.sh replaces the base's
            if unit is not None and self._kind_of(unit) is FileKind.SHELL:
                self._script(unit, run, rest)
            else:
                self._base_start(run.base, name, args[0], run)
        else:
            unit = run.locate(first, run.cwd)
            if unit is not None and self._kind_of(unit) is FileKind.SHELL:
                self._script(unit, run, rest)
            elif unit is None:
                self._written_script(first, run, rest)

    def _written_script(self, path: str, run: _Run, positional: list[Arg]) -> None:
        """A script the image's own ``RUN cat > PATH <<'EOF'`` writes, run like a project one;
        its lines are the Dockerfile's."""
        deployed = run.unit
        stage = getattr(deployed, "stage", None)
        if deployed is None or stage is None or deployed.dockerfile is None:
            return
        found = stage.written_file(posixpath.join(run.cwd or "/", path))
        if found is None:
            return
        body, first_line = found
        dockerfile = self.ctx.units_of(FileKind.DOCKERFILE)
        model = next((m for m in dockerfile if m.path == deployed.dockerfile), None)
        lines = model.text.splitlines() if model is not None else []

        def site_at(line: int) -> Site:
            text = lines[line - 1] if 0 < line <= len(lines) else ""
            return Site(deployed.dockerfile or "", line, text)

        run = run.child(via=(*run.via, site_at(first_line - 1)))
        self._shell(split_script(body, first_line), run, site_at, positional)

    def _switch_user(self, name: str, rest: list[Arg], run: _Run) -> tuple[str | None, list[Arg]]:
        """The user a privilege-switching wrapper runs its command as ("" when it names none,
        so the command keeps the caller's user; None when a variable decides), and the
        command's words (``su USER -c "..."`` becomes ``sh -c "..."``)."""
        words = [self._expand(arg, run.env).value for arg in rest]
        if name in ("gosu", "su-exec"):  # gosu USER[:GROUP] command...
            first = words[0] if words else ""
            return (None if first is None else first.split(":", 1)[0]), rest[1:]
        user: str | None = ""
        index = 0
        while index < len(rest):
            word = words[index] or ""
            option, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
            if option in _SWITCH_VALUES[name]:
                if not equals:
                    index += 1
                    value = (words[index] if index < len(rest) else "") or ""
                    unknown = index < len(rest) and words[index] is None
                else:
                    unknown = False
                if option in ("--reuid", "--userspec", "-u", "--user"):
                    user = None if unknown else value.split(":", 1)[0]
                elif option in ("-c", "--command") and not equals and index < len(rest):
                    script = rest[index]
                    flag = Arg("-c", script.site, shell=False)
                    return user, [Arg("sh", script.site, shell=False), flag, script]
            elif word == "--":
                return user, rest[index + 1 :]
            elif not word.startswith("-"):
                if name == "su" and user == "":
                    user = None if words[index] is None else word  # su [options] USER -c "..."
                elif name == "chroot":
                    return user, rest[index + 1 :]  # chroot [--userspec=U:G] NEWROOT command...
                else:
                    return user, rest[index:]
            index += 1
        return user, []

    def _kind_of(self, unit: Any) -> FileKind | None:
        source = getattr(unit, "source", None)
        if source is not None:
            return source.kind
        if isinstance(unit, PythonModule):
            return FileKind.PYTHON
        return None

    def _shell_process(self, rest: list[Arg], run: _Run, bash: bool = False) -> None:
        index = 0
        while index < len(rest):
            word = self._expand(rest[index], run.env).value or ""
            if word == "-c" or (
                word.startswith("-") and "c" in word[1:] and not word.startswith("--")
            ):
                if index + 1 >= len(rest):
                    return
                string = rest[index + 1]
                text = _restore(string.word, string.substitutions)
                commands = split_script(text, string.site.line)
                positional = rest[index + 3 :]  # after $0
                # bash 5.1+ execs the last command of a -c string itself when it is a plain
                # command at the top level (dash and older bash fork it and wait).
                ends_simple = not re.search(r"(\bfi|\bdone|\besac|[})&|])\s*$", text.strip())
                tail_exec = (
                    bash
                    and ends_simple
                    and bool(commands)
                    and not any(c.connector == "|" for c in commands[-1:])
                )
                self._shell(commands, run, _always(string.site), positional, tail_exec)
                return
            if word.startswith("-"):
                index += 1
                continue
            unit = run.locate(word, run.cwd)
            if unit is not None and self._kind_of(unit) is FileKind.SHELL:
                self._script(unit, run, rest[index + 1 :])
            elif unit is None:
                self._written_script(word, run, rest[index + 1 :])
            return

    def _script(self, unit: Any, run: _Run, positional: list[Arg]) -> None:
        if unit.path in self.visited_scripts and run.origin == "script":
            return
        self.visited_scripts.add(unit.path)
        commands = script_commands(unit)
        run = run.child(via=(*run.via, Site(unit.path, 1, line_text(unit, 1))))

        def site_at(line: int) -> Site:
            return Site(unit.path, line, line_text(unit, line))

        self._shell(commands, run, site_at, positional)

    def _shell(
        self,
        commands: list[SimpleCommand],
        run: _Run,
        site_at: Callable[[int], Site],
        positional: list[Arg],
        tail_exec: bool = False,
    ) -> None:
        """Run a shell's commands in order; the shell itself is the process ``run`` describes.
        ``tail_exec``: the shell replaces itself with its last command (``bash -c``)."""
        env = dict(run.env)
        env_sites = dict(run.env_sites)
        env_words = dict(run.env_words)
        cwd = run.cwd
        last = max((i for i, c in enumerate(commands) if c.words and not c.background), default=-1)
        for number, command in enumerate(commands):
            site = site_at(command.line)
            words = command.words
            if len(words) == 2 and words[0] == "cd":
                folder = expand(words[1], env, command.substitutions, self.cpus).value
                if folder is not None and cwd is not None:
                    cwd = posixpath.normpath(posixpath.join(cwd, folder))
                continue
            if (words and words[0] in ("export", "declare", "readonly", "local")) or not words:
                assigned = [w for w in words[1:] if re.match(r"^[A-Za-z_]\w*=", w)]
                pairs = [w.partition("=") for w in assigned] + [
                    (k, "=", v) for k, v in command.assignments.items()
                ]
                for key, _, value in pairs:
                    word = expand(value, env, command.substitutions, self.cpus, env_words)
                    if key in env_sites and env_sites[key] is not run.env_sites.get(key):
                        # Assigned twice in the script (if/else branches...): run-time choice.
                        word = Word(
                            None,
                            value,
                            False,
                            word.cpu or word.cpu_fallback,
                            word.variables,
                            word.cpu_chain,
                        )
                    env[key], env_sites[key], env_words[key] = word.value, site, word
                continue
            command_env = dict(env)
            command_sites = dict(env_sites)
            command_words = dict(env_words)
            for key, value in command.assignments.items():
                word = expand(value, env, command.substitutions, self.cpus, env_words)
                command_env[key], command_sites[key], command_words[key] = word.value, site, word
            lines = command.word_lines or [command.line] * len(words)
            args: list[Arg] = []
            for text, line in zip(words, lines):
                if positional_args([text]):  # "$@": the script's own arguments, in place
                    args.extend(positional)
                else:
                    args.append(Arg(text, site_at(line), command.substitutions))
            replaces_shell = (command.exec or (tail_exec and number == len(commands) - 1)) and (
                not command.background
            )
            child = run.child(
                env=command_env,
                env_sites=command_sites,
                env_words=command_words,
                cwd=cwd,
                pid1=run.pid1 and replaces_shell,
                on_path=run.on_path and (replaces_shell or number == last),
                lost_exec=run.lost_exec
                or (site if run.pid1 and not replaces_shell and not run.init else None),
            )
            self._argv(args, child)

    # -- python ---------------------------------------------------------------------------

    def _python_process(self, rest: list[Arg], run: _Run, site: Site) -> None:
        index = 0
        while index < len(rest):
            word = self._expand(rest[index], run.env).value or ""
            if word == "-m" and index + 1 < len(rest):
                module_name = self._expand(rest[index + 1], run.env).value or ""
                if module_name in SERVER_COMMANDS:
                    self._server(
                        SERVER_COMMANDS[module_name], rest[index + 1], rest[index + 2 :], run
                    )
                elif module_name in WORKER_COMMANDS:
                    self._worker(module_name, rest[index + 1], rest[index + 2 :], run)
                else:
                    module = self.ctx.project.find_module(module_name)
                    if module is not None:
                        self._python_module(module, run, rest[index + 1].site)
                return
            if word in ("-c",):
                return
            if word in ("-X", "-W"):
                index += 2
                continue
            if word.startswith("-"):
                index += 1
                continue
            unit = run.locate(word, run.cwd)
            if isinstance(unit, PythonModule):
                self._python_module(unit, run, rest[index].site)
            return

    def _python_module(self, module: PythonModule, run: _Run, site: Site) -> None:
        """``uvicorn.run(...)`` calls that running ``module`` as a script reaches."""
        project = self.ctx.project
        model = module.model
        seen: set[int] = set()
        pending = [call for call in model.calls if call.function is None]
        run = run.child(via=(*run.via, site))
        while pending:
            call = pending.pop(0)
            if id(call) in seen or len(seen) > 500:
                continue
            seen.add(id(call))
            owner = project.module_of(call.function) if call.function is not None else module
            if owner is None:
                continue
            path = project.resolve(owner, call.node.func, call.scope)
            if path == "uvicorn.run":
                self._uvicorn_run(owner, call, run)
                continue
            function = project.function_at(path) if path else None
            if function is not None and not function.is_async:
                pending.extend(function.calls)

    def _uvicorn_run(self, module: PythonModule, call: Any, run: _Run) -> None:
        node = call.node
        site = Site(module.path, module=module, node=node)
        server = self._new_server("uvicorn", site, module.code(node).split("\n", 1)[0], run)
        target = positional(node, 0) or keyword(node, "app")
        if target is not None:
            literal = module.model.literal(target, call.scope)
            if isinstance(literal, str):
                server.app = literal
            else:
                resolved = self.ctx.project.resolve(module, target, call.scope)
                server.app = _path_to_target(resolved) if resolved else None
        evaluator = Evaluator(module, run.env, self.cpus, self.ctx.project)
        for name, setting_name in (
            ("workers", "workers"),
            ("reload", "reload"),
            ("forwarded_allow_ips", "forwarded_allow_ips"),
            ("uds", "uds"),
        ):
            expr = keyword(node, name)
            if expr is None:
                continue
            server.settings[setting_name] = uvicorn_run_setting(
                setting_name, module, expr, call.scope, evaluator
            )
        factory = keyword(node, "factory")
        server.factory = factory is not None and module.model.literal(factory, call.scope) is True
        self._default_workers(server, run)
        self.servers.append(server)

    # -- servers ------------------------------------------------------------------------

    def _new_server(self, kind: str, site: Site, command: str, run: _Run) -> Server:
        return Server(
            kind=kind,
            site=site,
            command=command,
            origin=run.origin,
            start=run.start,
            production=run.production,
            in_container=run.in_container,
            lost_exec=None if run.init else run.lost_exec,
            init=run.init,
            via=run.via,
            unit=run.unit,
            environment=frozenset(run.env),
        )

    def _server(self, kind: str, head: Arg, rest: list[Arg], run: _Run) -> None:
        words = [self._expand(arg, run.env, run.env_words) for arg in rest]
        written = [_restore(a.word, a.substitutions) if a.shell else a.word for a in rest]
        command = " ".join([kind, *written])
        server = self._new_server(kind, head.site, command, run)
        parsed = parse_server_args(kind, [w.value if w.value is not None else "$" for w in words])
        positionals = [w for _, w in parsed.positionals]
        if kind == "fastapi":
            sub = positionals[0] if positionals else None
            if sub == "dev":
                server.dev_site = head.site
            elif sub != "run":
                return  # `fastapi --version`, other subcommands: not a server
            server.app = _fastapi_target(positionals[1:], parsed.value("app_name"))
        else:
            server.app = next((p for p in positionals if ":" in p or "." in p), None)
            if server.app == "$":
                server.app = None
        server.factory = "factory" in parsed.options or (server.app or "").endswith("()")
        for name, (index, value) in parsed.options.items():
            word = words[index]
            if name in parsed.flags:
                word = Word(
                    value="true" if value.lower() in ("true", "1", "yes") else "false", raw=word.raw
                )
            elif word.value is not None and word.value != value:  # -w4, --workers=4
                word = replace(word, value=value)
            server.settings[name] = _word_setting(
                name, word, rest[index], "command line", sites=run.env_sites
            )
        server.written.extend(server.settings.values())
        if kind == "gunicorn":
            self._gunicorn_settings(server, run)
        if kind in ("gunicorn", "uvicorn", "fastapi"):
            self._default_workers(server, run)
        self.servers.append(server)

    def _worker(self, command: str, head: Arg, rest: list[Arg], run: _Run) -> None:
        name = worker_name(command, [self._expand(arg, run.env).value for arg in rest])
        if name is None:
            return
        written = [_restore(a.word, a.substitutions) if a.shell else a.word for a in rest]
        worker = self._new_server(command, head.site, " ".join([command, *written]), run)
        worker.worker = name
        self.workers.append(worker)

    def _gunicorn_settings(self, server: Server, run: _Run) -> None:
        command_line = dict(server.settings)
        from_env: dict[str, Setting] = {}
        cmd_args = run.env.get("GUNICORN_CMD_ARGS")
        env_site = run.env_sites.get("GUNICORN_CMD_ARGS", run.start)
        if "GUNICORN_CMD_ARGS" in run.env and cmd_args is None:
            server.config_state = "unknown"
        if cmd_args:
            words = split_gunicorn_cmd_args(cmd_args)
            parsed = parse_server_args("gunicorn", words)
            for name, (_, value) in parsed.options.items():
                word = expand(value, {}, (), self.cpus)
                from_env[name] = _word_setting(
                    name, word, Arg(value, env_site), "GUNICORN_CMD_ARGS"
                )
        config_setting = command_line.get("config") or from_env.get("config")
        config = self._gunicorn_config(server, config_setting, run)
        merged: dict[str, Setting] = {}
        if config is not None:
            merged.update(config.settings)
            server.written.extend(config.settings.values())
        merged.update(from_env)
        merged.update(command_line)
        server.written.extend(from_env.values())
        server.settings = merged

    def _gunicorn_config(
        self, server: Server, given: Setting | None, run: _Run
    ) -> GunicornConfig | None:
        if given is not None:
            if not isinstance(given.value, str):
                server.config_state = "unknown"
                return None
            path = given.value
            if path.startswith("python:"):
                unit = self.ctx.project.find_module(path[len("python:") :])
            else:
                unit = run.locate(path, run.cwd)
            if unit is None:
                server.config_state = "unknown"
                return None
        else:
            chdir = server.settings.get("chdir")
            cwd = chdir.value if chdir is not None and isinstance(chdir.value, str) else run.cwd
            unit = run.locate("gunicorn.conf.py", cwd)
            if unit is None:
                # In an image, a build context other than the Dockerfile's folder can hide
                # the config from us; a project command runs where we looked.
                has_default = run.origin == "dockerfile" and any(
                    module.path.rsplit("/", 1)[-1] == "gunicorn.conf.py"
                    for module in self.ctx.units_of(FileKind.GUNICORN)
                )
                if has_default and server.config_state != "unknown":
                    server.config_state = "unknown"
                return None
        if not isinstance(unit, PythonModule):
            server.config_state = "unknown"
            return None
        config = self._read_config(unit, run)
        server.config = config
        if server.config_state != "unknown":
            server.config_state = "loaded"
        self.loaded.append(unit.path)
        return config

    def _read_config(self, module: PythonModule, run: _Run) -> GunicornConfig:
        config = self._configs.get(module.path)
        if config is None:
            config = read_config(module, run.env, self.cpus, self.ctx.project)
            self._configs[module.path] = config
        return config

    def _default_workers(self, server: Server, run: _Run) -> None:
        """Gunicorn, uvicorn and ``fastapi run`` read ``WEB_CONCURRENCY`` when no count is given
        (and ``FORWARDED_ALLOW_IPS`` when no proxy list is)."""
        name = "FORWARDED_ALLOW_IPS"
        if "forwarded_allow_ips" not in server.settings and name in run.env:
            value = run.env[name]
            site = run.env_sites.get(name, run.start)
            server.settings["forwarded_allow_ips"] = Setting(
                "forwarded_allow_ips",
                UNKNOWN if value is None else value,
                site,
                name,
                text=value or "",
                variables=(name,),
            )
        if "workers" in server.settings or "WEB_CONCURRENCY" not in run.env:
            return
        value = run.env["WEB_CONCURRENCY"]
        site = run.env_sites.get("WEB_CONCURRENCY", run.start)
        word = run.env_words.get("WEB_CONCURRENCY") or Word(value=value, raw=value or "")
        server.settings["workers"] = _word_setting(
            "workers",
            word,
            Arg(word.raw, site),
            "WEB_CONCURRENCY",
            variable="WEB_CONCURRENCY",
            sites=run.env_sites,
        )

    def _base_start(self, base: KnownBase, name: str, head: Arg, run: _Run) -> None:
        """The start scripts of a well-known base image (tiangolo's): ``start-reload.sh`` is
        the development server; ``start.sh`` runs Gunicorn with the project's config if it
        provides one where the script looks, else with the base's own."""
        if name == "start-reload.sh":
            server = self._new_server("uvicorn", head.site, "/start-reload.sh", run)
            server.dev_site = head.site
            self.servers.append(server)
            return
        if "/" + name != base.start:
            return
        server = self._new_server(base.server, head.site, f"{base.start} ({run.base_image})", run)
        server.base_image = run.base_image
        config: Setting | None = None
        if base.config_variable in run.env:
            value = run.env[base.config_variable]
            site = run.env_sites.get(base.config_variable, head.site)
            config = Setting("config", UNKNOWN if value is None else value, site, "environment")
        else:
            for path in base.project_configs:
                if isinstance(run.locate(path, run.cwd), PythonModule):
                    config = Setting("config", path, head.site, base.start)
                    break
        if config is not None:
            found = self._gunicorn_config(server, config, run)
            if found is not None:
                server.settings.update(found.settings)
                server.written.extend(found.settings.values())
        else:
            # The base's own config: not in the project, so nothing else of it is judged.
            server.config_state = "unknown"
            workers = self._base_workers(base, head.site, run)
            if workers is not None:
                server.settings["workers"] = workers
        self._default_workers(server, run)
        self.servers.append(server)

    def _base_workers(self, base: KnownBase, site: Site, run: _Run) -> Setting | None:
        """The worker count of the base image's own config: the CPU count (times the
        per-core variable) unless the workers variable is set (then WEB_CONCURRENCY decides,
        as for any Gunicorn); a cap set by the project is its own sizing, not judged."""
        if base.workers_variable in run.env:
            return None
        source = "the base image"
        text = f"workers = {base.workers} in {run.base_image}'s {base.config}"
        if base.cap_variable in run.env:
            variables = (base.workers_variable, base.cap_variable)
            return Setting("workers", UNKNOWN, site, source, text=text, variables=variables)
        per_core = _float(run.env.get(base.per_core_variable, "1"))
        return Setting(
            "workers",
            UNKNOWN if per_core is None else max(int(per_core * self.cpus), 2),
            site,
            source,
            text=text,
            cpu_fallback=True,
            variables=(base.workers_variable,),
        )


# ---------------------------------------------------------------------------- helpers

_BASE_COMPOSE = re.compile(r"^(docker-)?compose\.ya?ml$")
# Variables the deployment rules read: an env_file / envFrom may set them to anything.
_WATCHED_VARIABLES = ("WEB_CONCURRENCY", "GUNICORN_CMD_ARGS", "FORWARDED_ALLOW_IPS")
ANY_VARIABLE = "*"  # in an environment: an env_file / envFrom may set any variable
# Images whose ENTRYPOINT is the Python interpreter: CMD ["-m", "gunicorn", ...] runs python.
_PYTHON_ENTRYPOINT_IMAGES = ("gcr.io/distroless/python3",)
# Docker Hub official images of servers and tools: never the project's own service image.
_PUBLIC_IMAGES = frozenset(
    {
        "postgres",
        "mysql",
        "mariadb",
        "redis",
        "memcached",
        "nginx",
        "traefik",
        "haproxy",
        "rabbitmq",
        "mongo",
        "busybox",
        "alpine",
        "python",
        "elasticsearch",
        "minio/minio",
        "envoyproxy/envoy",
    }
)


def _symlinked_dockerfiles(ctx: LintContext) -> dict[str, str]:
    """Display path of each Dockerfile that is a symbolic link to another Dockerfile of the
    project → that file's display path."""
    by_path = {
        str(source.path): source.display
        for source in ctx.files
        if source.kind is FileKind.DOCKERFILE
    }
    aliases: dict[str, str] = {}
    for source in ctx.files:
        if source.kind is FileKind.DOCKERFILE and os.path.islink(source.path):
            target = by_path.get(os.path.realpath(source.path))
            if target is not None and target != source.display:
                aliases[source.display] = target
    return aliases


def _overridden_argv(
    model: Any, stage: Any, entrypoint: Any, command: Any
) -> tuple[list[Arg] | None, list[Arg] | None]:
    """(ENTRYPOINT, CMD) argv of a container whose compose file or manifest may override
    either (``entrypoint``/``command`` words, or None); an overridden entrypoint drops the
    image's CMD, in compose and Kubernetes alike."""

    def words(spec: Any) -> list[Arg]:
        return [
            Arg(word, spec.site_of(line), shell=False) for word, line in zip(spec.words, spec.lines)
        ]

    cmd = words(command) if command is not None else None
    if entrypoint is not None:
        return words(entrypoint), cmd
    image_entry = _start_args(model.path, stage.entrypoint) if stage and stage.entrypoint else None
    if cmd is None and stage is not None and stage.cmd is not None:
        cmd = _start_args(model.path, stage.cmd)
    return image_entry, cmd


def _stage_user(path: str, stage: Any) -> tuple[str | None, Site | None]:
    """The user a stage's containers run as, and its USER line (None: the base's default)."""
    instruction = stage.user_instruction
    if instruction is not None:
        user = stage.user or ""
        if "$" in user:
            return None, None
        return user.split(":", 1)[0].strip(), Site(path, instruction.line, instruction.content)
    return _image_default_user(stage.root_base), None


def _image_default_user(image: str | None) -> str | None:
    """What an external image runs as when nothing sets a user: "65532" for the images known to
    run as non-root, "root" for Docker Hub's python image, else unknown (None)."""
    if not image or "$" in image:
        return None
    if runs_as_nonroot(image):
        return "65532"
    return "root" if parse_image(image).repository == "python" else None


def _user_setting(text: str | None, site: Site, source: str) -> Setting:
    value: Any = UNKNOWN if text is None or "$" in text else text.split(":", 1)[0].strip()
    return Setting("user", value, site, source, text=text or "")


def _number_setting(name: str, value: Any, kind: type) -> Setting | None:
    if value is None:
        return None
    number: Any = UNKNOWN
    if value.text is not None:
        try:
            number = kind(value.text)
        except ValueError:
            number = UNKNOWN
    return Setting(name, number, value.site, name, text=value.text or "")


def _float(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def _unknown_from_files(overrides: dict[str, tuple[str | None, Site]], site: Site) -> None:
    """An env_file / envFrom may set the variables fastlint reads: unknown unless written."""
    for name in (*_WATCHED_VARIABLES, ANY_VARIABLE):
        overrides.setdefault(name, (None, site))


def _python_entrypoint(image: str) -> bool:
    return parse_image(image).repository.startswith(_PYTHON_ENTRYPOINT_IMAGES)


def _same_image(written: str | None, image: str) -> bool:
    if not written or "$" in written:
        return False
    return parse_image(written).repository == parse_image(image).repository


def _public_image(image: str) -> bool:
    return parse_image(image).repository in _PUBLIC_IMAGES


def _start_args(path: str, command: Any) -> list[Arg]:
    instruction = command.instruction
    site = Site(path, instruction.line, instruction.content)
    if command.form == "shell":
        return [
            Arg("/bin/sh", site, shell=False),
            Arg("-c", site, shell=False),
            Arg(command.raw, site, shell=False),
        ]
    return [Arg(word, site, shell=False) for word in command.argv]


def _env_sites(path: str, stage: Any) -> dict[str, Site]:
    sites: dict[str, Site] = {}
    for ancestor in reversed(stage.ancestry):
        for instruction in ancestor.instructions:
            if instruction.keyword != "ENV":
                continue
            for name in re.findall(r"(?:^|\s)([A-Za-z_]\w*)(?==|\s)", " " + instruction.value):
                sites[name] = Site(path, instruction.line, instruction.content)
    return sites


def _drop_options(args: list[Arg], run: _Run, builder: _Builder) -> list[Arg]:
    """Drop leading ``-x`` options and a ``--`` separator (wrappers' own flags)."""
    index = 0
    while index < len(args):
        word = builder._expand(args[index], run.env).value or ""
        if word == "--":
            return args[index + 1 :]
        if not word.startswith("-"):
            break
        index += 1
    return args[index:]


def _word_setting(
    name: str,
    word: Word,
    arg: Arg,
    source: str,
    variable: str = "",
    sites: dict[str, Site] | None = None,
) -> Setting:
    """A setting from an expanded word; a CPU count that came through variables points at the
    line that assigned the first of them (``sites``: where each variable was assigned)."""
    value: Any = UNKNOWN if word.value is None else word.value
    if name == "workers" and isinstance(value, str):
        value = int(value) if value.strip().isdigit() else UNKNOWN
    variables = tuple(word.variables) + ((variable,) if variable else ())
    chain = word.cpu_chain
    start = sites.get(chain[0]) if sites is not None and chain else None
    return Setting(
        name=name,
        value=value,
        site=arg.site,
        source=source,
        text=_restore(arg.word, arg.substitutions) if arg.shell else arg.word,
        cpu=word.cpu,
        cpu_fallback=word.cpu_fallback,
        variables=variables,
        cpu_site=start,
        cpu_chain=chain if start is not None else (),
    )


def _restore(word: str, substitutions: tuple[str, ...]) -> str:
    """A word with its command-substitution placeholders written back as ``$(...)``."""

    def back(match: re.Match[str]) -> str:
        index = int(match.group(1))
        return f"$({substitutions[index]})" if index < len(substitutions) else ""

    return re.sub(r"\x01(\d+)\x02", back, word)


def _truthy(setting: Setting | None) -> bool:
    return setting is not None and setting.value in (True, "true")


def _fastapi_target(positionals: list[str], app_name: str | None) -> str | None:
    """``fastapi run app/main.py --app api`` → ``app.main:api`` (the CLI's default is ``app``)."""
    if not positionals:
        return None
    path = positionals[0]
    if not path.endswith(".py"):
        return None
    module = path[: -len(".py")].strip("./").replace("/", ".")
    return f"{module}:{app_name}" if app_name else f"{module}:app"


def _path_to_target(path: str) -> str | None:
    """``app.main.app`` → ``app.main:app`` (an object passed to ``uvicorn.run``)."""
    if "." not in path or path.endswith("()"):
        return None
    module, _, attr = path.rpartition(".")
    return f"{module}:{attr}"


__all__ = ["Deployment", "Server", "build_deployment"]


def uvicorn_run_setting(
    name: str, module: PythonModule, expr: Any, scope: Any, evaluator: Evaluator
) -> Setting:
    """A setting passed as a ``uvicorn.run(name=...)`` keyword, evaluated statically."""
    value = evaluator.evaluate(expr, scope)
    return Setting(
        name,
        value.value,
        Site(module.path, module=module, node=expr),
        "uvicorn.run",
        text=module.code(expr),
        cpu=value.cpu,
        cpu_fallback=value.cpu_fallback,
        variables=value.variables,
        cpu_site=value.cpu_site,
        cpu_chain=value.cpu_chain,
    )


def _always(site: Site) -> Callable[[int], Site]:
    """A site for every line: a command given as one string (a Procfile entry, ``sh -c``)."""

    def at(line: int) -> Site:
        return site

    return at
