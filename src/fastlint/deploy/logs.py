"""How the service's logs are formatted: JSON (structured) or plain text.

Log platforms (Datadog, CloudWatch, Loki, GCP Logging) parse JSON lines into fields; plain text
arrives as one opaque message per line. :func:`logging_setup` answers, for the whole project:
does anything configure JSON output (python-json-logger, structlog's ``JSONRenderer``, loguru
``serialize=True``, ecs-logging, a JSON formatter named in a Gunicorn ``logconfig_dict``), and
where does the project configure its logging at all (``logging.basicConfig``,
``logging.config.dictConfig`` / ``fileConfig``, ``structlog.configure``, loguru's
``logger.add``)? A log configuration file handed to the server (``--log-config``) is not read:
it may well be JSON, so it counts as "cannot tell".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastlint.deploy.facts import Site
from fastlint.python.module import PythonModule

# Spellings that only JSON log output uses (a module that imports or names one configures it).
JSON_MARKERS = (
    "pythonjsonlogger",
    "python_json_logger",
    "JSONRenderer",
    "JsonFormatter",
    "JSONFormatter",
    "serialize=True",
    "json_logging",
    "ecs_logging",
    "logstash_formatter",
    "orjson_formatter",
)
_CONFIGURE = {
    "logging.basicConfig": "logging.basicConfig()",
    "logging.config.dictConfig": "logging.config.dictConfig()",
    "logging.config.fileConfig": "logging.config.fileConfig()",
    "structlog.configure": "structlog.configure()",
    "loguru.logger.add": "loguru's logger.add()",
}
_CALL_NAMES = frozenset({"basicConfig", "dictConfig", "fileConfig", "configure", "add"})
_HINTS = ("basicConfig", "dictConfig", "fileConfig", "structlog", "loguru")
_MIGRATIONS = frozenset({"alembic", "migrations"})


@dataclass
class LoggingSetup:
    json: Site | None = None  # where JSON output is configured (the first place found)
    external: Site | None = None  # a log config file given to the server: not read
    text: list[tuple[Site, str]] = field(default_factory=list)  # text configuration calls


def logging_setup(project: Any, configs: list[PythonModule], servers: list[Any]) -> LoggingSetup:
    """The project's logging configuration (``configs``: Gunicorn config modules; ``servers``:
    the deployment model's servers, for ``--log-config``)."""
    setup = LoggingSetup()
    for module in [*project.modules, *configs]:
        marker = next((m for m in JSON_MARKERS if m in module.text), None)
        if marker is not None:
            setup.json = Site(module.path, _line_of(module.text, marker))
            return setup
    for server in servers:
        for name in ("logconfig", "logconfig_json"):
            setting = server.setting(name)
            if setting is not None:
                setup.external = setting.site
                return setup
    for module in project.modules:
        if module.is_test_code or not any(hint in module.text for hint in _HINTS):
            continue
        if _MIGRATIONS & set(module.path.split("/")[:-1]):
            continue  # Alembic's env.py sets up the migration command's logs, not the service's
        for call in module.model.calls_named(_CALL_NAMES):
            path = project.resolve(module, call.node.func, call.scope)
            if path in _CONFIGURE:
                site = Site(module.path, module=module, node=call.node)
                setup.text.append((site, _CONFIGURE[path]))
    return setup


def _line_of(text: str, marker: str) -> int:
    return text.count("\n", 0, text.find(marker)) + 1


__all__ = ["JSON_MARKERS", "LoggingSetup", "logging_setup"]
