"""Command-line options of the ASGI servers: Gunicorn, uvicorn, ``fastapi run|dev``, Hypercorn.

:func:`parse_server_args` turns the words after the server name into the settings fastlint cares
about (keyed by Gunicorn's setting names: ``workers``, ``worker_class``, ``config``,
``accesslog``, ``errorlog``, ``reload``...) and the application target (``app.main:app``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Canonical server names by command word.
SERVER_COMMANDS = {
    "gunicorn": "gunicorn",
    "uvicorn": "uvicorn",
    "fastapi": "fastapi",
    "hypercorn": "hypercorn",
    "granian": "granian",
    "daphne": "daphne",
}

# Task-queue workers: long-running processes that, like a server, must get SIGTERM to shut
# down warmly (finish or hand back the tasks they hold). Command word → (name for messages,
# the subcommand that starts the worker, or None when the command itself is the worker).
WORKER_COMMANDS: dict[str, tuple[str, str | None]] = {
    "celery": ("Celery worker", "worker"),
    "taskiq": ("taskiq worker", "worker"),
    "rq": ("RQ worker", "worker"),
    "arq": ("arq worker", None),
    "dramatiq": ("Dramatiq worker", None),
}


def worker_name(command: str, words: list[str | None]) -> str | None:
    """The worker ``command words...`` starts (``celery -A app worker -l info``), or None when
    it is another subcommand (``celery -A app beat``, ``celery inspect ping``)."""
    entry = WORKER_COMMANDS.get(command)
    if entry is None:
        return None
    name, subcommand = entry
    first = _first_positional(words)
    if subcommand is None:
        return name if first is not None else None
    return name if first == subcommand else None


# Options that take a value before a worker's subcommand (``celery -A app --workdir /x worker``).
_WORKER_VALUES = frozenset(
    {"-A", "--app", "-b", "--broker", "--result-backend", "--loader", "--config", "--workdir"}
)


def _first_positional(words: list[str | None]) -> str | None:
    index = 0
    while index < len(words):
        word = words[index]
        if word is None:
            return None  # a variable: cannot tell which subcommand
        if word in _WORKER_VALUES:
            index += 2
            continue
        if not word.startswith("-"):
            return word
        index += 1
    return None


# Option spelling → setting name, per server. Options not listed that start with "-" are
# skipped with their value unless they are known flags (no value).
_GUNICORN_VALUES = {
    "-w": "workers",
    "--workers": "workers",
    "-k": "worker_class",
    "--worker-class": "worker_class",
    "-c": "config",
    "--config": "config",
    "--access-logfile": "accesslog",
    "--error-logfile": "errorlog",
    "--log-file": "errorlog",
    "--log-config": "logconfig",
    "--log-config-json": "logconfig_json",
    "--chdir": "chdir",
    "-b": "bind",
    "--bind": "bind",
    "--threads": "threads",
    "--forwarded-allow-ips": "forwarded_allow_ips",
}
_GUNICORN_FLAGS = {
    "--reload": "reload",
    "--preload": "preload_app",
    "-D": "daemon",
    "--daemon": "daemon",
    "-R": "enable_stdio_inheritance",
    "--enable-stdio-inheritance": "enable_stdio_inheritance",
    "--capture-output": "capture_output",
    "--check-config": "check_config",
    "--print-config": "print_config",
    "--spew": "spew",
    "--reuse-port": "reuse_port",
    "--no-sendfile": "sendfile",
    "--proxy-protocol": "proxy_protocol",
    "--strip-header-spaces": "strip_header_spaces",
    "--disable-redirect-access-to-syslog": "disable_redirect_access_to_syslog",
    "--paste": "paste",
}
_UVICORN_VALUES = {
    "--workers": "workers",
    "--host": "host",
    "--port": "port",
    "--app-dir": "chdir",
    "--log-config": "logconfig",
    "--env-file": "env_file",
    "--reload-dir": "reload_dir",
    "--forwarded-allow-ips": "forwarded_allow_ips",
    "--uds": "uds",
}
_UVICORN_FLAGS = {
    "--reload": "reload",
    "--factory": "factory",
    "--proxy-headers": "proxy_headers",
    "--no-proxy-headers": "no_proxy_headers",
    "--access-log": "access_log",
    "--no-access-log": "no_access_log",
    "--use-colors": "use_colors",
    "--no-use-colors": "no_use_colors",
    "--server-header": "server_header",
    "--no-server-header": "no_server_header",
    "--date-header": "date_header",
    "--no-date-header": "no_date_header",
}
_FASTAPI_VALUES = {
    "--workers": "workers",
    "--host": "host",
    "--port": "port",
    "--app": "app_name",
    "--entrypoint": "entrypoint",
    "-e": "entrypoint",
    "--root-path": "root_path",
    "--forwarded-allow-ips": "forwarded_allow_ips",
}
_FASTAPI_FLAGS = {
    "--reload": "reload",
    "--no-reload": "no_reload",
    "--proxy-headers": "proxy_headers",
    "--no-proxy-headers": "no_proxy_headers",
}
_HYPERCORN_VALUES = {
    "-w": "workers",
    "--workers": "workers",
    "-k": "worker_class",
    "--worker-class": "worker_class",
    "-c": "config",
    "--config": "config",
    "--access-logfile": "accesslog",
    "--error-logfile": "errorlog",
    "-b": "bind",
    "--bind": "bind",
}
_HYPERCORN_FLAGS = {"--reload": "reload", "--debug": "debug"}

_TABLES = {
    "gunicorn": (_GUNICORN_VALUES, _GUNICORN_FLAGS),
    "uvicorn": (_UVICORN_VALUES, _UVICORN_FLAGS),
    "fastapi": (_FASTAPI_VALUES, _FASTAPI_FLAGS),
    "hypercorn": (_HYPERCORN_VALUES, _HYPERCORN_FLAGS),
    "granian": ({"--workers": "workers"}, {"--reload": "reload"}),
    "daphne": ({}, {}),
}


@dataclass
class ParsedArgs:
    """Settings given on a server's command line: name → (word index, value word)."""

    options: dict[str, tuple[int, str]] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)  # options that take no value (--reload)
    positionals: list[tuple[int, str]] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        found = self.options.get(name)
        return None if found is None else found[1]


