"""Bulk membership actions on a frozen list of contact ids (the actions menu, #15).

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
One transaction (`bulk_common.write_transaction`: the write lock first on SQLite; on
PostgreSQL the contact rows are locked FOR UPDATE in id order before their
memberships). The ids go in rounds of BULK_CHUNK, each as one parameter (json_each /
ANY(array), as deletion.py does) into set-based statements: INSERT … SELECT for new
memberships and for the history events, one UPDATE per round, then the shared
`refresh_active_until` of the touched contacts. `progress(done, total)` after each
round; `cancelled()` before each round and before the commit -> BulkCancelled,
rolled back. Each apply returns an UndoRecord (bulk_common.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from session_tui.data import clock as clock_mod
from session_tui.data.bulk_common import (
    BULK_CHUNK,
    BulkCancelled,
    BulkKind,
    CancelFn,
    MembershipSnapshot,
    ProgressFn,
    UndoRecord,
    dt_param,
    lock_contacts,
    membership_rows,
    moment_sql,
    snapshot_columns,
    write_transaction,
)
from session_tui.data.clock import utcnow
from session_tui.data.db import Database
from session_tui.data.sqlite_bulk import chunks, in_
from session_tui.data.models import (
    EventKind,
    PaymentType,
    Status,
    contact_t,
    event_t,
    membership_t,
    product_t,
)
from session_tui.data.repositories.memberships import event_moment as fmt_moment
from session_tui.data.repositories.memberships import (
    grant_detail,
    membership_status,
    normalize_payment_type,
    refresh_active_until,
)
from session_tui.data.repositories.products import ProductRef, ProductRow, find_product
from session_tui.data.validation import ValidationError, strip_controls

Clock = Any  # Callable[[], datetime]


# -- the action ----------------------------------------------------------------------
@dataclass(frozen=True)
class BulkAction:
    """What to do to each selected contact's membership of `product` (id or name)."""

    kind: BulkKind
    product: ProductRef
    payment_type: PaymentType | None = None  # grant, payment
    expires_at: datetime | None = None  # grant, extend; None = never expires
    started_at: datetime | None = None  # grant: start of new memberships (default now)
    allow_past: bool = False  # an expiry in the past was confirmed once more

    @classmethod
    def grant(
        cls,
        product: ProductRef,
        payment_type: str | PaymentType,
        expires_at: datetime | None = None,
        *,
        started_at: datetime | None = None,
        allow_past: bool = False,
    ) -> BulkAction:
        payment = normalize_payment_type(payment_type)
        if started_at is not None and expires_at is not None and expires_at <= started_at:
            raise ValidationError("expires_at", "the expiry date must be after the start date")
        return cls(BulkKind.GRANT, product, payment, expires_at, started_at, allow_past)

    @classmethod
    def extend(
        cls, product: ProductRef, expires_at: datetime | None, *, allow_past: bool = False
    ) -> BulkAction:
        return cls(BulkKind.EXTEND, product, expires_at=expires_at, allow_past=allow_past)

    @classmethod
    def payment(cls, product: ProductRef, payment_type: str | PaymentType) -> BulkAction:
        return cls(BulkKind.PAYMENT, product, payment_type=normalize_payment_type(payment_type))

    @classmethod
    def cancel(cls, product: ProductRef) -> BulkAction:
        return cls(BulkKind.CANCEL, product)

    @property
    def sets_expiry(self) -> bool:
        return self.kind in (BulkKind.GRANT, BulkKind.EXTEND)

    def expiry_text(self) -> str:
        if self.expires_at is None:
            return "never expires"
        return f"expires {fmt_moment(self.expires_at)}"

    def past_expiry(self, now: datetime) -> bool:
        return self.sets_expiry and self.expires_at is not None and self.expires_at <= now


# -- counts ----------------------------------------------------------------------------
def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


