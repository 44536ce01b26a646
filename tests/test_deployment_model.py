"""The project-wide deployment model (fastlint.deploy.model): start commands to servers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastlint.config import build_settings
from fastlint.deploy.model import Deployment, Server
from fastlint.discovery import FileKind
from fastlint.engine import lint

APP = "from fastapi import FastAPI\n\napp = FastAPI(openapi_url=None)\n"


def project(tmp_path: Path, files: dict[str, str], options: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    for relpath, text in files.items():
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    table = {"options": options} if options else {}
    return lint([tmp_path], build_settings(table), root=tmp_path, cwd=tmp_path)


def deployment(tmp_path: Path, files: dict[str, str], **kwargs: Any) -> Deployment:
    result = project(tmp_path, files, **kwargs)
    assert isinstance(result.deployment, Deployment)
    return result.deployment


def only_server(model: Deployment) -> Server:
    assert len(model.servers) == 1, [s.command for s in model.servers]
    return model.servers[0]


def test_no_deployment_files_means_no_model(tmp_path: Path) -> None:
    assert project(tmp_path, {"app/main.py": APP}).deployment is None


def test_entrypoint_script_runs_cmd_with_exec(tmp_path: Path) -> None:
    model = deployment(
        tmp_path,
        {
            "app/main.py": APP,
            "Dockerfile": (
                "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
                "COPY docker/entrypoint.sh /entrypoint.sh\nUSER 1000\n"
                'ENTRYPOINT ["/entrypoint.sh"]\n'
                'CMD ["gunicorn", "-k", "uvicorn_worker.UvicornWorker", "app.main:app"]\n'
            ),
            "docker/entrypoint.sh": '#!/bin/sh\nset -e\nalembic upgrade head\nexec "$@"\n',
        },
    )
    server = only_server(model)
    assert server.kind == "gunicorn" and server.app == "app.main:app"
    assert server.lost_exec is None and server.production
    assert [site.path for site in server.via] == ["docker/entrypoint.sh"]
    assert server.setting("worker_class").value == "uvicorn_worker.UvicornWorker"
    assert server.site.path == "Dockerfile" and server.site.line == 7


def test_workdir_relative_copy_destination_is_mapped_back(tmp_path: Path) -> None:
    model = deployment(
        tmp_path,
        {
            "Dockerfile": (
                "FROM python:3.12-slim\nWORKDIR /srv\nCOPY scripts/start.sh ./bin/start.sh\n"
                'USER 1000\nCMD ["./bin/start.sh"]\n'
            ),
            "scripts/start.sh": "#!/bin/sh\nuvicorn app.main:app --workers 2\n",
        },
    )
    server = only_server(model)
    assert server.site.path == "scripts/start.sh" and server.site.line == 2
    assert server.lost_exec is not None and server.lost_exec.line == 2
    assert server.workers.value == 2


def test_shell_form_loses_exec_unless_an_init_runs_it(tmp_path: Path) -> None:
    shell_form = deployment(
        tmp_path / "a",
        {"Dockerfile": "FROM python:3.12-slim\nUSER 1000\nCMD uvicorn app:app --port 80\n"},
    )
    server = only_server(shell_form)
    assert server.lost_exec is not None and server.lost_exec.line == 3
    exec_in_shell = deployment(
        tmp_path / "b",
        {
            "Dockerfile": (
                'FROM python:3.12-slim\nUSER 1000\nCMD ["sh", "-c", "exec uvicorn app:app"]\n'
            )
        },
    )
    assert only_server(exec_in_shell).lost_exec is None
    tini = deployment(
        tmp_path / "c",
        {
            "Dockerfile": (
                'FROM python:3.12-slim\nUSER 1000\nENTRYPOINT ["tini", "--"]\n'
                'CMD ["sh", "-c", "uvicorn app:app"]\n'
            )
        },
    )
    assert only_server(tini).init


def test_gunicorn_setting_precedence(tmp_path: Path) -> None:
    model = deployment(
        tmp_path,
        {
            "app/main.py": APP,
            "gunicorn.conf.py": 'workers = 2\nworker_class = "sync"\naccesslog = "-"\n',
            "Dockerfile": (
                "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nENV WEB_CONCURRENCY=7\n"
                'ENV GUNICORN_CMD_ARGS="-k uvicorn_worker.UvicornWorker -w 3"\nUSER 1000\n'
                'CMD ["gunicorn", "-w", "5", "app.main:app"]\n'
            ),
        },
    )
    server = only_server(model)
    assert server.config is not None and server.config_state == "loaded"
    assert server.workers.value == 5 and server.workers.source == "command line"
    assert server.setting("worker_class").source == "GUNICORN_CMD_ARGS"
    assert server.setting("accesslog").source == "gunicorn.conf.py"


def test_web_concurrency_is_the_default_count(tmp_path: Path) -> None:
    model = deployment(
        tmp_path,
        {"Procfile": "web: WEB_CONCURRENCY=6 uvicorn app.main:app --port $PORT\n"},
    )
    server = only_server(model)
    assert server.workers.value == 6 and server.workers.source == "WEB_CONCURRENCY"
    assert not server.workers.is_literal
    assert server.origin == "procfile"


def test_python_module_follows_main_block(tmp_path: Path) -> None:
    model = deployment(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/main.py": (
                "import os\nimport uvicorn\n\n\ndef main():\n"
                '    uvicorn.run("app.main:app", workers=os.cpu_count(), reload=False)\n\n\n'
                'if __name__ == "__main__":\n    main()\n'
            ),
            "Dockerfile": 'FROM python:3.12-slim\nUSER 1000\nCMD ["python", "-m", "app.main"]\n',
        },
    )
    server = only_server(model)
    assert server.app == "app.main:app"
    assert server.workers.cpu and server.workers.value == 4
    assert server.setting("reload").value is False


def test_assumed_cpus_option_and_summary(tmp_path: Path) -> None:
    files = {
        "app/main.py": APP,
        "app/db.py": (
            "from sqlalchemy import create_engine\n\n"
            'engine = create_engine("postgresql://db/app", pool_size=20, max_overflow=10)\n'
        ),
        "gunicorn.conf.py": (
            "import multiprocessing\n\nworkers = multiprocessing.cpu_count() * 2 + 1\n"
            'worker_class = "uvicorn_worker.UvicornWorker"\naccesslog = "-"\n'
        ),
        "Procfile": "web: gunicorn app.main:app\n",
    }
    model = deployment(tmp_path, files, options={"assumed-cpus": 2})
    summary = model.to_dict()
    assert summary["workers"] == 5 and summary["server"] == "gunicorn"
    assert summary["pool_per_process"] == 30 and summary["total_connections"] == 150
    assert "assumed-cpus 2" in summary["workers_source"]
    assert summary["start_file"] == "Procfile:1"
    assert json.loads(json.dumps(summary)) == summary
    again = deployment(tmp_path, {}, options={"assumed-cpus": 2}).to_dict()
    assert json.dumps(again, sort_keys=False) == json.dumps(summary, sort_keys=False)


def test_unresolvable_config_makes_worker_class_unknown(tmp_path: Path) -> None:
    model = deployment(
        tmp_path,
        {
            "app/main.py": APP,
            "Dockerfile": (
                "FROM python:3.12-slim\nUSER 1000\n"
                'CMD ["gunicorn", "-c", "/etc/g.py", "app.main:app"]\n'
            ),
        },
    )
    assert only_server(model).config_state == "unknown"


def test_dev_script_is_not_a_deployment(tmp_path: Path) -> None:
    model = deployment(tmp_path, {"scripts/dev.sh": "#!/bin/sh\nuvicorn app:app --reload\n"})
    assert model.servers == []
    assert model.to_dict()["start_command"] is None


def test_each_service_of_a_monorepo_counts_its_own_engines(tmp_path: Path) -> None:
    engine = (
        "from sqlalchemy import create_engine\n\n"
        'engine = create_engine("postgresql://db/{0}", pool_size={1})\n'
    )
    dockerfile = (
        'FROM python:3.12-slim\nUSER 1000\nCMD ["uvicorn", "app.main:app", "--workers", "2"]\n'
    )
    model = deployment(
        tmp_path,
        {
            "orders/Dockerfile": dockerfile,
            "orders/app/db.py": engine.format("orders", 20),
            "billing/Dockerfile": dockerfile,
            "billing/app/db.py": engine.format("billing", 5),
        },
    )
    by_folder = {server.start.path.split("/")[0]: server for server in model.servers}
    assert model.pool_per_process(by_folder["orders"])[0] == 30
    assert model.pool_per_process(by_folder["billing"])[0] == 15
    assert model.pool_per_process(None)[0] == 45


def test_pool_finding_shows_the_arithmetic(tmp_path: Path) -> None:
    result = project(
        tmp_path,
        {
            "app/db.py": (
                "from sqlalchemy import create_engine\n\n"
                'engine = create_engine("postgresql://db/app", pool_size=20, max_overflow=10)\n'
            ),
            "Procfile": "web: uvicorn app.main:app --workers $(( 2 * $(nproc) + 1 ))\n",
        },
    )
    (finding,) = [d for d in result.diagnostics if d.code == "FL303"]
    assert (finding.path, finding.line) == ("app/db.py", 3)
    assert finding.message.startswith(
        "9 workers \u00d7 (20 + 10) = 270 connections > max-db-connections 100"
    )
    assert "assumed-cpus 4" in finding.message


def test_uvicorn_run_workers_is_read_however_it_is_spelt(tmp_path: Path) -> None:
    # Only a module that can pass workers= as a keyword is parsed for it (prose about uvicorn
    # workers is not); a comment or line break before the "=" still counts.
    result = project(
        tmp_path,
        {
            "run.py": (
                "import os\nimport uvicorn\n\nuvicorn.run(\n    'app:app',\n"
                "    workers  # one per CPU\n    = os.cpu_count(),\n)\n"
            ),
            "notes.py": '"""Scale the uvicorn workers with the load: workers == CPUs."""\n',
        },
    )
    assert [(d.code, d.path, d.line) for d in result.diagnostics] == [("FL601", "run.py", 7)]
    loaded = {unit.path for unit in result.context.units_of(FileKind.PYTHON) if unit.is_loaded}
    assert loaded == {"run.py"}


def test_cpu_count_is_reported_at_the_call_with_its_chain(tmp_path: Path) -> None:
    # tiangolo's config: the CPU count reaches workers through three names. One finding, at
    # the call, naming the chain; none at `workers = web_concurrency`.
    config = (
        "import multiprocessing\nimport os\n\n"
        'web_concurrency_str = os.getenv("WEB_CONCURRENCY", None)\n'
        "cores = multiprocessing.cpu_count()\n"
        "default_web_concurrency = 1.0 * cores\n"
        "if web_concurrency_str:\n    web_concurrency = int(web_concurrency_str)\n"
        "else:\n    web_concurrency = max(int(default_web_concurrency), 2)\n"
        "workers = web_concurrency\n"
    )
    result = project(tmp_path, {"gunicorn.conf.py": config, "app/main.py": APP})
    (finding,) = [d for d in result.diagnostics if d.code == "FL601"]
    assert (finding.path, finding.line, finding.column) == ("gunicorn.conf.py", 5, 9)
    names = ["multiprocessing.cpu_count()", "cores", "default_web_concurrency", "web_concurrency"]
    assert "(" + " \u2192 ".join([*names, "workers"]) + ")" in finding.message
    assert finding.severity.value == "warning"  # the CPU count only when WEB_CONCURRENCY is unset


def test_cpu_count_in_another_module_is_reported_there(tmp_path: Path) -> None:
    files = {
        "gunicorn.conf.py": "from app.sizing import WORKERS\n\nworkers = WORKERS\n",
        "app/sizing.py": "import os\n\nWORKERS = (os.cpu_count() or 1) * 2\n",
        "app/main.py": APP,
    }
    result = project(tmp_path, files)
    (finding,) = [d for d in result.diagnostics if d.code == "FL601"]
    assert (finding.path, finding.line) == ("app/sizing.py", 3)
    assert "os.cpu_count() \u2192 WORKERS \u2192 workers at gunicorn.conf.py:3" in finding.message


def test_tiangolo_base_image_runs_its_own_gunicorn(tmp_path: Path) -> None:
    files = {
        "Dockerfile": "FROM tiangolo/uvicorn-gunicorn-fastapi:python3.11-slim\nCOPY ./app /app\n",
        "app/main.py": APP,
    }
    server = only_server(deployment(tmp_path, files))
    assert (server.kind, server.base_image) == (
        "gunicorn",
        "tiangolo/uvicorn-gunicorn-fastapi:python3.11-slim",
    )
    workers = server.workers
    assert workers is not None and workers.cpu_fallback and workers.as_int() == 4
    assert workers.variables == ("WEB_CONCURRENCY",)
    # MAX_WORKERS caps the CPU-based count: the project sized it, so it is not judged.
    capped = {**files, "Dockerfile": files["Dockerfile"] + "ENV MAX_WORKERS=3\n"}
    capped_workers = only_server(deployment(tmp_path / "capped", capped)).workers
    assert capped_workers is not None and not capped_workers.cpu_fallback
