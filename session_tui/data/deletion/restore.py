"""Restoring deleted contacts from their backup file (backup_format.py).

`restore_backup(db, path)` puts the rows back exactly (same ids) in one
transaction, or refuses without writing anything: when a contact id or an email
is taken by now, or a product is gone. Memberships and history events whose id
was handed out again meanwhile get a new id (counted in `renumbered`).

Speed: the first attempt looks nothing up before it inserts (on PostgreSQL by
COPY, on SQLite by executemany, a batch at a time): the primary keys, the unique
email and the foreign keys check every row anyway, and in the usual case no id of
the file is taken (a serial never hands a deleted id out again, nor does SQLite's
AUTOINCREMENT). When a row breaks one of them, or a product of the file is gone,
that attempt is rolled back (`_Clash`) and the restore runs again the careful way:
each batch's contact ids, emails, membership and event ids looked up first, to
list every problem or renumber the memberships and events whose id was handed out
again. docs/performance.md, "PostgreSQL delete and undo, third round" and "SQLite
undo against the floor, fourth round".

PostgreSQL's first attempt also puts the rows in table by table: the contacts go in
a batch at a time as the file is read, while their memberships and history events
wait in a temporary file (`_Later`); then every membership goes in by one COPY, then
every event. Each table's indexes then stay in the server's buffers while that
table is written (interleaving the three per batch kept the indexes of all three
in play: more evictions, ~25 % more WAL, one more checkpoint at a million).
docs/performance.md, "PostgreSQL undo, fifth round". SQLite's first attempt does
the same with TEMP tables (sqlite_later.py; "SQLite undo, table by table").
"""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from session_tui.data.clock import FAR_FUTURE
from session_tui.data.collector import collector_paused
from session_tui.data.db import Database
from session_tui.data.deletion.backup_format import (
    CONTACT,
    EVENT,
    MEMBERSHIP,
    Entry,
    TableSpec,
    read_entries,
)
from session_tui.data.deletion.read_ahead import read_ahead
from session_tui.data.deletion.sqlite_later import (
    SqliteLater,
    by_columns,
    row_values,
    sqlite_params,
)
from session_tui.data.deletion.sqlite_lines import (
    Interrupted,
    NotPlain,
    is_plain_header,
    restore_plain,
)
from session_tui.data.repositories.memberships import expected_active_until
from session_tui.data.sqlite_bulk import (
    CHUNK,
    DELETE_CACHE_KIB,
    INSERT,
    BulkWrite,
    Cancelled,
    bulk_write,
    in_,
    release_memory,
)
from session_tui.data.tables import contact_t, event_t, membership_t, product_t

# Contacts a batch: the rows go to the database with executemany, a batch at a time
# (progress and cancel come every CHUNK contacts read). 1,000, not 5,000: the parsed
# rows a batch holds are many small Python objects, and the memory they spread over
# stayed with the app after an undo (docs/performance.md, "Memory after delete and
# undo, third round"); the restore was no slower in alternated runs.
BATCH = CHUNK * 2

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


class RestoreCancelled(Cancelled):
    """The user cancelled before the restore committed: nothing was restored."""


class RestoreConflict(Exception):
    """The backup cannot be restored into this database as it is now.

    `problems` lists the reasons (at most a few examples); nothing was written.
    """

    def __init__(self, message: str, problems: Sequence[str]) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True)
class RestoreResult:
    backup_path: Path
    contacts: int
    memberships: int
    events: int
    # Memberships/history events whose id had been reused meanwhile (SQLite hands
    # out max(id)+1 again) got a new id; everything else is identical.
    renumbered: int = 0


class _Clash(Exception):
    """First attempt: a row met a unique or foreign key that the checks
    this attempt skipped would have caught. The caller rolls back and runs the
    restore again with the checks (`careful`), which then reports the conflict or
    renumbers the rows whose id was taken."""


_BLOCK = 1 << 20  # bytes of held-back COPY data sent between two cancel polls