@dataclass(frozen=True)
class BulkCounts:
    """What an action will do (plan) or did (apply), per selected contact."""

    kind: BulkKind
    product: str
    payment_type: str | None = None
    expiry: str = ""  # "never expires" / "expires 2026-12-31" for grant and extend
    selected: int = 0  # ids in the frozen list
    gone: int = 0  # contacts deleted meanwhile: skipped
    new: int = 0  # grant: memberships created
    reactivated: int = 0  # grant: cancelled/expired memberships made active again
    already_active: int = 0  # grant: left alone
    changed: int = 0  # extend/payment/cancel: memberships changed
    no_membership: int = 0  # extend/payment/cancel: left alone
    already_cancelled: int = 0  # extend/payment/cancel: left alone
    unchanged: int = 0  # extend/payment: already had the new value
    conflicting: int = 0  # the new expiry is not after the membership's start: left alone
    made_expired: int = 0  # memberships the (past) expiry makes expired

    @property
    def contacts(self) -> int:
        """Selected contacts that still exist."""
        return self.selected - self.gone

    @property
    def touched(self) -> int:
        """Memberships written (created or changed)."""
        return self.new + self.reactivated + self.changed

    def headline(self) -> str:
        """The action and its subject: 'Grant "Course" (comped, never expires) to 12 contacts'."""
        p = f'"{strip_controls(self.product)}"'
        if self.kind is BulkKind.GRANT:
            return (
                f"Grant {p} ({self.payment_type}, {self.expiry}) to {_n(self.contacts, 'contact')}"
            )
        subject = _n(self.changed, "contact")
        if self.kind is BulkKind.EXTEND:
            until = "never expires" if self.expiry == "never expires" else self.expiry
            return f"Extend {p} ({until}) for {subject}"
        if self.kind is BulkKind.PAYMENT:
            return f"Change the payment type of {p} to {self.payment_type} for {subject}"
        return f"Cancel {p} for {subject}"

    @property
    def sentence(self) -> str:
        """The confirmation's sentence, e.g. 'Grant "1:1 Coaching" (comped, never
        expires) to 1,204 contacts: 1,100 new memberships, 104 reactivated, 0 already
        active' or 'Extend "Group Program" (expires 2026-12-31) for 312 contacts;
        17 selected contacts have no such membership and are left alone'."""
        text = self.headline()
        if self.kind is BulkKind.GRANT:
            text += (
                f": {_n(self.new, 'new membership')}, {self.reactivated:,} reactivated, "
                f"{self.already_active:,} already active"
            )
        tails = []
        if self.no_membership:
            has = "has" if self.no_membership == 1 else "have"
            are = "is" if self.no_membership == 1 else "are"
            tails.append(
                f"{_n(self.no_membership, 'selected contact')} {has} no such membership "
                f"and {are} left alone"
            )
        if self.already_cancelled:
            tails.append(f"{self.already_cancelled:,} already cancelled (left alone)")
        if self.unchanged:
            what = self.expiry if self.kind is BulkKind.EXTEND else self.payment_type
            tails.append(f"{self.unchanged:,} already {what} (left alone)")
        if self.conflicting:
            tails.append(f"{self.conflicting:,} started after the new expiry (left alone)")
        if self.gone:
            exist = "no longer exists" if self.gone == 1 else "no longer exist"
            tails.append(f"{_n(self.gone, 'selected contact')} {exist}")
        if self.made_expired:
            tails.append(f"this will make {_n(self.made_expired, 'membership')} expired")
        return "; ".join([text, *tails])

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["kind"] = self.kind.value
        out["contacts"] = self.contacts
        out["touched"] = self.touched
        out["sentence"] = self.sentence
        return out


@dataclass
class _Tally:
    gone: int = 0
    new: int = 0
    reactivated: int = 0
    already_active: int = 0
    changed: int = 0
    no_membership: int = 0
    already_cancelled: int = 0
    unchanged: int = 0
    conflicting: int = 0
    made_expired: int = 0

    def counts(self, action: BulkAction, product: str, selected: int) -> BulkCounts:
        return BulkCounts(
            kind=action.kind,
            product=product,
            payment_type=action.payment_type.value if action.payment_type else None,
            expiry=action.expiry_text() if action.sets_expiry else "",
            selected=selected,
            **{f.name: getattr(self, f.name) for f in fields(self)},
        )


@dataclass(frozen=True)
class BulkPlan:
    """The counts of an action on a frozen selection, before anything is written."""

    action: BulkAction  # its product is the resolved id
    product_id: int
    ids: tuple[int, ...]  # the frozen selection, ascending
    counts: BulkCounts
    past: bool = False  # the expiry is in the past: ask once more

    @property
    def sentence(self) -> str:
        return self.counts.sentence

    @property
    def past_warning(self) -> str | None:
        """'this will make 312 memberships expired' when the expiry is in the past."""
        if not self.past:
            return None
        n = self.counts.new + self.counts.reactivated + self.counts.changed
        return f"this will make {_n(n, 'membership')} expired"


@dataclass(frozen=True)
class BulkResult:
    counts: BulkCounts  # what was done (may differ from the plan: changes meanwhile)
    undo: UndoRecord


