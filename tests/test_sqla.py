"""Unit tests for fastlint.python.sqla: what a name holds, and the engine facts."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from fastlint.python.module import PythonModule
from fastlint.python.parsing import parse_python
from fastlint.python.project import Project
from fastlint.python.sqla import DbKind, find_engines, kind_of, sync_db_call


def project_of(**sources: str) -> Project:
    """A project from ``module_name=source`` pairs (``app__db`` is ``app.db``)."""
    modules = []
    for key, source in sources.items():
        name = key.replace("__", ".")
        text = textwrap.dedent(source)
        path = name.replace(".", "/") + ".py"
        modules.append(PythonModule(path, text, parse_python(text), name, False))
    return Project(modules)


def kind_in(project: Project, module_name: str, function: str | None, expr: str) -> DbKind | None:
    """The kind of ``expr`` read at the end of ``function`` (or at module level)."""
    module = project.by_name[module_name]
    scope = module.model.scope
    if function is not None:
        info = module.model.function_by_qualname(function)
        assert info is not None
        scope = info.scope
    return kind_of(project, module, cst.parse_expression(expr), scope)


# ---------------------------------------------------------------------------- find_engines

ENGINES = """
import os
from sqlalchemy import create_engine as ce
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import create_engine as sqlmodel_engine

POOL = 20
settings = object()

default = ce("postgresql://db/app")
constant = ce("postgresql://db/app", pool_size=POOL, max_overflow=0)
dynamic = create_async_engine(os.environ["DB_URL"], pool_size=settings.pool, max_overflow=-1)
nullpool = create_async_engine("postgresql+asyncpg://db/app", poolclass=NullPool)
spread = ce("sqlite://", **{"pool_size": 3})
model = sqlmodel_engine("sqlite:///db.sqlite3")


def create_engine(url):  # a project function of the same name is not SQLAlchemy's
    return url


create_engine("x")
"""


def test_find_engines_reads_pool_settings() -> None:
    project = project_of(app__db=ENGINES)
    facts = find_engines(project)
    table = [
        (f.is_async, f.pool_size, f.max_overflow, f.null_pool, f.url)
        for f in sorted(facts, key=lambda fact: project.by_name["app.db"].location(fact.node).line)
    ]
    assert table == [
        (False, 5, 10, False, "postgresql://db/app"),  # SQLAlchemy defaults when absent
        (False, 20, 0, False, "postgresql://db/app"),  # module constant resolved
        (True, None, -1, False, None),  # settings-driven: unknown
        (True, 5, 10, True, "postgresql+asyncpg://db/app"),
        (False, None, None, False, "sqlite://"),  # **kwargs may set anything
        (False, 5, 10, False, "sqlite:///db.sqlite3"),
    ]
    assert all(fact.module.name == "app.db" for fact in facts)
    assert all(fact.function is None for fact in facts)  # all at module level
    assert all(isinstance(fact.node, cst.Call) for fact in facts)


def test_find_engines_resolves_constants_imported_from_project_modules() -> None:
    project = project_of(
        app__config="POOL_SIZE = 12\n",
        app__db="""
            from sqlalchemy import create_engine
            from app.config import POOL_SIZE
            engine = create_engine("postgresql://db/app", pool_size=POOL_SIZE)
        """,
    )
    (fact,) = find_engines(project)
    assert (fact.pool_size, fact.max_overflow) == (12, 10)


# ---------------------------------------------------------------------------- kinds

SESSION_MODULE = """
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import scoped_session, sessionmaker

