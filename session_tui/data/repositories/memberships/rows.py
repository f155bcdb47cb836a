"""What reading memberships returns (rows, history events, grant results), the
query the Memberships screen and `memberships list` ask, and reading one row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select

from session_tui.data.records import attributes, from_row
from session_tui.data.repositories.memberships.status import membership_status
from session_tui.data.tables import (
    EventKind,
    PaymentType,
    Status,
    contact_t,
    membership_t,
    product_t,
)


@dataclass(frozen=True)
class MembershipRow:
    id: int
    contact_id: int
    email: str
    first_name: str
    last_name: str
    product_id: int
    product: str
    product_archived: bool
    payment_type: str
    started_at: datetime
    expires_at: datetime | None
    cancelled_at: datetime | None
    status: Status

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    def as_json(self) -> dict[str, Any]:
        """A membership as the command line prints it with `--json`."""
        return {
            **attributes(self, ("email", "first_name", "last_name", "product", "payment_type")),
            "status": self.status.value,
            "started_at": self.started_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "cancelled_at": self.cancelled_at.isoformat() if self.cancelled_at else None,
        }


@dataclass(frozen=True)
class HistoryEvent:
    at: datetime
    kind: EventKind | str
    detail: str
    actor: str
    product: str
    membership_id: int
    event_id: int | None = None  # None for the derived `expired` event

    @property
    def derived(self) -> bool:
        return self.event_id is None


@dataclass(frozen=True)
class GrantResult:
    membership: MembershipRow
    created_contact: bool
    reactivated: bool


@dataclass(frozen=True)
class MembershipQuery:
    """What the Memberships screen / `memberships list` shows."""

    search: str = ""  # substring of email / name (like the Contacts search box)
    email: str | None = None  # exact email
    contact_id: int | None = None
    product_id: int | None = None
    status: Status | None = None  # ACTIVE or EXPIRED; None = all
    payment_type: PaymentType | None = None


class MembershipSort(StrEnum):
    """The orders of the Memberships screen (ascending; `descending` reverses them):
    email (then product), product name (then contact), start, expiry ("never" last)."""

    EMAIL = "email"
    PRODUCT = "product"
    STARTED = "started"
    EXPIRES = "expires"


def row_columns() -> list[Any]:
    m, c, p = membership_t.c, contact_t.c, product_t.c
    return [
        m.id,
        m.contact_id,
        c.email,
        c.first_name,
        c.last_name,
        m.product_id,
        p.name.label("product"),
        p.archived,
        m.payment_type,
        m.started_at,
        m.expires_at,
        m.cancelled_at,
    ]


def joined() -> Any:
    m, c, p = membership_t.c, contact_t.c, product_t.c
    return membership_t.join(contact_t, c.id == m.contact_id).join(product_t, p.id == m.product_id)


def to_row(r: Any, now: datetime) -> MembershipRow:
    """A membership's row from the columns of `row_columns()`."""
    return from_row(
        MembershipRow,
        r,
        product_archived=bool(r.archived),
        status=membership_status(r.expires_at, r.cancelled_at, now),
    )


def get_row(conn: Connection, membership_id: int, now: datetime) -> MembershipRow | None:
    r = conn.execute(
        select(*row_columns()).select_from(joined()).where(membership_t.c.id == membership_id)
    ).first()
    return to_row(r, now) if r is not None else None
