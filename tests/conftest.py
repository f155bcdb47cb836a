"""Shared fixtures: real SQLite files, and a real PostgreSQL database per test when
SESSION_TUI_TEST_POSTGRES is set (a URL to a server where we may create databases)."""

from __future__ import annotations

import asyncio
import inspect
import os
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


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database; dropped afterwards."""
    admin = _pg_admin_url()
    if not admin:
        pytest.skip(PG_SKIP_REASON)
    name = f"st_test_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(_as_psycopg(admin), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(_as_psycopg(admin)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run the test once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    yield database
    database.dispose()