class _Later:
    """Rows of one table held back until every contact is in, already in COPY's
    format: psycopg formats them as the batches come (`Copy` with a `FileWriter`)
    into an anonymous temporary file (gone when closed, or when the process ends),
    one a set of columns; put back by streaming that file into a COPY."""

    def __init__(self, spec: TableSpec, cursor: Any) -> None:
        self.spec = spec
        self.cursor = cursor
        self.files: dict[tuple[str, ...], tuple[IO[bytes], Any]] = {}
        self.open_files = ExitStack()
        self.copies = ExitStack()  # closed first: the Copy objects flush into the files

    def add(self, rows: list[dict[str, Any]]) -> None:
        from psycopg.copy import Copy, FileWriter

        for cols, group in by_columns(self.spec, rows).items():
            if cols not in self.files:
                file = self.open_files.enter_context(tempfile.TemporaryFile())
                copy = self.copies.enter_context(Copy(self.cursor, writer=FileWriter(file)))
                self.files[cols] = (file, copy)
            copy = self.files[cols][1]
            values = row_values(cols)
            for row in group:
                copy.write_row(values(row))

    def written(self) -> list[tuple[tuple[str, ...], IO[bytes], int]]:
        """Each set of columns with its file, at its start, and the file's size. The
        formatting ends here: nothing more can be added."""
        self.copies.close()
        out = []
        for cols, (file, _copy) in self.files.items():
            size = file.seek(0, io.SEEK_END)
            file.seek(0)
            out.append((cols, file, size))
        return out

    def close(self) -> None:
        self.copies.close()
        self.open_files.close()
        self.cursor.close()


