"""Bulk writes: the connection, the transaction and the search index set up for
many rows at once. Used by import, delete, restore, the demo data and the bulk
membership actions.

    with bulk_write(db, pause=(INSERT,), cache_kib=LOAD_CACHE_KIB) as bulk:
        ... write rows on bulk.conn (or bulk.cursor()) ...
        bulk.index_from(first_new_id)      # or bulk.index(ids) / bulk.unindex(ids)
        bulk.build_indexes()               # after bulk.defer_indexes(table), if called
        bulk.commit()                      # the paused triggers are back first

What it does on SQLite:

- a larger page cache for the connection while the work runs (the indexes of a
  million-contact database do not fit the default, and a full cache spills into
  the WAL mid-transaction); reset afterwards, as the pool reuses the connection;
- BEGIN IMMEDIATE: the write lock at once, so that what the work reads is what it
  changes, and another writer waits (busy_timeout) instead of failing half-way;
- the per-row FTS5 triggers named in `pause` are dropped inside the transaction
  and replaced by set-based statements (`index`, `unindex`, `index_from`): the
  per-row trigger is several times slower. They are back before the commit, and
  a rollback brings them back as well, so a crash or a kill leaves the database
  as it was.

The triggers' SQL comes from `data/fts.py`; the bulk statements are derived from
it (the trigger's INSERT, reading the contact rows instead of `new`/`old`), so
they index exactly what the triggers index.

- afterwards, the memory the work freed goes back to the operating system
  (`release_memory`): the C allocator keeps freed pages otherwise, and a bulk
  delete and its undo left the app 2-3x its size for the rest of the session.

PostgreSQL has no triggers to pause (its search index is a GIN index): there the
same calls give a writing transaction on a plain connection, and the index calls
do nothing.

Also here: `in_` and `chunks`, how bulk code sends long id lists to the database.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    RootTransaction,
    any_,
    bindparam,
    func,
    select,
)

from session_tui.data import fts
from session_tui.data.db import Database, mark_writer

CHUNK = 500  # ids per statement in delete and restore: progress and cancel between chunks
# Page cache of a bulk connection (the app's connections use 16 MiB). Loading rows
# in id order (import, demo) keeps fewer pages hot than changing rows spread over
# the whole table (delete, restore, bulk membership actions).
LOAD_CACHE_KIB = 128 * 1024
CHANGE_CACHE_KIB = 256 * 1024
# Delete and restore: a delete of every 10th contact changes nearly every page of
# the database; with 64 MiB the contact indexes (~200 MB at a million) left the
# cache between two rows of the same page and were written to the WAL and read back
# over and over (the DELETE statements took 30-50 % more CPU than with 192-256 MiB).
# Not the 256 MiB of the other bulk changes: the cache is the largest part of the
# app's memory while they run, and the undo's peak (with the rows it reads) must
# stay under 400 MB (docs/performance.md, "SQLite delete and undo in rounds").
DELETE_CACHE_KIB = 192 * 1024
# FTS5 pending-terms buffer for `index_from` (default 1 MB). 16 MB takes the same
# time as 64 MB at a million contacts and ~200 MB less of the import's peak memory.
FTS_HASHSIZE = 16 << 20

# The FTS triggers of data/fts.py, by the change of a contact row that fires them.
INSERT = "contact_fts_ai"
DELETE = "contact_fts_ad"
UPDATE = "contact_fts_au"


class Cancelled(Exception):
    """The user cancelled before the commit: nothing was changed."""


# -- long id lists ----------------------------------------------------------------


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """`values` in consecutive slices of at most `size`."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def in_(dialect: str, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`, sent as ONE parameter whatever the number of values
    (SQLite `json_each`, PostgreSQL `= ANY(array)`): well clear of SQLite's
    bound-parameter limit, and one statement plan for every length."""
    if dialect == "postgresql":
        # Here, not at the top: the PostgreSQL dialect's ~20 modules are not for SQLite.
        from sqlalchemy.dialects.postgresql import ARRAY

        item = Integer() if isinstance(column.type, Integer) else column.type
        return column == any_(bindparam(None, list(values), type_=ARRAY(item)))  # type: ignore[no-any-return]
    each = func.json_each(bindparam(None, json.dumps(list(values)))).table_valued("value")
    return column.in_(select(each.c.value))  # type: ignore[no-any-return]


# -- memory -------------------------------------------------------------------------


@functools.cache
def _malloc_trim() -> Any:
    """glibc's `malloc_trim`, or None (another C library, another system)."""
    import ctypes.util  # here: not needed to start the app (~2 ms)

    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


