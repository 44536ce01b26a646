"""Every rule's metadata as data: code, name, severity, summary and options.

This module imports nothing heavy (no LibCST), so the CLI can validate configuration, list
rules and answer from a warm result cache without loading a rule's implementation. Each rule
class takes its ``meta`` from here (``meta = catalog.FL101``); :func:`fastlint.registry.all_rules`
checks that every code here has exactly one class and every class's meta is the one here.
"""

from __future__ import annotations

from fastlint.diagnostics import Severity
from fastlint.rulemeta import Option, RuleMeta

# ---------------------------------------------------------------------------- options

MAX_FILE_SIZE = Option(
    "max-file-size",
    int,
    2_000_000,
    "Files larger than this many bytes are skipped with FL000 (generated code, data dumps).",
)
ENGINE_OPTIONS = (MAX_FILE_SIZE,)  # read by the engine itself, not by a rule

BLOCKING_CALLS = Option(
    "blocking-calls",
    list,
    [],
    "Extra blocking calls, as qualified names with optional globs "
    '(["mylib.slow_fn", "supabase.Client.table", "vendor.sdk.*"]); added to the built-in '
    "catalogue for FL101 and FL102.",
)

REPORT_UNSERVED_ASYNC = Option(
    "report-unserved-async",
    bool,
    False,
    "Also report blocking calls in async code the app never serves (scripts run with "
    "asyncio.run, CLI commands, Alembic migrations, Celery/arq worker code) when the project "
    "builds an app; FL101, FL102 and FL103.",
)

DEFAULT_ASSUMED_CPUS = 4  # CPUs assumed where a worker count is derived from the CPU count
DEFAULT_MAX_DB_CONNECTIONS = 100  # PostgreSQL's default max_connections

# ---------------------------------------------------------------------------- rules

FL101 = RuleMeta(
    code="FL101",
    name="blocking-call-in-async",
    severity=Severity.ERROR,
    front_end="python",
    summary="A known blocking call (sleep, sync HTTP, subprocess, hashing, sync drivers) "
    "directly inside an async def.",
    options=(BLOCKING_CALLS, REPORT_UNSERVED_ASYNC),
)

FL102 = RuleMeta(
    code="FL102",
    name="blocking-call-via-helper",
    severity=Severity.ERROR,
    front_end="python",
    summary="An async def calls a sync project function that blocks, at any depth.",
    options=(BLOCKING_CALLS, REPORT_UNSERVED_ASYNC),
)

FL103 = RuleMeta(
    code="FL103",
    name="sync-db-session-in-async",
    severity=Severity.ERROR,
    front_end="python",
    summary="A synchronous SQLAlchemy Session/Engine/Connection used inside an async def.",
    options=(REPORT_UNSERVED_ASYNC,),
)

FL201 = RuleMeta(
    code="FL201",
    name="on-event-handler",
    severity=Severity.WARNING,
    front_end="python",
    summary="Startup/shutdown code registered with the deprecated on_event / on_startup API "
    "(error when the app also has a lifespan, which makes it never run).",
)

FL301 = RuleMeta(
    code="FL301",
    name="session-without-finally",
    severity=Severity.ERROR,
    front_end="python",
    summary="A session or connection is opened without a with block or a finally that closes it.",
)

FL302 = RuleMeta(
    code="FL302",
    name="engine-per-request",
    severity=Severity.WARNING,
    front_end="python",
    summary="create_engine() / create_async_engine() runs on every request.",
)

FL303 = RuleMeta(
    code="FL303",
    name="pool-exceeds-db-connections",
    severity=Severity.ERROR,
    front_end="deploy",
    summary="Worker processes times per-process pool exceed the database's connections.",
    options=(
        Option(
            "max-db-connections",
            int,
            DEFAULT_MAX_DB_CONNECTIONS,
            "Connections the database accepts (PostgreSQL's default max_connections is 100).",
        ),
        Option(
            "assumed-cpus",
            int,
            DEFAULT_ASSUMED_CPUS,
            "CPU count used to evaluate worker counts derived from the CPU count.",
        ),
    ),
)

