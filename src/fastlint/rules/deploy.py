"""Process-model rules: how the container starts the server, and how many processes it runs.

Every rule here reads the deployment model (:mod:`fastlint.deploy.model`), built once per lint,
and reports in the file and line where the cause is written: a Dockerfile ``CMD``, a line of an
entrypoint script or Procfile, a setting in ``gunicorn.conf.py``, a ``uvicorn.run(...)`` keyword.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastlint.deploy.asgi import (
    DEPRECATED_WORKERS,
    serves_asgi,
    uvicorn_runs_with,
    uvicorn_runs_with_workers,
    worker_class_kind,
)
from fastlint.deploy.facts import Setting, Site
from fastlint.deploy.gunicorn import Evaluator
from fastlint.deploy.logs import logging_setup
from fastlint.deploy.model import (
    ANY_VARIABLE,
    DEFAULT_ASSUMED_CPUS,
    Deployment,
    Server,
    uvicorn_run_setting,
)
from fastlint.diagnostics import Severity
from fastlint.discovery import FileKind
from fastlint.python.defaults import unset_default
from fastlint.python.model import UNKNOWN, keyword
from fastlint.registry import register
from fastlint.rules import catalog
from fastlint.rules.base import ProjectRule

if TYPE_CHECKING:
    from fastlint.context import LintContext

# Where a log file is really the container's stdout / stderr.
_STREAMS = frozenset({"-", "/dev/stdout", "/dev/stderr", "/proc/1/fd/1", "/proc/1/fd/2"})
TIMES = "\u00d7"  # the multiplication sign of the FL303 arithmetic
_LOG_CUSTOMISATION = ("logconfig", "logconfig_dict", "logconfig_json", "logger_class")


def _report(
    rule: ProjectRule,
    site: Site,
    message: str,
    *,
    severity: Severity | None = None,
    fix: str | None = None,
) -> None:
    if site.module is not None and site.node is not None:
        rule.report(site.module, site.node, message, severity=severity, fix=fix)
    else:
        rule.report(site.path, site.location, message, severity=severity, fix=fix)


def _deployment(ctx: LintContext) -> Deployment | None:
    deployment = ctx.deployment
    return deployment if isinstance(deployment, Deployment) else None


# ---------------------------------------------------------------------------- FL502


@register
class DevServerInContainer(ProjectRule):
    meta = catalog.FL502

    def check(self, ctx: LintContext) -> None:
        deployment = _deployment(ctx)
        servers = deployment.servers if deployment is not None else []
        # uvicorn.run(reload=<setting>) calls: their defaults are judged once, below.
        runs = {id(keyword(call.node, "reload")): (m, call) for m, call in _reload_runs(ctx)}
        reached: set[int] = set()
        judged: set[int] = set()  # one finding per call, however many start commands reach it
        for server in servers:
            reload = server.setting("reload")
            run = runs.get(id(reload.site.node)) if reload is not None else None
            if reload is not None:
                reached.add(id(reload.site.node))
            severity = None
            reason = ""
            if not server.production:
                unit = server.unit
                if unit is None or unit.kind != "compose" or unit.development is None:
                    continue
                # A compose file for local development: say so, at most info.
                severity = Severity.INFO
                reason = f" Reported as info: {unit.development}, a development setup."
            if server.dev_site is not None:
                what = "/start-reload.sh" if server.command == "/start-reload.sh" else "fastapi dev"
                _report(
                    self,
                    server.dev_site,
                    f"'{what}' starts the development server (one process, auto-reload, file "
                    "watching) as the production start command; it wastes CPU watching files and "
                    "restarts the app when files change. Start the server with 'fastapi run' (or "
                    "gunicorn/uvicorn without --reload)." + reason,
                    severity=severity,
                    fix="use the production start command",
                )
            if reload is not None and reload.value in (True, "true"):
                _report(
                    self,
                    reload.site,
                    f"{server.kind} runs with reload on in the production start command: a file "
                    "watcher burns "
                    "CPU and restarts workers (dropping in-flight requests) when files change; "
                    "remove reload from the production start command." + reason,
                    severity=severity,
                    fix="remove --reload / reload=True",
                )
            elif run is not None and reload is not None and not isinstance(reload.value, bool):
                self._default_on(ctx, run, judged, severity or Severity.WARNING, reason, server)
        # Launchers no start command fastlint follows reaches (a CLI that execs `python
        # app.py`): reload read from settings means the launcher runs in more than one
        # environment, so a default of on reaches production the day the variable is unset.
        for key, (module, call) in runs.items():
            if key not in reached:
                self._default_on(ctx, (module, call), judged, Severity.WARNING, "")

    def _default_on(
        self,
        ctx: LintContext,
        run: tuple[Any, Any],
        judged: set[int],
        severity: Severity,
        reason: str,
        server: Server | None = None,
    ) -> None:
        """``uvicorn.run(reload=<env or setting>)`` whose default, when unset, is True (and
        the environment of the ``server`` that runs it does not set it)."""
        module, call = run
        expr = keyword(call.node, "reload")
        if expr is None or ctx.project.literal(module, expr, call.scope) is not UNKNOWN:
            return  # a literal: reload=True where it runs is reported above
        default = unset_default(ctx.project, module, expr, call.scope)
        if default is None or default.value is not True:
            return
        environment = server.environment if server is not None else frozenset()
        if default.variable in environment or ANY_VARIABLE in environment:
            return  # the deployment sets it (to what, the Evaluator judged above)
        if id(expr) in judged:
            return
        judged.add(id(expr))
        _report(
            self,
            Site(module.path, module=module, node=expr),
            f"When {default.variable} is unset, uvicorn.run(reload=...) is on, so the server "
            "runs the reloader: a file watcher that burns CPU and restarts the app (dropping "
            "in-flight requests) when files change, with one process whatever workers says. "
            "Make the default False and turn reload on explicitly for local runs." + reason,
            severity=severity,
            fix="default the setting to False",
        )


def _reload_runs(ctx: LintContext) -> list[tuple[Any, Any]]:
    """``uvicorn.run(reload=...)`` calls anywhere in the project."""
    return uvicorn_runs_with(ctx.project, "reload")


# ---------------------------------------------------------------------------- FL504


@register
class SignalsNotForwarded(ProjectRule):
    meta = catalog.FL504

    def check(self, ctx: LintContext) -> None:
        deployment = _deployment(ctx)
        if deployment is None:
            return
        reported: set[tuple[str, int]] = set()  # a compose service running the image's CMD
        for server in [*deployment.servers, *getattr(deployment, "workers", [])]:
            if server.origin not in _CONTAINER_ORIGINS or not server.production:
                continue
            site = server.lost_exec
            if site is None or server.init or (site.path, site.line) in reported:
                continue
            reported.add((site.path, site.line))
            what, lost = _shutdown_of(server)
            start = server.start
            # A script the Dockerfile writes with a RUN heredoc has its lines in the Dockerfile.
            in_script = site.path != start.path or any(
                via.path == site.path and via.line != start.line for via in server.via
            )
            if not in_script and server.origin != "dockerfile":
                written = "command" if server.origin == "compose" else "manifest's command"
                message = (
                    f"The container runs {what} through a shell (sh -c without exec in "
                    f"the {written}), so the shell is PID 1 and SIGTERM never reaches "
                    f"{lost}. Write 'exec {server.kind} ...' inside the sh -c string, or list "
                    "its words without a shell."
                )
                fix = f"exec {server.kind} ..."
            elif not in_script:
                message = (
                    f"The container runs {what} through /bin/sh -c (a shell-form CMD/"
                    "ENTRYPOINT or sh -c without exec), so the shell is PID 1 and SIGTERM never "
                    f"reaches {lost}. "
                    'Use the exec form: CMD ["' + server.kind + '", ...].'
                )
                fix = "use the exec form (JSON array) for CMD/ENTRYPOINT"
            else:
                command = 'exec "$@"' if "$@" in site.text else f"exec {server.kind} ..."
                message = (
                    f"This script starts {what} without exec, so the shell stays PID 1 and "
                    f"SIGTERM never reaches {lost}. Write '{command}' as the script's last "
                    "command."
                )
                fix = command
            _report(self, site, message, fix=fix)


def _shutdown_of(server: Server) -> tuple[str, str]:
    """What runs (``uvicorn``, ``the Celery worker``), and what it loses without SIGTERM."""
    if server.worker is not None:
        return f"the {server.worker}", (
            "the worker: no warm shutdown, so the tasks it is running are killed when the "
            "grace period ends (and lost unless acknowledged late)"
        )
    return server.kind, (
        "the server: no graceful shutdown, in-flight requests are dropped, lifespan shutdown "
        "never runs, and the container is killed after the grace period"
    )


_CONTAINER_ORIGINS = ("dockerfile", "compose", "kubernetes")


# ---------------------------------------------------------------------------- FL601


@register
class CpuCountWorkers(ProjectRule):
    meta = catalog.FL601

    def check(self, ctx: LintContext) -> None:
        deployment = _deployment(ctx)
        reached: set[int] = set()
        reported: set[tuple[str, int, int]] = set()  # one finding per CPU count call
        if deployment is not None:
            # One finding per written count, however many units run it; it names a CPU limit
            # one of them has.
            notes: dict[int, tuple[Setting, str]] = {}
            for server in deployment.servers:
                if _image_deployed_elsewhere(server, deployment):
                    continue  # judged for the compose services / containers that run it
                if server.workers is not None:
                    setting = server.workers
                    previous = notes.get(id(setting), (setting, ""))[1]
                    notes[id(setting)] = (setting, previous or _limit_note(server))
                    if setting.site.node is not None:
                        reached.add(id(setting.site.node))
            for setting, note in notes.values():
                self._judge(setting, reported, note)
            for config in _standalone_configs(deployment):
                self._judge(config.get("workers"), reported)
        for setting in _uvicorn_run_workers(ctx, reached):
            self._judge(setting, reported)

    def _judge(
        self, setting: Setting | None, reported: set[tuple[str, int, int]], limit: str = ""
    ) -> None:
        if setting is None or not (setting.cpu or setting.cpu_fallback):
            return
        # Reported where the fix goes: the CPU count call, wherever the count is set from it.
        site = setting.cpu_site or setting.site
        where = site.location
        key = (site.path, where.line, where.column)
        if key in reported:
            return  # two settings (or units) reach the same call: one finding per chain
        reported.add(key)
        written = _cpu_chain(setting)
        # The fix rewrites the expression that holds the call, so only where it is the count.
        in_place = site is setting.site or not setting.cpu_chain
        if setting.cpu:
            _report(
                self,
                site,
                f"The worker count comes from the CPU count ({written}), which in a container "
                f"sees the host's CPUs, not the container's CPU limit{limit}, so it starts far "
                "more workers than the container can run (memory, DB connections); set "
                "WEB_CONCURRENCY from the container's CPU limit instead.",
                fix="read the worker count from WEB_CONCURRENCY" if in_place else None,
            )
        elif setting.variables:
            names = setting.variables
            variable = "WEB_CONCURRENCY" if "WEB_CONCURRENCY" in names else names[0]
            fix = (
                f"set {variable} in the deployment (or `ENV {variable}=2` in the Dockerfile)"
                if site.module is None and site.text.upper().startswith("FROM")
                else f"set {variable} in the deployment or use a small fixed fallback"
            )
            _report(
                self,
                site,
                f"When {variable} is unset the worker count falls back to the CPU count "
                f"({written}), which in a container sees the host's CPUs, not the container's "
                f"CPU limit; {fix}.",
                severity=Severity.WARNING,
                fix="use a fixed fallback",
            )
        else:
            _report(
                self,
                site,
                f"Depending on a run-time condition the worker count comes from the CPU count "
                f"({written}), which in a container sees the host's CPUs, not the container's "
                "CPU limit; read the count from WEB_CONCURRENCY with a small fixed fallback.",
                severity=Severity.WARNING,
                fix="read the worker count from WEB_CONCURRENCY" if in_place else None,
            )


def _cpu_chain(setting: Setting) -> str:
    """How the CPU count reaches the setting: the count as written when the call is in it
    (``multiprocessing.cpu_count() * 2 + 1``), else the chain of names from the call
    (``multiprocessing.cpu_count() → cores → default_web_concurrency → workers``)."""
    site = setting.cpu_site
    if site is None:
        return setting.text or "the CPU count"
    if site.module is None or site.node is None:  # a script line that assigns $(nproc)
        line = site.text.strip().splitlines()[0] if site.text.strip() else ""
        assigned = re.sub(r"\s+#.*$", "", line)  # without a trailing comment
        steps = [assigned or setting.cpu_chain[0], *setting.cpu_chain[1:], setting.name]
        return " \u2192 ".join(steps) + f" at {setting.site.label()}"
    if not setting.cpu_chain and site.path == setting.site.path:
        return setting.text or site.module.code(site.node)
    last = "uvicorn.run(workers=...)" if setting.source == "uvicorn.run" else setting.name
    if site.path != setting.site.path:
        last += f" at {setting.site.label()}"
    names = [n for n in setting.cpu_chain if n != setting.name]  # `workers *= 2` reads itself
    return " \u2192 ".join([site.module.code(site.node), *names, last])


def _image_deployed_elsewhere(server: Server, deployment: Deployment) -> bool:
    """A base image's own start command in a Dockerfile that compose services or Kubernetes
    containers run: their environment (WEB_CONCURRENCY) decides, so they are judged instead."""
    unit = server.unit
    return (
        server.base_image is not None
        and unit is not None
        and unit.kind == "dockerfile"
        and bool(deployment.units_running(unit.stage))
    )


def _limit_note(server: Server) -> str:
    """`` (1.5 CPUs, compose.yaml:12)``: the unit's CPU limit, which cpu_count() never sees."""
    unit = server.unit
    if unit is None or unit.cpu_count is None or unit.cpus is None:
        return ""
    return f" ({_cpus_text(unit.cpu_count)} at {unit.cpus.site.label()})"


