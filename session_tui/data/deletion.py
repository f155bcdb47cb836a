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
"""

from __future__ import annotations

import gzip
import io
import json
import os
import secrets
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, DateTime, Table, delete, func, select, text
from sqlalchemy.exc import IntegrityError

from session_tui import locations
from session_tui.data.clock import utcnow
from session_tui.data.db import Database
from session_tui.data.models import contact_t, event_t, membership_t, product_t

FORMAT = "session-tui-deletion-backup"
FORMAT_VERSION = 1
CHUNK = 500  # ids per statement: well under SQLite's bound-parameter limit
_GZIP_LEVEL = 3  # fast; the backup must not make deleting slow

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


class DeletionCancelled(Exception):
    """The user cancelled before the delete committed: nothing was deleted."""


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


@dataclass(frozen=True)
class RestoreResult:
    backup_path: Path
    contacts: int
    memberships: int
    events: int
    # Memberships/history events whose id had been reused meanwhile (SQLite hands
    # out max(id)+1 again) got a new id; everything else is identical.
    renumbered: int = 0


# -- encoding rows -------------------------------------------------------------


def _datetime_columns(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns if isinstance(c.type, DateTime))


_DT_COLS = {t.name: _datetime_columns(t) for t in (contact_t, membership_t, event_t)}


def _encode(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row._mapping.items():
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _decode(table: Table, record: Any, where: str) -> dict[str, Any]:
    """A row dict for `table` from a backup record; BackupError if it is malformed."""
    if not isinstance(record, dict):
        raise BackupError(f"{where}: expected an object")
    out: dict[str, Any] = {}
    dt_cols = _DT_COLS[table.name]
    for col in table.columns:
        if col.name not in record:
            if col.nullable or col.server_default is not None:
                continue  # a column added after the backup was written
            raise BackupError(f"{where}: missing {table.name}.{col.name}")
        value = record[col.name]
        if value is not None and col.name in dt_cols:
            try:
                value = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise BackupError(f"{where}: {table.name}.{col.name} is not a date") from None
        out[col.name] = value
    unknown = set(record) - {c.name for c in table.columns} - {"events"}
    if unknown:
        raise BackupError(
            f"{where}: unknown {table.name} column(s) {', '.join(sorted(unknown))} "
            "(a backup from a newer session-tui?)"
        )
    if not isinstance(out.get("id"), int):
        raise BackupError(f"{where}: {table.name}.id is not a number")
    return out


def _chunks(values: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- deleting ------------------------------------------------------------------


def _take_write_lock(conn: Connection, db: Database) -> None:
    """SQLite: take the write lock now, so that what we back up is exactly what
    we delete (a deferred transaction could not upgrade after another writer)."""
    if db.is_sqlite:
        conn.exec_driver_sql("DELETE FROM contact WHERE 0")


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
    """
    id_list = sorted({int(i) for i in ids})
    total = len(id_list)
    folder = backups_dir if backups_dir is not None else locations.backups_dir()
    folder.mkdir(parents=True, exist_ok=True)
    now = utcnow()
    tmp = folder / f".deleting-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.partial"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    raw: IO[bytes] = os.fdopen(fd, "wb")
    final: Path | None = None
    n_contacts = n_memberships = n_events = 0
    try:
        with db.engine.connect() as conn:
            with conn.begin() as tx:
                _take_write_lock(conn, db)
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
                        c, m, e = _backup_and_delete_chunk(conn, chunk, gz)
                        n_contacts += c
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
                raw.flush()
                os.fsync(raw.fileno())
                raw.close()
                target = folder / _backup_name(n_contacts, now)
                os.replace(tmp, target)
                final = target
                _fsync_dir(folder)
                if cancelled is not None and cancelled():
                    raise DeletionCancelled()
                tx.commit()
    except BaseException as exc:
        # Rolled back (the `with` blocks did that): the backup describes a delete
        # that did not happen, so remove it -- unless the commit itself failed,
        # where we cannot be sure and keep the file.
        if not raw.closed:
            raw.close()
        committing = final is not None and not isinstance(exc, DeletionCancelled)
        if not committing:
            for path in (tmp, final):
                if path is not None:
                    try:
                        path.unlink()
                    except FileNotFoundError:
                        pass
        raise
    assert final is not None
    return DeleteResult(
        backup_path=final,
        contacts=n_contacts,
        memberships=n_memberships,
        events=n_events,
        missing=total - n_contacts,
    )