FL401 = RuleMeta(
    code="FL401",
    name="cors-wildcard",
    severity=Severity.WARNING,
    front_end="python",
    summary="CORSMiddleware admits every origin (error with credentials) or a glob origin.",
)

FL402 = RuleMeta(
    code="FL402",
    name="docs-exposed",
    severity=Severity.WARNING,
    front_end="python",
    summary="FastAPI app serves its OpenAPI schema (and docs) unconditionally.",
)

FL403 = RuleMeta(
    code="FL403",
    name="debug-enabled",
    severity=Severity.WARNING,
    front_end="python",
    summary="FastAPI/Starlette app created with debug=True.",
)

FL404 = RuleMeta(
    code="FL404",
    name="forwarded-allow-ips-wildcard",
    severity=Severity.WARNING,
    front_end="deploy",
    summary="The server trusts X-Forwarded-* headers from any client (forwarded_allow_ips '*').",
)

FL501 = RuleMeta(
    code="FL501",
    name="container-runs-as-root",
    severity=Severity.ERROR,
    front_end="deploy",
    summary="The deployed image runs as root: no USER, USER root / 0, or a compose user: root / "
    "Kubernetes runAsUser: 0.",
    options=(
        Option(
            "nonroot-base-images",
            list,
            [],
            "Base images (globs, e.g. 'registry.example.com/base/python:*') that already "
            "run as a non-root user, so a final stage built on them needs no USER.",
        ),
    ),
)

FL502 = RuleMeta(
    code="FL502",
    name="dev-server-in-container",
    severity=Severity.ERROR,
    front_end="deploy",
    summary="The container's start command runs a reloader or development server.",
)

FL503 = RuleMeta(
    code="FL503",
    name="build-toolchain-in-final-image",
    severity=Severity.WARNING,
    front_end="dockerfile",
    summary="Compilers or -dev headers (or the full python:X image) end up in the final image.",
)

FL504 = RuleMeta(
    code="FL504",
    name="signals-not-forwarded",
    severity=Severity.WARNING,
    front_end="deploy",
    summary="A shell stays PID 1 and the server never receives SIGTERM.",
)

FL505 = RuleMeta(
    code="FL505",
    name="run-as-non-root-unverifiable",
    severity=Severity.ERROR,
    front_end="deploy",
    summary="Kubernetes runAsNonRoot: true with an image user that is root or not numeric: "
    "the kubelet refuses to start the pod.",
)

FL601 = RuleMeta(
    code="FL601",
    name="cpu-count-workers",
    severity=Severity.ERROR,
    front_end="deploy",
    summary="Worker count derived from the CPU count, which sees the host's CPUs.",
)

FL602 = RuleMeta(
    code="FL602",
    name="gunicorn-without-asgi-worker",
    severity=Severity.ERROR,
    front_end="deploy",
    summary="Gunicorn serves an ASGI app with its default (WSGI) worker class.",
)

FL603 = RuleMeta(
    code="FL603",
    name="deprecated-uvicorn-worker",
    severity=Severity.WARNING,
    front_end="deploy",
    summary="uvicorn.workers.UvicornWorker is deprecated; use the uvicorn-worker package.",
)

FL604 = RuleMeta(
    code="FL604",
    name="hard-coded-workers",
    severity=Severity.INFO,
    front_end="deploy",
    summary="A literal worker count silently overrides WEB_CONCURRENCY.",
)

FL605 = RuleMeta(
    code="FL605",
    name="access-log-not-stdout",
    severity=Severity.INFO,
    front_end="deploy",
    summary="Gunicorn writes no access log, or writes logs to a file inside the container.",
)

FL606 = RuleMeta(
    code="FL606",
    name="workers-exceed-cpu-limit",
    severity=Severity.WARNING,
    front_end="deploy",
    summary="More worker processes than the unit's CPU limit can run (over 2 x CPUs + 1).",
)

FL607 = RuleMeta(
    code="FL607",
    name="no-structured-logging",
    severity=Severity.INFO,
    front_end="deploy",
    summary="The service configures its logging as plain text: nothing in the project emits "
    "JSON logs.",
)

RULES: tuple[RuleMeta, ...] = tuple(
    value for name, value in sorted(globals().items()) if isinstance(value, RuleMeta)
)
