"""Fixes where a deployment is written: Dockerfiles, Procfiles, shell scripts (exact text
spans) and Gunicorn configs or ``uvicorn.run`` calls (Python, through :mod:`.python`)."""

from __future__ import annotations

import json
import re

from fastlint.diagnostics import Diagnostic
from fastlint.discovery import FileKind
from fastlint.fix import python
from fastlint.fix.base import Edit, Fix, Source, fixes
from fastlint.fix.commands import (
    SERVERS,
    add_words,
    remove_words,
    replace_word,
    server_command,
    statement_span,
)

_PYTHON = (FileKind.PYTHON, FileKind.GUNICORN)
_DEPRECATED = {
    "uvicorn.workers.UvicornWorker": "uvicorn_worker.UvicornWorker",
    "uvicorn.workers.UvicornH11Worker": "uvicorn_worker.UvicornH11Worker",
}
_NEEDS_PACKAGE = "needs the uvicorn-worker package"
# Shell syntax that an exec-form CMD would pass to the program as literal words.
_SHELL_SYNTAX = re.compile(r"[$`|&;<>(){}*?\[\]~\\'\"#]")


@fixes("FL602")
def fix_wsgi_worker(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    if source.kind in _PYTHON:
        return python.python_asgi_worker_fix(diagnostic, source)
    command = server_command(source, diagnostic.line, ("gunicorn",))
    if command is None:
        return []
    option = command.option("-k", "--worker-class")
    if option is None:
        edit = add_words(command, "-k", "uvicorn_worker.UvicornWorker")
    elif option[1] - option[0] == 2:
        edit = replace_word(command, option[0] + 1, "uvicorn_worker.UvicornWorker")
    else:
        return []
    return [Fix(f"-k uvicorn_worker.UvicornWorker ({_NEEDS_PACKAGE})", (edit,), safe=False)]


@fixes("FL603")
def fix_deprecated_worker(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    """The dotted name, wherever it is written in the finding's range (a string in Python,
    a word of a command); a class base imported under another name is left alone."""
    if source.kind in _PYTHON:
        start = source.offset(diagnostic.line, diagnostic.column)
        end = source.offset(diagnostic.end_line, diagnostic.end_column)
    else:
        start, end = statement_span(source, diagnostic.line)
    text = source.text[start:end]
    edits = []
    for old, new in _DEPRECATED.items():
        for match in re.finditer(re.escape(old) + r"\b", text):
            edits.append(Edit(start + match.start(), start + match.end(), new))
    if not edits:
        return []
    return [Fix(f"use uvicorn_worker.UvicornWorker ({_NEEDS_PACKAGE})", tuple(edits), False)]


@fixes("FL604")
def fix_hard_coded_workers(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    if source.kind in _PYTHON:
        return python.python_hard_coded_workers_fix(diagnostic, source)
    return _drop_worker_count(diagnostic, source)


def _drop_worker_count(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    """``-w 4`` / ``--workers $(nproc)`` dropped from a Gunicorn or uvicorn command: both read
    WEB_CONCURRENCY then (and start one worker without it). ``fastapi run`` passes its count to
    ``uvicorn.run``, which does not read the variable, so it is left alone."""
    command = server_command(source, diagnostic.line, ("gunicorn", "uvicorn"))
    option = None if command is None else command.option("-w", "--workers")
    if command is None or option is None:
        return []
    edit = remove_words(command, *option)
    return [Fix("drop the worker count (the server reads WEB_CONCURRENCY)", (edit,), False)]


@fixes("FL605")
def fix_access_log(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    if source.kind in _PYTHON:
        return python.python_log_to_stdout_fix(diagnostic, source)
    command = server_command(source, diagnostic.line, ("gunicorn",))
    if command is None:
        return []
    if diagnostic.fix == "--access-logfile -":  # no access log at all
        edit = add_words(command, "--access-logfile", "-")
    else:
        option = next(
            (
                found
                for name in ("--access-logfile", "--error-logfile", "--log-file")
                for found in [command.option(name)]
                if found is not None
                and found[1] - found[0] == 2
                and f"file {command.words[found[0] + 1].value} " in diagnostic.message
            ),
            None,
        )
        if option is None:
            return []
        edit = replace_word(command, option[0] + 1, "-")
    return [Fix("log to stdout: -", (edit,), safe=True)]


@fixes("FL502")
def fix_dev_server(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    if source.kind in _PYTHON:
        if diagnostic.fix != "remove --reload / reload=True":
            return []  # a default of on: the setting's default is the user's to change
        call = python.call_at(diagnostic, source)
        if call is None or python.keyword_arg(call, "reload") is None:
            return []
        new = python.without_keyword(call, "reload")
        return [Fix("remove reload=True", (python.node_edit(source, call, new),), False)]
    command = server_command(source, diagnostic.line)
    if command is None:
        return []
    if command.server == "fastapi" and len(command.words) > 1 and command.words[1].value == "dev":
        return [Fix("fastapi run", (replace_word(command, 1, "run"),), safe=False)]
    flag = command.flag("--reload")
    if flag is None or command.words[flag].value != "--reload":
        return []
    return [Fix("remove --reload", (remove_words(command, flag, flag + 1),), False)]


@fixes("FL504")
def fix_signals(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    if source.kind is FileKind.DOCKERFILE:
        return _exec_form(diagnostic, source)
    if source.kind is FileKind.SHELL:
        return _exec_in_script(diagnostic, source)
    return []


def _exec_form(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    """Shell-form ``CMD gunicorn app:app`` → ``CMD ["gunicorn", "app:app"]`` when the command
    has no shell syntax the exec form would pass on literally (safe: same program, same
    arguments, only without the shell in between)."""
    start, end = statement_span(source, diagnostic.line)
    text = source.text[start:end]
    match = re.match(r"(\s*(?:CMD|ENTRYPOINT)\s+)(.*)$", text, re.I | re.S)
    if match is None:
        return []
    body = match.group(2).strip()
    if body.startswith("[") or "\n" in body or _SHELL_SYNTAX.search(body):
        return _exec_in_chain(source, start + match.end(1), end)
    words = body.split()
    if not words:
        return []
    exec_form = "[" + ", ".join(json.dumps(word) for word in words) + "]"
    edit = Edit(start + match.end(1), end, exec_form)
    return [Fix("exec form: " + exec_form, (edit,), safe=True)]


_LAST_SERVER = re.compile(
    r"(?:^|&&|;|\|\||\s-c\s+[\"'])\s*(?P<server>(?:python3?\s+-m\s+)?(?:"
    + "|".join(SERVERS)
    + r")\b)"
)


def _exec_in_chain(source: Source, start: int, end: int) -> list[Fix]:
    """``CMD migrate && gunicorn ...`` (shell form) or ``CMD ["sh", "-c", "... && gunicorn ..."]``
    → ``exec`` before the server, the chain's last command (unsafe: the shell is replaced by
    the server, so nothing the shell would have done after it happens)."""
    text = source.text[start:end]
    if re.match(r"\s*(?:/bin/)?(?:ba)?sh\s+-c\b", text):
        return []  # a shell inside the shell form's shell: exec in it would not make it PID 1
    if text.lstrip().startswith("["):
        try:
            words = json.loads(text)
        except ValueError:
            return []
        shell = len(words) == 3 and str(words[0]).rsplit("/", 1)[-1] in ("sh", "bash")
        if not shell or words[1] != "-c":
            return []
    servers = list(_LAST_SERVER.finditer(text))
    if not servers:
        return []
    server = servers[-1].start("server")
    if re.search(r"&&|\|\||;|\||&", text[server:].rstrip().rstrip("]").rstrip().rstrip("\"'")):
        return []  # the server is not the last command
    edit = Edit(start + server, start + server, "exec ")
    return [Fix("exec the server as the chain's last command", (edit,), safe=False)]


def _exec_in_script(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    """``gunicorn ...`` / ``"$@"`` as a script's command → ``exec ...`` (unsafe: nothing after
    it in the script runs any more)."""
    start, _ = source.line_span(diagnostic.line)
    line = source.text[start : source.line_span(diagnostic.line)[1]]
    indent = len(line) - len(line.lstrip())
    rest = line[indent:]
    if rest.startswith("exec ") or not rest or rest.startswith("#"):
        return []
    if re.search(r"&&|\|\||;|\||&\s*$", rest):
        return []  # a chain or a pipe: exec would end the script in the middle of it
    return [Fix("exec " + rest.split()[0], (Edit(start + indent, start + indent, "exec "),), False)]


@fixes("FL601")
def fix_cpu_count(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    if source.kind in _PYTHON:
        return python.python_cpu_count_fix(diagnostic, source)
    if diagnostic.fix != "read the worker count from WEB_CONCURRENCY":
        return []
    return _drop_worker_count(diagnostic, source)


_ADD_USER = re.compile(r"add `RUN (?P<command>[^`]+)` and `USER app` to the final stage")


@fixes("FL501")
def fix_root(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    """The user the finding proposes (``useradd``, or ``adduser`` on Alpine), created and
    switched to just before the final stage's first CMD/ENTRYPOINT (unsafe: files the service
    writes at run time must be writable by that user). A final stage with no user at all only:
    where ``USER root`` is written, the steps after it may need root."""
    proposed = _ADD_USER.fullmatch(diagnostic.fix or "")
    if source.kind is not FileKind.DOCKERFILE or proposed is None:
        return []
    lines = source.text.splitlines()
    target = None
    for number in range(diagnostic.line + 1, len(lines) + 1):
        word = lines[number - 1].strip().split(" ", 1)[0].upper()
        if word == "FROM":
            return []  # the finding is not on the last stage as expected
        if word in ("CMD", "ENTRYPOINT") and target is None:
            target = number
        elif word == "RUN" and target is not None:
            return []  # a RUN after the start command would lose root
    nl = source.newline
    block = f"RUN {proposed.group('command')}{nl}USER app{nl}"
    if target is None:
        end = len(source.text)
        edit = Edit(end, end, ("" if source.text.endswith("\n") else nl) + block)
    else:
        at = source.offset(target, 1)
        edit = Edit(at, at, block)
    return [Fix("add a user 'app' and USER app", (edit,), safe=False)]