class _Restorer:
    """One restore transaction, fed chunk by chunk while the file is read.

    `careful`: before each batch goes in, look up the contact ids, emails,
    membership and event ids it would take (to refuse, or to renumber). Only when
    a first attempt without those look-ups (the constraints check every row
    anyway, and a deleted id is not handed out again, so a clash is rare) ran into
    one (`_Clash`).

    PostgreSQL's first attempt holds the memberships and events back (`later`)
    until every contact is in (`put_back_later`): see the module docstring."""

    def __init__(self, bulk: BulkWrite, path: Path, careful: bool = True) -> None:
        self.bulk = bulk
        self.conn = conn = bulk.conn
        self.dialect = bulk.dialect
        self.path = path
        self.careful = careful
        if self.dialect == "postgresql":
            # Each statement runs once over many rows: JIT-compiling it (from
            # jit_above_cost on, i.e. at a million contacts) costs more than it saves.
            conn.exec_driver_sql("SET LOCAL jit = off")
        self.products = set(conn.execute(select(product_t.c.id)).scalars())
        self.id_taken: list[tuple[int, str]] = []
        self.email_taken: list[str] = []
        self.missing_products: set[int] = set()
        self.deferred_m: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        self.deferred_e: list[dict[str, Any]] = []
        self.taken_event_ids: set[int] = set()
        self.renumbered = 0
        self.contact_ids: list[int] = []
        # Contacts whose `active_until` the file may have wrong (`_unsettled`): only
        # these are settled from the memberships once the rows are in.
        self.unsettled: set[int] = set()
        self.later: dict[str, _Later] = {}
        # PostgreSQL's first attempt: the contacts' COPY stays open from batch to batch
        # (`_stream`), so the server takes one batch while the next is read and formatted.
        self.stream: tuple[tuple[str, ...], Any, Any] | None = None
        if self.dialect == "postgresql" and not careful:
            driver: Any = conn.connection.driver_connection
            self.later = {
                spec.table.name: _Later(spec, driver.cursor()) for spec in (MEMBERSHIP, EVENT)
            }
        self.streams = bool(self.later)
        # SQLite's first attempt holds them back in TEMP tables (sqlite_later.py).
        self.held = (
            SqliteLater(conn, (MEMBERSHIP, EVENT))
            if self.dialect == "sqlite" and not careful
            else None
        )

    def close(self) -> None:
        self.abort_stream()
        for later in self.later.values():
            later.close()
        self.later.clear()

    @property
    def refused(self) -> bool:
        return bool(self.id_taken or self.email_taken or self.missing_products)

    def _taken(self, column: Any, values: Sequence[Any], *extra: Any) -> list[Any]:
        if not values:
            return []
        return list(
            self.conn.execute(select(column, *extra).where(in_(self.dialect, column, values))).all()
        )

    def _insert(self, spec: TableSpec, rows: list[dict[str, Any]]) -> None:
        """Bulk insert on the driver: SQLite executemany, PostgreSQL COPY (SQLAlchemy's
        per-row parameter processing, or psycopg's executemany, would be 2-3x slower).
        Rows with the same columns go together. SQLite gets datetimes as the text
        SQLAlchemy's DateTime stores there: "YYYY-MM-DD HH:MM:SS.ffffff"."""
        later = self.later.get(spec.table.name)
        if later is not None:
            later.add(rows)
            return
        if self.held is not None and self.held.holds(spec.table.name):
            self.held.add(spec.table.name, rows)
            return
        sqlite = self.dialect == "sqlite"
        for cols, group in by_columns(spec, rows).items():
            if self.streams and spec is CONTACT:
                copy = self._stream(cols)
                values = row_values(cols)
                for row in group:
                    copy.write_row(values(row))
                continue
            target = self._target(spec, cols)
            if not sqlite:
                self._copy(target, cols, map(row_values(cols), group))
                continue
            marks = ", ".join("?" * len(cols))
            try:
                self.conn.exec_driver_sql(
                    f"INSERT INTO {target} VALUES ({marks})", sqlite_params(spec, cols, group)
                )
            except IntegrityError:
                if not self.careful:
                    raise _Clash() from None  # rolled back: the careful attempt follows
                raise

    def _target(self, spec: TableSpec, cols: Sequence[str]) -> str:
        quote = self.conn.dialect.identifier_preparer.quote
        return f"{quote(spec.table.name)} ({', '.join(quote(c) for c in cols)})"

    def _stream(self, cols: tuple[str, ...]) -> Any:
        """The open COPY of contacts with these columns (a COPY of other columns, from
        an older backup's rows, is ended first)."""
        if self.stream is not None and self.stream[0] != cols:
            self.end_stream()
        if self.stream is None:
            driver: Any = self.conn.connection.driver_connection
            stack = ExitStack()
            cursor = stack.enter_context(driver.cursor())
            copy = stack.enter_context(
                cursor.copy(f"COPY {self._target(CONTACT, cols)} FROM STDIN")
            )
            self.stream = (cols, stack, copy)
        return self.stream[2]

    def end_stream(self) -> None:
        """End the contacts' COPY: every contact sent is in (a clash is `_Clash`: only
        the first attempt streams)."""
        import psycopg

        if self.stream is None:
            return
        stack = self.stream[1]
        self.stream = None
        try:
            stack.close()
        except psycopg.IntegrityError as exc:
            raise _Clash() from exc

    def abort_stream(self) -> None:
        """After an error or a cancel: end the contacts' COPY as failed (the server
        discards it), so that the transaction can be rolled back."""
        if self.stream is None:
            return
        stack = self.stream[1]
        self.stream = None
        error = RestoreCancelled("restore abandoned")
        try:
            stack.__exit__(type(error), error, None)
        except Exception:  # noqa: BLE001 - the rollback that follows reports the state
            pass

    def _copy(self, target: str, cols: Sequence[str], rows: Iterator[Sequence[Any]]) -> None:
        """PostgreSQL: COPY these rows (values in `cols` order) into `target` in one
        statement. A constraint the rows break is `_Clash` on a first attempt, and
        otherwise SQLAlchemy's IntegrityError, as an INSERT through SQLAlchemy
        raises it (psycopg's own reaches us here)."""
        import psycopg

        driver: Any = self.conn.connection.driver_connection
        try:
            with driver.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.IntegrityError as exc:
            if not self.careful:
                raise _Clash() from exc
            raise IntegrityError(f"COPY {target}", None, exc) from exc

    def add(self, entries: list[Entry]) -> None:
        c = contact_t.c
        ids = [e.contact["id"] for e in entries]
        for e in entries:
            self.missing_products.update(
                m["product_id"] for m in e.memberships if m["product_id"] not in self.products
            )
        if self.careful:
            emails = [e.contact["email"] for e in entries]
            clash = self._taken(c.id, ids, c.email)
            self.id_taken.extend((r[0], r[1]) for r in clash)
            clash_ids = {r[0] for r in clash}
            self.email_taken.extend(
                r[0] for r in self._taken(c.email, emails, c.id) if r[1] not in clash_ids
            )
        elif self.missing_products:
            raise _Clash()  # the careful attempt lists every problem of the file
        if self.refused:
            return  # keep reading to report every problem; nothing will be committed
        memberships = [m for e in entries for m in e.memberships]
        events = [ev for e in entries for ev in e.events]
        taken_m: set[int] = set()
        taken_e: set[int] = set()
        if self.careful:
            taken_m = {r[0] for r in self._taken(membership_t.c.id, [m["id"] for m in memberships])}
            taken_e = {r[0] for r in self._taken(event_t.c.id, [ev["id"] for ev in events])}
        self.taken_event_ids |= taken_e
        keep_m: list[dict[str, Any]] = []
        keep_e: list[dict[str, Any]] = []
        events_of: dict[int, list[dict[str, Any]]] = {}
        for ev in events:
            events_of.setdefault(ev["membership_id"], []).append(ev)
        for m in memberships:
            its_events = events_of.get(m["id"], [])
            if m["id"] in taken_m:
                self.deferred_m.append((m, its_events))
                continue
            keep_m.append(m)
            for ev in its_events:
                (self.deferred_e if ev["id"] in taken_e else keep_e).append(ev)
        self._insert(CONTACT, [e.contact for e in entries])
        self.contact_ids.extend(ids)
        self.unsettled.update(e.contact["id"] for e in entries if _unsettled(e))
        if keep_m:
            self._insert(MEMBERSHIP, keep_m)
        if keep_e:
            self._insert(EVENT, keep_e)

    def put_back_later(
        self, between: Callable[[str, int, int], None], cancelled: CancelFn | None = None
    ) -> None:
        """The held-back rows, now that every contact is in: every membership by one
        COPY, then every event by another (rows with other columns, from an older
        backup, by a statement of their own). `between(table, bytes, total)` is
        called after each block sent, with the bytes of the table sent so far: it
        may raise (cancel), which aborts the COPY; the caller rolls back.

        SQLite (`held`): every membership by one INSERT .. SELECT from its TEMP
        table, then every event; `cancelled()` is polled while they run
        (RestoreCancelled) and `between` is not called (the progress is the file's)."""
        if self.held is not None:
            self._put_back_held(cancelled)
            return
        import psycopg

        self.end_stream()
        driver: Any = self.conn.connection.driver_connection
        for spec in (MEMBERSHIP, EVENT):
            later = self.later.pop(spec.table.name, None)
            if later is None:
                continue
            try:
                parts = later.written()
                total = sum(size for _cols, _file, size in parts)
                sent = 0
                for cols, file, _size in parts:
                    target = self._target(spec, cols)
                    with driver.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN") as copy:
                        while block := file.read(_BLOCK):
                            copy.write(block)
                            sent += len(block)
                            between(spec.table.name, sent, total)
            except psycopg.IntegrityError as exc:
                raise _Clash() from exc  # only the first attempt holds rows back
            finally:
                later.close()

    def _put_back_held(self, cancelled: CancelFn | None) -> None:
        assert self.held is not None
        try:
            self.held.put_back(cancelled or (lambda: False))
        except IntegrityError:
            raise _Clash() from None  # only the first attempt holds rows back
        except OperationalError:
            if self.held.interrupted:
                raise RestoreCancelled() from None
            raise

    def finish(self, total_contacts: int) -> None:
        self.end_stream()
        if self.refused:
            problems: list[str] = []
            if self.id_taken:
                examples = ", ".join(f"id {i} ({e})" for i, e in self.id_taken[:3])
                problems.append(f"{len(self.id_taken)} contact id(s) are in use by now: {examples}")
            if self.email_taken:
                examples = ", ".join(self.email_taken[:3])
                problems.append(
                    f"{len(self.email_taken)} email(s) belong to another contact by now: {examples}"
                )
            if self.missing_products:
                listed = ", ".join(map(str, sorted(self.missing_products)[:5]))
                problems.append(f"product id(s) {listed} no longer exist")
            raise RestoreConflict(
                f"cannot restore {self.path.name}: "
                + "; ".join(problems)
                + "; nothing was restored",
                problems,
            )
        # Rows whose id was reused meanwhile get a new one, after every row with
        # an explicit id is in (so a new id cannot take a backed-up one).
        late_events: list[dict[str, Any]] = []
        taken_e = self.taken_event_ids
        for m, its_events in self.deferred_m:
            values = {k: v for k, v in m.items() if k != "id"}
            new_id = self.conn.execute(
                membership_t.insert().values(**values).returning(membership_t.c.id)
            ).scalar_one()
            self.renumbered += 1
            for ev in its_events:
                moved = {**ev, "membership_id": new_id}
                (self.deferred_e if ev["id"] in taken_e else late_events).append(moved)
        if late_events:
            self._insert(EVENT, late_events)
        if self.deferred_e:
            self.renumbered += len(self.deferred_e)
            self.conn.execute(
                event_t.insert(),
                [{k: v for k, v in ev.items() if k != "id"} for ev in self.deferred_e],
            )
        # The search index takes every restored contact in ONE statement (in place of
        # the paused per-row trigger): FTS5 then writes one segment, not one a batch.
        if self.contact_ids:
            self.bulk.index_where(
                "id IN (SELECT value FROM json_each(?))", (json.dumps(self.contact_ids),)
            )
        # The status comes from the memberships, never from the file: a contact the
        # file calls active with no (or only ended) memberships is not.
        settle_active_until(self.conn, self.dialect, sorted(self.unsettled))
        if self.dialect == "postgresql":
            _fix_sequences(self.conn)


