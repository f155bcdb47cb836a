"""The database side of an import: the rows of one batch into `contact`, in one
statement on the driver's own cursor, and which emails were there before.

Each batch goes in with ONE `executemany` (SQLite) / `COPY` into a staging table
then `INSERT … SELECT` (PostgreSQL) `ON CONFLICT (email) DO NOTHING`; rows repeated inside a
batch were folded by the caller. When a batch inserts fewer rows than it offered,
`lookup` of the batch's emails gives their ids: an id up to `max_before` (the
largest id when the import began) existed before the import, a larger one came
from an earlier batch of this import. Writers are kept out for the duration
(SQLite `BEGIN IMMEDIATE`, `sqlite_bulk.bulk_write`; PostgreSQL `LOCK TABLE
contact IN SHARE ROW EXCLUSIVE MODE`), so every id above that mark is ours.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from session_tui.data.collation import NamePairs, fold, name_key, search_text
from session_tui.data.csvio.row_parser import Parsed, stored_text
from session_tui.data.sqlite_bulk import BulkWrite

_LOOKUP_CHUNK = 2_000
_STAGE = "_import_stage"  # PostgreSQL: one batch on its way into `contact`
_INSERT_COLS = (
    "contact (email, first_name, last_name, created_at, updated_at, version, name_key, search_text)"
)


# Load first, index after, from this many expected rows on, when they are at least
# half as many as the contacts already there: rebuilding an index sorts every entry
# (old and new) once, while row-by-row upkeep pays a b-tree descent with a likely
# cache miss per new row and index, several times the cost of an entry sorted.
REINDEX_MIN_ROWS = 20_000
IMPORT_CACHE_KIB = 32 * 1024  # SQLite page cache of an import (SqliteWriter.begin)


def loads_first(expected_rows: int, existing_rows: int) -> bool:
    return expected_rows >= REINDEX_MIN_ROWS and 2 * expected_rows >= existing_rows


class ContactWriter(Protocol):
    max_before: int

    def begin(self) -> None: ...
    def expect(self, rows: int) -> None: ...
    def max_id(self) -> int: ...
    def insert(self, rows: list[Parsed]) -> int: ...
    def lookup(self, emails: list[str]) -> dict[str, int]: ...
    def finish(self) -> None: ...


def contact_writer(bulk: BulkWrite, now: datetime) -> ContactWriter:
    """The writer for the bulk transaction's database (a dry run uses
    import_preview.py's instead)."""
    if bulk.is_sqlite:
        return SqliteWriter(bulk, now)
    return PostgresWriter(bulk, now)


class SqliteWriter:
    """SQLite: the FTS insert trigger is paused (`bulk_write`); the search index
    gets the new contacts in one statement at the end (`BulkWrite.index_from`)."""

    def __init__(self, bulk: BulkWrite, now: datetime) -> None:
        self.bulk = bulk
        self.cur = bulk.cursor()
        self.max_before = 0
        self.now = stored_text(now)
        self.pairs = NamePairs()

    def begin(self) -> None:
        # A smaller page cache than other bulk loads (the connection's own setting
        # is back after the transaction): at a million rows 32 MB costs no time
        # against 128 MB, and keeps the import's peak memory low.
        self.cur.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
        self.max_before = self.max_id()

    def expect(self, rows: int) -> None:
        """About `rows` data rows are coming: a large load relative to the table
        (`loads_first`) drops the contact table's secondary indexes and builds them
        after the load (`BulkWrite.defer_indexes`)."""
        if loads_first(rows, self.max_before):
            self.bulk.defer_indexes("contact")

    def max_id(self) -> int:
        return int(self.cur.execute("SELECT coalesce(max(id), 0) FROM contact").fetchone()[0])

    def insert(self, rows: list[Parsed]) -> int:
        now = self.now
        cur = self.cur
        known = self.pairs.known
        add = self.pairs.add
        values: list[tuple[str, str, str, str, str, bytearray, str]] = []
        append = values.append
        for e, f, la, c in rows:
            key, prefix = known.get((f, la)) or add(f, la)
            # fold(e), its ASCII case inline (the common one)
            append((e, f, la, c or now, now, key, prefix + (e.lower() if e.isascii() else fold(e))))
        # OR IGNORE: only the unique email can conflict (every column is given)
        cur.executemany(
            f"INSERT OR IGNORE INTO {_INSERT_COLS} VALUES (?, ?, ?, ?, ?, 1, ?, ?)", values
        )
        return int(cur.rowcount)

    def lookup(self, emails: list[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(0, len(emails), _LOOKUP_CHUNK):
            chunk = emails[i : i + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            out.update(
                self.cur.execute(
                    f"SELECT email, id FROM contact WHERE email IN ({marks})", chunk
                ).fetchall()
            )
        return out

    def finish(self) -> None:
        self.bulk.index_from(self.max_before + 1)
        self.bulk.build_indexes()


class PostgresWriter:
    """PostgreSQL: each batch is COPied into a temporary staging table (dropped at
    the end of the transaction), then moved with ONE `INSERT … SELECT … ON CONFLICT
    (email) DO NOTHING` in file order."""

    def __init__(self, bulk: BulkWrite, now: datetime) -> None:
        self.cur = bulk.cursor()
        self.max_before = 0
        self.now = now

    def begin(self) -> None:
        # Blocks other writers of `contact` (readers go on) until commit/rollback.
        self.cur.execute("LOCK TABLE contact IN SHARE ROW EXCLUSIVE MODE")
        self.max_before = self.max_id()
        self.cur.execute(f"DROP TABLE IF EXISTS pg_temp.{_STAGE}")
        self.cur.execute(
            f"CREATE TEMP TABLE {_STAGE} (n bigint, e text, f text, l text, c timestamp, "
            "k bytea, s text) ON COMMIT DROP"
        )

    def expect(self, rows: int) -> None:
        """PostgreSQL keeps its indexes: nothing to plan."""

    def max_id(self) -> int:
        self.cur.execute("SELECT coalesce(max(id), 0) FROM contact")
        return int(self.cur.fetchone()[0])

    def insert(self, rows: list[Parsed]) -> int:
        now_text = stored_text(self.now)
        cur = self.cur
        cur.execute(f"TRUNCATE {_STAGE}")
        with cur.copy(f"COPY {_STAGE} (n, e, f, l, c, k, s) FROM STDIN") as copy:
            for n, (e, f, la, c) in enumerate(rows):
                copy.write_row((n, e, f, la, c or now_text, name_key(f, la), search_text(f, la, e)))
        cur.execute(
            f"INSERT INTO {_INSERT_COLS} SELECT e, f, l, c, %s, 1, k, s FROM {_STAGE} "
            "ORDER BY n ON CONFLICT (email) DO NOTHING",
            (self.now,),
        )
        return int(cur.rowcount)

    def lookup(self, emails: list[str]) -> dict[str, int]:
        self.cur.execute("SELECT email, id FROM contact WHERE email = ANY(%s)", (emails,))
        return dict(self.cur.fetchall())

    def finish(self) -> None:
        pass