def _cpus_text(cpus: float) -> str:
    return f"{cpus:g} CPU" + ("s" if cpus > 1 else "")


def _gunicorn_servers_with_known_config(ctx: LintContext) -> list[Server]:
    """Gunicorn servers whose effective config fastlint could locate (else it stays silent)."""
    deployment = _deployment(ctx)
    if deployment is None:
        return []
    return [s for s in deployment.servers if s.kind == "gunicorn" and s.config_state != "unknown"]


def _standalone_configs(deployment: Deployment | None) -> list[Any]:
    if deployment is None:
        return []
    return [c for c in deployment.configs if c.path not in deployment.loaded_configs]


def _uvicorn_run_workers(ctx: LintContext, reached: set[int]) -> list[Setting]:
    """``uvicorn.run(workers=...)`` anywhere in the project that no start command reaches."""
    settings: list[Setting] = []
    cpus = int(ctx.settings.options.get("assumed-cpus", DEFAULT_ASSUMED_CPUS))
    for module, call in uvicorn_runs_with_workers(ctx.project):
        expr = keyword(call.node, "workers")
        if expr is None or id(expr) in reached:
            continue
        evaluator = Evaluator(module, {}, cpus, ctx.project)
        settings.append(uvicorn_run_setting("workers", module, expr, call.scope, evaluator))
    return settings


