"""The membership changes every screen offers the same way: add, new expiry date,
cancel, payment type.

Each is a coroutine that reads top to bottom: open the dialog, await its answer
(the dialog writes through the repository in a thread: history event and
`active_until` included), say what changed, and return whether anything was
written. A write also refreshes the Contacts screen when it is not the one on
display (`refresh_contacts_screen`), so statuses are current when you go back.

`MembershipChanges` is the base of the screens that start them (Contact detail,
Memberships): `self.add_membership(email)`, `self.extend_membership(row)`,
`self.cancel_membership(row)`, `self.change_payment(row)` run the flow as a worker
of the screen, then call `self.after_membership_change(changed)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual import work
from textual.screen import Screen

from session_tui.data.repositories.memberships import MembershipRow, MembershipsRepository
from session_tui.ui.context import session
from session_tui.ui.modals.add_membership import AddMembershipModal
from session_tui.ui.modals.base import Dialog
from session_tui.ui.modals.membership_actions import (
    CancelMembershipModal,
    ExpiryModal,
    PaymentModal,
)
from session_tui.ui.moments import day
from session_tui.ui.user_text import escape_markup

ResultT = TypeVar("ResultT")


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


def _repository(screen: Screen[Any]) -> MembershipsRepository:
    app = session(screen)
    return MembershipsRepository(app.db, app.clock)


async def _ask(
    screen: Screen[Any],
    dialog: Callable[[MembershipsRepository], Dialog[MembershipRow]],
    message: str,
) -> bool:
    """Show the dialog of one change (it writes through the repository it is given);
    when it wrote, say what changed (`message` names {product}, {email}, {payment},
    {expires}) and return True."""
    row = await screen.app.push_screen_wait(dialog(_repository(screen)))
    if row is None:
        return False
    screen.app.notify(
        message.format(
            product=escape_markup(row.product),
            email=escape_markup(row.email),
            payment=escape_markup(row.payment_type),
            expires=escape_markup(day(row.expires_at, never="never")),
        ),
        title="Membership",
    )
    refresh_contacts_screen(screen)
    return True


async def ask_add_membership(screen: Screen[Any], email: str) -> bool:
    """The add dialog, prefilled with `email`; True when a membership was written."""
    app = session(screen)
    result = await screen.app.push_screen_wait(
        AddMembershipModal(app.db, email=email, clock=app.clock)
    )
    if result is None:
        return False
    m = result.membership
    verb = "Reactivated" if result.reactivated else "Added"
    extra = " (new contact)" if result.created_contact else ""
    screen.app.notify(
        f"{verb} “{escape_markup(m.product)}” for {escape_markup(m.email)}{extra}.",
        title="Membership",
    )
    refresh_contacts_screen(screen)
    return True


async def ask_new_expiry(screen: Screen[Any], row: MembershipRow) -> bool:
    return await _ask(
        screen,
        lambda repo: ExpiryModal(row, lambda at: repo.extend(row.id, at), repo.clock),
        "“{product}” of {email} now expires: {expires}.",
    )


async def ask_cancel(screen: Screen[Any], row: MembershipRow) -> bool:
    return await _ask(
        screen,
        lambda repo: CancelMembershipModal(row, lambda: repo.cancel(row.id), repo.clock),
        "Cancelled “{product}” of {email}.",
    )


async def ask_payment(screen: Screen[Any], row: MembershipRow) -> bool:
    return await _ask(
        screen,
        lambda repo: PaymentModal(row, lambda pay: repo.change_payment(row.id, pay), repo.clock),
        "“{product}” of {email} is now {payment}.",
    )


class MembershipChanges(Screen[ResultT]):
    """A screen that changes memberships; each change is a worker of the screen."""

    def after_membership_change(self, changed: bool) -> None:
        """When a flow ends: `changed` is True when something was written."""

    @work(group="membership-change")
    async def add_membership(self, email: str) -> None:
        self.after_membership_change(await ask_add_membership(self, email))

    @work(group="membership-change")
    async def extend_membership(self, row: MembershipRow) -> None:
        self.after_membership_change(await ask_new_expiry(self, row))

    @work(group="membership-change")
    async def cancel_membership(self, row: MembershipRow) -> None:
        if row.cancelled:
            self.notify(
                "This membership is already cancelled; press a to reactivate it.",
                severity="warning",
            )
            return
        self.after_membership_change(await ask_cancel(self, row))

    @work(group="membership-change")
    async def change_payment(self, row: MembershipRow) -> None:
        self.after_membership_change(await ask_payment(self, row))
