"""Changing memberships: grant (or reactivate), extend, cancel, change the payment
type. Each change locks the contact first, writes one history event and refreshes
`contact.active_until`, in one transaction (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from session_tui.data import clock as clock_mod
from session_tui.data.repositories.memberships.events import (
    event_moment,
    grant_detail,
    insert_event,
    reactivation_detail,
)
from session_tui.data.repositories.memberships.reads import MembershipReads
from session_tui.data.repositories.memberships.rows import GrantResult, MembershipRow, get_row
from session_tui.data.repositories.memberships.status import lock_contacts, refresh_active_until
from session_tui.data.repositories.products import ProductRef, find_product
from session_tui.data.tables import EventKind, PaymentType, contact_t, membership_t
from session_tui.data.validation import (
    ValidationError,
    normalize_email,
    normalize_name,
    strip_controls,
)


def normalize_payment_type(value: str | PaymentType) -> PaymentType:
    text = str(value).strip().lower()
    try:
        return PaymentType(text)
    except ValueError:
        raise ValidationError(
            "payment_type", f"payment type must be paid, free or comped, not “{value}”"
        ) from None


class MembershipCommands(MembershipReads):
    """The changing half of `MembershipsRepository` (each change returns the row as
    it then reads)."""

    def grant(
        self,
        email: str,
        product: ProductRef,
        payment_type: str | PaymentType,
        expires_at: datetime | None = None,
        started_at: datetime | None = None,
        actor: str | None = None,
        first_name: str = "",
        last_name: str = "",
    ) -> GrantResult:
        email = normalize_email(email)
        payment = normalize_payment_type(payment_type)
        who = clock_mod.actor() if actor is None else actor
        if started_at is not None and expires_at is not None and expires_at <= started_at:
            raise ValidationError("expires_at", "the expiry date must be after the start date")
        for attempt in range(2):
            try:
                return self.db.run_write(
                    lambda conn: self._grant(
                        conn,
                        email,
                        product,
                        payment,
                        expires_at,
                        started_at,
                        who,
                        first_name,
                        last_name,
                    )
                )
            except IntegrityError:
                # Someone else created the contact or membership meanwhile: retry, which
                # then finds it (and reactivates instead of inserting).
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _grant(
        self,
        conn: Connection,
        email: str,
        product: ProductRef,
        payment: PaymentType,
        expires_at: datetime | None,
        started_at: datetime | None,
        who: str,
        first_name: str,
        last_name: str,
    ) -> GrantResult:
        now = self.clock()
        c, m = contact_t.c, membership_t.c
        prod = find_product(conn, product)
        if prod is None:
            raise ValidationError(
                "product", f"there is no product “{strip_controls(str(product))}”"
            )
        if prod.archived:
            raise ValidationError(
                "product",
                f"“{prod.name}” is archived; unarchive it to grant new memberships",
            )
        # Lock order: the contact first (a new one is ours until we commit).
        contact_id = conn.execute(select(c.id).where(c.email == email).with_for_update()).scalar()
        created = contact_id is None
        if contact_id is None:
            contact_id = conn.execute(
                insert(contact_t)
                .values(
                    email=email,
                    first_name=normalize_name(first_name, "first_name"),
                    last_name=normalize_name(last_name, "last_name"),
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
                .returning(c.id)
            ).scalar_one()
        existing = conn.execute(
            select(membership_t)
            .where(m.contact_id == contact_id, m.product_id == prod.id)
            .with_for_update()
        ).first()
        if existing is None:
            start = started_at or now
            if expires_at is not None and expires_at <= start:
                raise ValidationError("expires_at", "the expiry date must be after the start date")
            mid = conn.execute(
                insert(membership_t)
                .values(
                    contact_id=contact_id,
                    product_id=prod.id,
                    payment_type=payment.value,
                    started_at=start,
                    expires_at=expires_at,
                    cancelled_at=None,
                )
                .returning(m.id)
            ).scalar_one()
            insert_event(
                conn,
                mid,
                EventKind.GRANTED,
                start,
                grant_detail(payment.value, expires_at),
                who,
            )
            reactivated = False
        else:
            mid = existing.id
            start = started_at or existing.started_at
            if expires_at is not None and expires_at <= start:
                raise ValidationError("expires_at", "the expiry date must be after the start date")
            self._persist_expiry(conn, existing, now, expires_at)
            conn.execute(
                update(membership_t)
                .where(membership_t.c.id == mid)
                .values(
                    payment_type=payment.value,
                    expires_at=expires_at,
                    cancelled_at=None,
                    started_at=start,
                )
            )
            detail = reactivation_detail(existing, payment.value, expires_at, started_at)
            insert_event(conn, mid, EventKind.REACTIVATED, now, detail, who)
            reactivated = True
        refresh_active_until(conn, [contact_id])
        row = get_row(conn, mid, now)
        assert row is not None
        return GrantResult(membership=row, created_contact=created, reactivated=reactivated)

    def extend(
        self, membership_id: int, expires_at: datetime | None, actor: str | None = None
    ) -> MembershipRow:
        """Set a new expiry (None = never expires). Refuses cancelled memberships."""

        def change(conn: Connection, cur: Any, now: datetime, who: str) -> bool:
            if cur.cancelled_at is not None:
                raise ValidationError(
                    "membership",
                    "this membership is cancelled; add it again to reactivate it",
                )
            if expires_at is not None and expires_at <= cur.started_at:
                raise ValidationError(
                    "expires_at",
                    f"the expiry date must be after the start ({event_moment(cur.started_at)})",
                )
            if cur.expires_at == expires_at:
                raise ValidationError(
                    "expires_at",
                    "it already never expires"
                    if expires_at is None
                    else f"it already expires on {event_moment(expires_at)}",
                )
            self._persist_expiry(conn, cur, now, expires_at)
            detail = f"{event_moment(cur.expires_at)} -> {event_moment(expires_at)}"
            _write(conn, cur, EventKind.EXTENDED, now, detail, who, expires_at=expires_at)
            return True

        return self._change_one(membership_id, actor, change)

    def cancel(self, membership_id: int, actor: str | None = None) -> MembershipRow:
        def change(conn: Connection, cur: Any, now: datetime, who: str) -> bool:
            if cur.cancelled_at is not None:
                raise ValidationError(
                    "membership",
                    f"this membership was already cancelled on {event_moment(cur.cancelled_at)}",
                )
            self._persist_expiry(conn, cur, now, cur.expires_at, cancelling=True)
            _write(conn, cur, EventKind.CANCELLED, now, "", who, cancelled_at=now)
            return True

        return self._change_one(membership_id, actor, change)

    def change_payment(
        self, membership_id: int, payment_type: str | PaymentType, actor: str | None = None
    ) -> MembershipRow:
        payment = normalize_payment_type(payment_type)

        def change(conn: Connection, cur: Any, now: datetime, who: str) -> bool:
            if cur.payment_type == payment.value:
                raise ValidationError("payment_type", f"the payment type is already {payment}")
            detail = f"{cur.payment_type} -> {payment.value}"
            _write(
                conn, cur, EventKind.PAYMENT_CHANGED, now, detail, who, payment_type=payment.value
            )
            return False  # the payment type does not change how long the contact is active

        return self._change_one(membership_id, actor, change)

    def _change_one(
        self,
        membership_id: int,
        actor: str | None,
        change: Callable[[Connection, Any, datetime, str], bool],
    ) -> MembershipRow:
        """Lock the membership, run `change(conn, row, now, who)` in one transaction and
        return the membership as it is now. `change` raises ValidationError to refuse,
        and returns whether the contact's `active_until` must be recomputed."""
        who = clock_mod.actor() if actor is None else actor
        now = self.clock()

        def work(conn: Connection) -> MembershipRow:
            cur = self._lock(conn, membership_id)
            if change(conn, cur, now, who):
                refresh_active_until(conn, [cur.contact_id])
            row = get_row(conn, membership_id, now)
            assert row is not None
            return row

        return self.db.run_write(work)

    def _lock(self, conn: Connection, membership_id: int) -> Any:
        """The membership's row, locked after its contact (the lock order)."""
        m = membership_t.c
        owner = conn.execute(select(m.contact_id).where(m.id == membership_id)).scalar()
        if owner is not None:
            lock_contacts(conn, [owner])
        cur = conn.execute(
            select(membership_t).where(m.id == membership_id).with_for_update()
        ).first()
        if cur is None:
            raise ValidationError(
                "membership", "this membership no longer exists (deleted meanwhile?)"
            )
        return cur

    @staticmethod
    def _persist_expiry(
        conn: Connection,
        cur: Any,
        now: datetime,
        new_expires_at: datetime | None,
        cancelling: bool = False,
    ) -> None:
        """The derived `expired` event belongs to the CURRENT expiry only. When a change
        replaces a passed expiry (or cancels a membership that had already expired), that
        expiry becomes history: store its `expired` event before the change, once."""
        if cur.cancelled_at is not None or cur.expires_at is None or cur.expires_at > now:
            return
        if not cancelling and new_expires_at == cur.expires_at:
            return
        insert_event(conn, cur.id, EventKind.EXPIRED, cur.expires_at, "", "")


def _write(
    conn: Connection,
    cur: Any,
    kind: EventKind,
    now: datetime,
    detail: str,
    who: str,
    **values: object,
) -> None:
    """Set `values` on the membership and record the event of that change."""
    conn.execute(update(membership_t).where(membership_t.c.id == cur.id).values(**values))
    insert_event(conn, cur.id, kind, now, detail, who)