engine = create_engine("sqlite://")
async_engine = create_async_engine("sqlite+aiosqlite://")
SessionLocal = sessionmaker(autocommit=False, bind=engine)
AsyncLocal = async_sessionmaker(async_engine)
AsyncViaClass = sessionmaker(bind=async_engine, class_=AsyncSession)
Scoped = scoped_session(SessionLocal)
"""


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("engine", DbKind("engine", False)),
        ("async_engine", DbKind("engine", True)),
        ("SessionLocal", DbKind("factory", False)),
        ("SessionLocal()", DbKind("session", False)),
        ("SessionLocal.begin()", DbKind("session", False)),
        ("AsyncLocal()", DbKind("session", True)),
        ("AsyncViaClass()", DbKind("session", True)),  # class_=AsyncSession decides, not the path
        ("Scoped", DbKind("scoped", False)),
        ("engine.connect()", DbKind("connection", False)),
        ("async_engine.begin()", DbKind("connection", True)),
        ("engine.dispose()", None),
        ("print", None),
    ],
)
def test_kinds_in_defining_module(expr: str, expected: DbKind | None) -> None:
    project = project_of(app__db__session=SESSION_MODULE)
    assert kind_in(project, "app.db.session", None, expr) == expected


def test_factory_resolves_across_modules_and_module_attributes() -> None:
    project = project_of(
        app__db__session=SESSION_MODULE,
        app__db=("from app.db.session import SessionLocal as Local, AsyncViaClass\n"),
        app__deps="""
            from app.db import Local, AsyncViaClass
            from app.db import session as sessions
            import app.db.session

            def get_db():
                db = Local()
                other = sessions.SessionLocal()
                third = app.db.session.AsyncLocal()
                async_db = AsyncViaClass()
                yield db
        """,
    )
    assert kind_in(project, "app.deps", "get_db", "db") == DbKind("session", False)
    assert kind_in(project, "app.deps", "get_db", "other") == DbKind("session", False)
    assert kind_in(project, "app.deps", "get_db", "third") == DbKind("session", True)
    assert kind_in(project, "app.deps", "get_db", "async_db") == DbKind("session", True)


ROUTES = """
from typing import Annotated, Optional

from fastapi import Depends
from sqlalchemy.orm import Session
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Session as SQLModelSession

from app.db.session import SessionLocal, AsyncLocal

SessionDep = Annotated[Session, Depends(lambda: None)]


def get_db():
    with SessionLocal() as db:
        yield db


async def get_async_db():
    async with AsyncLocal() as session:
        yield session


def make_session():
    return SessionLocal()


async def route(
    annotated: Session,
    optional: Optional[Session],
    modern: Session | None,
    sqlmodel_session: SQLModelSession,
    injected=Depends(get_db),
    marker: Annotated[object, Depends(get_db)] = None,
    alias: SessionDep = None,
    asynchronous: AsyncSession = Depends(get_async_db),
    async_injected=Depends(get_async_db),
    plain=None,
    factory_dep=Depends(SessionLocal),
):
    made = make_session()
    with SessionLocal() as in_with:
        pass
