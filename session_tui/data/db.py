"""Opening a database: URL resolution, engine settings, migrations."""

from __future__ import annotations

import os
import random
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from session_tui import locations
from session_tui.data.redact import mask_secrets

ENV_VAR = "SESSION_TUI_DB"
# How long a statement waits for another session's lock before it fails with "the
# database is busy … try again": SQLite's busy_timeout, PostgreSQL's lock_timeout.
LOCK_WAIT_MS = 10_000
# The tables whose statistics `Database.analyze` refreshes after bulk work.
ANALYZED_TABLES = ("contact", "membership", "membership_event", "product")
# Fewer changed rows than this leave the statistics as they are (autovacuum's own
# threshold is 50 rows + 10% of the table; a one-contact delete should not pay a VACUUM).
ANALYZE_MIN_ROWS = 1_000

# A writing transaction that PostgreSQL aborts as a deadlock victim or a
# serialization failure is run again this many times in all, after a short
# jittered pause; then its error reaches the caller (describe_error: "try again").
WRITE_ATTEMPTS = 3
_RETRY_PAUSE_S = 0.05
# Connection execution option set by Database.write(): SQLite then starts the
# transaction with BEGIN IMMEDIATE (see _on_sqlite_begin).
_WRITE_OPTION = "session_tui_write"
# SQLSTATEs of a transaction that failed only because of other transactions.
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure
TRANSIENT_MESSAGE = (
    "other changes to the same contacts kept conflicting with this one; "
    "nothing was changed: try again"
)

T = TypeVar("T")


class DatabaseError(Exception):
    """A database could not be opened or used; the message is for the user."""


def resolve_url(arg: str | None = None, configured: str | None = None) -> str:
    """Which database: `--db` (`arg`) wins, then $SESSION_TUI_DB, then `database` in
    config.toml (`configured`), then the embedded default. The one place that decides.

    Accepts a SQLAlchemy URL (`sqlite:///x.db`, `postgresql://…`) or a plain
    file path (a SQLite file).
    """
    raw = arg or os.environ.get(ENV_VAR) or configured or ""
    if not raw:
        return f"sqlite:///{locations.default_db_path()}"
    if raw.startswith(("postgres://", "postgresql://")):
        rest = raw.split("://", 1)[1]
        return f"postgresql+psycopg://{_quote_password(rest)}"
    if raw == ":memory:":
        return "sqlite:///:memory:"  # refused by open_database, with the reason
    if "://" in raw:
        return raw
    return f"sqlite:///{Path(raw).expanduser().resolve()}"


def _quote_password(rest: str) -> str:
    """`user:p@ss@host/db` -> `user:p%40ss@host/db`: a password holding `@`, `/`, `?`,
    `#` or `:` is percent-encoded, so the URL parser neither cuts it at its first `@`
    (and connects to host `ss@host`, naming the rest of the password in its error)
    nor reads part of it as the host. The authority ends at the last `@`; an
    already-encoded password stays as it is."""
    userinfo, at, hostpart = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return rest
    user, _, password = userinfo.partition(":")
    if any(ch in user for ch in "@/?#"):
        return rest  # the "@" belongs to the path or the query, not to the authority
    return f"{user}:{quote(unquote(password), safe='')}@{hostpart}"


