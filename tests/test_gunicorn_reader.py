"""The static Gunicorn config reader (fastlint.deploy.gunicorn): nothing is executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastlint.deploy.gunicorn import read_config
from fastlint.python.model import UNKNOWN
from fastlint.python.module import PythonModule
from fastlint.python.parsing import parse_python


def config(text: str, env: dict[str, str | None] | None = None, cpus: int = 4):  # type: ignore[no-untyped-def]
    module = PythonModule("gunicorn.conf.py", text, parse_python(text), "gunicorn", False)
    return read_config(module, env or {}, cpus)


def test_literals_and_names_assigned_earlier() -> None:
    settings = config('PORT = 8000\nbind = "0.0.0.0:" + str(PORT)\nworkers = 3\naccesslog = "-"\n')
    assert settings.get("bind").value == "0.0.0.0:8000"
    assert settings.get("workers").value == 3 and settings.get("workers").is_literal
    assert settings.get("accesslog").value == "-"


def test_reassignment_follows_source_order() -> None:
    settings = config("workers = 2\nworkers = workers * 3\nworkers += 1\n")
    assert settings.get("workers").value == 7


@pytest.mark.parametrize(
    "call",
    [
        "multiprocessing.cpu_count()",
        "os.cpu_count()",
        "os.process_cpu_count()",
        "psutil.cpu_count()",
        "len(os.sched_getaffinity(0))",
    ],
)
def test_cpu_count_functions(call: str) -> None:
    text = f"import multiprocessing, os, psutil\n\nworkers = {call} * 2 + 1\n"
    setting = config(text, cpus=4).get("workers")
    assert (setting.value, setting.cpu, setting.cpu_fallback) == (9, True, False)


def test_aliased_import_and_helper_name() -> None:
    text = "from multiprocessing import cpu_count as cores\n\nn = cores()\nworkers = max(n, 2)\n"
    setting = config(text).get("workers")
    assert setting.value == 4 and setting.cpu


def test_cpu_count_only_as_the_default_of_an_environment_variable() -> None:
    text = (
        "import multiprocessing, os\n\n"
        'workers = int(os.getenv("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))\n'
    )
    setting = config(text).get("workers")
    assert (setting.value, setting.cpu, setting.cpu_fallback) == (9, False, True)
    assert setting.variables == ("WEB_CONCURRENCY",)
    # When the deployment sets the variable, its value is used and the CPU count never runs.
    setting = config(text, {"WEB_CONCURRENCY": "3"}).get("workers")
    assert (setting.value, setting.cpu, setting.cpu_fallback) == (3, False, False)


def test_environ_get_default_and_subscript() -> None:
    text = (
        "import os\n\n"
        'workers = int(os.environ.get("WEB_CONCURRENCY", "2"))\n'
        'bind = os.environ["BIND"]\n'
        'worker_class = os.getenv("WORKER_CLASS")\n'
    )
    settings = config(text)
    assert settings.get("workers").value == 2 and not settings.get("workers").is_literal
    assert settings.get("bind").value is UNKNOWN
    assert settings.get("worker_class").value is UNKNOWN


def test_or_fallback_is_a_fallback() -> None:
    text = 'import os\n\nworkers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count())\n'
    setting = config(text).get("workers")
    assert setting.cpu_fallback and not setting.cpu


def test_assignments_under_if_are_unknown() -> None:
    text = 'import os\n\nif os.getenv("ENV") == "prod":\n    workers = 8\nelse:\n    workers = 2\n'
    assert config(text).get("workers").value is UNKNOWN


def test_function_bodies_are_not_settings() -> None:
    text = "def post_fork(server, worker):\n    workers = 99\n\nworkers = 2\n"
    assert config(text).get("workers").value == 2


def test_calls_are_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"import pathlib\n\npathlib.Path({str(marker)!r}).write_text('x')\nworkers = 2\n"
    assert config(text).get("workers").value == 2
    assert not marker.exists()


def test_setting_site_points_at_the_value() -> None:
    settings = config('import os\n\nworker_class = "uvicorn.workers.UvicornWorker"\n')
    setting = settings.get("worker_class")
    assert setting.site.location.line == 3
    assert setting.text == '"uvicorn.workers.UvicornWorker"'


def test_cpu_count_in_a_branch_is_a_possibility_on_that_branch() -> None:
    text = (
        "import multiprocessing, os\n\n"
        'if os.getenv("WORKERS"):\n'
        '    workers = int(os.getenv("WORKERS"))\n'
        "else:\n"
        "    workers = multiprocessing.cpu_count()\n"
        "    workers = workers + 1\n"
    )
    setting = config(text).get("workers")
    assert setting.value is UNKNOWN
    assert setting.cpu_fallback and not setting.cpu
    assert setting.site.location.line == 6  # where the CPU count is used
