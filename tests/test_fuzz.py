"""Fuzzed input: fastlint never raises.

Bad source files become FL000 (or nothing) and the good file beside them keeps its findings;
plausible-but-odd files may get findings but never an internal error; bad configuration is a
ConfigError (exit 2 and one line on the command line). Example counts are kept small so the
file runs in well under a minute on two cores.
"""

from __future__ import annotations

import json
import os
import string
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastlint.cli import cli
from fastlint.config import ConfigError, Settings, build_settings, default_settings, read_table
from fastlint.diagnostics import Diagnostic
from fastlint.engine import lint

GOOD = "from fastapi import FastAPI\n\napp = FastAPI(debug=True)\n"
FUZZ = settings(
    # FASTLINT_FUZZ_EXAMPLES=2000 for a long local hunt; CI keeps the default.
    max_examples=int(os.environ.get("FASTLINT_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@contextmanager
def project(files: dict[str, bytes]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "good.py").write_text(GOOD)
        for name, data in files.items():
            (root / name).write_bytes(data)
        yield root


def good_findings(diagnostics: list[Diagnostic]) -> list[tuple[int, str]]:
    return [(d.line, d.code) for d in diagnostics if d.path == "good.py"]


def _baseline() -> list[tuple[int, str]]:
    with project({}) as root:
        found = good_findings(lint([root], default_settings(), root=root, cwd=root).diagnostics)
    assert found
    return found


BASELINE = _baseline()


def lint_files(files: dict[str, bytes]) -> list[Diagnostic]:
    """Lint the files beside good.py; check the invariants every fuzz test shares."""
    with project(files) as root:
        result = lint([root], default_settings(), root=root, cwd=root)
        deployment = result.deployment  # the CLI reads it outside any rule guard
        if deployment is not None:
            json.dumps(deployment.to_dict())
    diagnostics = result.diagnostics
    assert good_findings(diagnostics) == BASELINE
    crashes = [d for d in diagnostics if "internal error" in d.message]
    assert not crashes, crashes
    return diagnostics


def only_fl000_or_nothing(diagnostics: list[Diagnostic], name: str) -> None:
    codes = [d.code for d in diagnostics if d.path == name]
    assert codes in ([], ["FL000"]), codes


# ---------------------------------------------------------------------------- random bytes

FILE_NAMES = ["junk.py", "Dockerfile", "gunicorn.conf.py", "Procfile", "entrypoint.sh"]


@FUZZ
@given(name=st.sampled_from(FILE_NAMES), data=st.binary(max_size=400))
def test_random_bytes(name: str, data: bytes) -> None:
    diagnostics = lint_files({name: data})
    if name == "junk.py":
        only_fl000_or_nothing(diagnostics, name)


@FUZZ
@given(name=st.sampled_from(FILE_NAMES), text=st.text(max_size=300))
def test_random_text(name: str, text: str) -> None:
    diagnostics = lint_files({name: text.encode("utf-8", "surrogatepass")})
    if name == "junk.py":
        only_fl000_or_nothing(diagnostics, name)


# ---------------------------------------------------------------------------- plausible Python

IMPORTS = [
    "import time",
    "import asyncio",
    "import os",
    "import subprocess",
    "import requests",
    "import requests as rq",
    "import httpx",
    "from fastapi import FastAPI, APIRouter, Depends",
    "from fastapi.middleware.cors import CORSMiddleware",
    "from sqlalchemy import create_engine",
    "from sqlalchemy.orm import Session, sessionmaker",
    "from sqlalchemy.ext.asyncio import create_async_engine",
    "import multiprocessing",
    "from . import deps",
    "from .db import SessionLocal",
    "from time import sleep as nap",
]
STATEMENTS = [
    "app = FastAPI(debug=True)",
    "app = FastAPI(docs_url=None, redoc_url=None)",
    "router = APIRouter()",
    "time.sleep(1)",
    "nap(0.5)",
    "rq.get('http://x', timeout=3)",
    "requests.post(url)",
    "await asyncio.sleep(0)",
    "await asyncio.to_thread(time.sleep, 1)",
    "engine = create_engine('postgresql://db', pool_size=50, max_overflow=-1)",
    "engine = create_async_engine(os.environ['DB'])",
    "SessionLocal = sessionmaker(bind=engine)",
    "db = SessionLocal()",
    "db.query(User).all()",
    "workers = multiprocessing.cpu_count() * 2 + 1",
    "app.add_middleware(CORSMiddleware, allow_origins=['*'], allow_credentials=True)",
    "subprocess.run(['ls'], check=True)",
    "with httpx.Client() as client: client.get('/')",
    "yield db",
    "return {'ok': True}",
    "x = [i async for i in agen()]",
    "lambda: time.sleep(1)",
    "global app",
    "del app",
    "app.debug = True",
    "open('f').read()",
    "pass",
]
DECORATORS = [
    "@app.get('/')",
    '@router.post("/items")',
    "@app.on_event('startup')",
    "@app.middleware('http')",
    "@staticmethod",
    "@functools.lru_cache()",
    "@app.websocket('/ws')",
]
HEADERS = [
    "async def handler():",
    "async def handler(db: Session = Depends(get_db)):",
    "def sync_handler(request):",
    "async def lifespan(app):",
    "def get_db():",
    "class Service:",
    "class Service(Base):",
    "if __name__ == '__main__':",
    "try:",
    "with open('x') as f:",
    "for item in items:",
    "async with httpx.AsyncClient() as client:",
]
JUNK = ["(", ")", ":", "'''", '"', "\\", "\t", "lambda", "async", "await", "@", "=", "**", "$("]


@st.composite
def python_source(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.sampled_from(IMPORTS), max_size=4))

    def block(depth: int) -> list[str]:
        indent = "    " * depth
        out: list[str] = []
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(
                st.sampled_from(
                    ["stmt", "stmt", "stmt", "def", "def", "junk"] if depth < 3 else ["stmt"]
                )
            )
            if kind == "def":
                out += [indent + d for d in draw(st.lists(st.sampled_from(DECORATORS), max_size=2))]
                out.append(indent + draw(st.sampled_from(HEADERS)))
                out += block(depth + 1)
            elif kind == "junk":
                out.append(indent + draw(st.sampled_from(STATEMENTS)) + draw(st.sampled_from(JUNK)))
            else:
                out.append(indent + draw(st.sampled_from(STATEMENTS)))
        return out

    lines += block(0)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + newline


@FUZZ
@given(source=python_source(), name=st.sampled_from(["main.py", "gunicorn.conf.py"]))
def test_plausible_python(source: str, name: str) -> None:
    lint_files({name: source.encode("utf-8")})


@FUZZ
@given(sources=st.lists(python_source(), min_size=2, max_size=3))
def test_plausible_python_project(sources: list[str]) -> None:
    # Several modules importing each other ("from .db import SessionLocal") exercise the
    # cross-file resolver with odd shapes.
    names = ["main.py", "db.py", "deps.py"]
    lint_files({name: source.encode() for name, source in zip(names, sources)})


# ---------------------------------------------------------------------------- deployment files

WORDS = [
    "gunicorn",
    "uvicorn",
    "app.main:app",
    "main:app",
    "--workers",
    "-w",
    "4",
    "$(nproc)",
    "${WEB_CONCURRENCY:-2}",
    "$WORKERS",
    "-k",
    "uvicorn.workers.UvicornWorker",
    "uvicorn_worker.UvicornWorker",
    "--reload",
    "--bind",
    "0.0.0.0:$PORT",
    "--access-logfile",
    "-",
    "/var/log/access.log",
    "exec",
    '"$@"',
    "'quoted arg'",
    '"unterminated',
    "\\",
    "&&",
    "|",
    ";",
    "python",
    "-m",
    "fastapi",
    "run",
    "--proxy-headers",
    "--timeout-graceful-shutdown",
    "sh",
    "-c",
]
words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join)


def json_array(items: list[str]) -> str:
    return json.dumps(items)


DOCKER_ARGS = {
    "FROM": st.sampled_from(
        [
            "python:3.12-slim",
            "python:3.12-slim AS build",
            "${BASE}",
            "scratch",
            "",
            "--platform=x y",
        ]
    ),
    "RUN": words,
    "CMD": st.one_of(words, st.lists(st.sampled_from(WORDS), max_size=6).map(json_array)),
    "ENTRYPOINT": st.one_of(words, st.just('["broken", '), st.just("[]")),
    "USER": st.sampled_from(["root", "app", "1000:1000", "$USER", "0", ""]),
    "ENV": st.sampled_from(["WEB_CONCURRENCY=4", "A B", "X=${Y:-z}", "=", "PORT"]),
    "ARG": st.sampled_from(["BASE=python:3.12", "USER", "X=", "=y"]),
    "COPY": st.sampled_from([". /app", "--from=build /app /app", "--chown=app . .", "x"]),
    "WORKDIR": st.sampled_from(["/app", "$HOME", ""]),
    "EXPOSE": st.sampled_from(["8000", "$PORT", "abc"]),
    "SHELL": st.sampled_from(['["/bin/bash", "-c"]', "bash"]),
    "HEALTHCHECK": st.sampled_from(["NONE", "CMD curl -f http://localhost/ || exit 1"]),
    "ONBUILD": words,
    "STOPSIGNAL": st.sampled_from(["SIGTERM", "9"]),
}


@st.composite
def dockerfile(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 10))):
        keyword = draw(st.sampled_from(sorted(DOCKER_ARGS)))
        spelled = draw(st.sampled_from([keyword, keyword.lower()]))
        argument = draw(DOCKER_ARGS[keyword])
        line = f"{spelled} {argument}"
        extra = draw(st.sampled_from(["", "", " \\", "\n# comment", "\n# expect-next: FL501"]))
        lines.append(line + extra)
    if draw(st.booleans()):
        lines.append("RUN <<EOF\necho hi\nEOF")
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\\\n"]))


