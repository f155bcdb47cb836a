"""Bulk membership actions on a frozen list of contact ids (the actions menu).

    action = BulkAction.grant("1:1 Coaching", "comped")        # or .extend/.payment/.cancel
    plan = plan_bulk(db, action, ids)     # counts, nothing written
    plan.sentence                         # 'Grant "1:1 Coaching" (comped, never expires) to …'
    result = apply_plan(db, plan, progress=…, cancelled=…)     # one transaction
    undo_bulk(db, result.undo)            # bulk_undo.py: back to exactly the previous state

What each action does to each selected contact
----------------------------------------------
- grant (product, payment type, optional expiry, optional start): no membership of
  the product -> a new one (event `granted`); a cancelled or expired one -> reactivated
  with the new payment type and expiry (event `reactivated`, the same detail as a
  single grant); an active one -> "already active", left alone.
- extend (new expiry or never): event `extended` ("old -> new").
- payment (new type): event `payment_changed` ("old -> new").
- cancel: `cancelled_at` = now, event `cancelled`.
  For these three, a contact without a membership of the product, or whose membership
  is cancelled, is left alone and counted; so is one that already has the new value.
- For every action: a contact deleted meanwhile is counted as "gone" and skipped; a
  new expiry not after a membership's start leaves that membership alone
  ("conflicting"); a membership whose expiry had already passed gets its stored
  `expired` event first (as the single-membership code does).

Refused with a ValidationError before anything is written: a product that does not
exist or is archived; a grant whose expiry is not after its start; an expiry in the
past without `allow_past=True` (the UI/CLI asks once more: `plan.past_warning`).

How it writes
-------------
One transaction (`bulk_common.BulkRun`: its rounds and its write transaction, the
write lock first on SQLite; on PostgreSQL the contact rows are locked FOR UPDATE in id
order before their memberships). The ids go in rounds of BULK_CHUNK, each as one
parameter (json_each / ANY(array): `sqlite_bulk.in_`) into set-based statements:
INSERT … SELECT for new memberships and for the history events, one UPDATE per round,
then the shared `refresh_active_until` of the touched contacts. `progress(done,
total)` after each round; `cancelled()` before each round and before the commit ->
BulkCancelled, rolled back. Each apply returns an UndoRecord (bulk_common.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Unpack

from sqlalchemy import Connection, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from session_tui.data.bulk_actions import (
    BulkAction,
    BulkCounts,
    BulkPlan,
    BulkResult,
    Work,
    classify,
)
from session_tui.data.bulk_common import (
    BULK_CHUNK,
    BulkCancelled,
    BulkKind,
    BulkRun,
    Clock,
    MembershipSnapshot,
    RunOptions,
    UndoLog,
    UndoRecord,
    dt_param,
    lock_contacts,
    membership_rows,
    moment_sql,
    snapshot_columns,
)
from session_tui.data.clock import utcnow
from session_tui.data.db import Database
from session_tui.data.repositories.memberships import (
    event_moment,
    grant_detail,
    reactivation_detail,
    refresh_active_until,
)
from session_tui.data.repositories.products import ProductRow, find_product
from session_tui.data.sqlite_bulk import chunks, in_
from session_tui.data.tables import EventKind, contact_t, event_t, membership_t, product_t
from session_tui.data.validation import ValidationError, strip_controls


def _require_product(conn: Connection, action: BulkAction, *, lock: bool) -> ProductRow:
    prod = find_product(conn, action.product)
    if prod is None:
        raise ValidationError(
            "product", f"there is no product “{strip_controls(str(action.product))}”"
        )
    if lock:  # PostgreSQL: nobody archives or deletes it until we commit
        conn.execute(
            select(product_t.c.id).where(product_t.c.id == prod.id).with_for_update(read=True)
        )
    if prod.archived:
        raise ValidationError(
            "product", f"“{prod.name}” is archived; unarchive it first to change its memberships"
        )
    return prod


# -- plan --------------------------------------------------------------------------------
def plan_bulk(
    db: Database, action: BulkAction, contact_ids: Iterable[int], *, clock: Clock = utcnow
) -> BulkPlan:
    """Count what `action` would do to these contacts; writes nothing.

    Raises ValidationError for a missing or archived product or an impossible date."""
    ids = tuple(sorted({int(i) for i in contact_ids}))
    now = clock()
    action.check_dates(now)
    with db.engine.connect() as conn:
        prod = _require_product(conn, action, lock=False)
        counts = BulkCounts.start(action, len(ids), product=prod.name)
        for chunk in chunks(ids, BULK_CHUNK):
            found = existing_contacts(conn, db.dialect, chunk)
            counts.gone += len(chunk) - len(found)
            rows = membership_rows(conn, db.dialect, found, prod.id, lock=False) if found else []
            classify(action, found, rows, now, counts)
    resolved = replace(action, product=prod.id)
    return BulkPlan(resolved, ids, counts, action.past_expiry(now), product_id=prod.id)


def existing_contacts(conn: Connection, dialect: str, ids: Sequence[int]) -> list[int]:
    """Those of `ids` that exist (no lock: for counting)."""
    c = contact_t.c
    return list(conn.execute(select(c.id).where(in_(dialect, c.id, ids)).order_by(c.id)).scalars())


# -- apply -----------------------------------------------------------------------------
def apply_plan(
    db: Database, plan: BulkPlan, *, allow_past: bool | None = None, **options: Unpack[RunOptions]
) -> BulkResult:
    """Apply a confirmed plan to exactly its frozen ids (see apply_bulk)."""
    action = plan.action if allow_past is None else replace(plan.action, allow_past=allow_past)
    return apply_bulk(db, action, plan.ids, **options)


def apply_bulk(
    db: Database, action: BulkAction, contact_ids: Iterable[int], **options: Unpack[RunOptions]
) -> BulkResult:
    """Do `action` to these contacts in one transaction; see the module docstring.

    Raises ValidationError (nothing written) for a missing/archived product, an
    impossible date, or a past expiry without `action.allow_past`; BulkCancelled
    when `cancelled()` said so (rolled back)."""
    ids = sorted({int(i) for i in contact_ids})
    run = BulkRun(len(ids), **options)
    action.check_dates(run.now)
    action.check_past_confirmed(run.now)
    for attempt in range(2):
        try:
            return _apply(db, action, ids, run)
        except IntegrityError:
            # Someone created one of these memberships meanwhile (rolled back): the
            # second attempt finds it and counts it as it is now.
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _apply(db: Database, action: BulkAction, ids: list[int], run: BulkRun) -> BulkResult:
    log = UndoLog()
    with run.transaction(db) as conn:
        prod = _require_product(conn, action, lock=True)
        counts = BulkCounts.start(action, len(ids), product=prod.name)
        writer = _Writer(conn, db.dialect, action, prod.id, run.now, run.who, log)
        for chunk in run.rounds(ids, BULK_CHUNK):
            found = lock_contacts(conn, db.dialect, chunk)
            counts.gone += len(chunk) - len(found)
            if found:
                rows = membership_rows(conn, db.dialect, found, prod.id, lock=True)
                writer.write(classify(action, found, rows, run.now, counts))
    return BulkResult(counts, log.record(action.kind, counts.headline(), prod.id))


@dataclass
class _Writer:
    conn: Connection
    dialect: str
    action: BulkAction
    product_id: int
    now: datetime
    who: str
    log: UndoLog

    def write(self, work: Work) -> None:
        a, m = self.action, membership_t.c
        if work.expire_first:
            self._events(work.expire_first, m.expires_at, EventKind.EXPIRED, literal(""), "")
        if a.kind is BulkKind.GRANT:
            self._grant_new(work.new_contacts)
            self._reactivate(work.changed)
        elif work.changed:
            changed = [r.id for r in work.changed]
            if a.kind is BulkKind.EXTEND:
                detail = moment_sql(self.dialect, m.expires_at).concat(
                    f" -> {event_moment(a.expires_at)}"
                )
                self._events(changed, self.now, EventKind.EXTENDED, detail, self.who)
                self._update(changed, expires_at=dt_param(a.expires_at))
            elif a.kind is BulkKind.PAYMENT:
                assert a.payment_type is not None
                detail = m.payment_type.concat(f" -> {a.payment_type.value}")
                self._events(changed, self.now, EventKind.PAYMENT_CHANGED, detail, self.who)
                self._update(changed, payment_type=a.payment_type.value)
            else:
                self._events(changed, self.now, EventKind.CANCELLED, literal(""), self.who)
                self._update(changed, cancelled_at=dt_param(self.now))
        self.log.previous.extend(work.changed)
        touched = work.new_contacts + [r.contact_id for r in work.changed]
        self.log.contacts.update(touched)
        if a.kind is not BulkKind.PAYMENT and touched:
            refresh_active_until(self.conn, touched)

    def _events(
        self, membership_ids: Sequence[int], at: Any, kind: EventKind, detail: Any, actor: str
    ) -> None:
        """One history event per membership, INSERT … SELECT from the membership rows."""
        m, e = membership_t.c, event_t.c
        at_expr = dt_param(at) if isinstance(at, datetime) else at
        rows = (
            select(m.id, at_expr, literal(kind.value), detail, literal(actor))
            .where(in_(self.dialect, m.id, membership_ids))
            .order_by(m.id)
        )
        stmt = (
            insert(event_t)
            .from_select([e.membership_id, e.at, e.kind, e.detail, e.actor], rows)
            .returning(e.id)
        )
        self.log.events.extend(self.conn.execute(stmt).scalars())

    def _update(self, membership_ids: Sequence[int], **values: Any) -> None:
        m = membership_t.c
        self.conn.execute(
            update(membership_t).where(in_(self.dialect, m.id, membership_ids)).values(**values)
        )

    def _grant_new(self, contact_ids: Sequence[int]) -> None:
        if not contact_ids:
            return
        a, c, m = self.action, contact_t.c, membership_t.c
        assert a.payment_type is not None
        start = a.started_at or self.now
        rows = select(
            c.id,
            literal(self.product_id),
            literal(a.payment_type.value),
            dt_param(start),
            dt_param(a.expires_at),
            dt_param(None),
        ).where(in_(self.dialect, c.id, contact_ids))
        stmt = (
            insert(membership_t).from_select(snapshot_columns(with_id=False), rows).returning(m.id)
        )
        created = list(self.conn.execute(stmt).scalars())
        self.log.memberships.extend(created)
        detail = literal(grant_detail(a.payment_type.value, a.expires_at))
        self._events(created, start, EventKind.GRANTED, detail, self.who)

    def _reactivate(self, rows: Sequence[MembershipSnapshot]) -> None:
        if not rows:
            return
        a, e = self.action, event_t.c
        assert a.payment_type is not None
        params = [
            {
                "membership_id": r.id,
                "at": self.now,
                "kind": EventKind.REACTIVATED.value,
                "detail": reactivation_detail(r, a.payment_type.value, a.expires_at, a.started_at),
                "actor": self.who,
            }
            for r in rows
        ]
        self.log.events.extend(self.conn.execute(insert(event_t).returning(e.id), params).scalars())
        values: dict[str, Any] = {
            "payment_type": a.payment_type.value,
            "expires_at": dt_param(a.expires_at),
            "cancelled_at": None,
        }
        if a.started_at is not None:
            values["started_at"] = dt_param(a.started_at)
        self._update([r.id for r in rows], **values)


def contact_ids_for_emails(db: Database, emails: Iterable[str]) -> tuple[list[int], list[str]]:
    """The ids of the contacts with these emails (ignoring case and surrounding space),
    and the emails that match no contact, in the order given."""
    wanted: list[str] = []
    seen: set[str] = set()
    for raw in emails:
        email = strip_controls(raw).strip().lower()
        if email and email not in seen:
            seen.add(email)
            wanted.append(email)
    c = contact_t.c
    found: dict[str, int] = {}
    with db.engine.connect() as conn:
        for chunk in chunks(wanted, BULK_CHUNK):
            for cid, email in conn.execute(
                select(c.id, c.email).where(in_(db.dialect, c.email, chunk))
            ):
                found[email] = cid
    return sorted(found.values()), [e for e in wanted if e not in found]


__all__ = [
    "BulkAction",
    "BulkCancelled",
    "BulkCounts",
    "BulkKind",
    "BulkPlan",
    "BulkResult",
    "UndoRecord",
    "apply_bulk",
    "apply_plan",
    "contact_ids_for_emails",
    "plan_bulk",
]