def release_memory() -> bool:
    """Give the pages that freed memory leaves behind back to the operating system.

    A bulk transaction fills the page cache (`cache_kib`) and makes many Python
    objects; once they are freed, glibc keeps the pages for reuse, in every thread's
    arena, so the process stays at its peak size. `malloc_trim(0)` returns them (a
    few milliseconds). True when it ran."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


# -- the connection ---------------------------------------------------------------


def _outside_transaction(conn: Connection, pragma: str) -> None:
    """A PRAGMA that SQLite refuses inside a transaction, on the DBAPI connection
    (SQLAlchemy would begin one first)."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute(pragma)


@contextmanager
def bulk_connection(
    db: Database,
    *,
    cache_kib: int = CHANGE_CACHE_KIB,
    temp_file: bool = False,
    foreign_keys: bool = True,
) -> Iterator[Connection]:
    """A connection for one big WRITING transaction (`mark_writer`: SQLite's BEGIN
    IMMEDIATE). SQLite: a page cache of `cache_kib` for its duration, reset
    afterwards. `temp_file`: SQLite's temporary storage in a file for the duration
    (the app keeps it in memory): a statement that changes 100,000 rows keeps a
    statement journal of every page it changes, which in memory added 200-350 MB
    to the process at a million contacts. `foreign_keys=False`: SQLite does not
    check foreign keys for the duration, for a caller that has checked every row
    it writes itself (the plain restore, deletion/sqlite_lines.py); they are on
    again afterwards, whatever happened. The caller begins and ends the
    transaction (see `bulk_write`)."""
    with db.engine.connect() as conn:
        previous: int | None = None
        temp_store = 0
        if db.is_sqlite:
            previous = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or -2000)
            temp_store = int(conn.exec_driver_sql("PRAGMA temp_store").scalar() or 0)
            conn.exec_driver_sql(f"PRAGMA cache_size = -{int(cache_kib)}")
            conn.commit()
            if temp_file:
                _outside_transaction(conn, "PRAGMA temp_store = FILE")
            if not foreign_keys:
                _outside_transaction(conn, "PRAGMA foreign_keys = OFF")
        mark_writer(conn)

        def reset() -> None:
            conn.rollback()  # also ends a transaction that a failed commit left invalid
            mark_writer(conn, False)
            if previous is not None:
                conn.exec_driver_sql(f"PRAGMA cache_size = {previous}")
                # The pages the work read stay cached up to the app's own limit
                # otherwise: the next queries read them back from the OS cache.
                conn.exec_driver_sql("PRAGMA shrink_memory")
                conn.commit()
                if temp_file:
                    _outside_transaction(conn, f"PRAGMA temp_store = {temp_store}")
                if not foreign_keys:
                    _outside_transaction(conn, "PRAGMA foreign_keys = ON")

        try:
            yield conn
        except BaseException:
            # The first error is the one to report (e.g. "disk is full" at the
            # commit, or the server gone), never a failure of this clean-up: a
            # connection that cannot be reset is dropped instead of going back
            # to the pool.
            try:
                reset()
            except Exception:  # noqa: BLE001
                conn.invalidate()
            release_memory()
            raise
        reset()
    release_memory()


def take_write_lock(conn: Connection, db: Database) -> None:
    """SQLite: take the write lock now, so that what we read is what we change
    (a deferred transaction cannot upgrade after another writer committed).
    Redundant after `bulk_connection`'s BEGIN IMMEDIATE; harmless."""
    if db.is_sqlite:
        conn.exec_driver_sql("DELETE FROM contact WHERE 0")


