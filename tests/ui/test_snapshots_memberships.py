"""Snapshots of the Memberships, Products and Contact detail screens and the
add-membership modal, with deterministic data: seeded through the repositories
with a frozen clock (relative dates such as "in 5 days" depend on it), TZ pinned
to UTC by conftest, the database path in the title replaced by a fixed text.
Update with `pytest tests/ui/test_snapshots_memberships.py --snapshot-update`
after checking the report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Select

from session_tui.data.db import Database
from session_tui.ui.app import SessionApp
from session_tui.ui.modals.add_membership import AddMembershipModal
from session_tui.ui.screens.contact_detail import ContactDetailScreen
from session_tui.ui.screens.memberships import MembershipsScreen
from session_tui.ui.screens.products import ProductsScreen
from tests.ui.contacts_helpers import contacts_screen, settle, wait_until
from tests.ui.memberships_helpers import (
    data_tables_settled,
    make_frozen_app,
    seed_memberships,
    wait_for_screen,
)

SIZE = (120, 40)


def prepare(
    db: Database, steps: Callable[[Pilot[Any], SessionApp], Any]
) -> tuple[SessionApp, Callable[[Pilot[Any]], Any]]:
    app = make_frozen_app(db)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.sub_title = "sqlite:///community.db"
        await settle(pilot, contacts_screen(app).table)
        await steps(pilot, app)
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()

    return app, run_before


def test_memberships_screen(snap_compare: Any, sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)

    async def steps(pilot: Pilot[Any], app: SessionApp) -> None:
        await pilot.press("m")
        screen = await wait_for_screen(pilot, MembershipsScreen)
        await settle(pilot, screen.table)
        await wait_until(pilot, lambda: screen._products_loaded)
        await pilot.press("j")
        await settle(pilot, screen.table)

    app, run_before = prepare(sqlite_db, steps)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_products_screen(snap_compare: Any, sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)

    async def steps(pilot: Pilot[Any], app: SessionApp) -> None:
        await pilot.press("p")
        screen = await wait_for_screen(pilot, ProductsScreen)
        await wait_until(pilot, lambda: len(screen.products) == 3)
        await wait_until(pilot, lambda: data_tables_settled(screen))

    app, run_before = prepare(sqlite_db, steps)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_contact_detail(snap_compare: Any, sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)

    async def steps(pilot: Pilot[Any], app: SessionApp) -> None:
        table = contacts_screen(app).table
        index = next(
            i
            for i in range(table.count or 0)
            if (r := table.row_at(i)) is not None and r.email == "ann.smith@example.org"
        )
        table.move_cursor(index)
        await settle(pilot, table)
        await pilot.press("enter")
        detail = await wait_for_screen(pilot, ContactDetailScreen)
        await wait_until(pilot, lambda: detail.data is not None)
        await pilot.pause()
        await wait_until(pilot, lambda: data_tables_settled(detail))

    app, run_before = prepare(sqlite_db, steps)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_add_membership_modal(snap_compare: Any, sqlite_db: Database) -> None:
    seeded = seed_memberships(sqlite_db)

    async def steps(pilot: Pilot[Any], app: SessionApp) -> None:
        await pilot.press("m")
        screen = await wait_for_screen(pilot, MembershipsScreen)
        await settle(pilot, screen.table)
        await pilot.press("j", "j")  # dmitri: cancelled Course membership
        await settle(pilot, screen.table)
        await pilot.press("a")
        modal = await wait_for_screen(pilot, AddMembershipModal)
        product = modal.query_one("#product", Select)
        await wait_until(pilot, lambda: len(product._options) > 1)
        product.value = seeded.products["Course: Mindset Reset"]
        expires = modal.query_one("#expires", Input)
        modal.set_focus(expires)
        await pilot.press(*"2026-13-01")
        await wait_until(pilot, lambda: expires.value == "2026-13-01")
        await pilot.press("ctrl+s")
        await wait_until(
            pilot, lambda: "reactivates" in str(modal.query_one("#product-hint").render())
        )
        await wait_until(pilot, lambda: modal.query_one("#expires_at-error").display)
        await pilot.pause()  # the box's last repaint (cursor and scroll) before the picture

    app, run_before = prepare(sqlite_db, steps)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
