"""Membership flows for a screen that is not a `MembershipChanges` (the Contacts screen).

- `add_membership(screen, email, on_done)` -- the add dialog, prefilled.
- `open_contact(screen, contact_id, on_done)` -- the Contact detail screen.

Each runs as a worker of `screen` and ends with `on_done(changed)`: True when
something was written. Screens that derive from `MembershipChanges`
(membership_changes.py) start the same flows as their own workers instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.screen import Screen

from session_tui.ui.screens.contact_detail import ContactDetailScreen
from session_tui.ui.screens.membership_changes import ask_add_membership, refresh_contacts_screen

Done = Callable[[bool], None]

__all__ = ["Done", "add_membership", "open_contact", "refresh_contacts_screen"]


def add_membership(screen: Screen[Any], email: str, on_done: Done) -> None:
    async def flow() -> None:
        on_done(await ask_add_membership(screen, email))

    screen.run_worker(flow(), group="membership-change")


def open_contact(screen: Screen[Any], contact_id: int, on_done: Done) -> None:
    async def flow() -> None:
        changed = await screen.app.push_screen_wait(ContactDetailScreen(contact_id))
        on_done(bool(changed))

    screen.run_worker(flow(), group="open-contact")