# -- the search index -------------------------------------------------------------


def trigger_sql(name: str) -> str:
    """The CREATE TRIGGER statement of the FTS trigger `name` (data/fts.py)."""
    for statement in fts.FTS_TRIGGERS:
        if f"TRIGGER {name} " in statement:
            return statement
    raise LookupError(name)


_TRIGGER_INSERT = re.compile(
    r"\bBEGIN\s+INSERT INTO\s+(?P<target>.+?)\s+VALUES\s*\((?P<values>.*)\)\s*;\s*END\s*\Z",
    re.DOTALL,
)
_ROW_REF = re.compile(r"\b(?:new|old)\.")


def _bulk_from_trigger(name: str) -> str:
    """The trigger's one INSERT, reading every contact row that `{where}` selects
    instead of the one `new`/`old` row: `INSERT INTO contact_fts(…) SELECT … FROM
    contact WHERE {where}`."""
    found = _TRIGGER_INSERT.search(trigger_sql(name))
    if found is None:
        raise LookupError(f"{name}: not one INSERT … VALUES (…) in its body")
    values = _ROW_REF.sub("", found["values"])
    return f"INSERT INTO {found['target']} SELECT {values} FROM contact WHERE {{where}}"


INDEX_SQL = _bulk_from_trigger(INSERT)
UNINDEX_SQL = _bulk_from_trigger(DELETE)
_IDS = "id IN (SELECT value FROM json_each(?))"
_UNIQUE_INDEX = re.compile(r"\s*CREATE\s+UNIQUE\b", re.IGNORECASE)


