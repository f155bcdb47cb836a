"""The memberships an import writes: in the import's own transaction, batch by batch.

For each contact the import acts on -- a new contact, or an existing one when
`update_memberships` is on -- each membership the row names (`MembershipSpec`):

- no membership of that product yet: a new one, with the file's payment type and,
  when the file gives them (our export's `memberships` column), its start,
  expiry and cancellation exactly; otherwise it starts at the import time and
  never expires. History: `granted` at its start (and `cancelled` at its
  cancellation), actor `import`;
- an existing contact's cancelled or expired membership, and the file's is
  active: reactivated, as a grant reactivates everywhere (`reactivated` event
  worded like the single grant's, the `expired` event of a passed expiry stored
  first); otherwise it is left alone (`unchanged`);
- a product that does not exist: created when `create_products`, else the
  membership is skipped (the product is listed in `products_to_create`); an
  archived product: skipped (a grant refuses archived products).

Set-based per batch: one executemany INSERT … RETURNING for the memberships,
one for their events, then `refresh_active_until` of the touched contacts (the
same function every grant uses). PostgreSQL: existing contacts are locked
(FOR UPDATE, id order) before their memberships are read, as every writer does.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from session_tui.data.bulk_common import MembershipSnapshot, lock_contacts, snapshot_columns
from session_tui.data.csvio.membership_cells import MembershipSpec
from session_tui.data.repositories.memberships import (
    grant_detail,
    reactivation_detail,
    refresh_active_until,
)
from session_tui.data.repositories.memberships.status import membership_status
from session_tui.data.sqlite_bulk import chunks, in_
from session_tui.data.tables import EventKind, Status, event_t, membership_t, product_t

ACTOR = "import"
COMP_PRODUCT = "Complimentary"  # a complimentary plan that names no tier


def product_key(name: str) -> str:
    """Products are unique ignoring case (and runs of spaces)."""
    return " ".join(name.split()).lower()


@dataclass
class _Product:
    id: int | None  # None: not in the database (and not created)
    name: str
    archived: bool = False


@dataclass
class MembershipCounts:
    granted: int = 0
    reactivated: int = 0
    unchanged: int = 0
    skipped: int = 0
    read: int = 0
    created: int = 0
    to_create: dict[str, str] = field(default_factory=dict)  # key -> name as first written
    archived: dict[str, str] = field(default_factory=dict)


# (contact id, whether the import just created the contact, its memberships)
Work = tuple[int, bool, tuple[MembershipSpec, ...]]


@dataclass
class MembershipWriter:
    """Writes the memberships of one import; `write(work)` once per batch."""

    conn: Connection
    dialect: str
    now: datetime
    _: KW_ONLY
    create_products: bool
    dry_run: bool
    counts: MembershipCounts = field(default_factory=MembershipCounts)
    products: dict[str, _Product] = field(init=False)  # by product_key

    def __post_init__(self) -> None:
        p = product_t.c
        self.products = {
            product_key(name): _Product(pid, name, bool(archived))
            for pid, name, archived in self.conn.execute(select(p.id, p.name, p.archived))
        }

    # -- products ------------------------------------------------------------------
    def _product_id(self, name: str) -> int | None:
        key = product_key(name)
        found = self.products.get(key)
        counts = self.counts
        if found is None:
            counts.to_create.setdefault(key, name)
            pid: int | None = None
            if self.create_products:
                pid = self.conn.execute(
                    insert(product_t)
                    .values(name=name, archived=False, created_at=self.now)
                    .returning(product_t.c.id)
                ).scalar_one()
                counts.created += not self.dry_run
            found = self.products[key] = _Product(pid, name)
        if found.archived:
            counts.archived.setdefault(key, found.name)
            return None
        return found.id

    # -- one batch -----------------------------------------------------------------
    def write(self, work: list[Work]) -> None:
        counts = self.counts
        wanted: list[tuple[int, bool, int, MembershipSpec]] = []
        for cid, is_new, specs in work:
            for spec in specs:
                counts.read += 1
                pid = self._product_id(spec.product or COMP_PRODUCT)
                if pid is None:
                    counts.skipped += 1
                else:
                    wanted.append((cid, is_new, pid, spec))
        if not wanted:
            return
        existing_ids = sorted({cid for cid, is_new, _, _ in wanted if not is_new})
        current: dict[tuple[int, int], MembershipSnapshot] = {}
        if existing_ids:
            for part in chunks(existing_ids, 5_000):
                lock_contacts(self.conn, self.dialect, part)
                current.update(
                    ((r.contact_id, r.product_id), r) for r in self._memberships_of(part)
                )
        new: list[tuple[int, int, MembershipSpec]] = []
        reactivate: list[tuple[MembershipSnapshot, MembershipSpec]] = []
        for cid, _is_new, pid, spec in wanted:
            row = current.get((cid, pid))
            if row is None:
                new.append((cid, pid, spec))
            elif self._reactivates(row, spec):
                reactivate.append((row, spec))
            else:
                counts.unchanged += 1
        self._insert(new)
        self._reactivate(reactivate)
        touched = [cid for cid, _, _ in new] + [row.contact_id for row, _ in reactivate]
        if touched:
            self._refresh(touched)

    def _refresh(self, contact_ids: list[int]) -> None:
        refresh_active_until(self.conn, contact_ids)

    def _memberships_of(self, contact_ids: Any) -> list[MembershipSnapshot]:
        m = membership_t.c
        stmt = select(*snapshot_columns()).where(in_(self.dialect, m.contact_id, contact_ids))
        return [MembershipSnapshot(*r) for r in self.conn.execute(stmt)]

    def _reactivates(self, row: MembershipSnapshot, spec: MembershipSpec) -> bool:
        """A re-grant reactivates a membership that is over, with one that is not."""
        now = self.now
        if membership_status(row.expires_at, row.cancelled_at, now) is Status.ACTIVE:
            return False
        if spec.cancelled is not None or (spec.expires is not None and spec.expires <= now):
            return False  # the file's membership is over too: nothing to reactivate
        start = spec.started or row.started_at
        return spec.expires is None or spec.expires > start

    def _insert(self, new: list[tuple[int, int, MembershipSpec]]) -> None:
        if not new:
            return
        now = self.now
        params = [
            {
                "contact_id": cid,
                "product_id": pid,
                "payment_type": spec.payment_type.value,
                "started_at": spec.started or now,
                "expires_at": spec.expires,
                "cancelled_at": spec.cancelled,
            }
            for cid, pid, spec in new
        ]
        # A plain executemany (RETURNING would send the rows one by one on SQLite),
        # then the new rows' ids by their unique (contact, product).
        self.conn.execute(insert(membership_t), params)
        m = membership_t.c
        contacts = sorted({cid for cid, _, _ in new})
        found: dict[tuple[int, int], int] = {}
        for part in chunks(contacts, 5_000):
            stmt = select(m.contact_id, m.product_id, m.id).where(
                in_(self.dialect, m.contact_id, part)
            )
            found.update(((cid, pid), mid) for cid, pid, mid in self.conn.execute(stmt))
        ids = [found[(cid, pid)] for cid, pid, _ in new]
        events: list[dict[str, Any]] = []
        for mid, (_cid, _pid, spec) in zip(ids, new, strict=True):
            events.append(
                _event(
                    mid,
                    spec.started or now,
                    EventKind.GRANTED,
                    grant_detail(spec.payment_type.value, spec.expires),
                )
            )
            if spec.cancelled is not None:
                events.append(_event(mid, spec.cancelled, EventKind.CANCELLED, ""))
        self.conn.execute(insert(event_t), events)
        self.counts.granted += len(ids)

    def _reactivate(self, rows: list[tuple[MembershipSnapshot, MembershipSpec]]) -> None:
        if not rows:
            return
        now = self.now
        events: list[dict[str, Any]] = []
        for row, spec in rows:
            passed = row.cancelled_at is None and row.expires_at is not None
            if passed and row.expires_at != spec.expires:
                # A passed expiry that the change replaces becomes a stored event.
                events.append(_event(row.id, row.expires_at, EventKind.EXPIRED, ""))
            detail = reactivation_detail(row, spec.payment_type.value, spec.expires, spec.started)
            events.append(_event(row.id, now, EventKind.REACTIVATED, detail))
        self.conn.execute(insert(event_t), events)
        m = membership_t.c
        for row, spec in rows:
            values: dict[str, Any] = {
                "payment_type": spec.payment_type.value,
                "expires_at": spec.expires,
                "cancelled_at": None,
            }
            if spec.started is not None:
                values["started_at"] = spec.started
            self.conn.execute(update(membership_t).where(m.id == row.id).values(**values))
        self.counts.reactivated += len(rows)


def _event(membership_id: int, at: Any, kind: EventKind, detail: str) -> dict[str, Any]:
    return {
        "membership_id": membership_id,
        "at": at,
        "kind": kind.value,
        "detail": detail,
        "actor": ACTOR,
    }
