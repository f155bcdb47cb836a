"""History events: writing one, and the detail text stored with it.

The detail text is data (it is stored, exported and shown as it is), so its dates
are written by `event_moment` here, one format for every writer (the repository,
bulk changes, the demo and the importer) -- not by a display helper.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert

from session_tui.data.clock import show_moment
from session_tui.data.models import EventKind, event_t


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