def parse_server_args(server: str, words: list[str]) -> ParsedArgs:
    """Parse the words after the server command (``words[0]`` is the first argument).

    Indices in the result point into ``words`` so callers can find where a value is written.
    """
    values, flags = _TABLES.get(server, ({}, {}))
    parsed = ParsedArgs()
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            parsed.positionals.extend((i, w) for i, w in enumerate(words[index + 1 :], index + 1))
            break
        if not word.startswith("-") or word == "-":
            parsed.positionals.append((index, word))
            index += 1
            continue
        name, has_inline, inline = word.partition("=")
        if name in flags:
            parsed.options[flags[name]] = (index, "true" if not has_inline else inline)
            parsed.flags.add(flags[name])
            index += 1
            continue
        if name in values:
            if has_inline:
                parsed.options[values[name]] = (index, inline)
                index += 1
            elif index + 1 < len(words):
                parsed.options[values[name]] = (index + 1, words[index + 1])
                index += 2
            else:
                index += 1
            continue
        short = _short_with_value(word, values)
        if short is not None:
            parsed.options[short[0]] = (index, short[1])
            index += 1
            continue
        # An option we do not model: it takes a value unless written --opt=value or it is
        # followed by another option.
        if has_inline or index + 1 >= len(words) or words[index + 1].startswith("-"):
            index += 1
        else:
            index += 2
    return parsed


def _short_with_value(word: str, values: dict[str, str]) -> tuple[str, str] | None:
    """``-w4`` / ``-kuvicorn_worker.UvicornWorker``: a short option glued to its value."""
    if len(word) > 2 and word[1] != "-" and word[:2] in values:
        return values[word[:2]], word[2:]
    return None


def split_gunicorn_cmd_args(text: str) -> list[str]:
    """The words of ``GUNICORN_CMD_ARGS`` (Gunicorn splits it with shlex too)."""
    import shlex

    try:
        return shlex.split(text)
    except ValueError:
        return text.split()
