"""Bulk changes to a frozen list of membership ids (the Memberships screen's selection).

    action = MembershipAction.extend(datetime(2026, 12, 31))   # or .payment(…) / .cancel()
    plan = plan_memberships(db, action, ids)    # counts, nothing written
    plan.sentence        # 'Extend 312 memberships (expires 2026-12-31); 17 are cancelled …'
    result = apply_membership_plan(db, plan, progress=…, cancelled=…)   # one transaction
    undo_bulk(db, result.undo)                  # bulk_undo.py: back to exactly before

The same actions as bulk_memberships.py (extend, change payment type, cancel), picked
by membership instead of by contact and product, so one selection may hold many
products. For each selected membership:
- it no longer exists (its contact was deleted meanwhile): counted as `gone`, skipped;
- its product is archived: left alone and counted (unarchive it first);
- it is cancelled: left alone and counted (adding the product again reactivates it);
- it already has the new value (expiry, payment type): left alone and counted;
- a new expiry not after its start: left alone and counted (`conflicting`);
- otherwise changed, with one history event carrying the actor; a membership whose
  expiry had already passed gets its stored `expired` event first, as a single change
  does.

An expiry in the past is refused (ValidationError, nothing written) unless
`allow_past=True`: the UI asks once more (`plan.past_warning`).

How it writes: one transaction (`bulk_common.write_transaction`). The owners of the
memberships are locked first, ascending (on PostgreSQL `FOR UPDATE`: the lock order
of every writer, see repositories/memberships), then the memberships are read, locked
and changed in rounds of BULK_CHUNK ids with set-based statements (the writer of
bulk_memberships.py), and the owners' `active_until` is recomputed. `progress(done,
total)` after each round; `cancelled()` before each round and before the commit ->
BulkCancelled, rolled back. The result carries an UndoRecord for `undo_bulk`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Unpack

from sqlalchemy import Connection, select

from session_tui.data.bulk_actions import (
    BulkAction,
    SelectionCounts,
    SelectionPlan,
    SelectionResult,
    Work,
    classify_changes,
    plural,
)
from session_tui.data.bulk_common import (
    BULK_CHUNK,
    BulkKind,
    BulkRun,
    Clock,
    MembershipSnapshot,
    RunOptions,
    Steps,
    UndoLog,
    snapshot_columns,
)
from session_tui.data.bulk_memberships import _Writer
from session_tui.data.clock import utcnow
from session_tui.data.db import Database
from session_tui.data.repositories.memberships import normalize_payment_type
from session_tui.data.sqlite_bulk import chunks, in_
from session_tui.data.tables import PaymentType, membership_t, product_t


def _are(count: int) -> str:
    return "is" if count == 1 else "are"


# -- the action ---------------------------------------------------------------------------
@dataclass(frozen=True)
class MembershipAction:
    """What to do to each selected membership."""

    kind: BulkKind  # EXTEND, PAYMENT or CANCEL
    payment_type: PaymentType | None = None  # payment
    expires_at: datetime | None = None  # extend; None = never expires
    allow_past: bool = False  # an expiry in the past was confirmed once more

    @classmethod
    def extend(cls, expires_at: datetime | None, *, allow_past: bool = False) -> MembershipAction:
        return cls(BulkKind.EXTEND, expires_at=expires_at, allow_past=allow_past)

    @classmethod
    def payment(cls, payment_type: str | PaymentType) -> MembershipAction:
        return cls(BulkKind.PAYMENT, payment_type=normalize_payment_type(payment_type))

    @classmethod
    def cancel(cls) -> MembershipAction:
        return cls(BulkKind.CANCEL)

    def __post_init__(self) -> None:
        if self.kind is BulkKind.GRANT:
            raise ValueError("a membership selection cannot be granted: use bulk_memberships")

    def past_expiry(self, now: datetime) -> bool:
        return self.as_bulk_action().past_expiry(now)

    def as_bulk_action(self) -> BulkAction:
        """The same change as bulk_memberships' action (its writer writes it)."""
        return BulkAction(
            self.kind,
            0,
            payment_type=self.payment_type,
            expires_at=self.expires_at,
            allow_past=self.allow_past,
        )


# -- counts --------------------------------------------------------------------------------
@dataclass
class MembershipCounts(SelectionCounts):
    """What an action will do (plan) or did (apply), per selected membership."""

    selection = "membership"

    archived: int = 0  # of an archived product: left alone

    @property
    def left_alone(self) -> int:
        return self.already_cancelled + self.archived + self.unchanged + self.conflicting

    def changes(self) -> tuple[str, str]:
        return plural(self.changed, "membership"), ""

    def left_alone_parts(self) -> list[str]:
        """'17 are cancelled and are left alone', '2 are of an archived product and are
        left alone'."""
        tails = []
        if self.already_cancelled:
            tails.append(
                f"{self.already_cancelled:,} {_are(self.already_cancelled)} cancelled "
                f"and {_are(self.already_cancelled)} left alone"
            )
        if self.archived:
            tails.append(
                f"{self.archived:,} {_are(self.archived)} of an archived product "
                f"and {_are(self.archived)} left alone"
            )
        return tails


