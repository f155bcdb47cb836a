"""Bulk membership actions: what to do (BulkAction), what it will do or did to a
selection (the SelectionCounts, SelectionPlan and SelectionResult every bulk action
shares; BulkCounts, BulkPlan and BulkResult for a selection of contacts), and the
classification that plan and apply share (`classify`, `classify_changes`). The SQL is
in bulk_memberships.py; bulk_by_membership.py counts a selection of memberships."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, Generic, Self, TypeVar

from session_tui.data.bulk_common import BulkKind, MembershipSnapshot, UndoRecord
from session_tui.data.enums import PaymentType, Status
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

    def expiry_text(self) -> str:
        if self.expires_at is None:
            return "never expires"
        return f"expires {event_moment(self.expires_at)}"

    def past_expiry(self, now: datetime) -> bool:
        return self.kind.sets_expiry and self.expires_at is not None and self.expires_at <= now

    def check_dates(self, now: datetime) -> None:
        """ValidationError for a grant whose expiry is not after its start."""
        if self.kind is BulkKind.GRANT and self.expires_at is not None:
            if self.expires_at <= (self.started_at or now):
                raise ValidationError(
                    "expires_at",
                    "the expiry date must be after the start date"
                    + ("" if self.started_at else " (today: new memberships start now)"),
                )

    def check_past_confirmed(self, now: datetime) -> None:
        """ValidationError for an expiry in the past that was not confirmed once more
        (`allow_past`): it makes the memberships expired."""
        if self.past_expiry(now) and not self.allow_past:
            raise ValidationError(
                "expires_at",
                f"the expiry date {event_moment(self.expires_at)} is in the past: it makes "
                "these memberships expired; confirm once more to go ahead",
            )


# -- counts ----------------------------------------------------------------------------
def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def making_expired(count: int) -> str:
    return f"this will make {plural(count, 'membership')} expired"


@dataclass
class SelectionCounts(ABC):
    """What an action will do (plan) or did (apply) to a selection: the counts every
    bulk action has, and the sentence they make. What one kind of selection adds (its
    subject, its own counts) is its subclass's."""

    selection: ClassVar[str]  # what the ids are: "contact", "membership"
    json_extras: ClassVar[tuple[str, ...]] = ()  # properties the JSON form adds

    kind: BulkKind
    payment_type: str | None = None
    expiry: str = ""  # "never expires" / "expires 2026-12-31" when the action sets it
    selected: int = 0  # ids in the frozen list
    gone: int = 0  # deleted meanwhile: skipped
    changed: int = 0  # extend/payment/cancel: memberships changed
    already_cancelled: int = 0  # extend/payment/cancel: left alone
    unchanged: int = 0  # extend/payment: already had the new value
    conflicting: int = 0  # the new expiry is not after the membership's start: left alone
    made_expired: int = 0  # memberships the (past) expiry makes expired

    @classmethod
    def start(cls, action: BulkAction, selected: int, **own: Any) -> Self:
        """Nothing counted yet of `action` on `selected` ids; `own`: the subclass's fields."""
        return cls(
            kind=action.kind,
            payment_type=action.payment_type.value if action.payment_type else None,
            expiry=action.expiry_text() if action.kind.sets_expiry else "",
            selected=selected,
            **own,
        )

    @property
    def touched(self) -> int:
        """Memberships written (created or changed)."""
        return self.changed

    @abstractmethod
    def changes(self) -> tuple[str, str]:
        """What an extend, payment change or cancel changes, and for whom (or ""):
        ('"Course"', " for 12 contacts"), ("12 memberships", "")."""

    def headline(self) -> str:
        """The action and its subject: 'Extend "Course" (never expires) for 12 contacts',
        'Cancel 3 memberships'…"""
        what, whom = self.changes()
        if self.kind is BulkKind.EXTEND:
            return f"Extend {what} ({self.expiry}){whom}"
        if self.kind is BulkKind.PAYMENT:
            return f"Change the payment type of {what} to {self.payment_type}{whom}"
        return f"Cancel {what}{whom}"

    def opening(self) -> str:
        """What the sentence starts with: the headline."""
        return self.headline()

    @abstractmethod
    def left_alone_parts(self) -> list[str]:
        """The sentence's parts on what this kind of selection leaves alone."""

    @property
    def sentence(self) -> str:
        """The confirmation: the opening, then what is left alone or skipped, and what a
        past expiry does, joined by semicolons."""
        tails = self.left_alone_parts()
        if self.unchanged:
            what = self.expiry if self.kind is BulkKind.EXTEND else self.payment_type
            tails.append(f"{self.unchanged:,} already {what} (left alone)")
        if self.conflicting:
            tails.append(f"{self.conflicting:,} started after the new expiry (left alone)")
        if self.gone:
            exist = "no longer exists" if self.gone == 1 else "no longer exist"
            tails.append(f"{plural(self.gone, f'selected {self.selection}')} {exist}")
        if self.made_expired:
            tails.append(making_expired(self.made_expired))
        return "; ".join([self.opening(), *tails])

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["kind"] = self.kind.value
        out.update((name, getattr(self, name)) for name in self.json_extras)
        out["sentence"] = self.sentence
        return out


