"""Snapshot tests of the delete confirmation and the edit-contact modal.

Fixed data (including names that look like markup, shown literally), TZ pinned by
conftest, the database path in the title and the backups directory replaced by
fixed texts. Update with `pytest tests/ui/test_snapshots_safety.py --snapshot-update`
after checking the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from session_tui import locations
from session_tui.data.db import Database
from session_tui.data.editing import update_contact
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.edit_contact import EditContactModal
from tests.ui.contacts_helpers import (
    Person,
    contacts_screen,
    make_test_app,
    seed,
    settle,
    wait_until,
)

SIZE = (120, 40)


def people() -> list[Person]:
    return [
        Person("ann.obrien@example.org", "Ann", "O'Brien", products={"1:1 Coaching": True}),
        Person("mallory@example.org", "[bold red]Mallory", "[@click=app.quit]"),
        Person("chloe.garcia@example.org", "Chloé", "García", products={"Course": False}),
        Person("dmitri@example.org", "Dmitri", "Patel"),
        Person("emma.silva@example.org", "Emma", "Silva", products={"Course": True}),
        Person("fatima@example.org", "Fatima", "Okafor"),
        Person("giulia@example.org", "Giulia", "Rossi"),
        Person("hiroshi@example.org", "Hiroshi", "Tanaka"),
    ]


@pytest.fixture(autouse=True)
def _fixed_backups_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        locations, "backups_dir", lambda: Path("/home/you/.local/share/session-tui/backups")
    )


def test_delete_confirmation(snap_compare: Any, sqlite_db: Database) -> None:
    seed(sqlite_db, people())
    app = make_test_app(sqlite_db)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.sub_title = "sqlite:///contacts.db"
        table = contacts_screen(app).table
        await settle(pilot, table)
        await pilot.press("ctrl+a")  # all 8: five names shown, "… and 3 more"
        await settle(pilot, table)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_edit_modal_with_errors(snap_compare: Any, sqlite_db: Database) -> None:
    seed(sqlite_db, people())
    app = make_test_app(sqlite_db)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.sub_title = "sqlite:///contacts.db"
        table = contacts_screen(app).table
        await settle(pilot, table)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditContactModal))
        modal = app.screen
        assert isinstance(modal, EditContactModal)
        await pilot.pause()
        modal.query_one("#edit-last_name", Input).value = "x" * 201
        modal.query_one("#edit-email", Input).value = "ann.obrien@@example"
        await pilot.press("ctrl+s")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_edit_modal_conflict(snap_compare: Any, sqlite_db: Database) -> None:
    seed(sqlite_db, people())
    app = make_test_app(sqlite_db)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.sub_title = "sqlite:///contacts.db"
        table = contacts_screen(app).table
        await settle(pilot, table)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditContactModal))
        modal = app.screen
        assert isinstance(modal, EditContactModal)
        await pilot.pause()
        assert modal.row.email == "chloe.garcia@example.org"  # first by name
        update_contact(sqlite_db, modal.row.id, 1, "Chloe", "Garcia-Lopez", "chloe@example.org")
        modal.query_one("#edit-first_name", Input).value = "Chloë"
        await pilot.press("enter")
        conflict = modal.query_one("#conflict")
        await wait_until(pilot, lambda: bool(conflict.display) and not modal._busy)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