"""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("annotated", DbKind("session", False)),
        ("optional", DbKind("session", False)),
        ("modern", DbKind("session", False)),
        ("sqlmodel_session", DbKind("session", False)),
        ("injected", DbKind("session", False)),
        ("marker", DbKind("session", False)),
        ("alias", DbKind("session", False)),
        ("asynchronous", DbKind("session", True)),
        ("async_injected", DbKind("session", True)),
        ("plain", None),
        ("factory_dep", DbKind("session", False)),
        ("made", DbKind("session", False)),
        ("in_with", DbKind("session", False)),
    ],
)
def test_parameter_and_dependency_kinds(name: str, expected: DbKind | None) -> None:
    project = project_of(app__db__session=SESSION_MODULE, app__routes=ROUTES)
    assert kind_in(project, "app.routes", "route", name) == expected


def test_shadowing_parameter_is_not_the_factory() -> None:
    project = project_of(
        app__db__session=SESSION_MODULE,
        app__x="""
            from app.db.session import SessionLocal

            def f(SessionLocal):
                db = SessionLocal()
        """,
    )
    assert kind_in(project, "app.x", "f", "db") is None


def test_sync_db_call_is_precise_about_methods_and_await() -> None:
    project = project_of(
        app__db__session=SESSION_MODULE,
        app__x="""
            from sqlalchemy.orm import Session

            async def f(db: Session):
                db.add(1)
                db.query(1)
                await db.execute(1)
                db.commit()
        """,
    )
    module = project.by_name["app.x"]
    found = [sync_db_call(project, module, site) for site in module.model.calls]
    texts = [call.text for call in found if call is not None]
    assert texts == ["db.query()", "db.commit()"]  # add() is in memory; awaited means async


def test_project_classes_across_modules() -> None:
    project = project_of(
        app__models="""
            from sqlalchemy.orm import Session

            class Order:
                pass

            class TenantSession(Session):
                pass
        """,
        app__x="""
            from app.models import Order, TenantSession
            import app.models as models

            def f():
                order = Order()
                tenant = TenantSession()
                other = models.TenantSession()
        """,
    )
    assert kind_in(project, "app.x", "f", "order") is None
    assert kind_in(project, "app.x", "f", "tenant") == DbKind("session", False)
    assert kind_in(project, "app.x", "f", "other") == DbKind("session", False)


def test_import_cycles_terminate() -> None:
    project = project_of(
        app__a="from app.b import thing\n",
        app__b="from app.a import thing\n",
        app__c="""
            from app.a import thing

            def f():
                x = thing()
        """,
    )
    assert kind_in(project, "app.c", "f", "x") is None


def test_find_engines_on_the_multimodule_fixture() -> None:
    from fixture_support import FIXTURES

    from fastlint.config import build_settings
    from fastlint.engine import lint

    root = FIXTURES / "projects" / "db_multimodule"
    result = lint([root], build_settings({}), root=root, cwd=root)
    assert result.context is not None
    facts = find_engines(result.context.project)
    summary = sorted(
        (f.module.name, f.is_async, f.pool_size, f.max_overflow, f.function and f.function.name)
        for f in facts
    )
    assert summary == [
        ("app.db.session", False, 10, 10, None),  # POOL_SIZE imported from app.settings
        ("app.db.session", True, 5, 10, None),
        ("app.reporting", False, 5, 10, "reporting_engine"),
    ]


def test_sync_session_calls_are_registered_as_blocking_leaves() -> None:
    from fastlint.python.blocking import CLASSIFIERS
    from fastlint.python.sqla import blocking_leaf

    assert CLASSIFIERS.count(blocking_leaf) == 1
    project = project_of(
        app__db__session=SESSION_MODULE,
        app__crud="""
            from sqlalchemy.orm import Session

            def get_user(db: Session, user_id: int):
                db.add(user_id)
                return db.get(dict, user_id)
        """,
    )
    module = project.by_name["app.crud"]
    leaves = [blocking_leaf(project, module, site) for site in module.model.calls]
    found = [leaf for leaf in leaves if leaf is not None]
    assert [leaf.description for leaf in found] == ["db.get() on a synchronous SQLAlchemy Session"]
    assert found[0].category == "sync DB session"


@pytest.mark.parametrize(
    ("expr", "opened"),
    [
        ("SessionLocal()", DbKind("session", False)),
        ("AsyncLocal()", DbKind("session", True)),
        ("engine.connect()", DbKind("connection", False)),
        ("engine.raw_connection()", DbKind("connection", False)),
        ("engine.begin()", None),  # a context manager that closes itself
        ("SessionLocal.begin()", None),
        ("Scoped()", None),  # a registry closed by remove()
        ("sessionmaker()", None),  # a factory, not a session
    ],
)
def test_opened_kind(expr: str, opened: DbKind | None) -> None:
    from fastlint.python.sqla import opened_kind

    project = project_of(app__db__session=SESSION_MODULE)
    module = project.by_name["app.db.session"]
    call = cst.parse_expression(expr)
    assert isinstance(call, cst.Call)
    assert opened_kind(project, module, call, module.model.scope) == opened


def test_self_attributes_take_what_the_class_assigns() -> None:
    project = project_of(
        app__db__session=SESSION_MODULE,
        app__repo="""
            from dataclasses import dataclass

            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import Session

            from app.db.session import SessionLocal


            class UserRepo:
                def __init__(self, db: Session) -> None:
                    self.db = db
                    self.cache = {}

                def list(self):
                    rows = self.db
                    other = self.cache
                    return rows, other


            class Opened:
                def __init__(self) -> None:
                    self.db = None

                def open(self) -> None:
                    self.db = SessionLocal()

                def use(self):
                    db = self.db


            class Mixed:
                def __init__(self, db: Session, other) -> None:
                    self.db = db

                def swap(self, other) -> None:
                    self.db = other  # unknown: the attribute may hold anything

                def use(self):
                    db = self.db


            @dataclass
            class AsyncRepo:
                session: AsyncSession

                def use(self):
                    db = self.session


            def not_a_method(self):
                db = self.db
        """,
    )
    assert kind_in(project, "app.repo", "UserRepo.list", "rows") == DbKind("session", False)
    assert kind_in(project, "app.repo", "UserRepo.list", "other") is None
    assert kind_in(project, "app.repo", "Opened.use", "db") == DbKind("session", False)
    assert kind_in(project, "app.repo", "Mixed.use", "db") is None
    assert kind_in(project, "app.repo", "AsyncRepo.use", "db") == DbKind("session", True)
    assert kind_in(project, "app.repo", "not_a_method", "db") is None