@st.composite
def shell_script(draw: st.DrawFn) -> str:
    shebang = draw(st.sampled_from(["#!/bin/sh", "#!/bin/bash", "", "#!/usr/bin/env bash"]))
    body = draw(
        st.lists(
            st.one_of(
                words,
                st.sampled_from(["set -e", "export WORKERS=$(nproc)", 'if [ -n "$X" ]; then']),
                st.sampled_from(["fi", "cat <<EOF", "EOF", "trap 'kill $PID' TERM", "wait"]),
            ),
            max_size=8,
        )
    )
    return "\n".join([shebang, *body]) + "\n"


@st.composite
def procfile(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(["web", "worker", "release", "", "web web", "we:b"]))
        separator = draw(st.sampled_from([": ", ":", " ", ":\t"]))
        lines.append(name + separator + draw(words))
    return "\n".join(lines)


GUNICORN_VALUES = [
    "multiprocessing.cpu_count() * 2 + 1",
    "int(os.environ.get('WEB_CONCURRENCY', 4))",
    "'4'",
    "None",
    "-1",
    "10**12",
    "'uvicorn.workers.UvicornWorker'",
    "'sync'",
    "'-'",
    "'/var/log/gunicorn.log'",
    "['0.0.0.0:8000']",
    "os.cpu_count()",
    "workers",
    "lambda: 1",
]
GUNICORN_KEYS = ["workers", "worker_class", "bind", "accesslog", "errorlog", "threads", "timeout"]


