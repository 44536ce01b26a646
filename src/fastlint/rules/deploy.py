"""Process-model rules: how the container starts the server, and how many processes it runs.

Every rule here reads the deployment model (:mod:`fastlint.deploy.model`), built once per lint,
and reports in the file and line where the cause is written: a Dockerfile ``CMD``, a line of an
entrypoint script or Procfile, a setting in ``gunicorn.conf.py``, a ``uvicorn.run(...)`` keyword.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastlint.deploy.asgi import (
    DEPRECATED_WORKERS,
    serves_asgi,
    uvicorn_runs_with_workers,
    worker_class_kind,
)
from fastlint.deploy.facts import Setting, Site
from fastlint.deploy.gunicorn import Evaluator
from fastlint.deploy.model import (
    DEFAULT_ASSUMED_CPUS,
    Deployment,
    Server,
    uvicorn_run_setting,
)
from fastlint.diagnostics import Severity
from fastlint.python.model import keyword
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
        if deployment is None:
            return
        for server in deployment.servers:
            if not server.production:
                continue
            if server.dev_site is not None:
                what = "/start-reload.sh" if server.command == "/start-reload.sh" else "fastapi dev"
                _report(
                    self,
                    server.dev_site,
                    f"'{what}' starts the development server (one process, auto-reload, file "
                    "watching) as the production start command; it wastes CPU watching files and "
                    "restarts the app when files change. Start the server with 'fastapi run' (or "
                    "gunicorn/uvicorn without --reload).",
                    fix="use the production start command",
                )
            reload = server.setting("reload")
            if reload is not None and reload.value in (True, "true"):
                _report(
                    self,
                    reload.site,
                    f"{server.kind} runs with reload on in the production start command: a file "
                    "watcher burns "
                    "CPU and restarts workers (dropping in-flight requests) when files change; "
                    "remove reload from the production start command.",
                    fix="remove --reload / reload=True",
                )


# ---------------------------------------------------------------------------- FL504


@register
class SignalsNotForwarded(ProjectRule):
    meta = catalog.FL504

    def check(self, ctx: LintContext) -> None:
        deployment = _deployment(ctx)
        if deployment is None:
            return
        for server in deployment.servers:
            if server.origin != "dockerfile" or not server.production:
                continue
            site = server.lost_exec
            if site is None or server.init:
                continue
            if site.path == server.start.path:
                message = (
                    f"The container runs {server.kind} through /bin/sh -c (a shell-form CMD/"
                    "ENTRYPOINT or sh -c without exec), so the shell is PID 1 and SIGTERM never "
                    "reaches the server: "
                    "no graceful shutdown, lifespan shutdown never runs, Docker kills it after the "
                    'timeout. Use the exec form: CMD ["' + server.kind + '", ...].'
                )
                fix = "use the exec form (JSON array) for CMD/ENTRYPOINT"
            else:
                command = 'exec "$@"' if "$@" in site.text else f"exec {server.kind} ..."
                message = (
                    f"This script starts {server.kind} without exec, so the shell stays PID 1 and "
                    "SIGTERM never reaches the server: no graceful shutdown, lifespan shutdown "
                    f"never runs, Docker kills it after the timeout. Write '{command}' as the "
                    "script's last command."
                )
                fix = command
            _report(self, site, message, fix=fix)


# ---------------------------------------------------------------------------- FL601


@register
class CpuCountWorkers(ProjectRule):
    meta = catalog.FL601

    def check(self, ctx: LintContext) -> None:
        deployment = _deployment(ctx)
        reached: set[int] = set()
        if deployment is not None:
            for server in deployment.servers:
                if server.workers is not None:
                    self._judge(server.workers)
                    if server.workers.site.node is not None:
                        reached.add(id(server.workers.site.node))
            for config in _standalone_configs(deployment):
                if config.get("workers") is not None:
                    self._judge(config.get("workers"))
        for setting in _uvicorn_run_workers(ctx, reached):
            self._judge(setting)

    def _judge(self, setting: Setting | None) -> None:
        if setting is None:
            return
        written = setting.text or "the CPU count"
        if setting.cpu:
            _report(
                self,
                setting.site,
                f"The worker count comes from the CPU count ({written}), which in a container "
                "sees the host's CPUs, not the container's CPU limit, so it starts far more "
                "workers than the container can run (memory, DB connections); set "
                "WEB_CONCURRENCY from the container's CPU limit instead.",
                fix="read the worker count from WEB_CONCURRENCY",
            )
        elif setting.cpu_fallback and setting.variables:
            names = setting.variables
            variable = "WEB_CONCURRENCY" if "WEB_CONCURRENCY" in names else names[0]
            _report(
                self,
                setting.site,
                f"When {variable} is unset the worker count falls back to the CPU count "
                f"({written}), which in a container sees the host's CPUs, not the container's "
                f"CPU limit; set {variable} in the deployment or use a small fixed fallback.",
                severity=Severity.WARNING,
                fix="use a fixed fallback",
            )
        elif setting.cpu_fallback:
            _report(
                self,
                setting.site,
                f"Depending on a run-time condition the worker count comes from the CPU count "
                f"({written}), which in a container sees the host's CPUs, not the container's "
                "CPU limit; read the count from WEB_CONCURRENCY with a small fixed fallback.",
                severity=Severity.WARNING,
                fix="read the worker count from WEB_CONCURRENCY",
            )


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
        evaluator = Evaluator(module, {}, cpus)
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
                if config.get("worker_class") is not None:
                    settings.append(config.get("worker_class"))
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
            if s.workers is not None and s.kind in ("gunicorn", "uvicorn", "fastapi")
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
            total = workers * per_process
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
        formula = (
            f"{workers} {word} {TIMES} {pool_text} = {total} connections"
            f" > max-db-connections {limit}"
        )
        origin = _workers_origin(server, deployment)
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