# ---------------------------------------------------------------------------- FL602


@register
class GunicornWithoutAsgiWorker(ProjectRule):
    meta = catalog.FL602

    def check(self, ctx: LintContext) -> None:
        for server in _gunicorn_servers_with_known_config(ctx):
            worker_class = server.setting("worker_class")
            if worker_class is not None:
                kind = worker_class_kind(ctx.project, worker_class.value)
                if kind != "wsgi":
                    continue
            if not serves_asgi(ctx.project, server):
                continue
            where = worker_class.site if worker_class is not None else server.site
            written = (
                f"'{worker_class.value}'" if worker_class is not None else "its default 'sync'"
            )
            _report(
                self,
                where,
                f"Gunicorn runs the ASGI app {server.app or ''} with {written} worker class, "
                "a WSGI worker that cannot call an ASGI app, so every request fails; pass "
                "-k uvicorn_worker.UvicornWorker (or set worker_class in gunicorn.conf.py).",
                fix="-k uvicorn_worker.UvicornWorker",
            )


# ---------------------------------------------------------------------------- FL603


@register
class DeprecatedUvicornWorker(ProjectRule):
    meta = catalog.FL603

    def check(self, ctx: LintContext) -> None:
        deployment = _deployment(ctx)
        if deployment is not None:
            settings: list[Setting] = []
            for server in deployment.servers:
                settings.extend(s for s in server.written if s.name == "worker_class")
            for config in deployment.configs:
                written = config.get("worker_class")
                if written is not None:
                    settings.append(written)
            for setting in settings:
                if isinstance(setting.value, str) and setting.value in DEPRECATED_WORKERS:
                    self._flag(setting.site, setting.value)
        for module in ctx.project.modules:
            if "UvicornWorker" not in module.text and "UvicornH11Worker" not in module.text:
                continue
            for class_info in module.model.classes:
                for base in class_info.bases:
                    path = ctx.project.resolve(module, base, class_info.scope)
                    if path in DEPRECATED_WORKERS:
                        self._flag(Site(module.path, module=module, node=base), path)

    def _flag(self, site: Site, name: str) -> None:
        replacement = DEPRECATED_WORKERS[name]
        _report(
            self,
            site,
            f"{name} is deprecated since uvicorn 0.30.0 and will be removed, so an uvicorn "
            f"upgrade breaks the deployment; install the uvicorn-worker package and use "
            f"{replacement}.",
            fix=replacement,
        )