class MembershipPlan(SelectionPlan[MembershipAction, MembershipCounts]):
    """The counts of an action on a frozen selection of memberships, before anything is
    written."""


class MembershipBulkResult(SelectionResult[MembershipCounts]):
    """What an action did to a selection of memberships, and how to undo it."""


# -- classification (shared by plan and apply) ----------------------------------------------
def _classify(
    action: MembershipAction,
    rows: Sequence[tuple[MembershipSnapshot, bool]],
    now: datetime,
    counts: MembershipCounts,
) -> Work:
    """Count each (membership, its product is archived) row and list what to change, in
    the order of `rows`. The rules are bulk_actions' (`classify_changes`)."""
    live = [r for r, archived in rows if not archived]
    counts.archived += len(rows) - len(live)
    return classify_changes(action.as_bulk_action(), live, now, counts)


def _rows(
    conn: Connection, dialect: str, ids: Sequence[int], *, lock: bool
) -> list[tuple[MembershipSnapshot, bool]]:
    """These memberships as they are now, in id order, each with whether its product is
    archived."""
    m, p = membership_t.c, product_t.c
    stmt = (
        select(*snapshot_columns(), p.archived)
        .select_from(membership_t.join(product_t, p.id == m.product_id))
        .where(in_(dialect, m.id, ids))
        .order_by(m.id)
    )
    if lock:
        stmt = stmt.with_for_update(of=membership_t)
    return [(MembershipSnapshot(*r[:-1]), bool(r[-1])) for r in conn.execute(stmt)]


# -- plan ----------------------------------------------------------------------------------
def plan_memberships(
    db: Database,
    action: MembershipAction,
    membership_ids: Iterable[int],
    *,
    clock: Clock = utcnow,
) -> MembershipPlan:
    """Count what `action` would do to these memberships; writes nothing."""
    ids = tuple(sorted({int(i) for i in membership_ids}))
    now = clock()
    counts = MembershipCounts.start(action.as_bulk_action(), len(ids))
    with db.engine.connect() as conn:
        for chunk in chunks(ids, BULK_CHUNK):
            rows = _rows(conn, db.dialect, chunk, lock=False)
            counts.gone += len(chunk) - len(rows)
            _classify(action, rows, now, counts)
    return MembershipPlan(action, ids, counts, action.past_expiry(now))


# -- apply ---------------------------------------------------------------------------------
def apply_membership_plan(
    db: Database,
    plan: MembershipPlan,
    *,
    allow_past: bool | None = None,
    **options: Unpack[RunOptions],
) -> MembershipBulkResult:
    """Apply a confirmed plan to exactly its frozen ids (see apply_memberships)."""
    action = plan.action if allow_past is None else replace(plan.action, allow_past=allow_past)
    return apply_memberships(db, action, plan.ids, **options)


def apply_memberships(
    db: Database,
    action: MembershipAction,
    membership_ids: Iterable[int],
    **options: Unpack[RunOptions],
) -> MembershipBulkResult:
    """Do `action` to these memberships in one transaction (see the module docstring).

    Raises ValidationError (nothing written) for a past expiry without
    `action.allow_past`; BulkCancelled when `cancelled()` said so (rolled back)."""
    ids = sorted({int(i) for i in membership_ids})
    run = BulkRun(len(ids), **options)
    bulk = action.as_bulk_action()
    bulk.check_past_confirmed(run.now)
    d = db.dialect
    counts = MembershipCounts.start(bulk, len(ids))
    log = UndoLog()
    products: set[int] = set()
    with run.transaction(db) as conn:
        _lock_owners(conn, d, ids, run)
        writer = _Writer(conn, d, bulk, 0, run.now, run.who, log)
        for chunk in run.rounds(ids, BULK_CHUNK):
            rows = _rows(conn, d, chunk, lock=True)
            counts.gone += len(chunk) - len(rows)
            work = _classify(action, rows, run.now, counts)
            products.update(r.product_id for r in work.changed)
            writer.write(work)
    product_id = next(iter(products)) if len(products) == 1 else 0
    return MembershipBulkResult(counts, log.record(action.kind, counts.headline(), product_id))


def _lock_owners(conn: Connection, dialect: str, ids: Sequence[int], steps: Steps) -> None:
    """Lock the contacts owning these memberships, ascending, before any membership:
    the lock order of every writer."""
    m = membership_t.c
    owners: set[int] = set()
    for chunk in steps.rounds(ids, BULK_CHUNK, counted=False):
        owners.update(conn.execute(select(m.contact_id).where(in_(dialect, m.id, chunk))).scalars())
    steps.lock_contacts(conn, dialect, sorted(owners))


__all__ = [
    "MembershipAction",
    "MembershipBulkResult",
    "MembershipCounts",
    "MembershipPlan",
    "apply_membership_plan",
    "apply_memberships",
    "plan_memberships",
]
