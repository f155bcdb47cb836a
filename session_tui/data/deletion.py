"""Deleting contacts with a backup first, and restoring them from that backup.

`delete_contacts(db, ids)` deletes an explicit, frozen list of contact ids together
with their memberships and membership history. Inside the deleting transaction it
first writes every affected row -- all columns, ids included -- to a backup file in
`locations.backups_dir()`; the file is complete on disk (fsync, atomic rename)
before the transaction commits. `restore_backup(db, path)` puts those rows back
exactly (same ids) in one transaction, or refuses without writing anything.

Backup file format (version 1)
------------------------------
gzip-compressed JSON Lines (UTF-8), named
`deleted-YYYYmmdd-HHMMSS-<N>-contacts-<token>.jsonl.gz`, mode 0600 in a 0700
directory. Read it with `zcat`; a decompressed `.jsonl` restores too.

- line 1, the header:
  `{"format": "session-tui-deletion-backup", "version": 1, "created_at": ISO,
  "database": URL without password, "requested": N}`
- one line per deleted contact, parents before children:
  `{"contact": {every column of contact},
    "memberships": [{every column of membership, "events": [{every column of
    membership_event}, ...]}, ...]}`
- the last line, the trailer: `{"end": {"contacts": n, "memberships": m, "events": k}}`.
  A file without it was cut short and is refused.

Datetimes are naive UTC in ISO 8601 (`2026-01-05T14:23:01`), NULL is `null`.
The file is written and read one contact at a time, so 100,000 contacts never
need one big in-memory document.

Partial files
-------------
While a delete runs, its backup is written to `.deleting-<time>-<token>.partial`
in the same folder and renamed to its final name just before the commit. The
writer holds an exclusive `flock` on the partial file from its creation until
after the rename. A process killed mid-delete (its transaction rolled back, so
nothing was deleted) leaves a partial behind; the kernel drops its lock.
`remove_stale_partials` (run at the start of every delete) removes a partial
only when it can take that lock itself -- no process is writing it -- and the
file is at least PARTIAL_MIN_AGE old (a guard for writers that hold no lock:
an older session-tui, a filesystem where locks are not shared). Finished
backups and every other file are never touched.

Speed: ids go to the database in chunks of CHUNK, each chunk as ONE parameter
(SQLite `json_each`, PostgreSQL `= ANY(array)`). On SQLite the per-row FTS5
trigger is replaced, inside the same transaction, by one bulk statement per chunk
(the per-row trigger is several times slower); the trigger is back before commit.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import secrets
import stat
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Integer,
    Table,
    any_,
    bindparam,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from session_tui import locations
from session_tui.data import fts
from session_tui.data.clock import utcnow
from session_tui.data.collation import DERIVED_COLUMNS, derived_columns
from session_tui.data.db import Database, mark_writer, retry_transient
from session_tui.data.models import EventKind, contact_t, event_t, membership_t, product_t
from session_tui.data.repositories.memberships import (
    normalize_payment_type,
    refresh_active_until,
)
from session_tui.data.validation import ValidationError, normalize_email, normalize_name

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux/macOS: no lock, leftovers are kept
    fcntl = None  # type: ignore[assignment]

FORMAT = "session-tui-deletion-backup"
FORMAT_VERSION = 1
CHUNK = 500  # ids per statement: well under SQLite's bound-parameter limit
_GZIP_LEVEL = 3  # fast; the backup must not make deleting slow


ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


class Cancelled(Exception):
    """The user cancelled before the commit: nothing was changed."""


class DeletionCancelled(Cancelled):
    """The user cancelled before the delete committed: nothing was deleted."""


class RestoreCancelled(Cancelled):
    """The user cancelled before the restore committed: nothing was restored."""


class BackupError(Exception):
    """A backup file is missing, unreadable or corrupt. The message is for the user."""


class RestoreConflict(Exception):
    """The backup cannot be restored into this database as it is now.

    `problems` lists the reasons (at most a few examples); nothing was written.
    """

    def __init__(self, message: str, problems: Sequence[str]) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True)
class DeleteResult:
    backup_path: Path
    contacts: int  # contacts deleted
    memberships: int
    events: int
    missing: int = 0  # requested ids that no longer existed (nothing to delete)
    ids: tuple[int, ...] = ()  # the contacts actually deleted, ascending


@dataclass(frozen=True)
class RestoreResult:
    backup_path: Path
    contacts: int
    memberships: int
    events: int
    # Memberships/history events whose id had been reused meanwhile (SQLite hands
    # out max(id)+1 again) got a new id; everything else is identical.
    renumbered: int = 0


# -- rows <-> JSON ----------------------------------------------------------------


@dataclass(frozen=True)
class _TableSpec:
    table: Table
    names: tuple[str, ...]
    datetimes: tuple[str, ...]
    required: frozenset[str]  # must be in a backup record (others may be missing: added later)


def _spec(table: Table) -> _TableSpec:
    return _TableSpec(
        table=table,
        names=tuple(c.name for c in table.columns),
        datetimes=tuple(c.name for c in table.columns if isinstance(c.type, DateTime)),
        required=frozenset(
            c.name for c in table.columns if not c.nullable and c.server_default is None
        ),
    )


_CONTACT = _spec(contact_t)
_MEMBERSHIP = _spec(membership_t)
_EVENT = _spec(event_t)


def _fetch(conn: Connection, stmt: Any, spec: _TableSpec) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (datetimes as ISO strings)."""
    result = conn.execute(stmt)
    keys = list(result.keys())
    dt_index = [i for i, k in enumerate(keys) if k in spec.datetimes]
    out: list[dict[str, Any]] = []
    for row in result:
        values = list(row)
        for i in dt_index:
            v = values[i]
            if v is not None:
                values[i] = v.isoformat()
        out.append(dict(zip(keys, values, strict=True)))
    return out