@st.composite
def gunicorn_conf(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.sampled_from(["import os", "import multiprocessing"]), max_size=2))
    for _ in range(draw(st.integers(0, 6))):
        key = draw(st.sampled_from(GUNICORN_KEYS))
        operator = draw(st.sampled_from([" = "] * 6 + [" += ", ": int = ", " = ("]))
        lines.append(key + operator + draw(st.sampled_from(GUNICORN_VALUES)))
    if draw(st.booleans()):
        lines += ["def post_fork(server, worker):", "    workers = 2"]
    return "\n".join(lines) + "\n"


@FUZZ
@given(
    docker=dockerfile(),
    shell=shell_script(),
    procfile_text=procfile(),
    gunicorn=gunicorn_conf(),
    present=st.sets(st.sampled_from(["docker", "shell", "procfile", "gunicorn"]), min_size=1),
)
def test_plausible_deployment(
    docker: str, shell: str, procfile_text: str, gunicorn: str, present: set[str]
) -> None:
    # Together, so the deployment model joins fuzzed pieces (CMD → script → gunicorn config).
    files = {
        "docker": ("Dockerfile", docker),
        "shell": ("entrypoint.sh", shell),
        "procfile": ("Procfile", procfile_text),
        "gunicorn": ("gunicorn.conf.py", gunicorn),
    }
    lint_files({files[key][0]: files[key][1].encode() for key in present})