def _backup_and_delete_chunk(
    conn: Connection, chunk: Sequence[int], out: gzip.GzipFile
) -> tuple[int, int, int]:
    ids = list(chunk)
    # FOR UPDATE (PostgreSQL) keeps other sessions from adding memberships or
    # history to these contacts between the backup and the delete.
    contacts = conn.execute(
        select(contact_t).where(contact_t.c.id.in_(ids)).order_by(contact_t.c.id).with_for_update()
    ).all()
    if not contacts:
        return 0, 0, 0
    memberships = conn.execute(
        select(membership_t)
        .where(membership_t.c.contact_id.in_(ids))
        .order_by(membership_t.c.contact_id, membership_t.c.id)
        .with_for_update()
    ).all()
    member_ids = select(membership_t.c.id).where(membership_t.c.contact_id.in_(ids))
    events = conn.execute(
        select(event_t)
        .where(event_t.c.membership_id.in_(member_ids))
        .order_by(event_t.c.membership_id, event_t.c.id)
    ).all()
    events_by_membership: dict[int, list[dict[str, Any]]] = {}
    for ev in events:
        events_by_membership.setdefault(ev.membership_id, []).append(_encode(ev))
    memberships_by_contact: dict[int, list[dict[str, Any]]] = {}
    for m in memberships:
        rec = _encode(m)
        rec["events"] = events_by_membership.get(m.id, [])
        memberships_by_contact.setdefault(m.contact_id, []).append(rec)
    lines = [
        _dumps({"contact": _encode(c), "memberships": memberships_by_contact.get(c.id, [])})
        for c in contacts
    ]
    out.write(("\n".join(lines) + "\n").encode())
    conn.execute(delete(event_t).where(event_t.c.membership_id.in_(member_ids)))
    conn.execute(delete(membership_t).where(membership_t.c.contact_id.in_(ids)))
    conn.execute(delete(contact_t).where(contact_t.c.id.in_(ids)))
    return len(contacts), len(memberships), len(events)


# -- reading a backup ----------------------------------------------------------


@dataclass
class _Entry:
    contact: dict[str, Any]
    memberships: list[dict[str, Any]]
    events: list[dict[str, Any]]  # of all its memberships


@dataclass
class BackupInfo:
    """What a first pass over a backup file learns (it also validates the file)."""

    path: Path
    header: dict[str, Any]
    contacts: int = 0
    memberships: int = 0
    events: int = 0
    contact_ids: list[int] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    membership_ids: list[int] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    product_ids: set[int] = field(default_factory=set)


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


def _read_entries(path: Path) -> Iterator[tuple[str, Any]]:
    """("header", dict), then ("entry", _Entry) per contact, then ("end", dict).

    Raises BackupError for anything malformed, including a missing end marker.
    """
    seen_header = False
    trailer: dict[str, Any] | None = None
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
        contact = _decode(contact_t, obj.get("contact"), where)
        memberships: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        raw_memberships = obj.get("memberships", [])
        if not isinstance(raw_memberships, list):
            raise BackupError(f"{where}: memberships is not a list")
        for raw_m in raw_memberships:
            m = _decode(membership_t, raw_m, where)
            if m["contact_id"] != contact["id"]:
                raise BackupError(f"{where}: a membership belongs to another contact")
            memberships.append(m)
            raw_events = raw_m.get("events", [])
            if not isinstance(raw_events, list):
                raise BackupError(f"{where}: events is not a list")
            for raw_e in raw_events:
                e = _decode(event_t, raw_e, where)
                if e["membership_id"] != m["id"]:
                    raise BackupError(f"{where}: an event belongs to another membership")
                events.append(e)
        yield "entry", _Entry(contact, memberships, events)
    if not seen_header:
        raise BackupError(f"{path} is empty: not a session-tui deletion backup")
    if trailer is None:
        raise BackupError(f"{path} is incomplete: it ends before its end marker (cut short?)")
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
            info.contact_ids.append(item.contact["id"])
            info.emails.append(item.contact["email"])
            info.membership_ids.extend(m["id"] for m in item.memberships)
            info.event_ids.extend(e["id"] for e in item.events)
            info.product_ids.update(m["product_id"] for m in item.memberships)
        else:
            # The end marker's counts must match what we read (lost lines are refused).
            expected = (info.contacts, info.memberships, info.events)
            got = tuple(item.get(k) for k in ("contacts", "memberships", "events"))
            if got != expected:
                raise BackupError(
                    f"{p} is damaged: its end marker counts {got}, the file holds {expected}"
                )
    for label, values in (
        ("contact id", info.contact_ids),
        ("email", info.emails),
        ("membership id", info.membership_ids),
        ("event id", info.event_ids),
    ):
        if len(set(values)) != len(values):
            raise BackupError(f"{p} is damaged: a {label} appears twice")
    return info


# -- restoring -----------------------------------------------------------------


def _existing(conn: Connection, column: Any, values: Sequence[Any], *extra: Any) -> list[Any]:
    found: list[Any] = []
    for chunk in _chunks(values):
        found.extend(conn.execute(select(column, *extra).where(column.in_(list(chunk)))).all())
    return found