# ---------------------------------------------------------------------------- FL604


@register
class HardCodedWorkers(ProjectRule):
    meta = catalog.FL604

    def check(self, ctx: LintContext) -> None:
        deployment = _deployment(ctx)
        if deployment is None:
            return
        # Gunicorn, uvicorn and `fastapi run` read WEB_CONCURRENCY; Hypercorn and Granian don't.
        settings = [
            s.workers
            for s in deployment.servers
            if s.workers is not None
            and s.kind in ("gunicorn", "uvicorn", "fastapi")
            and not _in_deployment_manifest(s, s.workers)
        ]
        settings.extend(c.get("workers") for c in _standalone_configs(deployment))
        for setting in settings:
            if setting is None or not setting.is_literal or setting.as_int() is None:
                continue
            if setting.source in ("uvicorn.run", "WEB_CONCURRENCY"):
                continue
            _report(
                self,
                setting.site,
                f"The worker count is hard-coded ({setting.text or setting.value}), which "
                "silently overrides WEB_CONCURRENCY, so the platform cannot size workers to the "
                "container; drop the count (Gunicorn and uvicorn read WEB_CONCURRENCY) or read "
                "it from the environment.",
                fix="remove the literal worker count",
            )


def _in_deployment_manifest(server: Server, setting: Setting) -> bool:
    """A count written in a compose file or Kubernetes manifest next to the unit's CPU limit
    is sized against it: FL606 judges the pair. Without a CPU limit nothing sizes it, the
    same as a count in the image's CMD; in a development compose file it does not matter."""
    unit = server.unit
    return (
        unit is not None
        and unit.kind in ("compose", "kubernetes")
        and setting.site.path == unit.site.path
        and (unit.cpus is not None or unit.development is not None)
    )