@dataclass(kw_only=True)
class BulkCounts(SelectionCounts):
    """The counts per selected contact, of their memberships of one product."""

    selection = "contact"
    json_extras = ("contacts", "touched")

    product: str
    new: int = 0  # grant: memberships created
    reactivated: int = 0  # grant: cancelled/expired memberships made active again
    already_active: int = 0  # grant: left alone
    no_membership: int = 0  # extend/payment/cancel: left alone

    @property
    def contacts(self) -> int:
        """Selected contacts that still exist."""
        return self.selected - self.gone

    @property
    def touched(self) -> int:
        return self.new + self.reactivated + self.changed

    @property
    def quoted_product(self) -> str:
        return f'"{strip_controls(self.product)}"'

    def changes(self) -> tuple[str, str]:
        return self.quoted_product, f" for {plural(self.changed, 'contact')}"

    def headline(self) -> str:
        """A grant's: 'Grant "Course" (comped, never expires) to 12 contacts'."""
        if self.kind is not BulkKind.GRANT:
            return super().headline()
        return (
            f"Grant {self.quoted_product} ({self.payment_type}, {self.expiry}) to "
            f"{plural(self.contacts, 'contact')}"
        )

    def opening(self) -> str:
        """The headline, and for a grant what it does: 'Grant "1:1 Coaching" (comped, never
        expires) to 1,204 contacts: 1,100 new memberships, 104 reactivated, 0 already
        active'."""
        if self.kind is not BulkKind.GRANT:
            return self.headline()
        return (
            f"{self.headline()}: {plural(self.new, 'new membership')}, "
            f"{self.reactivated:,} reactivated, {self.already_active:,} already active"
        )

    def left_alone_parts(self) -> list[str]:
        """'17 selected contacts have no such membership and are left alone', '3 already
        cancelled (left alone)'."""
        tails = []
        if self.no_membership:
            has = "has" if self.no_membership == 1 else "have"
            are = "is" if self.no_membership == 1 else "are"
            tails.append(
                f"{plural(self.no_membership, 'selected contact')} {has} no such membership "
                f"and {are} left alone"
            )
        if self.already_cancelled:
            tails.append(f"{self.already_cancelled:,} already cancelled (left alone)")
        return tails


A = TypeVar("A")
C = TypeVar("C", bound=SelectionCounts)


@dataclass(frozen=True)
class SelectionPlan(Generic[A, C]):
    """The counts of an action on a frozen selection, before anything is written."""

    action: A
    ids: tuple[int, ...]  # the frozen selection, ascending
    counts: C
    past: bool = False  # the expiry is in the past: ask once more

    @property
    def sentence(self) -> str:
        return self.counts.sentence

    @property
    def past_warning(self) -> str | None:
        """'this will make 312 memberships expired' when the expiry is in the past."""
        if not self.past:
            return None
        return making_expired(self.counts.touched)


@dataclass(frozen=True, kw_only=True)
class BulkPlan(SelectionPlan[BulkAction, BulkCounts]):
    """The plan of an action on a selection of contacts; its action's product is the
    resolved id."""

    product_id: int


@dataclass(frozen=True)
class SelectionResult(Generic[C]):
    counts: C  # what was done (may differ from the plan: changes meanwhile)
    undo: UndoRecord


class BulkResult(SelectionResult[BulkCounts]):
    """What an action did to a selection of contacts, and how to undo it."""


# -- classification (shared by plan and apply) ----------------------------------------
@dataclass
class Work:
    new_contacts: list[int] = field(default_factory=list)
    changed: list[MembershipSnapshot] = field(default_factory=list)
    expire_first: list[int] = field(default_factory=list)  # store their `expired` event

    def change(
        self, action: BulkAction, r: MembershipSnapshot, now: datetime, counts: SelectionCounts
    ) -> None:
        """`r` is to be changed (reactivated, extended, …)."""
        counts.made_expired += action.past_expiry(now)
        self.changed.append(r)
        # MembershipsRepository._persist_expiry: a passed expiry that the change
        # replaces (or a cancel of an expired membership) becomes a stored event.
        passed = r.cancelled_at is None and r.expires_at is not None and r.expires_at <= now
        if passed and (
            action.kind is BulkKind.CANCEL
            or (action.kind.sets_expiry and action.expires_at != r.expires_at)
        ):
            self.expire_first.append(r.id)


def classify(
    action: BulkAction,
    found: Sequence[int],
    rows: Sequence[MembershipSnapshot],
    now: datetime,
    counts: BulkCounts,
) -> Work:
    """Count what `action` does to each contact of `found` (`rows`: their memberships of
    the product) and list what to write, in contact order."""
    by_contact = {r.contact_id: r for r in rows}
    if action.kind is not BulkKind.GRANT:
        held = [by_contact[cid] for cid in found if cid in by_contact]
        counts.no_membership += len(found) - len(held)
        return classify_changes(action, held, now, counts)
    work = Work()
    exp = action.expires_at
    for cid in found:
        r = by_contact.get(cid)
        if r is None:
            work.new_contacts.append(cid)
            counts.new += 1
            counts.made_expired += action.past_expiry(now)
        elif membership_status(r.expires_at, r.cancelled_at, now) is Status.ACTIVE:
            counts.already_active += 1
        elif exp is not None and exp <= (action.started_at or r.started_at):
            counts.conflicting += 1
        else:
            counts.reactivated += 1
            work.change(action, r, now, counts)
    return work


def classify_changes(
    action: BulkAction, rows: Sequence[MembershipSnapshot], now: datetime, counts: SelectionCounts
) -> Work:
    """Count what an extend, a payment change or a cancel does to each membership of
    `rows` and list what to write, in the order of `rows`."""
    work = Work()
    exp = action.expires_at
    for r in rows:
        if r.cancelled_at is not None:
            counts.already_cancelled += 1
        elif action.kind is BulkKind.EXTEND and r.expires_at == exp:
            counts.unchanged += 1
        elif action.kind is BulkKind.EXTEND and exp is not None and exp <= r.started_at:
            counts.conflicting += 1
        elif action.kind is BulkKind.PAYMENT and r.payment_type == action.payment_type:
            counts.unchanged += 1
        else:
            counts.changed += 1
            work.change(action, r, now, counts)
    return work
