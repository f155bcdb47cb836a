"""Deleting contacts, backup first.

`delete_contacts(db, ids)` deletes an explicit, frozen list of contact ids together
with their memberships and membership history. Inside the deleting transaction it
first writes every affected row -- all columns, ids included -- to a backup file in
`locations.backups_dir()` (backup_format.py); the file is complete on disk (fsync,
atomic rename) before the transaction commits. Until the rename it is a partial
file (partials.py).

Speed: set-based, whatever the number of contacts (set_delete.py). The ids that
still exist go to a temporary table; the database builds the backup lines itself
(backup_sql.py) and Python only compresses them into the file; then one DELETE
per table joined to that table, and ONE statement takes the contacts out of the
SQLite search index in place of its per-row trigger (`sqlite_bulk.bulk_write`),
which is back before the commit.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import select

from session_tui import locations
from session_tui.data.clock import utcnow
from session_tui.data.db import Database, retry_transient
from session_tui.data.deletion.backup_format import (
    FORMAT,
    FORMAT_VERSION,
    GZIP_LEVEL,
    backup_name,
    dumps,
)
from session_tui.data.deletion.partials import (
    create_partial,
    done_writing,
    fsync_dir,
    remove_stale_partials_quietly,
)
from session_tui.data.deletion.set_delete import SetDelete
from session_tui.data.sqlite_bulk import DELETE, DELETE_CACHE_KIB, Cancelled, bulk_write
from session_tui.data.tables import contact_t

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

    `progress(done, total)` is called as the backup is written, every CHUNK
    contacts; `cancelled()` is polled as often, and before the commit -- when it returns True the
    transaction is rolled back, the unfinished backup removed, and
    DeletionCancelled raised. Ids that no longer exist are skipped and counted
    in `missing`.

    Locks (PostgreSQL): contacts first (ids ascending), then their memberships
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
    counts = (0, 0, 0)
    deleted: list[int] = []

    def check() -> None:
        if cancelled is not None and cancelled():
            raise DeletionCancelled()

    def report(done: int) -> None:
        if progress is not None:
            progress(done, total)

    try:
        with bulk_write(db, pause=(DELETE,), cache_kib=DELETE_CACHE_KIB, temp_file=True) as bulk:
            work = SetDelete(bulk)
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
                deleted = _own_ids(id_list, work.freeze(id_list))
                # Progress every CHUNK contacts backed up (the requested ids that no
                # longer exist count with the last batch); the set-based deletes
                # that follow are a few statements.
                found = len(deleted)
                work.write_backup(gz, lambda n: report(n if n < found else total), check)
                counts = work.delete()
                trailer = {
                    "end": {"contacts": counts[0], "memberships": counts[1], "events": counts[2]}
                }
                gz.write((dumps(trailer) + "\n").encode())
            if total and not found:  # every requested id was gone already
                report(total)
            work.drop()
            bulk.resume()
            raw.flush()
            os.fsync(raw.fileno())
            target = folder / backup_name(counts[0], now)
            os.replace(tmp, target)
            final = target
            raw.close()  # only now: the lock guards the partial until it is renamed
            fsync_dir(folder)
            check()
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
    db.analyze(counts[0])  # PostgreSQL statistics after a bulk delete
    return DeleteResult(
        backup_path=final,
        contacts=counts[0],
        memberships=counts[1],
        events=counts[2],
        missing=total - counts[0],
        ids=tuple(deleted),
    )


def _own_ids(requested: list[int], found: list[int]) -> list[int]:
    """`found` (a subset of `requested`, both ascending) as the caller's own int
    objects: the ids the database returned are new objects, which the undo stack
    (`DeleteResult.ids`) and the re-selection after an undo would keep alongside the
    selection's own, 100,000 of them (3 MB) at a million contacts."""
    if len(found) == len(requested):
        return requested
    kept = set(found)
    return [i for i in requested if i in kept]


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