def _check_conflicts(conn: Connection, info: BackupInfo) -> tuple[set[int], set[int]]:
    """Refuse (RestoreConflict) if a contact id or email or a product is not free.

    Returns the membership ids and event ids already taken (they will be renumbered).
    """
    problems: list[str] = []
    c = contact_t.c
    id_taken = _existing(conn, c.id, info.contact_ids, c.email)
    email_taken = _existing(conn, c.email, info.emails, c.id)
    if id_taken:
        examples = ", ".join(f"id {r[0]} ({r[1]})" for r in id_taken[:3])
        problems.append(f"{len(id_taken)} contact id(s) are in use by now: {examples}")
    id_clash = {r[0] for r in id_taken}
    email_only = [r for r in email_taken if r[1] not in id_clash]
    if email_only:
        examples = ", ".join(r[0] for r in email_only[:3])
        problems.append(f"{len(email_only)} email(s) belong to another contact by now: {examples}")
    products = sorted(info.product_ids)
    present = {r[0] for r in _existing(conn, product_t.c.id, products)}
    missing = [p for p in products if p not in present]
    if missing:
        problems.append(f"product id(s) {', '.join(map(str, missing[:5]))} no longer exist")
    if problems:
        raise RestoreConflict(
            f"cannot restore {info.path.name}: " + "; ".join(problems) + "; nothing was restored",
            problems,
        )
    taken_m = {r[0] for r in _existing(conn, membership_t.c.id, info.membership_ids)}
    taken_e = {r[0] for r in _existing(conn, event_t.c.id, info.event_ids)}
    return taken_m, taken_e


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
) -> RestoreResult:
    """Put back the rows of a deletion backup, exactly, in one transaction.

    Raises BackupError (file missing/corrupt -- checked completely before any
    write) or RestoreConflict (a contact id or email is taken by now, or a
    product is gone); in both cases nothing is written.
    """
    p = Path(path)
    info = inspect_backup(p)
    total = info.contacts
    renumbered = 0
    try:
        with db.engine.connect() as conn, conn.begin():
            _take_write_lock(conn, db)
            taken_m, taken_e = _check_conflicts(conn, info)
            contacts: list[dict[str, Any]] = []
            memberships: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            deferred_m: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
            deferred_e: list[dict[str, Any]] = []
            done = 0

            def flush() -> None:
                for table, rows in (
                    (contact_t, contacts),
                    (membership_t, memberships),
                    (event_t, events),
                ):
                    if rows:
                        conn.execute(table.insert(), rows)
                        rows.clear()

            for kind, item in _read_entries(p):
                if kind != "entry":
                    continue
                contacts.append(item.contact)
                by_membership: dict[int, list[dict[str, Any]]] = {}
                for e in item.events:
                    by_membership.setdefault(e["membership_id"], []).append(e)
                for m in item.memberships:
                    its_events = by_membership.get(m["id"], [])
                    if m["id"] in taken_m:
                        deferred_m.append((m, its_events))
                        continue
                    memberships.append(m)
                    for e in its_events:
                        (deferred_e if e["id"] in taken_e else events).append(e)
                done += 1
                if len(contacts) >= CHUNK:
                    flush()
                    if progress is not None:
                        progress(done, total)
            flush()
            # Rows whose id was reused meanwhile get a new one, after every row
            # with an explicit id is in (so a new id cannot take a backed-up one).
            for m, its_events in deferred_m:
                values = {k: v for k, v in m.items() if k != "id"}
                new_id = conn.execute(
                    membership_t.insert().values(**values).returning(membership_t.c.id)
                ).scalar_one()
                renumbered += 1
                for e in its_events:
                    e = {**e, "membership_id": new_id}
                    (deferred_e if e["id"] in taken_e else events).append(e)
            flush()
            if deferred_e:
                renumbered += len(deferred_e)
                conn.execute(
                    event_t.insert(),
                    [{k: v for k, v in e.items() if k != "id"} for e in deferred_e],
                )
            if db.dialect == "postgresql":
                _fix_sequences(conn)
            if progress is not None:
                progress(total, total)
    except IntegrityError as exc:
        # Someone else wrote a clashing row between our check and our insert.
        raise RestoreConflict(
            f"cannot restore {p.name}: the database changed while restoring "
            f"({str(exc.orig).strip().splitlines()[0] if exc.orig else exc}); "
            "nothing was restored",
            [str(exc.orig)],
        ) from exc
    return RestoreResult(
        backup_path=p,
        contacts=info.contacts,
        memberships=info.memberships,
        events=info.events,
        renumbered=renumbered,
    )


def list_backups(folder: Path | None = None) -> list[Path]:
    """Backup files in the backups directory, newest first."""
    base = folder if folder is not None else locations.backups_dir()
    return sorted(base.glob("deleted-*.jsonl*"), key=lambda p: p.stat().st_mtime, reverse=True)