def _is_memory(u: URL) -> bool:
    """A SQLite URL of an in-memory database (`sqlite://`, `:memory:`, URI forms)."""
    name = u.database or ""
    if name in ("", ":memory:"):
        return True
    return name.startswith("file:") and (
        u.query.get("mode") == "memory" or name[5:].startswith(":memory:")
    )


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, None for another database or an in-memory one.
    A URI filename (`sqlite:///file:/x.db?mode=ro&uri=true`) gives `/x.db`."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or _is_memory(u):
        return None
    name = u.database or ""
    if name.startswith("file:") and str(u.query.get("uri", "")).lower() in ("true", "1"):
        name = unquote(name[5:])
        if name.startswith("//"):  # file://host/path or file:///path
            name = "/" + name[2:].partition("/")[2]
    return Path(name)


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def _refuse_unsuitable(url: str) -> None:
    """An in-memory SQLite database (lost at exit, and each connection would get an
    empty one) or a database path that is not a regular file (`/dev/null`: SQLite
    would create `/dev/null-journal` beside it) is refused with the reason."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return
    if _is_memory(u):
        raise DatabaseError(
            "an in-memory SQLite database is not supported: it would be empty for "
            "every connection and lost at exit; give a database file path"
        )
    path = _sqlite_path(url)
    try:
        mode = os.stat(path).st_mode if path is not None else None
    except OSError:
        return  # a new file, or one SQLite will report on
    if mode is None or stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise DatabaseError(f"{path} is {kind}, not a database file: give a SQLite file path")


def _create_private_file(path: Path) -> None:
    """Create a new SQLite file private: 0600 (SQLite gives its -wal/-shm files the
    same mode). An existing file keeps its mode: a file the user made read-only
    (0400) or shares with a group (0660) is not silently changed."""
    locations.make_private_dirs(path.parent)
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
    # A writer takes the write lock at BEGIN: a deferred transaction that reads
    # and then must upgrade to a write fails AT ONCE with "database is locked"
    # when another connection wrote meanwhile (busy_timeout does not apply to
    # that upgrade). BEGIN IMMEDIATE waits up to busy_timeout for its turn.
    write = conn.get_execution_options().get(_WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def is_transient(exc: BaseException) -> bool:
    """True for an error that says only "another transaction got in the way":
    PostgreSQL's deadlock_detected and serialization_failure. Running the whole
    transaction again is safe and normally succeeds."""
    if not isinstance(exc, DBAPIError):
        return False
    return getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES


def retry_transient(work: Callable[[], T], attempts: int = WRITE_ATTEMPTS) -> T:
    """Run `work()` (one whole transaction) again when it fails with a transient
    error (`is_transient`), at most `attempts` times in all, with a small
    jittered pause; the last failure is raised. `work` must roll back fully on
    failure, as a `with conn.begin()` block does."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            if attempt >= attempts or not is_transient(exc):
                raise
        time.sleep(_RETRY_PAUSE_S * attempt * (0.5 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


# The SQLite connections that each thread is reading on now (`Database.read`), and the
# threads whose reads are stopped (`stop_reads`), so that a read whose result nobody
# wants any more can be interrupted.
_READS: dict[int, list[Any]] = {}
_STOPPED: set[int] = set()
_READS_LOCK = threading.Lock()


class ReadsStopped(Exception):
    """A read begun in a thread whose reads are stopped (`stop_reads`)."""


@contextmanager
def _reading(raw: Any) -> Iterator[None]:
    me = threading.get_ident()
    with _READS_LOCK:
        if me in _STOPPED:
            raise ReadsStopped("reading was stopped: its result is not wanted any more")
        _READS.setdefault(me, []).append(raw)
    try:
        yield
    finally:
        with _READS_LOCK:
            mine = _READS[me]
            mine.pop()
            if not mine:
                del _READS[me]


def stop_reads(thread: int) -> bool:
    """Stop the SQLite reads (`Database.read`) of the thread `thread`: the statement
    running now fails at once with SQLite's "interrupted" (an OperationalError), and
    a read that thread begins later raises ReadsStopped, until `allow_reads(thread)`.
    The reader, told that its result is not wanted any more, drops the error.

    Used when a newer search or filter supersedes the one being counted: a count at
    a million rows is a scan of seconds, which would otherwise go on taking a core
    and, on a second connection, its own page cache (the app's peak memory). The
    caller must `allow_reads` before the thread does other work (a worker thread of
    a pool: in the `finally` of the work). True when a read was running."""
    with _READS_LOCK:
        _STOPPED.add(thread)
        raws = list(_READS.get(thread, ()))
        for raw in raws:
            raw.interrupt()
    return bool(raws)


def allow_reads(thread: int) -> None:
    """Let the thread `thread` read again after `stop_reads`."""
    with _READS_LOCK:
        _STOPPED.discard(thread)


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
        """The URL with every credential masked (`mask_secrets`): for the title bar,
        messages and backup headers."""
        return mask_secrets(self.url)

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
        ident = self.engine.dialect.identifier_preparer.quote
        sql = "VACUUM ANALYZE " + ", ".join(ident(t) for t in names)
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(sql)
        except Exception:  # noqa: BLE001 - statistics only; the data is already committed
            return False
        return True

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads only. PostgreSQL: in autocommit, so that a read is its
        statements alone, without the BEGIN and ROLLBACK round trips around them (each
        statement reads its own snapshot, as it does in a READ COMMITTED transaction);
        the connection goes back to the pool in its usual transactional mode.
        SQLite: another thread may stop the read (`stop_reads`)."""
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT")
                yield conn
                return
            with _reading(conn.connection.driver_connection):
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One writing transaction: commits when the block ends, rolls back when it
        raises. EVERY transaction that writes starts here (or in `run_write`):
        SQLite begins it with BEGIN IMMEDIATE, so it waits its turn behind other
        writers (busy_timeout) instead of failing when it first writes."""
        with self.engine.connect() as conn:
            mark_writer(conn)
            with conn.begin():
                yield conn

    def run_write(self, work: Callable[[Connection], T], attempts: int = WRITE_ATTEMPTS) -> T:
        """`work(conn)` in a `write()` transaction, run again (a new transaction)
        when PostgreSQL aborted it as a deadlock victim or serialization failure;
        see `retry_transient`."""

        def once() -> T:
            with self.write() as conn:
                return work(conn)

        return retry_transient(once, attempts)


def mark_writer(conn: Connection, write: bool = True) -> None:
    """Make the next transactions `conn` begins writing ones (BEGIN IMMEDIATE on
    SQLite), or plain ones again with `write=False`; for code that manages its
    own connection (bulk delete and restore)."""
    conn.execution_options(**{_WRITE_OPTION: write})


_SQLITE_CONNECT_ARGS = {"check_same_thread": False, "timeout": 10}
# SQLite connections kept open while idle, and how many more may be open at once
# (closed when given back): as many at once as SQLAlchemy's default (5 + 10).
SQLITE_POOL_SIZE = 1
SQLITE_MAX_OVERFLOW = 14


def make_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if path is not None:
            _create_private_file(path)
        if path is None:
            engine = create_engine(url, connect_args=_SQLITE_CONNECT_ARGS, poolclass=NullPool)
        else:
            # ONE idle connection is kept: a connection opened while another is in use
            # (the table's reads during a delete or restore in a worker thread) is
            # closed when it comes back, and its page cache (up to 16 MiB) with it.
            # With the default five, two or more warm caches stayed after bulk work,
            # depending on which connection served which read (docs/performance.md,
            # "Memory after delete and undo, fourth round").
            engine = create_engine(
                url,
                connect_args=_SQLITE_CONNECT_ARGS,
                pool_size=SQLITE_POOL_SIZE,
                max_overflow=SQLITE_MAX_OVERFLOW,
            )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    if u.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _on_postgres_connect)
    return engine


def needs_configured_database(arg: str | None = None) -> bool:
    """True when neither `--db` nor $SESSION_TUI_DB chooses the database (so the
    settings file's `database`, if any, does)."""
    return not (arg or os.environ.get(ENV_VAR))


def open_database(
    url: str | None = None, *, configured: str | None = None, migrate: bool = True
) -> Database:
    """Open (and by default create/upgrade) the database at `url` (see `resolve_url`
    for `configured`).

    Raises DatabaseError with a one-line message the user can act on.
    """
    resolved = resolve_url(url, configured)
    try:
        _refuse_unsuitable(resolved)
        engine = make_engine(resolved)
        db = Database(resolved, engine)
        if migrate:
            from session_tui.data.migrate import is_current, upgrade

            if not is_current(db):  # imports Alembic only when a migration is pending
                _refuse_newer_schema(db)
                upgrade(db)
        else:
            with engine.connect():
                pass
    except DatabaseError:
        raise
    except Exception as exc:  # noqa: BLE001 - turned into a message for the user
        raise DatabaseError(describe_error(exc, resolved)) from exc
    return db


def _refuse_newer_schema(db: Database) -> None:
    """A database stamped with a migration this version does not know was written by
    a newer session-tui: say so (Alembic would say "Can't locate revision …")."""
    from alembic.script import ScriptDirectory

    from session_tui.data.migrate import alembic_config, current_revision

    current = current_revision(db)
    if current is None:
        return
    script = ScriptDirectory.from_config(alembic_config(db))
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        db.dispose()
        raise DatabaseError(
            f"this database was written by a newer session-tui (schema {current}); upgrade the app"
        )


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
    first = mask_secrets(text[0]) if text else type(exc).__name__
    where = mask_secrets(url)
    low = first.lower()
    if "readonly" in low or "read-only" in low:
        folder = _read_only_folder(url)
        if folder is not None:
            return (
                f"the database's folder is read-only ({folder}): SQLite needs to create "
                "its -wal and -shm files beside the database; nothing was written"
            )
        named = f" ({where})" if where else ""
        return f"the database is read-only{named}: nothing was written"
    if "disk is full" in low or "no space" in low:
        return "the disk is full: nothing was written"
    if is_transient(exc):
        return TRANSIENT_MESSAGE
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