def _unsettled(entry: Entry) -> bool:
    """Whether the file may have this entry's contact's `active_until` wrong: not when
    it is `expected_active_until` of the contact's memberships in the file, which are
    all it has once restored (the contact is new: no row of the database can refer to
    it, another session's new membership waits for our commit; the reader refuses a
    membership filed under another contact). Also when a value cannot be compared as
    the server would (a datetime with a time zone, which the column drops)."""
    ends: list[Any] = []
    for m in entry.memberships:
        end = m.get("cancelled_at")
        if end is None:
            end = m.get("expires_at")
        ends.append(FAR_FUTURE if end is None else end)
    given = entry.contact.get("active_until")
    if any(
        v is not None and (not isinstance(v, datetime) or v.tzinfo is not None)
        for v in [*ends, given]
    ):
        return True
    return given != (max(ends) if ends else None)


def settle_active_until(conn: Connection, dialect: str, contact_ids: Sequence[int]) -> int:
    """Set `active_until` from the memberships (`expected_active_until`) on those of
    these contacts where it differs from what the file said; the number changed.

    A genuine backup holds the right value, so this is one read and no write: every
    contact row updated would be written twice (on PostgreSQL a dead row version and
    new entries in each of the table's indexes, the trigram index among them, which
    the VACUUM after the restore would then have to clean; on SQLite a second b-tree
    write and the search-index trigger), for nothing."""
    if not contact_ids:
        return 0
    c = contact_t.c
    expected = expected_active_until()
    stmt = (
        update(contact_t)
        .where(in_(dialect, c.id, contact_ids), c.active_until.is_distinct_from(expected))
        .values(active_until=expected)
    )
    return int(conn.execute(stmt).rowcount)


