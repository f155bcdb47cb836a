"""The preview (dry run) of an import: the verdicts and counts the import would
give, without inserting a contact.

The import learns which emails are new by inserting them (import_writers.py).
The preview cannot, so it keeps the same bookkeeping another way:

- a batch's emails go in ONE statement into a temporary table of the emails
  this preview took as new, those neither in `contact` (there before the import:
  `exists`) nor in that table already (an earlier row of the file: `duplicate`).
  On SQLite `contact` is not looked up while it is empty (an import into a new
  database), and when the statement took every email (its row count) none comes
  back to Python; else the emails this batch took are read back (each row of the
  table names the batch that took it). Only when some were not taken, a second
  statement tells those apart (`contact`'s id, or an id of an earlier batch's);
- each new email gets the id the import would give it (counting on from the
  largest id), so `_Run.flush` tells the verdicts apart exactly as it does for
  the import; the temporary table holds the new emails only and lives in the
  preview's transaction, which is rolled back (on SQLite in a temporary file,
  with at most `_TEMP_CACHE_KIB` of cache: memory stays flat whatever the
  file's size);
- no sort key or search text is computed (nothing is stored).

The memberships (`MembershipPreview`) are decided by `MembershipWriter`'s own
code; what it would write is counted and remembered in memory instead, so that
a contact named again later in the file sees the memberships the import would
have given it by then. It reads the memberships of existing contacts (with
`update_memberships`) and, on PostgreSQL, locks those contacts as the import
would; it writes nothing.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from session_tui.data.bulk_common import MembershipSnapshot
from session_tui.data.csvio.import_memberships import MembershipWriter, _Product, product_key
from session_tui.data.csvio.membership_cells import MembershipSpec
from session_tui.data.csvio.row_parser import Parsed
from session_tui.data.sqlite_bulk import BulkWrite

_SEEN = "_import_seen"
_TEMP_CACHE_KIB = 64 * 1024  # SQLite: the cache of the temporary table (at most)


class PreviewWriter(ABC):
    """The `ContactWriter` of a dry run (see the module docstring)."""

    temp_schema: str  # where the dialect keeps temporary tables
    seen_columns: str  # the temporary table's columns and options

    def __init__(self, bulk: BulkWrite) -> None:
        self.cur = bulk.cursor()
        self.max_before = 0
        self.next_id = 1
        self._ids: dict[str, int] = {}  # the last batch's emails that have an id
        # The last batch's new emails and the first id they get, when all its
        # emails were new (`_ids` is then made only if `lookup` asks).
        self._new: tuple[list[str], int] = ([], 1)

    def begin(self) -> None:
        self.max_before = self._scalar("SELECT coalesce(max(id), 0) FROM contact")
        self.next_id = self.max_before + 1
        self._create_seen()

    @property
    def earlier(self) -> int:
        """The id `lookup` gives an email an earlier batch took as new: one of the ids
        this preview gave (which one does not matter: only that it is one of them)."""
        return self.max_before + 1

    def expect(self, rows: int) -> None:
        """Nothing is loaded: nothing to plan."""
        return None

    def max_id(self) -> int:
        return self.next_id - 1

    def insert(self, rows: list[Parsed]) -> int:
        emails = [r[0] for r in rows]
        taken = self._take_new(emails)
        if taken is emails:  # the common case: every one new
            first = self.next_id
            self.next_id += len(emails)
            self._new = (emails, first)
            self._ids = {}
            return len(emails)
        taken_set = set(taken)
        found = self._find([e for e in emails if e not in taken_set])
        new = [e for e in emails if e in taken_set]  # in file order
        first = self.next_id
        self.next_id += len(new)
        found.update(zip(new, range(first, self.next_id), strict=True))
        self._new = ([], first)
        self._ids = found
        return len(new)

    def lookup(self, emails: list[str]) -> dict[str, int]:
        known = self._ids
        new, first = self._new
        if new:  # the ids of the last batch's new emails, made when asked
            known.update(zip(new, range(first, first + len(new)), strict=True))
            self._new = ([], first)
        missing = [e for e in emails if e not in known]
        if missing:
            known.update(self._find(missing))
        return {e: known[e] for e in emails if e in known}

    def finish(self) -> None:
        """Nothing to index: the temporary table goes with the rollback."""
        return None

    # -- the dialect's statements -----------------------------------------------------
    def _scalar(self, sql: str) -> int:
        self.cur.execute(sql)
        return int(self.cur.fetchone()[0])

    def _create_seen(self) -> None:
        """The empty temporary table of the emails taken as new."""
        self.cur.execute(f"DROP TABLE IF EXISTS {self.temp_schema}.{_SEEN}")
        self.cur.execute(f"CREATE TEMP TABLE {_SEEN} {self.seen_columns}")

    @abstractmethod
    def _take_new(self, emails: list[str]) -> list[str]:
        """Those of `emails` (all different) neither in `contact` nor taken as new
        already: taken as new now (remembered), in any order; `emails` itself when
        every one was taken."""

    @abstractmethod
    def _find(self, emails: list[str]) -> dict[str, int]:
        """email -> id of those of `emails` in `contact`, or `earlier` for those
        taken as new already."""


class SqlitePreviewWriter(PreviewWriter):
    temp_schema = "temp"
    # `batch`: the `insert` that took the email (tells this batch's from earlier ones)
    seen_columns = "(email TEXT PRIMARY KEY, batch INTEGER NOT NULL) WITHOUT ROWID"

    def __init__(self, bulk: BulkWrite) -> None:
        super().__init__(bulk)
        self._temp_cache = -2000  # the connection's own, put back by `finish`
        self._batch = 0

    def _create_seen(self) -> None:
        # The table of 1,000,000 emails is some 40 MB: in SQLite's default 2 MB cache
        # for temporary tables each batch's inserts would go through the file.
        self._temp_cache = self._scalar("PRAGMA temp.cache_size")
        self.cur.execute(f"PRAGMA temp.cache_size = -{_TEMP_CACHE_KIB}")
        super()._create_seen()

    def finish(self) -> None:
        self.cur.execute(f"PRAGMA temp.cache_size = {int(self._temp_cache)}")

    def _take_new(self, emails: list[str]) -> list[str]:
        self._batch += 1
        # An empty `contact` (max id 0: ids start at 1) has no email to look up; the
        # bulk transaction keeps other writers out until the rollback.
        outside = (
            "NOT EXISTS (SELECT 1 FROM contact WHERE email = value)" if self.max_before else "true"
        )
        # in index order: each page of the table is visited once per batch
        listed = json.dumps(sorted(emails))
        cur = self.cur
        cur.execute(
            f"INSERT INTO {_SEEN} SELECT value, ? FROM json_each(?) WHERE {outside} "
            "ON CONFLICT DO NOTHING",
            (self._batch, listed),
        )
        if cur.rowcount == len(emails):
            return emails  # the common case: no email has to come back from SQLite
        rows = cur.execute(
            f"SELECT email FROM {_SEEN} WHERE batch = ? "
            "AND email IN (SELECT value FROM json_each(?))",
            (self._batch, listed),
        ).fetchall()
        return [r[0] for r in rows]

    def _find(self, emails: list[str]) -> dict[str, int]:
        rows = self.cur.execute(
            "SELECT value, coalesce((SELECT id FROM contact WHERE email = value), "
            f"(SELECT ? FROM {_SEEN} WHERE email = value)) FROM json_each(?)",
            (self.earlier, json.dumps(emails)),
        ).fetchall()
        return {e: cid for e, cid in rows if cid is not None}


class PostgresPreviewWriter(PreviewWriter):
    temp_schema = "pg_temp"
    seen_columns = "(email text PRIMARY KEY) ON COMMIT DROP"

    def _take_new(self, emails: list[str]) -> list[str]:
        self.cur.execute(
            f"INSERT INTO {_SEEN} SELECT e FROM unnest(%s::text[]) AS e "
            "WHERE NOT EXISTS (SELECT 1 FROM contact c WHERE c.email = e) "
            "ON CONFLICT DO NOTHING RETURNING email",
            (emails,),
        )
        taken = [r[0] for r in self.cur.fetchall()]
        return emails if len(taken) == len(emails) else taken

    def _find(self, emails: list[str]) -> dict[str, int]:
        self.cur.execute(
            "SELECT e, coalesce(c.id, CASE WHEN s.email IS NOT NULL THEN %s END) "
            f"FROM unnest(%s::text[]) AS e "
            f"LEFT JOIN contact c ON c.email = e LEFT JOIN {_SEEN} s ON s.email = e",
            (self.earlier, emails),
        )
        return {e: int(cid) for e, cid in self.cur.fetchall() if cid is not None}


def preview_writer(bulk: BulkWrite) -> PreviewWriter:
    return SqlitePreviewWriter(bulk) if bulk.is_sqlite else PostgresPreviewWriter(bulk)


class MembershipPreview(MembershipWriter):
    """`MembershipWriter` deciding as for the import, counting instead of writing.

    `max_before`: the largest contact id before the import (set once the contact
    writer began); the memberships the preview gives contacts up to it are kept in
    memory (only those of existing contacts can be read again)."""

    def __init__(
        self, conn: Connection, dialect: str, now: datetime, *, create_products: bool
    ) -> None:
        super().__init__(conn, dialect, now, create_products=create_products, dry_run=True)
        self.max_before = 0
        self._given: dict[int, dict[int, MembershipSnapshot]] = {}  # contact -> product -> row

    def _product_id(self, name: str) -> int | None:
        key = product_key(name)
        if self.create_products and key not in self.products:
            # Created by the import: an id no product has, nothing inserted.
            self.counts.to_create.setdefault(key, name)
            self.products[key] = _Product(-1 - len(self.products), name)
        return super()._product_id(name)

    def _memberships_of(self, contact_ids: Any) -> list[MembershipSnapshot]:
        rows = super()._memberships_of(contact_ids)
        given = self._given
        if not given:
            return rows
        mine = [given[cid] for cid in contact_ids if cid in given]
        if not mine:
            return rows
        overlay = {
            (r.contact_id, r.product_id): r for by_product in mine for r in by_product.values()
        }
        kept = [r for r in rows if (r.contact_id, r.product_id) not in overlay]
        return kept + list(overlay.values())

    def _give(self, row: MembershipSnapshot) -> None:
        if row.contact_id <= self.max_before:
            self._given.setdefault(row.contact_id, {})[row.product_id] = row

    def _insert(self, new: list[tuple[int, int, MembershipSpec]]) -> None:
        now = self.now
        for cid, pid, spec in new:
            value = spec.payment_type.value
            self._give(
                MembershipSnapshot(
                    0, cid, pid, value, spec.started or now, spec.expires, spec.cancelled
                )
            )
        self.counts.granted += len(new)

    def _reactivate(self, rows: list[tuple[MembershipSnapshot, MembershipSpec]]) -> None:
        for row, spec in rows:
            self._give(
                row._replace(
                    payment_type=spec.payment_type.value,
                    expires_at=spec.expires,
                    cancelled_at=None,
                    started_at=spec.started or row.started_at,
                )
            )
        self.counts.reactivated += len(rows)

    def _refresh(self, contact_ids: list[int]) -> None:
        """No membership changed: the contacts' status stays as it is."""
