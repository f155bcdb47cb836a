"""Helpers for the actions-menu tests (test_actions_menu*.py): the seed's people and
products, reading the database, opening the menu and its dialogs, waiting for toasts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from textual.widgets import Input, RadioButton, Select, Static

from session_tui.data.db import Database
from session_tui.data.repositories.memberships import MembershipRow, MembershipsRepository
from session_tui.data.repositories.products import ProductsRepository
from session_tui.data.tables import contact_t, event_t, membership_t
from session_tui.ui.app import SessionApp
from session_tui.ui.modals.actions_menu import ActionsMenu
from session_tui.ui.modals.bulk_dialogs import BulkActionDialog
from session_tui.ui.modals.confirm import ConfirmModal
from tests.ui.contacts_helpers import contacts_screen, settle, wait_until
from tests.ui.memberships_helpers import FrozenClock

SIZE = (120, 40)
ANN, BEN, CHLOE, DMITRI, MALLORY = (
    "ann.smith@example.org",
    "ben.okafor@example.org",
    "chloe@example.org",
    "dmitri@example.org",
    "mallory@example.org",
)
COACHING, COURSE, RETREAT = "1:1 Coaching", "Course: Mindset Reset", "Retreat 2024"


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]
            for t in (contact_t, membership_t, event_t)
        }


def contact_ids(db: Database, *emails: str) -> list[int]:
    with db.engine.connect() as conn:
        found = dict(conn.execute(select(contact_t.c.email, contact_t.c.id)).all())
    return [int(found[e]) for e in emails]


def membership(db: Database, email: str, product: str) -> MembershipRow | None:
    return MembershipsRepository(db, FrozenClock()).find(email, product)


def new_events(db: Database, before: dict[str, list[tuple[Any, ...]]]) -> list[Any]:
    known = {row[0] for row in before[event_t.name]}
    with db.engine.connect() as conn:
        rows = conn.execute(select(event_t).order_by(event_t.c.id)).all()
    return [r for r in rows if r.id not in known]


def messages(app: SessionApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def said(pilot: Any, app: SessionApp, text: str) -> None:
    """Wait for a toast containing `text` (a notification is a message: it arrives a
    moment after the flow that sent it ends)."""
    await wait_until(pilot, lambda: any(text in m for m in messages(app)))


def idle(app: SessionApp) -> bool:
    return not app.undo.busy and not isinstance(app.screen, ConfirmModal | BulkActionDialog)


async def start(pilot: Any, app: SessionApp, *emails: str) -> None:
    """The Contacts screen with these contacts selected (none: nothing selected)."""
    table = contacts_screen(app).table
    await settle(pilot, table)
    if emails:
        table.select_ids(contact_ids(app.db, *emails))
        await settle(pilot, table)


async def to_row(pilot: Any, app: SessionApp, email: str) -> None:
    table = contacts_screen(app).table
    index = next(
        i
        for i in range(table.count or 0)
        if (r := table.row_at(i)) is not None and r.email == email
    )
    table.move_cursor(index)
    await settle(pilot, table)


async def open_menu(pilot: Any, app: SessionApp) -> ActionsMenu:
    await pilot.press("A")
    await wait_until(pilot, lambda: isinstance(app.screen, ActionsMenu))
    await pilot.pause()
    assert isinstance(app.screen, ActionsMenu)
    return app.screen


def title_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def open_dialog(pilot: Any, app: SessionApp, key: str) -> BulkActionDialog:
    await open_menu(pilot, app)
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(app.screen, BulkActionDialog))
    dialog = app.screen
    assert isinstance(dialog, BulkActionDialog)
    select_box = dialog.query_one("#product", Select)
    await wait_until(pilot, lambda: select_box.prompt == "Choose a product")
    return dialog


async def fill(
    pilot: Any,
    dialog: BulkActionDialog,
    product: str,
    *,
    payment: str | None = None,
    expires: str | None = None,
) -> None:
    pid = ProductsRepository(dialog.db).require(product).id
    dialog.query_one("#product", Select).value = pid
    if payment is not None:
        dialog.query_one(f"#payment-{payment}", RadioButton).value = True
    if expires is not None:
        dialog.query_one("#expires", Input).value = expires
    await pilot.pause()


async def submit(pilot: Any, app: SessionApp) -> ConfirmModal:
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
    await pilot.pause()
    assert isinstance(app.screen, ConfirmModal)
    return app.screen


def confirm_text(modal: ConfirmModal) -> str:
    return str(modal.query_one("#confirm-line-0", Static).render())


async def undo(pilot: Any, app: SessionApp) -> None:
    entries = len(app.undo)
    await pilot.press("u")
    await wait_until(pilot, lambda: len(app.undo) == entries - 1 and not app.undo.busy)
    await pilot.pause()