def _decode(spec: _TableSpec, record: Any, where: str) -> dict[str, Any]:
    """A row dict for the spec's table from a backup record; BackupError if malformed."""
    if not isinstance(record, dict):
        raise BackupError(f"{where}: expected an object")
    name = spec.table.name
    keys = record.keys()
    unknown = keys - set(spec.names) - {"events"}
    if unknown:
        raise BackupError(
            f"{where}: unknown {name} column(s) {', '.join(sorted(unknown))} "
            "(a backup from a newer session-tui?)"
        )
    missing = spec.required - keys
    if missing:
        raise BackupError(f"{where}: missing {name}.{sorted(missing)[0]}")
    out = {n: record[n] for n in spec.names if n in record}
    for n in spec.datetimes:
        v = out.get(n)
        if v is not None:
            try:
                out[n] = datetime.fromisoformat(v)
            except (TypeError, ValueError):
                raise BackupError(f"{where}: {name}.{n} is not a date") from None
    if not isinstance(out["id"], int):
        raise BackupError(f"{where}: {name}.id is not a number")
    return out


_EVENT_KINDS = frozenset(k.value for k in EventKind)


def _text(record: dict[str, Any], name: str, where: str) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BackupError(f"{where}: {name} is not text")
    return value


def _normalize_contact(contact: dict[str, Any], where: str) -> dict[str, Any]:
    """The same validation and normalisation as import and edit (a hand-edited
    backup is input like any other): the email trimmed, lower-cased and valid, names
    without control characters and at most MAX_NAME long. A genuine backup holds
    normalised values, so this changes nothing in it. BackupError names the line."""
    try:
        contact["email"] = normalize_email(_text(contact, "email", where))
        for name in ("first_name", "last_name"):
            contact[name] = normalize_name(_text(contact, name, where), name)
    except ValidationError as exc:
        raise BackupError(f"{where}: {exc.message}") from None
    contact.update(derived_columns(contact["first_name"], contact["last_name"], contact["email"]))
    return contact


