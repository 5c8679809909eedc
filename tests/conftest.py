"""Fixtures: a fresh database per test on SQLite (default) or PostgreSQL (ONEWINDOW_TEST_BACKEND=postgres)."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text

import engine.window.certificates  # noqa: F401 - registers the certificates table on Base.metadata
import engine.window.documents  # noqa: F401 - the documents table
import engine.files.registry  # noqa: F401 - the files table
import engine.runtime.migration  # noqa: F401 - registers the migration_runs/migration_items tables
import engine.supervision.tables  # noqa: F401 - registers the clock and notice tables
from engine.supervision.clocks import install as install_limits
from engine.model.catalogue import check
from engine.db import Base, make_engine, make_session_factory
from engine.model.deploy import deploy
from engine.runtime.services import Services
from engine.window.rules import install
from engine.runtime.webhooks import install as install_webhooks
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PG_ADMIN = os.environ.get("ONEWINDOW_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKEND = os.environ.get("ONEWINDOW_TEST_BACKEND", "sqlite")


def pg_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=2):
            return True
    except Exception:  # noqa: BLE001
        return False


def create_pg_database() -> str:
    import psycopg

    name = f"ow_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def catalogue():
    result = check()
    assert result.ok, "\n".join(map(str, result.problems))
    return result


@pytest.fixture(scope="session")
def pg_url():
    """A throw-away PostgreSQL database for this test run, migrated with Alembic."""
    if not pg_reachable():
        pytest.skip(f"no PostgreSQL server reachable at {PG_ADMIN}")
    url = create_pg_database()
    from engine.migrate import upgrade

    upgrade(url)
    yield url
    drop_pg_database(url)


@pytest.fixture
def db_url(request, tmp_path):
    if BACKEND == "postgres":
        url = request.getfixturevalue("pg_url")
        engine = make_engine(url)
        with engine.begin() as conn:
            names = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return url
    url = f"sqlite:///{tmp_path / 'test.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


USERS = [("front", ["front_desk"]), ("market1", ["market"]), ("market2", ["market"]), ("tax1", ["tax"]),
         ("social1", ["social"]), ("fund1", ["fund"]), ("police1", ["police"]), ("pickup1", ["pickup"]),
         ("admin", ["admin"]), ("nobody", ["visitors"]), ("citizen1", ["applicant"]), ("market_lead1", ["market_lead"]),
         ("market_head1", ["market_head"]), ("super1", ["supervisor"]), ("audit1", ["auditor"])]


def make_services(url: str, catalogue) -> Services:
    """Services with the window's rules (certificates sealed with a throw-away key), the catalogue deployed."""
    sv = Services(make_session_factory(make_engine(url)))
    install(sv, Ed25519PrivateKey.generate())
    install_limits(sv)
    install_webhooks(sv)
    with sv.uow() as s:
        deploy(s, catalogue)
    return sv


@pytest.fixture
def services(db_url, catalogue) -> Services:
    from tests.walk import add_users

    sv = make_services(db_url, catalogue)
    add_users(sv, USERS)
    yield sv
    sv.sessions.kw["bind"].dispose()


@pytest.fixture
def pg_services(pg_url, catalogue) -> Services:
    """Services on PostgreSQL regardless of the backend of this run (for concurrency tests)."""
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        names = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    sv = make_services(pg_url, catalogue)
    yield sv
    sv.sessions.kw["bind"].dispose()


APPLICANT = {"type": "company", "name": "示例科技有限公司", "credit_code": "91330206MA2XXXXX04", "phone": "13800000000"}


@pytest.fixture(autouse=True)
def _file_store(tmp_path, monkeypatch):
    """Material files of each test in a store of its own (content-addressed, so tests never share bytes)."""
    monkeypatch.setenv("ONEWINDOW_FILES", str(tmp_path / "files"))


@pytest.fixture(autouse=True)
def _fresh_app_services():
    """Each test's app gets a service layer of its own: on PostgreSQL every test reuses one database (truncated),
    so version ids repeat and a cached service layer would remember the previous test's versions."""
    from engine.bootstrap import services_for

    services_for.cache_clear()
    yield
    services_for.cache_clear()


@pytest.fixture
def cli_env(services, db_url) -> dict:
    """Environment for `onewindow` commands run in-process on this test's database."""
    return {"ONEWINDOW_DATABASE_URL": db_url}


@pytest.fixture(autouse=True)
def _stepping_checked(monkeypatch):
    """With ONEWINDOW_CHECK_STEPPING=1 every engine step of the suite compares engine.runtime.stepping's READY tasks
    with SpiffWorkflow's tree walk (slow; run now and then, and after upgrading SpiffWorkflow)."""
    if os.environ.get("ONEWINDOW_CHECK_STEPPING") != "1":
        yield
        return
    from SpiffWorkflow.util.task import TaskState

    from engine.runtime import stepping

    original = stepping.ready_tasks

    def ready_tasks(wf, top):
        ours = original(wf, top)
        assert [t.id for t in ours] == [t.id for t in wf.get_tasks(state=TaskState.READY)]
        return ours

    monkeypatch.setattr(stepping, "ready_tasks", ready_tasks)
    yield
