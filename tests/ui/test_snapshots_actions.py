"""The actions menu (`A`) and a bulk confirmation at 80x24, the smallest terminal the
app supports: every action, its letter and the confirmation's buttons are on screen.

Fixed data (memberships_helpers' seed, frozen clock, TZ pinned to UTC by conftest)
and a fixed database name in the title. Update with
`pytest tests/ui/test_snapshots_actions.py --snapshot-update` after looking at the
report.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import RadioButton, Select

from session_tui.data.db import Database
from session_tui.data.repositories.products import ProductsRepository
from session_tui.ui.app import SessionApp
from session_tui.ui.modals.actions_menu import ActionsMenu
from session_tui.ui.modals.bulk_dialogs import BulkActionDialog
from session_tui.ui.modals.confirm import ConfirmModal
from tests.ui.contacts_helpers import contacts_screen, settle, wait_until
from tests.ui.memberships_helpers import make_frozen_app, seed_memberships, wait_for_screen

SIZE = (80, 24)
Steps = Callable[[Pilot[Any], SessionApp], Awaitable[None]]


def build(db: Database, steps: Steps) -> tuple[SessionApp, Callable[[Pilot[Any]], Any]]:
    seed_memberships(db)
    app = make_frozen_app(db)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.sub_title = "sqlite:///community.db"
        table = contacts_screen(app).table
        await settle(pilot, table)
        await pilot.press("space", "space", "space")  # Ann, Ben, Chloé
        await settle(pilot, table)
        await steps(pilot, app)
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    return app, run_before


async def menu(pilot: Pilot[Any], app: SessionApp) -> None:
    await pilot.press("A")
    await wait_for_screen(pilot, ActionsMenu)


async def grant_confirmation(pilot: Pilot[Any], app: SessionApp) -> None:
    await menu(pilot, app)
    await pilot.press("g")
    dialog = await wait_for_screen(pilot, BulkActionDialog)
    select = dialog.query_one("#product", Select)
    await wait_until(pilot, lambda: select.prompt == "Choose a product")
    select.value = ProductsRepository(app.db).require("Course: Mindset Reset").id
    dialog.query_one("#payment-comped", RadioButton).value = True
    await pilot.press("ctrl+s")
    await wait_for_screen(pilot, ConfirmModal)


def test_actions_menu_at_80x24(snap_compare: Any, sqlite_db: Database) -> None:
    app, run_before = build(sqlite_db, menu)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_bulk_confirmation_at_80x24(snap_compare: Any, sqlite_db: Database) -> None:
    app, run_before = build(sqlite_db, grant_confirmation)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
