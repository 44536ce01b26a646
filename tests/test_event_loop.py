"""Unit tests for the event-loop rules' parts: catalogue matching, call graph, option, hook."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fastlint.config import build_settings
from fastlint.diagnostics import Diagnostic
from fastlint.engine import lint
from fastlint.python import blocking, catalogue
from fastlint.python.blocking import call_graph
from fastlint.python.catalogue import BlockingLeaf
from fastlint.python.module import PythonModule
from fastlint.python.parsing import parse_python
from fastlint.python.project import Project


def project_of(**sources: str) -> Project:
    """A project from ``module_name=source`` pairs (``app__svc`` is ``app.svc``)."""
    modules = []
    for key, source in sources.items():
        name = key.replace("__", ".")
        text = textwrap.dedent(source)
        modules.append(
            PythonModule(name.replace(".", "/") + ".py", text, parse_python(text), name, False)
        )
    return Project(modules)


def lint_sources(tmp_path: Path, options: dict | None = None, **sources: str) -> list[Diagnostic]:
    for key, source in sources.items():
        path = tmp_path / (key.replace("__", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    settings = build_settings({"options": options or {}, "select": ["FL1"]})
    return lint([tmp_path], settings, root=tmp_path, cwd=tmp_path).diagnostics


# ---------------------------------------------------------------------------- catalogue


@pytest.mark.parametrize(
    ("path", "category"),
    [
        ("time.sleep", "sleep"),
        ("requests.get", "HTTP"),
        ("requests.Session().post", "HTTP"),
        ("httpx.Client().get", "HTTP"),
        ("httpx.get", "HTTP"),
        ("subprocess.run", "subprocess"),
        ("os.spawnlp", "subprocess"),
        ("builtins.open", "file I/O"),
        ("pathlib.Path().read_text", "file I/O"),
        ("passlib.context.CryptContext().verify", "password hashing"),
        ("pwdlib.PasswordHash.recommended().hash", "password hashing"),
        ("sqlite3.connect().cursor().fetchall", "sync DB driver"),
        ("pymongo.MongoClient().shop.orders.insert_one", "sync DB driver"),
        ("redis.Redis().get", "sync Redis"),
        ("redis.Redis().pipeline().execute", "sync Redis"),
        ("smtplib.SMTP().sendmail", "blocking network I/O"),
        ("boto3.client().put_object", "boto3"),
        ("boto3.resource().Bucket().upload_file", "boto3"),
        ("celery.Celery().send_task", "Celery publish"),
        ("builtins.input", "console input"),
    ],
)
def test_catalogue_matches(path: str, category: str) -> None:
    leaf = catalogue.match(path)
    assert leaf is not None and leaf.category == category


@pytest.mark.parametrize(
    "path",
    [
        "httpx.AsyncClient().get",  # async client: awaited, never blocks
        "httpx.AsyncClient",
        "redis.asyncio.Redis().get",
        "redis.asyncio.from_url().get",
        "redis.Redis().pipeline",  # builds a pipeline locally
        "requests.HTTPError",  # raising an exception is not a request
        "requests.get().json",  # the response is already there
        "requests.Session",  # creating a session sends nothing
        "aiohttp.ClientSession().get",
        "boto3.client",
        "boto3.client().get_paginator",
        "boto3.client().exceptions.NoSuchKey",
        "boto3.client().generate_presigned_url",  # signed locally
        "boto3.resource().Bucket().Object",  # a local resource handle
        "os.waitstatus_to_exitcode",
        "hashlib.sha256",
        "time.time",
        "mytime.sleep",
        "app.services.sleep",
        None,
    ],
)
def test_catalogue_ignores_look_alikes(path: str | None) -> None:
    assert catalogue.match(path) is None


def test_every_entry_names_a_known_category_and_compiles() -> None:
    for pattern, category in catalogue.CATALOGUE.items():
        assert category in catalogue.CATEGORIES, pattern
        assert catalogue._compile((pattern,)) is not None
    assert len(catalogue.CATALOGUE) >= 60


def test_file_io_is_a_warning_and_suggestions_are_asyncio_flavoured() -> None:
    assert catalogue.CATEGORIES["file"].severity == "warning"
    for category in catalogue.CATEGORIES.values():
        assert "trio" not in category.suggestion


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("supabase.Client.table", "supabase.Client().table", True),  # users omit "()"
        ("supabase.Client().table", "supabase.Client().table", True),
        ("supabase.Client.table", "supabase.Client().from_", False),
        ("mylib.slow_fn", "mylib.slow_fn", True),
        ("mylib.slow_fn", "mylib.slow_fn_fast", False),
        ("vendor.sdk.*", "vendor.sdk.upload", True),
        ("vendor.sdk.*", "vendor.sdk.nested.upload", False),  # "*" is one name
        ("vendor.{a,b}", "vendor.b", True),
    ],
)
def test_blocking_calls_option_patterns(pattern: str, path: str, matches: bool) -> None:
    leaf = catalogue.match(path, (pattern,))
    assert (leaf is not None) == matches
    if leaf is not None:
        assert leaf.category == "blocking-calls option"


def test_display_hides_instance_marks_and_builtins() -> None:
    assert catalogue.display("httpx.Client().get") == "httpx.Client.get"
    assert catalogue.display("builtins.open") == "open"


# ---------------------------------------------------------------------------- call graph

CYCLE = """
import time

