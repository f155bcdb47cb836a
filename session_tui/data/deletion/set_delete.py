"""The set-based work of one delete: the frozen ids in a temporary table, the
backup lines read from the database, and one DELETE per table joined to it.

Inside `delete.py`'s bulk transaction:

1. `freeze(ids)`: the ids that still exist go into the temporary table
   `_deleting` (chunk by chunk, so a long list never becomes one huge
   parameter). On PostgreSQL the contacts are locked FOR UPDATE while doing so,
   ascending id, then their memberships (contact, id): the lock order of every
   membership change, so other sessions can neither deadlock with us nor add
   memberships or history to these contacts between the backup and the delete.
2. `write_backup(out, …)`: one SELECT builds every contact's finished backup
   line (backup_sql.py); Python streams them into the gzip file.
3. `delete(…)`: history events, memberships, the search index entries (ONE
   statement, in place of the per-row trigger) and the contacts, each one
   set-based statement joined to the temporary table.
4. `drop()`: the temporary table goes before the commit (SQLite keeps a
   temporary table for the connection's life, and the pool reuses connections;
   PostgreSQL's is created ON COMMIT DROP). A rollback removes it on both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from session_tui.data.deletion.backup_sql import contact_lines_copy_sql, contact_lines_sql
from session_tui.data.sqlite_bulk import CHUNK, BulkWrite, chunks

TABLE = "_deleting"
FREEZE_CHUNK = CHUNK * 20  # ids per statement while filling the temporary table
FETCH = CHUNK  # backup lines per fetch (and per progress report and cancel poll)
_IN = f"IN (SELECT id FROM {TABLE})"


class SetDelete:
    """One delete's set-based statements on the bulk transaction `bulk`."""

    def __init__(self, bulk: BulkWrite) -> None:
        self.bulk = bulk
        self.conn = bulk.conn
        self.pg = bulk.dialect == "postgresql"

    def _exec(self, sql: str, params: Any = ()) -> Any:
        return self.conn.exec_driver_sql(sql, params)

    def freeze(self, ids: Sequence[int]) -> list[int]:
        """The ids that exist, ascending, in the temporary table (locked on PostgreSQL)."""
        if self.pg:
            # Each statement here runs once over many rows: JIT-compiling it (from
            # jit_above_cost on, i.e. at a million contacts) costs more than it saves.
            self._exec("SET LOCAL jit = off")
            self._exec(f"CREATE TEMPORARY TABLE {TABLE} (id integer PRIMARY KEY) ON COMMIT DROP")
        else:
            self._exec(f"DROP TABLE IF EXISTS temp.{TABLE}")
            self._exec(f"CREATE TEMPORARY TABLE {TABLE} (id INTEGER PRIMARY KEY)")
        found: list[int] = []
        for part in chunks(ids, FREEZE_CHUNK):
            if self.pg:
                # Locked in id order and kept in one statement: the ids do not
                # travel back to the server a second time.
                rows = self._exec(
                    f"INSERT INTO {TABLE} SELECT id FROM contact WHERE id = ANY(%(ids)s) "
                    "ORDER BY id FOR UPDATE RETURNING id",
                    {"ids": list(part)},
                ).scalars()
                found.extend(sorted(rows))
            else:
                self._exec(
                    f"INSERT INTO {TABLE} SELECT id FROM contact "
                    "WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(list(part)),),
                )
        if self.pg:
            self._exec(f"ANALYZE {TABLE}")
            self._exec(  # locked in (contact, id) order; only a count comes back
                "SELECT count(*) FROM (SELECT 1 FROM membership "
                f"WHERE contact_id {_IN} ORDER BY contact_id, id FOR UPDATE) AS locked"
            ).scalar()
            return found
        return [r[0] for r in self._exec(f"SELECT id FROM temp.{TABLE} ORDER BY id")]

    def write_backup(
        self,
        out: Any,
        on_lines: Callable[[int], None],
        check: Callable[[], None],
    ) -> int:
        """Stream every frozen contact's backup line to `out`; the number written.
        `on_lines(n)` after each batch, `check()` (may raise to cancel) before it."""
        if self.pg:
            return self._copy_backup(out, on_lines, check)
        result = self._exec(contact_lines_sql("sqlite", TABLE))
        written = 0
        try:
            while rows := result.fetchmany(FETCH):
                check()
                out.write(("\n".join(r[1] for r in rows) + "\n").encode())
                written += len(rows)
                on_lines(written)
        finally:
            result.close()
        return written

    def _copy_backup(
        self, out: Any, on_lines: Callable[[int], None], check: Callable[[], None]
    ) -> int:
        """PostgreSQL: the lines by COPY, written as they arrive, while the server
        builds the next ones (one row of the COPY is one line, newline included)."""
        written = 0
        batch: list[bytes] = []
        with self.bulk.cursor() as cur, cur.copy(contact_lines_copy_sql(TABLE)) as copy:
            for row in copy:
                batch.append(bytes(row))
                if len(batch) >= FETCH:
                    check()
                    out.write(b"".join(batch))
                    written += len(batch)
                    batch = []
                    on_lines(written)
        if batch:
            check()
            out.write(b"".join(batch))
            written += len(batch)
            on_lines(written)
        return written

    def delete(self) -> tuple[int, int, int]:
        """Delete the frozen contacts, their memberships and history: (contacts,
        memberships, events) deleted."""
        events = self._exec(
            "DELETE FROM membership_event WHERE membership_id IN "
            f"(SELECT id FROM membership WHERE contact_id {_IN})"
        ).rowcount
        memberships = self._exec(f"DELETE FROM membership WHERE contact_id {_IN}").rowcount
        self.bulk.unindex_where(f"id {_IN}")
        contacts = self._exec(f"DELETE FROM contact WHERE id {_IN}").rowcount
        return contacts, memberships, events

    def drop(self) -> None:
        self._exec(f"DROP TABLE {TABLE}" if self.pg else f"DROP TABLE temp.{TABLE}")


__all__ = ["FETCH", "TABLE", "SetDelete"]