# -- classification (shared by plan and apply) ----------------------------------------
@dataclass
class _Work:
    new_contacts: list[int] = field(default_factory=list)
    changed: list[MembershipSnapshot] = field(default_factory=list)
    expire_first: list[int] = field(default_factory=list)  # store their `expired` event


def _classify(
    action: BulkAction,
    found: Sequence[int],
    rows: Sequence[MembershipSnapshot],
    now: datetime,
    tally: _Tally,
) -> _Work:
    by_contact = {r.contact_id: r for r in rows}
    work = _Work()
    exp = action.expires_at
    past = action.past_expiry(now)
    for cid in found:
        r = by_contact.get(cid)
        if action.kind is BulkKind.GRANT:
            if r is None:
                work.new_contacts.append(cid)
                tally.new += 1
                tally.made_expired += past
                continue
            if membership_status(r.expires_at, r.cancelled_at, now) is Status.ACTIVE:
                tally.already_active += 1
                continue
            start = action.started_at or r.started_at
            if exp is not None and exp <= start:
                tally.conflicting += 1
                continue
            tally.reactivated += 1
        else:
            if r is None:
                tally.no_membership += 1
                continue
            if r.cancelled_at is not None:
                tally.already_cancelled += 1
                continue
            if action.kind is BulkKind.EXTEND:
                if r.expires_at == exp:
                    tally.unchanged += 1
                    continue
                if exp is not None and exp <= r.started_at:
                    tally.conflicting += 1
                    continue
            if action.kind is BulkKind.PAYMENT and r.payment_type == action.payment_type:
                tally.unchanged += 1
                continue
            tally.changed += 1
        tally.made_expired += past
        work.changed.append(r)
        # MembershipsRepository._persist_expiry: a passed expiry that the change
        # replaces (or a cancel of an expired membership) becomes a stored event.
        passed = r.cancelled_at is None and r.expires_at is not None and r.expires_at <= now
        if passed and (
            action.kind is BulkKind.CANCEL or (action.sets_expiry and exp != r.expires_at)
        ):
            work.expire_first.append(r.id)
    return work


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


def _check_dates(action: BulkAction, now: datetime) -> None:
    if action.kind is BulkKind.GRANT and action.expires_at is not None:
        if action.expires_at <= (action.started_at or now):
            raise ValidationError(
                "expires_at",
                "the expiry date must be after the start date"
                + ("" if action.started_at else " (today: new memberships start now)"),
            )


# -- plan --------------------------------------------------------------------------------
def plan_bulk(
    db: Database, action: BulkAction, contact_ids: Iterable[int], *, clock: Clock = utcnow
) -> BulkPlan:
    """Count what `action` would do to these contacts; writes nothing.

    Raises ValidationError for a missing or archived product or an impossible date."""
    ids = tuple(sorted({int(i) for i in contact_ids}))
    now = clock()
    _check_dates(action, now)
    tally = _Tally()
    with db.engine.connect() as conn:
        prod = _require_product(conn, action, lock=False)
        for chunk in chunks(ids, BULK_CHUNK):
            found = existing_contacts(conn, db.dialect, chunk)
            tally.gone += len(chunk) - len(found)
            rows = membership_rows(conn, db.dialect, found, prod.id, lock=False) if found else []
            _classify(action, found, rows, now, tally)
    resolved = replace(action, product=prod.id)
    return BulkPlan(
        resolved, prod.id, ids, tally.counts(action, prod.name, len(ids)), action.past_expiry(now)
    )


def existing_contacts(conn: Connection, dialect: str, ids: Sequence[int]) -> list[int]:
    """Those of `ids` that exist (no lock: for counting)."""
    c = contact_t.c
    return list(conn.execute(select(c.id).where(in_(dialect, c.id, ids)).order_by(c.id)).scalars())


# -- apply -----------------------------------------------------------------------------
def apply_plan(
    db: Database,
    plan: BulkPlan,
    *,
    allow_past: bool | None = None,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
    actor: str | None = None,
    clock: Clock = utcnow,
) -> BulkResult:
    """Apply a confirmed plan to exactly its frozen ids (see apply_bulk)."""
    action = plan.action if allow_past is None else replace(plan.action, allow_past=allow_past)
    return apply_bulk(
        db, action, plan.ids, progress=progress, cancelled=cancelled, actor=actor, clock=clock
    )


