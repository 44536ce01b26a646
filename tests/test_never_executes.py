"""fastlint reads code and never runs it.

fixtures/projects/never_execute holds a gunicorn.conf.py, an app module with a ``__main__``
block, a setup.py and an entrypoint script that each write a marker file and connect to a socket
if executed (the folder and port come from FASTLINT_MARKER_DIR / FASTLINT_MARKER_PORT). We lint
it in a fresh interpreter that has those set and a listening socket waiting, then check that no
marker was written and nobody connected, and that the files were really analysed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from fixture_support import FIXTURES

PROJECT = FIXTURES / "projects" / "never_execute"


def test_linting_never_executes_the_project(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "FASTLINT_"))  # no startup hooks from the test run
    }
    env["FASTLINT_MARKER_DIR"] = str(markers)
    env["FASTLINT_MARKER_PORT"] = str(listener.getsockname()[1])
    try:
        completed = subprocess.run(
            # -I: isolated mode, so nothing from the working folder (a sitecustomize.py, say)
            # is importable by the interpreter itself; -S would also drop the editable install.
            [sys.executable, "-I", "-m", "fastlint", str(PROJECT), "--format", "json"],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            connection = None
    finally:
        listener.close()
    assert connection is None, "something linted connected to the test's socket"
    assert sorted(p.name for p in markers.iterdir()) == []
    assert completed.returncode == 1, completed.stderr  # the fixture's deliberate findings
    report = json.loads(completed.stdout)
    found = sorted((Path(d["path"]).name, d["code"]) for d in report["diagnostics"])
    # The deliberate findings prove both Python files were parsed and analysed, not skipped.
    assert found == [("gunicorn.conf.py", "FL605"), ("main.py", "FL101")]


_WATCHING: list[tuple[str, str]] = []  # audit events seen while the flag below is set
_WATCH = {"on": False}


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _WATCH["on"]:
        return
    if event == "exec":
        filename = getattr(args[0], "co_filename", "")
        if str(PROJECT) in str(filename):
            _WATCHING.append((event, str(filename)))
    elif event == "import" and len(args) > 1 and args[1] and str(PROJECT) in str(args[1]):
        _WATCHING.append((event, str(args[1])))
    elif event == "subprocess.Popen" or event == "socket.connect":
        _WATCHING.append((event, repr(args[:2])))


def test_in_process_lint_runs_no_project_code() -> None:
    # Audit hooks see every code object executed, every import and every process or socket
    # started; none may come from the linted project (hooks cannot be removed, hence the flag).
    from fastlint.config import default_settings
    from fastlint.engine import lint

    sys.addaudithook(_audit)
    before = set(sys.modules)
    _WATCH["on"] = True
    try:
        result = lint([PROJECT], default_settings(), root=PROJECT, cwd=PROJECT)
    finally:
        _WATCH["on"] = False
    assert _WATCHING == []
    assert not {"setup", "gunicorn", "app.main", "gunicorn.conf"} & (set(sys.modules) - before)
    assert {d.code for d in result.diagnostics} == {"FL101", "FL605"}


def test_fixture_files_would_leave_evidence_if_run(tmp_path: Path) -> None:
    # Guards the test above: if the fixture stopped writing markers when executed, "no marker"
    # would prove nothing. Run one file on purpose, in its own interpreter.
    env = {**os.environ, "FASTLINT_MARKER_DIR": str(tmp_path)}
    env.pop("FASTLINT_MARKER_PORT", None)
    subprocess.run(
        [sys.executable, "-I", str(PROJECT / "gunicorn.conf.py")], env=env, check=True, timeout=60
    )
    assert [p.name for p in tmp_path.iterdir()] == ["fastlint-executed-gunicorn-conf"]