# ---------------------------------------------------------------------------- FL605


@register
class AccessLogNotStdout(ProjectRule):
    meta = catalog.FL605

    def check(self, ctx: LintContext) -> None:
        for server in _gunicorn_servers_with_known_config(ctx):
            access = server.setting("accesslog")
            customised = any(server.setting(name) is not None for name in _LOG_CUSTOMISATION)
            if access is None and not customised:
                _report(
                    self,
                    server.site,
                    "Gunicorn writes no access log by default (accesslog is None), so requests "
                    "leave no trace in the service's logs; pass --access-logfile - (or set "
                    'accesslog = "-" in gunicorn.conf.py) to log them to stdout.',
                    fix="--access-logfile -",
                )
            elif access is not None and access.known and access.value is None:
                _report(
                    self,
                    access.site,
                    "accesslog = None turns Gunicorn's access log off, so requests leave no trace "
                    'in the container\'s logs; set accesslog = "-" to log them to stdout.',
                    fix='accesslog = "-"',
                )
            if not server.in_container:
                continue
            for setting in (access, server.setting("errorlog")):
                if setting is None or not isinstance(setting.value, str):
                    continue
                if setting.value in _STREAMS or setting.value.startswith("syslog"):
                    continue
                _report(
                    self,
                    setting.site,
                    f"Gunicorn writes its {setting.name} to the file {setting.value} inside the "
                    "container: the log never reaches `docker logs` or the platform's log "
                    "collector, fills the container's disk and is lost with it; log to "
                    "stdout/stderr with '-'.",
                    fix=f'{setting.name} = "-"',
                )