def apply_bulk(
    db: Database,
    action: BulkAction,
    contact_ids: Iterable[int],
    *,
    progress: ProgressFn | None = None,
    cancelled: CancelFn | None = None,
    actor: str | None = None,
    clock: Clock = utcnow,
) -> BulkResult:
    """Do `action` to these contacts in one transaction; see the module docstring.

    Raises ValidationError (nothing written) for a missing/archived product, an
    impossible date, or a past expiry without `action.allow_past`; BulkCancelled
    when `cancelled()` said so (rolled back)."""
    ids = sorted({int(i) for i in contact_ids})
    who = (clock_mod.actor() if actor is None else actor)[:200]
    now = clock()
    _check_dates(action, now)
    if action.past_expiry(now) and not action.allow_past:
        raise ValidationError(
            "expires_at",
            f"the expiry date {fmt_moment(action.expires_at)} is in the past: it makes these "
            "memberships expired; confirm once more to go ahead",
        )
    for attempt in range(2):
        try:
            return _apply(db, action, ids, now, who, progress, cancelled)
        except IntegrityError:
            # Someone created one of these memberships meanwhile (rolled back): the
            # second attempt finds it and counts it as it is now.
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _apply(
    db: Database,
    action: BulkAction,
    ids: list[int],
    now: datetime,
    who: str,
    progress: ProgressFn | None,
    cancelled: CancelFn | None,
) -> BulkResult:
    tally = _Tally()
    acc = _UndoAcc()
    total = len(ids)
    with write_transaction(db) as conn:
        prod = _require_product(conn, action, lock=True)
        done = 0
        for chunk in chunks(ids, BULK_CHUNK):
            if cancelled is not None and cancelled():
                raise BulkCancelled()
            found = lock_contacts(conn, db.dialect, chunk)
            tally.gone += len(chunk) - len(found)
            if found:
                rows = membership_rows(conn, db.dialect, found, prod.id, lock=True)
                work = _classify(action, found, rows, now, tally)
                _Writer(conn, db.dialect, action, prod.id, now, who, acc).write(work)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        if cancelled is not None and cancelled():
            raise BulkCancelled()
    counts = tally.counts(action, prod.name, total)
    undo = UndoRecord(
        kind=action.kind,
        label=counts.headline(),
        product_id=prod.id,
        contact_ids=tuple(sorted(acc.contacts)),
        previous=tuple(acc.previous),
        created_memberships=tuple(acc.memberships),
        created_events=tuple(acc.events),
    )
    return BulkResult(counts, undo)


@dataclass
class _UndoAcc:
    contacts: set[int] = field(default_factory=set)
    previous: list[MembershipSnapshot] = field(default_factory=list)
    memberships: list[int] = field(default_factory=list)
    events: list[int] = field(default_factory=list)


@dataclass
class _Writer:
    conn: Connection
    dialect: str
    action: BulkAction
    product_id: int
    now: datetime
    who: str
    acc: _UndoAcc

    def write(self, work: _Work) -> None:
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
                    f" -> {fmt_moment(a.expires_at)}"
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
        self.acc.previous.extend(work.changed)
        touched = work.new_contacts + [r.contact_id for r in work.changed]
        self.acc.contacts.update(touched)
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
        self.acc.events.extend(self.conn.execute(stmt).scalars())

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
        self.acc.memberships.extend(created)
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
        self.acc.events.extend(self.conn.execute(insert(event_t).returning(e.id), params).scalars())
        values: dict[str, Any] = {
            "payment_type": a.payment_type.value,
            "expires_at": dt_param(a.expires_at),
            "cancelled_at": None,
        }
        if a.started_at is not None:
            values["started_at"] = dt_param(a.started_at)
        self._update([r.id for r in rows], **values)


def reactivation_detail(
    cur: MembershipSnapshot,
    payment: str,
    expires_at: datetime | None,
    started_at: datetime | None,
) -> str:
    """The detail of a `reactivated` event, worded as MembershipsRepository.grant words it
    (tests/test_bulk_memberships.py holds the two to the same text)."""
    changes = [f"{cur.payment_type} -> {payment}" if cur.payment_type != payment else payment]
    if cur.expires_at != expires_at:
        changes.append(f"expires {fmt_moment(cur.expires_at)} -> {fmt_moment(expires_at)}")
    else:
        changes.append(
            "never expires" if expires_at is None else f"expires {fmt_moment(expires_at)}"
        )
    if cur.cancelled_at is not None:
        changes.append(f"was cancelled {fmt_moment(cur.cancelled_at)}")
    if started_at is not None and started_at != cur.started_at:
        changes.append(f"started {fmt_moment(cur.started_at)} -> {fmt_moment(started_at)}")
    return ", ".join(changes)


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