def _fix_sequences(conn: Connection) -> None:
    """PostgreSQL: explicit ids don't advance a serial's sequence; move it past max(id)
    (never backwards, so deleted ids are not handed out again)."""
    for table in (contact_t, membership_t, event_t):
        seq = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
        ).scalar()
        if not seq:
            continue
        top = conn.execute(select(func.max(table.c.id))).scalar()
        last = conn.execute(text(f"SELECT last_value FROM {seq}")).scalar()
        if top is not None and (last is None or top > last):
            conn.execute(text("SELECT setval(:s, :v)"), {"s": seq, "v": top})


def restore_backup(
    db: Database,
    path: str | Path,
    *,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
) -> RestoreResult:
    """Put back the rows of a deletion backup, exactly, in one transaction.

    The file is read once, chunk by chunk, inside the transaction. Raises
    BackupError (file missing/corrupt, end marker absent or wrong) or
    RestoreConflict (a contact id or email is taken by now, or a product is
    gone); in both cases the transaction is rolled back and nothing is written.
    `cancelled()` is polled between chunks and before the commit (RestoreCancelled).
    A clash found by the constraints (see the module docstring) makes the file be
    read a second time: `progress` then starts over.

    Python's cyclic garbage collector is paused meanwhile (`collector_paused`, as
    for an import): the reading makes hundreds of thousands of short-lived dicts
    and no reference cycles, and the collector's passes over them cost ~15 % of
    the reading and freed nothing.
    """
    p = Path(path)
    try:
        with collector_paused():
            try:
                done = _restore_plain(db, p, progress, cancelled) if db.is_sqlite else None
                if done is not None:
                    return done
                return _restore(db, p, progress, cancelled, careful=False)
            except _Clash:
                pass  # rolled back; the careful attempt reports or renumbers
            return _restore(db, p, progress, cancelled, careful=True)
    finally:
        release_memory()  # the rows read are freed by now