# ---------------------------------------------------------------------------- FL303


@register
class PoolExceedsDbConnections(ProjectRule):
    meta = catalog.FL303

    def check(self, ctx: LintContext) -> None:
        deployment = _deployment(ctx)
        if deployment is None or not deployment.engines:
            return
        limit = int(self.option("max-db-connections"))
        worst: tuple[int, Server, int, list[tuple[Any, int]]] | None = None
        for server in deployment.servers:
            workers = deployment.worker_count(server)
            per_process, parts = deployment.pool_per_process(server)
            if workers is None or workers <= 0 or per_process is None:
                continue
            total = _replicas(server)[0] * workers * per_process
            if worst is None or total > worst[0]:
                worst = (total, server, workers, parts)
        if worst is None or worst[0] <= limit:
            return
        total, server, workers, parts = worst
        pools = [
            f"({engine.pool_size} + {engine.max_overflow})" for engine, share in parts if share > 0
        ]
        pool_text = pools[0] if len(pools) == 1 else "(" + " + ".join(pools) + ")"
        word = "worker" if workers == 1 else "workers"
        replicas, replicas_origin = _replicas(server)
        copies = f"{replicas} replicas {TIMES} " if replicas > 1 else ""
        formula = (
            f"{copies}{workers} {word} {TIMES} {pool_text} = {total} connections"
            f" > max-db-connections {limit}"
        )
        origin = _workers_origin(server, deployment)
        if replicas_origin:
            origin = origin[:-1] + "; " + replicas_origin[2:] if origin else replicas_origin
        for engine, share in parts:
            if share == 0:
                continue
            self.report(
                engine.module,
                engine.node,
                f"{formula}{origin}: every process keeps its own pool, so under load the "
                "database refuses connections ('too many clients') and requests fail; lower "
                "pool_size/max_overflow or the worker count, or put PgBouncer in front.",
                fix="size pool_size + max_overflow to max-db-connections / workers",
            )


def _replicas(server: Server) -> tuple[int, str]:
    """How many copies of the server's unit run (compose deploy.replicas, Kubernetes replicas
    or an HPA's maxReplicas: the worst case), and where that is written."""
    unit = server.unit
    count = unit.replica_count if unit is not None else None
    if unit is None or unit.replicas is None or count is None or count <= 1:
        return 1, ""
    return count, f" ({count} replicas: {unit.replicas.source} at {unit.replicas.site.label()})"


def _workers_origin(server: Server, deployment: Deployment) -> str:
    setting = server.workers
    if setting is None:
        return f" ({server.kind}'s default of 1 worker)"
    where = setting.site.label()
    if setting.cpu or setting.cpu_fallback:
        return (
            f" (workers = {setting.text} at {setting.site.label()}, evaluated with "
            f"assumed-cpus {deployment.cpus})"
        )
    return f" (workers from {where})"


# ---------------------------------------------------------------------------- FL606


@register
class WorkersExceedCpuLimit(ProjectRule):
    meta = catalog.FL606

    def check(self, ctx: LintContext) -> None:
        deployment = _deployment(ctx)
        if deployment is None:
            return
        # Per written count, the unit with the tightest limit (a base compose file and an
        # overlay merged over it can run the same count under two limits): one finding.
        worst: dict[tuple[str, int], tuple[float, int, Setting, Any]] = {}
        for unit in deployment.units:
            cpus = unit.cpu_count
            if cpus is None or unit.cpus is None or unit.development is not None:
                continue
            for server in unit.servers:
                setting = server.workers
                workers = deployment.worker_count(server)
                if setting is None or workers is None or setting.cpu or setting.cpu_fallback:
                    continue  # unknown, or a CPU-count formula: FL601 says why that is wrong
                key = (setting.site.path, setting.site.location.line)
                if key not in worst or cpus < worst[key][0]:
                    worst[key] = (cpus, workers, setting, unit)
        for cpus, workers, setting, unit in worst.values():
            ceiling = 2 * cpus + 1  # Gunicorn's rule of thumb, the most a CPU budget can use
            if workers <= ceiling:
                continue
            written = (
                f"WEB_CONCURRENCY={workers}"
                if setting.source == "WEB_CONCURRENCY"
                else f"set on the {setting.source}"
                if setting.source == "command line"
                else f"from {setting.source}"
            )
            _report(
                self,
                setting.site,
                f"{workers} workers ({written}) run under a CPU limit of "
                f"{_cpus_text(cpus)} ({unit.cpus.site.label()}) for {unit.name}: more than "
                f"2 {TIMES} CPUs + 1 = {ceiling:g}, so the processes take turns on the CPU "
                "(throttled, slower responses) while each still holds its own memory and "
                f"database pool; run at most {int(ceiling)} workers or raise the limit.",
                fix=f"workers = {int(ceiling)} (or raise the CPU limit)",
            )


