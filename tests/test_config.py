"""``[tool.fastlint]``: discovery of the file, validation, precedence defaults < file < CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastlint import registry
from fastlint.config import (
    ConfigError,
    Overrides,
    build_settings,
    find_config,
    load_settings,
    read_table,
)
from fastlint.diagnostics import Severity

ALL_CODES = {meta.code for meta in registry.all_metas()}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- finding the file


def test_found_upward_from_the_first_path(tmp_path: Path) -> None:
    config = write(tmp_path / "pyproject.toml", "[tool.fastlint]\n")
    nested = tmp_path / "app" / "api"
    nested.mkdir(parents=True)
    assert find_config(nested) == config
    assert find_config(write(nested / "routes.py", "")) == config


def test_search_stops_at_the_project_root(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.fastlint]\nselect = ['FL403']\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "app").mkdir()
    assert find_config(repo / "app") is None


def test_nearest_pyproject_wins(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.fastlint]\nselect = ['FL403']\n")
    inner = write(tmp_path / "service" / "pyproject.toml", "[project]\nname = 's'\n")
    assert find_config(tmp_path / "service") == inner
    settings, path = load_settings(None, tmp_path / "service")
    assert path == inner
    assert settings.enabled == ALL_CODES  # no [tool.fastlint] there: defaults


def test_no_config_anywhere_means_defaults(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    settings, path = load_settings(None, tmp_path)
    assert path is None
    assert settings.enabled == ALL_CODES
    assert settings.fail_on is Severity.INFO


def test_explicit_config_file_wins(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.fastlint]\nselect = ['FL401']\n")
    other = write(tmp_path / "ci.toml", "[tool.fastlint]\nselect = ['FL403']\n")
    settings, path = load_settings(other, tmp_path)
    assert path == other
    assert settings.enabled == {"FL403"}


def test_pyproject_without_table_is_empty(tmp_path: Path) -> None:
    assert read_table(write(tmp_path / "pyproject.toml", "[project]\nname='x'\n")) == {}


# ---------------------------------------------------------------------------- every key


def test_every_key_is_read(tmp_path: Path) -> None:
    config = write(
        tmp_path / "pyproject.toml",
        """
[tool.fastlint]
select = ["FL4"]
extend-select = ["FL201"]
ignore = ["FL402"]
exclude = ["migrations"]
extend-exclude = ["scripts/*.py"]
fail-on = "warning"

[tool.fastlint.per-file-ignores]
"tests/*" = ["FL403"]

[tool.fastlint.severity]
FL401 = "info"

