"""Shared fixtures: real SQLite files, and a real PostgreSQL database per test when
SESSION_TUI_TEST_POSTGRES is set (a URL to a server where we may create databases)."""

from __future__ import annotations

import asyncio
import inspect
import os
import queue
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from session_tui.data.db import Database, open_database

PG_ENV = "SESSION_TUI_TEST_POSTGRES"
PG_SKIP_REASON = f"PostgreSQL tests skipped: set {PG_ENV} to a server URL to run them"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests (Textual Pilot) in a fresh event loop; no asyncio plugin needed."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    if pyfuncitem.config.pluginmanager.hasplugin("asyncio"):
        return None  # pytest-asyncio, if installed later, runs them
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    asyncio.run(pyfuncitem.obj(**kwargs))
    return True


def _run_order(item: pytest.Item) -> int:
    """Longest first: the slow-marked tests, then the UI and reliability suites (an app
    start each), then the rest, so that the xdist workers finish together instead of one
    running the benchmark smoke test (the longest single test) alone at the end."""
    if item.get_closest_marker("slow") is not None:
        return 0 if Path(str(item.fspath)).name == "test_bench_smoke.py" else 1
    parts = Path(str(item.fspath)).parts
    return 2 if "ui" in parts or "reliability" in parts else 3


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_run_order)  # stable: a module's tests stay together, in order


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the user's real data directory or database."""
    data = tmp_path / "data"
    monkeypatch.setenv("SESSION_TUI_DATA_DIR", str(data))
    monkeypatch.delenv("SESSION_TUI_DB", raising=False)
    # nor the user's settings file (tests that want one write it and point here)
    monkeypatch.setenv("SESSION_TUI_CONFIG", str(tmp_path / "no-config" / "config.toml"))
    return data


def _pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _as_psycopg(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


class _PgDatabases:
    """This worker's PostgreSQL test databases.

    A migrated template is made once (at first use), and a test that opens `db` gets a
    copy of it (CREATE DATABASE ... TEMPLATE: the same schema the migrations write,
    without running them again). Dropping a database makes the server checkpoint (PG
    15), so drops go to background threads and do not hold up the next test; several
    at once share one checkpoint. The session waits for them at its end (and retries
    any that failed, so that a failure is seen). A test that asks only for `pg_url` /
    `db_url` still gets an empty database."""

    DROPPERS = 4

    def __init__(self, admin_url: str) -> None:
        self.admin_url = _as_psycopg(admin_url)
        self.admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.template: str | None = None
        self.to_drop: queue.Queue[str | None] = queue.Queue()
        self.failed: list[str] = []
        self.droppers = [
            threading.Thread(target=self._drop_loop, name="test-pg-drop", daemon=True)
            for _ in range(self.DROPPERS)
        ]
        for thread in self.droppers:
            thread.start()

    def url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def create(self, *, migrated: bool) -> str:
        name = f"st_test_{uuid.uuid4().hex[:12]}"
        template = f' TEMPLATE "{self._template()}"' if migrated else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
        return name

    def _template(self) -> str:
        if self.template is None:
            name = self.create(migrated=False)
            open_database(self.url(name)).dispose()  # no connection may stay on a template
            self.template = name
        return self.template

    def drop_later(self, name: str) -> None:
        self.to_drop.put(name)

    def _drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _drop_loop(self) -> None:
        while (name := self.to_drop.get()) is not None:
            try:
                self._drop(name)
            except Exception:  # noqa: BLE001 - retried by close(), which lets it raise
                self.failed.append(name)

    def close(self) -> None:
        for _ in self.droppers:
            self.to_drop.put(None)
        for thread in self.droppers:
            thread.join()
        for name in [*self.failed, *([self.template] if self.template else [])]:
            self._drop(name)
        self.admin.dispose()


@pytest.fixture(scope="session")
def _pg_databases() -> Iterator[_PgDatabases]:
    admin = _pg_admin_url()
    if not admin:
        pytest.skip(PG_SKIP_REASON)
    databases = _PgDatabases(admin)
    yield databases
    databases.close()


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database; dropped afterwards. Empty, unless
    the test opens it through `db` (which would migrate it anyway): then a copy of
    the migrated template."""
    admin = _pg_admin_url()
    if not admin:
        pytest.skip(PG_SKIP_REASON)
    databases: _PgDatabases = request.getfixturevalue("_pg_databases")
    name = databases.create(migrated="db" in request.fixturenames)
    try:
        yield databases.url(name)
    finally:
        databases.drop_later(name)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A freshly migrated SQLite file's bytes, made once per worker."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    open_database(f"sqlite:///{path}").dispose()
    assert not path.with_name(path.name + "-wal").exists()  # all in the main file
    return path.read_bytes()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run the test once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("pg_url"))


def _open_migrated(url: str, request: pytest.FixtureRequest) -> Database:
    """open_database(url), migrated; a new SQLite file starts as a copy of the
    migrated template (the same file the migrations write, made once)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database:
        path = Path(u.database)
        if not path.exists():
            path.write_bytes(request.getfixturevalue("_sqlite_template"))
    return open_database(url)


@pytest.fixture
def db(db_url: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    database = _open_migrated(db_url, request)
    yield database
    database.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One migrated database per backend for a whole module, for tests that only read
    what a module-scoped fixture wrote into it (a test that writes takes `db`)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("module") / "module.db"
        database = _open_migrated(f"sqlite:///{path}", request)
        yield database
        database.dispose()
        return
    databases: _PgDatabases = request.getfixturevalue("_pg_databases")
    name = databases.create(migrated=True)
    database = open_database(databases.url(name))
    try:
        yield database
    finally:
        database.dispose()
        databases.drop_later(name)


@pytest.fixture(scope="module")
def module_people_db(module_db: Database, request: pytest.FixtureRequest) -> Database:
    """`module_db` holding the test module's PEOPLE ((email, first, last) tuples),
    written once: for the module's tests that only read them."""
    from tests.helpers import add_contacts

    add_contacts(module_db, request.module.PEOPLE)
    return module_db


@pytest.fixture
def sqlite_db(sqlite_url: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    database = _open_migrated(sqlite_url, request)
    yield database
    database.dispose()
