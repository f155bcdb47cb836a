"""Bulk membership actions: what to do (BulkAction), what it will do or did to a
selection (BulkCounts, BulkPlan, BulkResult), and the per-contact classification
that plan and apply share (`classify`). The SQL is in bulk_memberships.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from session_tui.data.bulk_common import BulkKind, MembershipSnapshot, UndoRecord
from session_tui.data.models import PaymentType, Status
from session_tui.data.repositories.memberships import (
    event_moment,
    membership_status,
    normalize_payment_type,
)
from session_tui.data.repositories.products import ProductRef
from session_tui.data.validation import ValidationError, strip_controls


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
        return f"expires {event_moment(self.expires_at)}"

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
class Tally:
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
class Work:
    new_contacts: list[int] = field(default_factory=list)
    changed: list[MembershipSnapshot] = field(default_factory=list)
    expire_first: list[int] = field(default_factory=list)  # store their `expired` event


def classify(
    action: BulkAction,
    found: Sequence[int],
    rows: Sequence[MembershipSnapshot],
    now: datetime,
    tally: Tally,
) -> Work:
    by_contact = {r.contact_id: r for r in rows}
    work = Work()
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