[tool.fastlint.options]
max-file-size = 1000
""",
    )
    settings, _ = load_settings(config, tmp_path)
    assert settings.enabled == {"FL201", "FL401", "FL403", "FL404"}
    assert settings.all_excludes == ("migrations", "scripts/*.py")
    assert settings.fail_on is Severity.WARNING
    assert settings.severity_for("FL401", Severity.ERROR) is Severity.INFO
    assert settings.severity_for("FL403", Severity.WARNING) is Severity.WARNING
    assert settings.ignored_in("tests/api/test_x.py", "FL403")
    assert not settings.ignored_in("app/main.py", "FL403")
    assert not settings.ignored_in("tests/x.py", "FL401")
    assert settings.options == {"max-file-size": 1000}


def test_severity_override_accepts_a_prefix() -> None:
    settings = build_settings({"severity": {"FL4": "error"}})
    assert settings.severity_for("FL403", Severity.WARNING) is Severity.ERROR
    assert settings.severity_for("FL201", Severity.WARNING) is Severity.WARNING


@pytest.mark.parametrize("glob", ["tests", "tests/", "./tests", "tests/**", "test_*.py"])
def test_per_file_ignores_globs(glob: str) -> None:
    settings = build_settings({"per-file-ignores": {glob: ["FL403"]}})
    assert settings.ignored_in("tests/unit/test_app.py", "FL403")
    assert not settings.ignored_in("app/main.py", "FL403")


# ---------------------------------------------------------------------------- precedence


def test_precedence_defaults_file_cli() -> None:
    assert build_settings({}).fail_on is Severity.INFO
    table = {"fail-on": "warning", "select": ["FL401", "FL403"], "ignore": ["FL403"]}
    assert build_settings(table).fail_on is Severity.WARNING
    assert build_settings(table).enabled == {"FL401"}
    cli = Overrides(fail_on="error", select=["FL403"])
    settings = build_settings(table, cli)
    assert settings.fail_on is Severity.ERROR
    assert settings.enabled == {"FL403"}  # a CLI --select starts over


def test_cli_extend_select_and_ignore_layer_on_the_file() -> None:
    table = {"select": ["FL401"]}
    assert build_settings(table, Overrides(extend_select=["FL403"])).enabled == {"FL401", "FL403"}
    assert build_settings(table, Overrides(ignore=["FL401"])).enabled == set()
    both = Overrides(select=["FL4"], ignore=["FL402"])
    assert build_settings({}, both).enabled == {"FL401", "FL403", "FL404"}


def test_file_extend_select_without_select_keeps_defaults() -> None:
    assert build_settings({"extend-select": ["FL403"]}).enabled == ALL_CODES


def test_cli_exclude_adds_to_file_exclude() -> None:
    settings = build_settings({"exclude": ["a"]}, Overrides(exclude=["b"]))
    assert settings.all_excludes == ("a", "b")


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ({"selekt": ["FL401"]}, "selekt"),
        ({"select": "FL401"}, "'select'"),
        ({"select": [401]}, "'select'"),
        ({"ignore": ["FL999"]}, "'ignore'"),
        ({"extend-select": ["XYZ"]}, "'extend-select'"),
        ({"exclude": "build"}, "'exclude'"),
        ({"exclude": [1]}, "'exclude'"),
        ({"extend-exclude": [True]}, "'extend-exclude'"),
        ({"per-file-ignores": ["tests"]}, "'per-file-ignores'"),
        ({"per-file-ignores": {"tests/*": "FL403"}}, "per-file-ignores"),
        ({"per-file-ignores": {"tests/*": ["FL999"]}}, "FL999"),
        ({"fail-on": "fatal"}, "fail-on"),
        ({"fail-on": 2}, "'fail-on'"),
        ({"severity": {"FL403": "critical"}}, "severity.FL403"),
        ({"severity": {"FL999": "error"}}, "severity.FL999"),
        ({"severity": {"FL403": 1}}, "severity.FL403"),
        ({"severity": "error"}, "'severity'"),
        ({"options": {"no-such-option": 1}}, "no-such-option"),
        ({"options": {"max-file-size": "big"}}, "max-file-size"),
        ({"options": {"max-file-size": True}}, "max-file-size"),
        ({"options": {"max-file-size": -1}}, "max-file-size"),
        ({"options": []}, "'options'"),
    ],
)
def test_bad_config_names_the_key(table: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as error:
        build_settings(table)
    assert fragment in str(error.value)
    assert "\n" not in str(error.value)


def test_error_names_the_file(tmp_path: Path) -> None:
    config = write(tmp_path / "pyproject.toml", "[tool.fastlint]\nselect = ['FL999']\n")
    with pytest.raises(ConfigError, match=r"pyproject\.toml: 'select'"):
        load_settings(config, tmp_path)


def test_cli_errors_do_not_blame_the_file(tmp_path: Path) -> None:
    config = write(tmp_path / "pyproject.toml", "[tool.fastlint]\n")
    with pytest.raises(ConfigError) as error:
        load_settings(config, tmp_path, Overrides(select=["FL999"]))
    assert str(error.value).startswith("'--select'")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[tool.fastlint\n", "invalid TOML"),
        ("[tool]\nfastlint = 3\n", "must be a table"),
    ],
)
def test_unreadable_config(tmp_path: Path, text: str, fragment: str) -> None:
    config = write(tmp_path / "pyproject.toml", text)
    with pytest.raises(ConfigError, match=fragment):
        read_table(config)


def test_config_not_utf8(tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_bytes(b"[tool.fastlint]\n# \xff\n")
    with pytest.raises(ConfigError, match="UTF-8"):
        read_table(config)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "nope.toml", tmp_path)


@pytest.mark.parametrize(
    "table",
    [{"severity": {"FL101": "loud\nly"}}, {"severity": {"FL101": "a\r\nb"}}, {"unknown\nkey": 1}],
)
def test_a_value_with_a_line_break_still_gives_a_one_line_error(table: dict) -> None:
    with pytest.raises(ConfigError) as error:
        build_settings(table)
    assert "\n" not in str(error.value) and "\r" not in str(error.value)
