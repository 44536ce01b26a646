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

import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from fastlint.deploy.commands import SimpleCommand, Word, expand, positional_args, split_script
from fastlint.deploy.facts import Setting, Site
from fastlint.deploy.gunicorn import Evaluator, GunicornConfig, read_config
from fastlint.deploy.procfile import procfile_entries
from fastlint.deploy.servers import SERVER_COMMANDS, parse_server_args, split_gunicorn_cmd_args
from fastlint.deploy.shell import line_text, script_commands
from fastlint.discovery import FileKind
from fastlint.python.model import UNKNOWN, keyword, positional
from fastlint.python.module import PythonModule
from fastlint.rules.catalog import DEFAULT_ASSUMED_CPUS, DEFAULT_MAX_DB_CONNECTIONS

if TYPE_CHECKING:
    from fastlint.context import LintContext


_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
_INITS = frozenset({"tini", "tini-static", "dumb-init", "catatonit", "s6-overlay", "init"})
_RUNNERS = frozenset({"poetry", "pipenv", "pdm", "hatch", "rye", "uv"})
_INSTRUMENTERS = frozenset({"opentelemetry-instrument", "ddtrace-run", "sentry-run"})
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_PATH_DIRS = ("/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin")
_TIANGOLO = re.compile(
    r"tiangolo/(uvicorn-gunicorn|uvicorn-gunicorn-fastapi|uvicorn-gunicorn-starlette)"
)
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

    @property
    def workers(self) -> Setting | None:
        return self.settings.get("workers")

    def setting(self, name: str) -> Setting | None:
        return self.settings.get(name)


@dataclass
class Deployment:
    servers: list[Server]
    configs: list[GunicornConfig]  # every Gunicorn config read (standalone ones included)
    loaded_configs: set[str]  # paths of configs some server loads
    cpus: int
    max_db_connections: int
    engines: list[Any] = field(default_factory=list)  # fastlint.python.sqla.EngineFact

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
        return result


