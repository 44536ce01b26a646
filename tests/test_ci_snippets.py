"""README's CI and pre-commit snippets and the GitHub Action work as written: each is run
against a clone of this repository (pip installs are checked, not run: `.ci/run` installs
exactly as README says)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
BIN = Path(sys.executable).parent  # this environment's fastlint and pre-commit


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FASTLINT_FORMAT", "NO_COLOR")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of this repository (its committed state), as a user would have."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout of fastlint")
    target = tmp_path_factory.mktemp("clone") / "fastlint"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True, timeout=120)
    return target


def test_readme_says_to_use_a_virtual_environment() -> None:
    setup = _section("Set up")
    assert "python3 -m venv .venv && . .venv/bin/activate" in setup
    assert "PEP 668" in setup
    ci = _section("CI")
    assert "python3 -m venv" in ci and "pip install fastlint" not in ci


def test_no_snippet_names_a_repository_or_tag_that_does_not_exist() -> None:
    for title in ("CI", "pre-commit"):
        section = _section(title)
        assert "OWNER/" not in section and "v0.1.0" not in section
        # Where a snippet depends on where fastlint is hosted, it says so with one placeholder.
        for line in section.splitlines():
            if "github.com/" in line and "YOUR-ORG" not in line:
                assert "codeql-action" in line or "actions/" in line, line


def test_local_hook_matches_the_published_hook() -> None:
    yaml = pytest.importorskip("yaml")
    local = yaml.safe_load(_blocks(_section("pre-commit"), "yaml")[0])["repos"][0]
    (published,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = local["hooks"]
    assert local["repo"] == "local"
    for key in ("id", "entry", "types_or", "files", "require_serial"):
        assert hook[key] == published[key], key


def test_pre_commit_runs_the_readme_config_on_a_clone(clone: Path, tmp_path: Path) -> None:
    if not (BIN / "pre-commit").exists() and shutil.which("pre-commit") is None:
        pytest.skip("pre-commit is not installed")
    config = _blocks(_section("pre-commit"), "yaml")[0]
    (clone / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    subprocess.run(["git", "add", ".pre-commit-config.yaml"], cwd=clone, check=True)
    pre_commit = str(BIN / "pre-commit") if (BIN / "pre-commit").exists() else "pre-commit"
    done = subprocess.run(
        [pre_commit, "run", "fastlint", "--all-files", "--color", "never"],
        cwd=clone,
        env=_env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home")),
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    output = done.stdout + done.stderr
    # The demo's findings fail the hook; the bad fixtures are excluded by the repository's
    # own [tool.fastlint], exactly as `fastlint .` would.
    assert done.returncode == 1, output
    assert "fastlint" in output and "Failed" in output
    assert "fixtures/demo/app/main.py:" in output and "FL403" in output
    assert "fixtures/python/" not in output
    # Compact: no deployment panel (titled "Deployment" in its top border), no units table, no
    # per-code table. A finding's message may name a Kubernetes Deployment.
    assert "─ Deployment ─" not in output and "Deployed units" not in output
    assert "Findings by rule" not in output


def _ci_commands() -> list[str]:
    (block,) = _blocks(_section("CI"), "bash")
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_ci_commands_run_in_a_shell_on_a_clone(clone: Path) -> None:
    commands = _ci_commands()
    assert commands[0] == "python3 -m venv .fastlint-venv && . .fastlint-venv/bin/activate"
    assert commands[1] == "pip install path/to/fastlint"
    # The install itself is what .ci/run does; here fastlint comes from the test environment.
    assert (REPO / "pyproject.toml").is_file()
    script = "set -u\n" + "\n".join(f'{command}; echo "exit $?" >&2' for command in commands[2:])
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=clone,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    statuses = [line for line in done.stderr.splitlines() if line.startswith("exit ")]
    assert statuses == ["exit 0", "exit 1"], done.stderr  # SARIF with --exit-zero; findings
    sarif = json.loads((clone / "fastlint.sarif").read_text(encoding="utf-8"))
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert "fixtures/demo/app/main.py" in uris
    assert done.stdout.splitlines()[-1].startswith("::notice title=fastlint::Found ")


# ---------------------------------------------------------------------------- the action


def _action() -> dict:
    yaml = pytest.importorskip("yaml")
    if not (REPO / "action.yml").is_file():
        pytest.skip("action.yml is not shipped in the sdist")
    return yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))


def test_action_is_composite_with_the_documented_inputs() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"paths", "args", "sarif", "python"}
    assert all("description" in spec for spec in action["inputs"].values())
    for step in action["runs"]["steps"]:
        assert step["shell"] == "bash"
        # Inputs reach scripts through env, never pasted into the script (script injection).
        assert "${{" not in step["run"]
    ci = _section("CI")
    for name in action["inputs"]:
        assert f"`{name}`" in ci


def _fake_python(folder: Path) -> Path:
    """Stands in for the runner's python3: `-m venv DIR` makes DIR/bin/python run this test
    environment's Python (which has fastlint), and `-m pip install X` only records X."""
    record = folder / "pip-installs.txt"
    wrapper = (
        "#!/usr/bin/env bash\n"
        'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then\n'
        f'  shift 2; echo "$@" >> "{record}"; exit 0\n'
        "fi\n"
        f'exec "{sys.executable}" "$@"\n'
    )
    fake = folder / "python3"
    fake.write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then\n'
        '  mkdir -p "$3/bin"\n'
        f"  cat > \"$3/bin/python\" <<'WRAPPER'\n{wrapper}WRAPPER\n"
        '  chmod +x "$3/bin/python"; exit 0\n'
        "fi\n"
        "exit 3\n"
    )
    fake.chmod(0o755)
    return fake


@pytest.mark.parametrize("sarif", ["fastlint.sarif", ""])
def test_action_steps_run_locally(clone: Path, tmp_path: Path, sarif: str) -> None:
    action = _action()
    inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    inputs.update(paths="fixtures/demo", args="--fail-on warning", sarif=sarif)
    inputs["python"] = str(_fake_python(tmp_path))
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    (clone / "fastlint.sarif").unlink(missing_ok=True)
    statuses = []
    outputs = []
    for step in action["runs"]["steps"]:
        env = _env(GITHUB_ACTION_PATH=str(REPO), RUNNER_TEMP=str(runner_temp))
        for key, value in step.get("env", {}).items():
            name = re.fullmatch(r"\$\{\{ inputs\.(\w+) \}\}", value).group(1)  # type: ignore[union-attr]
            env[key] = inputs[name]
        done = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
        statuses.append(done.returncode)
        outputs.append(done.stdout + done.stderr)
    assert statuses == [0, 1], outputs
    installs = (tmp_path / "pip-installs.txt").read_text().split()
    assert installs[-1] == str(REPO)  # from the action's own checkout
    annotations = outputs[1].splitlines()
    assert any(line.startswith("::error file=fixtures/demo/") for line in annotations)
    assert annotations[-1].startswith("::notice title=fastlint::Found ")
    if sarif:
        document = json.loads((clone / sarif).read_text(encoding="utf-8"))
        assert document["runs"][0]["results"]
    else:
        assert not (clone / "fastlint.sarif").exists()
