"""What the bulk membership actions (bulk_memberships.py, bulk_by_membership.py) and
their undo (bulk_undo.py) share: the run of one change (its write transaction, its
rounds with progress and cancel, who and when), locking the selected contacts, the
undo record and what gathers it.

No Textual here (tests/test_layers.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, TypedDict, TypeVar, Unpack

from sqlalchemy import Connection, DateTime, RootTransaction, case, func, literal, select
from sqlalchemy.exc import OperationalError

from session_tui.data import clock
from session_tui.data.db import LOCK_WAIT_MS, Database
from session_tui.data.sqlite_bulk import Cancelled, bulk_connection, chunks, in_, take_write_lock
from session_tui.data.tables import contact_t, membership_t

# Ids per round of statements: progress and cancel are checked between rounds.
BULK_CHUNK = 5_000

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]
Clock = Callable[[], datetime]
T = TypeVar("T")


class BulkKind(StrEnum):
    """The four bulk changes; a selection of memberships offers all but GRANT."""

    GRANT = "grant"
    EXTEND = "extend"
    PAYMENT = "payment"
    CANCEL = "cancel"

    @property
    def sets_expiry(self) -> bool:
        """Grant and extend set the memberships' expiry."""
        return self in (BulkKind.GRANT, BulkKind.EXTEND)


class BulkCancelled(Cancelled):
    """The user cancelled before the commit: nothing was written."""


class MembershipSnapshot(NamedTuple):
    """A membership row as it was before a bulk action changed it."""

    id: int
    contact_id: int
    product_id: int
    payment_type: str
    started_at: datetime
    expires_at: datetime | None
    cancelled_at: datetime | None


@dataclass(frozen=True)
class UndoRecord:
    """Everything `bulk_undo.undo_bulk` needs to put the database back as it was
    before one bulk action: the previous rows of the memberships it changed, the
    memberships and history events it created, the contacts it touched."""

    kind: BulkKind
    label: str  # what `u` would undo, for a toast: 'Grant "Course" to 1,204 contacts'
    product_id: int
    contact_ids: tuple[int, ...]
    previous: tuple[MembershipSnapshot, ...]
    created_memberships: tuple[int, ...]
    created_events: tuple[int, ...]

    @property
    def empty(self) -> bool:
        """Nothing was written: there is nothing to undo."""
        return not (self.previous or self.created_memberships or self.created_events)


@dataclass
class UndoLog:
    """What a bulk action writes, gathered round by round, for its UndoRecord."""

    contacts: set[int] = field(default_factory=set)
    previous: list[MembershipSnapshot] = field(default_factory=list)
    memberships: list[int] = field(default_factory=list)
    events: list[int] = field(default_factory=list)

    def record(self, kind: BulkKind, label: str, product_id: int) -> UndoRecord:
        return UndoRecord(
            kind=kind,
            label=label,
            product_id=product_id,
            contact_ids=tuple(sorted(self.contacts)),
            previous=tuple(self.previous),
            created_memberships=tuple(self.memberships),
            created_events=tuple(self.events),
        )


class RunOptions(TypedDict, total=False):
    """The keyword arguments of every bulk apply: `progress(done, total)` after each
    round, `cancelled()` before each round and before the commit, the actor of the
    history events (default: the OS user), the clock."""

    progress: ProgressFn | None
    cancelled: CancelFn | None
    actor: str | None
    clock: Clock


class Steps:
    """The rounds of one bulk change: a cancel is checked before each (BulkCancelled,
    so the transaction rolls back), progress is reported after each."""

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

    def rounds(
        self, items: Sequence[T], size: int, *, counted: bool = True
    ) -> Iterator[Sequence[T]]:
        """`items` in slices of `size`, checked for a cancel before each; each slice
        done advances the progress, unless not `counted` (preparatory rounds)."""
        for chunk in chunks(items, size):
            self.check()
            yield chunk
            if counted:
                self.advance(len(chunk))

    @contextmanager
    def transaction(self, db: Database) -> Iterator[Connection]:
        """`write_transaction`, with a last check for a cancel before the commit. The
        progress starts over with it (an apply may retry its transaction)."""
        self.done = 0
        with write_transaction(db) as conn:
            yield conn
            self.check()

    def lock_contacts(self, conn: Connection, dialect: str, ids: Sequence[int]) -> None:
        """`lock_contacts` of all `ids`, in rounds that only check for a cancel."""
        for chunk in self.rounds(ids, BULK_CHUNK, counted=False):
            lock_contacts(conn, dialect, chunk)


