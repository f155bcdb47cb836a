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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from session_tui.data import clock as clock_mod
from session_tui.data.bulk_actions import BulkAction, Tally, Work, classify
from session_tui.data.bulk_common import (
    BULK_CHUNK,
    BulkCancelled,
    BulkKind,
    CancelFn,
    MembershipSnapshot,
    ProgressFn,
    UndoRecord,
    lock_contacts,
    snapshot_columns,
    write_transaction,
)
from session_tui.data.bulk_memberships import _UndoAcc, _Writer
from session_tui.data.clock import utcnow
from session_tui.data.db import Database
from session_tui.data.models import PaymentType, membership_t, product_t
from session_tui.data.repositories.memberships import event_moment, normalize_payment_type
from session_tui.data.sqlite_bulk import chunks, in_
from session_tui.data.validation import ValidationError

Clock = Callable[[], datetime]


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


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

    def expiry_text(self) -> str:
        return self.as_bulk_action().expiry_text()

    def past_expiry(self, now: datetime) -> bool:
        return self.as_bulk_action().past_expiry(now)

    def as_bulk_action(self) -> BulkAction:
        """The same change as bulk_memberships' action (its writer writes it)."""
        return BulkAction(
            self.kind, 0, payment_type=self.payment_type, expires_at=self.expires_at,
            allow_past=self.allow_past,
        )


# -- counts --------------------------------------------------------------------------------
@dataclass
class MembershipCounts:
    """What an action will do (plan) or did (apply), per selected membership."""

    kind: BulkKind
    payment_type: str | None = None
    expiry: str = ""  # "never expires" / "expires 2026-12-31" for extend
    selected: int = 0  # ids in the frozen list
    gone: int = 0  # memberships deleted meanwhile: skipped
    changed: int = 0  # memberships changed
    already_cancelled: int = 0  # left alone
    archived: int = 0  # of an archived product: left alone
    unchanged: int = 0  # already had the new value: left alone
    conflicting: int = 0  # the new expiry is not after the start: left alone
    made_expired: int = 0  # memberships the (past) expiry makes expired

    @property
    def left_alone(self) -> int:
        return self.already_cancelled + self.archived + self.unchanged + self.conflicting

    def headline(self) -> str:
        """'Extend 312 memberships (expires 2026-12-31)', 'Cancel 3 memberships'…"""
        subject = _n(self.changed, "membership")
        if self.kind is BulkKind.EXTEND:
            return f"Extend {subject} ({self.expiry})"
        if self.kind is BulkKind.PAYMENT:
            return f"Change the payment type of {subject} to {self.payment_type}"
        return f"Cancel {subject}"

    @property
    def sentence(self) -> str:
        """The confirmation, e.g. 'Extend 312 memberships (never expires); 17 are
        cancelled and are left alone'."""
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
        if self.unchanged:
            what = self.expiry if self.kind is BulkKind.EXTEND else self.payment_type
            tails.append(f"{self.unchanged:,} already {what} (left alone)")
        if self.conflicting:
            tails.append(f"{self.conflicting:,} started after the new expiry (left alone)")
        if self.gone:
            exist = "no longer exists" if self.gone == 1 else "no longer exist"
            tails.append(f"{_n(self.gone, 'selected membership')} {exist}")
        if self.made_expired:
            tails.append(f"this will make {_n(self.made_expired, 'membership')} expired")
        return "; ".join([self.headline(), *tails])

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["kind"] = self.kind.value
        out["sentence"] = self.sentence
        return out


@dataclass(frozen=True)
class MembershipPlan:
    """The counts of an action on a frozen selection, before anything is written."""

    action: MembershipAction
    ids: tuple[int, ...]  # the frozen selection, ascending
    counts: MembershipCounts
    past: bool = False  # the expiry is in the past: ask once more

    @property
    def sentence(self) -> str:
        return self.counts.sentence

    @property
    def past_warning(self) -> str | None:
        """'this will make 312 memberships expired' when the expiry is in the past."""
        if not self.past:
            return None
        return f"this will make {_n(self.counts.changed, 'membership')} expired"


@dataclass(frozen=True)
class MembershipBulkResult:
    counts: MembershipCounts  # what was done (may differ from the plan: changes meanwhile)
    undo: UndoRecord