def _restore_plain(
    db: Database, p: Path, progress: ProgressFn | None, cancelled: CancelFn | None
) -> RestoreResult | None:
    """SQLite's first attempt at a plain backup (sqlite_lines.py): the result, or None
    (rolled back) when the file is not plain: the Python path reads it then. `_Clash`
    (rolled back) when a row breaks a constraint: the careful attempt lists why."""
    if not is_plain_header(p):
        return None  # not a backup, or not readable: the Python path says so
    try:
        with bulk_write(
            db, pause=(INSERT,), cache_kib=DELETE_CACHE_KIB, temp_file=True, foreign_keys=False
        ) as bulk:
            counts = restore_plain(bulk, p, progress, cancelled)
            settle_active_until(bulk.conn, "sqlite", counts.unsettled)
            if cancelled is not None and cancelled():
                raise RestoreCancelled()
            if progress is not None:
                progress(counts.contacts, counts.contacts)
            bulk.commit()
    except NotPlain:
        return None
    except Interrupted:
        raise RestoreCancelled() from None
    except (sqlite3.IntegrityError, IntegrityError):
        raise _Clash() from None
    db.analyze(counts.contacts)
    return RestoreResult(
        backup_path=p,
        contacts=counts.contacts,
        memberships=counts.memberships,
        events=counts.events,
    )


def _restore(
    db: Database,
    p: Path,
    progress: ProgressFn | None,
    cancelled: CancelFn | None,
    *,
    careful: bool,
) -> RestoreResult:
    entries = read_entries(p)
    _kind, header = next(entries)  # a file that is not a backup fails before the database
    ahead = read_ahead(entries)  # the rest is read while the database takes each batch
    expected = int(header.get("requested") or 0)
    done = memberships = events = 0
    restorer: _Restorer | None = None
    try:
        with bulk_write(db, pause=(INSERT,), cache_kib=DELETE_CACHE_KIB, temp_file=True) as bulk:
            restorer = _Restorer(bulk, p, careful)
            try:
                # With rows held back (PostgreSQL's first attempt), reading the file is
                # the first half of the progress and the memberships the second.
                half = 2 if restorer.later else 1
                batch: list[Entry] = []
                for kind, item in ahead:
                    if kind != "entry":
                        continue
                    batch.append(item)
                    done += 1
                    memberships += len(item.memberships)
                    events += len(item.events)
                    if done % CHUNK == 0:  # progress and cancel every CHUNK contacts read
                        if cancelled is not None and cancelled():
                            raise RestoreCancelled()
                        if len(batch) >= BATCH:
                            restorer.add(batch)
                            batch = []
                        if progress is not None:
                            progress(done // half, max(expected, done))
                if batch:
                    restorer.add(batch)

                def between(table: str, rows: int, total: int) -> None:
                    if cancelled is not None and cancelled():
                        raise RestoreCancelled()
                    if progress is not None and table == MEMBERSHIP.table.name:
                        progress(done // 2 + done * rows // (2 * total), max(expected, done))

                if not restorer.refused:
                    restorer.put_back_later(between, cancelled)
                restorer.finish(done)
                if cancelled is not None and cancelled():
                    raise RestoreCancelled()
                if progress is not None:
                    progress(done, done)
                bulk.commit()
            except BaseException:
                restorer.abort_stream()  # an open COPY would keep the rollback out
                raise
    except IntegrityError as exc:
        # Someone else wrote a clashing row between our check and our insert.
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise RestoreConflict(
            f"cannot restore {p.name}: the database changed while restoring ({first}); "
            "nothing was restored",
            [first],
        ) from exc
    finally:
        ahead.close()  # stops the reading thread when the restore ended early
        if restorer is not None:
            restorer.close()  # the held-back rows' temporary files
    db.analyze(done)  # PostgreSQL statistics after a bulk restore
    return RestoreResult(
        backup_path=p,
        contacts=done,
        memberships=memberships,
        events=events,
        renumbered=restorer.renumbered if restorer is not None else 0,
    )