class BulkWrite:
    """One bulk transaction (made by `bulk_write`). `conn` is its SQLAlchemy
    connection; `cursor()` a DBAPI cursor in the same transaction, for the
    driver's own fast paths (executemany, COPY)."""

    def __init__(self, conn: Connection, db: Database, tx: RootTransaction) -> None:
        self.conn = conn
        self.dialect = db.dialect
        self.is_sqlite = db.is_sqlite
        self._tx = tx
        self._paused: list[str] = []
        self._deferred: list[str] = []  # CREATE INDEX statements of dropped indexes

    def cursor(self) -> Any:
        raw = self.conn.connection.dbapi_connection
        assert raw is not None  # the connection is open for the whole transaction
        return raw.cursor()

    def pause(self, triggers: Sequence[str]) -> None:
        """SQLite: drop those of these FTS triggers that exist, for this transaction."""
        if not self.is_sqlite:
            return
        for name in triggers:
            exists = self.conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)
            ).first()
            if exists is not None and name not in self._paused:
                self.conn.exec_driver_sql(f"DROP TRIGGER {name}")
                self._paused.append(name)

    def index(self, ids: Sequence[int]) -> None:
        """Add these contacts (inserted meanwhile) to the search index, in place of
        the paused INSERT trigger."""
        if INSERT in self._paused and ids:
            self.conn.exec_driver_sql(INDEX_SQL.format(where=_IDS), (json.dumps(list(ids)),))

    def unindex(self, ids: Sequence[int]) -> None:
        """Remove these contacts from the search index, in place of the paused
        DELETE trigger: before their rows are deleted (the index reads them)."""
        if DELETE in self._paused and ids:
            self.conn.exec_driver_sql(UNINDEX_SQL.format(where=_IDS), (json.dumps(list(ids)),))

    def index_where(self, where: str, params: Sequence[Any] = ()) -> None:
        """Add the contacts that the SQL condition `where` selects (e.g. `id IN
        (SELECT id FROM a_temp_table)`) to the search index in ONE statement, in
        place of the paused INSERT trigger."""
        if INSERT in self._paused:
            self.conn.exec_driver_sql(INDEX_SQL.format(where=where), tuple(params))

    def unindex_where(self, where: str, params: Sequence[Any] = ()) -> None:
        """Remove the contacts that `where` selects from the search index in ONE
        statement (FTS5 writes its delete markers once, not once per batch), in
        place of the paused DELETE trigger: before their rows are deleted."""
        if DELETE in self._paused:
            self.conn.exec_driver_sql(UNINDEX_SQL.format(where=where), tuple(params))

    def index_from(self, first_id: int) -> None:
        """Add every contact from id `first_id` on to the search index in ONE
        statement (FTS5 flushes its pending terms at every statement boundary, so
        one statement per batch would write many small segments), with a large
        FTS5 `hashsize` so the index is written in few, large segments (2-3x
        faster at a million rows); the setting is restored afterwards."""
        if INSERT not in self._paused:
            return
        conn = self.conn
        old = conn.exec_driver_sql("SELECT v FROM contact_fts_config WHERE k = 'hashsize'").first()
        hashsize = int(old[0]) if old is not None else 1 << 20
        conn.exec_driver_sql(
            "INSERT INTO contact_fts(contact_fts, rank) VALUES ('hashsize', ?)", (FTS_HASHSIZE,)
        )
        conn.exec_driver_sql(INDEX_SQL.format(where="id >= ?"), (first_id,))
        conn.exec_driver_sql(
            "INSERT INTO contact_fts(contact_fts, rank) VALUES ('hashsize', ?)", (hashsize,)
        )

    def defer_indexes(self, table: str) -> None:
        """SQLite: drop `table`'s secondary indexes for this transaction (not the
        unique ones, which the load relies on to refuse a repeated key); they are
        built again, each by one sort of the finished table, by `build_indexes`
        (at the latest before the commit). Row-by-row upkeep of a b-tree whose keys
        arrive in random order is most of a large load's time. DDL is transactional
        in SQLite: a rollback brings the indexes back as they were."""
        if not self.is_sqlite:
            return
        found = self.conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL ORDER BY name",
            (table,),
        ).all()
        for name, sql in found:
            if not _UNIQUE_INDEX.match(sql):
                self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
                self._deferred.append(sql)

    def build_indexes(self) -> None:
        """The indexes `defer_indexes` dropped, built again (inside the transaction)."""
        while self._deferred:
            self.conn.exec_driver_sql(self._deferred.pop(0))

    def resume(self) -> None:
        """The paused triggers back (still inside the transaction)."""
        while self._paused:
            self.conn.exec_driver_sql(trigger_sql(self._paused.pop(0)))

    def commit(self) -> None:
        self.build_indexes()
        self.resume()
        self._tx.commit()

    def rollback(self) -> None:
        """Nothing written; the paused triggers and deferred indexes come back with
        the rollback."""
        self._paused.clear()
        self._deferred.clear()
        self._tx.rollback()


@contextmanager
def bulk_write(
    db: Database,
    *,
    pause: Sequence[str] = (),
    cache_kib: int = CHANGE_CACHE_KIB,
    temp_file: bool = False,
    foreign_keys: bool = True,
) -> Iterator[BulkWrite]:
    """One bulk writing transaction (see the module docstring), with the FTS
    triggers `pause` (INSERT, DELETE, UPDATE) dropped until `commit()`. Nothing
    is committed unless the block calls `commit()`: leaving it otherwise, or by
    an exception, rolls everything back."""
    with bulk_connection(
        db, cache_kib=cache_kib, temp_file=temp_file, foreign_keys=foreign_keys
    ) as conn:
        tx = conn.begin()
        # After an exception `bulk_connection` rolls back (and resets the connection).
        take_write_lock(conn, db)
        bulk = BulkWrite(conn, db, tx)
        bulk.pause(pause)
        yield bulk
        if tx.is_active:
            tx.rollback()


__all__ = [
    "CHANGE_CACHE_KIB",
    "CHUNK",
    "DELETE",
    "DELETE_CACHE_KIB",
    "FTS_HASHSIZE",
    "INDEX_SQL",
    "INSERT",
    "LOAD_CACHE_KIB",
    "UNINDEX_SQL",
    "UPDATE",
    "BulkWrite",
    "Cancelled",
    "bulk_connection",
    "bulk_write",
    "chunks",
    "in_",
    "release_memory",
    "take_write_lock",
    "trigger_sql",
]
