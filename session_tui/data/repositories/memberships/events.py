"""History events: writing one, and the detail text stored with it.

The detail text is data (it is stored, exported and shown as it is), so its dates
are written by `event_moment` here, one format for every writer (the repository,
bulk changes, the demo and the importer) -- not by a display helper.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection, insert

from session_tui.data.clock import show_moment
from session_tui.data.tables import EventKind, event_t


def event_moment(value: datetime | None) -> str:
    """A datetime as stored in an event's detail text: the date, plus the time when
    not midnight; "never" for None."""
    if value is None:
        return "never"
    return show_moment(value, minutes=bool(value.hour or value.minute or value.second))


def grant_detail(payment_type: str, expires_at: datetime | None) -> str:
    if expires_at is None:
        return f"{payment_type}, never expires"
    return f"{payment_type}, expires {event_moment(expires_at)}"


class GrantedBefore(Protocol):
    """The membership as it was before a grant reactivates it."""

    @property
    def payment_type(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def cancelled_at(self) -> datetime | None: ...


def reactivation_detail(
    cur: GrantedBefore, payment: str, expires_at: datetime | None, started_at: datetime | None
) -> str:
    """The detail of a `reactivated` event: what the grant changed (payment type,
    expiry, start) and whether the membership was cancelled."""
    changes = [f"{cur.payment_type} -> {payment}" if cur.payment_type != payment else payment]
    if cur.expires_at != expires_at:
        changes.append(f"expires {event_moment(cur.expires_at)} -> {event_moment(expires_at)}")
    else:
        changes.append(
            "never expires" if expires_at is None else f"expires {event_moment(expires_at)}"
        )
    if cur.cancelled_at is not None:
        changes.append(f"was cancelled {event_moment(cur.cancelled_at)}")
    if started_at is not None and started_at != cur.started_at:
        changes.append(f"started {event_moment(cur.started_at)} -> {event_moment(started_at)}")
    return ", ".join(changes)


def insert_event(
    conn: Connection,
    membership_id: int,
    kind: EventKind | str,
    at: datetime,
    detail: str = "",
    actor: str = "",
) -> None:
    conn.execute(
        insert(event_t).values(
            membership_id=membership_id,
            at=at,
            kind=str(kind),
            detail=detail,
            actor=actor[:200],
        )
    )


def event_kind(value: str) -> EventKind | str:
    try:
        return EventKind(value)
    except ValueError:  # a kind written by a newer version: show it as it is
        return value