class BulkRun(Steps):
    """The run of one bulk apply: its rounds, and who does it when."""

    def __init__(self, total: int, **options: Unpack[RunOptions]) -> None:
        super().__init__(total, options.get("progress"), options.get("cancelled"))
        self.now = options.get("clock", clock.utcnow)()
        actor = options.get("actor")
        self.who = (clock.actor() if actor is None else actor)[:200]


@contextmanager
def write_transaction(db: Database) -> Iterator[Connection]:
    """One write transaction for a bulk change, committed when the block ends
    without an exception, rolled back otherwise.

    SQLite: the write lock is taken at once (the effect of BEGIN IMMEDIATE), so
    that what the action reads is what it changes; another writer waits for it
    (busy_timeout) instead of failing half-way. PostgreSQL: callers lock the
    contact rows first (`lock_contacts`). Kept in this one function so that it
    can switch to a project-wide write-transaction helper in `data/db.py`.
    """
    with bulk_connection(db) as conn:
        tx = _begin_write(conn, db)
        try:
            yield conn
        except BaseException:
            tx.rollback()
            raise
        tx.commit()


def _begin_write(conn: Connection, db: Database) -> RootTransaction:
    """Begin and take the write lock. Where the transaction does not start with BEGIN
    IMMEDIATE, the lock-taking write itself can fail at once with "database is
    locked" (a deferred transaction's snapshot went stale while it waited): nothing
    has been read or written yet then, so begin again, for up to LOCK_WAIT_MS."""
    deadline = time.monotonic() + LOCK_WAIT_MS / 1000
    while True:
        tx = conn.begin()
        try:
            take_write_lock(conn, db)
            return tx
        except OperationalError as exc:
            tx.rollback()
            if "locked" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
        time.sleep(0.02)


def lock_contacts(conn: Connection, dialect: str, ids: Sequence[int]) -> list[int]:
    """Those of `ids` that still exist, ascending; on PostgreSQL their rows are
    locked (FOR UPDATE, in id order so that two bulk actions cannot deadlock)
    before any of their memberships is touched."""
    c = contact_t.c
    stmt = select(c.id).where(in_(dialect, c.id, ids)).order_by(c.id).with_for_update()
    return list(conn.execute(stmt).scalars())


def snapshot_columns(*, with_id: bool = True) -> list[Any]:
    """membership_t's columns in MembershipSnapshot's order; without `id`: the ones a
    new membership's INSERT sets."""
    names = MembershipSnapshot._fields if with_id else MembershipSnapshot._fields[1:]
    return [membership_t.c[name] for name in names]


def membership_rows(
    conn: Connection, dialect: str, contact_ids: Sequence[int], product_id: int, *, lock: bool
) -> list[MembershipSnapshot]:
    """The memberships of `product_id` held by these contacts."""
    m = membership_t.c
    stmt = select(*snapshot_columns()).where(
        in_(dialect, m.contact_id, contact_ids), m.product_id == product_id
    )
    if lock:
        stmt = stmt.order_by(m.contact_id).with_for_update()
    return [MembershipSnapshot(*r) for r in conn.execute(stmt)]


def moment_sql(dialect: str, column: Any) -> Any:
    """SQL for `repositories.memberships.event_moment(column)`: 'never', the date, or the
    date and time when the time is not midnight (history event details)."""
    if dialect == "postgresql":
        midnight = func.to_char(column, "HH24:MI:SS") == "00:00:00"
        day = func.to_char(column, "YYYY-MM-DD")
        minute = func.to_char(column, "YYYY-MM-DD HH24:MI")
    else:
        midnight = func.strftime("%H:%M:%S", column) == "00:00:00"
        day = func.strftime("%Y-%m-%d", column)
        minute = func.strftime("%Y-%m-%d %H:%M", column)
    return case((column.is_(None), literal("never")), (midnight, day), else_=minute)


def dt_param(value: datetime | None) -> Any:
    """A datetime (or NULL) as a typed SQL value, usable in a SELECT list (PostgreSQL
    needs the type of a bare NULL there)."""
    return literal(value, DateTime())


__all__ = [
    "BULK_CHUNK",
    "BulkCancelled",
    "BulkKind",
    "BulkRun",
    "CancelFn",
    "Clock",
    "MembershipSnapshot",
    "ProgressFn",
    "RunOptions",
    "Steps",
    "UndoLog",
    "UndoRecord",
    "dt_param",
    "lock_contacts",
    "membership_rows",
    "moment_sql",
    "snapshot_columns",
    "write_transaction",
]
