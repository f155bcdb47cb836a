"""Pilot tests of selection, sorting and the changes to selected memberships on the
Memberships screen: space / shift+down / ctrl+a / * / escape, o / O / header clicks,
A (menu), x / t / d on a selection with counts first, and u (undo). On the database,
with a frozen clock; one flow also on PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from textual.widgets import Input, Static

from session_tui.data.db import Database
from session_tui.data.repositories.memberships import MembershipsRepository
from session_tui.data.repositories.memberships.rows import MembershipSort
from session_tui.data.tables import event_t
from session_tui.ui.modals.confirm import ConfirmModal
from session_tui.ui.modals.membership_actions import ExpiryModal
from session_tui.ui.modals.membership_bulk import (
    BulkExpiryModal,
    BulkPaymentModal,
    MembershipActionsMenu,
)
from session_tui.ui.screens.membership_bulk import MembershipBulkChange
from tests.ui.contacts_helpers import settle, wait_until
from tests.ui.memberships_helpers import (
    NOW,
    FrozenClock,
    make_frozen_app,
    open_memberships,
    seed_memberships,
    wait_for_screen,
)

SIZE = (120, 40)


def line(screen: Any) -> str:
    return str(screen.query_one("#memberships-count-line", Static).render())


def rows(db: Database) -> dict[int, Any]:
    return {r.id: r for r in MembershipsRepository(db, FrozenClock()).all()}


def emails(table: Any) -> list[str]:
    return [table.row_at(i).email for i in range(table.count or 0)]


async def test_select_toggle_extend_all_invert_clear(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_memberships(pilot)
        table = screen.table
        first, second = table.row_at(0), table.row_at(1)
        await pilot.press("space")
        assert table.selection == {first.id} and table.cursor_index == 1
        await wait_until(pilot, lambda: line(screen) == "6 memberships · 1 selected")
        assert table.render_line(1).text.startswith("● ")
        await pilot.press("shift+down")
        assert len(table.selection) == 3 and second.id in table.selection
        await pilot.press("asterisk")  # invert within every match
        await settle(pilot, table)
        assert len(table.selection) == 3 and first.id not in table.selection
        await pilot.press("escape")
        assert not table.selection and line(screen) == "6 memberships"
        # ctrl+a selects every match of the search and filters, read in one query
        await pilot.press("slash", *"ann", "enter")
        await settle(pilot, table)
        assert table.count == 2
        await pilot.press("ctrl+a")
        await settle(pilot, table)
        assert len(table.selection) == 2
        await wait_until(pilot, lambda: line(screen) == "2 of 6 memberships · 2 selected")
        await pilot.press("slash", "ctrl+u", "enter")  # clear the search: none hidden
        await settle(pilot, table)
        assert table.count == 6 and len(table.selection) == 2
        await pilot.press("slash", *"ben", "enter")
        await settle(pilot, table)
        await wait_until(
            pilot, lambda: line(screen).endswith("2 selected (2 hidden by the search/filters)")
        )


async def test_sort_cycle_reverse_and_header_click(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_memberships(pilot)
        table = screen.table
        assert table.table_query.sort is MembershipSort.STARTED and table.table_query.descending
        assert "Started ▼" in table.render_line(0).text
        await pilot.press("o")  # started -> expires, soonest first, "never" last
        await settle(pilot, table)
        assert table.table_query.sort is MembershipSort.EXPIRES
        expires = [table.row_at(i).expires_at for i in range(6)]
        dated = [e for e in expires if e is not None]
        assert dated == sorted(dated) and expires[-1] is None
        await pilot.press("o")  # expires -> email
        await settle(pilot, table)
        assert emails(table) == sorted(emails(table))
        await pilot.press("O")
        await settle(pilot, table)
        assert emails(table) == sorted(emails(table), reverse=True)
        # a click on the Product header sorts by product, a second click reverses
        x = table.render_line(0).text.index("Product")
        await pilot.click(table, offset=(x, 0))
        await settle(pilot, table)
        products = [table.row_at(i).product.casefold() for i in range(6)]
        assert table.table_query.sort is MembershipSort.PRODUCT and products == sorted(products)
        await pilot.click(table, offset=(x, 0))
        await settle(pilot, table)
        assert table.table_query.descending
        # a selection survives sorting
        await pilot.press("space")
        chosen = set(table.selection)
        await pilot.press("o")
        await settle(pilot, table)
        assert set(table.selection) == chosen


async def _select_rows(pilot: Any, table: Any, emails_wanted: set[str]) -> set[int]:
    for i in range(table.count):
        row = table.row_at(i)
        if row.email in emails_wanted:
            table.move_cursor(i)
            await pilot.press("space")
    await settle(pilot, table)
    return set(table.selection)


async def test_extend_selected_through_the_menu_then_undo(db: Database) -> None:
    seed_memberships(db)
    app = make_frozen_app(db)
    before = rows(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_memberships(pilot)
        table = screen.table
        # ann has two memberships, dmitri's is cancelled: 3 selected, 1 left alone
        chosen = await _select_rows(pilot, table, {"ann.smith@example.org", "dmitri@example.org"})
        assert len(chosen) == 3
        await pilot.press("A")
        await wait_for_screen(pilot, MembershipActionsMenu)
        await pilot.press("enter")  # the first action: extend
        modal = await wait_for_screen(pilot, BulkExpiryModal)
        assert "the 3 selected memberships" in str(modal.query_one("#summary").render())
        await pilot.press(*"2027-01-31", "enter")
        confirm = await wait_for_screen(pilot, ConfirmModal)
        text = " ".join(str(s.render()) for s in confirm.query(Static))
        assert "Extend 2 memberships (expires 2027-01-31); 1 is cancelled and is left alone" in text
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is screen)
        await settle(pilot, table)
        after = rows(db)
        changed = {i for i in chosen if after[i].expires_at != before[i].expires_at}
        assert len(changed) == 2 and {after[i].email for i in changed} == {"ann.smith@example.org"}
        with db.engine.connect() as conn:
            actors = (
                conn.execute(select(event_t.c.actor).where(event_t.c.kind == "extended"))
                .scalars()
                .all()
            )
        assert len(actors) == 2 and all(actors)
        entry = app.undo.peek()  # type: ignore[attr-defined]
        assert isinstance(entry, MembershipBulkChange)
        assert entry.describe() == "undoes “Extend 2 memberships (expires 2027-01-31)”"
        await pilot.press("escape")  # clear the selection; undo selects it again
        await pilot.press("u")
        await wait_until(pilot, lambda: app.undo.peek() is None)  # type: ignore[attr-defined]
        await settle(pilot, table)
        assert rows(db) == before
        assert set(table.selection) == chosen


async def test_payment_and_cancel_of_selected_with_undo(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    before = rows(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_memberships(pilot)
        table = screen.table
        chosen = await _select_rows(pilot, table, {"ben.okafor@example.org", "mallory@example.org"})
        assert len(chosen) == 2
        await pilot.press("t")  # with a selection: the bulk payment dialog
        await wait_for_screen(pilot, BulkPaymentModal)
        await pilot.press("enter")  # "paid": mallory already is
        confirm = await wait_for_screen(pilot, ConfirmModal)
        text = " ".join(str(s.render()) for s in confirm.query(Static))
        assert "Change the payment type of 1 membership to paid; 1 already paid" in text
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is screen)
        await settle(pilot, table)
        assert {rows(sqlite_db)[i].payment_type for i in chosen} == {"paid"}

        await pilot.press("d")  # cancel both: counts first, "n" writes nothing
        await wait_for_screen(pilot, ConfirmModal)
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is screen)
        assert all(rows(sqlite_db)[i].cancelled_at is None for i in chosen)
        await pilot.press("d")
        await wait_for_screen(pilot, ConfirmModal)
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is screen)
        await settle(pilot, table)
        assert {rows(sqlite_db)[i].cancelled_at for i in chosen} == {NOW}
        # u twice: the cancel, then the payment change
        await pilot.press("u")
        await wait_until(pilot, lambda: len(app.undo) == 1)  # type: ignore[attr-defined]
        assert all(rows(sqlite_db)[i].cancelled_at is None for i in chosen)
        await pilot.press("u")
        await wait_until(pilot, lambda: len(app.undo) == 0)  # type: ignore[attr-defined]
        await settle(pilot, table)
        assert rows(sqlite_db) == before


async def test_without_a_selection_x_keeps_the_single_dialog(sqlite_db: Database) -> None:
    seed_memberships(sqlite_db)
    app = make_frozen_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_memberships(pilot)
        await pilot.press("x")
        modal = await wait_for_screen(pilot, ExpiryModal)
        assert isinstance(modal.query_one("#expires"), Input)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        # A on the current row: the menu, for this membership
        await pilot.press("A")
        menu = await wait_for_screen(pilot, MembershipActionsMenu)
        assert "this membership" in str(menu.query_one("#summary").render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