def first(n):
    time.sleep(1)
    second(n)

def second(n):
    first(n)

def selfish(n):
    return selfish(n - 1) if n else 0

async def route():
    second(1)
    selfish(3)
"""


def test_cycles_terminate_and_members_see_each_others_leaves() -> None:
    project = project_of(app__svc=CYCLE)
    graph = call_graph(project)
    chain = graph.chain("app.svc.second")
    assert chain is not None
    assert chain.text() == "svc.second() → svc.first() → time.sleep (sleep)"
    assert graph.chain("app.svc.selfish") is None


def test_graph_is_built_once_per_project_and_option_set() -> None:
    project = project_of(app__svc=CYCLE)
    assert call_graph(project) is call_graph(project)
    assert call_graph(project, ("x.y",)) is not call_graph(project)


def test_error_leaf_wins_over_a_warning_leaf() -> None:
    project = project_of(
        app__svc="""
        import requests

        def read():
            return open("f").read()

        def both():
            read()
            requests.get("u")
        """
    )
    chain = call_graph(project).chain("app.svc.both")
    assert chain is not None and chain.leaf.severity == "error"
    assert chain.leaf.description == "requests.get"


def test_celery_delay_on_a_project_task_is_a_leaf() -> None:
    project = project_of(
        app__worker="""
        from celery import Celery

        celery_app = Celery("w")

        @celery_app.task
        def send_email(to):
            pass

        def plain(to):
            pass

        def enqueue(to):
            send_email.delay(to)
            plain(to)
        """
    )
    chain = call_graph(project).chain("app.worker.enqueue")
    assert chain is not None and chain.leaf.category == "Celery publish"
    assert call_graph(project).chain("app.worker.plain") is None


def test_leaf_classifier_hook_feeds_fl102_but_not_fl101(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow_orm(project, module, site):  # type: ignore[no-untyped-def]
        func = site.node.func
        if getattr(getattr(func, "attr", None), "value", None) == "slow_query":
            return BlockingLeaf("sync ORM", "orm.slow_query", "use the async ORM")
        return None

    monkeypatch.setattr(blocking, "CLASSIFIERS", (*blocking.CLASSIFIERS, slow_orm))
    found = lint_sources(
        tmp_path,
        app__routes="""
        def helper(db):
            return db.slow_query()

        async def route(db):
            db.slow_query()
            return helper(db)
        """,
    )
    assert [(d.code, d.line) for d in found] == [("FL102", 7)]
    assert "orm.slow_query (sync ORM)" in found[0].message


# ---------------------------------------------------------------------------- rules end to end


def test_blocking_calls_option_extends_the_catalogue(tmp_path: Path) -> None:
    source = """
    import mylib

    async def route():
        mylib.slow_fn()
    """
    assert lint_sources(tmp_path / "off", app__r=source) == []
    found = lint_sources(tmp_path / "on", {"blocking-calls": ["mylib.slow_fn"]}, app__r=source)
    assert [(d.code, d.line) for d in found] == [("FL101", 5)]


def test_messages_say_what_why_and_fix(tmp_path: Path) -> None:
    found = lint_sources(
        tmp_path,
        app__services="""
        import time
        import requests

        def _get(url):
            return requests.get(url)

        def fetch_rates():
            return _get("u")

        async def rates():
            time.sleep(1)
            return fetch_rates()
        """,
    )
    assert [d.message for d in found] == [
        "time.sleep() blocks the event loop for every request; use 'await asyncio.sleep()'.",
        "Sync helper call rates() → services.fetch_rates() → services._get() → requests.get "
        "(HTTP) blocks the event loop, stalling every request while it runs; run it with "
        "'await asyncio.to_thread(fetch_rates, ...)' or make the helper async (use "
        "'httpx.AsyncClient' or 'aiohttp' and await the request).",
    ]
