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

from sqlalchemy import Connection, Table, bindparam, delete, func, select, update

from session_tui.data.bulk_common import (
    BULK_CHUNK,
    CancelFn,
    MembershipSnapshot,
    ProgressFn,
    Steps,
    UndoRecord,
)
from session_tui.data.db import Database
from session_tui.data.repositories.memberships import refresh_active_until
from session_tui.data.sqlite_bulk import chunks, in_
from session_tui.data.tables import event_t, membership_t


class UndoConflict(Exception):
    """The action cannot be undone as it stands; the message says why. Nothing written."""


@dataclass(frozen=True)
class UndoResult:
    label: str  # what was undone
    restored: int  # changed memberships put back
    removed: int  # created memberships removed
    events: int  # history events removed
    gone: int = 0  # memberships deleted meanwhile (with their contact): skipped


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
    steps = Steps(len(touched) + len(record.created_events), progress, cancelled)
    with steps.transaction(db) as conn:
        steps.lock_contacts(conn, d, record.contact_ids)
        _refuse_if_changed(conn, d, record, touched)
        removed_events = _delete(conn, d, event_t, record.created_events, steps)
        removed = _delete(conn, d, membership_t, record.created_memberships, steps)
        restored = 0
        gone = len(record.created_memberships) - removed
        for chunk in steps.rounds(record.previous, BULK_CHUNK):
            n = _restore(conn, d, chunk)
            restored += n
            gone += len(chunk) - n
        refresh_active_until(conn, record.contact_ids)
    return UndoResult(record.label, restored, removed, removed_events, gone)


def _delete(conn: Connection, dialect: str, table: Table, ids: Sequence[int], steps: Steps) -> int:
    """Delete these rows of `table` by id; returns how many still existed."""
    removed = 0
    for chunk in steps.rounds(ids, BULK_CHUNK):
        removed += conn.execute(delete(table).where(in_(dialect, table.c.id, chunk))).rowcount
    return removed


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