def _normalize_membership(m: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        m["payment_type"] = normalize_payment_type(_text(m, "payment_type", where)).value
    except ValidationError as exc:
        raise BackupError(f"{where}: {exc.message}") from None
    return m


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _in(dialect: str, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`, sent as one parameter whatever the number of values."""
    if dialect == "postgresql":
        item = Integer() if isinstance(column.type, Integer) else column.type
        return column == any_(bindparam(None, list(values), type_=ARRAY(item)))  # type: ignore[no-any-return]
    each = func.json_each(bindparam(None, json.dumps(list(values)))).table_valued("value")
    return column.in_(select(each.c.value))  # type: ignore[no-any-return]


# -- shared transaction helpers -------------------------------------------------------


BULK_CACHE_KIB = 262_144  # SQLite page cache while deleting/restoring many rows


@contextmanager
def _bulk_connection(db: Database) -> Iterator[Connection]:
    """A connection for one big WRITING transaction (`mark_writer`: SQLite's
    BEGIN IMMEDIATE). SQLite: a larger page cache for its duration (the indexes
    of a million-contact database do not fit the default, and a full cache
    spills into the WAL mid-transaction); reset afterwards, as the pool reuses
    the connection."""
    with db.engine.connect() as conn:
        if not db.is_sqlite:
            mark_writer(conn)
            yield conn
            return
        previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        conn.commit()
        mark_writer(conn)

        def reset() -> None:
            conn.rollback()  # also ends a transaction that a failed commit left invalid
            mark_writer(conn, False)
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(previous or -2000)}")
            conn.commit()

        try:
            yield conn
        except BaseException:
            # The first error is the one to report (e.g. "disk is full" at the
            # commit), never a failure of this clean-up: a connection that cannot
            # be reset is dropped instead of going back to the pool.
            try:
                reset()
            except Exception:  # noqa: BLE001
                conn.invalidate()
            raise
        reset()


def _take_write_lock(conn: Connection, db: Database) -> None:
    """SQLite: take the write lock now, so that what we read is what we change
    (a deferred transaction cannot upgrade after another writer committed).
    Redundant since `_bulk_connection` begins with BEGIN IMMEDIATE; harmless."""
    if db.is_sqlite:
        conn.exec_driver_sql("DELETE FROM contact WHERE 0")


def _trigger_sql(name: str) -> str:
    for statement in fts.FTS_TRIGGERS:
        if f"TRIGGER {name} " in statement:
            return statement
    raise LookupError(name)


class _FtsBulk:
    """SQLite: within the transaction, replace one FTS5 trigger by bulk statements."""

    def __init__(self, conn: Connection, db: Database, trigger: str) -> None:
        self.conn = conn
        self.active = db.is_sqlite and self._exists(trigger)
        self.trigger = trigger
        if self.active:
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}")

    def _exists(self, name: str) -> bool:
        return (
            self.conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)
            ).first()
            is not None
        )

    def index(self, ids: Sequence[int], *, remove: bool) -> None:
        """Add (or remove) these contacts to (from) the search index."""
        if not self.active or not ids:
            return
        if remove:
            target = "contact_fts(contact_fts, rowid, search_text)"
            values = "'delete', id, search_text"
        else:
            target = "contact_fts(rowid, search_text)"
            values = "id, search_text"
        self.conn.exec_driver_sql(
            f"INSERT INTO {target} SELECT {values} FROM contact "
            "WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(ids)),),
        )

    def finish(self) -> None:
        if self.active:
            self.conn.exec_driver_sql(_trigger_sql(self.trigger))
            self.active = False


# -- deleting ----------------------------------------------------------------------


def _backup_name(count: int, when: datetime) -> str:
    noun = "contact" if count == 1 else "contacts"
    return f"deleted-{when:%Y%m%d-%H%M%S}-{count}-{noun}-{secrets.token_hex(3)}.jsonl.gz"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# -- partial files: the backup of a delete still running (or killed) ------------------

PARTIAL_MIN_AGE = 600.0  # seconds; see the module docstring
_PARTIAL_NAME = re.compile(r"\.deleting-\d{8}-\d{6}-[0-9a-f]{8}\.partial\Z")
# The partials this process is writing now, as (st_dev, st_ino). flock locks are
# per open file, so a second open in this process cannot take them -- except where
# flock is emulated with per-process fcntl locks (Linux NFS); this set covers that.
_writing: set[tuple[int, int]] = set()


def _try_lock(fd: int) -> bool | None:
    """Take an exclusive lock on the open file without waiting: True (taken),
    False (another open file holds it), None (this system/filesystem cannot lock)."""
    if fcntl is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def _is_file_at(fd: int, path: Path) -> bool:
    """Is `path` (still) the file open as `fd`?"""
    try:
        here = os.lstat(path)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino) and mine.st_nlink > 0


def _create_partial(folder: Path, now: datetime) -> tuple[Path, int, tuple[int, int]]:
    """Create a new partial file (0600) and lock it; returns its path, fd and its
    key in `_writing` (where it is registered).

    A cleaner that took the lock between our create and our lock removes the
    file: then we start over with a new name. Where locking is not possible the
    file is used unlocked (the age rule keeps it from being removed)."""
    for _attempt in range(10):
        tmp = folder / f".deleting-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.partial"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        locked = _try_lock(fd)
        if locked is None or (locked and _is_file_at(fd, tmp)):
            st = os.fstat(fd)
            key = (st.st_dev, st.st_ino)
            _writing.add(key)
            return tmp, fd, key
        os.close(fd)  # a cleaner has it: it removes it (or already did)
    raise OSError(f"cannot create a backup file in {folder}")


def remove_stale_partials(folder: Path, *, min_age: float = PARTIAL_MIN_AGE) -> list[Path]:
    """Remove the partial backup files of deletes that never finished; returns them.

    A `.deleting-*.partial` file is removed only when no process holds its lock
    (its writer is dead: the kernel released the lock) and its last change is at
    least `min_age` seconds old. Nothing else in the folder is touched; every
    error just keeps the file.
    """
    removed: list[Path] = []
    try:
        names = [e.name for e in os.scandir(folder)]
    except OSError:
        return removed
    now = time.time()
    for name in sorted(names):
        if not _PARTIAL_NAME.match(name):
            continue
        path = folder / name
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < min_age:
                continue
            if (st.st_dev, st.st_ino) in _writing:
                continue
            flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
            fd = os.open(path, flags)
        except OSError:
            continue
        try:
            # Our lock is held until we close fd, after the unlink: a writer that
            # created the file just now cannot lock it meanwhile, sees it gone and
            # picks a new name (_create_partial).
            if _try_lock(fd) and _is_file_at(fd, path):
                os.unlink(path)
                removed.append(path)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _remove_stale_partials_quietly(folder: Path) -> None:
    """Housekeeping before a delete: never the reason a delete fails."""
    try:
        remove_stale_partials(folder)
    except Exception:  # noqa: BLE001 - a leftover is harmless; the delete matters
        pass


def delete_contacts(
    db: Database,
    ids: Iterable[int],
    *,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
    backups_dir: Path | None = None,
) -> DeleteResult:
    """Delete exactly these contacts (with memberships and history), backup first.

    `progress(done, total)` is called after each chunk; `cancelled()` is polled
    before each chunk and before the commit -- when it returns True the
    transaction is rolled back, the unfinished backup removed, and
    DeletionCancelled raised. Ids that no longer exist are skipped and counted
    in `missing`.

    Locks: contacts first (ids ascending, chunk by chunk), then their memberships
    -- the lock order of every membership change (repositories.memberships), so
    they cannot deadlock. A transaction PostgreSQL still aborts as a deadlock
    victim (or a serialization failure) is run again from the start, with a new
    backup (`retry_transient`); `progress` then starts over.
    """
    id_list = sorted({int(i) for i in ids})
    return retry_transient(
        lambda: _delete_once(db, id_list, progress, cancelled, backups_dir)
    )


def _delete_once(
    db: Database,
    id_list: list[int],
    progress: ProgressFn | None,
    cancelled: CancelFn | None,
    backups_dir: Path | None,
) -> DeleteResult:
    total = len(id_list)
    folder = backups_dir if backups_dir is not None else locations.backups_dir()
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials_quietly(folder)
    now = utcnow()
    tmp, fd, key = _create_partial(folder, now)
    try:
        raw: IO[bytes] = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        _writing.discard(key)
        tmp.unlink(missing_ok=True)
        raise
    final: Path | None = None
    n_contacts = n_memberships = n_events = 0
    deleted: list[int] = []
    try:
        with _bulk_connection(db) as conn, conn.begin() as tx:
            fts_bulk = _FtsBulk(conn, db, "contact_fts_ad")
            with gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, compresslevel=_GZIP_LEVEL, mtime=0
            ) as gz:
                header = {
                    "format": FORMAT,
                    "version": FORMAT_VERSION,
                    "created_at": now.isoformat(),
                    "database": db.display_name(),
                    "requested": total,
                }
                gz.write((_dumps(header) + "\n").encode())
                done = 0
                for chunk in _chunks(id_list):
                    if cancelled is not None and cancelled():
                        raise DeletionCancelled()
                    found, m, e = _backup_and_delete_chunk(conn, db.dialect, chunk, gz, fts_bulk)
                    deleted.extend(found)
                    n_contacts += len(found)
                    n_memberships += m
                    n_events += e
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
                trailer = {
                    "end": {
                        "contacts": n_contacts,
                        "memberships": n_memberships,
                        "events": n_events,
                    }
                }
                gz.write((_dumps(trailer) + "\n").encode())
            fts_bulk.finish()
            raw.flush()
            os.fsync(raw.fileno())
            target = folder / _backup_name(n_contacts, now)
            os.replace(tmp, target)
            final = target
            raw.close()  # only now: the lock guards the partial until it is renamed
            _fsync_dir(folder)
            if cancelled is not None and cancelled():
                raise DeletionCancelled()
            tx.commit()
    except BaseException as exc:
        # Rolled back (the `with` block did that): the backup describes a delete
        # that did not happen, so remove it -- unless the commit itself failed,
        # where we cannot be sure and keep the file.
        committing = final is not None and not isinstance(exc, Cancelled)
        if not committing:
            for path in (tmp, final):
                if path is not None:
                    try:
                        path.unlink()
                    except FileNotFoundError:
                        pass
        if not raw.closed:
            raw.close()  # after the unlink: the partial stays locked while it exists
        raise
    finally:
        _writing.discard(key)
    assert final is not None
    db.analyze(n_contacts)  # PostgreSQL statistics after a bulk delete
    return DeleteResult(
        backup_path=final,
        contacts=n_contacts,
        memberships=n_memberships,
        events=n_events,
        missing=total - n_contacts,
        ids=tuple(deleted),
    )


def _backup_and_delete_chunk(
    conn: Connection, dialect: str, chunk: Sequence[int], out: gzip.GzipFile, fts_bulk: _FtsBulk
) -> tuple[list[int], int, int]:
    # FOR UPDATE (PostgreSQL) keeps other sessions from adding memberships or
    # history to these contacts between the backup and the delete.
    contacts = _fetch(
        conn,
        select(*(col for col in contact_t.columns if col.name not in DERIVED_COLUMNS))
        .where(_in(dialect, contact_t.c.id, chunk))
        .order_by(contact_t.c.id)
        .with_for_update(),
        _CONTACT,
    )
    if not contacts:
        return [], 0, 0
    memberships = _fetch(
        conn,
        select(membership_t)
        .where(_in(dialect, membership_t.c.contact_id, chunk))
        .order_by(membership_t.c.contact_id, membership_t.c.id)
        .with_for_update(),
        _MEMBERSHIP,
    )
    member_ids = [m["id"] for m in memberships]
    events: list[dict[str, Any]] = []
    for part in _chunks(member_ids, CHUNK * 4):
        events.extend(
            _fetch(
                conn,
                select(event_t)
                .where(_in(dialect, event_t.c.membership_id, part))
                .order_by(event_t.c.membership_id, event_t.c.id),
                _EVENT,
            )
        )
    events_by_membership: dict[int, list[dict[str, Any]]] = {}
    for ev in events:
        events_by_membership.setdefault(ev["membership_id"], []).append(ev)
    memberships_by_contact: dict[int, list[dict[str, Any]]] = {}
    for m in memberships:
        m["events"] = events_by_membership.get(m["id"], [])
        memberships_by_contact.setdefault(m["contact_id"], []).append(m)
    lines = [
        _dumps({"contact": c, "memberships": memberships_by_contact.get(c["id"], [])})
        for c in contacts
    ]
    out.write(("\n".join(lines) + "\n").encode())
    for part in _chunks(member_ids, CHUNK * 4):
        conn.execute(delete(event_t).where(_in(dialect, event_t.c.membership_id, part)))
    conn.execute(delete(membership_t).where(_in(dialect, membership_t.c.contact_id, chunk)))
    found = [c["id"] for c in contacts]
    fts_bulk.index(found, remove=True)
    conn.execute(delete(contact_t).where(_in(dialect, contact_t.c.id, found)))
    return found, len(memberships), len(events)


# -- reading a backup ------------------------------------------------------------------


@dataclass
class _Entry:
    contact: dict[str, Any]
    memberships: list[dict[str, Any]]
    events: list[dict[str, Any]]  # of all its memberships


@dataclass
class BackupInfo:
    """What a pass over a backup file learns (it also validates the whole file)."""

    path: Path
    header: dict[str, Any]
    contacts: int = 0
    memberships: int = 0
    events: int = 0
    emails: list[str] = field(default_factory=list)


def _open_lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        fh: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise BackupError(f"no such backup file: {path}") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a directory, not a backup file") from None
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from None
    with fh:
        magic = fh.read(2)
        fh.seek(0)
        stream: Any = gzip.GzipFile(fileobj=fh, mode="rb") if magic == b"\x1f\x8b" else fh
        reader = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
        try:
            yield from enumerate(reader, start=1)
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
            raise BackupError(f"{path} is damaged or not a session-tui backup ({exc})") from None


class _Seen:
    """Duplicate detection and the end marker's counts check while streaming."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sets: dict[str, set[Any]] = {
            k: set() for k in ("contact id", "email", "membership id", "event id")
        }
        self.counts = [0, 0, 0]

    def add(self, entry: _Entry) -> None:
        pairs: list[tuple[str, Any]] = [
            ("contact id", entry.contact["id"]),
            ("email", entry.contact["email"]),
        ]
        pairs += [("membership id", m["id"]) for m in entry.memberships]
        pairs += [("event id", e["id"]) for e in entry.events]
        for label, value in pairs:
            seen = self.sets[label]
            if value in seen:
                raise BackupError(f"{self.path} is damaged: {label} {value} appears twice")
            seen.add(value)
        self.counts[0] += 1
        self.counts[1] += len(entry.memberships)
        self.counts[2] += len(entry.events)

    def check_end(self, end: dict[str, Any]) -> None:
        got = [end.get(k) for k in ("contacts", "memberships", "events")]
        if got != self.counts:
            raise BackupError(
                f"{self.path} is damaged: its end marker counts {tuple(got)}, "
                f"the file holds {tuple(self.counts)}"
            )


def _read_entries(path: Path) -> Iterator[tuple[str, Any]]:
    """("header", dict), then ("entry", _Entry) per contact, then ("end", dict).

    Raises BackupError for anything malformed: bad JSON, a duplicate id, a missing
    end marker or one whose counts disagree with the file.
    """
    seen_header = False
    trailer: dict[str, Any] | None = None
    seen = _Seen(path)
    for number, line in _open_lines(path):
        where = f"{path.name}, line {number}"
        if not line.strip():
            continue
        if trailer is not None:
            raise BackupError(f"{path} is damaged: data after the end marker (line {number})")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            if not seen_header:
                raise BackupError(f"{path} is not a session-tui deletion backup") from None
            raise BackupError(f"{path} is damaged: line {number} is not JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise BackupError(f"{where}: expected an object")
        if not seen_header:
            if obj.get("format") != FORMAT:
                raise BackupError(f"{path} is not a session-tui deletion backup")
            if obj.get("version") != FORMAT_VERSION:
                raise BackupError(
                    f"{path} has backup format version {obj.get('version')!r}; "
                    f"this session-tui reads version {FORMAT_VERSION}"
                )
            seen_header = True
            yield "header", obj
            continue
        if "end" in obj:
            if not isinstance(obj["end"], dict):
                raise BackupError(f"{where}: malformed end marker")
            trailer = obj["end"]
            continue
        contact = _normalize_contact(_decode(_CONTACT, obj.get("contact"), where), where)
        memberships: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        raw_memberships = obj.get("memberships", [])
        if not isinstance(raw_memberships, list):
            raise BackupError(f"{where}: memberships is not a list")
        for raw_m in raw_memberships:
            m = _normalize_membership(_decode(_MEMBERSHIP, raw_m, where), where)
            if m["contact_id"] != contact["id"]:
                raise BackupError(f"{where}: a membership belongs to another contact")
            memberships.append(m)
            raw_events = raw_m.get("events", [])
            if not isinstance(raw_events, list):
                raise BackupError(f"{where}: events is not a list")
            for raw_e in raw_events:
                e = _decode(_EVENT, raw_e, where)
                if e["kind"] not in _EVENT_KINDS:
                    raise BackupError(f"{where}: unknown history event kind {e['kind']!r}")
                if e["membership_id"] != m["id"]:
                    raise BackupError(f"{where}: an event belongs to another membership")
                events.append(e)
        entry = _Entry(contact, memberships, events)
        seen.add(entry)
        yield "entry", entry
    if not seen_header:
        raise BackupError(f"{path} is empty: not a session-tui deletion backup")
    if trailer is None:
        raise BackupError(f"{path} is incomplete: it ends before its end marker (cut short?)")
    seen.check_end(trailer)
    yield "end", trailer


def inspect_backup(path: str | Path) -> BackupInfo:
    """Read and validate a whole backup file (without touching any database)."""
    p = Path(path)
    info = BackupInfo(path=p, header={})
    for kind, item in _read_entries(p):
        if kind == "header":
            info.header = item
        elif kind == "entry":
            info.contacts += 1
            info.memberships += len(item.memberships)
            info.events += len(item.events)
            info.emails.append(item.contact["email"])
    return info


# -- restoring ------------------------------------------------------------------------


class _Restorer:
    """One restore transaction, fed chunk by chunk while the file is read."""

    def __init__(self, conn: Connection, db: Database, path: Path) -> None:
        self.conn = conn
        self.dialect = db.dialect
        self.path = path
        self.fts = _FtsBulk(conn, db, "contact_fts_ai")
        self.products = set(conn.execute(select(product_t.c.id)).scalars())
        self.id_taken: list[tuple[int, str]] = []
        self.email_taken: list[str] = []
        self.missing_products: set[int] = set()
        self.deferred_m: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        self.deferred_e: list[dict[str, Any]] = []
        self.taken_event_ids: set[int] = set()
        self.renumbered = 0
        self.contact_ids: list[int] = []

    @property
    def refused(self) -> bool:
        return bool(self.id_taken or self.email_taken or self.missing_products)

    def _taken(self, column: Any, values: Sequence[Any], *extra: Any) -> list[Any]:
        if not values:
            return []
        return list(
            self.conn.execute(select(column, *extra).where(_in(self.dialect, column, values))).all()
        )

    def _insert(self, spec: _TableSpec, rows: list[dict[str, Any]]) -> None:
        """Bulk insert on the driver: SQLite executemany, PostgreSQL COPY (SQLAlchemy's
        per-row parameter processing, or psycopg's executemany, would be 2-3x slower).
        Rows with the same columns go together. SQLite gets datetimes as the text
        SQLAlchemy's DateTime stores there: "YYYY-MM-DD HH:MM:SS.ffffff"."""
        sqlite = self.dialect == "sqlite"
        quote = self.conn.dialect.identifier_preparer.quote
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(n for n in spec.names if n in row), []).append(row)
        for cols, group in groups.items():
            target = f"{quote(spec.table.name)} ({', '.join(quote(c) for c in cols)})"
            if not sqlite:
                driver: Any = self.conn.connection.driver_connection
                with driver.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN") as copy:
                    for row in group:
                        copy.write_row([row[c] for c in cols])
                continue
            dts = [i for i, c in enumerate(cols) if c in spec.datetimes]
            params = []
            for row in group:
                values = [row[c] for c in cols]
                for i in dts:
                    if values[i] is not None:
                        values[i] = values[i].isoformat(" ", "microseconds")
                params.append(tuple(values))
            marks = ", ".join("?" * len(cols))
            self.conn.exec_driver_sql(f"INSERT INTO {target} VALUES ({marks})", params)

    def add(self, entries: list[_Entry]) -> None:
        c = contact_t.c
        ids = [e.contact["id"] for e in entries]
        emails = [e.contact["email"] for e in entries]
        clash = self._taken(c.id, ids, c.email)
        self.id_taken.extend((r[0], r[1]) for r in clash)
        clash_ids = {r[0] for r in clash}
        self.email_taken.extend(
            r[0] for r in self._taken(c.email, emails, c.id) if r[1] not in clash_ids
        )
        for e in entries:
            self.missing_products.update(
                m["product_id"] for m in e.memberships if m["product_id"] not in self.products
            )
        if self.refused:
            return  # keep reading to report every problem; nothing will be committed
        memberships = [m for e in entries for m in e.memberships]
        events = [ev for e in entries for ev in e.events]
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
        self._insert(_CONTACT, [e.contact for e in entries])
        self.contact_ids.extend(ids)
        self.fts.index(ids, remove=False)
        if keep_m:
            self._insert(_MEMBERSHIP, keep_m)
        if keep_e:
            self._insert(_EVENT, keep_e)

    def finish(self, total_contacts: int) -> None:
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
            self._insert(_EVENT, late_events)
        if self.deferred_e:
            self.renumbered += len(self.deferred_e)
            self.conn.execute(
                event_t.insert(),
                [{k: v for k, v in ev.items() if k != "id"} for ev in self.deferred_e],
            )
        # The status comes from the memberships, never from the file: a contact the
        # file calls active with no (or only ended) memberships is not.
        refresh_active_until(self.conn, self.contact_ids)
        self.fts.finish()
        if self.dialect == "postgresql":
            _fix_sequences(self.conn)


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
    """
    p = Path(path)
    entries = _read_entries(p)
    _kind, header = next(entries)  # a file that is not a backup fails before the database
    expected = int(header.get("requested") or 0)
    done = memberships = events = 0
    try:
        with _bulk_connection(db) as conn, conn.begin():
            _take_write_lock(conn, db)
            restorer = _Restorer(conn, db, p)
            batch: list[_Entry] = []
            for kind, item in entries:
                if kind != "entry":
                    continue
                batch.append(item)
                done += 1
                memberships += len(item.memberships)
                events += len(item.events)
                if len(batch) >= CHUNK:
                    if cancelled is not None and cancelled():
                        raise RestoreCancelled()
                    restorer.add(batch)
                    batch = []
                    if progress is not None:
                        progress(done, max(expected, done))
            if batch:
                restorer.add(batch)
            restorer.finish(done)
            if cancelled is not None and cancelled():
                raise RestoreCancelled()
            if progress is not None:
                progress(done, done)
    except IntegrityError as exc:
        # Someone else wrote a clashing row between our check and our insert.
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise RestoreConflict(
            f"cannot restore {p.name}: the database changed while restoring ({first}); "
            "nothing was restored",
            [first],
        ) from exc
    db.analyze(done)  # PostgreSQL statistics after a bulk restore
    return RestoreResult(
        backup_path=p,
        contacts=done,
        memberships=memberships,
        events=events,
        renumbered=restorer.renumbered,
    )


@dataclass(frozen=True)
class PreviewRow:
    id: int
    first_name: str
    last_name: str
    email: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def preview(db: Database, ids: Iterable[int], limit: int = 5) -> list[PreviewRow]:
    """The first `limit` of these contacts (lowest ids) for a confirmation dialog."""
    first = sorted(ids)[:limit]
    if not first:
        return []
    c = contact_t.c
    stmt = select(c.id, c.first_name, c.last_name, c.email).where(c.id.in_(first)).order_by(c.id)
    with db.engine.connect() as conn:
        return [PreviewRow(*r) for r in conn.execute(stmt)]


def list_backups(folder: Path | None = None) -> list[Path]:
    """Backup files in the backups directory, newest first."""
    base = folder if folder is not None else locations.backups_dir()
    return sorted(base.glob("deleted-*.jsonl*"), key=lambda p: p.stat().st_mtime, reverse=True)
