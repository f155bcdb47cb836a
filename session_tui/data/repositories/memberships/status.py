"""A membership's status, and `contact.active_until`, the status each contact keeps
(see models.Contact): how it is computed and refreshed, and the lock every writer
takes first (see the package docstring for the lock order)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    and_,
    func,
    literal,
    or_,
    select,
    update,
)

from session_tui.data.clock import FAR_FUTURE
from session_tui.data.tables import Status, contact_t, membership_t

_CHUNK = 500


def membership_end(m: Any = membership_t) -> Any:
    """When a membership (of table or alias `m`) stops counting as active:
    cancelled_at, else expires_at, else FAR_FUTURE."""
    return func.coalesce(m.c.cancelled_at, m.c.expires_at, literal(FAR_FUTURE, DateTime()))


def expected_active_until(contact_id: ColumnElement[Any] = contact_t.c.id) -> Any:
    """What `contact.active_until` must be for the contact `contact_id` refers to
    (a correlated scalar subquery): the max over its memberships of
    `membership_end`; NULL without memberships."""
    m = membership_t.alias("m")
    return select(func.max(membership_end(m))).where(m.c.contact_id == contact_id).scalar_subquery()


def lock_contacts(conn: Connection, contact_ids: Iterable[int]) -> list[int]:
    """Lock these contacts' rows (`SELECT … FOR UPDATE`) in ascending id order --
    the one lock order of every writer (see the module docstring). Returns the ids
    that still exist. On SQLite FOR UPDATE is not needed (and not emitted): the
    transaction holds the database's write lock from its BEGIN IMMEDIATE."""
    c = contact_t.c
    ids = sorted(set(contact_ids))
    found: list[int] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        stmt = select(c.id).where(c.id.in_(chunk)).order_by(c.id).with_for_update()
        found.extend(conn.execute(stmt).scalars())
    return found


def refresh_active_until(conn: Connection, contact_ids: Iterable[int] | None) -> None:
    """Recompute contact.active_until (`expected_active_until`).

    `contact_ids=None` refreshes every contact (bulk loads). Runs in `conn`'s
    transaction, which must hold these contacts' locks (`lock_contacts`) on
    PostgreSQL: then each statement sees every committed membership change.
    """
    latest = expected_active_until()
    if contact_ids is None:
        conn.execute(update(contact_t).values(active_until=latest))
        return
    ids = sorted(set(contact_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        conn.execute(update(contact_t).where(contact_t.c.id.in_(chunk)).values(active_until=latest))


def membership_status(
    expires_at: datetime | None, cancelled_at: datetime | None, now: datetime
) -> Status:
    if cancelled_at is None and (expires_at is None or expires_at > now):
        return Status.ACTIVE
    return Status.EXPIRED


def active_clause(now: datetime) -> ColumnElement[bool]:
    m = membership_t.c
    return and_(m.cancelled_at.is_(None), or_(m.expires_at.is_(None), m.expires_at > now))


def expired_clause(now: datetime) -> ColumnElement[bool]:
    m = membership_t.c
    return or_(m.cancelled_at.is_not(None), m.expires_at <= now)


def contacts_of(conn: Connection, membership_ids: Sequence[int]) -> list[int]:
    """Contact ids owning these memberships (for callers that then refresh)."""
    if not membership_ids:
        return []
    m = membership_t.c
    return list(conn.execute(select(m.contact_id).where(m.id.in_(list(membership_ids)))).scalars())