def _via(server: Server) -> list[str]:
    """The files the start command passes through before the server, in order."""
    labels = [server.start.label(), *(site.label() for site in server.via)]
    own = server.site.label()
    return [
        label for index, label in enumerate(labels) if label != own and label not in labels[:index]
    ]


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
    kinds = (FileKind.DOCKERFILE, FileKind.PROCFILE, FileKind.SHELL, FileKind.GUNICORN)
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
    )
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
    lost_exec: Site | None = None
    init: bool = False
    via: tuple[Site, ...] = ()
    depth: int = 0
    tiangolo: bool = False
    env_words: dict[str, Word] = field(default_factory=dict)  # set by scripts, with CPU flags

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
        self.loaded: list[str] = []
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

    # -- entry points -----------------------------------------------------------

    def run(self) -> None:
        for dockerfile in self.ctx.units_of(FileKind.DOCKERFILE):
            self._dockerfile(dockerfile)
        for procfile in self.ctx.units_of(FileKind.PROCFILE):
            self._procfile(procfile)
        for script in self.ctx.units_of(FileKind.SHELL):
            if script.path not in self.visited_scripts:
                self._standalone_script(script)

    def all_configs(self) -> list[GunicornConfig]:
        for module in self.ctx.units_of(FileKind.GUNICORN):
            if module.path not in self._configs:
                self._configs[module.path] = read_config(module, {}, self.cpus)
        return [self._configs[path] for path in sorted(self._configs)]

    def _dockerfile(self, model: Any) -> None:
        stage = getattr(model, "final_stage", None)
        if stage is None:
            return
        folder = posixpath.dirname(self.relpath_of.get(model.path, model.path))

        def locate(path: str, cwd: str | None) -> Any:
            return self._locate_in_image(stage, folder, path, cwd)

        entrypoint, cmd = stage.entrypoint, stage.cmd
        start_instruction = (cmd or entrypoint).instruction if (cmd or entrypoint) else None
        start = (
            Site(model.path, start_instruction.line, start_instruction.content)
            if (start_instruction)
            else Site(model.path, 1)
        )
        run = _Run(
            # A value still naming a variable (ENV W=${WORKERS}, no default) is unknown.
            env={name: None if "$" in value else value for name, value in stage.env.items()},
            env_sites=_env_sites(model.path, stage),
            cwd=stage.workdir or "/",
            locate=locate,
            origin="dockerfile",
            start=start,
            production=not getattr(model, "is_development", False),
            in_container=True,
            tiangolo=bool(_TIANGOLO.search(stage.root_base or "")),
        )
        args: list[Arg] = []
        if entrypoint is not None:
            args.extend(_start_args(model.path, entrypoint))
            if entrypoint.form == "exec" and cmd is not None:
                args.extend(_start_args(model.path, cmd))
        elif cmd is not None:
            args.extend(_start_args(model.path, cmd))
        if args:
            self._argv(args, run)

    def _procfile(self, unit: Any) -> None:
        folder = posixpath.dirname(self.relpath_of.get(unit.path, unit.path))
        for entry in procfile_entries(unit):
            site = Site(unit.path, entry.line, line_text(unit, entry.line))
            run = _Run(
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
            self._shell(commands, run, lambda line, s=site: s, [])

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
            elif name in ("gosu", "su-exec", "setpriv", "chroot"):
                args = rest[1:] if name != "setpriv" else _drop_options(rest, run, self)
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
            self._shell_process(rest, run)
        elif _PYTHON.match(name):
            self._python_process(rest, run, args[0].site)
        elif name in SERVER_COMMANDS:
            self._server(SERVER_COMMANDS[name], args[0], rest, run)
        elif run.tiangolo and name in ("start-reload.sh", "start.sh"):
            self._tiangolo(name, args[0], run)
        else:
            unit = run.locate(first, run.cwd)
            if unit is not None and self._kind_of(unit) is FileKind.SHELL:
                self._script(unit, run, rest)

    def _kind_of(self, unit: Any) -> FileKind | None:
        source = getattr(unit, "source", None)
        if source is not None:
            return source.kind
        if isinstance(unit, PythonModule):
            return FileKind.PYTHON
        return None

    def _shell_process(self, rest: list[Arg], run: _Run) -> None:
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
                self._shell(commands, run, lambda line, s=string.site: s, positional)
                return
            if word.startswith("-"):
                index += 1
                continue
            unit = run.locate(word, run.cwd)
            if unit is not None and self._kind_of(unit) is FileKind.SHELL:
                self._script(unit, run, rest[index + 1 :])
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
    ) -> None:
        """Run a shell's commands in order; the shell itself is the process ``run`` describes."""
        env = dict(run.env)
        env_sites = dict(run.env_sites)
        env_words = dict(run.env_words)
        for command in commands:
            site = site_at(command.line)
            words = command.words
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
                            None, value, False, word.cpu or word.cpu_fallback, word.variables
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
            for word, line in zip(words, lines):
                if positional_args([word]):  # "$@": the script's own arguments, in place
                    args.extend(positional)
                else:
                    args.append(Arg(word, site_at(line), command.substitutions))
            replaces_shell = command.exec and not command.background
            child = run.child(
                env=command_env,
                env_sites=command_sites,
                env_words=command_words,
                pid1=run.pid1 and replaces_shell,
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
        evaluator = Evaluator(module, run.env, self.cpus)
        for name, setting_name in (("workers", "workers"), ("reload", "reload")):
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
                word = Word(value, word.raw, word.cpu, word.cpu_fallback, word.variables)
            server.settings[name] = _word_setting(name, word, rest[index], "command line")
        server.written.extend(server.settings.values())
        if kind == "gunicorn":
            self._gunicorn_settings(server, run)
        if kind in ("gunicorn", "uvicorn", "fastapi"):
            self._default_workers(server, run)
        self.servers.append(server)

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
            config = read_config(module, run.env, self.cpus)
            self._configs[module.path] = config
        return config

    def _default_workers(self, server: Server, run: _Run) -> None:
        """Gunicorn, uvicorn and ``fastapi run`` read ``WEB_CONCURRENCY`` when no count is given."""
        if "workers" in server.settings or "WEB_CONCURRENCY" not in run.env:
            return
        value = run.env["WEB_CONCURRENCY"]
        site = run.env_sites.get("WEB_CONCURRENCY", run.start)
        word = run.env_words.get("WEB_CONCURRENCY") or Word(value=value, raw=value or "")
        server.settings["workers"] = _word_setting(
            "workers", word, Arg(word.raw, site), "WEB_CONCURRENCY", variable="WEB_CONCURRENCY"
        )

    def _tiangolo(self, name: str, head: Arg, run: _Run) -> None:
        if name != "start-reload.sh":
            return  # the image's own gunicorn setup: nothing written in the project to judge
        server = self._new_server("uvicorn", head.site, "/start-reload.sh", run)
        server.dev_site = head.site
        self.servers.append(server)


# ---------------------------------------------------------------------------- helpers


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


def _word_setting(name: str, word: Word, arg: Arg, source: str, variable: str = "") -> Setting:
    value: Any = UNKNOWN if word.value is None else word.value
    if name == "workers" and isinstance(value, str):
        value = int(value) if value.strip().isdigit() else UNKNOWN
    variables = tuple(word.variables) + ((variable,) if variable else ())
    return Setting(
        name=name,
        value=value,
        site=arg.site,
        source=source,
        text=_restore(arg.word, arg.substitutions) if arg.shell else arg.word,
        cpu=word.cpu,
        cpu_fallback=word.cpu_fallback,
        variables=variables,
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
    )
