"""Deleting contacts, backup first.

`delete_contacts(db, ids)` deletes an explicit, frozen list of contact ids together
with their memberships and membership history. Inside the deleting transaction it
first writes every affected row -- all columns, ids included -- to a backup file in
`locations.backups_dir()` (backup_format.py); the file is complete on disk (fsync,
atomic rename) before the transaction commits. Until the rename it is a partial
file (partials.py).

Speed: ids go to the database in chunks of CHUNK, each chunk as ONE parameter
(`sqlite_bulk.in_`). On SQLite the per-row FTS5 delete trigger is replaced, inside
the same transaction, by one bulk statement per chunk (`sqlite_bulk.bulk_write`);
the trigger is back before commit.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, select

from session_tui import locations
from session_tui.data.clock import utcnow
from session_tui.data.collation import DERIVED_COLUMNS
from session_tui.data.db import Database, retry_transient
from session_tui.data.deletion.backup_format import (
    CONTACT,
    EVENT,
    FORMAT,
    FORMAT_VERSION,
    GZIP_LEVEL,
    MEMBERSHIP,
    backup_name,
    dumps,
    fetch_rows,
)
from session_tui.data.deletion.partials import (
    create_partial,
    done_writing,
    fsync_dir,
    remove_stale_partials_quietly,
)
from session_tui.data.models import contact_t, event_t, membership_t
from session_tui.data.sqlite_bulk import (
    CHUNK,
    DELETE,
    BulkWrite,
    Cancelled,
    bulk_write,
    chunks,
    in_,
)

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


class DeletionCancelled(Cancelled):
    """The user cancelled before the delete committed: nothing was deleted."""


@dataclass(frozen=True)
class DeleteResult:
    backup_path: Path
    contacts: int  # contacts deleted
    memberships: int
    events: int
    missing: int = 0  # requested ids that no longer existed (nothing to delete)
    ids: tuple[int, ...] = ()  # the contacts actually deleted, ascending


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
    return retry_transient(lambda: _delete_once(db, id_list, progress, cancelled, backups_dir))


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
    remove_stale_partials_quietly(folder)
    now = utcnow()
    tmp, fd, key = create_partial(folder, now)
    try:
        raw: IO[bytes] = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        done_writing(key)
        tmp.unlink(missing_ok=True)
        raise
    final: Path | None = None
    n_contacts = n_memberships = n_events = 0
    deleted: list[int] = []
    try:
        with bulk_write(db, pause=(DELETE,)) as bulk:
            with gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0
            ) as gz:
                header = {
                    "format": FORMAT,
                    "version": FORMAT_VERSION,
                    "created_at": now.isoformat(),
                    "database": db.display_name(),
                    "requested": total,
                }
                gz.write((dumps(header) + "\n").encode())
                done = 0
                for chunk in chunks(id_list):
                    if cancelled is not None and cancelled():
                        raise DeletionCancelled()
                    found, m, e = _backup_and_delete_chunk(bulk, chunk, gz)
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
                gz.write((dumps(trailer) + "\n").encode())
            bulk.resume()
            raw.flush()
            os.fsync(raw.fileno())
            target = folder / backup_name(n_contacts, now)
            os.replace(tmp, target)
            final = target
            raw.close()  # only now: the lock guards the partial until it is renamed
            fsync_dir(folder)
            if cancelled is not None and cancelled():
                raise DeletionCancelled()
            bulk.commit()
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
        done_writing(key)
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
    bulk: BulkWrite, chunk: Sequence[int], out: gzip.GzipFile
) -> tuple[list[int], int, int]:
    conn, dialect = bulk.conn, bulk.dialect
    # FOR UPDATE (PostgreSQL) keeps other sessions from adding memberships or
    # history to these contacts between the backup and the delete.
    contacts = fetch_rows(
        conn,
        select(*(col for col in contact_t.columns if col.name not in DERIVED_COLUMNS))
        .where(in_(dialect, contact_t.c.id, chunk))
        .order_by(contact_t.c.id)
        .with_for_update(),
        CONTACT,
    )
    if not contacts:
        return [], 0, 0
    memberships = fetch_rows(
        conn,
        select(membership_t)
        .where(in_(dialect, membership_t.c.contact_id, chunk))
        .order_by(membership_t.c.contact_id, membership_t.c.id)
        .with_for_update(),
        MEMBERSHIP,
    )
    member_ids = [m["id"] for m in memberships]
    events: list[dict[str, Any]] = []
    for part in chunks(member_ids, CHUNK * 4):
        events.extend(
            fetch_rows(
                conn,
                select(event_t)
                .where(in_(dialect, event_t.c.membership_id, part))
                .order_by(event_t.c.membership_id, event_t.c.id),
                EVENT,
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
        dumps({"contact": c, "memberships": memberships_by_contact.get(c["id"], [])})
        for c in contacts
    ]
    out.write(("\n".join(lines) + "\n").encode())
    for part in chunks(member_ids, CHUNK * 4):
        conn.execute(delete(event_t).where(in_(dialect, event_t.c.membership_id, part)))
    conn.execute(delete(membership_t).where(in_(dialect, membership_t.c.contact_id, chunk)))
    found = [c["id"] for c in contacts]
    bulk.unindex(found)
    conn.execute(delete(contact_t).where(in_(dialect, contact_t.c.id, found)))
    return found, len(memberships), len(events)


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
