"""Snapshot tests of the delete confirmation and the edit-contact modal.

Each modal runs on a small host app (a blank screen under it), so these snapshots
change only when the modals do -- not when another screen's footer gains a key.
Fixed data, including names that look like markup (shown literally). Update with
`pytest tests/ui/test_snapshots_safety.py --snapshot-update` after checking the report.
"""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from session_tui.data.db import Database
from session_tui.data.deletion import PreviewRow
from session_tui.data.editing import update_contact
from session_tui.data.repositories.contacts import ContactsRepository
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.edit_contact import EditContactModal
from session_tui.ui.screens.contact_actions import confirm_body
from tests.ui.contacts_helpers import Person, seed, wait_until

SIZE = (120, 40)


class ModalHost(App[None]):
    """A blank screen with the modal on top."""

    def __init__(self, modal: Screen[Any]) -> None:
        super().__init__()
        self.modal = modal

    def compose(self) -> ComposeResult:
        yield Static("(the Contacts screen)")
        yield Footer()

    def on_mount(self) -> None:
        self.push_screen(self.modal)


def test_delete_confirmation(snap_compare: Any) -> None:
    rows = [
        PreviewRow(1, "Ann", "O'Brien", "ann.obrien@example.org"),
        PreviewRow(2, "[bold red]Mallory", "[@click=app.quit]", "mallory@example.org"),
        PreviewRow(3, "Chloé", "García", "chloe.garcia@example.org"),
        PreviewRow(4, "", "", "no.name@example.org"),
        PreviewRow(5, "李", "王芳", "wangfang@example.org"),
    ]
    ids = frozenset(range(1, 1_235))
    modal = ConfirmModal(
        "Delete 1,234 contacts?",
        confirm_body(ids, rows),
        yes="Delete 1,234 contacts",
        no="Cancel",
        danger=True,
        hint="A backup is written to /home/you/.local/share/session-tui/backups first.",
    )
    assert snap_compare(ModalHost(modal), terminal_size=SIZE)


def _editor(db: Database) -> tuple[EditContactModal, int]:
    (cid,) = seed(db, [Person("chloe.garcia@example.org", "Chloé", "García")])
    row = ContactsRepository(db).get(cid)
    assert row is not None
    return EditContactModal(db, row), cid


def test_edit_modal_with_errors(snap_compare: Any, sqlite_db: Database) -> None:
    modal, _cid = _editor(sqlite_db)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: pilot.app.screen is modal)
        await pilot.pause()
        modal.query_one("#edit-last_name", Input).value = "x" * 201
        modal.query_one("#edit-email", Input).value = "chloe@@example"
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(ModalHost(modal), terminal_size=SIZE, run_before=run_before)


def test_edit_modal_conflict(snap_compare: Any, sqlite_db: Database) -> None:
    modal, cid = _editor(sqlite_db)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_until(pilot, lambda: pilot.app.screen is modal)
        await pilot.pause()
        update_contact(sqlite_db, cid, 1, "Chloe", "Garcia-Lopez", "chloe@example.org")
        modal.query_one("#edit-first_name", Input).value = "Chloë"
        await pilot.press("enter")
        conflict = modal.query_one("#conflict")
        await wait_until(pilot, lambda: bool(conflict.display) and not modal._busy)
        await pilot.pause()

    assert snap_compare(ModalHost(modal), terminal_size=SIZE, run_before=run_before)
