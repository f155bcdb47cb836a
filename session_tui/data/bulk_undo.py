"""Undoing one bulk membership action (bulk_memberships.py) from its UndoRecord.

`undo_bulk(db, record)` puts back exactly the state before the action, in one
transaction: the history events it wrote are removed, the memberships it created are
removed, the memberships it changed get their previous payment type, start, expiry
and cancellation back, and the touched contacts' `active_until` is recomputed.

It refuses (UndoConflict, nothing written) when someone changed one of those
memberships after the action -- a history event newer than the action's own -- since
undoing would silently overwrite that change. Memberships that no longer exist (their
contact was deleted meanwhile) are skipped and counted as `gone`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, delete, func, select, update

from session_tui.data.bulk_common import (
    BULK_CHUNK,
    BulkCancelled,
    CancelFn,
    MembershipSnapshot,
    ProgressFn,
    UndoRecord,
    lock_contacts,
    write_transaction,
)
from session_tui.data.db import Database
from session_tui.data.models import event_t, membership_t
from session_tui.data.repositories.memberships import refresh_active_until
from session_tui.data.sqlite_bulk import chunks, in_


class UndoConflict(Exception):
    """The action cannot be undone as it stands; the message says why. Nothing written."""


@dataclass(frozen=True)
class UndoResult:
    label: str  # what was undone
    restored: int  # changed memberships put back
    removed: int  # created memberships removed
    events: int  # history events removed
    gone: int = 0  # memberships deleted meanwhile (with their contact): skipped


class _Steps:
    def __init__(self, total: int, progress: ProgressFn | None, cancelled: CancelFn | None):
        self.total, self.done = total, 0
        self.progress, self.cancelled = progress, cancelled

    def check(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise BulkCancelled()

    def advance(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)


def undo_bulk(
    db: Database,
    record: UndoRecord,
    *,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
) -> UndoResult:
    """Restore the state before the action `record` describes (see the module docstring).

    Raises UndoConflict or BulkCancelled; in both cases nothing is written."""
    if record.empty:
        return UndoResult(record.label, 0, 0, 0)
    d = db.dialect
    touched = [s.id for s in record.previous] + list(record.created_memberships)
    steps = _Steps(len(touched) + len(record.created_events), progress, cancelled)
    with write_transaction(db) as conn:
        for chunk in chunks(record.contact_ids, BULK_CHUNK):
            steps.check()
            lock_contacts(conn, d, chunk)
        _refuse_if_changed(conn, d, record, touched)
        removed_events = 0
        for chunk in chunks(record.created_events, BULK_CHUNK):
            steps.check()
            e_id = event_t.c.id
            removed_events += conn.execute(delete(event_t).where(in_(d, e_id, chunk))).rowcount
            steps.advance(len(chunk))
        removed = 0
        for chunk in chunks(record.created_memberships, BULK_CHUNK):
            steps.check()
            m_id = membership_t.c.id
            removed += conn.execute(delete(membership_t).where(in_(d, m_id, chunk))).rowcount
            steps.advance(len(chunk))
        restored = 0
        gone = len(record.created_memberships) - removed
        for chunk in chunks(record.previous, BULK_CHUNK):
            steps.check()
            n = _restore(conn, d, chunk)
            restored += n
            gone += len(chunk) - n
            steps.advance(len(chunk))
        refresh_active_until(conn, record.contact_ids)
        steps.check()
    return UndoResult(record.label, restored, removed, removed_events, gone)


def _refuse_if_changed(
    conn: Connection, dialect: str, record: UndoRecord, membership_ids: Sequence[int]
) -> None:
    """UndoConflict when a history event newer than the action's own belongs to one of
    its memberships: someone changed it after the action."""
    if not record.created_events:
        return
    newest = max(record.created_events)
    e = event_t.c
    changed = 0
    for chunk in chunks(membership_ids, BULK_CHUNK):
        changed += int(
            conn.execute(
                select(func.count(func.distinct(e.membership_id))).where(
                    in_(dialect, e.membership_id, chunk), e.id > newest
                )
            ).scalar_one()
        )
    if changed:
        noun = "membership was" if changed == 1 else "memberships were"
        raise UndoConflict(
            f"cannot undo “{record.label}”: {changed:,} {noun} changed since; "
            "undoing would overwrite those changes, so nothing was undone"
        )


def _restore(conn: Connection, dialect: str, snaps: Sequence[MembershipSnapshot]) -> int:
    """Put these snapshots back; returns how many memberships still existed."""
    m = membership_t.c
    existing = set(
        conn.execute(select(m.id).where(in_(dialect, m.id, [s.id for s in snaps]))).scalars()
    )
    params = [
        {
            "b_id": s.id,
            "b_payment": s.payment_type,
            "b_started": s.started_at,
            "b_expires": s.expires_at,
            "b_cancelled": s.cancelled_at,
        }
        for s in snaps
        if s.id in existing
    ]
    if params:
        stmt = (
            update(membership_t)
            .where(m.id == bindparam("b_id"))
            .values(
                payment_type=bindparam("b_payment"),
                started_at=bindparam("b_started"),
                expires_at=bindparam("b_expires"),
                cancelled_at=bindparam("b_cancelled"),
            )
        )
        conn.execute(stmt, params)
    return len(params)


__all__ = ["UndoConflict", "UndoResult", "undo_bulk"]
