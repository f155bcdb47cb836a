"""`session-tui check`: is every contact's stored status what its memberships say?

`contact.active_until` is denormalised (models.Contact): the table, the
`status:` filters and the export read it instead of the memberships. A past bug
(issue #13: concurrent membership changes on PostgreSQL) could leave it wrong.
`check_statuses` recomputes it for every contact (`expected_active_until`, the
same expression every membership change uses) and reports the differences;
`repair_statuses` rewrites the wrong ones in one transaction.

Both are set-based: one statement counts, one lists the first few. The repair
first locks the wrong contacts (PostgreSQL: one `SELECT … ORDER BY id FOR
UPDATE`, the writers' lock order), so a membership change that committed
meanwhile is seen and one that comes later waits; then one UPDATE rewrites them.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select, update

from session_tui.data.db import Database
from session_tui.data.models import contact_t
from session_tui.data.repositories.memberships import expected_active_until

EXAMPLES = 5  # emails listed in a report


@dataclass(frozen=True)
class StatusDifference:
    contact_id: int
    email: str
    stored: Any  # datetime | None
    expected: Any  # datetime | None


@dataclass(frozen=True)
class StatusReport:
    """`differences` contacts had a wrong stored status (`examples`: the first,
    by id); `repaired` were fixed (0 unless repairing); `remaining` are wrong now."""

    contacts: int
    differences: int
    examples: list[StatusDifference] = field(default_factory=list)
    repaired: int = 0
    remaining: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "contacts": self.contacts,
            "differences": self.differences,
            "repaired": self.repaired,
            "remaining": self.remaining,
            "examples": [
                {
                    "email": d.email,
                    "stored_active_until": _iso(d.stored),
                    "expected_active_until": _iso(d.expected),
                }
                for d in self.examples
            ],
        }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _wrong() -> ColumnElement[bool]:
    """Contacts whose stored status is not the recomputed one (NULL-safe)."""
    return contact_t.c.active_until.is_distinct_from(expected_active_until())


def _survey(conn: Connection, examples: int, *, lock: bool = False) -> StatusReport:
    """One pass over the contacts: how many are wrong, and the first few (by id).
    `lock` (PostgreSQL, repairing): lock the wrong ones, ids ascending."""
    c = contact_t.c
    total = int(conn.execute(select(func.count()).select_from(contact_t)).scalar_one())
    stmt = select(c.id).where(_wrong())
    if lock:
        stmt = stmt.order_by(c.id).with_for_update()
    wrong = 0
    first: list[int] = []  # a max-heap (negated) of the smallest ids seen
    for cid in conn.execute(stmt).scalars():
        wrong += 1
        if len(first) < examples:
            heapq.heappush(first, -cid)
        elif examples and -first[0] > cid:
            heapq.heapreplace(first, -cid)
    rows: list[StatusDifference] = []
    if first:
        details = (
            select(c.id, c.email, c.active_until, expected_active_until().label("expected"))
            .where(c.id.in_([-i for i in first]))
            .order_by(c.id)
        )
        rows = [
            StatusDifference(r.id, r.email, r.active_until, r.expected)
            for r in conn.execute(details)
        ]
    return StatusReport(contacts=total, differences=wrong, examples=rows, remaining=wrong)


def check_statuses(db: Database, examples: int = EXAMPLES) -> StatusReport:
    """Count (and show the first `examples` of) the contacts whose stored status
    differs from the one their memberships give. Writes nothing."""
    with db.engine.connect() as conn:
        return _survey(conn, examples)


def repair_statuses(db: Database, examples: int = EXAMPLES) -> StatusReport:
    """Find the wrong statuses and rewrite them, in one transaction (all or
    nothing). The report's `repaired` counts the contacts fixed, `remaining`
    those still wrong after it (0 unless a writer without the fix is at work)."""

    def work(conn: Connection) -> StatusReport:
        # SQLite: BEGIN IMMEDIATE already keeps every other writer out.
        found = _survey(conn, examples, lock=not db.is_sqlite)
        if not found.differences:
            return found
        fixed = int(
            conn.execute(
                update(contact_t).where(_wrong()).values(active_until=expected_active_until())
            ).rowcount
        )
        if db.is_sqlite:  # nobody else wrote since the survey
            left = max(found.differences - fixed, 0)
        else:
            left = int(conn.execute(select(func.count()).where(_wrong())).scalar_one())
        return replace(found, repaired=fixed, remaining=left)

    return db.run_write(work)