# ---------------------------------------------------------------------------- configuration

KEYS = [
    "select",
    "ignore",
    "extend-select",
    "exclude",
    "extend-exclude",
    "per-file-ignores",
    "fail-on",
    "severity",
    "options",
    "unknown-key",
]
OPTION_NAMES = ["max-file-size", "assumed-cpus", "blocking-calls", "max-db-connections", "nope"]
scalars = st.one_of(
    st.sampled_from(["FL101", "FL1", "ALL", "fl4", "FL999", "X", "", "error", "warning", "app/*"]),
    st.integers(-5, 10**7),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(string.printable, max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["FL101", "app/*.py", "x", *OPTION_NAMES]), inner, max_size=3
        ),
    ),
    max_leaves=8,
)


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # TOML basic strings share JSON escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


tables = st.dictionaries(st.sampled_from(KEYS), values, max_size=4)


def runner() -> CliRunner:
    """A runner with stderr apart from stdout (click < 8.2 mixes them unless told)."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:  # click >= 8.2 always keeps them apart
        return CliRunner()


def pyproject(table: dict[str, object]) -> str:
    body = "\n".join(f"{key} = {toml_value(value)}" for key, value in table.items())
    return f"[project]\nname = 'x'\n\n[tool.fastlint]\n{body}\n"


@FUZZ
@given(table=tables)
def test_config_table_is_settings_or_config_error(table: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pyproject.toml"
        path.write_text(pyproject(table))
        try:
            built = build_settings(read_table(path))
        except ConfigError as error:
            assert "\n" not in str(error)
            return
        assert isinstance(built, Settings)
        # Whatever validation let through, the engine must run with it.
        (Path(folder) / "main.py").write_text(GOOD)
        lint([Path(folder)], built, root=Path(folder), cwd=Path(folder))


@FUZZ
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_random_pyproject_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pyproject.toml"
        path.write_bytes(b"[tool.fastlint]\n" + data)
        try:
            build_settings(read_table(path))
        except ConfigError as error:
            assert "\n" not in str(error)


@settings(
    max_examples=max(FUZZ.max_examples // 3, 1),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(table=tables)
def test_cli_bad_config_is_exit_2_with_one_line(table: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "pyproject.toml").write_text(pyproject(table))
        (root / "main.py").write_text(GOOD)
        try:
            build_settings(read_table(root / "pyproject.toml"))
            expect_error = False
        except ConfigError:
            expect_error = True
        result = runner().invoke(cli, [str(root), "--format", "json", "--quiet"])
    if expect_error:
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("fastlint: error:"), result.stderr
        assert result.stdout == ""
    else:
        assert result.exit_code in (0, 1), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        json.loads(result.stdout)


def test_cli_invalid_toml_is_exit_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.fastlint]\nselect = [\n")
    (tmp_path / "main.py").write_text(GOOD)
    result = runner().invoke(cli, [str(tmp_path)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "invalid TOML" in result.stderr