# -- classification (shared by plan and apply) ----------------------------------------------
def _classify(
    action: MembershipAction,
    rows: Sequence[tuple[MembershipSnapshot, bool]],
    now: datetime,
    counts: MembershipCounts,
) -> Work:
    """Count each (membership, its product is archived) row and list what to change.

    The rules are bulk_actions' (one membership per contact there): the memberships
    are classified in layers, each holding at most one membership of a contact."""
    layers: list[list[MembershipSnapshot]] = []
    seen: dict[int, int] = {}  # contact id -> memberships of it met so far
    for r, archived in rows:
        if archived:
            counts.archived += 1
            continue
        depth = seen.get(r.contact_id, 0)
        seen[r.contact_id] = depth + 1
        if depth == len(layers):
            layers.append([])
        layers[depth].append(r)
    bulk, tally, work = action.as_bulk_action(), Tally(), Work()
    for layer in layers:
        part = classify(bulk, [r.contact_id for r in layer], layer, now, tally)
        work.changed.extend(part.changed)
        work.expire_first.extend(part.expire_first)
    # The writer and the undo record take the memberships in id order, as they were read.
    work.changed.sort(key=lambda r: r.id)
    work.expire_first.sort()
    counts.already_cancelled += tally.already_cancelled
    counts.unchanged += tally.unchanged
    counts.conflicting += tally.conflicting
    counts.changed += tally.changed
    counts.made_expired += tally.made_expired
    return work


def _rows(
    conn: Connection, dialect: str, ids: Sequence[int], *, lock: bool
) -> list[tuple[MembershipSnapshot, bool]]:
    """These memberships as they are now, each with whether its product is archived."""
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


def _counts(action: MembershipAction, selected: int) -> MembershipCounts:
    return MembershipCounts(
        kind=action.kind,
        payment_type=action.payment_type.value if action.payment_type else None,
        expiry=action.expiry_text() if action.kind is BulkKind.EXTEND else "",
        selected=selected,
    )


# -- plan ----------------------------------------------------------------------------------
def plan_memberships(
    db: Database, action: MembershipAction, membership_ids: Iterable[int], *,
    clock: Clock = utcnow,
) -> MembershipPlan:
    """Count what `action` would do to these memberships; writes nothing."""
    ids = tuple(sorted({int(i) for i in membership_ids}))
    now = clock()
    counts = _counts(action, len(ids))
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
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
    actor: str | None = None,
    clock: Clock = utcnow,
) -> MembershipBulkResult:
    """Apply a confirmed plan to exactly its frozen ids (see apply_memberships)."""
    action = plan.action if allow_past is None else replace(plan.action, allow_past=allow_past)
    return apply_memberships(
        db, action, plan.ids, progress=progress, cancelled=cancelled, actor=actor, clock=clock
    )


def apply_memberships(
    db: Database,
    action: MembershipAction,
    membership_ids: Iterable[int],
    *,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
    actor: str | None = None,
    clock: Clock = utcnow,
) -> MembershipBulkResult:
    """Do `action` to these memberships in one transaction (see the module docstring).

    Raises ValidationError (nothing written) for a past expiry without
    `action.allow_past`; BulkCancelled when `cancelled()` said so (rolled back)."""
    ids = sorted({int(i) for i in membership_ids})
    who = (clock_mod.actor() if actor is None else actor)[:200]
    now = clock()
    if action.past_expiry(now) and not action.allow_past:
        raise ValidationError(
            "expires_at",
            f"the expiry date {event_moment(action.expires_at)} is in the past: it makes these "
            "memberships expired; confirm once more to go ahead",
        )
    d = db.dialect
    counts = _counts(action, len(ids))
    acc = _UndoAcc()
    products: set[int] = set()

    def check() -> None:
        if cancelled is not None and cancelled():
            raise BulkCancelled()

    with write_transaction(db) as conn:
        # The owners first, ascending, before any membership (the lock order).
        m = membership_t.c
        owners: set[int] = set()
        for chunk in chunks(ids, BULK_CHUNK):
            check()
            owners.update(conn.execute(select(m.contact_id).where(in_(d, m.id, chunk))).scalars())
        for chunk in chunks(sorted(owners), BULK_CHUNK):
            check()
            lock_contacts(conn, d, chunk)
        writer = _Writer(conn, d, action.as_bulk_action(), 0, now, who, acc)
        done = 0
        for chunk in chunks(ids, BULK_CHUNK):
            check()
            rows = _rows(conn, d, chunk, lock=True)
            counts.gone += len(chunk) - len(rows)
            work = _classify(action, rows, now, counts)
            products.update(r.product_id for r in work.changed)
            writer.write(work)
            done += len(chunk)
            if progress is not None:
                progress(done, len(ids))
        check()
    undo = UndoRecord(
        kind=action.kind,
        label=counts.headline(),
        product_id=next(iter(products)) if len(products) == 1 else 0,
        contact_ids=tuple(sorted(acc.contacts)),
        previous=tuple(acc.previous),
        created_memberships=(),
        created_events=tuple(acc.events),
    )
    return MembershipBulkResult(counts, undo)


__all__ = [
    "MembershipAction",
    "MembershipBulkResult",
    "MembershipCounts",
    "MembershipPlan",
    "apply_membership_plan",
    "apply_memberships",
    "plan_memberships",
]
