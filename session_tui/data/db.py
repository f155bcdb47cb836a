"""Opening a database: URL resolution, engine settings, migrations."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from session_tui import locations

ENV_VAR = "SESSION_TUI_DB"
# How long a statement waits for another session's lock before it fails with "the
# database is busy … try again": SQLite's busy_timeout, PostgreSQL's lock_timeout.
LOCK_WAIT_MS = 10_000
# The tables whose statistics `Database.analyze` refreshes after bulk work.
ANALYZED_TABLES = ("contact", "membership", "membership_event", "product")
# Fewer changed rows than this leave the statistics as they are (autovacuum's own
# threshold is 50 rows + 10% of the table; a one-contact delete should not pay a VACUUM).
ANALYZE_MIN_ROWS = 1_000


class DatabaseError(Exception):
    """A database could not be opened or used; the message is for the user."""


def resolve_url(arg: str | None = None) -> str:
    """`--db` wins, then $SESSION_TUI_DB, then the embedded default.

    Accepts a SQLAlchemy URL (`sqlite:///x.db`, `postgresql://…`) or a plain
    file path (a SQLite file).
    """
    raw = arg or os.environ.get(ENV_VAR) or ""
    if not raw:
        return f"sqlite:///{locations.default_db_path()}"
    if raw.startswith(("postgres://", "postgresql://")):
        rest = raw.split("://", 1)[1]
        return f"postgresql+psycopg://{rest}"
    if "://" in raw:
        return raw
    return f"sqlite:///{Path(raw).expanduser().resolve()}"


def _sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _create_private_file(path: Path) -> None:
    """Create a new SQLite file private: 0600 (SQLite gives its -wal/-shm files the
    same mode). An existing file keeps its mode: a file the user made read-only
    (0400) or shares with a group (0660) is not silently changed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return  # another process created it meanwhile
    os.close(fd)
    try:
        os.chmod(path, 0o600)  # whatever the umask
    except OSError:
        pass


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def _on_sqlite_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy manage transactions explicitly (BEGIN issued below).
    dbapi_conn.isolation_level = None
    dbapi_conn.create_function("st_lower", 1, _lower, deterministic=True)
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_MS}")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA cache_size = -16384")  # 16 MiB per connection (peak memory)
    cur.execute("PRAGMA temp_store = MEMORY")
    try:
        cur.execute("PRAGMA journal_mode = WAL")
    except sqlite3.OperationalError:
        pass  # read-only file: reads still work
    cur.close()


def _on_postgres_connect(dbapi_conn: Any, _record: Any) -> None:
    # Without it a save waits forever behind an import's table lock; with it,
    # PostgreSQL behaves like SQLite's busy_timeout: wait, then a clear message.
    with dbapi_conn.cursor() as cur:
        cur.execute(f"SET lock_timeout = {LOCK_WAIT_MS}")
    dbapi_conn.commit()  # a SET inside a transaction the pool rolls back would be undone


def _on_sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


@dataclass
class Database:
    """An open database: the engine plus which dialect it speaks."""

    url: str
    engine: Engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name  # "sqlite" or "postgresql"

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def display_name(self) -> str:
        """URL without password, for the title bar."""
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()

    def analyze(self, changed: int, tables: Iterable[str] = ANALYZED_TABLES) -> bool:
        """Refresh the planner's statistics after bulk work that changed `changed` rows.

        PostgreSQL only, and only from ANALYZE_MIN_ROWS changed rows on: `VACUUM ANALYZE`
        of `tables` in autocommit (VACUUM cannot run in a transaction), called at the
        end of `demo`, `import`, a bulk delete and a restore. The server this tool
        shares may run without autovacuum, and a planner that believes a 1M-row table
        empty picks sequential scans; VACUUM also marks the pages all-visible, which the
        index-only scans of the filter counts need (docs/performance.md). The data is
        committed before this is called, so a failure here (a lock held too long, a lost
        connection) is not the operation's failure: it is swallowed and False returned.
        SQLite (plans come from the indexes; no sqlite_stat1 is kept) and small changes:
        nothing to do, False. True when the statistics were refreshed.
        """
        if self.dialect != "postgresql" or changed < ANALYZE_MIN_ROWS:
            return False
        names = [t for t in tables if t in ANALYZED_TABLES]
        if not names:
            return False
        quote = self.engine.dialect.identifier_preparer.quote
        sql = "VACUUM ANALYZE " + ", ".join(quote(t) for t in names)
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(sql)
        except Exception:  # noqa: BLE001 - statistics only; the data is already committed
            return False
        return True


def make_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if path is not None:
            _create_private_file(path)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            poolclass=NullPool if path is None else None,
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    if u.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _on_postgres_connect)
    return engine


def open_database(url: str | None = None, *, migrate: bool = True) -> Database:
    """Open (and by default create/upgrade) the database at `url`.

    Raises DatabaseError with a one-line message the user can act on.
    """
    resolved = resolve_url(url)
    try:
        engine = make_engine(resolved)
        db = Database(resolved, engine)
        if migrate:
            from session_tui.data.migrate import ensure_current

            ensure_current(db)  # imports Alembic only when a migration is pending
        else:
            with engine.connect():
                pass
    except DatabaseError:
        raise
    except Exception as exc:  # noqa: BLE001 - turned into a message for the user
        raise DatabaseError(describe_error(exc, resolved)) from exc
    return db


# PostgreSQL ended our session (restart, pg_terminate_backend, network): the
# transaction in progress was rolled back by the server.
_CONNECTION_LOST = (
    "terminating connection",
    "server closed the connection unexpectedly",
    "ssl connection has been closed unexpectedly",
    "consuming input failed",
)


def describe_error(exc: BaseException, url: str = "") -> str:
    """A one-line, user-facing description of a database exception."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    where = make_url(url).render_as_string(hide_password=True) if url else ""
    low = first.lower()
    if "readonly" in low or "read-only" in low:
        folder = _read_only_folder(url)
        if folder is not None:
            return (
                f"the database's folder is read-only ({folder}): SQLite needs to create "
                f"its -wal and -shm files beside the database: {where}"
            )
        return f"the database is read-only: {where}"
    if "disk is full" in low or "no space" in low:
        return "the disk is full: nothing was written"
    if "database is locked" in low or "lock timeout" in low:
        return "the database is busy (another program holds a lock); try again"
    if any(lost in low for lost in _CONNECTION_LOST):
        return f"lost the connection to the database server ({where}); try again"
    if "connection" in low and ("refused" in low or "failed" in low or "closed" in low):
        return f"cannot reach the database server ({where}): {first}"
    if "unable to open database" in low:
        return f"cannot open the database file: {where}"
    return f"{first} ({where})" if where else first


def _read_only_folder(url: str) -> Path | None:
    """The folder of a SQLite file when we may not create files in it, else None."""
    try:
        path = _sqlite_path(url) if url else None
    except Exception:  # noqa: BLE001 - only a better message is at stake
        return None
    if path is None:
        return None
    folder = path.parent
    effective = os.access in os.supports_effective_ids
    if folder.is_dir() and not os.access(folder, os.W_OK, effective_ids=effective):
        return folder
    return None
