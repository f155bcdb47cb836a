"""The membership actions every screen offers the same way: add, extend, cancel,
change payment type, open the contact. Screens call these with a row and a
callback that reloads what they show.

- `add_membership(screen, email, on_done)` -- the add modal, prefilled.
- `extend_membership(screen, row, on_done)`, `cancel_membership(...)`,
  `change_payment(...)` -- the modal for the change; the write runs in the modal's
  worker through the repository (history event + active_until included).
- `open_contact(screen, contact_id, on_done)` -- push the Contact detail screen;
  `on_done(changed)` afterwards.
`on_done` is called with True when something was written; the flows then also
refresh the Contacts screen when it is not the one on display
(`refresh_contacts_screen`), so statuses are current when you go back to it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from textual.screen import Screen

from session_tui.data.models import PaymentType
from session_tui.data.repositories.memberships import (
    GrantResult,
    MembershipRow,
    MembershipsRepository,
)
from session_tui.ui.modals.add_membership import AddMembershipModal
from session_tui.ui.modals.membership_actions import (
    CancelMembershipModal,
    ExpiryModal,
    PaymentModal,
)
from session_tui.ui.moments import clock_of, day
from session_tui.ui.user_text import escape_markup

Done = Callable[[bool], None]


def refresh_contacts_screen(screen: Screen[Any]) -> None:
    """Re-read the Contacts table (statuses, products) unless `screen` is on it."""
    try:
        stack = screen.app.get_screen_stack("contacts")
    except KeyError:
        return
    for other in stack:
        refresh = getattr(other, "refresh_contacts", None)
        if other is not screen and callable(refresh) and other.is_mounted:
            refresh()


def _notify_done(screen: Screen[Any], on_done: Done, changed: bool) -> None:
    if changed:
        refresh_contacts_screen(screen)
    on_done(changed)


def _repo(screen: Screen[Any]) -> MembershipsRepository:
    return MembershipsRepository(screen.app.db, clock_of(screen.app))  # type: ignore[attr-defined]


def add_membership(screen: Screen[Any], email: str, on_done: Done) -> None:
    app = screen.app

    def done(result: GrantResult | None) -> None:
        if result is None:
            on_done(False)
            return
        m = result.membership
        verb = "Reactivated" if result.reactivated else "Added"
        extra = " (new contact)" if result.created_contact else ""
        app.notify(
            f"{verb} “{escape_markup(m.product)}” for {escape_markup(m.email)}{extra}.",
            title="Membership",
        )
        _notify_done(screen, on_done, True)

    app.push_screen(
        AddMembershipModal(app.db, email=email, clock=clock_of(app)),  # type: ignore[attr-defined]
        callback=done,
    )


def _after(screen: Screen[Any], message: str, on_done: Done) -> Callable[[Any], None]:
    def done(result: MembershipRow | None) -> None:
        if result is None:
            on_done(False)
            return
        screen.app.notify(message.format(
            product=escape_markup(result.product), email=escape_markup(result.email),
            payment=escape_markup(result.payment_type),
            expires=escape_markup(day(result.expires_at, never="never")),
        ), title="Membership")
        _notify_done(screen, on_done, True)

    return done


def extend_membership(screen: Screen[Any], row: MembershipRow, on_done: Done) -> None:
    repo = _repo(screen)

    def apply(expires_at: datetime | None) -> MembershipRow:
        return repo.extend(row.id, expires_at)

    screen.app.push_screen(
        ExpiryModal(row, apply, repo.clock),
        callback=_after(screen, "“{product}” of {email} now expires: {expires}.", on_done),
    )


def cancel_membership(screen: Screen[Any], row: MembershipRow, on_done: Done) -> None:
    repo = _repo(screen)
    if row.cancelled:
        screen.app.notify("This membership is already cancelled; press a to reactivate it.",
                          severity="warning")
        return

    def apply() -> MembershipRow:
        return repo.cancel(row.id)

    screen.app.push_screen(
        CancelMembershipModal(row, apply, repo.clock),
        callback=_after(screen, "Cancelled “{product}” of {email}.", on_done),
    )


def change_payment(screen: Screen[Any], row: MembershipRow, on_done: Done) -> None:
    repo = _repo(screen)

    def apply(payment: PaymentType) -> MembershipRow:
        return repo.change_payment(row.id, payment)

    screen.app.push_screen(
        PaymentModal(row, apply, repo.clock),
        callback=_after(screen, "“{product}” of {email} is now {payment}.", on_done),
    )


def open_contact(screen: Screen[Any], contact_id: int, on_done: Done) -> None:
    from session_tui.ui.screens.contact_detail import ContactDetailScreen

    def done(changed: bool | None) -> None:
        on_done(bool(changed))

    screen.app.push_screen(ContactDetailScreen(contact_id), callback=done)
