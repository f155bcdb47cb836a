"""Memberships: grant / reactivate, extend, cancel, change payment type; paging; history.

The package: `status.py` (status, `contact.active_until`, locks), `events.py` (history
rows and their stored text), `rows.py` (what reads return), `reads.py` (queries),
`commands.py` (changes). Everything below is importable from here.

API
---
- `refresh_active_until(conn, contact_ids)` -- recompute `contact.active_until` (the
  denormalised status, see models.Contact) for those contacts (`None` = every contact)
  inside the caller's transaction. EVERY code path that writes memberships calls it.
- `expected_active_until(contact_id)` -- that recomputed value as an SQL expression
  (a correlated subquery), for `refresh_active_until` and `session-tui check`.
- `lock_contacts(conn, contact_ids)` -- `SELECT … FOR UPDATE` of those contacts, ids
  ascending (a no-op on SQLite, whose writers hold the database's write lock).

Lock order (PostgreSQL): a transaction that changes memberships FIRST locks the
contacts they belong to (`lock_contacts`, ids ascending), then the memberships; the
bulk delete does the same. So two changes to one contact's memberships run one after
the other -- the second sees the first's result when it recomputes the status, instead
of a stale snapshot (READ COMMITTED) -- and no two writers wait for each other in a
circle. Every change runs in `Database.run_write`: SQLite's BEGIN IMMEDIATE, and a
transaction PostgreSQL still aborts as a deadlock victim is run again.
- `membership_status(expires_at, cancelled_at, now) -> Status` (active / expired).
- `insert_event(conn, membership_id, kind, at, detail="", actor="")` -- one history row.
- `grant_detail(payment_type, expires_at)` -- the detail text of a `granted` event
  ("paid, expires 2026-12-31"), for bulk writers (demo, import) that write their own rows;
  `reactivation_detail(current, payment, expires_at, started_at)` -- that of a
  `reactivated` event (what a grant changed), for the same writers;
  `event_moment(value)` -- a date as stored in event details.
- `MembershipsRepository(db, clock=utcnow)`:
  - `.grant(email, product, payment_type, expires_at=None, started_at=None, actor=None,
    first_name="", last_name="") -> GrantResult` -- creates the contact when the email is
    new, refuses archived products; a product the contact already has is REACTIVATED
    (event `reactivated`) instead of failing. `product` is an id or a name.
  - `.extend(membership_id, expires_at, actor=None)` (new expiry; None = never) -> `extended`
  - `.cancel(membership_id, actor=None)` -> `cancelled`
  - `.change_payment(membership_id, payment_type, actor=None)` -> `payment_changed`
  - `.get(membership_id)`, `.find(email, product) -> MembershipRow | None`
  - `.for_contact(contact_id) -> list[MembershipRow]` (by product name)
  - `.history(contact_id) -> list[HistoryEvent]` newest first, including a derived
    `expired` event at `expires_at` for every non-cancelled membership whose expiry has
    passed (never stored twice: see `_persist_expiry`).
  - `.count(query)`, `.page(query, offset, limit, total=None)` -- the Memberships
    screen, paged like ContactsRepository.page (reverse order for the second half).
  Every change raises `ValidationError` (field + message) for bad input, writes one
  event per change (actor = OS user name unless given, `import` for imports), and
  refreshes `contact.active_until`, all in one transaction.

Expiry happens by the clock: status is computed at read time against `clock()`.
"""

from __future__ import annotations

from session_tui.data.repositories.memberships.commands import (
    MembershipCommands,
    normalize_payment_type,
)
from session_tui.data.repositories.memberships.events import (
    event_kind,
    event_moment,
    grant_detail,
    insert_event,
    reactivation_detail,
)
from session_tui.data.repositories.memberships.reads import WALK_ORDER_FROM, MembershipReads
from session_tui.data.repositories.memberships.rows import (
    GrantResult,
    HistoryEvent,
    MembershipQuery,
    MembershipRow,
)
from session_tui.data.repositories.memberships.status import (
    active_clause,
    contacts_of,
    expected_active_until,
    expired_clause,
    lock_contacts,
    membership_end,
    membership_status,
    refresh_active_until,
)


class MembershipsRepository(MembershipCommands):
    """Memberships read (`MembershipReads`) and changed (`MembershipCommands`)."""


__all__ = [
    "WALK_ORDER_FROM",
    "GrantResult",
    "HistoryEvent",
    "MembershipCommands",
    "MembershipQuery",
    "MembershipReads",
    "MembershipRow",
    "MembershipsRepository",
    "active_clause",
    "contacts_of",
    "event_kind",
    "event_moment",
    "expected_active_until",
    "expired_clause",
    "grant_detail",
    "insert_event",
    "lock_contacts",
    "membership_end",
    "membership_status",
    "normalize_payment_type",
    "reactivation_detail",
    "refresh_active_until",
]