# ---------------------------------------------------------------------------- FL404


@register
class ForwardedAllowIpsWildcard(ProjectRule):
    meta = catalog.FL404

    def check(self, ctx: LintContext) -> None:
        deployment = _deployment(ctx)
        if deployment is None:
            return
        for server in deployment.servers:
            setting = server.setting("forwarded_allow_ips")
            if setting is None or not _trusts_everyone(setting.value):
                continue
            unit = server.unit
            if unit is not None and (unit.development is not None or unit.proxied is not None):
                continue  # only the proxy in front of it can connect
            if unit is not None and unit.kind == "dockerfile":
                runners = deployment.units_running(unit.stage)
                if runners and all(r.proxied is not None for r in runners):
                    continue  # the image is only deployed behind a proxy
            if _unix_socket(server) or (unit is None and not server.production):
                continue
            self._flag(setting)
        for config in _standalone_configs(deployment):
            setting = config.get("forwarded_allow_ips")
            if setting is not None and _trusts_everyone(setting.value):
                self._flag(setting)

    def _flag(self, setting: Setting) -> None:
        if setting.source == "FORWARDED_ALLOW_IPS":
            written = f"FORWARDED_ALLOW_IPS={setting.text or '*'}"
        elif setting.source == "command line":
            written = f"--forwarded-allow-ips {setting.text or '*'}"
        else:
            written = f"forwarded_allow_ips={setting.text or '*'} ({setting.source})"
        _report(
            self,
            setting.site,
            f"{written} trusts X-Forwarded-For and "
            "X-Forwarded-Proto from every client, so anyone who reaches the server directly "
            "can forge their IP address (logs, rate limits, allow-lists) and the request's "
            "scheme; list the proxy's addresses instead (FORWARDED_ALLOW_IPS=10.0.0.0/8).",
            fix="list the proxy's IPs in forwarded_allow_ips",
        )


def _trusts_everyone(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return "*" in value
    return isinstance(value, str) and "*" in (part.strip() for part in value.split(","))


def _unix_socket(server: Server) -> bool:
    """Bound to a Unix socket only: nothing but the local proxy can connect."""
    if server.setting("uds") is not None:
        return True
    bind = server.setting("bind")
    return bind is not None and isinstance(bind.value, str) and bind.value.startswith("unix:")


# ---------------------------------------------------------------------------- FL607


@register
class NoStructuredLogging(ProjectRule):
    meta = catalog.FL607

    def check(self, ctx: LintContext) -> None:
        deployment = _deployment(ctx)
        if deployment is None:
            return
        if not any(s.production and s.in_container for s in deployment.servers):
            return  # not a deployed service: how it logs is nobody's concern here
        setup = logging_setup(ctx.project, ctx.units_of(FileKind.GUNICORN), deployment.servers)
        if setup.json is not None or setup.external is not None or not setup.text:
            return
        site, what = setup.text[0]
        _report(
            self,
            site,
            f"{what} configures logging as plain text and nothing in the project "
            "emits JSON, so the log platform (Datadog, CloudWatch, Loki) stores each line as "
            "one opaque message: no fields to filter on request id, level or user. Add a JSON "
            "formatter (python-json-logger's JsonFormatter, structlog's JSONRenderer, loguru's "
            "serialize=True).",
            fix="log JSON lines (python-json-logger, structlog JSONRenderer)",
        )
