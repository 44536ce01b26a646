"""Command-line splitting and static word expansion (fastlint.deploy.commands / servers)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastlint.deploy.commands import copies_and_exits, expand, split_line, split_script
from fastlint.deploy.procfile import procfile_entries
from fastlint.deploy.servers import parse_server_args


def words_of(text: str) -> list[list[str]]:
    return [command.words for command in split_script(text)]


# ---------------------------------------------------------------------------- splitting


def test_chains_split_into_simple_commands_with_connectors() -> None:
    commands = split_line("alembic upgrade head && exec gunicorn app:app; echo done || true")
    assert [c.words for c in commands] == [
        ["alembic", "upgrade", "head"],
        ["gunicorn", "app:app"],
        ["echo", "done"],
        ["true"],
    ]
    assert [c.connector for c in commands] == ["", "&&", ";", "||"]
    assert [c.exec for c in commands] == [False, True, False, False]


def test_assignment_prefixes_and_exec_are_taken_off_the_words() -> None:
    (command,) = split_line("WEB_CONCURRENCY=3 GUNICORN_CMD_ARGS='-k x' exec gunicorn app:app")
    assert command.assignments == {"WEB_CONCURRENCY": "3", "GUNICORN_CMD_ARGS": "-k x"}
    assert command.exec and command.words == ["gunicorn", "app:app"]


def test_background_and_redirections() -> None:
    first, second = split_line("uvicorn app:app 2>&1 >/tmp/log & wait")
    assert first.words == ["uvicorn", "app:app"] and first.background
    assert second.words == ["wait"]


def test_redirection_does_not_eat_digits_inside_words() -> None:
    (command,) = split_line("gunicorn -w 4 --bind 0.0.0.0:8000 app:app 2>/dev/null")
    assert command.words == ["gunicorn", "-w", "4", "--bind", "0.0.0.0:8000", "app:app"]


def test_continuation_lines_keep_each_words_line() -> None:
    script = "#!/bin/sh\nset -e\nexec gunicorn \\\n  -w 4 \\\n  app.main:app\n"
    commands = split_script(script)
    assert [c.words for c in commands] == [["set", "-e"], ["gunicorn", "-w", "4", "app.main:app"]]
    assert commands[1].line == 3
    assert commands[1].word_lines == [3, 4, 4, 5]


def test_quoted_string_spanning_lines_is_one_word() -> None:
    commands = split_script('sh -c "alembic upgrade head\n exec uvicorn app:app"\necho after\n')
    assert commands[0].words[:2] == ["sh", "-c"]
    assert "exec uvicorn app:app" in commands[0].words[2]
    assert commands[1].words == ["echo", "after"] and commands[1].line == 3


def test_compound_keywords_and_comments_are_skipped() -> None:
    script = 'if [ "$MIGRATE" = 1 ]; then\n  alembic upgrade head  # migrate\nfi\nexec "$@"\n'
    assert words_of(script) == [
        ["[", "$MIGRATE", "=", "1", "]"],
        ["alembic", "upgrade", "head"],
        ["$@"],
    ]


def test_unbalanced_quotes_give_no_commands() -> None:
    assert split_line('uvicorn "app:app') == []


# ---------------------------------------------------------------------------- expansion


@pytest.mark.parametrize(
    ("word", "env", "value"),
    [
        ("$PORT", {"PORT": "8000"}, "8000"),
        ("${PORT}", {"PORT": "8000"}, "8000"),
        ("${PORT:-80}", {}, "80"),
        ("0.0.0.0:${PORT:-80}", {"PORT": "8000"}, "0.0.0.0:8000"),
        ("$UNSET", {}, None),
        ("$(cat /etc/workers)", {}, None),
        ("$(( 2 * 3 + 1 ))", {}, "7"),
        ("$(( W * 2 ))", {"W": "3"}, "6"),
    ],
)
def test_expand_values(word: str, env: dict[str, str], value: str | None) -> None:
    (command,) = split_line(f"echo {word}")
    assert expand(command.words[1], env, command.substitutions).value == value


def test_nproc_is_the_cpu_count_and_marks_the_word() -> None:
    (command,) = split_line("gunicorn -w $(( 2 * $(nproc) + 1 )) app:app")
    word = expand(command.words[2], {}, command.substitutions, cpus=4)
    assert (word.value, word.cpu, word.cpu_fallback) == ("9", True, False)
    (command,) = split_line("gunicorn -w `nproc` app:app")
    assert expand(command.words[2], {}, command.substitutions, cpus=2).cpu


def test_nproc_behind_a_variable_is_only_a_fallback() -> None:
    (command,) = split_line('uvicorn app:app --workers "${WEB_CONCURRENCY:-$(nproc)}"')
    word = expand(command.words[3], {}, command.substitutions, cpus=4)
    assert (word.value, word.cpu, word.cpu_fallback) == ("4", False, True)
    assert word.variables == ("WEB_CONCURRENCY",)
    # Set in the environment: the fallback never runs.
    word = expand(command.words[3], {"WEB_CONCURRENCY": "3"}, command.substitutions)
    assert (word.value, word.cpu, word.cpu_fallback) == ("3", False, False)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_splitting_and_expansion_never_crash(text: str) -> None:
    for command in split_script(text):
        for word in command.words:
            expand(word, {}, command.substitutions)


# ---------------------------------------------------------------------------- servers


def test_gunicorn_options_and_target() -> None:
    parsed = parse_server_args(
        "gunicorn",
        [
            "-w4",
            "--worker-class=uvicorn_worker.UvicornWorker",
            "--timeout",
            "60",
            "--reload",
            "-c",
            "conf.py",
            "app.main:app",
        ],
    )
    assert parsed.value("workers") == "4"
    assert parsed.value("worker_class") == "uvicorn_worker.UvicornWorker"
    assert parsed.value("config") == "conf.py"
    assert "reload" in parsed.flags
    assert [word for _, word in parsed.positionals] == ["app.main:app"]


def test_uvicorn_flags_do_not_swallow_the_target() -> None:
    parsed = parse_server_args("uvicorn", ["--proxy-headers", "app:app", "--workers", "2"])
    assert [word for _, word in parsed.positionals] == ["app:app"]
    assert parsed.value("workers") == "2"


def test_procfile_entries_skip_comments() -> None:
    class Unit:
        lines = ["# platform", "web: gunicorn app:app", "", "release: alembic upgrade head"]

    entries = procfile_entries(Unit())
    assert [(e.name, e.command, e.line) for e in entries] == [
        ("web", "gunicorn app:app", 2),
        ("release", "alembic upgrade head", 4),
    ]


@pytest.mark.parametrize(
    ("argv", "copies"),
    [
        (["sh", "-c", "mkdir -p /out && rm -rf /out/* && cp -r /build/* /out/ && echo ok"], "cp"),
        (["/bin/sh", "-c", "rsync -a /build/ /out/"], "rsync"),
        (["cp", "-r", "/build", "/out"], "cp"),
        (["sh", "-c", "cp -r /static /shared && exec uvicorn app.main:app"], None),
        (["sh", "-c", "cp -r /static /shared; sleep infinity"], None),
        (["sh", "-c", "cp -r /static /shared & tail -f /dev/null"], None),
        (["sh", "-c", "echo starting"], None),
        (["uvicorn", "app.main:app"], None),
        ([], None),
    ],
)
def test_copies_and_exits(argv: list[str], copies: str | None) -> None:
    assert copies_and_exits(argv) == copies
